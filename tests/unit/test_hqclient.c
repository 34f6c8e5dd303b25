/*
 * test_hqclient: the parts of common/hqclient.c that need no HQ.
 *
 * HTTP-date and Retry-After parsing, table-driven, with every truncated
 * prefix of each valid date required to fail cleanly; certificate dates;
 * the gzip helper, round-tripped through zlib's inflate; and hq_client_new
 * refusing bad token files and a non-https url, plus a request to a closed
 * local port and a stopped request (no network needed). Requests against
 * a real HTTPS server are the end-to-end suite's (tests/hq).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/hqclient.h"

/* ---- HTTP dates ---------------------------------------------------------- */

struct date_case {
	const char *s;
	time_t want; /* (time_t)-1: must be refused */
};

static const struct date_case good_dates[] = {
	{"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},   /* IMF-fixdate */
	{"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},  /* RFC 850 */
	{"Sun Nov  6 08:49:37 1994", 784111777},        /* asctime */
	{"Thu, 01 Jan 1970 00:00:00 GMT", 0},
	{"Thu, 29 Feb 2024 00:00:00 GMT", 1709164800},  /* leap day */
	{"Tue, 19 Jan 2038 03:14:08 GMT", 2147483648LL}, /* past 32-bit time_t */
	{"Wednesday, 25-Nov-26 09:14:03 GMT", 1795598043},
	{"Wed Nov 25 09:14:03 2026", 1795598043},
	{"Fri, 31 Dec 9999 23:59:59 GMT", 253402300799LL},
	{"sun, 06 nov 1994 08:49:37 gmt", 784111777},   /* names in any case */
};

static const char *const bad_dates[] = {
	"",
	"garbage",
	"784111777",
	"Sun, 06 Nov 1994 08:49:37 UTC",
	"Sun, 06 Nov 1994 08:49:37 GMT ",
	" Sun, 06 Nov 1994 08:49:37 GMT",
	"Sun, 06 Nov 1994 08:49:37 GMTX",
	"Sun, 6 Nov 1994 08:49:37 GMT",
	"Sun, 06 Nov 94 08:49:37 GMT",
	"Sun, 06 Foo 1994 08:49:37 GMT",
	"Sunday, 06 Nov 1994 08:49:37 GMT",
	"Sund, 06 Nov 1994 08:49:37 GMT",
	"Sun 06 Nov 1994 08:49:37 GMT",
	"Sun, 31 Feb 2024 08:49:37 GMT",
	"Sun, 29 Feb 2023 08:49:37 GMT",
	"Sun, 29 Feb 1900 08:49:37 GMT",
	"Sun, 00 Nov 1994 08:49:37 GMT",
	"Sun, 32 Dec 1994 08:49:37 GMT",
	"Sun, 06 Nov 1994 24:00:00 GMT",
	"Sun, 06 Nov 1994 08:60:00 GMT",
	"Sun, 06 Nov 1994 08:49:61 GMT",
	"Sun, 06 Nov 1994 8:49:37 GMT",
	"Sun, 06 Nov 1994 08:49:37",
	"Sun, 06 Nov 0994 08:49:37 GMT",
	"Sun, 06 Nov 1994 08:49:37 GMT\r\n",
	"Sun, -6 Nov 1994 08:49:37 GMT",
	"Sun, 06 Nov +994 08:49:37 GMT",
	"Sunday, 06-Nov-1994 08:49:37 GMT",
	"Sun, 06-Nov-94 08:49:37 GMT",
	"Sun Nov 6 08:49:37 1994",
	"Sun Nov  6 08:49:37 1994 GMT",
	"Sun Nov 06 08:49:37 94",
	"2026-11-25T09:14:03Z",
};

static void test_http_date_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof good_dates / sizeof good_dates[0]; i++) {
		time_t t = hq_parse_http_date(good_dates[i].s);
		if (t != good_dates[i].want)
			fail_msg("\"%s\": got %lld, want %lld", good_dates[i].s, (long long)t,
			         (long long)good_dates[i].want);
	}
}

