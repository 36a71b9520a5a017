"""What SageMaker hands the training job on this host: its file layout, the recipe, the HyperParameters, the cluster.

Everything here reads the container's files (`/opt/ml/input/...`) or `SM_*` variables and raises `LaunchError`,
naming the file and what to change, before any training process starts. Set GPT_OSS_OPT_ML to use another root
than /opt/ml (the local run and the tests do).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .recipe import GUARD


# The HyperParameters a pipeline job passes (lib/pipeline/training-definition.ts); local runs set LOCAL_RUN_ENV.
JOB_HYPERPARAMETERS = tuple(GUARD["hyperparameters"])
LOCAL_RUN_ENV = "GPT_OSS_LOCAL_RUN"


class LaunchError(RuntimeError):
    """A job configuration that cannot run; the message says what to change."""


@dataclass(frozen=True)
class Paths:
    """SageMaker's container layout under one root (/opt/ml in a job)."""

    root: Path

    @classmethod
    def from_env(cls, env=os.environ) -> Paths:
        return cls(Path(env.get("GPT_OSS_OPT_ML", "/opt/ml")))

    def channel(self, name: str) -> Path:
        return self.root / "input" / "data" / name

    @property
    def resource_config(self) -> Path:
        return self.root / "input" / "config" / "resourceconfig.json"

    @property
    def hyperparameters(self) -> Path:
        return self.root / "input" / "config" / "hyperparameters.json"

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def output(self) -> Path:
        return self.root / "output"


@dataclass(frozen=True)
class Cluster:
    hosts: tuple[str, ...]
    current_host: str
    main_address: str
    network_interface: str | None = None
    instance_type: str | None = None

    @property
    def num_machines(self) -> int:
        return len(self.hosts)

    @property
    def rank(self) -> int:
        return self.hosts.index(self.current_host)


# ------------------------------------------------------------------
# Inputs
# ------------------------------------------------------------------


def find_recipe(paths: Paths, explicit: str | None) -> Path:
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise LaunchError(f"recipe {path} does not exist")
        return path
    channel = paths.channel("recipe")
    found = sorted(p for p in channel.glob("*.y*ml") if p.is_file()) if channel.is_dir() else []
    if len(found) != 1:
        listing = ", ".join(p.name for p in found) or "nothing"
        raise LaunchError(
            f"expected exactly one recipe YAML in the `recipe` channel ({channel}), found {listing}; "
            "or pass --recipe PATH"
        )
    return found[0]


def hyperparameter_args(paths: Paths, local: bool = False) -> list[str]:
    """SageMaker HyperParameters (all strings) as training-argument overrides.

    In a job only the parameters the pipeline passes (`hyperparameters` in recipe_guard.json) are accepted, each
    as exactly one value (`--key=value`): a value such as `["x", "--trust_remote_code", "true"]` stays one string
    and cannot add arguments. Local runs (`GPT_OSS_LOCAL_RUN=1`, set by lib/local/training-job.ts) scale any recipe
    key down and may pass a JSON list for a list-valued key.
    """
    if not paths.hyperparameters.is_file():
        return []
    try:
        values = json.loads(paths.hyperparameters.read_text() or "{}")
    except json.JSONDecodeError as err:
        raise LaunchError(f"{paths.hyperparameters}: not valid JSON: {err}") from err
    if not isinstance(values, dict):
        raise LaunchError(f"{paths.hyperparameters}: expected a JSON object of name: value")
    args: list[str] = []
    for key, value in sorted(values.items()):
        if key.startswith("sagemaker_"):
            continue  # set by SageMaker SDK estimators for their own toolkit
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise LaunchError(f"hyperparameter {key!r} is not a training argument name")
        if not isinstance(value, (str, int, float, bool)):
            raise LaunchError(f"hyperparameter {key}: found {value!r}; each hyperparameter is one value")
        text = str(value)
        if not local:
            if key not in JOB_HYPERPARAMETERS:
                raise LaunchError(
                    f"hyperparameter --{key}={text}: not one the pipeline passes ({', '.join(JOB_HYPERPARAMETERS)}); "
                    "a job's training arguments come from its recipe"
                )
            args.append(f"--{key}={text}")
            continue
        args.append(f"--{key}")
        if text.startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError:
                items = None
            if isinstance(items, list):
                args.extend(str(item) for item in items)
                continue
        args.append(text)
    return args


def read_cluster(paths: Paths, env=os.environ) -> Cluster:
    """Hosts, this host and the main host from resourceconfig.json (SageMaker) or the SM_* variables."""
    if paths.resource_config.is_file():
        try:
            config = json.loads(paths.resource_config.read_text())
            hosts = tuple(sorted(config["hosts"]))
            current = config["current_host"]
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise LaunchError(f"{paths.resource_config}: unreadable ({err!r})") from err
        interface = config.get("network_interface_name")
        instance_type = config.get("current_instance_type")
    elif env.get("SM_HOSTS") and env.get("SM_CURRENT_HOST"):
        hosts = tuple(sorted(json.loads(env["SM_HOSTS"])))
        current = env["SM_CURRENT_HOST"]
        interface = env.get("SM_NETWORK_INTERFACE_NAME")
        instance_type = env.get("SM_CURRENT_INSTANCE_TYPE")
    else:
        hosts, current, interface, instance_type = ("localhost",), "localhost", None, None
    if current not in hosts:
        raise LaunchError(f"current host {current!r} is not in the host list {list(hosts)}")
    # The ModelTrainer container driver sets these; when present they must agree with the file.
    if env.get("SM_HOST_COUNT") and int(env["SM_HOST_COUNT"]) != len(hosts):
        raise LaunchError(f"SM_HOST_COUNT={env['SM_HOST_COUNT']} but {len(hosts)} hosts are configured: {list(hosts)}")
    if env.get("SM_CURRENT_HOST_RANK") and int(env["SM_CURRENT_HOST_RANK"]) != hosts.index(current):
        raise LaunchError(
            f"SM_CURRENT_HOST_RANK={env['SM_CURRENT_HOST_RANK']} but {current!r} is host {hosts.index(current)} "
            f"of the sorted host list {list(hosts)}"
        )
    main_address = env.get("SM_MASTER_ADDR") or hosts[0]
    return Cluster(hosts, current, main_address, interface, instance_type or env.get("GPT_OSS_INSTANCE_TYPE"))


def gpus_per_host(env=os.environ) -> int:
    if env.get("SM_NUM_GPUS"):
        return int(env["SM_NUM_GPUS"])
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def read_hf_token(secret_arn: str) -> str:
    """The Hugging Face token from Secrets Manager: a plain string or JSON with HF_TOKEN/token. Never logged."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    region = secret_arn.split(":")[3] if secret_arn.count(":") >= 6 else None
    try:
        secret = boto3.client("secretsmanager", region_name=region).get_secret_value(SecretId=secret_arn)
    except (BotoCoreError, ClientError) as err:  # the token is never part of the message
        code = err.response["Error"]["Code"] if isinstance(err, ClientError) else type(err).__name__
        raise LaunchError(f"cannot read the Hugging Face token secret {secret_arn}: {code}") from None
    value = secret.get("SecretString") or ""
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    if isinstance(parsed, dict):
        parsed = parsed.get("HF_TOKEN") or parsed.get("token") or parsed.get("hf_token") or ""
    if not isinstance(parsed, str) or not parsed.strip():
        raise LaunchError(f"the secret {secret_arn} holds no token (a string, or JSON with HF_TOKEN)")
    return parsed.strip()
