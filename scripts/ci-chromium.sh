#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the console's browser tests
# (test/console/, playwright-core with executablePath; Playwright's own browser download
# does not work on these machines). Installs the `chromium` package when it is missing and
# we are root; otherwise says so and leaves it to the tests, which skip without a browser
# (with CI=true they fail instead, see test/console/console.test.ts).
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  echo "Chromium ready: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Chromium from Debian's packages"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  echo "Chromium ready: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
else
  echo "Chromium is not installed at $CHROMIUM and cannot be installed here: the console's browser tests will be skipped" >&2
fi
