#!/usr/bin/env bash
# One Redis shard's rate of the real flash admission script (ADMIT_LUA from
# dist/), measured with redis-benchmark EVALSHA against a redis-server of its
# own on 127.0.0.1 (no persistence), bounded by -n. Prints calls/s for one
# buy per call and for BATCH buys per call (what the gate sends in a busy
# turn), i.e. admissions/s = calls/s × buys per call.
# Usage: bench/flash-lua-rate.sh [calls=200000] [batch=64] [server-cpu=1] [bench-cpu=0]
# Needs `npm run build` first.
set -euo pipefail
N=${1:-200000}
BATCH=${2:-64}
SCPU=${3:-1}
BCPU=${4:-0}
cd "$(dirname "$0")/.."
PORT=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
DIR=$(mktemp -d)
taskset -c "$SCPU" redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$DIR" >/dev/null &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$DIR"' EXIT
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.1; done
LUA=$(node --input-type=module -e "const m = await import('./dist/src/modules/flash-sales/admission.scripts.js'); process.stdout.write(m.ADMIT_LUA)")
SHA=$(redis-cli -p "$PORT" script load "$LUA")
T='fs:{fs1}'
NOW=$(($(date +%s) * 1000))
# A live sale with more units than the run can take and a limit no buyer reaches.
redis-cli -p "$PORT" hset "$T:m" s $((NOW - 1000)) e $((NOW + 3600000)) l 1000000 >/dev/null
redis-cli -p "$PORT" set "$T:st" 1000000000 >/dev/null
KEYS=("$T:m" "$T:st" "$T:b" "$T:t" "$T:s")
buys() { # $1 buys: user, quantity 1, a fresh ticket and idempotency key each
  for ((i = 0; i < $1; i++)); do printf ' u%s__rand_int__ 1 t%s__rand_int__ k__rand_int__' "$i" "$i"; done
}
for B in 1 "$BATCH"; do
  CALLS=$((B == 1 ? N : N / B))
  echo "== $B buy(s) per EVALSHA, $CALLS calls"
  # shellcheck disable=SC2046
  taskset -c "$BCPU" redis-benchmark -p "$PORT" -c 50 -n "$CALLS" -r 100000000 -q \
    evalsha "$SHA" 5 "${KEYS[@]}" $(buys "$B") | tr '\r' '\n' | tail -1 | sed 's/.*: \([0-9.]* requests per second.*\)/\1/'
  redis-cli -p "$PORT" xtrim "$T:s" MAXLEN 0 >/dev/null
done
echo "== baseline on the same server: SET"
taskset -c "$BCPU" redis-benchmark -p "$PORT" -c 50 -n "$N" -r 100000000 -q -t set | tr '\r' '\n' | grep -v '^ *$' | tail -1
echo "units left: $(redis-cli -p "$PORT" get "$T:st"), tickets: $(redis-cli -p "$PORT" hlen "$T:t")"
