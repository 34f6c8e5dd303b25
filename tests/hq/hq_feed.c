/*
 * hq_feed: the change feed of each store (HQ-API.md "GET .../changes").
 *
 * Changes are rows of one table in publication order; a store's feed is
 * its rows. The cursor is "c" followed by the sequence number of the last
 * change handed out ("c0": nothing yet); it is opaque to agents.
 *
 * Long poll: a request that finds nothing after its cursor waits on a
 * condition variable that every commit publishing changes broadcasts (a
 * version counter makes the check and the wait race-free), re-reads, and
 * answers as soon as its store has something, or at the end of its wait
 * with no changes and the same cursor. It holds no lock while waiting and
 * checks once a second whether its client went away.
 */
#include "tests/hq/hq.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t feed_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t feed_cond;
static uint64_t version;  /* under feed_mu: bumped by every notify */
static bool stopping;     /* under feed_mu */
static long waiting;      /* under feed_mu: long polls now waiting */
static sqlite3_stmt *st_put, *st_get, *st_count, *st_cust, *st_addrs;

int feed_init(void)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&feed_cond, &ca);
	pthread_condattr_destroy(&ca);
	st_put = db_prepare("INSERT INTO changes(store, body) VALUES(?1, ?2)");
	st_get = db_prepare("SELECT seq, body FROM changes WHERE store = ?1 AND seq > ?2"
	                    " ORDER BY seq LIMIT ?3");
	st_count = db_prepare("SELECT count(*) FROM changes");
	st_cust = db_prepare("SELECT account, store, record, version, async_id FROM customers"
	                     " WHERE id = ?1");
	st_addrs = db_prepare("SELECT record, address_id, async_id FROM addresses"
	                      " WHERE customer_id = ?1 ORDER BY id");
	return st_put && st_get && st_count && st_cust && st_addrs ? 0 : -1;
}

/* feed_publish: appends change (taken) to store's feed. Caller holds
 * db_lock inside a transaction and calls feed_notify() after its commit. */
int feed_publish(const char *store, cJSON *change)
{
	char *text = cJSON_PrintUnformatted(change);
	int rc = -1;

	cJSON_Delete(change);
	if (!text)
		return -1;
	sqlite3_bind_text(st_put, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_put, 2, text, -1, SQLITE_STATIC);
	if (sqlite3_step(st_put) == SQLITE_DONE)
		rc = 0;
	else
		db_log_error("publish");
	db_done(st_put);
	free(text);
	return rc;
}

/* address_doc: the current row of st_addrs as the feed shows it:
 * address_id and async_id (null when none), "customer": {"account"},
 * then the record's other members. NULL when out of memory. */
static cJSON *address_doc(const char *account)
{
	cJSON *stored = cJSON_Parse((const char *)sqlite3_column_text(st_addrs, 0));
	cJSON *out = cJSON_CreateObject(), *ref, *m;

	if (!stored || !out ||
	    json_add_str(out, "address_id", (const char *)sqlite3_column_text(st_addrs, 1)) < 0 ||
	    json_add_str(out, "async_id", (const char *)sqlite3_column_text(st_addrs, 2)) < 0)
		goto fail;
	ref = cJSON_AddObjectToObject(out, "customer");
	if (!ref || json_add_str(ref, "account", account) < 0)
		goto fail;
	for (m = stored->child; m; m = m->next) {
		if (!strcmp(m->string, "customer") || !strcmp(m->string, "async_id") ||
		    !strcmp(m->string, "address_id"))
			continue;
		cJSON_AddItemToObject(out, m->string, cJSON_Duplicate(m, true));
	}
	cJSON_Delete(stored);
	return out;
fail:
	cJSON_Delete(stored);
	cJSON_Delete(out);
	return NULL;
}

/* feed_publish_customer: the `customer` change of customers row id: its
 * account, version, its record (with async_id, null when HQ made it, and
 * local_number when it came from a register) and every address HQ holds
 * for it, in acceptance order; nothing for a customer with no account.
 * Caller holds db_lock inside a transaction. Returns 0 or -1. */
int feed_publish_customer(int64_t customer_id)
{
	char store[HQ_ID_MAX];
	cJSON *change = NULL;

	if (feed_customer_doc(customer_id, &change, store) < 0)
		return -1;
	if (!change || cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(change, "account"))) {
		cJSON_Delete(change); /* no account yet: the change follows its account_assigned */
		return 0;
	}
	return feed_publish(store, change);
}

/* feed_customer_doc: see hq.h. */
int feed_customer_doc(int64_t customer_id, cJSON **out, char store[HQ_ID_MAX])
{
	cJSON *change = NULL, *cust, *addrs;
	char account[32] = "";
	bool has_account;
	int rc = -1;

	*out = NULL;
	sqlite3_bind_int64(st_cust, 1, customer_id);
	if (sqlite3_step(st_cust) != SQLITE_ROW) {
		db_log_error("customer change");
		goto cleanup;
	}
	has_account = sqlite3_column_type(st_cust, 0) != SQLITE_NULL;
	if (has_account)
		util_copy(account, sizeof(account), (const char *)sqlite3_column_text(st_cust, 0));
	util_copy(store, HQ_ID_MAX, (const char *)sqlite3_column_text(st_cust, 1));
	change = cJSON_CreateObject();
	cust = cJSON_Parse((const char *)sqlite3_column_text(st_cust, 2));
	if (!change || !cust || !cJSON_AddStringToObject(change, "type", "customer") ||
	    json_add_str(change, "account", has_account ? account : NULL) < 0 ||
	    !cJSON_AddNumberToObject(change, "version", (double)sqlite3_column_int64(st_cust, 3))) {
		cJSON_Delete(cust);
		goto cleanup;
	}
	if (!cJSON_GetObjectItemCaseSensitive(cust, "async_id"))
		json_add_str(cust, "async_id", (const char *)sqlite3_column_text(st_cust, 4));
	cJSON_AddItemToObject(change, "customer", cust);
	addrs = cJSON_AddArrayToObject(change, "addresses");
	if (!addrs)
		goto cleanup;
	sqlite3_bind_int64(st_addrs, 1, customer_id);
	while (sqlite3_step(st_addrs) == SQLITE_ROW) {
		cJSON *a = address_doc(has_account ? account : NULL);
		if (!a)
			goto cleanup;
		cJSON_AddItemToArray(addrs, a);
	}
	*out = change;
	change = NULL;
	rc = 0;
cleanup:
	db_done(st_cust);
	db_done(st_addrs);
	cJSON_Delete(change);
	return rc;
}

