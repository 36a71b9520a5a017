#!/usr/bin/env bash
# `npm run local`: the product's main job on a machine without AWS. Usage: bash .ci/local.sh [recipes/<name>.yaml]
set -euo pipefail
cd "$(dirname "$0")/.."
# the Node that .ci/bootstrap.sh chose (package.json "engines"); see .tools/env.sh
# shellcheck source=/dev/null
if [[ -f .tools/env.sh ]]; then source .tools/env.sh; fi

# ---------------------------------------------------------------------------------------------------------------
# Platform: the PR-time recipe check (schema, lint rules, GPU memory fit, time and cost) and a full offline synth
# of every stack with the four compliance packs. Neither needs AWS credentials.
# ---------------------------------------------------------------------------------------------------------------
echo "==> recipe report (npm run recipes)"
npx tsx bin/cli.ts recipes
echo "==> cdk synth (offline, no credentials; cdk-nag AwsSolutions, NIST 800-53 r5, HIPAA, PCI DSS)"
npx cdk synth --quiet
echo "    templates in cdk.out/: $(ls cdk.out/*.template.json | wc -l) stacks"

# ---------------------------------------------------------------------------------------------------------------
# Training: run a recipe end to end on CPU (training-code/gpt_oss_train/local_run.py). The same launcher,
# `accelerate launch` and sft.py a SageMaker job runs, with a tiny randomly initialised GPT-OSS and the bundled
# Multilingual-Thinking sample; then the merged output is loaded and generates a reply. Output: ./local-run/
# ---------------------------------------------------------------------------------------------------------------
recipe="${1:-}"
if [[ -z "$recipe" ]]; then
  recipes=(recipes/*.yaml)
  if [[ ! -e "${recipes[0]}" ]]; then
    echo "no recipes/*.yaml to run; pass a recipe file" >&2
    exit 1
  fi
  recipe="${recipes[0]}"
fi
echo "==> local run of $recipe (CPU, tiny GPT-OSS, no AWS)"
PYTHONPATH=training-code .venv/bin/python -m gpt_oss_train.local_run --recipe "$recipe" --output local-run
