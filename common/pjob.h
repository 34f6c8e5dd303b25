/*
 * pjob: the upload and download loops that sync, run and eod share, with
 * their retry rules: Retry-After honoured (capped), otherwise exponential
 * backoff with full jitter on CLOCK_MONOTONIC, credentials refused backing
 * off to the cap. The outcome of each request is written to the store's
 * bookkeeping (last upload, last download, last error, next retry) so that
 * `status` and `doctor` can tell a technician what is going on.
 */
#ifndef POSAGENT_PJOB_H
#define POSAGENT_PJOB_H

#include <signal.h>
#include <stdbool.h>

#include "common/config.h"
#include "common/err.h"
#include "common/hqclient.h"
#include "common/store.h"
#include "common/wake.h"

struct pjob {
	struct store *st;
	struct hq_client *hq;
	const struct cfg *cfg;
	volatile sig_atomic_t *stop;  /* set: give up waiting, return */
	const char *priority_date;    /* eod: that date's customers first */
	int max_tries;                /* tries a request before giving up (0: forever) */
	long max_wait;                /* longest Retry-After/backoff waited; more: give up */
	struct wake *wake;            /* the service's wake-up (NULL elsewhere): an upload
	                               * backoff ends early on WAKE_HQ; a download that
	                               * succeeds after failures posts WAKE_HQ */
	/* what happened */
	int uploaded;                 /* records HQ accepted (or held already) */
	int rejected;                 /* records HQ rejected */
	int applied;                  /* changes applied */
	bool unreachable;             /* gave up: HQ unreachable or refusing */
	bool auth_refused;            /* 401/403 */
	char last_error[320];         /* the last failure, for a person */
	int failures;                 /* consecutive failures (backoff exponent) */
};

/* A pjob for the service: no limit on tries or waits (max_tries 0,
 * max_wait -1), counters at zero. */
void pjob_init(struct pjob *j, struct store *st, struct hq_client *hq, const struct cfg *cfg,
               volatile sig_atomic_t *stop);

/* Uploads until nothing can go, HQ fails past the rules, or *stop.
 * Takes the upload lock (wait_lock: block for it; else skip when another
 * process holds it). Returns 0 or a local failure status with *e. */
PA_MUST_USE int pjob_push(struct pjob *j, bool wait_lock, struct pa_err *e);

/* Downloads pages until HQ has no more (wait: long poll seconds for the
 * first page), HQ fails past the rules, or *stop. With j->wake (the
 * service), a transport or server failure without Retry-After backs off to
 * at most the long poll's wait, and at most PJOB_PROBE_MAX (5 s at least,
 * retry_max at most): the downloader's probe is what notices HQ's return
 * and wakes the uploader (WAKE_HQ), so a fleet's backlogs drain within
 * about PJOB_PROBE_MAX plus what HQ's capacity takes (make fleet). Every
 * request after a failure asks with wait 0, so that HQ's return is known
 * when it answers, not when a long poll ends. */
#define PJOB_PROBE_MAX 10
PA_MUST_USE int pjob_pull(struct pjob *j, long wait, struct pa_err *e);

/* The delay before try number `failures` (1, 2, ...): full jitter over
 * an exponential ceiling from 1 s, capped at cap seconds. */
double pjob_backoff(int failures, long cap);

/* The wait after a failure, jittered so that a fleet of registers never
 * retries in step: with HQ's Retry-After (retry_after >= 0) at least that
 * (capped at cap) plus a random part of up to as much again (at least up
 * to 1 s); without it pjob_backoff(failures, cap). */
double pjob_retry_delay(long retry_after, int failures, long cap);

/* A random delay in [0, max) seconds (eod's start of waiting). */
double pjob_jitter(double max);

/* Records a failure in the bookkeeping: last_error, its time, next_retry
 * (now + delay). */
void pjob_note_error(struct store *st, const char *msg, double delay);

#endif
