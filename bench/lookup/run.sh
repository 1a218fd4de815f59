#!/usr/bin/env bash
# bench/lookup — not a test. Lookup throughput of the iks-query plugin (one node
# process) against nginx (one worker) serving the very same signed document as a
# static file, in the same run, with the same wrk settings. Prints both and the ratio.
#
#   bash bench/lookup/run.sh [--redis] [--duration 10s] [--connections 50]
#
# Needs: wrk, nginx (Debian: apt-get install wrk nginx-light), redis-server for --redis.
# Everything listens on 127.0.0.1 only and stops when the script ends.
set -euo pipefail
cd "$(dirname "$0")/../.."

duration=10s
connections=50
use_redis=0
while [ $# -gt 0 ]; do
    case "$1" in
        --redis) use_redis=1 ;;
        --duration) duration=$2; shift ;;
        --connections) connections=$2; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

for tool in wrk nginx; do
    command -v "$tool" >/dev/null || { echo "bench/lookup needs $tool (apt-get install -y wrk nginx-light)" >&2; exit 2; }
done
[ -f dist/lib/cli/index.js ] || npm run build >/dev/null

. bench/lib.sh

http_port=$(free_port)
nginx_port=$(free_port)
export IKS_DATA_DIR="$work/iks" IKS_HTTP_PORT=$http_port IKS_LOG_LEVEL=warn
unset IKS_REDIS_URL
if [ "$use_redis" = 1 ]; then
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --daemonize no >/dev/null &
    pids+=($!)
    export IKS_REDIS_URL="redis://127.0.0.1:$redis_port"
    sleep 0.5
fi

node bin/iks.js quickstart >"$work/quickstart.log" 2>&1 &
pids+=($!)
name=$(printf bob@example.test | basenc --base64url | tr -d =)
url="http://127.0.0.1:$http_port/ikqs/v1/n/$name"
for _ in $(seq 1 100); do curl -sf -o "$work/doc.xml" "$url" && break; sleep 0.2; done
[ -s "$work/doc.xml" ] || { cat "$work/quickstart.log"; echo "quickstart did not come up" >&2; exit 1; }

mkdir -p "$work/www" "$work/nginx"
cp "$work/doc.xml" "$work/www/bob.xml"
# nginx's worker drops root for an unprivileged user; mktemp -d made $work 0700.
chmod 755 "$work" "$work/www"
chmod 644 "$work/www/bob.xml"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    types { application/xml xml; }
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/www;
        etag on;
    }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
sleep 0.5
curl -sf -o /dev/null "http://127.0.0.1:$nginx_port/bob.xml" || { cat "$work/nginx/error.log" >&2; echo "nginx did not serve the document" >&2; exit 1; }

hapi_port=$(free_port)
http_port_raw=$(free_port)
node bench/lookup/baseline.js "$work/doc.xml" "$hapi_port" "$http_port_raw" &
pids+=($!)
sleep 0.5

run_wrk() { wrk -t1 -c"$connections" -d"$duration" --latency "$1" | tee -a "$work/wrk.log" | awk '/Requests\/sec/ {print $2}'; }

echo "document: $(wc -c <"$work/doc.xml") bytes; wrk -t1 -c$connections -d$duration; store: $([ "$use_redis" = 1 ] && echo redis || echo embedded)"
wrk -t1 -c"$connections" -d2s "$url" >/dev/null   # warm-up (JIT)
iks=$(run_wrk "$url")
ngx=$(run_wrk "http://127.0.0.1:$nginx_port/bob.xml")
hapi=$(run_wrk "http://127.0.0.1:$hapi_port/ikqs/v1/n/$name")
raw=$(run_wrk "http://127.0.0.1:$http_port_raw/ikqs/v1/n/$name")
grep -E 'Latency|99%' "$work/wrk.log" | sed 's/^/  /'
ratio() { echo "$1 / $ngx" | bc -l; }
printf 'iks-query:             %9.0f req/s  %.2f x nginx\n' "$iks" "$(ratio "$iks")"
printf 'nginx (static file):   %9.0f req/s\n' "$ngx"
printf 'baseline, empty hapi:  %9.0f req/s  %.2f x nginx  (ceiling for any hapi route)\n' "$hapi" "$(ratio "$hapi")"
printf 'baseline, node:http:   %9.0f req/s  %.2f x nginx\n' "$raw" "$(ratio "$raw")"
