#include "common/lookup.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/customer.h"
#include "common/log.h"
#include "common/show.h"
#include "common/store.h"
#include "common/usock.h"
#include "common/util.h"

#define PROTOCOL "posagent-lookup 1"
#define MAX_LIMIT 10000

int lookup_parse_question(const char *buf, size_t len, const char *version, int *limit, bool *json, char *text,
                          size_t n)
{
	const char *nl = memchr(buf, '\n', len);
	char head[160], want[128], *end;
	size_t hlen, tlen;
	long v;
	int w;

	if (!nl || (hlen = (size_t)(nl - buf)) >= sizeof(head))
		return -1;
	memcpy(head, buf, hlen);
	head[hlen] = '\0';
	w = snprintf(want, sizeof(want), "%s %s search ", PROTOCOL, version);
	if (w < 0 || (size_t)w >= sizeof(want) || strncmp(head, want, (size_t)w) != 0 || head[w] < '1' || head[w] > '9')
		return -1;
	errno = 0;
	v = strtol(head + w, &end, 10);
	if (errno || v > MAX_LIMIT || (strcmp(end, " text") != 0 && strcmp(end, " json") != 0))
		return -1;
	tlen = len - hlen - 1;
	if (tlen == 0 || tlen > LOOKUP_MAX_TEXT || tlen >= n || memchr(nl + 1, '\0', tlen))
		return -1;
	memcpy(text, nl + 1, tlen);
	text[tlen] = '\0';
	*limit = (int)v;
	*json = strcmp(end, " json") == 0;
	return 0;
}

/* Milliseconds left until the monotonic time until (0 when past). */
static int left_ms(double until)
{
	double left = until - util_mono();

	return left > 0 ? (int)(left * 1000) + 1 : 0;
}

/* Waits for events on fd until the monotonic time until. Returns true
 * when they came. */
static bool await(int fd, short events, double until)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int ms = left_ms(until), r;
		if (ms == 0)
			return false;
		r = poll(&p, 1, ms);
		if (r > 0)
			return true;
		if (r == 0 || errno != EINTR)
			return false;
	}
}

/* Sends all len bytes of buf on the non-blocking fd before until.
 * Returns 0 or -1. */
static int send_all(int fd, const char *buf, size_t len, double until)
{
	while (len > 0) {
		ssize_t k = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			buf += k;
			len -= (size_t)k;
		} else if (k < 0 && errno == EINTR) {
			continue;
		} else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!await(fd, POLLOUT, until))
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* Reads from the non-blocking fd until end of stream into a growing
 * buffer of at most max bytes, waiting at most wait_ms for each part and
 * never past until. Returns the buffer (the caller's; NUL-terminated,
 * length in *len) or NULL. */
static char *recv_all(int fd, size_t max, int wait_ms, double until, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL, *grown;

	for (;;) {
		double part = util_mono() + wait_ms / 1000.0;
		ssize_t k;
		if (n + 1 >= cap) {
			size_t want = cap ? cap * 2 : 16384;
			if (cap >= max + 1 || !(grown = realloc(buf, want > max + 1 ? max + 1 : want)))
				goto fail;
			buf = grown;
			cap = want > max + 1 ? max + 1 : want;
		}
		k = recv(fd, buf + n, cap - n - 1, MSG_DONTWAIT);
		if (k > 0) {
			n += (size_t)k;
		} else if (k == 0) {
			buf[n] = '\0';
			*len = n;
			return buf;
		} else if (errno == EINTR) {
			continue;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			goto fail;
		} else if (!await(fd, POLLIN, until < part ? until : part)) {
			goto fail;
		}
	}
fail:
	free(buf);
	return NULL;
}

int lookup_search(const char *db_path, const char *text, int limit, bool json, char **out, size_t *len, int *count)
{
	struct sockaddr_un a;
	char question[LOOKUP_MAX_QUESTION], *answer = NULL, *nl, *end;
	size_t alen = 0, tlen = strlen(text);
	int fd = -1, rc = -1, w;
	long n;

	*out = NULL;
	if (tlen == 0 || tlen > LOOKUP_MAX_TEXT || limit < 1 || limit > MAX_LIMIT ||
	    usock_addr(db_path, "-lookup", &a) != 0)
		return -1;
	w = snprintf(question, sizeof(question), "%s %s search %d %s\n%s", PROTOCOL, POSAGENT_VERSION, limit,
	             json ? "json" : "text", text);
	if (w < 0 || (size_t)w >= sizeof(question))
		return -1;
	/* A unix stream connect never waits: it is accepted into the
	 * listener's queue, or refused (no service, a stale file), or EAGAIN
	 * (the queue is full). */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)&a, sizeof(a)) != 0)
		goto cleanup;
	if (send_all(fd, question, (size_t)w, util_mono() + LOOKUP_WAIT_MS / 1000.0) != 0 || shutdown(fd, SHUT_WR) != 0)
		goto cleanup;
	answer = recv_all(fd, LOOKUP_MAX_ANSWER, LOOKUP_WAIT_MS, util_mono() + LOOKUP_TOTAL_MS / 1000.0, &alen);
	/* "ok COUNT\n" then the output */
	if (!answer || alen < 5 || memcmp(answer, "ok ", 3) != 0 || !(nl = memchr(answer, '\n', alen)) ||
	    answer[3] < '0' || answer[3] > '9')
		goto cleanup;
	errno = 0;
	n = strtol(answer + 3, &end, 10);
	if (errno || end != nl || n > limit)
		goto cleanup;
	*len = alen - (size_t)(nl + 1 - answer);
	memmove(answer, nl + 1, *len + 1); /* with its NUL */
	*out = answer;
	answer = NULL;
	*count = (int)n;
	rc = 0;
