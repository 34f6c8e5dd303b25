/*
 * test_wake: the service's wake-up socket (common/wake) in a temporary
 * directory.
 *
 * What happens: a service end is bound beside a database file; commands'
 * datagrams are sent to it, with no service, to a stale socket, to a full
 * queue; a connection with wake_on_commit commits; the socket is closed.
 * What must hold: a send never fails or blocks whatever the other end; a
 * WAKE_COMMIT ends an idle wait but not a backoff wait, a WAKE_HQ ends
 * both; every waiting datagram is read by one wait; a commit sends one
 * only after it is durable (a rolled-back transaction sends nothing); the
 * socket is 0660 with the database's group; a stale socket is replaced; a
 * path too long for a socket address is refused with a message; close
 * removes only its own file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/wake.h"

struct fx {
	char dir[256]; /* temporary directory */
	char db[300];  /* dir/pos.db (an empty file) */
	char sock[320];
	struct wake *w;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	FILE *fp;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/test_wake.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/pos.db", f->dir);
	snprintf(f->sock, sizeof(f->sock), "%s-wake", f->db);
	fp = fopen(f->db, "w");
	assert_non_null(fp);
	fclose(fp);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[400];

	wake_close(f->w);
	unlink(f->sock);
	unlink(f->db);
	snprintf(p, sizeof(p), "%s-wal", f->db);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->db);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void open_it(struct fx *f)
{
	char msg[512];

	assert_int_equal(wake_open(f->db, &f->w, msg, sizeof(msg)), 0);
	assert_non_null(f->w);
}

static void test_no_service(void **state)
{
	struct fx *f = *state;

	wake_send(f->db, WAKE_COMMIT); /* nothing bound: nothing happens */
	wake_send(NULL, WAKE_COMMIT);
	wake_post(NULL, WAKE_HQ);
	assert_false(wake_wait(NULL, 0.01, true, NULL));
}

static void test_socket_access(void **state)
{
	struct fx *f = *state;
	struct stat sb, db;

	open_it(f);
	assert_int_equal(stat(f->sock, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0660);
	assert_int_equal(stat(f->db, &db), 0);
	assert_int_equal(sb.st_gid, db.st_gid);
}

static void test_commit_wakes_idle_not_backoff(void **state)
{
	struct fx *f = *state;

	open_it(f);
	assert_false(wake_wait(f->w, 0.05, true, NULL)); /* nothing sent */
	wake_send(f->db, WAKE_COMMIT);
	assert_true(wake_wait(f->w, 5, true, NULL));
	wake_send(f->db, WAKE_COMMIT);
	assert_false(wake_wait(f->w, 0.3, false, NULL)); /* a backoff goes on */
	wake_send(f->db, WAKE_COMMIT);
	wake_post(f->w, WAKE_HQ);
	assert_true(wake_wait(f->w, 5, false, NULL));
	assert_false(wake_wait(f->w, 0.05, true, NULL)); /* all were read */
}

static void test_full_queue_never_blocks(void **state)
{
	struct fx *f = *state;

	open_it(f);
	for (int i = 0; i < 5000; i++) /* far past the queue's length */
		wake_send(f->db, WAKE_COMMIT);
	assert_true(wake_wait(f->w, 5, true, NULL));
	assert_false(wake_wait(f->w, 0.05, true, NULL));
}

static void test_stop(void **state)
{
	struct fx *f = *state;
	volatile sig_atomic_t stop = 1;

	open_it(f);
	wake_send(f->db, WAKE_HQ);
	assert_false(wake_wait(f->w, 60, true, &stop)); /* returns at once */
}

static void test_stale_and_close(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un a;
	struct stat sb;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	assert_true(strlen(f->sock) < sizeof(a.sun_path));
	memcpy(a.sun_path, f->sock, strlen(f->sock) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd); /* a crashed service's socket file */
	wake_send(f->db, WAKE_COMMIT);
	open_it(f);
	wake_send(f->db, WAKE_COMMIT);
	assert_true(wake_wait(f->w, 5, true, NULL));
	wake_close(f->w);
	f->w = NULL;
	assert_int_not_equal(stat(f->sock, &sb), 0);
}

static void test_path_too_long(void **state)
{
	struct fx *f = *state;
	char db[300], msg[512], out[300];

	(void)f;
	memset(db, 'x', 150);
	db[0] = '/';
	db[150] = '\0';
	assert_int_equal(wake_path(db, out, sizeof(out)), -1);
	assert_int_equal(wake_open(db, &f->w, msg, sizeof(msg)), -1);
	assert_null(f->w);
	assert_non_null(strstr(msg, "too long"));
	wake_send(db, WAKE_COMMIT);
}

static void test_on_commit(void **state)
{
	struct fx *f = *state;
	sqlite3 *db = NULL;

	open_it(f);
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
	wake_on_commit(db, f->db);
	assert_int_equal(sqlite3_exec(db, "BEGIN; INSERT INTO t VALUES (1); ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	assert_false(wake_wait(f->w, 0.05, true, NULL)); /* nothing committed */
	assert_int_equal(sqlite3_exec(db, "INSERT INTO t VALUES (2)", NULL, NULL, NULL), SQLITE_OK);
	assert_true(wake_wait(f->w, 5, true, NULL));
	/* the hook keeps SQLite's automatic checkpoint */
	assert_int_equal(sqlite3_exec(db, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
	                                  " WHERE i < 20000) INSERT INTO t SELECT randomblob(200) FROM n",
	                              NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO t VALUES (3)", NULL, NULL, NULL), SQLITE_OK);
	{
		int log = -1, done = -1;
		assert_int_equal(sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done), SQLITE_OK);
		assert_true(log < 1000); /* restarted by the hook's checkpoint */
	}
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_service, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_wakes_idle_not_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_queue_never_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_commit, setup, teardown),
	};

	return cmocka_run_group_tests_name("wake", tests, NULL, NULL);
}
