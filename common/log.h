/*
 * log: one line per event on stderr, for the service and sync. Lines name
 * customers only by async id or local number, never by name, email, phone
 * or address; the token never appears (callers pass no such thing).
 */
#ifndef POSAGENT_LOG_H
#define POSAGENT_LOG_H

/* "2026-11-25T09:14:03Z posagent[PID]: info: message" */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 2 (the default) logs everything, 1 only warnings, 0 nothing (the
 * CLI's sync prints one summary line unless --verbose). */
void log_set_verbose(int level);

/* --verbose of sync and eod: on, every HQ request is logged as one line
 * "HQ METHOD PATH -> STATUS in N ms" (or "-> failed: why"), never a body,
 * a header or the token. Off by default. */
void log_set_requests(int on);

/* One request line, when log_set_requests(1) was called. status 0: no
 * reply (error says why). */
void log_request(const char *method, const char *path, long status, double ms, const char *error);

#endif
