/*
 * hq_idem: Idempotency-Key. A key belongs to the register that sent it
 * (its token's store and register). A 2xx reply is stored with the
 * request's fingerprint in the very transaction that made its effects,
 * and kept for good (HQ-API.md asks for at least 7 days); a non-2xx reply
 * is never stored, so that request is handled afresh when it comes again.
 *
 * While a request is being handled its key is "in flight" (a list in
 * memory, under db_lock): the same request again gets 409
 * request_in_progress, another request under that key 422.
 */
#include "tests/hq/hq.h"

#include <gnutls/crypto.h>
#include <stdlib.h>
#include <string.h>

struct inflight {
	char store[HQ_ID_MAX], reg[HQ_ID_MAX], key[HQ_KEY_MAX];
	uint8_t hash[32];
	struct inflight *next;
};

static struct inflight *flying; /* under db_lock */
static sqlite3_stmt *st_get, *st_put;

int idem_init(void)
{
	st_get = db_prepare("SELECT hash, status, body FROM idem WHERE store = ?1 AND register = ?2"
	                    " AND key = ?3");
	st_put = db_prepare("INSERT OR REPLACE INTO idem(store, register, key, hash, status, body,"
	                    " created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	return st_get && st_put ? 0 : -1;
}

/* idem_hash: SHA-256 over method, NUL, path, NUL, body. Two requests are
 * "the same" when method, path and (decompressed) body are. */
void idem_hash(const char *method, const char *path, const char *body, size_t len,
               uint8_t out[32])
{
	gnutls_hash_hd_t h;

	memset(out, 0, 32);
	if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
		return;
	gnutls_hash(h, method, strlen(method) + 1);
	gnutls_hash(h, path, strlen(path) + 1);
	gnutls_hash(h, body, len);
	gnutls_hash_deinit(h, out);
}

static struct inflight **find(const char *store, const char *reg, const char *key)
{
	struct inflight **p;

	for (p = &flying; *p; p = &(*p)->next)
		if (!strcmp((*p)->key, key) && !strcmp((*p)->store, store) && !strcmp((*p)->reg, reg))
			return p;
	return p;
}

/* idem_begin: decides what a POST under key is: new (now in flight), a
 * replay of a stored reply (copied into *stored, replayed set), another
 * request under a used key, or a replay of one still in flight. */
enum idem_state idem_begin(const char *store, const char *reg, const char *key,
                           const uint8_t hash[32], struct hq_reply *stored)
{
	enum idem_state st = IDEM_ERROR;
	struct inflight **p, *n;
	int rc;

	db_lock();
	p = find(store, reg, key);
	if (*p) {
		st = memcmp((*p)->hash, hash, 32) == 0 ? IDEM_BUSY : IDEM_MISMATCH;
		goto cleanup;
	}
	sqlite3_bind_text(st_get, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_get, 2, reg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_get, 3, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st_get);
	if (rc == SQLITE_ROW) {
		const void *h = sqlite3_column_blob(st_get, 0);
		if (sqlite3_column_bytes(st_get, 0) != 32 || memcmp(h, hash, 32) != 0) {
			st = IDEM_MISMATCH;
			goto cleanup;
		}
		if (reply_raw(stored, (unsigned)sqlite3_column_int(st_get, 1),
		              sqlite3_column_blob(st_get, 2), (size_t)sqlite3_column_bytes(st_get, 2),
		              NULL) < 0)
			goto cleanup;
		stored->replayed = true;
		st = IDEM_REPLAY;
		goto cleanup;
	}
	if (rc != SQLITE_DONE) {
		db_log_error("idempotency lookup");
		goto cleanup;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		goto cleanup;
	util_copy(n->store, sizeof(n->store), store);
	util_copy(n->reg, sizeof(n->reg), reg);
	util_copy(n->key, sizeof(n->key), key);
	memcpy(n->hash, hash, 32);
	n->next = flying;
	flying = n;
	st = IDEM_NEW;
cleanup:
	db_done(st_get);
	db_unlock();
	return st;
}

/* idem_store: keeps a 2xx reply under key (caller: db_lock, transaction). */
int idem_store(const char *store, const char *reg, const char *key, const uint8_t hash[32],
               const struct hq_reply *rp)
{
	int rc = 0;

	sqlite3_bind_text(st_put, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_put, 2, reg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_put, 3, key, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st_put, 4, hash, 32, SQLITE_STATIC);
	sqlite3_bind_int(st_put, 5, (int)rp->status);
	sqlite3_bind_blob(st_put, 6, rp->body ? rp->body : "", (int)rp->len, SQLITE_STATIC);
	sqlite3_bind_int64(st_put, 7, clock_ms());
	if (sqlite3_step(st_put) != SQLITE_DONE) {
		db_log_error("idempotency store");
		rc = -1;
	}
	db_done(st_put);
	return rc;
}

void idem_end(const char *store, const char *reg, const char *key)
{
	struct inflight **p, *n;

	db_lock();
	p = find(store, reg, key);
	n = *p;
	if (n) {
		*p = n->next;
		free(n);
	}
	db_unlock();
}
