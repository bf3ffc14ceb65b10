#!/usr/bin/env bash
# Regenerates generated/ (openapi-typescript types) from the hand-written specs.
# With --check, writes nothing and fails when generated/ differs from what the specs produce.
set -euo pipefail
cd "$(dirname "$0")/.."
check=""
[ "${1:-}" = "--check" ] && check="--check"
status=0
for api in kasisto verify; do
  if ! npx --no-install openapi-typescript "spec/$api.yaml" -o "generated/$api.ts" $check >/dev/null; then
    echo "generated/$api.ts is out of date with spec/$api.yaml: run 'npm run generate' and commit the result." >&2
    status=1
  fi
done
exit $status
