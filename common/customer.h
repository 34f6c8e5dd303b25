/*
 * customer: customers and their addresses in the local store.
 *
 * Records come in and go out as cJSON objects shaped as HQ-API.md's
 * customer and address records (plus the agent's state members, AGENT.md
 * "JSON shapes"). Every write checks the rules of common/validate first and
 * runs in one BEGIN IMMEDIATE transaction. Functions return 0 or a sysexits
 * status with *e filled; output documents are the caller's to cJSON_Delete.
 */
#ifndef POSAGENT_CUSTOMER_H
#define POSAGENT_CUSTOMER_H

#include <stdbool.h>
#include <stdint.h>
#include <cJSON.h>

#include "common/err.h"
#include "common/store.h"

/* Creates a customer from rec (HQ-API customer fields; async_id allowed
 * when from_json, local_number never). Same async_id and same record
 * again: nothing added, *created = false. Otherwise stored pending with a
 * fresh async id (unless given) and the next local number. *out: the
 * customer document with "possible_duplicates" (same email, same phone
 * digits). */
PA_MUST_USE int cust_create(struct store *st, const cJSON *rec, bool from_json, cJSON **out, bool *created,
                struct pa_err *e);

/* Applies the fields of changes (HQ-API names; a null or "" value clears
 * an optional field) to CUSTOMER ref, in any state. While pending and not
 * in a batch already sent (an unsent batch holding it is dropped, to be
 * frozen again), or rejected (then pending again, same async id), the
 * record itself is corrected; otherwise the change is applied here and
 * queued as a customer_update (common/update; "kind" is then refused).
 * An invalid result is EX_DATAERR with nothing stored. *out: the customer
 * document. */
PA_MUST_USE int cust_edit(struct store *st, const char *ref, const cJSON *changes, cJSON **out, struct pa_err *e);

/* Finds CUSTOMER ref by async id, local number or account. Unknown:
 * EX_DATAERR unknown_customer; several: EX_DATAERR ambiguous_customer
 * naming them. */
PA_MUST_USE int cust_resolve(struct store *st, const char *ref, int64_t *id, struct pa_err *e);

/* The customer document of row id (AGENT.md's shape, addresses included). */
PA_MUST_USE int cust_get(struct store *st, int64_t id, cJSON **out, struct pa_err *e);

/* Customers newest first, optionally only those in state (NULL: all). */
PA_MUST_USE int cust_list(struct store *st, const char *state, int limit, cJSON **out, struct pa_err *e);

/* AGENT.md's search: TEXT of 3+ characters anywhere in name, email, phone
 * digits, local number or account; shorter TEXT at the start of a word.
 * Phone-looking TEXT is matched on its digits. Newest first. */
PA_MUST_USE int cust_search(struct store *st, const char *text, int limit, cJSON **out, struct pa_err *e);

/* " first last organization" of a customer record folded (common/fold),
 * each part after a space, the text the search index holds for its names
 * (also for customers HQ sends): " silv" in it is a name word starting
 * with "silv". */
void cust_search_name(const cJSON *rec, char *out, size_t n);

/* Adds an address (HQ-API address fields without "customer") to CUSTOMER
 * ref. *out: the address document. */
PA_MUST_USE int addr_add(struct store *st, const char *ref, const cJSON *fields, cJSON **out, struct pa_err *e);

/* Corrects address ADDRESS (its async id) on the same terms as cust_edit;
 * "primary" true needs a purpose and demotes the customer's other primary
 * address of that purpose (here only). */
PA_MUST_USE int addr_edit(struct store *st, const char *ref, const cJSON *changes, cJSON **out, struct pa_err *e);

/* --discard-update of CUSTOMER ref / ADDRESS ref: drops its update that
 * has not gone up (pending or rejected) and shows HQ's values again (with
 * any update already sent on top). EX_DATAERR no_update when none. */
PA_MUST_USE int cust_discard_update(struct store *st, const char *ref, cJSON **out, struct pa_err *e);
PA_MUST_USE int addr_discard_update(struct store *st, const char *ref, cJSON **out, struct pa_err *e);

/* After the download stored HQ's values in customer row id / address row
 * id (inside its write transaction): keeps them as the base and shows
 * the register's living updates on top (common/update). */
PA_MUST_USE int cust_overlay(struct store *st, int64_t id, struct pa_err *e);
PA_MUST_USE int addr_overlay(struct store *st, int64_t id, struct pa_err *e);

#endif
