/*
 * posagent doctor: checks, one line each, that this register can sync, so
 * that a technician on the phone sees at once what is wrong and what to do.
 * Each check is PASS, WARN or FAIL; every WARN and FAIL carries a hint.
 *
 * The checks, in order: configuration, token file, CA file, HQ's name
 * (DNS), TCP connect, TLS handshake, /v1/health, HQ's certificate expiry,
 * clock skew against HQ's Date, credentials (an authenticated read that
 * changes nothing), database integrity, WAL mode, free disk, the oldest
 * waiting record, rejected records, batches HQ could not read. A check
 * that cannot run because an earlier one failed is a WARN saying so.
 *
 * A broken configuration is a FAIL line, never exit 78. Exit 0 when no
 * check FAILs, else 1. Talking to HQ is bounded: each step at most 3 s and
 * all of them together at most DOCTOR_NET_BUDGET, so doctor finishes
 * within 10 s when HQ is unreachable. The token is never printed; records
 * are named by id only.
 */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "agent/cli.h"
#include "agent/retain_view.h"
#include "common/diag.h"
#include "common/update.h"
#include "common/util.h"

#define DOCTOR_STEP_MS 3000       /* longest wait for one network step */
#define DOCTOR_NET_BUDGET 8.5     /* seconds for all network steps together */
#define DOCTOR_MAX_CHECKS 24
#define CERT_WARN_DAYS 30
#define SKEW_WARN 60              /* seconds */
#define SKEW_FAIL 300
#define DISK_WARN (1024.0 * 1024 * 1024)

enum result { PASS, WARN, FAIL };
static const char *const result_names[] = {"PASS", "WARN", "FAIL"};

struct check {
	const char *name;
	enum result result;
	char detail[512];
	char hint[384];
};

struct doctor {
	struct cli *cli;
	struct check v[DOCTOR_MAX_CHECKS];
	int n;
	int fails;
	int warns;
};

/* Set by SIGALRM (network budget spent) and SIGINT/SIGTERM: aborts an HQ
 * request within ~100 ms. */
static volatile sig_atomic_t net_stop;
static volatile sig_atomic_t interrupted;

/* SIGALRM: the network budget is spent. */
static void on_alarm(int sig)
{
	(void)sig;
	net_stop = 1;
}

/* SIGINT, SIGTERM: stop talking to HQ, report what was found, exit 130. */
static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
	net_stop = 1;
}

/* Records a check's outcome and, in text mode, prints its line at once
 * (a technician sees progress while HQ is slow). hint may be NULL for
 * PASS. */
__attribute__((format(printf, 5, 6))) static void add(struct doctor *d, const char *name, enum result res,
                                                       const char *hint, const char *fmt, ...)
{
	struct check *c;
	va_list ap;

	if (d->n >= DOCTOR_MAX_CHECKS)
		return;
	c = &d->v[d->n++];
	c->name = name;
	c->result = res;
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
	util_copy(c->hint, sizeof(c->hint), res == PASS || !hint ? "" : hint);
	if (res == FAIL)
		d->fails++;
	else if (res == WARN)
		d->warns++;
	if (!d->cli->json) {
		printf("%s  %-12s %s", result_names[res], name, c->detail);
		if (c->hint[0])
			printf("  hint: %s", c->hint);
		printf("\n");
		fflush(stdout);
	}
}

/* A check that could not run because of an earlier one. */
static void skip(struct doctor *d, const char *name, const char *because)
{
	char hint[128];

	snprintf(hint, sizeof(hint), "fix the %s line above first", because);
	add(d, name, WARN, hint, "not checked: %s failed", because);
}

/* Text of a hint with printf formatting, into buf. */
__attribute__((format(printf, 3, 4))) static const char *hintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return buf;
}

/* ---- local files ------------------------------------------------------------ */

/* token_file: present, a regular file, not open to others, holding a
 * token, and owned by root (the packaged way, README: root:posagent 0640,
 * read through the group by the service and the POS user) or by this
 * user; root may run doctor for anyone. *usable gets whether a client can
 * read a token from it. */
