"""The launcher: cluster from resourceconfig.json, accelerate configs, EFA env, fail-fast checks, HF token."""

import json
from pathlib import Path

import pytest
import yaml
from conftest import CODE_DIR, base_recipe, job_root, write_recipe

from gpt_oss_train import launch_plan, launcher
from gpt_oss_train.job_inputs import Cluster, LaunchError, Paths, hyperparameter_args, read_cluster, read_hf_token
from gpt_oss_train.launch_plan import build_command, job_environment, make_plan
from gpt_oss_train.recipe import load_recipe
from gpt_oss_train.staged_model import (
    DEFAULT_MODEL_REVISION,
    MODEL_SOURCE_ENV,
    STAGED_MODEL_MANIFEST,
    write_local_manifest,
)
from gpt_oss_train.versions import REQUIREMENTS, mismatches, read_pins


def recipe_with(tmp_path, tiny_model_dir, **training):
    platform = {"training": {"instance_type": "ml.p5.48xlarge", **training}}
    return load_recipe(write_recipe(tmp_path / "r.yaml", base_recipe(tiny_model_dir, platform=platform)))


def write_resourceconfig(root: Path, current: str, hosts: list[str], **extra) -> Paths:
    config = root / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "resourceconfig.json").write_text(json.dumps({"current_host": current, "hosts": hosts, **extra}))
    return Paths(root)


def test_cluster_comes_from_resourceconfig_with_rank_in_the_sorted_host_list(tmp_path):
    # GIVEN SageMaker's resourceconfig.json on the second host of three (hosts listed out of order)
    paths = write_resourceconfig(
        tmp_path, "algo-2", ["algo-3", "algo-1", "algo-2"], network_interface_name="eth0",
        current_instance_type="ml.p5.48xlarge",
    )  # fmt: skip

    # WHEN read without any SM_* variables (a custom ContainerEntrypoint gets none)
    cluster = read_cluster(paths, env={})

    # THEN rank, host count and main host follow the sorted host list
    assert cluster.hosts == ("algo-1", "algo-2", "algo-3")
    assert (cluster.rank, cluster.num_machines, cluster.main_address) == (1, 3, "algo-1")
    assert (cluster.network_interface, cluster.instance_type) == ("eth0", "ml.p5.48xlarge")


def test_cluster_from_sm_variables_and_fails_when_they_disagree(tmp_path):
    env = {"SM_HOSTS": '["algo-2","algo-1"]', "SM_CURRENT_HOST": "algo-2", "SM_MASTER_ADDR": "10.0.0.5"}
    cluster = read_cluster(Paths(tmp_path), env=env)
    assert (cluster.rank, cluster.main_address) == (1, "10.0.0.5")

    paths = write_resourceconfig(tmp_path, "algo-1", ["algo-1", "algo-2"])
    with pytest.raises(LaunchError, match="SM_HOST_COUNT=3 but 2 hosts"):
        read_cluster(paths, env={"SM_HOST_COUNT": "3"})
    with pytest.raises(LaunchError, match="SM_CURRENT_HOST_RANK=1 but 'algo-1' is host 0"):
        read_cluster(paths, env={"SM_CURRENT_HOST_RANK": "1"})


def write_hyperparameters(tmp_path, values: dict) -> Paths:
    config = tmp_path / "input" / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "hyperparameters.json").write_text(json.dumps(values))
    return Paths(tmp_path)


def test_hyperparameters_become_one_value_overrides(tmp_path):
    # GIVEN the pipeline's HyperParameters (strings) and one SDK-internal key
    paths = write_hyperparameters(
        tmp_path, {"max_steps": "-1", "num_train_epochs": "2.5", "sagemaker_program": "x.py"}
    )
    # THEN each becomes exactly one `--key=value` argument, SDK keys dropped
    assert hyperparameter_args(paths) == ["--max_steps=-1", "--num_train_epochs=2.5"]


def test_a_list_hyperparameter_cannot_add_arguments(tmp_path):
    # GIVEN a value that starts with `[` and smuggles flags
    attack = '["1", "--trust_remote_code", "true", "--model_name_or_path", "other/model"]'
    # THEN it stays one value of max_steps (which the training script then rejects as no integer)
    assert hyperparameter_args(write_hyperparameters(tmp_path, {"max_steps": attack})) == [f"--max_steps={attack}"]
    # AND a JSON list or object (not a string) is refused outright
    with pytest.raises(
        LaunchError, match=r"hyperparameter max_steps: found \['1', '2'\]; each hyperparameter is one value"
    ):
        hyperparameter_args(write_hyperparameters(tmp_path, {"max_steps": ["1", "2"]}))


