/*
 * hq: the reference HQ server (see hq.h for its parts, README.md for its
 * use). Normally started by tests/hq/start, which prepares DIR.
 *
 *   hq --dir DIR [--port N] [--assign immediate|manual|DELAY_MS]
 *      [--cert FILE] [--key FILE] [--clock-offset SECONDS]
 *   hq --pick-port
 *
 * DIR holds hq.db (state), tokens/ (one token file per register),
 * admin.secret, by default server.pem / server-key.pem, and, when
 * present, admin.pem / admin-key.pem (served to SNI "hq-admin.test"). HQ listens on
 * 127.0.0.1 and ::1 at port N, or at a free port when N is 0 or taken; it
 * then writes the port to DIR/port and its pid to DIR/hq.pid. SIGTERM or
 * SIGINT stops it cleanly (long polls are answered first).
 */
#include "tests/hq/hq.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PEM_MAX (1024 * 1024)

struct options {
	const char *dir;
	int port;
	enum assign_mode mode;
	long delay_ms;
	char cert[4096], key[4096];           /* server certificate and key */
	char admin_cert[4096], admin_key[4096]; /* for SNI hq-admin.test */
	long clock_offset;
	char revision[16]; /* health's "revision", "" for none */
	bool pick_port;
	long max_inflight;    /* capacity limit (hq_limit), 0 none */
	long max_rate;
	long limit_retry_after;
};

static void usage(FILE *f)
{
	fputs("usage: hq --dir DIR [--port N] [--assign immediate|manual|DELAY_MS]\n"
	      "          [--cert FILE] [--key FILE] [--clock-offset SECONDS] [--revision DATE|none]\n"
	      "          [--max-inflight N] [--max-rate PER_SECOND] [--limit-retry-after SECONDS]\n"
	      "       hq --pick-port\n",
	      f);
}

