#!/usr/bin/env bash
# Benchmark of GET /api/v1/me with a valid token: starts a release `relay serve` on its own
# port and database, signs a user in, and runs wrk against it on this machine.
# Usage: scripts/bench-me.sh [seconds] [connections] [log level]
# Needs wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
conns=${2:-64}
level=${3:-info}
port=18080
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
cargo build --release -q
export RELAY_HTTP_ADDR=127.0.0.1:$port
export RELAY_DATABASE_URL=postgres://postgres@127.0.0.1:5432/relay_bench
export RELAY_REDIS_KEY_PREFIX=relay-bench
export RELAY_LOG_LEVEL=$level
target/release/relay serve > /tmp/relay-bench.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
email="bench-$(date +%s%N)@example.com"
curl -sf -H 'content-type: application/json' -d "{\"email\":\"$email\",\"password\":\"benchmark password\"}" \
  "http://127.0.0.1:$port/api/v1/auth/register" >/dev/null
token=$(curl -sf -H 'content-type: application/json' -d "{\"email\":\"$email\",\"password\":\"benchmark password\"}" \
  "http://127.0.0.1:$port/api/v1/auth/login" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
curl -sf -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/me" >/dev/null
echo "GET /api/v1/me: ${secs}s, $conns connections, 2 wrk threads, log level $level"
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/me"
