/*
 * test_lookup: customer search answered by the service (common/lookup),
 * on a real database of four customers in a temporary directory.
 *
 * What happens: questions are parsed, good and bad; answers are made from
 * the database; the command's end asks with no service, a stale socket, a
 * service that never answers, one that answers nonsense, and the real
 * lookup thread (lookup_loop), which is then stopped.
 * What must hold: only a question of this protocol and version, a limit
 * of 1 to 10000, a format of text or json and a text of 1 to 1024 bytes
 * without NUL is taken; the answer is exactly what the command prints
 * itself (show_customer_line per customer, or cJSON_Print and a newline)
 * after "ok COUNT BYTES"; anything else is "no"; the asker gets -1 (and searches
 * itself) whenever the answer is missing, late or not of the protocol,
 * within its bound (a '+' within LOOKUP_WAIT_MS, the whole answer, of the
 * length it says, within LOOKUP_TOTAL_MS); the thread binds
 * DATABASE-lookup with mode 0660, sees a commit made after it started, and
 * stops within 2 s, removing its socket, even with a client that says
 * nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/customer.h"
#include "common/lookup.h"
#include "common/show.h"
#include "common/store.h"
#include "common/usock.h"
#include "common/util.h"
#include "tests/unit/fx_store.h"

struct fx {
	struct fx_store s;
	char *db;      /* s.db */
	char sock[320]; /* DATABASE-lookup */
	struct store *st;
	struct cfg cfg;
	volatile sig_atomic_t stop;
	pthread_t thread;
	bool running;
};

static void create(struct store *st, const char *json)
{
	cJSON *rec = cJSON_Parse(json), *doc = NULL;
	struct pa_err e;
	bool created;

	assert_non_null(rec);
	assert_int_equal(cust_create(st, rec, false, &doc, &created, &e), 0);
	cJSON_Delete(rec);
	cJSON_Delete(doc);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || fx_store_open(&f->s, "test_lookup"))
		return -1;
	f->db = f->s.db;
	f->st = f->s.st;
	snprintf(f->sock, sizeof(f->sock), "%s-lookup", f->db);
	create(f->st, "{\"first_name\":\"Ana\",\"last_name\":\"Silva\",\"email\":\"ana@example.com\"}");
	create(f->st, "{\"first_name\":\"João\",\"last_name\":\"Silvestre\",\"phone\":\"+351 911 234 567\"}");
	create(f->st, "{\"kind\":\"organization\",\"organization_name\":\"Silva & Filhos\"}");
	create(f->st, "{\"first_name\":\"Rui\",\"last_name\":\"Costa\"}");
	cfg_defaults(&f->cfg);
	snprintf(f->cfg.database, sizeof(f->cfg.database), "%s", f->db);
	snprintf(f->cfg.store, sizeof(f->cfg.store), "S0001");
	snprintf(f->cfg.reg, sizeof(f->cfg.reg), "R01");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int rc;

	if (f->running) {
		f->stop = 1;
		pthread_join(f->thread, NULL);
	}
	rc = fx_store_close(&f->s);
	free(f);
	return rc;
}

/* A question as lookup_search writes it. */
static size_t question(char *buf, size_t n, const char *version, const char *limit, const char *format,
                       const char *text)
{
	int w = snprintf(buf, n, "posagent-lookup 1 %s search %s %s\n%s", version, limit, format, text);

	assert_true(w > 0 && (size_t)w < n);
	return (size_t)w;
}

