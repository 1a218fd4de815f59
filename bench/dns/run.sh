#!/usr/bin/env bash
# dnsperf against the dns-authority plugin and against Knot serving the exported zone,
# same queries (DO=1), same run; prints the qps of both and their ratio. Not a test.
#   bench/dns/run.sh [seconds=10] [clients=4]
set -euo pipefail
cd "$(dirname "$0")/../.."

SECONDS_PER_RUN="${1:-10}"
CLIENTS="${2:-4}"
PLUGIN_PORT="${PLUGIN_PORT:-15353}"
KNOT_PORT="${KNOT_PORT:-15354}"
WORK="$(mktemp -d)"
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

for tool in knotd dnsperf; do
    command -v "$tool" >/dev/null || { echo "bench/dns: $tool is not installed" >&2; exit 1; }
done

# Compile once so the plugin runs as plain JavaScript, as in production.
npx tsc --outDir "$WORK/build" --rootDir . --module nodenext --moduleResolution nodenext --target ES2022 \
    --esModuleInterop --skipLibCheck --types node bench/dns/prepare.ts bench/dns/serve.ts
export NODE_PATH="$PWD/node_modules"
node "$WORK/build/bench/dns/prepare.js" "$WORK"

node "$WORK/build/bench/dns/serve.js" "$WORK" "$PLUGIN_PORT" > "$WORK/plugin.log" 2>&1 &
PIDS+=($!)

mkdir -p "$WORK/knot"
cat > "$WORK/knot/knot.conf" <<CONF
server:
    rundir: "$WORK/knot"
    listen: 127.0.0.1@$KNOT_PORT
log:
  - target: stderr
    any: warning
database:
    storage: "$WORK/knot"
zone:
  - domain: example.test
    file: "$WORK/example.test.zone"
    journal-content: none
    zonefile-sync: -1
CONF
knotd -c "$WORK/knot/knot.conf" > "$WORK/knot.log" 2>&1 &
PIDS+=($!)

for port in "$PLUGIN_PORT" "$KNOT_PORT"; do
    for _ in $(seq 50); do
        dig +short +time=1 +tries=1 @127.0.0.1 -p "$port" example.test SOA >/dev/null 2>&1 && break
        sleep 0.2
    done
done

qps() {
    dnsperf -s 127.0.0.1 -p "$1" -d "$WORK/queries.txt" -D -c "$CLIENTS" -l "$SECONDS_PER_RUN" -q 200 2>&1 | awk '/Queries per second/ { print $4 }'
}

PLUGIN_QPS="$(qps "$PLUGIN_PORT")"
KNOT_QPS="$(qps "$KNOT_PORT")"
echo "dnsperf -D -c $CLIENTS -l $SECONDS_PER_RUN, $(wc -l < "$WORK/queries.txt") query types, $(nproc) cores shared with the load generator"
echo "dns-authority plugin: ${PLUGIN_QPS} qps"
echo "knot ($(knotd --version | head -1)): ${KNOT_QPS} qps"
awk -v a="$PLUGIN_QPS" -v b="$KNOT_QPS" 'BEGIN { printf "ratio plugin/knot: %.2f\n", a / b }'
