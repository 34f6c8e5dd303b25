#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

static int verbose = 2; /* 0 quiet, 1 warnings, 2 everything */
static int requests;    /* log every HQ request */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void log_set_verbose(int level)
{
	verbose = level;
}

/* Writes one whole line under a lock so threads never interleave. */
static void emit(const char *level, const char *fmt, va_list ap)
{
	char ts[21], msg[768];

	util_rfc3339(time(NULL), ts);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	pthread_mutex_lock(&lock);
	fprintf(stderr, "%s posagent[%d]: %s: %s\n", ts, (int)getpid(), level, msg);
	fflush(stderr);
	pthread_mutex_unlock(&lock);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 2)
		return;
	va_start(ap, fmt);
	emit("info", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 1)
		return;
	va_start(ap, fmt);
	emit("warn", fmt, ap);
	va_end(ap);
}

void log_set_requests(int on)
{
	requests = on;
}

/* Calls emit() with a va_list made here. */
static void emit_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("info", fmt, ap);
	va_end(ap);
}

void log_request(const char *method, const char *path, long status, double ms, const char *error)
{
	int plen;

	if (!requests)
		return;
	plen = (int)strcspn(path, "?"); /* the path only: a query may hold a cursor */
	if (plen > 300)
		plen = 300;
	if (status > 0)
		emit_info("HQ %s %.*s -> %ld in %.0f ms", method, plen, path, status, ms);
	else
		emit_info("HQ %s %.*s -> failed in %.0f ms: %.200s", method, plen, path, ms, error ? error : "no reply");
}
