#include "common/log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

static int verbose = 2; /* 0 quiet, 1 warnings, 2 everything */
static int requests;    /* log every HQ request */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int journal = -1; /* -1 not known yet, 0 a terminal or file, 1 the journal */

void log_set_verbose(int level)
{
	verbose = level;
}

/* True when stderr is the stream systemd connected to the journal: its
 * device and inode are the ones $JOURNAL_STREAM ("DEV:INO") names.
 * Decided once; a stderr redirected by a child shell compares unequal. */
bool log_to_journal(void)
{
	const char *js;
	uintmax_t dev, ino;
	struct stat sb;
	int j = 0;

	if (journal >= 0)
		return journal == 1;
	js = getenv("JOURNAL_STREAM");
	if (js && sscanf(js, "%ju:%ju", &dev, &ino) == 2 && fstat(STDERR_FILENO, &sb) == 0 &&
	    (uintmax_t)sb.st_dev == dev && (uintmax_t)sb.st_ino == ino)
		j = 1;
	journal = j;
	return j == 1;
}

const char *log_prefix(int prio)
{
	static const char *const p[] = {"<0>", "<1>", "<2>", "<3>", "<4>", "<5>", "<6>", "<7>"};

	if (!log_to_journal())
		return "";
	return p[prio < 0 ? 0 : prio > 7 ? 7 : prio];
}

/* Writes one whole line under a lock so threads never interleave. On the
 * journal: "<N>message" (sd-daemon(3)'s priority prefix; the journal adds
 * the time and the tag); elsewhere: "TIME posagent[PID]: level: message". */
static void emit(int prio, const char *level, const char *fmt, va_list ap)
{
	char ts[21], msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	pthread_mutex_lock(&lock);
	if (log_to_journal()) {
		fprintf(stderr, "%s%s\n", log_prefix(prio), msg);
	} else {
		util_rfc3339(time(NULL), ts);
		fprintf(stderr, "%s posagent[%d]: %s: %s\n", ts, (int)getpid(), level, msg);
	}
	fflush(stderr);
	pthread_mutex_unlock(&lock);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 2)
		return;
	va_start(ap, fmt);
	emit(LOG_PRIO_INFO, "info", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 1)
		return;
	va_start(ap, fmt);
	emit(LOG_PRIO_WARNING, "warn", fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;

	if (verbose < 1)
		return;
	va_start(ap, fmt);
	emit(LOG_PRIO_ERR, "error", fmt, ap);
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
	emit(LOG_PRIO_INFO, "info", fmt, ap);
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
