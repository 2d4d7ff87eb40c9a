#!/usr/bin/env bash
# Boot storm, memory and start-up:
#   - 10,000 distinct phones (BENCH_STORM), adopted, windows open, in a
#     100,000-phone database (BENCH_DEVICES), 64 booting at once
#     (BENCH_WORKERS), each on its own connection from its own loopback
#     address, fetch their common file and their per-device file (the
#     first fetch carries the secrets): wall time, errors, and a check
#     that each phone's SIP password left exactly once (in its per-device
#     answer, never in the common one, never again on a second fetch,
#     made over HTTPS presenting the credential the secrets carried);
#   - the server's memory after the storm (VmRSS, VmHWM);
#   - start-up time with the whole database: from the process start to
#     /healthz answering 200, three restarts (BENCH_RESTARTS).
#
#   bash bench/storm.sh
#   BENCH_DEVICES=2000 BENCH_STORM=500 bash bench/storm.sh   # quick
#
# Installs nothing, listens on 127.0.0.1 only, removes its temp directory
# and stops its server at exit (BENCH_KEEP=1 keeps the directory).
source "$(dirname "$0")/lib.sh"
STORM=${BENCH_STORM:-10000} WORKERS=${BENCH_WORKERS:-64} RESTARTS=${BENCH_RESTARTS:-3}

machine
build
seed_into "$TMP/s"
[ "$STORM" -le "$DEVICES" ] || STORM=$DEVICES
P_HTTP=$(tcp_port) P_HTTPS=$(tcp_port)
cert
start_autoprov "$TMP/s/data" "$P_HTTP" --tftp "" --https "127.0.0.1:$P_HTTPS" --tls-cert "$TMP/tls/cert.pem" --tls-key "$TMP/tls/key.pem"
first=$STARTUP
say "autoprov up in ${STARTUP}s (first start on this database), pid $AP_PID"
say "boot storm: $STORM phones of $DEVICES, $WORKERS at once"
status=0
"$BT" storm -url "http://127.0.0.1:$P_HTTP/prov/" -phones "$TMP/s/phones.tsv" -n "$STORM" -workers "$WORKERS" -pid "$AP_PID" \
  -verify-url "https://127.0.0.1:$P_HTTPS/prov/" | tee "$TMP/storm.txt" || status=1
memline=$("$BT" mem -pid "$AP_PID")
stop "$AP_PID"
starts=()
for _ in $(seq "$RESTARTS"); do
  start_autoprov "$TMP/s/data" "$P_HTTP" --tftp ""
  starts+=("$STARTUP")
  stop "$AP_PID"
done

echo
echo "boot storm, $STORM phones of $DEVICES, $WORKERS at once"
grep '^STORM' "$TMP/storm.txt"
echo "memory after the storm ($DEVICES phones): $memline"
echo "start-up with $DEVICES phones (process start to /healthz 200): first ${first}s, restarts ${starts[*]} s"
if [ $status != 0 ]; then
  echo "the storm had errors (see above and $TMP/autoprov.log; BENCH_KEEP=1 keeps it)"
  grep 'level=ERROR' "$TMP/autoprov.log" | sed 's/.* msg=//' | sed 's/ mac=[^ ]*//; s/ remote=[^ ]*//; s/ file=[^ ]*//; s/ path=[^ ]*//; s/ for [0-9a-f]\{12\}//; s/device [0-9a-f]\{12\}/device/' | sort | uniq -c | sort -rn | head -8
fi
exit $status
