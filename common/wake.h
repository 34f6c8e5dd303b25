/*
 * wake: tells a running `posagent run` at once that there is something to
 * do, instead of it polling the database.
 *
 * The mechanism is one datagram on a unix socket beside the database,
 * DATABASE-wake (SOCK_DGRAM, bound by the service, mode 0660 and the
 * database's group, like the database's own files). A sender never blocks
 * and never fails: the send is MSG_DONTWAIT on a fresh non-blocking
 * socket, and "no such file", "connection refused" (service down) or "queue
 * full" (a wake is already waiting) all mean there is nothing more to do.
 * Each datagram is one byte saying why:
 *   WAKE_COMMIT  a record was committed (a command of the POS),
 *   WAKE_HQ      HQ answers again after failures (the service's downloader).
 * Why a datagram: it needs no shared memory and no thread in the sender,
 * works across users through the group permission on the socket file, is
 * allowed by the unit's RestrictAddressFamilies=AF_UNIX, costs a few
 * microseconds, and many wakes while the service is busy collapse into the
 * socket's queue (the service drains it whole and makes one pass). inotify
 * on the WAL would fire on the service's own writes and on checkpoints, and
 * an eventfd cannot be reached by another process without passing it.
 */
#ifndef POSAGENT_WAKE_H
#define POSAGENT_WAKE_H

#include <signal.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#define WAKE_COMMIT 'c'
#define WAKE_HQ 'h'

struct wake; /* the service's end: the bound socket */

/* The socket's path for database db_path into out (DATABASE-wake).
 * Returns 0, or -1 when it does not fit a unix socket address (108 bytes):
 * then there is no wake-up and the service's periodic pass does the work. */
int wake_path(const char *db_path, char *out, size_t n);

/* Sends one datagram saying why to the service of database db_path.
 * Never blocks, never fails: every error is ignored (the commit is what
 * counts; the periodic pass is the safety net). */
void wake_send(const char *db_path, char why);

/* Makes every commit of connection db (WAL mode) send WAKE_COMMIT for
 * db_path once it is durable: a sqlite3_wal_hook, which SQLite calls after
 * the commit and after the write lock is released. It takes over SQLite's
 * automatic checkpoint (the same rule: a passive checkpoint once the WAL
 * holds 1,000 pages). db_path must outlive db. */
void wake_on_commit(sqlite3 *db, const char *db_path);

/* Binds the service's socket for db_path (replacing a stale one left by a
 * crash), mode 0660 and the database's group. Returns 0 with *out, or -1
 * with a message in msg (the service then runs on its periodic pass). */
int wake_open(const char *db_path, struct wake **out, char *msg, size_t n);

/* Waits up to secs for a wake. any: a WAKE_COMMIT ends the wait too (idle);
 * else only WAKE_HQ does (a backoff, which commits must not cut short).
 * Ends on *stop as util_wait_fd does. Every datagram waiting is read.
 * Returns true when woken, false at the end of secs or on *stop. A NULL
 * w sleeps secs (util_sleep). */
bool wake_wait(struct wake *w, double secs, bool any, volatile sig_atomic_t *stop);

/* Sends why to w's own socket (the downloader waking the uploader). */
void wake_post(struct wake *w, char why);

/* Closes the socket and removes its file if it is still this one. */
void wake_close(struct wake *w);

#endif
