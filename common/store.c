#include "common/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/fold.h"
#include "common/record.h"
#include "common/restore.h"
#include "common/util.h"

/*
 * The schema, one entry per version: migrations[i] takes a database from
 * user_version i to i + 1. Append only; never edit a released entry
 * (0.1.0 shipped version 1). Each change of the schema is one new entry
 * at the end, with a comment naming what it is for.
 */
static const char *const migrations[] = {
	/* 0 -> 1: the first schema. */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"

	/* Customers made here (origin local) or learnt from HQ (origin hq). */
	"CREATE TABLE customer ("
	" id INTEGER PRIMARY KEY,"
	" async_id TEXT UNIQUE,"            /* NULL for a customer HQ created */
	" local_number TEXT UNIQUE,"        /* REGISTER-NNNNNN, NULL from HQ */
	" account TEXT UNIQUE,"             /* HQ account, NULL until synced */
	" origin TEXT NOT NULL CHECK (origin IN ('local','hq')),"
	" state TEXT NOT NULL CHECK (state IN ('pending','uploaded','synced','rejected')),"
	" kind TEXT NOT NULL,"
	" first_name TEXT, last_name TEXT, organization_name TEXT,"
	" email TEXT, phone TEXT, language TEXT,"
	" attributes TEXT NOT NULL DEFAULT '{}',"   /* JSON object */
	" search_name TEXT NOT NULL DEFAULT '',"    /* names, for search */
	" phone_digits TEXT,"                       /* digits of phone */
	" created_at TEXT NOT NULL,"
	" waiting_since INTEGER,"                   /* unix time, while pending */
	" batch_id INTEGER,"                        /* open batch holding it */
	" last_code TEXT, last_message TEXT,"       /* HQ's last refusal */
	" updated_at INTEGER NOT NULL);"
	"CREATE INDEX customer_queue ON customer(id) WHERE state = 'pending' AND batch_id IS NULL;"
	"CREATE INDEX customer_state ON customer(state, waiting_since);"
	"CREATE INDEX customer_email ON customer(email COLLATE NOCASE) WHERE email IS NOT NULL;"
	"CREATE INDEX customer_phone ON customer(phone_digits) WHERE phone_digits IS NOT NULL;"
	"CREATE INDEX customer_batch ON customer(batch_id) WHERE batch_id IS NOT NULL;"

	/* Search: trigram index (3+ characters anywhere) and word index with
	 * prefixes of 1 and 2 characters (short text at word starts). */
	"CREATE VIRTUAL TABLE customer_tri USING fts5(search_name, email, phone_digits, local_number,"
	" account, content='customer', content_rowid='id', tokenize='trigram');"
	"CREATE VIRTUAL TABLE customer_word USING fts5(search_name, email, phone, local_number,"
	" account, content='customer', content_rowid='id', prefix='1 2', detail='none');"
	"CREATE TRIGGER customer_ai AFTER INSERT ON customer BEGIN"
	" INSERT INTO customer_tri(rowid, search_name, email, phone_digits, local_number, account)"
	"  VALUES (new.id, new.search_name, new.email, new.phone_digits, new.local_number, new.account);"
	" INSERT INTO customer_word(rowid, search_name, email, phone, local_number, account)"
	"  VALUES (new.id, new.search_name, new.email, new.phone, new.local_number, new.account);"
	"END;"
	"CREATE TRIGGER customer_au AFTER UPDATE OF search_name, email, phone, phone_digits,"
	" local_number, account ON customer BEGIN"
	" INSERT INTO customer_tri(customer_tri, rowid, search_name, email, phone_digits, local_number, account)"
	"  VALUES ('delete', old.id, old.search_name, old.email, old.phone_digits, old.local_number, old.account);"
	" INSERT INTO customer_word(customer_word, rowid, search_name, email, phone, local_number, account)"
	"  VALUES ('delete', old.id, old.search_name, old.email, old.phone, old.local_number, old.account);"
	" INSERT INTO customer_tri(rowid, search_name, email, phone_digits, local_number, account)"
	"  VALUES (new.id, new.search_name, new.email, new.phone_digits, new.local_number, new.account);"
	" INSERT INTO customer_word(rowid, search_name, email, phone, local_number, account)"
	"  VALUES (new.id, new.search_name, new.email, new.phone, new.local_number, new.account);"
	"END;"

	"CREATE TABLE address ("
	" id INTEGER PRIMARY KEY,"
	" async_id TEXT UNIQUE,"
	" customer_id INTEGER NOT NULL REFERENCES customer(id),"
	" origin TEXT NOT NULL CHECK (origin IN ('local','hq')),"
	" state TEXT NOT NULL CHECK (state IN ('pending','uploaded','rejected')),"
	" purpose TEXT, is_primary INTEGER NOT NULL DEFAULT 0,"
	" line1 TEXT, line2 TEXT, city TEXT, region TEXT, postal_code TEXT, country TEXT,"
	" created_at TEXT NOT NULL,"
	" waiting_since INTEGER, batch_id INTEGER, last_code TEXT, last_message TEXT,"
	" updated_at INTEGER NOT NULL);"
	"CREATE INDEX address_customer ON address(customer_id);"
	"CREATE INDEX address_queue ON address(id) WHERE state = 'pending' AND batch_id IS NULL;"
	"CREATE INDEX address_state ON address(state, waiting_since);"
	"CREATE INDEX address_batch ON address(batch_id) WHERE batch_id IS NOT NULL;"

	/* Transactions (sales, returns, customer orders). body is the
	 * HQ-API record without its customer member: the reference sent is
	 * made when the record is frozen into a batch (account when known). */
	"CREATE TABLE txn ("
	" id INTEGER PRIMARY KEY,"
	" txn_id TEXT NOT NULL UNIQUE,"
	" kind TEXT NOT NULL,"
	" business_date TEXT NOT NULL,"
	" customer_id INTEGER REFERENCES customer(id),"
	" total_minor INTEGER NOT NULL,"
	" body TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('pending','uploaded','rejected')),"
	" waiting_since INTEGER, batch_id INTEGER, last_code TEXT, last_message TEXT,"
	" updated_at INTEGER NOT NULL);"
	"CREATE INDEX txn_date ON txn(business_date, state);"
	"CREATE INDEX txn_customer ON txn(customer_id) WHERE customer_id IS NOT NULL;"
	"CREATE INDEX txn_queue ON txn(id) WHERE state = 'pending' AND batch_id IS NULL;"
	"CREATE INDEX txn_state ON txn(state, waiting_since);"
	"CREATE INDEX txn_batch ON txn(batch_id) WHERE batch_id IS NOT NULL;"
	"CREATE TABLE tender (txn INTEGER NOT NULL REFERENCES txn(id), type TEXT NOT NULL,"
	" amount_minor INTEGER NOT NULL);"
	"CREATE INDEX tender_txn ON tender(txn);"

	/* Upload batches, frozen before their first send: the exact body and
	 * key every retry sends. Members point back at their records. */
	"CREATE TABLE batch ("
	" id INTEGER PRIMARY KEY,"
	" batch_id TEXT NOT NULL UNIQUE,"
	" idem_key TEXT NOT NULL,"
	" body BLOB NOT NULL,"
	" records INTEGER NOT NULL,"
	" sent INTEGER NOT NULL DEFAULT 0,"       /* 1 once a send began */
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" flagged TEXT,"                          /* why a person should look (400) */
	" last_status INTEGER, last_error TEXT,"
	" created_at INTEGER NOT NULL);"
	"CREATE TABLE batch_member ("
	" batch INTEGER NOT NULL REFERENCES batch(id), seq INTEGER NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('customer','address','txn')),"
	" row INTEGER NOT NULL, record_id TEXT NOT NULL,"
	" PRIMARY KEY (batch, seq)) WITHOUT ROWID;"

	/* End-of-day statements, frozen before their first POST: a row here
	 * closes its business date to new transactions. */
	"CREATE TABLE statement ("
	" business_date TEXT PRIMARY KEY,"
	" statement_id TEXT NOT NULL UNIQUE,"
	" idem_key TEXT NOT NULL,"
	" body TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('frozen','posted','refused')),"
	" posting_id TEXT,"
	" frozen_at INTEGER NOT NULL, posted_at INTEGER,"
	" last_code TEXT, last_message TEXT) WITHOUT ROWID;",

	/* 1 -> 2: issue 11, address ids (state synced), addresses named by transactions */
	"CREATE TABLE address_v2 ("
	" id INTEGER PRIMARY KEY,"
	" async_id TEXT UNIQUE,"
	" address_id TEXT UNIQUE,"                  /* HQ's id, NULL until synced */
	" customer_id INTEGER NOT NULL REFERENCES customer(id),"
	" origin TEXT NOT NULL CHECK (origin IN ('local','hq')),"
	" state TEXT NOT NULL CHECK (state IN ('pending','uploaded','synced','rejected')),"
	" purpose TEXT, is_primary INTEGER NOT NULL DEFAULT 0,"
	" line1 TEXT, line2 TEXT, city TEXT, region TEXT, postal_code TEXT, country TEXT,"
	" created_at TEXT NOT NULL,"
	" waiting_since INTEGER, batch_id INTEGER, last_code TEXT, last_message TEXT,"
	" removed INTEGER NOT NULL DEFAULT 0,"     /* HQ no longer lists it; a sale names it */
	" updated_at INTEGER NOT NULL);"
	"INSERT INTO address_v2(id, async_id, customer_id, origin, state, purpose, is_primary, line1, line2, city,"
	" region, postal_code, country, created_at, waiting_since, batch_id, last_code, last_message, updated_at)"
	" SELECT id, async_id, customer_id, origin, CASE origin WHEN 'hq' THEN 'synced' ELSE state END, purpose,"
	" is_primary, line1, line2, city, region, postal_code, country, created_at, waiting_since, batch_id,"
	" last_code, last_message, updated_at FROM address;"
	"DROP TABLE address;"
	"ALTER TABLE address_v2 RENAME TO address;"
	"CREATE INDEX address_customer ON address(customer_id);"
	"CREATE INDEX address_queue ON address(id) WHERE state = 'pending' AND batch_id IS NULL;"
	"CREATE INDEX address_state ON address(state, waiting_since);"
	"CREATE INDEX address_batch ON address(batch_id) WHERE batch_id IS NOT NULL;"
	"ALTER TABLE txn ADD COLUMN delivery_address_id INTEGER REFERENCES address(id);"
	"ALTER TABLE txn ADD COLUMN invoice_address_id INTEGER REFERENCES address(id);"
	"CREATE INDEX txn_delivery ON txn(delivery_address_id) WHERE delivery_address_id IS NOT NULL;"
	"CREATE INDEX txn_invoice ON txn(invoice_address_id) WHERE invoice_address_id IS NOT NULL;"
	/* Room for the update kinds of issue 12 in batch members. */
	"CREATE TABLE batch_member_v2 ("
	" batch INTEGER NOT NULL REFERENCES batch(id), seq INTEGER NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('customer','address','txn','customer_update','address_update')),"
	" row INTEGER NOT NULL, record_id TEXT NOT NULL,"
	" PRIMARY KEY (batch, seq)) WITHOUT ROWID;"
	"INSERT INTO batch_member_v2 SELECT batch, seq, kind, row, record_id FROM batch_member;"
	"DROP TABLE batch_member;"
	"ALTER TABLE batch_member_v2 RENAME TO batch_member;",

	/* 2 -> 3: issue 12, edits after upload: update records, HQ's base
	 * values under them, a customer's HQ version (batch members of
	 * the update kinds came with 1 -> 2). */
	"CREATE TABLE record_update ("
	" id INTEGER PRIMARY KEY,"
	" update_id TEXT NOT NULL UNIQUE,"
	" kind TEXT NOT NULL CHECK (kind IN ('customer_update','address_update')),"
	" row INTEGER NOT NULL,"                    /* customer.id or address.id */
	" customer_id INTEGER NOT NULL,"            /* the customer (of the address) */
	" fields TEXT NOT NULL,"                    /* JSON object: what changed */
	" state TEXT NOT NULL CHECK (state IN ('pending','accepted','rejected')),"
	" version INTEGER,"                         /* HQ's customer version after it */
	" created_at TEXT NOT NULL,"
	" waiting_since INTEGER, batch_id INTEGER, last_code TEXT, last_message TEXT,"
	" updated_at INTEGER NOT NULL);"
	"CREATE INDEX record_update_row ON record_update(kind, row);"
	"CREATE INDEX record_update_customer ON record_update(customer_id);"
	"CREATE INDEX record_update_queue ON record_update(id) WHERE state = 'pending' AND batch_id IS NULL;"
	"CREATE INDEX record_update_state ON record_update(state, waiting_since);"
	"CREATE INDEX record_update_batch ON record_update(batch_id) WHERE batch_id IS NOT NULL;"
	/* HQ's values of a record while updates of it live here: what
	 * --discard-update restores, and what the overlay starts from. */
	"CREATE TABLE record_base ("
	" kind TEXT NOT NULL, row INTEGER NOT NULL, fields TEXT NOT NULL,"
	" PRIMARY KEY (kind, row)) WITHOUT ROWID;"
	"ALTER TABLE customer ADD COLUMN version INTEGER;",   /* of HQ's last customer change applied */

	/* 3 -> 4: issue 13, accent-folded search over names, contacts and addresses */
	/* search_name and address.search_text hold text folded by common/fold
	 * (the code writes them; fold() here only for the rows already there);
	 * search_name starts with a space, so that " silv" in the trigram
	 * index is a name word starting with "silv" (the best-match tier);
	 * customer.address_text is every address's text, kept by the triggers
	 * below (an address written without search_text is indexed as it is).
	 * Both FTS tables are made anew from the rows. */
	"ALTER TABLE customer ADD COLUMN address_text TEXT;"
	"ALTER TABLE address ADD COLUMN search_text TEXT;"
	"DROP TRIGGER customer_ai;"
	"DROP TRIGGER customer_au;"
	"DROP TABLE customer_tri;"
	"DROP TABLE customer_word;"
	"UPDATE customer SET search_name = ' ' || fold(search_name) WHERE search_name <> '';"
	"UPDATE address SET search_text = fold(coalesce(line1, '') || ' ' || coalesce(city, '') || ' '"
	" || coalesce(postal_code, ''));"
	"UPDATE customer SET address_text = (SELECT group_concat(a.search_text, ' ') FROM address a"
	" WHERE a.customer_id = customer.id AND a.removed = 0) WHERE id IN (SELECT customer_id FROM address);"
	"CREATE VIRTUAL TABLE customer_tri USING fts5(search_name, email, phone_digits, local_number,"
	" account, address_text, content='customer', content_rowid='id', tokenize='trigram');"
	"CREATE VIRTUAL TABLE customer_word USING fts5(search_name, email, phone, local_number,"
	" account, address_text, content='customer', content_rowid='id', prefix='1 2', detail='full');"
	"INSERT INTO customer_tri(customer_tri) VALUES ('rebuild');"
	"INSERT INTO customer_word(customer_word) VALUES ('rebuild');"
	"CREATE TRIGGER customer_ai AFTER INSERT ON customer BEGIN"
	" INSERT INTO customer_tri(rowid, search_name, email, phone_digits, local_number, account, address_text)"
	"  VALUES (new.id, new.search_name, new.email, new.phone_digits, new.local_number, new.account,"
	"  new.address_text);"
	" INSERT INTO customer_word(rowid, search_name, email, phone, local_number, account, address_text)"
	"  VALUES (new.id, new.search_name, new.email, new.phone, new.local_number, new.account, new.address_text);"
	"END;"
	"CREATE TRIGGER customer_au AFTER UPDATE OF search_name, email, phone, phone_digits,"
	" local_number, account, address_text ON customer BEGIN"
	" INSERT INTO customer_tri(customer_tri, rowid, search_name, email, phone_digits, local_number, account,"
	"  address_text) VALUES ('delete', old.id, old.search_name, old.email, old.phone_digits, old.local_number,"
	"  old.account, old.address_text);"
	" INSERT INTO customer_word(customer_word, rowid, search_name, email, phone, local_number, account,"
	"  address_text) VALUES ('delete', old.id, old.search_name, old.email, old.phone, old.local_number,"
	"  old.account, old.address_text);"
	" INSERT INTO customer_tri(rowid, search_name, email, phone_digits, local_number, account, address_text)"
	"  VALUES (new.id, new.search_name, new.email, new.phone_digits, new.local_number, new.account,"
	"  new.address_text);"
	" INSERT INTO customer_word(rowid, search_name, email, phone, local_number, account, address_text)"
	"  VALUES (new.id, new.search_name, new.email, new.phone, new.local_number, new.account, new.address_text);"
	"END;"
	"CREATE TRIGGER customer_ad AFTER DELETE ON customer BEGIN"
	" INSERT INTO customer_tri(customer_tri, rowid, search_name, email, phone_digits, local_number, account,"
	"  address_text) VALUES ('delete', old.id, old.search_name, old.email, old.phone_digits, old.local_number,"
	"  old.account, old.address_text);"
	" INSERT INTO customer_word(customer_word, rowid, search_name, email, phone, local_number, account,"
	"  address_text) VALUES ('delete', old.id, old.search_name, old.email, old.phone, old.local_number,"
	"  old.account, old.address_text);"
	"END;"
	/* An address's text in its customer's row: the folded search_text, or
	 * the raw fields when a writer left it NULL. */
	"CREATE TRIGGER address_search_ai AFTER INSERT ON address BEGIN"
	" UPDATE customer SET address_text = (SELECT group_concat(coalesce(a.search_text, coalesce(a.line1, '')"
	"  || ' ' || coalesce(a.city, '') || ' ' || coalesce(a.postal_code, '')), ' ') FROM address a"
	"  WHERE a.customer_id = customer.id AND a.removed = 0) WHERE id = new.customer_id;"
	"END;"
	"CREATE TRIGGER address_search_au AFTER UPDATE OF line1, city, postal_code, search_text, customer_id, removed"
	" ON address BEGIN"
	" UPDATE customer SET address_text = (SELECT group_concat(coalesce(a.search_text, coalesce(a.line1, '')"
	"  || ' ' || coalesce(a.city, '') || ' ' || coalesce(a.postal_code, '')), ' ') FROM address a"
	"  WHERE a.customer_id = customer.id AND a.removed = 0) WHERE id IN (old.customer_id, new.customer_id);"
	"END;"
	"CREATE TRIGGER address_search_ad AFTER DELETE ON address BEGIN"
	" UPDATE customer SET address_text = (SELECT group_concat(coalesce(a.search_text, coalesce(a.line1, '')"
	"  || ' ' || coalesce(a.city, '') || ' ' || coalesce(a.postal_code, '')), ' ') FROM address a"
	"  WHERE a.customer_id = customer.id AND a.removed = 0) WHERE id = old.customer_id;"
	"END;"
	/* A writer that changes the fields without search_text: the raw fields
	 * are indexed until the code folds them again. */
	"CREATE TRIGGER address_search_stale AFTER UPDATE OF line1, city, postal_code ON address"
	" WHEN new.search_text IS NOT NULL AND new.search_text IS old.search_text BEGIN"
	" UPDATE address SET search_text = NULL WHERE id = new.id;"
	"END;",

	/* 4 -> 5: issue 15, restored copies: records possibly sent */
	/* maybe_sent: 1 when this row came from a restored backup while not
	 * known to have reached HQ (common/restore.c): the lost database may
	 * have sent it, so an edit of it must travel as an update. */
	("ALTER TABLE customer ADD COLUMN maybe_sent INTEGER NOT NULL DEFAULT 0;"
	 "ALTER TABLE address ADD COLUMN maybe_sent INTEGER NOT NULL DEFAULT 0;"),

	/* 5 -> 6: issue 13, search as cashiers type without a doclist per
	 * keystroke. The names tier and the phone digits get indexes of
	 * their own, small (detail='none': rowids only, no positions) and
	 * keyed by -id, so that FTS5's forward walk is newest first and a
	 * LIMIT stops it after a page or two instead of reading a whole
	 * doclist backwards (common/search.c says how each is queried).
	 * customer_name_fts: the name words, with prefix indexes of 1 to 4
	 * characters (a word typed so far is one doclist). customer_phone_fts:
	 * the phone digits in trigrams (digits anywhere in the phone). And
	 * customer_au now fires only when an indexed column really changed:
	 * before, every state change of a customer rewrote both big FTS
	 * indexes. */
	"CREATE VIRTUAL TABLE customer_name_fts USING fts5(search_name, content='', prefix='1 2 3 4', detail='none', columnsize=0);"
	"CREATE VIRTUAL TABLE customer_phone_fts USING fts5(phone_digits, content='', tokenize='trigram', detail='none', columnsize=0);"
	"INSERT INTO customer_name_fts(rowid, search_name) SELECT -id, search_name FROM customer"
	" WHERE search_name <> '' ORDER BY id DESC;"
	"INSERT INTO customer_phone_fts(rowid, phone_digits) SELECT -id, phone_digits FROM customer"
	" WHERE phone_digits IS NOT NULL ORDER BY id DESC;"
	"CREATE TRIGGER customer_key_ai AFTER INSERT ON customer BEGIN"
	" INSERT INTO customer_name_fts(rowid, search_name) SELECT -new.id, new.search_name WHERE new.search_name <> '';"
	" INSERT INTO customer_phone_fts(rowid, phone_digits) SELECT -new.id, new.phone_digits"
	"  WHERE new.phone_digits IS NOT NULL;"
	"END;"
	"CREATE TRIGGER customer_key_ad AFTER DELETE ON customer BEGIN"
	" INSERT INTO customer_name_fts(customer_name_fts, rowid, search_name) SELECT 'delete', -old.id, old.search_name"
	"  WHERE old.search_name <> '';"
	" INSERT INTO customer_phone_fts(customer_phone_fts, rowid, phone_digits) SELECT 'delete', -old.id, old.phone_digits"
	"  WHERE old.phone_digits IS NOT NULL;"
	"END;"
	"CREATE TRIGGER customer_name_au AFTER UPDATE OF search_name ON customer"
	" WHEN old.search_name IS NOT new.search_name BEGIN"
	" INSERT INTO customer_name_fts(customer_name_fts, rowid, search_name) SELECT 'delete', -old.id, old.search_name"
	"  WHERE old.search_name <> '';"
	" INSERT INTO customer_name_fts(rowid, search_name) SELECT -new.id, new.search_name WHERE new.search_name <> '';"
	"END;"
	"CREATE TRIGGER customer_phone_au AFTER UPDATE OF phone_digits ON customer"
	" WHEN old.phone_digits IS NOT new.phone_digits BEGIN"
	" INSERT INTO customer_phone_fts(customer_phone_fts, rowid, phone_digits) SELECT 'delete', -old.id, old.phone_digits"
	"  WHERE old.phone_digits IS NOT NULL;"
	" INSERT INTO customer_phone_fts(rowid, phone_digits) SELECT -new.id, new.phone_digits"
	"  WHERE new.phone_digits IS NOT NULL;"
	"END;"
	"DROP TRIGGER customer_au;"
	"CREATE TRIGGER customer_au AFTER UPDATE OF search_name, email, phone, phone_digits,"
	" local_number, account, address_text ON customer"
	" WHEN old.search_name IS NOT new.search_name OR old.email IS NOT new.email OR old.phone IS NOT new.phone"
	" OR old.phone_digits IS NOT new.phone_digits OR old.local_number IS NOT new.local_number"
	" OR old.account IS NOT new.account OR old.address_text IS NOT new.address_text BEGIN"
	" INSERT INTO customer_tri(customer_tri, rowid, search_name, email, phone_digits, local_number, account,"
	"  address_text) VALUES ('delete', old.id, old.search_name, old.email, old.phone_digits, old.local_number,"
	"  old.account, old.address_text);"
	" INSERT INTO customer_word(customer_word, rowid, search_name, email, phone, local_number, account,"
	"  address_text) VALUES ('delete', old.id, old.search_name, old.email, old.phone, old.local_number,"
	"  old.account, old.address_text);"
	" INSERT INTO customer_tri(rowid, search_name, email, phone_digits, local_number, account, address_text)"
	"  VALUES (new.id, new.search_name, new.email, new.phone_digits, new.local_number, new.account,"
	"  new.address_text);"
	" INSERT INTO customer_word(rowid, search_name, email, phone, local_number, account, address_text)"
	"  VALUES (new.id, new.search_name, new.email, new.phone, new.local_number, new.account, new.address_text);"
	"END;",

	/* 6 -> 7: issue 14, fewer pages written on the two hot paths.
	 * A create no longer writes meta local_seq at each number (it is a
	 * floor: common/customer.c), so a customer deleted (a fold) or
	 * renumbered raises it to the number it gave up, which is then never
	 * handed out again. A batch keeps its members in its own row, as one
	 * JSON array [[kind, row, record id], ...] in send order, instead of
	 * a row each in batch_member that every freeze inserted and every
	 * answer deleted. */
	"CREATE TRIGGER customer_number_gone AFTER DELETE ON customer WHEN old.local_number IS NOT NULL BEGIN"
	" INSERT OR IGNORE INTO meta(key, value) VALUES ('local_seq', '0');"
	" UPDATE meta SET value = CAST(CAST(substr(old.local_number, instr(old.local_number, '-') + 1) AS INTEGER) AS TEXT)"
	"  WHERE key = 'local_seq' AND CAST(value AS INTEGER)"
	"  < CAST(substr(old.local_number, instr(old.local_number, '-') + 1) AS INTEGER);"
	"END;"
	"CREATE TRIGGER customer_number_moved AFTER UPDATE OF local_number ON customer"
	" WHEN old.local_number IS NOT NULL AND old.local_number IS NOT new.local_number BEGIN"
	" INSERT OR IGNORE INTO meta(key, value) VALUES ('local_seq', '0');"
	" UPDATE meta SET value = CAST(CAST(substr(old.local_number, instr(old.local_number, '-') + 1) AS INTEGER) AS TEXT)"
	"  WHERE key = 'local_seq' AND CAST(value AS INTEGER)"
	"  < CAST(substr(old.local_number, instr(old.local_number, '-') + 1) AS INTEGER);"
	"END;"
	"ALTER TABLE batch ADD COLUMN members TEXT NOT NULL DEFAULT '[]';"
	/* an aggregate over an ordered subquery keeps its order (SQLite
	 * never flattens such a subquery into an aggregate) */
	"UPDATE batch SET members = (SELECT json_group_array(json_array(kind, row, record_id)) FROM"
	" (SELECT kind, row, record_id FROM batch_member m WHERE m.batch = batch.id ORDER BY seq));"
	"DROP TABLE batch_member;",
};

