/*
 * validate: the rule table of HQ-API.md, written once. The agent checks
 * what a person or the POS typed before storing it; the reference HQ checks
 * every record of a batch with the very same code.
 *
 * Records are cJSON objects shaped exactly as HQ-API.md's "Records"
 * section. A rule failure fills a struct val_err: the HQ-API rejection
 * code, the field at fault (a JSON path such as "email" or "lines[2].qty",
 * empty when no single field is at fault) and a one-line message that names
 * the field and the rule. No function here prints or allocates.
 */
#ifndef POSAGENT_VALIDATE_H
#define POSAGENT_VALIDATE_H

#include "common/err.h"
#include <stddef.h>
#include <stdbool.h>
#include <cJSON.h>

#define VAL_MONEY_LIMIT 1000000000000000.0 /* 10^15: integers must be below, in absolute value */
#define VAL_MAX_ATTRS 20
#define VAL_MAX_LINES 500
#define VAL_MAX_TENDERS 20

struct val_err {
	char code[40];     /* HQ-API rejection code: "invalid_email", ... */
	char field[64];    /* JSON path of the field at fault, "" if none */
	char message[256]; /* one line naming the field and the rule */
};

/* Customer record (type "customer" may be absent: the agent validates CLI
 * input before adding it). Checks kind, names, email, phone, language,
 * attributes and every string. async_id, when present, must be a UUID
 * (invalid_record otherwise); local_number and created_at, when present,
 * are checked as text. Returns 0 when valid, -1 with *err filled. */
PA_MUST_USE int val_customer(const cJSON *rec, struct val_err *err);

/* Address record: purpose, primary, line1, city, postal_code, country,
 * optional line2/region, and a "customer" member that is {"async_id"} or
 * {"account"} when require_customer is true (the CLI adds it later).
 * Returns 0 or -1 with *err. */
PA_MUST_USE int val_address(const cJSON *rec, bool require_customer, struct val_err *err);

/* Transaction record: txn_id, kind, business_date, created_at (optional),
 * currency, customer (null, {"async_id"}, {"account"}; the agent also
 * allows {"local_number"} when allow_local_number), lines, tenders,
 * total_minor and their sums. Returns 0 or -1 with *err. */
PA_MUST_USE int val_transaction(const cJSON *rec, bool allow_local_number, struct val_err *err);

/* A string as HQ-API.md wants it: valid UTF-8, no control characters,
 * at most max_cp code points (and at least 1 when !allow_empty). */
bool val_text(const char *s, size_t max_cp, bool allow_empty);

/* Number of Unicode code points in valid UTF-8 s (bytes if invalid). */
size_t val_utf8_len(const char *s);

/* An integer member as HQ-API.md wants it: a JSON number with no fraction,
 * below 10^15 in absolute value. Stores it in *out. */
bool val_integer(const cJSON *item, long long *out);

/* Every number token of the JSON text is plain digits (optional minus, no
 * fraction, no exponent). The raw check cJSON cannot do after parsing;
 * callers run it on the text they parsed. */
bool val_json_plain_numbers(const char *json, size_t len);

/* In the JSON text whose top level is an object, the 0-based index of the
 * first element of the array member array_member (e.g. "records") that
 * holds a number with a fraction or exponent, or -1 when none (or when
 * the member is absent or not an array). HQ rejects just that record with
 * invalid_number. Never reads past len. */
int val_json_bad_number_index(const char *json, size_t len, const char *array_member);

/* A lowercase or uppercase hex UUID 8-4-4-4-12. */
bool val_uuid(const char *s);

/* "YYYY-MM-DD" naming a real Gregorian date. */
bool val_date(const char *s);

/* RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SSZ" (fraction allowed). */
bool val_time(const char *s);

/* Copies the digits of a phone number into out (NUL-terminated), the form
 * used for duplicate detection and search. Returns the digit count. */
size_t val_phone_digits(const char *phone, char *out, size_t outlen);

#endif
