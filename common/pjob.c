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

double pjob_jitter(double max)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (uint32_t)rand();
	return max * ((double)r / 4294967296.0);
}

double pjob_backoff(int failures, long cap)
{
	double ceiling = 1.0;

	for (int i = 1; i < failures && ceiling < (double)cap; i++)
		ceiling *= 2;
	if (ceiling > (double)cap)
		ceiling = (double)cap;
	return pjob_jitter(ceiling);
}

double pjob_retry_delay(long retry_after, int failures, long cap)
{
	double base;

	if (retry_after < 0)
		return pjob_backoff(failures, cap);
	base = retry_after > cap ? (double)cap : (double)retry_after;
	return base + pjob_jitter(base > 1 ? base : 1);
}

void pjob_note_error(struct store *st, const char *msg, double delay)
{
	char now[21], next[21], fails[32];
	struct pa_err e;

	util_rfc3339(time(NULL), now);
	util_rfc3339(time(NULL) + (time_t)(delay + 0.999), next);
	if (store_begin(st, true, &e) == 0) {
		if (store_meta_get(st, "consecutive_failures", fails, sizeof(fails), &e) == 0)
			snprintf(fails, sizeof(fails), "%lld", strtoll(fails, NULL, 10) + 1);
		if (store_meta_set(st, "last_error", msg, &e) || store_meta_set(st, "last_error_at", now, &e) ||
		    store_meta_set(st, "next_retry", next, &e) ||
		    store_meta_set(st, "consecutive_failures", fails, &e) || store_commit(st, &e))
			store_rollback(st);
	}
}

/* Clears next_retry and the consecutive failures (metrics) after a
 * success (a write only when it was set, so that an idle service does not
 * write on every long poll). */
static void note_ok(struct store *st)
{
	struct pa_err e;
	char v[32];

	if (store_meta_get(st, "next_retry", v, sizeof(v), &e) == 0 && v[0] &&
	    store_meta_set(st, "next_retry", "", &e) != 0)
		log_warn("cannot clear the next retry time: %s", e.message); /* status shows a stale time */
	if (store_meta_get(st, "consecutive_failures", v, sizeof(v), &e) == 0 && v[0] && strcmp(v, "0") != 0 &&
	    store_meta_set(st, "consecutive_failures", "0", &e) != 0)
		log_warn("cannot clear the failure count: %s", e.message);
}

/* After a failure: decides whether to try again and waits. upload: the
 * uploader's wait, which a WAKE_HQ on j->wake ends early; else the
 * downloader's, whose backoff the service caps (see pjob_pull). Returns
 * true to try again, false to give up (j->unreachable set). */
static bool wait_again(struct pjob *j, const char *msg, long retry_after, bool auth, bool upload)
{
	long cap = j->cfg->retry_max;
	double delay;

	j->failures++;
	util_copy(j->last_error, sizeof(j->last_error), msg);
	if (auth) {
		j->auth_refused = true;
		delay = (double)j->cfg->retry_max; /* no retry storm */
	} else {
		/* the service's probe for HQ's return: at most PJOB_PROBE_MAX, so
		 * that a fleet's backlogs drain within ~20 s of it (issue 17) */
		long probe = j->cfg->long_poll < PJOB_PROBE_MAX ? j->cfg->long_poll : PJOB_PROBE_MAX;
		if (probe < 5)
			probe = 5;
		if (!upload && j->wake && cap > probe)
			cap = probe;
		delay = retry_after >= 0 ? pjob_retry_delay(retry_after, j->failures, j->cfg->retry_max)
		                         : pjob_backoff(j->failures, cap);
	}
	pjob_note_error(j->st, msg, delay);
	/* A Retry-After over max_wait gives up; its jitter does not count. */
	if ((j->max_tries && j->failures >= j->max_tries) ||
	    (j->max_wait >= 0 && (retry_after >= 0 && !auth ? (double)retry_after : delay) > (double)j->max_wait) ||
	    (j->stop && *j->stop)) {
		j->unreachable = true;
		return false;
	}
	log_info("%s: retrying in %.1f s", upload ? "upload" : "download", delay);
	if (upload && wake_wait(j->wake, delay, false, j->stop))
		log_info("upload: HQ answers again: retrying now");
	else if (!upload)
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
		up_forget();
		if (!wait_again(j, o.error, o.retry_after, o.result == UP_AUTH, true))
			break;
		if ((rc = store_lock_upload(j->st, wait_lock, e))) {
			rc = wait_lock ? rc : 0;
			break;
		}
	}
	/* the last answer, held to be applied beside the next POST */
	if (!rc && (rc = up_finish(j->st, &o, e)) == 0) {
		j->uploaded += o.accepted;
		j->rejected += o.rejected;
	}
	store_unlock_upload(j->st);
	up_forget();
	return rc;
}

int pjob_pull(struct pjob *j, long wait, struct pa_err *e)
{
	struct down_outcome o;
	int rc = 0;

	j->failures = 0;
	while (!(j->stop && *j->stop)) {
		/* After a failure the probe asks with wait=0: a long poll would
		 * tell of HQ's return only when it ends (up to long_poll later),
		 * and the uploader would sleep out its backoff meanwhile. */
		if ((rc = down_page(j->st, j->hq, j->cfg, j->failures ? 0 : wait, &o, e)))
			break;
		if (o.ok) {
			if (j->failures && j->wake)
				wake_post(j->wake, WAKE_HQ); /* the uploader may be in its backoff */
			j->applied += o.applied;
			j->failures = 0;
			note_ok(j->st);
			if (!o.more)
				break;
			wait = 0;
			continue;
		}
		if (!wait_again(j, o.error, o.retry_after, o.status == 401 || o.status == 403, false))
			break;
	}
	return rc;
}