def test_only_the_pipeline_hyperparameters_reach_a_job(tmp_path):
    # GIVEN a hyperparameter the pipeline never passes
    paths = write_hyperparameters(tmp_path, {"max_steps": "5", "trust_remote_code": "true"})
    # THEN the job refuses it, naming the key and value and the accepted ones
    with pytest.raises(
        LaunchError,
        match=r"hyperparameter --trust_remote_code=true: not one the pipeline passes \(max_steps, num_train_epochs\)",
    ):
        hyperparameter_args(paths)
    # AND a local run (GPT_OSS_LOCAL_RUN=1, npm run local) may scale any key down, lists expanded
    local = write_hyperparameters(tmp_path, {"max_steps": "100", "lora_target_parameters": '["a","b"]'})
    assert hyperparameter_args(local, local=True) == ["--lora_target_parameters", "a", "b", "--max_steps", "100"]


def test_multi_node_zero3_plan_uses_c10d_on_port_29500_and_every_gpu(tmp_path, tiny_model_dir):
    # GIVEN a 2-node ZeRO-3 recipe on host algo-2 with 8 GPUs
    recipe = recipe_with(tmp_path, tiny_model_dir, distribution="zero3", instance_count=2)
    cluster = Cluster(("algo-1", "algo-2"), "algo-2", "algo-1", "eth0", "ml.p5.48xlarge")

    # WHEN planned and turned into the launch command
    plan = make_plan(recipe, cluster, gpus=8, cpu=False)
    command = build_command(plan, recipe.path, ["--max_steps", "5"])

    # THEN accelerate launches 16 processes across 2 machines with c10d rendezvous at the main host
    assert plan.config_file.name == "zero3.yaml"
    script = command.index(str(CODE_DIR / "sft.py"))
    flags = dict(zip(command[3:script:2], command[4:script:2], strict=True))
    assert command[:3] == [launch_plan.sys.executable, "-m", "accelerate.commands.launch"]
    assert {k: flags[k] for k in ("--num_machines", "--machine_rank", "--num_processes")} == {
        "--num_machines": "2",
        "--machine_rank": "1",
        "--num_processes": "16",
    }
    assert (flags["--rdzv_backend"], flags["--main_process_port"], flags["--main_process_ip"]) == (
        "c10d",
        "29500",
        "algo-1",
    )
    assert command[script:] == [str(CODE_DIR / "sft.py"), "--config", str(recipe.path), "--max_steps", "5"]


def test_single_node_plans(tmp_path, tiny_model_dir):
    one_host = Cluster(("algo-1",), "algo-1", "algo-1")
    single = make_plan(recipe_with(tmp_path, tiny_model_dir), one_host, gpus=8, cpu=False)
    assert (single.config_file.name, single.num_processes) == ("single_gpu.yaml", 1)
    ddp = make_plan(recipe_with(tmp_path, tiny_model_dir, distribution="ddp"), one_host, gpus=8, cpu=False)
    assert (ddp.config_file.name, ddp.num_processes) == ("ddp.yaml", 8)
    command = build_command(ddp, Path("r.yaml"), [])
    assert "static" in command and "--main_process_ip" not in command


@pytest.mark.parametrize(
    ("training", "hosts", "gpus", "message"),
    [
        ({"instance_count": 2, "distribution": "ddp"}, 1, 8, "instance_count is 2 but the job has 1 host"),
        ({"instance_count": 2}, 2, 8, "single-gpu cannot use 2 instances"),
        ({}, 1, 0, "no GPU is visible"),
    ],
)
def test_fails_fast_on_a_bad_cluster_config(tmp_path, tiny_model_dir, training, hosts, gpus, message):
    names = tuple(f"algo-{i + 1}" for i in range(hosts))
    with pytest.raises(LaunchError, match=message):
        make_plan(recipe_with(tmp_path, tiny_model_dir, **training), Cluster(names, names[0], names[0]), gpus, False)


