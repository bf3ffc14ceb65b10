#!/usr/bin/env bash
# Serves one of our contracts with Prism, offline, from its named examples (static mode:
# no --dynamic), on 127.0.0.1 (MOCK_HOST=0.0.0.0 in a container). Kasisto's mock is Prism behind scripts/mock-front.ts,
# which answers refused requests (secret, token, Idempotency-Key, JSON, body) as the
# connector does; Verify's is Prism alone.
#
#   bash scripts/mock.sh kasisto [PORT] [--revision REV]  # default 4010, under /api (npm run mock:kasisto)
#   bash scripts/mock.sh verify  [PORT]                   # default 4011                (npm run mock:verify)
#   bash scripts/mock.sh operator [PORT]                  # default 4012, under /operator/v1 (npm run mock:operator)
#
# --revision chooses the Kasisto revision: spec/kasisto/REV.yaml (1.0, 1.0-final, 1.2, 1.3;
# default 1.0), e.g. `npm run mock:kasisto -- --revision 1.3`.
#
# Prism routes on the bare `paths` and ignores the spec's server URL, even an absolute one
# with a path (tried: http://127.0.0.1:4010/api still serves /token, and /api/token is a
# 404). Kasisto's contract says `servers: [{url: /api}]` and partners call /api/token, so
# when the first server URL is a relative path we hand Prism a temporary JSON copy of the
# spec whose paths carry that prefix. test/helpers/prism.ts (startPrism) does the same.
set -euo pipefail
cd "$(dirname "$0")/.."

usage="usage: bash scripts/mock.sh kasisto [PORT] [--revision 1.0|1.0-final|1.2|1.3] | verify [PORT] | operator [PORT]"
api="${1:-}"
[ $# -gt 0 ] && shift
revision=""
port_arg=""
while [ $# -gt 0 ]; do
  case "$1" in
    --revision) [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }; revision="$2"; shift 2 ;;
    --revision=*) revision="${1#--revision=}"; shift ;;
    *) [ -z "$port_arg" ] || { echo "$usage" >&2; exit 2; }; port_arg="$1"; shift ;;
  esac
done
case "$api" in
  kasisto)
    revision="${revision:-1.0}"
    spec="spec/kasisto/${revision}.yaml"; port="${port_arg:-4010}"
    if [[ ! "$revision" =~ ^[0-9][0-9A-Za-z.-]*$ ]] || [ ! -f "$spec" ]; then
      echo "mock: no Kasisto revision '${revision}' (have: $(ls spec/kasisto | sed -n 's/\.yaml$//p' | tr '\n' ' '))" >&2
      exit 2
    fi ;;
  verify|operator)
    [ -z "$revision" ] || { echo "mock: --revision applies to kasisto only" >&2; exit 2; }
    if [ "$api" = verify ]; then spec=spec/verify.yaml; port="${port_arg:-4011}"
    else spec=spec/operator.yaml; port="${port_arg:-4012}"; fi ;; # operator: under /operator/v1 (npm run mock:operator)
  *) echo "$usage" >&2; exit 2 ;;
esac

if [ "$api" = kasisto ]; then
  # Prism behind a front that refuses bad requests exactly as the connector does (missing
  # secret 401, missing token 403, empty Idempotency-Key / invalid JSON / invalid body 400
  # with the connector's error_response), see scripts/mock-front.ts. exec: the node process
  # is this script's pid, so SIGTERM reaches it and it stops Prism (its child) itself.
  exec node --import tsx scripts/mock-front.ts "$spec" "$port"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/mock-${api}.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

served="$(node --input-type=module -e '
  import { readFileSync, writeFileSync } from "node:fs";
  import { parse } from "yaml";
  const [spec, out] = process.argv.slice(1);
  const doc = parse(readFileSync(spec, "utf8"));
  const url = doc.servers?.[0]?.url;
  const prefix = typeof url === "string" && url.startsWith("/") ? url.replace(/\/+$/, "") : "";
  if (!prefix) { process.stdout.write(spec); process.exit(0); }
  doc.paths = Object.fromEntries(Object.entries(doc.paths ?? {}).map(([p, item]) => [prefix + p, item]));
  writeFileSync(out, JSON.stringify(doc, null, 2));
  process.stderr.write(`mock: serving ${spec} under ${prefix} (Prism ignores relative server URLs)\n`);
  process.stdout.write(out);
' "$spec" "$tmp/$api.json")"

# Not exec: the temporary spec is removed once Prism stops. Prism runs in the background so
# that SIGTERM/SIGINT reach this shell at once (bash defers traps while a foreground child
# runs, and without a trap it would die and leave Prism running): they are passed on to
# Prism, and the shell exits with Prism's status after it has stopped.
node_modules/.bin/prism mock -h "${MOCK_HOST:-127.0.0.1}" -p "$port" "$served" &
prism=$!
asked=0
stop() { asked="$2"; kill -"$1" "$prism" 2>/dev/null || true; }
trap 'stop TERM 143' TERM
trap 'stop INT 130' INT
trap 'stop HUP 129' HUP
status=0
# wait returns early (>128) when a trapped signal arrives: wait again until Prism is gone.
while kill -0 "$prism" 2>/dev/null; do wait "$prism" && status=0 || status=$?; done
# Prism has no shutdown handler: ended by the signal we passed on is a requested stop.
[ "$asked" != 0 ] && [ "$status" = "$asked" ] && status=0
exit "$status"
