/*
 * test_store: the local database (common/store) on temporary files.
 *
 * What happens: databases are created, reopened, upgraded from user_version
 * 0, refused when newer, missing, a directory, a FIFO, read-only (mode
 * 0444, also as root) or not a database; bookkeeping is written and read;
 * transactions are committed, rolled back and locked out; an upload batch
 * is released with store_batch_drop.
 * What must hold: only create makes a file, mode 0660 at most (its -wal and
 * -shm too) whatever the umask; the schema reaches store_schema_version() in
 * WAL mode with synchronous=FULL and foreign keys on; every unusable file
 * is EX_IOERR with a code and a message naming the path, and is left as it
 * was; a database locked past the busy timeout is EX_TEMPFAIL; a dropped
 * batch sends its members back to the queue and touches no other batch; a
 * second store opened in the same process keeps the first one's locks.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/store.h"

struct fx {
	char dir[256]; /* temporary directory */
	char db[300];  /* dir/pos.db (not created) */
	struct pa_err e;
	struct store *st;
	mode_t umask_was;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_store.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->db, sizeof(f->db), "%s/pos.db", f->dir);
	f->umask_was = umask(022);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[600];

	store_close(f->st);
	umask(f->umask_was);
	snprintf(cmd, sizeof(cmd), "chmod -R u+rwX '%s'; rm -rf '%s'", f->dir, f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(f);
	return 0;
}

