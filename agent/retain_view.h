/*
 * retain_view: the database's size and what [retention] would free, as
 * `status` (text and JSON) and `doctor` show them. Reads through
 * common/retain.h.
 */
#ifndef POSAGENT_RETAIN_VIEW_H
#define POSAGENT_RETAIN_VIEW_H

#include <cJSON.h>
#include <time.h>

#include "common/retain.h"

struct retain_view {
	long keep_days;
	int64_t bytes;       /* the database (pages in use and free) */
	int64_t free_bytes;  /* of which free pages */
	int auto_vacuum;     /* 2: freed pages go back to the file system */
	struct ret_plan plan;
};

/* Reads the size and the plan for keep_days at now. Returns 0 or *e. */
int retain_view_read(struct store *st, long keep_days, time_t now, struct retain_view *v, struct pa_err *e);

/* Adds "database": {"bytes", "free_bytes", "retention": {"keep_days",
 * "cutoff", "days", "transactions", "bytes"}} to doc. */
void retain_view_json(cJSON *doc, const struct retain_view *v);

/* One line for a person: "12.3 MB (0.1 MB free); retention keeps 90
 * days: would free about 2.0 MB (1,200 transactions of 4 posted days
 * before 2026-09-01)". */
void retain_view_line(const struct retain_view *v, char *out, size_t outlen);

#endif
