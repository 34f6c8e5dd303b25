/*
 * test_metrics: the Prometheus exposition (common/metrics).
 *
 * What must hold: every metric has HELP and TYPE before its samples; the
 * queue is given for every kind and state, with the store and register as
 * labels; an empty register gives zeros, not missing samples; request
 * counts survive a flush into the database and add up with counts made
 * after it; statuses are labelled ("none" for no reply); a buffer too
 * small is -1, never a cut exposition; the file is replaced whole by
 * rename (no temporary left behind, mode 0644); the consecutive failures
 * and last upload come from the bookkeeping.
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

#include "common/metrics.h"

struct fx {
	char dir[256];
	char path[300];
	struct store *st;
	struct pa_err e;
	char buf[16384];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_metrics.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/pos.db", f->dir);
	if (store_open(f->path, true, &f->st, &f->e) != 0) {
		free(f);
		return -1;
	}
	store_identity(f->st, "S0001", "R01", "EUR");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[600];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Collects and formats into f->buf; returns the length. */
static int expose(struct fx *f)
{
	struct met_snapshot m;
	int n;

	assert_int_equal(met_collect(f->st, &m, &f->e), 0);
	n = met_format(&m, "S0001", "R01", f->buf, sizeof(f->buf));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(f->buf));
	return n;
}

/* Every sample's metric has its HELP and TYPE earlier in the text. */
static void assert_described(const char *text)
{
	const char *line = text;

	while (*line) {
		const char *end = strchr(line, '\n');
		assert_non_null(end); /* every line ends */
		if (line[0] != '#') {
			char name[96], help[128], type[128];
			size_t n = strcspn(line, "{ ");
			assert_true(n < sizeof(name));
			memcpy(name, line, n);
			name[n] = '\0';
			snprintf(help, sizeof(help), "# HELP %s ", name);
			snprintf(type, sizeof(type), "# TYPE %s ", name);
			const char *h = strstr(text, help), *t = strstr(text, type);
			assert_non_null(h);
			assert_non_null(t);
			assert_true(h < line && t < line);
		}
		line = end + 1;
	}
}

static void test_empty_register(void **state)
{
	struct fx *f = *state;

	expose(f);
	assert_described(f->buf);
	assert_non_null(strstr(f->buf, "posagent_queue_records{store=\"S0001\",register=\"R01\",kind=\"customer\",state=\"pending\"} 0\n"));
	assert_non_null(strstr(f->buf, "kind=\"transaction\",state=\"rejected\"} 0\n"));
	assert_non_null(strstr(f->buf, "posagent_oldest_waiting_seconds{store=\"S0001\",register=\"R01\"} 0\n"));
	assert_non_null(strstr(f->buf, "posagent_last_upload_timestamp_seconds{store=\"S0001\",register=\"R01\"} 0\n"));
	assert_non_null(strstr(f->buf, "posagent_consecutive_failures{store=\"S0001\",register=\"R01\"} 0\n"));
	assert_non_null(strstr(f->buf, "# TYPE posagent_hq_requests_total counter\n"));
	assert_null(strstr(f->buf, "posagent_hq_requests_total{"));
}

static void test_bookkeeping(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_meta_set(f->st, "last_upload", "2026-11-30T10:00:00Z", &f->e), 0);
	assert_int_equal(store_meta_set(f->st, "consecutive_failures", "7", &f->e), 0);
	expose(f);
	assert_non_null(strstr(f->buf, "posagent_last_upload_timestamp_seconds{store=\"S0001\",register=\"R01\"} 1796032800\n"));
	assert_non_null(strstr(f->buf, "posagent_consecutive_failures{store=\"S0001\",register=\"R01\"} 7\n"));
}

static void test_request_counts(void **state)
{
	struct fx *f = *state;

	met_count_request(200);
	met_count_request(200);
	met_count_request(503);
	met_count_request(0);
	expose(f); /* unflushed counts show too */
	assert_non_null(strstr(f->buf, "posagent_hq_requests_total{store=\"S0001\",register=\"R01\",status=\"200\"} 2\n"));
	assert_int_equal(met_flush_requests(f->st, &f->e), 0);
	met_count_request(200);
	met_count_request(99999); /* out of range: "other" */
	expose(f);
	assert_described(f->buf);
	assert_non_null(strstr(f->buf, "status=\"200\"} 3\n"));
	assert_non_null(strstr(f->buf, "status=\"503\"} 1\n"));
	assert_non_null(strstr(f->buf, "status=\"none\"} 1\n"));
	assert_non_null(strstr(f->buf, "status=\"other\"} 1\n"));
	assert_int_equal(met_flush_requests(f->st, &f->e), 0);
	assert_int_equal(met_flush_requests(f->st, &f->e), 0); /* nothing new: no change */
	expose(f);
	assert_non_null(strstr(f->buf, "status=\"200\"} 3\n"));
	/* the text is ascending by status: none (0) before 200 before 503 */
	assert_true(strstr(f->buf, "status=\"none\"") < strstr(f->buf, "status=\"200\""));
	assert_true(strstr(f->buf, "status=\"200\"") < strstr(f->buf, "status=\"503\""));
}

static void test_too_small(void **state)
{
	struct fx *f = *state;
	struct met_snapshot m;
	char small[200];

	assert_int_equal(met_collect(f->st, &m, &f->e), 0);
	assert_int_equal(met_format(&m, "S0001", "R01", small, sizeof(small)), -1);
	assert_int_equal(met_format(&m, "S0001", "R01", small, 0), -1);
}

static void test_write_file(void **state)
{
	struct fx *f = *state;
	char path[400], err[256], back[400];
	struct stat sb;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/posagent.prom", f->dir);
	assert_int_equal(met_write_file(path, "old\n", 4, err, sizeof(err)), 0);
	assert_int_equal(met_write_file(path, "new 1\n", 6, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(back, sizeof(back), fp));
	fclose(fp);
	assert_string_equal(back, "new 1\n");
	snprintf(back, sizeof(back), "%s/posagent.prom.tmp.%ld", f->dir, (long)getpid());
	assert_int_not_equal(access(back, F_OK), 0); /* no temporary left */
	snprintf(path, sizeof(path), "%s/no-such-dir/posagent.prom", f->dir);
	assert_int_equal(met_write_file(path, "x\n", 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no-such-dir"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_empty_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bookkeeping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
