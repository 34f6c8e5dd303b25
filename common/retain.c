#include "common/retain.h"

#include <stdio.h>
#include <string.h>

/* The dates retention drops: posted, before the cutoff, with transactions
 * at HQ left or a statement body still kept. */
#define DAYS_SQL                                                                                            \
	"SELECT s.business_date FROM statement s WHERE s.state = 'posted' AND s.business_date < ?1"            \
	" AND (s.body <> '{}' OR EXISTS (SELECT 1 FROM txn t WHERE t.business_date = s.business_date"           \
	" AND t.state = 'uploaded' AND t.batch_id IS NULL)) ORDER BY s.business_date"

/* Rows of a dropped transaction beyond its body: the row, its index
 * entries and its tenders (measured: about 150 bytes a sale). */
#define TXN_OVERHEAD 150

/* Writes the local date keep_days before now into out (11 bytes). */
static void cutoff_date(long keep_days, time_t now, char out[11])
{
	time_t t = now - (time_t)keep_days * 86400;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Runs a one-value integer query with ?1 bound to text. */
static int query_text_i(struct store *st, const char *sql, const char *arg, int64_t *out, int64_t *out2,
                        struct pa_err *e)
{
	sqlite3_stmt *q = store_prepare(st, sql, e);
	int rc = 0;

	if (!q)
		return e->status;
	if (arg)
		store_bind_text(q, 1, arg);
	if (sqlite3_step(q) != SQLITE_ROW) {
		rc = store_fail(st, e, "retention");
		goto cleanup;
	}
	*out = sqlite3_column_int64(q, 0);
	if (out2)
		*out2 = sqlite3_column_int64(q, 1);
cleanup:
	sqlite3_finalize(q);
	return rc;
}

int ret_db_size(struct store *st, int64_t *bytes, int64_t *free_bytes, int *auto_vacuum, struct pa_err *e)
{
	int64_t pages, size, freel, av;
	int rc;

	if ((rc = query_text_i(st, "PRAGMA page_count", NULL, &pages, NULL, e)) ||
	    (rc = query_text_i(st, "PRAGMA page_size", NULL, &size, NULL, e)) ||
	    (rc = query_text_i(st, "PRAGMA freelist_count", NULL, &freel, NULL, e)) ||
	    (rc = query_text_i(st, "PRAGMA auto_vacuum", NULL, &av, NULL, e)))
		return rc;
	*bytes = pages * size;
	*free_bytes = freel * size;
	*auto_vacuum = (int)av;
	return 0;
}

int ret_plan(struct store *st, long keep_days, time_t now, struct ret_plan *p, struct pa_err *e)
{
	int64_t body = 0, stmt = 0;
	int rc;

	memset(p, 0, sizeof(*p));
	if (keep_days <= 0)
		return 0;
	cutoff_date(keep_days, now, p->cutoff);
	if ((rc = query_text_i(st, "SELECT count(*) FROM (" DAYS_SQL ")", p->cutoff, &p->days, NULL, e)) ||
	    (rc = query_text_i(st,
	                       "SELECT count(*), coalesce(sum(length(t.body)), 0) FROM statement s"
	                       " JOIN txn t ON t.business_date = s.business_date"
	                       " WHERE s.state = 'posted' AND s.business_date < ?1"
	                       " AND t.state = 'uploaded' AND t.batch_id IS NULL",
	                       p->cutoff, &p->txns, &body, e)) ||
	    (rc = query_text_i(st,
	                       "SELECT coalesce(sum(length(body) - 2), 0), 0 FROM statement"
	                       " WHERE state = 'posted' AND business_date < ?1 AND body <> '{}'",
	                       p->cutoff, &stmt, NULL, e)))
		return rc;
	p->bytes = body + stmt + p->txns * TXN_OVERHEAD;
	return 0;
}

/* Drops one posted date's transactions (at HQ, in no batch), their
 * tenders, and its statement's body, in one write transaction. *txns gets
 * how many transactions went. */
static int drop_date(struct store *st, const char *date, int64_t *txns, struct pa_err *e)
{
	static const char *const sql[] = {
		("DELETE FROM tender WHERE txn IN (SELECT id FROM txn WHERE business_date = ?1"
		 " AND state = 'uploaded' AND batch_id IS NULL)"),
		"DELETE FROM txn WHERE business_date = ?1 AND state = 'uploaded' AND batch_id IS NULL",
		"UPDATE statement SET body = '{}' WHERE business_date = ?1 AND state = 'posted'",
	};
	sqlite3_stmt *q = NULL;
	int rc;

	*txns = 0;
	if ((rc = store_begin(st, true, e)))
		return rc;
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (!(q = store_prepare(st, sql[i], e))) {
			rc = e->status;
			goto cleanup;
		}
		store_bind_text(q, 1, date);
		if (sqlite3_step(q) != SQLITE_DONE) {
			rc = store_fail(st, e, "retention");
			goto cleanup;
		}
		if (i == 1)
			*txns = sqlite3_changes(st->db);
		sqlite3_finalize(q);
		q = NULL;
	}
	rc = store_commit(st, e);
cleanup:
	sqlite3_finalize(q);
	if (rc)
		store_rollback(st);
	return rc;
}

