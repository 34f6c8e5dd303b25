/*
 * metrics: the register's health in the Prometheus text exposition format
 * (version 0.0.4), for a fleet watched with Prometheus and Grafana.
 *
 * The service writes it every [metrics] interval to [metrics] textfile,
 * the folder that prometheus-node-exporter's textfile collector reads, by
 * writing a temporary file beside it and renaming it over the old one (so
 * a scrape never sees half a file); `posagent status --prometheus` prints
 * the same. The figures are counts, ages and times, labelled with the
 * store and register ids only: never a customer's name, email, phone,
 * address, nor an HQ message.
 *
 * HQ request counts by status are counted in each process (hq_post and
 * hq_get call met_count_request) and added to totals kept in the
 * database's bookkeeping by met_flush_requests, so they survive restarts
 * and a `status` run in another process sees them.
 */
#ifndef POSAGENT_METRICS_H
#define POSAGENT_METRICS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/config.h"
#include "common/diag.h"
#include "common/err.h"
#include "common/store.h"

#define MET_MAX_CODES 24 /* distinct HTTP statuses kept; more go to "other" */

/* What one exposition shows. */
struct met_snapshot {
	time_t now;
	struct diag_counts counts;  /* records by kind and state */
	int64_t oldest_age;         /* seconds the oldest waiting record waits, 0 none */
	time_t last_upload;         /* last successful upload, 0 never */
	time_t last_download;       /* last successful download, 0 never */
	int64_t failures;           /* consecutive failed HQ requests */
	int64_t rejected;           /* records waiting for a person */
	int64_t open_dates;         /* business dates without a posted statement */
	size_t ncodes;
	struct {
		int code;               /* HTTP status; 0: no reply (network, TLS); -1: other */
		int64_t n;
	} requests[MET_MAX_CODES];  /* HQ requests by status, ascending code */
};

/* Counts one HQ request answered with status (0: no HTTP reply). Thread
 * safe; kept in this process until met_flush_requests. */
void met_count_request(long status);

/* Adds this process's request counts to the totals in the database (one
 * write transaction, none when there is nothing to add) and zeroes them.
 * Returns 0 or a status with *e (the counts are kept for the next try). */
int met_flush_requests(struct store *st, struct pa_err *e);

/* Reads a snapshot from st in one read transaction (plus the request
 * counts of this process not yet flushed). Returns 0 or a status with *e. */
int met_collect(struct store *st, struct met_snapshot *m, struct pa_err *e);

/* Writes the exposition of m for store/reg into buf (NUL-terminated).
 * Returns its length, or -1 when buf is too small. */
int met_format(const struct met_snapshot *m, const char *store_id, const char *reg, char *buf, size_t len);

/* Writes text to path atomically: PATH.tmp.PID, fsync'd, mode 0644 (the
 * collector runs as another user; nothing in it is private), renamed over
 * path. Returns 0, or -1 with a message in err. */
int met_write_file(const char *path, const char *text, size_t len, char *err, size_t errlen);

/* One round of the service's metrics: flush the request counts, collect,
 * and write cfg->metrics_textfile when it is set. Returns 0, or -1 with a
 * message in err. */
int met_update(struct store *st, const struct cfg *cfg, char *err, size_t errlen);

/* The service's metrics loop: opens its own connection to the database,
 * runs met_update every cfg->metrics_interval seconds until *stop, and
 * once more on the way out. Logs a failure once until it clears. */
void met_loop(const struct cfg *cfg, volatile sig_atomic_t *stop);

#endif
