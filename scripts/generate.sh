#!/usr/bin/env bash
# Regenerates generated/ (openapi-typescript types) from the hand-written specs named in
# redocly.yaml (each API's x-openapi-ts.output). With --check, writes nothing and fails
# when generated/ differs from what the specs produce.
set -euo pipefail
cd "$(dirname "$0")/.."
export REDOCLY_TELEMETRY=off
if [ "${1:-}" = "--check" ]; then
  if ! npx --no-install openapi-typescript --redocly redocly.yaml --check; then
    echo "generated/ is out of date with spec/: run 'npm run generate' and commit the result." >&2
    exit 1
  fi
else
  npx --no-install openapi-typescript --redocly redocly.yaml
fi