def test_efa_environment_on_p4_p5_only(tmp_path, tiny_model_dir):
    recipe = recipe_with(tmp_path, tiny_model_dir, distribution="ddp", instance_count=2)
    for instance_type, efa in [("ml.p5.48xlarge", True), ("ml.p4de.24xlarge", True), ("ml.g6e.48xlarge", False)]:
        cluster = Cluster(("algo-1", "algo-2"), "algo-1", "algo-1", "eth0", instance_type)
        env = job_environment(recipe, make_plan(recipe, cluster, 8, False), Paths(tmp_path), env={})
        assert (env.get("FI_PROVIDER") == "efa") is efa, instance_type
        assert (env.get("FI_EFA_USE_DEVICE_RDMA") == "1") is efa
        assert (env.get("NCCL_SOCKET_IFNAME") == "eth0") is efa
        assert env["SM_MODEL_DIR"] == str(tmp_path / "model")
        assert env["RECIPE_HASH"] == recipe.sha256
    # a value set on the job wins
    cluster = Cluster(("algo-1", "algo-2"), "algo-1", "algo-1", "eth0", "ml.p5.48xlarge")
    env = job_environment(recipe, make_plan(recipe, cluster, 8, False), Paths(tmp_path), env={"NCCL_PROTO": "LL128"})
    assert env["NCCL_PROTO"] == "LL128"


def load_accelerate_config(name):
    from accelerate.commands.config.config_args import load_config_from_file

    return load_config_from_file(str(CODE_DIR / "configs" / name))


@pytest.mark.parametrize("name", ["single_gpu.yaml", "ddp.yaml", "zero3.yaml", "zero3_offload.yaml"])
def test_accelerate_configs_load(name):
    config = load_accelerate_config(name)
    assert config.mixed_precision == "bf16"
    if name != "single_gpu.yaml":
        assert (config.rdzv_backend, config.same_network, config.main_process_port) == ("c10d", False, 29500)


@pytest.mark.parametrize(("name", "offload"), [("zero3.yaml", "none"), ("zero3_offload.yaml", "cpu")])
def test_zero3_configs_make_the_decoder_layer_a_leaf_and_save_16bit(name, offload):
    # GIVEN the ZeRO-3 configs (the AWS sample's lacked the MoE leaf and used SSH-based pdsh across nodes)
    from accelerate.commands.launch import _validate_launch_command, launch_command_parser
    from accelerate.utils.launch import prepare_deepspeed_cmd_env

    ds = load_accelerate_config(name).deepspeed_config
    assert ds["zero_stage"] == 3 and ds["zero3_save_16bit_model"] is True and ds["zero3_init_flag"] is True
    assert ds["deepspeed_moe_layer_cls_names"] == "GptOssDecoderLayer"
    assert ds["offload_optimizer_device"] == ds["offload_param_device"] == offload

    # WHEN accelerate prepares a 2-node launch with it, as the launcher's command asks
    args = launch_command_parser().parse_args(
        ["--config_file", str(CODE_DIR / "configs" / name), "--num_machines", "2", "--machine_rank", "1",
         "--num_processes", "16", "--main_process_ip", "algo-1", "--main_process_port", "29500",
         "--rdzv_backend", "c10d", "sft.py"]
    )  # fmt: skip
    args, defaults, _ = _validate_launch_command(args)
    args.deepspeed_fields_from_accelerate_config = ",".join(defaults.deepspeed_config)  # as launch_command does
    command, env = prepare_deepspeed_cmd_env(args)

    # THEN torchrun (not pdsh) rendezvouses at algo-1:29500 and every rank gets the MoE leaf class
    assert command is None  # torchrun in-process, no `deepspeed --hostfile` over SSH
    assert (args.rdzv_endpoint, args.nnodes, args.nproc_per_node) == ("algo-1:29500", "2", "8")
    assert env["ACCELERATE_DEEPSPEED_MOE_LAYER_CLS_NAMES"] == "GptOssDecoderLayer"
    assert env["ACCELERATE_DEEPSPEED_ZERO3_SAVE_16BIT_MODEL"] == "true"


def test_launcher_fails_fast_on_an_unknown_recipe_key_and_writes_the_failure_reason(tmp_path, tiny_model_dir):
    # GIVEN a job whose recipe has a typo
    root = job_root(tmp_path, base_recipe(tiny_model_dir, per_device_batch_size=4), {"max_steps": 1})

    # WHEN the launcher starts
    code = launcher.main(["--cpu"], env={"GPT_OSS_OPT_ML": str(root)})

    # THEN it stops before any process starts, and SageMaker's FailureReason names the file and the key
    failure = (root / "output" / "failure").read_text()
    assert code == 2
    assert "tiny.yaml" in failure and "per_device_batch_size" in failure and "per_device_train_batch_size" in failure


