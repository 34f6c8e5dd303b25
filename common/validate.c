/*
 * validate: HQ-API.md's "Validation" table, written once and shared by the
 * agent (which refuses bad input when it is typed) and the reference HQ
 * (which checks every record of a batch with this very code).
 *
 * Each record validator works in two phases so that the rejection code does
 * not depend on the order of the members:
 *   1. shape: every known member has the right JSON type, required members
 *      are present, no known member appears twice, ids and references are
 *      well formed; anything else is invalid_record ("HQ cannot read it as
 *      a record at all");
 *   2. rules: the table's rules, in the order of the record's members as
 *      HQ-API.md lists them; the first failure is reported.
 * A member whose value is JSON null counts as absent. Members this page does
 * not name are ignored (a careful API accepts additions).
 *
 * Nothing here prints or allocates; the only output is struct val_err.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "common/validate.h"

#define LIMIT_LL 1000000000000000LL /* 10^15, VAL_MONEY_LIMIT as an integer */
#define MAX_TEXT 200                /* strings the table does not bound otherwise */
#define MAX_NAME 100
#define MAX_EMAIL 254
#define MAX_PHONE 32
#define MIN_PHONE_DIGITS 6
#define MAX_ATTR_KEY 40
#define MAX_ATTR_VALUE 200
#define MAX_SKU 64
#define MAX_TENDER_TYPE 32
#define MAX_TXN_ID 64
#define MAX_LANGUAGE 35

/* ------------------------------------------------------------------ */
/* Error reporting                                                     */
/* ------------------------------------------------------------------ */

static int fail(struct val_err *err, const char *code, const char *field,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Fills *err (when err is not NULL) with code, field and a message
 * "FIELD: RULE" (just "RULE" when field is empty). Always returns -1 so
 * that callers can write `return fail(...)`. Over-long parts are cut. */
static int fail(struct val_err *err, const char *code, const char *field,
		const char *fmt, ...)
{
	va_list ap;
	size_t off = 0;
	int k;

	if (!err)
		return -1;
	if (!field)
		field = "";
	snprintf(err->code, sizeof err->code, "%s", code);
	snprintf(err->field, sizeof err->field, "%s", field);
	err->message[0] = '\0';
	if (err->field[0]) {
		k = snprintf(err->message, sizeof err->message, "%s: ", err->field);
		if (k > 0 && (size_t)k < sizeof err->message)
			off = (size_t)k;
	}
	va_start(ap, fmt);
	vsnprintf(err->message + off, sizeof err->message - off, fmt, ap);
	va_end(ap);
	return -1;
}

/* Writes the JSON path "PREFIX.NAME" (or "NAME" when prefix is empty)
 * into buf; a path too long for buf is cut. Returns buf. */
static const char *path_of(char *buf, size_t size, const char *prefix,
			   const char *name)
{
	if (prefix && prefix[0])
		snprintf(buf, size, "%s.%s", prefix, name);
	else
		snprintf(buf, size, "%s", name);
	return buf;
}

/* ------------------------------------------------------------------ */
/* UTF-8 text                                                          */
/* ------------------------------------------------------------------ */

enum text_fault { TEXT_OK, TEXT_BAD_UTF8, TEXT_CONTROL };

/* Scans the NUL-terminated s as UTF-8. Stores the number of code points in
 * *cp (counted up to the first invalid sequence, if any). Returns
 * TEXT_BAD_UTF8 for an invalid sequence (bad lead or continuation byte,
 * truncation, overlong form, surrogate, above U+10FFFF), else
 * TEXT_CONTROL when some code point is a control character (C0, DEL, C1:
 * Unicode category Cc), else TEXT_OK. */
static enum text_fault text_scan(const char *s, size_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	enum text_fault fault = TEXT_OK;
	size_t n = 0;

	while (*p) {
		uint32_t c = *p, min;
		size_t len, i;

		if (c < 0x80) {
			len = 1;
			min = 0;
		} else if ((c & 0xE0) == 0xC0) {
			len = 2;
			c &= 0x1F;
			min = 0x80;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3;
			c &= 0x0F;
			min = 0x800;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4;
			c &= 0x07;
			min = 0x10000;
		} else {
			*cp = n;
			return TEXT_BAD_UTF8;
		}
		/* A NUL terminator fails the continuation test: no over-read. */
		for (i = 1; i < len; i++) {
			if ((p[i] & 0xC0) != 0x80) {
				*cp = n;
				return TEXT_BAD_UTF8;
			}
			c = (c << 6) | (p[i] & 0x3Fu);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
			*cp = n;
			return TEXT_BAD_UTF8;
		}
		if (fault == TEXT_OK && (c < 0x20 || (c >= 0x7F && c <= 0x9F)))
			fault = TEXT_CONTROL;
		p += len;
		n++;
	}
	*cp = n;
	return fault;
}

/* val_text: true when s is valid UTF-8 without control characters and has
 * at most max_cp code points (and at least one unless allow_empty). A NULL
 * s is false. */
bool val_text(const char *s, size_t max_cp, bool allow_empty)
{
	size_t n;

	if (!s || text_scan(s, &n) != TEXT_OK)
		return false;
	if (n == 0 && !allow_empty)
		return false;
	return n <= max_cp;
}

/* val_utf8_len: the number of code points of s when s is valid UTF-8
 * (control characters count like any other), else its length in bytes.
 * NULL counts as 0. */
size_t val_utf8_len(const char *s)
{
	size_t n;

	if (!s)
		return 0;
	if (text_scan(s, &n) == TEXT_BAD_UTF8)
		return strlen(s);
	return n;
}

/* Checks a present string member: invalid_text when it is not valid UTF-8
 * or holds a control character; then, when it has fewer than lo or more
 * than hi code points, len_code (invalid_text, invalid_name, ...) with a
 * message naming the bounds. Returns 0 or -1 with *err. */
static int check_text(struct val_err *err, const char *field, const char *s,
		      size_t lo, size_t hi, const char *len_code)
{
	size_t n;

	switch (text_scan(s, &n)) {
	case TEXT_BAD_UTF8:
		return fail(err, "invalid_text", field, "must be valid UTF-8");
	case TEXT_CONTROL:
		return fail(err, "invalid_text", field,
			    "must not contain control characters");
	case TEXT_OK:
		break;
	}
	if (n < lo || n > hi) {
		if (lo == 0)
			return fail(err, len_code, field,
				    "must be at most %zu characters", hi);
		return fail(err, len_code, field, "must be %zu to %zu characters",
			    lo, hi);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Small formats                                                       */
/* ------------------------------------------------------------------ */

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_upper(int c) { return c >= 'A' && c <= 'Z'; }
static bool is_lower(int c) { return c >= 'a' && c <= 'z'; }
static bool is_alpha(int c) { return is_upper(c) || is_lower(c); }
static bool is_alnum(int c) { return is_alpha(c) || is_digit(c); }
static bool is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* True when s is exactly n characters, each accepted by pred. */
static bool all_of(const char *s, size_t n, bool (*pred)(int))
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!s[i] || !pred((unsigned char)s[i]))
			return false;
	return s[n] == '\0';
}

/* val_uuid: 36 characters, hex digits (either case) in groups 8-4-4-4-12
 * separated by '-'. No version or variant is required. NULL is false. */
bool val_uuid(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!is_hex((unsigned char)s[i])) {
			return false; /* also stops at the NUL of a short string */
		}
	}
	return s[36] == '\0';
}

