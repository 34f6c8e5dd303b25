/*
 * test_pjob: the retry waits (issue 17: a fleet never retries in step).
 *
 * What must hold: a Retry-After is always honoured (never less) and
 * spread over up to as much again (at least 1 s), capped at retry_max
 * before the spread; without one, full jitter under an exponential
 * ceiling from 1 s, capped; the waits of many registers differ (spread
 * over most of the range, not one value).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/pjob.h"

#define N 2000

/* Samples f N times; checks every value in [lo, hi) and that they cover
 * the range (the lowest in its first tenth, the highest in its last). */
static void spread(double (*f)(long, int, long), long ra, int fails, long cap, double lo, double hi)
{
	double min = 1e18, max = -1;

	for (int i = 0; i < N; i++) {
		double d = f(ra, fails, cap);
		if (d < lo || d >= hi)
			fail_msg("delay %.3f outside [%.1f, %.1f) (retry_after %ld, failures %d, cap %ld)", d, lo, hi, ra,
			         fails, cap);
		min = d < min ? d : min;
		max = d > max ? d : max;
	}
	if (min > lo + (hi - lo) / 10 || max < hi - (hi - lo) / 10)
		fail_msg("delays from %.3f to %.3f do not cover [%.1f, %.1f)", min, max, lo, hi);
}

static void test_retry_after(void **state)
{
	(void)state;
	spread(pjob_retry_delay, 4, 1, 300, 4, 8);
	spread(pjob_retry_delay, 4, 9, 300, 4, 8);  /* the failures do not matter */
	spread(pjob_retry_delay, 0, 1, 300, 0, 1);  /* "now": spread over a second */
	spread(pjob_retry_delay, 1, 1, 300, 1, 2);
	spread(pjob_retry_delay, 900, 1, 60, 60, 120); /* capped, then spread */
}

static void test_backoff(void **state)
{
	(void)state;
	spread(pjob_retry_delay, -1, 1, 300, 0, 1);
	spread(pjob_retry_delay, -1, 3, 300, 0, 4);
	spread(pjob_retry_delay, -1, 6, 300, 0, 32);
	spread(pjob_retry_delay, -1, 40, 300, 0, 300); /* capped */
	spread(pjob_retry_delay, -1, 5, 10, 0, 10);
}

static void test_jitter(void **state)
{
	(void)state;
	for (int i = 0; i < N; i++) {
		double d = pjob_jitter(2.0);
		assert_true(d >= 0 && d < 2.0);
	}
	assert_true(pjob_jitter(0) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_jitter),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