cleanup:
	free(answer);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Appends len bytes of src to the growing buffer *buf (*used of *cap).
 * Returns 0 or -1 (no memory). */
static int append(char **buf, size_t *used, size_t *cap, const char *src, size_t len)
{
	if (*used + len + 1 > *cap) {
		size_t want = (*used + len + 1) * 2;
		char *grown = realloc(*buf, want);
		if (!grown)
			return -1;
		*buf = grown;
		*cap = want;
	}
	memcpy(*buf + *used, src, len);
	*used += len;
	(*buf)[*used] = '\0';
	return 0;
}

/* What the command prints for the customers found: their lines, or the
 * array as cli_print_json writes it (cJSON_Print and a newline), after
 * the header "ok COUNT\n". Returns the buffer (*len bytes) or NULL. */
static char *printed(const cJSON *found, bool json, size_t *len)
{
	char head[32], line[2048], *buf = NULL, *doc = NULL;
	size_t used = 0, cap = 0;
	const cJSON *it;
	int w = snprintf(head, sizeof(head), "ok %d\n", cJSON_GetArraySize(found));
	bool ok = w > 0 && append(&buf, &used, &cap, head, (size_t)w) == 0;

	if (ok && json) {
		ok = (doc = cJSON_Print(found)) != NULL && append(&buf, &used, &cap, doc, strlen(doc)) == 0 &&
		     append(&buf, &used, &cap, "\n", 1) == 0;
	} else if (ok) {
		cJSON_ArrayForEach(it, found)
			if (ok)
				ok = append(&buf, &used, &cap, line, show_customer_line(it, line, sizeof(line))) == 0;
	}
	free(doc);
	if (!ok) {
		free(buf);
		return NULL;
	}
	*len = used;
	return buf;
}

char *lookup_answer(struct store *st, const char *question, size_t len, size_t *n)
{
	char text[LOOKUP_MAX_TEXT + 1], *out = NULL;
	cJSON *found = NULL;
	struct pa_err e;
	bool json = false;
	int limit = 0;

	if (lookup_parse_question(question, len, POSAGENT_VERSION, &limit, &json, text, sizeof(text)) == 0 &&
	    cust_search(st, text, limit, &found, &e) == 0)
		out = printed(found, json, n);
	cJSON_Delete(found);
	if (!out && (out = strdup("no\n")) != NULL)
		*n = 3;
	return out;
}

/* Answers the one question on the accepted connection fd from st: the
 * question must come within LOOKUP_SERVE_MS, and the answer is given up
 * when the asker does not take it within LOOKUP_SERVE_MS either. */
static void answer_one(struct store *st, int fd)
{
	size_t qlen = 0, alen = 0;
	char *question = recv_all(fd, LOOKUP_MAX_QUESTION, LOOKUP_SERVE_MS, util_mono() + LOOKUP_SERVE_MS / 1000.0, &qlen);
	char *answer = question ? lookup_answer(st, question, qlen, &alen) : NULL;

	if (answer)
		(void)send_all(fd, answer, alen, util_mono() + LOOKUP_SERVE_MS / 1000.0);
	else
		(void)send_all(fd, "no\n", 3, util_mono() + LOOKUP_SERVE_MS / 1000.0);
	free(answer);
	free(question);
}

void lookup_loop(const struct cfg *cfg, volatile sig_atomic_t *stop)
{
	struct store *st = NULL;
	struct sockaddr_un a;
	struct usock_id id;
	struct pa_err e;
	char msg[512];
	bool taken_over = false;
	int lfd = -1;

	if (usock_addr(cfg->database, "-lookup", &a) != 0) {
		log_warn("no lookup socket: the database path is too long for one beside it"
		         " (customer search opens the database itself)");
		return;
	}
	if (store_open(cfg->database, false, &st, &e)) {
		log_warn("lookup: %s (customer search opens the database itself)", e.message);
		return;
	}
	lfd = usock_bind(cfg->database, &a, SOCK_STREAM, &taken_over, &id, msg, sizeof(msg));
	if (lfd < 0) {
		log_warn("no lookup socket: %s (customer search opens the database itself)", msg);
		goto cleanup;
	}
	if (taken_over)
		log_warn("another service was answering searches on %s: taking it over", a.sun_path);
	while (!*stop) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		int fd;
		if (poll(&p, 1, (int)(UTIL_STOP_CHECK * 1000)) <= 0)
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				util_sleep(0.1, stop); /* out of descriptors: do not spin */
			continue;
		}
		answer_one(st, fd);
		close(fd);
	}
	usock_unlink(&a, &id);
	close(lfd);
cleanup:
	store_close(st);
}
