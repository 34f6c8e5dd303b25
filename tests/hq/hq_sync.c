/*
 * hq_sync: HQ's customer synchronization job. Each accepted async
 * customer gets an account number, C000001 upwards, in the order HQ
 * accepted them, and the assignment is published to its store's feed as
 * `account_assigned`; the same job gives each of its addresses an address
 * id (`address_assigned`), bumps its version and publishes `customer`
 * (its full record and addresses). When it runs is chosen at start and may be changed by the
 * admin interface:
 *   immediate  inside the batch's transaction, before its reply is sent;
 *   DELAY_MS   by a thread, DELAY_MS after each customer's acceptance;
 *   manual     only when asked (admin "assign").
 */
#include "tests/hq/hq.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t sync_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t sync_cond;
static enum assign_mode mode;  /* under sync_mu */
static long delay_ms;          /* under sync_mu */
static bool stop_thread;       /* under sync_mu */
static bool thread_started;
static pthread_t thread;
static sqlite3_stmt *st_pending, *st_set, *st_oldest;

/* sync_parse_mode: "immediate", "manual" or milliseconds (0 to 1 day). */
int sync_parse_mode(const char *s, enum assign_mode *m, long *ms)
{
	char *end;
	long v;

	*ms = 0;
	if (!strcmp(s, "immediate")) {
		*m = ASSIGN_IMMEDIATE;
		return 0;
	}
	if (!strcmp(s, "manual")) {
		*m = ASSIGN_MANUAL;
		return 0;
	}
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 86400000L)
		return -1;
	*m = ASSIGN_DELAY;
	*ms = v;
	return 0;
}

void sync_mode_text(char *out, size_t n)
{
	pthread_mutex_lock(&sync_mu);
	if (mode == ASSIGN_IMMEDIATE)
		snprintf(out, n, "immediate");
	else if (mode == ASSIGN_MANUAL)
		snprintf(out, n, "manual");
	else
		snprintf(out, n, "%ld", delay_ms);
	pthread_mutex_unlock(&sync_mu);
}

static enum assign_mode current_mode(long *ms)
{
	enum assign_mode m;

	pthread_mutex_lock(&sync_mu);
	m = mode;
	if (ms)
		*ms = delay_ms;
	pthread_mutex_unlock(&sync_mu);
	return m;
}

/* sync_next_account: the next number of the "account" counter, as
 * "C000001". Caller holds db_lock inside a transaction. */
int sync_next_account(char out[24])
{
	int64_t n = db_counter_add("account", 1);

	if (n < 0)
		return -1;
	snprintf(out, 24, "C%06lld", (long long)n);
	return 0;
}

/* sync_assign: gives accounts to pending customers, oldest first. */
int sync_assign(long max, int64_t due_ms, cJSON *done)
{
	int64_t ids[64];
	char async_ids[64][40], stores[64][HQ_ID_MAX];
	int count = 0;

	/* in rounds of at most 64, so that no statement is stepped while the
	 * rows it reads are being updated */
	while (max < 0 || count < max) {
		int n = 0, rc;

		sqlite3_bind_int64(st_pending, 1, due_ms < 0 ? INT64_MAX : due_ms);
		while (n < 64 && (max < 0 || count + n < max) &&
		       (rc = sqlite3_step(st_pending)) == SQLITE_ROW) {
			ids[n] = sqlite3_column_int64(st_pending, 0);
			util_copy(async_ids[n], sizeof(async_ids[n]),
			          (const char *)sqlite3_column_text(st_pending, 1));
			util_copy(stores[n], sizeof(stores[n]),
			          (const char *)sqlite3_column_text(st_pending, 2));
			n++;
		}
		db_done(st_pending);
		if (n == 0)
			break;
		for (int i = 0; i < n; i++) {
			char account[24];
			cJSON *ch, *addrs;

			if (sync_next_account(account) < 0)
				return -1;
			sqlite3_bind_text(st_set, 1, account, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st_set, 2, ids[i]);
			rc = sqlite3_step(st_set);
			db_done(st_set);
			if (rc != SQLITE_DONE) {
				db_log_error("assign");
				return -1;
			}
			ch = cJSON_CreateObject();
			if (!ch || !cJSON_AddStringToObject(ch, "type", "account_assigned") ||
			    !cJSON_AddStringToObject(ch, "async_id", async_ids[i]) ||
			    !cJSON_AddStringToObject(ch, "account", account)) {
				cJSON_Delete(ch);
				return -1;
			}
			addrs = NULL;
			if (done) {
				cJSON *d = cJSON_CreateObject();
				json_add_str(d, "async_id", async_ids[i]);
				json_add_str(d, "account", account);
				addrs = cJSON_AddArrayToObject(d, "addresses");
				cJSON_AddItemToArray(done, d);
			}
			/* account_assigned, that job's address_assigned, then the
			 * customer with its version bumped */
			if (feed_publish(stores[i], ch) < 0 || cust_assign_addresses(ids[i], addrs) < 0 ||
			    cust_bump(ids[i]) < 0 || feed_publish_customer(ids[i]) < 0)
				return -1;
		}
		count += n;
	}
	return count;
}