#define N_MIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int store_schema_version(void)
{
	return N_MIGRATIONS;
}

int store_fail(struct store *st, struct pa_err *e, const char *what)
{
	int rc = st && st->db ? sqlite3_extended_errcode(st->db) : SQLITE_ERROR;
	const char *msg = st && st->db ? sqlite3_errmsg(st->db) : "no database";

	/* SQLite says "disk I/O error" for a write or a mapping that failed
	 * for want of space: the system's errno tells. */
	if (st && st->db && (rc & 0xff) == SQLITE_IOERR && sqlite3_system_errno(st->db) == ENOSPC)
		rc = SQLITE_FULL;
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return err_set(e, EX_TEMPFAIL, "database_busy", NULL,
		               "%s: the database stayed locked by another process: %s", what, msg);
	case SQLITE_FULL:
		return err_set(e, EX_IOERR, "disk_full", NULL, "%s: disk full; nothing was written", what);
	case SQLITE_READONLY:
		return err_set(e, EX_IOERR, "database_readonly", NULL, "%s: database %s is read-only", what,
		               st ? st->path : "");
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return err_set(e, EX_IOERR, "database_unreadable", NULL, "%s: %s is not a usable posagent database: %s",
		               what, st ? st->path : "", msg);
	default:
		return err_set(e, EX_IOERR, "database_error", NULL, "%s: %s", what, msg);
	}
}

