/*
 * fuzz_changes: a page of HQ's changes feed (common/download.c
 * down_apply: account_assigned, customer changes with their addresses,
 * address_assigned, the cursor), applied to a real database that holds
 * two customers and an address made here (fixed async ids, so that seeds
 * can name them). The database keeps what earlier inputs applied; each
 * input is applied after the current cursor.
 */
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "common/customer.h"
#include "common/download.h"
#include "common/util.h"
#include "tests/fuzz/fuzz.h"

static struct store *st;

/* Two customers made here: 11111111-1111-4111-8111-111111111111 and
 * ...2222; aborts on failure. */
static void seed_db(void)
{
	static const char *const recs[] = {
		"{\"async_id\":\"11111111-1111-4111-8111-111111111111\",\"kind\":\"person\",\"first_name\":\"Ana\"}",
		"{\"async_id\":\"22222222-2222-4222-8222-222222222222\",\"kind\":\"organization\","
		"\"organization_name\":\"Bolo Lda\"}",
	};
	struct pa_err e;

	st = fz_store("changes", NULL, 0);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		cJSON *rec = cJSON_Parse(recs[i]), *out = NULL;
		bool created;
		if (!rec || cust_create(st, rec, true, &out, &created, &e) != 0)
			abort();
		cJSON_Delete(rec);
		cJSON_Delete(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct down_outcome o;
	struct pa_err e;
	char cur[600], *text;
	cJSON *doc;

	if (size > 256 * 1024)
		return 0;
	memset(&e, 0, sizeof(e));
	if (!st)
		seed_db();
	/* the client hands back no 2xx body holding a NUL (hqclient.c) */
	if (util_json_has_nul((const char *)data, size))
		return 0;
	text = fz_text(data, size);
	doc = cJSON_Parse(text);
	if (store_meta_get(st, "cursor", cur, sizeof(cur), &e) != 0)
		abort();
	memset(&o, 0, sizeof(o));
	if (down_apply(st, cur, doc, &o, &e) != 0 && e.status != EX_DATAERR && e.status != EX_IOERR)
		abort(); /* only a refusal or a database failure may come back */
	cJSON_Delete(doc);
	free(text);
	return 0;
}
