/*
 * test_upload: the P-job's step (common/upload: up_step, up_finish)
 * against the real reference HQ over HTTPS, one step at a time.
 *
 * What happens: the test starts tests/hq (a CA made now, TLS verified)
 * and, for each case, makes customers (and a sale) in a new database,
 * takes the upload lock and calls up_step / up_finish itself, with HQ's
 * admin faults queued in between: 503 with Retry-After, 401, 403, 409,
 * 500, 413 (on a batch of several and of one record), 422, 400, a reset
 * connection, a reply lost after HQ committed, a 200 that is not JSON,
 * an HQ that cannot be reached, a record rejected for a person and a
 * sale whose customer HQ rejected in the same batch.
 * What must hold: each step's outcome (result, status, Retry-After,
 * counts, message) and the database after it (batches, their sent,
 * attempts, flag and last status, the records' states); a 200 is applied
 * one step later, beside the next POST, or by up_finish, and is dropped
 * (then resent under its key and replayed) when the lock was let go;
 * batches go oldest first; and at HQ every record is handled exactly
 * once (HQ's records_received grows by the records made, duplicates_seen
 * never: a resend under a new key would show as duplicates).
 *
 * Needs the reference HQ ($HQ_BIN, else build/hq) and certtool; without
 * them it says SKIP and exits 77.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/customer.h"
#include "common/hqclient.h"
#include "common/record.h"
#include "common/store.h"
#include "common/txn.h"
#include "common/upload.h"
#include "fx_store.h"

#define BATCHES "/v1/stores/S0001/registers/R01/batches"
#define POST_200 "POST " BATCHES " 200"

/* The whole run's HQ and client; the case's database. */
static struct {
	const char *top;
	char dir[256];   /* temporary directory: HQ's in dir/hq */
	char hqdir[300];
	struct cfg cfg;
	struct hq_client *hq;
	struct store *st;
	int cases;       /* databases made, for their names */
	long records0;   /* HQ's records_received at the case's start */
	long dups0;      /* HQ's duplicates_seen at the case's start */
} F;

/* ---- HQ's admin interface ------------------------------------------------ */

/* tests/hq/admin VERB JSON: HQ's reply parsed, NULL (and said) when the
 * call failed or the reply is not JSON. */
static cJSON *admin(const char *verb, const char *json)
{
	char cmd[1400];
	size_t cap = 4 << 20, n;
	char *buf = malloc(cap);
	cJSON *doc = NULL;
	FILE *p;

	if (!buf)
		return NULL;
	snprintf(cmd, sizeof(cmd), "'%s/tests/hq/admin' '%s' %s '%s' 2>&1", F.top, F.hqdir, verb, json ? json : "{}");
	if ((p = popen(cmd, "r"))) {
		n = fread(buf, 1, cap - 1, p);
		buf[n] = '\0';
		if (pclose(p) == 0)
			doc = cJSON_Parse(buf);
		if (!doc)
			print_error("admin %s: %s\n", verb, buf);
	}
	free(buf);
	return doc;
}

/* Queues fault json (README of tests/hq) and fails the case if HQ refused. */
static void fault(const char *json)
{
	cJSON *r = admin("fault", json);

	assert_non_null(r);
	cJSON_Delete(r);
}

/* A number of HQ's state document: a top-level member, or with req set a
 * "requests" counter ("POST /path 200"); 0 when absent. */
static long hq_stat(const char *member, const char *req)
{
	cJSON *s = admin("state", NULL);
	const cJSON *v;
	long n;

	assert_non_null(s);
	v = cJSON_GetObjectItemCaseSensitive(s, member);
	if (req)
		v = cJSON_GetObjectItemCaseSensitive(v, req);
	n = cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
	cJSON_Delete(s);
	return n;
}

/* Whether HQ holds the customer with async_id (its state's customers). */
static bool hq_holds(const char *async_id)
{
	cJSON *s = admin("state", NULL);
	const cJSON *c;
	bool held = false;

	assert_non_null(s);
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(s, "customers"))
	{
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(c, "async_id");
		if (cJSON_IsString(a) && strcmp(a->valuestring, async_id) == 0)
			held = true;
	}
	cJSON_Delete(s);
	return held;
}