def test_launcher_fails_fast_on_an_unknown_hyperparameter(tmp_path, tiny_model_dir):
    root = job_root(tmp_path, base_recipe(tiny_model_dir), {"max_stepz": 1})
    assert launcher.main(["--cpu"], env={"GPT_OSS_OPT_ML": str(root)}) == 2
    assert "--max_stepz" in (root / "output" / "failure").read_text()


def staged_model_channel(root: Path, repo_id: str = "openai/gpt-oss-20b") -> Path:
    """A `model` channel as SageMaker delivers a prefix stage-model finished: files, then the manifest."""
    channel = root / "input" / "data" / "model"
    channel.mkdir(parents=True)
    (channel / "config.json").write_text('{"model_type": "gpt_oss"}')
    (channel / "model.safetensors").write_bytes(b"\0" * 64)
    write_local_manifest(channel, repo_id)
    return channel


def test_launcher_uses_the_channels_and_forces_the_checkpoint_dir(tmp_path, tiny_model_dir, capsys):
    # GIVEN a pipeline job (model source: channel) with a staged base model and data in the `training` channel
    recipe = base_recipe(tiny_model_dir, dataset_path=None, model_name_or_path="openai/gpt-oss-20b")
    root = job_root(tmp_path, recipe, {"max_steps": 3, "output_dir": "/elsewhere"})  # a local run's overrides
    staged_model_channel(root)

    # WHEN the launcher plans the run
    env = {"GPT_OSS_OPT_ML": str(root), "GPT_OSS_MODEL_SOURCE": "channel", "GPT_OSS_LOCAL_RUN": "1"}
    assert launcher.main(["--cpu", "--dry-run"], env=env) == 0
    command = capsys.readouterr().out.splitlines()[-1]

    # THEN the channels replace the Hub ids and checkpoints go to /opt/ml/checkpoints whatever the overrides say
    assert f"--model_name_or_path {root}/input/data/model" in command
    assert f"--dataset_path {root}/input/data/training" in command
    assert command.endswith(f"--output_dir {root}/checkpoints")


@pytest.mark.parametrize(
    ("channel", "reason"),
    [
        ("missing", "the job has no `model` channel"),
        ("empty", "is empty"),
        ("no manifest", "has no staging-manifest.json, so its copy never finished"),
        ("short file", "model.safetensors has 10 bytes, the manifest says 64 bytes"),
    ],
)
def test_launcher_fails_fast_without_a_finished_staged_model(tmp_path, tiny_model_dir, channel, reason):
    # GIVEN a pipeline job in the VPC (model source: channel) whose `model` channel is not a finished staging
    recipe = base_recipe(tiny_model_dir, dataset_path=None, model_name_or_path="openai/gpt-oss-120b")
    root = job_root(tmp_path, {**recipe, "model_revision": "v2"}, {})
    model = root / "input" / "data" / "model"
    if channel == "empty":
        model.mkdir(parents=True)
    elif channel != "missing":
        staged_model_channel(root, "openai/gpt-oss-120b")
        if channel == "no manifest":
            (model / "staging-manifest.json").unlink()
        else:
            (model / "model.safetensors").write_bytes(b"\0" * 10)

    # WHEN the launcher starts
    code = launcher.main(["--cpu"], env={"GPT_OSS_OPT_ML": str(root), "GPT_OSS_MODEL_SOURCE": "channel"})

    # THEN nothing starts, and the FailureReason says what is wrong and the command that stages the recipe's model
    failure = (root / "output" / "failure").read_text()
    assert code == 2
    assert reason in failure
    assert "run `npm run cli -- stage-model openai/gpt-oss-120b --revision v2`" in failure
    assert len(failure) < 1000  # SageMaker keeps at most 1 KB of FailureReason


def test_launcher_fails_fast_when_hub_data_was_never_prepared(tmp_path, tiny_model_dir):
    # GIVEN a job in the VPC whose recipe names a Hub dataset, with an empty `training` channel
    recipe = base_recipe(tiny_model_dir, dataset_path=None, dataset_name="HuggingFaceH4/Multilingual-Thinking")
    root = job_root(tmp_path, recipe, {})
    staged_model_channel(root, str(tiny_model_dir))
    for f in (root / "input" / "data" / "training").iterdir():
        f.unlink()
    # WHEN the launcher starts THEN it names the command that fetches and uploads the dataset
    assert launcher.main(["--cpu"], env={"GPT_OSS_OPT_ML": str(root), "GPT_OSS_MODEL_SOURCE": "channel"}) == 2
    failure = (root / "output" / "failure").read_text()
    assert "prepare-data --from-hub HuggingFaceH4/Multilingual-Thinking --recipe tiny" in failure


