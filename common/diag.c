#include "common/diag.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

/* ---- the database --------------------------------------------------------- */

static const char *const cust_states[] = {"pending", "uploaded", "synced", "rejected"};
static const char *const rec_states[] = {"pending", "uploaded", "rejected"};

/* Per kind: its table's total, its count by state, and which state holds
 * most rows (counted as the total less the others). */
static const struct {
	const char *name;
	const char *total_sql;
	const char *state_sql;
	int majority;
} kinds[DIAG_NKINDS] = {
	{"customer", "SELECT count(*) FROM customer", "SELECT count(*) FROM customer WHERE state = ?1", 2},
	{"address", "SELECT count(*) FROM address", "SELECT count(*) FROM address WHERE state = ?1", 2},
	{"transaction", "SELECT count(*) FROM txn", "SELECT count(*) FROM txn WHERE state = ?1", 1},
};

const char *diag_kind_name(enum diag_kind k)
{
	return k < DIAG_NKINDS ? kinds[k].name : "?";
}

const char *const *diag_states(enum diag_kind k, int *n)
{
	if (k == DIAG_CUSTOMER || k == DIAG_ADDRESS) {
		*n = (int)(sizeof(cust_states) / sizeof(cust_states[0]));
		return cust_states;
	}
	*n = (int)(sizeof(rec_states) / sizeof(rec_states[0]));
	return rec_states;
}

/* Runs a constant query with one text parameter (?1, may be NULL when the
 * query has none) and gives the first column of its first row in *out (0
 * when there is no row). Returns 0 or a status with *e. */
static int query_count(struct store *st, const char *sql, const char *text, int64_t *out, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, sql, e);
	int rc = 0, step;

	*out = 0;
	if (!s)
		return e->status;
	if (text)
		sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else if (step != SQLITE_DONE)
		rc = store_fail(st, e, "read counts");
	sqlite3_finalize(s);
	return rc;
}

int diag_count(struct store *st, struct diag_counts *c, struct pa_err *e)
{
	int rc = 0;

	memset(c, 0, sizeof(*c));
	for (int k = 0; k < DIAG_NKINDS; k++) {
		int n;
		const char *const *states = diag_states((enum diag_kind)k, &n);
		int64_t total, others = 0;

		if ((rc = query_count(st, kinds[k].total_sql, NULL, &total, e)))
			return rc;
		for (int i = 0; i < n; i++) {
			if (i == kinds[k].majority)
				continue;
			if ((rc = query_count(st, kinds[k].state_sql, states[i], &c->n[k][i], e)))
				return rc;
			others += c->n[k][i];
		}
		c->n[k][kinds[k].majority] = total - others;
	}
	return 0;
}

/* Copies column col of s (NULL as "") into dst. */
static void col_copy(sqlite3_stmt *s, int col, char *dst, size_t n)
{
	const char *v = store_col_text(s, col);

	util_copy(dst, n, v ? v : "");
}

/* Fills the ids of waiting record row (kind w->kind) for a person: its
 * own id, its customer's local number and state. Returns 0 or a status. */
static int record_ids(struct store *st, int64_t row, struct diag_waiting *w, struct pa_err *e)
{
	static const char *const sql[DIAG_NKINDS] = {
		"SELECT async_id, local_number, NULL FROM customer WHERE id = ?1",
		("SELECT a.async_id, c.local_number, c.state FROM address a LEFT JOIN customer c ON c.id = a.customer_id"
		 " WHERE a.id = ?1"),
		("SELECT t.txn_id, c.local_number, c.state FROM txn t LEFT JOIN customer c ON c.id = t.customer_id"
		 " WHERE t.id = ?1"),
	};
	sqlite3_stmt *s = store_prepare(st, sql[w->kind], e);
	int rc = 0, step;

	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, row);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW) {
		col_copy(s, 0, w->id, sizeof(w->id));
		col_copy(s, 1, w->local_number, sizeof(w->local_number));
		col_copy(s, 2, w->customer_state, sizeof(w->customer_state));
	} else if (step != SQLITE_DONE) {
		rc = store_fail(st, e, "read a waiting record");
	}
	sqlite3_finalize(s);
	return rc;
}

