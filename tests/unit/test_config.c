/*
 * test_config: the configuration rules of AGENT.md, each written to a
 * temporary file and read back with cfg_load(), cfg_check_hq() and
 * cfg_read_token().
 *
 * What must hold: a minimal file gets every default of AGENT.md; every key
 * is read (inline comments allowed, as in AGENT.md's example); a missing
 * file, a syntax error, an unknown section or key, a missing or bad
 * [agent] key is -1 with a message naming the file and the problem; a bad
 * value outside [agent] does not stop cfg_load() but cfg_check_hq(), which
 * also refuses an http:// url, a token file open to others, a missing
 * token or CA file, batch_size outside 1..500 and long_poll outside 0..60,
 * naming the key; cfg_read_token() never puts the token in its message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/config.h"

struct fx {
	char dir[256];  /* temporary directory */
	char conf[300]; /* dir/pos.conf */
	char ca[300];   /* dir/ca.pem, exists */
	char tok[300];  /* dir/token, mode 0600 */
	char err[512];  /* last message */
	struct cfg c;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_config.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->conf, sizeof(f->conf), "%s/pos.conf", f->dir);
	snprintf(f->ca, sizeof(f->ca), "%s/ca.pem", f->dir);
	snprintf(f->tok, sizeof(f->tok), "%s/token", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	unsetenv("POSAGENT_CONFIG");
	free(f);
	return 0;
}

/* Writes text to path with mode. */
static void put(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* Writes the config text and loads it. Returns cfg_load's result. */
static int load(struct fx *f, const char *text)
{
	put(f->conf, text, 0640);
	f->err[0] = '\0';
	return cfg_load(f->conf, &f->c, f->err, sizeof(f->err));
}

/* The config must be refused, the message naming each of the words. */
#define REFUSED(f, text, ...)                                                          \
	do {                                                                           \
		const char *words_[] = {__VA_ARGS__};                                  \
		if (load(f, text) != -1)                                               \
			fail_msg("config accepted:\n%.300s", text);                  \
		for (size_t i_ = 0; i_ < sizeof(words_) / sizeof(words_[0]); i_++)     \
			if (!strstr(f->err, words_[i_]))                               \
				fail_msg("message \"%s\" does not name \"%s\"", f->err, words_[i_]); \
		assert_null(strchr(f->err, '\n'));                                     \
	} while (0)

#define AGENT "[agent]\nstore = S0001\nregister = R01\n"

static void test_defaults(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, AGENT), 0);
	assert_string_equal(f->c.path, f->conf);
	assert_string_equal(f->c.store, "S0001");
	assert_string_equal(f->c.reg, "R01");
	assert_string_equal(f->c.database, "/var/lib/posagent/posagent.db");
	assert_string_equal(f->c.currency, "EUR");
	assert_string_equal(f->c.url, "");
	assert_string_equal(f->c.ca_file, "/etc/posagent/hq-ca.pem");
	assert_string_equal(f->c.token_file, "/etc/posagent/token");
	assert_string_equal(f->c.client_cert, "");
	assert_string_equal(f->c.client_key, "");
	assert_int_equal(f->c.connect_timeout, 5);
	assert_int_equal(f->c.request_timeout, 30);
	assert_int_equal(f->c.batch_size, 200);
	assert_int_equal(f->c.retry_max, 300);
	assert_int_equal(f->c.idle_interval, 60);
	assert_int_equal(f->c.long_poll, 25);
	assert_int_equal(f->c.eod_timeout, 900);
	assert_int_equal(f->c.waiting_warn, 3600);
	assert_int_equal(f->c.waiting_fail, 86400);
	assert_string_equal(f->c.metrics_textfile, "");
	assert_int_equal(f->c.metrics_interval, 15);
	assert_string_equal(f->c.deferred, "");
}

