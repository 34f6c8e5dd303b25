/*
 * eod: end of day. The gate (which customers the day's transactions refer
 * to, and why each that is not synced still waits), the statement (built
 * once from the day's transactions with SQL sums, frozen with its id, key
 * and exact body before the first POST, which closes the date to `txn
 * record`), and its posting (the stored body under the stored key, so a
 * crash or a retry posts it once).
 *
 * Nothing here prints and nothing here waits: agent/cmd_eod.c runs the
 * loop (upload, long poll, progress, timeout) around these functions.
 * Functions return 0 or a sysexits status with *e filled.
 */
#ifndef POSAGENT_EOD_H
#define POSAGENT_EOD_H

#include <stdbool.h>
#include <stdint.h>
#include <cJSON.h>

#include "common/config.h"
#include "common/err.h"
#include "common/hqclient.h"
#include "common/store.h"
#include "common/util.h"

#define EOD_DATE_LEN 10 /* YYYY-MM-DD */

/* Why a blocking record still waits (AGENT.md's reason values). */
enum eod_reason {
	EOD_WAIT_UPLOAD,  /* pending, not yet accepted by HQ */
	EOD_UNREACHABLE,  /* its upload or download last failed: HQ unreachable */
	EOD_WAIT_ASSIGN,  /* HQ accepted it, no account number yet */
	EOD_REJECTED,     /* HQ refused it: a person must correct it */
};

/* What a blocking record is (AGENT.md's blocking "kind"). */
enum eod_kind {
	EOD_CUSTOMER,
	EOD_ADDRESS,
	EOD_TRANSACTION,
};

/* One record that holds the date up: a referenced customer or address not
 * synced, or a transaction of the date that HQ rejected (txn_id set). */
struct eod_block {
	enum eod_kind kind;
	char async_id[UUID_LEN + 1]; /* customer or address; "" for a transaction */
	char local_number[40];       /* customer, or an address's customer; "" for a transaction */
	char txn_id[72];             /* rejected transaction; "" otherwise */
	char address_id[40];         /* address: HQ's id when known (else "") */
	char purpose[16];            /* address: its purpose ("" when none) */
	char state[12];              /* pending, uploaded, rejected */
	enum eod_reason reason;
	char code[40];               /* HQ's code when rejected */
	char message[240];           /* HQ's message when rejected */
};

/* What eod_gate() and eod_check_net() say about the network, from this
 * run (the caller's upload and download attempts) or from the store's
 * bookkeeping (last_error newer than last_upload / last_download). */
struct eod_net {
	bool up_failed;         /* this run's last upload attempt gave up */
	bool down_failed;       /* this run's last download attempt gave up */
	char last_error[320];   /* the failure to show ("" when none) */
	bool own_only;          /* only this run's attempts count, never an
	                           older failure in the bookkeeping (eod) */
};

/* The gate of one business date, read in one read transaction. */
struct eod_gate {
	char date[EOD_DATE_LEN + 1];
	int64_t customers;          /* distinct customers the date's transactions name */
	int64_t addresses;          /* distinct addresses the date's transactions name */
	int64_t synced;             /* of those customers and addresses, synced */
	int64_t txns;               /* transactions of the date (both kinds, any state) */
	int64_t txns_uploaded;      /* of those, uploaded */
	int64_t rejected;           /* rejected referenced customers, addresses and transactions */
	struct eod_block *blocks;   /* every blocking record: customers, addresses, transactions */
	size_t nblocks;
	bool unreachable;           /* a reason is hq_unreachable; net->last_error says why */
	char last_error[320];       /* the failure behind hq_unreachable */
	/* the statement row, when there is one */
	char stmt_state[12];        /* "", "frozen", "posted", "refused" */
	char statement_id[UUID_LEN + 1];
	char posting_id[40];
	char stmt_code[40];         /* last refusal (refused) */
	char stmt_message[400];
};

/* Finds the oldest open business date (a transaction here, no posted
 * statement) into date; *found false when none is open. Walks the
 * distinct dates by index seeks, so a year of history stays fast. */
PA_MUST_USE int eod_oldest_open(struct store *st, char date[EOD_DATE_LEN + 1], bool *found, struct pa_err *e);

/* Reads the gate of date into *g (free with eod_gate_free). net may be
 * NULL (local only: the bookkeeping alone decides hq_unreachable). */
PA_MUST_USE int eod_gate(struct store *st, const char *date, const struct eod_net *net, struct eod_gate *g,
             struct pa_err *e);