/* HQ handled exactly `records` records since the case began, none twice. */
static void assert_once_at_hq(long records)
{
	assert_int_equal(hq_stat("records_received", NULL) - F.records0, records);
	assert_int_equal(hq_stat("duplicates_seen", NULL) - F.dups0, 0);
}

/* ---- the register's side ------------------------------------------------- */

/* An integer the SQL answers on the case's database. */
static long q_int(const char *sql)
{
	const char *v = fx_q(F.st, sql);

	assert_non_null(v);
	return strtol(v, NULL, 10);
}

/* Makes n customers (async ids into ids[i] when ids is not NULL). */
static void customers(int n, char (*ids)[40])
{
	struct pa_err e;
	cJSON *rec, *doc = NULL;
	bool created;

	for (int i = 0; i < n; i++) {
		char json[120];
		snprintf(json, sizeof(json), "{\"first_name\":\"Ana\",\"last_name\":\"Upload%d\"}", i);
		rec = cJSON_Parse(json);
		assert_int_equal(cust_create(F.st, rec, false, &doc, &created, &e), 0);
		if (ids)
			snprintf(ids[i], 40, "%s", cJSON_GetObjectItem(doc, "async_id")->valuestring);
		cJSON_Delete(rec);
		cJSON_Delete(doc);
	}
}

/* One up_step into *o, which must succeed locally. */
static void step(struct up_outcome *o)
{
	struct pa_err e;

	memset(&e, 0, sizeof(e));
	if (up_step(F.st, F.hq, &F.cfg, NULL, o, &e))
		fail_msg("up_step: %s", e.message);
}

/* up_finish into *o, which must succeed locally. */
static void finish(struct up_outcome *o)
{
	struct pa_err e;

	memset(&e, 0, sizeof(e));
	if (up_finish(F.st, o, &e))
		fail_msg("up_finish: %s", e.message);
}

/* What pjob_push does between a failed step and the next: lets the lock
 * go (and with it what up_step held) and takes it again. */
static void relock(void)
{
	struct pa_err e;

	store_unlock_upload(F.st);
	up_forget();
	assert_int_equal(store_lock_upload(F.st, true, &e), 0);
}

/* Steps until nothing is left, then up_finish; the records accepted and
 * rejected on the way into *acc and *rej. Fails after 50 steps. */
static void drain(int *acc, int *rej)
{
	struct up_outcome o;
	int steps = 0;

	*acc = *rej = 0;
	do {
		step(&o);
		assert_int_not_equal(o.result, UP_AUTH);
		if (o.result == UP_RETRY)
			fail_msg("drain: step %d: %s", steps, o.error);
		*acc += o.accepted;
		*rej += o.rejected;
	} while (o.result != UP_IDLE && ++steps < 50);
	assert_int_equal(o.result, UP_IDLE);
	finish(&o);
	*acc += o.accepted;
	*rej += o.rejected;
}

/* ---- fixture ------------------------------------------------------------- */

static int run_setup(void **state)
{
	char cmd[800], err[300], conf[400];

	(void)state;
	snprintf(F.dir, sizeof(F.dir), "%s/test_upload.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(F.dir))
		return -1;
	snprintf(F.hqdir, sizeof(F.hqdir), "%s/hq", F.dir);
	snprintf(cmd, sizeof(cmd), "'%s/tests/hq/start' '%s' >'%s/start.log' 2>&1", F.top, F.hqdir, F.dir);
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof(cmd), "cat '%s/start.log' >&2", F.dir);
		if (system(cmd) != 0)
			print_error("tests/hq/start failed\n");
		return -1;
	}
	snprintf(conf, sizeof(conf), "%s/S0001-R01.conf", F.hqdir);
	if (cfg_load(conf, &F.cfg, err, sizeof(err)) || cfg_check_hq(&F.cfg, err, sizeof(err)) ||
	    hq_client_new(&F.cfg, NULL, &F.hq, err, sizeof(err))) {
		print_error("%s\n", err);
		return -1;
	}
	return 0;
}