sqlite3_stmt *store_prepare(struct store *st, const char *sql, struct pa_err *e)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		store_fail(st, e, "prepare");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

sqlite3_stmt *store_stmt(struct store *st, const char *sql, struct pa_err *e)
{
	size_t i, n = sizeof(st->cache) / sizeof(st->cache[0]), free_slot = n;
	sqlite3_stmt *s = NULL;

	for (i = 0; i < n; i++) {
		if (st->cache[i].sql == sql && !st->cache[i].busy) {
			st->cache[i].busy = 1;
			return st->cache[i].s;
		}
		if (!st->cache[i].sql && free_slot == n)
			free_slot = i;
	}
	if (sqlite3_prepare_v3(st->db, sql, -1, free_slot < n ? SQLITE_PREPARE_PERSISTENT : 0, &s, NULL) != SQLITE_OK) {
		store_fail(st, e, "prepare");
		sqlite3_finalize(s);
		return NULL;
	}
	if (free_slot < n) {
		st->cache[free_slot].sql = sql;
		st->cache[free_slot].s = s;
		st->cache[free_slot].busy = 1;
	}
	return s;
}

void store_release(struct store *st, sqlite3_stmt *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < sizeof(st->cache) / sizeof(st->cache[0]); i++) {
		if (st->cache[i].s == s) {
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			st->cache[i].busy = 0;
			return;
		}
	}
	sqlite3_finalize(s);
}

