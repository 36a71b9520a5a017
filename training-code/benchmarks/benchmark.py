"""GPU training-step benchmark for GPT-OSS: tokens/s and peak memory, LoRA (attention + experts) or full.

Not part of CI. On a GPU machine (nothing is downloaded unless --model names a Hub id):

    python benchmarks/benchmark.py --preset 20b-slice --layers 2 --seq-len 2048 --batch 4
    python benchmarks/benchmark.py --model openai/gpt-oss-20b --seq-len 2048 --batch 2     # real weights

Presets build a randomly initialised GptOssForCausalLM from GptOssConfig with the real model's widths
(hidden 2880, 64 heads, experts of 2880, vocab 201088) and only `--layers` decoder layers, so one GPU
can time the per-layer cost of the real architecture; `time_per_layer` lets you extrapolate to 24 (20b) or
36 (120b) layers. Prints one JSON line with the results.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PRESETS = {
    # widths of openai/gpt-oss-20b and -120b (config.json), depth chosen with --layers
    "20b-slice": {"num_local_experts": 32, "num_experts_per_tok": 4},
    "120b-slice": {"num_local_experts": 128, "num_experts_per_tok": 4},
    "tiny": {"hidden_size": 64, "intermediate_size": 64, "head_dim": 16, "num_attention_heads": 4,
             "num_key_value_heads": 2, "num_local_experts": 4, "num_experts_per_tok": 2, "vocab_size": 2048},
}  # fmt: skip
REAL_WIDTHS = {
    "hidden_size": 2880,
    "intermediate_size": 2880,
    "head_dim": 64,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "vocab_size": 201088,
    "sliding_window": 128,
}


def time_steps(step, device, warmup: int, steps: int):
    """Runs `step` `warmup` times untimed, resets the GPU peak-memory counter, then times `steps` runs.

    Returns the last step's loss and the elapsed seconds (the GPU is synchronised on both ends).
    """
    import torch

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(warmup):
        step()
    sync()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    loss = None
    for _ in range(steps):
        loss = step()
    sync()
    return loss, time.perf_counter() - started


def build_model(args, device, dtype):
    import torch
    from transformers import AutoModelForCausalLM, GptOssConfig, GptOssForCausalLM

    if args.model:
        from transformers import AutoConfig, Mxfp4Config

        from gpt_oss_train.modeling import is_mxfp4_checkpoint

        kwargs = {"dtype": dtype, "attn_implementation": "eager", "use_cache": False}
        if is_mxfp4_checkpoint(AutoConfig.from_pretrained(args.model)):
            kwargs["quantization_config"] = Mxfp4Config(dequantize=True)
        return AutoModelForCausalLM.from_pretrained(args.model, **kwargs).to(device)
    values = {**REAL_WIDTHS, **PRESETS[args.preset], "num_hidden_layers": args.layers, "use_cache": False}
    config = GptOssConfig(**values)
    config._attn_implementation = "eager"
    with torch.device(device):
        model = GptOssForCausalLM(config).to(dtype)
    return model


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="Hub id or local checkpoint (default: a random preset model)")
    parser.add_argument("--preset", choices=sorted(PRESETS), default="20b-slice")
    parser.add_argument("--layers", type=int, default=2, help="decoder layers for a preset model")
    parser.add_argument("--seq-len", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--steps", type=int, default=10, help="timed steps (after --warmup)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--full", action="store_true", help="full fine-tune instead of LoRA")
    parser.add_argument("--no-experts", action="store_true", help="LoRA on attention only")
    parser.add_argument("--lora-r", type=int, default=8)
    parser.add_argument("--no-gradient-checkpointing", action="store_true")
    parser.add_argument("--cpu", action="store_true", help="run on CPU (a smoke test of this script)")
    args = parser.parse_args(argv)

    import torch

    device = torch.device("cpu" if args.cpu or not torch.cuda.is_available() else "cuda")
    dtype = torch.float32 if device.type == "cpu" else torch.bfloat16
    torch.manual_seed(0)
    started = time.perf_counter()
    model = build_model(args, device, dtype)
    build_seconds = time.perf_counter() - started
    layers = model.config.num_hidden_layers
    if not args.no_gradient_checkpointing:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if not args.full:
        from peft import LoraConfig, get_peft_model

        lora = LoraConfig(
            r=args.lora_r,
            lora_alpha=2 * args.lora_r,
            lora_dropout=0.0,
            target_modules="all-linear",
            target_parameters=None if args.no_experts else ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"],
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, lora)
        if not args.no_gradient_checkpointing:
            model.enable_input_require_grads()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5, fused=device.type == "cuda")
    vocab = model.config.vocab_size
    batch = torch.randint(0, vocab, (args.batch, args.seq_len), device=device)

    def step():
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    loss, elapsed = time_steps(step, device, args.warmup, args.steps)
    tokens = args.batch * args.seq_len * args.steps
    result = {
        "device": torch.cuda.get_device_name(0) if device.type == "cuda" else "cpu",
        "model": args.model or f"{args.preset} ({layers} layers, random init)",
        "mode": "full" if args.full else ("lora-attention" if args.no_experts else "lora-attention+experts"),
        "dtype": str(dtype).removeprefix("torch."),
        "seq_len": args.seq_len,
        "batch": args.batch,
        "steps": args.steps,
        "parameters": sum(p.numel() for p in model.parameters()),
        "trainable_parameters": sum(p.numel() for p in params),
        "tokens_per_second": round(tokens / elapsed, 1),
        "seconds_per_step": round(elapsed / args.steps, 4),
        "seconds_per_step_per_layer": round(elapsed / args.steps / layers, 5),
        "peak_memory_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device.type == "cuda" else None,
        "final_loss": round(float(loss.detach()), 4),
        "build_seconds": round(build_seconds, 1),
        "versions": {"torch": torch.__version__},
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