int diag_oldest_waiting(struct store *st, struct diag_waiting *w, struct pa_err *e)
{
	/* Each is the head of an index (state, waiting_since) range. */
	static const struct {
		enum diag_kind kind;
		const char *state;
		const char *sql;
	} q[] = {
		{DIAG_CUSTOMER, "pending", "SELECT waiting_since, id FROM customer WHERE state = 'pending'"
		                           " AND waiting_since IS NOT NULL ORDER BY waiting_since LIMIT 1"},
		{DIAG_CUSTOMER, "uploaded", "SELECT waiting_since, id FROM customer WHERE state = 'uploaded'"
		                            " AND waiting_since IS NOT NULL ORDER BY waiting_since LIMIT 1"},
		{DIAG_ADDRESS, "pending", "SELECT waiting_since, id FROM address WHERE state = 'pending'"
		                          " AND waiting_since IS NOT NULL ORDER BY waiting_since LIMIT 1"},
		{DIAG_ADDRESS, "uploaded", "SELECT waiting_since, id FROM address WHERE state = 'uploaded'"
		                           " AND waiting_since IS NOT NULL ORDER BY waiting_since LIMIT 1"},
		{DIAG_TXN, "pending", "SELECT waiting_since, id FROM txn WHERE state = 'pending'"
		                      " AND waiting_since IS NOT NULL ORDER BY waiting_since LIMIT 1"},
	};
	int64_t best_row = 0;
	int rc = 0;

	memset(w, 0, sizeof(*w));
	for (size_t i = 0; i < sizeof(q) / sizeof(q[0]); i++) {
		sqlite3_stmt *s = store_prepare(st, q[i].sql, e);
		int step;

		if (!s)
			return e->status;
		step = sqlite3_step(s);
		if (step == SQLITE_ROW && (!w->found || sqlite3_column_int64(s, 0) < w->since)) {
			w->found = true;
			w->kind = q[i].kind;
			w->since = sqlite3_column_int64(s, 0);
			best_row = sqlite3_column_int64(s, 1);
			util_copy(w->state, sizeof(w->state), q[i].state);
		} else if (step != SQLITE_ROW && step != SQLITE_DONE) {
			rc = store_fail(st, e, "read waiting records");
		}
		sqlite3_finalize(s);
		if (rc)
			return rc;
	}
	if (w->found)
		rc = record_ids(st, best_row, w, e);
	return rc;
}

int diag_rejected(struct store *st, size_t max, int (*each)(void *ctx, const struct diag_rejected *r),
                  void *ctx, int64_t *total, struct pa_err *e)
{
	static const char *const sql[DIAG_NKINDS] = {
		("SELECT async_id, local_number, last_code, waiting_since FROM customer"
		 " WHERE state = 'rejected' ORDER BY waiting_since LIMIT ?1"),
		("SELECT a.async_id, c.local_number, a.last_code, a.waiting_since FROM address a"
		 " LEFT JOIN customer c ON c.id = a.customer_id WHERE a.state = 'rejected' ORDER BY a.waiting_since LIMIT ?1"),
		("SELECT t.txn_id, c.local_number, t.last_code, t.waiting_since FROM txn t"
		 " LEFT JOIN customer c ON c.id = t.customer_id WHERE t.state = 'rejected' ORDER BY t.waiting_since LIMIT ?1"),
	};
	struct diag_rejected r;
	sqlite3_stmt *s = NULL;
	size_t given = 0;
	bool stopped = false;
	int rc = 0, step = SQLITE_DONE;

	*total = 0;
	for (int k = 0; k < DIAG_NKINDS; k++) {
		int64_t n;

		if ((rc = query_count(st, kinds[k].state_sql, "rejected", &n, e)))
			goto cleanup;
		*total += n;
		if (stopped || given >= max || n == 0)
			continue;
		if (!(s = store_prepare(st, sql[k], e))) {
			rc = e->status;
			goto cleanup;
		}
		sqlite3_bind_int64(s, 1, (int64_t)(max - given));
		while (!stopped && (step = sqlite3_step(s)) == SQLITE_ROW) {
			memset(&r, 0, sizeof(r));
			r.kind = (enum diag_kind)k;
			col_copy(s, 0, r.id, sizeof(r.id));
			col_copy(s, 1, r.local_number, sizeof(r.local_number));
			col_copy(s, 2, r.code, sizeof(r.code));
			r.since = sqlite3_column_int64(s, 3);
			given++;
			stopped = each(ctx, &r) != 0;
		}
		if (!stopped && step != SQLITE_DONE) {
			rc = store_fail(st, e, "read rejected records");
			goto cleanup;
		}
		sqlite3_finalize(s);
		s = NULL;
	}
cleanup:
	sqlite3_finalize(s);
	return rc;
}

