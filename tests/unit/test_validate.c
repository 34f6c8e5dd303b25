/*
 * test_validate: HQ-API.md's validation table, one row per rule and per
 * boundary (both sides), run through the same functions the agent and the
 * reference HQ call. Records are JSON texts parsed with cJSON; "$R" in a
 * text is replaced by a repeated piece (with '#' in the piece replaced by
 * the repetition's index) so that long boundaries stay readable.
 *
 * What must hold: every valid record is accepted with 0, every invalid one
 * is refused with -1, the HQ-API code and, where given, the JSON path of
 * the field; the message starts with that path. The raw-JSON scanners are
 * checked on hand-made texts and on every prefix of a valid batch (each
 * copied to a buffer of exactly its size, so ASan sees any over-read).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/validate.h"

#define U1 "0b7c5e1e-8a3f-4d3c-9a57-1c2b3d4e5f60"
#define U2 "6f1d2c3b-4a59-4e8d-b7c6-a5f4e3d2c1b0"
#define SQL "Robert'); DROP TABLE customer;--"

/* Customers. */
#define PERSON(x) "{\"type\":\"customer\",\"async_id\":\"" U1 "\",\"kind\":\"person\"" x "}"
#define ORG(x) "{\"type\":\"customer\",\"async_id\":\"" U1 "\",\"kind\":\"organization\"" x "}"
#define ANA(x) PERSON(",\"first_name\":\"Ana\"" x)

/* Addresses: the header, then the members a test wants. */
#define ADDR(x) "{\"type\":\"address\",\"async_id\":\"" U2 "\",\"customer\":{\"async_id\":\"" U1 "\"}" x "}"
#define ADDR_NOREF(x) "{\"type\":\"address\",\"async_id\":\"" U2 "\"" x "}"
#define A_LINE1 ",\"line1\":\"Rua Augusta 1\""
#define A_CITY ",\"city\":\"Lisboa\""
#define A_POST ",\"postal_code\":\"1100-048\""
#define A_CC ",\"country\":\"PT\""
#define A_OK A_LINE1 A_CITY A_POST A_CC

/* Transactions. */
#define HEAD(id, date, cur) "\"txn_id\":\"" id "\",\"business_date\":\"" date "\",\"currency\":\"" cur "\""
#define TXNH(h, kind, cust, lines, tenders, total, x) \
	"{\"type\":\"transaction\"," h ",\"kind\":\"" kind "\",\"customer\":" cust \
	",\"lines\":" lines ",\"tenders\":" tenders ",\"total_minor\":" total x "}"
#define TXN(kind, cust, lines, tenders, total, x) \
	TXNH(HEAD("S0001-R01-000123", "2026-11-25", "EUR"), kind, cust, lines, tenders, total, x)
#define CC(lines, tenders, total) TXN("cash_and_carry", "null", lines, tenders, total, "")
#define CREF "{\"async_id\":\"" U1 "\"}"
#define L1 "[{\"sku\":\"SKU-1\",\"qty\":2,\"unit_price_minor\":1299}]"
#define T1 "[{\"type\":\"cash\",\"amount_minor\":2598}]"
#define LINE(sku, qty, price) "{\"sku\":\"" sku "\",\"qty\":" qty ",\"unit_price_minor\":" price "}"
#define TENDER(type, amount) "{\"type\":\"" type "\",\"amount_minor\":" amount "}"
#define DATE(d) TXNH(HEAD("T1", d, "EUR"), "cash_and_carry", "null", L1, T1, "2598", "")

enum which { CUST, ADDRESS, ADDRESS_NOREF, TXN_, TXN_LOCAL };

struct vcase {
	const char *name;
	enum which fn;
	const char *json;  /* may hold one "$R" */
	const char *rep;   /* the piece that replaces $R, '#' = its index */
	int n;             /* how many times */
	const char *code;  /* NULL: the record is valid */
	const char *field; /* NULL: not checked */
};

#define OK(name, fn, json) {name, fn, json, NULL, 0, NULL, NULL}
#define OKR(name, fn, json, rep, n) {name, fn, json, rep, n, NULL, NULL}
#define BAD(name, fn, json, code, field) {name, fn, json, NULL, 0, code, field}
#define BADR(name, fn, json, rep, n, code, field) {name, fn, json, rep, n, code, field}

