#!/usr/bin/env bash
# rmaflow, DBOS and Restate side by side on this machine, measured the same way: CONCURRENCY
# clients (16), each running a workflow of STEPS durable steps (7) through the engine's own API
# and waiting for its end before the next; the same client (driver.mjs) for all three. Every
# engine runs with its default durability: rmaflow on a SQLite file (synchronous=FULL), DBOS on
# a throwaway PostgreSQL 15 cluster (fsync and synchronous_commit on), Restate on its own
# RocksDB log (WAL fsync on); rmaflow-pg is rmaflow on the same cluster as DBOS. Prints one
# JSON line per engine and round, then a summary; each line also gives the CPU time the engine's
# processes used per workflow (PostgreSQL's among them, for DBOS and rmaflow-pg) and the client's.
#   make bench-peers            (or: bench/peers/run.sh build/rmaflow)
#   ROUNDS=3 COUNT=2000 WARMUP=200 CONCURRENCY=16 STEPS=7 ENGINES="rmaflow rmaflow-pg dbos restate"
#   DBOS_POOL_SIZE=N   DBOS's PostgreSQL pool (its default: 10)
# Only this comparison installs the peers: from the npm registry into bench/peers/node_modules
# (package-lock.json pins them), with Node.js 20 or later from the machine's apt sources.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
rmaflow=$(realpath "${1:-$here/../../build/rmaflow}")
ROUNDS=${ROUNDS:-3} COUNT=${COUNT:-2000} WARMUP=${WARMUP:-200}
CONCURRENCY=${CONCURRENCY:-16} STEPS=${STEPS:-7} ENGINES=${ENGINES:-rmaflow rmaflow-pg dbos restate}
PG_BIN=/usr/lib/postgresql/15/bin

fail() { echo "bench-peers: $*" >&2; exit 1; }
for setting in ROUNDS COUNT WARMUP CONCURRENCY STEPS; do
  [[ ${!setting} =~ ^[0-9]{1,6}$ ]] || fail "$setting must be a whole number, not \"${!setting}\""
done
[ "$ROUNDS" -ge 1 ] && [ "$STEPS" -ge 1 ] || fail "ROUNDS and STEPS must be at least 1"
for engine in $ENGINES; do
  case $engine in rmaflow|rmaflow-pg|dbos|restate) ;;
    *) fail "ENGINES names $engine; the engines are rmaflow, rmaflow-pg, dbos and restate";; esac
done
[[ " $ENGINES " != *" rmaflow"* ]] || [ -x "$rmaflow" ] || fail "no rmaflow binary at $rmaflow; run make build first"
[ -x "$PG_BIN/initdb" ] || fail "PostgreSQL 15's server is missing; run scripts/install-deps.sh"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || fail "Node.js 20 or later and npm are needed; run this as root to install them"
    SUDO=sudo
  fi
  echo "bench-peers: installing Node.js and npm" >&2
  { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq nodejs npm >/dev/null; } ||
    fail "apt-get could not install Node.js and npm"
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || fail "DBOS and Restate's SDK need Node.js 20 or later; this machine has $(node --version)"
if [ ! -d "$here/node_modules/@restatedev/restate-server" ] || [ ! -d "$here/node_modules/@dbos-inc/dbos-sdk" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm could not install the peers"
fi

scratch=$(mktemp -d /tmp/rmaflow-peers-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -f "$scratch/pg/data/postmaster.pid" ]; then
    as_postgres "$PG_BIN/pg_ctl" -D "$scratch/pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# A free loopback port, as the kernel hands one out.
free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# Waits (at most 60 s) until URL answers any HTTP status, or the process PID has died.
await_http() {
  local url=$1 pid=$2 log=$3
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "a server ended before it answered on $url"; }
    node -e 'fetch(process.argv[1],{method:"HEAD"}).then(()=>process.exit(0),()=>process.exit(1))' "$url" && return 0
    sleep 0.1
  done
  cat "$log" >&2; fail "nothing answered on $url within 60 s"
}

drive() {  # ENGINE URL LABEL PIDS: PIDS, separated by commas, are the engine's processes
  node "$here/driver.mjs" --engine "$1" --url "$2" --label "$3" --cpu-of "$4" --concurrency "$CONCURRENCY" \
    --count "$COUNT" --warmup "$WARMUP" --steps "$STEPS" | tee -a "$scratch/results.jsonl"
}
# The PostgreSQL cluster's postmaster: its backends are its children.
postmaster() { head -n 1 "$scratch/pg/data/postmaster.pid"; }