/* Distinct customers not synced, per business date of their transactions:
 * a list sorted by date, built from the (few) unsynced customers. */
struct unsynced {
	struct {
		char date[11];
		int64_t n;
	} *v;
	size_t n, cap;
};

/* Fills *u. Returns 0 or a status with *e. */
static int unsynced_by_date(struct store *st, struct unsynced *u, struct pa_err *e)
{
	/* CROSS JOIN keeps customer outside: the unsynced ones are few, and
	 * each reaches its transactions through txn_customer. */
	sqlite3_stmt *s = store_prepare(st,
		"SELECT t.business_date, count(DISTINCT t.customer_id) FROM customer c CROSS JOIN txn t"
		" ON t.customer_id = c.id WHERE c.state IN ('pending', 'uploaded', 'rejected')"
		" GROUP BY t.business_date ORDER BY t.business_date", e);
	int rc = 0, step;

	if (!s)
		return e->status;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		if (u->n == u->cap) {
			size_t cap = u->cap ? u->cap * 2 : 16;
			void *nv = realloc(u->v, cap * sizeof(*u->v));
			if (!nv) {
				rc = err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory");
				goto cleanup;
			}
			u->v = nv;
			u->cap = cap;
		}
		col_copy(s, 0, u->v[u->n].date, sizeof(u->v[u->n].date));
		u->v[u->n].n = sqlite3_column_int64(s, 1);
		u->n++;
	}
	if (step != SQLITE_DONE)
		rc = store_fail(st, e, "read unsynced customers");
cleanup:
	sqlite3_finalize(s);
	return rc;
}

