/*
 * bt_latency: time from `customer create` returning to the account number
 * (benchmark item 4), with `posagent run` live and HQ assigning at once.
 *
 *   bt_latency POSAGENT CONF HQ_DB AGENT_DB N RATE OUT
 *
 * Starts `POSAGENT -c CONF --json customer create ...` every 1/RATE
 * seconds, N times (one process at a time; the schedule does not wait for
 * earlier customers to sync). For each customer it notes when create
 * returned, then watches two things until both happened:
 *   at_hq   HQ holds it: its async_id is in HQ's customers table, read
 *           with a read-only connection to HQ_DB (WAL: HQ is not held up),
 *           polled every 2 ms;
 *   synced  the agent's database holds it as synced with its account
 *           number (what `customer show` would then report), read the
 *           same way from AGENT_DB. Both are read without starting a
 *           process: a `customer show` per round would measure process
 *           start-up, not the service (a reference long-polls in-process).
 *           A round: the checks, then 1 ms of sleep.
 * Writes one line per customer to OUT: "AT_HQ_MS SYNCED_MS" after create
 * returned, and on stdout the mean CPU load it added (its own and its
 * children's CPU seconds per second).
 */
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXN 10000

struct cust {
	char id[40];
	double created, at_hq, synced;
};

static struct cust cs[MAXN];

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec t;

	if (s <= 0)
		return;
	t.tv_sec = (time_t)s;
	t.tv_nsec = (long)((s - (double)t.tv_sec) * 1e9);
	nanosleep(&t, NULL);
}

/* Runs argv, returns its exit status; its stdout (up to n-1 bytes) in out. */
static int run(char *const argv[], char *out, size_t n)
{
	int p[2], status = 0;
	size_t used = 0;
	ssize_t got;
	pid_t pid;

	if (pipe(p) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		dup2(p[1], 1);
		dup2(devnull, 0);
		dup2(devnull, 2);
		close(p[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		char chunk[4096];
		got = read(p[0], chunk, sizeof(chunk));
		if (got <= 0)
			break;
		for (ssize_t k = 0; k < got && used + 1 < n; k++)
			out[used++] = chunk[k];
	}
	close(p[0]);
	out[used] = '\0';
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The string value of "key" in a (cJSON_Print) document: after "key":
 * white space, then "VALUE". */
static int json_str(const char *doc, const char *key, char *out, size_t n)
{
	char pat[64];
	const char *p, *q;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	if (!(p = strstr(doc, pat)))
		return -1;
	p += strlen(pat);
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '"' || !(q = strchr(p + 1, '"')) || (size_t)(q - p - 1) >= n)
		return -1;
	memcpy(out, p + 1, (size_t)(q - p - 1));
	out[q - p - 1] = '\0';
	return 0;
}

int main(int argc, char **argv)
{
	sqlite3 *hq = NULL, *ag = NULL;
	sqlite3_stmt *q = NULL, *sq = NULL;
	FILE *out;
	struct rusage r0, r1, c0, c1;
	double start, next, t_begin;
	int n, created = 0, done = 0;
	double rate;
	char doc[65536];

	if (argc != 8) {
		fprintf(stderr, "usage: bt_latency POSAGENT CONF HQ_DB AGENT_DB N RATE OUT\n");
		return 64;
	}
	n = atoi(argv[5]);
	rate = atof(argv[6]);
	if (n < 1 || n > MAXN || rate <= 0) {
		fprintf(stderr, "bt_latency: bad N or RATE\n");
		return 64;
	}
	if (sqlite3_open_v2(argv[3], &hq, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(hq, "SELECT 1 FROM customers WHERE async_id = ?1", -1, &q, NULL) != SQLITE_OK) {
		fprintf(stderr, "bt_latency: HQ database %s: %s\n", argv[3], sqlite3_errmsg(hq));
		return 1;
	}
	if (sqlite3_open_v2(argv[4], &ag, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(ag, "SELECT 1 FROM customer WHERE async_id = ?1 AND state = 'synced'"
	                           " AND account IS NOT NULL", -1, &sq, NULL) != SQLITE_OK) {
		fprintf(stderr, "bt_latency: agent database %s: %s\n", argv[4], sqlite3_errmsg(ag));
		return 1;
	}
	sqlite3_busy_timeout(hq, 1000);
	sqlite3_busy_timeout(ag, 1000);
	getrusage(RUSAGE_SELF, &r0);
	getrusage(RUSAGE_CHILDREN, &c0);
	t_begin = start = next = mono();
	while (done < n) {
		double now = mono();
		if (created < n && now >= next) {
			char first[32], email[64];
			char *cargv[] = {argv[1], "-c", argv[2], "--json", "customer", "create", "--first-name", first,
			                 "--last-name", "Latency", "--email", email, "--phone", "+351 912 000 000", NULL};
			struct cust *c = &cs[created];
			snprintf(first, sizeof(first), "L%d", created);
			snprintf(email, sizeof(email), "latency%d.%ld@example.com", created, (long)getpid());
			int rc = run(cargv, doc, sizeof(doc));
			if (rc != 0 || json_str(doc, "async_id", c->id, sizeof(c->id))) {
				fprintf(stderr, "bt_latency: customer create %d failed (exit %d): %.300s\n", created, rc, doc);
				return 1;
			}
			c->created = mono();
			created++;
			next = start + created / rate;
			continue;
		}
		for (int i = 0; i < created; i++) {
			struct cust *c = &cs[i];
			if (c->synced > 0)
				continue;
			if (c->at_hq == 0) {
				sqlite3_reset(q);
				sqlite3_bind_text(q, 1, c->id, -1, SQLITE_STATIC);
				if (sqlite3_step(q) == SQLITE_ROW)
					c->at_hq = mono();
				sqlite3_reset(q);
			}
			if (c->at_hq > 0) {
				sqlite3_bind_text(sq, 1, c->id, -1, SQLITE_STATIC);
				if (sqlite3_step(sq) == SQLITE_ROW) {
					c->synced = mono();
					done++;
				}
				sqlite3_reset(sq);
			}
		}
		sleep_s(0.001);
		/* give up on a customer after 60 s: the line says so (-1) */
		for (int i = 0; i < created; i++)
			if (cs[i].synced == 0 && mono() - cs[i].created > 60) {
				cs[i].synced = -1;
				done++;
			}
	}
	getrusage(RUSAGE_SELF, &r1);
	getrusage(RUSAGE_CHILDREN, &c1);
	out = fopen(argv[7], "w");
	if (!out)
		return 1;
	for (int i = 0; i < n; i++)
		fprintf(out, "%.3f %.3f\n", cs[i].at_hq > 0 ? (cs[i].at_hq - cs[i].created) * 1000 : -1,
		        cs[i].synced > 0 ? (cs[i].synced - cs[i].created) * 1000 : -1);
	fclose(out);
	{
		double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec + r1.ru_stime.tv_sec - r0.ru_stime.tv_sec +
		                      c1.ru_utime.tv_sec - c0.ru_utime.tv_sec + c1.ru_stime.tv_sec - c0.ru_stime.tv_sec) +
		             (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec + r1.ru_stime.tv_usec - r0.ru_stime.tv_usec +
		                      c1.ru_utime.tv_usec - c0.ru_utime.tv_usec + c1.ru_stime.tv_usec - c0.ru_stime.tv_usec) /
		                 1e6;
		printf("%.3f\n", cpu / (mono() - t_begin));
	}
	sqlite3_finalize(q);
	sqlite3_finalize(sq);
	sqlite3_close(hq);
	sqlite3_close(ag);
	return 0;
}
