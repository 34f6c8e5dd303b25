/*
 * svc: the service's conversation with systemd (sd_notify(3), unit
 * Type=notify). Every call is a no-op when systemd did not start us
 * ($NOTIFY_SOCKET unset), so `posagent run` behaves the same in a shell.
 *
 *   READY=1        once both workers run (svc_ready), and again after a
 *                  reload, good or refused (svc_reloaded)
 *   RELOADING=1    while SIGHUP's new configuration is read
 *   STATUS=...     what `systemctl status` shows: the records waiting for
 *                  HQ, the rejected ones, and the last error (svc_publish);
 *                  a refused reload or start says why
 *   WATCHDOG=1     at half of WatchdogSec= while the main loop runs and
 *                  both workers are alive (svc_watchdog; svc_tick says
 *                  how long the loop may sleep in between)
 *   STOPPING=1     on SIGTERM
 * Messages name no customer (the last error is the sync engine's, which
 * names records by id only) and never the token.
 */
#ifndef POSAGENT_SVC_H
#define POSAGENT_SVC_H

#include "common/store.h"

/* READY=1 with the current STATUS. */
void svc_ready(void);

/* RELOADING=1 (and MONOTONIC_USEC, which systemd 253+ wants). */
void svc_reloading(void);

/* READY=1 after a reload; refused (non-NULL): STATUS says the reload was
 * refused, why, and that the old configuration is kept. */
void svc_reloaded(const char *refused);

/* STOPPING=1. */
void svc_stopping(void);

/* STATUS=the reason and ERRNO=status: a start refused or a worker's
 * failure, just before the process exits with that status. */
void svc_failed(int status, const char *why);

/* WATCHDOG=1 when WatchdogSec= is set and half of it has passed since the
 * last one. Call often (every main-loop tick). */
void svc_watchdog(void);

/* How long the main loop may sleep, in seconds: a quarter of WatchdogSec=
 * (so that svc_watchdog sends at every half), else 60. */
double svc_tick(void);

/* Reads the queue (records waiting for HQ, rejected ones) and the last
 * error from st and sends STATUS= when it changed. Errors are ignored
 * (the status line is best effort). */
void svc_publish(struct store *st);

#endif