int diag_open_dates(struct store *st, size_t max, int (*each)(void *ctx, const struct diag_date *d), void *ctx,
                    int64_t *total, struct pa_err *e)
{
	sqlite3_stmt *next = NULL, *stmt = NULL, *count = NULL;
	struct unsynced u = {NULL, 0, 0};
	struct diag_date d;
	char after[11] = "";
	size_t given = 0, ui = 0;
	bool stopped = false;
	int rc = 0, step;

	*total = 0;
	if ((rc = unsynced_by_date(st, &u, e)))
		goto cleanup;
	/* The distinct dates, one index seek each (txn_date), instead of a
	 * walk over every transaction. */
	next = store_prepare(st, "SELECT business_date FROM txn WHERE business_date > ?1"
	                         " ORDER BY business_date LIMIT 1", e);
	stmt = store_prepare(st, "SELECT state FROM statement WHERE business_date = ?1", e);
	/* count(*) over an index range steps without reading the entries;
	 * the records not uploaded are few and sought by (date, state). */
	count = store_prepare(st, "SELECT count(*), (SELECT count(*) FROM txn WHERE business_date = ?1 AND state = 'pending')"
	                          " + (SELECT count(*) FROM txn WHERE business_date = ?1 AND state = 'rejected'),"
	                          /* the unsynced addresses are few: from them to the date's sales */
	                          " (SELECT count(*) FROM address a WHERE a.state IN ('pending', 'uploaded', 'rejected')"
	                          "  AND (EXISTS (SELECT 1 FROM txn x WHERE x.delivery_address_id = a.id AND x.business_date = ?1)"
	                          "  OR EXISTS (SELECT 1 FROM txn x WHERE x.invoice_address_id = a.id AND x.business_date = ?1)))"
	                          " FROM txn WHERE business_date = ?1", e);
	if (!next || !stmt || !count) {
		rc = e->status;
		goto cleanup;
	}
	for (;;) {
		sqlite3_reset(next);
		sqlite3_bind_text(next, 1, after, -1, SQLITE_TRANSIENT);
		step = sqlite3_step(next);
		if (step == SQLITE_DONE)
			break;
		if (step != SQLITE_ROW) {
			rc = store_fail(st, e, "read business dates");
			goto cleanup;
		}
		memset(&d, 0, sizeof(d));
		col_copy(next, 0, d.date, sizeof(d.date));
		if (!d.date[0] || strcmp(d.date, after) <= 0)
			break; /* not a date: cannot happen with valid data; do not loop */
		util_copy(after, sizeof(after), d.date);
		sqlite3_reset(stmt);
		sqlite3_bind_text(stmt, 1, d.date, -1, SQLITE_TRANSIENT);
		step = sqlite3_step(stmt);
		if (step == SQLITE_ROW) {
			col_copy(stmt, 0, d.statement, sizeof(d.statement));
			if (strcmp(d.statement, "posted") == 0)
				continue;
		} else if (step != SQLITE_DONE) {
			rc = store_fail(st, e, "read statements");
			goto cleanup;
		}
		++*total;
		if (stopped || given >= max)
			continue;
		sqlite3_reset(count);
		sqlite3_bind_text(count, 1, d.date, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(count) != SQLITE_ROW) {
			rc = store_fail(st, e, "count transactions");
			goto cleanup;
		}
		d.transactions = sqlite3_column_int64(count, 0);
		d.not_uploaded = sqlite3_column_int64(count, 1);
		d.unsynced_addresses = sqlite3_column_int64(count, 2);
		while (ui < u.n && strcmp(u.v[ui].date, d.date) < 0)
			ui++;
		if (ui < u.n && strcmp(u.v[ui].date, d.date) == 0)
			d.unsynced = u.v[ui].n;
		given++;
		stopped = each(ctx, &d) != 0;
	}
cleanup:
	sqlite3_finalize(next);
	sqlite3_finalize(stmt);
	sqlite3_finalize(count);
	free(u.v);
	return rc;
}

int diag_flagged(struct store *st, int (*each)(void *ctx, const struct diag_flagged *f), void *ctx,
                 int64_t *total, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT batch_id, records, flagged FROM batch"
	                                    " WHERE flagged IS NOT NULL ORDER BY id", e);
	struct diag_flagged f;
	bool stopped = false;
	int rc = 0, step;

	*total = 0;
	if (!s)
		return e->status;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		++*total;
		if (stopped)
			continue;
		memset(&f, 0, sizeof(f));
		col_copy(s, 0, f.batch_id, sizeof(f.batch_id));
		f.records = sqlite3_column_int64(s, 1);
		col_copy(s, 2, f.reason, sizeof(f.reason));
		stopped = each(ctx, &f) != 0;
	}
	if (step != SQLITE_DONE)
		rc = store_fail(st, e, "read batches");
	sqlite3_finalize(s);
	return rc;
}

