"""The GPU round-trip check (benchmarks/mxfp4_roundtrip.py) in its CPU smoke mode, so it works when a GPU runs it."""

import json
import subprocess
import sys

from conftest import CODE_DIR


def test_mxfp4_roundtrip_smoke_mode_trains_merges_and_reloads(tmp_path):
    # WHEN the check runs on the tiny preset on CPU
    done = subprocess.run(
        [sys.executable, str(CODE_DIR / "benchmarks" / "mxfp4_roundtrip.py"), "--preset", "tiny", "--steps", "3",
         "--output", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])

    # THEN the base was written in the MXFP4 layout, one shard per layer plus one
    index = json.loads((tmp_path / "base" / "model.safetensors.index.json").read_text())
    assert len(set(index["weight_map"].values())) == 3
    assert "model.layers.1.mlp.experts.down_proj_blocks" in index["weight_map"]
    # AND it trained the requested steps, merged every LoRA weight (2 layers x q/k/v/o + 2 expert parameters)
    # and reloaded the merged model unchanged in a clean process; it reports throughput and memory
    assert summary["steps"] == 3 and summary["train_tokens_per_second"] > 0
    assert summary["merge_checked_weights"] == 2 * 6
    assert summary["reload_equal"] is True and summary["reloaded_tensors"] > 0
    assert summary["device"] == "cpu" and summary["peak_host_rss_gib"] > 0
    assert summary["merged_bf16_bytes"] > summary["base_mxfp4_bytes"]