static const struct vcase cases[] = {
	/* ---- customers: shape ---- */
	OK("customer: the HQ-API example", CUST,
	   "{\"type\":\"customer\",\"async_id\":\"" U1 "\",\"local_number\":\"R01-000042\","
	   "\"created_at\":\"2026-11-25T09:14:03Z\",\"kind\":\"person\",\"first_name\":\"Ana\","
	   "\"last_name\":\"Silva\",\"organization_name\":null,\"email\":\"ana@example.com\","
	   "\"phone\":\"+351 911 234 567\",\"language\":\"pt-PT\","
	   "\"attributes\":{\"loyalty_opt_in\":\"yes\"}}"),
	OK("customer: CLI input without type or async_id", CUST,
	   "{\"kind\":\"person\",\"last_name\":\"Silva\"}"),
	OK("customer: organization", CUST, ORG(",\"organization_name\":\"Padaria Lda\"")),
	OK("customer: organization with a contact name", CUST,
	   ORG(",\"organization_name\":\"ACME\",\"first_name\":\"Rui\"")),
	OK("customer: upper-case UUID", CUST,
	   "{\"async_id\":\"0B7C5E1E-8A3F-4D3C-9A57-1C2B3D4E5F60\",\"kind\":\"person\",\"first_name\":\"A\"}"),
	OK("customer: SQL-looking name is valid text", CUST, PERSON(",\"first_name\":\"" SQL "\"")),
	OK("customer: SQL-looking attribute value is valid text", CUST,
	   ANA(",\"attributes\":{\"note\":\"1; DELETE FROM t WHERE 1=1 --\"}")),
	OK("customer: null optional members count as absent", CUST,
	   ANA(",\"email\":null,\"phone\":null,\"language\":null,\"attributes\":null,"
	       "\"created_at\":null,\"local_number\":null")),
	BAD("customer: a member HQ-API.md does not name is refused, never dropped", CUST,
	    ANA(",\"favourite_colour\":42"), "invalid_record", "favourite_colour"),
	BAD("customer: not an object", CUST, "[1,2]", "invalid_record", ""),
	BAD("customer: kind missing", CUST, "{\"first_name\":\"Ana\"}", "invalid_record", "kind"),
	BAD("customer: kind robot", CUST, "{\"kind\":\"robot\",\"first_name\":\"Ana\"}",
	    "invalid_record", "kind"),
	BAD("customer: kind a number", CUST, "{\"kind\":1,\"first_name\":\"Ana\"}",
	    "invalid_record", "kind"),
	BAD("customer: first_name a number", CUST, PERSON(",\"first_name\":7"),
	    "invalid_record", "first_name"),
	BAD("customer: type address", CUST,
	    "{\"type\":\"address\",\"kind\":\"person\",\"first_name\":\"A\"}", "invalid_record", "type"),
	BAD("customer: async_id not a UUID", CUST,
	    "{\"async_id\":\"0b7c5e1e-8a3f-4d3c-9a57-1c2b3d4e5f6\",\"kind\":\"person\",\"first_name\":\"A\"}",
	    "invalid_record", "async_id"),
	BAD("customer: async_id not a string", CUST,
	    "{\"async_id\":12,\"kind\":\"person\",\"first_name\":\"A\"}", "invalid_record", "async_id"),
	BAD("customer: member given twice", CUST,
	    ANA(",\"email\":\"a@b.pt\",\"email\":\"c@d.pt\""), "invalid_record", "email"),
	BAD("customer: shape is judged before rules", CUST,
	    ANA(",\"email\":\"nope\",\"attributes\":[1]"), "invalid_record", "attributes"),
	/* ---- names ---- */
	BAD("customer: person without names", CUST, PERSON(""), "missing_name", NULL),
	BAD("customer: person with null names", CUST,
	    PERSON(",\"first_name\":null,\"last_name\":null,\"organization_name\":\"X\""),
	    "missing_name", NULL),
	BAD("customer: organization without organization_name", CUST,
	    ORG(",\"first_name\":\"Ana\""), "missing_name", "organization_name"),
	OK("customer: last name only", CUST, PERSON(",\"last_name\":\"Silva\"")),
	BAD("customer: empty first_name", CUST, PERSON(",\"first_name\":\"\""),
	    "invalid_name", "first_name"),
	OKR("customer: name of 100 two-byte characters", CUST,
	    PERSON(",\"first_name\":\"$R\""), "\xc3\xa9", 100),
	BADR("customer: name of 101 two-byte characters", CUST,
	     PERSON(",\"first_name\":\"$R\""), "\xc3\xa9", 101, "invalid_name", "first_name"),
	OKR("customer: name of 100 four-byte characters", CUST,
	    PERSON(",\"last_name\":\"$R\""), "\xf0\x9f\x98\x80", 100),
	BADR("customer: name of 101 four-byte characters", CUST,
	     PERSON(",\"last_name\":\"$R\""), "\xf0\x9f\x98\x80", 101, "invalid_name", "last_name"),
	BADR("customer: organization_name of 101", CUST,
	     ORG(",\"organization_name\":\"$R\""), "o", 101, "invalid_name", "organization_name"),
	/* ---- text: UTF-8 and control characters ---- */
	BAD("text: C0 control \\u0001", CUST, PERSON(",\"first_name\":\"A\\u0001B\""),
	    "invalid_text", "first_name"),
	BAD("text: tab", CUST, PERSON(",\"first_name\":\"A\\tB\""), "invalid_text", "first_name"),
	BAD("text: newline", CUST, PERSON(",\"last_name\":\"A\\nB\""), "invalid_text", "last_name"),
	BAD("text: raw control byte", CUST, PERSON(",\"first_name\":\"A\x1f" "B\""),
	    "invalid_text", "first_name"),
	BAD("text: DEL", CUST, PERSON(",\"first_name\":\"A\\u007fB\""), "invalid_text", "first_name"),
	BAD("text: C1 U+0080", CUST, PERSON(",\"first_name\":\"A\\u0080B\""),
	    "invalid_text", "first_name"),
	BAD("text: C1 U+0085 raw", CUST, PERSON(",\"first_name\":\"A\xc2\x85" "B\""),
	    "invalid_text", "first_name"),
	BAD("text: C1 U+009F", CUST, PERSON(",\"first_name\":\"A\\u009fB\""),
	    "invalid_text", "first_name"),
	OK("text: U+00A0 is not a control", CUST, PERSON(",\"first_name\":\"A\\u00a0B\"")),
	OK("text: U+10FFFF is the last code point", CUST,
	   PERSON(",\"first_name\":\"A\xf4\x8f\xbf\xbf\"")),
	BAD("utf8: bad lead byte 0xFF", CUST, PERSON(",\"first_name\":\"A\xff\""),
	    "invalid_text", "first_name"),
	BAD("utf8: lone continuation byte", CUST, PERSON(",\"first_name\":\"A\x80\""),
	    "invalid_text", "first_name"),
	BAD("utf8: overlong 2-byte '/'", CUST, PERSON(",\"first_name\":\"A\xc0\xaf\""),
	    "invalid_text", "first_name"),
	BAD("utf8: overlong 2-byte C1", CUST, PERSON(",\"first_name\":\"A\xc1\xbf\""),
	    "invalid_text", "first_name"),
	BAD("utf8: overlong 3-byte", CUST, PERSON(",\"first_name\":\"A\xe0\x80\xaf\""),
	    "invalid_text", "first_name"),
	BAD("utf8: overlong 4-byte", CUST, PERSON(",\"first_name\":\"A\xf0\x80\x80\xaf\""),
	    "invalid_text", "first_name"),
	BAD("utf8: surrogate U+D800", CUST, PERSON(",\"first_name\":\"A\xed\xa0\x80\""),
	    "invalid_text", "first_name"),
	BAD("utf8: surrogate U+DFFF", CUST, PERSON(",\"first_name\":\"A\xed\xbf\xbf\""),
	    "invalid_text", "first_name"),
	BAD("utf8: above U+10FFFF", CUST, PERSON(",\"first_name\":\"A\xf4\x90\x80\x80\""),
	    "invalid_text", "first_name"),
	BAD("utf8: 5-byte form", CUST, PERSON(",\"first_name\":\"A\xf8\x88\x80\x80\x80\""),
	    "invalid_text", "first_name"),
	BAD("utf8: truncated 3-byte", CUST, PERSON(",\"first_name\":\"A\xe2\x82\""),
	    "invalid_text", "first_name"),
	OKR("text: local_number of 200", CUST, ANA(",\"local_number\":\"$R\""), "x", 200),
	BADR("text: local_number of 201", CUST, ANA(",\"local_number\":\"$R\""), "x", 201,
	     "invalid_text", "local_number"),
	/* ---- created_at ---- */
	OK("created_at: with a fraction", CUST, ANA(",\"created_at\":\"2026-11-25T09:14:03.123456Z\"")),
	BAD("created_at: space instead of T", CUST, ANA(",\"created_at\":\"2026-11-25 09:14:03Z\""),
	    "invalid_text", "created_at"),
	BAD("created_at: offset, not UTC", CUST, ANA(",\"created_at\":\"2026-11-25T09:14:03+00:00\""),
	    "invalid_text", "created_at"),
	BAD("created_at: hour 24", CUST, ANA(",\"created_at\":\"2026-11-25T24:00:00Z\""),
	    "invalid_text", "created_at"),
	BAD("created_at: a number", CUST, ANA(",\"created_at\":1764061443"),
	    "invalid_record", "created_at"),
	/* ---- email ---- */
	OK("email: plain", CUST, ANA(",\"email\":\"ana@example.com\"")),
	OK("email: non-ASCII", CUST, ANA(",\"email\":\"jos\xc3\xa9@ex\xc3\xa4mple.pt\"")),
	BAD("email: no @", CUST, ANA(",\"email\":\"ana.example.com\""), "invalid_email", "email"),
	BAD("email: two @", CUST, ANA(",\"email\":\"ana@x@example.com\""), "invalid_email", "email"),
	BAD("email: nothing before @", CUST, ANA(",\"email\":\"@example.com\""), "invalid_email", "email"),
	BAD("email: nothing after @", CUST, ANA(",\"email\":\"ana@\""), "invalid_email", "email"),
	BAD("email: no dot in domain", CUST, ANA(",\"email\":\"ana@localhost\""), "invalid_email", "email"),
	BAD("email: empty", CUST, ANA(",\"email\":\"\""), "invalid_email", "email"),
	OKR("email: 254 characters", CUST, ANA(",\"email\":\"$R@example.com\""), "a", 242),
	BADR("email: 255 characters", CUST, ANA(",\"email\":\"$R@example.com\""), "a", 243,
	     "invalid_email", "email"),
	OKR("email: 254 multibyte characters", CUST, ANA(",\"email\":\"$R@example.com\""),
	    "\xc3\xa9", 242),
	BAD("email: control character", CUST, ANA(",\"email\":\"a\\u0007b@x.pt\""),
	    "invalid_text", "email"),
	/* ---- phone ---- */
	OK("phone: HQ-API example", CUST, ANA(",\"phone\":\"+351 911 234 567\"")),
	OK("phone: brackets and dashes", CUST, ANA(",\"phone\":\"(+351) 911-234-567\"")),
	OK("phone: exactly 6 digits", CUST, ANA(",\"phone\":\"123 456\"")),
	BAD("phone: 5 digits", CUST, ANA(",\"phone\":\"+1 2345\""), "invalid_phone", "phone"),
	OKR("phone: 32 characters", CUST, ANA(",\"phone\":\"$R\""), "1 ", 16),
	BADR("phone: 33 characters", CUST, ANA(",\"phone\":\"+$R\""), "1 ", 16,
	     "invalid_phone", "phone"),
	BAD("phone: dots", CUST, ANA(",\"phone\":\"911.234.567\""), "invalid_phone", "phone"),
	BAD("phone: letters", CUST, ANA(",\"phone\":\"call 911234567\""), "invalid_phone", "phone"),
	BAD("phone: a number", CUST, ANA(",\"phone\":911234567"), "invalid_record", "phone"),
	/* ---- language ---- */
	OK("language: zh-Hant-TW", CUST, ANA(",\"language\":\"zh-Hant-TW\"")),
	OK("language: 35 characters", CUST, ANA(",\"language\":\"en-abcdefgh-abcdefgh-abcdefgh-abcde\"")),
	BAD("language: 36 characters", CUST, ANA(",\"language\":\"en-abcdefgh-abcdefgh-abcdefgh-abcdef\""),
	    "invalid_text", "language"),
	BAD("language: underscore", CUST, ANA(",\"language\":\"pt_PT\""), "invalid_text", "language"),
	BAD("language: empty", CUST, ANA(",\"language\":\"\""), "invalid_text", "language"),
	BAD("language: empty subtag", CUST, ANA(",\"language\":\"pt--PT\""), "invalid_text", "language"),
	BAD("language: leading digit", CUST, ANA(",\"language\":\"1pt\""), "invalid_text", "language"),
	/* ---- attributes ---- */
	OKR("attributes: 20", CUST, ANA(",\"attributes\":{$R\"k\":\"v\"}"), "\"k#\":\"v\",", 19),
	BADR("attributes: 21", CUST, ANA(",\"attributes\":{$R\"k\":\"v\"}"), "\"k#\":\"v\",", 20,
	     "invalid_attribute", "attributes"),
	OKR("attributes: key of 40", CUST, ANA(",\"attributes\":{\"$R\":\"v\"}"), "k", 40),
	BADR("attributes: key of 41", CUST, ANA(",\"attributes\":{\"$R\":\"v\"}"), "k", 41,
	     "invalid_attribute", "attributes"),
	BAD("attributes: upper-case key", CUST, ANA(",\"attributes\":{\"Loyalty\":\"yes\"}"),
	    "invalid_attribute", "attributes"),
	BAD("attributes: dash in key", CUST, ANA(",\"attributes\":{\"opt-in\":\"yes\"}"),
	    "invalid_attribute", "attributes"),
	BAD("attributes: empty key", CUST, ANA(",\"attributes\":{\"\":\"yes\"}"),
	    "invalid_attribute", "attributes"),
	BAD("attributes: non-ASCII key", CUST, ANA(",\"attributes\":{\"\xc3\xa9t\xc3\xa9\":\"yes\"}"),
	    "invalid_attribute", "attributes"),
	OKR("attributes: value of 200 two-byte characters", CUST,
	    ANA(",\"attributes\":{\"loyalty\":\"$R\"}"), "\xc3\xbc", 200),
	BADR("attributes: value of 201", CUST, ANA(",\"attributes\":{\"loyalty\":\"$R\"}"), "x", 201,
	     "invalid_attribute", "attributes.loyalty"),
	OK("attributes: empty value", CUST, ANA(",\"attributes\":{\"loyalty\":\"\"}")),
	BAD("attributes: value a number", CUST, ANA(",\"attributes\":{\"loyalty\":1}"),
	    "invalid_attribute", "attributes.loyalty"),
	BAD("attributes: value null", CUST, ANA(",\"attributes\":{\"loyalty\":null}"),
	    "invalid_attribute", "attributes.loyalty"),
	BAD("attributes: key twice", CUST, ANA(",\"attributes\":{\"a\":\"1\",\"a\":\"2\"}"),
	    "invalid_attribute", "attributes.a"),
	BAD("attributes: value with a control", CUST, ANA(",\"attributes\":{\"note\":\"a\\u001bb\"}"),
	    "invalid_text", "attributes.note"),
	BAD("attributes: an array", CUST, ANA(",\"attributes\":[\"a\"]"), "invalid_record", "attributes"),

	/* ---- addresses ---- */
	OK("address: the HQ-API example", ADDRESS,
	   ADDR(",\"purpose\":\"delivery\",\"primary\":true,\"line1\":\"Rua Augusta 1\","
		"\"line2\":null,\"city\":\"Lisboa\",\"region\":null,\"postal_code\":\"1100-048\","
		"\"country\":\"PT\"")),
	OK("address: by account", ADDRESS,
	   "{\"customer\":{\"account\":\"C000123\"}" A_OK "}"),
	OK("address: no purpose, primary false", ADDRESS, ADDR(",\"primary\":false" A_OK)),
	OK("address: CLI input without customer", ADDRESS_NOREF, ADDR_NOREF(A_OK)),
	OK("address: SQL-looking line1", ADDRESS_NOREF,
	   ADDR_NOREF(",\"line1\":\"" SQL "\"" A_CITY A_POST A_CC)),
	BAD("address: customer required", ADDRESS, ADDR_NOREF(A_OK), "invalid_record", "customer"),
	BAD("address: customer null", ADDRESS, ADDR_NOREF(",\"customer\":null" A_OK),
	    "invalid_record", "customer"),
	BAD("address: customer empty object", ADDRESS, ADDR_NOREF(",\"customer\":{}" A_OK),
	    "invalid_record", "customer"),
	BAD("address: customer with two members", ADDRESS,
	    ADDR_NOREF(",\"customer\":{\"async_id\":\"" U1 "\",\"account\":\"C1\"}" A_OK),
	    "invalid_record", "customer"),
	BAD("address: customer by local_number", ADDRESS,
	    ADDR_NOREF(",\"customer\":{\"local_number\":\"R01-000042\"}" A_OK),
	    "invalid_record", "customer"),
	BAD("address: customer async_id not a UUID", ADDRESS,
	    ADDR_NOREF(",\"customer\":{\"async_id\":\"42\"}" A_OK), "invalid_record", "customer.async_id"),
	BAD("address: customer a string", ADDRESS, ADDR_NOREF(",\"customer\":\"" U1 "\"" A_OK),
	    "invalid_record", "customer"),
	BADR("address: account of 201", ADDRESS,
	     ADDR_NOREF(",\"customer\":{\"account\":\"$R\"}" A_OK), "C", 201,
	     "invalid_text", "customer.account"),
	BAD("address: line1 missing", ADDRESS, ADDR(A_CITY A_POST A_CC), "invalid_address", "line1"),
	BAD("address: city empty", ADDRESS, ADDR(A_LINE1 ",\"city\":\"\"" A_POST A_CC),
	    "invalid_address", "city"),
	BAD("address: postal_code null", ADDRESS, ADDR(A_LINE1 A_CITY ",\"postal_code\":null" A_CC),
	    "invalid_address", "postal_code"),
	BAD("address: country missing", ADDRESS, ADDR(A_LINE1 A_CITY A_POST),
	    "invalid_address", "country"),
	BAD("address: country lower case", ADDRESS, ADDR(A_LINE1 A_CITY A_POST ",\"country\":\"pt\""),
	    "invalid_address", "country"),
	BAD("address: country of three", ADDRESS, ADDR(A_LINE1 A_CITY A_POST ",\"country\":\"PRT\""),
	    "invalid_address", "country"),
	BAD("address: purpose work", ADDRESS, ADDR(",\"purpose\":\"work\"" A_OK),
	    "invalid_address", "purpose"),
	BAD("address: primary a string", ADDRESS, ADDR(",\"primary\":\"yes\"" A_OK),
	    "invalid_record", "primary"),
	BAD("address: line1 a number", ADDRESS, ADDR(",\"line1\":1" A_CITY A_POST A_CC),
	    "invalid_record", "line1"),
	OKR("address: line2 of 200", ADDRESS, ADDR(A_OK ",\"line2\":\"$R\""), "x", 200),
	BADR("address: line2 of 201", ADDRESS, ADDR(A_OK ",\"line2\":\"$R\""), "x", 201,
	     "invalid_text", "line2"),
	BAD("address: control in line1", ADDRESS, ADDR(",\"line1\":\"a\\rb\"" A_CITY A_POST A_CC),
	    "invalid_text", "line1"),
	BAD("address: type customer", ADDRESS, "{\"type\":\"customer\"" A_OK "}", "invalid_record", "type"),

	/* ---- transactions ---- */
	OK("txn: the HQ-API example", TXN_,
	   "{\"type\":\"transaction\",\"txn_id\":\"S0001-R01-000123\",\"kind\":\"cash_and_carry\","
	   "\"business_date\":\"2026-11-25\",\"created_at\":\"2026-11-25T10:02:00Z\","
	   "\"currency\":\"EUR\",\"customer\":{\"async_id\":\"" U1 "\"},"
	   "\"lines\":[{\"sku\":\"SKU-1\",\"qty\":2,\"unit_price_minor\":1299}],"
	   "\"tenders\":[{\"type\":\"cash\",\"amount_minor\":2598}],\"total_minor\":2598}"),
	OK("txn: cash sale without customer", TXN_, CC(L1, T1, "2598")),
	OK("txn: customer by account", TXN_,
	   TXN("cash_and_carry", "{\"account\":\"C000123\"}", L1, T1, "2598", "")),
	OK("txn: delivery and invoice addresses by async id and by address id", TXN_,
	   TXN("customer_order", CREF, L1, "[]", "2598",
	       ",\"delivery_address\":{\"async_id\":\"3f0c9b2e-8d4a-4c1e-9f6b-2a7d5e8c1b40\"},"
	       "\"invoice_address\":{\"address_id\":\"A000045\"}")),
	OK("txn: null addresses count as absent", TXN_,
	   TXN("customer_order", CREF, L1, "[]", "2598", ",\"delivery_address\":null,\"invoice_address\":null")),
	BAD("txn: an address reference by account", TXN_,
	    TXN("customer_order", CREF, L1, "[]", "2598", ",\"delivery_address\":{\"account\":\"C1\"}"),
	    "invalid_record", "delivery_address"),
	BAD("txn: an address reference naming two ids", TXN_,
	    TXN("customer_order", CREF, L1, "[]", "2598",
	        ",\"invoice_address\":{\"address_id\":\"A1\",\"async_id\":\"3f0c9b2e-8d4a-4c1e-9f6b-2a7d5e8c1b40\"}"),
	    "invalid_record", "invoice_address"),
	BAD("txn: an address async id that is not a UUID", TXN_,
	    TXN("customer_order", CREF, L1, "[]", "2598", ",\"delivery_address\":{\"async_id\":\"x\"}"),
	    "invalid_record", "delivery_address.async_id"),
	BAD("txn: a member HQ-API.md does not name", TXN_,
	    TXN("customer_order", CREF, L1, "[]", "2598", ",\"shipping_address\":{\"async_id\":\"x\"}"),
	    "invalid_record", "shipping_address"),
	BAD("txn: a line member HQ-API.md does not name", TXN_,
	    TXN("cash_and_carry", "null", "[{\"sku\":\"A\",\"qty\":1,\"unit_price_minor\":2598,\"note\":\"x\"}]", T1,
	        "2598", ""),
	    "invalid_record", "lines[0].note"),
	OK("txn: customer absent", TXN_,
	   "{\"txn_id\":\"T1\",\"kind\":\"cash_and_carry\",\"business_date\":\"2026-11-25\","
	   "\"currency\":\"EUR\",\"lines\":" L1 ",\"tenders\":" T1 ",\"total_minor\":2598}"),
	OK("txn: customer by local_number when allowed", TXN_LOCAL,
	   TXN("customer_order", "{\"local_number\":\"R01-000042\"}", L1, "[]", "2598", "")),
	BAD("txn: customer by local_number at HQ", TXN_,
	    TXN("customer_order", "{\"local_number\":\"R01-000042\"}", L1, "[]", "2598", ""),
	    "invalid_record", "customer"),
	BAD("txn: customer_order without customer", TXN_,
	    TXN("customer_order", "null", L1, "[]", "2598", ""), "customer_required", "customer"),
	OK("txn: customer_order with a deposit that does not add up", TXN_,
	   TXN("customer_order", CREF, L1, "[" TENDER("card", "500") "]", "2598", "")),
	OK("txn: return, negative qty, tenders add up", TXN_,
	   CC("[" LINE("SKU-1", "-1", "1299") "]", "[" TENDER("cash", "-1299") "]", "-1299")),
	OK("txn: exchange, negative and positive lines", TXN_,
	   CC("[" LINE("A", "-1", "1299") "," LINE("B", "2", "500") "]",
	      "[" TENDER("cash", "-299") "]", "-299")),
	OK("txn: zero-total sale with no tenders", TXN_,
	   CC("[" LINE("FREE", "1", "0") "]", "[]", "0")),
	OK("txn: zero-total sale with tenders absent", TXN_,
	   "{\"txn_id\":\"T1\",\"kind\":\"cash_and_carry\",\"business_date\":\"2026-11-25\","
	   "\"currency\":\"EUR\",\"lines\":[" LINE("FREE", "1", "0") "],\"total_minor\":0}"),
	OK("txn: two tenders add up", TXN_,
	   CC(L1, "[" TENDER("cash", "598") "," TENDER("card", "2000") "]", "2598")),
	BAD("txn: total mismatch", TXN_, CC(L1, T1, "2597"), "invalid_transaction", "total_minor"),
	BAD("txn: cash tenders do not add up", TXN_,
	    CC(L1, "[" TENDER("cash", "2000") "]", "2598"), "invalid_transaction", "tenders"),
	BAD("txn: non-zero cash sale without tenders", TXN_, CC(L1, "[]", "2598"),
	    "invalid_transaction", "tenders"),
	BAD("txn: kind layaway", TXN_, TXN("layaway", "null", L1, T1, "2598", ""),
	    "invalid_transaction", "kind"),
	BAD("txn: kind missing", TXN_,
	    "{\"txn_id\":\"T1\",\"business_date\":\"2026-11-25\",\"currency\":\"EUR\","
	    "\"lines\":" L1 ",\"total_minor\":2598}", "invalid_record", "kind"),
	BAD("txn: txn_id missing", TXN_,
	    "{\"kind\":\"cash_and_carry\",\"business_date\":\"2026-11-25\",\"currency\":\"EUR\","
	    "\"lines\":" L1 ",\"tenders\":" T1 ",\"total_minor\":2598}", "invalid_record", "txn_id"),
	BAD("txn: lines missing", TXN_,
	    "{\"txn_id\":\"T1\",\"kind\":\"cash_and_carry\",\"business_date\":\"2026-11-25\","
	    "\"currency\":\"EUR\",\"total_minor\":0}", "invalid_record", "lines"),
	BAD("txn: total_minor a string", TXN_, CC(L1, T1, "\"2598\""), "invalid_record", "total_minor"),
	BAD("txn: type customer", TXN_,
	    "{\"type\":\"customer\",\"txn_id\":\"T1\",\"kind\":\"cash_and_carry\","
	    "\"business_date\":\"2026-11-25\",\"currency\":\"EUR\",\"lines\":" L1 ",\"total_minor\":2598}",
	    "invalid_record", "type"),
	BAD("txn: txn_id with a space", TXN_,
	    TXNH(HEAD("S0001 R01", "2026-11-25", "EUR"), "cash_and_carry", "null", L1, T1, "2598", ""),
	    "invalid_text", "txn_id"),
	BAD("txn: txn_id empty", TXN_,
	    TXNH(HEAD("", "2026-11-25", "EUR"), "cash_and_carry", "null", L1, T1, "2598", ""),
	    "invalid_text", "txn_id"),
	OKR("txn: txn_id of 64", TXN_,
	    TXNH(HEAD("$R", "2026-11-25", "EUR"), "cash_and_carry", "null", L1, T1, "2598", ""), "a_-Z", 16),
	BADR("txn: txn_id of 65", TXN_,
	     TXNH(HEAD("x$R", "2026-11-25", "EUR"), "cash_and_carry", "null", L1, T1, "2598", ""), "a_-Z", 16,
	     "invalid_text", "txn_id"),
	OK("date: 2024-02-29 (leap year)", TXN_, DATE("2024-02-29")),
	BAD("date: 2023-02-29", TXN_, DATE("2023-02-29"), "invalid_transaction", "business_date"),
	BAD("date: 2100-02-29 (century)", TXN_, DATE("2100-02-29"), "invalid_transaction", "business_date"),
	OK("date: 2000-02-29 (400 rule)", TXN_, DATE("2000-02-29")),
	BAD("date: 2026-04-31", TXN_, DATE("2026-04-31"), "invalid_transaction", "business_date"),
	BAD("date: month 13", TXN_, DATE("2026-13-01"), "invalid_transaction", "business_date"),
	BAD("date: no padding", TXN_, DATE("2026-1-5"), "invalid_transaction", "business_date"),
	BAD("date: with a time", TXN_, DATE("2026-11-25T00:00:00Z"), "invalid_transaction", "business_date"),
	BAD("txn: created_at not UTC", TXN_,
	    TXN("cash_and_carry", "null", L1, T1, "2598", ",\"created_at\":\"2026-11-25T10:02:00+01:00\""),
	    "invalid_text", "created_at"),
	BAD("txn: currency lower case", TXN_,
	    TXNH(HEAD("T1", "2026-11-25", "eur"), "cash_and_carry", "null", L1, T1, "2598", ""),
	    "invalid_transaction", "currency"),
	BAD("txn: currency of four", TXN_,
	    TXNH(HEAD("T1", "2026-11-25", "EURO"), "cash_and_carry", "null", L1, T1, "2598", ""),
	    "invalid_transaction", "currency"),
	BAD("txn: no lines", TXN_, CC("[]", "[]", "0"), "invalid_transaction", "lines"),
	OKR("txn: 500 lines", TXN_, CC("[$R" LINE("LAST", "1", "1") "]", "[" TENDER("cash", "500") "]", "500"),
	    LINE("S#", "1", "1") ",", 499),
	BADR("txn: 501 lines", TXN_, CC("[$R" LINE("LAST", "1", "1") "]", "[" TENDER("cash", "501") "]", "501"),
	     LINE("S#", "1", "1") ",", 500, "invalid_transaction", "lines"),
	OKR("txn: 20 tenders", TXN_, CC("[" LINE("A", "20", "1") "]", "[$R" TENDER("cash", "1") "]", "20"),
	    TENDER("cash", "1") ",", 19),
	BADR("txn: 21 tenders", TXN_, CC("[" LINE("A", "21", "1") "]", "[$R" TENDER("cash", "1") "]", "21"),
	     TENDER("cash", "1") ",", 20, "invalid_transaction", "tenders"),
	BAD("txn: lines an object", TXN_, CC("{}", T1, "2598"), "invalid_record", "lines"),
	BAD("txn: a line a string", TXN_, CC("[\"SKU-1\"]", T1, "2598"), "invalid_record", "lines[0]"),
	BAD("txn: line without qty", TXN_,
	    CC("[{\"sku\":\"A\",\"unit_price_minor\":1}]", "[]", "1"), "invalid_record", "lines[0].qty"),
	BAD("txn: qty a string", TXN_, CC("[" LINE("A", "\"2\"", "1") "]", "[]", "2"),
	    "invalid_record", "lines[0].qty"),
	BAD("txn: tender without amount", TXN_, CC(L1, "[{\"type\":\"cash\"}]", "2598"),
	    "invalid_record", "tenders[0].amount_minor"),
	BAD("txn: qty zero", TXN_, CC("[" LINE("A", "0", "1") "]", "[]", "0"),
	    "invalid_transaction", "lines[0].qty"),
	BAD("txn: qty with a fraction, field path", TXN_,
	    CC("[" LINE("A", "1", "1") "," LINE("B", "1", "1") "," LINE("C", "1", "1") ","
	       LINE("D", "0.5", "2") "]", "[" TENDER("cash", "4") "]", "4"),
	    "invalid_number", "lines[3].qty"),
	OK("txn: qty 10^15 - 1", TXN_,
	   CC("[" LINE("A", "999999999999999", "1") "]", "[" TENDER("cash", "999999999999999") "]",
	      "999999999999999")),
	BAD("txn: qty 10^15", TXN_,
	    CC("[" LINE("A", "1000000000000000", "1") "]", "[" TENDER("cash", "1000000000000000") "]",
	       "1000000000000000"), "invalid_number", "lines[0].qty"),
	OK("txn: price -(10^15 - 1)", TXN_,
	   CC("[" LINE("A", "1", "-999999999999999") "]", "[" TENDER("cash", "-999999999999999") "]",
	      "-999999999999999")),
	BAD("txn: price -10^15", TXN_, CC("[" LINE("A", "1", "-1000000000000000") "]", "[]", "0"),
	    "invalid_number", "lines[0].unit_price_minor"),
	BAD("txn: total 10^15", TXN_, CC(L1, T1, "1000000000000000"), "invalid_number", "total_minor"),
	BAD("txn: tender amount with a fraction", TXN_, CC(L1, "[" TENDER("cash", "2598.5") "]", "2598"),
	    "invalid_number", "tenders[0].amount_minor"),
	BAD("txn: line amount overflows", TXN_,
	    CC("[" LINE("A", "999999999999999", "999999999999999") "]", "[]", "0"),
	    "invalid_number", "lines[0]"),
	BAD("txn: line amount of 10^15", TXN_,
	    CC("[" LINE("A", "1000", "1000000000000") "]", "[]", "0"), "invalid_number", "lines[0]"),
	OK("txn: exponent that is integral passes val_integer", TXN_,
	   CC("[" LINE("A", "2e0", "1299") "]", T1, "2598")),
	BAD("txn: sku empty", TXN_, CC("[" LINE("", "1", "1") "]", "[]", "1"),
	    "invalid_text", "lines[0].sku"),
	OKR("txn: sku of 64", TXN_, CC("[" LINE("$R", "1", "1") "]", "[" TENDER("cash", "1") "]", "1"),
	    "s", 64),
	BADR("txn: sku of 65", TXN_, CC("[" LINE("$R", "1", "1") "]", "[" TENDER("cash", "1") "]", "1"),
	     "s", 65, "invalid_text", "lines[0].sku"),
	BAD("txn: tender type upper case", TXN_, CC(L1, "[" TENDER("Cash", "2598") "]", "2598"),
	    "invalid_text", "tenders[0].type"),
	BAD("txn: tender type empty", TXN_, CC(L1, "[" TENDER("", "2598") "]", "2598"),
	    "invalid_text", "tenders[0].type"),
	OKR("txn: tender type of 32", TXN_, CC(L1, "[" TENDER("$R", "2598") "]", "2598"), "ab_c", 8),
	BADR("txn: tender type of 33", TXN_, CC(L1, "[" TENDER("x$R", "2598") "]", "2598"), "ab_c", 8,
	     "invalid_text", "tenders[0].type"),
	OK("txn: SQL-looking sku text", TXN_,
	   CC("[" LINE("1' OR '1'='1", "1", "1") "]", "[" TENDER("cash", "1") "]", "1")),
};

