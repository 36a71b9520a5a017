"""Requirements, the training image and the generated recipe-field list stay in step with the code."""

import json
import re
import subprocess
import sys

from conftest import CODE_DIR, REPO_DIR

from gpt_oss_train.versions import CORE, TRACKING, normalise, read_pins


REQUIREMENTS = CODE_DIR / "requirements.txt"
DEV_REQUIREMENTS = CODE_DIR / "requirements-dev.txt"


def requirement_lines(path):
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def test_training_image_requirements_are_all_exact_pins():
    # The AWS sample installed unpinned packages (and triton_kernels from git @main) at every job start.
    for line in requirement_lines(REQUIREMENTS):
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.+]*", line), line
    pins = read_pins(REQUIREMENTS)
    assert set(CORE) | set(TRACKING) <= set(pins)
    assert "torch" not in pins  # the DLC's CUDA build stays


def test_dev_requirements_pin_the_same_versions():
    image, dev = read_pins(REQUIREMENTS), read_pins(DEV_REQUIREMENTS)
    shared = set(image) & set(dev)
    assert shared >= {normalise(name) for name in (*CORE, *TRACKING)}
    assert {name: dev[name] for name in shared} == {name: image[name] for name in shared}
    assert dev["torch"] == "2.13.0"


def test_dockerfile_builds_from_the_pytorch_dlc_and_bakes_in_the_pins():
    dockerfile = (CODE_DIR / "Dockerfile").read_text()
    assert re.search(
        r"^ARG BASE_IMAGE=763104351884\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/pytorch-training:",
        dockerfile,
        re.MULTILINE,
    )
    assert "FROM ${BASE_IMAGE}" in dockerfile
    assert "pip install -r /opt/gpt-oss-train/requirements.txt" in dockerfile
    assert "launch.py --check-versions" in dockerfile


def test_launch_check_versions_passes_in_the_dev_environment():
    result = subprocess.run(
        [sys.executable, str(CODE_DIR / "launch.py"), "--check-versions"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "library versions match requirements.txt" in result.stdout


def test_recipe_fields_json_is_up_to_date():
    # GIVEN the field list the TypeScript recipe schema is generated from
    committed = json.loads((REPO_DIR / "lib" / "config" / "recipe-fields.generated.json").read_text())

    # WHEN it is exported again from the dataclasses sft.py parses
    sys.path.insert(0, str(CODE_DIR / "tools"))
    from export_recipe_fields import export

    # THEN nothing changed (regenerate with tools/export_recipe_fields.py otherwise)
    assert export() == committed


def test_renamed_keys_are_exported():
    from gpt_oss_train.args import RENAMED_KEYS

    committed = json.loads((REPO_DIR / "lib" / "config" / "recipe-fields.generated.json").read_text())
    assert committed["renamed"] == RENAMED_KEYS


def test_gpu_benchmark_script_runs_on_cpu(capsys):
    # The benchmark is for GPUs and not part of CI; this only keeps the script from rotting.
    sys.path.insert(0, str(CODE_DIR / "benchmarks"))
    from benchmark import main

    assert main(["--preset", "tiny", "--seq-len", "32", "--batch", "2", "--steps", "2", "--warmup", "1", "--cpu"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["mode"] == "lora-attention+experts" and result["tokens_per_second"] > 0
