#!/usr/bin/env bash
# One GPU session's checks, run from the repository root: what is installed, the training-step benchmark on the
# real GPT-OSS widths (2-layer slices of gpt-oss-20b), the local run through the launcher's GPU path, and the
# MXFP4 round trip (benchmarks/mxfp4_roundtrip.py).
# Usage: bash training-code/benchmarks/gpu_check.sh [WHEEL_DIR] [RESULT_DIR]
# WHEEL_DIR: pinned wheels to install into /tmp/site when the machine has other versions (no internet needed).
set -uo pipefail
wheels=${1:-}
out=${2:-/tmp/gpu-check}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 HF_DATASETS_DISABLE_PROGRESS_BARS=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -m pip list 2>/dev/null | grep -iE '^(torch|transformers|peft|trl|accelerate|datasets|deepspeed|tokenizers|safetensors|huggingface.hub|pyarrow|fsspec|dill|multiprocess) '
if [[ -n "$wheels" ]]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$wheels"/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="training-code${PYTHONPATH:+:$PYTHONPATH}"
python3 -c "import torch, transformers, peft, accelerate; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__, 'accelerate', accelerate.__version__)"

bench() { timeout 150 python3 training-code/benchmarks/benchmark.py "$@" | tee -a "$out/benchmark.jsonl"; }
bench --preset 20b-slice --layers 2 --seq-len 2048 --batch 4 --steps 6
bench --preset 20b-slice --layers 2 --seq-len 2048 --batch 4 --steps 6 --no-experts
bench --preset 20b-slice --layers 2 --seq-len 2048 --batch 4 --steps 6 --full

# (the local run is `npm run local`, CPU only: lib/local/ runs the synthesized job through launch.py)

# Real-format round trip: random-weight full-size gpt-oss-20b written as MXFP4 -> LoRA (attention + experts) 20 steps
# -> merge -> reload in a clean process, every tensor compared; prints peak GPU memory and tokens/s. Needs ~60 GB disk.
GPT_OSS_SKIP_VERSION_CHECK=1 timeout 570 python3 training-code/benchmarks/mxfp4_roundtrip.py --preset 20b --steps 20 \
  --output /tmp/roundtrip 2>&1 | tee "$out/roundtrip.log" | grep -E '^\{|ERROR|Error' ; rm -rf /tmp/roundtrip