int diag_meta(struct store *st, struct diag_meta *m, struct pa_err *e)
{
	int rc;

	memset(m, 0, sizeof(*m));
	if ((rc = store_meta_get(st, "last_upload", m->last_upload, sizeof(m->last_upload), e)) ||
	    (rc = store_meta_get(st, "last_download", m->last_download, sizeof(m->last_download), e)) ||
	    (rc = store_meta_get(st, "last_error", m->last_error, sizeof(m->last_error), e)) ||
	    (rc = store_meta_get(st, "last_error_at", m->last_error_at, sizeof(m->last_error_at), e)) ||
	    (rc = store_meta_get(st, "next_retry", m->next_retry, sizeof(m->next_retry), e)))
		return rc;
	return 0;
}

void diag_span(int64_t secs, char *out, size_t outlen)
{
	if (secs < 0)
		secs = 0;
	if (secs < 60)
		snprintf(out, outlen, "%lld s", (long long)secs);
	else if (secs < 3600)
		snprintf(out, outlen, "%lld min", (long long)(secs / 60));
	else if (secs < 86400)
		snprintf(out, outlen, "%lld h %02lld min", (long long)(secs / 3600), (long long)(secs % 3600 / 60));
	else
		snprintf(out, outlen, "%lld d %02lld h", (long long)(secs / 86400), (long long)(secs % 86400 / 3600));
}

/* ---- configuration ---------------------------------------------------------- */

int diag_config_values(const struct cfg *c, char *err, size_t errlen)
{
	char host[256], port[16];

	if (cfg_check_values(c, err, errlen) != 0)
		return -1;
	return diag_url_host(c->url, host, sizeof(host), port, sizeof(port), err, errlen);
}

/* ---- reaching HQ -------------------------------------------------------------- */

