/*
 * hq_http: the libmicrohttpd glue. One thread per connection (so a long
 * poll or an injected delay blocks only its own connection), TLS through
 * GnuTLS, loopback sockets made by hq_net.
 *
 * A request body is read whole before anything is decided, with
 * Content-Encoding gzip inflated on the fly; more than 4 MiB after
 * inflation is answered 413 without keeping more than that in memory (the
 * rest is read and dropped, up to 64 MiB, then the connection is closed).
 * A Content-Length over 4 MiB with "Expect: 100-continue" is answered 413
 * at once, so that the client never sends the body. Other encodings: 415.
 *
 * Then the injected fault, if one is queued for this request, and the
 * handler: hq_admin for /_admin/, hq_api for the rest. Every reply gets
 * HQ's own Date header (its clock may be shifted).
 */
#include "tests/hq/hq.h"
#include "tests/hq/hq_tls.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

static const char garbage[] = "\x1f\x8b<html>\xff\xfe Service Unavailable {\"changes\": [tru";

struct http_req {
	char method[16];
	char *path;      /* decoded path without the query */
	bool admin;      /* under /_admin/ */
	bool gzip;       /* Content-Encoding: gzip */
	bool zinit;      /* zs is initialized */
	bool zend;       /* the gzip stream ended */
	z_stream zs;
	char *buf;       /* the body (after inflation), NUL-terminated */
	size_t len, cap; /* its length and allocation (cap includes the NUL) */
	size_t raw;      /* bytes received on the wire */
	unsigned early;  /* a status decided while reading (413, 415, 400) */
	const char *early_code, *early_msg;
	double t0;       /* monotonic start, for the log */
};

const char *http_header(const struct hq_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct hq_request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

static void set_early(struct http_req *r, unsigned status, const char *code, const char *msg)
{
	if (r->early)
		return;
	r->early = status;
	r->early_code = code;
	r->early_msg = msg;
}

/* append: adds n bytes to the body; past HQ_MAX_BODY it stops keeping
 * them and marks the request 413. */
static void append(struct http_req *r, const char *data, size_t n)
{
	if (r->early)
		return;
	if (r->len + n > HQ_MAX_BODY) {
		set_early(r, 413, "body_too_large", "the body is larger than 4 MiB");
		return;
	}
	if (r->len + n + 1 > r->cap) {
		size_t ncap = r->cap ? r->cap : 16384;
		char *nb;
		while (ncap < r->len + n + 1)
			ncap *= 2;
		if (ncap > HQ_MAX_BODY + 1)
			ncap = HQ_MAX_BODY + 1;
		nb = realloc(r->buf, ncap);
		if (!nb) {
			set_early(r, 503, "out_of_memory", "HQ is out of memory");
			return;
		}
		r->buf = nb;
		r->cap = ncap;
	}
	memcpy(r->buf + r->len, data, n);
	r->len += n;
	r->buf[r->len] = '\0';
}

/* inflate_chunk: feeds n compressed bytes through zlib into the body. */
static void inflate_chunk(struct http_req *r, const char *data, size_t n)
{
	char out[16384];

	r->zs.next_in = (Bytef *)(uintptr_t)data;
	r->zs.avail_in = (uInt)n;
	while (r->zs.avail_in > 0 && !r->early) {
		int rc;

		if (r->zend) {
			/* another gzip member follows (RFC 1952 allows several) */
			if (inflateReset(&r->zs) != Z_OK)
				break;
			r->zend = false;
		}
		r->zs.next_out = (Bytef *)out;
		r->zs.avail_out = sizeof(out);
		rc = inflate(&r->zs, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
			set_early(r, 400, "invalid_encoding", "the gzip body is corrupt");
			return;
		}
		append(r, out, sizeof(out) - r->zs.avail_out);
		if (rc == Z_STREAM_END)
			r->zend = true;
		else if (rc == Z_BUF_ERROR && r->zs.avail_out != 0)
			break;
	}
}

/* first_call: the headers are in; sets up reading the body. Returns true
 * when the request must be answered 413 at once (see the file head). */
static bool first_call(struct MHD_Connection *conn, struct http_req *r)
{
	const char *ce = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Encoding");
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
	const char *expect = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Expect");
	unsigned long long length = 0;
	char *end;

	if (ce && (!strcasecmp(ce, "gzip") || !strcasecmp(ce, "x-gzip"))) {
		r->gzip = true;
		if (inflateInit2(&r->zs, 16 + MAX_WBITS) != Z_OK)
			set_early(r, 503, "out_of_memory", "HQ is out of memory");
		else
			r->zinit = true;
	} else if (ce && *ce && strcasecmp(ce, "identity") != 0) {
		set_early(r, 415, "unsupported_encoding", "Content-Encoding: gzip or none");
	}
	if (cl)
		length = strtoull(cl, &end, 10);
	if (!r->gzip && length > HQ_MAX_BODY) {
		set_early(r, 413, "body_too_large", "the body is larger than 4 MiB");
		return expect && !strcasecmp(expect, "100-continue");
	}
	return false;
}

/* on_body: one piece of the request body. Returns false when the client
 * sent so much that the connection is to be closed. */
static bool on_body(struct http_req *r, const char *data, size_t n)
{
	r->raw += n;
	if (r->raw > HQ_MAX_DISCARD)
		return false;
	if (r->early)
		return true;
	if (r->gzip)
		inflate_chunk(r, data, n);
	else
		append(r, data, n);
	return true;
}

/* retry_after_value: "date:+N" becomes the HTTP-date N seconds after HQ's
 * own Date; anything else is sent as it is. */
static void retry_after_value(const char *spec, char out[64])
{
	if (!strncmp(spec, "date:", 5)) {
		long n = strtol(spec + 5, NULL, 10);
		clock_http_date(clock_now() + n, out);
	} else {
		util_copy(out, 64, spec);
	}
}

static void log_line(const struct http_req *r, const char *outcome)
{
	char now[21];

	util_rfc3339(time(NULL), now);
	fprintf(stderr, "%s %s %s %s %.0fms\n", now, r->method, r->path, outcome,
	        (util_mono() - r->t0) * 1000.0);
}

/* send_reply: queues *rp (its body given away to MHD) and counts it. */
static enum MHD_Result send_reply(struct MHD_Connection *conn, struct http_req *r,
                                  struct hq_reply *rp)
{
	struct MHD_Response *resp;
	char date[40], ra[64], outcome[16];
	enum MHD_Result ret;

	if (rp->status == 0)
		reply_error(rp, 500, "internal_error", "no reply");
	if (rp->body) {
		resp = MHD_create_response_from_buffer(rp->len, rp->body, MHD_RESPMEM_MUST_FREE);
		if (resp)
			rp->body = NULL;
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (!resp) {
		reply_clear(rp);
		return MHD_NO;
	}
	clock_http_date(clock_now(), date);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_DATE, date);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
	                        rp->content_type ? rp->content_type : "application/json");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (rp->retry_after[0]) {
		retry_after_value(rp->retry_after, ra);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
	}
	if (rp->replayed)
		MHD_add_response_header(resp, "Idempotent-Replayed", "true");
	if (rp->allow[0])
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rp->allow);
	if (rp->status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	ret = MHD_queue_response(conn, rp->status, resp);
	MHD_destroy_response(resp);
	snprintf(outcome, sizeof(outcome), "%u", rp->status);
	if (!r->admin)
		stats_count(r->method, r->path, outcome);
	log_line(r, outcome);
	reply_clear(rp);
	return ret;
}