static void check_token(struct doctor *d, const struct cfg *cfg, bool *usable)
{
	struct stat sb;
	struct passwd *pw;
	char tok[4096], err[512], hint[512];
	const char *owner;

	*usable = false;
	if (stat(cfg->token_file, &sb) != 0) {
		add(d, "token_file", FAIL,
		    hintf(hint, sizeof(hint), "put the token HQ issued for %s/%s in %s (install -o root -g posagent -m 0640)",
		          cfg->store, cfg->reg, cfg->token_file),
		    "%s: %s", cfg->token_file, strerror(errno));
		return;
	}
	if (!S_ISREG(sb.st_mode)) {
		add(d, "token_file", FAIL, "[hq] token_file must name the file holding the token",
		    "%s is not a regular file", cfg->token_file);
		return;
	}
	if (cfg_read_token(cfg, tok, sizeof(tok), err, sizeof(err)) != 0) {
		explicit_bzero(tok, sizeof(tok));
		add(d, "token_file", FAIL,
		    access(cfg->token_file, R_OK) != 0
		        ? "run doctor as the service user or root, or give the file to the service user"
		        : hintf(hint, sizeof(hint), "put the token HQ issued for %s/%s in %s", cfg->store, cfg->reg,
		                cfg->token_file),
		    "%s", err);
		return;
	}
	explicit_bzero(tok, sizeof(tok));
	*usable = true;
	pw = getpwuid(sb.st_uid);
	owner = pw ? pw->pw_name : "?";
	if (sb.st_mode & 0007) {
		add(d, "token_file", FAIL,
		    hintf(hint, sizeof(hint), "chmod o-rwx %s (e.g. chmod 640), and ask HQ for a new token if others "
		          "may have read it", cfg->token_file),
		    "%s is open to others (mode %04o, owner %s)", cfg->token_file, (unsigned)(sb.st_mode & 07777),
		    owner);
		return;
	}
	if (sb.st_uid != geteuid() && sb.st_uid != 0 && geteuid() != 0) {
		add(d, "token_file", WARN,
		    hintf(hint, sizeof(hint), "chown root:posagent %s && chmod 0640 %s (or give it to uid %u)",
		          cfg->token_file, cfg->token_file, (unsigned)geteuid()),
		    "%s is owned by %s (uid %u), not by this user", cfg->token_file, owner, (unsigned)sb.st_uid);
		return;
	}
	add(d, "token_file", PASS, NULL, "%s: mode %04o, owner %s", cfg->token_file, (unsigned)(sb.st_mode & 07777),
	    owner);
}

/* ca_file: a readable PEM bundle of well-formed certificates. */
static void check_ca(struct doctor *d, const struct cfg *cfg)
{
	char err[512], hint[512];
	int certs;

	if (diag_ca_file(cfg->ca_file, &certs, err, sizeof(err)) != 0)
		add(d, "ca_file", FAIL,
		    hintf(hint, sizeof(hint), "install HQ's CA bundle (PEM) as %s, readable by the service user",
		          cfg->ca_file),
		    "%s", err);
	else
		add(d, "ca_file", PASS, NULL, "%s: %d certificate%s", cfg->ca_file, certs, certs == 1 ? "" : "s");
}

/* ---- HQ ------------------------------------------------------------------------ */

/* Milliseconds for the next network step: DOCTOR_STEP_MS, less when the
 * budget ends sooner; 0 when it is spent. */
static int step_ms(double deadline)
{
	double left = (deadline - util_mono()) * 1000.0;

	if (left <= 0)
		return 0;
	return left < DOCTOR_STEP_MS ? (int)left : DOCTOR_STEP_MS;
}

/* Makes a file holding a placeholder token, for a client that only asks
 * /v1/health (no authentication) when the real token cannot be read.
 * Fills path (empty on failure). */
static void placeholder_token(char *path, size_t n)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	snprintf(path, n, "%s/posagent-doctor-XXXXXX", dir && *dir ? dir : "/tmp");
	fd = mkstemp(path);
	if (fd < 0) {
		path[0] = '\0';
		return;
	}
	if (write(fd, "placeholder\n", 12) != 12) {
		unlink(path);
		path[0] = '\0';
	}
	close(fd);
}

