#!/usr/bin/env bash
# promtool for checking monitoring/alerts.yml, from Debian's prometheus package when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v promtool >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing promtool (Debian's prometheus package)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
    # the package starts a Prometheus server; CI only needs the tool
    if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then systemctl stop prometheus || true; fi
  else
    echo "promtool is not installed and cannot be installed here" >&2
    exit 1
  fi
fi
promtool check rules monitoring/alerts.yml
