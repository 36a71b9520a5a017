"""The MXFP4 fixture: the tiny model on disk in the layout of openai/gpt-oss-20b, read back by transformers."""

import json
import re
from pathlib import Path

import pytest
import torch
from conftest import conversations
from safetensors import safe_open

from gpt_oss_train.mxfp4 import dequantize, max_quantization_error, quantize


REAL = json.loads((Path(__file__).parent / "fixtures" / "gpt_oss_20b_layout.json").read_text())


def headers(model_dir: Path) -> dict[str, tuple[str, list[int]]]:
    out = {}
    for file in sorted(model_dir.glob("*.safetensors")):
        with safe_open(file, "pt") as handle:
            for name in handle.keys():
                tensor = handle.get_slice(name)
                out[name] = (tensor.get_dtype(), list(tensor.get_shape()))
    return out


def expert_shapes(config: dict) -> dict[str, list[int]]:
    """The expert tensor shapes a gpt-oss config implies: [experts, out, in/32, 16] blocks, [.., in/32] scales."""
    e, h, i = config["num_local_experts"], config["hidden_size"], config["intermediate_size"]
    return {
        "mlp.experts.gate_up_proj_blocks": [e, 2 * i, h // 32, 16],
        "mlp.experts.gate_up_proj_scales": [e, 2 * i, h // 32],
        "mlp.experts.gate_up_proj_bias": [e, 2 * i],
        "mlp.experts.down_proj_blocks": [e, h, i // 32, 16],
        "mlp.experts.down_proj_scales": [e, h, i // 32],
        "mlp.experts.down_proj_bias": [e, h],
    }


def test_the_shape_rule_reproduces_the_real_checkpoint():
    # The rule the fixture is checked with, applied to the real config, gives the real shapes.
    real = {name: fact["shape"] for name, fact in REAL["expert_tensors"].items()}
    assert expert_shapes(REAL["config"]) == real


def test_fixture_has_the_layout_of_openai_gpt_oss_20b(tiny_model_dir):
    config = json.loads((tiny_model_dir / "config.json").read_text())
    index = json.loads((tiny_model_dir / "model.safetensors.index.json").read_text())
    found = headers(tiny_model_dir)

    # THEN the config carries the real quantization_config, including what stays unquantized
    assert config["quantization_config"] == REAL["config"]["quantization_config"]
    assert config["model_type"] == "gpt_oss" and config["architectures"] == ["GptOssForCausalLM"]

    # AND the index maps every tensor to a shard named like the real ones, and lists exactly the stored tensors
    shard = re.compile(r"^model-(\d{5})-of-(\d{5})\.safetensors$")
    assert all(shard.match(name) for name in REAL["shards"])
    assert set(index["weight_map"].values()) == {p.name for p in tiny_model_dir.glob("*.safetensors")}
    assert all(shard.match(name) for name in index["weight_map"].values())
    assert set(index["weight_map"]) == set(found)

    # AND the tensor names per layer and at the top level are the real ones
    layers = config["num_hidden_layers"]
    expected = set(REAL["top_level_tensors"]) | {
        f"model.layers.{i}.{name}" for i in range(layers) for name in REAL["layer_tensors"]
    }
    assert set(found) == expected

    # AND experts are uint8 blocks/scales with bf16 biases, in the shapes the config implies; the rest is bf16
    dtypes = {"U8": "U8", "BF16": "BF16"}
    for i in range(layers):
        for name, shape in expert_shapes(config).items():
            assert found[f"model.layers.{i}.{name}"] == (dtypes[REAL["expert_tensors"][name]["dtype"]], shape), name
    quantized = {n for n in found if n.endswith(("_blocks", "_scales"))}
    assert {found[n][0] for n in set(found) - quantized} == {"BF16"}
    # and what is quantized is only what modules_to_not_convert leaves: the expert weights
    assert all(".mlp.experts." in n for n in quantized)


def test_transformers_dequantizes_the_fixture_within_fp4_error(tiny_model_dir):
    # GIVEN the float weights the fixture was quantized from (same seed, same tokenizer size)
    from transformers import AutoModelForCausalLM, AutoTokenizer, Mxfp4Config

    from gpt_oss_train.tiny import build_tiny_model

    original = build_tiny_model(AutoTokenizer.from_pretrained(tiny_model_dir), seed=0).state_dict()

    # WHEN transformers loads it the way training does (MXFP4 dequantized)
    model, info = AutoModelForCausalLM.from_pretrained(
        tiny_model_dir, dtype=torch.float32, quantization_config=Mxfp4Config(dequantize=True), output_loading_info=True
    )
    loaded = model.state_dict()

    # THEN nothing is missing or unexpected, and the experts are within FP4 rounding of the originals
    assert not info["missing_keys"] and not info["unexpected_keys"]
    experts = [n for n in original if n.endswith(("experts.gate_up_proj", "experts.down_proj"))]
    assert len(experts) == 2 * json.loads((tiny_model_dir / "config.json").read_text())["num_hidden_layers"]
    for name in experts:
        blocks, scales = quantize(original[name].transpose(-1, -2))
        bound = max_quantization_error(scales).transpose(-1, -2)
        error = (loaded[name] - original[name]).abs()
        assert bool((error <= bound).all()), name
        assert error.max() > 0  # it really went through FP4
        assert torch.equal(loaded[name], dequantize(blocks, scales).transpose(-1, -2)), name
    # AND every other tensor is the bf16 rounding of the original
    for name in set(original) - set(experts):
        assert torch.equal(loaded[name], original[name].to(torch.bfloat16).float()), name


def test_quantize_packs_codes_and_scales_as_the_ocp_mx_format():
    # 32 values whose largest is 6 * 2^-3: scale exponent -3 (stored 124); 0.5*2^-3 is code 1, -6*2^-3 code 15
    row = torch.zeros(1, 32)
    row[0, 0], row[0, 1], row[0, 2] = 0.5 / 8, -6.0 / 8, 3.0 / 8
    blocks, scales = quantize(row)
    assert scales.tolist() == [[124]]
    assert blocks[0, 0, 0].item() == 0xF1  # even element in the low nibble
    assert blocks[0, 0, 1].item() == 0x05  # 3.0 is code 5
    assert torch.equal(dequantize(blocks, scales), row)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 50.0])
def test_quantization_error_stays_within_the_bound(scale):
    weight = torch.randn(3, 8, 64, generator=torch.Generator().manual_seed(1)) * scale
    blocks, scales = quantize(weight)
    assert blocks.shape == (3, 8, 2, 16) and scales.shape == (3, 8, 2)
    error = (dequantize(blocks, scales) - weight).abs()
    assert bool((error <= max_quantization_error(scales)).all())


def test_an_unquantized_fixture_is_still_available(tmp_path):
    from gpt_oss_train.tiny import write_tiny_checkpoint

    out = write_tiny_checkpoint(conversations()[:20], tmp_path, mxfp4=False)
    assert "quantization_config" not in json.loads((out / "config.json").read_text())
    assert not any(n.endswith("_blocks") for n in headers(out))
