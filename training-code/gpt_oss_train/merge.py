"""Merge a LoRA adapter into its base model, in bf16, for serving. Runs in a clean process:

    python -m gpt_oss_train.merge --base openai/gpt-oss-20b --adapter /opt/ml/model/adapter --output /opt/ml/model

`sft.py` starts it on the main process only, after training, with the distributed (torchrun, Accelerate,
DeepSpeed) environment removed, so the merge neither joins a process group nor inherits ZeRO-3 partitioning.
The base is loaded again from its checkpoint (MXFP4 dequantized to bf16), the adapter applied and merged
(attention and expert LoRA alike), checked against base + adapter delta, and the result saved as an unquantized
bf16 checkpoint (experts as `gate_up_proj`/`down_proj`, no quantization_config) with the tokenizer and chat
template at the root of `--output`, which is what the vLLM serving container loads. The saved directory is then
reloaded in another clean process and every tensor compared with what was saved (gpt_oss_train/outputs.py).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from .outputs import OutputError, forget_mxfp4_layout, state_digests, verify_saved


logger = logging.getLogger("gpt_oss_train.merge")

# Variables that would make a child process think it is one rank of the training job.
DISTRIBUTED_ENV_PREFIXES = ("ACCELERATE_", "DEEPSPEED_", "DS_", "TORCHELASTIC_", "FSDP_", "PET_")
DISTRIBUTED_ENV_NAMES = (
    "RANK",
    "LOCAL_RANK",
    "WORLD_SIZE",
    "LOCAL_WORLD_SIZE",
    "GROUP_RANK",
    "GROUP_WORLD_SIZE",
    "ROLE_RANK",
    "ROLE_WORLD_SIZE",
    "ROLE_NAME",
    "MASTER_ADDR",
    "MASTER_PORT",
    "TORCH_NCCL_ASYNC_ERROR_HANDLING",
)


def clean_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """A copy of `env` without the distributed-training variables."""
    env = dict(os.environ if env is None else env)
    return {
        k: v for k, v in env.items() if k not in DISTRIBUTED_ENV_NAMES and not k.startswith(DISTRIBUTED_ENV_PREFIXES)
    }


def lora_probes(model, samples: int = 4096, seed: int = 0) -> dict[str, dict]:
    """For every LoRA-wrapped weight (attention `nn.Linear` and expert parameter alike): a fixed random sample of
    its elements with their base values and base + the adapter's delta (PEFT's `get_delta_weight`), in float32.
    Kept small so the check costs no second copy of a 40 GB model."""
    import torch
    from peft.tuners.lora import LoraLayer, ParamWrapper

    generator = torch.Generator().manual_seed(seed)
    probes = {}
    with torch.no_grad():
        for name, module in model.named_modules():
            if not isinstance(module, LoraLayer) or "default" not in module.lora_A:
                continue
            weight = module.get_param() if isinstance(module, ParamWrapper) else module.get_base_layer().weight
            delta = module.get_delta_weight("default")
            index = torch.randint(weight.numel(), (min(samples, weight.numel()),), generator=generator)
            base = weight.detach().flatten()[index].float()
            change = delta.detach().reshape(weight.shape).flatten()[index].float()
            # PEFT nests one wrapper per targeted parameter of a module (experts.base_layer...); the merged model
            # has the plain names again.
            owner = name.removeprefix("base_model.model.").replace(".base_layer", "")
            parameter = f"{owner}.{module.parameter_name if isinstance(module, ParamWrapper) else 'weight'}"
            probes[parameter] = {"index": index, "base": base, "expected": base + change}
    return probes


def check_merge(model, probes: dict[str, dict]) -> dict[str, dict]:
    """The merged weights equal base + delta at every probed element (to bf16 rounding), and the adapter changed
    them. Raises OutputError otherwise (the class of bug where a merge silently drops expert LoRA)."""
    params = dict(model.named_parameters())
    report, problems = {}, []
    for name, probe in probes.items():
        if name not in params:
            problems.append(f"{name}: not a parameter of the merged model")
            continue
        merged = params[name].detach().flatten()[probe["index"]].float()
        expected, base = probe["expected"], probe["base"]
        # bf16 keeps 8 significant bits: each rounding is within 2^-8 of the value
        tolerance = 2.0**-7 * (expected.abs() + (expected - base).abs()) + 1e-6
        error = (merged - expected).abs()
        update = (expected - base).abs().max().item()
        report[name] = {"max_update": update, "max_error": error.max().item()}
        if bool((error > tolerance).any()):
            problems.append(f"{name}: merged weight differs from base + adapter by up to {error.max().item():.3g}")
        if update == 0.0:
            problems.append(f"{name}: the adapter's update is zero (untrained LoRA or a dropped target)")
    if problems:
        raise OutputError("merge check failed: " + "; ".join(problems[:5]))
    return report


def merge(
    base: str,
    adapter: str | Path,
    output: str | Path,
    revision: str = "main",
    trust_remote_code: bool = False,
    max_shard_size: str = "5GB",
) -> dict:
    import gc

    import torch
    from peft import PeftModel
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, Mxfp4Config

    from .modeling import is_mxfp4_checkpoint

    started = time.monotonic()
    adapter, output = Path(adapter), Path(output)
    config = AutoConfig.from_pretrained(base, revision=revision, trust_remote_code=trust_remote_code)
    kwargs = {
        "revision": revision,
        "trust_remote_code": trust_remote_code,
        "dtype": torch.bfloat16,
        "device_map": "cpu",
        "attn_implementation": "eager",
    }
    if is_mxfp4_checkpoint(config):
        kwargs["quantization_config"] = Mxfp4Config(dequantize=True)
    logger.info("merge: loading base %s in bf16", base)
    model = AutoModelForCausalLM.from_pretrained(base, **kwargs)
    forget_mxfp4_layout(model)  # save the merged experts as gate_up_proj/down_proj, not under the MXFP4 names

    model = PeftModel.from_pretrained(model, str(adapter))
    probes = lora_probes(model)
    model = model.merge_and_unload()
    merge_check = check_merge(model, probes)

    model.config.use_cache = True
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output, max_shard_size=max_shard_size)
    tokenizer = AutoTokenizer.from_pretrained(adapter if (adapter / "tokenizer_config.json").exists() else base)
    tokenizer.save_pretrained(output)
    with torch.no_grad():
        expected = state_digests(model.state_dict())
    del model
    gc.collect()
    logger.info("merge: reloading %s in a clean process to compare every tensor", output)
    reload = verify_saved(output, expected, env=clean_environment())
    summary = {
        "base": base,
        "adapter": str(adapter),
        "output": str(output),
        "dtype": "bfloat16",
        "merge_check": merge_check,
        "reload": reload,
        "seconds": round(time.monotonic() - started, 1),
    }
    logger.info(
        "merge: saved the merged model to %s and reloaded all %d tensors unchanged in %.1f s",
        output,
        reload["tensors"],
        summary["seconds"],
    )
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="base model: Hub id or local checkpoint")
    parser.add_argument("--adapter", required=True, help="directory holding the trained LoRA adapter")
    parser.add_argument("--output", required=True, help="where to write the merged bf16 model")
    parser.add_argument("--revision", default="main")
    parser.add_argument("--trust-remote-code", action="store_true")
    parser.add_argument("--max-shard-size", default="5GB")
    parser.add_argument("--summary", help="write a JSON summary of the merge here")
    parser.add_argument("--error-file", help="on a failed check, write the reason here (the job's FailureReason)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    try:
        summary = merge(
            args.base, args.adapter, args.output, args.revision, args.trust_remote_code, args.max_shard_size
        )
    except OutputError as err:
        print(f"ERROR {err}", file=sys.stderr, flush=True)
        if args.error_file:
            Path(args.error_file).write_text(str(err))
        return 3
    if args.summary:
        Path(args.summary).write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
