#include "common/pjob.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/download.h"
#include "common/log.h"
#include "common/upload.h"
#include "common/util.h"

double pjob_backoff(int failures, long cap)
{
	double ceiling = 1.0;
	uint32_t r = 0;

	for (int i = 1; i < failures && ceiling < (double)cap; i++)
		ceiling *= 2;
	if (ceiling > (double)cap)
		ceiling = (double)cap;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)rand();
	return ceiling * ((double)r / 4294967296.0);
}

void pjob_note_error(struct store *st, const char *msg, double delay)
{
	char now[21], next[21];
	struct pa_err e;

	util_rfc3339(time(NULL), now);
	util_rfc3339(time(NULL) + (time_t)(delay + 0.999), next);
	if (store_begin(st, true, &e) == 0) {
		if (store_meta_set(st, "last_error", msg, &e) || store_meta_set(st, "last_error_at", now, &e) ||
		    store_meta_set(st, "next_retry", next, &e) || store_commit(st, &e))
			store_rollback(st);
	}
}

/* Clears next_retry after a success (a write only when it was set, so
 * that an idle service does not write on every long poll). */
static void note_ok(struct store *st)
{
	struct pa_err e;
	char v[32];

	if (store_meta_get(st, "next_retry", v, sizeof(v), &e) == 0 && v[0] &&
	    store_meta_set(st, "next_retry", "", &e) != 0)
		log_warn("cannot clear the next retry time: %s", e.message); /* status shows a stale time */
}

/* After a failure: decides whether to try again and waits. Returns true to
 * try again, false to give up (j->unreachable set). */
static bool wait_again(struct pjob *j, const char *msg, long retry_after, bool auth)
{
	double delay;

	j->failures++;
	util_copy(j->last_error, sizeof(j->last_error), msg);
	if (auth) {
		j->auth_refused = true;
		delay = (double)j->cfg->retry_max; /* no retry storm */
	} else if (retry_after >= 0) {
		delay = retry_after > j->cfg->retry_max ? (double)j->cfg->retry_max : (double)retry_after;
	} else {
		delay = pjob_backoff(j->failures, j->cfg->retry_max);
	}
	pjob_note_error(j->st, msg, delay);
	if ((j->max_tries && j->failures >= j->max_tries) || (j->max_wait >= 0 && delay > (double)j->max_wait) ||
	    (j->stop && *j->stop)) {
		j->unreachable = true;
		return false;
	}
	log_info("retrying in %.1f s", delay);
	util_sleep(delay, j->stop);
	return !(j->stop && *j->stop);
}

void pjob_init(struct pjob *j, struct store *st, struct hq_client *hq, const struct cfg *cfg,
               volatile sig_atomic_t *stop)
{
	memset(j, 0, sizeof(*j));
	j->st = st;
	j->hq = hq;
	j->cfg = cfg;
	j->stop = stop;
	j->max_wait = -1;
}

int pjob_push(struct pjob *j, bool wait_lock, struct pa_err *e)
{
	struct up_outcome o;
	int rc = 0;

	if ((rc = store_lock_upload(j->st, wait_lock, e)))
		return wait_lock ? rc : 0;
	j->failures = 0;
	while (!(j->stop && *j->stop)) {
		if ((rc = up_step(j->st, j->hq, j->cfg, j->priority_date, &o, e)))
			break;
		if (o.result == UP_IDLE)
			break;
		if (o.result == UP_DONE) {
			j->uploaded += o.accepted;
			j->rejected += o.rejected;
			j->failures = 0;
			note_ok(j->st);
			continue;
		}
		/* Let another process (sync, eod) upload while we wait. */
		store_unlock_upload(j->st);
		if (!wait_again(j, o.error, o.retry_after, o.result == UP_AUTH))
			break;
		if ((rc = store_lock_upload(j->st, wait_lock, e))) {
			rc = wait_lock ? rc : 0;
			break;
		}
	}
	store_unlock_upload(j->st);
	return rc;
}

int pjob_pull(struct pjob *j, long wait, struct pa_err *e)
{
	struct down_outcome o;
	int rc = 0;

	j->failures = 0;
	while (!(j->stop && *j->stop)) {
		if ((rc = down_page(j->st, j->hq, j->cfg, wait, &o, e)))
			break;
		if (o.ok) {
			j->applied += o.applied;
			j->failures = 0;
			note_ok(j->st);
			if (!o.more)
				break;
			wait = 0;
			continue;
		}
		if (!wait_again(j, o.error, o.retry_after, o.status == 401 || o.status == 403))
			break;
	}
	return rc;
}