void eod_gate_free(struct eod_gate *g); /* frees g's blocks; g may be read again */

/* True when the statement of g could be frozen (or, frozen already,
 * posted) now: every referenced customer and address synced, every
 * transaction of the date uploaded, at least one transaction. */
bool eod_ready(const struct eod_gate *g);

/* A frozen statement, as stored. */
struct eod_stmt {
	char date[EOD_DATE_LEN + 1];
	char statement_id[UUID_LEN + 1];
	char idem_key[UUID_LEN + 1];
	char *body;                 /* the exact JSON text every POST sends (malloc'd) */
	size_t len;
	char state[12];             /* frozen, posted, refused */
	char posting_id[40];
	int64_t txns;               /* transaction_count of the body */
};

/* Builds the statement body of date from the store: every transaction of
 * the date (both kinds) by txn_id in record order, the count, the sum of
 * the signed total_minor and the sum of amount_minor per tender type (SQL
 * sums; integers printed as plain digits). *body is malloc'd. Exposed for
 * tests; eod_freeze is what commands call. */
PA_MUST_USE int eod_build(struct store *st, const char *date, const char *statement_id, char **body, size_t *len,
              int64_t *count, struct pa_err *e);

/* Freezes the statement of date: in one BEGIN IMMEDIATE transaction,
 * returns the stored one when a row exists already (never rebuilt), else
 * checks that every referenced customer and address is synced and every transaction of
 * the date uploaded (EX_TEMPFAIL "not_ready" otherwise, nothing written),
 * builds the body and inserts it with a fresh statement id and key in
 * state frozen. From its commit the date is closed to txn_record. Fills
 * *s (free with eod_stmt_free). */
PA_MUST_USE int eod_freeze(struct store *st, const char *date, struct eod_stmt *s, struct pa_err *e);

/* Loads the stored statement of date; EX_DATAERR "no_statement" when none. */
PA_MUST_USE int eod_load(struct store *st, const char *date, struct eod_stmt *s, struct pa_err *e);
void eod_stmt_free(struct eod_stmt *s); /* frees the body; safe on a zeroed or freed *s */

/* What one POST of the statement came to. */
enum eod_post_result {
	EOD_POSTED,       /* 201: posting_id stored, state posted */
	EOD_REFUSED,      /* 409 already_posted or 422: state refused; a person must look */
	EOD_UNSYNCED,     /* 409 unsynced_references (or unsynced_customers): sync, then post again */
	EOD_UNKNOWN_TXNS, /* 409 unknown_transactions: those went back to the queue */
	EOD_RETRY,        /* transient (network, 5xx, 429, 409 request_in_progress, 400): later */
	EOD_AUTH,         /* 401/403: credentials refused; later, backing off */
};

struct eod_post_outcome {
	enum eod_post_result result;
	long status;              /* HTTP status, 0 when no reply */
	long retry_after;         /* Retry-After seconds, -1 none */
	bool replayed;            /* Idempotent-Replayed: true */
	char posting_id[40];      /* EOD_POSTED */
	char code[40];            /* HQ's error code */
	char error[600];          /* for a person: what HQ said, naming the ids */
	int requeued;             /* EOD_UNKNOWN_TXNS: transactions sent back to the queue */
	cJSON *ids;               /* the async ids / txn_ids HQ named, or NULL (caller frees) */
	bool all_synced_here;     /* EOD_UNSYNCED: every record HQ named is synced here */
};

/* Reads HQ's reply r to the POST of *s into *o (result, posting id, code,
 * message, the ids HQ named): no store, no network; eod_post acts on it.
 * Exposed for the fuzz harness (tests/fuzz). */
void eod_read_reply(const struct eod_stmt *s, const struct hq_response *r, struct eod_post_outcome *o);

/* POSTs the stored body of *s under its key and records HQ's answer:
 * 201 -> state posted with the posting id; 409 already_posted and 422 ->
 * state refused with the code and a message naming both statement ids;
 * 409 unknown_transactions -> those transactions of the date that were
 * uploaded go back to pending (HQ does not hold them: they must travel
 * again; HQ answers duplicate for any it does hold). Other answers change
 * nothing but the statement's last code. Returns 0 with *o filled, or a
 * status for a local failure. */
PA_MUST_USE int eod_post(struct store *st, struct hq_client *hq, const struct cfg *cfg, struct eod_stmt *s,
             struct eod_post_outcome *o, struct pa_err *e);

/* AGENT.md's reason value: "waiting_for_upload", ... */
const char *eod_reason_name(enum eod_reason r);

#endif
