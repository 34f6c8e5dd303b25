/*
 * test_util: util_json_has_nul, the guard that keeps cJSON from cutting a
 * text at a NUL ("Ana\u0000Evil" stored as "Ana"): a raw NUL byte anywhere
 * and the escape \u0000 inside a string are found; an escaped backslash
 * before "u0000" (the six characters \u0000 as text) and other escapes
 * are not.
 *
 * util_stop_*: a stop flag with a descriptor. The descriptor is readable
 * from raise to reset and only then; util_sleep on such a flag returns
 * when another thread raises it, and meanwhile sleeps in one poll: the
 * thread's voluntary context switches over a 2 s sleep are counted from
 * /proc (a sleep that looked at the flag every UTIL_STOP_CHECK would
 * switch 4 times). A flag without a descriptor still works as before.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"

#define HAS(lit) util_json_has_nul(lit, sizeof(lit) - 1)

static void test_nul_found(void **state)
{
	(void)state;
	assert_true(HAS("{\"first_name\":\"Ana\\u0000Evil\"}"));
	assert_true(HAS("{\"first_name\":\"\\u0000\"}"));
	assert_true(HAS("{\"a\\u0000b\":1}"));
	assert_true(HAS("[\"x\",\"\\\\\",\"\\u0000\"]"));
	assert_true(HAS("{\"first_name\":\"Ana\0Evil\"}"));
	assert_true(HAS("{\"n\":1}\0"));
	assert_true(HAS("\0"));
}

static void test_nul_not_found(void **state)
{
	(void)state;
	assert_false(HAS("{\"first_name\":\"Ana\"}"));
	assert_false(HAS("{\"first_name\":\"\\\\u0000\"}")); /* a backslash, then u0000 */
	assert_false(HAS("{\"first_name\":\"\\u0001\\u00e9\\u1000\"}"));
	assert_false(HAS("{\"q\":\"\\\"\\u000\"}"));
	assert_false(HAS("{\"t\":\"\\u000"));               /* cut short: not a NUL */
	assert_false(HAS("u0000 \\u0000"));                 /* outside any string */
	assert_false(util_json_has_nul("", 0));
}

/* ---- stop flag with a descriptor ---------------------------------------- */

static volatile sig_atomic_t flag;

/* Whether fd is readable now. */
static bool readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* The calling thread's voluntary context switches (/proc), -1 unread. */
static long voluntary_switches(void)
{
	char path[80], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/status", (long)syscall(SYS_gettid));
	if (!(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void test_stop_descriptor(void **state)
{
	volatile sig_atomic_t other = 0;
	int fd;

	(void)state;
	assert_int_equal(util_stop_attach(&flag), 0);
	fd = util_stop_fd(&flag);
	assert_true(fd >= 0);
	assert_int_equal(util_stop_fd(&other), -1);
	assert_int_equal(util_stop_fd(NULL), -1);
	assert_false(readable(fd));
	util_stop_raise(&flag);
	assert_int_equal(flag, 1);
	assert_true(readable(fd));
	assert_true(readable(fd)); /* stays readable for every waiting thread */
	util_stop_reset(&flag);
	assert_int_equal(flag, 0);
	assert_false(readable(fd));
	util_stop_reset(&flag); /* empty already: fine */
	assert_false(readable(fd));
	util_stop_raise(&other); /* another flag: only the flag */
	assert_int_equal(other, 1);
	assert_false(readable(fd));
	util_stop_detach();
	assert_int_equal(util_stop_fd(&flag), -1);
}

static void *sleeper(void *arg)
{
	double *took = arg;
	double t0 = util_mono();

	util_sleep(60, &flag);
	*took = util_mono() - t0;
	return NULL;
}

/* Another thread's raise ends a long util_sleep (well before its 60 s). */
static void test_stop_ends_sleep(void **state)
{
	pthread_t th;
	double took = -1;

	(void)state;
	flag = 0;
	assert_int_equal(util_stop_attach(&flag), 0);
	assert_int_equal(pthread_create(&th, NULL, sleeper, &took), 0);
	usleep(100000);
	util_stop_raise(&flag);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_true(took >= 0 && took < 30);
	util_stop_detach();
	flag = 0;
}

/* A 2 s sleep on a flag with a descriptor blocks once; without one it
 * looks at the flag every UTIL_STOP_CHECK. */
static void test_stop_sleep_blocks_once(void **state)
{
	long before, with, without;

	(void)state;
	flag = 0;
	assert_int_equal(util_stop_attach(&flag), 0);
	before = voluntary_switches();
	assert_true(before >= 0);
	util_sleep(2, &flag);
	with = voluntary_switches() - before;
	util_stop_detach();
	before = voluntary_switches();
	util_sleep(2, &flag);
	without = voluntary_switches() - before;
	print_message("voluntary switches over a 2 s sleep: %ld with the descriptor, %ld without\n", with, without);
	assert_in_range(with, 1, 2);
	assert_true(without >= 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nul_found),
		cmocka_unit_test(test_nul_not_found),
		cmocka_unit_test(test_stop_descriptor),
		cmocka_unit_test(test_stop_ends_sleep),
		cmocka_unit_test(test_stop_sleep_blocks_once),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
