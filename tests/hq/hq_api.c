/*
 * hq_api: the /v1 routes of HQ-API.md.
 *
 * A request is checked in this order: route (404, or 405 with Allow),
 * bearer token (401), the token's store and register against the path
 * (403; the changes feed is per store, so any register of the store may
 * read it), and for a POST: Content-Type application/json (415), then
 * Idempotency-Key (400 missing_idempotency_key, or
 * invalid_idempotency_key when it is not a UUID), then the key's state
 * (stored reply replayed, 409 request_in_progress, 422
 * idempotency_key_reused). Only then is the request handled, inside one
 * transaction that also stores a 2xx reply under its key.
 */
#include "tests/hq/hq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum route {
	R_NONE,
	R_HEALTH,
	R_CHANGES,
	R_BATCHES,
	R_STATEMENTS,
};

typedef int (*post_fn)(const char *store, const char *reg, const char *body, size_t len,
                       struct hq_reply *rp);

/* segment: copies the path segment at *p (up to '/' or the end) into out
 * and moves *p past it. Returns 0, or -1 when empty, too long or holding
 * other than A-Za-z0-9 _ -. */
static int segment(const char **p, char out[HQ_ID_MAX])
{
	size_t n = strcspn(*p, "/");

	if (n == 0 || n >= HQ_ID_MAX || strspn(*p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                                          "0123456789_-") < n)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	return 0;
}

/* parse_route: which endpoint path names, with its store and register. */
static enum route parse_route(const char *path, char store[HQ_ID_MAX], char reg[HQ_ID_MAX])
{
	const char *p = path;

	store[0] = reg[0] = '\0';
	if (!strcmp(path, "/v1/health"))
		return R_HEALTH;
	if (strncmp(p, "/v1/stores/", 11) != 0)
		return R_NONE;
	p += 11;
	if (segment(&p, store) < 0)
		return R_NONE;
	if (!strcmp(p, "/changes"))
		return R_CHANGES;
	if (strncmp(p, "/registers/", 11) != 0)
		return R_NONE;
	p += 11;
	if (segment(&p, reg) < 0)
		return R_NONE;
	if (!strcmp(p, "/batches"))
		return R_BATCHES;
	if (!strcmp(p, "/statements"))
		return R_STATEMENTS;
	return R_NONE;
}