void feed_notify(void)
{
	pthread_mutex_lock(&feed_mu);
	version++;
	pthread_cond_broadcast(&feed_cond);
	pthread_mutex_unlock(&feed_mu);
}

void feed_shutdown(void)
{
	pthread_mutex_lock(&feed_mu);
	stopping = true;
	version++;
	pthread_cond_broadcast(&feed_cond);
	pthread_mutex_unlock(&feed_mu);
}

int64_t feed_count(void)
{
	int64_t n = 0;

	if (sqlite3_step(st_count) == SQLITE_ROW)
		n = sqlite3_column_int64(st_count, 0);
	db_done(st_count);
	return n;
}

/* parse_cursor: "" or NULL is the start (0); else "c" and digits. */
static int parse_cursor(const char *s, int64_t *out)
{
	int64_t v = 0;

	*out = 0;
	if (!s || !*s)
		return 0;
	if (s[0] != 'c' || !s[1] || strlen(s) > 19)
		return -1;
	for (s++; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

/* read_page: the changes of store after cursor, at most limit, into a
 * reply document; *n gets how many. Takes db_lock. NULL on error. */
static cJSON *read_page(const char *store, int64_t after, long limit, int *n)
{
	cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc, "changes");
	int64_t last = after;
	char next[24];
	bool more = false;
	int rc = SQLITE_ERROR;

	*n = 0;
	if (!arr)
		goto cleanup;
	db_lock();
	sqlite3_bind_text(st_get, 1, store, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st_get, 2, after);
	sqlite3_bind_int64(st_get, 3, limit + 1);
	while ((rc = sqlite3_step(st_get)) == SQLITE_ROW) {
		if (*n == limit) {
			more = true;
			break;
		}
		last = sqlite3_column_int64(st_get, 0);
		cJSON_AddItemToArray(arr, cJSON_CreateRaw((const char *)sqlite3_column_text(st_get, 1)));
		(*n)++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		db_log_error("changes");
	db_done(st_get);
	db_unlock();
	snprintf(next, sizeof(next), "c%" PRId64, last);
	if (!cJSON_AddStringToObject(doc, "next", next) || !cJSON_AddBoolToObject(doc, "more", more))
		rc = SQLITE_NOMEM;
cleanup:
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

long feed_waiting(void)
{
	long n;

	pthread_mutex_lock(&feed_mu);
	n = waiting;
	pthread_mutex_unlock(&feed_mu);
	return n;
}

static void count_waiting(long delta)
{
	pthread_mutex_lock(&feed_mu);
	waiting += delta;
	pthread_mutex_unlock(&feed_mu);
}

/* wait_change: waits until the feed version moves from seen, the
 * monotonic deadline passes, or HQ stops. Returns false when stopping. */
static bool wait_change(uint64_t seen, const struct timespec *deadline)
{
	bool go_on;

	pthread_mutex_lock(&feed_mu);
	while (version == seen && !stopping)
		if (pthread_cond_timedwait(&feed_cond, &feed_mu, deadline) == ETIMEDOUT)
			break;
	go_on = !stopping;
	pthread_mutex_unlock(&feed_mu);
	return go_on;
}

/* feed_changes: answers one changes request, long-polling up to wait_s. */
void feed_changes(const char *store, const char *after, long limit, long wait_s, int fd,
                  struct hq_reply *rp)
{
	double deadline = util_mono() + (double)wait_s;
	bool counted = false;
	int64_t cursor;
	cJSON *doc;
	int n;

	if (parse_cursor(after, &cursor) < 0) {
		reply_error(rp, 400, "invalid_cursor", "after: not a cursor this HQ gave");
		return;
	}
	for (;;) {
		uint64_t seen;
		double now, until;
		struct timespec ts;

		pthread_mutex_lock(&feed_mu);
		seen = version;
		pthread_mutex_unlock(&feed_mu);
		doc = read_page(store, cursor, limit, &n);
		if (!doc) {
			reply_error(rp, 500, "internal_error", "could not read the changes");
			goto cleanup;
		}
		now = util_mono();
		if (n > 0 || now >= deadline)
			break;
		cJSON_Delete(doc);
		doc = NULL;
		if (!counted) {
			count_waiting(1);
			counted = true;
		}
		until = deadline - now > 1.0 ? now + 1.0 : deadline;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(until - now);
		ts.tv_nsec += (long)(((until - now) - (double)(time_t)(until - now)) * 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!wait_change(seen, &ts))
			deadline = 0; /* HQ stops: answer what there is now */
		if (fd >= 0 && net_peer_gone(fd)) {
			rp->action = REPLY_DROP;
			goto cleanup;
		}
	}
	reply_json(rp, 200, doc);
cleanup:
	if (counted)
		count_waiting(-1);
}
