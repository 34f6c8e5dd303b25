#include "common/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define MET_CODE_LIMIT 600 /* statuses 0..599 are counted one by one */
#define META_KEY "hq_requests"

/* This process's request counts not yet flushed, by status (0..599). */
static int64_t pending_counts[MET_CODE_LIMIT];

void met_count_request(long status)
{
	long i = status >= 0 && status < MET_CODE_LIMIT ? status : MET_CODE_LIMIT - 1;

	__atomic_add_fetch(&pending_counts[i], 1, __ATOMIC_RELAXED);
}

/* Adds n requests of code to the sorted list in m (the last slot takes
 * what does not fit, as code -1). */
static void add_code(struct met_snapshot *m, int code, int64_t n)
{
	size_t i;

	if (n <= 0)
		return;
	for (i = 0; i < m->ncodes && m->requests[i].code < code; i++)
		;
	if (i < m->ncodes && m->requests[i].code == code) {
		m->requests[i].n += n;
		return;
	}
	if (m->ncodes == MET_MAX_CODES) { /* full: fold into "other" (-1, first) */
		if (m->requests[0].code != -1)
			m->requests[0].code = -1;
		m->requests[0].n += n;
		return;
	}
	memmove(&m->requests[i + 1], &m->requests[i], (m->ncodes - i) * sizeof(m->requests[0]));
	m->requests[i].code = code;
	m->requests[i].n = n;
	m->ncodes++;
}

/* Parses the stored totals "200=12,503=3" into m (bad parts skipped). */
static void parse_totals(const char *text, struct met_snapshot *m)
{
	const char *p = text;

	while (*p) {
		char *end;
		long code = strtol(p, &end, 10);
		long long n;
		if (end == p || *end != '=')
			break;
		p = end + 1;
		n = strtoll(p, &end, 10);
		if (end == p)
			break;
		if (code >= -1 && code < MET_CODE_LIMIT)
			add_code(m, (int)code, (int64_t)n);
		p = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
}

/* Writes m's request counts as "200=12,503=3" into out. Returns 0, or -1
 * when out is too small. */
static int format_totals(const struct met_snapshot *m, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < m->ncodes; i++) {
		int w = snprintf(out + used, len - used, "%s%d=%lld", i ? "," : "", m->requests[i].code,
		                 (long long)m->requests[i].n);
		if (w < 0 || (size_t)w >= len - used)
			return -1;
		used += (size_t)w;
	}
	return 0;
}

/* Adds this process's unflushed counts to m; take: zero them as well
 * (into taken[], so that a failed flush can put them back). */
static void add_pending(struct met_snapshot *m, bool take, int64_t *taken)
{
	for (int i = 0; i < MET_CODE_LIMIT; i++) {
		int64_t n = take ? __atomic_exchange_n(&pending_counts[i], 0, __ATOMIC_RELAXED)
		                 : __atomic_load_n(&pending_counts[i], __ATOMIC_RELAXED);
		if (taken)
			taken[i] = n;
		add_code(m, i == MET_CODE_LIMIT - 1 ? -1 : i, n);
	}
}

int met_flush_requests(struct store *st, struct pa_err *e)
{
	static int64_t taken[MET_CODE_LIMIT];
	struct met_snapshot m;
	char text[1024];
	bool any = false;
	int rc;

	for (int i = 0; i < MET_CODE_LIMIT && !any; i++)
		any = __atomic_load_n(&pending_counts[i], __ATOMIC_RELAXED) != 0;
	if (!any)
		return 0;
	memset(&m, 0, sizeof(m));
	if ((rc = store_begin(st, true, e)))
		return rc;
	if ((rc = store_meta_get(st, META_KEY, text, sizeof(text), e)))
		goto cleanup;
	parse_totals(text, &m);
	add_pending(&m, true, taken);
	if (format_totals(&m, text, sizeof(text)) != 0) {
		rc = err_set(e, EX_SOFTWARE, "internal", NULL, "request counts do not fit");
		goto cleanup;
	}
	if ((rc = store_meta_set(st, META_KEY, text, e)) || (rc = store_commit(st, e)))
		goto cleanup;
	memset(taken, 0, sizeof(taken));
	return 0;
cleanup:
	store_rollback(st);
	for (int i = 0; i < MET_CODE_LIMIT; i++) /* keep them for the next try */
		if (taken[i])
			__atomic_add_fetch(&pending_counts[i], taken[i], __ATOMIC_RELAXED);
	memset(taken, 0, sizeof(taken));
	return rc;
}

