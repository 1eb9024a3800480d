#!/usr/bin/env bash
# A big return received a line at a time, through `rmaflow serve` over loopback HTTP: one
# instance fans out to LINES branches (2000), each waiting for its line's scan (a signal with
# the line's id as its match), and one client sends SIGNALS scans (300) one after another, each
# answered before the next, in ORDER (first: from the first line; last: from the last;
# shuffled). Prints one JSON line per round (3): scans a second, their answer times, the CPU
# the server used per scan and its peak memory. Measures what a warehouse scanning a big return costs the engine,
# which grows with the return's lines. REFUSED (0) more scans then name lines the return does not
# have (a mistyped id): each is refused, and the round reports what a refusal costs. SAGA=1
# restocks each line after its scan (a call with a compensation), so the return also records a
# saga entry per line.
#   bench/big-return/run.sh build/rmaflow
#   LINES=10000 SIGNALS=100 ROUNDS=3 ORDER=shuffled bench/big-return/run.sh build/rmaflow
#   LINES=10000 SIGNALS=10 REFUSED=100 bench/big-return/run.sh build/rmaflow
#   LINES=2000 SIGNALS=2000 SAGA=1 bench/big-return/run.sh build/rmaflow
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rmaflow=$(realpath "${1:-$here/../../build/rmaflow}")
LINES=${LINES:-2000} SIGNALS=${SIGNALS:-300} ROUNDS=${ROUNDS:-3} ORDER=${ORDER:-first}
REFUSED=${REFUSED:-0} SAGA=${SAGA:-0}

fail() { echo "big-return: $*" >&2; exit 1; }
for setting in LINES SIGNALS ROUNDS; do
  [[ ${!setting} =~ ^[0-9]{1,5}$ ]] && [ "${!setting}" -ge 1 ] ||
    fail "$setting must be a whole number from 1 to 99999, not \"${!setting}\""
done
[[ $REFUSED =~ ^[0-9]{1,5}$ ]] || fail "REFUSED must be a whole number from 0 to 99999, not \"$REFUSED\""
[ "$SIGNALS" -le "$LINES" ] || fail "SIGNALS ($SIGNALS) must not be more than LINES ($LINES)"
[ "$LINES" -le 10000 ] || fail "LINES must be at most 10000, the lines a foreach takes"
case "$SAGA" in 0 | 1) ;; *) fail "SAGA must be 0 or 1, not \"$SAGA\"" ;; esac
case "$ORDER" in first | last | shuffled) ;; *) fail "ORDER must be first, last or shuffled, not \"$ORDER\"" ;; esac
[ -x "$rmaflow" ] || fail "no rmaflow binary at $rmaflow; run make build first"
command -v python3 >/dev/null || fail "python3 is missing; run scripts/install-deps.sh"

work=$(mktemp -d)
server=""
cleanup() {
  [ -z "$server" ] || kill "$server" 2>/dev/null || true
  [ -z "$server" ] || wait "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir "$work/workflows"
if [ "$SAGA" = 1 ]; then
  cp "$here/big-return-saga.yaml" "$work/workflows/big-return.yaml"
else
  cp "$here/big-return.yaml" "$work/workflows/"
fi

for round in $(seq "$ROUNDS"); do
  rm -f "$work"/big.db*
  "$rmaflow" serve --db "$work/big.db" --workflows "$work/workflows" --no-auth \
    --listen 127.0.0.1:0 --max-body 4MiB > "$work/serve.log" 2>&1 &
  server=$!
  url=""
  for _ in $(seq 300); do
    url=$(grep -o 'serving http://127.0.0.1:[0-9]*' "$work/serve.log" | head -1 | cut -d' ' -f2 || true)
    [ -n "$url" ] && break
    kill -0 "$server" 2>/dev/null || fail "the server stopped: $(tail -3 "$work/serve.log")"
    sleep 0.1  # waiting for the server's first line; no event to wait on
  done
  [ -n "$url" ] || fail "the server named no address in 30 s"
  python3 "$here/client.py" "$url" "$server" "$LINES" "$SIGNALS" "$round" "$ORDER" "$REFUSED"
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=""
done
