"""Shared fixtures: a tiny GPT-OSS checkpoint built from the bundled sample, and recipe/parse helpers."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml


CODE_DIR = Path(__file__).resolve().parents[1]
REPO_DIR = CODE_DIR.parent
SAMPLE = CODE_DIR / "gpt_oss_train" / "sample_data" / "multilingual_thinking_sample.jsonl"
EXPERTS = ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]

# Keep the CPU runs small and quiet; tests never touch the network.
os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def sample_rows() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]


def conversations() -> list[list[dict]]:
    return [[{k: v for k, v in m.items() if v is not None} for m in row["messages"]] for row in sample_rows()]


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from gpt_oss_train.tiny import write_tiny_checkpoint

    return write_tiny_checkpoint(conversations(), tmp_path_factory.mktemp("tiny-gpt-oss"))


@pytest.fixture(scope="session")
def tiny_tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def base_recipe(model_dir: Path, **overrides) -> dict:
    """A LoRA recipe (attention + experts) for the tiny model on CPU, in the shipped recipes' shape."""
    recipe = {
        "model_name_or_path": str(model_dir),
        "dtype": "float32",
        "attn_implementation": "eager",
        "dataset_path": str(SAMPLE),
        "eval_split_size": 0.1,
        "max_length": 256,
        "learning_rate": 1.0e-2,
        "max_steps": 30,
        "per_device_train_batch_size": 4,
        "per_device_eval_batch_size": 4,
        "logging_steps": 5,
        "save_strategy": "no",
        "gradient_checkpointing": True,
        "use_peft": True,
        "lora_r": 8,
        "lora_alpha": 16,
        "lora_dropout": 0.0,
        "lora_target_modules": "all-linear",
        "lora_target_parameters": list(EXPERTS),
        "use_cpu": True,
        "bf16": False,
        "report_to": "none",
        "disable_tqdm": True,
        "seed": 0,
        "platform": {"training": {"instance_type": "ml.p5.48xlarge", "distribution": "single-gpu"}},
    }
    for key, value in overrides.items():
        if value is None:
            recipe.pop(key, None)
        else:
            recipe[key] = value
    return recipe


def write_recipe(path: Path, recipe: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(recipe, sort_keys=False))
    return path


def parse(recipe_path: Path, *cli: str):
    from gpt_oss_train.args import make_parser

    parser = make_parser()
    script_args, training_args, model_args = parser.parse_args_and_config([*cli, "--config", str(recipe_path)])
    return script_args, training_args, model_args, parser.recipe


def run_sft(tmp_path: Path, monkeypatch, recipe: dict, *cli: str):
    """Run sft.main in this process (the launcher tests run it in subprocesses)."""
    import sft

    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "model"))
    recipe_path = write_recipe(tmp_path / "recipe.yaml", recipe)
    script_args, training_args, model_args, parsed = parse(
        recipe_path, "--output_dir", str(tmp_path / "checkpoints"), *cli
    )
    return sft.main(script_args, training_args, model_args, recipe=parsed)


def job_root(root: Path, recipe: dict, hyperparameters: dict, host: str = "algo-1", hosts=("algo-1",)) -> Path:
    """A SageMaker-shaped /opt/ml for the launcher: recipe channel, training channel, config files."""
    write_recipe(root / "input" / "data" / "recipe" / "tiny.yaml", recipe)
    training = root / "input" / "data" / "training"
    training.mkdir(parents=True, exist_ok=True)
    (training / SAMPLE.name).write_bytes(SAMPLE.read_bytes())
    config = root / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "resourceconfig.json").write_text(
        json.dumps({"current_host": host, "hosts": list(hosts), "network_interface_name": "lo"})
    )
    (config / "hyperparameters.json").write_text(json.dumps({k: str(v) for k, v in hyperparameters.items()}))
    return root


def launcher_process(root: Path, *args: str, env: dict | None = None, **popen) -> subprocess.Popen:
    """Start launch.py as SageMaker would (a fresh interpreter), on CPU, with /opt/ml at `root`."""
    full_env = {**os.environ, "GPT_OSS_OPT_ML": str(root), **(env or {})}
    popen.setdefault("stdout", subprocess.PIPE)
    return subprocess.Popen(
        [sys.executable, str(CODE_DIR / "launch.py"), "--cpu", *args],
        env=full_env,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )
