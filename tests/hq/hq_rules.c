/*
 * hq_rules: the rules of the 2026-11-30 revision that HQ checks beyond
 * common/validate: a record member HQ-API.md does not name is refused
 * (invalid_record), references name exactly one id, and a primary address
 * needs a purpose. Kept apart from common/validate so that the agent's own
 * reading of those rules (branch addr) and HQ's can be compared; both
 * answer with the page's codes.
 */
#include "tests/hq/hq.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const customer_members[] = {
	"type", "async_id", "local_number", "created_at", "kind", "first_name", "last_name",
	"organization_name", "email", "phone", "language", "attributes", NULL};
static const char *const address_members[] = {
	"type", "async_id", "customer", "purpose", "primary", "line1", "line2", "city", "region",
	"postal_code", "country", NULL};
static const char *const txn_members[] = {
	"type", "txn_id", "kind", "business_date", "created_at", "currency", "customer",
	"delivery_address", "invoice_address", "lines", "tenders", "total_minor", NULL};
static const char *const line_members[] = {"sku", "qty", "unit_price_minor", NULL};
static const char *const tender_members[] = {"type", "amount_minor", NULL};
static const char *const cupd_members[] = {"type", "update_id", "created_at", "customer",
                                           "fields", NULL};
static const char *const aupd_members[] = {"type", "update_id", "created_at", "address",
                                           "fields", NULL};
static const char *const cust_ref[] = {"async_id", "account", NULL};
static const char *const addr_ref[] = {"async_id", "address_id", NULL};

/* Fields an update may change (HQ-API.md "Edits after upload"). */
static const char *const cust_changeable[] = {"first_name", "last_name", "organization_name",
                                              "email", "phone", "language", "attributes", NULL};
static const char *const addr_changeable[] = {"purpose", "primary", "line1", "line2", "city",
                                              "region", "postal_code", "country", NULL};