/* diag callback that keeps nothing: only the totals are wanted. */
static int skip_rejected(void *ctx, const struct diag_rejected *r)
{
	(void)ctx;
	(void)r;
	return 1;
}

static int skip_date(void *ctx, const struct diag_date *d)
{
	(void)ctx;
	(void)d;
	return 1;
}

/* A stored RFC 3339 time as unix time, 0 when empty or unreadable. */
static time_t stored_time(const char *t)
{
	time_t v = t[0] ? util_parse_rfc3339(t) : (time_t)-1;

	return v == (time_t)-1 ? 0 : v;
}

int met_collect(struct store *st, struct met_snapshot *m, struct pa_err *e)
{
	struct diag_waiting w;
	struct diag_meta dm;
	char text[1024], fails[32];
	int rc;

	memset(m, 0, sizeof(*m));
	m->now = time(NULL);
	if ((rc = store_begin(st, false, e)))
		return rc;
	if ((rc = diag_count(st, &m->counts, e)) || (rc = diag_oldest_waiting(st, &w, e)) ||
	    (rc = diag_meta(st, &dm, e)) || (rc = diag_rejected(st, 0, skip_rejected, NULL, &m->rejected, e)) ||
	    (rc = diag_open_dates(st, 0, skip_date, NULL, &m->open_dates, e)) ||
	    (rc = store_meta_get(st, "consecutive_failures", fails, sizeof(fails), e)) ||
	    (rc = store_meta_get(st, META_KEY, text, sizeof(text), e)))
		goto cleanup;
	if (w.found && m->now > w.since)
		m->oldest_age = (int64_t)(m->now - w.since);
	m->last_upload = stored_time(dm.last_upload);
	m->last_download = stored_time(dm.last_download);
	m->failures = strtoll(fails, NULL, 10);
	parse_totals(text, m);
	add_pending(m, false, NULL);
cleanup:
	store_rollback(st); /* a read: nothing to keep */
	return rc;
}

/* Appends printf output to buf at *used. Returns 0, or -1 when it does
 * not fit. */
__attribute__((format(printf, 4, 5))) static int put(char *buf, size_t len, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*used >= len)
		return -1;
	va_start(ap, fmt);
	w = vsnprintf(buf + *used, len - *used, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= len - *used)
		return -1;
	*used += (size_t)w;
	return 0;
}