static char text_buf[256 * 1024];

/* Builds the case's JSON text into text_buf: $R becomes rep, n times,
 * with each '#' in rep replaced by the repetition's index. */
static const char *expand(const struct vcase *c)
{
	const char *mark = strstr(c->json, "$R");
	size_t off = 0;
	int i;

	if (!mark || !c->rep) {
		snprintf(text_buf, sizeof text_buf, "%s", c->json);
		return text_buf;
	}
	off = (size_t)(mark - c->json);
	memcpy(text_buf, c->json, off);
	for (i = 0; i < c->n; i++) {
		const char *r;

		for (r = c->rep; *r; r++) {
			if (*r == '#')
				off += (size_t)snprintf(text_buf + off, sizeof text_buf - off, "%d", i);
			else
				text_buf[off++] = *r;
			assert_true(off + 64 < sizeof text_buf);
		}
	}
	snprintf(text_buf + off, sizeof text_buf - off, "%s", mark + 2);
	return text_buf;
}

static int run_case(const struct vcase *c, const cJSON *rec, struct val_err *err)
{
	switch (c->fn) {
	case CUST: return val_customer(rec, err);
	case ADDRESS: return val_address(rec, true, err);
	case ADDRESS_NOREF: return val_address(rec, false, err);
	case TXN_: return val_transaction(rec, false, err);
	case TXN_LOCAL: return val_transaction(rec, true, err);
	}
	return 0;
}