/* Reads n decimal digits at s into *out. False when one is not a digit
 * (a NUL stops it before any over-read). */
static bool digits(const char *s, size_t n, int *out)
{
	size_t i;
	int v = 0;

	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* True when the first 10 characters of s are "YYYY-MM-DD" naming a real
 * proleptic Gregorian date (any four-digit year, as RFC 3339 allows). Does
 * not look past those 10 characters. */
static bool date_prefix(const char *s)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d, max;

	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) ||
	    s[7] != '-' || !digits(s + 8, 2, &d))
		return false;
	if (m < 1 || m > 12 || d < 1)
		return false;
	max = mdays[m - 1];
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		max = 29;
	return d <= max;
}

/* val_date: "YYYY-MM-DD" and nothing more, a real Gregorian date (leap
 * years by the 4/100/400 rule). NULL is false. */
bool val_date(const char *s)
{
	return s && date_prefix(s) && s[10] == '\0';
}

/* val_time: RFC 3339 in UTC, "YYYY-MM-DDTHH:MM:SSZ" with an optional
 * fraction of 1 to 9 digits before the Z; 'T' and 'Z' upper case, no
 * numeric offset (not even +00:00). Second 60 is accepted only at 23:59
 * (a leap second). NULL is false. */
bool val_time(const char *s)
{
	int hh, mm, ss;
	size_t i, nfrac = 0;

	if (!s || !date_prefix(s) || s[10] != 'T')
		return false;
	if (!digits(s + 11, 2, &hh) || s[13] != ':' || !digits(s + 14, 2, &mm) ||
	    s[16] != ':' || !digits(s + 17, 2, &ss))
		return false;
	if (hh > 23 || mm > 59 || ss > 60 || (ss == 60 && (hh != 23 || mm != 59)))
		return false;
	i = 19;
	if (s[i] == '.') {
		for (i++; is_digit((unsigned char)s[i]); i++)
			nfrac++;
		if (nfrac < 1 || nfrac > 9)
			return false;
	}
	return s[i] == 'Z' && s[i + 1] == '\0';
}

/* val_phone_digits: copies the ASCII digits of phone into out, in order,
 * at most outlen - 1 of them, and NUL-terminates out (when outlen > 0).
 * Returns how many digits phone has, like snprintf: a result >= outlen
 * means out was cut. A NULL phone has none. */
size_t val_phone_digits(const char *phone, char *out, size_t outlen)
{
	size_t n = 0;

	for (; phone && *phone; phone++) {
		if (!is_digit((unsigned char)*phone))
			continue;
		if (out && n + 1 < outlen)
			out[n] = *phone;
		n++;
	}
	if (out && outlen > 0)
		out[n < outlen ? n : outlen - 1] = '\0';
	return n;
}

/* val_integer: true when item is a JSON number whose value is integral and
 * below 10^15 in absolute value; stores it in *out (when out is not NULL).
 * It sees only the parsed double, so 1e3 passes here: the raw text is
 * checked by val_json_plain_numbers. NaN and infinities fail. */
bool val_integer(const cJSON *item, long long *out)
{
	double v;
	long long ll;

	if (!cJSON_IsNumber(item))
		return false;
	v = item->valuedouble;
	if (!(v > -VAL_MONEY_LIMIT && v < VAL_MONEY_LIMIT))
		return false;
	ll = (long long)v; /* in range: the conversion is defined */
	if ((double)ll != v)
		return false;
	if (out)
		*out = ll;
	return true;
}

/* A BCP 47 language tag, loosely: 1 to 35 ASCII characters, subtags of 1
 * to 8 letters or digits separated by single '-', the first subtag letters
 * only ("pt-PT", "zh-Hant-TW", "de-CH-1996", "x-klingon"). Registry values
 * are not checked. */
static bool language_ok(const char *s)
{
	size_t i, sub = 0, nsub = 0;
	bool first = true;

	for (i = 0; s[i]; i++) {
		int c = (unsigned char)s[i];

		if (i >= MAX_LANGUAGE)
			return false;
		if (c == '-') {
			if (sub == 0)
				return false;
			sub = 0;
			first = false;
			continue;
		}
		if (!is_alnum(c) || (first && !is_alpha(c)) || ++sub > 8)
			return false;
		if (sub == 1)
			nsub++;
	}
	return nsub > 0 && sub > 0;
}