/* HELP and TYPE lines of one metric. */
static int head(char *buf, size_t len, size_t *used, const char *name, const char *type, const char *help)
{
	return put(buf, len, used, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The one-sample gauges of m, after the queue. */
static int format_gauges(const struct met_snapshot *m, const char *lb, char *buf, size_t len, size_t *used)
{
	static const struct {
		const char *name, *help;
	} g[] = {
		{"posagent_oldest_waiting_seconds", "Age of the oldest record waiting for HQ (0 when none)."},
		{"posagent_last_upload_timestamp_seconds", "Unix time of the last successful upload (0 never)."},
		{"posagent_last_download_timestamp_seconds", "Unix time of the last successful download (0 never)."},
		{"posagent_consecutive_failures", "HQ requests failed in a row since the last success."},
		{"posagent_rejected_records", "Records HQ rejected, waiting for a person."},
		{"posagent_open_business_dates", "Business dates with sales here and no posted statement."},
	};
	const int64_t v[] = {m->oldest_age, (int64_t)m->last_upload, (int64_t)m->last_download,
	                     m->failures,   m->rejected,            m->open_dates};

	for (size_t i = 0; i < sizeof(g) / sizeof(g[0]); i++)
		if (head(buf, len, used, g[i].name, "gauge", g[i].help) ||
		    put(buf, len, used, "%s{%s} %lld\n", g[i].name, lb, (long long)v[i]))
			return -1;
	return 0;
}

int met_format(const struct met_snapshot *m, const char *store_id, const char *reg, char *buf, size_t len)
{
	char lb[96];
	size_t used = 0;

	if (len == 0)
		return -1;
	buf[0] = '\0';
	/* The ids are [A-Za-z0-9]{1,32} (cfg_load): nothing to escape. */
	snprintf(lb, sizeof(lb), "store=\"%s\",register=\"%s\"", store_id, reg);
	if (head(buf, len, &used, "posagent_info", "gauge", "The register's ids and the agent's version (always 1).") ||
	    put(buf, len, &used, "posagent_info{%s,version=\"%s\"} 1\n", lb, POSAGENT_VERSION) ||
	    head(buf, len, &used, "posagent_queue_records", "gauge", "Records on this register by kind and sync state."))
		return -1;
	for (int k = 0; k < DIAG_NKINDS; k++) {
		int n;
		const char *const *states = diag_states((enum diag_kind)k, &n);
		for (int i = 0; i < n; i++)
			if (put(buf, len, &used, "posagent_queue_records{%s,kind=\"%s\",state=\"%s\"} %lld\n", lb,
			        diag_kind_name((enum diag_kind)k), states[i], (long long)m->counts.n[k][i]))
				return -1;
	}
	if (format_gauges(m, lb, buf, len, &used) ||
	    head(buf, len, &used, "posagent_hq_requests_total", "counter",
	         "HQ requests by HTTP status (none: no reply, network or TLS; other: outside 100-598)."))
		return -1;
	for (size_t i = 0; i < m->ncodes; i++) {
		char code[16];
		if (m->requests[i].code == 0)
			util_copy(code, sizeof(code), "none");
		else if (m->requests[i].code < 0)
			util_copy(code, sizeof(code), "other");
		else
			snprintf(code, sizeof(code), "%d", m->requests[i].code);
		if (put(buf, len, &used, "posagent_hq_requests_total{%s,status=\"%s\"} %lld\n", lb, code,
		        (long long)m->requests[i].n))
			return -1;
	}
	return (int)used;
}

int met_write_file(const char *path, const char *text, size_t len, char *err, size_t errlen)
{
	char tmp[CFG_PATH_MAX + 32];
	int fd = -1, rc = -1;
	size_t off = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "metrics file name too long");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		int no = errno;
		snprintf(err, errlen, "cannot write %s: %s%s", tmp, strerror(no),
		         no == ENOENT  ? " (is prometheus-node-exporter installed? [metrics] textfile empty turns this off)"
		         : no == EACCES ? " (let the service write there, e.g. setfacl -m u:posagent:rwx on the folder)"
		                        : "");
		goto cleanup;
	}
	if (fchmod(fd, 0644) != 0) { /* whatever the umask: the collector reads it as another user */
		snprintf(err, errlen, "cannot make %s readable: %s", tmp, strerror(errno));
		goto cleanup;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
			goto cleanup;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	return rc;
}

int met_update(struct store *st, const struct cfg *cfg, char *err, size_t errlen)
{
	struct met_snapshot m;
	struct pa_err e;
	char *buf = NULL;
	size_t cap = 16384;
	int n, rc = -1;

	memset(&e, 0, sizeof(e));
	if (met_flush_requests(st, &e) || met_collect(st, &m, &e)) {
		snprintf(err, errlen, "metrics: %s", e.message);
		return -1;
	}
	if (!cfg->metrics_textfile[0])
		return 0;
	if (!(buf = malloc(cap))) {
		snprintf(err, errlen, "metrics: out of memory");
		goto cleanup;
	}
	if ((n = met_format(&m, cfg->store, cfg->reg, buf, cap)) < 0) {
		snprintf(err, errlen, "metrics: exposition over %zu bytes", cap);
		goto cleanup;
	}
	rc = met_write_file(cfg->metrics_textfile, buf, (size_t)n, err, errlen);
cleanup:
	free(buf);
	return rc;
}

void met_loop(const struct cfg *cfg, volatile sig_atomic_t *stop)
{
	struct store *st = NULL;
	struct pa_err e;
	char err[512], last[512] = "";

	if (store_open(cfg->database, false, &st, &e)) {
		log_warn("metrics: %s", e.message);
		return;
	}
	store_identity(st, cfg->store, cfg->reg, cfg->currency);
	for (;;) {
		bool ending = *stop != 0;
		if (met_update(st, cfg, err, sizeof(err)) != 0) {
			if (strcmp(err, last) != 0)
				log_warn("%s", err); /* once until it changes */
			util_copy(last, sizeof(last), err);
		} else if (last[0]) {
			log_info("metrics: written again");
			last[0] = '\0';
		}
		if (ending)
			break;
		util_sleep((double)cfg->metrics_interval, stop);
	}
	store_close(st);
}
