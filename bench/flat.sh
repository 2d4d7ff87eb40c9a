#!/usr/bin/env bash
# Cost per fetch, few phones against the whole fleet, in one server:
# issue [6]'s "cost per fetch flat from 1,000 to 100,000 devices (within
# 20 %)". One autoprov on the fleet without windows (steady.sh's pair 1),
# warm, and wrk alternating between two request lists: BENCH_FLAT_FEW
# phones (1,000, spread over the fleet) and all of them. Each run reports
# the server's CPU time a request (its process's CPU time over the run,
# which the machine's load inflates far less than req/s), and each round
# the ratio all/few.
#
#   bash bench/flat.sh                            # 100,000 phones, 3 rounds of 10 s + 10 s
#   BENCH_DEVICES=2000 BENCH_FLAT_FEW=100 BENCH_ROUNDS=1 BENCH_DURATION=3s bash bench/flat.sh   # quick
#
# Why not two runs of steady.sh (BENCH_STEADY_PHONES=1000 and all): they
# are minutes apart, in two processes, and on a shared machine the same
# binary's CPU a request moves by more than the 20 % measured (session
# 12: 22.2 and 30.1 us in two runs of steady.sh, 22.2-27.2 us here,
# alternating). Alternating in one process, a round compares like with
# like. Uses Debian's wrk; installs nothing. Environment: BENCH_DEVICES
# (100000), BENCH_SEED_CLOSED (a seed to copy, see README.md),
# BENCH_FLAT_FEW (1000), BENCH_ROUNDS (3), BENCH_DURATION (10s),
# BENCH_CONNS (64), BENCH_THREADS (2), BENCH_KEEP=1.
source "$(dirname "$0")/lib.sh"
WRK=/usr/bin/wrk
need $WRK wrk || exit 1
DURATION=${BENCH_DURATION:-10s} CONNS=${BENCH_CONNS:-64} THREADS=${BENCH_THREADS:-2}
FEW=${BENCH_FLAT_FEW:-1000} ROUNDS=${BENCH_ROUNDS:-3}

machine
build
seed_into "$TMP/closed" closed
P=$(tcp_port)
start_autoprov "$TMP/closed/data" "$P" --tftp "" --public-url "http://127.0.0.1:$P/"
say "autoprov up in ${STARTUP}s (pid $AP_PID)"
settle
ALL=$TMP/closed/phones.tsv
FEWPH=$(subset "$ALL" "$FEW")
mkdir -p "$TMP/www"
say "every phone fetches its file, twice (the second pass: the cache warm after the first pass's reports)"
"$BT" fetch -url "http://127.0.0.1:$P/prov/" -phones "$ALL" -secrets none -out "$TMP/www" >/dev/null
"$BT" fetch -url "http://127.0.0.1:$P/prov/" -phones "$ALL" -secrets none -expect "$TMP/www" >/dev/null
"$BT" wrkreqs -phones "$FEWPH" -out "$TMP/reqs-few.txt"
"$BT" wrkreqs -phones "$ALL" -out "$TMP/reqs-all.txt"
NFEW=$(wc -l <"$FEWPH")

# run LIST: one wrk run on LIST; prints "req_s p50_ms p99_ms cpu_us".
run() {
  local r
  r=$(wrk_run "http://127.0.0.1:$P" "$1" "$AP_PID" "$TMP/wrk.txt")
  case "$r" in *"non2xx=0 socket_errors=0"*) ;; *) echo "FAILED requests: $r" >&2; return 1 ;; esac
  echo "$(value "$r" req_s) $(value "$r" p50_ms) $(value "$r" p99_ms) $(value "$r" cpu_us)"
}

rows=()
for r in $(seq "$ROUNDS"); do
  say "round $r: wrk -t$THREADS -c$CONNS -d$DURATION, $NFEW phones, then all $DEVICES"
  few=$(run "$TMP/reqs-few.txt")
  all=$(run "$TMP/reqs-all.txt")
  rows+=("$r $few $all")
done

echo
echo "cost per fetch, $NFEW vs $DEVICES phones fetching (one server, a database of $DEVICES, alternating), wrk -t$THREADS -c$CONNS -d$DURATION"
printf '%-6s %28s   %28s   %s\n' round "$NFEW phones: req/s p99 CPU us" "$DEVICES phones: req/s p99 CPU us" "CPU all/few"
for row in "${rows[@]}"; do
  read -r r fr fp50 fp99 fcpu ar ap50 ap99 acpu <<<"$row"
  printf '%-6s %10s %8s ms %6s   %10s %8s ms %6s   %s\n' "$r" "$fr" "$fp99" "$fcpu" "$ar" "$ap99" "$acpu" \
    "$(awk -v a="$acpu" -v f="$fcpu" 'BEGIN { printf "%.3f", a / f }')"
done
