#!/usr/bin/env bash
# mkfixture.sh makes the upgrade fixtures in this directory: databases
# written by autoprov 593256a, the last release whose schema came from GORM
# AutoMigrate (no goose version table). TestUpgradeFrom593256a opens them
# with the current code and checks every row survived.
#
#   autoprov-593256a.db          SQLite file the old release wrote
#   autoprov-593256a.sqlite.json what its API answered before it stopped
#   autoprov-593256a.pg.sql      plain-SQL pg_dump (--column-inserts, no
#                                owner or privileges) of a PostgreSQL
#                                database the old release wrote
#   autoprov-593256a.pg.json     what its API answered before it stopped
#
# The *.json snapshots hold what the server made up itself (timestamps,
# audit details); the inputs below (names, keys, passwords...) are repeated
# as constants in the test. Secrets never appear in the API, so every one
# is set explicitly here.
#
# Usage (from anywhere in the repository; needs git, go, curl, sqlite3 and
# the PostgreSQL server binaries; as root it runs PostgreSQL as the user
# postgres, as .ci/run does):
#
#   bash server/store/testdata/mkfixture.sh
#
# It builds 593256a from git (git archive, no worktree), starts it on a
# loopback port for each backend (SQLite in a temp dir; PostgreSQL in a
# throwaway cluster on a free port), drives its REST API with curl, stops
# it with SIGTERM, then copies the SQLite file and pg_dumps the database.
# Re-running it rewrites the fixtures with new timestamps; the test reads
# those from the snapshots, so it keeps passing.
set -euo pipefail

rev=593256a
here=$(cd "$(dirname "$0")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel)
pg_bin=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
token=fixture-admin-token # the old server's bearer token; not a secret

work=$(mktemp -d /tmp/autoprov-fixture.XXXXXX)
pg_dir=$(mktemp -d /tmp/autoprov-fixture-pg.XXXXXX) # its own: $work is 0700 root
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  if [ -d "$pg_dir/data" ]; then
    as_postgres "'$pg_bin/pg_ctl' -D '$pg_dir/data' -m immediate stop" >/dev/null 2>&1 || true
  fi
  rm -rf "$work" "$pg_dir"
}
trap cleanup EXIT

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/sh -c "cd / && $1"
  else
    sh -c "$1"
  fi
}

free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}

echo "== build $rev"
mkdir "$work/src"
git -C "$repo" archive "$rev" | tar -x -C "$work/src"
(cd "$work/src" && go build -o "$work/autoprov-$rev" ./cmd/autoprov)

# api METHOD PATH [BODY]: one admin API call that must succeed.
api() {
  curl -sS -f -X "$1" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    "$base/api/v1$2" ${3:+-d "$3"}
}

# fetch FILE USER-AGENT: what a phone does; prints the HTTP status.
fetch() {
  curl -sS -o /dev/null -w '%{http_code}' -A "$2" "$base/prov/$1"
}