static void delay(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (ms && nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static char revision[16] = HQ_REVISION; /* set once before serving */

void api_set_revision(const char *r)
{
	util_copy(revision, sizeof(revision), r);
}

bool api_legacy(void)
{
	return revision[0] == '\0';
}

/* health: 200 {"status": "ok", "time": HQ's clock, "api": 1, "revision"}
 * (no revision when started with --revision none: an older HQ). */
static void health(struct hq_reply *rp)
{
	cJSON *doc = cJSON_CreateObject();
	char now[21];

	util_rfc3339(clock_now(), now);
	json_add_str(doc, "status", "ok");
	json_add_str(doc, "time", now);
	cJSON_AddNumberToObject(doc, "api", 1);
	if (revision[0])
		json_add_str(doc, "revision", revision);
	reply_json(rp, 200, doc);
}

/* query_long: the query argument name as an integer in [lo, hi], def when
 * absent. Returns 0, or -1 when present but not such an integer. */
static int query_long(const struct hq_request *rq, const char *name, long lo, long hi, long def,
                      long *out)
{
	const char *s = http_query(rq, name);
	char *end;
	long v;

	*out = def;
	if (!s)
		return 0;
	if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 9)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static void changes(const struct hq_request *rq, const char *store, unsigned *delay_ms,
                    struct hq_reply *rp)
{
	long limit, wait_s;

	if (query_long(rq, "limit", 1, 1000, 500, &limit) < 0) {
		reply_error(rp, 400, "invalid_parameter", "limit: an integer from 1 to 1000");
		return;
	}
	if (query_long(rq, "wait", 0, 60, 0, &wait_s) < 0) {
		reply_error(rp, 400, "invalid_parameter", "wait: an integer from 0 to 60 (seconds)");
		return;
	}
	delay(*delay_ms);
	*delay_ms = 0;
	feed_changes(store, http_query(rq, "after"), limit, wait_s, rq->fd, rp);
}

/* is_json_type: Content-Type application/json, parameters allowed. */
static bool is_json_type(const char *ct)
{
	size_t n;

	if (!ct)
		return false;
	n = strcspn(ct, "; \t");
	return n == 16 && strncasecmp(ct, "application/json", 16) == 0;
}

/* handle: runs fn in one transaction; a 2xx reply is stored under key in
 * that same transaction, anything else is rolled back. */
static bool handle(post_fn fn, const char *store, const char *reg, const char *key,
                   const uint8_t hash[32], const struct hq_request *rq, struct hq_reply *rp)
{
	bool committed = false;

	db_lock();
	if (db_begin() < 0) {
		reply_error(rp, 500, "internal_error", "database busy");
		goto cleanup;
	}
	if (fn(store, reg, rq->body, rq->len, rp) < 0) {
		db_rollback();
		reply_error(rp, 500, "internal_error", "the request could not be stored");
		goto cleanup;
	}
	if (rp->status < 200 || rp->status > 299) {
		db_rollback();
		goto cleanup;
	}
	if (idem_store(store, reg, key, hash, rp) < 0 || db_commit() < 0) {
		db_rollback();
		reply_error(rp, 500, "internal_error", "the request could not be stored");
		goto cleanup;
	}
	committed = true;
cleanup:
	db_unlock();
	return committed;
}

static void post(const struct hq_request *rq, post_fn fn, const char *store, const char *reg,
                 unsigned *delay_ms, struct hq_reply *rp)
{
	const char *key = http_header(rq, "Idempotency-Key");
	uint8_t hash[32];

	if (!is_json_type(http_header(rq, "Content-Type"))) {
		reply_error(rp, 415, "unsupported_media_type", "Content-Type: application/json is required");
		return;
	}
	if (!key || !*key) {
		reply_error(rp, 400, "missing_idempotency_key", "every POST needs an Idempotency-Key");
		return;
	}
	if (strlen(key) >= HQ_KEY_MAX || !val_uuid(key)) {
		reply_error(rp, 400, "invalid_idempotency_key", "Idempotency-Key: a UUID is required");
		return;
	}
	idem_hash(rq->method, rq->path, rq->body, rq->len, hash);
	switch (idem_begin(store, reg, key, hash, rp)) {
	case IDEM_REPLAY:
		return;
	case IDEM_MISMATCH:
		reply_error(rp, 422, "idempotency_key_reused",
		            "this Idempotency-Key was used for another request");
		return;
	case IDEM_BUSY:
		reply_error(rp, 409, "request_in_progress",
		            "the first request under this Idempotency-Key is still being handled");
		return;
	case IDEM_ERROR:
		reply_error(rp, 500, "internal_error", "idempotency lookup failed");
		return;
	case IDEM_NEW:
		break;
	}
	/* an injected delay holds the key in flight: a replay meanwhile gets 409 */
	delay(*delay_ms);
	*delay_ms = 0;
	if (handle(fn, store, reg, key, hash, rq, rp))
		feed_notify();
	idem_end(store, reg, key);
}

/* route: api_handle without the injected delay; whatever part of
 * *delay_ms it has not waited is waited by the caller before replying. */
static void route(const struct hq_request *rq, unsigned *delay_ms, struct hq_reply *rp)
{
	char store[HQ_ID_MAX], reg[HQ_ID_MAX], tstore[HQ_ID_MAX], treg[HQ_ID_MAX];
	enum route r = parse_route(rq->path, store, reg);
	bool get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");

	if (r == R_NONE) {
		reply_error(rp, 404, "not_found", "no such endpoint: %s", rq->path);
		return;
	}
	if ((r == R_HEALTH || r == R_CHANGES) != get) {
		reply_error(rp, 405, "method_not_allowed", "%s is not allowed here", rq->method);
		util_copy(rp->allow, sizeof(rp->allow), get ? "POST" : "GET, HEAD");
		return;
	}
	if (r == R_HEALTH) {
		health(rp);
		return;
	}
	if (auth_lookup(http_header(rq, "Authorization"), tstore, treg) < 0) {
		reply_error(rp, 401, "unauthorized", "a valid bearer token is required");
		return;
	}
	if (strcmp(store, tstore) != 0 || (r != R_CHANGES && strcmp(reg, treg) != 0)) {
		reply_error(rp, 403, "forbidden", "this token is for %s/%s", tstore, treg);
		return;
	}
	if (r == R_CHANGES)
		changes(rq, store, delay_ms, rp);
	else
		post(rq, r == R_BATCHES ? batch_post : stmt_post, store, reg, delay_ms, rp);
}

/* api_handle: see the head of this file. An injected delay (fault kind
 * delay) is waited before the request is handled; for a new POST, after
 * its key is in flight. */
void api_handle(const struct hq_request *rq, struct hq_reply *rp)
{
	unsigned left = rq->delay_ms;

	if (rq->path && !strcmp(rq->path, "/v1/health")) {
		delay(left);
		left = 0;
	}
	route(rq, &left, rp);
	delay(left);
}
