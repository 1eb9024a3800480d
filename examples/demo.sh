#!/usr/bin/env bash
# A day of returns on the embedded default: one binary, one database file.
#   examples/demo.sh [path/to/rmaflow] [--check]
# With --check the script also verifies the outcomes (CTest runs it that way).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/rmaflow}
check=${2:-}
work=$(dirname "$bin")/demo
rm -rf "$work" && mkdir -p "$work"
cp "$here/adapters.yaml" "$work/adapters.yaml"   # its effect ledger lands next to it
db="$work/returns.db"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Validate the workflow"
"$bin" validate "$here"/workflows/*.yaml

say "Run 36 RMAs (database: $db)"
"$bin" run --db "$db" --workflows "$here/workflows" --adapters "$work/adapters.yaml" "$here/rmas.json" \
  | tee "$work/run.txt"

say "Instances waiting for an operator"
"$bin" list --db "$db" --status suspended

first_id() { sed -n 's/^ *"id": "\([0-9A-Z]*\)",$/\1/p' | head -n 1; }
id=$("$bin" list --db "$db" --business-key RMA-1000 --format json | first_id)
say "Timeline of RMA-1000 (the carrier dropped its first label request)"
"$bin" history --db "$db" "$id"

say "Run again: every RMA is already known, nothing runs twice"
"$bin" run --db "$db" --workflows "$here/workflows" --adapters "$work/adapters.yaml" "$here/rmas.json" \
  | tail -n 1

if [ "$check" = "--check" ]; then
  summary=$(tail -n 1 "$work/run.txt")
  expected="36 instance(s): 36 started, 0 resumed;"
  case "$summary" in
    "$expected"*completed*rejected*suspended*) ;;
    *) echo "demo check failed: unexpected summary: $summary" >&2; exit 1 ;;
  esac
  labels=$(sqlite3 "$work/effects.db" "SELECT count(*) FROM effects WHERE operation='create_label' AND effects=1 AND calls=2")
  [ "$labels" -gt 0 ] || { echo "demo check failed: no label was retried" >&2; exit 1; }
  twice=$(sqlite3 "$work/effects.db" "SELECT count(*) FROM effects WHERE effects <> 1")
  [ "$twice" -eq 0 ] || { echo "demo check failed: $twice effects not applied exactly once" >&2; exit 1; }
  echo "demo check: ok"
fi
