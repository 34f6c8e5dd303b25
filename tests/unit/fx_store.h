/*
 * fx_store: what a unit test on a real database needs, in one place: a
 * fresh posagent database in a temporary directory (identity
 * S0001/R01/EUR), removed with its directory at the end, and the first
 * column of a query as text.
 */
#ifndef POSAGENT_FX_STORE_H
#define POSAGENT_FX_STORE_H

#include <stdio.h>
#include <stdlib.h>

#include "common/store.h"

struct fx_store {
	char dir[256]; /* the temporary directory */
	char db[300];  /* dir/pos.db */
	struct store *st;
};

/* Makes the directory ($TMPDIR or /tmp, named after test) and opens a new
 * database in it. Returns 0 or -1. */
static inline int fx_store_open(struct fx_store *f, const char *test)
{
	struct pa_err e;

	snprintf(f->dir, sizeof(f->dir), "%s/%s.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", test);
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/pos.db", f->dir);
	if (store_open(f->db, true, &f->st, &e))
		return -1;
	store_identity(f->st, "S0001", "R01", "EUR");
	return 0;
}

/* Closes the database and removes the directory. Returns 0 or -1. */
static inline int fx_store_close(struct fx_store *f)
{
	char cmd[400];

	store_close(f->st);
	f->st = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The first column of the first row of sql on st as text ("" for NULL or
 * no row), in a buffer of its own until the next call; NULL when the SQL
 * does not prepare. */
static inline const char *fx_q(struct store *st, const char *sql)
{
	static char out[512];
	sqlite3_stmt *s = NULL;

	out[0] = '\0';
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		return NULL;
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return out;
}

#endif