/* The hint for a failed TLS handshake, from hqclient's description. */
static const char *tls_hint(const char *error, const struct cfg *cfg, char *buf, size_t n)
{
	if (strstr(error, "not trusted by ca_file") || strstr(error, "not accepted"))
		return hintf(buf, n, "%s does not hold the CA that signed HQ's certificate: install HQ's CA bundle there",
		             cfg->ca_file);
	if (strstr(error, "another host name"))
		return "the host in [hq] url must be one of the names in HQ's certificate: check url (use the name, "
		       "not an address, unless HQ's certificate names it)";
	if (strstr(error, "certificate expired"))
		return "HQ's certificate has expired: HQ operations must renew it; check this register's date too";
	if (strstr(error, "not valid yet"))
		return "set this register's clock (timedatectl set-ntp true)";
	if (strstr(error, "cannot use ca_file"))
		return "fix the ca_file line above";
	if (strstr(error, "client certificate") || strstr(error, "client_cert"))
		return "set [hq] client_cert and client_key to the certificate HQ issued for this register";
	return "check that [hq] url points at HQ's HTTPS port and that nothing in between intercepts TLS";
}

/* What the health request found, for the checks after it. */
struct reach {
	bool answered;     /* an HTTP reply came over verified TLS */
	time_t date;       /* its Date, 0 none */
	time_t expiry;     /* server certificate notAfter, 0 unknown */
	bool expired;      /* the handshake failed on an expired certificate */
};

/* tls and health: GET /v1/health without authentication. Fills *out
 * for the certificate and clock checks. */
static void check_health(struct doctor *d, struct hq_client *hq, const struct cfg *cfg, struct reach *out)
{
	struct hq_response r;
	char hint[512];
	cJSON *doc = NULL;
	const cJSON *status;

	memset(out, 0, sizeof(*out));
	hq_client_want_certinfo(hq, 1);
	if (hq_get(hq, "/v1/health", 0, 0, &r) != 0) {
		if (interrupted || (net_stop && strcmp(r.error, "interrupted") == 0))
			add(d, "tls", FAIL, "HQ is too slow to answer: check the network path to HQ",
			    "no reply within doctor's time limit");
		else if (r.tls_error)
			add(d, "tls", FAIL, tls_hint(r.error, cfg, hint, sizeof(hint)), "%s", r.error);
		else
			add(d, "tls", FAIL,
			    "HQ accepts connections but does not complete HTTPS: check that [hq] url names HQ's HTTPS "
			    "port; ask HQ operations whether HQ is healthy",
			    "HTTPS did not complete: %s", r.error);
		out->expired = r.tls_error && strstr(r.error, "certificate expired") != NULL;
		skip(d, "health", "tls");
		goto cleanup;
	}
	add(d, "tls", PASS, NULL, "handshake verified against %s", cfg->ca_file);
	out->answered = true;
	out->date = r.date;
	out->expiry = r.cert_expiry;
	doc = r.body ? cJSON_Parse(r.body) : NULL;
	status = cJSON_GetObjectItemCaseSensitive(doc, "status");
	if (r.status == 200 && cJSON_IsString(status) && strcmp(status->valuestring, "ok") == 0)
		add(d, "health", PASS, NULL, "/v1/health answers ok");
	else if (r.status == 200)
		add(d, "health", FAIL, "HQ reports a problem: tell HQ operations",
		    "/v1/health answered 200 without status \"ok\"");
	else
		add(d, "health", FAIL,
		    r.status == 404 ? "the [hq] url path is wrong: it must be HQ's base URL (the part before /v1)"
		                    : "HQ is up but unhealthy: tell HQ operations",
		    "/v1/health answered HTTP %ld", r.status);
cleanup:
	cJSON_Delete(doc);
	hq_response_free(&r);
}

/* certificate: HQ's server certificate expiry. */
static void check_cert(struct doctor *d, const struct reach *h)
{
	char when[21];
	time_t now = time(NULL);
	long days;

	if (h->expired) {
		add(d, "certificate", FAIL,
		    "HQ operations must renew HQ's certificate; if it should still be valid, check this register's date",
		    "HQ's certificate has expired");
		return;
	}
	if (!h->answered) {
		skip(d, "certificate", "tls");
		return;
	}
	if (h->expiry == 0) {
		add(d, "certificate", WARN, "ask HQ operations when HQ's certificate expires",
		    "could not read the expiry of HQ's certificate");
		return;
	}
	util_rfc3339(h->expiry, when);
	days = (long)((h->expiry - now) / 86400);
	if (h->expiry <= now)
		add(d, "certificate", FAIL, "HQ operations must renew HQ's certificate now", "expired at %s", when);
	else if (days < CERT_WARN_DAYS)
		add(d, "certificate", WARN, "ask HQ operations to renew HQ's certificate before it expires",
		    "expires in %ld day%s (%s)", days, days == 1 ? "" : "s", when);
	else
		add(d, "certificate", PASS, NULL, "valid until %s (%ld days)", when, days);
}