static int run_teardown(void **state)
{
	char cmd[800];

	(void)state;
	hq_client_free(F.hq);
	snprintf(cmd, sizeof(cmd), "'%s/tests/hq/stop' '%s' >/dev/null 2>&1; rm -rf '%s'", F.top, F.hqdir, F.dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A new database (S0001/R01), HQ's faults cleared and its counters read,
 * batches of 500, the upload lock held. */
static int case_setup(void **state)
{
	char db[400];
	struct pa_err e;
	cJSON *r = admin("reset-faults", NULL);

	(void)state;
	if (!r)
		return -1;
	cJSON_Delete(r);
	snprintf(db, sizeof(db), "%s/case%d.db", F.dir, ++F.cases);
	if (store_open(db, true, &F.st, &e))
		return -1;
	store_identity(F.st, "S0001", "R01", "EUR");
	F.cfg.batch_size = 500;
	F.records0 = hq_stat("records_received", NULL);
	F.dups0 = hq_stat("duplicates_seen", NULL);
	return store_lock_upload(F.st, true, &e) ? -1 : 0;
}

static int case_teardown(void **state)
{
	(void)state;
	up_forget();
	store_close(F.st); /* lets the lock go */
	F.st = NULL;
	return 0;
}

/* ---- cases --------------------------------------------------------------- */

/* Batches of 2 for 5 customers: each step sends one batch and applies
 * the answer to the one before while it flies; the next is frozen
 * meanwhile; up_finish applies the last. */
static void test_drain_pipelined(void **state)
{
	char ids[5][40];
	struct up_outcome o;
	int64_t waiting = -1;
	struct pa_err e;

	(void)state;
	F.cfg.batch_size = 2;
	customers(5, ids);

	step(&o); /* batch 1 sent, its answer held; batch 2 frozen meanwhile */
	assert_int_equal(o.result, UP_DONE);
	assert_int_equal(o.status, 200);
	assert_int_equal(o.records, 2);
	assert_int_equal(o.accepted, 0);
	assert_int_equal(q_int("SELECT count(*) FROM batch"), 2);
	assert_int_equal(q_int("SELECT sum(sent) FROM batch"), 1);
	assert_int_equal(q_int("SELECT count(*) FROM customer WHERE state = 'uploaded'"), 0);
	assert_int_equal(q_int("SELECT count(*) FROM customer WHERE batch_id IS NULL"), 1);

	step(&o); /* batch 2 sent; batch 1's answer applied; batch 3 frozen */
	assert_int_equal(o.result, UP_DONE);
	assert_int_equal(o.records, 2);
	assert_int_equal(o.accepted, 2);
	assert_int_equal(q_int("SELECT count(*) FROM customer WHERE state = 'uploaded'"), 2);
	assert_int_equal(q_int("SELECT count(*) FROM batch"), 2);

	step(&o); /* batch 3 (one record) sent; batch 2 applied */
	assert_int_equal(o.result, UP_DONE);
	assert_int_equal(o.records, 1);
	assert_int_equal(o.accepted, 2);
	assert_int_equal(q_int("SELECT count(*) FROM customer WHERE state = 'uploaded'"), 4);

	finish(&o); /* batch 3's answer */
	assert_int_equal(o.accepted, 1);
	assert_int_equal(q_int("SELECT count(*) FROM customer WHERE state = 'uploaded'"), 5);
	assert_int_equal(q_int("SELECT count(*) FROM batch"), 0);

	step(&o);
	assert_int_equal(o.result, UP_IDLE);
	finish(&o);
	assert_int_equal(o.accepted, 0);
	assert_int_equal(up_waiting(F.st, &waiting, &e), 0);
	assert_int_equal(waiting, 0);
	for (int i = 0; i < 5; i++)
		assert_true(hq_holds(ids[i]));
	assert_once_at_hq(5);
}

/* A held answer is not applied once the lock was let go (another process
 * may have sent since): the batch stays sent, is resent under its key and
 * HQ replays its answer. */
static void test_held_answer_dropped_with_the_lock(void **state)
{
	struct up_outcome o;
	struct pa_err e;
	long posts;

	(void)state;
	customers(2, NULL);
	step(&o);
	assert_int_equal(o.result, UP_DONE);
	assert_int_equal(o.accepted, 0);
	posts = hq_stat("requests", POST_200);

	/* let go and taken again without up_forget: up_step itself must see
	 * that the lock changed hands since */
	store_unlock_upload(F.st);
	assert_int_equal(store_lock_upload(F.st, true, &e), 0);
	finish(&o);
	assert_int_equal(o.accepted, 0);
	assert_int_equal(q_int("SELECT count(*) FROM batch WHERE sent = 1 AND attempts = 1"), 1);
	assert_int_equal(q_int("SELECT count(*) FROM customer WHERE state = 'pending'"), 2);

	step(&o); /* the same batch again */
	assert_int_equal(o.result, UP_DONE);
	assert_int_equal(o.records, 2);
	assert_int_equal(q_int("SELECT attempts FROM batch"), 2);
	finish(&o);
	assert_int_equal(o.accepted, 2);
	assert_int_equal(q_int("SELECT count(*) FROM customer WHERE state = 'uploaded'"), 2);
	assert_int_equal(q_int("SELECT count(*) FROM batch"), 0);
	assert_int_equal(hq_stat("requests", POST_200) - posts, 1);
	assert_once_at_hq(2);
}

/* HQ's refusals that keep the batch: each outcome, then the same batch
 * (same row, same batch_id, one more attempt) goes through. */
static void test_statuses_keep_the_batch(void **state)
{
	static const struct {
		const char *fault;
		long status;
		enum up_result result;
		long retry_after;
		const char *says;
	} cases[] = {
		{"\"status\":503,\"retry_after\":\"7\"", 503, UP_RETRY, 7, "HQ answered 503: unavailable"},
		{"\"status\":500", 500, UP_RETRY, -1, "HQ answered 500"},
		{"\"status\":401", 401, UP_AUTH, -1, "HQ answered 401"},
		{"\"status\":403", 403, UP_AUTH, -1, "HQ answered 403"},
		{"\"status\":409", 409, UP_RETRY, 1, "HQ answered 409"}, /* request_in_progress: not at once */
		{"\"status\":429,\"retry_after\":\"date:+30\"", 429, UP_RETRY, 30, "HQ answered 429"},
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	struct up_outcome o;
	char json[300], batch_id[64];
	int acc, rej;

	(void)state;
	customers(3, NULL);
	for (size_t i = 0; i < n; i++) {
		snprintf(json, sizeof(json), "{\"path\":\"" BATCHES "\",\"kind\":\"status\",%s}", cases[i].fault);
		fault(json);
		step(&o);
		assert_int_equal(o.result, cases[i].result);
		assert_int_equal(o.status, cases[i].status);
		if (cases[i].retry_after == 30) /* an HTTP-date 30 s after HQ's Date: whole seconds */
			assert_in_range(o.retry_after, 28, 31);
		else
			assert_int_equal(o.retry_after, cases[i].retry_after);
		if (!strstr(o.error, cases[i].says))
			fail_msg("case %zu: \"%s\" does not say \"%s\"", i, o.error, cases[i].says);
		assert_int_equal(o.accepted, 0);
		assert_int_equal(q_int("SELECT count(*) FROM batch"), 1);
		assert_int_equal(q_int("SELECT sent FROM batch"), 1);
		assert_int_equal(q_int("SELECT attempts FROM batch"), (long)i + 1);
		assert_int_equal(q_int("SELECT last_status FROM batch"), cases[i].status);
		assert_string_equal(fx_q(F.st, "SELECT last_error FROM batch"), o.error);
		assert_string_equal(fx_q(F.st, "SELECT coalesce(flagged, '') FROM batch"), "");
		if (i == 0)
			snprintf(batch_id, sizeof(batch_id), "%s", fx_q(F.st, "SELECT batch_id FROM batch"));
		else
			assert_string_equal(fx_q(F.st, "SELECT batch_id FROM batch"), batch_id);
		relock();
	}
	drain(&acc, &rej);
	assert_int_equal(acc, 3);
	assert_int_equal(rej, 0);
	assert_once_at_hq(3);
}

/* 400: kept, retried, and flagged for a person with HQ's words. */
static void test_400_flags_the_batch(void **state)
{
	struct up_outcome o;
	int acc, rej;

	(void)state;
	customers(1, NULL);
	fault("{\"path\":\"" BATCHES "\",\"kind\":\"status\",\"status\":400,"
	      "\"body\":\"{\\\"error\\\":{\\\"code\\\":\\\"invalid_request\\\",\\\"message\\\":\\\"bad envelope\\\"}}\"}");
	step(&o);
	assert_int_equal(o.result, UP_RETRY);
	assert_int_equal(o.status, 400);
	assert_string_equal(o.error, "HQ answered 400: invalid_request: bad envelope");
	assert_string_equal(fx_q(F.st, "SELECT flagged FROM batch"), o.error);
	relock();
	drain(&acc, &rej);
	assert_int_equal(acc, 1);
	assert_once_at_hq(1);
}

/* 413: a batch of several is halved (both halves go, in order); a batch
 * of one is kept, flagged and retried. */
static void test_413_halves_or_flags(void **state)
{
	struct up_outcome o;
	int acc, rej;

	(void)state;
	customers(4, NULL);
	fault("{\"path\":\"" BATCHES "\",\"kind\":\"status\",\"status\":413}");
	step(&o);
	assert_int_equal(o.result, UP_DONE);
	assert_int_equal(o.status, 413);
	assert_int_equal(o.records, 4);
	assert_string_equal(fx_q(F.st, "SELECT group_concat(records) FROM (SELECT records FROM batch ORDER BY id)"),
	                    "2,2");
	assert_int_equal(q_int("SELECT sum(sent) FROM batch"), 0); /* new batches, never sent */
	drain(&acc, &rej);
	assert_int_equal(acc, 4);

	customers(1, NULL);
	fault("{\"path\":\"" BATCHES "\",\"kind\":\"status\",\"status\":413}");
	step(&o);
	assert_int_equal(o.result, UP_RETRY);
	assert_int_equal(o.status, 413);
	assert_non_null(strstr(fx_q(F.st, "SELECT flagged FROM batch"), "413"));
	assert_int_equal(q_int("SELECT records FROM batch"), 1);
	relock();
	drain(&acc, &rej);
	assert_int_equal(acc, 1);
	assert_once_at_hq(5);
}

/* 422 (HQ stored nothing): the batch is let go and its records are
 * frozen again under a new batch id. */
static void test_422_freezes_again(void **state)
{
	struct up_outcome o;
	struct pa_err e;
	int64_t bid = 0;
	char first[64];
	int acc, rej;

	(void)state;
	customers(2, NULL);
	assert_int_equal(rec_freeze(F.st, 500, NULL, &bid, &e), 0);
	snprintf(first, sizeof(first), "%s", fx_q(F.st, "SELECT batch_id FROM batch"));
	fault("{\"path\":\"" BATCHES "\",\"kind\":\"status\",\"status\":422}");
	step(&o);
	assert_int_equal(o.result, UP_RETRY);
	assert_int_equal(o.status, 422);
	assert_int_equal(q_int("SELECT count(*) FROM batch"), 0);
	assert_int_equal(q_int("SELECT count(*) FROM customer WHERE state = 'pending' AND batch_id IS NULL"), 2);
	relock();
	step(&o);
	assert_int_equal(o.result, UP_DONE);
	assert_int_equal(o.records, 2);
	assert_string_not_equal(fx_q(F.st, "SELECT batch_id FROM batch"), first);
	finish(&o);
	assert_int_equal(o.accepted, 2);
	drain(&acc, &rej);
	assert_once_at_hq(2);
}

/* No reply: a reset connection (not handled at HQ) and a reply lost after
 * HQ committed. Both are resent under the same key; the second is
 * replayed, so HQ handles each record once. */
static void test_lost_replies(void **state)
{
	struct up_outcome o;
	long resets;
	int acc, rej;

	(void)state;
	customers(2, NULL);
	/* Twice: libcurl sends a request again, once, on a fresh connection
	 * when a kept-alive one dies before any reply (the same key: safe). */
	resets = hq_stat("requests", "POST " BATCHES " reset");
	fault("{\"path\":\"" BATCHES "\",\"kind\":\"reset\",\"count\":2}");
	step(&o);
	assert_int_equal(o.result, UP_RETRY);
	assert_int_equal(o.status, 0);
	assert_true(o.error[0] != '\0');
	assert_true(hq_stat("requests", "POST " BATCHES " reset") > resets);
	assert_int_equal(q_int("SELECT sent FROM batch"), 1); /* it left: no longer editable */
	assert_int_equal(hq_stat("records_received", NULL) - F.records0, 0);
	cJSON_Delete(admin("reset-faults", NULL));
	relock();

	fault("{\"path\":\"" BATCHES "\",\"kind\":\"drop_after_commit\",\"count\":2}");
	step(&o);
	assert_int_equal(o.result, UP_RETRY);
	assert_int_equal(o.status, 0);
	cJSON_Delete(admin("reset-faults", NULL));
	assert_int_equal(hq_stat("records_received", NULL) - F.records0, 2); /* stored at HQ */
	assert_int_equal(q_int("SELECT count(*) FROM customer WHERE state = 'pending'"), 2);
	relock();

	drain(&acc, &rej);
	assert_int_equal(acc, 2);
	assert_int_equal(q_int("SELECT count(*) FROM customer WHERE state = 'uploaded'"), 2);
	assert_once_at_hq(2);
}

/* A 200 whose body is not HQ's answer, held and found wrong while the
 * next batch flies: neither answer is applied, both batches are resent
 * in order, and HQ still handles each record once. */
static void test_bad_200_while_the_next_flies(void **state)
{
	struct up_outcome o;
	int acc, rej;

	(void)state;
	F.cfg.batch_size = 1;
	customers(2, NULL);
	fault("{\"path\":\"" BATCHES "\",\"kind\":\"garbage\"}");
	step(&o);
	assert_int_equal(o.result, UP_DONE); /* held: not read yet */
	assert_int_equal(o.status, 200);
	step(&o);
	assert_int_equal(o.result, UP_RETRY);
	assert_non_null(strstr(o.error, "does not match"));
	assert_int_equal(q_int("SELECT count(*) FROM batch WHERE sent = 1"), 2);
	assert_int_equal(q_int("SELECT last_status FROM batch ORDER BY id LIMIT 1"), 200);
	assert_int_equal(q_int("SELECT count(*) FROM customer WHERE state = 'uploaded'"), 0);
	relock();
	drain(&acc, &rej);
	assert_int_equal(acc, 2);
	assert_int_equal(q_int("SELECT count(*) FROM customer WHERE state = 'uploaded'"), 2);
	assert_once_at_hq(2);
}

/* HQ cannot be reached: nothing left the register, so the batch is not
 * marked sent (its records stay editable); the real HQ then gets it. */
static void test_unreachable_hq_leaves_it_unsent(void **state)
{
	struct cfg down = F.cfg;
	struct hq_client *hq = NULL;
	struct up_outcome o;
	struct pa_err e;
	char err[300];
	int acc, rej;
	int rc;

	(void)state;
	customers(2, NULL);
	snprintf(down.url, sizeof(down.url), "https://localhost:1");
	down.connect_timeout = 2;
	assert_int_equal(hq_client_new(&down, NULL, &hq, err, sizeof(err)), 0);
	rc = up_step(F.st, hq, &down, NULL, &o, &e);
	hq_client_free(hq);
	assert_int_equal(rc, 0);
	assert_int_equal(o.result, UP_RETRY);
	assert_int_equal(o.status, 0);
	assert_true(o.error[0] != '\0');
	assert_int_equal(q_int("SELECT count(*) FROM batch WHERE sent = 0"), 1);
	relock();
	drain(&acc, &rej);
	assert_int_equal(acc, 2);
	assert_once_at_hq(2);
}

/* A customer HQ rejects goes to a person; the sale naming it in the same
 * batch waits for it (deferred: pending, out of the batch), the other
 * customer is accepted. */
static void test_rejected_and_deferred(void **state)
{
	char ids[2][40], fx[300], sale[700], q[200];
	struct up_outcome o;
	struct pa_err e;
	cJSON *out = NULL;
	bool created;

	(void)state;
	customers(2, ids);
	snprintf(sale, sizeof(sale),
	         "{\"type\":\"transaction\",\"txn_id\":\"S0001-R01-000001\",\"kind\":\"cash_and_carry\","
	         "\"business_date\":\"2026-11-25\",\"created_at\":\"2026-11-25T10:02:00Z\",\"currency\":\"EUR\","
	         "\"customer\":{\"async_id\":\"%s\"},\"lines\":[{\"sku\":\"SKU-1\",\"qty\":1,\"unit_price_minor\":500}],"
	         "\"tenders\":[{\"type\":\"cash\",\"amount_minor\":500}],\"total_minor\":500}",
	         ids[0]);
	assert_int_equal(txn_record(F.st, sale, strlen(sale), &out, &created, &e), 0);
	cJSON_Delete(out);
	snprintf(fx, sizeof(fx), "{\"kind\":\"reject\",\"record\":\"customer\",\"id\":\"%s\",\"code\":\"invalid_email\"}",
	         ids[0]);
	fault(fx);

	step(&o);
	assert_int_equal(o.result, UP_DONE);
	assert_int_equal(o.records, 3);
	finish(&o);
	assert_int_equal(o.result, UP_DONE);
	assert_int_equal(o.accepted, 1);
	assert_int_equal(o.rejected, 1);
	assert_int_equal(o.deferred, 1);
	snprintf(q, sizeof(q), "SELECT state || ' ' || last_code FROM customer WHERE async_id = '%s'", ids[0]);
	assert_string_equal(fx_q(F.st, q), "rejected invalid_email");
	snprintf(q, sizeof(q), "SELECT state FROM customer WHERE async_id = '%s'", ids[1]);
	assert_string_equal(fx_q(F.st, q), "uploaded");
	assert_string_equal(fx_q(F.st, "SELECT state || ' ' || coalesce(batch_id, 'none') || ' ' || last_code FROM txn"),
	                    "pending none unknown_customer");
	assert_int_equal(q_int("SELECT count(*) FROM batch"), 0);
	assert_false(hq_holds(ids[0]));
	assert_true(hq_holds(ids[1]));
	/* nothing goes up for them until a person corrects the customer */
	step(&o);
	assert_int_equal(o.result, UP_IDLE);
	assert_int_equal(hq_stat("duplicates_seen", NULL) - F.dups0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_drain_pipelined, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(test_held_answer_dropped_with_the_lock, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(test_statuses_keep_the_batch, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(test_400_flags_the_batch, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(test_413_halves_or_flags, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(test_422_freezes_again, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(test_lost_replies, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(test_bad_200_while_the_next_flies, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_hq_leaves_it_unsent, case_setup, case_teardown),
		cmocka_unit_test_setup_teardown(test_rejected_and_deferred, case_setup, case_teardown),
	};
	char hq_bin[600];

	F.top = getenv("TOP") ? getenv("TOP") : ".";
	snprintf(hq_bin, sizeof(hq_bin), "%s", getenv("HQ_BIN") ? getenv("HQ_BIN") : "build/hq");
	if (access(hq_bin, X_OK) != 0 || system("command -v certtool >/dev/null 2>&1") != 0) {
		printf("SKIP: test_upload needs the reference HQ (%s) and certtool (gnutls-bin)\n", hq_bin);
		return 77;
	}
	return cmocka_run_group_tests(tests, run_setup, run_teardown);
}