/* AGENT.md's example, inline comments and all, with every value changed. */
static void test_every_key(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load(f, "; posagent configuration\n"
	                         "[agent]\n"
	                         "store = S0042              ; required\n"
	                         "register = R07             ; required\n"
	                         "database = /srv/pos/agent.db\n"
	                         "currency = GBP\n"
	                         "\n"
	                         "[hq]\n"
	                         "url = https://hq.example.com   ; required to talk to HQ; https only\n"
	                         "ca_file = /srv/pos/ca.pem\n"
	                         "token_file = /srv/pos/token   ; readable by owner and group only\n"
	                         "client_cert =               ; optional mutual TLS\n"
	                         "client_key =\n"
	                         "connect_timeout = 7\n"
	                         "request_timeout = 31        ; a long poll may take long\n"
	                         "\n"
	                         "[sync]\n"
	                         "batch_size = 500            ; 1 to 500\n"
	                         "retry_max = 301\n"
	                         "idle_interval = 61\n"
	                         "long_poll = 0               ; 0 to 60\n"
	                         "\n"
	                         "[eod]\n"
	                         "timeout = 901\n"
	                         "\n"
	                         "[doctor]\n"
	                         "waiting_warn = 3601         ; oldest waiting record, seconds\n"
	                         "waiting_fail = 86401\n"),
	                 0);
	assert_string_equal(f->c.store, "S0042");
	assert_string_equal(f->c.reg, "R07");
	assert_string_equal(f->c.database, "/srv/pos/agent.db");
	assert_string_equal(f->c.currency, "GBP");
	assert_string_equal(f->c.url, "https://hq.example.com");
	assert_string_equal(f->c.ca_file, "/srv/pos/ca.pem");
	assert_string_equal(f->c.token_file, "/srv/pos/token");
	assert_string_equal(f->c.client_cert, "");
	assert_string_equal(f->c.client_key, "");
	assert_int_equal(f->c.connect_timeout, 7);
	assert_int_equal(f->c.request_timeout, 31);
	assert_int_equal(f->c.batch_size, 500);
	assert_int_equal(f->c.retry_max, 301);
	assert_int_equal(f->c.idle_interval, 61);
	assert_int_equal(f->c.long_poll, 0);
	assert_int_equal(f->c.eod_timeout, 901);
	assert_int_equal(f->c.waiting_warn, 3601);
	assert_int_equal(f->c.waiting_fail, 86401);
	assert_string_equal(f->c.deferred, "");
}

static void test_missing_file(void **state)
{
	struct fx *f = *state;
	char path[400];

	snprintf(path, sizeof(path), "%s/nope.conf", f->dir);
	assert_int_equal(cfg_load(path, &f->c, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, path));
	assert_int_equal(cfg_load(f->dir, &f->c, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, f->dir));
	assert_non_null(strstr(f->err, "not a regular file"));
}

