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

#endif
