/*
 * hq: the reference HQ of HQ-API.md, for tests and the demo.
 *
 * One process, one SQLite database (DIR/hq.db, WAL), libmicrohttpd with
 * one thread per connection over GnuTLS. Every module keeps its own state
 * behind its own prefix; this header is what they share:
 *
 *   hq_main   options, start-up, signals, shut-down
 *   hq_net    listening sockets, free ports, peer checks, resets
 *   hq_http   the libmicrohttpd glue: bodies, gzip, faults, replies
 *   hq_reply  building replies (JSON documents, errors)
 *   hq_api    the /v1 routes: auth, idempotent POSTs, health, changes
 *   hq_batch  POST .../batches
 *   hq_stmt   POST .../statements
 *   hq_feed   the change feed and its long poll
 *   hq_sync   the customer synchronization job (account numbers)
 *   hq_idem   Idempotency-Key: stored replies and requests in flight
 *   hq_auth   bearer tokens
 *   hq_db     the SQLite connection, its lock, counters
 *   hq_admin  /_admin/ (tests only)
 *   hq_fault  the queue of injected faults
 *   hq_stats  requests counted by endpoint and status
 *   hq_json   small JSON helpers (array element spans, member access)
 *   hq_clock  HQ's clock (wall clock plus an offset), time texts
 *   hq_tls    which certificate a handshake gets (SNI)
 *
 * Locking: one mutex (db_lock) guards the database and the requests in
 * flight; the feed, the fault queue and the counters have their own.
 * Nobody takes db_lock while holding another of them.
 */
#ifndef POSAGENT_HQ_H
#define POSAGENT_HQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cJSON.h>
#include <sqlite3.h>

#include "common/util.h"
#include "common/validate.h"

#define HQ_MAX_BODY (4u * 1024 * 1024)    /* largest request body after gzip */
#define HQ_MAX_DISCARD (64u * 1024 * 1024) /* read and drop at most this much */
#define HQ_MAX_RECORDS 500                 /* records in one batch */
#define HQ_ID_MAX 65                       /* store / register names + NUL */
#define HQ_KEY_MAX 129                     /* Idempotency-Key + NUL */

/* ---- hq_reply: what a handler answers ---------------------------------- */

enum reply_action {
	REPLY_SEND,  /* send status + body */
	REPLY_RESET, /* close the connection at once (TCP reset), no reply */
	REPLY_DROP,  /* close the connection without replying */
};

struct hq_reply {
	unsigned status;          /* HTTP status */
	char *body;               /* malloc'd body (freed by the sender) */
	size_t len;               /* its length */
	const char *content_type; /* NULL: application/json */
	char retry_after[64];     /* Retry-After value, "" for none */
	char allow[32];           /* Allow header (405), "" for none */
	bool replayed;            /* add Idempotent-Replayed: true */
	enum reply_action action; /* send, reset or drop */
};

/* Sets *rp to status with doc printed as its body; takes doc. Returns 0,
 * or -1 (and a 500 reply) when out of memory. */
int reply_json(struct hq_reply *rp, unsigned status, cJSON *doc);

/* Sets *rp to status with {"error":{"code","message"}} plus the members of
 * extra (taken, may be NULL). Returns 0. */