/* Email as HQ-API.md words it, no more: exactly one '@', a non-empty part
 * on each side, and a '.' somewhere in the domain. The length is checked
 * by the caller. */
static bool email_ok(const char *s)
{
	const char *at = strchr(s, '@');

	if (!at || at == s || strchr(at + 1, '@'))
		return false;
	return at[1] != '\0' && strchr(at + 1, '.') != NULL;
}

static bool is_phone_char(int c)
{
	return is_digit(c) || c == ' ' || c == '+' || c == '-' || c == '(' ||
	       c == ')';
}

static bool is_attr_key_char(int c)
{
	return is_lower(c) || is_digit(c) || c == '_';
}

static bool is_txn_id_char(int c)
{
	return is_alnum(c) || c == '-' || c == '_';
}

static bool is_tender_char(int c)
{
	return is_lower(c) || c == '_';
}

/* True when s is lo..hi characters, each accepted by pred. */
static bool charset_ok(const char *s, size_t lo, size_t hi, bool (*pred)(int))
{
	size_t n = strlen(s);

	return n >= lo && n <= hi && all_of(s, n, pred);
}

/* ------------------------------------------------------------------ */
/* Members (phase 1)                                                   */
/* ------------------------------------------------------------------ */

enum jtype { J_STRING, J_NUMBER, J_BOOL, J_OBJECT, J_ARRAY };

static const char *const jtype_name[] = {
	[J_STRING] = "a string", [J_NUMBER] = "a number", [J_BOOL] = "true or false",
	[J_OBJECT] = "an object", [J_ARRAY] = "an array",
};

static bool has_type(const cJSON *item, enum jtype t)
{
	switch (t) {
	case J_STRING: return cJSON_IsString(item) && item->valuestring;
	case J_NUMBER: return cJSON_IsNumber(item);
	case J_BOOL: return cJSON_IsBool(item);
	case J_OBJECT: return cJSON_IsObject(item);
	case J_ARRAY: return cJSON_IsArray(item);
	}
	return false;
}

/* Looks up member name of obj (case-sensitively) and stores it in *out,
 * or NULL when it is absent or JSON null. A member given twice is
 * invalid_record, the field being PREFIX.NAME. Returns 0 or -1 with *err. */
static int find_member(const cJSON *obj, const char *prefix, const char *name,
		       const cJSON **out, struct val_err *err)
{
	const cJSON *c, *found = NULL;
	char field[64];

	*out = NULL;
	for (c = obj->child; c; c = c->next) {
		if (!c->string || strcmp(c->string, name) != 0)
			continue;
		if (found)
			return fail(err, "invalid_record",
				    path_of(field, sizeof field, prefix, name),
				    "member appears more than once");
		found = c;
	}
	if (found && !cJSON_IsNull(found))
		*out = found;
	return 0;
}

/* find_member(), then: absent when required, or a value of another JSON
 * type than t, is invalid_record. Returns 0 or -1 with *err. */
static int member(const cJSON *obj, const char *prefix, const char *name,
		  enum jtype t, bool required, const cJSON **out,
		  struct val_err *err)
{
	const cJSON *found;
	char field[64];

	*out = NULL;
	if (find_member(obj, prefix, name, &found, err) < 0)
		return -1;
	if (!found) {
		if (required)
			return fail(err, "invalid_record",
				    path_of(field, sizeof field, prefix, name),
				    "is required");
		return 0;
	}
	if (!has_type(found, t))
		return fail(err, "invalid_record",
			    path_of(field, sizeof field, prefix, name),
			    "must be %s", jtype_name[t]);
	*out = found;
	return 0;
}

/* member() for strings: stores the string (or NULL when absent) in *out. */
static int member_str(const cJSON *obj, const char *prefix, const char *name,
		      bool required, const char **out, struct val_err *err)
{
	const cJSON *item;

	*out = NULL;
	if (member(obj, prefix, name, J_STRING, required, &item, err) < 0)
		return -1;
	if (item)
		*out = item->valuestring;
	return 0;
}

/* The optional "type" member: when present it must be the string want. */
static int check_type_member(const cJSON *rec, const char *want,
			     struct val_err *err)
{
	const char *type;

	if (member_str(rec, "", "type", false, &type, err) < 0)
		return -1;
	if (type && strcmp(type, want) != 0)
		return fail(err, "invalid_record", "type", "must be \"%s\"", want);
	return 0;
}

/* The record's own optional "async_id": a UUID when present. */
static int check_async_id(const cJSON *rec, struct val_err *err)
{
	const char *id;

	if (member_str(rec, "", "async_id", false, &id, err) < 0)
		return -1;
	if (id && !val_uuid(id))
		return fail(err, "invalid_record", "async_id",
			    "must be a UUID (8-4-4-4-12 hex digits)");
	return 0;
}

/* A "customer" reference, read in phase 1: which member it uses and its
 * text (NULL when the reference is absent or null). */
struct cust_ref {
	const char *name;  /* "async_id", "account" or "local_number" */
	const char *value;
};

/* Reads the customer reference ref (NULL when absent or null): an object
 * with exactly one non-null member, {"async_id": UUID} or {"account": TEXT}
 * (or {"local_number": TEXT} when allow_local); anything else is
 * invalid_record. The text of account/local_number is checked later by
 * check_ref_text. Returns 0 or -1 with *err. */
static int read_ref(const cJSON *ref, bool allow_local, struct cust_ref *out,
		    struct val_err *err)
{
	const cJSON *c, *only = NULL;
	const char *want = allow_local
		? "an object with exactly one of async_id, account, local_number"
		: "an object with exactly one of async_id, account";
	char field[64];

