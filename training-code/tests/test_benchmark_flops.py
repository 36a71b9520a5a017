"""The FLOP count behind the side-by-side benchmark's model-FLOPs utilisation (benchmarks/columns.py)."""

import sys

import pytest
from conftest import CODE_DIR


sys.path.insert(0, str(CODE_DIR / "benchmarks"))

from benchmark import PRESETS, REAL_WIDTHS  # noqa: E402
from columns import active_matmul_params, attention_flops_per_token, flops_per_token, peak_tflops  # noqa: E402


def _config(layers=24):
    from transformers import GptOssConfig

    return GptOssConfig(**REAL_WIDTHS, **PRESETS["20b-slice"], num_hidden_layers=layers)


def test_active_parameters_of_gpt_oss_20b_match_the_published_3_6_billion():
    # OpenAI's model card: 3.6 B active parameters per token for gpt-oss-20b (embeddings excluded here)
    assert active_matmul_params(_config()) == pytest.approx(3.6e9, rel=0.02)


def test_lora_with_checkpointing_costs_three_forwards_and_full_fine_tune_four():
    config = _config()
    forward = 2 * active_matmul_params(config) + attention_flops_per_token(config, 2048)
    assert flops_per_token(config, 2048, lora=True, gradient_checkpointing=True) == 3 * forward
    assert flops_per_token(config, 2048, lora=True, gradient_checkpointing=False) == 2 * forward
    assert flops_per_token(config, 2048, lora=False, gradient_checkpointing=True) == 4 * forward
    # about 22 GFLOP a token at 2048, attention (half the layers see only a 128-token window) a few percent of it
    assert 21e9 < flops_per_token(config, 2048, lora=True, gradient_checkpointing=True) < 24e9


def test_sliding_layers_count_at_most_the_window():
    config = _config(layers=2)  # layer_types alternate sliding / full
    per_position = 4 * config.num_attention_heads * config.head_dim
    assert attention_flops_per_token(config, 4096) == pytest.approx(
        per_position * ((4096 + 1) / 2 + (128 * 4096 - 128 * 127 / 2) / 4096)
    )


def test_peaks_are_known_only_for_named_cards():
    assert peak_tflops("NVIDIA H200") == peak_tflops("NVIDIA H100 80GB HBM3") == 989.4
    assert peak_tflops("NVIDIA H100 PCIe") == 756.0
    assert peak_tflops("cpu") is None
