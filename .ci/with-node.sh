#!/usr/bin/env bash
# Runs a command on the Node that .ci/bootstrap.sh chose (package.json "engines"; .tools/env.sh puts a registry
# install first on PATH where the machine's node is older). Used by the npm scripts: `npm run cli -- ...`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=/dev/null
if [[ -f "$root/.tools/env.sh" ]]; then source "$root/.tools/env.sh"; fi
exec "$@"
