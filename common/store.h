/*
 * store: the register's local SQLite database.
 *
 * One file holds the customers, addresses and transactions made here (and
 * the customers HQ sends for the store's cache), their sync state and HQ's
 * last answer, the frozen upload batches, the frozen end-of-day statements
 * and the sync bookkeeping (cursor, last upload, last error).
 *
 * Durability: WAL, synchronous=FULL, a busy timeout, BEGIN IMMEDIATE for
 * every read-then-write transaction; a function that writes returns 0 only
 * after its commit. Every statement is prepared; no SQL is built from input.
 * Errors come back as a sysexits status with a struct pa_err filled.
 */
#ifndef POSAGENT_STORE_H
#define POSAGENT_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <cJSON.h>

#include "common/err.h"

/* The schema version this program brings a database to (the number of
 * migrations in common/store.c). */
int store_schema_version(void);

struct store {
	sqlite3 *db;
	char path[1024];
	char store_id[33];  /* [agent] store */
	char reg[33];       /* [agent] register */
	char currency[4];   /* [agent] currency */
	int lock_fd;        /* upload lock, -1 when not held */
	unsigned lock_gen;  /* how many times the upload lock was taken */
	struct {            /* prepared statements kept for reuse (store_stmt) */
		const char *sql; /* the constant SQL text, by address */
		sqlite3_stmt *s;
		int busy;        /* handed out and not yet released */
	} cache[48];
};

/* Opens the database at path. create: make it when missing (init only);
 * otherwise a missing file, a directory, a read-only file or a file that is
 * not a SQLite database is EX_IOERR with a message saying what to do. Sets
 * the pragmas and brings the schema up to store_schema_version() (a newer file
 * than this program knows is EX_IOERR). Refuses a database whose -wal is
 * gone while its -shm says it held commits (checked only while this process
 * has no other store open). Any thread may call it; opens and closes are
 * serialized. Returns 0 with *out, or a status. */
PA_MUST_USE int store_open(const char *path, bool create, struct store **out, struct pa_err *e);

/* Sets the identity used for numbering and checks (from the config). */
void store_identity(struct store *st, const char *store_id, const char *reg, const char *currency);

/* Closes st (NULL: nothing): finalizes its statements, lets go of the
 * upload lock and closes the connection. Any thread may call it. */
void store_close(struct store *st);

/* Transactions: begin (IMMEDIATE when write), commit, rollback.
 * begin/commit return 0 or a status with *e filled (EX_IOERR, EX_TEMPFAIL
 * when the database stayed locked past the busy timeout). */
PA_MUST_USE int store_begin(struct store *st, bool write, struct pa_err *e);
PA_MUST_USE int store_commit(struct store *st, struct pa_err *e);
void store_rollback(struct store *st);

/* Prepares sql (a constant) or returns NULL with *e filled. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql, struct pa_err *e);

/* Turns the last SQLite error into *e (EX_IOERR, or EX_TEMPFAIL for busy,
 * disk full named as such). Returns the status. */
int store_fail(struct store *st, struct pa_err *e, const char *what);

/* Key/value bookkeeping in table meta (cursor, last upload, ...).
 * store_meta_get copies the value into out ("" when absent). */
PA_MUST_USE int store_meta_get(struct store *st, const char *key, char *out, size_t outlen, struct pa_err *e);
PA_MUST_USE int store_meta_set(struct store *st, const char *key, const char *value, struct pa_err *e);

/* Like store_prepare, for statements run often: sql must be a string
 * constant (it is looked up by address); the statement stays prepared for
 * the life of the store. Give it back with store_release, never finalize. */
sqlite3_stmt *store_stmt(struct store *st, const char *sql, struct pa_err *e);

/* Steps s once: 1 when it gave a row, 0 when it is done, -1 with *e
 * filled (EX_IOERR, ...) when the step failed: a failed read must never
 * pass for "not found". */
PA_MUST_USE int store_step(struct store *st, sqlite3_stmt *s, const char *what, struct pa_err *e);

/* Resets and unbinds a statement from store_stmt (finalizes one that did
 * not fit the cache). NULL is fine. */
void store_release(struct store *st, sqlite3_stmt *s);

/* Binds a C string or NULL as SQL NULL. */
int store_bind_text(sqlite3_stmt *s, int idx, const char *v);

/* Column text or NULL. */
const char *store_col_text(sqlite3_stmt *s, int col);



/* Releases an open batch: its members go back to the queue (batch_id
 * NULL) and the batch and its member rows are deleted. Call inside a write
 * transaction. Returns 0 or a status. */
PA_MUST_USE int store_batch_drop(struct store *st, int64_t batch, struct pa_err *e);

/* Runs a constant statement with up to two int64 parameters (?1, ?2) and
 * no result rows. Returns 0 or a status. */
PA_MUST_USE int store_exec_ii(struct store *st, const char *sql, int64_t a, int64_t b, struct pa_err *e);

/* Runs a constant query with up to two int64 parameters and returns the
 * first column of its first row in *out (dflt when there is no row). */
PA_MUST_USE int store_query_i(struct store *st, const char *sql, int64_t a, int64_t b, int64_t dflt, int64_t *out,
                  struct pa_err *e);
/* full: PRAGMA synchronous=FULL (the default: each commit durable before
 * it returns); else NORMAL: atomic and in order, durable with the next
 * FULL commit of any connection (WAL is append-only), lost in a power cut
 * before that. Only for work that can be redone from HQ's answers (an
 * applied reply is replayed under its Idempotency-Key, a change feed is
 * read again from the stored cursor). Not inside a transaction. */
int store_set_durable(struct store *st, bool full, struct pa_err *e);

/* For a command that reads a few rows, prints them and exits (customer
 * show, list, search): a page cache of 128 KiB instead of 1 MiB. Each
 * page read into a cache slot never used before touches new memory, a
 * page fault (about 14 us on the 2-core bench machine); with a small
 * cache the slots are reused, and a page read again comes from the
 * kernel's cache (about 5 us). Not for writers: a transaction's dirty
 * pages must fit in the cache or spill into the WAL early. */
PA_MUST_USE int store_short_reads(struct store *st, struct pa_err *e);

/* The upload lock: one process at a time sends batches. wait: block until
 * it is free (or *stop), else EX_TEMPFAIL "busy" at once. An advisory
 * flock on DATABASE-sync.lock, released by the kernel if the process dies. */
PA_MUST_USE int store_lock_upload(struct store *st, bool wait, struct pa_err *e);
void store_unlock_upload(struct store *st);

#endif
