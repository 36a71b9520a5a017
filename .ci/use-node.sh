#!/usr/bin/env bash
# Chooses the Node the project runs on: the major of package.json "engines". Where the machine's node is older
# (a runner or CodeBuild image that ships 20 or 22), the `node` package from the npm registry provides that
# major in .tools/node. Writes .tools/env.sh, which puts it first on PATH; .ci/with-node.sh, .ci/test.sh and
# .ci/local.sh source that file, so npm, npx and jest all run on it. Idempotent. Used by .ci/bootstrap.sh and
# by the delivery pipeline's synth step (lib/create-delivery.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(bash .ci/engines-node-major.sh)
major_of() { "$1" -p 'process.versions.node.split(".")[0]'; }
registry_node=.tools/node/node_modules/node/bin/node
mkdir -p .tools
if (($(major_of node) < node_major)); then
  if [[ ! -x $registry_node ]] || [[ "$(major_of "$registry_node")" != "$node_major" ]]; then
    echo "==> installing Node $node_major from the npm registry into .tools/node (this machine has $(node --version))"
    npm install --prefix .tools/node "node@$node_major" --no-audit --no-fund --no-save --loglevel=error
  fi
  echo "export PATH=\"$PWD/.tools/node/node_modules/node/bin:\$PATH\"" >.tools/env.sh
else
  echo "# node on PATH is already $(node --version); nothing to change" >.tools/env.sh
fi
# shellcheck source=/dev/null
source .tools/env.sh
echo "==> node $(node --version)"