/* clock: this register's clock against HQ's Date header. */
static void check_clock(struct doctor *d, const struct reach *h)
{
	const char *hint = "set this register's clock: enable NTP (timedatectl set-ntp true) or set the date by hand";
	long skew, mag;

	if (!h->answered) {
		skip(d, "clock", "tls");
		return;
	}
	if (h->date == 0) {
		add(d, "clock", WARN, "HQ sends no Date header: tell HQ operations", "cannot compare: HQ sent no Date");
		return;
	}
	skew = (long)(time(NULL) - h->date);
	mag = skew < 0 ? -skew : skew;
	if (mag > SKEW_FAIL)
		add(d, "clock", FAIL, hint, "this register is %ld s %s HQ (more than %d s)", mag,
		    skew > 0 ? "ahead of" : "behind", SKEW_FAIL);
	else if (mag > SKEW_WARN)
		add(d, "clock", WARN, hint, "this register is %ld s %s HQ (more than %d s)", mag,
		    skew > 0 ? "ahead of" : "behind", SKEW_WARN);
	else
		add(d, "clock", PASS, NULL, "within %ld s of HQ", mag);
}

/* credentials: GET the store's changes (one, no wait) with the token. A
 * read: nothing is stored, the cursor is not used or moved. */
static void check_credentials(struct doctor *d, struct hq_client *hq, const struct cfg *cfg)
{
	struct hq_response r;
	char path[128], hint[512];

	snprintf(path, sizeof(path), "/v1/stores/%s/changes?limit=1&wait=0", cfg->store);
	hq_client_want_certinfo(hq, 0);
	if (hq_get(hq, path, 0, 1, &r) != 0) {
		add(d, "credentials", FAIL, "HQ stopped answering: check the network path to HQ and run doctor again",
		    "%s", net_stop ? "no reply within doctor's time limit" : r.error);
	} else if (r.status == 200) {
		add(d, "credentials", PASS, NULL, "HQ accepts this register's token for store %s", cfg->store);
	} else if (r.status == 401) {
		add(d, "credentials", FAIL,
		    hintf(hint, sizeof(hint), "the token is unknown to HQ or revoked: get a new token for %s/%s from HQ "
		          "and put it in %s", cfg->store, cfg->reg, cfg->token_file),
		    "HQ refused the token (401)");
	} else if (r.status == 403) {
		add(d, "credentials", FAIL,
		    hintf(hint, sizeof(hint), "the token belongs to another store or register: put the token HQ issued "
		          "for %s/%s in %s, or fix [agent] store/register", cfg->store, cfg->reg, cfg->token_file),
		    "HQ refused the token for store %s (403)", cfg->store);
	} else {
		add(d, "credentials", r.status >= 500 ? WARN : FAIL, "HQ could not answer: tell HQ operations",
		    "an authenticated read answered HTTP %ld", r.status);
	}
	hq_response_free(&r);
}

/* dns, tcp, tls, health, certificate, clock, credentials, all within the
 * network budget. */
