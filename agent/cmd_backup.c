/*
 * posagent backup FILE: a consistent copy of the database, safe while the
 * service runs.
 *
 * SQLite's online backup API copies every page in one read transaction
 * (sqlite3_backup_step(-1)): the copy is the database as of one instant,
 * WAL content included, and in WAL mode the service keeps writing
 * meanwhile. The copy goes to a new file beside FILE, created mode 0600,
 * is checked (quick_check) and synced, and only then takes the name FILE
 * (a hard link, which never replaces a file; a rename where the file
 * system has no links). So FILE, when it exists, is a whole and checked
 * copy; an existing FILE is never overwritten (74); on failure nothing is
 * left behind.
 *
 * The copy holds customers' data: it keeps mode 0600 and goes wherever the
 * technician puts it. Restoring it is described in the README.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/cli.h"
#include "common/restore.h"
#include "common/util.h"

#define BACKUP_BUSY_WAIT 15.0 /* seconds to wait for a lock before giving up */

/* Fsyncs path (a file, or a directory with O_DIRECTORY). Returns 0 or -1. */
static int sync_path(const char *path, bool dir)
{
	int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* The directory part of path into out ("." when none). */
static void dir_of(const char *path, char *out, size_t n)
{
	char *slash;

	util_copy(out, n, path);
	slash = strrchr(out, '/');
	if (!slash)
		util_copy(out, n, ".");
	else if (slash == out)
		out[1] = '\0';
	else
		*slash = '\0';
}

/* Copies the open store into the (new, empty) file tmp with the backup
 * API, marks it as a backup of this register taken at taken (so that a
 * restore never reissues a local number, common/restore.h) and checks the
 * copy. Returns 0 or a status with *e. */
static int copy_into(struct store *st, const char *tmp, const char *taken, struct pa_err *e)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b = NULL;
	sqlite3_stmt *s = NULL;
	double give_up = util_mono() + BACKUP_BUSY_WAIT;
	int rc = 0, step;

	if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = err_set(e, EX_IOERR, "backup_failed", NULL, "cannot open %s: %s", tmp,
		             dst ? sqlite3_errmsg(dst) : "out of memory");
		goto cleanup;
	}
	/* A fresh file, removed on any failure: no journal needed. */
	sqlite3_exec(dst, "PRAGMA journal_mode=OFF", NULL, NULL, NULL);
	b = sqlite3_backup_init(dst, "main", st->db, "main");
	if (!b) {
		rc = err_set(e, EX_IOERR, "backup_failed", NULL, "cannot start the backup: %s", sqlite3_errmsg(dst));
		goto cleanup;
	}
	while ((step = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || step == SQLITE_LOCKED) {
		if (util_mono() > give_up)
			break;
		sqlite3_sleep(50);
	}
	rc = sqlite3_backup_finish(b);
	b = NULL;
	if (step != SQLITE_DONE || rc != SQLITE_OK) {
		int code = step != SQLITE_DONE ? step : rc;
		if ((code & 0xff) == SQLITE_FULL)
			rc = err_set(e, EX_IOERR, "disk_full", NULL, "backup: disk full writing %s; nothing was kept", tmp);
		else
			rc = err_set(e, EX_IOERR, "backup_failed", NULL, "backup into %s failed: %s", tmp,
			             sqlite3_errstr(code));
		goto cleanup;
	}
	if ((rc = restore_mark(dst, st->reg, taken, e)))
		goto cleanup;
	if (sqlite3_prepare_v2(dst, "PRAGMA quick_check", -1, &s, NULL) != SQLITE_OK ||
	    (step = sqlite3_step(s)) != SQLITE_ROW || !sqlite3_column_text(s, 0) ||
	    strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0) {
		rc = err_set(e, EX_IOERR, "backup_failed", NULL,
		             "the copy does not pass quick_check; the database itself may be damaged:"
		             " run `posagent doctor`");
		goto cleanup;
	}
cleanup:
	sqlite3_finalize(s);
	if (b)
		sqlite3_backup_finish(b);
	if (dst && sqlite3_close(dst) != SQLITE_OK && rc == 0)
		rc = err_set(e, EX_IOERR, "backup_failed", NULL, "cannot close %s", tmp);
	return rc;
}

/* Gives the finished copy tmp the name file without ever replacing an
 * existing file. Returns 0 or a status with *e. */
