"""Recipes: TrlParser over our dataclasses, platform block stripped, renamed keys, unknown keys rejected."""

import pytest
from conftest import REPO_DIR, base_recipe, parse, write_recipe

from gpt_oss_train.recipe import RecipeError, load_recipe, rename_cli_args


def test_recipe_keys_reach_the_dataclasses_and_the_platform_block_is_stripped(tmp_path, tiny_model_dir, monkeypatch):
    # GIVEN a recipe with TRL keys, an env block (an allowed variable) and the platform block
    monkeypatch.setenv("TORCH_SHOW_CPP_STACKTRACES", "0")  # restored after the test
    recipe = base_recipe(tiny_model_dir, env={"TORCH_SHOW_CPP_STACKTRACES": "1"})
    path = write_recipe(tmp_path / "lora.yaml", recipe)

    # WHEN TrlParser reads it
    script_args, training_args, model_args, parsed = parse(path, "--output_dir", str(tmp_path))

    # THEN every group got its values and the platform block went to the launcher only
    assert script_args.dataset_path == recipe["dataset_path"]
    assert script_args.eval_split_size == 0.1
    assert training_args.max_length == 256
    assert training_args.learning_rate == 1.0e-2
    assert model_args.lora_target_parameters == recipe["lora_target_parameters"]
    assert parsed.distribution == "single-gpu"
    assert parsed.instance_type == "ml.p5.48xlarge"
    assert "platform" not in parsed.arguments
    assert len(parsed.sha256) == 64
    import os

    assert os.environ["TORCH_SHOW_CPP_STACKTRACES"] == "1"


def test_command_line_overrides_win_over_the_recipe(tmp_path, tiny_model_dir):
    # GIVEN a recipe with max_steps 30
    path = write_recipe(tmp_path / "lora.yaml", base_recipe(tiny_model_dir))

    # WHEN the pipeline passes max_steps and a renamed key as hyperparameters
    _, training_args, model_args, _ = parse(
        path, "--output_dir", str(tmp_path), "--max_steps", "7", "--torch_dtype", "bfloat16"
    )

    # THEN the overrides win
    assert training_args.max_steps == 7
    assert model_args.dtype == "bfloat16"


def test_stock_trl_recipe_keys_are_renamed(tmp_path, tiny_model_dir):
    # GIVEN a gpt-oss-recipes style recipe with torch_dtype and warmup_ratio
    recipe = base_recipe(tiny_model_dir, dtype=None, torch_dtype="bfloat16", warmup_ratio=0.03)
    path = write_recipe(tmp_path / "stock.yaml", recipe)

    # WHEN parsed
    _, training_args, model_args, _ = parse(path, "--output_dir", str(tmp_path))

    # THEN they land in the renamed fields
    assert model_args.dtype == "bfloat16"
    assert training_args.warmup_steps == 0.03


def test_fails_on_an_unknown_key_naming_the_file_and_the_key(tmp_path, tiny_model_dir):
    # GIVEN a recipe with a misspelt key
    path = write_recipe(tmp_path / "typo.yaml", base_recipe(tiny_model_dir, learnig_rate=1e-4))

    # WHEN / THEN the parser rejects it with the file, the key and the closest real key
    with pytest.raises(RecipeError) as err:
        parse(path)
    message = str(err.value)
    assert str(path) in message
    assert "learnig_rate" in message
    assert "learning_rate" in message


def test_fails_on_max_seq_length_which_the_aws_sample_silently_ignored(tmp_path, tiny_model_dir):
    # GIVEN the AWS sample's key for the sequence length (defect: packing ran at TRL's default 1024)
    path = write_recipe(tmp_path / "aws.yaml", base_recipe(tiny_model_dir, max_seq_length=2048))

    # WHEN / THEN it is rejected and the message says to write max_length
    with pytest.raises(RecipeError, match=r"max_seq_length.*write `max_length`"):
        parse(path)


def test_fails_when_old_and_new_names_are_both_set(tmp_path, tiny_model_dir):
    path = write_recipe(tmp_path / "both.yaml", base_recipe(tiny_model_dir, torch_dtype="bfloat16"))
    with pytest.raises(RecipeError, match="both `torch_dtype` and `dtype`"):
        parse(path)


def test_fails_on_an_unknown_command_line_override(tmp_path, tiny_model_dir):
    path = write_recipe(tmp_path / "lora.yaml", base_recipe(tiny_model_dir))
    with pytest.raises(RecipeError, match="--max_stepz"):
        parse(path, "--max_stepz", "3")


