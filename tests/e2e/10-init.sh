#!/bin/bash
# 10-init: `posagent init` and the database file.
#
# What happens: commands run before init, then init (twice), then init and
# other commands against databases that are older, newer, a directory,
# read-only (mode 0444) or not a database at all.
# What must hold: only init creates the database, mode 0660 at most even
# under umask 000; init is safe to repeat and keeps the data; an older
# schema is upgraded to the current user_version; every unusable database
# is exit 74 with a one-line message saying what is wrong, and is left as
# it was.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup

# the schema version: one migration per "/* N -> N+1" entry in common/store.c
SCHEMA=$(grep -cE "^\s*/\* [0-9]+ -> [0-9]+:" "$TOP/common/store.c")
[ "$SCHEMA" -ge 1 ] || fail "no migrations found in common/store.c"

mode_ok() { # FILE: no bit outside 0660
	local m
	m=$(stat -c %a "$1")
	[ $((8#$m & ~8#660)) -eq 0 ] || fail "$1 has mode $m, more than 0660"
}

check "before init: every command exits 74, says to run init, creates nothing"
for cmd in "customer list" "customer show R01-000001" "customer search ana" "customer create --first-name Ana" \
	"customer edit R01-000001 --first-name Bo" "customer address add R01-000001 --line1 L --city C --postal-code P --country PT"; do
	# shellcheck disable=SC2086
	expect_rc 74 pa $cmd
	expect_err "does not exist.*posagent init"
	[ ! -e "$DB" ] || fail "'$cmd' created the database"
done
echo '{}' >"$T/t.json"
expect_rc 74 pa txn record --from-json "$T/t.json"
expect_err "posagent init"
[ ! -e "$DB" ] || fail "txn record created the database"
expect_rc 74 pa --json customer list
expect_json_err database_missing
[ ! -e "$DB" ] || fail "customer list --json created the database"

check "init under umask 000 makes the database mode 0660 at most, schema version $SCHEMA, WAL"
(umask 000 && expect_rc 0 pa init) || exit 1
grep -q "ready" "$T/out" || fail "init printed no confirmation"
[ -f "$DB" ] || fail "init made no database"
mode_ok "$DB"
for f in "$DB-wal" "$DB-shm"; do [ ! -e "$f" ] || mode_ok "$f"; done
[ "$(sql 'PRAGMA user_version')" = "$SCHEMA" ] || fail "user_version is not $SCHEMA"
[ "$(sql 'PRAGMA journal_mode')" = wal ] || fail "the database is not in WAL mode"

check "init again is safe and keeps the data"
expect_rc 0 pa customer create --first-name Ana --last-name Silva
expect_rc 0 pa init
expect_rc 0 pa init
[ "$(sql 'SELECT count(*) FROM customer')" = 1 ] || fail "init lost or added customers"

check "init --json prints {database, schema_version}"
expect_rc 0 pa init --json
[ "$(jget .database)" = "$DB" ] || fail "init --json: database is not $DB"
[ "$(jget .schema_version)" = "$SCHEMA" ] || fail "init --json: schema_version is not $SCHEMA"
expect_rc 0 pa --json init
[ "$(jget .schema_version)" = "$SCHEMA" ] || fail "--json before init: no document"

check "init usage: --help 0, unknown option or argument 64"
expect_rc 0 pa init --help
grep -q "posagent init" "$T/out" || fail "init --help shows no usage"
expect_rc 64 pa init --force
expect_err "unknown option.*--force"
expect_rc 64 pa init now
expect_err "unexpected argument.*now"
expect_rc 64 pa --json init --force
expect_json_err usage

check "an older database (user_version 0, empty file) is upgraded by init"
OLD=$T/old.db
: >"$OLD"
sed "s|^database = .*|database = $OLD|" "$T/pos.conf" >"$T/old.conf"
expect_rc 0 "$POSAGENT_BIN" -c "$T/old.conf" init
[ "$(sqlite3 "$OLD" 'PRAGMA user_version')" = "$SCHEMA" ] || fail "init did not upgrade user_version 0"
[ "$(sqlite3 "$OLD" "SELECT count(*) FROM sqlite_master WHERE name IN ('customer','address','txn','statement','meta')")" = 5 ] ||
	fail "the upgraded database lacks tables"

check "a database without posagent's schema (user_version 0, made by sqlite3) is 74 \"run init\" but for init"
rm -f "$OLD"
sqlite3 "$OLD" 'PRAGMA user_version = 0; PRAGMA journal_mode = WAL; CREATE TABLE scratch(x); DROP TABLE scratch;' >/dev/null
expect_rc 74 "$POSAGENT_BIN" -c "$T/old.conf" customer create --first-name Old
expect_err "posagent init"
[ "$(sqlite3 "$OLD" 'PRAGMA user_version')" = 0 ] || fail "customer create changed the schema"
expect_rc 0 "$POSAGENT_BIN" -c "$T/old.conf" init
expect_rc 0 "$POSAGENT_BIN" -c "$T/old.conf" customer create --first-name Old
[ "$(sqlite3 "$OLD" 'PRAGMA user_version')" = "$SCHEMA" ] || fail "customer create did not upgrade the schema"
[ "$(sqlite3 "$OLD" 'SELECT count(*) FROM customer')" = 1 ] || fail "the customer is not in the upgraded database"

check "a newer database (user_version $((SCHEMA + 1))) is refused with 74 and left as it is"
sqlite3 "$OLD" "PRAGMA user_version = $((SCHEMA + 1))"
before=$(sqlite3 "$OLD" .dump | sha256sum)
for cmd in init "customer list" "customer create --first-name New"; do
	# shellcheck disable=SC2086
	expect_rc 74 "$POSAGENT_BIN" -c "$T/old.conf" $cmd
	expect_err "version $((SCHEMA + 1)).*upgrade posagent"
done
expect_rc 74 "$POSAGENT_BIN" -c "$T/old.conf" --json customer list
expect_json_err database_too_new
[ "$(sqlite3 "$OLD" 'PRAGMA user_version')" = $((SCHEMA + 1)) ] || fail "the newer database was downgraded"
[ "$(sqlite3 "$OLD" .dump | sha256sum)" = "$before" ] || fail "the newer database was changed"

check "a directory as the database path is 74"
mkdir "$T/dir.db"
sed "s|^database = .*|database = $T/dir.db|" "$T/pos.conf" >"$T/dir.conf"
for cmd in init "customer list" "customer create --first-name Dir"; do
	# shellcheck disable=SC2086
	expect_rc 74 "$POSAGENT_BIN" -c "$T/dir.conf" $cmd
	expect_err "directory"
done
expect_rc 74 "$POSAGENT_BIN" -c "$T/dir.conf" --json init
expect_json_err database_is_directory
[ -z "$(ls -A "$T/dir.db")" ] || fail "something was written into the directory"

check "a database in a missing directory is 74 for init"
sed "s|^database = .*|database = $T/nodir/pos.db|" "$T/pos.conf" >"$T/nodir.conf"
expect_rc 74 "$POSAGENT_BIN" -c "$T/nodir.conf" init
expect_err "nodir"
[ ! -e "$T/nodir" ] || fail "init made the missing directory"

check "a read-only database file (mode 0444) is 74, even as root, and stays unchanged"
before=$(db_sum)
chmod 0444 "$DB"
for cmd in init "customer list" "customer create --first-name Ro" "customer edit R01-000001 --first-name Ro"; do
	# shellcheck disable=SC2086
	expect_rc 74 pa $cmd
	expect_err "read-only"
done
echo '{}' >"$T/t.json"
expect_rc 74 pa txn record --from-json "$T/t.json"
expect_rc 74 pa --json customer create --first-name Ro
expect_json_err database_readonly
[ "$(stat -c %a "$DB")" = 444 ] || fail "the agent changed the read-only file's mode"
chmod 0660 "$DB"
[ "$(db_sum)" = "$before" ] || fail "something was stored in the read-only database"

check "a 0-byte database file is 74 \"run posagent init\" for every command but init, and left as it is"
: >"$T/empty.db"
sed "s|^database = .*|database = $T/empty.db|" "$T/pos.conf" >"$T/empty.conf"
printf '{"txn_id":"S0001-R01-9","kind":"cash_and_carry","business_date":"2026-11-25","currency":"EUR","customer":null,"lines":[{"sku":"S","qty":1,"unit_price_minor":100}],"tenders":[{"type":"cash","amount_minor":100}],"total_minor":100}' >"$T/e.json"
for cmd in "customer list" "customer create --first-name Empty" "customer search Ana" "customer show R01-000001" \
	"txn record --from-json $T/e.json" status "eod --check" "backup $T/empty-copy.db"; do
	# shellcheck disable=SC2086
	expect_rc 74 "$POSAGENT_BIN" -c "$T/empty.conf" $cmd
	expect_err "empty.db.*posagent init"
	[ ! -s "$T/empty.db" ] || fail "$cmd wrote into the empty file"
done
expect_rc 1 "$POSAGENT_BIN" -c "$T/empty.conf" doctor
grep -Eq "FAIL +database" "$T/out" || fail "doctor does not FAIL the empty database"
[ ! -s "$T/empty.db" ] || fail "doctor wrote into the empty file"
expect_rc 0 "$POSAGENT_BIN" -c "$T/empty.conf" init
expect_rc 0 "$POSAGENT_BIN" -c "$T/empty.conf" customer list

check "a file that is not a database is 74 and left as it is"
printf 'this is not a database, just text that is long enough to look like a header....\n%.0s' $(seq 64) >"$T/junk.db"
before=$(sha256sum <"$T/junk.db")
sed "s|^database = .*|database = $T/junk.db|" "$T/pos.conf" >"$T/junk.conf"
for cmd in init "customer list" "customer create --first-name Junk"; do
	# shellcheck disable=SC2086
	expect_rc 74 "$POSAGENT_BIN" -c "$T/junk.conf" $cmd
	expect_err "not a usable posagent database|not a database"
done
[ "$(sha256sum <"$T/junk.db")" = "$before" ] || fail "the agent changed a file that is not a database"

echo "ok"