static int publish(const char *tmp, const char *file, struct pa_err *e)
{
	struct stat sb;

	if (link(tmp, file) == 0)
		return 0;
	if (errno == EEXIST)
		return err_set(e, EX_IOERR, "backup_exists", "file", "%s appeared while the backup ran; not replaced",
		               file);
	if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP && errno != EMLINK && errno != ENOSYS)
		return err_set(e, EX_IOERR, "backup_failed", "file", "cannot name the backup %s: %s", file,
		               strerror(errno));
	/* No hard links here (FAT, some network shares): rename, after a
	 * last look that nothing took the name. */
	if (lstat(file, &sb) == 0)
		return err_set(e, EX_IOERR, "backup_exists", "file", "%s appeared while the backup ran; not replaced",
		               file);
	if (rename(tmp, file) != 0)
		return err_set(e, EX_IOERR, "backup_failed", "file", "cannot name the backup %s: %s", file,
		               strerror(errno));
	return 0;
}

/* posagent backup [--json] FILE: see the top of this file. Returns 0, 64
 * for a usage error, 78 for a configuration that does not load, 74 when
 * the database cannot be read or FILE cannot be written (or exists). */
int cmd_backup(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *syn = "posagent backup FILE";
	struct store *st = NULL;
	struct pa_err e;
	struct stat sb;
	char tmp[CFG_PATH_MAX + 32], dir[CFG_PATH_MAX + 32], taken[21];
	const char *file;
	int ch, fd, rc = 0;

	memset(&e, 0, sizeof(e));
	tmp[0] = '\0';
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'j') {
			c->json = true;
		} else if (ch == 'h') {
			printf("usage: %s\nWrites a consistent copy of the database to FILE (a new file, mode 0600),"
			       " safe while the service runs.\n", syn);
			return 0;
		} else {
			return cli_usage(c, syn, "unknown option: %s", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_usage(c, syn, "missing FILE");
	if (optind + 1 < argc)
		return cli_usage(c, syn, "unexpected argument: %s", argv[optind + 1]);
	file = argv[optind];
	if (!file[0] || strlen(file) >= CFG_PATH_MAX)
		return cli_usage(c, syn, "FILE must be a path of 1 to %d bytes", CFG_PATH_MAX - 1);
	if ((rc = cli_open(c, &st, &e)))
		goto fail;
	if (lstat(file, &sb) == 0) {
		rc = err_set(&e, EX_IOERR, "backup_exists", "file",
		             "%s exists: a backup never replaces a file; choose a new name", file);
		goto fail;
	}
	dir_of(file, dir, sizeof(dir));
	snprintf(tmp, sizeof(tmp), "%s.partial-XXXXXX", file);
	fd = mkstemp(tmp); /* mode 0600 */
	if (fd < 0) {
		rc = err_set(&e, EX_IOERR, "backup_failed", "file", "cannot create a file in %s: %s", dir,
		             strerror(errno));
		tmp[0] = '\0';
		goto fail;
	}
	close(fd);
	util_rfc3339(time(NULL), taken);
	if ((rc = copy_into(st, tmp, taken, &e)))
		goto fail;
	if (sync_path(tmp, false) != 0) {
		rc = err_set(&e, EX_IOERR, "backup_failed", "file", "cannot sync %s: %s", tmp, strerror(errno));
		goto fail;
	}
	if ((rc = publish(tmp, file, &e)))
		goto fail;
	unlink(tmp); /* the link stays as FILE (after a rename, tmp is gone already) */
	tmp[0] = '\0';
	sync_path(dir, true);
	if (stat(file, &sb) != 0)
		sb.st_size = 0;
	if (c->json) {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "file", file);
		cJSON_AddNumberToObject(doc, "bytes", (double)sb.st_size);
		cJSON_AddStringToObject(doc, "taken_at", taken);
		cJSON_AddStringToObject(doc, "database", c->cfg.database);
		cli_print_json(doc);
		cJSON_Delete(doc);
	} else {
		printf("backup written to %s (%lld bytes, mode 0600): the database %s as of %s, checked\n", file,
		       (long long)sb.st_size, c->cfg.database, taken);
	}
	goto cleanup;
fail:
	rc = cli_fail(c, &e);
cleanup:
	if (tmp[0])
		unlink(tmp);
	store_close(st);
	return rc;
}
