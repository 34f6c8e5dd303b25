/*
 * download: the 1010 job. Reads pages of changes from HQ after the stored
 * cursor and applies them exactly as HQ-API.md's list says, in the same
 * transaction that stores the new cursor: a crash re-reads at most one
 * page, applying a page twice changes nothing, and the cursor is replaced
 * only if it still equals the one the page was asked after.
 */
#ifndef POSAGENT_DOWNLOAD_H
#define POSAGENT_DOWNLOAD_H

#include <stdbool.h>

#include "common/config.h"
#include "common/err.h"
#include "common/hqclient.h"
#include "common/store.h"

struct down_outcome {
	bool ok;          /* HQ answered with a readable page */
	bool more;        /* HQ has more after this page */
	int applied;      /* changes applied (0 when another process had) */
	int assigned;     /* account_assigned changes for customers made here */
	long status;      /* HTTP status, 0 when none */
	long retry_after; /* Retry-After seconds, -1 none */
	char error[320];  /* when !ok */
};

/* Fetches and applies one page; wait is the long poll in seconds (0: none).
 * Returns 0 (see o->ok), or a status for a local failure with *e. */
PA_MUST_USE int down_page(struct store *st, struct hq_client *hq, const struct cfg *cfg, long wait,
              struct down_outcome *o, struct pa_err *e);

/* Applies a changes document (the body of a changes reply) that was asked
 * after cursor `after` (NULL or "" for the start). Exposed for tests. */
PA_MUST_USE int down_apply(struct store *st, const char *after, const cJSON *doc, struct down_outcome *o, struct pa_err *e);

#endif