def test_launcher_reads_the_hub_when_the_pipeline_allows_it(tmp_path, tiny_model_dir, capsys):
    # GIVEN a job in a VPC with egress (model source: hub) and no `model` channel
    root = job_root(tmp_path, base_recipe(tiny_model_dir), {})
    # WHEN planned THEN the recipe's model_name_or_path is used as written
    assert launcher.main(["--cpu", "--dry-run"], env={"GPT_OSS_OPT_ML": str(root), "GPT_OSS_MODEL_SOURCE": "hub"}) == 0
    assert "--model_name_or_path" not in capsys.readouterr().out.splitlines()[-1]


def test_the_python_side_names_the_same_manifest_and_variable_as_the_typescript_contract():
    repo = CODE_DIR.parent
    staged = (repo / "lib" / "config" / "staged-model.ts").read_text()
    parameters = (repo / "lib" / "pipeline" / "parameters.ts").read_text()
    assert f"STAGED_MODEL_MANIFEST = '{STAGED_MODEL_MANIFEST}'" in staged
    assert f"DEFAULT_MODEL_REVISION = '{DEFAULT_MODEL_REVISION}'" in staged
    assert f"MODEL_SOURCE_ENV = '{MODEL_SOURCE_ENV}'" in parameters
    assert (
        "[MODEL_SOURCE_ENV]: baseModelS3Uri ? 'channel' : 'hub'"
        in (repo / "lib" / "pipeline" / "training-definition.ts").read_text()
    )


def test_version_check_reads_the_pins_and_reports_mismatches():
    pins = read_pins()
    assert pins["trl"] == "1.16.0" and pins["peft"] == "0.21.2" and pins["transformers"] == "5.23.0"
    assert mismatches(["transformers", "trl", "peft", "accelerate", "deepspeed", "datasets"]) == []
    problems = mismatches(["trl", "not-a-package"], pins={"trl": "0.21.0", "not-a-package": "1.0"})
    assert problems == ["trl: installed 1.16.0, pinned 0.21.0", "not-a-package: not installed (pinned 1.0)"]
    assert REQUIREMENTS.name == "requirements.txt"


def test_launcher_fails_fast_on_library_versions_that_differ_from_the_pins(tmp_path, tiny_model_dir, monkeypatch):
    root = job_root(tmp_path, base_recipe(tiny_model_dir), {})
    monkeypatch.setattr(
        "gpt_oss_train.versions.read_pins", lambda path=REQUIREMENTS: {**read_pins(), "peft": "0.17.0"}
    )
    assert launcher.main(["--cpu"], env={"GPT_OSS_OPT_ML": str(root)}) == 2
    failure = (root / "output" / "failure").read_text()
    assert "peft: installed 0.21.2, pinned 0.17.0" in failure and "Dockerfile" in failure


def test_hf_token_is_read_from_secrets_manager(monkeypatch):
    # GIVEN a token in Secrets Manager (moto), as a JSON secret and as a plain string
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        json_arn = client.create_secret(Name="hf-json", SecretString='{"HF_TOKEN": "hf_json"}')["ARN"]
        plain_arn = client.create_secret(Name="hf-plain", SecretString="hf_plain\n")["ARN"]
        empty_arn = client.create_secret(Name="hf-empty", SecretString="{}")["ARN"]
        # WHEN / THEN the launcher gets the token, and errors never include a secret value
        assert read_hf_token(json_arn) == "hf_json"
        assert read_hf_token(plain_arn) == "hf_plain"
        with pytest.raises(LaunchError, match="holds no token"):
            read_hf_token(empty_arn)
        with pytest.raises(LaunchError, match="ResourceNotFoundException"):
            read_hf_token(json_arn.replace("hf-json", "missing"))


def test_recipe_channel_must_hold_exactly_one_recipe(tmp_path, tiny_model_dir):
    root = job_root(tmp_path, base_recipe(tiny_model_dir), {})
    write_recipe(root / "input" / "data" / "recipe" / "second.yaml", yaml.safe_load("a: 1"))
    assert launcher.main(["--cpu"], env={"GPT_OSS_OPT_ML": str(root)}) == 2
    assert "exactly one recipe YAML" in (root / "output" / "failure").read_text()
