/*
 * fuzz_batch_reply: HQ's 200 reply to an upload batch (common/record.c
 * rec_apply_reply: the reply must match the batch member for member, then
 * each result moves its record). The database holds a frozen batch of two
 * customers (fixed async ids 11111111-... and 22222222-...) and a sale
 * naming the first (S0001-R01-000001), in that order; when a reply is
 * applied, the records go back to pending and are frozen again, so every
 * input meets the same batch.
 */
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "common/customer.h"
#include "common/record.h"
#include "common/txn.h"
#include "common/util.h"
#include "tests/fuzz/fuzz.h"

static struct store *st;
static int64_t bid;
static char batch_id[64];

/* Puts every record back to pending and freezes them; aborts on failure. */
static void refreeze(void)
{
	struct pa_err e;
	sqlite3_stmt *s;

	if (sqlite3_exec(st->db, "DELETE FROM batch;"
	                         "UPDATE customer SET state = 'pending', batch_id = NULL;"
	                         "UPDATE address SET state = 'pending', batch_id = NULL;"
	                         "UPDATE txn SET state = 'pending', batch_id = NULL;", NULL, NULL, NULL) != SQLITE_OK ||
	    rec_freeze(st, 500, NULL, &bid, &e) != 0 || !bid)
		abort();
	if (sqlite3_prepare_v2(st->db, "SELECT batch_id FROM batch WHERE id = ?1", -1, &s, NULL) != SQLITE_OK)
		abort();
	sqlite3_bind_int64(s, 1, bid);
	if (sqlite3_step(s) != SQLITE_ROW)
		abort();
	util_copy(batch_id, sizeof(batch_id), (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
}

/* The records of the batch; aborts on failure. */
static void seed_db(void)
{
	static const char *const recs[] = {
		"{\"async_id\":\"11111111-1111-4111-8111-111111111111\",\"kind\":\"person\",\"first_name\":\"Ana\"}",
		"{\"async_id\":\"22222222-2222-4222-8222-222222222222\",\"kind\":\"person\",\"first_name\":\"Bo\"}",
	};
	static const char sale[] =
		"{\"txn_id\":\"S0001-R01-000001\",\"kind\":\"cash_and_carry\",\"business_date\":\"2026-11-25\","
		"\"currency\":\"EUR\",\"customer\":{\"async_id\":\"11111111-1111-4111-8111-111111111111\"},"
		"\"lines\":[{\"sku\":\"S\",\"qty\":1,\"unit_price_minor\":100}],"
		"\"tenders\":[{\"type\":\"cash\",\"amount_minor\":100}],\"total_minor\":100}";
	struct pa_err e;
	cJSON *out = NULL;
	bool created;

	st = fz_store("batch", NULL, 0);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		cJSON *rec = cJSON_Parse(recs[i]);
		if (!rec || cust_create(st, rec, true, &out, &created, &e) != 0)
			abort();
		cJSON_Delete(rec);
		cJSON_Delete(out);
	}
	if (txn_record(st, sale, sizeof(sale) - 1, &out, &created, &e) != 0)
		abort();
	cJSON_Delete(out);
	refreeze();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_tally t;
	struct pa_err e;
	char *text;
	int ok = 0;

	if (size > 256 * 1024)
		return 0;
	if (!st)
		seed_db();
	/* the client hands back no 2xx body holding a NUL (hqclient.c) */
	if (util_json_has_nul((const char *)data, size))
		return 0;
	text = fz_text(data, size);
	memset(&t, 0, sizeof(t));
	if (rec_apply_reply(st, bid, batch_id, text, &t, &ok, &e) != 0)
		abort(); /* a database failure here is a bug: the file is fine */
	if (ok)
		refreeze();
	free(text);
	return 0;
}
