/*
 * retain: [retention] keep_days. A business date older than keep_days
 * (before the local date keep_days ago) whose statement HQ has posted
 * loses its transactions and their tenders, and its statement's body (the
 * row stays, posted, with its posting id: it keeps the date closed to new
 * sales). Upload batches are already gone once HQ answered them.
 * Customers and addresses always stay: they are the store's cache. Never
 * touched: a date not posted, a transaction not at HQ (pending, rejected,
 * or in a batch). The pages freed are given back to the file system by
 * PRAGMA incremental_vacuum when the database has auto_vacuum=INCREMENTAL
 * (new databases do; ret_vacuum_setup converts an older one, once, with a
 * VACUUM: `posagent init` runs it, so a package upgrade does).
 * SQL lives here; callers pass a store.
 */
#ifndef POSAGENT_RETAIN_H
#define POSAGENT_RETAIN_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "common/err.h"
#include "common/store.h"

/* What retention would free (ret_plan) or freed (ret_apply). */
struct ret_plan {
	char cutoff[11];   /* dates before this one go (YYYY-MM-DD); "" keep_days 0 */
	int64_t days;      /* posted dates with something to drop */
	int64_t txns;      /* transactions */
	int64_t bytes;     /* about how many bytes of rows (bodies, tenders, indexes) */
};

/* The database's size in bytes (page_count * page_size), the part of it
 * that is free pages, and its auto_vacuum mode (0 none, 1 full, 2
 * incremental). Returns 0 or a status with *e. */
PA_MUST_USE int ret_db_size(struct store *st, int64_t *bytes, int64_t *free_bytes, int *auto_vacuum, struct pa_err *e);

/* Fills *p with what ret_apply would drop now. keep_days 0: nothing. */
PA_MUST_USE int ret_plan(struct store *st, long keep_days, time_t now, struct ret_plan *p, struct pa_err *e);

/* Drops what ret_plan names, one date per write transaction (the till's
 * writes wait at most one date's delete), until done or *stop; then gives
 * the free pages back (incremental vacuum). *done gets what was dropped. */
PA_MUST_USE int ret_apply(struct store *st, long keep_days, time_t now, volatile sig_atomic_t *stop, struct ret_plan *done,
              struct pa_err *e);

/* Sets auto_vacuum=INCREMENTAL on a database without it (VACUUM: the
 * whole file is rewritten, so it needs as much free disk as the database
 * and blocks writers meanwhile). *converted gets whether it did. */
PA_MUST_USE int ret_vacuum_setup(struct store *st, bool *converted, struct pa_err *e);

#endif
