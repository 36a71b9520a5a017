"""The local run: any recipe, end to end on CPU through the launcher, then the merged model generates."""

import json
from pathlib import Path

from conftest import REPO_DIR, base_recipe, write_recipe

from gpt_oss_train.local_run import local_overrides, main, scale_layer_targets


def shipped_or_fixture_recipe(tmp_path, tiny_model_dir) -> Path:
    shipped = sorted((REPO_DIR / "recipes").glob("*.yaml"))
    if shipped:
        return shipped[0]
    return write_recipe(tmp_path / "fixture.yaml", base_recipe(tiny_model_dir))


def test_local_run_trains_merges_and_generates(tmp_path, capsys, tiny_model_dir):
    # GIVEN the recipe `npm run local` runs by default (the first recipes/*.yaml)
    recipe = shipped_or_fixture_recipe(tmp_path, tiny_model_dir)

    # WHEN the local run runs it for a few steps
    code = main(["--recipe", str(recipe), "--output", str(tmp_path / "local-run"), "--max-steps", "12"])
    output = capsys.readouterr().out

    # THEN it went through every stage, wrote a SageMaker-shaped output and generated a reply
    assert code == 0, output[-3000:]
    for stage in ("[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]", "local run finished"):
        assert stage in output
    model_dir = tmp_path / "local-run" / "opt_ml" / "model"
    evaluation = json.loads((model_dir / "evaluation.json").read_text())
    assert evaluation["global_step"] == 12 and evaluation["eval_loss"] > 0
    assert (model_dir / "config.json").is_file() and (model_dir / "chat_template.jinja").is_file()
    reply = output.split("expect harmony-shaped noise):", 1)[1].split("local run finished", 1)[0]
    assert reply.strip()


def test_local_run_reports_a_bad_recipe(tmp_path, tiny_model_dir, capsys):
    recipe = write_recipe(tmp_path / "bad.yaml", base_recipe(tiny_model_dir, max_seq_length=2048))
    assert main(["--recipe", str(recipe), "--output", str(tmp_path / "out")]) == 2
    assert "max_seq_length" in capsys.readouterr().err


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
