#!/usr/bin/env bash
# TFTP: 1,000 phones (BENCH_TFTP) of a 100,000-phone database
# (BENCH_DEVICES) fetch their common file and their per-device file over
# TFTP (RFC 1350, 512-byte blocks), 32 transfers at once
# (BENCH_TFTP_WORKERS), from autoprov (--tftp) and from Debian's in.tftpd
# (tftpd-hpa) serving the very same files, in the same run: transfers/s.
#
#   bash bench/tftp.sh
#   BENCH_DEVICES=2000 BENCH_TFTP=200 bash bench/tftp.sh   # quick
#
# The client is benchtool's own (a tiny RFC 1350 client: spawning 2,000
# tftp processes would measure fork and exec); the tftp-hpa client, when
# installed, cross-checks one file from each server. in.tftpd runs in its
# chroot (-s), which needs root. Installs nothing, listens on 127.0.0.1
# only, removes its temp directory and stops its servers at exit.
#
# What happens: seed; the phones take their secrets over HTTP (window
# consumed, credential issued), the admin API sets tftp_allowed on them
# (TFTP cannot present a credential: once one is required, only such
# devices get their per-device file over TFTP); one TFTP pass from autoprov exports the secret-free bytes into
# in.tftpd's directory; then the timed passes, autoprov first, each
# comparing every file with the exported bytes.
source "$(dirname "$0")/lib.sh"
TFTPD=/usr/sbin/in.tftpd
need $TFTPD tftpd-hpa || exit 1
if [ "$(id -u)" != 0 ]; then
  echo "in.tftpd needs root for its chroot (-s); run as root" >&2
  exit 1
fi
N=${BENCH_TFTP:-1000} WORKERS=${BENCH_TFTP_WORKERS:-32}

machine
build
seed_into "$TMP/s"
[ "$N" -le "$DEVICES" ] || N=$DEVICES
P_HTTP=$(tcp_port) P_TFTP=$(udp_port) T_TFTP=$(udp_port)
start_autoprov "$TMP/s/data" "$P_HTTP" --tftp "127.0.0.1:$P_TFTP" --public-url "http://127.0.0.1:$P_HTTP/"
PH=$TMP/s/phones.tsv
say "$N phones take their secrets over HTTP"
"$BT" fetch -url "http://127.0.0.1:$P_HTTP/prov/" -phones "$PH" -n "$N" -secrets carry
say "tftp_allowed on the $N phones (PATCH /api/v1/devices/{mac})"
"$BT" tftp-allow -url "http://127.0.0.1:$P_HTTP" -token-file "$TMP/s/data/admin-token" -phones "$PH" -n "$N"
say "exporting what autoprov serves over TFTP"
mkdir -p "$TMP/tftproot"
chmod 755 "$TMP/tftproot"
"$BT" tftp -addr "127.0.0.1:$P_TFTP" -phones "$PH" -n "$N" -out "$TMP/tftproot" -label export
$TFTPD -L -a "127.0.0.1:$T_TFTP" -s -u nobody "$TMP/tftproot" &
TD_PID=$!
PIDS+=("$TD_PID")
sleep 0.2

mac=$(head -1 "$PH" | cut -f1)
if [ -x /usr/bin/tftp ]; then
  for p in "$P_TFTP" "$T_TFTP"; do
    (cd "$TMP" && /usr/bin/tftp 127.0.0.1 "$p" -m binary -c get "$mac.cfg" "hpa-$p.cfg")
    cmp "$TMP/hpa-$p.cfg" "$TMP/tftproot/$mac.cfg"
  done
  say "tftp-hpa client: $mac.cfg identical from both servers"
else
  say "tftp-hpa client (/usr/bin/tftp, package tftp-hpa) absent: cross-check skipped"
fi

"$BT" tftp -addr "127.0.0.1:$P_TFTP" -phones "$PH" -n "$N" -workers "$WORKERS" -expect "$TMP/tftproot" -label autoprov | tee "$TMP/tftp.txt"
"$BT" tftp -addr "127.0.0.1:$T_TFTP" -phones "$PH" -n "$N" -workers "$WORKERS" -expect "$TMP/tftproot" -label in.tftpd | tee -a "$TMP/tftp.txt"
a=$(sed -n 's/^TFTP autoprov .*transfers_per_s=\([0-9]*\).*/\1/p' "$TMP/tftp.txt")
t=$(sed -n 's/^TFTP in.tftpd .*transfers_per_s=\([0-9]*\).*/\1/p' "$TMP/tftp.txt")
echo
echo "TFTP, $N phones of $DEVICES (2 transfers each), $WORKERS at once"
echo "autoprov ${a}/s, in.tftpd ${t}/s, autoprov/in.tftpd $(awk -v a="$a" -v t="$t" 'BEGIN { printf "%.2f", a / t }')"