/* $POSAGENT_CONFIG when no path is given; the default path after that. */
static void test_config_path(void **state)
{
	struct fx *f = *state;

	put(f->conf, AGENT "database = /from/env.db\n", 0600);
	setenv("POSAGENT_CONFIG", f->conf, 1);
	assert_int_equal(cfg_load(NULL, &f->c, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->c.database, "/from/env.db");
	assert_int_equal(cfg_load("", &f->c, f->err, sizeof(f->err)), 0);
	assert_string_equal(f->c.path, f->conf);
	unsetenv("POSAGENT_CONFIG");
	if (access(CFG_DEFAULT_PATH, F_OK) != 0) {
		assert_int_equal(cfg_load(NULL, &f->c, f->err, sizeof(f->err)), -1);
		assert_non_null(strstr(f->err, CFG_DEFAULT_PATH));
	}
}

static void test_syntax_errors(void **state)
{
	struct fx *f = *state;

	REFUSED(f, "[agent\nstore = S0001\nregister = R01\n", "pos.conf", "line 1");
	REFUSED(f, AGENT "this line has no equals sign\n", "pos.conf", "line 4");
	REFUSED(f, AGENT "[hq]\n= https://hq.example.com\n", "line 5");
	REFUSED(f, "store = S0001\nregister = R01\n", "line 1");
}

static void test_unknown_section_or_key(void **state)
{
	struct fx *f = *state;

	REFUSED(f, AGENT "[printer]\nport = 9100\n", "pos.conf", "line 4", "unknown section", "printer");
	REFUSED(f, "[Agent]\nstore = S0001\nregister = R01\n", "unknown section", "Agent");
	REFUSED(f, AGENT "colour = blue\n", "unknown key", "colour", "[agent]");
	REFUSED(f, AGENT "[hq]\nurll = https://hq.example.com\n", "unknown key", "urll", "[hq]");
	REFUSED(f, AGENT "[sync]\nbatchsize = 10\n", "unknown key", "batchsize", "[sync]");
	REFUSED(f, AGENT "[eod]\ntimeout_s = 10\n", "unknown key", "timeout_s", "[eod]");
	REFUSED(f, AGENT "[doctor]\nwaiting = 10\n", "unknown key", "waiting", "[doctor]");
	/* a key of another section is unknown here */
	REFUSED(f, AGENT "url = https://hq.example.com\n", "unknown key", "url", "[agent]");
	REFUSED(f, AGENT "[hq]\nstore = S0002\n", "unknown key", "store", "[hq]");
}

static void test_agent_keys(void **state)
{
	struct fx *f = *state;

	REFUSED(f, "[agent]\nregister = R01\n", "pos.conf", "store", "required");
	REFUSED(f, "[agent]\nstore = S0001\n", "pos.conf", "register", "required");
	REFUSED(f, "[agent]\nstore =\nregister = R01\n", "store", "required");
	REFUSED(f, "[agent]\nstore = S0001\nregister =\n", "register", "required");
	REFUSED(f, "[hq]\nurl = https://hq.example.com\n", "store", "required");
	REFUSED(f, "", "store", "required");
	REFUSED(f, "[agent]\nstore = S-0001\nregister = R01\n", "store");
	REFUSED(f, "[agent]\nstore = S0001\nregister = R 01\n", "register");
	REFUSED(f, "[agent]\nstore = S0001\nregister = RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRR\n", "register");
	assert_int_equal(load(f, "[agent]\nstore = SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS\nregister = R01\n"), 0);
	REFUSED(f, AGENT "currency = eur\n", "currency");
	REFUSED(f, AGENT "currency = EU\n", "currency");
	REFUSED(f, AGENT "currency = EURO\n", "currency");
	REFUSED(f, AGENT "database =\n", "database");
}

/* An unknown section is refused even when it holds no key. */
static void test_empty_unknown_section(void **state)
{
	struct fx *f = *state;

	REFUSED(f, AGENT "[printer]\n", "unknown section", "printer");
	REFUSED(f, "[printer]\n" AGENT, "unknown section", "printer");
}

/* The same section twice is refused naming the second header's line (inih
 * would merge them, the last value winning: a second [agent] could point
 * one store's database at another's identity), even when empty. */
static void test_section_twice(void **state)
{
	struct fx *f = *state;

	REFUSED(f, AGENT "[hq]\nurl = https://hq.example.com\n[agent]\nstore = S0002\n", "pos.conf", "line 6",
	        "[agent]", "second time", "line 1");
	REFUSED(f, AGENT "[sync]\nbatch_size = 5\n[sync]\nlong_poll = 3\n", "line 6", "[sync]");
	REFUSED(f, AGENT "[eod]\n[eod]\n", "line 5", "[eod]");
	REFUSED(f, AGENT "  [agent]\n", "line 4", "[agent]");
	assert_int_equal(load(f, AGENT "[hq]\nurl = https://hq.example.com\n[sync]\nbatch_size = 5\n"), 0);
}

/* Values up to their field's size (CFG_PATH_MAX - 1 for paths) are read
 * whole, whatever the line length; a longer one is refused naming its key
 * and its own line. */
/* Debian's libinih reads lines of at most 200 bytes whole; cfg_load
 * refuses a longer line by its number rather than misreading its tail as
 * the next line. Paths up to the limit are read whole. */
static void test_long_values(void **state)
{
	struct fx *f = *state;
	char text[2200], path[CFG_PATH_MAX];

	memset(path, 0, sizeof(path));
	path[0] = '/';
	memset(path + 1, 'd', 180);
	snprintf(text, sizeof(text), AGENT "database = %s\n", path);
	if (load(f, text) != 0)
		fail_msg("a 181-byte database path is refused: %s", f->err);
	assert_string_equal(f->c.database, path);

	memset(path + 1, 'd', 400);
	snprintf(text, sizeof(text), AGENT "database = %s\n", path);
	REFUSED(f, text, "line 4", "longer than");

	memset(text, 0, sizeof(text));
	snprintf(text, sizeof(text), AGENT "database = /");
	memset(text + strlen(text), 'd', 1500);
	strcat(text, "\n");
	REFUSED(f, text, "line 4", "longer than");
}

/* A bad value outside [agent] does not stop cfg_load; cfg_check_hq names it. */
static void test_deferred(void **state)
{
	struct fx *f = *state;

	put(f->ca, "ca", 0644);
	put(f->tok, "secret\n", 0600);
	{
		char text[1200];
		snprintf(text, sizeof(text),
		         AGENT "[hq]\nurl = https://hq.example.com\nca_file = %s\ntoken_file = %s\n"
		               "[sync]\nbatch_size = lots\n",
		         f->ca, f->tok);
		assert_int_equal(load(f, text), 0);
	}
	assert_non_null(strstr(f->c.deferred, "batch_size"));
	assert_int_equal(cfg_check_hq(&f->c, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "batch_size"));
	assert_non_null(strstr(f->err, "lots"));
	/* [hq] broken: still loads for the commands that never talk to HQ */
	assert_int_equal(load(f, AGENT "[hq]\nurl = http://hq.example.com\ntoken_file = /nonexistent/token\n"
	                               "connect_timeout = soon\n[eod]\ntimeout = 1e3\n"),
	                 0);
	assert_int_equal(cfg_check_hq(&f->c, f->err, sizeof(f->err)), -1);
}

/* Writes a config whose [hq] part is good except for extra lines. */
static int load_hq(struct fx *f, const char *extra)
{
	char text[4000];

	snprintf(text, sizeof(text), AGENT "[hq]\nurl = https://hq.example.com\nca_file = %s\ntoken_file = %s\n%s",
	         f->ca, f->tok, extra);
	assert_int_equal(load(f, text), 0);
	f->err[0] = '\0';
	return cfg_check_hq(&f->c, f->err, sizeof(f->err));
}

/* cfg_check_hq must refuse, naming each of the words. */
#define HQ_REFUSED(f, extra, ...)                                                      \
	do {                                                                           \
		const char *words_[] = {__VA_ARGS__};                                  \
		assert_int_equal(load_hq(f, extra), -1);                               \
		for (size_t i_ = 0; i_ < sizeof(words_) / sizeof(words_[0]); i_++)     \
			if (!strstr(f->err, words_[i_]))                               \
				fail_msg("message \"%s\" does not name \"%s\"", f->err, words_[i_]); \
	} while (0)

static void test_check_hq(void **state)
{
	struct fx *f = *state;
	char extra[1400];

	put(f->ca, "ca", 0644);
	put(f->tok, "secret\n", 0600);
	assert_int_equal(load_hq(f, ""), 0);
	put(f->tok, "secret\n", 0640); /* group may read it */
	assert_int_equal(load_hq(f, ""), 0);
	put(f->tok, "secret\n", 0660);
	assert_int_equal(load_hq(f, ""), 0);

	/* url: required, https only */
	assert_int_equal(load(f, AGENT), 0);
	assert_int_equal(cfg_check_hq(&f->c, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "url"));
	HQ_REFUSED(f, "url = http://hq.example.com\n", "url", "https");
	HQ_REFUSED(f, "url = HQ.example.com\n", "url");
	HQ_REFUSED(f, "url = https://\n", "url");
	HQ_REFUSED(f, "url = ftp://hq.example.com\n", "url");

	/* token file: present, a file, never open to others */
	put(f->tok, "secret\n", 0644);
	HQ_REFUSED(f, "", "token_file", f->tok);
	put(f->tok, "secret\n", 0604);
	HQ_REFUSED(f, "", "token_file");
	put(f->tok, "secret\n", 0602);
	HQ_REFUSED(f, "", "token_file");
	put(f->tok, "secret\n", 0601);
	HQ_REFUSED(f, "", "token_file");
	assert_null(strstr(f->err, "secret"));
	put(f->tok, "secret\n", 0600);
	snprintf(extra, sizeof(extra), "token_file = %s/no-token\n", f->dir);
	HQ_REFUSED(f, extra, "token_file", "no-token");
	snprintf(extra, sizeof(extra), "token_file = %s\n", f->dir);
	HQ_REFUSED(f, extra, "token_file");

	/* CA file */
	snprintf(extra, sizeof(extra), "ca_file = %s/no-ca.pem\n", f->dir);
	HQ_REFUSED(f, extra, "ca_file", "no-ca.pem");

	/* client certificate and key go together and must exist */
	snprintf(extra, sizeof(extra), "client_cert = %s\n", f->ca);
	HQ_REFUSED(f, extra, "client_cert", "client_key");
	snprintf(extra, sizeof(extra), "client_key = %s\n", f->ca);
	HQ_REFUSED(f, extra, "client_cert", "client_key");
	snprintf(extra, sizeof(extra), "client_cert = %s\nclient_key = %s/no-key.pem\n", f->ca, f->dir);
	HQ_REFUSED(f, extra, "client_key");
	snprintf(extra, sizeof(extra), "client_cert = %s\nclient_key = %s\n", f->ca, f->ca);
	assert_int_equal(load_hq(f, extra), 0);

	/* ranges, both sides */
	assert_int_equal(load_hq(f, "[sync]\nbatch_size = 1\n"), 0);
	assert_int_equal(load_hq(f, "[sync]\nbatch_size = 500\n"), 0);
	HQ_REFUSED(f, "[sync]\nbatch_size = 501\n", "batch_size", "501");
	HQ_REFUSED(f, "[sync]\nbatch_size = 0\n", "batch_size");
	HQ_REFUSED(f, "[sync]\nbatch_size = -5\n", "batch_size");
	assert_int_equal(load_hq(f, "[sync]\nlong_poll = 0\n"), 0);
	assert_int_equal(load_hq(f, "[sync]\nlong_poll = 60\n"), 0);
	HQ_REFUSED(f, "[sync]\nlong_poll = 61\n", "long_poll", "61");
	HQ_REFUSED(f, "[sync]\nlong_poll = -1\n", "long_poll");
	HQ_REFUSED(f, "connect_timeout = 0\n", "connect_timeout");
	HQ_REFUSED(f, "request_timeout = 0\n", "request_timeout");
	HQ_REFUSED(f, "[sync]\nretry_max = 0\n", "retry_max");
	HQ_REFUSED(f, "[sync]\nidle_interval = 0\n", "idle_interval");
	HQ_REFUSED(f, "[eod]\ntimeout = -1\n", "timeout");
	HQ_REFUSED(f, "[doctor]\nwaiting_warn = 0\n", "waiting_warn");
	HQ_REFUSED(f, "[doctor]\nwaiting_fail = 0\n", "waiting_fail");
	HQ_REFUSED(f, "[sync]\nbatch_size = 99999999999999999999999\n", "batch_size");
	/* [metrics] (issue 17) */
	assert_int_equal(load_hq(f, "[metrics]\ntextfile = /var/lib/prometheus/node-exporter/posagent.prom\n"), 0);
	assert_string_equal(f->c.metrics_textfile, "/var/lib/prometheus/node-exporter/posagent.prom");
	assert_int_equal(load_hq(f, "[metrics]\ntextfile =\ninterval = 3600\n"), 0);
	HQ_REFUSED(f, "[metrics]\ntextfile = /tmp/posagent.txt\n", "textfile", ".prom");
	HQ_REFUSED(f, "[metrics]\ninterval = 0\n", "interval");
	HQ_REFUSED(f, "[metrics]\ninterval = 3601\n", "interval");
}

static void test_read_token(void **state)
{
	struct fx *f = *state;
	char tok[128];

	assert_int_equal(load(f, AGENT), 0);
	snprintf(f->c.token_file, sizeof(f->c.token_file), "%s", f->tok);
	put(f->tok, "s3cr3t-T0KEN\n", 0600);
	assert_int_equal(cfg_read_token(&f->c, tok, sizeof(tok), f->err, sizeof(f->err)), 0);
	assert_string_equal(tok, "s3cr3t-T0KEN");
	put(f->tok, "s3cr3t-T0KEN\r\n\n", 0600);
	assert_int_equal(cfg_read_token(&f->c, tok, sizeof(tok), f->err, sizeof(f->err)), 0);
	assert_string_equal(tok, "s3cr3t-T0KEN");

	put(f->tok, "", 0600);
	assert_int_equal(cfg_read_token(&f->c, tok, sizeof(tok), f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "token_file"));
	put(f->tok, "\n", 0600);
	assert_int_equal(cfg_read_token(&f->c, tok, sizeof(tok), f->err, sizeof(f->err)), -1);
	put(f->tok, "s3cr3t T0KEN\n", 0600);
	assert_int_equal(cfg_read_token(&f->c, tok, sizeof(tok), f->err, sizeof(f->err)), -1);
	assert_null(strstr(f->err, "s3cr3t"));
	put(f->tok, "s3cr3t\x01T0KEN\n", 0600);
	assert_int_equal(cfg_read_token(&f->c, tok, sizeof(tok), f->err, sizeof(f->err)), -1);
	assert_null(strstr(f->err, "s3cr3t"));
	{
		char big[300];
		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		memcpy(big, "s3cr3t", 6);
		put(f->tok, big, 0600);
		assert_int_equal(cfg_read_token(&f->c, tok, sizeof(tok), f->err, sizeof(f->err)), -1);
		assert_null(strstr(f->err, "s3cr3t"));
	}
	snprintf(f->c.token_file, sizeof(f->c.token_file), "%s/no-token", f->dir);
	assert_int_equal(cfg_read_token(&f->c, tok, sizeof(tok), f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "no-token"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_section_or_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_agent_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_unknown_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_section_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_hq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_token, setup, teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