/* bad: fills *err with code, field and a formatted message; returns -1. */
static int bad(struct val_err *err, const char *code, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(struct val_err *err, const char *code, const char *field, const char *fmt, ...)
{
	va_list ap;
	int k;

	util_copy(err->code, sizeof(err->code), code);
	util_copy(err->field, sizeof(err->field), field);
	k = snprintf(err->message, sizeof(err->message), "%s: ", field);
	if (k < 0 || (size_t)k >= sizeof(err->message))
		k = 0;
	va_start(ap, fmt);
	vsnprintf(err->message + k, sizeof(err->message) - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

static bool named(const char *const *names, const char *s)
{
	for (; *names; names++)
		if (!strcmp(*names, s))
			return true;
	return false;
}

/* only_named: every member of obj (an object, else ignored) is in names.
 * prefix names obj in the message ("" for the record). */
static int only_named(const cJSON *obj, const char *const *names, const char *prefix,
                      struct val_err *err)
{
	const cJSON *m;
	char field[64];

	if (!cJSON_IsObject(obj))
		return 0;
	cJSON_ArrayForEach(m, obj)
	{
		if (named(names, m->string))
			continue;
		snprintf(field, sizeof(field), "%s%s%.40s", prefix, *prefix ? "." : "", m->string);
		return bad(err, "invalid_record", field, "HQ-API.md names no such member");
	}
	return 0;
}

/* items_named: only_named for every element of the array member name. */
static int items_named(const cJSON *rec, const char *name, const char *const *names,
                       struct val_err *err)
{
	const cJSON *el;
	char prefix[32];
	int i = 0;

	cJSON_ArrayForEach(el, cJSON_GetObjectItemCaseSensitive(rec, name))
	{
		snprintf(prefix, sizeof(prefix), "%s[%d]", name, i++);
		if (only_named(el, names, prefix, err) < 0)
			return -1;
	}
	return 0;
}

/* rules_ref: see hq.h. */
int rules_ref(const cJSON *rec, const char *name, bool required, bool address,
              const cJSON **id, struct val_err *err)
{
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(rec, name), *m, *only = NULL;
	const char *const *names = address ? addr_ref : cust_ref;
	const char *want = address ? "must be {\"async_id\": UUID} or {\"address_id\": ID}"
	                           : "must be {\"async_id\": UUID} or {\"account\": ID}";

	*id = NULL;
	if (!ref || cJSON_IsNull(ref))
		return required ? bad(err, "invalid_record", name, "is required") : 0;
	if (!cJSON_IsObject(ref))
		return bad(err, "invalid_record", name, "%s", want);
	cJSON_ArrayForEach(m, ref)
	{
		if (!named(names, m->string))
			return bad(err, "invalid_record", name, "%s", want);
		if (cJSON_IsNull(m))
			continue;
		if (only || !cJSON_IsString(m) || !m->valuestring[0])
			return bad(err, "invalid_record", name, "%s", want);
		only = m;
	}
	if (!only)
		return bad(err, "invalid_record", name, "%s", want);
	if (!strcmp(only->string, "async_id") && !val_uuid(only->valuestring))
		return bad(err, "invalid_record", name, "async_id must be a UUID");
	if (!val_text(only->valuestring, 200, false))
		return bad(err, "invalid_text", name, "must be clean text of at most 200 characters");
	*id = only;
	return 0;
}

/* rules_members: see hq.h. */
int rules_members(const cJSON *rec, const char *type, struct val_err *err)
{
	const cJSON *id;

	if (!strcmp(type, "customer"))
		return only_named(rec, customer_members, "", err);
	if (!strcmp(type, "address"))
		return only_named(rec, address_members, "", err) < 0 ||
		               only_named(cJSON_GetObjectItemCaseSensitive(rec, "customer"), cust_ref,
		                          "customer", err) < 0
		               ? -1
		               : 0;
	if (!strcmp(type, "transaction") && api_legacy())
		for (int i = 0; i < 2; i++)
			if (cJSON_GetObjectItemCaseSensitive(rec, i ? "invoice_address" : "delivery_address"))
				return bad(err, "invalid_record", i ? "invoice_address" : "delivery_address",
				           "%s: not a member of a transaction (this HQ predates addresses on sales)",
				           i ? "invoice_address" : "delivery_address");
	if (!strcmp(type, "transaction"))
		return only_named(rec, txn_members, "", err) < 0 ||
		               only_named(cJSON_GetObjectItemCaseSensitive(rec, "customer"), cust_ref,
		                          "customer", err) < 0 ||
		               items_named(rec, "lines", line_members, err) < 0 ||
		               items_named(rec, "tenders", tender_members, err) < 0 ||
		               rules_ref(rec, "delivery_address", false, true, &id, err) < 0 ||
		               rules_ref(rec, "invoice_address", false, true, &id, err) < 0
		               ? -1
		               : 0;
	if (!strcmp(type, "customer_update"))
		return only_named(rec, cupd_members, "", err);
	return only_named(rec, aupd_members, "", err);
}

/* rules_fields: see hq.h. */
int rules_fields(const cJSON *fields, bool address, struct val_err *err)
{
	if (!cJSON_IsObject(fields))
		return bad(err, "invalid_record", "fields", "an object of the changed fields is required");
	if (!fields->child)
		return bad(err, "invalid_record", "fields", "names no field: an update changes something");
	return only_named(fields, address ? addr_changeable : cust_changeable, "fields", err);
}

/* rules_primary: see hq.h. */
int rules_primary(const cJSON *addr, struct val_err *err)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(addr, "primary");
	const cJSON *purpose = cJSON_GetObjectItemCaseSensitive(addr, "purpose");

	if (cJSON_IsTrue(p) && (!purpose || cJSON_IsNull(purpose)))
		return bad(err, "invalid_address", "primary",
		           "a primary address needs a purpose (primary is per purpose)");
	return 0;
}