static void test_http_date_invalid(void **state)
{
	size_t i;

	(void)state;
	assert_int_equal(hq_parse_http_date(NULL), (time_t)-1);
	for (i = 0; i < sizeof bad_dates / sizeof bad_dates[0]; i++) {
		time_t t = hq_parse_http_date(bad_dates[i]);
		if (t != (time_t)-1)
			fail_msg("\"%s\" accepted as %lld", bad_dates[i], (long long)t);
	}
}

/* Every proper prefix of every valid date, in a buffer of exactly its
 * length (ASan catches a read past the end), must be refused. */
static void test_http_date_prefixes(void **state)
{
	size_t i, n, len;

	(void)state;
	for (i = 0; i < sizeof good_dates / sizeof good_dates[0]; i++) {
		len = strlen(good_dates[i].s);
		for (n = 0; n < len; n++) {
			char *p = malloc(n + 1);
			time_t t;

			assert_non_null(p);
			memcpy(p, good_dates[i].s, n);
			p[n] = '\0';
			t = hq_parse_http_date(p);
			if (t != (time_t)-1)
				fail_msg("prefix \"%s\" accepted as %lld", p, (long long)t);
			free(p);
		}
	}
}

/* ---- Retry-After ----------------------------------------------------------- */

struct retry_case {
	const char *v;
	time_t reply_date;
	time_t now;
	long want;
};

#define T0 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */

static const struct retry_case retry_cases[] = {
	{"120", 0, 1000, 120},
	{"0", 0, 1000, 0},
	{"5", T0, T0 + 99999, 5}, /* a delta ignores both clocks */
	{" 7\t", 0, 0, 7},        /* optional white space around */
	{"000042", 0, 0, 42},
	{"2147483646", 0, 0, 2147483646L},
	{"2147483647", 0, 0, HQ_RETRY_AFTER_MAX},
	{"2147483648", 0, 0, HQ_RETRY_AFTER_MAX},
	{"99999999999999999999999999999999999999", 0, 0, HQ_RETRY_AFTER_MAX},
	{"18446744073709551617", 0, 0, HQ_RETRY_AFTER_MAX},
	{"", 0, 0, -1},
	{"   ", 0, 0, -1},
	{"-5", 0, 0, -1},
	{"+5", 0, 0, -1},
	{"1.5", 0, 0, -1},
	{"12abc", 0, 0, -1},
	{"1 2", 0, 0, -1},
	{"0x10", 0, 0, -1},
	{"soon", 0, 0, -1},
	{"Sun, 06 Nov 1994 08:49:37 GMT", T0 - 60, 0, 60},       /* against the reply's Date */
	{"Sun, 06 Nov 1994 08:49:37 GMT", T0 - 10, T0 + 1000, 10}, /* Date wins over now */
	{"Sun, 06 Nov 1994 08:49:37 GMT", 0, T0 - 30, 30},       /* no Date: now */
	{"Sun, 06 Nov 1994 08:49:37 GMT", T0, 0, 0},
	{"Sun, 06 Nov 1994 08:49:37 GMT", T0 + 100, 0, 0},       /* past: no wait */
	{"Sun, 06 Nov 1994 08:49:37 GMT", 0, T0 + 100, 0},
	{"Sunday, 06-Nov-94 08:49:37 GMT", T0 - 1, 0, 1},
	{"Sun Nov  6 08:49:37 1994", T0 - 2, 0, 2},
	{" Sun, 06 Nov 1994 08:49:37 GMT ", T0 - 3, 0, 3},
	{"Fri, 31 Dec 9999 23:59:59 GMT", 1, 0, HQ_RETRY_AFTER_MAX},
	{"Sun, 06 Nov 1994 08:49:37", T0 - 60, 0, -1},
	{"Sun, 31 Nov 1994 08:49:37 GMT", T0 - 60, 0, -1},
};

