#!/bin/bash
# 1a-search: `posagent customer search` as a cashier types (issue 13).
#
# What happens: customers with accented names, addresses and look-alike
# emails, phones and names are made here, then searched with words in any
# order, without accents, by address, and by exact values; an address is
# edited; and a database of the previous schema (search text not folded, no
# address text) is upgraded by the next command.
# What must hold: every word must match, in any order and whatever the
# spacing; case and accents are ignored on both sides (João, Müller,
# Ørsted, Ñúñez, Straße found without their marks, and "joão" finds Joao);
# address line 1, city and postal code are searched, and an edited address
# is found by its new text only; results come exact match first (local
# number, account, email, phone), then names whose words start with the
# search words, then the rest, newest first within each; names and phone
# digits have indexes of their own (schema 6) that follow every edit, and
# an update that changes no indexed column leaves the search indexes
# alone; the upgrade folds the rows already there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
setup
expect_rc 0 pa init

mk() { expect_rc 0 pa --json customer create "$@" && jget .local_number; }
# found TEXT: the local numbers (or accounts) found, in order
found() {
	expect_rc 0 pa --json customer search "$@"
	jq -r 'map(.account // .local_number) | join(" ")' "$T/out"
}
want() { # TEXT EXPECTED
	local got
	got=$(found "$1")
	[ "$got" = "$2" ] || fail "search '$1' found '$got', expected '$2'"
}

C1=$(mk --first-name João --last-name Müller --email jm@example.com)            # R01-000001
C2=$(mk --first-name Ana --last-name Silva --phone "+351 911 234 567")          # 2
C3=$(mk --first-name Ørsted --last-name Ñúñez --email "costa@example.com")      # 3
C4=$(mk --first-name Rosa --last-name Marques --email rosa@example.com)         # 4
C5=$(mk --first-name Tomás --last-name Amaro --email "acosta@example.com" \
	--phone "+351 911 234 5678")                                              # 5
C6=$(mk --first-name Joao --last-name Marques)                                 # 6
C7=$(mk --kind organization --organization "Łódź Straße GmbH")                 # 7
expect_rc 0 pa --json customer address add "$C2" --line1 "Rua Augusta 1" --city Lisboa --postal-code 1100-048 \
	--country PT --purpose delivery
A2=$(jget .async_id)
expect_rc 0 pa customer address add "$C4" --line1 "Praça São João 9" --city Évora --postal-code 7000-001 --country PT
before=$(db_sum)

check "several words in any order, each must match, whatever the spacing"
want "silva ana" "$C2"
want "Ana  Silva" "$C2"
want "  ana silva  " "$C2"
want "silva an" "$C2"
want "ana marques" ""
want "marques" "$C6 $C4"

check "case and accents ignored on both sides, plus ß, ø, ł"
want "joao" "$C6 $C1 $C4"   # C4: an address in Praça São João
want "JOÃO müller" "$C1"
want "muller" "$C1"
want "orsted nunez" "$C3"
want "ØRSTED" "$C3"
want "lodz strasse" "$C7"
want "tomas" "$C5"
want "Jo" "$C6 $C1 $C4"

check "address line 1, city and postal code"
want "augusta" "$C2"
want "lisboa ana" "$C2"
want "1100-048" "$C2"
want "1100" "$C2"
want "evora" "$C4"
want "sao joao" "$C4"
want "praca rosa" "$C4"

check "best first: exact email, local number and phone; then name starts; then the rest; newest first in each"
want "costa@example.com" "$C3 $C5"
want "mar" "$C6 $C4 $C5"
want "R01-000001" "$C1"
want "+351 911 234 567" "$C2 $C5"
want "ros" "$C4"
[ "$(db_sum)" = "$before" ] || fail "search changed the database"

check "an edited address is found by its new text only"
expect_rc 0 pa customer address edit "$A2" --city Porto --line1 "Avenida dos Aliados 10"
want "porto" "$C2"
want "lisboa" ""
want "augusta" ""
want "aliados silva" "$C2"

check "text output: one line per customer, in the same order"
expect_rc 0 pa customer search mar
[ "$(cut -c1-10 "$T/out" | tr '\n' ' ')" = "$C6 $C4 $C5 " ] || fail "text search is not in rank order"

check "names and phone digits have indexes of their own, kept by every change and only by a real one"
id2=$(sql "SELECT id FROM customer WHERE local_number = '$C2'")
[ "$(sql "SELECT -rowid FROM customer_name_fts WHERE customer_name_fts MATCH 'silv*'")" = "$id2" ] ||
	fail "the name index does not hold Ana Silva under silv"
[ "$(sql "SELECT -rowid FROM customer_phone_fts WHERE customer_phone_fts MATCH '\"234\" AND \"567\"' ORDER BY rowid")" = "$(sql "SELECT id FROM customer WHERE phone_digits LIKE '%234567%' ORDER BY id DESC")" ] ||
	fail "the phone index does not hold the phones with 234567"
want "234 567" "$C5 $C2"
want "911 234 5678" "$C5"
expect_rc 0 pa customer edit "$C2" --last-name Silveira --phone "+351 960 000 001"
want "silveira" "$C2"
want "silva" ""
want "234 567" "$C5"
want "000 001" "$C2"
[ -z "$(sql "SELECT rowid FROM customer_name_fts WHERE customer_name_fts MATCH 'silva'")" ] ||
	fail "the old name stayed in the name index"
