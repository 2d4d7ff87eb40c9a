#!/usr/bin/env bash
# Firmware serving, autoprov against Debian's nginx and tftpd-hpa on the
# same files in the same run (see bench/README.md, "Firmware").
#
#   bash bench/firmware.sh            # from the repository root
#
# HTTP: one 64 MiB image, 200 concurrent connections downloading it over
# and over for DURATION seconds (wrk), against autoprov's /firmware/ route
# and against nginx (sendfile on) serving the same bytes; autoprov's peak
# RSS during the run (VmHWM after resetting it) against its RSS before.
# TFTP: one 16 MiB image with blksize 1468 (atftp; the tftp-hpa client
# cannot ask for blksize) from autoprov and from in.tftpd, RUNS times each,
# interleaved. Needs go, curl, wrk, nginx, atftp, in.tftpd; installs nothing.
set -euo pipefail
DURATION=${DURATION:-15}
RUNS=${RUNS:-3}
for bin in go curl wrk atftp /usr/sbin/nginx /usr/sbin/in.tftpd; do
	command -v "$bin" >/dev/null || { echo "missing $bin (apt-get install wrk nginx atftp tftpd-hpa)" >&2; exit 1; }
done
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

go build -o "$tmp/autoprov" ./cmd/autoprov
mkdir -p "$tmp/www"
head -c $((64 << 20)) /dev/urandom >"$tmp/www/T54W-96.86.0.100.rom"
head -c $((16 << 20)) /dev/urandom >"$tmp/www/T54W-96.86.0.101.rom"
chmod 755 "$tmp" "$tmp/www"; chmod 644 "$tmp"/www/* # nginx's workers run as www-data

HP=$(port); TP=$(port); NP=$(port); XP=$(port)
export AUTOPROV_ADMIN_TOKEN=bench-token-0123456789abcdef
"$tmp/autoprov" --data "$tmp/data" --http 127.0.0.1:$HP --tftp 127.0.0.1:$TP --log-level warn 2>"$tmp/autoprov.log" &
ap=$!; pids+=($ap)
for _ in $(seq 100); do curl -fs http://127.0.0.1:$HP/healthz >/dev/null && break; sleep 0.1; done
upload() { # file version -> path
	curl -fsS -X POST -H "Authorization: Bearer $AUTOPROV_ADMIN_TOKEN" -H 'Content-Type: application/octet-stream' \
		-T "$tmp/www/$1" "http://127.0.0.1:$HP/api/v1/firmware?vendor=yealink&models=T54W&version=$2&name=$1" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["path"])'
}
P64=$(upload T54W-96.86.0.100.rom 96.86.0.100)
P16=$(upload T54W-96.86.0.101.rom 96.86.0.101)

cat >"$tmp/nginx.conf" <<NGINX
worker_processes auto;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx.err warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	server { listen 127.0.0.1:$NP; root $tmp/www; }
}
NGINX
/usr/sbin/nginx -c "$tmp/nginx.conf" -p "$tmp" &
pids+=($!)
/usr/sbin/in.tftpd -L -a 127.0.0.1:$XP -s "$tmp/www" &
pids+=($!)
for _ in $(seq 100); do curl -fs -o /dev/null http://127.0.0.1:$NP/T54W-96.86.0.101.rom && break; sleep 0.1; done

rss() { awk -v k="$1:" '$1 == k { print $2 }' /proc/$ap/status; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
echo "cores: $(nproc), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "HTTP: 200 connections, ${DURATION}s each, 64 MiB image"
for round in 1 2; do
	before=$(rss VmRSS)
	echo 5 >/proc/$ap/clear_refs # resets VmHWM to the current RSS
	a=$(wrk -t2 -c200 -d${DURATION}s --timeout 60s "http://127.0.0.1:$HP$P64" | awk '/Requests\/sec|Transfer\/sec|Non-2xx|Socket errors/')
	peak=$(rss VmHWM)
	n=$(wrk -t2 -c200 -d${DURATION}s --timeout 60s "http://127.0.0.1:$NP/T54W-96.86.0.100.rom" | awk '/Requests\/sec|Transfer\/sec|Non-2xx|Socket errors/')
	echo "round $round autoprov: $(echo $a) | RSS before $(mib $before) MiB, peak $(mib $peak) MiB, growth $(mib $((peak - before))) MiB"
	echo "round $round nginx:    $(echo $n)"
done

echo "TFTP: 16 MiB image, blksize 1468 (atftp)"
get() { # port remote
	local t0 t1
	t0=$(date +%s.%N)
	atftp --option "blksize 1468" --option "tsize 0" -g -r "$2" -l "$tmp/got" 127.0.0.1 "$1" >/dev/null 2>&1
	t1=$(date +%s.%N)
	cmp -s "$tmp/got" "$tmp/www/T54W-96.86.0.101.rom" || { echo "TFTP download from port $1 differs" >&2; exit 1; }
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s (%.1f MiB/s)", b - a, 16 / (b - a) }'
	rm -f "$tmp/got"
}
for run in $(seq "$RUNS"); do
	echo "run $run autoprov: $(get $TP "${P16#/}")   in.tftpd: $(get $XP T54W-96.86.0.101.rom)"
done
grep -i -E 'level=(error|warn)' "$tmp/autoprov.log" | grep -v 'firmware download' | head -5 || true
