/*
 * fuzz_from_json: the --from-json inputs, through the very functions the
 * commands call, into a real database: the first byte picks the command
 * (even: `customer create --from-json`, as agent/cmd_customer.c reads a
 * record: NUL check, one JSON document, an object; odd: `txn record
 * --from-json`, txn_record on the raw text), the rest is the file.
 */
#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "common/customer.h"
#include "common/txn.h"
#include "common/util.h"
#include "tests/fuzz/fuzz.h"

static struct store *st;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 1;
	struct pa_err e;
	cJSON *out = NULL, *rec;
	bool created = false;

	if (size < 1 || size > 256 * 1024)
		return 0;
	memset(&e, 0, sizeof(e));
	if (!st)
		st = fz_store("from-json", NULL, 0);
	size--;
	if (data[0] & 1) {
		if (txn_record(st, buf, size, &out, &created, &e) != 0 && !e.message[0])
			abort(); /* a refusal always says why */
	} else if (!util_json_has_nul(buf, size) && (rec = util_json_parse(buf, size))) {
		if (cJSON_IsObject(rec))
			if (cust_create(st, rec, true, &out, &created, &e) != 0 && !e.message[0])
				abort(); /* a refusal always says why */
		cJSON_Delete(rec);
	}
	cJSON_Delete(out);
	return 0;
}