static void check_hq(struct doctor *d, const struct cfg *cfg, bool url_ok, bool token_ok)
{
	static const char *const after_tcp[] = {"tls", "health", "certificate", "clock", "credentials"};
	struct cfg hc = *cfg;
	struct hq_client *hq = NULL;
	struct itimerval it;
	struct sigaction sa;
	struct reach h;
	char host[256], port[16], err[512], hint[512], addrs[8][64], tmp_token[512] = "";
	size_t naddr = 0, used = 0;
	double deadline = util_mono() + DOCTOR_NET_BUDGET;
	int ms;

	if (!url_ok || diag_url_host(cfg->url, host, sizeof(host), port, sizeof(port), err, sizeof(err)) != 0) {
		skip(d, "dns", "config");
		skip(d, "tcp", "config");
		for (size_t i = 0; i < sizeof(after_tcp) / sizeof(after_tcp[0]); i++)
			skip(d, after_tcp[i], "config");
		return;
	}
	/* The whole of it is bounded: SIGALRM stops an HQ request at the end. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)DOCTOR_NET_BUDGET;
	it.it_value.tv_usec = (suseconds_t)((DOCTOR_NET_BUDGET - (double)(time_t)DOCTOR_NET_BUDGET) * 1e6);
	setitimer(ITIMER_REAL, &it, NULL);

	ms = step_ms(deadline);
	if (diag_resolve(host, port, ms, addrs, sizeof(addrs) / sizeof(addrs[0]), &naddr, err, sizeof(err)) != 0) {
		add(d, "dns", FAIL,
		    hintf(hint, sizeof(hint), "check the host in [hq] url and this register's DNS servers "
		          "(/etc/resolv.conf); try: getent hosts %s", host),
		    "%s", err);
		skip(d, "tcp", "dns");
		for (size_t i = 0; i < sizeof(after_tcp) / sizeof(after_tcp[0]); i++)
			skip(d, after_tcp[i], "dns");
		goto cleanup;
	}
	add(d, "dns", PASS, NULL, "%s is %s%s", host, addrs[0], naddr > 1 ? " (and more)" : "");
	ms = step_ms(deadline);
	if (diag_tcp_connect(addrs, naddr, port, ms, &used, err, sizeof(err)) != 0) {
		add(d, "tcp", FAIL,
		    hintf(hint, sizeof(hint), "HQ is down or unreachable: check the network cable/Wi-Fi, the firewall "
		          "and the port in [hq] url; ask HQ operations whether HQ is up"),
		    "%s (%s): %s", host, addrs[0], err);
		for (size_t i = 0; i < sizeof(after_tcp) / sizeof(after_tcp[0]); i++)
			skip(d, after_tcp[i], "tcp");
		goto cleanup;
	}
	add(d, "tcp", PASS, NULL, "connected to %s port %s", addrs[used], port);

	/* A client for the HTTPS steps, each at most DOCTOR_STEP_MS. */
	ms = step_ms(deadline);
	hc.connect_timeout = ms / 1000 > 0 ? ms / 1000 : 1;
	hc.request_timeout = hc.connect_timeout;
	if (!token_ok) {
		placeholder_token(tmp_token, sizeof(tmp_token));
		util_copy(hc.token_file, sizeof(hc.token_file), tmp_token);
	}
	if (hq_client_new(&hc, &net_stop, &hq, err, sizeof(err)) != 0) {
		add(d, "tls", FAIL, "reinstall posagent's dependencies (libcurl4)", "cannot make an HTTPS client: %s", err);
		for (size_t i = 1; i < sizeof(after_tcp) / sizeof(after_tcp[0]); i++)
			skip(d, after_tcp[i], "tls");
		goto cleanup;
	}
	if (tmp_token[0]) {
		unlink(tmp_token);
		tmp_token[0] = '\0';
	}
	check_health(d, hq, cfg, &h);
	check_cert(d, &h);
	check_clock(d, &h);
	if (!h.answered)
		skip(d, "credentials", "tls");
	else if (!token_ok)
		skip(d, "credentials", "token_file");
	else if (step_ms(deadline) == 0)
		add(d, "credentials", WARN, "HQ is slow: run doctor again", "not checked: doctor's time limit was reached");
	else
		check_credentials(d, hq, cfg);
cleanup:
	memset(&it, 0, sizeof(it));
	setitimer(ITIMER_REAL, &it, NULL);
	if (tmp_token[0])
		unlink(tmp_token);
	hq_client_free(hq);
}

/* ---- the database --------------------------------------------------------------- */

/* database (open + quick_check + file mode) and wal. Returns the open
 * store for the checks after it, or NULL. */
static struct store *check_database(struct doctor *d, const struct cfg *cfg)
{
	struct store *st = NULL;
	sqlite3_stmt *s = NULL;
	struct pa_err e;
	struct stat sb;
	char hint[512], first[256] = "";
	int rows = 0, step;
	bool ok = false;

