"""metric_definitions.json: the regexes SageMaker applies to the job's log, tested on real log lines."""

import json
import re

import pytest
from conftest import CODE_DIR, base_recipe, run_sft


DEFINITIONS = json.loads((CODE_DIR / "metric_definitions.json").read_text())
CAPTURED = (CODE_DIR / "tests" / "fixtures" / "local_run_output.log").read_text()


def parse_log(text: str) -> dict[str, list[float]]:
    """Apply every definition to every line, the way SageMaker reads a training job's log."""
    found = {d["Name"]: [] for d in DEFINITIONS}
    for line in text.splitlines():
        for definition in DEFINITIONS:
            match = re.search(definition["Regex"], line)
            if match:
                found[definition["Name"]].append(float(match.group(1)))
    return found


def test_definitions_have_the_metrics_the_pipeline_needs():
    names = [d["Name"] for d in DEFINITIONS]
    assert {"train_loss", "eval_loss", "learning_rate", "epoch", "train_tokens_per_second"} <= set(names)
    assert len(names) == len(set(names))
    for definition in DEFINITIONS:
        assert set(definition) == {"Name", "Regex"} and len(definition["Regex"]) <= 500
        assert re.compile(definition["Regex"]).groups == 1


def test_regexes_parse_a_captured_local_run_log():
    # GIVEN the full output of a real local run (progress bars, warnings and [metrics] lines interleaved)
    values = parse_log(CAPTURED)

    # THEN every metric is found, with the values the lines carry
    assert values["train_loss"] == [9.89852, 7.14463, 5.3214, 4.29661, 4.08098, 3.61887, 3.19933, 3.31786, 3.05933,
                                    2.96112]  # fmt: skip
    assert values["learning_rate"][:3] == [0.01, 0.00975618, 0.00905113]
    assert values["eval_loss"] == [3.42516, 3.42516]  # at step 10 and the final evaluation
    assert all(v > 0 for v in values["train_tokens_per_second"])
    assert values["epoch"] == sorted(values["epoch"])
    assert values["train_loss_mean"] == [4.68986]


def test_regexes_parse_lines_printed_by_a_training_run(tmp_path, monkeypatch, capsys, tiny_model_dir):
    # GIVEN a short training run in this process
    recipe = base_recipe(tiny_model_dir, max_steps=4, logging_steps=2, eval_strategy="steps", eval_steps=2)
    recipe["merge_adapter"] = False
    result = run_sft(tmp_path, monkeypatch, recipe)
    output = capsys.readouterr().out

    # WHEN SageMaker applies the metric definitions to its output
    values = parse_log(output)

    # THEN the parsed values are the Trainer's logged values (6 significant digits)
    history = result.trainer.state.log_history
    train_logs = [h for h in history if "loss" in h]
    eval_logs = [h for h in history if "eval_loss" in h]
    assert values["train_loss"] == [pytest.approx(h["loss"], rel=1e-5) for h in train_logs]
    assert values["learning_rate"] == [pytest.approx(h["learning_rate"], rel=1e-5) for h in train_logs]
    assert values["eval_loss"] == [pytest.approx(h["eval_loss"], rel=1e-5) for h in eval_logs]
    # the final evaluation.json eval_loss (the quality gate) is the last eval_loss SageMaker records
    assert values["eval_loss"][-1] == pytest.approx(result.metrics["eval_loss"], rel=1e-5)
    assert len(values["train_tokens_per_second"]) == len(train_logs)


@pytest.mark.parametrize(
    ("line", "name", "expected"),
    [
        ("[metrics] step=3 epoch=0.1 train_loss=1.5e-05 learning_rate=2e-04", "train_loss", 1.5e-05),
        ("[metrics] step=3 epoch=0.1 train_loss=1.5e-05 learning_rate=2e-04", "learning_rate", 2e-04),
        ("[metrics] step=9 epoch=1 train_runtime=10 train_loss_mean=2.5", "train_loss", None),
        ("[metrics] step=9 epoch=1 eval_loss=0.75 eval_mean_token_accuracy=0.5", "train_loss", None),
        ("[metrics] step=9 epoch=1 eval_loss=0.75 eval_mean_token_accuracy=0.5", "eval_loss", 0.75),
        ("{'loss': '1.2', 'learning_rate': '2e-4'}", "train_loss", None),
    ],
)
def test_regexes_do_not_confuse_similar_names(line, name, expected):
    values = parse_log(line)[name]
    assert values == ([] if expected is None else [expected])
