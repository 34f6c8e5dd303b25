/*
 * hq_limit: a capacity limit, so that tests can see how a fleet of agents
 * treats an HQ that is overloaded (issue 17). Off unless hq is started
 * with --max-inflight and/or --max-rate:
 *   --max-inflight N  at most N API requests handled at once (a GET of
 *                     changes is not counted: a long poll waiting holds
 *                     no work);
 *   --max-rate R      at most R API requests a second, a token bucket
 *                     that holds up to R tokens (bursts of R);
 * A request over either is answered 503 "unavailable" with Retry-After:
 * --limit-retry-after S (default 1) at once, without being handled, and
 * takes no token. /v1/health and /_admin/ are never limited.
 */
#include "tests/hq/hq.h"

#include <pthread.h>

static pthread_mutex_t limit_mu = PTHREAD_MUTEX_INITIALIZER;
static long max_inflight;  /* 0: no limit */
static double max_rate;    /* requests a second, 0: no limit */
static long retry_after_s = 1;
static long inflight;      /* under limit_mu */
static double tokens, last_refill; /* the bucket, under limit_mu */

void limit_set(long inflight_max, double rate, long retry_after)
{
	pthread_mutex_lock(&limit_mu);
	max_inflight = inflight_max > 0 ? inflight_max : 0;
	max_rate = rate > 0 ? rate : 0;
	retry_after_s = retry_after >= 0 ? retry_after : 1;
	tokens = max_rate;
	last_refill = util_mono();
	pthread_mutex_unlock(&limit_mu);
}

long limit_retry_after(void)
{
	return retry_after_s;
}

bool limit_enter(bool counted)
{
	bool ok = true;
	double now;

	pthread_mutex_lock(&limit_mu);
	if (max_rate > 0) {
		now = util_mono();
		tokens += (now - last_refill) * max_rate;
		if (tokens > max_rate)
			tokens = max_rate < 1 ? 1 : max_rate;
		last_refill = now;
		if (tokens < 1)
			ok = false;
	}
	if (ok && counted && max_inflight > 0 && inflight >= max_inflight)
		ok = false;
	if (ok) {
		if (max_rate > 0)
			tokens -= 1;
		if (counted)
			inflight++;
	}
	pthread_mutex_unlock(&limit_mu);
	return ok;
}

void limit_leave(bool counted)
{
	if (!counted)
		return;
	pthread_mutex_lock(&limit_mu);
	inflight--;
	pthread_mutex_unlock(&limit_mu);
}
