"""Measure the peak GPU memory and speed of gpt-oss-20b LoRA training steps, to check lib/recipes/memory-estimator.ts.

Not part of CI (it needs a GPU with >= 60 GiB). No download: the model is built from gpt-oss-20b's config with random
bf16 weights (memory does not depend on the values), LoRA is applied like the shipped recipe (all-linear + expert
tensors of layers 7/15/23, r 8, fp32 adapters), eager attention, gradient checkpointing, AdamW (fused), and the loss
is the model's own (full logits, i.e. the estimator's `loss: 'full'`).

    python3 test/recipes/gpu/measure_peak_memory.py --out results.json
"""

import argparse
import json
import time

import torch

GPT_OSS_20B = {
    "num_hidden_layers": 24,
    "num_local_experts": 32,
    "num_experts_per_tok": 4,
    "hidden_size": 2880,
    "intermediate_size": 2880,
    "num_attention_heads": 64,
    "num_key_value_heads": 8,
    "head_dim": 64,
    "vocab_size": 201088,
    "sliding_window": 128,
}
# CPU smoke test of this script only (--tiny): same structure, toy sizes.
TINY = dict(
    GPT_OSS_20B,
    hidden_size=64,
    intermediate_size=64,
    num_attention_heads=4,
    num_key_value_heads=2,
    head_dim=16,
    vocab_size=1000,
)


def build_model(sizes: dict, device: str):
    from transformers import GptOssConfig, GptOssForCausalLM

    config = GptOssConfig(**sizes, use_cache=False)
    config._attn_implementation = "eager"
    torch.set_default_dtype(torch.bfloat16)
    with torch.device(device):
        model = GptOssForCausalLM(config)
    torch.set_default_dtype(torch.float32)
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="results.json")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument(
        "--configs",
        default="1x1024,1x2048,2x2048",
        help="micro_batch x seq_len, comma-separated",
    )
    parser.add_argument(
        "--tiny", action="store_true", help="toy sizes on CPU, to smoke-test the script"
    )
    args = parser.parse_args()
    device = "cpu" if args.tiny else "cuda"
    sizes = TINY if args.tiny else GPT_OSS_20B
    cuda = device == "cuda"

    import peft
    import transformers
    from peft import LoraConfig, get_peft_model

    results = {
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
    }
    if cuda:
        results["gpu"] = torch.cuda.get_device_name(0)
        results["gpu_total_gib"] = (
            torch.cuda.get_device_properties(0).total_memory / 2**30
        )
    t0 = time.time()
    model = build_model(sizes, device)
    if cuda:
        torch.cuda.synchronize()
        results["weights_gib"] = torch.cuda.memory_allocated() / 2**30
    results["build_s"] = time.time() - t0
    results["params"] = sum(p.numel() for p in model.parameters())

    experts = [
        f"{layer}.mlp.experts.{p}"
        for layer in (7, 15, 23)
        for p in ("gate_up_proj", "down_proj")
    ]
    try:
        lora = LoraConfig(
            r=8,
            lora_alpha=16,
            lora_dropout=0.0,
            target_modules="all-linear",
            target_parameters=experts,
        )
        results["expert_lora"] = True
    except TypeError:  # PEFT < 0.17 has no target_parameters
        lora = LoraConfig(
            r=8, lora_alpha=16, lora_dropout=0.0, target_modules="all-linear"
        )
        results["expert_lora"] = False
    model = get_peft_model(model, lora)
    model.gradient_checkpointing_enable(
        gradient_checkpointing_kwargs={"use_reentrant": False}
    )
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    results["trainable_params"] = sum(p.numel() for p in trainable)
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, fused=cuda)

    runs = []
    configs = [tuple(int(x) for x in c.split("x")) for c in args.configs.split(",")]
    for micro_batch, seq_len in configs:
        run = {"micro_batch": micro_batch, "seq_len": seq_len}
        if args.tiny:
            seq_len = seq_len // 16
        try:
            if cuda:
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            times = []
            for _ in range(args.steps):
                ids = torch.randint(
                    0, sizes["vocab_size"], (micro_batch, seq_len), device=device
                )
                if cuda:
                    torch.cuda.synchronize()
                start = time.time()
                loss = model(input_ids=ids, labels=ids).loss
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                if cuda:
                    torch.cuda.synchronize()
                times.append(time.time() - start)
            if cuda:
                run["peak_allocated_gib"] = torch.cuda.max_memory_allocated() / 2**30
                run["peak_reserved_gib"] = torch.cuda.max_memory_reserved() / 2**30
            run["step_s"] = times
            run["tokens_per_s_after_first"] = (
                micro_batch * seq_len * (len(times) - 1) / sum(times[1:])
            )
        except torch.OutOfMemoryError as e:  # keep the other configurations
            run["oom"] = str(e).split("\n")[0]
        runs.append(run)
        print(json.dumps(run), flush=True)
    results["runs"] = runs
    with open(args.out, "w") as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2), flush=True)


if __name__ == "__main__":
    main()
