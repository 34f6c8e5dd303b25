/*
 * hq_auth: bearer tokens. Each file DIR/tokens/STORE-REGISTER.token holds
 * one token (one line) and maps it to exactly that (store, register); the
 * files are read at start-up, so a test may add a register by writing one
 * and restarting. A revocation (admin "revoke") is kept in the database
 * and survives restarts; the token then answers 401 like an unknown one.
 */
#include "tests/hq/hq.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_MAX 256

static sqlite3_stmt *st_put, *st_get, *st_count, *st_revoke, *st_restore;

/* read_token: the first line of path, without its newline, into tok.
 * Returns 0, or -1 when unreadable, empty or too long. */
static int read_token(const char *path, char tok[TOKEN_MAX])
{
	FILE *f = fopen(path, "r");
	int rc = -1;
	size_t n;

	if (!f)
		return -1;
	if (!fgets(tok, TOKEN_MAX, f))
		goto cleanup;
	n = strcspn(tok, "\r\n");
	if (n == 0 || (tok[n] == '\0' && n == TOKEN_MAX - 1))
		goto cleanup;
	tok[n] = '\0';
	rc = 0;
cleanup:
	fclose(f);
	return rc;
}

/* load_one: registers the token of file name (STORE-REGISTER.token). */
static int load_one(const char *dir, const char *name)
{
	char path[4096], store[HQ_ID_MAX], tok[TOKEN_MAX];
	const char *dash = strchr(name, '-'), *dot = strrchr(name, '.');
	int rc = -1;

	if (!dash || !dot || dot < dash || strcmp(dot, ".token") != 0 || dash == name ||
	    dot == dash + 1 || (size_t)(dash - name) >= HQ_ID_MAX ||
	    (size_t)(dot - dash - 1) >= HQ_ID_MAX)
		return 0; /* not a token file: ignored */
	memcpy(store, name, (size_t)(dash - name));
	store[dash - name] = '\0';
	snprintf(path, sizeof(path), "%s/tokens/%s", dir, name);
	if (read_token(path, tok) < 0) {
		fprintf(stderr, "hq: %s: no token in it\n", path);
		return -1;
	}
	sqlite3_bind_text(st_put, 1, tok, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st_put, 2, store, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st_put, 3, dash + 1, (int)(dot - dash - 1), SQLITE_TRANSIENT);
	if (sqlite3_step(st_put) != SQLITE_DONE)
		db_log_error("token");
	else
		rc = 0;
	db_done(st_put);
	return rc;
}

/* auth_init: prepares the statements and loads every token file of
 * DIR/tokens. Returns 0, or -1 with a message on stderr. */
int auth_init(const char *dir)
{
	char path[4096];
	struct dirent *de;
	DIR *d = NULL;
	int rc = -1;

	st_put = db_prepare("INSERT OR REPLACE INTO tokens(token, store, register) VALUES(?1, ?2, ?3)");
	st_get = db_prepare("SELECT t.store, t.register FROM tokens t WHERE t.token = ?1 AND NOT EXISTS"
	                    " (SELECT 1 FROM revoked r WHERE r.store = t.store AND r.register = t.register)");
	st_count = db_prepare("SELECT count(*) FROM tokens WHERE store = ?1 AND register = ?2");
	st_revoke = db_prepare("INSERT OR IGNORE INTO revoked(store, register) VALUES(?1, ?2)");
	st_restore = db_prepare("DELETE FROM revoked WHERE store = ?1 AND register = ?2");
	if (!st_put || !st_get || !st_count || !st_revoke || !st_restore)
		return -1;
	snprintf(path, sizeof(path), "%s/tokens", dir);
	d = opendir(path);
	if (!d) {
		fprintf(stderr, "hq: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && load_one(dir, de->d_name) < 0)
			goto cleanup;
	rc = 0;
cleanup:
	closedir(d);
	return rc;
}

/* auth_lookup: "Bearer TOKEN" (scheme in any case) to its register.
 * Returns 0 with store and reg filled, or -1. */
int auth_lookup(const char *authorization, char store[HQ_ID_MAX], char reg[HQ_ID_MAX])
{
	const char *tok;
	int rc = -1;

	if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0)
		return -1;
	tok = authorization + 7;
	while (*tok == ' ')
		tok++;
	if (!*tok || strlen(tok) >= TOKEN_MAX)
		return -1;
	db_lock();
	sqlite3_bind_text(st_get, 1, tok, -1, SQLITE_STATIC);
	if (sqlite3_step(st_get) == SQLITE_ROW) {
		util_copy(store, HQ_ID_MAX, (const char *)sqlite3_column_text(st_get, 0));
		util_copy(reg, HQ_ID_MAX, (const char *)sqlite3_column_text(st_get, 1));
		rc = 0;
	}
	db_done(st_get);
	db_unlock();
	return rc;
}

/* auth_revoke: marks (store, reg) revoked or not. Returns the number of
 * tokens of that register (0: no such register), or -1. */
int auth_revoke(const char *store, const char *reg, bool on)
{
	sqlite3_stmt *st = on ? st_revoke : st_restore;
	int n = -1;

	db_lock();
	sqlite3_bind_text(st, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, reg, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		db_log_error("revoke");
		goto cleanup;
	}
	sqlite3_bind_text(st_count, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_count, 2, reg, -1, SQLITE_STATIC);
	if (sqlite3_step(st_count) == SQLITE_ROW)
		n = sqlite3_column_int(st_count, 0);
cleanup:
	db_done(st);
	db_done(st_count);
	db_unlock();
	return n;
}