static void test_retry_after_table(void **state)
{
	size_t i;

	(void)state;
	assert_int_equal(hq_retry_after(NULL, 0, 0), -1);
	for (i = 0; i < sizeof retry_cases / sizeof retry_cases[0]; i++) {
		const struct retry_case *rc = &retry_cases[i];
		long got = hq_retry_after(rc->v, rc->reply_date, rc->now);
		if (got != rc->want)
			fail_msg("\"%s\" (date %lld, now %lld): got %ld, want %ld", rc->v,
			         (long long)rc->reply_date, (long long)rc->now, got, rc->want);
	}
}

static void test_retry_after_prefixes(void **state)
{
	static const char *const dates[] = {"Sun, 06 Nov 1994 08:49:37 GMT",
	                                    "Sunday, 06-Nov-94 08:49:37 GMT",
	                                    "Sun Nov  6 08:49:37 1994"};
	size_t i, n, len;

	(void)state;
	for (i = 0; i < sizeof dates / sizeof dates[0]; i++) {
		len = strlen(dates[i]);
		for (n = 0; n < len; n++) {
			char *p = malloc(n + 1);
			long got;

			assert_non_null(p);
			memcpy(p, dates[i], n);
			p[n] = '\0';
			got = hq_retry_after(p, T0 - 60, 0);
			/* trailing white space is trimmed, so "...1994 " is not a prefix case */
			if (got != -1)
				fail_msg("prefix \"%s\" gave %ld", p, got);
			free(p);
		}
	}
}

/* ---- certificate dates ---------------------------------------------------- */

static void test_cert_date(void **state)
{
	static const struct date_case good[] = {
		{"Jan 20 12:00:00 2027 GMT", 1800446400},
		{"Jan  5 12:00:00 2027 GMT", 1799150400},
		{" Jan 20 12:00:00 2027 GMT", 1800446400},
		{"Jan 20 12:00:00.250 2027 GMT", 1800446400},
		{"2027-01-20 12:00:00 GMT", 1800446400},
		{"2027-01-20 12:00:00", 1800446400},
		{"2027-01-20 12:00:00Z", 1800446400},
		{"Feb 29 00:00:00 2028 GMT", 1835395200},
	};
	static const char *const bad[] = {
		"", "soon", "Jan 20 2027", "Jan 20 12:00:00 27 GMT", "Foo 20 12:00:00 2027 GMT",
		"Feb 30 12:00:00 2027 GMT", "2027-13-20 12:00:00 GMT", "2027-01-20 12:00:00 CET",
		"2027-01-20", "Jan 20 12:00:00 2027 GMT junk",
	};
	size_t i, n;

	(void)state;
	assert_int_equal(hq_parse_cert_date(NULL), (time_t)-1);
	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		time_t t = hq_parse_cert_date(good[i].s);
		if (t != good[i].want)
			fail_msg("\"%s\": got %lld, want %lld", good[i].s, (long long)t,
			         (long long)good[i].want);
	}
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (hq_parse_cert_date(bad[i]) != (time_t)-1)
			fail_msg("\"%s\" accepted", bad[i]);
	}
	for (i = 0; i < 2; i++) { /* prefixes that stop inside the date */
		const char *s = good[i == 0 ? 0 : 4].s;
		size_t len = strlen(s) - strlen(" GMT");
		for (n = 0; n + 1 < len; n++) {
			char *p = malloc(n + 1);
			assert_non_null(p);
			memcpy(p, s, n);
			p[n] = '\0';
			if (hq_parse_cert_date(p) != (time_t)-1)
				fail_msg("prefix \"%s\" accepted", p);
			free(p);
		}
	}
}

/* ---- gzip ----------------------------------------------------------------- */

/* Inflates a gzip stream (windowBits 31: gzip only) into a new buffer and
 * checks it equals want[0..wantlen). */
