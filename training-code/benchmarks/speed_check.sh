#!/usr/bin/env bash
# One GPU session's speed checks (docs/training-speed.md §6), run from the repository root, each step time-boxed so
# the whole fits in about 10 minutes: the fast paths' equality tests on CUDA (flex attention runs only there), then
# the side-by-side benchmark on an 8-layer slice at gpt-oss-20b's widths and on the full-size 20b (random weights).
# Usage: bash training-code/benchmarks/speed_check.sh [RESULT_DIR]
set -uo pipefail
out=${1:-/tmp/speed-check}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
cd training-code || exit 1
timeout 120 python3 -m pytest tests/test_fast_paths.py -q -p no:cacheprovider 2>&1 | tail -5 | tee "$out/fast_paths.txt"
timeout 240 python3 benchmarks/side_by_side.py --steps 5 --warmup 2 2>/dev/null | tee "$out/side_by_side_8_layers.txt"
timeout 240 python3 benchmarks/side_by_side.py --layers 24 --steps 3 --warmup 1 2>/dev/null | tee "$out/side_by_side_24_layers.txt"
