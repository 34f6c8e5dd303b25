/*
 * diag: what `status` and `doctor` read, shared so that both tell a
 * technician the same thing.
 *
 * The database readers answer from the indexes that exist (state and
 * waiting_since, business date): no full table scans, so `status` stays
 * well under 100 ms at 100,000 customers and 1,000,000 transactions. They
 * return record ids (async id, local number, txn id) and HQ's codes, never
 * a name, email, phone or address, and never HQ's free-text message about
 * a record (an HQ may quote the refused value in it).
 *
 * The network helpers (URL parsing, DNS with a timeout, TCP connect with a
 * timeout, CA bundle reading) let doctor tell which step of reaching HQ
 * fails, each bounded in time.
 */
#ifndef POSAGENT_DIAG_H
#define POSAGENT_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/config.h"
#include "common/err.h"
#include "common/store.h"

/* The kinds of record the register queues for HQ. */
enum diag_kind { DIAG_CUSTOMER, DIAG_ADDRESS, DIAG_TXN, DIAG_NKINDS };

#define DIAG_MAX_STATES 4

/* "customer", "address", "transaction". */
const char *diag_kind_name(enum diag_kind k);

/* The states a kind can be in, in AGENT.md's order; *n gets how many. */
const char *const *diag_states(enum diag_kind k, int *n);

/* Records per state: n[kind][i] for diag_states(kind)[i]. */
struct diag_counts {
	int64_t n[DIAG_NKINDS][DIAG_MAX_STATES];
};

/* Counts every kind by state. The state that holds most records (synced,
 * uploaded) is the table's total less the others, so only the small
 * states' index ranges are walked. Returns 0 or a status with *e. */
PA_MUST_USE int diag_count(struct store *st, struct diag_counts *c, struct pa_err *e);

/* The oldest record waiting for HQ: customers pending or uploaded (waiting
 * for an account), addresses and transactions pending. Rejected records
 * wait for a person and are listed by diag_rejected instead. */
struct diag_waiting {
	bool found;             /* false: nothing is waiting */
	enum diag_kind kind;
	char id[72];            /* async id, or txn id */
	char local_number[40];  /* the customer's (a customer, or an address's owner), "" none */
	char state[12];         /* pending or uploaded */
	char customer_state[12]; /* an address's or transaction's customer's state, "" none */
	int64_t since;          /* unix time it started waiting */
};

/* Fills *w. Returns 0 or a status with *e. */
PA_MUST_USE int diag_oldest_waiting(struct store *st, struct diag_waiting *w, struct pa_err *e);

/* A record HQ rejected, waiting for a person. */
struct diag_rejected {
	enum diag_kind kind;
	char id[72];            /* async id, or txn id */
	char local_number[40];  /* the customer's, "" none */
	char code[48];          /* HQ's rejection code */
	int64_t since;          /* waiting since (unix time) */
};

/* Calls each() for the rejected records, oldest first per kind (customers,
 * then addresses, then transactions), until it returns non-zero or
 * max records were given; *total gets how many are rejected in all.
 * Returns 0 or a status with *e. */
PA_MUST_USE int diag_rejected(struct store *st, size_t max, int (*each)(void *ctx, const struct diag_rejected *r),
                  void *ctx, int64_t *total, struct pa_err *e);

/* A business date with transactions here and no posted statement. */
struct diag_date {
	char date[11];          /* YYYY-MM-DD */
	int64_t transactions;   /* of that date on this register */
	int64_t not_uploaded;   /* of them, pending or rejected */
	int64_t unsynced;       /* distinct customers they name that are not synced */
	int64_t unsynced_addresses; /* distinct addresses they name that are not synced */
	char statement[12];     /* "" none, else frozen or refused */
};

/* Calls each() for every open business date, oldest first, until it
 * returns non-zero or max were given; *total gets how many are open.
 * Returns 0 or a status with *e. */
PA_MUST_USE int diag_open_dates(struct store *st, size_t max, int (*each)(void *ctx, const struct diag_date *d), void *ctx,
                    int64_t *total, struct pa_err *e);

/* Upload batches HQ answered 400 (it could not read them): they are kept
 * and retried, and a person should report them. */
struct diag_flagged {
	char batch_id[40];
	int64_t records;
	char reason[320];
};

/* Calls each() for every flagged batch; *total gets how many. */
PA_MUST_USE int diag_flagged(struct store *st, int (*each)(void *ctx, const struct diag_flagged *f), void *ctx,
                 int64_t *total, struct pa_err *e);

/* Sync bookkeeping, as the sync engine wrote it ("" when never). */
struct diag_meta {
	char last_upload[32];
	char last_download[32];
	char last_error[320];
	char last_error_at[32];
	char next_retry[32];
};

/* Reads the sync bookkeeping. Returns 0 or a status with *e. */
PA_MUST_USE int diag_meta(struct store *st, struct diag_meta *m, struct pa_err *e);

/* A span of seconds for a person: "45 s", "12 min", "3 h 05 min",
 * "2 d 04 h". Negative spans are written as 0 s. */
void diag_span(int64_t secs, char *out, size_t outlen);

/* ---- reaching HQ -------------------------------------------------------- */

/* Splits an https:// URL into host (brackets of an IPv6 literal removed)
 * and port (default "443"). Returns 0, or -1 with a message in err. */
PA_MUST_USE int diag_url_host(const char *url, char *host, size_t hostlen, char *port, size_t portlen, char *err,
                  size_t errlen);

/* Resolves host:port (TCP) within timeout_ms. Fills out[0..*n) (at most
 * max) with the addresses as text ("192.0.2.1", "2001:db8::1"). Returns 0,
 * or -1 with a message (name unknown, timed out, ...) in err. */
PA_MUST_USE int diag_resolve(const char *host, const char *port, int timeout_ms, char out[][64], size_t max, size_t *n,
                 char *err, size_t errlen);

/* Opens a TCP connection to port on each of addrs[0..n) (numeric, as
 * diag_resolve gives them) in turn until one answers, all within
 * timeout_ms, and closes it. *used gets the index of the address that
 * answered. Returns 0, or -1 with a message (refused, timed out, ...). */
PA_MUST_USE int diag_tcp_connect(const char addrs[][64], size_t n, const char *port, int timeout_ms, size_t *used, char *err,
                     size_t errlen);

/* Reads a CA bundle: a PEM file holding at least one well-formed
 * certificate (base64 that decodes to a DER SEQUENCE). *certs gets how many.
 * Returns 0, or -1 with a message in err. */
PA_MUST_USE int diag_ca_file(const char *path, int *certs, char *err, size_t errlen);

/* The [hq] and [sync] values doctor's config line vouches for: the same
 * rules as cfg_check_hq() except the files (ca_file, token_file), which
 * doctor checks on lines of their own. Returns 0 or -1 with err. */
PA_MUST_USE int diag_config_values(const struct cfg *c, char *err, size_t errlen);

#endif