# rmaflow: `rmaflow serve` on a fresh store (LABEL DB), a workflow of STEPS builtin.noop tasks.
serve_rmaflow() {  # LABEL DB [PIDS: the store's own processes]
  local label=$1 db=$2 dir=$scratch/rmaflow port
  rm -rf "$dir" && mkdir -p "$dir/workflows"
  {
    printf 'workflow: bench\nversion: 1\nstart: step1\nsteps:\n'
    for n in $(seq "$STEPS"); do
      next=step$((n + 1)); [ "$n" -eq "$STEPS" ] && next=done
      printf '  step%s:\n    action: builtin.noop\n    with: { rma: "${ .input.rma_id }", n: %s }\n    next: %s\n' "$n" "$n" "$next"
    done
    printf '  done: { end: completed }\n'
  } > "$dir/workflows/bench.yaml"
  port=$(free_port)
  "$rmaflow" serve --db "${db:-$dir/bench.db}" --workflows "$dir/workflows" --no-auth --log-level warn \
    --listen "127.0.0.1:$port" > "$dir/serve.log" 2>&1 &
  local pid=$!; pids+=("$pid")
  await_http "http://127.0.0.1:$port/healthz" "$pid" "$dir/serve.log"
  drive rmaflow "http://127.0.0.1:$port" "$label" "$pid${3:+,$3}"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
run_rmaflow() { serve_rmaflow rmaflow ""; }  # its SQLite file in the scratch directory
run_rmaflow-pg() {
  psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE rmaflow_bench_$1" postgres
  serve_rmaflow rmaflow-pg "postgresql://postgres@127.0.0.1:$PG_PORT/rmaflow_bench_$1" "$(postmaster)"
}

# DBOS: its TypeScript SDK (dbos-app.mjs) on a throwaway PostgreSQL 15 cluster.
start_postgres() {
  mkdir -p "$scratch/pg"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$scratch" "$scratch/pg"
  as_postgres "$PG_BIN/initdb" -D "$scratch/pg/data" -U postgres -A trust -E UTF8 --locale=C \
    --no-instructions >/dev/null
  PG_PORT=$(free_port)
  as_postgres "$PG_BIN/pg_ctl" -D "$scratch/pg/data" -l "$scratch/pg/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $scratch/pg -c max_connections=100" start >/dev/null
}
run_dbos() {
  local port log=$scratch/dbos.log
  port=$(free_port)
  DBOS_SYSTEM_DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/dbos_bench_$1" \
    PORT=$port STEPS=$STEPS DBOS_POOL_SIZE=${DBOS_POOL_SIZE:-} node "$here/dbos-app.mjs" > "$log" 2>&1 &
  local pid=$!; pids+=("$pid")
  await_http "http://127.0.0.1:$port/" "$pid" "$log"
  drive dbos "http://127.0.0.1:$port" dbos "$pid,$(postmaster)"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

# Restate: its server (from npm) with the service (restate-service.mjs) registered to it.
run_restate() {
  local dir=$scratch/restate ingress admin node_port service
  rm -rf "$dir" && mkdir -p "$dir"
  ingress=$(free_port) admin=$(free_port) node_port=$(free_port) service=$(free_port)
  PORT=$service STEPS=$STEPS node "$here/restate-service.mjs" > "$dir/service.log" 2>&1 &
  local spid=$!; pids+=("$spid")
  RESTATE_BIND_IP=127.0.0.1 RESTATE_BIND_PORT=$node_port RESTATE_INGRESS__BIND_PORT=$ingress \
    RESTATE_ADMIN__BIND_PORT=$admin RESTATE_NODE_NAME=bench \
    "$here/node_modules/.bin/restate-server" --no-logo --base-dir "$dir/data" \
    > "$dir/server.log" 2>&1 &
  local rpid=$!; pids+=("$rpid")
  await_http "http://127.0.0.1:$admin/health" "$rpid" "$dir/server.log"
  await_http "http://127.0.0.1:$ingress/" "$rpid" "$dir/server.log"
  node -e '
    fetch(process.argv[1], { method: "POST", headers: { "Content-Type": "application/json" },
                             body: JSON.stringify({ uri: process.argv[2] }) })
      .then(async (r) => { if (!r.ok) { console.error(r.status, await r.text()); process.exit(1); } })' \
    "http://127.0.0.1:$admin/deployments" "http://127.0.0.1:$service" \
    || { cat "$dir/server.log" >&2; fail "Restate did not take the bench service"; }
  drive restate "http://127.0.0.1:$ingress" restate "$rpid,$spid"
  kill "$rpid" "$spid"; wait "$rpid" "$spid" 2>/dev/null || true
}

[[ " $ENGINES " != *" dbos "* && " $ENGINES " != *" rmaflow-pg "* ]] || start_postgres
# Alternating the engines round by round: a shared VM's speed drifts over minutes.
for round in $(seq "$ROUNDS"); do
  for engine in $ENGINES; do "run_$engine" "$round"; done
done

node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  const by = {}, cpu = {};
  for (const l of lines) {
    (by[l.engine] ??= []).push(l.workflows_per_s);
    (cpu[l.engine] ??= []).push(l.engine_cpu_ms_per_workflow);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const summary = Object.fromEntries(Object.entries(by).map(([e, xs]) => [e, {
    runs: xs, median: median(xs), engine_cpu_ms_per_workflow: median(cpu[e]) }]));
  const peers = ["dbos", "restate"].filter((e) => by[e]).map((e) => median(by[e]));
  for (const [e, key] of [["rmaflow", "rmaflow_over_best_peer"], ["rmaflow-pg", "rmaflow_pg_over_best_peer"]]) {
    if (by[e] && peers.length) summary[key] = Math.round(median(by[e]) / Math.max(...peers) * 10) / 10;
  }
  console.log(JSON.stringify({ summary }, null, 2));' "$scratch/results.jsonl"