int store_step(struct store *st, sqlite3_stmt *s, const char *what, struct pa_err *e)
{
	int step = sqlite3_step(s);

	if (step == SQLITE_ROW)
		return 1;
	if (step == SQLITE_DONE)
		return 0;
	store_fail(st, e, what);
	return -1;
}

int store_bind_text(sqlite3_stmt *s, int idx, const char *v)
{
	return v ? sqlite3_bind_text(s, idx, v, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(s, idx);
}

const char *store_col_text(sqlite3_stmt *s, int col)
{
	return (const char *)sqlite3_column_text(s, col);
}

/* Runs constant SQL with no results. Returns 0 or a status. */
static int exec(struct store *st, const char *sql, struct pa_err *e, const char *what)
{
	if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return store_fail(st, e, what);
	return 0;
}

int store_begin(struct store *st, bool write, struct pa_err *e)
{
	return exec(st, write ? "BEGIN IMMEDIATE" : "BEGIN", e, "begin");
}

int store_commit(struct store *st, struct pa_err *e)
{
	int rc = exec(st, "COMMIT", e, "commit");
	if (rc)
		store_rollback(st);
	return rc;
}

void store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Reads PRAGMA user_version. Returns it, or -1 with *e. */
static int user_version(struct store *st, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "PRAGMA user_version", e);
	int v = -1;

	if (!s)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	else
		store_fail(st, e, "read schema version");
	sqlite3_finalize(s);
	return v;
}

