#!/usr/bin/env bash
# Steady state: per-device files at 64 connections, autoprov beside nginx
# serving the very same bytes, in two pairs:
#   1. plain HTTP, no credentials: autoprov vs nginx (static files);
#   2. HTTPS, each phone's own per-device credential (Basic): autoprov vs
#      nginx over HTTPS with auth_basic, one htpasswd file per phone.
#
#   bash bench/steady.sh                      # 100,000 phones (BENCH_DEVICES)
#   BENCH_DEVICES=2000 BENCH_DURATION=3s bash bench/steady.sh   # quick
#
# Uses Debian's wrk, nginx and openssl; installs nothing (says which is
# absent). Everything listens on 127.0.0.1, on free ports; the temp
# directory and the servers are removed at exit. Environment:
# BENCH_DEVICES (100000), BENCH_SEED (a seed directory to copy, see
# README.md), BENCH_STEADY_PHONES (how many of the phones, spread over the
# fleet, fetch: default all; the database holds all either way),
# BENCH_DURATION (15s), BENCH_CONNS (64), BENCH_THREADS (2), BENCH_KEEP=1
# (keep the temp directory).
#
# What happens: two fleets of the same size. Pair 1 runs on one whose
# windows never opened: no phone has a credential (state none), so its
# file goes to any request, without secrets (once a phone took its
# secrets, its file needs its credential: Digest over HTTP, which wrk
# cannot play, or Basic over HTTPS). Every phone fetches its file once
# (these bytes are what nginx serves), then wrk. Pair 2 runs on a fleet
# whose windows are open: every phone fetches its file over HTTPS (the
# secrets, with its provisioning credential: recorded), then again
# presenting its credential with Basic (it moves to "applied"; these
# secret-free bytes are what nginx serves), then wrk. One autoprov at a
# time.
source "$(dirname "$0")/lib.sh"
WRK=/usr/bin/wrk NGINX=/usr/sbin/nginx
ok=1
need $WRK wrk || ok=0
need $NGINX nginx || ok=0
need /usr/bin/openssl openssl || ok=0
[ $ok = 1 ] || exit 1
DURATION=${BENCH_DURATION:-15s} CONNS=${BENCH_CONNS:-64} THREADS=${BENCH_THREADS:-2}

machine
build
seed_into "$TMP/closed" closed
seed_into "$TMP/s"
cert
P_HTTP=$(tcp_port) P_HTTPS=$(tcp_port) N_HTTP=$(tcp_port) N_HTTPS=$(tcp_port)
# Both fleets' files: --public-url makes them the same bytes over HTTP and HTTPS.
serve() {
  start_autoprov "$1" "$P_HTTP" --https "127.0.0.1:$P_HTTPS" --tls-cert "$TMP/tls/cert.pem" --tls-key "$TMP/tls/key.pem" \
    --tftp "" --public-url "https://127.0.0.1:$P_HTTPS/"
  say "autoprov up in ${STARTUP}s (pid $AP_PID) on $1"
}

PH_CLOSED=$(subset "$TMP/closed/phones.tsv")
PH=$(subset "$TMP/s/phones.tsv")
FETCHING=$(wc -l <"$PH")
mkdir -p "$TMP/www/prov" "$TMP/www-tls/prov"
serve "$TMP/closed/data"
settle
say "pair 1 fleet (no window ever open): every phone fetches its file, exported for nginx"
"$BT" fetch -url "http://127.0.0.1:$P_HTTP/prov/" -phones "$PH_CLOSED" -secrets none -out "$TMP/www/prov"
# What that pass reported (each phone's firmware, first seen) changed every
# device once, which drops it from the phone cache when the report is
# written: a second pass, the same bytes, is the steady state wrk measures.
say "every phone fetches again (the same bytes): the cache warm after the reports of the first pass"
"$BT" fetch -url "http://127.0.0.1:$P_HTTP/prov/" -phones "$PH_CLOSED" -secrets none -expect "$TMP/www/prov" >/dev/null

mkdir -p "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  default_type text/plain;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $TMP/nginx/tmp/body;
  proxy_temp_path $TMP/nginx/tmp/proxy;
  fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
  scgi_temp_path $TMP/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$N_HTTP;
    root $TMP/www;
  }
  server {
    listen 127.0.0.1:$N_HTTPS ssl;
    ssl_certificate $TMP/tls/cert.pem;
    ssl_certificate_key $TMP/tls/key.pem;
    root $TMP/www-tls;
    location ~ "^/prov/(?<mac>[0-9a-f]{12})\.cfg\$" {
      auth_basic "autoprov";
      auth_basic_user_file $TMP/htpasswd/\$mac;
    }
    location / { return 404; }
  }
}
CONF
$NGINX -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx/nginx.conf" &
NG_PID=$!
PIDS+=("$NG_PID")
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$N_HTTPS") 2>/dev/null && break
  sleep 0.05
