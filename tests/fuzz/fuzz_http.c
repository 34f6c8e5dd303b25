/*
 * fuzz_http: HTTP dates and Retry-After as HQ sends them
 * (common/hqclient.c: IMF-fixdate and the two obsolete forms, a delay in
 * seconds or a date measured against the reply's own Date), and the
 * certificate dates read from HQ's chain.
 */
#include <stdlib.h>

#include "common/hqclient.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	time_t d;

	if (size > 4096)
		return 0;
	s = fz_text(data, size);
	d = hq_parse_http_date(s);
	(void)hq_retry_after(s, 0, 1798675200);
	(void)hq_retry_after(s, 1798675200, 1798675260);
	(void)hq_retry_after(s, d == (time_t)-1 ? 0 : d, 1798675200);
	(void)hq_parse_cert_date(s);
	free(s);
	return 0;
}
