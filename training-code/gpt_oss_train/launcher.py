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
import os
import shlex
import signal
import subprocess
import sys
import time

from .job_inputs import (
    LOCAL_RUN_ENV,
    LaunchError,
    Paths,
    find_recipe,
    gpus_per_host,
    hyperparameter_args,
    read_cluster,
    read_hf_token,
)
from .launch_plan import RENDEZVOUS_PORT, build_command, job_environment, make_plan
from .recipe import Recipe, RecipeError, load_recipe, rename_cli_args
from .staged_model import MODEL_SOURCE_ENV, StagedModelError, check_staged_model


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