done
say "nginx serves the same bytes (a sample)"
"$BT" fetch -url "http://127.0.0.1:$N_HTTP/prov/" -phones "$PH_CLOSED" -n 500 -secrets none -expect "$TMP/www/prov" >/dev/null

declare -A RES
# run LABEL URL LIST PIDS: one wrk run; its RESULT line goes to RES[LABEL],
# with the server's CPU microseconds a request (cpu_us: PIDS' CPU time
# over the run, which the machine's load inflates far less than req/s).
# The timeout is 10 s, not wrk's 2 s, so slow answers count in the
# percentiles instead of as socket errors.
run() {
  say "wrk -t$THREADS -c$CONNS -d$DURATION: $1"
  RES[$1]=$(wrk_run "$2" "$3" "$4" "$TMP/wrk-$1.txt")
  echo "$1: ${RES[$1]}" >&2
  case "${RES[$1]}" in *"non2xx=0 socket_errors=0"*) ;; *) echo "WARNING: $1 had failed requests (non2xx or socket errors): its figures do not count" >&2 ;; esac
}
"$BT" wrkreqs -phones "$PH_CLOSED" -out "$TMP/reqs-plain.txt"
NG_PIDS=$(pgrep -P "$NG_PID" | paste -sd, -) # its workers
NG_PIDS=$NG_PID${NG_PIDS:+,$NG_PIDS}
run autoprov-http "http://127.0.0.1:$P_HTTP" "$TMP/reqs-plain.txt" "$AP_PID"
run nginx-http "http://127.0.0.1:$N_HTTP" "$TMP/reqs-plain.txt" "$NG_PIDS"
"$BT" mem -pid "$AP_PID" | sed 's/^/autoprov after pair 1: /'
stop "$AP_PID"

serve "$TMP/s/data"
say "pair 2 fleet (windows open): every phone takes its secrets over HTTPS, with its credential"
"$BT" fetch -url "https://127.0.0.1:$P_HTTPS/prov/" -phones "$PH" -secrets carry -creds-out "$TMP/creds.tsv"
"$BT" htpasswd -creds "$TMP/creds.tsv" -dir "$TMP/htpasswd"
say "every phone presents its credential (Basic over HTTPS): issued -> applied; the bytes, exported for nginx"
"$BT" fetch -url "https://127.0.0.1:$P_HTTPS/prov/" -phones "$PH" -secrets none -basic "$TMP/creds.tsv" -out "$TMP/www-tls/prov"
say "every phone fetches again (the same bytes): the cache warm after the credentials were applied"
"$BT" fetch -url "https://127.0.0.1:$P_HTTPS/prov/" -phones "$PH" -secrets none -basic "$TMP/creds.tsv" -expect "$TMP/www-tls/prov" >/dev/null
"$BT" fetch -url "https://127.0.0.1:$N_HTTPS/prov/" -phones "$PH" -n 500 -secrets none -basic "$TMP/creds.tsv" -expect "$TMP/www-tls/prov" >/dev/null
"$BT" wrkreqs -phones "$PH" -creds "$TMP/creds.tsv" -out "$TMP/reqs-basic.txt"
run autoprov-https "https://127.0.0.1:$P_HTTPS" "$TMP/reqs-basic.txt" "$AP_PID"
run nginx-https "https://127.0.0.1:$N_HTTPS" "$TMP/reqs-basic.txt" "$NG_PIDS"
"$BT" mem -pid "$AP_PID" | sed 's/^/autoprov after pair 2: /'

field() { value "${RES[$1]}" "$2"; }
echo
echo "steady state, $FETCHING phones fetching in a database of $DEVICES, wrk -t$THREADS -c$CONNS -d$DURATION, random per-device files"
printf '%-22s %10s %9s %9s %13s   %s\n' pair "req/s" "p50 ms" "p99 ms" "CPU us/req" "autoprov/nginx"
for pair in http https; do
  a=autoprov-$pair n=nginx-$pair
  ratio=$(awk -v a="$(field $a req_s)" -v n="$(field $n req_s)" 'BEGIN { printf "%.3f", a / n }')
  printf '%-22s %10s %9s %9s %13s   %s\n' "$a" "$(field $a req_s)" "$(field $a p50_ms)" "$(field $a p99_ms)" "$(field $a cpu_us)" "$ratio"
  printf '%-22s %10s %9s %9s %13s\n' "$n" "$(field $n req_s)" "$(field $n p50_ms)" "$(field $n p99_ms)" "$(field $n cpu_us)"
done