static void test_record_case(void **state)
{
	const struct vcase *c = *state;
	const char *text = expand(c);
	cJSON *rec = cJSON_Parse(text);
	struct val_err err;
	int rc;

	if (!rec)
		fail_msg("case \"%s\": test JSON does not parse: %.200s", c->name, text);
	memset(&err, 0, sizeof err);
	rc = run_case(c, rec, &err);
	if (!c->code) {
		if (rc != 0)
			fail_msg("case \"%s\": expected valid, got %s (%s) field \"%s\"", c->name,
				 err.code, err.message, err.field);
	} else {
		if (rc != -1)
			fail_msg("case \"%s\": expected %s, got valid", c->name, c->code);
		if (strcmp(err.code, c->code) != 0)
			fail_msg("case \"%s\": expected %s, got %s (%s)", c->name, c->code, err.code,
				 err.message);
		if (c->field && strcmp(err.field, c->field) != 0)
			fail_msg("case \"%s\": expected field \"%s\", got \"%s\" (%s)", c->name, c->field,
				 err.field, err.message);
		assert_true(err.message[0] != '\0');
		if (err.field[0])
			assert_memory_equal(err.message, err.field, strlen(err.field));
	}
	/* A NULL err is allowed and must give the same answer. */
	assert_int_equal(run_case(c, rec, NULL), rc);
	cJSON_Delete(rec);
}

