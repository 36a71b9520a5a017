"""Experiment tracking: MLflow on a SageMaker tracking server when MLFLOW_TRACKING_ARN is set, else TensorBoard.

With an ARN, the sagemaker-mlflow plugin signs requests to the tracking server (its ARN is the tracking URI).
The run is started here, before training, with tags for the recipe (name and hash), the git commit and the
dataset, and its id is kept next to the checkpoints: a spot-interrupted job that restarts continues the same run.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path


logger = logging.getLogger(__name__)

RUN_FILE = "mlflow_run.json"


def provenance_tags(script_args) -> dict[str, str]:
    tags = {
        "recipe.name": os.environ.get("RECIPE_NAME", ""),
        "recipe.hash": os.environ.get("RECIPE_HASH", ""),
        "git.sha": os.environ.get("GIT_SHA", ""),
        "dataset": os.environ.get("DATASET_URI") or script_args.dataset_path or script_args.dataset_name or "",
        "sagemaker.training_job": os.environ.get("TRAINING_JOB_NAME", ""),
    }
    return {k: v for k, v in tags.items() if v}


def configure_reporting(training_args) -> list[str]:
    """Point the Trainer at MLflow (ARN set) or TensorBoard, whatever the recipe's `report_to` says: integrations
    such as trackio or wandb are not installed in the training image."""
    asked = training_args.report_to if isinstance(training_args.report_to, list) else [training_args.report_to]
    arn = os.environ.get("MLFLOW_TRACKING_ARN")
    if arn:
        os.environ["MLFLOW_TRACKING_URI"] = arn
        os.environ.setdefault("MLFLOW_FLATTEN_PARAMS", "true")
        report_to = ["mlflow"]
    else:
        report_to = ["tensorboard"]
    asked = sorted(str(a) for a in asked if a not in ("none", None))
    if asked and asked != report_to:
        logger.info("tracking: report_to %s (the recipe asked for %s)", report_to, asked)
    training_args.report_to = report_to
    return report_to


def start_mlflow_run(tags: dict[str, str], checkpoint_dir: str | os.PathLike) -> str | None:
    """Start (or resume) the MLflow run on the main process; returns its id, or None without an ARN."""
    if not os.environ.get("MLFLOW_TRACKING_ARN"):
        return None
    import mlflow

    run_file = Path(checkpoint_dir) / RUN_FILE
    previous = None
    try:
        previous = json.loads(run_file.read_text())["run_id"]
    except (OSError, ValueError, KeyError):
        pass
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    mlflow.set_experiment(os.environ.get("MLFLOW_EXPERIMENT_NAME") or tags.get("recipe.name") or "gpt-oss-finetune")
    run = mlflow.start_run(run_id=previous, run_name=None if previous else tags.get("sagemaker.training_job"))
    mlflow.set_tags(tags)
    run_file.parent.mkdir(parents=True, exist_ok=True)
    run_file.write_text(json.dumps({"run_id": run.info.run_id}))
    print(f"mlflow: {'resumed' if previous else 'started'} run {run.info.run_id}", flush=True)
    return run.info.run_id


def end_mlflow_run(run_id: str | None, status: str = "FINISHED") -> None:
    if run_id is None:
        return
    import mlflow

    mlflow.end_run(status=status)
