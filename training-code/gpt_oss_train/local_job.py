"""What `npm run local` (lib/local/) needs from the training code: the tiny base model, the HyperParameters that
scale a GPU recipe down to it, and a reply from the merged model.

    python -m gpt_oss_train.local_job overrides --recipe recipes/<name>.yaml [--max-steps N]  # JSON on stdout
    python -m gpt_oss_train.local_job tiny-model --output DIR   # a tiny GPT-OSS in the MXFP4 layout
    python -m gpt_oss_train.local_job reply --model DIR         # the merged model answers the sample's first prompt

The job itself runs exactly as in SageMaker: lib/local/training-job.ts lays out /opt/ml from the synthesized
CreateTrainingJob request and runs its ContainerEntrypoint (launch.py). The swaps for a CPU are:

* the base model is a tiny, randomly initialised GptOssForCausalLM (2 layers, 4 experts, eager attention) written
  in the MXFP4 layout of the real checkpoints, with a byte-level BPE tokenizer carrying GPT-OSS's harmony chat
  template; `stage-model --from-dir` puts it where the pipeline's BaseModelS3Uri points;
* the data is the bundled Multilingual-Thinking-style sample (70 rows, 7 languages), uploaded by `prepare-data`;
* sizes that only make sense on GPUs are scaled down through the job's HyperParameters (`overrides`, printed
  by the local run).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from .recipe import RecipeError, load_recipe
from .tiny import TINY_LAYERS


SAMPLE = Path(__file__).resolve().parent / "sample_data" / "multilingual_thinking_sample.jsonl"
LOCAL_MAX_LENGTH = 512
LOCAL_BATCH = 4
# Learning rates for a randomly initialised 2-layer model: the recipe's (sized for a pretrained 20b) would
# barely move it in a few dozen steps. --keep-hyperparameters keeps the recipe's.
LOCAL_LR_LORA = 1e-2
LOCAL_LR_FULL = 3e-3
# Depth of the real checkpoints, to map layer-indexed LoRA targets ("7.mlp.experts.gate_up_proj") onto the tiny
# model's layers proportionally.
KNOWN_DEPTH = {"openai/gpt-oss-20b": 24, "openai/gpt-oss-120b": 36}
_LAYER_TARGET = re.compile(r"^(\d+)\.(.+)$")


def scale_layer_targets(targets, real_depth: int | None, tiny_depth: int) -> list[str] | None:
    """Map `N.<param>` targets of a `real_depth`-layer model onto a `tiny_depth`-layer one (deduplicated)."""
    if not targets:
        return None
    if isinstance(targets, str):
        targets = [targets]
    out: list[str] = []
    for target in targets:
        match = _LAYER_TARGET.match(target)
        if match:
            index = int(match.group(1))
            depth = real_depth or max(index + 1, tiny_depth)
            target = f"{min(index * tiny_depth // depth, tiny_depth - 1)}.{match.group(2)}"
        if target not in out:
            out.append(target)
    return out


def local_overrides(arguments: dict, max_steps: int, keep_hyperparameters: bool, gpu: bool = False) -> dict[str, str]:
    """HyperParameters that scale a GPU recipe down to the tiny model (strings, as SageMaker passes them)."""
    max_length = arguments.get("max_length") or 1024
    overrides = {
        "max_steps": str(max_steps),
        "per_device_train_batch_size": str(min(int(arguments.get("per_device_train_batch_size") or 8), LOCAL_BATCH)),
        "per_device_eval_batch_size": str(min(int(arguments.get("per_device_eval_batch_size") or 8), LOCAL_BATCH)),
        "gradient_accumulation_steps": "1",
        "max_length": str(min(int(max_length), LOCAL_MAX_LENGTH)),
        "logging_steps": str(max(1, max_steps // 10)),
        "save_strategy": "steps",
        "save_steps": str(max(1, max_steps // 2)),
        "dataloader_num_workers": "0",
        "torch_compile": "false",
        "push_to_hub": "false",
    }
    if not gpu:
        overrides["dtype"] = "float32"  # bf16 matmuls are slow on most CPUs; the merge still writes bf16
    if not sys.stdout.isatty():
        overrides["disable_tqdm"] = "true"  # CI logs: the [metrics] lines are the progress
    if arguments.get("eval_strategy", "no") != "no":
        overrides["eval_steps"] = str(max(1, max_steps // 2))
    if int(arguments.get("dataset_num_proc") or 1) > 1:
        overrides["dataset_num_proc"] = "1"
    if arguments.get("tf32") and not gpu:
        overrides["tf32"] = "false"
    for flag in ("fp16", "bf16_full_eval", "fp16_full_eval"):
        if arguments.get(flag) and not gpu:
            overrides[flag] = "false"
    optim = str(arguments.get("optim") or "")
    if any(token in optim for token in ("8bit", "bnb", "paged", "apex")):
        overrides["optim"] = "adamw_torch"
    targets = arguments.get("lora_target_parameters")
    scaled = scale_layer_targets(targets, KNOWN_DEPTH.get(str(arguments.get("model_name_or_path"))), TINY_LAYERS)
    if scaled and scaled != targets:
        overrides["lora_target_parameters"] = json.dumps(scaled)
    if not keep_hyperparameters:
        overrides["learning_rate"] = str(LOCAL_LR_LORA if arguments.get("use_peft") else LOCAL_LR_FULL)
    return overrides


def generate_reply(model_dir: Path, messages: list[dict], max_new_tokens: int = 80) -> str:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16)
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=False)


def sample_prompt() -> list[dict]:
    """The first sample conversation without its answer."""
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{k: v for k, v in m.items() if v is not None} for m in rows[0]["messages"][:-1]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    over = sub.add_parser("overrides", help="local HyperParameters for a recipe, as JSON")
    over.add_argument("--recipe", required=True)
    over.add_argument("--max-steps", type=int, default=60)
    over.add_argument("--keep-hyperparameters", action="store_true", help="keep the recipe's learning rate")
    tiny = sub.add_parser("tiny-model", help="write the tiny GPT-OSS (MXFP4 layout) and its tokenizer")
    tiny.add_argument("--output", required=True)
    reply = sub.add_parser("reply", help="load a merged model and answer the sample's first prompt")
    reply.add_argument("--model", required=True)
    reply.add_argument("--max-new-tokens", type=int, default=80)
    args = parser.parse_args(argv)

    if args.command == "overrides":
        try:
            recipe = load_recipe(args.recipe)
        except RecipeError as err:
            print(f"ERROR {err}", file=sys.stderr)
            return 2
        print(json.dumps(local_overrides(recipe.arguments, args.max_steps, args.keep_hyperparameters)))
    elif args.command == "tiny-model":
        from .data import collect_rows, read_rows
        from .tiny import write_tiny_checkpoint

        rows = collect_rows(read_rows(SAMPLE), "text")
        write_tiny_checkpoint([r["messages"] for r in rows if "messages" in r], Path(args.output))
        print(f"tiny GPT-OSS ({TINY_LAYERS} layers, MXFP4 experts) written to {args.output}")
    else:
        prompt = sample_prompt()
        print(f"system: {prompt[0]['content']!r}\nuser: {prompt[-1]['content']!r}")
        print("reply: " + generate_reply(Path(args.model), prompt, args.max_new_tokens).replace("\n", "\n  "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
