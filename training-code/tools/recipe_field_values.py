"""Choices of recipe fields that the dataclasses type as plain `str`: attention implementations and `report_to`."""

import re
from importlib import metadata
from pathlib import Path

from transformers.integrations.integration_utils import INTEGRATION_TO_CALLBACK
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

from gpt_oss_train.chunked_attention import ATTENTION_NAME as PROJECT_ATTENTION


REQUIREMENTS = Path(__file__).resolve().parents[1] / "requirements.txt"

# transformers.integrations.hub_kernels.is_kernel: an attention kernel from the Hub ("org/repo[@rev][:name]").
HUB_KERNEL_PATTERN = r"^[^/:]+/[^/:]+(?:@[^/:]+)?(?::[^/:]+)?$"

# The module each tracking integration's `is_*_available()` imports (transformers/integrations/integration_utils.py).
INTEGRATION_MODULES = {
    "azure_ml": "azureml",
    "comet_ml": "comet_ml",
    "mlflow": "mlflow",
    "neptune": "neptune",
    "tensorboard": "tensorboard",
    "trackio": "trackio",
    "wandb": "wandb",
    "codecarbon": "codecarbon",
    "clearml": "clearml",
    "dagshub": "dagshub",
    "flyte": "flytekit",
    "dvclive": "dvclive",
    "swanlab": "swanlab",
    "kubeflow": "kubeflow",
}


def attention_choices() -> tuple[list[str], str]:
    """The implementations transformers registers (plus `eager` and the training code's own chunked attention, which
    gpt_oss_train/chunked_attention.py registers at job start), and the pattern of a Hub kernel."""
    return ["eager", *ALL_ATTENTION_FUNCTIONS.valid_keys(), PROJECT_ATTENTION], HUB_KERNEL_PATTERN


def report_to_choices() -> list[str]:
    """Every integration the Trainer knows, plus `none` and `all`; any other name makes the Trainer raise."""
    return ["none", "all", *INTEGRATION_TO_CALLBACK]


def required_distributions() -> set[str]:
    names = set()
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            names.add(re.split(r"[=<>!~\[; ]", line)[0].lower().replace("_", "-"))
    return names


def installed_report_to() -> list[str]:
    """Integrations whose module a package of the training image's requirements.txt provides.

    The package → module mapping comes from the installed distributions' metadata (the CPU test environment pins
    the same versions, tests/test_packaging.py checks that).
    """
    unmapped = set(INTEGRATION_TO_CALLBACK) - set(INTEGRATION_MODULES)
    if unmapped:
        raise SystemExit(f"add the module of tracking integration(s) {sorted(unmapped)} to INTEGRATION_MODULES")
    required = required_distributions()
    provided = {
        module
        for module, dists in metadata.packages_distributions().items()
        if any(d.lower().replace("_", "-") in required for d in dists)
    }
    return sorted(name for name, module in INTEGRATION_MODULES.items() if module in provided)