/* ---- the small functions ---- */

static void test_val_text(void **state)
{
	static const struct { const char *s; size_t max; bool empty; bool ok; } t[] = {
		{"", 10, true, true}, {"", 10, false, false}, {"abc", 3, false, true},
		{"abcd", 3, false, false}, {"\xc3\xa9\xc3\xa9\xc3\xa9", 3, false, true},
		{"\xe2\x82\xac", 1, false, true}, {"\xf0\x9f\x98\x80", 1, false, true},
		{"a\x7f", 10, false, false}, {"a\xc2\x80", 10, false, false},
		{"a\xc2\x9f", 10, false, false}, {"a\xc2\xa0", 10, false, true},
		{"\xc0\x80", 10, false, false}, {"\xe0\x9f\xbf", 10, false, false},
		{"\xe0\xa0\x80", 10, false, true}, {"\xf0\x8f\xbf\xbf", 10, false, false},
		{"\xf0\x90\x80\x80", 10, false, true}, {"\xed\x9f\xbf", 10, false, true},
		{"\xed\xa0\x80", 10, false, false}, {"\xee\x80\x80", 10, false, true},
		{"\xf4\x8f\xbf\xbf", 10, false, true}, {"\xf4\x90\x80\x80", 10, false, false},
		{"\xf5\x80\x80\x80", 10, false, false}, {"\xc3", 10, false, false},
		{"\xc3" "a", 10, false, false}, {"\xf0\x9f\x98", 10, false, false},
		{SQL, 200, false, true},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		if (val_text(t[i].s, t[i].max, t[i].empty) != t[i].ok)
			fail_msg("val_text row %zu", i);
	assert_false(val_text(NULL, 10, true));
	assert_int_equal(val_utf8_len("\xc3\xa9t\xc3\xa9"), 3);
	assert_int_equal(val_utf8_len("\xf0\x9f\x98\x80!"), 2);
	assert_int_equal(val_utf8_len("a\x01" "b"), 3);
	assert_int_equal(val_utf8_len("ab\xff"), 3); /* invalid: bytes */
	assert_int_equal(val_utf8_len(""), 0);
}

static void test_small_formats(void **state)
{
	char out[8];

	(void)state;
	assert_true(val_uuid(U1));
	assert_true(val_uuid("0B7C5E1E-8A3F-4D3C-9A57-1C2B3D4E5F60"));
	assert_false(val_uuid("0b7c5e1e8a3f4d3c9a571c2b3d4e5f60"));
	assert_false(val_uuid(U1 "0"));
	assert_false(val_uuid("0b7c5e1e-8a3f-4d3c-9a57-1c2b3d4e5f6g"));
	assert_false(val_uuid("0b7c5e1e-8a3f"));
	assert_false(val_uuid(""));
	assert_false(val_uuid(NULL));

	assert_true(val_date("2024-02-29"));
	assert_false(val_date("2023-02-29"));
	assert_true(val_date("2026-12-31"));
	assert_false(val_date("2026-12-32"));
	assert_false(val_date("2026-00-10"));
	assert_false(val_date("2026-11-25 "));
	assert_false(val_date("2026-11-2"));
	assert_false(val_date(""));
	assert_false(val_date(NULL));

	assert_true(val_time("2026-11-25T09:14:03Z"));
	assert_true(val_time("2026-11-25T09:14:03.5Z"));
	assert_true(val_time("2026-11-25T09:14:03.123456789Z"));
	assert_false(val_time("2026-11-25T09:14:03.1234567890Z"));
	assert_false(val_time("2026-11-25T09:14:03.Z"));
	assert_true(val_time("2016-12-31T23:59:60Z"));
	assert_false(val_time("2026-11-25T12:00:60Z"));
	assert_false(val_time("2026-11-25T09:60:00Z"));
	assert_false(val_time("2026-11-25t09:14:03z"));
	assert_false(val_time("2026-11-25T09:14:03"));
	assert_false(val_time("2026-11-25T09:14:03Zx"));
	assert_false(val_time("2023-02-29T09:14:03Z"));
	assert_false(val_time("2026-11-25T"));
	assert_false(val_time(NULL));

	assert_int_equal(val_phone_digits("+351 (911) 234-567", out, sizeof out), 12);
	assert_string_equal(out, "3519112"); /* cut to fit, NUL-terminated */
	assert_int_equal(val_phone_digits("12 34", out, sizeof out), 4);
	assert_string_equal(out, "1234");
	assert_int_equal(val_phone_digits("abc", out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(val_phone_digits("123", NULL, 0), 3);
	assert_int_equal(val_phone_digits(NULL, out, sizeof out), 0);
}

static void test_val_integer(void **state)
{
	static const struct { const char *json; bool ok; long long v; } t[] = {
		{"0", true, 0}, {"-0", true, 0}, {"42", true, 42}, {"-42", true, -42},
		{"999999999999999", true, 999999999999999LL},
		{"-999999999999999", true, -999999999999999LL},
		{"1000000000000000", false, 0}, {"-1000000000000000", false, 0},
		{"1.5", false, 0}, {"-0.25", false, 0}, {"1e3", true, 1000},
		{"2.0", true, 2}, {"1e400", false, 0}, {"-1e400", false, 0},
		{"1e15", false, 0}, {"\"12\"", false, 0}, {"true", false, 0}, {"null", false, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		cJSON *j = cJSON_Parse(t[i].json);
		long long v = -7;

		assert_non_null(j);
		if (val_integer(j, &v) != t[i].ok)
			fail_msg("val_integer(%s)", t[i].json);
		if (t[i].ok)
			assert_true(v == t[i].v);
		cJSON_Delete(j);
	}
	assert_false(val_integer(NULL, NULL));
}

/* ---- raw JSON scanners ---- */

static bool plain(const char *s) { return val_json_plain_numbers(s, strlen(s)); }
static int bad_index(const char *s) { return val_json_bad_number_index(s, strlen(s), "records"); }

static void test_plain_numbers(void **state)
{
	(void)state;
	assert_true(plain("{\"a\":1,\"b\":-2,\"c\":[0,10,-0]}"));
	assert_true(plain("[true,false,null]"));
	assert_true(plain("{\"a\":\"1.5e3\"}"));
	assert_true(plain("{\"a.b\":1,\"E\":2}"));
	assert_true(plain("{\"a\":\"x\\\"1.5\",\"b\":2}"));   /* escaped quote in a string */
	assert_true(plain("{\"a\":\"\\u0031.5\"}"));
	assert_true(plain(""));
	assert_true(val_json_plain_numbers(NULL, 0));
	assert_false(plain("{\"a\":1.0}"));
	assert_false(plain("{\"a\":1e3}"));
	assert_false(plain("{\"a\":1E3}"));
	assert_false(plain("{\"a\":-1.5}"));
	assert_false(plain("[1,2,3.25]"));
	assert_false(plain("{\"a\":\"\\\\\",\"b\":2.5}")); /* backslash escapes itself */
	assert_false(plain("{\"a\":\"x\\\\\\\"\",\"b\":2.5}"));
	/* len bounds the scan: the fraction lies beyond it */
	assert_true(val_json_plain_numbers("[1,2.5]", 3));
	assert_false(val_json_plain_numbers("[1,2.5]", 5));
}

static void test_bad_number_index(void **state)
{
	char big[64 * 1024];
	size_t off;
	int i;

	(void)state;
	assert_int_equal(bad_index("{\"batch_id\":\"b\",\"records\":[{\"q\":1},{\"q\":2.5},{\"q\":3e1}]}"), 1);
	assert_int_equal(bad_index("{\"records\":[{\"q\":1e2},{\"q\":2.5}]}"), 0);
	assert_int_equal(bad_index("{\"records\":[{\"q\":1},{\"q\":2}]}"), -1);
	assert_int_equal(bad_index("{\"records\":[]}"), -1);
	assert_int_equal(bad_index("{\"x\":1.5,\"records\":[{\"q\":1}]}"), -1);
	assert_int_equal(bad_index("{\"records\":[{\"q\":1}],\"x\":1.5}"), -1);
	assert_int_equal(bad_index("{\"a\":{\"records\":[1.5]},\"records\":[1,2,3.5]}"), 2);
	assert_int_equal(bad_index("{\"a\":\"records\",\"records\":[1,2.5]}"), 1);
	assert_int_equal(bad_index("{\"rec\\u006frds\":[1,2.5]}"), 1);
	assert_int_equal(bad_index("{\"records\":{\"a\":1.5}}"), -1);
	assert_int_equal(bad_index("{\"records\":[1],\"records\":[1.5]}"), -1);
	assert_int_equal(bad_index("[{\"records\":[1.5]}]"), -1);
	assert_int_equal(bad_index("{\"records\":[{\"a\":[1,2,3]},{\"b\":[4,5.5]}]}"), 1);
	assert_int_equal(bad_index("{\"records\":[{\"s\":\"],[,{\\\"\"},{\"q\":0.1}]}"), 1);
	assert_int_equal(bad_index("  {\n\"records\" :\t[ 1 , 2 , 3E2 ]}"), 2);
	assert_int_equal(val_json_bad_number_index(NULL, 0, "records"), -1);
	assert_int_equal(val_json_bad_number_index("{}", 2, NULL), -1);
	/* A non-ASCII member name, escaped and raw, and a surrogate pair. */
	assert_int_equal(val_json_bad_number_index("{\"caf\\u00e9\":[1.5]}",
						   strlen("{\"caf\\u00e9\":[1.5]}"), "caf\xc3\xa9"), 0);
	assert_int_equal(val_json_bad_number_index("{\"\\ud83d\\ude00\":[0,1.5]}",
						   strlen("{\"\\ud83d\\ude00\":[0,1.5]}"),
						   "\xf0\x9f\x98\x80"), 1);
	assert_int_equal(val_json_bad_number_index("{\"caf\xc3\xa9\":[1.5]}",
						   strlen("{\"caf\xc3\xa9\":[1.5]}"), "caf\xc3\xa9"), 0);
	assert_int_equal(val_json_bad_number_index("{\"cafe\":[1.5]}", 14, "caf\xc3\xa9"), -1);

	/* A large batch: the bad number in record 321. */
	off = (size_t)snprintf(big, sizeof big, "{\"batch_id\":\"" U1 "\",\"records\":[");
	for (i = 0; i < 400; i++)
		off += (size_t)snprintf(big + off, sizeof big - off, "%s{\"n\":%s,\"s\":\"a,]\"}",
					i ? "," : "", i == 321 ? "7.0" : "7");
	off += (size_t)snprintf(big + off, sizeof big - off, "]}");
	assert_int_equal(val_json_bad_number_index(big, off, "records"), 321);
	assert_false(val_json_plain_numbers(big, off));
}

/* Every prefix of a valid batch, copied to a buffer of exactly its size:
 * the scanners never read past it, a prefix never names a bad record the
 * whole text does not, and cJSON plus the validators never crash on it. */
static void test_prefixes(void **state)
{
	static const char batch[] =
		"{\"batch_id\":\"" U1 "\",\"records\":["
		"{\"type\":\"customer\",\"async_id\":\"" U1 "\",\"kind\":\"person\","
		"\"first_name\":\"Jos\xc3\xa9 \\\"Z\\\" \\\\ \\u00e9\",\"attributes\":{\"k\":\"1.5\"}},"
		"{\"type\":\"transaction\",\"txn_id\":\"T1\",\"kind\":\"cash_and_carry\","
		"\"business_date\":\"2026-11-25\",\"currency\":\"EUR\",\"customer\":null,"
		"\"lines\":[{\"sku\":\"A\",\"qty\":-2,\"unit_price_minor\":1.5e2}],"
		"\"tenders\":[],\"total_minor\":-300},"
		"{\"type\":\"address\",\"customer\":{\"account\":\"C1\"},\"line1\":\"x\","
		"\"city\":\"y\",\"postal_code\":\"z\",\"country\":\"PT\",\"n\":1.25}]}";
	size_t len = sizeof batch - 1, i;
	int full = val_json_bad_number_index(batch, len, "records");
	bool full_plain = val_json_plain_numbers(batch, len);
	cJSON *whole = cJSON_Parse(batch);

	(void)state;
	assert_non_null(whole);
	cJSON_Delete(whole);
	assert_int_equal(full, 1);
	assert_false(full_plain);
	for (i = 0; i <= len; i++) {
		char *p = malloc(i ? i : 1);
		struct val_err err;
		cJSON *j, *rec;
		int r;

		assert_non_null(p);
		memcpy(p, batch, i);
		r = val_json_bad_number_index(p, i, "records");
		if (r != -1 && r != full)
			fail_msg("prefix %zu: index %d, whole text %d", i, r, full);
		if (!val_json_plain_numbers(p, i))
			assert_false(full_plain);
		j = cJSON_ParseWithLength(p, i);
		cJSON_ArrayForEach(rec, cJSON_GetObjectItem(j, "records")) {
			if (val_customer(rec, &err) != 0)
			assert_true(err.code[0] != '\0'); /* a refusal names its code */
			if (val_address(rec, true, &err) != 0)
			assert_true(err.code[0] != '\0'); /* a refusal names its code */
			if (val_transaction(rec, false, &err) != 0)
			assert_true(err.code[0] != '\0'); /* a refusal names its code */
		}
		cJSON_Delete(j);
		free(p);
	}
	/* Each prefix of a record, as a C string, through every validator. */
	for (i = 0; i < len; i++) {
		char buf[sizeof batch];
		struct val_err err;
		cJSON *j;

		memcpy(buf, batch, i);
		buf[i] = '\0';
		j = cJSON_Parse(buf);
		if (val_customer(j, &err) != 0)
			assert_true(err.code[0] != '\0'); /* a refusal names its code */
		if (val_address(j, false, &err) != 0)
			assert_true(err.code[0] != '\0'); /* a refusal names its code */
		if (val_transaction(j, true, &err) != 0)
			assert_true(err.code[0] != '\0'); /* a refusal names its code */
		cJSON_Delete(j);
	}
}

int main(void)
{
	size_t ncases = sizeof cases / sizeof cases[0], i, n = 0;
	struct CMUnitTest *tests = calloc(ncases + 8, sizeof *tests);
	int rc;

	if (!tests)
		return 1;
	for (i = 0; i < ncases; i++) {
		struct CMUnitTest t = cmocka_unit_test_prestate(test_record_case, (void *)&cases[i]);

		t.name = cases[i].name;
		tests[n++] = t;
	}
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_val_text);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_small_formats);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_val_integer);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_plain_numbers);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_bad_number_index);
	tests[n++] = (struct CMUnitTest)cmocka_unit_test(test_prefixes);
	rc = _cmocka_run_group_tests("validate", tests, n, NULL, NULL);
	free(tests);
	return rc;
}
