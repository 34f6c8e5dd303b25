/*
 * log: one line per event on stderr, for the service and sync. Lines name
 * customers only by async id or local number, never by name, email, phone
 * or address; the token never appears (callers pass no such thing).
 *
 * On a terminal or a file a line is "TIME posagent[PID]: level: message".
 * When stderr is the journal (systemd sets $JOURNAL_STREAM to its device
 * and inode), a line is "<N>message": sd-daemon(3)'s priority prefix, so
 * `journalctl -p warning` finds the warnings, and no time or tag of our
 * own (the journal adds both).
 */
#ifndef POSAGENT_LOG_H
#define POSAGENT_LOG_H

#include <stdbool.h>

/* syslog(3) priorities, as sd-daemon(3) prefixes them. */
enum { LOG_PRIO_ERR = 3, LOG_PRIO_WARNING = 4, LOG_PRIO_INFO = 6 };

/* "2026-11-25T09:14:03Z posagent[PID]: info: message" */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 2 (the default) logs everything, 1 only warnings and errors, 0 nothing
 * (the CLI's sync prints one summary line unless --verbose). */
void log_set_verbose(int level);

/* --verbose of sync and eod: on, every HQ request is logged as one line
 * "HQ METHOD PATH -> STATUS in N ms" (or "-> failed: why"), never a body,
 * a header or the token. Off by default. */
void log_set_requests(int on);

/* One request line, when log_set_requests(1) was called. status 0: no
 * reply (error says why). */
void log_request(const char *method, const char *path, long status, double ms, const char *error);

/* True when stderr is systemd's journal stream ($JOURNAL_STREAM). */
bool log_to_journal(void);

/* "<prio>" when stderr is the journal, else "": for lines written to
 * stderr other than through log_* (the CLI's "posagent: message"). */
const char *log_prefix(int prio);

#endif