	out->name = out->value = NULL;
	if (!ref)
		return 0;
	if (!cJSON_IsObject(ref))
		return fail(err, "invalid_record", "customer", "must be %s", want);
	for (c = ref->child; c; c = c->next) {
		if (cJSON_IsNull(c))
			continue;
		if (only)
			return fail(err, "invalid_record", "customer", "must be %s",
				    want);
		only = c;
	}
	if (!only || !only->string ||
	    (strcmp(only->string, "async_id") != 0 &&
	     strcmp(only->string, "account") != 0 &&
	     !(allow_local && strcmp(only->string, "local_number") == 0)))
		return fail(err, "invalid_record", "customer", "must be %s", want);
	path_of(field, sizeof field, "customer", only->string);
	if (!has_type(only, J_STRING))
		return fail(err, "invalid_record", field, "must be a string");
	if (strcmp(only->string, "async_id") == 0 && !val_uuid(only->valuestring))
		return fail(err, "invalid_record", field,
			    "must be a UUID (8-4-4-4-12 hex digits)");
	out->name = only->string;
	out->value = only->valuestring;
	return 0;
}

/* Phase 2 of a customer reference: an account or local number is text of
 * 1 to 200 characters (invalid_text). */
static int check_ref_text(const struct cust_ref *ref, struct val_err *err)
{
	char field[64];

	if (!ref->value || strcmp(ref->name, "async_id") == 0)
		return 0;
	return check_text(err, path_of(field, sizeof field, "customer", ref->name),
			  ref->value, 1, MAX_TEXT, "invalid_text");
}

/* Every member of obj is one of names (HQ-API.md's record members): a
 * member the page does not name is invalid_record naming it, never
 * silently dropped. prefix names obj in the field ("" for the record). */
static int only_members(const cJSON *obj, const char *const *names,
			const char *prefix, struct val_err *err)
{
	const cJSON *c;
	char field[64];

	for (c = obj ? obj->child : NULL; c; c = c->next) {
		const char *const *n;

		for (n = names; *n && (!c->string || strcmp(*n, c->string) != 0); n++)
			;
		if (!*n)
			return fail(err, "invalid_record",
				    path_of(field, sizeof field, prefix, c->string ? c->string : "?"),
				    "is not a member HQ-API.md names");
	}
	return 0;
}

/* Reads the address reference member name of rec (absent or null: *value
 * NULL): an object with exactly one non-null member, {"async_id": UUID}
 * or {"address_id": TEXT of 1 to 200}; anything else is invalid_record
 * (invalid_text for bad text). *by is the member used. */
static int read_addr_ref(const cJSON *rec, const char *name, const char **by,
			 const char **value, struct val_err *err)
{
	const cJSON *ref, *c, *only = NULL;
	const char *want = "must be {\"async_id\": UUID} or {\"address_id\": ID}";
	char field[64];

	*by = *value = NULL;
	if (find_member(rec, "", name, &ref, err) < 0)
		return -1;
	if (!ref)
		return 0;
	if (!cJSON_IsObject(ref))
		return fail(err, "invalid_record", name, "%s", want);
	for (c = ref->child; c; c = c->next) {
		if (cJSON_IsNull(c))
			continue;
		if (only)
			return fail(err, "invalid_record", name, "%s", want);
		only = c;
	}
	if (!only || !only->string || !cJSON_IsString(only) ||
	    (strcmp(only->string, "async_id") != 0 && strcmp(only->string, "address_id") != 0))
		return fail(err, "invalid_record", name, "%s", want);
	path_of(field, sizeof field, name, only->string);
	if (strcmp(only->string, "async_id") == 0 && !val_uuid(only->valuestring))
		return fail(err, "invalid_record", field, "must be a UUID (8-4-4-4-12 hex digits)");
	if (strcmp(only->string, "address_id") == 0 &&
	    check_text(err, field, only->valuestring, 1, MAX_TEXT, "invalid_text") < 0)
		return -1;
	*by = only->string;
	*value = only->valuestring;
	return 0;
}

/* An optional created_at: RFC 3339 UTC (invalid_text). */
static int check_created_at(const char *s, struct val_err *err)
{
	if (s && !val_time(s))
		return fail(err, "invalid_text", "created_at",
			    "must be an RFC 3339 UTC time such as 2026-11-25T09:14:03Z");
	return 0;
}

/* ------------------------------------------------------------------ */
/* Customer                                                            */
/* ------------------------------------------------------------------ */

/* Copies up to 40 bytes of an attribute key into buf for a message,
 * replacing anything but printable ASCII (and '"', '\\') by '?'. */