/* close_unanswered: ends the connection without a reply (reset: with a
 * TCP RST), counting it under outcome. */
static enum MHD_Result close_unanswered(struct MHD_Connection *conn, struct http_req *r,
                                        bool reset, const char *outcome)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

	if (reset && ci)
		net_set_reset(ci->connect_fd);
	stats_count(r->method, r->path, outcome);
	log_line(r, outcome);
	return MHD_NO;
}

/* apply_fault: the part of fault f that replaces handling. Returns true
 * with *rp filled (status, garbage) or *reset set (reset), false when the
 * request is to be handled (no fault, delay, drop_after_commit). */
static bool apply_fault(const struct fault *f, struct hq_reply *rp, bool *reset)
{
	*reset = false;
	switch (f->kind) {
	case FAULT_STATUS:
		if (f->body)
			reply_raw(rp, f->status, f->body, strlen(f->body), NULL);
		else
			reply_error(rp, f->status, f->status == 429 ? "too_many_requests"
			                           : f->status == 503 ? "unavailable"
			                                              : "injected_fault",
			            "fault injected by the test (status %u)", f->status);
		util_copy(rp->retry_after, sizeof(rp->retry_after), f->retry_after);
		return true;
	case FAULT_GARBAGE:
		reply_raw(rp, 200, garbage, sizeof(garbage) - 1, NULL);
		return true;
	case FAULT_RESET:
		*reset = true;
		return true;
	default:
		return false;
	}
}

/* handle_limited: api_handle inside the capacity limit (hq_limit): a
 * request over it is answered 503 with Retry-After, unhandled; otherwise
 * it is handled holding its slot. /v1/health is never limited; a GET of
 * changes counts against the rate but not in flight (a long poll waiting
 * holds no work). */
