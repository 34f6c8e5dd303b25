#include "common/util.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/err.h"
#include <stdarg.h>

int err_set(struct pa_err *e, int status, const char *code, const char *field,
            const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return status;
	e->status = status;
	util_copy(e->code, sizeof(e->code), code ? code : "error");
	util_copy(e->field, sizeof(e->field), field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return status;
}

int util_uuid(char out[UUID_LEN + 1])
{
	uint8_t b[16];
	size_t got = 0;

	while (got < sizeof(b)) {
		ssize_t n = getrandom(b + got, sizeof(b) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, UUID_LEN + 1,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
	         b[12], b[13], b[14], b[15]);
	return 0;
}

double util_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void util_rfc3339(time_t t, char out[21])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

time_t util_parse_rfc3339(const char *s)
{
	struct tm tm;
	const char *end;

	if (!s)
		return -1;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	if (*end == '.') {
		end++;
		while (*end >= '0' && *end <= '9')
			end++;
	}
	if (end[0] != 'Z' || end[1] != '\0')
		return -1;
	return timegm(&tm);
}

/* The descriptor attached to a stop flag (util_stop_attach): an eventfd,
 * set by util_stop_raise, emptied by util_stop_reset. Written before the
 * waiting threads start and after they end. */
static volatile sig_atomic_t *stop_flag;
static int stop_fd = -1;

int util_stop_attach(volatile sig_atomic_t *stop)
{
	util_stop_detach();
	if ((stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		return -1;
	stop_flag = stop;
	return 0;
}

void util_stop_raise(volatile sig_atomic_t *stop)
{
	uint64_t one = 1;
	ssize_t n = 0;

	*stop = 1;
	if (stop == stop_flag && stop_fd >= 0)
		n = write(stop_fd, &one, sizeof(one));
	(void)n; /* unwritten (cannot happen below 2^64 - 1): the flag is seen */
}

void util_stop_reset(volatile sig_atomic_t *stop)
{
	uint64_t v;
	ssize_t n = 0;

	*stop = 0;
	if (stop == stop_flag && stop_fd >= 0)
		n = read(stop_fd, &v, sizeof(v));
	(void)n; /* EAGAIN: it was empty */
}

int util_stop_fd(const volatile sig_atomic_t *stop)
{
	return stop && stop == stop_flag ? stop_fd : -1;
}

void util_stop_detach(void)
{
	if (stop_fd >= 0)
		close(stop_fd);
	stop_fd = -1;
	stop_flag = NULL;
}

/* Milliseconds for poll() from secs (rounded up, at least 0, at most a
 * day). */
static int poll_ms(double secs)
{
	if (secs <= 0)
		return 0;
	if (secs > 86400)
		secs = 86400;
	return (int)(secs * 1000) + 1;
}

bool util_wait_fd(int fd, double secs, volatile sig_atomic_t *stop)
{
	double until = util_mono() + secs;
	int sfd = util_stop_fd(stop);

	while (!(stop && *stop)) {
		/* poll() ignores an entry whose descriptor is negative */
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
		double left = until - util_mono();
		int n;
		if (left <= 0)
			break;
		if (sfd < 0 && left > UTIL_STOP_CHECK)
			left = UTIL_STOP_CHECK; /* no descriptor: look at the flag this often */
		n = poll(p, 2, poll_ms(left));
		if (n > 0 && (p[0].revents & POLLIN))
			return true;
		if (n < 0 && errno != EINTR) { /* cannot poll: sleep a slice, do not spin */
			struct timespec ts = {0, (long)(UTIL_STOP_CHECK * 1e9)};
			nanosleep(&ts, NULL);
		}
	}
	return false;
}

void util_sleep(double secs, volatile sig_atomic_t *stop)
{
	(void)util_wait_fd(-1, secs, stop);
}

int util_copy(char *dst, size_t n, const char *src)
{
	size_t len;

	if (n == 0)
		return -1;
	len = strlen(src);
	if (len >= n) {
		memcpy(dst, src, n - 1);
		dst[n - 1] = '\0';
		return -1;
	}
	memcpy(dst, src, len + 1);
	return 0;
}

cJSON *util_json_parse(const char *buf, size_t len)
{
	const char *end = NULL;
	cJSON *doc = cJSON_ParseWithLengthOpts(buf, len, &end, 0);

	if (!doc)
		return NULL;
	for (; end && (size_t)(end - buf) < len; end++) {
		if (*end != ' ' && *end != '\t' && *end != '\n' && *end != '\r') {
			cJSON_Delete(doc);
			return NULL;
		}
	}
	return doc;
}

bool util_json_has_nul(const char *buf, size_t len)
{
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char ch = buf[i];
		if (ch == '\0')
			return true;
		if (!in_str) {
			in_str = ch == '"';
		} else if (ch == '"') {
			in_str = false;
		} else if (ch == '\\' && i + 1 < len) {
			if (buf[i + 1] == 'u' && i + 5 < len && memcmp(buf + i + 2, "0000", 4) == 0)
				return true;
			i++; /* the escaped character (a quote or backslash is no delimiter) */
		}
	}
	return false;
}