int diag_url_host(const char *url, char *host, size_t hostlen, char *port, size_t portlen, char *err,
                  size_t errlen)
{
	const char *a, *end, *h, *hend, *p = NULL;
	size_t n;

	host[0] = port[0] = '\0';
	if (strncmp(url, "https://", 8) != 0) {
		snprintf(err, errlen, "[hq] url must be an https:// URL (https only)");
		return -1;
	}
	a = url + 8;
	end = a + strcspn(a, "/?#");
	if (memchr(a, '@', (size_t)(end - a))) {
		snprintf(err, errlen, "[hq] url must not hold a user name or password");
		return -1;
	}
	if (*a == '[') {
		h = a + 1;
		hend = memchr(h, ']', (size_t)(end - h));
		if (!hend) {
			snprintf(err, errlen, "[hq] url: unclosed [ in the host");
			return -1;
		}
		if (hend + 1 < end) {
			if (hend[1] != ':') {
				snprintf(err, errlen, "[hq] url: unexpected text after ]");
				return -1;
			}
			p = hend + 2;
		}
	} else {
		h = a;
		hend = memchr(a, ':', (size_t)(end - a));
		if (hend)
			p = hend + 1;
		else
			hend = end;
	}
	n = (size_t)(hend - h);
	if (n == 0 || n >= hostlen) {
		snprintf(err, errlen, "[hq] url: %s host name", n ? "too long a" : "no");
		return -1;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	if (!p) {
		util_copy(port, portlen, "443");
		return 0;
	}
	n = (size_t)(end - p);
	if (n == 0 || n > 5 || n >= portlen || strspn(p, "0123456789") < n) {
		snprintf(err, errlen, "[hq] url: the port must be a number");
		return -1;
	}
	memcpy(port, p, n);
	port[n] = '\0';
	if (strtol(port, NULL, 10) < 1 || strtol(port, NULL, 10) > 65535) {
		snprintf(err, errlen, "[hq] url: port %s is out of range", port);
		return -1;
	}
	return 0;
}

/* A name lookup on a thread of its own, so that it can be given up on.
 * The thread and the caller share it; whoever lets go of it last frees it
 * (a lookup given up on runs to its end and frees itself). */
struct dns_req {
	pthread_mutex_t mu;
	pthread_cond_t done_cv;
	int refs;                 /* 2 while both hold it */
	bool done;
	int rc;                   /* getaddrinfo's result */
	struct addrinfo *res;
	char host[256];
	char port[16];
};

/* Drops one hold on q; frees it (and its result) with the last. */
static void dns_release(struct dns_req *q)
{
	int left;

	pthread_mutex_lock(&q->mu);
	left = --q->refs;
	pthread_mutex_unlock(&q->mu);
	if (left > 0)
		return;
	if (q->res)
		freeaddrinfo(q->res);
	pthread_cond_destroy(&q->done_cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

/* The lookup thread: resolves, says so, lets go. */
static void *dns_thread(void *arg)
{
	struct dns_req *q = arg;
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_family = AF_UNSPEC;
	rc = getaddrinfo(q->host, q->port, &hints, &res);
	pthread_mutex_lock(&q->mu);
	q->rc = rc;
	q->res = res;
	q->done = true;
	pthread_cond_signal(&q->done_cv);
	pthread_mutex_unlock(&q->mu);
	dns_release(q);
	return NULL;
}

int diag_resolve(const char *host, const char *port, int timeout_ms, char out[][64], size_t max, size_t *n,
                 char *err, size_t errlen)
{
	struct dns_req *q = calloc(1, sizeof(*q));
	pthread_condattr_t ca;
	pthread_t th;
	struct timespec until;
	struct addrinfo *ai;
	bool started = false, done;
	int rc = -1;

	*n = 0;
	if (!q) {
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	util_copy(q->host, sizeof(q->host), host);
	util_copy(q->port, sizeof(q->port), port);
	q->refs = 2;
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->done_cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&th, NULL, dns_thread, q) != 0) {
		snprintf(err, errlen, "cannot look up %s: no thread", host);
		q->refs = 1;
		goto cleanup;
	}
	started = true;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&q->mu);
	while (!q->done && pthread_cond_timedwait(&q->done_cv, &q->mu, &until) != ETIMEDOUT)
		;
	done = q->done;
	pthread_mutex_unlock(&q->mu);
	if (!done) {
		pthread_detach(th); /* it finishes and frees q on its own */
		started = false;
		snprintf(err, errlen, "looking up %s timed out after %d ms", host, timeout_ms);
		goto cleanup;
	}
	pthread_join(th, NULL);
	started = false;
	if (q->rc != 0) {
		snprintf(err, errlen, "%s cannot be resolved: %s", host, gai_strerror(q->rc));
		goto cleanup;
	}
	for (ai = q->res; ai && *n < max; ai = ai->ai_next) {
		const void *addr = NULL;

		if (ai->ai_family == AF_INET)
			addr = &((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr;
		else if (ai->ai_family == AF_INET6)
			addr = &((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr;
		if (addr && inet_ntop(ai->ai_family, addr, out[*n], 64))
			++*n;
	}
	if (*n == 0) {
		snprintf(err, errlen, "%s resolves to no usable address", host);
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (started)
		pthread_join(th, NULL);
	if (q)
		dns_release(q);
	return rc;
}

/* Milliseconds left until deadline (util_mono seconds), at least 0. */
static int ms_left(double deadline)
{
	double left = (deadline - util_mono()) * 1000.0;

	return left <= 0 ? 0 : (int)left;
}

/* Connects a non-blocking TCP socket to one numeric address within
 * timeout_ms. Returns 0, or an errno value (ETIMEDOUT when time ran out). */
static int connect_one(const char *addr, const char *port, int timeout_ms)
{
	struct addrinfo hints, *ai = NULL;
	struct pollfd pfd;
	socklen_t len = sizeof(int);
	double deadline = util_mono() + timeout_ms / 1000.0;
	int fd = -1, rc = EINVAL, soerr = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(addr, port, &hints, &ai) != 0 || !ai)
		goto cleanup;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = errno;
		goto cleanup;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		rc = 0;
		goto cleanup;
	}
	if (errno != EINPROGRESS) {
		rc = errno;
		goto cleanup;
	}
	for (;;) {
		int ms = ms_left(deadline), p;

		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		p = poll(&pfd, 1, ms);
		if (p > 0)
			break;
		if (p == 0 || ms == 0) {
			rc = ETIMEDOUT;
			goto cleanup;
		}
		if (errno != EINTR) {
			rc = errno;
			goto cleanup;
		}
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
		soerr = errno;
	rc = soerr;
cleanup:
	if (fd >= 0)
		close(fd);
	if (ai)
		freeaddrinfo(ai);
	return rc;
}

int diag_tcp_connect(const char addrs[][64], size_t n, const char *port, int timeout_ms, size_t *used, char *err,
                     size_t errlen)
{
	double deadline = util_mono() + timeout_ms / 1000.0;
	int last = EHOSTUNREACH;

	*used = 0;
	for (size_t i = 0; i < n; i++) {
		int ms = ms_left(deadline);

		if (ms == 0) {
			last = ETIMEDOUT;
			break;
		}
		last = connect_one(addrs[i], port, ms);
		if (last == 0) {
			*used = i;
			return 0;
		}
	}
	if (last == ETIMEDOUT)
		snprintf(err, errlen, "cannot connect to port %s: no answer within %d ms", port, timeout_ms);
	else
		snprintf(err, errlen, "cannot connect to port %s: %s", port, strerror(last));
	return -1;
}

/* The value of one base64 character, -1 for none. */
static int b64(int ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* True when the base64 text s[0..len) (whitespace allowed) decodes to a
 * DER SEQUENCE whose length matches what was decoded. */
static bool pem_body_ok(const char *s, size_t len)
{
	unsigned char head[6];
	size_t out = 0, quads = 0;
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	size_t need;

	for (size_t i = 0; i < len; i++) {
		int ch = (unsigned char)s[i], v;

		if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
			continue;
		if (ch == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b64(ch)) < 0)
			return false;
		quads++;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (out < sizeof(head))
				head[out] = (unsigned char)(acc >> bits);
			out++;
		}
	}
	if ((quads + (size_t)pad) % 4 != 0 || pad > 2 || out < 4 || head[0] != 0x30)
		return false;
	/* DER length: short form, or long form in 1 to 4 bytes */
	if (head[1] < 0x80) {
		need = 2 + (size_t)head[1];
	} else {
		int nb = head[1] & 0x7f;
		if (nb < 1 || nb > 4 || out < (size_t)(2 + nb))
			return false;
		need = 0;
		for (int i = 0; i < nb; i++)
			need = need << 8 | head[2 + i];
		need += 2 + (size_t)nb;
	}
	return need == out;
}

int diag_ca_file(const char *path, int *certs, char *err, size_t errlen)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
	FILE *f = NULL;
	char *buf = NULL;
	size_t len;
	struct stat sb;
	const char *p;
	int rc = -1;

	*certs = 0;
	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s cannot be read: %s", path, strerror(errno));
		goto cleanup;
	}
	if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		goto cleanup;
	}
	if (sb.st_size > 4 * 1024 * 1024) {
		snprintf(err, errlen, "%s is larger than 4 MiB: not a CA bundle", path);
		goto cleanup;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		goto cleanup;
	}
	len = fread(buf, 1, (size_t)sb.st_size, f);
	if (ferror(f)) {
		snprintf(err, errlen, "%s cannot be read: %s", path, strerror(errno));
		goto cleanup;
	}
	buf[len] = '\0';
	for (p = buf; (p = strstr(p, begin)) != NULL;) {
		const char *body = p + sizeof(begin) - 1, *stop = strstr(body, end);

		if (!stop || !pem_body_ok(body, (size_t)(stop - body))) {
			snprintf(err, errlen, "%s: certificate %d is damaged (not well-formed PEM)", path, *certs + 1);
			goto cleanup;
		}
		++*certs;
		p = stop + sizeof(end) - 1;
	}
	if (*certs == 0) {
		snprintf(err, errlen, "%s holds no PEM certificate", path);
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (f)
		fclose(f);
	free(buf);
	return rc;
}
