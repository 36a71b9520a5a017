"""Merge a LoRA adapter into its base model, in bf16, for serving. Runs in a clean process:

    python -m gpt_oss_train.merge --base openai/gpt-oss-20b --adapter /opt/ml/model/adapter --output /opt/ml/model

`sft.py` starts it on the main process only, after training, with the distributed (torchrun, Accelerate,
DeepSpeed) environment removed, so the merge neither joins a process group nor inherits ZeRO-3 partitioning.
The base is loaded again from its checkpoint (MXFP4 dequantized to bf16), the adapter applied and merged
(attention and expert LoRA alike), and the result saved with the tokenizer and chat template at the root of
`--output`, which is what the vLLM serving container loads.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path


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


def merge(
    base: str,
    adapter: str | Path,
    output: str | Path,
    revision: str = "main",
    trust_remote_code: bool = False,
    max_shard_size: str = "5GB",
) -> dict:
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

    # Fingerprint the parameters the adapter targets, to prove after merging that they really changed.
    adapter_config = json.loads((adapter / "adapter_config.json").read_text())
    targeted = list(adapter_config.get("target_parameters") or [])
    probes = {}
    for name, param in model.named_parameters():
        if any(name.endswith(t) for t in targeted) and len(probes) < 2:
            probes[name] = param.detach().double().abs().sum().item()

    model = PeftModel.from_pretrained(model, str(adapter))
    model = model.merge_and_unload()

    changed = {}
    params = dict(model.named_parameters())
    for name, before in probes.items():
        changed[name] = params[name].detach().double().abs().sum().item() != before
    if probes and not any(changed.values()):
        # Either the adapter's expert weights are still zero or the merge dropped them (unsloth-zoo#885 class).
        logger.warning("merge: WARNING the expert weights targeted by the adapter did not change: %s", sorted(probes))

    model.config.use_cache = True
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config  # the merged weights are plain bf16
    output.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output, max_shard_size=max_shard_size)
    tokenizer = AutoTokenizer.from_pretrained(adapter if (adapter / "tokenizer_config.json").exists() else base)
    tokenizer.save_pretrained(output)
    summary = {
        "base": base,
        "adapter": str(adapter),
        "output": str(output),
        "dtype": "bfloat16",
        "expert_weights_changed": changed,
        "seconds": round(time.monotonic() - started, 1),
    }
    logger.info("merge: saved the merged model to %s in %.1f s", output, summary["seconds"])
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    summary = merge(args.base, args.adapter, args.output, args.revision, args.trust_remote_code, args.max_shard_size)
    if args.summary:
        Path(args.summary).write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