	memset(&e, 0, sizeof(e));
	if (store_open(cfg->database, false, &st, &e) != 0) {
		add(d, "database", FAIL,
		    strcmp(e.code, "database_missing") == 0
		        ? "run `posagent init` if this is a new register; otherwise check [agent] database"
		        : hintf(hint, sizeof(hint), "stop the service and restore the latest backup (see README, "
		                "\"Restoring a backup\"); keep the damaged %s for support", cfg->database),
		    "%s", e.message);
		skip(d, "wal", "database");
		return NULL;
	}
	store_identity(st, cfg->store, cfg->reg, cfg->currency);
	s = store_prepare(st, "PRAGMA quick_check", &e);
	if (s) {
		while ((step = sqlite3_step(s)) == SQLITE_ROW) {
			const char *line = store_col_text(s, 0);
			if (rows++ == 0)
				util_copy(first, sizeof(first), line ? line : "");
		}
		ok = step == SQLITE_DONE && rows == 1 && strcmp(first, "ok") == 0;
		if (step != SQLITE_DONE)
			util_copy(first, sizeof(first), sqlite3_errmsg(st->db));
	} else {
		util_copy(first, sizeof(first), e.message);
	}
	sqlite3_finalize(s);
	s = NULL;
	if (!ok) {
		add(d, "database", FAIL,
		    hintf(hint, sizeof(hint), "stop the service, keep %s for support and restore the latest backup "
		          "(see README, \"Restoring a backup\")", cfg->database),
		    "%s is damaged: quick_check: %s%s", cfg->database, first, rows > 1 ? " (and more)" : "");
	} else if (stat(cfg->database, &sb) == 0 && (sb.st_mode & 0007)) {
		add(d, "database", WARN,
		    hintf(hint, sizeof(hint), "chmod o-rwx %s %s-wal %s-shm: it holds customers' data", cfg->database,
		          cfg->database, cfg->database),
		    "%s passes quick_check but is open to others (mode %04o)", cfg->database,
		    (unsigned)(sb.st_mode & 07777));
	} else {
		struct retain_view v;
		char size[400] = "";
		if (retain_view_read(st, cfg->keep_days, time(NULL), &v, &e) == 0)
			retain_view_line(&v, size, sizeof(size));
		add(d, "database", PASS, NULL, "%s passes quick_check%s%s", cfg->database, size[0] ? "; " : "", size);
	}
	s = store_prepare(st, "PRAGMA journal_mode", &e);
	if (s && sqlite3_step(s) == SQLITE_ROW && store_col_text(s, 0) && strcmp(store_col_text(s, 0), "wal") == 0)
		add(d, "wal", PASS, NULL, "journal mode is WAL");
	else
		add(d, "wal", FAIL,
		    "keep the database on a local disk (WAL needs shared memory; network file systems lack it)",
		    "journal mode is %s, not WAL", s && store_col_text(s, 0) ? store_col_text(s, 0) : "unknown");
	sqlite3_finalize(s);
	return st;
}

