/*
 * fuzz_validate: HQ-API record validation (common/validate.c), as the
 * agent runs it on --from-json input and the reference HQ on every record
 * of a batch: the raw number scans, then each record check on the parsed
 * document, with and without the options.
 */
#include <cJSON.h>
#include <stdlib.h>

#include "common/util.h"
#include "common/validate.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct val_err err;
	cJSON *doc;
	long long v;

	if (size > 256 * 1024)
		return 0;
	(void)val_json_plain_numbers(buf, size);
	(void)val_json_bad_number_index(buf, size, "records");
	(void)val_json_bad_number_index(buf, size, "lines");
	if (util_json_has_nul(buf, size))
		return 0;
	doc = util_json_parse(buf, size);
	if (!doc)
		return 0;
	/* a refusal always names its code */
	if ((val_customer(doc, &err) != 0 && !err.code[0]) || (val_address(doc, true, &err) != 0 && !err.code[0]) ||
	    (val_address(doc, false, &err) != 0 && !err.code[0]) ||
	    (val_transaction(doc, true, &err) != 0 && !err.code[0]) ||
	    (val_transaction(doc, false, &err) != 0 && !err.code[0]))
		abort();
	(void)val_integer(doc, &v);
	if (cJSON_IsString(doc)) {
		(void)val_text(doc->valuestring, 200, true);
		(void)val_uuid(doc->valuestring);
		(void)val_date(doc->valuestring);
		(void)val_time(doc->valuestring);
	}
	cJSON_Delete(doc);
	return 0;
}
