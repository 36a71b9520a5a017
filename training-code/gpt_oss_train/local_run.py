"""Run any recipe end to end on this machine's CPU: no AWS account, no GPU, no download.

    PYTHONPATH=training-code .venv/bin/python -m gpt_oss_train.local_run --recipe recipes/<name>.yaml

It lays out a SageMaker container's /opt/ml under `--output` (default ./local-run) exactly as a training job
sees it (recipe, training and model channels, resourceconfig.json, hyperparameters.json) and runs the same
launcher, `accelerate launch` and `sft.py` a job runs, with three swaps:

* the base model is a tiny, randomly initialised GptOssForCausalLM (2 layers, 4 experts, eager attention)
  written in the MXFP4 layout of the real checkpoints and delivered through the `model` channel, with a
  byte-level BPE tokenizer trained here that carries GPT-OSS's harmony chat template;
* the data is the bundled Multilingual-Thinking-style sample (70 rows, 7 languages);
* sizes that only make sense on GPUs are scaled down through the job's HyperParameters (printed below).

Everything else comes from the recipe: LoRA targets (attention and experts), packing, scheduler, gradient
checkpointing, eval split. Then it loads the merged model from the job's output and generates a reply.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

from .recipe import RecipeError, load_recipe
from .staged_model import MODEL_SOURCE_ENV, write_local_manifest
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


def step(number: int, total: int, text: str) -> None:
    print(f"\n[{number}/{total}] {text}", flush=True)


def local_overrides(arguments: dict, max_steps: int, keep_hyperparameters: bool, gpu: bool = False) -> dict[str, str]:
    """HyperParameters that scale a GPU recipe down to the tiny model (strings, as SageMaker passes them)."""
    max_length = arguments.get("max_length") or 1024
    overrides = {
        "dataset_path": "/opt/ml/input/data/training",  # rewritten to the local root below
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


def prepare_job_root(root: Path, recipe_path: Path, overrides: dict[str, str]) -> dict[str, Path]:
    """Write the /opt/ml layout a SageMaker training job starts with."""
    from .data import collect_rows, read_rows
    from .tiny import write_tiny_checkpoint

    channels = {name: root / "input" / "data" / name for name in ("recipe", "training", "model")}
    for path in channels.values():
        path.mkdir(parents=True, exist_ok=True)
    shutil.copy(recipe_path, channels["recipe"] / recipe_path.name)
    shutil.copy(SAMPLE, channels["training"] / SAMPLE.name)
    rows = collect_rows(read_rows(SAMPLE), "text")
    write_tiny_checkpoint([r["messages"] for r in rows if "messages" in r], channels["model"])
    # as stage-model leaves it: the job checks the manifest before it uses the channel.
    recipe_arguments = load_recipe(recipe_path).arguments
    write_local_manifest(
        channels["model"],
        str(recipe_arguments.get("model_name_or_path")),
        recipe_arguments.get("model_revision") or "main",
    )
    config = root / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": "algo-1", "hosts": ["algo-1"], "network_interface_name": "lo"})
    )
    overrides = {**overrides, "dataset_path": str(channels["training"])}
    (config / "hyperparameters.json").write_text(json.dumps(overrides, indent=1))
    return channels


def generate_reply(model_dir: Path, messages: list[dict], max_new_tokens: int = 80) -> str:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16)
    inputs = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    return tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipe", required=True, help="recipe YAML, e.g. recipes/gpt-oss-20b-multilingual-lora.yaml")
    parser.add_argument("--output", default="local-run", help="working directory (default: ./local-run)")
    parser.add_argument("--max-steps", type=int, default=60, help="training steps (default: 60)")
    parser.add_argument(
        "--device",
        choices=["cpu", "gpu"],
        default="cpu",
        help="cpu (default): one CPU process; gpu: the launcher's GPU path (bf16, every visible GPU per the recipe)",
    )
    parser.add_argument(
        "--keep-hyperparameters", action="store_true", help="keep the recipe's learning rate instead of the local one"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    total = 5

    step(1, total, f"recipe {args.recipe}")
    try:
        recipe = load_recipe(args.recipe)
    except RecipeError as err:
        print(f"ERROR {err}", file=sys.stderr)
        return 2
    training = recipe.training
    print(
        f"  on SageMaker: {recipe.instance_count} x {training.get('instance_type', '?')}, distribution "
        f"{recipe.distribution}, base model {recipe.arguments.get('model_name_or_path')}"
    )
    peft = recipe.arguments.get("use_peft")
    print(
        f"  {'LoRA' if peft else 'full fine-tune'}"
        + (
            f": r={recipe.arguments.get('lora_r')} modules={recipe.arguments.get('lora_target_modules')} "
            f"parameters={recipe.arguments.get('lora_target_parameters')}"
            if peft
            else ""
        )
    )

    step(2, total, "preparing a SageMaker-shaped job directory with a tiny GPT-OSS and the bundled sample")
    output = Path(args.output).resolve()
    root = output / "opt_ml"
    if root.exists():
        shutil.rmtree(root)  # a leftover checkpoint would make this run resume instead of train
    gpu = args.device == "gpu"
    overrides = local_overrides(recipe.arguments, args.max_steps, args.keep_hyperparameters, gpu=gpu)
    prepare_job_root(root, Path(args.recipe), overrides)
    print(f"  job root: {root}")
    print("  local HyperParameters: " + " ".join(f"{k}={v}" for k, v in overrides.items() if k != "dataset_path"))

    step(3, total, f"training: launcher -> accelerate launch -> sft.py ({args.device.upper()})")
    from .launcher import LOCAL_RUN_ENV
    from .launcher import main as launcher_main

    # the model comes from the `model` channel only, as in a job in the VPC.
    env = {**os.environ, "GPT_OSS_OPT_ML": str(root), MODEL_SOURCE_ENV: "channel", LOCAL_RUN_ENV: "1"}
    code = launcher_main([] if gpu else ["--cpu"], env=env)
    if code != 0:
        failure = root / "output" / "failure"
        reason = failure.read_text() if failure.is_file() else "see the log above"
        print(f"\nlocal run FAILED (exit {code}): {reason}", file=sys.stderr)
        return code

    step(4, total, "checking the job's output (what SageMaker uploads to S3)")
    model_dir = root / "model"
    for name in sorted(p.name + ("/" if p.is_dir() else "") for p in model_dir.iterdir()):
        print(f"  {name}")
    evaluation = json.loads((model_dir / "evaluation.json").read_text())
    print(
        "  evaluation.json: "
        + ", ".join(f"{k}={evaluation[k]:.4g}" for k in ("train_loss", "eval_loss") if k in evaluation)
    )

    step(5, total, "loading the merged model and generating a reply")
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    prompt = [{k: v for k, v in m.items() if v is not None} for m in rows[0]["messages"][:-1]]
    print(f"  system: {prompt[0]['content']!r}\n  user: {prompt[-1]['content']!r}")
    reply = generate_reply(model_dir, prompt)
    print(
        f"  reply (a {TINY_LAYERS}-layer random model after {args.max_steps} {args.device.upper()} steps, so expect "
        "harmony-shaped noise):\n"
    )
    print("    " + reply.replace("\n", "\n    "))
    print(f"\nlocal run finished in {time.monotonic() - started:.0f} s; outputs in {model_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
