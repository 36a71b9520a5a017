"""The training job's entrypoint: from SageMaker's files to one `accelerate launch` of `sft.py` per host.

SageMaker runs `python3 /opt/ml/input/data/code/launch.py` on every host of the job (ContainerEntrypoint).
This module then:

1. finds the recipe (the one YAML in the `recipe` channel) and checks its keys before any process starts;
2. turns the job's HyperParameters (`/opt/ml/input/config/hyperparameters.json`) into `--key=value` overrides
   (only the parameters the pipeline passes, each one value);
3. reads the cluster from `/opt/ml/input/config/resourceconfig.json` (cross-checked with `SM_*` variables when
   present): host count, this host's rank in the sorted host list, the main host, the network interface;
4. picks the Accelerate config for `platform.training.distribution` (single-gpu, ddp, zero3, zero3-offload),
   with c10d rendezvous on port 29500 across hosts and the EFA/NCCL environment on p4/p5/p6 instances;
5. checks the installed libraries against requirements.txt, reads the Hugging Face token from Secrets
   Manager when HF_TOKEN_SECRET_ARN is set, and runs `accelerate launch ... sft.py --config <recipe>`,
   forwarding SIGTERM so a stopped (spot) job saves a checkpoint first.

Anything wrong is reported before GPUs are busy, in the job's FailureReason (`/opt/ml/output/failure`).
Set GPT_OSS_OPT_ML to use another root than /opt/ml (the local run and the tests do).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .recipe import DISTRIBUTIONS, GUARD, Recipe, RecipeError, load_recipe, rename_cli_args
from .staged_model import MODEL_SOURCE_ENV, StagedModelError, check_staged_model


CODE_DIR = Path(__file__).resolve().parents[1]
CONFIG_DIR = CODE_DIR / "configs"
SCRIPT = CODE_DIR / "sft.py"
RENDEZVOUS_PORT = 29500
CONFIG_FILES = {
    "single-gpu": "single_gpu.yaml",
    "ddp": "ddp.yaml",
    "zero3": "zero3.yaml",
    "zero3-offload": "zero3_offload.yaml",
}
# Instance families with EFA and GPUDirect RDMA.
# The HyperParameters a pipeline job passes (lib/pipeline/training-definition.ts); local runs set LOCAL_RUN_ENV.
JOB_HYPERPARAMETERS = tuple(GUARD["hyperparameters"])
LOCAL_RUN_ENV = "GPT_OSS_LOCAL_RUN"
EFA_FAMILIES = re.compile(r"^(ml\.)?(p4d|p4de|p5|p5e|p5en|p6|p6e)[.-]")
# What the AWS sample's notebook sets for EFA (docs/facts/training.md §6); NCCL_DEBUG is quieter.
EFA_ENV = {
    "FI_PROVIDER": "efa",
    "FI_EFA_USE_DEVICE_RDMA": "1",
    "FI_EFA_FORK_SAFE": "1",
    "NCCL_PROTO": "simple",
    "NCCL_NET_GDR_LEVEL": "5",
    "NCCL_DEBUG": "WARN",
}


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


# ------------------------------------------------------------------
# Plan
# ------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    distribution: str
    config_file: Path
    processes_per_host: int
    cluster: Cluster
    cpu: bool

    @property
    def num_processes(self) -> int:
        return self.processes_per_host * self.cluster.num_machines


def make_plan(recipe: Recipe, cluster: Cluster, gpus: int, cpu: bool, cpu_processes: int = 1) -> Plan:
    distribution = recipe.distribution
    if distribution not in DISTRIBUTIONS:
        raise LaunchError(f"{recipe.path}: unknown distribution {distribution!r}")
    if recipe.instance_count != cluster.num_machines:
        raise LaunchError(
            f"{recipe.path}: platform.training.instance_count is {recipe.instance_count} but the job has "
            f"{cluster.num_machines} host(s) {list(cluster.hosts)}; the pipeline must launch the recipe's count"
        )
    if distribution == "single-gpu" and cluster.num_machines > 1:
        raise LaunchError(
            f"{recipe.path}: distribution single-gpu cannot use {cluster.num_machines} instances; "
            "write `distribution: ddp` or `zero3`, or `instance_count: 1`"
        )
    if cpu:
        per_host = cpu_processes
        # CPU runs (local run, tests) exercise the same launcher. ZeRO-3 runs as ZeRO-3 (DeepSpeed's CPU
        # accelerator over gloo) when there is more than one process; everything else runs as DDP or one process.
        many = per_host * cluster.num_machines > 1
        effective = "zero3" if many and distribution.startswith("zero3") else "ddp" if many else "single-gpu"
        if effective != distribution:
            print(f"launcher: CPU run: distribution {distribution} runs as {effective}", flush=True)
        distribution = effective
    else:
        if gpus < 1:
            raise LaunchError(
                "no GPU is visible on this host; GPT-OSS training needs GPU instances (ml.p4de/p5/p5en/g6e...)"
            )
        per_host = 1 if distribution == "single-gpu" else gpus
        if distribution == "single-gpu" and gpus > 1:
            print(f"launcher: distribution single-gpu uses 1 of the {gpus} GPUs", flush=True)
    if distribution == "ddp" and per_host * cluster.num_machines < 2:
        print("launcher: ddp with one process runs as single-gpu", flush=True)
        distribution = "single-gpu"
    return Plan(distribution, CONFIG_DIR / CONFIG_FILES[distribution], per_host, cluster, cpu)


def build_command(plan: Plan, recipe_path: Path, script_args: list[str], port: int = RENDEZVOUS_PORT) -> list[str]:
    cluster = plan.cluster
    multi_node = cluster.num_machines > 1
    command = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--config_file", str(plan.config_file),
        "--num_machines", str(cluster.num_machines),
        "--machine_rank", str(cluster.rank),
        "--num_processes", str(plan.num_processes),
        "--main_process_port", str(port),
        # c10d across hosts ("static" hangs on SageMaker multi-node); static needs no endpoint on one host.
        "--rdzv_backend", "c10d" if multi_node else "static",
    ]  # fmt: skip
    if multi_node:
        command += ["--main_process_ip", cluster.main_address]
    if plan.cpu:
        command += ["--mixed_precision", "no"]
    return command + [str(SCRIPT), "--config", str(recipe_path), *script_args]


def job_environment(recipe: Recipe, plan: Plan, paths: Paths, env=os.environ) -> dict[str, str]:
    """The environment `accelerate launch` and the training processes run with."""
    out = dict(env)
    out.setdefault("SM_MODEL_DIR", str(paths.model_dir))
    out.setdefault("TENSORBOARD_LOGGING_DIR", str(paths.output / "tensorboard"))
    out.setdefault("RECIPE_NAME", recipe.name)
    out.setdefault("RECIPE_HASH", recipe.sha256)
    out.setdefault("PYTHONUNBUFFERED", "1")
    out.setdefault("TOKENIZERS_PARALLELISM", "false")
    out.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    out["GPT_OSS_FAILURE_FILE"] = str(paths.output / "failure")
    instance_type = plan.cluster.instance_type or recipe.instance_type or ""
    if not plan.cpu and EFA_FAMILIES.match(instance_type):
        for key, value in EFA_ENV.items():
            out.setdefault(key, value)
        out.setdefault("NCCL_SOCKET_IFNAME", plan.cluster.network_interface or "eth0")
    if plan.cluster.network_interface:
        out.setdefault("GLOO_SOCKET_IFNAME", plan.cluster.network_interface)
    if plan.cpu:
        out.setdefault("DS_ACCELERATOR", "cpu")
    return out


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


def check_keys(recipe: Recipe, overrides: list[str]) -> None:
    """Reject unknown recipe keys and override flags before any process starts (values are checked by sft.py)."""
    from .args import make_parser

    parser = make_parser()
    remaining = parser.set_defaults_with_config(**recipe.arguments)
    if remaining:
        raise RecipeError(parser._unknown_keys_message(str(recipe.path), [k[2:] for k in remaining[::2]]))
    flags = {opt for action in parser._actions for opt in action.option_strings}
    unknown = sorted({a.split("=", 1)[0] for a in overrides if a.startswith("--")} - flags)
    if unknown:
        raise RecipeError(f"hyperparameters/overrides: unknown training argument(s) {', '.join(unknown)}")


# ------------------------------------------------------------------
# Run
# ------------------------------------------------------------------


def run(command: list[str], env: dict[str, str]) -> int:
    """Run the launch in its own process group; forward SIGTERM/SIGINT and wait for the group to finish."""
    child = subprocess.Popen(command, env=env, start_new_session=True)
    forwarded = {"signal": None}

    def forward(signum, frame):
        forwarded["signal"] = signum
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            pass

    previous = {s: signal.signal(s, forward) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = child.wait()
        if forwarded["signal"] is not None:
            # `accelerate launch` may exit before its children finish saving their checkpoint.
            deadline = time.monotonic() + 110
            while time.monotonic() < deadline:
                try:
                    os.killpg(child.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.5)
            return 128 + forwarded["signal"]
        return code
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def write_failure(paths: Paths, message: str) -> None:
    try:
        paths.output.mkdir(parents=True, exist_ok=True)
        (paths.output / "failure").write_text(message[:1000])
    except OSError:
        pass


def main(argv: list[str] | None = None, env=None) -> int:
    parser = argparse.ArgumentParser(description="Start GPT-OSS fine-tuning on this host (SageMaker entrypoint).")
    parser.add_argument("--recipe", help="recipe YAML (default: the one file in the `recipe` channel)")
    parser.add_argument("--cpu", action="store_true", help="run on CPU (local run and tests)")
    parser.add_argument("--cpu-processes", type=int, default=1, help="processes per host with --cpu")
    parser.add_argument("--check-versions", action="store_true", help="only check the pinned library versions")
    parser.add_argument("--dry-run", action="store_true", help="print the launch command instead of running it")
    args, passthrough = parser.parse_known_args(argv)
    env = dict(os.environ if env is None else env)
    paths = Paths.from_env(env)
    try:
        return _main(args, passthrough, env, paths)
    except (LaunchError, RecipeError) as err:
        message = str(err)
        print(f"launcher: ERROR {message}", file=sys.stderr, flush=True)
        write_failure(paths, message)
        return 2


def _main(args, passthrough: list[str], env: dict[str, str], paths: Paths) -> int:
    from .versions import CORE, TRACKING, mismatches

    wanted = list(CORE) + (list(TRACKING) if env.get("MLFLOW_TRACKING_ARN") else [])
    problems = [] if env.get("GPT_OSS_SKIP_VERSION_CHECK") == "1" else mismatches(wanted)
    if problems:
        raise LaunchError(
            "installed libraries differ from training-code/requirements.txt: " + "; ".join(problems) + ". Use the "
            "training image built from training-code/Dockerfile (or set GPT_OSS_SKIP_VERSION_CHECK=1 at your own risk)"
        )
    if args.check_versions:
        print("launcher: library versions match requirements.txt", flush=True)
        return 0

    recipe_path = find_recipe(paths, args.recipe)
    recipe = load_recipe(recipe_path)
    overrides = rename_cli_args(hyperparameter_args(paths, env.get(LOCAL_RUN_ENV) == "1") + list(passthrough))
    cluster = read_cluster(paths, env)
    plan = make_plan(recipe, cluster, 0 if args.cpu else gpus_per_host(env), args.cpu, args.cpu_processes)

    # Inputs delivered as channels win over Hub ids: jobs in a VPC have no internet. The pipeline says which
    # (GPT_OSS_MODEL_SOURCE=channel: the staged `model` channel is the only source, the Hub is offline).
    script_args: list[str] = []
    model_channel = paths.channel("model")
    hub_model = recipe.arguments.get("model_name_or_path")
    staged_only = env.get(MODEL_SOURCE_ENV) == "channel"
    if staged_only:
        try:
            manifest = check_staged_model(model_channel, hub_model, recipe.arguments.get("model_revision"))
        except StagedModelError as err:
            raise LaunchError(str(err)) from err
        if manifest.get("repoId") != hub_model:
            print(f"launcher: WARNING the `model` channel holds {manifest.get('repoId')}, the recipe {hub_model}")
    if staged_only or (model_channel / "config.json").is_file():
        print(f"launcher: base model from the `model` channel {model_channel} (recipe: {hub_model})", flush=True)
        script_args += ["--model_name_or_path", str(model_channel)]
    training_channel = paths.channel("training")
    if "dataset_path" not in recipe.arguments and "--dataset_path" not in overrides:
        if training_channel.is_dir() and any(training_channel.iterdir()):
            script_args += ["--dataset_path", str(training_channel)]
        elif staged_only and recipe.arguments.get("dataset_name"):
            dataset = recipe.arguments["dataset_name"]
            raise LaunchError(
                f"no training data: the `training` channel ({training_channel}) is empty and jobs in the VPC cannot "
                f"download {dataset} from the Hub; run `npm run cli -- prepare-data --from-hub {shlex.quote(dataset)} "
                f"--recipe {recipe.name}` and start the pipeline again"
            )
        elif not recipe.arguments.get("dataset_name"):
            raise LaunchError(
                f"no training data: the `training` channel ({training_channel}) is empty and the recipe sets "
                "neither dataset_path nor dataset_name"
            )
    if args.cpu:
        script_args += ["--use_cpu", "true", "--bf16", "false"]
        if plan.distribution == "zero3":
            # Without it Accelerate sees one CPU process while DeepSpeed starts all of them.
            script_args += ["--ddp_backend", "gloo"]
    script_args += overrides
    if any(a.split("=", 1)[0] == "--output_dir" for a in overrides):
        print(f"launcher: ignoring the output_dir override; checkpoints go to {paths.checkpoints}", flush=True)
    script_args += ["--output_dir", str(paths.checkpoints)]
    check_keys(recipe, script_args)

    job_env = job_environment(recipe, plan, paths, env)
    if env.get("HF_TOKEN_SECRET_ARN") and not env.get("HF_TOKEN"):
        job_env["HF_TOKEN"] = read_hf_token(env["HF_TOKEN_SECRET_ARN"])
        print("launcher: Hugging Face token read from Secrets Manager", flush=True)
    if "--model_name_or_path" in script_args and (
        recipe.arguments.get("dataset_path") or "--dataset_path" in script_args
    ):
        job_env.setdefault("HF_HUB_OFFLINE", "1")  # everything is local: never wait on the Hub from a VPC

    # GPT_OSS_RENDEZVOUS_PORT only exists so that tests on a shared machine can avoid a busy 29500.
    command = build_command(plan, recipe_path, script_args, int(env.get("GPT_OSS_RENDEZVOUS_PORT", RENDEZVOUS_PORT)))
    print(
        f"launcher: recipe {recipe.name} ({recipe.sha256[:12]}), distribution {plan.distribution}, "
        f"host {cluster.current_host} rank {cluster.rank} of {cluster.num_machines}, "
        f"{plan.processes_per_host} process(es) per host, {plan.num_processes} in total",
        flush=True,
    )
    print("launcher: " + shlex.join(command), flush=True)
    if args.dry_run:
        return 0
    for directory in (paths.checkpoints, paths.model_dir):
        directory.mkdir(parents=True, exist_ok=True)
    return run(command, job_env)
