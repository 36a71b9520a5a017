"""The columns of the side-by-side benchmark, the FLOP count behind its model-FLOPs utilisation, and card peaks.

Column (a) is the AWS sample (aws-samples/amazon-sagemaker-generativeai, 3_distributed_training/models/
openai--gpt-oss, blog-era recipe) as its script really applies it; docs/training-speed.md lists each setting with
its source. Columns (b)-(e) are read from this repository's default 20b recipe, so they follow it when it changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml


RECIPE = Path(__file__).resolve().parents[2] / "recipes" / "gpt-oss-20b-multilingual-lora.yaml"

# Dense BF16 tensor-core peak per card, TFLOPS, without sparsity (NVIDIA data sheets; docs/training-speed.md).
# Checked in order: the first name contained in the device name wins (H100 PCIe before the SXM H100).
PEAK_BF16_TFLOPS = (("H100 PCIe", 756.0), ("H100", 989.4), ("H200", 989.4), ("A100", 312.0))


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    batch: int
    seq_len: int
    lora_r: int
    lora_alpha: int
    lora_dropout: float
    target_modules: str | list[str] | None
    # expert parameters by layer index (`7.mlp.experts.gate_up_proj`) or for every layer (`mlp.experts...`)
    target_parameters: list[str] = field(default_factory=list)
    attn: str = "eager"
    experts: str = "grouped_mm"
    # "full": transformers' loss over [tokens, vocab] logits (TRL 0.21); "chunked": TRL's fused LM head (pinned TRL)
    loss: str = "chunked"
    use_reentrant: bool = False
    needs_cuda: bool = False


# (a) The seed: LoRA r=8/alpha=16 on `all-linear` (q/k/v/o_proj only on GPT-OSS), TRL's default lora_dropout 0.05;
# `max_seq_length: 2048` lands in an unused script argument, so TRL 0.21 packs at its default max_length of 1024;
# per-device batch 6; bf16; gradient checkpointing with use_reentrant=True; adamw_torch_fused. Its recipe names
# the vllm-flash-attn3 kernel, which has no backward for attention sinks; the sample notebook's default is eager,
# used here. transformers 4.55 runs experts as a per-expert loop (`eager` here) and TRL 0.21 computes the loss from
# full logits. Its `lora_modules_to_save` expert names match no module, so they add no work.
SEED = Column(
    key="a",
    title="seed (AWS sample as applied)",
    batch=6,
    seq_len=1024,
    lora_r=8,
    lora_alpha=16,
    lora_dropout=0.05,
    target_modules="all-linear",
    attn="eager",
    experts="eager",
    loss="full",
    use_reentrant=True,
)


def recipe_column(path: Path = RECIPE) -> Column:
    """(b) Our default 20b recipe, from its YAML."""
    doc = yaml.safe_load(path.read_text())
    if not doc.get("use_peft"):
        raise SystemExit(f"{path}: the benchmark's column (b) expects a LoRA recipe (use_peft: true)")
    init = doc.get("model_init_kwargs") or {}
    checkpointing = doc.get("gradient_checkpointing_kwargs") or {}
    return Column(
        key="b",
        title=f"ours ({path.name})",
        batch=int(doc.get("per_device_train_batch_size", 8)),
        seq_len=int(doc.get("max_length") or 1024),
        lora_r=int(doc.get("lora_r", 16)),
        lora_alpha=int(doc.get("lora_alpha", 32)),
        lora_dropout=float(doc.get("lora_dropout", 0.05)),
        target_modules=doc.get("lora_target_modules"),
        target_parameters=list(doc.get("lora_target_parameters") or []),
        attn=doc.get("attn_implementation") or "eager",
        experts=init.get("experts_implementation") or "grouped_mm",
        loss="chunked",
        use_reentrant=bool(checkpointing.get("use_reentrant", False)),
    )


def columns(path: Path = RECIPE) -> list[Column]:
    ours = recipe_column(path)
    # (c) our code paths doing the seed's work: its LoRA targets, dropout, batch and length.
    seed_work = replace(
        ours,
        key="c",
        title="ours, seed's work",
        batch=SEED.batch,
        seq_len=SEED.seq_len,
        lora_dropout=SEED.lora_dropout,
        target_modules=SEED.target_modules,
        target_parameters=[],
    )
    # (d) the recipe with the opt-in memory-lean attention (CUDA only).
    flex = replace(ours, key="d", title="ours + flex_attention", attn="flex_attention", needs_cuda=True)
    # (e) the recipe with the pure-PyTorch chunked attention (gpt_oss_train/chunked_attention.py).
    chunked = replace(ours, key="e", title="ours + gpt_oss_chunked", attn="gpt_oss_chunked")
    return [SEED, ours, seed_work, flex, chunked]


def targets_present(target_parameters: list[str], layers: int) -> list[str]:
    """The recipe's per-layer expert targets that exist in a `layers`-deep slice (e.g. `7.mlp...` needs 8 layers)."""
    kept = []
    for name in target_parameters:
        head = name.split(".", 1)[0]
        if not head.isdigit() or int(head) < layers:
            kept.append(name)
    return kept


def active_matmul_params(config) -> int:
    """Weights multiplied per token: attention projections, the router, top-k experts (gate_up and down) in every
    layer, and the LM head. Embedding lookups are not matmuls; norms, biases and sinks are negligible."""
    h, heads, kv, hd = config.hidden_size, config.num_attention_heads, config.num_key_value_heads, config.head_dim
    attention = h * heads * hd * 2 + h * kv * hd * 2
    experts = config.num_experts_per_tok * 3 * h * config.intermediate_size
    router = h * config.num_local_experts
    return config.num_hidden_layers * (attention + experts + router) + h * config.vocab_size


def attention_flops_per_token(config, seq_len: int) -> float:
    """Forward QK^T and PV per token, all layers: 4 · heads · head_dim · (keys attended, averaged over positions).
    Causal full layers average (L+1)/2 keys; sliding layers min(window, ...) keys. Masked work is not counted."""
    window = config.sliding_window or seq_len
    full_keys = (seq_len + 1) / 2
    sliding_keys = sum(min(i + 1, window) for i in range(seq_len)) / seq_len
    per_layer = {"full_attention": full_keys, "sliding_attention": sliding_keys}
    kinds = config.layer_types or ["full_attention"] * config.num_hidden_layers
    return sum(4 * config.num_attention_heads * config.head_dim * per_layer[k] for k in kinds)


def flops_per_token(config, seq_len: int, lora: bool, gradient_checkpointing: bool) -> float:
    """Model FLOPs per trained token. Forward = 2·N_active + attention; backward = 2× forward for a full fine-tune
    (activation and weight gradients) and 1× forward for LoRA (activation gradients only; the adapters' own FLOPs
    are under 1 %); gradient checkpointing adds one more forward. LoRA + checkpointing: 3 × forward ≈ 6·N_active."""
    forward = 2 * active_matmul_params(config) + attention_flops_per_token(config, seq_len)
    passes = (2 if lora else 3) + (1 if gradient_checkpointing else 0)
    return passes * forward


def peak_tflops(device_name: str) -> float | None:
    for card, tflops in PEAK_BF16_TFLOPS:
        if card in device_name:
            return tflops
    return None
