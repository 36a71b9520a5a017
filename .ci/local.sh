#!/usr/bin/env bash
# `npm run local [recipes/<name>.yaml] [--until train|register|deploy] [--max-steps N] [--keep-quality-gate]`: the
# product's main job on a machine without AWS. One recipe through the artifacts `cdk synth` writes (bin/local.ts,
# lib/local/): synth of that recipe alone, its files, pipeline, topic and package group deployed into moto behind
# the local SageMaker front, the tiny base model staged with `stage-model --from-dir`, the bundled sample uploaded
# with `prepare-data`, the pipeline executed step by step with the Training step as a local job (launch.py on CPU,
# no network but loopback), then the synthesized REGISTER state machine, `approve`, the synthesized DEPLOY state
# machine with a local endpoint, and `chat`. Output: ./local-run/
set -euo pipefail
cd "$(dirname "$0")/.."
# the Node that .ci/bootstrap.sh chose (package.json "engines"); see .tools/env.sh
# shellcheck source=/dev/null
if [[ -f .tools/env.sh ]]; then source .tools/env.sh; fi
export NODE_NO_WARNINGS=1
exec npx tsx bin/local.ts "$@"