/* Brings the schema to store_schema_version() inside one write transaction,
 * one migration at a time. A database with no schema at all (a 0-byte
 * file, say) is made only by init (create): for any other command it is
 * EX_IOERR saying to run init, as for a missing file, never silently a new
 * empty register. Returns 0 or a status. */
static int migrate(struct store *st, bool create, struct pa_err *e)
{
	int v, rc;
	char sql[64];

	v = user_version(st, e);
	if (v < 0)
		return e->status;
	if (v == N_MIGRATIONS)
		return 0;
	if (v == 0 && !create)
		return err_set(e, EX_IOERR, "database_missing", NULL,
		               "database %s is empty (no posagent data): run `posagent init` first", st->path);
	if (v > N_MIGRATIONS)
		return err_set(e, EX_IOERR, "database_too_new", NULL,
		               "database %s has schema version %d; this posagent knows up to %d: upgrade posagent",
		               st->path, v, N_MIGRATIONS);
	if ((rc = store_begin(st, true, e)))
		return rc;
	v = user_version(st, e); /* another process may have migrated meanwhile */
	if (v < 0) {
		store_rollback(st);
		return e->status;
	}
	if (v == 0 && !create) {
		store_rollback(st);
		return err_set(e, EX_IOERR, "database_missing", NULL,
		               "database %s is empty (no posagent data): run `posagent init` first", st->path);
	}
	for (; v < N_MIGRATIONS; v++) {
		if ((rc = exec(st, migrations[v], e, "upgrade schema"))) {
			store_rollback(st);
			return rc;
		}
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if ((rc = exec(st, sql, e, "upgrade schema"))) {
			store_rollback(st);
			return rc;
		}
	}
	return store_commit(st, e);
}