int reply_error_x(struct hq_reply *rp, unsigned status, const char *code, cJSON *extra,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define reply_error(rp, status, code, ...) reply_error_x(rp, status, code, NULL, __VA_ARGS__)

/* Sets *rp to status with a copy of the len bytes at body. Returns 0 or -1. */
int reply_raw(struct hq_reply *rp, unsigned status, const char *body, size_t len,
              const char *content_type);

/* Frees what *rp holds and zeroes it. */
void reply_clear(struct hq_reply *rp);

/* ---- hq_api / hq_http: one request ------------------------------------- */

struct MHD_Connection;

struct hq_request {
	struct MHD_Connection *conn; /* for headers and query arguments */
	const char *method;          /* "GET", "POST", ... */
	const char *path;            /* decoded path, no query */
	const char *body;            /* NUL-terminated (after gzip), or "" */
	size_t len;                  /* body length */
	int fd;                      /* the connection's socket, -1 unknown */
	unsigned delay_ms;           /* injected delay before handling */
};

/* The value of request header name, or NULL. */
const char *http_header(const struct hq_request *rq, const char *name);

/* The value of query argument name, or NULL. */
const char *http_query(const struct hq_request *rq, const char *name);

#define HQ_REVISION "2026-11-30" /* the HQ-API.md revision this HQ implements */

/* Sets health's "revision" ("" leaves it out: an HQ older than it). */
void api_set_revision(const char *revision);

/* True when started with --revision none: HQ then also behaves as an HQ
 * of before the revision, refusing (invalid_record) update records and a
 * transaction's delivery_address/invoice_address members. */
bool api_legacy(void);

/* Answers a /v1 request into *rp (always filled). */
void api_handle(const struct hq_request *rq, struct hq_reply *rp);

/* Answers a /_admin/ request into *rp (always filled). */
void admin_handle(const struct hq_request *rq, struct hq_reply *rp);

struct MHD_Daemon;

/* Serves HTTPS on the listening socket fd with the certificates of
 * hq_tls (one thread per connection). Returns the daemon, or NULL. */
struct MHD_Daemon *http_start(int fd);

/* Stops the n daemons: no new connections, long polls answered, every
 * connection thread joined. */
void http_stop(struct MHD_Daemon **d, size_t n);

/* Reads DIR/admin.secret. Returns 0, or -1 with a message on stderr. */
int admin_init(const char *dir);

/* ---- hq_db ------------------------------------------------------------- */

/* Opens (creating) path in WAL mode with the schema. Returns 0 or -1. */
int db_open(const char *path);
void db_close(void);

/* The connection; use it only between db_lock() and db_unlock(). */
sqlite3 *db_handle(void);

void db_lock(void);
void db_unlock(void);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK under db_lock. Return 0 or -1. */
int db_begin(void);
int db_commit(void);
void db_rollback(void);

/* Prepares sql once on the shared connection (call before serving).
 * Returns the statement or NULL (message on stderr). */
sqlite3_stmt *db_prepare(const char *sql);

/* Resets st and clears its bindings for the next use. */
void db_done(sqlite3_stmt *st);

/* Adds delta to counter name and returns the new value, -1 on error. */
int64_t db_counter_add(const char *name, int64_t delta);

/* The value of counter name (0 when never set). */
int64_t db_counter_get(const char *name);

/* Logs the connection's last error with what (stderr). */
void db_log_error(const char *what);

/* ---- hq_auth ----------------------------------------------------------- */

/* Loads DIR/tokens/STORE-REGISTER.token into the database. Returns 0/-1. */
int auth_init(const char *dir);

/* Maps an Authorization header to its (store, register). Returns 0, or -1
 * when missing, malformed, unknown or revoked. */
int auth_lookup(const char *authorization, char store[HQ_ID_MAX], char reg[HQ_ID_MAX]);

/* Revokes (on) or restores (!on) every token of (store, register).
 * Returns how many tokens that register has, -1 on error. */
int auth_revoke(const char *store, const char *reg, bool on);

/* ---- hq_idem ----------------------------------------------------------- */

enum idem_state {
	IDEM_NEW,      /* first time: now in flight, call idem_end() after */
	IDEM_REPLAY,   /* a stored reply: *stored filled */
	IDEM_MISMATCH, /* same key, another request: 422 */
	IDEM_BUSY,     /* same key still being handled: 409 */
	IDEM_ERROR,    /* database failure: 500 */
};

int idem_init(void);

/* The request's fingerprint: SHA-256 of method, path and body. */
void idem_hash(const char *method, const char *path, const char *body, size_t len,
               uint8_t out[32]);

/* Looks the key of (store, reg) up; hash is SHA-256 of method, path and
 * body. Takes db_lock itself. */
enum idem_state idem_begin(const char *store, const char *reg, const char *key,
                           const uint8_t hash[32], struct hq_reply *stored);

/* Stores a 2xx reply under the key; the caller holds db_lock inside the
 * transaction that made its effects. Returns 0 or -1. */
int idem_store(const char *store, const char *reg, const char *key, const uint8_t hash[32],
               const struct hq_reply *rp);

/* The request of idem_begin() (IDEM_NEW) is over. Takes db_lock. */
void idem_end(const char *store, const char *reg, const char *key);

/* ---- hq_feed ----------------------------------------------------------- */

int feed_init(void);

/* Appends change (taken) to store's feed; caller holds db_lock in a
 * transaction. Returns 0 or -1. */
int feed_publish(const char *store, cJSON *change);

/* Publishes the `customer` change of customers row id (its full record and
 * addresses) to its store. Caller holds db_lock in a transaction. */
int feed_publish_customer(int64_t customer_id);

/* The `customer` change document of customers row id (account null when
 * it has none) into *out, its store into store. Caller holds db_lock.
 * Returns 0 or -1. */
int feed_customer_doc(int64_t customer_id, cJSON **out, char store[HQ_ID_MAX]);

/* Wakes long polls after a commit that published changes. */
void feed_notify(void);

/* Makes every long poll answer now (shut-down). */
void feed_shutdown(void);

/* GET /v1/stores/{store}/changes with cursor after ("" = from the start),
 * limit, wait seconds; watches fd for a peer that went away. */
void feed_changes(const char *store, const char *after, long limit, long wait_s, int fd,
                  struct hq_reply *rp);

/* How many long polls are waiting now (admin state). */
long feed_waiting(void);

/* How many changes are stored (admin state). Caller holds db_lock. */
int64_t feed_count(void);

/* ---- hq_sync ----------------------------------------------------------- */

enum assign_mode {
	ASSIGN_IMMEDIATE, /* before the batch's reply */
	ASSIGN_DELAY,     /* delay_ms after acceptance, by a thread */
	ASSIGN_MANUAL,    /* only when asked (admin) */
};

/* Parses "immediate", "manual" or a delay in milliseconds. Returns 0/-1. */
int sync_parse_mode(const char *s, enum assign_mode *mode, long *delay_ms);

/* Starts the job (its thread for delayed assignment). Returns 0 or -1. */
int sync_start(enum assign_mode mode, long delay_ms);
void sync_stop(void);

/* Changes the mode at run time; pending customers are assigned at once
 * when the new mode is immediate. */
void sync_set_mode(enum assign_mode mode, long delay_ms);

/* The mode as text ("immediate", "manual", "1500") into out. */
void sync_mode_text(char *out, size_t n);

/* Called inside a batch's transaction after its records: assigns every
 * pending customer when the mode is immediate. Returns 0 or -1. */
int sync_after_batch(bool accepted_customers);

/* Assigns accounts to at most max (negative: all) pending customers in
 * acceptance order, accepted before due_ms (negative: any time), and
 * address ids to their addresses. Caller holds db_lock in a transaction.
 * Appends {"async_id","account","addresses":[{"async_id","address_id"}]}
 * to done when not NULL. Returns how many, -1 on error. */
int sync_assign(long max, int64_t due_ms, cJSON *done);

/* Takes the next account number ("C000001"...) into out[24]. Caller holds
 * db_lock in a transaction. Returns 0 or -1. */
int sync_next_account(char out[24]);

/* ---- hq_batch / hq_stmt ------------------------------------------------ */

int batch_init(void);

/* One batch being handled (hq_batch, hq_upd). */
struct batch {
	const char *store, *reg;
	char path[200];                  /* the request path (reject faults) */
	int64_t touched[HQ_MAX_RECORDS]; /* customers changed, in order */
	size_t ntouched;
	bool new_customers; /* some customer was accepted */
	int64_t duplicates;
};

/* Notes that the customer changed: its `customer` change is published
 * (when it has an account) at the end of the batch. */
void batch_touch(struct batch *b, int64_t customer_id);

/* Appends {"id", "status"[, "code", "message"]} to results; returns it. */
cJSON *batch_result(cJSON *results, const char *id, const char *status, const char *code,
                    const char *message);

/* Finds a customer by reference member ref ({"async_id"} or {"account"}):
 * 1 with *id and *synced, 0 when HQ has none (*code: unknown_customer or
 * unknown_account), -1 on error. */
int batch_find_customer(const cJSON *ref, int64_t *id, bool *synced, const char **code);

/* ---- hq_upd: customer_update and address_update records --------------- */

int upd_init(void);

/* Answers one update record rec (type customer_update or address_update,
 * its update_id id; bad_number as in hq_batch) into results. Returns 0,
 * -1 on a database error. */
int upd_record(struct batch *b, const cJSON *rec, const char *type, const char *id,
               bool bad_number, cJSON *results);

/* The batches endpoint, under db_lock in a transaction; fills *rp. Returns
 * 0, or -1 on a database failure (roll back). */
int batch_post(const char *store, const char *reg, const char *body, size_t len,
               struct hq_reply *rp);

int stmt_init(void);

/* The statements endpoint; same contract as batch_post. */
int stmt_post(const char *store, const char *reg, const char *body, size_t len,
              struct hq_reply *rp);

/* The "statements" array of the admin state. Caller holds db_lock. */
cJSON *stmt_list(void);

/* ---- hq_cust: changes to a customer or its addresses -------------------- */
/* All run inside the caller's transaction, under db_lock. */

int cust_init(void);

/* Bumps the customer's version; returns the new one, -1 on error. */
int64_t cust_bump(int64_t customer_id);

/* Gives addresses row addr_row the next address id (A000001...) when its
 * customer has an account (else does nothing) and publishes
 * `address_assigned` for an address made at a register; appends
 * {"async_id","address_id"} of such an address to done (may be NULL).
 * Returns 0 or -1. */
int cust_give_address_id(int64_t addr_row, cJSON *done);

/* cust_give_address_id for every address of the customer that has none.
 * Returns how many, -1 on error. */
int cust_assign_addresses(int64_t customer_id, cJSON *done);

/* When addr is primary with a purpose, makes every other primary address
 * of that purpose of the customer (all but keep_row) non-primary. Returns
 * how many, -1 on error. */
int cust_demote(int64_t customer_id, int64_t keep_row, const cJSON *addr);

/* Stores a new address (record as the feed shows it, without customer;
 * async_id NULL for one made at HQ), demotes the earlier primary of its
 * purpose and gives it an id when its customer has an account. Does not
 * bump the version. Returns the row id, -1 on error. */
int64_t cust_address_add(int64_t customer_id, const char *async_id, const char *store,
                         const char *reg, const cJSON *record, cJSON *done);

/* Replaces the record of addresses row row (before: its old record),
 * demoting the earlier primary when it was promoted or its purpose
 * changed. Does not bump the version. Returns 0 or -1. */
int cust_address_set(int64_t customer_id, int64_t row, const cJSON *before, const cJSON *after);

/* Replaces the customer's record. Returns 0 or -1. */
int cust_record_set(int64_t customer_id, const cJSON *record);

/* Applies fields to record member by member (null stays, as a cleared
 * field), keeping the order of members already there. */
void cust_apply(cJSON *record, const cJSON *fields);

/* ---- hq_rules: the revision's rules beyond common/validate ------------- */

/* The first member of rec (a record of type type: customer, address,
 * transaction, customer_update, address_update), or of its references,
 * lines and tenders, that HQ-API.md does not name: -1 with *err
 * (invalid_record); also checks a transaction's address references.
 * Returns 0 when every member is named. */
int rules_members(const cJSON *rec, const char *type, struct val_err *err);

/* The reference member name of rec: absent or null (an error when
 * required), else an object naming exactly one non-null id: async_id (a
 * UUID) or account (address_id when address). *id gets that member (NULL
 * when absent). Returns 0, or -1 with *err (invalid_record, invalid_text). */
int rules_ref(const cJSON *rec, const char *name, bool required, bool address,
              const cJSON **id, struct val_err *err);

/* An update's "fields": a non-empty object naming only fields that may
 * change (of an address when address). Returns 0 or -1 (invalid_record). */
int rules_fields(const cJSON *fields, bool address, struct val_err *err);

/* A primary address needs a purpose: 0, or -1 with *err (invalid_address). */
int rules_primary(const cJSON *addr, struct val_err *err);

/* ---- hq_fault ---------------------------------------------------------- */

enum fault_kind {
	FAULT_NONE,
	FAULT_STATUS,            /* reply status (+ Retry-After, body) unhandled */
	FAULT_DELAY,             /* wait delay_ms, then handle */
	FAULT_RESET,             /* reset the connection, unhandled */
	FAULT_GARBAGE,           /* 200 with a garbage body, unhandled */
	FAULT_DROP_AFTER_COMMIT, /* handle and store, then close, no reply */
	FAULT_REJECT,            /* per record: reject the next records of a type */
};

struct fault {
	enum fault_kind kind;
	unsigned status;      /* FAULT_STATUS */
	char retry_after[48]; /* "N", "date:+N" or "" */
	char *body;           /* FAULT_STATUS body (malloc'd) or NULL */
	unsigned delay_ms;    /* FAULT_DELAY */
	char record[24];      /* FAULT_REJECT: record type */
	char id[80];          /* FAULT_REJECT: only the record of that id, "" any */
	char code[40];        /* FAULT_REJECT: the rejection code */
};

/* Queues the fault described by doc (see README.md). Returns 0, or -1 with
 * a message in err. */
int fault_add(const cJSON *doc, char *err, size_t errlen);

/* Takes the first queued fault matching method and path into *out (kind
 * FAULT_NONE when none). */
void fault_take(const char *method, const char *path, struct fault *out);

/* Whether a queued `reject` fault takes the record of that type and id,
 * about to be accepted in a batch posted to path: then one use of it is
 * taken and *err gets its code and message. Takes the fault lock only. */
bool fault_reject(const char *path, const char *type, const char *id, struct val_err *err);

/* Frees what *f holds. */
void fault_free(struct fault *f);

/* Drops every queued fault; returns how many there were. */
int fault_clear(void);

/* The queued faults as a JSON array. */
cJSON *fault_list(void);

/* ---- hq_limit ---------------------------------------------------------- */

/* Sets the capacity limit: at most inflight_max requests handled at once
 * (0: none), rate a second (0: none); over it, 503 with Retry-After
 * retry_after seconds. */
void limit_set(long inflight_max, double rate, long retry_after);

/* Admits a request (counted: it counts in flight). Returns true when it
 * may be handled (then limit_leave(counted) after), false: answer 503. */
bool limit_enter(bool counted);
void limit_leave(bool counted);

/* The Retry-After seconds of a 503 for the limit. */
long limit_retry_after(void);

/* ---- hq_stats ---------------------------------------------------------- */

/* Counts one request: "METHOD path outcome". */
void stats_count(const char *method, const char *path, const char *outcome);

/* The counters as a JSON object. */
cJSON *stats_json(void);

/* Drops every counter (admin reset-stats, shut-down); returns how many. */
int stats_free(void);

/* ---- hq_tls ------------------------------------------------------------ */

#define HQ_ADMIN_NAME "hq-admin.test" /* SNI name that gets DIR/admin.pem */

/* Loads the server certificate and key (PEM texts), and the admin ones
 * when not NULL. Returns 0, or -1 with a message on stderr. */
int tls_load(const char *cert_pem, const char *key_pem, const char *admin_cert_pem,
             const char *admin_key_pem);
void tls_free(void);

/* ---- hq_net ------------------------------------------------------------ */

/* Listening TCP sockets on 127.0.0.1 and ::1 (when the host has it) at
 * port (0: any free one; the same for both). fds[1] is -1 without IPv6.
 * Returns the port, or -1 with errno (EADDRINUSE when taken). */
int net_listen(int port, int fds[2]);

/* True when the peer of fd closed its side (nothing left to read). */
bool net_peer_gone(int fd);

/* Makes the coming close of fd send a TCP reset. */
void net_set_reset(int fd);

/* ---- hq_json ----------------------------------------------------------- */

struct json_span {
	size_t off, len;
};

/* In the JSON text json[0..len) whose top level is an object, the byte
 * spans of the elements of the first member named member (an array).
 * Returns how many (at most max), or -1 when not found or malformed. */
long json_array_spans(const char *json, size_t len, const char *member,
                      struct json_span *spans, size_t max);

/* The string value of member name of obj, or NULL. */
const char *json_str(const cJSON *obj, const char *name);

/* Adds name: s (or null when s is NULL) to obj. Returns 0 or -1. */
int json_add_str(cJSON *obj, const char *name, const char *s);

/* ---- hq_clock ---------------------------------------------------------- */

/* HQ's clock: the wall clock shifted by the offset (seconds). */
time_t clock_now(void);
void clock_set_offset(long seconds);
long clock_offset(void);

/* Milliseconds of the real wall clock (no offset), for stored times. */
int64_t clock_ms(void);

/* t as an HTTP-date (IMF-fixdate) into out[40]. */
void clock_http_date(time_t t, char out[40]);

#endif
