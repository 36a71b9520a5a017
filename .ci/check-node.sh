#!/usr/bin/env bash
# Proves the runtime: node on PATH satisfies package.json "engines", and an AWS SDK client built on it prints no
# NodeVersionSupportWarning (the SDK warns on node < 22 when a client is created; no AWS account is needed, the
# call goes to a closed local port and fails).
set -euo pipefail
cd "$(dirname "$0")/.."
want=$(bash .ci/engines-node-major.sh)
have=$(node -p 'process.versions.node.split(".")[0]')
echo "node $(node --version) (package.json engines: $(node -p 'require("./package.json").engines.node'))"
if ((have < want)); then
  echo "node $have is older than the supported $want; run bash .ci/bootstrap.sh, then source .tools/env.sh" >&2
  exit 1
fi
out=$(env -u AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x \
  AWS_REGION=us-east-1 npx tsx bin/cli.ts models --endpoint-url http://127.0.0.1:9 --max-attempts 1 2>&1 || true)
if ! grep -q 'could not reach the AWS endpoint' <<<"$out"; then
  echo "the AWS call did not run as expected:" >&2
  echo "$out" >&2
  exit 1
fi
if grep -q NodeVersionSupportWarning <<<"$out"; then
  echo "the AWS SDK still prints NodeVersionSupportWarning:" >&2
  echo "$out" >&2
  exit 1
fi
echo "AWS SDK client created and called without NodeVersionSupportWarning"