/* The next date to drop (before cutoff), or "" when none. */
static int next_date(struct store *st, const char *cutoff, char date[11], struct pa_err *e)
{
	sqlite3_stmt *q = store_prepare(st, DAYS_SQL " LIMIT 1", e);
	int rc = 0, step;

	date[0] = '\0';
	if (!q)
		return e->status;
	store_bind_text(q, 1, cutoff);
	step = sqlite3_step(q);
	if (step == SQLITE_ROW)
		snprintf(date, 11, "%s", store_col_text(q, 0) ? store_col_text(q, 0) : "");
	else if (step != SQLITE_DONE)
		rc = store_fail(st, e, "retention");
	sqlite3_finalize(q);
	return rc;
}

/* PRAGMA incremental_vacuum: every free page back to the file system
 * (it answers one row per page freed; stepped to the end). */
static int incremental_vacuum(struct store *st, struct pa_err *e)
{
	sqlite3_stmt *q = store_prepare(st, "PRAGMA incremental_vacuum", e);
	int step, rc = 0;

	if (!q)
		return e->status;
	while ((step = sqlite3_step(q)) == SQLITE_ROW)
		;
	if (step != SQLITE_DONE)
		rc = store_fail(st, e, "retention: incremental vacuum");
	sqlite3_finalize(q);
	return rc;
}

int ret_apply(struct store *st, long keep_days, time_t now, volatile sig_atomic_t *stop, struct ret_plan *done,
              struct pa_err *e)
{
	struct ret_plan before;
	char date[11];
	int64_t n, size, free_bytes;
	int av, rc;

	memset(done, 0, sizeof(*done));
	if (keep_days <= 0)
		return 0;
	if ((rc = ret_plan(st, keep_days, now, &before, e)))
		return rc;
	snprintf(done->cutoff, sizeof(done->cutoff), "%s", before.cutoff);
	while (!(stop && *stop)) {
		if ((rc = next_date(st, before.cutoff, date, e)))
			return rc;
		if (!date[0])
			break;
		if ((rc = drop_date(st, date, &n, e)))
			return rc;
		done->days++;
		done->txns += n;
	}
	done->bytes = done->txns ? before.bytes * done->txns / (before.txns ? before.txns : 1) : 0;
	if ((rc = ret_db_size(st, &size, &free_bytes, &av, e)) || av != 2 || free_bytes == 0)
		return rc;
	return incremental_vacuum(st, e);
}

int ret_vacuum_setup(struct store *st, bool *converted, struct pa_err *e)
{
	int64_t size, free_bytes;
	int av, rc;

	*converted = false;
	if ((rc = ret_db_size(st, &size, &free_bytes, &av, e)) || av == 2)
		return rc;
	if ((rc = store_exec_ii(st, "PRAGMA auto_vacuum = INCREMENTAL", 0, 0, e)) ||
	    (rc = store_exec_ii(st, "VACUUM", 0, 0, e)))
		return rc;
	*converted = true;
	return 0;
}
