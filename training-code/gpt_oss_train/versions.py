"""Check that the installed training libraries are the ones `requirements.txt` pins.

The training image bakes the pins in (training-code/Dockerfile); a job on any other image would run a
different TRL/PEFT/transformers than the recipes were validated against (recipe-fields.generated.json), and
in a VPC without internet nothing can be installed at start. So the launcher fails fast on a mismatch.
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path


REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"
# Checked on every run; the rest of requirements.txt only where it is used.
CORE = ("transformers", "trl", "peft", "accelerate", "deepspeed", "datasets")
TRACKING = ("mlflow-skinny", "sagemaker-mlflow")

_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """`name==version` lines of a requirements file, by normalised name."""
    pins = {}
    for line in path.read_text().splitlines():
        match = _PIN.match(line)
        if match:
            pins[normalise(match.group(1))] = match.group(2)
    return pins


def mismatches(packages, pins: dict[str, str] | None = None) -> list[str]:
    """Human-readable problems for the given packages (empty when all match)."""
    pins = read_pins() if pins is None else pins
    problems = []
    for name in packages:
        key = normalise(name)
        wanted = pins.get(key)
        if wanted is None:
            problems.append(f"{name}: not pinned in {REQUIREMENTS.name}")
            continue
        try:
            installed = metadata.version(key)
        except metadata.PackageNotFoundError:
            problems.append(f"{name}: not installed (pinned {wanted})")
            continue
        if installed != wanted:
            problems.append(f"{name}: installed {installed}, pinned {wanted}")
    return problems
