#!/usr/bin/env bash
# Every script of bench/ in one go, on one seed: the fleet is seeded once
# with windows open and once without (BENCH_DEVICES phones, 100,000 by
# default; the longest step on today's code) and each script runs on
# copies (BENCH_SEED, BENCH_SEED_CLOSED), then the figures of all of them
# are printed together.
#
#   bash bench/run-all.sh
#   BENCH_DEVICES=2000 BENCH_STORM=500 BENCH_TFTP=200 BENCH_DURATION=3s bash bench/run-all.sh   # quick
#   BENCH_GOTEST=1 bash bench/run-all.sh    # also go test -bench BenchmarkFleetFetch at 1,000 and BENCH_DEVICES
#
# Every variable of steady.sh, storm.sh, tftp.sh and flat.sh applies. Installs
# nothing; a script whose tool is absent says so and the others still run.
source "$(dirname "$0")/lib.sh"
machine | tee "$TMP/machine.txt"
build
export BENCH_BIN=$TMP/bin
if [ -z "${BENCH_SEED:-}" ]; then
  seed_into "$TMP/seed"
  export BENCH_SEED=$TMP/seed
fi
if [ -z "${BENCH_SEED_CLOSED:-}" ]; then
  seed_into "$TMP/seed-closed" closed
  export BENCH_SEED_CLOSED=$TMP/seed-closed
fi
status=0
for s in storm tftp steady flat; do
  say "bench/$s.sh"
  if ! bash "$BENCH_DIR/$s.sh" | tee "$TMP/$s.out"; then
    echo "bench/$s.sh FAILED" | tee -a "$TMP/$s.out"
    status=1
  fi
done
if [ "${BENCH_GOTEST:-}" = 1 ]; then
  say "go test -bench BenchmarkFleetFetch"
  (cd "$REPO" && BENCH_FLEET=1000,$DEVICES go test ./bench -run '^$' -bench FleetFetch -benchtime 2000x) | tee "$TMP/gotest.out" || status=1
fi

echo
echo "==================== figures"
cat "$TMP/machine.txt"
for s in storm tftp steady flat; do
  echo
  awk 'f; /^$/ { f = 1 } /FAILED$/ { print }' "$TMP/$s.out"
done
if [ -f "$TMP/gotest.out" ]; then
  echo
  grep '^Benchmark' "$TMP/gotest.out"
fi
exit $status
