"""The training code's part of `npm run local`: local HyperParameters, the tiny model, a reply from a model.

The local run itself (the synthesized job through launch.py) is tested in test/local/training-job.test.ts.
"""

import json

from conftest import base_recipe, write_recipe

from gpt_oss_train.local_job import local_overrides, main, scale_layer_targets


def test_layer_indexed_expert_targets_map_onto_the_tiny_model():
    targets = ["7.mlp.experts.gate_up_proj", "15.mlp.experts.down_proj", "23.mlp.experts.down_proj"]
    assert scale_layer_targets(targets, 24, 2) == ["0.mlp.experts.gate_up_proj", "1.mlp.experts.down_proj"]
    assert scale_layer_targets(["mlp.experts.down_proj"], None, 2) == ["mlp.experts.down_proj"]
    overrides = local_overrides(
        {"model_name_or_path": "openai/gpt-oss-120b", "use_peft": True, "lora_target_parameters": targets[:1],
         "max_length": 4096, "optim": "paged_adamw_8bit", "tf32": True},
        max_steps=20,
        keep_hyperparameters=False,
    )  # fmt: skip
    assert json.loads(overrides["lora_target_parameters"]) == ["0.mlp.experts.gate_up_proj"]
    assert (overrides["max_length"], overrides["optim"], overrides["tf32"]) == ("512", "adamw_torch", "false")
    # the job finds its data in the `training` channel: no path override
    assert "dataset_path" not in overrides


def test_overrides_command_prints_json_and_reports_a_missing_recipe(tmp_path, tiny_model_dir, capsys):
    good = write_recipe(tmp_path / "good.yaml", base_recipe(tiny_model_dir))
    assert main(["overrides", "--recipe", str(good), "--max-steps", "8"]) == 0
    assert json.loads(capsys.readouterr().out)["max_steps"] == "8"
    assert main(["overrides", "--recipe", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml" in capsys.readouterr().err
