"""The values the recipe check takes from the pinned libraries (tools/export_recipe_fields.py) match the job."""

import json
import sys
from types import SimpleNamespace

from conftest import CODE_DIR, REPO_DIR

from gpt_oss_train.tracking import configure_reporting


sys.path.insert(0, str(CODE_DIR / "tools"))

from recipe_field_ranges import RANGES  # noqa: E402
from recipe_field_values import INTEGRATION_MODULES, installed_report_to, report_to_choices  # noqa: E402


COMMITTED = json.loads((REPO_DIR / "lib" / "config" / "recipe-fields.generated.json").read_text())


def test_installed_report_to_comes_from_requirements_txt():
    # the training image installs tensorboard and mlflow-skinny (which provides the `mlflow` module)
    assert installed_report_to() == ["mlflow", "tensorboard"]
    assert COMMITTED["reportToInstalled"] == installed_report_to()


def test_the_job_reports_only_to_installed_integrations(monkeypatch):
    # GIVEN a recipe asking for trackio (the recipe check warns that it is swapped); the variables the job sets
    # are restored after the test
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "")
    monkeypatch.setenv("MLFLOW_FLATTEN_PARAMS", "")
    for arn in (None, "arn:aws:sagemaker:us-east-1:111122223333:mlflow-tracking-server/x"):
        if arn:
            monkeypatch.setenv("MLFLOW_TRACKING_ARN", arn)
        else:
            monkeypatch.delenv("MLFLOW_TRACKING_ARN", raising=False)
        args = SimpleNamespace(report_to=["trackio"])
        # WHEN the job configures reporting THEN it uses an integration the image installs
        assert set(configure_reporting(args)) <= set(installed_report_to())


def test_every_trainer_integration_has_its_module_listed():
    assert set(report_to_choices()) - {"none", "all"} == set(INTEGRATION_MODULES)


def test_every_range_reaches_the_field_list_with_its_reason():
    for name, bounds in RANGES.items():
        field = COMMITTED["fields"][name]
        assert field["rangeWhy"] == bounds["why"]
        assert field["type"] in ("int", "float") or any(m["type"] in ("int", "float") for m in field.get("of", []))
