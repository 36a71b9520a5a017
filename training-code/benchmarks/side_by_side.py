"""Side by side on one GPU, in one process: the seed's training settings, our default 20b recipe, ours doing the
seed's work, and ours with each memory-lean attention (flex attention, chunked attention). Prints tokens/s, peak
memory, the ratio to the seed and model-FLOPs utilisation per column, with the card's name, then one JSON line.
Not part of CI except its CPU smoke mode.

    python benchmarks/side_by_side.py                       # gpt-oss-20b widths, 8 decoder layers, random weights
    python benchmarks/side_by_side.py --layers 24           # the full-size 20b (random weights; ~42 GB bf16)
    python benchmarks/side_by_side.py --smoke               # tiny model on CPU: checks the script, judges nothing

Columns are defined in benchmarks/columns.py; the FLOP count is `columns.flops_per_token` (docs/training-speed.md).
The default 8 layers keep the recipe's share of expert-LoRA layers (layer 7 of 8, as 7/15/23 of 24). Tokens are
random and every position is labelled, so each column trains exactly batch × length tokens per step.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmark import PRESETS, REAL_WIDTHS, time_steps  # noqa: E402
from columns import columns, flops_per_token, peak_tflops, targets_present  # noqa: E402

import gpt_oss_train.chunked_attention  # noqa: E402, F401  (registers attn_implementation: gpt_oss_chunked)


SMOKE_LENGTH_DIVISOR = 16  # tiny CPU run: 1024 → 64 tokens, 2048 → 128


def build(column, preset: str, layers: int, device, dtype):
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import GptOssConfig, GptOssForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    values = {**REAL_WIDTHS, **PRESETS[preset], "num_hidden_layers": layers, "use_cache": False}
    config = GptOssConfig(**values, attn_implementation=column.attn, experts_implementation=column.experts)
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)  # build in bf16: a float32 full-size 20b would not fit an 80 GB card
    try:
        with torch.device(device):
            model = GptOssForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": column.use_reentrant})
    if column.loss == "chunked":
        add_fused_lm_head(model)  # what the pinned TRL's SFTTrainer does before wrapping with PEFT
    lora = LoraConfig(
        r=column.lora_r,
        lora_alpha=column.lora_alpha,
        lora_dropout=column.lora_dropout,
        target_modules=column.target_modules,
        target_parameters=targets_present(column.target_parameters, layers) or None,
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, lora)
    model.enable_input_require_grads()
    return model


def run_column(column, args, device, dtype) -> dict:
    import torch

    model = build(column, args.preset, args.layers, device, dtype)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=1e-5, fused=device.type == "cuda")
    generator = torch.Generator().manual_seed(1)
    batch = torch.randint(0, model.config.vocab_size, (column.batch, column.seq_len), generator=generator).to(device)
    extra = {"fused_lm_head": True} if column.loss == "chunked" else {}

    def step():
        loss = model(input_ids=batch, labels=batch, **extra).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    loss, elapsed = time_steps(step, device, args.warmup, args.steps)
    tokens_per_second = column.batch * column.seq_len * args.steps / elapsed
    flops = flops_per_token(model.config, column.seq_len, lora=True, gradient_checkpointing=True)
    result = {
        "status": "ok",
        "tokens_per_second": round(tokens_per_second, 1),
        "flops_per_token": flops,
        "achieved_tflops": round(tokens_per_second * flops / 1e12, 2),
        "trainable_parameters": sum(p.numel() for p in trainable),
        "final_loss": round(float(loss.detach()), 4),
        "peak_allocated_gib": None,
        "peak_reserved_gib": None,
    }
    if device.type == "cuda":
        result["peak_allocated_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
        result["peak_reserved_gib"] = round(torch.cuda.max_memory_reserved() / 2**30, 2)
    return result


def release(device) -> None:
    import torch

    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=8, help="decoder layers (24 = the full-size gpt-oss-20b)")
    parser.add_argument("--steps", type=int, default=5, help="timed optimizer steps per column")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--only", default="abcde", help="column keys to run, e.g. 'abc'")
    parser.add_argument("--peak-tflops", type=float, help="the card's dense bf16 peak, if its name is not known")
    parser.add_argument("--smoke", action="store_true", help="tiny model on CPU, short lengths (CI)")
    args = parser.parse_args(argv)

    import torch

    smoke = args.smoke or not torch.cuda.is_available()
    if smoke and not args.smoke:
        print("no CUDA device: running the CPU smoke mode (tiny model; numbers mean nothing)", file=sys.stderr)
    device = torch.device("cpu" if smoke else "cuda")
    dtype = torch.float32 if smoke else torch.bfloat16
    args.preset = "tiny" if smoke else "20b-slice"
    card = "cpu" if smoke else torch.cuda.get_device_name(0)
    peak = args.peak_tflops or (None if smoke else peak_tflops(card))

    results = []
    for column in columns():
        if column.key not in args.only:
            continue
        if smoke:
            column = replace(column, seq_len=column.seq_len // SMOKE_LENGTH_DIVISOR)
        row = {"key": column.key, "title": column.title, "settings": asdict(column)}
        if column.needs_cuda and device.type != "cuda":
            row.update(status="skipped", reason=f"{column.attn} has no backward on CPU")
        else:
            try:
                row.update(run_column(column, args, device, dtype))
            except torch.cuda.OutOfMemoryError as error:
                row.update(status="out of memory", reason=str(error).splitlines()[0])
            release(device)
        results.append(row)
        # one line per finished column, so a run cut short by a time limit still leaves what it measured
        print("column " + json.dumps({k: v for k, v in row.items() if k != "settings"}), flush=True)

    seed = next((r for r in results if r["key"] == "a" and r["status"] == "ok"), None)
    for row in results:
        if row["status"] != "ok":
            continue
        row["ratio_to_seed"] = round(row["tokens_per_second"] / seed["tokens_per_second"], 3) if seed else None
        row["mfu"] = round(row["achieved_tflops"] / peak, 4) if peak else None

    print(f"card: {card}; model: {args.preset}, {args.layers} layers, {str(dtype).removeprefix('torch.')}")
    unknown = "not computed (CPU smoke)" if smoke else "unknown card (pass --peak-tflops)"
    print(f"peak used for MFU: {f'{peak} TFLOPS dense bf16' if peak else unknown}")
    print("FLOPs/token = 3 × (2 × active matmul params + attention QK/PV), LoRA with gradient checkpointing")
    header = f"{'col':3} {'tokens/s':>10} {'x seed':>7} {'peak GiB':>9} {'TFLOPS':>8} {'MFU':>6}  title"
    print(header)
    for row in results:
        if row["status"] != "ok":
            print(f"{row['key']:3} {row['status']}: {row.get('reason', '')}  {row['title']}")
            continue
        ratio = f"{row['ratio_to_seed']:.2f}" if row.get("ratio_to_seed") else "-"
        memory = f"{row['peak_allocated_gib']:.1f}" if row["peak_allocated_gib"] is not None else "-"
        mfu = f"{100 * row['mfu']:.1f}%" if row.get("mfu") is not None else "-"
        print(
            f"{row['key']:3} {row['tokens_per_second']:>10.1f} {ratio:>7} {memory:>9} "
            f"{row['achieved_tflops']:>8.2f} {mfu:>6}  {row['title']}"
        )
    summary = {
        "card": card,
        "smoke": smoke,
        "layers": args.layers,
        "peak_tflops": peak,
        "date_utc": time.strftime("%Y-%m-%d", time.gmtime()),
        "versions": {"torch": torch.__version__},
        "columns": results,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
