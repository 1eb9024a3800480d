#!/bin/sh
# Installs the Debian 12 packages rmaflow builds and tests with. Idempotent:
# when every package is present it does nothing and needs no network. Graphviz's library draws
# workflow graphs as SVG for the web console; Chromium, its driver and Selenium run the
# console's browser test. PostgreSQL 15's server (initdb, pg_ctl) runs throwaway clusters for
# the store conformance suite; libpq is the PostgreSQL store's client library. The rmaflow
# binary allocates with jemalloc.
#   --fuzz   also clang and its libFuzzer runtime, for the fuzzing run of .ci/run
set -eu

PACKAGES="
  g++ cmake make pkg-config ca-certificates
  libsqlitecpp-dev libsqlite3-dev sqlite3
  postgresql-15 libpq-dev
  libboost1.81-dev libboost-url1.81-dev
  libyaml-cpp-dev nlohmann-json3-dev libjq-dev libonig-dev
  libfmt-dev libspdlog-dev libcli11-dev doctest-dev libjemalloc-dev
  libvalijson-dev graphviz libgraphviz-dev
  chromium chromium-driver python3-selenium python3-prometheus-client
"
if [ "${1:-}" = "--fuzz" ]; then
  PACKAGES="$PACKAGES clang-14 libclang-rt-14-dev"
fi

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: missing packages:$missing; run this script as root" >&2
    exit 1
  fi
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
