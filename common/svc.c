/*
 * svc: see svc.h. libsystemd is opened with dlopen("libsystemd.so.0") the
 * first time, and only when $NOTIFY_SOCKET says systemd listens: the CLI
 * commands the till runs never pay for loading it (and its compression and
 * crypto libraries) at start-up, as with libcurl in hqclient.c. The header
 * <systemd/sd-daemon.h> gives the prototypes the table is checked against.
 */
#include "common/svc.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "common/diag.h"
#include "common/log.h"
#include "common/util.h"

static struct {
	__typeof__(sd_notify) *notify;
	__typeof__(sd_watchdog_enabled) *watchdog_enabled;
} sd;
static pthread_once_t sd_once = PTHREAD_ONCE_INIT;

/* Runs once (pthread_once): loads libsystemd's two functions when systemd
 * started us with a notification socket; else leaves the table empty. */
static void sd_load(void)
{
	void *lib, *n, *w;

	if (!getenv("NOTIFY_SOCKET"))
		return;
	lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
	n = lib ? dlsym(lib, "sd_notify") : NULL;
	w = lib ? dlsym(lib, "sd_watchdog_enabled") : NULL;
	if (!n || !w) {
		log_error("cannot load libsystemd.so.0: systemd will not hear that the service is ready");
		return;
	}
	/* POSIX: a data pointer from dlsym converts to a function pointer. */
	memcpy(&sd.notify, &n, sizeof(n));
	memcpy(&sd.watchdog_enabled, &w, sizeof(w));
}

/* Sends one notification (printf-style) when systemd listens. */
__attribute__((format(printf, 1, 2))) static void notifyf(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	pthread_once(&sd_once, sd_load);
	if (!sd.notify)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sd.notify(0, msg);
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char status_line[512] = "starting";

/* Sends STATUS=line (kept for the next READY=1) when it differs from the
 * last one sent. */
static void set_status(const char *line)
{
	bool changed;

	pthread_mutex_lock(&lock);
	changed = strcmp(status_line, line) != 0;
	if (changed)
		snprintf(status_line, sizeof(status_line), "%s", line);
	pthread_mutex_unlock(&lock);
	if (changed)
		notifyf("STATUS=%s", line);
}

void svc_ready(void)
{
	char line[sizeof(status_line)];

	pthread_mutex_lock(&lock);
	snprintf(line, sizeof(line), "%s", status_line);
	pthread_mutex_unlock(&lock);
	notifyf("READY=1\nSTATUS=%s", line);
}

void svc_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	notifyf("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=%llu",
	           (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
}

void svc_reloaded(const char *refused)
{
	char line[sizeof(status_line)];

	if (refused) {
		snprintf(line, sizeof(line), "reload refused, old configuration kept: %s", refused);
		pthread_mutex_lock(&lock);
		snprintf(status_line, sizeof(status_line), "%s", line);
		pthread_mutex_unlock(&lock);
		notifyf("READY=1\nSTATUS=%s", line);
		return;
	}
	svc_ready();
}

void svc_stopping(void)
{
	notifyf("STOPPING=1\nSTATUS=stopping");
}

void svc_failed(int status, const char *why)
{
	notifyf("STATUS=%s\nERRNO=%d", why, status);
}

/* WatchdogSec= in microseconds, 0 when none (read once). */
static uint64_t watchdog_usec(void)
{
	static int enabled = -1;
	static uint64_t usec;

	if (enabled < 0) {
		pthread_once(&sd_once, sd_load);
		enabled = sd.watchdog_enabled && sd.watchdog_enabled(0, &usec) > 0 ? 1 : 0;
	}
	return enabled ? usec : 0;
}

void svc_watchdog(void)
{
	static double last;
	uint64_t usec = watchdog_usec();
	double now;

	if (!usec)
		return;
	now = util_mono();
	if (last > 0 && now - last < (double)usec / 2e6)
		return;
	last = now;
	notifyf("WATCHDOG=1");
}

double svc_tick(void)
{
	uint64_t usec = watchdog_usec();

	return usec ? (double)usec / 4e6 : 60.0;
}

void svc_publish(struct store *st)
{
	struct diag_counts c;
	struct diag_meta m;
	struct pa_err e;
	char line[sizeof(status_line)];
	int64_t waiting, rejected;

	pthread_once(&sd_once, sd_load);
	if (!sd.notify /* not under systemd: nothing to read */ || diag_count(st, &c, &e) || diag_meta(st, &m, &e))
		return;
	waiting = c.n[DIAG_CUSTOMER][0] + c.n[DIAG_CUSTOMER][1] + c.n[DIAG_ADDRESS][0] + c.n[DIAG_TXN][0];
	rejected = c.n[DIAG_CUSTOMER][3] + c.n[DIAG_ADDRESS][2] + c.n[DIAG_TXN][2];
	snprintf(line, sizeof(line), "queue: %lld waiting for HQ, %lld rejected; last error: %s%s%s",
	         (long long)waiting, (long long)rejected, m.last_error[0] ? m.last_error : "none",
	         m.last_error_at[0] ? " at " : "", m.last_error_at);
	set_status(line);
}
