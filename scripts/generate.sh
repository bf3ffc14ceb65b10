#!/usr/bin/env bash
# Regenerates generated/ (openapi-typescript types) from the hand-written specs named in
# redocly.yaml (each API's x-openapi-ts.output). With --check, writes nothing and fails
# when any generated file differs from what its spec produces (scripts/check-generated.ts;
# openapi-typescript's own --check stops after the first API).
set -euo pipefail
cd "$(dirname "$0")/.."
export REDOCLY_TELEMETRY=off
if [ "${1:-}" = "--check" ]; then
  exec node_modules/.bin/tsx scripts/check-generated.ts "${@:2}"
else
  npx --no-install openapi-typescript --redocly redocly.yaml
fi
