/*
 * hqclient: HTTPS requests to HQ over libcurl, loaded at run time.
 *
 * libcurl is opened with dlopen("libcurl.so.4") the first time a client is
 * made (see hqclient.h for why); <curl/curl.h> gives only types and
 * constants, every call goes through the table `curl` below. Each client
 * has one easy handle and one multi handle whose connection cache carries
 * the connection from request to request (keep-alive); the per-request
 * state (reply buffer, headers seen) lives in the client too, since a
 * client is used by one thread at a time.
 *
 * Why the multi interface, not just curl_easy_perform(): the stop flag must
 * end a transfer within UTIL_STOP_CHECK (0.5 s), and curl_easy_perform()
 * runs the progress callback only about once a second while a long poll
 * waits (measured: a stop took up to 1.0 s). run_transfer() polls the
 * sockets together with the stop flag's descriptor when it has one (the
 * service: a long poll then sleeps until HQ answers or the service stops),
 * else UTIL_STOP_CHECK at a time, and checks the flag between polls; the
 * progress callback checks it too. No low-speed limit is set while the
 * stall time is the whole timeout: libcurl would wake every second to
 * measure the speed.
 *
 * What the security of the link rests on is set once, in setup_handle(),
 * and no later code path touches it: https only, no redirects, peer and
 * host verified against ca_file and nothing else, TLS 1.2 or newer,
 * verbose off. The bearer token lives only in c->auth (wiped on free) and
 * in the header lists handed to curl (wiped before they are freed).
 */
#define CURL_DISABLE_DEPRECATION /* CURLOPT_PROTOCOLS: the pre-7.85 fallback */
#include "common/hqclient.h"
#include "common/metrics.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/log.h"
#include "common/util.h"

#ifndef POSAGENT_VERSION
#define POSAGENT_VERSION "0"
#endif

#define HQ_TOKEN_MAX 2048       /* longest bearer token accepted */
#define HQ_HEADER_LINE_MAX 1024 /* longer reply header lines are ignored */
#define HQ_HEADER_VALUE_MAX 128 /* Date / Retry-After values kept */
#define HQ_PATH_MAX 4096        /* request path and query */
#define HQ_IDEM_KEY_MAX 128

/* ---- libcurl, loaded at run time ---------------------------------------- */

struct curl_api {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode code);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	CURLM *(*multi_init)(void);
	CURLMcode (*multi_add_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_remove_handle)(CURLM *m, CURL *h);
	CURLMcode (*multi_perform)(CURLM *m, int *running);
	/* curl_multi_poll (>= 7.66), else curl_multi_wait: same arguments */
	CURLMcode (*multi_poll)(CURLM *m, struct curl_waitfd *fds, unsigned int nfds, int ms,
	                        int *numfds);
	CURLMsg *(*multi_info_read)(CURLM *m, int *left);
	CURLMcode (*multi_cleanup)(CURLM *m);
};

static struct curl_api curl;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static int curl_loaded;        /* 1 after a successful curl_load_once() */
static char curl_load_err[256]; /* why it failed, otherwise */

_Static_assert(sizeof(void *) == sizeof(void (*)(void)),
               "dlsym results must fit a function pointer");

/* Runs once per process (pthread_once): opens libcurl.so.4, resolves every
 * function of the table and calls curl_global_init. Leaves curl_loaded at 1
 * on success, else curl_load_err says why. The library is never closed. */
static void curl_load_once(void)
{
	static const struct {
		const char *name;
		size_t offset;
	} syms[] = {
		{"curl_global_init", offsetof(struct curl_api, global_init)},
		{"curl_easy_init", offsetof(struct curl_api, easy_init)},
		{"curl_easy_setopt", offsetof(struct curl_api, easy_setopt)},
		{"curl_easy_getinfo", offsetof(struct curl_api, easy_getinfo)},
		{"curl_easy_cleanup", offsetof(struct curl_api, easy_cleanup)},
		{"curl_easy_strerror", offsetof(struct curl_api, easy_strerror)},
		{"curl_slist_append", offsetof(struct curl_api, slist_append)},
		{"curl_slist_free_all", offsetof(struct curl_api, slist_free_all)},
		{"curl_multi_init", offsetof(struct curl_api, multi_init)},
		{"curl_multi_add_handle", offsetof(struct curl_api, multi_add_handle)},
		{"curl_multi_remove_handle", offsetof(struct curl_api, multi_remove_handle)},
		{"curl_multi_perform", offsetof(struct curl_api, multi_perform)},
		{"curl_multi_poll", offsetof(struct curl_api, multi_poll)},
		{"curl_multi_info_read", offsetof(struct curl_api, multi_info_read)},
		{"curl_multi_cleanup", offsetof(struct curl_api, multi_cleanup)},
	};
	struct curl_api api;
	void *lib;
	const char *e;
	size_t i;
	CURLcode rc;

	lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		e = dlerror();
		snprintf(curl_load_err, sizeof curl_load_err, "cannot load libcurl.so.4: %s",
		         e ? e : "unknown error");
		return;
	}
	memset(&api, 0, sizeof api);
	for (i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		void *p = dlsym(lib, syms[i].name);
		if (!p && strcmp(syms[i].name, "curl_multi_poll") == 0)
			p = dlsym(lib, "curl_multi_wait"); /* libcurl before 7.66 */
		if (!p) {
			snprintf(curl_load_err, sizeof curl_load_err,
			         "cannot load libcurl.so.4: %s missing", syms[i].name);
			return; /* lib stays open: harmless, and dlclose here gains nothing */
		}
		/* POSIX guarantees a data pointer from dlsym converts to a function
		 * pointer; copying the bytes keeps ISO C's type rules quiet. */
		memcpy((char *)&api + syms[i].offset, &p, sizeof p);
	}
	rc = api.global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK) {
		snprintf(curl_load_err, sizeof curl_load_err, "libcurl initialisation failed: %s",
		         api.easy_strerror(rc));
		return;
	}
	curl = api;
	curl_loaded = 1;
}

/* Loads libcurl if no earlier call did. Returns 0, or -1 with the reason in
 * err. Safe from any thread. */
static int curl_load(char *err, size_t errlen)
{
	pthread_once(&curl_once, curl_load_once);
	if (curl_loaded)
		return 0;
	snprintf(err, errlen, "%s", curl_load_err);
	return -1;
}

