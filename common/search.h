/*
 * search: AGENT.md's customer search, over the FTS5 tables of the store
 * (common/store.c): customer_tri (trigram: 3+ characters anywhere) and
 * customer_word (words, with 1- and 2-character prefix indexes), both over
 * the folded names, email, phone, local number, account and the customer's
 * addresses (line 1, city, postal code). Text is folded by common/fold on
 * both sides.
 */
#ifndef POSAGENT_SEARCH_H
#define POSAGENT_SEARCH_H

#include <stdint.h>
#include <cJSON.h>

#include "common/err.h"
#include "common/store.h"

/* Customers matching text (every word must match; a word of 3+ characters
 * anywhere, a shorter one at the start of a word; phone-looking text as its
 * digits), at most limit, best first: exact local number, account, email
 * or phone; then those whose names have words starting with every search
 * word; then the rest; newest first within each. *out: an array of
 * customer documents. EX_DATAERR invalid_text for empty or bad text. */
int search_customers(struct store *st, const char *text, int limit, cJSON **out, struct pa_err *e);

/* Stores the folded search text (line 1, city, postal code) of address
 * row id, which the triggers copy into its customer's index entry. Call it
 * after writing an address's fields (without it the raw fields are
 * indexed). */
int search_index_address(struct store *st, int64_t id, struct pa_err *e);

#endif
