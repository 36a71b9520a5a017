"""Model outputs that reload as what was meant: unquantized names on save, then a reload in a clean process.

A GPT-OSS base loaded from its MXFP4 checkpoint with `Mxfp4Config(dequantize=True)` keeps transformers'
load-time weight conversion (`*_blocks`/`*_scales` → `gate_up_proj`/`down_proj`), whose reverse on save writes
the dense bf16 experts under the `*_blocks` names. Those reload as missing experts (random init) in transformers
and vLLM alike. `forget_mxfp4_layout` drops that conversion so `save_pretrained` writes the unquantized names
(docs/gpt-oss-checkpoint-format.md). `verify_saved` then reloads the directory with transformers in a fresh
interpreter and compares every tensor, by shape, dtype and SHA-256 of its bytes, with what the job meant to save.

    python -m gpt_oss_train.outputs --model DIR --expected digests.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path


QUANTIZED_SUFFIXES = ("_blocks", "_scales")


class OutputError(RuntimeError):
    """A saved model that does not reload as the job meant to save it; the message says what differs."""


def forget_mxfp4_layout(model) -> int:
    """Drop the MXFP4 load-time conversions (and any quantization_config) from a model loaded with
    `dequantize=True`, so saving writes `gate_up_proj`/`down_proj`. Returns how many conversions were dropped."""
    conversions = getattr(model, "_weight_conversions", None) or []
    kept = [c for c in conversions if not any(type(op).__name__.startswith("Mxfp4") for op in c.operations)]
    if conversions:
        model._weight_conversions = kept
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    return len(conversions) - len(kept)


def tensor_digest(tensor) -> dict:
    import torch

    data = tensor.detach().cpu().contiguous()
    raw = data.view(torch.uint8) if data.dtype != torch.uint8 else data
    return {
        "shape": list(data.shape),
        "dtype": str(data.dtype).removeprefix("torch."),
        "sha256": hashlib.sha256(raw.numpy().tobytes()).hexdigest(),
    }


def state_digests(state_dict) -> dict[str, dict]:
    return {name: tensor_digest(tensor) for name, tensor in sorted(state_dict.items())}


def compare(expected: dict[str, dict], found: dict[str, dict]) -> list[str]:
    """Every difference between two digest maps, one line each."""
    problems = [f"{name}: missing after reload" for name in sorted(set(expected) - set(found))]
    problems += [f"{name}: unexpected after reload" for name in sorted(set(found) - set(expected))]
    for name in sorted(set(expected) & set(found)):
        want, got = expected[name], found[name]
        for key in ("shape", "dtype", "sha256"):
            if want[key] != got[key]:
                problems.append(f"{name}: {key} is {got[key]} after reload, {want[key]} was saved")
                break
    return problems


def reload_digests(model_dir: str | Path) -> dict:
    """Load `model_dir` as a server would (transformers, dtype as saved) and describe what came back."""
    import torch
    from safetensors import safe_open
    from transformers import AutoConfig, AutoModelForCausalLM

    model_dir = Path(model_dir)
    problems = []
    config = AutoConfig.from_pretrained(model_dir)
    if getattr(config, "quantization_config", None) is not None:
        problems.append("config.json still has a quantization_config, but the weights are unquantized")
    for file in sorted(model_dir.glob("*.safetensors")):
        with safe_open(file, "pt") as handle:
            stale = [k for k in handle.keys() if k.endswith(QUANTIZED_SUFFIXES)]
        if stale:
            problems.append(f"{file.name} stores quantized-layout names for unquantized tensors: {stale[:4]}")
    model, info = AutoModelForCausalLM.from_pretrained(
        model_dir, dtype="auto", device_map="cpu", output_loading_info=True
    )
    for kind in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        if info.get(kind):
            problems.append(f"transformers reports {kind}: {sorted(map(str, info[kind]))[:6]}")
    with torch.no_grad():
        digests = state_digests(model.state_dict())
    return {"problems": problems, "digests": digests}


def verify_saved(model_dir: str | Path, expected: dict[str, dict], env: dict[str, str] | None = None) -> dict:
    """Reload `model_dir` in a fresh interpreter and compare every tensor with `expected`; raise `OutputError`
    naming the differences. Returns a summary (tensor count and bytes checked)."""
    code_dir = Path(__file__).resolve().parents[1]
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(code_dir), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as scratch:
        expected_path, report_path = Path(scratch) / "expected.json", Path(scratch) / "report.json"
        expected_path.write_text(json.dumps(expected))
        command = [sys.executable, "-m", "gpt_oss_train.outputs", "--model", str(model_dir)]
        command += ["--expected", str(expected_path), "--report", str(report_path)]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if not report_path.is_file():
            raise OutputError(f"reloading {model_dir} failed (exit {done.returncode}): {done.stderr.strip()[-600:]}")
        report = json.loads(report_path.read_text())
    if report["problems"]:
        shown = "; ".join(report["problems"][:5])
        more = f" (and {len(report['problems']) - 5} more)" if len(report["problems"]) > 5 else ""
        raise OutputError(f"the saved model in {model_dir} does not reload as saved: {shown}{more}")
    return {"tensors": report["tensors"], "bytes": report["bytes"], "reloaded_in_clean_process": True}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="saved model directory")
    parser.add_argument("--expected", required=True, help="JSON digests of the tensors that were meant to be saved")
    parser.add_argument("--report", required=True, help="where to write the comparison")
    args = parser.parse_args(argv)
    expected = json.loads(Path(args.expected).read_text())
    reloaded = reload_digests(args.model)
    problems = reloaded["problems"] + compare(expected, reloaded["digests"])
    sizes = {"bfloat16": 2, "float16": 2, "float32": 4, "uint8": 1}
    total = sum(sizes.get(d["dtype"], 4) * _numel(d["shape"]) for d in reloaded["digests"].values())
    report = {"problems": problems, "tensors": len(reloaded["digests"]), "bytes": total}
    Path(args.report).write_text(json.dumps(report, indent=1))
    return 1 if problems else 0


def _numel(shape) -> int:
    count = 1
    for size in shape:
        count *= size
    return count


if __name__ == "__main__":
    sys.exit(main())
