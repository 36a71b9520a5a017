#!/usr/bin/env bash
# Installs everything the project needs, idempotently: npm packages (from the lock file) and the Python
# virtual environment at .venv (CPU torch, the training libraries, cfn-lint, moto, parliament, pytest).
# Re-runs are cheap: each part is skipped while its lock/requirements file is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp() { sha256sum "$@" | sha256sum | cut -c1-16; }
# pip warns once per package about find-links folders some machines configure but lack; keep the log readable.
quiet_pip() { .venv/bin/pip "$@" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }; }

# Node: the major of package.json "engines" (24 LTS), from the npm registry where the machine's is older.
bash .ci/use-node.sh
# shellcheck source=/dev/null
source .tools/env.sh

npm_stamp=$(stamp package-lock.json)
if [[ ! -f node_modules/.bootstrap-stamp || "$(cat node_modules/.bootstrap-stamp)" != "$npm_stamp" ]]; then
  echo "==> installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$npm_stamp" > node_modules/.bootstrap-stamp
fi

py_stamp=$(stamp training-code/requirements-dev.txt)
if [[ ! -f .venv/.bootstrap-stamp || "$(cat .venv/.bootstrap-stamp)" != "$py_stamp" ]]; then
  echo "==> creating the Python environment in .venv (first run takes a few minutes)"
  python3 -m venv .venv
  # torch first and pinned: a looser requirement elsewhere would otherwise pull a multi-GB CUDA build.
  quiet_pip install --quiet torch==2.13.0
  quiet_pip install --quiet -r training-code/requirements-dev.txt
  echo "$py_stamp" > .venv/.bootstrap-stamp
fi
