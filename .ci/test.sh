#!/usr/bin/env bash
# All checks, in the order a reviewer cares about: format/lint, types, TypeScript tests, Python tests.
set -uo pipefail
cd "$(dirname "$0")/.."
# the Node that .ci/bootstrap.sh chose (package.json "engines"); see .tools/env.sh
# shellcheck source=/dev/null
if [[ -f .tools/env.sh ]]; then source .tools/env.sh; fi
failed=()
step() {
  local name=$1; shift
  echo "==> $name"
  if ! "$@"; then failed+=("$name"); fi
}
step "node runtime" bash .ci/check-node.sh
step "prettier + eslint" npm run --silent lint
step "tsc" npx tsc --noEmit
step "ruff" .venv/bin/ruff check training-code
step "jest" npx jest --ci
step "pytest" .venv/bin/python -m pytest training-code/tests -q -p no:cacheprovider
if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]}"
  exit 1
fi
echo "all checks passed"
