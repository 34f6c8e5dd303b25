/*
 * fuzz_statement: HQ's reply to an end-of-day statement
 * (common/eod.c eod_read_reply: the posting id of a 201, the error
 * document of 409 unknown_transactions / unsynced_customers /
 * already_posted, 422 with expected totals, anything else). The first
 * byte picks the HTTP status, the rest is the body.
 */
#include <stdlib.h>
#include <string.h>

#include "common/eod.h"
#include "common/util.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {201, 200, 409, 422, 400, 429, 503, 500, 401, 0};
	struct eod_stmt s;
	struct eod_post_outcome o;
	struct hq_response r;

	if (size < 1 || size > 256 * 1024)
		return 0;
	memset(&s, 0, sizeof(s));
	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	util_copy(s.date, sizeof(s.date), "2026-11-25");
	util_copy(s.statement_id, sizeof(s.statement_id), "7d0e3b8e-1c1f-4c1a-9a53-2b1d1e0f4a10");
	s.txns = 3;
	r.status = statuses[data[0] % (sizeof(statuses) / sizeof(statuses[0]))];
	r.retry_after = -1;
	/* the client hands back no 2xx body holding a NUL (hqclient.c) */
	if (r.status >= 200 && r.status < 300 && util_json_has_nul((const char *)data + 1, size - 1))
		return 0;
	r.body = fz_text(data + 1, size - 1);
	r.body_len = size - 1;
	eod_read_reply(&s, &r, &o);
	cJSON_Delete(o.ids);
	free(r.body);
	return 0;
}