int sync_after_batch(bool accepted_customers)
{
	if (!accepted_customers)
		return 0;
	if (current_mode(NULL) == ASSIGN_IMMEDIATE)
		return sync_assign(-1, -1, NULL) < 0 ? -1 : 0;
	pthread_mutex_lock(&sync_mu);
	pthread_cond_signal(&sync_cond);
	pthread_mutex_unlock(&sync_mu);
	return 0;
}

/* run_due: one pass of the delayed job: assigns what is due; *next_ms gets
 * the acceptance time of the oldest customer still pending (-1: none). */
static void run_due(long ms, int64_t *next_ms)
{
	int n = 0;

	*next_ms = -1;
	db_lock();
	if (db_begin() < 0)
		goto cleanup;
	n = sync_assign(-1, clock_ms() - ms, NULL);
	if (n < 0 || db_commit() < 0) {
		db_rollback();
		n = 0;
		goto cleanup;
	}
	if (sqlite3_step(st_oldest) == SQLITE_ROW && sqlite3_column_type(st_oldest, 0) != SQLITE_NULL)
		*next_ms = sqlite3_column_int64(st_oldest, 0);
	db_done(st_oldest);
cleanup:
	db_unlock();
	if (n > 0)
		feed_notify();
}

/* job: the thread of the delayed mode. It sleeps until the oldest pending
 * customer is due (or a batch signals new ones), and idles in other modes. */
static void *job(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&sync_mu);
	while (!stop_thread) {
		struct timespec ts;
		int64_t next;
		long ms;

		if (mode != ASSIGN_DELAY) {
			pthread_cond_wait(&sync_cond, &sync_mu);
			continue;
		}
		ms = delay_ms;
		pthread_mutex_unlock(&sync_mu);
		run_due(ms, &next);
		pthread_mutex_lock(&sync_mu);
		if (stop_thread)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		if (next < 0) {
			ts.tv_sec += 3600;
		} else {
			int64_t wait = next + ms - clock_ms();
			if (wait < 1)
				wait = 1;
			ts.tv_sec += (time_t)(wait / 1000);
			ts.tv_nsec += (long)(wait % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
		}
		pthread_cond_timedwait(&sync_cond, &sync_mu, &ts);
	}
	pthread_mutex_unlock(&sync_mu);
	return NULL;
}

/* sync_start: prepares the statements and starts the job's thread. */
int sync_start(enum assign_mode m, long ms)
{
	pthread_condattr_t ca;

	st_pending = db_prepare("SELECT id, async_id, store FROM customers WHERE account IS NULL"
	                        " AND accepted_ms <= ?1 ORDER BY id");
	st_set = db_prepare("UPDATE customers SET account = ?1 WHERE id = ?2");
	st_oldest = db_prepare("SELECT min(accepted_ms) FROM customers WHERE account IS NULL");
	if (!st_pending || !st_set || !st_oldest)
		return -1;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sync_cond, &ca);
	pthread_condattr_destroy(&ca);
	mode = m;
	delay_ms = ms;
	if (pthread_create(&thread, NULL, job, NULL) != 0) {
		fprintf(stderr, "hq: cannot start the synchronization thread\n");
		return -1;
	}
	thread_started = true;
	return 0;
}

void sync_stop(void)
{
	if (!thread_started)
		return;
	pthread_mutex_lock(&sync_mu);
	stop_thread = true;
	pthread_cond_signal(&sync_cond);
	pthread_mutex_unlock(&sync_mu);
	pthread_join(thread, NULL);
	thread_started = false;
}

/* sync_set_mode: switches the mode; customers pending when switching to
 * immediate are assigned now, as if their batch had just come. */
void sync_set_mode(enum assign_mode m, long ms)
{
	int n = 0;

	pthread_mutex_lock(&sync_mu);
	mode = m;
	delay_ms = ms;
	pthread_cond_signal(&sync_cond);
	pthread_mutex_unlock(&sync_mu);
	if (m != ASSIGN_IMMEDIATE)
		return;
	db_lock();
	if (db_begin() == 0) {
		n = sync_assign(-1, -1, NULL);
		if (n < 0 || db_commit() < 0) {
			db_rollback();
			n = 0;
		}
	}
	db_unlock();
	if (n > 0)
		feed_notify();
}
