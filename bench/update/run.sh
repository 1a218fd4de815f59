#!/usr/bin/env bash
# bench/update — not a test. For N names imported with `iks import` into a private
# redis-server: import wall time, Redis memory per name (registrations, then signed
# documents), `iks updater --resign-all` wall time and documents signed per second by
# that one updater process, and lookup throughput (wrk, random names among the N).
#
#   bash bench/update/run.sh 10000
#   bash bench/update/run.sh 1000000
#
# Runs the TypeScript sources (IKS_FROM_SOURCE=1); everything listens on 127.0.0.1 and
# stops when the script ends. Needs redis-server, redis-cli, wrk.
set -euo pipefail
cd "$(dirname "$0")/../.."

names=${1:-100000}
duration=${DURATION:-10s}
. bench/lib.sh
seconds() { date +%s.%N; }
used_memory() { redis-cli -p "$redis_port" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }

redis_port=$(free_port)
http_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" >/dev/null &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done

export IKS_FROM_SOURCE=1 IKS_DATA_DIR="$work/iks" IKS_REDIS_URL="redis://127.0.0.1:$redis_port" IKS_LOG_LEVEL=warn \
    IKS_DNS_ENABLED=false IKS_HTTP_PORT=$http_port
node bin/iks.js init >/dev/null
node bench/update/make-names.js "$names" >"$work/names.jsonl"

base=$(used_memory)
start=$(seconds)
node bin/iks.js import "$work/names.jsonl" >/dev/null
import_s=$(echo "$(seconds) - $start" | bc)
after_import=$(used_memory)

start=$(seconds)
node bin/iks.js updater --resign-all | tail -1 >"$work/resign.txt"
resign_s=$(echo "$(seconds) - $start" | bc)
after_sign=$(used_memory)

node bin/iks.js serve >"$work/serve.log" 2>&1 &
pids+=($!)
probe="http://127.0.0.1:$http_port/ikqs/v1/n/$(printf u0@example.test | basenc --base64url | tr -d =)"
for _ in $(seq 1 150); do curl -sf -o /dev/null "$probe" && break; sleep 0.2; done
NAMES=$names wrk -t1 -c50 -d"$duration" -s bench/update/random-name.lua "http://127.0.0.1:$http_port" >"$work/wrk.txt"

echo "names:                        $names"
echo "import (iks import):          $(printf %.1f "$import_s") s"
echo "re-sign (--resign-all):       $(printf %.1f "$resign_s") s wall, incl. process start; updater says: $(cat "$work/resign.txt")"
echo "documents/s (2 per name):     $(echo "2 * $names / $resign_s" | bc)"
echo "redis bytes/name, registered: $(( (after_import - base) / names ))"
echo "redis bytes/name, signed:     $(( (after_sign - base) / names ))  (registration + key list + key document)"
echo "lookups (wrk -t1 -c50 -d$duration, random names): $(sed -n 's/^Requests\/sec: *//p' "$work/wrk.txt") req/s; $(grep -E 'Non-2xx|Socket errors' "$work/wrk.txt" || echo 'all 200')"
