#!/usr/bin/env bash
# Installs everything the project needs, idempotently: npm packages (from the lock file) and the Python
# virtual environment at .venv (CPU torch, the training libraries, cfn-lint, moto, parliament, pytest).
# Re-runs are cheap: each part is skipped while its lock/requirements file is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

stamp() { sha256sum "$@" | sha256sum | cut -c1-16; }
# pip warns once per package about find-links folders some machines configure but lack; keep the log readable.
quiet_pip() { .venv/bin/pip "$@" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }; }

# Node: the supported line is package.json "engines" (24 LTS). Where the machine's node is older (e.g. a runner
# image that ships 20), the `node` package from the npm registry provides the binary in .tools/node; .tools/env.sh
# puts it first on PATH, and .ci/test.sh / .ci/local.sh source that file, so npm, npx and jest all run on it.
node_major=24
if (( $(node -p 'process.versions.node.split(".")[0]') < node_major )); then
  if [[ ! -x .tools/node/node_modules/node/bin/node ]] ||
    [[ "$(.tools/node/node_modules/node/bin/node -p 'process.versions.node.split(".")[0]')" != "$node_major" ]]; then
    echo "==> installing Node $node_major from the npm registry into .tools/node (this machine has $(node --version))"
    npm install --prefix .tools/node "node@$node_major" --no-audit --no-fund --no-save --loglevel=error
  fi
  echo "export PATH=\"$PWD/.tools/node/node_modules/node/bin:\$PATH\"" > .tools/env.sh
else
  mkdir -p .tools
  echo "# node on PATH is already $(node --version); nothing to change" > .tools/env.sh
fi
# shellcheck source=/dev/null
source .tools/env.sh
echo "==> node $(node --version)"

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