static void check_gunzip(const char *gz, size_t gzlen, const char *want, size_t wantlen)
{
	z_stream zs;
	unsigned char *buf;
	size_t cap = wantlen + 64;
	int zrc;

	buf = malloc(cap);
	assert_non_null(buf);
	memset(&zs, 0, sizeof zs);
	assert_int_equal(inflateInit2(&zs, 31), Z_OK);
	zs.next_in = (Bytef *)(uintptr_t)gz;
	zs.avail_in = (uInt)gzlen;
	zs.next_out = buf;
	zs.avail_out = (uInt)cap;
	zrc = inflate(&zs, Z_FINISH);
	assert_int_equal(zrc, Z_STREAM_END);
	assert_int_equal(zs.avail_in, 0); /* nothing after the stream */
	assert_int_equal(zs.total_out, wantlen);
	if (wantlen)
		assert_memory_equal(buf, want, wantlen);
	inflateEnd(&zs);
	free(buf);
}

static void test_gzip_roundtrip(void **state)
{
	size_t sizes[] = {0, 1, 5, HQ_GZIP_MIN - 1, HQ_GZIP_MIN, 100000, 1u << 20};
	size_t i, j;
	uint32_t x = 12345;

	(void)state;
	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		for (j = 0; j < 2; j++) { /* j 0: JSON-like text, 1: incompressible bytes */
			size_t len = sizes[i], k;
			char *in = malloc(len + 1), *out = NULL;
			size_t outlen = 0;

			assert_non_null(in);
			for (k = 0; k < len; k++) {
				x = x * 1103515245u + 12345u;
				in[k] = j ? (char)(x >> 16) : "{\"records\": [1, 2, \"abc\"]}\n"[k % 27];
			}
			assert_int_equal(hq_gzip(in, len, &out, &outlen), 0);
			assert_non_null(out);
			assert_true(outlen >= 18); /* gzip header + trailer */
			assert_int_equal((unsigned char)out[0], 0x1f);
			assert_int_equal((unsigned char)out[1], 0x8b);
			check_gunzip(out, outlen, in, len);
			if (j == 0 && len >= HQ_GZIP_MIN)
				assert_true(outlen < len / 4);
			free(out);
			free(in);
		}
	}
}

static void test_gzip_deterministic(void **state)
{
	static const char body[] = "{\"batch_id\": \"x\", \"records\": []}";
	char *a = NULL, *b = NULL;
	size_t al = 0, bl = 0;

	(void)state;
	assert_int_equal(hq_gzip(body, sizeof body - 1, &a, &al), 0);
	assert_int_equal(hq_gzip(body, sizeof body - 1, &b, &bl), 0);
	assert_int_equal(al, bl); /* a retried request is byte-identical */
	assert_memory_equal(a, b, al);
	free(a);
	free(b);
	assert_int_equal(hq_gzip(NULL, 0, &a, &al), 0);
	check_gunzip(a, al, "", 0);
	free(a);
	a = (char *)1;
	assert_int_equal(hq_gzip(NULL, 5, &a, &al), -1);
	assert_null(a);
}

/* ---- hq_client_new ---------------------------------------------------------- */

struct fixture {
	char dir[64];
	char token[128];
	struct cfg cfg;
};

static int setup_client(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	int fd;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/test_hqclient.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->token, sizeof f->token, "%s/token", f->dir);
	fd = open(f->token, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, "s3cr3t-T0KEN\n", 13) != 13) {
		close(fd);
		return -1;
	}
	close(fd);
	snprintf(f->cfg.url, sizeof f->cfg.url, "https://127.0.0.1:1");
	snprintf(f->cfg.ca_file, sizeof f->cfg.ca_file, "/etc/ssl/certs/ca-certificates.crt");
	snprintf(f->cfg.token_file, sizeof f->cfg.token_file, "%s", f->token);
	f->cfg.connect_timeout = 2;
	f->cfg.request_timeout = 5;
	*state = f;
	return 0;
}