static void test_parse_question(void **state)
{
	char q[3000], text[LOOKUP_MAX_TEXT + 1], longtext[LOOKUP_MAX_TEXT + 2];
	bool json = true;
	int limit = 0;
	size_t n;

	(void)state;
	n = question(q, sizeof(q), POSAGENT_VERSION, "100", "text", "silva ana");
	assert_int_equal(lookup_parse_question(q, n, POSAGENT_VERSION, &limit, &json, text, sizeof(text)), 0);
	assert_int_equal(limit, 100);
	assert_false(json);
	assert_string_equal(text, "silva ana");
	n = question(q, sizeof(q), POSAGENT_VERSION, "10000", "json", "x");
	assert_int_equal(lookup_parse_question(q, n, POSAGENT_VERSION, &limit, &json, text, sizeof(text)), 0);
	assert_int_equal(limit, 10000);
	assert_true(json);

	/* not of this version, protocol, limit or format */
	const char *bad[][3] = {
		{"9.9.9", "100", "text"}, {POSAGENT_VERSION, "0", "text"}, {POSAGENT_VERSION, "10001", "text"},
		{POSAGENT_VERSION, "-1", "text"}, {POSAGENT_VERSION, "01", "text"}, {POSAGENT_VERSION, " 5", "text"},
		{POSAGENT_VERSION, "5x", "text"}, {POSAGENT_VERSION, "5", "html"}, {POSAGENT_VERSION, "5", ""},
		{POSAGENT_VERSION, "99999999999999999999", "text"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = question(q, sizeof(q), bad[i][0], bad[i][1], bad[i][2], "silva");
		assert_int_equal(lookup_parse_question(q, n, POSAGENT_VERSION, &limit, &json, text, sizeof(text)), -1);
	}
	n = (size_t)snprintf(q, sizeof(q), "posagent-lookup 2 %s search 5 text\nsilva", POSAGENT_VERSION);
	assert_int_equal(lookup_parse_question(q, n, POSAGENT_VERSION, &limit, &json, text, sizeof(text)), -1);
	/* the text: empty, too long, with a NUL; no newline at all */
	n = question(q, sizeof(q), POSAGENT_VERSION, "5", "text", "");
	assert_int_equal(lookup_parse_question(q, n, POSAGENT_VERSION, &limit, &json, text, sizeof(text)), -1);
	memset(longtext, 'a', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	n = question(q, sizeof(q), POSAGENT_VERSION, "5", "text", longtext);
	assert_int_equal(lookup_parse_question(q, n, POSAGENT_VERSION, &limit, &json, text, sizeof(text)), -1);
	longtext[LOOKUP_MAX_TEXT] = '\0'; /* 1024 bytes: taken */
	n = question(q, sizeof(q), POSAGENT_VERSION, "5", "text", longtext);
	assert_int_equal(lookup_parse_question(q, n, POSAGENT_VERSION, &limit, &json, text, sizeof(text)), 0);
	n = question(q, sizeof(q), POSAGENT_VERSION, "5", "text", "ab");
	q[n - 1] = '\0';
	assert_int_equal(lookup_parse_question(q, n, POSAGENT_VERSION, &limit, &json, text, sizeof(text)), -1);
	n = (size_t)snprintf(q, sizeof(q), "posagent-lookup 1 %s search 5 text", POSAGENT_VERSION);
	assert_int_equal(lookup_parse_question(q, n, POSAGENT_VERSION, &limit, &json, text, sizeof(text)), -1);
}

/* What the command prints itself for a search of text: the lines or the
 * JSON, after "ok COUNT\n". */
static char *expected(struct store *st, const char *text, int limit, bool json)
{
	char *out = calloc(1, 1 << 20), *body = calloc(1, 1 << 20), line[2048];
	cJSON *found = NULL, *it;
	struct pa_err e;
	size_t used = 0;

	assert_non_null(out);
	assert_non_null(body);
	assert_int_equal(cust_search(st, text, limit, &found, &e), 0);
	if (json) {
		char *doc = cJSON_Print(found);
		used += (size_t)sprintf(body, "%s\n", doc);
		free(doc);
	} else {
		cJSON_ArrayForEach(it, found) {
			show_customer_line(it, line, sizeof(line));
			used += (size_t)sprintf(body + used, "%s", line);
		}
	}
	sprintf(out, "ok %d %zu\n%s", cJSON_GetArraySize(found), used, body);
	cJSON_Delete(found);
	free(body);
	return out;
}

static void test_answer(void **state)
{
	struct fx *f = *state;
	char q[2048], *a, *want;
	size_t n, alen;

	for (int json = 0; json < 2; json++) {
		n = question(q, sizeof(q), POSAGENT_VERSION, "100", json ? "json" : "text", "silv");
		a = lookup_answer(f->st, q, n, &alen);
		want = expected(f->st, "silv", 100, json);
		assert_non_null(a);
		assert_int_equal(alen, strlen(a));
		assert_string_equal(a, want);
		assert_int_equal(strncmp(a, "ok 3 ", 5), 0); /* Ana, João, the organization */
		free(a);
		free(want);
	}
	n = question(q, sizeof(q), POSAGENT_VERSION, "1", "text", "silv");
	a = lookup_answer(f->st, q, n, &alen);
	assert_int_equal(strncmp(a, "ok 1 ", 5), 0);
	free(a);
	n = question(q, sizeof(q), POSAGENT_VERSION, "5", "text", "zzzzzz");
	a = lookup_answer(f->st, q, n, &alen);
	assert_string_equal(a, "ok 0 0\n");
	free(a);
	/* a text search refuses (a control character), another version */
	n = question(q, sizeof(q), POSAGENT_VERSION, "5", "text", "ana\001");
	a = lookup_answer(f->st, q, n, &alen);
	assert_string_equal(a, "no\n");
	assert_int_equal(alen, 3);
	free(a);
	n = question(q, sizeof(q), "0.0.1", "5", "text", "ana");
	a = lookup_answer(f->st, q, n, &alen);
	assert_string_equal(a, "no\n");
	free(a);
}

static void test_no_service(void **state)
{
	struct fx *f = *state;
	char *out = NULL;
	size_t len;
	int count, fd;
	struct sockaddr_un a;

	assert_int_equal(lookup_search(f->db, "silv", 100, false, &out, &len, &count), -1);
	assert_null(out);
	/* a stale socket file: bound by a service that is gone */
	assert_int_equal(usock_addr(f->db, "-lookup", &a), 0);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
	assert_int_equal(lookup_search(f->db, "silv", 100, false, &out, &len, &count), -1);
	assert_null(out);
	/* what is never asked: an empty or too long text, a bad limit */
	assert_int_equal(lookup_search(f->db, "", 100, false, &out, &len, &count), -1);
	assert_int_equal(lookup_search(f->db, "silv", 0, false, &out, &len, &count), -1);
}

/* A fake service in a child process: accepts one connection, reads the
 * question, then sends reply (NULL: nothing) and, when hang, waits to be
 * killed instead of closing. */
static pid_t fake_service(struct fx *f, const char *reply, bool hang)
{
	struct sockaddr_un a;
	int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	assert_int_equal(usock_addr(f->db, "-lookup", &a), 0);
	unlink(f->sock);
	assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[4096];
		int fd = accept(lfd, NULL, NULL);
		while (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
			;
		if (reply)
			(void)!write(fd, reply, strlen(reply));
		if (hang || !reply)
			pause();
		_exit(0);
	}
	close(lfd);
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_bad_services(void **state)
{
	struct fx *f = *state;
	/* no '+', "no", not the protocol, more than the limit, cut short
	 * (fewer bytes than said), longer than said */
	const char *bad[] = {"ok 2 18\nline one\nline two\n", "+no\n", "+ok\nsomething", "+ok 101 1\nx",
	                     "+ok -1 0\n", "+ok 2", "+ok x 1\n", "", "garbage", "+ok 2 100\nline one\n",
	                     "+ok 1 2\nabc", "+ok 1\nabc"};
	char *out = NULL;
	size_t len = 0;
	int count = 0;
	double t0;
	pid_t pid;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pid = fake_service(f, bad[i], false);
		assert_int_equal(lookup_search(f->db, "silv", 100, false, &out, &len, &count), -1);
		assert_null(out);
		reap(pid);
	}
	pid = fake_service(f, "+ok 2 18\nline one\nline two\n", false);
	assert_int_equal(lookup_search(f->db, "silv", 100, false, &out, &len, &count), 0);
	assert_string_equal(out, "line one\nline two\n");
	assert_int_equal(len, 18);
	assert_int_equal(count, 2);
	free(out);
	out = NULL;
	reap(pid);
	/* one that never answers (stopped: no '+'): given up after
	 * LOOKUP_WAIT_MS; one that says '+' and then nothing: after
	 * LOOKUP_TOTAL_MS (the upper bounds only tell "gave up" from "waited
	 * for ever") */
	pid = fake_service(f, NULL, true);
	t0 = util_mono();
	assert_int_equal(lookup_search(f->db, "silv", 100, false, &out, &len, &count), -1);
	assert_true(util_mono() - t0 >= LOOKUP_WAIT_MS / 1000.0 * 0.9);
	assert_true(util_mono() - t0 < 30.0);
	reap(pid);
	pid = fake_service(f, "+ok 1 ", true);
	t0 = util_mono();
	assert_int_equal(lookup_search(f->db, "silv", 100, false, &out, &len, &count), -1);
	assert_true(util_mono() - t0 >= LOOKUP_TOTAL_MS / 1000.0 * 0.9);
	assert_true(util_mono() - t0 < 60.0);
	reap(pid);
}

/* Whether a connection to the socket at path has been accepted: in
 * /proc/net/unix ("Num RefCount Protocol Flags Type St Inode Path") a
 * connection waiting in the listener's queue is state 02 with no inode,
 * an accepted one state 03 (SS_CONNECTED). */
static bool taken(const char *path)
{
	char line[512], st[8], name[400];
	bool yes = false;
	FILE *fp = fopen("/proc/net/unix", "r");

	while (fp && !yes && fgets(line, sizeof(line), fp))
		yes = sscanf(line, "%*s %*s %*s %*s %*s %7s %*s %399s", st, name) == 2 && strcmp(name, path) == 0 &&
		      strcmp(st, "03") == 0;
	if (fp)
		fclose(fp);
	return yes;
}

static void *run_loop(void *arg)
{
	struct fx *f = arg;

	lookup_loop(&f->cfg, &f->stop);
	return NULL;
}

static void test_loop(void **state)
{
	struct fx *f = *state;
	char *out = NULL, *want;
	struct stat sb;
	size_t len;
	int count, i;

	assert_int_equal(pthread_create(&f->thread, NULL, run_loop, f), 0);
	f->running = true;
	for (i = 0; i < 600 && stat(f->sock, &sb) != 0; i++)
		usleep(10000);
	assert_int_equal(stat(f->sock, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0660);
	for (int json = 0; json < 2; json++) {
		assert_int_equal(lookup_search(f->db, "silv", 100, json, &out, &len, &count), 0);
		want = expected(f->st, "silv", 100, json);
		assert_int_equal(count, 3);
		assert_string_equal(out, strchr(want, '\n') + 1);
		free(out);
		free(want);
	}
	/* a customer committed after the thread started is found at once */
	create(f->st, "{\"first_name\":\"Silvana\",\"last_name\":\"Nova\"}");
	assert_int_equal(lookup_search(f->db, "silv", 100, false, &out, &len, &count), 0);
	assert_int_equal(count, 4);
	assert_non_null(strstr(out, "Silvana Nova"));
	free(out);
	/* a text search refuses: not answered (the command reports it) */
	assert_int_equal(lookup_search(f->db, "ana\001", 100, false, &out, &len, &count), -1);
	/* a client that connects and says nothing does not hold the stop up
	 * (AGENT.md: the service stops within 2 s) */
	{
		struct sockaddr_un a;
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		double t0;
		assert_int_equal(usock_addr(f->db, "-lookup", &a), 0);
		assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
		for (i = 0; i < 500 && !taken(f->sock); i++)
			usleep(10000);
		assert_true(taken(f->sock));
		t0 = util_mono();
		f->stop = 1;
		pthread_join(f->thread, NULL);
		f->running = false;
		assert_true(util_mono() - t0 < 2.0);
		close(fd);
	}
	assert_int_equal(stat(f->sock, &sb), -1);
	assert_int_equal(lookup_search(f->db, "silv", 100, false, &out, &len, &count), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_question),
		cmocka_unit_test_setup_teardown(test_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_service, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_services, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loop, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("lookup", tests, NULL, NULL);
}
