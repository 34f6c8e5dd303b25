/*
 * test_util: util_json_has_nul, the guard that keeps cJSON from cutting a
 * text at a NUL ("Ana\u0000Evil" stored as "Ana"): a raw NUL byte anywhere
 * and the escape \u0000 inside a string are found; an escaped backslash
 * before "u0000" (the six characters \u0000 as text) and other escapes
 * are not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nul_found),
		cmocka_unit_test(test_nul_not_found),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
