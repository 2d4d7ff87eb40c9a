# Sourced by the scripts in bench/ (not run on its own). It makes a temp
# directory (removed at exit, with every server this script started, by
# its process id; BENCH_KEEP=1 keeps the directory), builds autoprov and
# benchtool into it, and seeds (or copies BENCH_SEED). It installs nothing.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)
DEVICES=${BENCH_DEVICES:-100000}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/autoprov-bench.XXXXXX")
chmod 755 "$TMP" # nginx workers and in.tftpd run as other users
BT=$TMP/bin/benchtool
PIDS=()

cleanup() {
  local p
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ "${BENCH_KEEP:-}" = 1 ]; then
    echo "kept $TMP"
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT

say() { printf '== [%ss] %s\n' "$SECONDS" "$*" >&2; }

# need PATH PACKAGE: the tool must be there; this script installs nothing.
need() {
  if [ ! -x "$1" ]; then
    echo "ABSENT: $1 (Debian package $2) is not installed; this script installs nothing: apt-get install $2" >&2
    return 1
  fi
}

machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ), git $(git -C "$REPO" rev-parse --short HEAD)"
}

# build: autoprov and benchtool into $TMP/bin (copied from $BENCH_BIN
# when run-all.sh built them already).
build() {
  if [ -n "${BENCH_BIN:-}" ]; then
    mkdir -p "$TMP/bin"
    cp "$BENCH_BIN/autoprov" "$BENCH_BIN/benchtool" "$TMP/bin/"
    return
  fi
  say "building autoprov and benchtool"
  (cd "$REPO" && go build -o "$TMP/bin/autoprov" ./cmd/autoprov && go build -o "$BT" ./bench/benchtool)
}

# seed_into DIR [closed]: DIR/data (a data directory with $DEVICES
# phones, every window open for 24 h; with "closed", no window ever
# opened, so no phone has a credential: state none, its file served to
# any request without secrets) and DIR/phones.tsv. A copy of $BENCH_SEED
# (or $BENCH_SEED_CLOSED) when set; else through the server's bulk API
# when it has one (benchtool seed-api; "closed": 1 s windows, left to
# expire), else through server/store (benchtool seed). BENCH_SEED_VIA=store
# skips the API.
seed_into() {
  local from=${BENCH_SEED:-} window=24h apiwindow=24h
  if [ "${2:-}" = closed ]; then
    from=${BENCH_SEED_CLOSED:-} window=0 apiwindow=1s
  fi
  mkdir -p "$1"
  if [ -n "$from" ]; then
    cp -a "$from/data" "$1/data"
    cp "$from/phones.tsv" "$1/phones.tsv"
    DEVICES=$(wc -l <"$1/phones.tsv")
    say "copied the seed of $DEVICES phones from $from"
    return
  fi
  if [ "${BENCH_SEED_VIA:-auto}" != store ]; then
    local port rc=0
    port=$(tcp_port)
    start_autoprov "$1/data" "$port" --tftp ""
    say "seeding $DEVICES phones${2:+ ($2)} through POST /api/v1/bulk"
    "$BT" seed-api -url "http://127.0.0.1:$port" -token-file "$1/data/admin-token" -devices "$DEVICES" -window "$apiwindow" -phones "$1/phones.tsv" || rc=$?
    stop "$AP_PID"
    if [ $rc = 0 ]; then
      if [ "$apiwindow" = 1s ]; then sleep 1.5; fi # the windows end unused
      return 0
    fi
    [ $rc = 3 ] || return 1
    rm -rf "$1/data" "$1/phones.tsv"
  fi
  say "seeding $DEVICES phones${2:+ ($2)} through server/store (benchtool seed)"
  "$BT" seed -data "$1/data" -devices "$DEVICES" -window "$window" -phones "$1/phones.tsv"
}

tcp_port() { "$BT" ports tcp 1; }
udp_port() { "$BT" ports udp 1; }

# cert: a self-signed P-256 certificate for 127.0.0.1 in $TMP/tls, used by
# autoprov and nginx alike.
cert() {
  mkdir -p "$TMP/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
    -keyout "$TMP/tls/key.pem" -out "$TMP/tls/cert.pem" 2>/dev/null
  chmod 644 "$TMP/tls/key.pem"
}