/* SQL function fold(text): common/fold's folding, for the migration that
 * folds the rows already stored. NULL stays NULL. */
static void sql_fold(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *in = (const char *)sqlite3_value_text(argv[0]);
	char out[1024];

	(void)argc;
	if (!in) {
		sqlite3_result_null(ctx);
		return;
	}
	fold_text(in, out, sizeof(out));
	sqlite3_result_text(ctx, out, -1, SQLITE_TRANSIENT);
}

/* Makes an empty database file with mode 0660 (before the umask), so that
 * SQLite's -wal and -shm, which copy the file's mode, are 0660 too. */
static int create_file(const char *path, struct pa_err *e)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0660);

	if (fd < 0 && errno != EEXIST)
		return err_set(e, EX_IOERR, "database_create", NULL, "cannot create database %s: %s", path,
		               strerror(errno));
	if (fd >= 0)
		close(fd);
	return 0;
}

/* Whether path's write-ahead log was lost: its -shm index says the log
 * holds committed frames not yet copied into the database (isInit, and
 * mxFrame above the checkpoint's nBackfill, in SQLite's native byte
 * order) but path-wal is gone (deleted or never copied along after a
 * crash). Opening would silently go back to the last checkpoint and lose
 * acknowledged records. A log every frame of which was copied into the
 * database (a complete checkpoint, then a crash before the log was
 * deleted) loses nothing when it goes. */
