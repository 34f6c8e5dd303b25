/*
 * fuzz_lookup: a question to the service's lookup socket (common/lookup.c
 * lookup_answer: the header, the limit, the format, the text, then the
 * search itself) against a real database of three customers. Anyone in
 * the database's group can write to that socket.
 */
#include <stdlib.h>
#include <string.h>

#include "common/customer.h"
#include "common/lookup.h"
#include "tests/fuzz/fuzz.h"

/* The database, made once per process, with a few customers to find. */
static struct store *db(void)
{
	static struct store *st;
	static const char *const recs[] = {
		"{\"first_name\":\"Ana\",\"last_name\":\"Silva\",\"email\":\"ana@example.com\"}",
		"{\"first_name\":\"João\",\"last_name\":\"Müller\",\"phone\":\"+351 911 234 567\"}",
		"{\"kind\":\"organization\",\"organization_name\":\"Silva & Filhos\"}",
	};

	if (st)
		return st;
	st = fz_store("lookup", NULL, 0);
	for (size_t i = 0; i < sizeof(recs) / sizeof(recs[0]); i++) {
		cJSON *rec = cJSON_Parse(recs[i]), *doc = NULL;
		struct pa_err e;
		bool created;
		if (!rec || cust_create(st, rec, false, &doc, &created, &e))
			abort();
		cJSON_Delete(rec);
		cJSON_Delete(doc);
	}
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = 0;
	char *a;

	if (size > LOOKUP_MAX_QUESTION)
		return 0;
	a = lookup_answer(db(), (const char *)data, size, &n);
	/* always an answer of the protocol: "no\n" or "ok COUNT\n..." */
	if (!a || n != strlen(a) || (strcmp(a, "no\n") != 0 && strncmp(a, "ok ", 3) != 0) || !memchr(a, '\n', n))
		abort();
	free(a);
	return 0;
}
