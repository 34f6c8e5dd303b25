/*
 * hq_clock: HQ's own clock. Tests shift it (--clock-offset, admin "clock")
 * to check an agent's clock-skew diagnostics and its reading of a
 * Retry-After HTTP-date against the reply's Date header. Only the Date
 * header, health's "time" and Retry-After dates use the shifted clock;
 * stored times and delays use the real one.
 */
#include "tests/hq/hq.h"

#include <stdatomic.h>
#include <stdio.h>
#include <sys/time.h>

static atomic_long offset_s;

/* clock_now: the wall clock plus the offset, in seconds. */
time_t clock_now(void)
{
	return time(NULL) + (time_t)atomic_load(&offset_s);
}

void clock_set_offset(long seconds)
{
	atomic_store(&offset_s, seconds);
}

long clock_offset(void)
{
	return atomic_load(&offset_s);
}

/* clock_ms: real wall-clock milliseconds since the epoch. */
int64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* clock_http_date: RFC 7231 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT".
 * Written by hand so that no locale can change the names. */
void clock_http_date(time_t t, char out[40])
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
	         tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	         tm.tm_sec);
}