/* ---- the client ---------------------------------------------------------- */

struct hq_client {
	CURL *easy;                        /* the one request handle */
	CURLM *multi;                      /* runs it; its cache keeps the connection */
	volatile sig_atomic_t *stop;       /* non-zero aborts a transfer; may be NULL */
	char base[CFG_PATH_MAX];           /* https://host[:port][/prefix], no trailing '/' */
	char host_port[300];               /* "host:port" for messages */
	char auth[HQ_TOKEN_MAX + 32];      /* "Authorization: Bearer TOKEN" (wiped) */
	char url[CFG_PATH_MAX + HQ_PATH_MAX];
	long connect_timeout;              /* seconds */
	long request_timeout;              /* seconds */
	int want_certinfo;                 /* fill cert_expiry */
	int fresh_connect;                 /* next request on a new connection */
	int used;                          /* a request was made already */
	int has_client_cert;               /* client_cert configured */
	time_t cert_expiry;                /* last leaf notAfter seen, 0 unknown */
	char errbuf[CURL_ERROR_SIZE];      /* CURLOPT_ERRORBUFFER */
	/* the request in flight */
	char *buf;                         /* reply body */
	size_t len, cap;
	int too_big;                       /* the write callback refused data */
	int stopped;                       /* the progress callback saw *stop */
	char date_v[HQ_HEADER_VALUE_MAX];  /* Date value, "" when absent */
	char retry_v[HQ_HEADER_VALUE_MAX]; /* Retry-After value */
	int have_retry;                    /* a Retry-After header came */
	int replayed;                      /* Idempotent-Replayed: true */
	int revision;                      /* HQ-API revision: 0 not asked, 1 2026-11-30 or later, 2 older */
};

/* Writes a printf-style message into buf (always NUL-terminated, truncated
 * if need be). */
__attribute__((format(printf, 3, 4))) static void fmt(char *buf, size_t len, const char *f, ...)
{
	va_list ap;

	if (!buf || len == 0)
		return;
	va_start(ap, f);
	vsnprintf(buf, len, f, ap);
	va_end(ap);
}

static int ascii_lower(int ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch - 'A' + 'a' : ch;
}

/* True when the n bytes at a equal the NUL-terminated b, ignoring ASCII
 * case (no locale). */
static int eq_ci_n(const char *a, size_t n, const char *b)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (b[i] == '\0' || ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return 0;
	}
	return b[n] == '\0';
}

/* True when needle occurs in hay, ignoring ASCII case. */
static int has_ci(const char *hay, const char *needle)
{
	size_t n = strlen(needle), i;

	for (; *hay; hay++) {
		for (i = 0; i < n; i++) {
			if (hay[i] == '\0' ||
			    ascii_lower((unsigned char)hay[i]) != ascii_lower((unsigned char)needle[i]))
				break;
		}
		if (i == n)
			return 1;
	}
	return 0;
}

/* Fills c->host_port ("host:port", 443 when the URL has none) from the
 * base URL, for error messages; any userinfo ("user:pw@") is left out. */
static void derive_host_port(struct hq_client *c)
{
	const char *h = c->base + strlen("https://");
	size_t n = strcspn(h, "/?#");
	const char *at = memchr(h, '@', n);
	const char *rb, *colon;

	if (at) {
		n -= (size_t)(at + 1 - h);
		h = at + 1;
	}
	rb = h[0] == '[' ? memchr(h, ']', n) : NULL;
	colon = memchr(rb ? rb : h, ':', n - (size_t)((rb ? rb : h) - h));
	if (colon)
		fmt(c->host_port, sizeof c->host_port, "%.*s", (int)n, h);
	else
		fmt(c->host_port, sizeof c->host_port, "%.*s:443", (int)n, h);
}

/* True when the token can go in a header as is: printable ASCII, no space. */
static int token_ok(const char *t)
{
	if (*t == '\0')
		return 0;
	for (; *t; t++) {
		if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
			return 0;
	}
	return 1;
}