static void handle_limited(const struct http_req *r, struct hq_request *rq, struct hq_reply *rp)
{
	size_t n = strlen(r->path);
	bool counted = !(strcmp(r->method, "GET") == 0 && n >= 8 && strcmp(r->path + n - 8, "/changes") == 0);

	if (strcmp(r->path, "/v1/health") == 0) {
		api_handle(rq, rp);
		return;
	}
	if (!limit_enter(counted)) {
		reply_error(rp, 503, "unavailable", "HQ is at its capacity limit; try again later");
		snprintf(rp->retry_after, sizeof(rp->retry_after), "%ld", limit_retry_after());
		return;
	}
	api_handle(rq, rp);
	limit_leave(counted);
}

/* dispatch: the whole body is in; answers the request. */
static enum MHD_Result dispatch(struct MHD_Connection *conn, struct http_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct hq_request rq = {
		.conn = conn,
		.method = r->method,
		.path = r->path,
		.body = r->buf ? r->buf : "",
		.len = r->len,
		.fd = ci ? ci->connect_fd : -1,
	};
	struct hq_reply rp = {0};
	struct fault f = {0};
	enum MHD_Result ret;
	bool reset;

	if (r->gzip && !r->zend && !r->early)
		set_early(r, 400, "invalid_encoding", "the gzip body is truncated");
	if (!r->admin)
		fault_take(r->method, r->path, &f);
	if (apply_fault(&f, &rp, &reset)) {
		ret = reset ? close_unanswered(conn, r, true, "reset") : send_reply(conn, r, &rp);
		goto cleanup;
	}
	rq.delay_ms = f.kind == FAULT_DELAY ? f.delay_ms : 0;
	if (r->early)
		reply_error(&rp, r->early, r->early_code, "%s", r->early_msg);
	else if (r->admin)
		admin_handle(&rq, &rp);
	else
		handle_limited(r, &rq, &rp);
	if (f.kind == FAULT_DROP_AFTER_COMMIT) {
		ret = close_unanswered(conn, r, false, "dropped");
		reply_clear(&rp);
	} else if (rp.action != REPLY_SEND) {
		ret = close_unanswered(conn, r, rp.action == REPLY_RESET, "gone");
		reply_clear(&rp);
	} else {
		ret = send_reply(conn, r, &rp);
	}
cleanup:
	reply_clear(&rp);
	fault_free(&f);
	return ret;
}

/* on_request: libmicrohttpd's access handler, called once with the
 * headers, once per piece of body, and once more at its end. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct http_req *r = *con_cls;

	(void)cls;
	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*con_cls = r;
		r->t0 = util_mono();
		util_copy(r->method, sizeof(r->method), method);
		r->path = strdup(url);
		if (!r->path)
			return MHD_NO;
		r->admin = !strncmp(url, "/_admin/", 8);
		if (first_call(conn, r)) {
			struct hq_reply rp = {0};
			reply_error(&rp, 413, r->early_code, "%s", r->early_msg);
			return send_reply(conn, r, &rp);
		}
		return MHD_YES;
	}
	if (*upload_size > 0) {
		bool go_on = on_body(r, upload_data, *upload_size);
		*upload_size = 0;
		return go_on ? MHD_YES : MHD_NO;
	}
	return dispatch(conn, r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	struct http_req *r = *con_cls;

	(void)cls;
	(void)conn;
	(void)toe;
	if (!r)
		return;
	if (r->zinit)
		inflateEnd(&r->zs);
	free(r->buf);
	free(r->path);
	free(r);
	*con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	fputs("libmicrohttpd: ", stderr);
	vfprintf(stderr, fmt, ap);
}

/* http_start: serves on the listening socket fd, the certificate chosen
 * per handshake by tls_pick (hq_tls). Returns the daemon, or NULL with a
 * message on stderr. */
struct MHD_Daemon *http_start(int fd)
{
	struct MHD_Daemon *d;

	d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_THREAD_PER_CONNECTION |
	                             MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC |
	                             MHD_USE_ERROR_LOG,
	                     0, NULL, NULL, on_request, NULL, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
	                     NULL, MHD_OPTION_LISTEN_SOCKET, fd,
	                     MHD_OPTION_HTTPS_CERT_CALLBACK, tls_pick,
	                     MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	                     MHD_OPTION_CONNECTION_TIMEOUT, 120u, MHD_OPTION_CONNECTION_LIMIT, 4000u,
	                     MHD_OPTION_END);
	if (!d)
		fprintf(stderr, "hq: cannot start the HTTPS server\n");
	return d;
}

/* http_stop: stops accepting on every daemon of d[0..n), makes long polls
 * answer, then waits for every connection thread. */
void http_stop(struct MHD_Daemon **d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		MHD_socket fd = d[i] ? MHD_quiesce_daemon(d[i]) : MHD_INVALID_SOCKET;
		if (fd != MHD_INVALID_SOCKET)
			close(fd);
	}
	feed_shutdown();
	for (size_t i = 0; i < n; i++) {
		if (d[i])
			MHD_stop_daemon(d[i]);
		d[i] = NULL;
	}
}