# populate drives the old server's API like an admin (and its phone routes
# like phones). Keep the values in step with upgrade_test.go.
populate() {
  api PUT /settings '{"sip_server":"pbx.fixture.example","sip_port":5061,"sip_transport":"tls",
    "outbound_proxy":"proxy.fixture.example:5061","ntp_server":"ntp.fixture.example",
    "timezone":"Europe/Berlin","language":"de","web_language":"fr","tone_scheme":"DE",
    "disclosure_window_seconds":1}' >/dev/null

  api POST /accounts '{"extension":"201","display_name":"Alice Example","password":"fx-sip-201-secret"}' >/dev/null
  api POST /accounts '{"extension":"202","display_name":"Bob","auth_user":"bob-auth","password":"fx-sip-202-secret"}' >/dev/null
  api POST /accounts '{"extension":"203","display_name":"Zoë \"Z\" Müller","auth_user":"203","password":"fx-sip-203-secret"}' >/dev/null
  api POST /accounts '{"extension":"204","display_name":"Dave Late","password":"fx-sip-204-secret"}' >/dev/null
  api POST /accounts '{"extension":"205","display_name":"Unused","password":"fx-sip-205-secret"}' >/dev/null
  api PATCH /accounts/202 '{"display_name":"Bob Builder (Sales)"}' >/dev/null

  api POST /key-profiles '{"name":"desk","description":"Front desk layout","keys":[
    {"position":1,"type":"line","line":1},
    {"position":2,"type":"blf","value":"202","label":"Bob \"B\" <ü>","pickup_code":"*8"},
    {"position":3,"type":"speed_dial","value":"5551234","label":"Support"}]}' >/dev/null
  api POST /key-profiles '{"name":"spare","keys":[{"position":1,"type":"dnd"}]}' >/dev/null

  # A window of 1 s that the sweeper (every 5 s) records as expired.
  api POST /devices '{"mac":"00:15:65:AA:BB:03","model":"T46S","accounts":["204"],
    "menu_password":"1357","web_password":"fx-web-0003"}' >/dev/null
  local expired=
  for _ in $(seq 100); do
    case "$(api GET '/audit?mac=001565aabb03')" in *'"disclosure.expired"'*) expired=1 && break ;; esac
    sleep 0.2
  done
  [ -n "$expired" ] || { echo "window did not expire" >&2; exit 1; }
  # After the expiry: a fetch without secrets, sighting fields recorded.
  [ "$(fetch 001565aabb03.cfg 'Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:03')" = 200 ]

  api PUT /settings '{"disclosure_window_seconds":86400}' >/dev/null

  # Two accounts in line order, a key profile, own keys, overrides,
  # passwords; then the phone's first fetch consumes its window.
  api POST /devices '{"mac":"805ec0aabb01","model":"T54W","label":"Reception desk","accounts":["201","202"],
    "key_profile":"desk","keys":[{"position":4,"type":"blf","value":"203","label":"Zoë"},
    {"module":1,"position":1,"type":"speed_dial","value":"5550001","label":"Lobby"}],
    "overrides":{"ntp_server":"ntp2.fixture.example","timezone":"Europe/Paris","language":"fr","web_language":"en","tone_scheme":"FR"},
    "menu_password":"2468","web_password":"fx-web-0001"}' >/dev/null
  [ "$(fetch 805ec0aabb01.cfg 'Yealink SIP-T54W 96.86.0.100 80:5e:c0:aa:bb:01')" = 200 ]

  # Accounts in the other order; its window stays open (one day).
  api POST /devices '{"mac":"00-04-13-AA-BB-02","vendor":"snom","model":"D785","label":"Sales","accounts":["203","201"],
    "menu_password":"86420","web_password":"fx-web-0002"}' >/dev/null
  api PUT /devices/000413aabb02/keys '[{"position":1,"type":"line","account":"203"},
    {"position":2,"type":"line","account":"201"},{"position":3,"type":"park","value":"700","label":"Park"}]' >/dev/null

  # No accounts: no window.
  api POST /devices '{"mac":"000413aabb04","model":"D717","label":"Spare","key_profile":"spare",
    "overrides":{"language":"it"},"menu_password":"9999","web_password":"fx-web-0004"}' >/dev/null

  # An unknown phone asks: it lands in the inbox as unassigned (404).
  [ "$(fetch 805ec0aabb05.cfg 'Yealink SIP-T46U 108.86.0.20 80:5e:c0:aa:bb:05')" = 404 ]
}

# snapshot prints what the old API answers, as one JSON object.
snapshot() {
  printf '{\n"settings": %s,\n"accounts": %s,\n"key_profiles": %s,\n"devices": %s,\n"audit": %s\n}\n' \
    "$(api GET /settings)" "$(api GET /accounts)" "$(api GET /key-profiles)" \
    "$(api GET /devices)" "$(api GET '/audit?limit=1000')"
}

# run_old NAME DB-FLAG...: start the old release, populate, snapshot into
# autoprov-593256a.NAME.json, stop it.
run_old() {
  local name=$1
  shift
  local port
  port=$(free_port 48080)
  base=http://127.0.0.1:$port
  mkdir -p "$work/$name"
  AUTOPROV_ADMIN_TOKEN=$token "$work/autoprov-$rev" serve --data "$work/$name" --http "127.0.0.1:$port" --tftp "" "$@" \
    >"$work/$name.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -sf "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "$base/healthz" >/dev/null || { cat "$work/$name.log" >&2; exit 1; }
  populate
  snapshot >"$here/autoprov-$rev.$name.json"
  kill -TERM "$server_pid"
  wait "$server_pid" || { cat "$work/$name.log" >&2; exit 1; }
  server_pid=
}

echo "== sqlite"
run_old sqlite
db=$work/sqlite/autoprov.db
# A clean stop checkpoints the WAL into the file; make sure of it.
[ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ]
[ ! -e "$db-wal" ] || { echo "$db-wal left behind" >&2; exit 1; }
cp "$db" "$here/autoprov-$rev.db"

echo "== postgres ($pg_bin)"
if [ "$(id -u)" = 0 ]; then chown postgres: "$pg_dir"; fi
pg_port=$(free_port 55532)
as_postgres "'$pg_bin/initdb' -D '$pg_dir/data' -A trust -U postgres -E UTF8" >"$work/initdb.log" 2>&1 ||
  { cat "$work/initdb.log" >&2; exit 1; }
as_postgres "'$pg_bin/pg_ctl' -D '$pg_dir/data' -w -t 60 -l '$pg_dir/log' \
  -o '-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off' start" >/dev/null ||
  { cat "$pg_dir/log" >&2; exit 1; }
"$pg_bin/psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -d postgres -c 'CREATE DATABASE autoprov_fixture'
dsn="postgres://postgres@127.0.0.1:$pg_port/autoprov_fixture?sslmode=disable"
run_old pg --db "$dsn"
"$pg_bin/pg_dump" --no-owner --no-privileges --column-inserts -d "$dsn" >"$here/autoprov-$rev.pg.sql"

echo "== wrote"
ls -l "$here"/autoprov-$rev.*