/* parse_long: the whole of s as a long in [lo, hi]. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* parse_args: fills *o. Returns 0, 1 for --help, -1 on a usage error. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longs[] = {
		{"dir", required_argument, NULL, 'd'},   {"port", required_argument, NULL, 'p'},
		{"assign", required_argument, NULL, 'a'}, {"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},    {"clock-offset", required_argument, NULL, 'o'},
		{"pick-port", no_argument, NULL, 'P'},    {"help", no_argument, NULL, 'h'},
		{"max-inflight", required_argument, NULL, 'I'}, {"max-rate", required_argument, NULL, 'R'},
		{"limit-retry-after", required_argument, NULL, 'A'},
		{"revision", required_argument, NULL, 'r'},
		{NULL, 0, NULL, 0},
	};
	long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->mode = ASSIGN_IMMEDIATE;
	o->limit_retry_after = 1;
	util_copy(o->revision, sizeof(o->revision), HQ_REVISION);
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case 'd':
			o->dir = optarg;
			break;
		case 'p':
			if (parse_long(optarg, 0, 65535, &v) < 0)
				goto bad;
			o->port = (int)v;
			break;
		case 'a':
			if (sync_parse_mode(optarg, &o->mode, &o->delay_ms) < 0)
				goto bad;
			break;
		case 'c':
			util_copy(o->cert, sizeof(o->cert), optarg);
			break;
		case 'k':
			util_copy(o->key, sizeof(o->key), optarg);
			break;
		case 'o':
			if (parse_long(optarg, -100000000L, 100000000L, &o->clock_offset) < 0)
				goto bad;
			break;
		case 'r':
			if (strlen(optarg) >= sizeof(o->revision))
				goto bad;
			util_copy(o->revision, sizeof(o->revision), strcmp(optarg, "none") ? optarg : "");
			break;
		case 'P':
			o->pick_port = true;
			break;
		case 'I':
			if (parse_long(optarg, 0, 100000, &o->max_inflight) < 0)
				goto bad;
			break;
		case 'R':
			if (parse_long(optarg, 0, 1000000, &o->max_rate) < 0)
				goto bad;
			break;
		case 'A':
			if (parse_long(optarg, 0, 86400, &o->limit_retry_after) < 0)
				goto bad;
			break;
		case 'h':
			return 1;
		default:
			return -1;
		}
	}
	if (optind != argc || (!o->dir && !o->pick_port))
		return -1;
	if (o->dir && !o->cert[0])
		snprintf(o->cert, sizeof(o->cert), "%s/server.pem", o->dir);
	if (o->dir && !o->key[0])
		snprintf(o->key, sizeof(o->key), "%s/server-key.pem", o->dir);
	if (o->dir) {
		snprintf(o->admin_cert, sizeof(o->admin_cert), "%s/admin.pem", o->dir);
		snprintf(o->admin_key, sizeof(o->admin_key), "%s/admin-key.pem", o->dir);
	}
	return 0;
bad:
	fprintf(stderr, "hq: bad option value: %s\n", optarg);
	return -1;
}

/* read_file: the whole of path (at most PEM_MAX bytes), NUL-terminated,
 * malloc'd. NULL with a message on stderr. */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n;

	if (!f) {
		fprintf(stderr, "hq: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf = malloc(PEM_MAX + 1);
	if (!buf)
		goto cleanup;
	n = fread(buf, 1, PEM_MAX, f);
	if (ferror(f) || n == PEM_MAX) {
		fprintf(stderr, "hq: %s: unreadable or too large\n", path);
		free(buf);
		buf = NULL;
		goto cleanup;
	}
	buf[n] = '\0';
cleanup:
	fclose(f);
	return buf;
}

/* write_atomic: writes "value\n" to DIR/name through a renamed temporary. */
static int write_atomic(const char *dir, const char *name, long value)
{
	char path[4096], tmp[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	f = fopen(tmp, "w");
	if (!f)
		goto fail;
	fprintf(f, "%ld\n", value);
	if (fclose(f) != 0 || rename(tmp, path) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "hq: %s: %s\n", path, strerror(errno));
	unlink(tmp);
	return -1;
}

/* pick_port: prints a port free on both loopback addresses right now. */
static int pick_port(void)
{
	int fds[2], port = net_listen(0, fds);

	if (port < 0) {
		fprintf(stderr, "hq: no free port: %s\n", strerror(errno));
		return 1;
	}
	close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	printf("%d\n", port);
	return 0;
}

/* init_state: the database and every module that prepares statements. */
static int init_state(const struct options *o)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/hq.db", o->dir);
	if (db_open(path) < 0 || auth_init(o->dir) < 0 || idem_init() < 0 || feed_init() < 0 ||
	    cust_init() < 0 || upd_init() < 0 || batch_init() < 0 || stmt_init() < 0 ||
	    admin_init(o->dir) < 0 ||
	    sync_start(o->mode, o->delay_ms) < 0)
		return -1;
	return 0;
}

/* serve: listens, starts the daemons, writes DIR/port and DIR/hq.pid,
 * and waits for SIGTERM or SIGINT. */
static int serve(const struct options *o, const sigset_t *sigs)
{
	struct MHD_Daemon *d[2] = {NULL, NULL};
	char *cert = NULL, *key = NULL, *acert = NULL, *akey = NULL, path[4096];
	int fds[2] = {-1, -1}, port, sig, rc = 1;

	cert = read_file(o->cert);
	key = read_file(o->key);
	if (access(o->admin_cert, R_OK) == 0) {
		acert = read_file(o->admin_cert);
		akey = read_file(o->admin_key);
		if (!acert || !akey)
			goto cleanup;
	}
	if (!cert || !key || tls_load(cert, key, acert, akey) < 0)
		goto cleanup;
	port = net_listen(o->port, fds);
	if (port < 0 && o->port && errno == EADDRINUSE) {
		fprintf(stderr, "hq: port %d is taken, taking another\n", o->port);
		port = net_listen(0, fds);
	}
	if (port < 0) {
		fprintf(stderr, "hq: cannot listen: %s\n", strerror(errno));
		goto cleanup;
	}
	for (int i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		d[i] = http_start(fds[i]);
		if (!d[i])
			goto cleanup;
		fds[i] = -1; /* the daemon owns it now */
	}
	if (write_atomic(o->dir, "port", port) < 0 || write_atomic(o->dir, "hq.pid", getpid()) < 0)
		goto cleanup;
	fprintf(stderr, "hq: listening on https://localhost:%d (pid %ld)\n", port, (long)getpid());
	while (sigwait(sigs, &sig) == 0 && sig != SIGTERM && sig != SIGINT)
		;
	fprintf(stderr, "hq: stopping (signal %d)\n", sig);
	rc = 0;
cleanup:
	http_stop(d, 2);
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/hq.pid", o->dir);
		unlink(path);
	}
	tls_free();
	free(cert);
	free(key);
	free(acert);
	free(akey);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	sigset_t sigs;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc != 0) {
		usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 64;
	}
	if (o.pick_port)
		return pick_port();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* every thread inherits it */
	clock_set_offset(o.clock_offset);
	limit_set(o.max_inflight, (double)o.max_rate, o.limit_retry_after);
	api_set_revision(o.revision);
	rc = 1;
	if (init_state(&o) == 0)
		rc = serve(&o, &sigs);
	sync_stop();
	db_close();
	stats_free();
	fault_clear();
	return rc;
}
