"""GPT-OSS's MXFP4 checkpoint layout, written by this project: the format every real `openai/gpt-oss-*` base
arrives in (see docs/gpt-oss-checkpoint-format.md for the recorded facts and their sources).

The MoE expert weights are stored as OCP MX FP4: per expert and output row, groups of 32 input values share one
power-of-two scale (`*_scales`, uint8, exponent + 127) and each value is a 4-bit E2M1 code, two per byte, the
even element in the low nibble (`*_blocks`, uint8, 16 bytes per group). transformers holds the same weights as
`[experts, in, out]` parameters, so the checkpoint's `[experts, out, in/32, 16]` is the transpose, grouped.
Everything else (attention, router, embeddings, head, norms, expert biases) stays bf16, as the real
`quantization_config.modules_to_not_convert` says.
"""

from __future__ import annotations

import json
from pathlib import Path


# The E2M1 magnitudes a 4-bit code holds (code 8-15: the same, negative), as in the OCP MX specification.
FP4_MAGNITUDES = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)
GROUP = 32
EXPERT_WEIGHTS = ("mlp.experts.gate_up_proj", "mlp.experts.down_proj")
# The real checkpoints' quantization_config (config.json of openai/gpt-oss-20b and -120b).
QUANTIZATION_CONFIG = {
    "modules_to_not_convert": [
        "model.layers.*.self_attn",
        "model.layers.*.mlp.router",
        "model.embed_tokens",
        "lm_head",
    ],
    "quant_method": "mxfp4",
}


def quantize(weight):
    """`[..., out, in]` float → (blocks `[..., out, in/32, 16]` uint8, scales `[..., out, in/32]` uint8).

    Each group's scale is the smallest power of two that brings its largest magnitude within 6 (the largest FP4
    value), so nothing clips; values round to the nearest FP4 magnitude."""
    import torch

    *prefix, rows, cols = weight.shape
    if cols % GROUP:
        raise ValueError(f"MXFP4 needs the input dimension to be a multiple of {GROUP}, got {cols}")
    x = weight.detach().to(torch.float32).contiguous().reshape(*prefix, rows, cols // GROUP, GROUP)
    amax = x.abs().amax(dim=-1, keepdim=True)
    exponent = torch.ceil(torch.log2(amax / 6.0)).clamp(-127, 127)
    exponent = torch.where(amax > 0, exponent, torch.full_like(exponent, -127))
    scaled = x / torch.exp2(exponent)
    magnitudes = torch.tensor(FP4_MAGNITUDES)
    midpoints = (magnitudes[1:] + magnitudes[:-1]) / 2
    codes = torch.bucketize(scaled.abs(), midpoints).to(torch.uint8)  # ties go to the lower magnitude
    codes |= (scaled < 0).to(torch.uint8) << 3
    blocks = codes[..., 0::2] | (codes[..., 1::2] << 4)
    scales = (exponent.squeeze(-1) + 127).to(torch.uint8)
    return blocks.contiguous(), scales.contiguous()


def dequantize(blocks, scales, dtype=None):
    """The inverse layout: (blocks, scales) → `[..., out, in]` values (float32 unless `dtype`)."""
    import torch

    signed = torch.tensor(FP4_MAGNITUDES + tuple(-m for m in FP4_MAGNITUDES))
    low, high = signed[(blocks & 0x0F).long()], signed[(blocks >> 4).long()]
    values = torch.stack((low, high), dim=-1).flatten(-2)  # [..., out, groups, 32]
    values = values * torch.exp2(scales.to(torch.float32) - 127).unsqueeze(-1)
    out = values.flatten(-2)
    return out if dtype is None else out.to(dtype)


def max_quantization_error(scales):
    """Per group, the largest |dequantized - original| rounding to nearest can cause: half the widest FP4 step
    (4 → 6) times the group's scale, broadcast over the group's 32 values."""
    import torch

    return torch.exp2(scales.to(torch.float32) - 127).unsqueeze(-1).expand(*scales.shape, GROUP).flatten(-2)


def expert_tensor_names(name: str) -> tuple[str, str] | None:
    """`...mlp.experts.gate_up_proj` → its `_blocks` and `_scales` names; None for any other tensor."""
    if name.endswith(EXPERT_WEIGHTS):
        return f"{name}_blocks", f"{name}_scales"
    return None


def checkpoint_tensors(state_dict) -> dict:
    """A transformers GPT-OSS state dict as the real checkpoints store it: experts MXFP4, the rest bf16."""
    import torch

    tensors = {}
    for name, tensor in state_dict.items():
        names = expert_tensor_names(name)
        if names:
            # transformers: [experts, in, out]; checkpoint: [experts, out, in/32, 16]
            tensors[names[0]], tensors[names[1]] = quantize(tensor.transpose(-1, -2))
        else:
            tensors[name] = tensor.detach().to(torch.bfloat16).contiguous()
    return tensors


def shard_names(count: int) -> list[str]:
    # The real repos number shards from 0 and name the last index: model-00000-of-00002 ... model-00002-of-00002.
    return [f"model-{i:05d}-of-{count - 1:05d}.safetensors" for i in range(count)]


def write_mxfp4_checkpoint(model, output_dir: str | Path, shards: int = 2) -> Path:
    """Save `model` (a `GptOssForCausalLM`) in the on-disk layout of openai/gpt-oss-20b: config.json with the
    mxfp4 `quantization_config`, generation_config.json, safetensors shards and model.safetensors.index.json."""
    from safetensors.torch import save_file

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    tensors = checkpoint_tensors(model.state_dict())
    names = sorted(tensors)
    files = shard_names(max(1, min(shards, len(names))))
    per_shard = -(-len(names) // len(files))
    weight_map = {}
    for index, file in enumerate(files):
        chunk = names[index * per_shard : (index + 1) * per_shard]
        save_file({n: tensors[n] for n in chunk}, output_dir / file, metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(chunk, file))
    total = sum(t.numel() * t.element_size() for t in tensors.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (output_dir / "model.safetensors.index.json").write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")

    config = model.config.to_dict()
    config.update(dtype="bfloat16", quantization_config=QUANTIZATION_CONFIG, architectures=["GptOssForCausalLM"])
    (output_dir / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    model.generation_config.save_pretrained(output_dir)
    return output_dir