/* The first column of the first row of sql on a raw connection to path. */
static long long raw_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	long long v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* Runs sql on a raw connection to path (creating it). */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* The first column of the first row of sql on the store's connection. */
static long long st_int(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;

	assert_int_equal(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static void st_exec(struct store *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* A file's bytes, for "left as it was". */
static size_t slurp(const char *path, char *buf, size_t n)
{
	FILE *fp = fopen(path, "rb");
	size_t got;

	assert_non_null(fp);
	got = fread(buf, 1, n, fp);
	fclose(fp);
	return got;
}

/* The open must fail with EX_IOERR and code; the message names the path. */
static void refused(struct fx *f, const char *path, bool create, const char *code)
{
	struct store *st = (struct store *)0x1;

	memset(&f->e, 0, sizeof(f->e));
	assert_int_equal(store_open(path, create, &st, &f->e), EX_IOERR);
	assert_null(st);
	assert_int_equal(f->e.status, EX_IOERR);
	assert_string_equal(f->e.code, code);
	if (!strstr(f->e.message, path))
		fail_msg("message \"%s\" does not name %s", f->e.message, path);
	assert_null(strchr(f->e.message, '\n'));
}

static void mode_at_most_0660(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	if (sb.st_mode & ~(mode_t)(S_IFMT | 0660))
		fail_msg("%s has mode %04o, more than 0660", path, (unsigned)(sb.st_mode & 07777));
}

/* A 0-byte file (or any SQLite file without posagent's schema) is no
 * database to open: refused like a missing one, and left as it is; only
 * init (create) makes the schema in it. */
static void test_open_empty_file(void **state)
{
	struct fx *f = *state;
	struct stat sb;
	FILE *fp = fopen(f->db, "w");

	assert_non_null(fp);
	fclose(fp);
	refused(f, f->db, false, "database_missing");
	assert_non_null(strstr(f->e.message, "posagent init"));
	assert_int_equal(stat(f->db, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->db, false, &f->st, &f->e), 0);
	store_close(f->st);
	f->st = NULL;

	/* a SQLite file without posagent's schema: the same */
	assert_int_equal(unlink(f->db), 0);
	raw_exec(f->db, "CREATE TABLE leftover(x);");
	refused(f, f->db, false, "database_missing");
	assert_non_null(strstr(f->e.message, "posagent init"));
}

static void test_open_missing(void **state)
{
	struct fx *f = *state;

	refused(f, f->db, false, "database_missing");
	assert_non_null(strstr(f->e.message, "posagent init"));
	assert_int_equal(access(f->db, F_OK), -1);
}

static void test_create(void **state)
{
	struct fx *f = *state;
	static const char *const tables[] = {"meta", "customer", "address", "txn", "tender", "batch",
	                                     "statement", "customer_tri", "customer_word"};
	char wal[320], shm[320];

	umask(0); /* the store, not the caller's umask, keeps others out */
	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	assert_non_null(f->st);
	mode_at_most_0660(f->db);
	assert_int_equal(st_int(f->st, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(st_int(f->st, "PRAGMA synchronous"), 2); /* FULL */
	assert_int_equal(st_int(f->st, "PRAGMA foreign_keys"), 1);
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), 1);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		sqlite3_stmt *s = NULL;
		assert_int_equal(sqlite3_prepare_v2(f->st->db, "SELECT count(*) FROM sqlite_master WHERE name = ?1", -1,
		                                    &s, NULL),
		                 SQLITE_OK);
		sqlite3_bind_text(s, 1, tables[i], -1, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		if (sqlite3_column_int(s, 0) != 1)
			fail_msg("table %s missing", tables[i]);
		sqlite3_finalize(s);
	}
	/* a write makes the -wal and -shm; they copy the file's mode */
	assert_int_equal(store_meta_set(f->st, "k", "v", &f->e), 0);
	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	snprintf(shm, sizeof(shm), "%s-shm", f->db);
	mode_at_most_0660(wal);
	mode_at_most_0660(shm);
	assert_string_equal(f->st->path, f->db);
}

static void test_reopen(void **state)
{
	struct fx *f = *state;
	char v[64];

	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	assert_int_equal(store_meta_set(f->st, "cursor", "c-41", &f->e), 0);
	store_close(f->st);
	f->st = NULL;
	/* init again (create) and an ordinary open keep the data */
	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(f->db, false, &f->st, &f->e), 0);
	assert_int_equal(store_meta_get(f->st, "cursor", v, sizeof(v), &f->e), 0);
	assert_string_equal(v, "c-41");
	assert_int_equal(st_int(f->st, "PRAGMA user_version"), store_schema_version());
}

/* Whether a process other than this one sees this process's lock on the
 * -shm file's dead-man switch (byte 128: SQLite's UNIX_SHM_DMS, held by
 * every process that has the wal-index mapped). A forked child asks,
 * since F_GETLK ignores the asker's own locks. */
static bool dms_held(const char *db)
{
	char shm[320];
	pid_t child, parent = getpid();
	int status = 0;

	snprintf(shm, sizeof(shm), "%s-shm", db);
	child = fork();
	if (child == 0) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 128, .l_len = 1};
		int fd = open(shm, O_RDWR);
		_exit(fd >= 0 && fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK && fl.l_pid == parent ? 0 : 1);
	}
	return child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* A second store opened in a process (the service's threads) while the
 * -wal is not there (the moment before the first connection makes it;
 * here it is moved away and back) leaves the first connection's locks
 * alone: the -shm is not opened and closed beside SQLite (a close drops
 * every fcntl lock of the process on that file), so another process never
 * takes the wal-index for abandoned and truncates it under this one. */
static void test_second_open_keeps_locks(void **state)
{
	struct fx *f = *state;
	struct store *second = NULL;
	char wal[320], away[330];

	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	assert_int_equal(store_meta_set(f->st, "cursor", "c-1", &f->e), 0);
	assert_true(dms_held(f->db));
	snprintf(wal, sizeof(wal), "%s-wal", f->db);
	snprintf(away, sizeof(away), "%s.away", wal);
	assert_int_equal(rename(wal, away), 0);
	if (store_open(f->db, false, &second, &f->e) == 0) /* SQLite may refuse the odd -wal: either is fine */
		store_close(second);
	assert_int_equal(rename(away, wal), 0);
	assert_true(dms_held(f->db));
}

/* user_version 0 (an empty file, or one an older build left) is upgraded
 * by init (create); test_open_empty_file shows the other commands refuse. */
static void test_upgrade_from_0(void **state)
{
	struct fx *f = *state;
	FILE *fp = fopen(f->db, "w");

	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	assert_int_equal(st_int(f->st, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM customer"), 0);
	store_close(f->st);
	f->st = NULL;

	assert_int_equal(unlink(f->db), 0);
	raw_exec(f->db, "PRAGMA user_version = 0; CREATE TABLE leftover(x); INSERT INTO leftover VALUES (7);");
	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	assert_int_equal(st_int(f->st, "PRAGMA user_version"), store_schema_version());
	assert_int_equal(st_int(f->st, "SELECT x FROM leftover"), 7);
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM statement"), 0);
}

/* 6 -> 7 on a database of version 6 (this schema taken back: the
 * members in a table of their own, no number triggers) with a batch in
 * flight: its members move into the batch row in their send order, the
 * table goes, a deleted customer's number raises the floor. */
static void test_upgrade_6_to_7(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_schema_version(), 7);
	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	store_close(f->st);
	f->st = NULL;
	raw_exec(f->db,
	         "DROP TRIGGER customer_number_gone; DROP TRIGGER customer_number_moved;"
	         "ALTER TABLE batch DROP COLUMN members;"
	         "CREATE TABLE batch_member (batch INTEGER NOT NULL REFERENCES batch(id), seq INTEGER NOT NULL,"
	         " kind TEXT NOT NULL CHECK (kind IN ('customer','address','txn','customer_update','address_update')),"
	         " row INTEGER NOT NULL, record_id TEXT NOT NULL, PRIMARY KEY (batch, seq)) WITHOUT ROWID;"
	         "INSERT INTO customer(id, async_id, local_number, origin, state, kind, created_at, updated_at, batch_id)"
	         " VALUES (3, 'c3', 'R01-000040', 'local', 'pending', 'person', 'now', 0, 1);"
	         "INSERT INTO meta VALUES ('local_seq', '5');"
	         "INSERT INTO batch(id, batch_id, idem_key, body, records, created_at)"
	         " VALUES (1, 'b1', 'k1', 'x', 2, 0), (2, 'b2', 'k2', 'y', 0, 0);"
	         "INSERT INTO batch_member VALUES (1, 2, 'txn', 5, 'S0001-R01-5'), (1, 1, 'customer', 3, 'c3');"
	         "PRAGMA user_version = 6;");
	assert_int_equal(store_open(f->db, false, &f->st, &f->e), 0);
	assert_int_equal(st_int(f->st, "PRAGMA user_version"), 7);
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM sqlite_master WHERE name = 'batch_member'"), 0);
	assert_int_equal(st_int(f->st, "SELECT members = '[[\"customer\",3,\"c3\"],[\"txn\",5,\"S0001-R01-5\"]]'"
	                               " FROM batch WHERE id = 1"),
	                 1);
	assert_int_equal(st_int(f->st, "SELECT members = '[]' FROM batch WHERE id = 2"), 1);
	st_exec(f->st, "UPDATE customer SET batch_id = NULL; DELETE FROM customer WHERE id = 3");
	assert_int_equal(st_int(f->st, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'local_seq'"), 40);
}

/* One version newer than this build knows: refused, named, untouched. */
static void test_newer_refused(void **state)
{
	struct fx *f = *state;
	char sql[80], want[16];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d; CREATE TABLE future(x);", store_schema_version() + 1);
	raw_exec(f->db, sql);
	refused(f, f->db, false, "database_too_new");
	snprintf(want, sizeof(want), "%d", store_schema_version() + 1);
	assert_non_null(strstr(f->e.message, want));
	refused(f, f->db, true, "database_too_new");
	assert_int_equal(raw_int(f->db, "PRAGMA user_version"), store_schema_version() + 1);
	assert_int_equal(raw_int(f->db, "SELECT count(*) FROM sqlite_master WHERE name = 'customer'"), 0);
	raw_exec(f->db, "PRAGMA user_version = 1000");
	refused(f, f->db, false, "database_too_new");
}

static void test_directory(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkdir(f->db, 0770), 0);
	refused(f, f->db, false, "database_is_directory");
	refused(f, f->db, true, "database_is_directory");
}

static void test_not_regular(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkfifo(f->db, 0660), 0);
	refused(f, f->db, true, "database_unreadable");
}

static void test_missing_directory(void **state)
{
	struct fx *f = *state;
	char path[400];

	snprintf(path, sizeof(path), "%s/nodir/pos.db", f->dir);
	refused(f, path, true, "database_create");
	refused(f, path, false, "database_missing");
}

/* No write bit (chmod 0444) is read-only, even for root. */
static void test_readonly(void **state)
{
	struct fx *f = *state;
	static char before[1 << 16], after[1 << 16];
	size_t nb, na;

	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	store_close(f->st);
	f->st = NULL;
	nb = slurp(f->db, before, sizeof(before));
	assert_int_equal(chmod(f->db, 0444), 0);
	refused(f, f->db, false, "database_readonly");
	assert_non_null(strstr(f->e.message, "read-only"));
	refused(f, f->db, true, "database_readonly");
	na = slurp(f->db, after, sizeof(after));
	assert_int_equal(na, nb);
	assert_memory_equal(before, after, nb);
}

static void test_not_a_database(void **state)
{
	struct fx *f = *state;
	static const char junk[] = "this is a text file, not an SQLite database; the agent must leave it alone.\n"
	                           "....................................................................\n";
	char after[sizeof(junk)];
	FILE *fp = fopen(f->db, "w");

	assert_non_null(fp);
	fputs(junk, fp);
	fclose(fp);
	refused(f, f->db, false, "database_unreadable");
	refused(f, f->db, true, "database_unreadable");
	assert_int_equal(slurp(f->db, after, sizeof(after)), sizeof(junk) - 1);
	assert_memory_equal(after, junk, sizeof(junk) - 1);
}

static void test_meta(void **state)
{
	struct fx *f = *state;
	char v[8];

	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	memcpy(v, "junk", 5);
	assert_int_equal(store_meta_get(f->st, "absent", v, sizeof(v), &f->e), 0);
	assert_string_equal(v, "");
	assert_int_equal(store_meta_set(f->st, "cursor", "abc", &f->e), 0);
	assert_int_equal(store_meta_get(f->st, "cursor", v, sizeof(v), &f->e), 0);
	assert_string_equal(v, "abc");
	assert_int_equal(store_meta_set(f->st, "cursor", "xyz", &f->e), 0);
	assert_int_equal(store_meta_get(f->st, "cursor", v, sizeof(v), &f->e), 0);
	assert_string_equal(v, "xyz");
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM meta WHERE key = 'cursor'"), 1);
	assert_int_equal(store_meta_set(f->st, "empty", "", &f->e), 0);
	assert_int_equal(store_meta_get(f->st, "empty", v, sizeof(v), &f->e), 0);
	assert_string_equal(v, "");
	/* a value longer than the buffer is cut, still terminated */
	assert_int_equal(store_meta_set(f->st, "long", "0123456789abcdef", &f->e), 0);
	assert_int_equal(store_meta_get(f->st, "long", v, sizeof(v), &f->e), 0);
	assert_string_equal(v, "0123456");
	/* keys and values are data, never SQL */
	assert_int_equal(store_meta_set(f->st, "k'); DROP TABLE meta;--", "v'\"", &f->e), 0);
	assert_int_equal(store_meta_get(f->st, "k'); DROP TABLE meta;--", v, sizeof(v), &f->e), 0);
	assert_string_equal(v, "v'\"");
}

static void test_transactions(void **state)
{
	struct fx *f = *state;
	char v[16];

	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	assert_int_equal(store_begin(f->st, true, &f->e), 0);
	assert_int_equal(store_meta_set(f->st, "a", "1", &f->e), 0);
	store_rollback(f->st);
	assert_int_equal(store_meta_get(f->st, "a", v, sizeof(v), &f->e), 0);
	assert_string_equal(v, "");
	store_rollback(f->st); /* harmless outside a transaction */
	assert_int_equal(store_begin(f->st, true, &f->e), 0);
	assert_int_equal(store_meta_set(f->st, "a", "2", &f->e), 0);
	assert_int_equal(store_commit(f->st, &f->e), 0);
	assert_int_equal(store_begin(f->st, false, &f->e), 0);
	assert_int_equal(store_meta_get(f->st, "a", v, sizeof(v), &f->e), 0);
	assert_string_equal(v, "2");
	assert_int_equal(store_commit(f->st, &f->e), 0);
	/* commit with nothing begun is an error, not a crash */
	assert_int_equal(store_commit(f->st, &f->e), EX_IOERR);
	/* a statement that cannot be prepared */
	memset(&f->e, 0, sizeof(f->e));
	assert_null(store_prepare(f->st, "SELECT nothing FROM nowhere", &f->e));
	assert_int_equal(f->e.status, EX_IOERR);
	assert_true(f->e.message[0] != '\0');
}

/* A second writer that waits past its busy timeout gets EX_TEMPFAIL. */
/* Rolls back the write transaction of the store given, 200 ms from now. */
static void *release_later(void *arg)
{
	struct timespec ts = {0, 200000000};

	nanosleep(&ts, NULL);
	store_rollback(arg);
	return NULL;
}

static void test_busy(void **state)
{
	struct fx *f = *state;
	struct store *other = NULL;
	pthread_t t;

	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	assert_int_equal(store_open(f->db, false, &other, &f->e), 0);
	/* a lock held for a moment is waited for (store_open's busy handler) */
	assert_int_equal(store_begin(f->st, true, &f->e), 0);
	assert_int_equal(pthread_create(&t, NULL, release_later, f->st), 0);
	assert_int_equal(store_begin(other, true, &f->e), 0);
	pthread_join(t, NULL);
	store_rollback(other);
	sqlite3_busy_timeout(other->db, 50);
	assert_int_equal(store_begin(f->st, true, &f->e), 0);
	memset(&f->e, 0, sizeof(f->e));
	assert_int_equal(store_begin(other, true, &f->e), EX_TEMPFAIL);
	assert_string_equal(f->e.code, "database_busy");
	store_rollback(f->st);
	assert_int_equal(store_begin(other, true, &f->e), 0);
	assert_int_equal(store_meta_set(other, "x", "y", &f->e), 0);
	assert_int_equal(store_commit(other, &f->e), 0);
	store_close(other);
}

static void test_helpers(void **state)
{
	struct fx *f = *state;
	int64_t v = 0;
	sqlite3_stmt *s;

	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	assert_int_equal(store_query_i(f->st, "SELECT value FROM meta WHERE key = 'none'", 0, 0, -7, &v, &f->e), 0);
	assert_int_equal(v, -7);
	assert_int_equal(store_query_i(f->st, "SELECT NULL", 0, 0, 42, &v, &f->e), 0);
	assert_int_equal(v, 42);
	assert_int_equal(store_query_i(f->st, "SELECT ?1 * ?2", 6, 7, 0, &v, &f->e), 0);
	assert_int_equal(v, 42);
	assert_int_equal(store_query_i(f->st, "SELECT ?1", INT64_MAX, 0, 0, &v, &f->e), 0);
	assert_true(v == INT64_MAX);
	assert_int_equal(store_exec_ii(f->st, "INSERT INTO meta(key, value) VALUES ('n', ?1 + ?2)", 40, 2, &f->e), 0);
	assert_int_equal(st_int(f->st, "SELECT value FROM meta WHERE key = 'n'"), 42);
	assert_int_equal(store_exec_ii(f->st, "INSERT INTO meta(key, value) VALUES ('n', 1)", 0, 0, &f->e), EX_IOERR);
	s = store_prepare(f->st, "SELECT ?1, ?2", &f->e);
	assert_non_null(s);
	assert_int_equal(store_bind_text(s, 1, NULL), SQLITE_OK);
	assert_int_equal(store_bind_text(s, 2, "t"), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_null(store_col_text(s, 0));
	assert_string_equal(store_col_text(s, 1), "t");
	sqlite3_finalize(s);
	store_identity(f->st, "S0001", "R01", "EUR");
	assert_string_equal(f->st->store_id, "S0001");
	assert_string_equal(f->st->reg, "R01");
	assert_string_equal(f->st->currency, "EUR");
	store_close(NULL);
}

/* Inserts a customer, an address and a transaction held by batch b. */
static void held_by(struct store *st, int n, int b)
{
	char sql[1024];

	snprintf(sql, sizeof(sql),
	         "INSERT INTO customer(id, async_id, local_number, origin, state, kind, created_at, updated_at, batch_id)"
	         " VALUES (%d, 'c%d', 'R01-%06d', 'local', 'pending', 'person', 'now', 0, %d);"
	         "INSERT INTO address(id, async_id, customer_id, origin, state, created_at, updated_at, batch_id)"
	         " VALUES (%d, 'a%d', %d, 'local', 'pending', 'now', 0, %d);"
	         "INSERT INTO txn(id, txn_id, kind, business_date, customer_id, total_minor, body, state, updated_at,"
	         " batch_id) VALUES (%d, 'S0001-R01-%d', 'cash_and_carry', '2026-11-25', %d, 0, '{}', 'pending', 0, %d);"
	         "UPDATE batch SET members = json_insert(members, '$[#]', json_array('customer', %d, 'c%d'),"
	         " '$[#]', json_array('address', %d, 'a%d'), '$[#]', json_array('txn', %d, 'S0001-R01-%d'))"
	         " WHERE id = %d;",
	         n, n, n, b, n, n, n, b, n, n, n, b, n, n, n, n, n, n, b);
	st_exec(st, sql);
}

static void test_batch_drop(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_open(f->db, true, &f->st, &f->e), 0);
	st_exec(f->st, "INSERT INTO batch(id, batch_id, idem_key, body, records, created_at)"
	               " VALUES (1, 'b1', 'k1', 'x', 6, 0), (2, 'b2', 'k2', 'y', 3, 0)");
	held_by(f->st, 1, 1);
	held_by(f->st, 2, 1);
	held_by(f->st, 3, 2);
	assert_int_equal(store_begin(f->st, true, &f->e), 0);
	assert_int_equal(store_batch_drop(f->st, 1, &f->e), 0);
	assert_int_equal(store_commit(f->st, &f->e), 0);
	/* batch 1 and its members are gone, its records are back in the queue */
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM batch WHERE id = 1"), 0);
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM customer WHERE batch_id IS NULL AND id IN (1, 2)"), 2);
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM address WHERE batch_id IS NULL AND id IN (1, 2)"), 2);
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM txn WHERE batch_id IS NULL AND id IN (1, 2)"), 2);
	/* still pending: dropping a batch is not an answer from HQ */
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM customer WHERE state = 'pending'"), 3);
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM customer WHERE state = 'pending' AND batch_id IS NULL"), 2);
	/* batch 2 is untouched */
	assert_int_equal(st_int(f->st, "SELECT count(*) FROM batch WHERE id = 2 AND body = 'y'"), 1);
	assert_int_equal(st_int(f->st, "SELECT json_array_length(members) FROM batch WHERE id = 2"), 3);
	assert_int_equal(st_int(f->st, "SELECT (SELECT batch_id FROM customer WHERE id = 3) + (SELECT batch_id FROM address"
	                               " WHERE id = 3) + (SELECT batch_id FROM txn WHERE id = 3)"),
	                 6);
	/* dropping a batch that is not there changes nothing */
	assert_int_equal(store_batch_drop(f->st, 99, &f->e), 0);
	assert_int_equal(st_int(f->st, "SELECT sum(json_array_length(members)) FROM batch"), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_open_keeps_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_from_0, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_6_to_7, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readonly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_helpers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_drop, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
