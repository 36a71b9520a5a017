#!/usr/bin/env bash
# Prints the Node major that package.json "engines" asks for (">=24" gives 24): the one place .ci/use-node.sh and
# .ci/check-node.sh read it from.
set -euo pipefail
cd "$(dirname "$0")/.."
node -p 'require("./package.json").engines.node.replace(/^>=\s*/, "").split(".")[0]'
