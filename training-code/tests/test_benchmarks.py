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


def test_side_by_side_smoke_mode_runs_the_seed_our_recipe_and_our_seed_work_columns():
    # WHEN the side-by-side benchmark runs its CPU smoke mode (tiny widths, 8 layers, lengths / 16)
    done = subprocess.run(
        [sys.executable, str(CODE_DIR / "benchmarks" / "side_by_side.py"), "--smoke", "--steps", "1", "--warmup", "0"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    rows = {row["key"]: row for row in summary["columns"]}

    # THEN the seed, our recipe and ours doing the seed's work each trained and report a rate and the ratio to (a)
    assert summary["card"] == "cpu" and summary["smoke"] is True
    for key in "abce":
        assert rows[key]["status"] == "ok" and rows[key]["tokens_per_second"] > 0
        assert rows[key]["flops_per_token"] > 0 and rows[key]["ratio_to_seed"] > 0
    assert rows["a"]["ratio_to_seed"] == 1.0
    # AND the seed column is the sample as applied: max_length fell back to 1024, batch 6, attention-only LoRA
    seed = rows["a"]["settings"]
    assert (seed["seq_len"], seed["batch"], seed["lora_r"], seed["loss"]) == (1024 // 16, 6, 8, "full")
    assert seed["target_parameters"] == [] and seed["experts"] == "eager"
    # AND column (b) is read from the default recipe (its expert targets), (c) drops them for the seed's work
    assert "7.mlp.experts.gate_up_proj" in rows["b"]["settings"]["target_parameters"]
    assert rows["b"]["trainable_parameters"] > rows["c"]["trainable_parameters"]
    assert rows["c"]["settings"]["seq_len"] == seed["seq_len"] and rows["c"]["settings"]["batch"] == 6
    # AND the flex-attention column is skipped on CPU with the reason, not faked
    assert rows["d"]["status"] == "skipped" and "CPU" in rows["d"]["reason"]
    # AND the chunked attention column is the recipe with only the attention path changed
    assert rows["e"]["settings"] == {**rows["b"]["settings"], "key": "e", "title": rows["e"]["title"],
                                     "attn": "gpt_oss_chunked"}  # fmt: skip
    assert rows["e"]["trainable_parameters"] == rows["b"]["trainable_parameters"]
