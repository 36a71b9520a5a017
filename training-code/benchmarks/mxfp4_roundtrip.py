"""End-to-end check from a real-format base: MXFP4 checkpoint → LoRA (attention + experts) → merge → reload.

On a GPU machine (nothing is downloaded; about 13 GB of disk for the base and 42 GB for the merged model):

    PYTHONPATH=training-code python training-code/benchmarks/mxfp4_roundtrip.py --preset 20b --output /tmp/rt

CPU smoke mode (what CI runs, tests/test_benchmarks.py):

    PYTHONPATH=training-code python training-code/benchmarks/mxfp4_roundtrip.py --preset tiny --steps 3 --output rt

It writes a randomly initialised GPT-OSS in the on-disk layout of openai/gpt-oss-20b (config with the mxfp4
quantization_config, experts as `*_blocks`/`*_scales`, the rest bf16, sharded with an index; see
gpt_oss_train/mxfp4.py)
without ever building the full model in memory, then runs the training script's own `main` on it: the base is loaded
MXFP4-dequantized, LoRA on q/k/v/o and both expert parameters trains for `--steps` steps, and the job merges the
adapter in a clean process and reloads the merged model in another, comparing every tensor
(gpt_oss_train/outputs.py). Prints one JSON line: peak accelerator memory, training tokens/s, sizes, timings.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path


CODE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(CODE_DIR))

# openai/gpt-oss-20b's config.json (tests/fixtures/gpt_oss_20b_layout.json), depth settable with --layers.
PRESETS = {
    "20b": {"hidden_size": 2880, "intermediate_size": 2880, "head_dim": 64, "num_attention_heads": 64,
            "num_key_value_heads": 8, "num_hidden_layers": 24, "num_local_experts": 32, "num_experts_per_tok": 4,
            "vocab_size": 201088, "sliding_window": 128},
    "tiny": {"hidden_size": 64, "intermediate_size": 64, "head_dim": 16, "num_attention_heads": 4,
             "num_key_value_heads": 2, "num_hidden_layers": 2, "num_local_experts": 4, "num_experts_per_tok": 2,
             "vocab_size": 2048, "sliding_window": 64},
}  # fmt: skip


def random_tensor(name: str, shape, generator):
    """Init-like random values: unit norms, zero biases and sinks, N(0, 0.02) weights (bf16)."""
    import torch

    if name.endswith("norm.weight"):
        return torch.ones(shape, dtype=torch.bfloat16)
    if name.endswith(("bias", "sinks")):
        return torch.zeros(shape, dtype=torch.bfloat16)
    return (torch.randn(shape, generator=generator) * 0.02).to(torch.bfloat16)


def random_experts(shape, generator):
    """Random MXFP4 blocks and scales for a transformers `[experts, in, out]` parameter: uniform 4-bit codes with
    scales of 2^-9..2^-7, so values stay within about ±0.05 (N(0, 0.02)-like)."""
    import torch

    experts, columns, rows = shape
    blocks = torch.randint(0, 256, (experts, rows, columns // 32, 16), generator=generator, dtype=torch.uint8)
    scales = torch.randint(127 - 9, 127 - 6, (experts, rows, columns // 32), generator=generator, dtype=torch.uint8)
    return blocks, scales


def write_random_mxfp4(config, tokenizer, output: Path, seed: int = 0) -> dict:
    """Write the checkpoint one shard per layer (embeddings and head in the last), never holding the model."""
    import torch
    from safetensors.torch import save_file
    from transformers import GptOssForCausalLM

    from gpt_oss_train.mxfp4 import QUANTIZATION_CONFIG, expert_tensor_names, shard_names

    with torch.device("meta"):
        shapes = {n: tuple(t.shape) for n, t in GptOssForCausalLM(config).state_dict().items()}
    layers = config.num_hidden_layers
    groups = [[n for n in shapes if n.startswith(f"model.layers.{i}.")] for i in range(layers)]
    groups.append([n for n in shapes if not n.startswith("model.layers.")])
    files = shard_names(len(groups))
    generator = torch.Generator().manual_seed(seed)
    output.mkdir(parents=True, exist_ok=True)
    weight_map, total = {}, 0
    for file, names in zip(files, groups, strict=True):
        tensors = {}
        for name in names:
            split = expert_tensor_names(name)
            if split:
                tensors[split[0]], tensors[split[1]] = random_experts(shapes[name], generator)
            else:
                tensors[name] = random_tensor(name, shapes[name], generator)
        save_file(tensors, output / file, metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(tensors, file))
        total += sum(t.numel() * t.element_size() for t in tensors.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (output / "model.safetensors.index.json").write_text(json.dumps(index, indent=2, sort_keys=True))
    values = config.to_dict()
    values.update(dtype="bfloat16", quantization_config=QUANTIZATION_CONFIG, architectures=["GptOssForCausalLM"])
    (output / "config.json").write_text(json.dumps(values, indent=2, sort_keys=True))
    tokenizer.save_pretrained(output)
    return {"base_bytes": total, "base_shards": len(files)}


def recipe(base: Path, data: Path, steps: int, gpu: bool) -> dict:
    return {
        "model_name_or_path": str(base),
        "dtype": "bfloat16" if gpu else "float32",
        "attn_implementation": "eager",
        "dataset_path": str(data),
        "eval_split_size": 0,
        "assistant_only_loss": True,
        "max_length": 1024,
        "learning_rate": 1.0e-4,
        "max_steps": steps,
        "per_device_train_batch_size": 4,
        "logging_steps": 1,
        "save_strategy": "no",
        "gradient_checkpointing": True,
        "use_peft": True,
        "lora_r": 8,
        "lora_alpha": 16,
        "lora_dropout": 0.0,
        "lora_target_modules": "all-linear",
        "lora_target_parameters": ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"],
        "use_cpu": not gpu,
        "bf16": gpu,
        "report_to": "none",
        "disable_tqdm": True,
        "seed": 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default="20b")
    parser.add_argument("--layers", type=int, help="decoder layers (default: the preset's)")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--output", required=True, help="working directory (base, checkpoints, merged model)")
    args = parser.parse_args(argv)

    import torch
    import yaml
    from transformers import GptOssConfig

    import sft
    from gpt_oss_train.args import make_parser
    from gpt_oss_train.data import collect_rows, read_rows
    from gpt_oss_train.local_job import SAMPLE
    from gpt_oss_train.tiny import build_tiny_tokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    gpu = torch.cuda.is_available()
    output = Path(args.output).resolve()
    started = time.monotonic()

    rows = collect_rows(read_rows(SAMPLE), "text")
    tokenizer = build_tiny_tokenizer([r["messages"] for r in rows])
    values = {**PRESETS[args.preset], **({"num_hidden_layers": args.layers} if args.layers else {})}
    config = GptOssConfig(
        **values,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config._attn_implementation = "eager"
    base = output / "base"
    written = write_random_mxfp4(config, tokenizer, base)
    write_seconds = time.monotonic() - started

    recipe_path = output / "recipe.yaml"
    recipe_path.write_text(yaml.safe_dump(recipe(base, SAMPLE, args.steps, gpu), sort_keys=False))
    os.environ["SM_MODEL_DIR"] = str(output / "model")
    parser = make_parser()
    script_args, training_args, model_args = parser.parse_args_and_config(
        ["--config", str(recipe_path), "--output_dir", str(output / "checkpoints")]
    )
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    result = sft.main(script_args, training_args, model_args, recipe=parser.recipe)

    history = result.trainer.state.log_history
    tokens = max((h["num_tokens"] for h in history if "num_tokens" in h), default=0)
    runtime = next((h["train_runtime"] for h in history if "train_runtime" in h), None)
    run = json.loads((result.model_dir / "training_run.json").read_text())
    merged = sum(p.stat().st_size for p in result.model_dir.glob("*.safetensors"))
    summary = {
        "device": torch.cuda.get_device_name() if gpu else "cpu",
        "preset": args.preset,
        "layers": config.num_hidden_layers,
        "steps": result.trainer.state.global_step,
        "train_tokens_per_second": round(tokens / runtime, 1) if runtime else None,
        "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if gpu else None,
        "peak_host_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "trainable_parameters": run["trainable_parameters"],
        "base_mxfp4_bytes": written["base_bytes"],
        "merged_bf16_bytes": merged,
        "merge_checked_weights": len(run["merge"]["merge_check"]),
        "reloaded_tensors": run["merge"]["reload"]["tensors"],
        "reload_equal": run["merge"]["reload"]["reloaded_in_clean_process"],
        "write_base_seconds": round(write_seconds, 1),
        "merge_seconds": run["merge"]["seconds"],
        "total_seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
