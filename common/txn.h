/*
 * txn: the register's sales, returns and customer orders.
 */
#ifndef POSAGENT_TXN_H
#define POSAGENT_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <cJSON.h>

#include "common/err.h"
#include "common/store.h"

#define TXN_MAX_JSON (1024 * 1024) /* largest transaction document accepted */

/* Stores the HQ-API transaction in json (len bytes): checks the rules of
 * common/validate, the txn_id prefix STORE-REGISTER-, the configured
 * currency, that its customer ({"async_id"}, {"local_number"} or
 * {"account"}) is known here, that its delivery_address/invoice_address
 * ({"async_id"} or {"address_id"}) are addresses of that customer, and
 * that its business date is still open.
 * The same transaction again (equal once its customer is resolved, and
 * created_at compared only when given) adds nothing: *created false. A
 * different one under the same txn_id is EX_DATAERR, unless HQ rejected
 * the stored one: then the corrected record replaces it (pending again). *out: {"txn_id",
 * "state", "customer": {"async_id", "account"} or null, "warnings": [{"code",
 * "message"}]} (a customer or address the sale names that HQ rejected). */
PA_MUST_USE int txn_record(struct store *st, const char *json, size_t len, cJSON **out, bool *created,
               struct pa_err *e);

/* One transaction (AGENT.md `txn show`): the HQ-API transaction whose
 * customer, delivery_address and invoice_address are objects with their
 * ids and "state" (or null), plus "state" and "last_error". Unknown
 * txn_id: EX_DATAERR unknown_transaction. */
PA_MUST_USE int txn_show(struct store *st, const char *txn_id, cJSON **out, struct pa_err *e);

/* Transactions newest first as an array of txn_show documents, only of
 * date and in state when not NULL, at most limit. */
PA_MUST_USE int txn_list(struct store *st, const char *date, const char *state, int limit, cJSON **out, struct pa_err *e);

#endif
