"""Saved models are reloaded in a clean process and compared tensor by tensor; a difference fails the job."""

import json

import pytest
import torch
from conftest import base_recipe, job_root, launcher_process
from safetensors.torch import load_file, save_file

from gpt_oss_train.outputs import OutputError, forget_mxfp4_layout, state_digests, verify_saved


def load_base(model_dir):
    from transformers import AutoModelForCausalLM, Mxfp4Config

    return AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=torch.bfloat16, quantization_config=Mxfp4Config(dequantize=True)
    )


def test_a_dequantized_mxfp4_base_saves_and_reloads_exactly(tmp_path, tiny_model_dir):
    # GIVEN the MXFP4 base loaded as training and the merge load it, with the MXFP4 layout forgotten
    model = load_base(tiny_model_dir)
    assert forget_mxfp4_layout(model) == 2
    expected = state_digests(model.state_dict())

    # WHEN saved and reloaded in a clean process
    model.save_pretrained(tmp_path)
    report = verify_saved(tmp_path, expected)

    # THEN every tensor came back as saved, under the unquantized names
    assert report["tensors"] == len(expected)
    assert "model.layers.0.mlp.experts.gate_up_proj" in load_file(tmp_path / "model.safetensors")


def test_the_transformers_default_save_of_a_dequantized_base_is_caught(tmp_path, tiny_model_dir):
    # GIVEN the same model saved the way transformers does by default (dense experts under `*_blocks`)
    model = load_base(tiny_model_dir)
    expected = state_digests(model.state_dict())
    model.save_pretrained(tmp_path)

    # WHEN / THEN the reload check names the experts that would come back randomly initialised
    with pytest.raises(OutputError, match=r"quantized-layout names|missing"):
        verify_saved(tmp_path, expected)


def test_a_changed_tensor_is_reported_by_name(tmp_path, tiny_model_dir):
    model = load_base(tiny_model_dir)
    forget_mxfp4_layout(model)
    expected = state_digests(model.state_dict())
    model.save_pretrained(tmp_path)
    tensors = load_file(tmp_path / "model.safetensors")
    tensors["model.layers.1.self_attn.q_proj.weight"][0, 0] += 1
    save_file(tensors, tmp_path / "model.safetensors", metadata={"format": "pt"})

    with pytest.raises(OutputError, match=r"model\.layers\.1\.self_attn\.q_proj\.weight: sha256"):
        verify_saved(tmp_path, expected)


def test_a_merge_that_would_serve_the_untouched_base_fails_the_job_with_a_reason(tmp_path, tiny_model_dir):
    # GIVEN a LoRA job whose adapter learns nothing (learning rate 0: every lora_B stays zero)
    recipe = base_recipe(tiny_model_dir, dataset_path=None, max_steps=1, eval_split_size=0, learning_rate=0.0)
    root = job_root(tmp_path, recipe, {})

    # WHEN it runs through the launcher
    process = launcher_process(root)
    output, _ = process.communicate(timeout=600)

    # THEN the job fails, and its FailureReason says why instead of a model being published
    assert process.returncode != 0, output[-3000:]
    reason = (root / "output" / "failure").read_text()
    assert "merging the adapter failed" in reason and "update is zero" in reason
    assert not (root / "model" / "training_run.json").exists()
    assert json.loads((root / "model" / "evaluation.json").read_text())["global_step"] == 1