segs=$(sql "SELECT group_concat(id) FROM (SELECT id FROM customer_tri_data ORDER BY id)")
sql "UPDATE customer SET search_name = search_name, email = email, state = state"
[ "$(sql "SELECT group_concat(id) FROM (SELECT id FROM customer_tri_data ORDER BY id)")" = "$segs" ] ||
	fail "an update that changed no indexed column rewrote the search index"
expect_rc 0 pa customer edit "$C2" --last-name Silva --phone "+351 911 234 567"

check "a database of the previous schema is upgraded: existing rows folded and addresses indexed"
# The database goes back to just before issue 13's first migration; the
# entries after it (issue 15's maybe_sent columns, issue 13's name and
# phone indexes, issue 14's number triggers and batch members) are undone
# too, to run again.
V=$(grep -oE '/\* [0-9]+ -> [0-9]+: issue 13' "$TOP/common/store.c" | head -1 | awk '{print $2}')
[ -n "$V" ] || fail "issue 13's migration not found in common/store.c"
[ "$(grep -cE '/\* [0-9]+ -> [0-9]+:' "$TOP/common/store.c")" = $((V + 4)) ] ||
	fail "a migration after issue 14's batch members: undo it here as well"
sql "DROP TRIGGER customer_number_gone; DROP TRIGGER customer_number_moved;
	ALTER TABLE batch DROP COLUMN members;
	CREATE TABLE batch_member (batch INTEGER NOT NULL REFERENCES batch(id), seq INTEGER NOT NULL,
	 kind TEXT NOT NULL CHECK (kind IN ('customer','address','txn','customer_update','address_update')),
	 row INTEGER NOT NULL, record_id TEXT NOT NULL, PRIMARY KEY (batch, seq)) WITHOUT ROWID;
	DROP TRIGGER customer_key_ai; DROP TRIGGER customer_key_ad; DROP TRIGGER customer_name_au;
	DROP TRIGGER customer_phone_au; DROP TABLE customer_name_fts; DROP TABLE customer_phone_fts;
	ALTER TABLE customer DROP COLUMN maybe_sent; ALTER TABLE address DROP COLUMN maybe_sent;
	DROP TRIGGER customer_ai; DROP TRIGGER customer_au; DROP TRIGGER customer_ad;
	DROP TRIGGER address_search_ai; DROP TRIGGER address_search_au; DROP TRIGGER address_search_ad;
	DROP TRIGGER address_search_stale; DROP TABLE customer_tri; DROP TABLE customer_word;
	ALTER TABLE customer DROP COLUMN address_text; ALTER TABLE address DROP COLUMN search_text;
	UPDATE customer SET search_name = trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' '
	  || coalesce(organization_name, ''));
	CREATE VIRTUAL TABLE customer_tri USING fts5(search_name, email, phone_digits, local_number,
	  account, content='customer', content_rowid='id', tokenize='trigram');
	CREATE VIRTUAL TABLE customer_word USING fts5(search_name, email, phone, local_number,
	  account, content='customer', content_rowid='id', prefix='1 2', detail='none');
	INSERT INTO customer_tri(customer_tri) VALUES ('rebuild');
	INSERT INTO customer_word(customer_word) VALUES ('rebuild');
	CREATE TRIGGER customer_ai AFTER INSERT ON customer BEGIN
	 INSERT INTO customer_tri(rowid, search_name, email, phone_digits, local_number, account)
	  VALUES (new.id, new.search_name, new.email, new.phone_digits, new.local_number, new.account);
	 INSERT INTO customer_word(rowid, search_name, email, phone, local_number, account)
	  VALUES (new.id, new.search_name, new.email, new.phone, new.local_number, new.account);
	END;
	CREATE TRIGGER customer_au AFTER UPDATE OF search_name, email, phone, phone_digits,
	 local_number, account ON customer BEGIN
	 INSERT INTO customer_tri(customer_tri, rowid, search_name, email, phone_digits, local_number, account)
	  VALUES ('delete', old.id, old.search_name, old.email, old.phone_digits, old.local_number, old.account);
	 INSERT INTO customer_word(customer_word, rowid, search_name, email, phone, local_number, account)
	  VALUES ('delete', old.id, old.search_name, old.email, old.phone, old.local_number, old.account);
	 INSERT INTO customer_tri(rowid, search_name, email, phone_digits, local_number, account)
	  VALUES (new.id, new.search_name, new.email, new.phone_digits, new.local_number, new.account);
	 INSERT INTO customer_word(rowid, search_name, email, phone, local_number, account)
	  VALUES (new.id, new.search_name, new.email, new.phone, new.local_number, new.account);
	END;
	PRAGMA user_version = $V;"
[ "$(sql "SELECT count(*) FROM customer_tri WHERE customer_tri MATCH '\"joao\"'")" = 1 ] ||
	fail "the old-schema copy is not as the old code left it"
want "muller joao" "$C1"
[ "$(sql "PRAGMA user_version")" = $((V + 4)) ] || fail "the database was not upgraded"
[ "$(sql "SELECT count(*) FROM sqlite_master WHERE name = 'batch_member'")" = 0 ] ||
	fail "the upgrade left the table of batch members"
want "porto" "$C2"
want "evora sao" "$C4"
want "lodz" "$C7"

echo "ok"
