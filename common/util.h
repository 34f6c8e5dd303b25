/*
 * util: small helpers every module uses: ids, clocks, time text.
 */
#ifndef POSAGENT_UTIL_H
#define POSAGENT_UTIL_H

#include "common/err.h"
#include <stdbool.h>
#include <stddef.h>
#include <signal.h>
#include <time.h>

#define UUID_LEN 36

/* A random (version 4) UUID, lowercase, into out[UUID_LEN + 1].
 * Returns 0, or -1 when the kernel gives no randomness. */
PA_MUST_USE int util_uuid(char out[UUID_LEN + 1]);

/* Seconds on CLOCK_MONOTONIC: for backoff, waits and timeouts. */
double util_mono(void);

/* t as RFC 3339 UTC "YYYY-MM-DDTHH:MM:SSZ" into out[21]. */
void util_rfc3339(time_t t, char out[21]);

/* Parses RFC 3339 UTC "YYYY-MM-DDTHH:MM:SS[.fff]Z"; -1 when unreadable. */
time_t util_parse_rfc3339(const char *s);

/* How often a wait looks at a stop flag that has no descriptor attached
 * (util_stop_attach), in seconds: a signal is obeyed within about this.
 * The service attaches one, so its waits sleep until a stop, a wake-up
 * or their own deadline instead (its idle cost). */
#define UTIL_STOP_CHECK 0.5

/* Attaches a descriptor to the stop flag *stop: readable (POLLIN) from
 * util_stop_raise until util_stop_reset, so that a thread blocked in
 * poll() on it wakes at once. One flag at a time, attached before the
 * threads that wait on it start and detached after they end. Returns 0,
 * or -1 (no descriptor: the waits then look at the flag every
 * UTIL_STOP_CHECK, as without one). */
PA_MUST_USE int util_stop_attach(volatile sig_atomic_t *stop);

/* Sets *stop and makes its descriptor readable. Any thread. */
void util_stop_raise(volatile sig_atomic_t *stop);

/* Clears *stop and empties its descriptor (no thread waits on it). */
void util_stop_reset(volatile sig_atomic_t *stop);

/* The descriptor attached to stop, or -1 (none, or stop NULL). */
int util_stop_fd(const volatile sig_atomic_t *stop);

/* Closes the descriptor attached, if any. */
void util_stop_detach(void);

/* Waits up to secs (CLOCK_MONOTONIC) for fd to be readable (fd < 0: for
 * nothing), returning early once *stop becomes non-zero: at once when a
 * descriptor is attached to it, else within UTIL_STOP_CHECK. stop may be
 * NULL. Returns true when fd is readable, false at the deadline or stop. */
bool util_wait_fd(int fd, double secs, volatile sig_atomic_t *stop);

/* Sleeps up to secs, returning early on a stop (util_wait_fd). */
void util_sleep(double secs, volatile sig_atomic_t *stop);

/* Bounded copy: copies at most n-1 bytes of src and terminates dst.
 * Returns 0, or -1 when src was cut. */
int util_copy(char *dst, size_t n, const char *src);


#include <cJSON.h>
/* Parses exactly one JSON document from buf (len bytes): NULL when it is
 * not JSON, nested deeper than cJSON allows, or followed by anything but
 * white space. */
cJSON *util_json_parse(const char *buf, size_t len);

/* Whether buf (len bytes of JSON text) holds a NUL: a raw NUL byte, or the
 * escape \u0000 inside a string. cJSON cuts a string at its NUL, so
 * "Ana\u0000Evil" would be stored, compared and sent as "Ana": callers
 * refuse such input (65 invalid_text) or such an HQ reply. */
bool util_json_has_nul(const char *buf, size_t len);

#endif