static bool wal_lost(const char *path)
{
	char shm[1100], wal[1100];
	unsigned char h[100];
	struct stat sb;
	uint32_t frames, backfilled;
	FILE *f;
	bool lost = false;

	snprintf(shm, sizeof(shm), "%s-shm", path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (stat(wal, &sb) == 0 || errno != ENOENT || !(f = fopen(shm, "rbe")))
		return false;
	if (fread(h, 1, sizeof(h), f) == sizeof(h) && h[12] == 1) {
		memcpy(&frames, h + 16, sizeof(frames));      /* WalIndexHdr.mxFrame */
		memcpy(&backfilled, h + 96, sizeof(backfilled)); /* WalCkptInfo.nBackfill */
		lost = frames > backfilled;
	}
	fclose(f);
	return lost;
}

/* The busy handler: waits for another connection's write lock in short
 * sleeps (200 us for the first 10 ms, then 1 ms, then 10 ms), about 15 s
 * in all, then gives up (SQLITE_BUSY: EX_TEMPFAIL). SQLite's own
 * sqlite3_busy_timeout sleeps 1, 2, 5, 10... 100 ms: the service's two
 * threads and a command meet on the lock every time HQ answers, and each
 * meeting cost up to tens of milliseconds of sleeping past the release. */
static int busy_wait(void *arg, int count)
{
	struct timespec ts = {0, count < 50 ? 200000 : count < 1050 ? 1000000 : 10000000};

	(void)arg;
	if (count >= 2450)
		return 0;
	nanosleep(&ts, NULL);
	return 1;
}

/* This process's open stores, counted under stores_lock. An fcntl lock
 * belongs to the process, not to a descriptor: closing any descriptor of
 * a file drops every lock the process holds on it, SQLite's too. wal_lost()
 * opens and closes the -shm file itself, so it runs only while this process
 * holds no connection, and no other thread opens or closes one meanwhile.
 * (Found by `make fleet`: the service's three threads open at once, one
 * read the -shm the moment another had just locked it, and 14 services of
 * 200 ran without SQLite's dead-man switch on the -shm; the next command
 * took the wal-index for abandoned and truncated it under the service:
 * SIGBUS, and two writers that no longer saw each other's locks.) */
static pthread_mutex_t stores_lock = PTHREAD_MUTEX_INITIALIZER;
static int stores_open;

static void close_store(struct store *st);

/* store_open's work, under stores_lock; alone: no other store of this
 * process is open (only then is the -wal checked with wal_lost). */
static int open_store(const char *path, bool create, bool alone, struct store **out, struct pa_err *e)
{
	struct store *st = NULL;
	struct stat sb;
	int rc = 0;
	bool fresh = false; /* made here: empty, no page written yet */

	*out = NULL;
	if (stat(path, &sb) != 0) {
		if (errno != ENOENT || !create) {
			rc = err_set(e, EX_IOERR, "database_missing", NULL,
			             errno == ENOENT ? "database %s does not exist: run `posagent init` first"
			                             : "database %s cannot be reached: %s",
			             path, strerror(errno));
			goto cleanup;
		}
		if ((rc = create_file(path, e)))
			goto cleanup;
		fresh = true;
	} else if (S_ISDIR(sb.st_mode)) {
		rc = err_set(e, EX_IOERR, "database_is_directory", NULL,
		             "database path %s is a directory, not a database file", path);
		goto cleanup;
	} else if (!S_ISREG(sb.st_mode)) {
		rc = err_set(e, EX_IOERR, "database_unreadable", NULL, "database path %s is not a regular file", path);
		goto cleanup;
	} else if (sb.st_size == 0 && !create) {
		/* Left by a crash, a full disk or a `touch`: not a register.
		 * Refused before SQLite writes its header into it. */
		rc = err_set(e, EX_IOERR, "database_missing", NULL,
		             "database %s is empty (0 bytes, no posagent data): run `posagent init` first", path);
		goto cleanup;
	} else if ((sb.st_mode & 0222) == 0) {
		/* Marked read-only: refuse even for root, who could write it. */
		rc = err_set(e, EX_IOERR, "database_readonly", NULL, "database %s is read-only (mode %04o)", path,
		             (unsigned)(sb.st_mode & 07777));
		goto cleanup;
	}
	if (alone && wal_lost(path)) {
		rc = err_set(e, EX_IOERR, "database_unreadable", NULL,
		             "database %s lost its write-ahead log (%s-wal is missing while %s-shm says it held "
		             "records): opening it would drop them; restore the latest backup or find the -wal file",
		             path, path, path);
		goto cleanup;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		rc = err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory");
		goto cleanup;
	}
	util_copy(st->path, sizeof(st->path), path);
	st->lock_fd = -1;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = store_fail(st, e, "open database");
		goto cleanup;
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_handler(st->db, busy_wait, NULL);
	if (sqlite3_db_readonly(st->db, "main") == 1) {
		rc = err_set(e, EX_IOERR, "database_readonly", NULL, "database %s is read-only", path);
		goto cleanup;
	}
	/* A new database gives pages back as retention frees them (issue 16;
	 * common/retain.c converts older ones): only possible before the
	 * first table exists. */
	if (fresh && (rc = exec(st, "PRAGMA auto_vacuum=INCREMENTAL", e, "open database")))
		goto cleanup;
	if ((rc = exec(st, "PRAGMA journal_mode=WAL", e, "open database")) ||
	    (rc = exec(st, "PRAGMA synchronous=FULL", e, "open database")) ||
	    (rc = exec(st, "PRAGMA foreign_keys=ON", e, "open database")) ||
	    /* 1 MiB of page cache (SQLite's default is 2): the work here is
	     * index seeks and small transactions, and the service must stay
	     * small whatever the backlog. */
	    (rc = exec(st, "PRAGMA cache_size=-1024", e, "open database")))
		goto cleanup;
	if (sqlite3_create_function(st->db, "fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, NULL,
	                            sql_fold, NULL, NULL) != SQLITE_OK) {
		rc = store_fail(st, e, "open database");
		goto cleanup;
	}
	if ((rc = migrate(st, create, e)))
		goto cleanup;
	rc = restore_adopt(st, e);
cleanup:
	if (rc) {
		close_store(st);
		st = NULL;
	}
	*out = st;
	return rc;
}

/* Statement journals of up to this many bytes stay in memory. A write
 * inside an explicit transaction (BEGIN IMMEDIATE ... COMMIT, as every
 * create is) keeps one, in case that statement alone must be undone; an
 * INSERT into customer rewrites some 27 pages of its tables and FTS
 * indexes, beyond SQLite's default of 64 KiB, so each such create made,
 * wrote and unlinked a file in /var/tmp. Bounded: a bigger journal still
 * spills to a file. */
#define STMT_JOURNAL_RAM (4 << 20)

/* Process-wide SQLite settings, once, before SQLite's first use. Besides
 * the statement journals: no bulk allocation for page caches. By default
 * each page cache (the database's, and that of every ephemeral table a
 * statement makes, such as INSERT ... RETURNING's) starts with a block of
 * 20 pages and writes a header into each at once: 86 KiB touched for a
 * table of one row. Pages are now allocated as they are used (measured:
 * a create from the CLI touches 18 pages fewer, about 0.25 ms on a
 * machine where a first touch costs 14 us). And no memory statistics:
 * nothing here reads them (sqlite3_memory_used, a soft heap limit), and
 * keeping them took a global mutex around every allocation: 10% of the
 * instructions of a create from the CLI (callgrind, 7.2 to 6.5 million). */
static void configure_sqlite(void)
{
	/* Deliberately unchecked: each fails (SQLITE_MISUSE) only when SQLite
	 * was already initialized by something else in this process (a test
	 * opening a database directly), and then SQLite's defaults apply,
	 * which cost time, never correctness. */
	(void)sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STMT_JOURNAL_RAM);
	(void)sqlite3_config(SQLITE_CONFIG_PAGECACHE, NULL, 0, 0);
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int store_open(const char *path, bool create, struct store **out, struct pa_err *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	int rc;

	pthread_once(&once, configure_sqlite);
	pthread_mutex_lock(&stores_lock);
	rc = open_store(path, create, stores_open == 0, out, e);
	if (!rc)
		stores_open++;
	pthread_mutex_unlock(&stores_lock);
	return rc;
}

void store_identity(struct store *st, const char *store_id, const char *reg, const char *currency)
{
	util_copy(st->store_id, sizeof(st->store_id), store_id);
	util_copy(st->reg, sizeof(st->reg), reg);
	util_copy(st->currency, sizeof(st->currency), currency);
}

/* Closes st (NULL: nothing) without counting it: for open_store's
 * failures. */
static void close_store(struct store *st)
{
	if (!st)
		return;
	store_unlock_upload(st);
	for (size_t i = 0; i < sizeof(st->cache) / sizeof(st->cache[0]); i++)
		sqlite3_finalize(st->cache[i].s);
	if (st->db)
		sqlite3_close_v2(st->db);
	free(st);
}

void store_close(struct store *st)
{
	if (!st)
		return;
	pthread_mutex_lock(&stores_lock);
	close_store(st);
	stores_open--;
	pthread_mutex_unlock(&stores_lock);
}

int store_meta_get(struct store *st, const char *key, char *out, size_t outlen, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, "SELECT value FROM meta WHERE key = ?1", e);
	int rc = 0, step;

	out[0] = '\0';
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		util_copy(out, outlen, store_col_text(s, 0) ? store_col_text(s, 0) : "");
	else if (step != SQLITE_DONE)
		rc = store_fail(st, e, "read bookkeeping");
	store_release(st, s);
	return rc;
}

