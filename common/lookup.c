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

/* Waits for events on fd until the monotonic time until, or until *stop
 * (NULL: never; looked at every 100 ms). Returns true when they came. */
static bool await(int fd, short events, double until, volatile sig_atomic_t *stop)
{
	for (;;) {
		struct pollfd p = {.fd = fd, .events = events};
		int ms = left_ms(until), r;
		if (ms == 0 || (stop && *stop))
			return false;
		r = poll(&p, 1, stop && ms > 100 ? 100 : ms);
		if (r > 0)
			return true;
		if (r < 0 && errno != EINTR)
			return false;
	}
}

/* Sends all len bytes of buf on the non-blocking fd before until (or
 * *stop, see await). Returns 0 or -1. */
static int send_all(int fd, const char *buf, size_t len, double until, volatile sig_atomic_t *stop)
{
	while (len > 0) {
		ssize_t k = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k > 0) {
			buf += k;
			len -= (size_t)k;
		} else if (k < 0 && errno == EINTR) {
			continue;
		} else if (!(k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) || !await(fd, POLLOUT, until, stop)) {
			return -1;
		}
	}
	return 0;
}

/* Reads from the non-blocking fd until end of stream, at most max bytes,
 * before until (or *stop, see await). Returns the bytes (the caller's;
 * NUL-terminated, their number in *len) or NULL: more than max, an error,
 * or no end of stream in time. */
static char *recv_all(int fd, size_t max, double until, volatile sig_atomic_t *stop, size_t *len)
{
	size_t cap = 0, n = 0;
	char *buf = NULL, *grown, *out = NULL;

	for (;;) {
		ssize_t k;
		if (n + 2 > cap) { /* room for one byte more than max, and the NUL */
			size_t want = cap ? cap * 2 : 16384;
			if (want > max + 2)
				want = max + 2;
			if (want <= cap || !(grown = realloc(buf, want)))
				break;
			buf = grown;
			cap = want;
		}
		k = recv(fd, buf + n, cap - n - 1, MSG_DONTWAIT);
		if (k > 0 && (n += (size_t)k) > max)
			break;
		if (k == 0) {
			buf[n] = '\0';
			*len = n;
			out = buf;
			buf = NULL;
			break;
		}
		if (k < 0 && errno != EINTR && ((errno != EAGAIN && errno != EWOULDBLOCK) || !await(fd, POLLIN, until, stop)))
			break;
	}
	free(buf);
	return out;
}

int lookup_search(const char *db_path, const char *text, int limit, bool json, char **out, size_t *len, int *count)
{
	struct sockaddr_un a;
	char question[LOOKUP_MAX_QUESTION], *answer = NULL, *end;
	size_t alen = 0, tlen = strlen(text);
	double t0 = util_mono();
	int fd = -1, rc = -1, w;
	long n, bytes;
	char ack = 0;

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
	if (send_all(fd, question, (size_t)w, t0 + LOOKUP_WAIT_MS / 1000.0, NULL) != 0 || shutdown(fd, SHUT_WR) != 0)
		goto cleanup;
	/* '+' at once: the service is alive and has the question; its search
	 * may then take the rest of LOOKUP_TOTAL_MS */
	if (!await(fd, POLLIN, t0 + LOOKUP_WAIT_MS / 1000.0, NULL) || recv(fd, &ack, 1, MSG_DONTWAIT) != 1 || ack != '+')
		goto cleanup;
	answer = recv_all(fd, LOOKUP_MAX_ANSWER, t0 + LOOKUP_TOTAL_MS / 1000.0, NULL, &alen);
	/* "ok COUNT BYTES\n" and exactly BYTES bytes: an answer cut short (the
	 * service killed, or given up on a slow reader) is no answer */
	if (!answer || alen < 7 || memcmp(answer, "ok ", 3) != 0 || answer[3] < '0' || answer[3] > '9')
		goto cleanup;
	errno = 0;
	n = strtol(answer + 3, &end, 10);
	if (errno || *end != ' ' || n > limit || end[1] < '0' || end[1] > '9')
		goto cleanup;
	bytes = strtol(end + 1, &end, 10);
	if (errno || *end != '\n' || bytes < 0 || (size_t)bytes != alen - (size_t)(end + 1 - answer))
		goto cleanup;
	*len = (size_t)bytes;
	memmove(answer, end + 1, *len + 1); /* with its NUL */
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
 * the header "ok COUNT BYTES\n". Returns the buffer (*len bytes) or NULL
 * (no memory). */
static char *printed(const cJSON *found, bool json, size_t *len)
{
	char head[64], line[2048], *body = NULL, *doc = NULL, *out = NULL;
	size_t used = 0, cap = 0;
	const cJSON *it;
	bool ok = append(&body, &used, &cap, "", 0) == 0;
	int w;

	if (ok && json) {
		ok = (doc = cJSON_Print(found)) != NULL && append(&body, &used, &cap, doc, strlen(doc)) == 0 &&
		     append(&body, &used, &cap, "\n", 1) == 0;
	} else {
		cJSON_ArrayForEach(it, found)
			if (ok)
				ok = append(&body, &used, &cap, line, show_customer_line(it, line, sizeof(line))) == 0;
	}
	w = snprintf(head, sizeof(head), "ok %d %zu\n", cJSON_GetArraySize(found), used);
	if (ok && w > 0 && (size_t)w < sizeof(head) && (out = malloc((size_t)w + used + 1)) != NULL) {
		memcpy(out, head, (size_t)w);
		memcpy(out + w, body, used + 1);
		*len = (size_t)w + used;
	}
	free(doc);
	free(body);
	return out;
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

/* Answers the one question on the accepted connection fd from st: '+'
 * once the question came (within LOOKUP_SERVE_MS), then the answer, given
 * up when the asker does not take it within LOOKUP_SERVE_MS; either wait
 * ends early on *stop. */
static void answer_one(struct store *st, int fd, volatile sig_atomic_t *stop)
{
	size_t qlen = 0, alen = 0;
	char *question = recv_all(fd, LOOKUP_MAX_QUESTION, util_mono() + LOOKUP_SERVE_MS / 1000.0, stop, &qlen);
	char *answer = NULL;

	if (question && send_all(fd, "+", 1, util_mono() + LOOKUP_SERVE_MS / 1000.0, stop) == 0) {
		answer = lookup_answer(st, question, qlen, &alen);
		if (answer)
			(void)send_all(fd, answer, alen, util_mono() + LOOKUP_SERVE_MS / 1000.0, stop);
		else
			(void)send_all(fd, "no\n", 3, util_mono() + LOOKUP_SERVE_MS / 1000.0, stop);
	}
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
		int fd;
		if (!util_wait_fd(lfd, 3600, stop)) /* asleep until a command asks or a stop */
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				util_sleep(0.1, stop); /* out of descriptors: do not spin */
			continue;
		}
		answer_one(st, fd, stop);
		close(fd);
	}
	usock_unlink(&a, &id);
	close(lfd);
cleanup:
	store_close(st);
}