static int teardown_client(void **state)
{
	struct fixture *f = *state;

	unlink(f->token);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void test_client_missing_token(void **state)
{
	struct fixture *f = *state;
	struct hq_client *c = (struct hq_client *)1;
	char err[256] = "";

	snprintf(f->cfg.token_file, sizeof f->cfg.token_file, "%s/no-such-token", f->dir);
	assert_int_equal(hq_client_new(&f->cfg, NULL, &c, err, sizeof err), -1);
	assert_null(c);
	assert_true(err[0] != '\0');
	assert_non_null(strstr(err, "no-such-token"));
}

static void test_client_bad_token(void **state)
{
	struct fixture *f = *state;
	struct hq_client *c = NULL;
	char err[256] = "";
	int fd;

	fd = open(f->token, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cr3t T0KEN\n", 13), 13); /* a space: header injection risk */
	close(fd);
	assert_int_equal(hq_client_new(&f->cfg, NULL, &c, err, sizeof err), -1);
	assert_null(c);
	assert_true(err[0] != '\0');
	assert_null(strstr(err, "s3cr3t"));
	assert_null(strstr(err, "T0KEN"));
}

static void test_client_http_refused(void **state)
{
	struct fixture *f = *state;
	struct hq_client *c = NULL;
	char err[256] = "";

	snprintf(f->cfg.url, sizeof f->cfg.url, "http://127.0.0.1:1");
	assert_int_equal(hq_client_new(&f->cfg, NULL, &c, err, sizeof err), -1);
	assert_null(c);
	assert_non_null(strstr(err, "https"));
}

/* A real client (libcurl loaded) against a closed local port: a transport
 * error naming host and port, status 0, no token in the message; and a
 * stopped client that does not even connect. */
static void test_client_unreachable(void **state)
{
	struct fixture *f = *state;
	struct hq_client *c = NULL;
	struct hq_response r;
	volatile sig_atomic_t stop = 0;
	char err[256] = "";

	if (hq_client_new(&f->cfg, &stop, &c, err, sizeof err) != 0)
		fail_msg("hq_client_new: %s", err);
	assert_non_null(c);
	hq_client_want_certinfo(c, 1);

	assert_int_equal(hq_get(c, "/v1/health", 0, 0, &r), -1);
	assert_int_equal(r.status, 0);
	assert_null(r.body);
	assert_int_equal(r.tls_error, 0);
	assert_int_equal(r.retry_after, -1);
	assert_non_null(strstr(r.error, "cannot connect to 127.0.0.1:1"));
	hq_response_free(&r);

	assert_int_equal(hq_post(c, "/v1/stores/S0001/registers/R01/batches", "{}", 2,
	                         "0b8f1a52-3a53-4f7e-9d1c-2f0a0c1b2d3e", &r),
	                 -1);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.error, "s3cr3t"));
	hq_response_free(&r);

	assert_int_equal(hq_post(c, "/x", "{}", 2, "bad key\r\nX-Evil: 1", &r), -1);
	assert_non_null(strstr(r.error, "Idempotency-Key"));
	hq_response_free(&r);
	assert_int_equal(hq_get(c, "/x y", 0, 1, &r), -1);
	hq_response_free(&r);
	assert_int_equal(hq_get(c, "x", 0, 1, &r), -1);
	hq_response_free(&r);

	stop = 1;
	assert_int_equal(hq_get(c, "/v1/health", 0, 0, &r), -1);
	assert_string_equal(r.error, "interrupted");
	hq_response_free(&r);
	hq_response_free(&r); /* twice is harmless */
	hq_client_free(c);
	hq_client_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_date_valid),
		cmocka_unit_test(test_http_date_invalid),
		cmocka_unit_test(test_http_date_prefixes),
		cmocka_unit_test(test_retry_after_table),
		cmocka_unit_test(test_retry_after_prefixes),
		cmocka_unit_test(test_cert_date),
		cmocka_unit_test(test_gzip_roundtrip),
		cmocka_unit_test(test_gzip_deterministic),
		cmocka_unit_test_setup_teardown(test_client_missing_token, setup_client, teardown_client),
		cmocka_unit_test_setup_teardown(test_client_bad_token, setup_client, teardown_client),
		cmocka_unit_test_setup_teardown(test_client_http_refused, setup_client, teardown_client),
		cmocka_unit_test_setup_teardown(test_client_unreachable, setup_client, teardown_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
