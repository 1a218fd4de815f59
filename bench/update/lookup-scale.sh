#!/usr/bin/env bash
# bench/update — not a test. Lookup throughput against a store of SMALL names vs one of
# LARGE names (default 10k vs 100k), each served by its own `iks serve` (one process,
# Redis store), wrk runs alternating between the two ROUNDS times so that load from
# elsewhere on the machine hits both alike. Requests pick random names among all N.
#
#   bash bench/update/lookup-scale.sh [SMALL] [LARGE] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."

small=${1:-10000}
large=${2:-100000}
rounds=${3:-3}
duration=${DURATION:-10s}
. bench/lib.sh
export IKS_FROM_SOURCE=1 IKS_LOG_LEVEL=warn IKS_DNS_ENABLED=false

declare -A http
for n in "$small" "$large"; do
    redis_port=$(free_port)
    http[$n]=$(free_port)
    mkdir -p "$work/$n"
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work/$n" >/dev/null &
    pids+=($!)
    for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    IKS_DATA_DIR="$work/$n/iks" node bin/iks.js init >/dev/null
    IKS_DATA_DIR="$work/$n/iks" IKS_REDIS_URL="redis://127.0.0.1:$redis_port" npx ts-node --transpile-only bench/update/populate.ts "$n"
    IKS_DATA_DIR="$work/$n/iks" IKS_REDIS_URL="redis://127.0.0.1:$redis_port" IKS_HTTP_PORT=${http[$n]} node bin/iks.js serve >"$work/$n/serve.log" 2>&1 &
    pids+=($!)
    probe="http://127.0.0.1:${http[$n]}/ikqs/v1/n/$(printf u0@example.test | basenc --base64url | tr -d =)"
    for _ in $(seq 1 150); do curl -sf -o /dev/null "$probe" && break; sleep 0.2; done
done

for round in $(seq 1 "$rounds"); do
    for n in "$small" "$large"; do
        NAMES=$n wrk -t1 -c50 -d"$duration" -s bench/update/random-name.lua "http://127.0.0.1:${http[$n]}" >"$work/wrk.txt"
        echo "round $round, $n names: $(sed -n 's/^Requests\/sec: *//p' "$work/wrk.txt") req/s$(grep -E 'Non-2xx|Socket errors' "$work/wrk.txt" | sed 's/^/; /' || true)"
    done
done
