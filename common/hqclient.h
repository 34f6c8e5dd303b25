/*
 * hqclient: HTTPS requests to HQ (HQ-API.md), over libcurl.
 *
 * libcurl is loaded at run time (dlopen "libcurl.so.4") the first time a
 * client is made, so that commands which never talk to HQ do not pay for
 * its ~30 shared libraries at start-up.
 *
 * Guarantees: https only, redirects never followed, peer and host always
 * verified against cfg->ca_file (nothing turns that off), optional client
 * certificate, connect timeout, overall timeout, stalled-transfer abort,
 * keep-alive (one connection per client, reused), request bodies over
 * HQ_GZIP_MIN bytes sent with Content-Encoding: gzip, response bodies
 * capped at HQ_MAX_RESPONSE, the token sent only as the bearer header and
 * never logged, User-Agent "posagent/VERSION".
 *
 * A client is used by one thread at a time; make one per thread (the
 * service keeps one for uploads and one for the long poll, so a poll never
 * holds an upload up).
 */
#ifndef POSAGENT_HQCLIENT_H
#define POSAGENT_HQCLIENT_H

#include "common/err.h"
#include <stdbool.h>
#include <stddef.h>
#include <time.h>
#include <signal.h>
#include "common/config.h"

#define HQ_MAX_RESPONSE (8u * 1024 * 1024) /* larger replies are an error */
#define HQ_GZIP_MIN 4096                    /* bodies this size or more go gzip */
#define HQ_RETRY_AFTER_MAX 2147483647L      /* larger Retry-After values are capped */

struct hq_client;

struct hq_response {
	long status;            /* HTTP status; 0 when no reply was read */
	char *body;             /* NUL-terminated reply body, or NULL */
	size_t body_len;
	long retry_after;       /* seconds to wait from Retry-After (delta or
	                           HTTP-date measured against the reply's Date),
	                           -1 when absent or unreadable */
	time_t date;            /* the reply's Date header, 0 when absent */
	int replayed;           /* Idempotent-Replayed: true */
	int tls_error;          /* the failure was TLS/certificate verification */
	int unsent;             /* no byte of the request left this host (DNS,
	                           connect or TLS handshake failed): HQ cannot
	                           have seen it */
	time_t cert_expiry;     /* server leaf certificate notAfter, 0 unknown
	                           (filled when hq_client_new got want_certinfo) */
	char error[256];        /* transport error for a person when status == 0 */
};

/* Makes a client from a configuration already passed by cfg_check_hq(): reads
 * the token, loads libcurl. stop, when not NULL, is polled during
 * transfers: a non-zero value aborts the transfer within UTIL_STOP_CHECK.
 * Returns 0, or -1 with a message in err (never containing the token). */
PA_MUST_USE int hq_client_new(const struct cfg *cfg, volatile sig_atomic_t *stop,
                  struct hq_client **out, char *err, size_t errlen);

/* Ask for the server certificate's expiry in later responses (doctor). */
void hq_client_want_certinfo(struct hq_client *c, int on);

/* POST body (JSON) to path (e.g. "/v1/stores/S0001/registers/R01/batches")
 * with Idempotency-Key idem_key. Fills *r (free with hq_response_free).
 * Returns 0 when an HTTP reply was read (any status), -1 on transport
 * failure (r->status == 0, r->error says why). */
int hq_post(struct hq_client *c, const char *path, const char *body, size_t len,
            const char *idem_key, struct hq_response *r);

/* GET path_query (e.g. "/v1/stores/S0001/changes?after=x&limit=500&wait=25").
 * extra_timeout is added to the request timeout (the long poll's wait).
 * auth 0 sends no Authorization header (/v1/health). Same returns as hq_post. */
int hq_get(struct hq_client *c, const char *path_query, long extra_timeout, int auth,
           struct hq_response *r);

/* Whether HQ follows HQ-API's 2026-11-30 revision (*current): its
 * /v1/health names a "revision" of that date or later. An HQ without one
 * predates addresses on transactions and updates (the agent sends it
 * neither). Asked once per client (a GET without authentication), then
 * remembered. Returns 0, or -1 when HQ did not answer ok (*r says how). */
PA_MUST_USE int hq_revision(struct hq_client *c, bool *current, struct hq_response *r);

void hq_response_free(struct hq_response *r);
void hq_client_free(struct hq_client *c);

/* Parses an HTTP-date (RFC 7231 IMF-fixdate, and the two obsolete forms).
 * Returns the time, or (time_t)-1. */
time_t hq_parse_http_date(const char *s);

/* Retry-After value v (delta-seconds or HTTP-date) against the reply's
 * Date (0: unknown, then now is used). Returns seconds >= 0, or -1. */
long hq_retry_after(const char *v, time_t reply_date, time_t now);

/* Parses a certificate validity time as libcurl reports it ("Expire date"):
 * OpenSSL's "Jan 20 12:00:00 2027 GMT" or "2027-01-20 12:00:00 GMT".
 * Returns the time, or (time_t)-1. */
time_t hq_parse_cert_date(const char *s);

/* Compresses in[0..len) to a gzip stream (RFC 1952) in a new buffer *out
 * of *outlen bytes (free with free()), with zlib loaded at the first call
 * (dlopen of libz.so.1). Returns 0, or -1 (zlib missing, out of memory, or
 * len too large) with *out NULL. */
PA_MUST_USE int hq_gzip(const char *in, size_t len, char **out, size_t *outlen);

#endif
