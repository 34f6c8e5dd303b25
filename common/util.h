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

/* How often a wait of the service looks at its stop flag, in seconds: a
 * SIGTERM is obeyed within about this (AGENT.md: clean within 2 s), and an
 * idle service wakes this often per waiting thread (its idle CPU). */
#define UTIL_STOP_CHECK 0.5

/* Sleeps up to secs on CLOCK_MONOTONIC, returning early (within
 * UTIL_STOP_CHECK) once *stop becomes non-zero. stop may be NULL. */
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
