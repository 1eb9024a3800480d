#!/usr/bin/env bash
# The README's server section, run command by command as written, in a scratch directory laid
# out like the repository (build/rmaflow, workflows/, examples/). Two things differ from a
# person at a terminal: the port (8080 may be taken; another free one is used), and `ID`,
# which a person copies from the list above it: the test takes the first instance that list
# shows, running the list again until it shows one (for at most a minute from the start).
# It passes when that instance is a standard return that was received, inspected and credited.
#   tests/readme/server_section.sh path/to/rmaflow path/to/source
set -euo pipefail

bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
src=$(cd "$2" && pwd)
work=$(mktemp -d)
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "README server section: $*" >&2; exit 1; }

mkdir -p "$work/build" "$work/examples/sim"
ln -s "$bin" "$work/build/rmaflow"
ln -s "$src/workflows" "$work/workflows"
cp "$src/examples/sim/adapters.yaml" "$src/examples/sim/erp-data.yaml" "$work/examples/sim/"
cp "$src/examples/returns-day.json" "$work/examples/"

# The commands: the first sh block after "Run it as a service", continuation lines joined.
commands=()
block=$(awk '/^Run it as a service/ { found = 1 } found && /^```sh$/ { inside = 1; next }
             inside && /^```$/ { exit } inside { print }' "$src/README.md")
[ -n "$block" ] || fail "no sh block after \"Run it as a service\" in README.md"
joined=""
while IFS= read -r line; do
  if [[ "$line" == *\\ ]]; then joined+="${line%\\} "; continue; fi
  commands+=("$joined$line")
  joined=""
done <<< "$block"

# A free loopback port instead of 8080: nothing answers a connection to it. Below the kernel's
# ephemeral range (32768 and up), which outgoing connections of the suites running alongside take.
port=""
pick_port() {
  port=""
  for _ in $(seq 50); do
    candidate=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; return; fi
  done
  fail "no free port found"
}
pick_port

listening() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
first_id() { grep -oE '^[0-9A-HJKMNP-TV-Z]{26}' <<< "$1" | head -n 1 || true; }

cd "$work"
started=$SECONDS
id=""
output=""
previous=""
for i in "${!commands[@]}"; do
  command=${commands[$i]//8080/$port}
  next=${commands[$((i + 1))]:-}
  if [[ "$command" =~ (^|[[:space:]])ID([[:space:]]|$) ]]; then
    [ -n "$id" ] || fail "no instance id for: $command"
    listed=$output
    list_command=$previous
    show_command=$command
    command=$(sed -E "s/(^|[[:space:]])ID([[:space:]]|$)/\1$id\2/" <<< "$command")
  fi
  echo "+ $command"
  if [[ "$command" =~ \&[[:space:]]*(#.*)?$ ]]; then
    # Another suite may take the port between the check and the bind: then another port.
    for attempt in 1 2 3 4 5; do
      eval "$command"
      server_pid=$!
      while kill -0 "$server_pid" 2>/dev/null && ! listening; do
        [ $((SECONDS - started)) -lt 60 ] || fail "the server did not listen within a minute"
        sleep 0.2
      done
      kill -0 "$server_pid" 2>/dev/null && break
      server_pid=""
      pick_port
      command=${commands[$i]//8080/$port}
      echo "+ $command"
    done
    [ -n "$server_pid" ] || fail "the server exited: $command"
    continue
  fi
  # Run in this shell (an export holds for the commands after it), its output kept. A list
  # whose first instance the next command needs is run until it shows one.
  while :; do
    status=0
    eval "$command" > "$work/output" || status=$?
    output=$(cat "$work/output")
    [ "$status" -eq 0 ] || { printf '%s\n' "$output"; fail "exit $status: $command"; }
    if [[ ! "$next" =~ (^|[[:space:]])ID([[:space:]]|$) ]]; then break; fi
    id=$(first_id "$output")
    [ -n "$id" ] && break
    [ $((SECONDS - started)) -lt 60 ] || fail "nothing listed within a minute: $command"
    sleep 0.5
  done
  printf '%s\n' "$output"
  previous=$command
done

# The last command showed an instance of that list: a standard return, received, its lines graded (each
# line's result carries its grade) and credited. A completed return may have ended in a replacement instead of a credit (which one
# completes first depends on timing); the README says "one of them", so each listed instance
# is shown in turn, with the README's own show command, until one was credited.
credited() {
  grep -q '^workflow  *standard-return' <<< "$1" && grep -q '^status  *completed$' <<< "$1" &&
    grep -qF '"receipt"' <<< "$1" && grep -qF '"grade"' <<< "$1" &&
    grep -qF '"credit_memo_id": "CM-' <<< "$1"
}
# The first ones to complete may all have been replacements: then the list is asked again (as a
# person would look again a moment later) until one credited is among them, within the minute.
if ! credited "$output"; then
  found=""
  while :; do
    for other in $(grep -oE '^[0-9A-HJKMNP-TV-Z]{26}' <<< "$listed"); do
      command=$(sed -E "s/(^|[[:space:]])ID([[:space:]]|$)/\1$other\2/" <<< "$show_command")
      output=$(eval "$command")
      if credited "$output"; then found=$other; break; fi
    done
    [ -n "$found" ] && break
    [ $((SECONDS - started)) -lt 60 ] ||
      fail "no completed standard return listed was received, graded and credited"
    sleep 0.5
    listed=$(eval "$list_command")
  done
fi
echo "README server section: an RMA credited $((SECONDS - started)) s after the server started"