# start_autoprov DATA HTTPPORT [flags...]: starts the server, logging to
# $TMP/autoprov.log, sets AP_PID and STARTUP (seconds from the process
# start to /healthz answering 200). BENCH_PPROF=127.0.0.1:PORT serves Go's
# profiler there (autoprov --pprof), for profiling a run.
start_autoprov() {
  local data=$1 port=$2
  shift 2
  if [ -n "${BENCH_PPROF:-}" ]; then
    set -- "$@" --pprof "$BENCH_PPROF"
  fi
  local t0
  t0=$(date +%s%N)
  "$TMP/bin/autoprov" --data "$data" --http "127.0.0.1:$port" "$@" >>"$TMP/autoprov.log" 2>&1 &
  AP_PID=$!
  PIDS+=("$AP_PID")
  if ! STARTUP=$("$BT" health -url "http://127.0.0.1:$port" -since "$t0"); then
    tail -20 "$TMP/autoprov.log" >&2
    return 1
  fi
}

# stop PID: SIGTERM, wait, and forget it.
stop() {
  local p keep=()
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  for p in "${PIDS[@]+"${PIDS[@]}"}"; do
    [ "$p" = "$1" ] || keep+=("$p")
  done
  PIDS=("${keep[@]+"${keep[@]}"}")
}

# subset FILE [N]: the phones that fetch, N of them (default
# BENCH_STEADY_PHONES; none given: all) spread over the fleet, in
# FILE.subset (or FILE itself for all); the database holds all either way.
subset() {
  local n=${2:-${BENCH_STEADY_PHONES:-}}
  if [ -n "$n" ] && [ "$n" -lt "$DEVICES" ]; then
    awk -v step=$((DEVICES / n)) -v k="$n" '(NR - 1) % step == 0 && n++ < k' "$1" >"$1.subset"
    echo "$1.subset"
  else
    echo "$1"
  fi
}

# settle: the pair 1 fleet's 1 s windows ran out while no server ran; the
# sweeper of the server just started records them as expired in its first
# tick (5 s after the start; 500 per transaction) and logs them when it is
# through. Wait for those lines (at most 60 s: a fleet seeded with no
# window at all has none), then until they stop coming (7 s without one),
# so that the fetch and wrk below measure the steady state.
settle() {
  local from n m same=0
  from=$(wc -l <"$TMP/autoprov.log")
  count() { tail -n +"$((from + 1))" "$TMP/autoprov.log" | grep -c 'disclosure window expired' || true; }
  for _ in $(seq 60); do
    [ "$(count)" -gt 0 ] && break
    sleep 1
  done
  n=$(count)
  for _ in $(seq 300); do
    sleep 1
    m=$(count)
    if [ "$m" = "$n" ]; then
      same=$((same + 1))
      [ $same -ge 7 ] && break
    else
      same=0
    fi
    n=$m
  done
  say "the sweeper recorded $n windows as expired"
}

# wrk_run URL LIST PIDS OUT: one wrk run (-t$THREADS -c$CONNS -d$DURATION,
# every request a line of LIST through phones.lua, a 10 s timeout so slow
# answers count in the percentiles instead of as socket errors), its
# output in OUT; prints its RESULT fields and cpu_us, the CPU microseconds
# a request of PIDS (comma-separated) over the run.
wrk_run() {
  local c0 c1 line
  c0=$("$BT" cpu -pid "$3")
  /usr/bin/wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --timeout 10s --latency -s "$BENCH_DIR/phones.lua" "$1" -- "$2" >"$4"
  c1=$("$BT" cpu -pid "$3")
  line=$(grep '^RESULT' "$4" | cut -d' ' -f2-)
  echo "$line cpu_us=$(awk -v ms=$((c1 - c0)) -v line="$line" 'BEGIN { match(line, /requests=[0-9]+/); n = substr(line, RSTART + 9, RLENGTH - 9); printf "%.1f", (n > 0 ? ms * 1000 / n : 0) }')"
}

# value LINE NAME: the value of NAME=... in LINE.
value() { sed -n "s/.*$2=\([^ ]*\).*/\1/p" <<<"$1"; }
