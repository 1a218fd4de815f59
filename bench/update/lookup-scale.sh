#!/usr/bin/env bash
# bench/update — not a test. Lookup throughput against a store of SMALL names vs one of
# LARGE names (default 10k vs 100k), each served by its own `iks serve` (one process,
# Redis store), wrk runs alternating between the two ROUNDS times so that load from
# elsewhere on the machine hits both alike. Requests pick random names among all N.
# Besides req/s it prints lookups per CPU-second of the gateway and of its redis-server,
# which a busy host disturbs far less than the wall-clock rate.
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

declare -A http gateway_pid redis_pid
# CPU time of a process so far, in clock ticks (utime + stime of /proc/PID/stat).
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
# Requests per CPU-second between two tick readings: per_cpu REQUESTS BEFORE AFTER.
per_cpu() { echo "$1 * $hz / ($3 - $2)" | bc; }
for n in "$small" "$large"; do
    redis_port=$(free_port)
    http[$n]=$(free_port)
    mkdir -p "$work/$n"
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work/$n" >/dev/null &
    pids+=($!)
    redis_pid[$n]=$!
    for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    IKS_DATA_DIR="$work/$n/iks" node bin/iks.js init >/dev/null
    IKS_DATA_DIR="$work/$n/iks" IKS_REDIS_URL="redis://127.0.0.1:$redis_port" npx ts-node --transpile-only bench/update/populate.ts "$n"
    IKS_DATA_DIR="$work/$n/iks" IKS_REDIS_URL="redis://127.0.0.1:$redis_port" IKS_HTTP_PORT=${http[$n]} node bin/iks.js serve >"$work/$n/serve.log" 2>&1 &
    pids+=($!)
    gateway_pid[$n]=$!
    probe="http://127.0.0.1:${http[$n]}/ikqs/v1/n/$(printf u0@example.test | basenc --base64url | tr -d =)"
    for _ in $(seq 1 150); do curl -sf -o /dev/null "$probe" && break; sleep 0.2; done
done

for round in $(seq 1 "$rounds"); do
    for n in "$small" "$large"; do
        g0=$(ticks "${gateway_pid[$n]}"); r0=$(ticks "${redis_pid[$n]}")
        NAMES=$n wrk -t1 -c50 -d"$duration" -s bench/update/random-name.lua "http://127.0.0.1:${http[$n]}" >"$work/wrk.txt"
        g1=$(ticks "${gateway_pid[$n]}"); r1=$(ticks "${redis_pid[$n]}")
        requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$work/wrk.txt")
        echo "round $round, $n names: $(sed -n 's/^Requests\/sec: *//p' "$work/wrk.txt") req/s; $(per_cpu "$requests" "$g0" "$g1") per gateway CPU-s; $(per_cpu "$requests" "$r0" "$r1") per redis CPU-s$(grep -E 'Non-2xx|Socket errors' "$work/wrk.txt" | sed 's/^/; /' || true)"
    done
done
