"""How this host launches training: the Accelerate config, the `accelerate launch` command and its environment.

`make_plan` picks the Accelerate config for `platform.training.distribution` (single-gpu, ddp, zero3,
zero3-offload) and the processes per host; `build_command` uses c10d rendezvous on port 29500 across hosts;
`job_environment` adds the EFA/NCCL environment on p4/p5/p6 instances.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from .job_inputs import Cluster, LaunchError, Paths
from .recipe import DISTRIBUTIONS, Recipe


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
