/* Unit tests of common/fold: the search folding of AGENT.md's revision. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/fold.h"

/* Folds in and checks the result is want. */
static void check(const char *in, const char *want)
{
	char out[256];

	assert_int_equal(fold_text(in, out, sizeof out), (int)strlen(want));
	assert_string_equal(out, want);
}

/* Accented Latin letters of several languages lose their marks and case. */
static void test_marks(void **state)
{
	(void)state;
	check("João", "joao");
	check("Müller", "muller");
	check("Ñúñez", "nunez");
	check("ÇAĞLAR Şahin", "caglar sahin");
	check("Dvořák", "dvorak");
	check("Nguyễn Thị Ánh", "nguyen thi anh");
	check("Ångström", "angstrom");
	check("ÉLODIE", "elodie");
	check("İstanbul", "istanbul");
}

/* The extra letters AGENT.md names, both cases. */
static void test_extra_letters(void **state)
{
	(void)state;
	check("Straße", "strasse");
	check("ẞ", "ss");
	check("Ærø", "aero");
	check("Œuvre cœur", "oeuvre coeur");
	check("Ørsted", "orsted");
	check("Łódź", "lodz");
	check("Đorđe", "dorde");
	check("Þórr", "thorr");
	check("ǿ Ǣ", "o ae");
}

/* Text already decomposed (base letter + combining mark) folds the same. */
static void test_decomposed(void **state)
{
	(void)state;
	check("Joa\xcc\x83o", "joao");   /* a + U+0303 */
	check("Mu\xcc\x88ller", "muller"); /* u + U+0308 */
}

/* ASCII is lowered, other scripts and symbols are kept, bad bytes copied. */
static void test_other_text(void **state)
{
	(void)state;
	check("Ana SILVA +351 (911)", "ana silva +351 (911)");
	check("Σοφία Иван 北京", "Σοφία Иван 北京");
	check("a\xff" "b", "a\xff" "b");
	check("\xc3", "\xc3");         /* cut sequence */
	check("\xe0\x80\x80", "\xe0\x80\x80"); /* overlong */
	check("", "");
}

/* Output is bounded, terminated and cut between characters. */
static void test_bounds(void **state)
{
	char out[6];

	(void)state;
	assert_int_equal(fold_text("abcde", out, sizeof out), 5);
	assert_int_equal(fold_text("abcdef", out, sizeof out), -1);
	assert_string_equal(out, "abcde");
	assert_int_equal(fold_text("abcdß", out, sizeof out), -1); /* ss does not fit */
	assert_string_equal(out, "abcd");
	assert_int_equal(fold_text("ab北京", out, sizeof out), -1);
	assert_string_equal(out, "ab北");
	assert_int_equal(fold_text(NULL, out, sizeof out), 0);
	assert_int_equal(fold_text("a", out, 1), -1);
	assert_string_equal(out, "");
	assert_int_equal(fold_span("Joãozinho", 5, out, sizeof out), 4);
	assert_string_equal(out, "joao");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_extra_letters),
		cmocka_unit_test(test_decomposed),
		cmocka_unit_test(test_other_text),
		cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests_name("fold", tests, NULL, NULL);
}
