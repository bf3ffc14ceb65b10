#!/usr/bin/env bash
# Builds self-contained HTML references of our two contracts with Redoc:
#   docs/reference/kasisto.html  (spec/kasisto/1.0.yaml)
#   docs/reference/verify.html   (spec/verify.yaml)
# They render with no network: `redocly build-docs --inlineBundle` embeds Redoc's
# standalone bundle (shipped inside @redocly/cli) instead of the <script src> that would
# load it from Redocly's CDN. The script fails if any <script src="http…"> remains.
#
#   bash scripts/docs.sh [OUT_DIR]     # or DOCS_OUT_DIR=…; default docs/reference
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-${DOCS_OUT_DIR:-$root/docs/reference}}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$root"
export REDOCLY_TELEMETRY=off

for api in kasisto verify; do
  html="$out/$api.html"
  # Names from redocly.yaml (kasisto-1.0, verify@2018; for Kasisto the 1.0 revision), so its lint and theme settings apply.
  alias="$(grep -oE "^  ${api}[@-][^:]+" redocly.yaml | head -1 | tr -d ' ')"
  npx --no-install redocly build-docs "${alias:-spec/$api.yaml}" --config redocly.yaml \
    --inlineBundle --output "$html"
  if grep -qiE '<script[^>]*src="https?:' "$html"; then
    echo "docs: $html still loads a script from the network" >&2
    exit 1
  fi
  echo "docs: wrote $html (offline, Redoc bundle inlined)"
done