int store_meta_set(struct store *st, const char *key, const char *value, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, "INSERT INTO meta(key, value) VALUES (?1, ?2)"
	                                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value", e);
	int rc = 0;

	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "write bookkeeping");
	store_release(st, s);
	return rc;
}

int store_exec_ii(struct store *st, const char *sql, int64_t a, int64_t b, struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, sql, e);
	int rc = 0, n;

	if (!s)
		return e->status;
	n = sqlite3_bind_parameter_count(s);
	if (n >= 1)
		sqlite3_bind_int64(s, 1, a);
	if (n >= 2)
		sqlite3_bind_int64(s, 2, b);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "write");
	store_release(st, s);
	return rc;
}

int store_query_i(struct store *st, const char *sql, int64_t a, int64_t b, int64_t dflt, int64_t *out,
                  struct pa_err *e)
{
	sqlite3_stmt *s = store_stmt(st, sql, e);
	int rc = 0, n, step;

	*out = dflt;
	if (!s)
		return e->status;
	n = sqlite3_bind_parameter_count(s);
	if (n >= 1)
		sqlite3_bind_int64(s, 1, a);
	if (n >= 2)
		sqlite3_bind_int64(s, 2, b);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		if (sqlite3_column_type(s, 0) != SQLITE_NULL)
			*out = sqlite3_column_int64(s, 0);
	} else if (step != SQLITE_DONE) {
		rc = store_fail(st, e, "read");
	}
	store_release(st, s);
	return rc;
}

int store_batch_drop(struct store *st, int64_t batch, struct pa_err *e)
{
	return rec_batch_release(st, batch, e);
}

int store_set_durable(struct store *st, bool full, struct pa_err *e)
{
	return store_exec_ii(st, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", 0, 0, e);
}

int store_short_reads(struct store *st, struct pa_err *e)
{
	return store_exec_ii(st, "PRAGMA cache_size=-128", 0, 0, e);
}

int store_lock_upload(struct store *st, bool wait, struct pa_err *e)
{
	char path[1100];
	int fd;

	if (st->lock_fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%s-sync.lock", st->path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
	if (fd < 0)
		return err_set(e, EX_IOERR, "lock", NULL, "cannot open %s: %s", path, strerror(errno));
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) != 0) {
		int interrupted = errno == EINTR;
		close(fd);
		return err_set(e, interrupted ? EX_INTERRUPTED : EX_TEMPFAIL, "busy", NULL,
		               interrupted ? "interrupted while waiting for another posagent process to finish uploading"
		                           : "another posagent process is uploading");
	}
	st->lock_fd = fd;
	st->lock_gen++;
	return 0;
}

void store_unlock_upload(struct store *st)
{
	if (st && st->lock_fd >= 0) {
		close(st->lock_fd);
		st->lock_fd = -1;
	}
}