/* disk: free space where the database lives. */
static void check_disk(struct doctor *d, const struct cfg *cfg)
{
	char dir[CFG_PATH_MAX], hint[512];
	char *slash;
	struct statvfs vf;
	double avail;

	util_copy(dir, sizeof(dir), cfg->database);
	slash = strrchr(dir, '/');
	if (!slash)
		util_copy(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (statvfs(dir, &vf) != 0) {
		add(d, "disk", WARN, "check [agent] database", "cannot read the free space of %s: %s", dir, strerror(errno));
		return;
	}
	avail = (double)vf.f_bavail * (double)vf.f_frsize;
	if (avail < DISK_WARN)
		add(d, "disk", WARN,
		    hintf(hint, sizeof(hint), "free space on %s: old logs and backups are the usual suspects (du -sh /var/*)",
		          dir),
		    "%.0f MiB free on %s (under 1 GiB)", avail / (1024.0 * 1024), dir);
	else
		add(d, "disk", PASS, NULL, "%.1f GiB free on %s", avail / DISK_WARN, dir);
}

/* Builds "customer R01-000003 invalid_email, ..." for the first rejected
 * records. */
struct rej_text {
	char buf[256];
	int shown;
	bool kinds[DIAG_NKINDS]; /* the kinds seen (rejected: for the hint) */
};

/* diag_rejected callback: appends "KIND ID CODE" to the text. */
static int rej_line(void *ctx, const struct diag_rejected *r)
{
	struct rej_text *t = ctx;
	size_t used = strlen(t->buf);
	const char *id = r->kind == DIAG_CUSTOMER && r->local_number[0] ? r->local_number : r->id;

	t->kinds[r->kind] = true;
	if (t->shown >= 3)
		return 0; /* counted for the hint, not shown */
	snprintf(t->buf + used, sizeof(t->buf) - used, "%s%s %s %s", t->shown ? ", " : "", diag_kind_name(r->kind), id,
	         r->code);
	t->shown++;
	return 0;
}

/* upd_list_rejected callback: appends "KIND ID update UPDATE_ID CODE". */
static int upd_rej_line(void *ctx, const struct upd_rejected_rec *r)
{
	struct rej_text *t = ctx;
	size_t used = strlen(t->buf);

	snprintf(t->buf + used, sizeof(t->buf) - used, "%s%s %s update %s %s", t->shown ? ", " : "", r->kind, r->id,
	         r->update_id, r->code);
	t->shown++;
	return 0;
}

/* diag_flagged callback: keeps the first flagged batch's description. */
static int flag_line(void *ctx, const struct diag_flagged *f)
{
	struct rej_text *t = ctx;

	if (t->shown++ == 0)
		snprintf(t->buf, sizeof(t->buf), "batch %s (%lld record%s): %.160s", f->batch_id, (long long)f->records,
		         cli_s(f->records), f->reason);
	return 0;
}

/* waiting, rejected, batches: the queue, from the database. */
static void check_queue(struct doctor *d, struct store *st, const struct cfg *cfg)
{
	struct diag_waiting w;
	struct rej_text t;
	struct pa_err e;
	int64_t total, upd_total = 0;
	char span[32];

	memset(&e, 0, sizeof(e));
	if (!st) {
		skip(d, "waiting", "database");
		skip(d, "rejected", "database");
		skip(d, "batches", "database");
		return;
	}
	if (diag_oldest_waiting(st, &w, &e) != 0) {
		add(d, "waiting", FAIL, "see the database line above", "cannot read the queue: %s", e.message);
	} else if (!w.found) {
		add(d, "waiting", PASS, NULL, "nothing is waiting for HQ");
	} else {
		int64_t age = (int64_t)time(NULL) - w.since;
		enum result res = age > cfg->waiting_fail ? FAIL : age > cfg->waiting_warn ? WARN : PASS;
		bool assigning = w.kind == DIAG_CUSTOMER && strcmp(w.state, "uploaded") == 0;
		bool blocked = strcmp(w.customer_state, "rejected") == 0;
		char hint[256];
		diag_span(age, span, sizeof(span));
		if (blocked)
			snprintf(hint, sizeof(hint), "it waits for its customer %s, whom HQ rejected: a person must correct "
			         "the customer (`posagent customer show %s` says why)", w.local_number, w.local_number);
		add(d, "waiting", res,
		    blocked ? hint
		    : assigning ? "HQ holds the customer but has not assigned an account: ask HQ operations whether "
		                  "the customer sync job runs"
		                : "records are not reaching HQ: fix the failing lines above, check that the service runs "
		                  "(systemctl status posagent); `posagent status` shows the last HQ error",
		    "oldest waiting: %s %s, %s for %s (warn over %ld s, fail over %ld s)", diag_kind_name(w.kind),
		    w.kind == DIAG_CUSTOMER && w.local_number[0] ? w.local_number : w.id, w.state, span,
		    cfg->waiting_warn, cfg->waiting_fail);
	}
	memset(&t, 0, sizeof(t));
	if (diag_rejected(st, 1000, rej_line, &t, &total, &e) != 0 ||
	    upd_list_rejected(st, 2, upd_rej_line, &t, &upd_total, &e) != 0) {
		add(d, "rejected", FAIL, "see the database line above", "cannot read rejected records: %s", e.message);
	} else if ((total += upd_total) == 0) {
		add(d, "rejected", PASS, NULL, "no record waits for a person");
	} else {
		char hint[640];
		snprintf(hint, sizeof(hint), "a person must correct them (`posagent status` lists them, `posagent customer"
		         " show CUSTOMER` says why)%s%s%s%s",
		         t.kinds[DIAG_CUSTOMER] ? "; `posagent customer edit CUSTOMER` corrects a customer" : "",
		         t.kinds[DIAG_ADDRESS] ? "; `posagent customer address edit ADDRESS` corrects an address" : "",
		         t.kinds[DIAG_TXN] ? "; record a corrected transaction with `posagent txn record`" : "",
		         upd_total ? "; edit the record again, or drop a refused change with --discard-update" : "");
		add(d, "rejected", WARN, hint, "%lld record%s HQ rejected: %s%s", (long long)total, cli_s(total), t.buf,
		    total > t.shown ? ", ..." : "");
	}
	memset(&t, 0, sizeof(t));
	if (diag_flagged(st, flag_line, &t, &total, &e) != 0)
		add(d, "batches", FAIL, "see the database line above", "cannot read batches: %s", e.message);
	else if (total == 0)
		add(d, "batches", PASS, NULL, "HQ could read every batch");
	else
		add(d, "batches", FAIL,
		    "HQ would not take a batch this register sent (400 unreadable, or 413 too large for one record far "
		    "below its 4 MiB limit): report it to support with `posagent --json status`; the records are kept "
		    "and retried",
		    "%lld batch%s flagged: %s", (long long)total, total == 1 ? "" : "es", t.buf);
}

/* posagent doctor [--json]: runs every check (see the top of this file).
 * Returns 0 when none FAILs, 1 when one does, 130 when interrupted, 64 for
 * a usage error; never 78. */
int cmd_doctor(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *syn = "posagent doctor";
	struct doctor *d = NULL;
	struct store *st = NULL;
	struct sigaction sa;
	char err[512];
	bool url_ok = false, token_ok = false;
	int ch, rc = 1;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'j') {
			c->json = true;
		} else if (ch == 'h') {
			printf("usage: %s\nChecks that this register can sync: PASS, WARN or FAIL per line, with a hint.\n"
			       "Exit 0 when nothing FAILs, else 1.\n", syn);
			return 0;
		} else {
			return cli_usage(c, syn, "unknown option: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage(c, syn, "unexpected argument: %s", argv[optind]);
	d = calloc(1, sizeof(*d));
	if (!d) {
		fprintf(stderr, "posagent: out of memory\n");
		return 1;
	}
	d->cli = c;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (cfg_load(c->cfg_path, &c->cfg, err, sizeof(err)) != 0) {
		add(d, "config", FAIL, "fix the configuration file as the message says, then run doctor again", "%s", err);
		goto report;
	}
	if (diag_config_values(&c->cfg, err, sizeof(err)) != 0) {
		char host[256], port[16], e2[8];
		url_ok = diag_url_host(c->cfg.url, host, sizeof(host), port, sizeof(port), e2, sizeof(e2)) == 0;
		add(d, "config", FAIL, "fix that key in the configuration file, then run doctor again", "%s: %s",
		    c->cfg.path, err);
	} else {
		url_ok = true;
		add(d, "config", PASS, NULL, "%s: store %s, register %s, HQ %s", c->cfg.path, c->cfg.store, c->cfg.reg,
		    c->cfg.url);
	}
	check_token(d, &c->cfg, &token_ok);
	check_ca(d, &c->cfg);
	check_hq(d, &c->cfg, url_ok, token_ok);
	st = check_database(d, &c->cfg);
	check_disk(d, &c->cfg);
	check_queue(d, st, &c->cfg);
report:
	if (c->json) {
		cJSON *doc = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(doc, "checks");
		for (int i = 0; i < d->n; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", d->v[i].name);
			cJSON_AddStringToObject(o, "result", result_names[d->v[i].result]);
			cJSON_AddStringToObject(o, "detail", d->v[i].detail);
			if (d->v[i].hint[0])
				cJSON_AddStringToObject(o, "hint", d->v[i].hint);
			else
				cJSON_AddNullToObject(o, "hint");
			cJSON_AddItemToArray(a, o);
		}
		cli_print_json(doc);
		cJSON_Delete(doc);
	} else {
		printf("\n%d check%s: %d PASS, %d WARN, %d FAIL\n", d->n, cli_s(d->n), d->n - d->warns - d->fails, d->warns,
		       d->fails);
	}
	rc = interrupted ? EX_INTERRUPTED : d->fails ? 1 : 0;
	store_close(st);
	free(d);
	return rc;
}