static const char *key_for_message(char *buf, size_t size, const char *key)
{
	size_t i;

	for (i = 0; key[i] && i + 1 < size && i < MAX_ATTR_KEY + 1; i++) {
		unsigned char c = (unsigned char)key[i];
		buf[i] = (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') ? (char)c : '?';
	}
	buf[i] = '\0';
	return buf;
}

/* Phase 2 of "attributes" (an object): at most 20, each key
 * [a-z0-9_]{1,40} and given once, each value a string (clean text, at
 * most 200 characters). */
static int check_attributes(const cJSON *attrs, struct val_err *err)
{
	const cJSON *a, *b;
	size_t count = 0;
	char field[64], shown[MAX_ATTR_KEY + 2];

	for (a = attrs->child; a; a = a->next)
		if (++count > VAL_MAX_ATTRS)
			return fail(err, "invalid_attribute", "attributes",
				    "at most %d attributes", VAL_MAX_ATTRS);
	for (a = attrs->child; a; a = a->next) {
		const char *key = a->string ? a->string : "";

		if (!charset_ok(key, 1, MAX_ATTR_KEY, is_attr_key_char))
			return fail(err, "invalid_attribute", "attributes",
				    "key \"%s\" must be 1 to %d of a-z, 0-9 and _",
				    key_for_message(shown, sizeof shown, key),
				    MAX_ATTR_KEY);
		path_of(field, sizeof field, "attributes", key);
		for (b = attrs->child; b != a; b = b->next)
			if (b->string && strcmp(b->string, key) == 0)
				return fail(err, "invalid_attribute", field,
					    "key given more than once");
		if (!has_type(a, J_STRING))
			return fail(err, "invalid_attribute", field,
				    "value must be a string");
		if (check_text(err, field, a->valuestring, 0, MAX_ATTR_VALUE,
			       "invalid_attribute") < 0)
			return -1;
	}
	return 0;
}

/* Checks one optional name member (1 to 100 characters, invalid_name). */
static int check_name(const char *field, const char *s, struct val_err *err)
{
	if (!s)
		return 0;
	return check_text(err, field, s, 1, MAX_NAME, "invalid_name");
}

/* val_customer: see validate.h. Phase 1: type, async_id, kind
 * (person/organization), and the type of every member; phase 2: local
 * number, created_at, names, email, phone, language, attributes. A NULL or
 * non-object rec is invalid_record. Returns 0 or -1 with *err. */
int val_customer(const cJSON *rec, struct val_err *err)
{
	const char *local, *created, *kind, *first, *last, *org, *email, *phone,
		*lang;
	const cJSON *attrs;
	size_t n;

	static const char *const names[] = {"type", "async_id", "local_number", "created_at", "kind",
					    "first_name", "last_name", "organization_name", "email",
					    "phone", "language", "attributes", NULL};

	if (!cJSON_IsObject(rec))
		return fail(err, "invalid_record", "", "a customer must be a JSON object");
	if (only_members(rec, names, "", err) < 0 ||
	    check_type_member(rec, "customer", err) < 0 ||
	    check_async_id(rec, err) < 0 ||
	    member_str(rec, "", "local_number", false, &local, err) < 0 ||
	    member_str(rec, "", "created_at", false, &created, err) < 0 ||
	    member_str(rec, "", "kind", true, &kind, err) < 0 ||
	    member_str(rec, "", "first_name", false, &first, err) < 0 ||
	    member_str(rec, "", "last_name", false, &last, err) < 0 ||
	    member_str(rec, "", "organization_name", false, &org, err) < 0 ||
	    member_str(rec, "", "email", false, &email, err) < 0 ||
	    member_str(rec, "", "phone", false, &phone, err) < 0 ||
	    member_str(rec, "", "language", false, &lang, err) < 0 ||
	    member(rec, "", "attributes", J_OBJECT, false, &attrs, err) < 0)
		return -1;
	if (strcmp(kind, "person") != 0 && strcmp(kind, "organization") != 0)
		return fail(err, "invalid_record", "kind",
			    "must be \"person\" or \"organization\"");

	if (local && check_text(err, "local_number", local, 1, MAX_TEXT,
				"invalid_text") < 0)
		return -1;
	if (check_created_at(created, err) < 0)
		return -1;
	if (check_name("first_name", first, err) < 0 ||
	    check_name("last_name", last, err) < 0 ||
	    check_name("organization_name", org, err) < 0)
		return -1;
	if (strcmp(kind, "person") == 0 && !first && !last)
		return fail(err, "missing_name", "first_name",
			    "a person needs a first_name or a last_name");
	if (strcmp(kind, "organization") == 0 && !org)
		return fail(err, "missing_name", "organization_name",
			    "an organization needs an organization_name");
	if (email) {
		if (check_text(err, "email", email, 0, MAX_EMAIL, "invalid_email") < 0)
			return -1;
		if (!email_ok(email))
			return fail(err, "invalid_email", "email",
				    "must have one @ with text on both sides and a dot in the domain");
	}
	if (phone) {
		if (check_text(err, "phone", phone, 0, (size_t)-1, "invalid_phone") < 0)
			return -1;
		n = strlen(phone);
		if (n > MAX_PHONE || !all_of(phone, n, is_phone_char) ||
		    val_phone_digits(phone, NULL, 0) < MIN_PHONE_DIGITS)
			return fail(err, "invalid_phone", "phone",
				    "must be at most %d characters of digits, spaces and + - ( ), with at least %d digits",
				    MAX_PHONE, MIN_PHONE_DIGITS);
	}
	if (lang) {
		if (check_text(err, "language", lang, 0, (size_t)-1, "invalid_text") < 0)
			return -1;
		if (!language_ok(lang))
			return fail(err, "invalid_text", "language",
				    "must be a language tag such as pt-PT (letters, digits and -, at most %d)",
				    MAX_LANGUAGE);
	}
	if (attrs && check_attributes(attrs, err) < 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Address                                                             */
/* ------------------------------------------------------------------ */

/* A required address text (line1, city, postal_code): absent or empty is
 * invalid_address, otherwise clean text of at most 200 (invalid_text). */
static int check_address_required(const char *field, const char *s,
				  struct val_err *err)
{
	if (!s || !s[0])
		return fail(err, "invalid_address", field, "is required");
	return check_text(err, field, s, 1, MAX_TEXT, "invalid_text");
}

/* val_address: see validate.h. Phase 1: type, async_id, customer
 * reference (required when require_customer), primary a boolean, every text
 * member a string; phase 2: purpose, line1, line2, city, region,
 * postal_code, country, reference text. Returns 0 or -1 with *err. */
int val_address(const cJSON *rec, bool require_customer, struct val_err *err)
{
	const char *purpose, *line1, *line2, *city, *region, *postal, *country;
	const cJSON *ref, *primary;
	struct cust_ref cref;

	if (!cJSON_IsObject(rec))
		return fail(err, "invalid_record", "", "an address must be a JSON object");
	if (check_type_member(rec, "address", err) < 0 ||
	    check_async_id(rec, err) < 0)
		return -1;
	if (find_member(rec, "", "customer", &ref, err) < 0)
		return -1;
	if (!ref && require_customer)
		return fail(err, "invalid_record", "customer", "is required");
	if (read_ref(ref, false, &cref, err) < 0 ||
	    member_str(rec, "", "purpose", false, &purpose, err) < 0 ||
	    member(rec, "", "primary", J_BOOL, false, &primary, err) < 0 ||
	    member_str(rec, "", "line1", false, &line1, err) < 0 ||
	    member_str(rec, "", "line2", false, &line2, err) < 0 ||
	    member_str(rec, "", "city", false, &city, err) < 0 ||
	    member_str(rec, "", "region", false, &region, err) < 0 ||
	    member_str(rec, "", "postal_code", false, &postal, err) < 0 ||
	    member_str(rec, "", "country", false, &country, err) < 0)
		return -1;

	if (purpose && strcmp(purpose, "home") != 0 &&
	    strcmp(purpose, "delivery") != 0 && strcmp(purpose, "invoice") != 0)
		return fail(err, "invalid_address", "purpose",
			    "must be home, delivery or invoice");
	if (check_address_required("line1", line1, err) < 0 ||
	    (line2 && check_text(err, "line2", line2, 0, MAX_TEXT, "invalid_text") < 0) ||
	    check_address_required("city", city, err) < 0 ||
	    (region && check_text(err, "region", region, 0, MAX_TEXT, "invalid_text") < 0) ||
	    check_address_required("postal_code", postal, err) < 0)
		return -1;
	if (!country || !all_of(country, 2, is_upper))
		return fail(err, "invalid_address", "country",
			    "must be two capital letters (ISO 3166-1 alpha-2)");
	if (cJSON_IsTrue(primary) && !purpose)
		return fail(err, "invalid_address", "primary",
			    "a primary address needs a purpose (primary is per purpose)");
	return check_ref_text(&cref, err);
}

/* ------------------------------------------------------------------ */
/* Transaction                                                         */
/* ------------------------------------------------------------------ */

/* Phase 1 of the array member name ("lines" or "tenders"): every element
 * an object with its required members of the right types (a NULL arr is
 * an empty list). Stores the element count in *count. Returns 0 or -1 with
 * *err. */
static int read_items(const cJSON *arr, const char *name, bool is_line,
		      size_t *count, struct val_err *err)
{
	static const char *const line_names[] = {"sku", "qty", "unit_price_minor", NULL};
	static const char *const tender_names[] = {"type", "amount_minor", NULL};
	const cJSON *el;
	size_t i = 0;
	char prefix[32];

	*count = 0;
	if (!arr)
		return 0;
	for (el = arr->child; el; el = el->next, i++) {
		const char *text;
		const cJSON *num;

		snprintf(prefix, sizeof prefix, "%s[%zu]", name, i);
		if (!cJSON_IsObject(el))
			return fail(err, "invalid_record", prefix, "must be an object");
		if (only_members(el, is_line ? line_names : tender_names, prefix, err) < 0)
			return -1;
		if (is_line) {
			if (member_str(el, prefix, "sku", true, &text, err) < 0 ||
			    member(el, prefix, "qty", J_NUMBER, true, &num, err) < 0 ||
			    member(el, prefix, "unit_price_minor", J_NUMBER, true,
				   &num, err) < 0)
				return -1;
		} else {
			if (member_str(el, prefix, "type", true, &text, err) < 0 ||
			    member(el, prefix, "amount_minor", J_NUMBER, true, &num,
				   err) < 0)
				return -1;
		}
	}
	*count = i;
	return 0;
}

/* Reads an integer member already known to be a number (phase 2):
 * invalid_number unless integral and below 10^15 in absolute value. */
static int get_int(const cJSON *obj, const char *prefix, const char *name,
		   long long *out, struct val_err *err)
{
	char field[64];

	if (!val_integer(cJSON_GetObjectItemCaseSensitive(obj, name), out))
		return fail(err, "invalid_number",
			    path_of(field, sizeof field, prefix, name),
			    "must be an integer below 10^15 in absolute value, written as plain digits");
	return 0;
}

/* Phase 2 of the lines: sku (1 to 64, invalid_text), qty and
 * unit_price_minor (invalid_number), qty non-zero (invalid_transaction),
 * and each line's amount qty * unit_price_minor below 10^15 in absolute
 * value (invalid_number; this also keeps the sum of at most 500 lines far
 * from overflow). Stores the sum in *sum. */
static int check_lines(const cJSON *lines, long long *sum, struct val_err *err)
{
	const cJSON *el;
	size_t i = 0;
	long long total = 0;
	char prefix[32], field[64];

	for (el = lines->child; el; el = el->next, i++) {
		long long qty, price, aq, ap;

		snprintf(prefix, sizeof prefix, "lines[%zu]", i);
		if (check_text(err, path_of(field, sizeof field, prefix, "sku"),
			       cJSON_GetObjectItemCaseSensitive(el, "sku")->valuestring,
			       1, MAX_SKU, "invalid_text") < 0)
			return -1;
		if (get_int(el, prefix, "qty", &qty, err) < 0)
			return -1;
		if (qty == 0)
			return fail(err, "invalid_transaction",
				    path_of(field, sizeof field, prefix, "qty"),
				    "must not be zero (negative for a return)");
		if (get_int(el, prefix, "unit_price_minor", &price, err) < 0)
			return -1;
		aq = qty < 0 ? -qty : qty;
		ap = price < 0 ? -price : price;
		if (ap > (LIMIT_LL - 1) / aq)
			return fail(err, "invalid_number", prefix,
				    "qty * unit_price_minor must be below 10^15 in absolute value");
		total += qty * price;
	}
	*sum = total;
	return 0;
}

/* Phase 2 of the tenders: type 1 to 32 of a-z and _ (invalid_text) and
 * amount_minor (invalid_number). Stores their sum in *sum. */
static int check_tenders(const cJSON *tenders, long long *sum,
			 struct val_err *err)
{
	const cJSON *el;
	size_t i = 0;
	long long total = 0;
	char prefix[32], field[64];

	for (el = tenders ? tenders->child : NULL; el; el = el->next, i++) {
		const char *type;
		long long amount;

		snprintf(prefix, sizeof prefix, "tenders[%zu]", i);
		path_of(field, sizeof field, prefix, "type");
		type = cJSON_GetObjectItemCaseSensitive(el, "type")->valuestring;
		if (check_text(err, field, type, 1, MAX_TENDER_TYPE, "invalid_text") < 0)
			return -1;
		if (!charset_ok(type, 1, MAX_TENDER_TYPE, is_tender_char))
			return fail(err, "invalid_text", field,
				    "must be 1 to %d of a-z and _", MAX_TENDER_TYPE);
		if (get_int(el, prefix, "amount_minor", &amount, err) < 0)
			return -1;
		total += amount; /* at most 20 of them, each below 10^15 */
	}
	*sum = total;
	return 0;
}

/* val_transaction: see validate.h. Phase 1: type, the required members
 * txn_id, kind, business_date, currency, lines, total_minor (and optional
 * created_at, customer, tenders: absent or null tenders is an empty list)
 * with their JSON types, each line and tender an object with its members;
 * phase 2: txn_id (invalid_text), kind, business_date, currency
 * (invalid_transaction), created_at and reference text (invalid_text),
 * customer_required, line and tender counts, each line and tender, then
 * the sums. Returns 0 or -1 with *err. */
int val_transaction(const cJSON *rec, bool allow_local_number,
		    struct val_err *err)
{
	const char *txn_id, *kind, *date, *created, *currency;
	const cJSON *ref, *lines, *tenders, *total_item;
	struct cust_ref cref;
	size_t nlines, ntenders;
	long long total, line_sum = 0, tender_sum = 0;

	static const char *const names[] = {"type", "txn_id", "kind", "business_date", "created_at",
					    "currency", "customer", "delivery_address", "invoice_address",
					    "lines", "tenders", "total_minor", NULL};
	const char *by, *addr_id;

	if (!cJSON_IsObject(rec))
		return fail(err, "invalid_record", "", "a transaction must be a JSON object");
	if (only_members(rec, names, "", err) < 0 ||
	    check_type_member(rec, "transaction", err) < 0 ||
	    member_str(rec, "", "txn_id", true, &txn_id, err) < 0 ||
	    member_str(rec, "", "kind", true, &kind, err) < 0 ||
	    member_str(rec, "", "business_date", true, &date, err) < 0 ||
	    member_str(rec, "", "created_at", false, &created, err) < 0 ||
	    member_str(rec, "", "currency", true, &currency, err) < 0)
		return -1;
	if (find_member(rec, "", "customer", &ref, err) < 0 ||
	    read_ref(ref, allow_local_number, &cref, err) < 0 ||
	    member(rec, "", "lines", J_ARRAY, true, &lines, err) < 0 ||
	    member(rec, "", "tenders", J_ARRAY, false, &tenders, err) < 0 ||
	    member(rec, "", "total_minor", J_NUMBER, true, &total_item, err) < 0 ||
	    read_items(lines, "lines", true, &nlines, err) < 0 ||
	    read_items(tenders, "tenders", false, &ntenders, err) < 0 ||
	    read_addr_ref(rec, "delivery_address", &by, &addr_id, err) < 0 ||
	    read_addr_ref(rec, "invoice_address", &by, &addr_id, err) < 0)
		return -1;

	if (!charset_ok(txn_id, 1, MAX_TXN_ID, is_txn_id_char))
		return fail(err, "invalid_text", "txn_id",
			    "must be 1 to %d of A-Z, a-z, 0-9, - and _", MAX_TXN_ID);
	if (strcmp(kind, "cash_and_carry") != 0 && strcmp(kind, "customer_order") != 0)
		return fail(err, "invalid_transaction", "kind",
			    "must be cash_and_carry or customer_order");
	if (!val_date(date))
		return fail(err, "invalid_transaction", "business_date",
			    "must be a real date YYYY-MM-DD");
	if (check_created_at(created, err) < 0)
		return -1;
	if (!all_of(currency, 3, is_upper))
		return fail(err, "invalid_transaction", "currency",
			    "must be three capital letters (ISO 4217)");
	if (check_ref_text(&cref, err) < 0)
		return -1;
	if (!cref.value && strcmp(kind, "customer_order") == 0)
		return fail(err, "customer_required", "customer",
			    "a customer_order needs a customer");
	if (nlines < 1 || nlines > VAL_MAX_LINES)
		return fail(err, "invalid_transaction", "lines",
			    "must have 1 to %d lines", VAL_MAX_LINES);
	if (ntenders > VAL_MAX_TENDERS)
		return fail(err, "invalid_transaction", "tenders",
			    "at most %d tenders", VAL_MAX_TENDERS);
	if (check_lines(lines, &line_sum, err) < 0 ||
	    check_tenders(tenders, &tender_sum, err) < 0 ||
	    get_int(rec, "", "total_minor", &total, err) < 0)
		return -1;
	if (total != line_sum)
		return fail(err, "invalid_transaction", "total_minor",
			    "must equal the sum of qty * unit_price_minor over the lines (%lld)",
			    line_sum);
	if (strcmp(kind, "cash_and_carry") == 0 && tender_sum != total)
		return fail(err, "invalid_transaction", "tenders",
			    "a cash_and_carry sale's tenders must add up to total_minor (%lld, not %lld)",
			    total, tender_sum);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Raw JSON text                                                       */
/* ------------------------------------------------------------------ */

/* Given json[i] == '"', returns the index of the closing quote, or len
 * when the string is not closed within len. A backslash always escapes
 * the next byte, which is enough to find the end. */
static size_t string_end(const char *json, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (json[i] == '\\')
			i++;
		else if (json[i] == '"')
			return i;
	}
	return len;
}

/* Given json[i] starting a number ('-' or a digit), returns the index after
 * the number token (its characters: digits, + - . e E) and sets *plain to
 * false when it holds a fraction or an exponent. */
static size_t number_end(const char *json, size_t len, size_t i, bool *plain)
{
	*plain = true;
	for (; i < len; i++) {
		char c = json[i];

		if (c == '.' || c == 'e' || c == 'E')
			*plain = false;
		else if (!is_digit((unsigned char)c) && c != '-' && c != '+')
			break;
	}
	return i;
}

static size_t skip_ws(const char *json, size_t len, size_t i)
{
	while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' ||
			   json[i] == '\r'))
		i++;
	return i;
}

/* val_json_plain_numbers: scans the first len bytes of json (no NUL
 * needed) and returns false when a number token outside strings has a
 * '.', 'e' or 'E'. Strings are skipped with their escapes. It does not
 * check that the text is JSON (the caller's parser does): truncated or
 * malformed text is scanned as far as it goes, never past len. A NULL json
 * is true. */
bool val_json_plain_numbers(const char *json, size_t len)
{
	size_t i = 0;
	bool plain;

	while (json && i < len) {
		char c = json[i];

		if (c == '"') {
			i = string_end(json, len, i) + 1;
		} else if (c == '-' || is_digit((unsigned char)c)) {
			i = number_end(json, len, i, &plain);
			if (!plain)
				return false;
		} else {
			i++;
		}
	}
	return true;
}

static int hex_value(int c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads 4 hex digits at s (n bytes available) into *cp. */
static bool hex4(const char *s, size_t n, uint32_t *cp)
{
	uint32_t v = 0;
	size_t i;

	if (n < 4)
		return false;
	for (i = 0; i < 4; i++) {
		int h = hex_value((unsigned char)s[i]);

		if (h < 0)
			return false;
		v = v << 4 | (uint32_t)h;
	}
	*cp = v;
	return true;
}

/* True when the raw JSON string contents raw[0..n) decode (escapes,
 * \uXXXX and surrogate pairs included, as cJSON decodes them) to exactly
 * the NUL-terminated UTF-8 name. */
static bool key_equals(const char *raw, size_t n, const char *name)
{
	size_t i = 0, k = 0, nlen = strlen(name);

	while (i < n) {
		char buf[4];
		size_t blen = 1;

		if (raw[i] != '\\') {
			buf[0] = raw[i++];
		} else {
			uint32_t cp, lo;

			if (i + 1 >= n)
				return false;
			switch (raw[i + 1]) {
			case '"': case '\\': case '/': buf[0] = raw[i + 1]; break;
			case 'b': buf[0] = '\b'; break;
			case 'f': buf[0] = '\f'; break;
			case 'n': buf[0] = '\n'; break;
			case 'r': buf[0] = '\r'; break;
			case 't': buf[0] = '\t'; break;
			case 'u':
				if (!hex4(raw + i + 2, n - i - 2, &cp) || cp == 0)
					return false;
				i += 4;
				if (cp >= 0xDC00 && cp <= 0xDFFF)
					return false;
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					if (i + 2 + 6 > n || raw[i + 2] != '\\' ||
					    raw[i + 3] != 'u' ||
					    !hex4(raw + i + 4, n - i - 4, &lo) ||
					    lo < 0xDC00 || lo > 0xDFFF)
						return false;
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					i += 6;
				}
				if (cp < 0x80) {
					buf[0] = (char)cp;
				} else if (cp < 0x800) {
					buf[0] = (char)(0xC0 | cp >> 6);
					buf[1] = (char)(0x80 | (cp & 0x3F));
					blen = 2;
				} else if (cp < 0x10000) {
					buf[0] = (char)(0xE0 | cp >> 12);
					buf[1] = (char)(0x80 | (cp >> 6 & 0x3F));
					buf[2] = (char)(0x80 | (cp & 0x3F));
					blen = 3;
				} else {
					buf[0] = (char)(0xF0 | cp >> 18);
					buf[1] = (char)(0x80 | (cp >> 12 & 0x3F));
					buf[2] = (char)(0x80 | (cp >> 6 & 0x3F));
					buf[3] = (char)(0x80 | (cp & 0x3F));
					blen = 4;
				}
				break;
			default:
				return false;
			}
			i += 2;
		}
		if (k + blen > nlen || memcmp(name + k, buf, blen) != 0)
			return false;
		k += blen;
	}
	return k == nlen;
}

/* val_json_bad_number_index: in the JSON text json[0..len) whose top level
 * is an object, finds the first member named array_member (as cJSON would)
 * and, when its value is an array, returns the 0-based index of the first
 * element that holds a number token with a fraction or exponent, at any
 * depth. Returns -1 when there is none, when that member is absent or not
 * an array, or when the text is not an object. Never reads past len; a
 * truncated text is judged on what it has. */
int val_json_bad_number_index(const char *json, size_t len,
			      const char *array_member)
{
	size_t i, end;
	long depth = 0, index = 0;
	bool in_target = false, plain;

	if (!json || !array_member)
		return -1;
	i = skip_ws(json, len, 0);
	if (i >= len || json[i] != '{')
		return -1;
	while (i < len) {
		char c = json[i];

		if (c == '"') {
			end = string_end(json, len, i);
			if (!in_target && depth == 1 && end < len) {
				size_t j = skip_ws(json, len, end + 1);

				if (j < len && json[j] == ':' &&
				    key_equals(json + i + 1, end - i - 1, array_member)) {
					j = skip_ws(json, len, j + 1);
					if (j >= len || json[j] != '[')
						return -1;
					in_target = true;
					depth = 2;
					i = j + 1;
					continue;
				}
			}
			i = end + 1;
			continue;
		}
		if (c == '-' || is_digit((unsigned char)c)) {
			i = number_end(json, len, i, &plain);
			if (!plain && in_target)
				return index > INT_MAX ? INT_MAX : (int)index;
			continue;
		}
		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			depth--;
			if (depth <= 0 || (in_target && depth < 2))
				return -1;
		} else if (c == ',' && in_target && depth == 2) {
			index++;
		}
		i++;
	}
	return -1;
}
