#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

static int verbose = 2; /* 0 quiet, 1 warnings, 2 everything */
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
