#!/usr/bin/env bash
# Makes a throwaway PostgreSQL cluster on 127.0.0.1 for the integration suite, installing
# Debian's server package when it is missing. Writes its URL to .ci/postgres-url.
# Safe to run again: an already running test cluster is reused.
set -euo pipefail
cd "$(dirname "$0")/.."
PGPORT="${PGPORT_TEST:-55432}"
PGDATA_DIR="${PGDATA_TEST:-/tmp/connector-pg}"
url="postgres://connector:connector@127.0.0.1:${PGPORT}/connector"

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
if [ -z "$(pg_bin)" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing PostgreSQL from Debian's packages"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL is not installed and cannot be installed here: the PostgreSQL suite will be skipped" >&2
    rm -f .ci/postgres-url
    exit 0
  fi
fi
BIN="$(pg_bin)"
run_pg() { if [ "$(id -u)" = "0" ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

if ! run_pg "$BIN/pg_isready -h 127.0.0.1 -p $PGPORT" >/dev/null 2>&1; then
  rm -rf "$PGDATA_DIR"
  mkdir -p "$PGDATA_DIR"
  [ "$(id -u)" = "0" ] && chown postgres:postgres "$PGDATA_DIR"
  run_pg "$BIN/initdb -D $PGDATA_DIR -U postgres --auth=trust -E UTF8 >/dev/null"
  run_pg "$BIN/pg_ctl -D $PGDATA_DIR -o '-h 127.0.0.1 -p $PGPORT -k /tmp' -l $PGDATA_DIR/log -w start >/dev/null"
fi
run_pg "$BIN/psql -h 127.0.0.1 -p $PGPORT -U postgres -tAc \"select 1 from pg_roles where rolname='connector'\"" | grep -q 1 ||
  run_pg "$BIN/psql -h 127.0.0.1 -p $PGPORT -U postgres -c \"create role connector login createdb password 'connector'\"" >/dev/null
run_pg "$BIN/psql -h 127.0.0.1 -p $PGPORT -U postgres -c \"alter role connector createdb\"" >/dev/null
run_pg "$BIN/psql -h 127.0.0.1 -p $PGPORT -U postgres -tAc \"select 1 from pg_database where datname='connector'\"" | grep -q 1 ||
  run_pg "$BIN/psql -h 127.0.0.1 -p $PGPORT -U postgres -c \"create database connector owner connector\"" >/dev/null
echo "$url" > .ci/postgres-url
echo "PostgreSQL ready at 127.0.0.1:$PGPORT"