/* The write callback: appends to c->buf, refusing (abort with
 * CURLE_WRITE_ERROR) anything past HQ_MAX_RESPONSE bytes. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct hq_client *c = ud;
	size_t n = size * nmemb, cap;
	char *p;

	if (n > HQ_MAX_RESPONSE - c->len) {
		c->too_big = 1;
		return 0;
	}
	if (c->len + n + 1 > c->cap) {
		cap = c->cap ? c->cap : 16384;
		while (cap < c->len + n + 1)
			cap *= 2;
		if (cap > (size_t)HQ_MAX_RESPONSE + 1)
			cap = (size_t)HQ_MAX_RESPONSE + 1;
		p = realloc(c->buf, cap);
		if (!p)
			return 0;
		c->buf = p;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, data, n);
	c->len += n;
	c->buf[c->len] = '\0';
	return n;
}

/* The header callback: keeps Date, Retry-After and Idempotent-Replayed of
 * the final reply (a status line resets them, so a 1xx does not count).
 * Lines longer than HQ_HEADER_LINE_MAX and values longer than
 * HQ_HEADER_VALUE_MAX are ignored; a value that was too long reads as
 * unreadable. Never aborts the transfer. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *ud)
{
	struct hq_client *c = ud;
	size_t n = size * nmemb, name_len, vlen;
	const char *colon, *v, *end;

	if (n > HQ_HEADER_LINE_MAX)
		return n;
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		c->date_v[0] = '\0';
		c->retry_v[0] = '\0';
		c->have_retry = 0;
		c->replayed = 0;
		return n;
	}
	colon = memchr(data, ':', n);
	if (!colon)
		return n;
	name_len = (size_t)(colon - data);
	v = colon + 1;
	end = data + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	vlen = (size_t)(end - v);
	if (eq_ci_n(data, name_len, "date")) {
		if (vlen < sizeof c->date_v)
			fmt(c->date_v, sizeof c->date_v, "%.*s", (int)vlen, v);
		else
			c->date_v[0] = '\0';
	} else if (eq_ci_n(data, name_len, "retry-after")) {
		c->have_retry = 1;
		if (vlen < sizeof c->retry_v)
			fmt(c->retry_v, sizeof c->retry_v, "%.*s", (int)vlen, v);
		else
			c->retry_v[0] = '\0';
	} else if (eq_ci_n(data, name_len, "idempotent-replayed")) {
		c->replayed = eq_ci_n(v, vlen, "true");
	}
	return n;
}

/* The progress callback: aborts the transfer once *c->stop is set. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	struct hq_client *c = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (c->stop && *c->stop) {
		c->stopped = 1;
		return 1;
	}
	return 0;
}

/* Sets one option during setup; on failure writes which into err. */
#define SETOPT(opt, val)                                                                   \
	do {                                                                               \
		CURLcode rc_ = curl.easy_setopt(c->easy, opt, val);                        \
		if (rc_ != CURLE_OK) {                                                     \
			fmt(err, errlen, "libcurl refused %s: %s", #opt, curl.easy_strerror(rc_)); \
			goto cleanup;                                                      \
		}                                                                          \
	} while (0)

/* Restricts the handle (and, redirect being off anyway, any redirect) to
 * https. Prefers CURLOPT_PROTOCOLS_STR (libcurl >= 7.85) and falls back to
 * the older bitmask when the library in use does not know it. Returns 0
 * or -1 with err. */
static int set_https_only(struct hq_client *c, char *err, size_t errlen)
{
	int rc = -1;
	CURLcode r1 = CURLE_UNKNOWN_OPTION, r2 = CURLE_UNKNOWN_OPTION;

#if LIBCURL_VERSION_NUM >= 0x075500 /* an enum, not a macro: test the headers' version */
	r1 = curl.easy_setopt(c->easy, CURLOPT_PROTOCOLS_STR, "https");
	r2 = curl.easy_setopt(c->easy, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#endif
	if (r1 != CURLE_OK)
		SETOPT(CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
	if (r2 != CURLE_OK)
		SETOPT(CURLOPT_REDIR_PROTOCOLS, (long)CURLPROTO_HTTPS);
	rc = 0;
cleanup:
	return rc;
}

/* Sets every option that holds for all requests of the client, the
 * security ones among them. Returns 0, or -1 with err. */
static int setup_handle(struct hq_client *c, const struct cfg *cfg, char *err, size_t errlen)
{
	int rc = -1;

	SETOPT(CURLOPT_VERBOSE, 0L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_ERRORBUFFER, c->errbuf);
	if (set_https_only(c, err, errlen) != 0)
		goto cleanup;
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	SETOPT(CURLOPT_CAINFO, cfg->ca_file);
	SETOPT(CURLOPT_CAPATH, (char *)NULL); /* the build's default CA directory must not count */
	SETOPT(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (cfg->client_cert[0]) {
		SETOPT(CURLOPT_SSLCERT, cfg->client_cert);
		SETOPT(CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (cfg->client_key[0])
		SETOPT(CURLOPT_SSLKEY, cfg->client_key);
	SETOPT(CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
	SETOPT(CURLOPT_CONNECTTIMEOUT, c->connect_timeout);
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(CURLOPT_TCP_KEEPIDLE, 30L);
	SETOPT(CURLOPT_TCP_KEEPINTVL, 15L);
	SETOPT(CURLOPT_USERAGENT, "posagent/" POSAGENT_VERSION);
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HQ_MAX_RESPONSE);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, (void *)c);
	SETOPT(CURLOPT_HEADERFUNCTION, on_header);
	SETOPT(CURLOPT_HEADERDATA, (void *)c);
	SETOPT(CURLOPT_NOPROGRESS, 0L);
	SETOPT(CURLOPT_XFERINFOFUNCTION, on_progress);
	SETOPT(CURLOPT_XFERINFODATA, (void *)c);
	rc = 0;
cleanup:
	return rc;
}

int hq_client_new(const struct cfg *cfg, volatile sig_atomic_t *stop, struct hq_client **out,
                  char *err, size_t errlen)
{
	struct hq_client *c = NULL;
	char token[HQ_TOKEN_MAX];
	size_t n;
	int rc = -1;

	token[0] = '\0';
	if (out)
		*out = NULL;
	if (!cfg || !out) {
		fmt(err, errlen, "hq_client_new: no configuration");
		goto cleanup;
	}
	if (strncmp(cfg->url, "https://", 8) != 0 || cfg->url[8] == '\0' || cfg->url[8] == '/') {
		fmt(err, errlen, "[hq] url must be an https:// URL");
		goto cleanup;
	}
	if (cfg_read_token(cfg, token, sizeof token, err, errlen) != 0)
		goto cleanup;
	if (!token_ok(token)) {
		fmt(err, errlen, "token file %s: the token is empty or holds spaces or control characters",
		    cfg->token_file);
		goto cleanup;
	}
	if (curl_load(err, errlen) != 0)
		goto cleanup;
	c = calloc(1, sizeof *c);
	if (!c) {
		fmt(err, errlen, "out of memory");
		goto cleanup;
	}
	c->stop = stop;
	n = strlen(cfg->url);
	while (n > 8 && cfg->url[n - 1] == '/')
		n--;
	fmt(c->base, sizeof c->base, "%.*s", (int)n, cfg->url);
	derive_host_port(c);
	fmt(c->auth, sizeof c->auth, "Authorization: Bearer %s", token);
	c->has_client_cert = cfg->client_cert[0] != '\0';
	c->connect_timeout = cfg->connect_timeout > 0 ? cfg->connect_timeout : 5;
	c->request_timeout = cfg->request_timeout > 0 ? cfg->request_timeout : 30;
	c->easy = curl.easy_init();
	c->multi = curl.multi_init();
	if (!c->easy || !c->multi) {
		fmt(err, errlen, "libcurl: cannot make a handle");
		goto cleanup;
	}
	if (setup_handle(c, cfg, err, errlen) != 0)
		goto cleanup;
	*out = c;
	c = NULL;
	rc = 0;
cleanup:
	explicit_bzero(token, sizeof token);
	hq_client_free(c);
	return rc;
}

void hq_client_want_certinfo(struct hq_client *c, int on)
{
	if (!c)
		return;
	if (on && !c->want_certinfo && c->used)
		c->fresh_connect = 1; /* a reused connection brings no certificate */
	c->want_certinfo = on != 0;
}

void hq_client_free(struct hq_client *c)
{
	if (!c)
		return;
	if (c->easy)
		curl.easy_cleanup(c->easy); /* never left inside the multi handle */
	if (c->multi)
		curl.multi_cleanup(c->multi);
	free(c->buf);
	explicit_bzero(c, sizeof *c);
	free(c);
}

void hq_response_free(struct hq_response *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->body_len = 0;
}

/* Frees a header list after wiping its strings (one holds the token). */
static void slist_wipe_free(struct curl_slist *l)
{
	struct curl_slist *p;

	for (p = l; p; p = p->next) {
		if (p->data)
			explicit_bzero(p->data, strlen(p->data));
	}
	curl.slist_free_all(l);
}

/* Appends s to *l. Returns 0, or -1 when out of memory (*l unchanged). */
static int add_header(struct curl_slist **l, const char *s)
{
	struct curl_slist *n = curl.slist_append(*l, s);

	if (!n)
		return -1;
	*l = n;
	return 0;
}

/* Sets r->error (and r->tls_error) from a failed transfer's code and
 * curl's error buffer, in words a technician reads. */
static void describe_failure(struct hq_client *c, CURLcode code, long timeout, long stall,
                             struct hq_response *r)
{
	static const struct {
		const char *needle; /* in curl's error buffer, any case */
		const char *what;
	} tls[] = {
		{"certificate has expired", "TLS: certificate expired"},
		{"certificate expired", "TLS: certificate expired"},
		{"not yet valid", "TLS: certificate not valid yet (check this register's clock)"},
		{"does not match target host", "TLS: certificate is for another host name"},
		{"no alternative certificate subject name", "TLS: certificate is for another host name"},
		{"revoked", "TLS: certificate revoked"},
		{"self-signed certificate", "TLS: server certificate not trusted by ca_file"},
		{"self signed certificate", "TLS: server certificate not trusted by ca_file"},
		{"unable to get local issuer", "TLS: server certificate not trusted by ca_file"},
		{"unable to get issuer", "TLS: server certificate not trusted by ca_file"},
		{"unable to verify", "TLS: server certificate not trusted by ca_file"},
		{"certificate verification failed", "TLS: server certificate not trusted by ca_file"},
		{"certificate verify failed", "TLS: server certificate not trusted by ca_file"},
		{"certificate required", "TLS: HQ requires a client certificate (client_cert, client_key)"},
		{"alert bad certificate", "TLS: HQ refused the client certificate"},
		{"alert unknown ca", "TLS: HQ does not trust the client certificate"},
		{"alert certificate unknown", "TLS: HQ refused the client certificate"},
		{"wrong version number", "TLS: the server does not speak TLS on this port"},
		{"packet length too long", "TLS: the server does not speak TLS on this port"},
	};
	const char *eb = c->errbuf[0] ? c->errbuf : curl.easy_strerror(code);
	const char *what = NULL, *hint = "";
	char ebuf[128];
	long os_errno = 0, connects = 0, got = 0;
	size_t i;

	r->status = 0;
	for (i = 0; i < sizeof tls / sizeof tls[0]; i++) {
		if (has_ci(eb, tls[i].needle)) {
			what = tls[i].what;
			break;
		}
	}
	switch (code) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
#if LIBCURL_VERSION_NUM >= 0x074d00
	case CURLE_SSL_CLIENTCERT:
#endif
		r->tls_error = 1;
		if (code == CURLE_SSL_CACERT_BADFILE)
			fmt(r->error, sizeof r->error, "TLS: cannot use ca_file (%s)", eb);
		else if (code == CURLE_SSL_CERTPROBLEM)
			fmt(r->error, sizeof r->error, "TLS: cannot use client_cert or client_key (%s)", eb);
		else if (what)
			fmt(r->error, sizeof r->error, "%s (%s)", what, eb);
		else if (code == CURLE_PEER_FAILED_VERIFICATION)
			fmt(r->error, sizeof r->error, "TLS: server certificate not accepted (%s)", eb);
		else
			fmt(r->error, sizeof r->error, "TLS: handshake with %s failed (%s)", c->host_port, eb);
		return;
	default:
		break;
	}
	if (what) { /* e.g. a client-certificate alert read as a receive error */
		r->tls_error = 1;
		fmt(r->error, sizeof r->error, "%s (%s)", what, eb);
		return;
	}
	switch (code) {
	case CURLE_ABORTED_BY_CALLBACK:
		fmt(r->error, sizeof r->error, "interrupted");
		break;
	case CURLE_WRITE_ERROR:
	case CURLE_FILESIZE_EXCEEDED:
		if (c->too_big || code == CURLE_FILESIZE_EXCEEDED)
			fmt(r->error, sizeof r->error, "reply larger than %u bytes", HQ_MAX_RESPONSE);
		else
			fmt(r->error, sizeof r->error, "out of memory reading the reply");
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		fmt(r->error, sizeof r->error, "cannot resolve the host of %s: %s", c->host_port, eb);
		break;
	case CURLE_COULDNT_CONNECT:
		if (curl.easy_getinfo(c->easy, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK &&
		    os_errno > 0 && os_errno < INT_MAX)
			eb = strerror_r((int)os_errno, ebuf, sizeof ebuf); /* "Connection refused" */
		fmt(r->error, sizeof r->error, "cannot connect to %s: %s", c->host_port, eb);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		if (has_ci(eb, "too slow"))
			fmt(r->error, sizeof r->error, "stalled: nothing received for %ld s", stall);
		else if (has_ci(eb, "connection timed out") || has_ci(eb, "resolving timed out") ||
		         has_ci(eb, "ssl connection timeout"))
			fmt(r->error, sizeof r->error, "cannot connect to %s: timed out after %ld s",
			    c->host_port, c->connect_timeout);
		else
			fmt(r->error, sizeof r->error, "timed out after %ld s", timeout);
		break;
	case CURLE_GOT_NOTHING:
		fmt(r->error, sizeof r->error, "connection closed without a reply");
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		/* An HQ that wants a client certificate often just drops a new
		 * TLS 1.3 connection that has none: say so, as a possibility. */
		if (!c->has_client_cert &&
		    curl.easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK &&
		    connects > 0 && curl.easy_getinfo(c->easy, CURLINFO_HEADER_SIZE, &got) == CURLE_OK &&
		    got == 0)
			hint = "; if HQ requires a client certificate, set client_cert and client_key";
		fmt(r->error, sizeof r->error, "connection lost while %s (%s)%s",
		    code == CURLE_SEND_ERROR ? "sending" : "reading the reply", eb, hint);
		break;
	case CURLE_PARTIAL_FILE:
		fmt(r->error, sizeof r->error, "reply cut short (%s)", eb);
		break;
	case CURLE_WEIRD_SERVER_REPLY:
		fmt(r->error, sizeof r->error, "the server's reply is not HTTP (%s)", eb);
		break;
	case CURLE_OUT_OF_MEMORY:
		fmt(r->error, sizeof r->error, "out of memory");
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		fmt(r->error, sizeof r->error, "only https is allowed (%s)", eb);
		break;
	case CURLE_URL_MALFORMAT:
		fmt(r->error, sizeof r->error, "bad HQ url (%s)", eb);
		break;
	default:
		if (c->errbuf[0])
			fmt(r->error, sizeof r->error, "%s (%s)", curl.easy_strerror(code), c->errbuf);
		else
			fmt(r->error, sizeof r->error, "%s", curl.easy_strerror(code));
		break;
	}
}

/* Fills r->cert_expiry from the leaf certificate's "Expire date" when curl
 * gathered certificate information for this transfer; a request that
 * reused the connection (no handshake, no certificate) gets the expiry
 * seen when that connection was made. */
static void read_cert_expiry(struct hq_client *c, struct hq_response *r)
{
	struct curl_certinfo *ci = NULL;
	struct curl_slist *p;
	long connects = -1;
	time_t t;

	if (curl.easy_getinfo(c->easy, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci &&
	    ci->num_of_certs > 0 && ci->certinfo) {
		for (p = ci->certinfo[0]; p; p = p->next) {
			if (p->data && eq_ci_n(p->data, 12, "expire date:")) {
				t = hq_parse_cert_date(p->data + 12);
				if (t != (time_t)-1) {
					c->cert_expiry = t;
					r->cert_expiry = t;
					return;
				}
				break;
			}
		}
	}
	if (curl.easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects == 0)
		r->cert_expiry = c->cert_expiry;
}

/* Runs the transfer set up on c->easy to its end, checking *c->stop every
 * UTIL_STOP_CHECK at most, or, when the flag has a descriptor
 * (util_stop_attach), whenever that descriptor or a socket wakes the
 * poll. Returns curl's result for the transfer (CURLE_ABORTED_BY_CALLBACK
 * when stopped). */
#define POLL_MS ((int)(UTIL_STOP_CHECK * 1000)) /* longest wait between two looks at the stop flag */
#define IDLE_POLL_MS 60000 /* with the flag's descriptor: curl's own deadlines end the wait */

static CURLcode run_transfer(struct hq_client *c)
{
	CURLMcode mc;
	CURLMsg *msg;
	CURLcode res = CURLE_OK;
	int running = 0, left = 0, done = 0, stop_fd = util_stop_fd(c->stop);
	struct curl_waitfd stop_wait = {stop_fd, CURL_WAIT_POLLIN, 0};

	mc = curl.multi_add_handle(c->multi, c->easy);
	if (mc != CURLM_OK)
		return mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
	while (!done) {
		mc = curl.multi_perform(c->multi, &running);
		while (mc == CURLM_OK && (msg = curl.multi_info_read(c->multi, &left)) != NULL) {
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->easy) {
				res = msg->data.result;
				done = 1;
			}
		}
		if (done)
			break;
		if (mc == CURLM_OK && running == 0) /* ended without a message: not expected */
			mc = CURLM_INTERNAL_ERROR;
		if (mc == CURLM_OK && c->stop && *c->stop) {
			c->stopped = 1;
			res = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		if (mc == CURLM_OK && stop_fd >= 0) /* until curl's next deadline or a stop */
			mc = curl.multi_poll(c->multi, &stop_wait, 1, IDLE_POLL_MS, NULL);
		else if (mc == CURLM_OK)
			mc = curl.multi_poll(c->multi, NULL, 0, POLL_MS, NULL);
		if (mc != CURLM_OK) {
			res = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
			break;
		}
	}
	curl.multi_remove_handle(c->multi, c->easy); /* an unfinished connection is closed */
	return res;
}

/* Makes one request on the client's handle: url from path, headers hdrs,
 * body (POST) or none (GET, body == NULL), timeout and low-speed time in
 * seconds. Fills *r as hq_post() says. Returns 0 or -1. */
static int perform(struct hq_client *c, const char *path, const char *body, size_t len,
                   struct curl_slist *hdrs, long timeout, long stall, struct hq_response *r)
{
	CURLcode code;
	long status = 0;
	int rc = -1, tried = 0;
	double t0 = util_mono();

	if (c->stop && *c->stop) {
		fmt(r->error, sizeof r->error, "interrupted");
		r->unsent = 1;
		goto cleanup;
	}
	if ((size_t)snprintf(c->url, sizeof c->url, "%s%s", c->base, path) >= sizeof c->url) {
		fmt(r->error, sizeof r->error, "request URL too long");
		goto cleanup;
	}
	c->errbuf[0] = '\0';
	c->len = 0;
	c->too_big = 0;
	c->stopped = 0;
	c->date_v[0] = '\0';
	c->retry_v[0] = '\0';
	c->have_retry = 0;
	c->replayed = 0;
	code = curl.easy_setopt(c->easy, CURLOPT_URL, c->url);
	if (code == CURLE_OK)
		code = curl.easy_setopt(c->easy, CURLOPT_HTTPHEADER, hdrs);
	if (code == CURLE_OK)
		code = curl.easy_setopt(c->easy, CURLOPT_TIMEOUT, timeout);
	if (code == CURLE_OK) /* a stall shorter than the timeout only: see the top */
		code = curl.easy_setopt(c->easy, CURLOPT_LOW_SPEED_LIMIT, stall > 0 && stall < timeout ? 1L : 0L);
	if (code == CURLE_OK)
		code = curl.easy_setopt(c->easy, CURLOPT_LOW_SPEED_TIME, stall);
	if (code == CURLE_OK)
		code = curl.easy_setopt(c->easy, CURLOPT_CERTINFO, (long)c->want_certinfo);
	if (code == CURLE_OK)
		code = curl.easy_setopt(c->easy, CURLOPT_FRESH_CONNECT, (long)c->fresh_connect);
	if (code == CURLE_OK && body) {
		code = curl.easy_setopt(c->easy, CURLOPT_POST, 1L);
		if (code == CURLE_OK)
			code = curl.easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
		if (code == CURLE_OK)
			code = curl.easy_setopt(c->easy, CURLOPT_POSTFIELDS, body);
	} else if (code == CURLE_OK) {
		code = curl.easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
	}
	if (code == CURLE_OK) {
		c->used = 1;
		c->fresh_connect = 0;
		tried = 1;
		code = run_transfer(c);
	}
	/* nothing of this request may outlive it inside the handle */
	curl.easy_setopt(c->easy, CURLOPT_HTTPHEADER, (struct curl_slist *)NULL);
	if (code != CURLE_OK) {
		long sent = -1;
		describe_failure(c, code, timeout, stall, r);
		if (curl.easy_getinfo(c->easy, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent == 0)
			r->unsent = 1;
		goto cleanup;
	}
	curl.easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status <= 0) {
		fmt(r->error, sizeof r->error, "no HTTP reply from %s", c->host_port);
		goto cleanup;
	}
	if (!c->buf) { /* no body at all: still hand back "" */
		c->buf = malloc(1);
		if (!c->buf) {
			fmt(r->error, sizeof r->error, "out of memory");
			goto cleanup;
		}
		c->buf[0] = '\0';
		c->cap = 1;
	}
	if (status >= 200 && status < 300 && util_json_has_nul(c->buf, c->len)) {
		/* cJSON would cut a text at its NUL: a result's code, a cached
		 * customer's name, a posting id would be stored short. Taken as
		 * no usable reply: the same request is made again later. */
		fmt(r->error, sizeof r->error, "HQ's reply (HTTP %ld) holds a NUL character in a text; not used", status);
		goto cleanup;
	}
	r->body = c->buf;
	r->body_len = c->len;
	c->buf = NULL; /* the response owns it now */
	c->len = c->cap = 0;
	r->status = status;
	if (c->date_v[0]) {
		r->date = hq_parse_http_date(c->date_v);
		if (r->date == (time_t)-1)
			r->date = 0;
	}
	if (c->have_retry)
		r->retry_after = hq_retry_after(c->retry_v, r->date, time(NULL));
	r->replayed = c->replayed;
	if (c->want_certinfo)
		read_cert_expiry(c, r);
	rc = 0;
cleanup:
	/* --verbose: method, path (no query: it may hold a cursor), status, time */
	log_request(body ? "POST" : "GET", path, rc == 0 ? r->status : 0, (util_mono() - t0) * 1000.0, r->error);
	if (tried && !c->stopped) /* metrics: a request HQ may have seen */
		met_count_request(rc == 0 ? status : 0);
	if (rc != 0) {
		r->status = 0;
		free(c->buf); /* a refused reply may be big: do not keep it */
		c->buf = NULL;
		c->len = c->cap = 0;
	}
	return rc;
}

/* Empties *r for a new request (retry_after -1, nothing else set). */
static void response_init(struct hq_response *r)
{
	memset(r, 0, sizeof *r);
	r->retry_after = -1;
}

/* True when s is 1..HQ_IDEM_KEY_MAX characters of [A-Za-z0-9-]. */
static int idem_key_ok(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++) {
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	}
	return n >= 1 && n <= HQ_IDEM_KEY_MAX;
}

/* True when p is a request path: starts with '/', at most HQ_PATH_MAX
 * bytes, printable ASCII without spaces. */
static int path_ok(const char *p)
{
	size_t n = 0;

	if (*p != '/')
		return 0;
	for (; *p; p++, n++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	}
	return n < HQ_PATH_MAX;
}

int hq_post(struct hq_client *c, const char *path, const char *body, size_t len,
            const char *idem_key, struct hq_response *r)
{
	struct curl_slist *hdrs = NULL;
	char *gz = NULL;
	size_t gzlen = 0;
	char idem[HQ_IDEM_KEY_MAX + 32];
	const char *send = body;
	size_t send_len = len;
	int rc = -1;

	response_init(r);
	if (!c || !path || !path_ok(path) || (!body && len > 0)) {
		fmt(r->error, sizeof r->error, "bad request path");
		goto cleanup;
	}
	if (!idem_key || !idem_key_ok(idem_key)) {
		fmt(r->error, sizeof r->error, "bad Idempotency-Key");
		goto cleanup;
	}
	if (!body)
		send = "";
	if (len >= HQ_GZIP_MIN) {
		if (hq_gzip(body, len, &gz, &gzlen) != 0) {
			fmt(r->error, sizeof r->error, "cannot compress the request body (zlib, libz.so.1, missing or out of memory)");
			goto cleanup;
		}
		send = gz;
		send_len = gzlen;
	}
	fmt(idem, sizeof idem, "Idempotency-Key: %s", idem_key);
	if (add_header(&hdrs, "Content-Type: application/json") != 0 ||
	    (gz && add_header(&hdrs, "Content-Encoding: gzip") != 0) ||
	    add_header(&hdrs, idem) != 0 || add_header(&hdrs, "Expect:") != 0 ||
	    add_header(&hdrs, c->auth) != 0) {
		fmt(r->error, sizeof r->error, "out of memory");
		goto cleanup;
	}
	rc = perform(c, path, send, send_len, hdrs, c->request_timeout, c->request_timeout, r);
cleanup:
	if (hdrs)
		slist_wipe_free(hdrs);
	free(gz);
	return rc;
}

int hq_get(struct hq_client *c, const char *path_query, long extra_timeout, int auth,
           struct hq_response *r)
{
	struct curl_slist *hdrs = NULL;
	long t;
	int rc = -1;

	response_init(r);
	if (!c || !path_query || !path_ok(path_query)) {
		fmt(r->error, sizeof r->error, "bad request path");
		goto cleanup;
	}
	if (extra_timeout < 0)
		extra_timeout = 0;
	if (extra_timeout > 3600)
		extra_timeout = 3600;
	if (auth && add_header(&hdrs, c->auth) != 0) {
		fmt(r->error, sizeof r->error, "out of memory");
		goto cleanup;
	}
	t = c->request_timeout + extra_timeout;
	rc = perform(c, path_query, NULL, 0, hdrs, t, t, r);
cleanup:
	if (hdrs)
		slist_wipe_free(hdrs);
	return rc;
}

int hq_revision(struct hq_client *c, bool *current, struct hq_response *r)
{
	cJSON *doc = NULL;
	const cJSON *status, *rev;

	response_init(r);
	if (c->revision) {
		*current = c->revision == 1;
		return 0;
	}
	if (hq_get(c, "/v1/health", 0, 0, r) != 0 || r->status != 200)
		return -1;
	doc = cJSON_Parse(r->body ? r->body : "");
	status = cJSON_GetObjectItemCaseSensitive(doc, "status");
	rev = cJSON_GetObjectItemCaseSensitive(doc, "revision");
	if (cJSON_IsString(status) && strcmp(status->valuestring, "ok") == 0)
		c->revision = cJSON_IsString(rev) && strcmp(rev->valuestring, "2026-11-30") >= 0 ? 1 : 2;
	cJSON_Delete(doc);
	if (!c->revision) {
		fmt(r->error, sizeof r->error, "HQ's /v1/health does not say it is ok");
		return -1;
	}
	*current = c->revision == 1;
	return 0;
}

/* ---- gzip, with zlib loaded at run time ------------------------------------ */

/* Only a request body of HQ_GZIP_MIN bytes or more is compressed, by a
 * command that talks to HQ, and libcurl has zlib loaded by then: linked,
 * it cost every command its loading (measured: 0.2 ms and 8 page faults
 * a process start). */
struct zlib_api {
	int (*deflate_init2)(z_streamp strm, int level, int method, int window_bits, int mem_level, int strategy,
	                     const char *version, int stream_size);
	uLong (*deflate_bound)(z_streamp strm, uLong len);
	int (*deflate)(z_streamp strm, int flush);
	int (*deflate_end)(z_streamp strm);
};

static struct zlib_api zlib;
static pthread_once_t zlib_once = PTHREAD_ONCE_INIT;
static int zlib_loaded; /* 1 after a successful zlib_load_once() */

/* Runs once per process (pthread_once): opens libz.so.1 and resolves the
 * four functions hq_gzip needs. The library is never closed. */
static void zlib_load_once(void)
{
	void *lib = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
	struct zlib_api api;

	if (!lib)
		return;
	*(void **)&api.deflate_init2 = dlsym(lib, "deflateInit2_");
	*(void **)&api.deflate_bound = dlsym(lib, "deflateBound");
	*(void **)&api.deflate = dlsym(lib, "deflate");
	*(void **)&api.deflate_end = dlsym(lib, "deflateEnd");
	if (api.deflate_init2 && api.deflate_bound && api.deflate && api.deflate_end) {
		zlib = api;
		zlib_loaded = 1;
	} else {
		dlclose(lib);
	}
}

int hq_gzip(const char *in, size_t len, char **out, size_t *outlen)
{
	z_stream zs;
	unsigned char *buf = NULL;
	uLong bound;
	int zrc, inited = 0, rc = -1;

	*out = NULL;
	*outlen = 0;
	pthread_once(&zlib_once, zlib_load_once);
	if (!zlib_loaded || (!in && len > 0) || len > (size_t)UINT_MAX / 2)
		goto cleanup;
	memset(&zs, 0, sizeof zs);
	if (zlib.deflate_init2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
	                       (int)sizeof(z_stream)) != Z_OK)
		goto cleanup;
	inited = 1;
	bound = zlib.deflate_bound(&zs, (uLong)len) + 64;
	buf = malloc(bound);
	if (!buf)
		goto cleanup;
	zs.next_in = (Bytef *)(uintptr_t)(in ? in : "");
	zs.avail_in = (uInt)len;
	zs.next_out = buf;
	zs.avail_out = (uInt)bound;
	zrc = zlib.deflate(&zs, Z_FINISH);
	if (zrc != Z_STREAM_END)
		goto cleanup;
	*out = (char *)buf;
	*outlen = (size_t)zs.total_out;
	buf = NULL;
	rc = 0;
cleanup:
	if (inited)
		zlib.deflate_end(&zs);
	free(buf);
	return rc;
}

/* ---- dates ---------------------------------------------------------------- */

/* A cursor over a NUL-terminated string; every reader moves it on success
 * and returns 0, or returns -1 and leaves the parse failed. */
struct scan {
	const char *p;
};

static int sc_char(struct scan *s, char ch)
{
	if (*s->p != ch)
		return -1;
	s->p++;
	return 0;
}

/* Reads exactly n (1..9) decimal digits into *v. */
static int sc_digits(struct scan *s, int n, int *v)
{
	int i, x = 0;

	for (i = 0; i < n; i++) {
		if (s->p[i] < '0' || s->p[i] > '9')
			return -1;
		x = x * 10 + (s->p[i] - '0');
	}
	s->p += n;
	*v = x;
	return 0;
}

/* Reads one of the words of list (count entries), ASCII case ignored,
 * storing its index in *v. The word must not run on into more letters. */
static int sc_word(struct scan *s, const char *const *list, int count, int *v)
{
	int i;
	size_t n;

	for (i = 0; i < count; i++) {
		n = strlen(list[i]);
		/* eq_ci_n stops at the string's NUL: no read past it */
		if (eq_ci_n(s->p, n, list[i]) &&
		    !((s->p[n] >= 'a' && s->p[n] <= 'z') || (s->p[n] >= 'A' && s->p[n] <= 'Z'))) {
			s->p += n;
			*v = i;
			return 0;
		}
	}
	return -1;
}

static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const wdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const weekdays[] = {"Monday", "Tuesday", "Wednesday", "Thursday",
                                       "Friday", "Saturday", "Sunday"};

/* Reads "HH:MM:SS". */
static int sc_time(struct scan *s, int *h, int *mi, int *sec)
{
	if (sc_digits(s, 2, h) || sc_char(s, ':') || sc_digits(s, 2, mi) || sc_char(s, ':') ||
	    sc_digits(s, 2, sec))
		return -1;
	return 0;
}

/* Converts a UTC calendar time to time_t after checking every field
 * (day within its month, leap years, second 60 allowed for a leap
 * second). Returns the time or (time_t)-1. */
static time_t utc_time(int y, int mon, int d, int h, int mi, int sec)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	struct tm tm;
	int dim;

	if (y < 1900 || y > 9999 || mon < 0 || mon > 11 || h > 23 || mi > 59 || sec > 60)
		return (time_t)-1;
	dim = mdays[mon];
	if (mon == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	if (d < 1 || d > dim)
		return (time_t)-1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return timegm(&tm);
}

time_t hq_parse_http_date(const char *s)
{
	struct scan sc;
	int wd, d, mon, y, h, mi, sec;

	if (!s)
		return (time_t)-1;
	/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	sc.p = s;
	if (!sc_word(&sc, wdays, 7, &wd) && !sc_char(&sc, ',') && !sc_char(&sc, ' ') &&
	    !sc_digits(&sc, 2, &d) && !sc_char(&sc, ' ') && !sc_word(&sc, months, 12, &mon) &&
	    !sc_char(&sc, ' ') && !sc_digits(&sc, 4, &y) && !sc_char(&sc, ' ') &&
	    !sc_time(&sc, &h, &mi, &sec) && !sc_char(&sc, ' ') && eq_ci_n(sc.p, strlen(sc.p), "GMT"))
		return utc_time(y, mon, d, h, mi, sec);
	/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" (two-digit year: 70-99 are
	 * 19xx, 00-69 are 20xx) */
	sc.p = s;
	if (!sc_word(&sc, weekdays, 7, &wd) && !sc_char(&sc, ',') && !sc_char(&sc, ' ') &&
	    !sc_digits(&sc, 2, &d) && !sc_char(&sc, '-') && !sc_word(&sc, months, 12, &mon) &&
	    !sc_char(&sc, '-') && !sc_digits(&sc, 2, &y) && !sc_char(&sc, ' ') &&
	    !sc_time(&sc, &h, &mi, &sec) && !sc_char(&sc, ' ') && eq_ci_n(sc.p, strlen(sc.p), "GMT"))
		return utc_time(y < 70 ? 2000 + y : 1900 + y, mon, d, h, mi, sec);
	/* asctime: "Sun Nov  6 08:49:37 1994" */
	sc.p = s;
	if (!sc_word(&sc, wdays, 7, &wd) && !sc_char(&sc, ' ') && !sc_word(&sc, months, 12, &mon) &&
	    !sc_char(&sc, ' ') && (!sc_char(&sc, ' ') ? !sc_digits(&sc, 1, &d) : !sc_digits(&sc, 2, &d)) &&
	    !sc_char(&sc, ' ') && !sc_time(&sc, &h, &mi, &sec) && !sc_char(&sc, ' ') &&
	    !sc_digits(&sc, 4, &y) && *sc.p == '\0')
		return utc_time(y, mon, d, h, mi, sec);
	return (time_t)-1;
}

/* Skips an optional fraction of a second (".123"). */
static int sc_fraction(struct scan *s)
{
	int v;

	if (*s->p != '.')
		return 0;
	s->p++;
	if (sc_digits(s, 1, &v))
		return -1;
	while (*s->p >= '0' && *s->p <= '9')
		s->p++;
	return 0;
}

/* Reads the end of a certificate time: nothing, or spaces and a zone
 * that means UTC ("GMT", "UTC", "Z"). */
static int sc_utc_end(struct scan *s)
{
	size_t n;

	while (*s->p == ' ')
		s->p++;
	n = strlen(s->p);
	if (n == 0 || eq_ci_n(s->p, n, "GMT") || eq_ci_n(s->p, n, "UTC") || eq_ci_n(s->p, n, "Z"))
		return 0;
	return -1;
}

time_t hq_parse_cert_date(const char *s)
{
	struct scan sc;
	int d, mon, y, h, mi, sec;

	if (!s)
		return (time_t)-1;
	while (*s == ' ')
		s++;
	/* OpenSSL: "Jan 20 12:00:00 2027 GMT", "Jan  5 12:00:00 2027 GMT" */
	sc.p = s;
	if (!sc_word(&sc, months, 12, &mon) && !sc_char(&sc, ' ') &&
	    (!sc_char(&sc, ' ') ? !sc_digits(&sc, 1, &d) : !sc_digits(&sc, 2, &d)) &&
	    !sc_char(&sc, ' ') && !sc_time(&sc, &h, &mi, &sec) && !sc_fraction(&sc) &&
	    !sc_char(&sc, ' ') && !sc_digits(&sc, 4, &y) && !sc_utc_end(&sc))
		return utc_time(y, mon, d, h, mi, sec);
	/* curl's own ASN.1 code: "2027-01-20 12:00:00 GMT" */
	sc.p = s;
	if (!sc_digits(&sc, 4, &y) && !sc_char(&sc, '-') && !sc_digits(&sc, 2, &mon) &&
	    !sc_char(&sc, '-') && !sc_digits(&sc, 2, &d) && !sc_char(&sc, ' ') &&
	    !sc_time(&sc, &h, &mi, &sec) && !sc_fraction(&sc) && !sc_utc_end(&sc))
		return utc_time(y, mon - 1, d, h, mi, sec);
	return (time_t)-1;
}

long hq_retry_after(const char *v, time_t reply_date, time_t now)
{
	const char *p, *end;
	long n = 0;
	time_t t, base;
	char buf[HQ_HEADER_VALUE_MAX];
	size_t len;

	if (!v)
		return -1;
	while (*v == ' ' || *v == '\t')
		v++;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (end == v)
		return -1;
	if (*v >= '0' && *v <= '9') {
		for (p = v; p < end; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			if (n < HQ_RETRY_AFTER_MAX)
				n = n * 10 + (*p - '0');
			if (n > HQ_RETRY_AFTER_MAX)
				n = HQ_RETRY_AFTER_MAX;
		}
		return n;
	}
	len = (size_t)(end - v);
	if (len >= sizeof buf)
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	t = hq_parse_http_date(buf);
	if (t == (time_t)-1)
		return -1;
	base = reply_date ? reply_date : now;
	if (t <= base)
		return 0;
	if (t - base > (time_t)HQ_RETRY_AFTER_MAX)
		return HQ_RETRY_AFTER_MAX;
	return (long)(t - base);
}