@pytest.mark.parametrize(
    ("platform", "message"),
    [
        ({"training": {"distribution": "fsdp"}}, "distribution` is 'fsdp'"),
        ({"training": {"instance_count": 0}}, "instance_count` must be a whole number"),
        ("gpu", "`platform` must be a mapping"),
    ],
)
def test_fails_on_bad_platform_values(tmp_path, tiny_model_dir, platform, message):
    path = write_recipe(tmp_path / "bad.yaml", base_recipe(tiny_model_dir, platform=platform))
    with pytest.raises(RecipeError, match=message):
        load_recipe(path)


def test_fails_on_a_file_that_is_not_a_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- learning_rate: 1\n")
    with pytest.raises(RecipeError, match=r"list.yaml: a recipe must be a YAML mapping"):
        load_recipe(path)
    path.write_text("learning_rate: [1\n")
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(path)


def test_renamed_cli_flags():
    assert rename_cli_args(["--torch_dtype", "bfloat16", "--warmup_ratio=0.1", "--lr", "1"]) == [
        "--dtype",
        "bfloat16",
        "--warmup_steps=0.1",
        "--lr",
        "1",
    ]


@pytest.mark.parametrize("recipe_path", sorted((REPO_DIR / "recipes").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_recipe_parses(recipe_path, tmp_path, monkeypatch):
    # GIVEN a recipe from recipes/ (on a CPU: bf16/tf32 switched off by the same overrides the local run uses)
    from gpt_oss_train.modeling import check_model_args

    # WHEN TrlParser reads it with the platform block stripped
    _, training_args, model_args, parsed = parse(
        recipe_path, "--output_dir", str(tmp_path), "--use_cpu", "true", "--bf16", "false"
    )

    # THEN the keys are known and the model settings pass the GPT-OSS checks
    check_model_args(model_args, training_args)
    assert parsed.distribution in ("single-gpu", "ddp", "zero3", "zero3-offload")


@pytest.mark.parametrize(
    ("variable", "why"),
    [
        ("PYTHONPATH", "Python path and startup variables run foreign code"),
        ("LD_PRELOAD", "dynamic-linker variables load foreign code"),
        ("AWS_ENDPOINT_URL", "AWS credentials, profiles and endpoints"),
        ("HF_HUB_OFFLINE", "Hugging Face Hub switches"),
        ("MY_FLAG", "not in the allowlist"),
    ],
)
def test_env_outside_the_allowlist_is_refused_before_anything_runs(tmp_path, tiny_model_dir, variable, why):
    # GIVEN a recipe whose env block sets a variable that could take over the job
    path = write_recipe(tmp_path / "evil.yaml", base_recipe(tiny_model_dir, env={variable: "/tmp/x"}))
    # WHEN the job reads it THEN it is refused naming file, key and value, and nothing reached os.environ
    with pytest.raises(RecipeError, match=rf"evil\.yaml: env\.{variable}: found '/tmp/x'; .*{why}"):
        load_recipe(path)
    import os

    assert os.environ.get(variable) != "/tmp/x"


def test_trust_remote_code_is_refused(tmp_path, tiny_model_dir):
    path = write_recipe(tmp_path / "remote.yaml", base_recipe(tiny_model_dir, trust_remote_code=True))
    with pytest.raises(RecipeError, match=r"remote\.yaml: trust_remote_code: found True; it runs Python code"):
        load_recipe(path)


def test_a_nested_python_tag_is_refused_with_its_key_and_line(tmp_path):
    # GIVEN a recipe with a !!python tag deep in a list (safe_load would refuse it too, but without the key)
    path = tmp_path / "tagged.yaml"
    path.write_text(
        "model_name_or_path: openai/gpt-oss-20b\n"
        "lora_target_parameters:\n"
        "  - 7.mlp.experts.gate_up_proj\n"
        '  - !!python/object/apply:os.system ["touch /tmp/pwned"]\n'
        "dtype: !custom bfloat16\n"
    )
    with pytest.raises(RecipeError) as refused:
        load_recipe(path)
    lines = str(refused.value).splitlines()
    assert lines[0].startswith(
        f"{path}: lora_target_parameters[1]: found !!python/object/apply:os.system (a collection) (line 4)"
    )
    refusal = "YAML tags are not allowed in a recipe, write the plain value"
    assert lines[1] == f"{path}: dtype: found !custom 'bfloat16' (line 5); {refusal}"
