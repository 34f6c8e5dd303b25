#include "common/restore.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

int restore_mark(sqlite3 *db, const char *reg, const char *taken, struct pa_err *e)
{
	sqlite3_stmt *s = NULL;
	char v[128];
	int rc = 0;

	snprintf(v, sizeof(v), "%s %s", reg, taken);
	if (sqlite3_prepare_v2(db, "INSERT INTO meta(key, value) VALUES ('backup_mark', ?1)"
	                           " ON CONFLICT(key) DO UPDATE SET value = excluded.value", -1, &s, NULL) != SQLITE_OK) {
		rc = err_set(e, EX_IOERR, "backup_failed", NULL, "cannot mark the copy: %s", sqlite3_errmsg(db));
		goto cleanup;
	}
	sqlite3_bind_text(s, 1, v, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = err_set(e, EX_IOERR, (sqlite3_errcode(db) & 0xff) == SQLITE_FULL ? "disk_full" : "backup_failed",
		             NULL, "cannot mark the copy: %s", sqlite3_errmsg(db));
cleanup:
	sqlite3_finalize(s);
	return rc;
}

/* The floors file beside the database: DIR/.NAME.restores (hidden, so
 * that moving NAME* aside, as the README's restore does, keeps it). */
static void floors_path(const char *db, char *out, size_t n)
{
	const char *slash = strrchr(db, '/');

	if (slash)
		snprintf(out, n, "%.*s/.%s.restores", (int)(slash - db), db, slash + 1);
	else
		snprintf(out, n, ".%s.restores", db);
}

/* The highest floor an earlier restore wrote beside the database, 0 when
 * none (a missing or unreadable file counts as none). */
static int64_t floors_read(const char *path)
{
	char buf[32];
	FILE *f = fopen(path, "re");
	int64_t v = 0;

	if (!f)
		return 0;
	if (fgets(buf, sizeof(buf), f))
		v = strtoll(buf, NULL, 10);
	fclose(f);
	return v > 0 ? v : 0;
}

/* Writes floor into path durably (temp file, fsync, rename). Returns 0 or
 * a status. */
static int floors_write(const char *path, int64_t floor, struct pa_err *e)
{
	char tmp[1300], buf[32];
	int fd, n, rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(buf, sizeof(buf), "%" PRId64 "\n", floor);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0660);
	if (fd < 0)
		return err_set(e, EX_IOERR, "restore_failed", NULL, "cannot write %s: %s", tmp, strerror(errno));
	if (write(fd, buf, (size_t)n) != n || fsync(fd) != 0)
		rc = err_set(e, EX_IOERR, errno == ENOSPC ? "disk_full" : "restore_failed", NULL, "cannot write %s: %s",
		             tmp, strerror(errno));
	if (close(fd) != 0 && !rc)
		rc = err_set(e, EX_IOERR, "restore_failed", NULL, "cannot write %s: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, path) != 0)
		rc = err_set(e, EX_IOERR, "restore_failed", NULL, "cannot write %s: %s", path, strerror(errno));
	if (rc)
		unlink(tmp);
	return rc;
}

/* The new counter: RESTORE_JUMP past the copy's counter, the highest
 * number of register reg held here, and floor. */
static int new_counter(struct store *st, const char *reg, int64_t floor, int64_t *out, struct pa_err *e)
{
	char v[32], pat[48];
	sqlite3_stmt *s = NULL;
	int64_t seq = 0, hi = 0;
	int rc;

	if ((rc = store_meta_get(st, "local_seq", v, sizeof(v), e)))
		return rc;
	seq = v[0] ? strtoll(v, NULL, 10) : 0;
	snprintf(pat, sizeof(pat), "%s-[0-9]*", reg);
	s = store_prepare(st, "SELECT max(CAST(substr(local_number, ?2) AS INTEGER)) FROM customer"
	                      " WHERE local_number GLOB ?1", e);
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, pat, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, (int)strlen(reg) + 2);
	if (sqlite3_step(s) == SQLITE_ROW)
		hi = sqlite3_column_int64(s, 0);
	else
		rc = store_fail(st, e, "read local numbers");
	sqlite3_finalize(s);
	if (hi > seq)
		seq = hi;
	if (floor > seq)
		seq = floor;
	*out = seq + RESTORE_JUMP;
	return rc;
}

/* The writes of the adoption, inside the caller's transaction. */
static int mark_possibly_sent(struct store *st, struct pa_err *e)
{
	int rc;

	if ((rc = store_exec_ii(st, "UPDATE customer SET maybe_sent = 1 WHERE origin = 'local'"
	                            " AND state IN ('pending', 'rejected')", 0, 0, e)) ||
	    (rc = store_exec_ii(st, "UPDATE address SET maybe_sent = 1 WHERE origin = 'local'"
	                            " AND state IN ('pending', 'rejected')", 0, 0, e)) ||
	    (rc = store_exec_ii(st, "UPDATE batch SET sent = 1", 0, 0, e)))
		return rc;
	return 0;
}

int restore_adopt(struct store *st, struct pa_err *e)
{
	char mark[128], reg[40] = "", fpath[1200], v[32], now[21];
	int64_t counter = 0;
	int rc;

	if ((rc = store_meta_get(st, "backup_mark", mark, sizeof(mark), e)) || !mark[0])
		return rc;
	if ((rc = store_begin(st, true, e)))
		return rc;
	if ((rc = store_meta_get(st, "backup_mark", mark, sizeof(mark), e)) || !mark[0])
		goto cleanup; /* another process adopted it meanwhile */
	sscanf(mark, "%39s", reg);
	floors_path(st->path, fpath, sizeof(fpath));
	if ((rc = new_counter(st, reg, floors_read(fpath), &counter, e)))
		goto cleanup;
	snprintf(v, sizeof(v), "%" PRId64, counter);
	util_rfc3339(time(NULL), now);
	if ((rc = store_meta_set(st, "local_seq", v, e)) || (rc = mark_possibly_sent(st, e)) ||
	    (rc = store_meta_set(st, "restored_from", mark, e)) || (rc = store_meta_set(st, "restored_at", now, e)) ||
	    (rc = store_exec_ii(st, "DELETE FROM meta WHERE key = 'backup_mark'", 0, 0, e)))
		goto cleanup;
	/* The floor first: a crash before the commit leaves it higher, never
	 * lower, than what this restore hands out. */
	if ((rc = floors_write(fpath, counter, e)))
		goto cleanup;
	if ((rc = store_commit(st, e)))
		goto cleanup;
	log_info("database %s is a restored backup (%s): local numbers continue after %s-%06" PRId64
	         "; records not known to have reached HQ count as possibly sent", st->path, mark, reg, counter);
cleanup:
	store_rollback(st);
	return rc;
}
