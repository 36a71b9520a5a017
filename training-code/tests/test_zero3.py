"""DeepSpeed ZeRO-3 on CPU through the launcher, with the shipped configs/zero3.yaml (gloo between processes):
LoRA on attention and experts with 2 processes on one host, and a full fine-tune on 2 hosts x 1 process."""

import json
import re

import torch
from conftest import EXPERTS, base_recipe, job_root, launcher_process
from safetensors.torch import load_file
from test_distributed import free_port, kill_tree, port_in_use, wait_for


STEPS = 4


def zero3_recipe(model_dir, count=1, **overrides):
    return base_recipe(
        model_dir,
        dataset_path=None,  # from the `training` channel
        max_steps=STEPS,
        logging_steps=2,
        per_device_train_batch_size=2,
        per_device_eval_batch_size=2,
        platform={"training": {"instance_type": "ml.p5.48xlarge", "instance_count": count, "distribution": "zero3"}},
        **overrides,
    )


def reference_lora_model(model_dir, dtype=torch.float32):
    """The tiny base wrapped with the recipe's LoRA, outside any distributed engine."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=dtype)
    config = LoraConfig(r=8, lora_alpha=16, target_modules="all-linear", target_parameters=list(EXPERTS))
    return get_peft_model(base, config)


def test_zero3_lora_on_attention_and_experts_with_two_processes(tmp_path, tiny_model_dir):
    # GIVEN a ZeRO-3 LoRA recipe (attention + experts) on one host with 2 CPU processes
    root = job_root(tmp_path, zero3_recipe(tiny_model_dir), {})
    env = {"GPT_OSS_RENDEZVOUS_PORT": str(free_port())}

    # WHEN the launcher runs it
    process = launcher_process(root, "--cpu-processes", "2", env=env)
    try:
        output, _ = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            kill_tree(process)

    # THEN it ran as ZeRO-3 with the shipped config across 2 processes, over gloo
    assert process.returncode == 0, output[-4000:]
    assert "distribution zero3" in output and "configs/zero3.yaml" in output and "--ddp_backend gloo" in output
    assert "processes=2" in output and f"[metrics] step={STEPS} " in output

    # AND the logged trainable-parameter count is the real one, not the partitioned (empty) shards
    reference = reference_lora_model(tiny_model_dir)
    trainable = sum(p.numel() for p in reference.parameters() if p.requires_grad)
    total = sum(p.numel() for p in reference.parameters())
    logged = re.search(r"trainable parameters: ([\d,]+) of ([\d,]+)", output)
    assert logged and (int(logged.group(1).replace(",", "")), int(logged.group(2).replace(",", ""))) == (
        trainable,
        total,
    )

    # AND the saved adapter holds every LoRA tensor at full shape, with values (not empty ZeRO-3 shards)
    model_dir = root / "model"
    adapter = load_file(model_dir / "adapter" / "adapter_model.safetensors")
    expected = {n.replace(".default", ""): tuple(p.shape) for n, p in reference.named_parameters() if "lora_" in n}
    assert {n: tuple(t.shape) for n, t in adapter.items()} == expected
    assert all(t.numel() > 0 for t in adapter.values())
    assert all(t.abs().sum() > 0 for n, t in adapter.items() if "lora_B" in n)  # trained (B starts at zero)
    assert any(".mlp.experts." in n for n in adapter)

    # AND the merged model equals a reference merge of the same adapter, tensor for tensor
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.bfloat16)
    merged_reference = PeftModel.from_pretrained(base, model_dir / "adapter").merge_and_unload().state_dict()
    served = load_file(model_dir / "model.safetensors")
    assert set(served) == set(merged_reference)
    for name, tensor in merged_reference.items():
        assert torch.equal(served[name], tensor), name
    run = json.loads((model_dir / "training_run.json").read_text())
    assert run["merge"]["reload"]["tensors"] == len(served)


def test_zero3_full_fine_tune_on_two_hosts_with_one_process_each(tmp_path, tiny_model_dir):
    # GIVEN a 2-instance ZeRO-3 full fine-tune and, per simulated host, its own /opt/ml
    recipe = zero3_recipe(tiny_model_dir, count=2, use_peft=False, learning_rate=3e-3)
    hosts = ("algo-1", "algo-2")
    roots = {h: job_root(tmp_path / h, recipe, {}, host=h, hosts=hosts) for h in hosts}
    port = free_port()
    env = {"SM_MASTER_ADDR": "127.0.0.1", "GPT_OSS_RENDEZVOUS_PORT": str(port), "GLOO_SOCKET_IFNAME": "lo"}

    # WHEN both launchers start (algo-1 first: on one machine both would try to host the c10d store)
    logs = {h: (tmp_path / f"{h}.log").open("w") for h in hosts}
    processes = {"algo-1": launcher_process(roots["algo-1"], env=env, stdout=logs["algo-1"])}
    try:
        wait_for(lambda: port_in_use(port) or processes["algo-1"].poll() is not None, timeout=120)
        processes["algo-2"] = launcher_process(roots["algo-2"], env=env, stdout=logs["algo-2"])
        wait_for(
            lambda: all(p.poll() is not None for p in processes.values()) or any(p.poll() for p in processes.values()),
            timeout=600,
        )
    finally:
        for host, process in processes.items():
            if process.poll() is None:
                kill_tree(process)
            logs[host].close()
    text = {h: (tmp_path / f"{h}.log").read_text() for h in hosts}

    # THEN both hosts finish one ZeRO-3 process group of 2
    for host in hosts:
        assert processes[host].returncode == 0, f"{host}:\n{text[host][-4000:]}"
    assert "distribution zero3" in text["algo-1"] and "--num_machines 2" in text["algo-1"]
    assert "processes=2" in text["algo-1"] and f"[metrics] step={STEPS} " in text["algo-1"]

    # AND the main host wrote the whole model: every tensor at full shape under the unquantized names
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32).state_dict()
    saved = load_file(roots["algo-1"] / "model" / "model.safetensors")
    assert {n: tuple(t.shape) for n, t in saved.items()} == {n: tuple(t.shape) for n, t in base.items()}
    assert all(t.numel() > 0 for t in saved.values())
    assert not torch.equal(saved["model.layers.0.mlp.experts.down_proj"], base["model.layers.0.mlp.experts.down_proj"])
    # AND it reloaded in a clean process as saved; the other host wrote no model
    run = json.loads((roots["algo-1"] / "model" / "training_run.json").read_text())
    assert run["reload"]["tensors"] == len(saved)
    assert run["trainable_parameters"] == run["total_parameters"] == sum(t.numel() for t in base.values())
    assert not (roots["algo-2"] / "model" / "model.safetensors").exists()
