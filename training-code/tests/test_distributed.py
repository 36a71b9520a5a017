"""Two hosts on one machine: two launchers, each reading its own resourceconfig.json, training together (gloo)."""

import json
import socket
import time

import psutil
import pytest
from conftest import base_recipe, job_root, launcher_process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def kill_tree(process) -> None:
    for proc in [*psutil.Process(process.pid).children(recursive=True), psutil.Process(process.pid)]:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


def test_two_hosts_train_one_model_and_only_the_main_host_merges(tmp_path, tiny_model_dir):
    # GIVEN a 2-instance DDP recipe and, per simulated host, SageMaker's /opt/ml with its own resourceconfig.json
    recipe = base_recipe(
        tiny_model_dir,
        dataset_path=None,  # from the `training` channel
        max_steps=6,
        logging_steps=2,
        per_device_train_batch_size=2,
        save_strategy="steps",
        save_steps=3,
        platform={"training": {"instance_type": "ml.p5.48xlarge", "instance_count": 2, "distribution": "ddp"}},
    )
    hosts = ("algo-2", "algo-1")  # SageMaker does not promise an order; rank comes from the sorted list
    roots = {h: job_root(tmp_path / h, recipe, {}, host=h, hosts=hosts) for h in hosts}
    port = free_port()
    env = {"SM_MASTER_ADDR": "127.0.0.1", "GPT_OSS_RENDEZVOUS_PORT": str(port), "GLOO_SOCKET_IFNAME": "lo"}

    # WHEN both launchers start, as SageMaker starts launch.py on every instance
    # (output to files: two pipes read one after the other could fill up and block the other host)
    # On one machine both "hosts" resolve the main address locally and would both try to host the c10d store, so
    # algo-1 (the main host, as on SageMaker) starts first and the second waits until it listens.
    log_files = {h: (tmp_path / f"{h}.log").open("w") for h in hosts}
    processes = {"algo-1": launcher_process(roots["algo-1"], env=env, stdout=log_files["algo-1"])}
    try:
        wait_for(lambda: port_in_use(port) or processes["algo-1"].poll() is not None, timeout=120)
        processes["algo-2"] = launcher_process(roots["algo-2"], env=env, stdout=log_files["algo-2"])
        # a host that fails makes the other wait for the rendezvous; stop at the first failure
        wait_for(
            lambda: all(p.poll() is not None for p in processes.values()) or any(p.poll() for p in processes.values()),
            timeout=420,
        )
    finally:
        for host, process in processes.items():
            if process.poll() is None:
                kill_tree(process)
            log_files[host].close()
    logs = {h: (tmp_path / f"{h}.log").read_text() for h in hosts}

    # THEN both hosts finish, with ranks from the sorted host list and c10d rendezvous across 2 machines
    for host in hosts:
        assert processes[host].returncode == 0, f"{host}:\n{logs[host][-3000:]}"
    assert "host algo-1 rank 0 of 2" in logs["algo-1"] and "host algo-2 rank 1 of 2" in logs["algo-2"]
    assert "--rdzv_backend c10d" in logs["algo-1"] and "--num_machines 2" in logs["algo-1"]
    assert "processes=2" in logs["algo-1"]  # one process group of world size 2
    assert "[metrics] step=6 " in logs["algo-1"] and "[metrics]" not in logs["algo-2"]

    # AND the adapter is merged once, on the main process, and only the main host writes the model
    both = logs["algo-1"] + logs["algo-2"]
    assert both.count("merging the adapter") == 1 and "merging the adapter" in logs["algo-1"]
    main_model = roots["algo-1"] / "model"
    assert json.loads((main_model / "config.json").read_text())["dtype"] == "bfloat16"
    assert json.loads((main_model / "evaluation.json").read_text())["global_step"] == 6
    assert not any((roots["algo-2"] / "model").iterdir())
    # AND each host writes its part of a checkpoint, which SageMaker syncs from every host into one S3 prefix
    assert (roots["algo-1"] / "checkpoints" / "checkpoint-6" / "trainer_state.json").is_file()
    assert (roots["algo-2"] / "checkpoints" / "checkpoint-6" / "rng_state_1.pth").is_file()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
