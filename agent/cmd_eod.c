/*
 * posagent eod [--date YYYY-MM-DD] [--timeout SECONDS] [--check]: end of
 * day, what the store manager runs at closing time (AGENT.md "End of day").
 *
 * The loop, one round at a time until the statement is posted, a record
 * is rejected, the timeout runs out or Ctrl-C:
 *   read the gate (common/eod) -> posted? print the posting id, 0
 *   -> a referenced customer or a transaction of the date rejected? 65
 *   -> statement frozen (or everything synced and uploaded: freeze it)?
 *      POST the stored body under the stored key; 201 -> 0; 409
 *      already_posted / 422 -> 65; 409 unsynced / unknown -> sync, again;
 *      transient -> backoff, again, until the deadline (75)
 *   -> else show progress, upload the date's records first (pjob_push,
 *      priority date, one try), then follow the download on the long poll
 *      (1..5 s: it returns as soon as an assignment arrives), backing off
 *      while HQ is unreachable; being offline is a reason to wait, never
 *      an exit of its own (69 is not used).
 * Progress goes to stderr: one live line on a terminal, otherwise one
 * plain line each time it changes. Customers are named by local number
 * (async id when they have none), never by anything personal.
 * `--check` reads only the database: 0 ready, 65 a rejected record
 * blocks, 75 otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "agent/cli.h"
#include "common/diag.h"
#include "common/eod.h"
#include "common/log.h"
#include "common/pjob.h"
#include "common/validate.h"

#define SHOW_IDS 6           /* customers named per reason on a progress line */
#define REJECT_IDS 10        /* records named in the rejection message */
#define LONG_POLL_MAX 5      /* seconds the download waits for an assignment */
#define RETRY_CAP 5          /* longest backoff between rounds, seconds */
#define EOD_START_JITTER 2.0 /* seconds over which eods started at once spread their first wait */
#define LINE_MAX_LEN 2048

static volatile sig_atomic_t stop_flag;

/* SIGINT, SIGTERM: only a flag; the loop, the sleeps and the HQ client
 * (which aborts a transfer within ~100 ms) poll it. */
static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* One run of eod. */
struct eod_run {
	struct cli *c;
	struct store *st;
	struct hq_client *hq;
	const char *date;
	long timeout;                /* seconds */
	double deadline;             /* CLOCK_MONOTONIC */
	bool tty;                    /* stderr is a terminal: live line */
	bool live;                   /* a live line is on screen */
	char shown[LINE_MAX_LEN];    /* the last progress text shown */
	struct eod_net net;          /* this run's last upload and download */
	int fails;                   /* consecutive failed rounds (backoff) */
	int rounds;                  /* sync rounds done */
	int post_fails;              /* consecutive failed POSTs */
	char post_error[600];        /* the last POST failure */
	char result[16];             /* AGENT.md's result value */
	char posting_id[40];
	cJSON *open_dates;           /* after posting: the dates still open */
};

/* ---- progress ------------------------------------------------------------ */

/* Terminal width for the live line (80 when unknown). */
static size_t term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

/* Removes the live line, so that other output starts on a clean line. */
static void clear_live(struct eod_run *r)
{
	if (r->live) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		r->live = false;
	}
}

/* Shows text: on a terminal as the live line (cut to the width), else
 * as one line when it differs from the last one shown. */
static void show(struct eod_run *r, const char *text)
{
	if (r->tty) {
		size_t w = term_width() - 1, n = strlen(text);
		fprintf(stderr, "\r\033[K%.*s", (int)(n < w ? n : w), text);
		fflush(stderr);
		r->live = true;
	} else if (strcmp(text, r->shown) != 0) {
		fprintf(stderr, "%s\n", text);
		fflush(stderr);
	}
	util_copy(r->shown, sizeof(r->shown), text);
}

/* Appends printf output to buf (size n) at *used, cutting at the end. */
static void add(char *buf, size_t n, size_t *used, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t n, size_t *used, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*used + 1 >= n)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *used, n - *used, fmt, ap);
	va_end(ap);
	if (w > 0)
		*used = (size_t)w >= n - *used ? n - 1 : *used + (size_t)w;
}

/* How a blocking record is named: a customer by its local number (else
 * async id), an address by its customer's local number and its purpose
 * ("R01-000001 delivery address"), a transaction by its txn_id. Returns
 * buf. */
static const char *block_name(const struct eod_block *b, char *buf, size_t n)
{
	const char *who = b->local_number[0] ? b->local_number : b->async_id;

	if (b->kind == EOD_ADDRESS)
		snprintf(buf, n, "%s %s address", b->local_number[0] ? b->local_number : "(customer without number)",
		         b->purpose[0] ? b->purpose : "unpurposed");
	else
		snprintf(buf, n, "%s", b->txn_id[0] ? b->txn_id : who);
	return buf;
}

static const char *const kind_names[] = {"customer", "address", "transaction"};

/* The state of gate g in words: synced out of total, then for each
 * reason the customers waiting for it (and HQ's last error after those it
 * keeps). compact: the short form for a terminal's live line, most
 * important first so that cutting it at the width loses the least. */
static void gate_text(const struct eod_gate *g, bool compact, char *buf, size_t n)
{
	static const struct {
		enum eod_reason reason;
		const char *label;
	} groups[] = {
		{EOD_REJECTED, "rejected"},
		{EOD_UNREACHABLE, "HQ unreachable"},
		{EOD_WAIT_UPLOAD, "waiting for upload"},
		{EOD_WAIT_ASSIGN, "waiting for HQ to assign"},
	};
	size_t used = 0;

	char name[120];

	if (compact) {
		add(buf, n, &used, "%lld/%lld synced", (long long)g->synced, (long long)(g->customers + g->addresses));
		if (g->txns_uploaded < g->txns)
			add(buf, n, &used, ", %lld/%lld txns sent", (long long)g->txns_uploaded, (long long)g->txns);
	} else {
		add(buf, n, &used, "%lld of %lld customer%s%s synced, %lld of %lld transaction%s uploaded",
		    (long long)g->synced, (long long)(g->customers + g->addresses), cli_s(g->customers + g->addresses),
		    g->addresses ? " and addresses" : "", (long long)g->txns_uploaded, (long long)g->txns, cli_s(g->txns));
	}
	for (size_t k = 0; k < sizeof(groups) / sizeof(groups[0]); k++) {
		size_t count = 0;
		for (size_t i = 0; i < g->nblocks; i++) {
			const struct eod_block *b = &g->blocks[i];
			if (b->reason != groups[k].reason || b->txn_id[0])
				continue;
			if (++count > SHOW_IDS)
				continue;
			if (count == 1)
				add(buf, n, &used, "; %s:", groups[k].label);
			add(buf, n, &used, "%s %s", count > 1 ? "," : "", block_name(b, name, sizeof(name)));
			if (b->reason == EOD_REJECTED)
				add(buf, n, &used, " %s", b->code);
		}
		if (count > SHOW_IDS)
			add(buf, n, &used, " and %zu more", count - SHOW_IDS);
		if (count && groups[k].reason == EOD_UNREACHABLE && g->last_error[0])
			add(buf, n, &used, " (%.200s)", g->last_error);
	}
	if (g->txns_uploaded < g->txns && g->nblocks == 0 && !compact)
		add(buf, n, &used, "; uploading transactions");
}

/* Shows the progress line of gate g. */
static void show_gate(struct eod_run *r, const struct eod_gate *g)
{
	char line[LINE_MAX_LEN], text[LINE_MAX_LEN + 40];

	gate_text(g, r->tty, line, sizeof(line));
	snprintf(text, sizeof(text), "eod %s: %s", g->date, line);
	show(r, text);
}

/* ---- output -------------------------------------------------------------- */

/* AGENT.md's eod document for gate g (NULL: no date) with result. */
static cJSON *eod_doc(const struct eod_gate *g, const char *result, const char *posting_id)
{
	cJSON *doc = cJSON_CreateObject(), *arr;

	if (g) {
		cJSON_AddStringToObject(doc, "business_date", g->date);
		cJSON_AddNumberToObject(doc, "referenced_customers", (double)g->customers);
		cJSON_AddNumberToObject(doc, "referenced_addresses", (double)g->addresses);
		cJSON_AddNumberToObject(doc, "synced", (double)g->synced);
	} else {
		cJSON_AddNullToObject(doc, "business_date");
		cJSON_AddNumberToObject(doc, "referenced_customers", 0);
		cJSON_AddNumberToObject(doc, "referenced_addresses", 0);
		cJSON_AddNumberToObject(doc, "synced", 0);
	}
	arr = cJSON_AddArrayToObject(doc, "blocking");
	for (size_t i = 0; g && i < g->nblocks; i++) {
		const struct eod_block *b = &g->blocks[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", kind_names[b->kind]);
		cJSON_AddStringToObject(o, "id", b->txn_id[0] ? b->txn_id : b->async_id[0] ? b->async_id : b->address_id);
		if (b->kind == EOD_ADDRESS) {
			if (b->purpose[0])
				cJSON_AddStringToObject(o, "purpose", b->purpose);
			else
				cJSON_AddNullToObject(o, "purpose");
		}
		if (b->txn_id[0]) {
			cJSON_AddNullToObject(o, "async_id");
			cJSON_AddNullToObject(o, "local_number");
			cJSON_AddStringToObject(o, "txn_id", b->txn_id);
		} else {
			cJSON_AddStringToObject(o, "async_id", b->async_id);
			if (b->local_number[0])
				cJSON_AddStringToObject(o, "local_number", b->local_number);
			else
				cJSON_AddNullToObject(o, "local_number");
		}
		cJSON_AddStringToObject(o, "state", b->state);
		cJSON_AddStringToObject(o, "reason", eod_reason_name(b->reason));
		if (b->reason == EOD_REJECTED) {
			cJSON_AddStringToObject(o, "code", b->code);
			cJSON_AddStringToObject(o, "message", b->message);
		} else if (b->reason == EOD_UNREACHABLE) {
			cJSON_AddStringToObject(o, "last_error", g->last_error);
		}
		cJSON_AddItemToArray(arr, o);
	}
	cJSON_AddStringToObject(doc, "result", result);
	if (posting_id && posting_id[0])
		cJSON_AddStringToObject(doc, "posting_id", posting_id);
	else
		cJSON_AddNullToObject(doc, "posting_id");
	cJSON_AddNumberToObject(doc, "transactions", g ? (double)g->txns : 0);
	cJSON_AddNumberToObject(doc, "transactions_uploaded", g ? (double)g->txns_uploaded : 0);
	return doc;
}

/* Ends the command: the document (with --json; an "error" member when
 * status is not 0), the text line on stdout when text is given, the
 * "posagent: " message on stderr when msg is given. Returns status. */
static int finish(struct eod_run *r, const struct eod_gate *g, int status, const char *code, const char *text,
                  const char *msg)
{
	clear_live(r);
	if (r->c->json) {
		cJSON *doc = eod_doc(g, r->result, r->posting_id);
		if (r->open_dates)
			cJSON_AddItemReferenceToObject(doc, "open_dates", r->open_dates);
		if (status) {
			cJSON *err = cJSON_AddObjectToObject(doc, "error");
			cJSON_AddStringToObject(err, "code", code);
			cJSON_AddStringToObject(err, "message", msg ? msg : "");
			cJSON_AddNullToObject(err, "field");
		}
		cli_print_json(doc);
		cJSON_Delete(doc);
	} else if (text) {
		printf("%s\n", text);
	}
	if (msg)
		fprintf(stderr, "posagent: %s\n", msg);
	return status;
}

/* 65: the rejected records of g, each with its code, in one message. */
static int rejected(struct eod_run *r, const struct eod_gate *g)
{
	char msg[LINE_MAX_LEN];
	size_t used = 0, shown = 0;
	bool customers = false, addresses = false, txns = false;
	char name[120];

	util_copy(r->result, sizeof(r->result), "rejected");
	add(msg, sizeof(msg), &used, "end of day %s is blocked by records HQ rejected:", g->date);
	for (size_t i = 0; i < g->nblocks; i++) {
		const struct eod_block *b = &g->blocks[i];
		if (b->reason != EOD_REJECTED)
			continue;
		if (++shown > REJECT_IDS)
			continue;
		customers = customers || b->kind == EOD_CUSTOMER;
		addresses = addresses || b->kind == EOD_ADDRESS;
		txns = txns || b->kind == EOD_TRANSACTION;
		add(msg, sizeof(msg), &used, "%s %s %s%s%s (%s: %.100s)", shown > 1 ? ";" : "",
		    b->kind == EOD_ADDRESS ? "the" : kind_names[b->kind], block_name(b, name, sizeof(name)),
		    b->kind == EOD_ADDRESS ? " " : "", b->kind == EOD_ADDRESS ? b->async_id : "",
		    b->code[0] ? b->code : "rejected", b->message);
	}
	if (shown > REJECT_IDS)
		add(msg, sizeof(msg), &used, "; and %zu more", shown - REJECT_IDS);
	add(msg, sizeof(msg), &used, "; a person must correct them (%s%s%s%s%s), then run `posagent eod` again",
	    customers ? "`posagent customer edit CUSTOMER`" : "", customers && (addresses || txns) ? "; " : "",
	    addresses ? "`posagent customer address edit ADDRESS`" : "", addresses && txns ? "; " : "",
	    txns ? "record the corrected transaction with `posagent txn record`" : "");
	return finish(r, g, EX_DATAERR, "rejected", NULL, msg);
}

/* 75: the deadline passed. */
static int timed_out(struct eod_run *r, const struct eod_gate *g)
{
	char msg[LINE_MAX_LEN + 160], line[LINE_MAX_LEN];

	util_copy(r->result, sizeof(r->result), "timeout");
	if (g->stmt_state[0]) {
		snprintf(msg, sizeof(msg),
		         "end of day %s timed out after %ld s: statement %s is frozen but HQ has not taken it yet (%.300s);"
		         " run `posagent eod` again to post the same statement",
		         g->date, r->timeout, g->statement_id, r->post_error[0] ? r->post_error : "no answer");
	} else {
		gate_text(g, false, line, sizeof(line));
		snprintf(msg, sizeof(msg), "end of day %s timed out after %ld s: %s; run `posagent eod` again to carry on",
		         g->date, r->timeout, line);
	}
	return finish(r, g, EX_TEMPFAIL, g->unreachable ? "hq_unreachable" : "timeout", NULL, msg);
}

/* 130: Ctrl-C. */
static int interrupted(struct eod_run *r, const struct eod_gate *g)
{
	util_copy(r->result, sizeof(r->result), "blocked");
	return finish(r, g, EX_INTERRUPTED, "interrupted", NULL,
	              "interrupted; nothing was lost: run `posagent eod` again to carry on");
}

/* diag_open_dates callback: adds the date to the array ctx. */
static int add_open_date(void *ctx, const struct diag_date *d)
{
	cJSON_AddItemToArray(ctx, cJSON_CreateString(d->date));
	return 0;
}

/* 0: the date is posted (now or earlier). The text names the dates still
 * open (AGENT.md: after posting, eod names them). */
static int posted(struct eod_run *r, const struct eod_gate *g, const char *posting_id, bool earlier)
{
	char text[LINE_MAX_LEN];
	struct pa_err e;
	int64_t total = 0;
	size_t used = 0;
	int n;

	util_copy(r->result, sizeof(r->result), "posted");
	util_copy(r->posting_id, sizeof(r->posting_id), posting_id);
	add(text, sizeof(text), &used, "%s %s: posting %s (statement %s, %lld transaction%s)", g->date,
	    earlier ? "was posted earlier" : "posted", posting_id, g->statement_id, (long long)g->txns,
	    g->txns == 1 ? "" : "s");
	memset(&e, 0, sizeof(e));
	r->open_dates = cJSON_CreateArray();
	if (diag_open_dates(r->st, 20, add_open_date, r->open_dates, &total, &e) == 0) {
		n = cJSON_GetArraySize(r->open_dates);
		if (n == 0)
			add(text, sizeof(text), &used, "\nno other business date is open");
		for (int i = 0; i < n; i++)
			add(text, sizeof(text), &used, "%s%s", i ? ", " : "\nstill open: ",
			    cJSON_GetArrayItem(r->open_dates, i)->valuestring);
		if (total > n)
			add(text, sizeof(text), &used, " and %lld more", (long long)(total - n));
		if (n)
			add(text, sizeof(text), &used, " (run `posagent eod` for each, oldest first)");
	}
	return finish(r, g, 0, NULL, text, NULL);
}

/* ---- the loop ------------------------------------------------------------ */

/* 69 at once: HQ refused the register's token (401/403). Waiting would not
 * help; a person must put the right token in place. Fills *e. */
static int auth_refused(struct eod_run *r, const char *why, struct pa_err *e)
{
	return err_set(e, EX_UNAVAILABLE, "credentials_refused", NULL,
	               "HQ refused this register's token (%.200s); nothing was lost: put the register's current token in"
	               " %.200s (mode 0640, owner root, group posagent), check it with `posagent doctor`, then run"
	               " `posagent eod` again",
	               why, r->c->cfg.token_file);
}

/* Seconds left before the deadline (0 once it passed). */
static double remaining(const struct eod_run *r)
{
	double left = r->deadline - util_mono();
	return left > 0 ? left : 0;
}

/* Sleeps the backoff after a failed round (never past the deadline). */
static void back_off(struct eod_run *r, long retry_after)
{
	long cap = r->c->cfg.retry_max < RETRY_CAP ? r->c->cfg.retry_max : RETRY_CAP;
	double delay = retry_after >= 0 ? pjob_retry_delay(retry_after, r->fails, r->c->cfg.retry_max)
	                                : pjob_backoff(r->fails, cap > 0 ? cap : 1);
	double left = remaining(r);

	util_sleep(delay < left ? delay : left, &stop_flag);
}

/* Whether every record of the date is up and only assignments are awaited. */
static bool only_assignments(const struct eod_gate *g)
{
	if (g->txns_uploaded < g->txns)
		return false;
	for (size_t i = 0; i < g->nblocks; i++)
		if (strcmp(g->blocks[i].state, "uploaded") != 0)
			return false;
	return true;
}

/* One sync round: upload what is pending (the date's records first, one
 * try), then follow the download on the long poll, which returns as soon
 * as a change arrives, so an assignment is seen within a second. It polls
 * up to LONG_POLL_MAX s when only assignments are awaited (or HQ said
 * unsynced_customers: hq_unsynced), 1 s while records still go up, and
 * not at all when the upload made the date ready. After a failure it
 * backs off (never past the deadline). Returns 0 or a local failure. */
static int sync_round(struct eod_run *r, bool hq_unsynced, struct pa_err *e)
{
	struct eod_gate g;
	struct pjob j;
	long wait;
	bool ready = false, assign = hq_unsynced;
	int rc;

	memset(&g, 0, sizeof(g));
	pjob_init(&j, r->st, r->hq, &r->c->cfg, &stop_flag);
	j.priority_date = r->date;
	j.max_tries = 1;
	j.max_wait = 0; /* eod does its own waiting */
	clear_live(r);  /* the upload's warnings start on a clean line */
	if ((rc = pjob_push(&j, false, e)))
		return rc;
	if (j.auth_refused)
		return auth_refused(r, j.last_error, e);
	r->net.up_failed = j.unreachable;
	if (j.unreachable)
		util_copy(r->net.last_error, sizeof(r->net.last_error), j.last_error);
	if (stop_flag)
		return 0;
	if (!j.unreachable) {
		if ((rc = eod_gate(r->st, r->date, &r->net, &g, e)))
			return rc;
		ready = eod_ready(&g) && !g.rejected;
		assign = assign || only_assignments(&g);
		if (!ready && !hq_unsynced)
			show_gate(r, &g); /* what the upload changed, before the long poll */
		eod_gate_free(&g);
	}
	if (!ready || hq_unsynced) {
		wait = (long)remaining(r);
		wait = j.unreachable ? 0 : wait < 1 ? 1 : wait > LONG_POLL_MAX ? LONG_POLL_MAX : wait;
		if (!assign && wait > 1)
			wait = 1;
		j.unreachable = false;
		j.last_error[0] = '\0';
		if ((rc = pjob_pull(&j, wait, e)))
			return rc;
		if (j.auth_refused)
			return auth_refused(r, j.last_error, e);
		r->net.down_failed = j.unreachable;
		if (j.unreachable)
			util_copy(r->net.last_error, sizeof(r->net.last_error), j.last_error);
	}
	if (r->net.up_failed || r->net.down_failed) {
		r->fails++;
		back_off(r, -1);
	} else {
		r->fails = 0;
		r->net.last_error[0] = '\0';
	}
	return 0;
}

/* Posts the frozen statement once. *done: the command ends with *status.
 * Otherwise the caller goes round again (after a sync or a backoff). */
static int post_step(struct eod_run *r, const struct eod_gate *g, bool *done, int *status, struct pa_err *e)
{
	struct eod_stmt s;
	struct eod_post_outcome o;
	char text[LINE_MAX_LEN];
	int rc;

	*done = false;
	memset(&o, 0, sizeof(o));
	if ((rc = eod_load(r->st, g->date, &s, e)))
		return rc;
	snprintf(text, sizeof(text),
	         "eod %s: %lld of %lld customer%s%s synced, %lld transaction%s uploaded; posting statement %s", g->date,
	         (long long)g->synced, (long long)(g->customers + g->addresses), cli_s(g->customers + g->addresses),
	         g->addresses ? " and addresses" : "", (long long)g->txns, cli_s(g->txns), s.statement_id);
	if (r->post_fails)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), " (again: %.300s)", r->post_error);
	show(r, text);
	clear_live(r);
	if ((rc = eod_post(r->st, r->hq, &r->c->cfg, &s, &o, e)))
		goto cleanup;
	switch (o.result) {
	case EOD_POSTED:
		*done = true;
		*status = posted(r, g, o.posting_id, false);
		break;
	case EOD_REFUSED:
		*done = true;
		util_copy(r->result, sizeof(r->result), "rejected");
		*status = finish(r, g, EX_DATAERR, o.code[0] ? o.code : "refused", NULL, o.error);
		break;
	case EOD_UNSYNCED:
	case EOD_UNKNOWN_TXNS:
		/* HQ's side of the gate: sync those, then the same statement again. */
		r->post_fails++;
		util_copy(r->post_error, sizeof(r->post_error), o.error);
		snprintf(text, sizeof(text), "eod %s: %s; syncing, then posting the same statement again", g->date,
		         o.error);
		show(r, text);
		if (o.result == EOD_UNKNOWN_TXNS && o.requeued > 0)
			break; /* the next round uploads them */
		rc = sync_round(r, true, e);
		if (!rc && o.result == EOD_UNSYNCED && o.all_synced_here && !stop_flag) {
			/* synced here, not yet at HQ's side: download again and
			 * retry with backoff within the timeout, never a tight loop */
			r->fails = r->post_fails;
			back_off(r, -1);
		}
		break;
	case EOD_AUTH:
		rc = auth_refused(r, o.error, e);
		break;
	default:
		if (stop_flag)
			break; /* the transfer was cut short by Ctrl-C: not HQ's failure */
		r->post_fails++;
		r->fails++;
		util_copy(r->post_error, sizeof(r->post_error), o.error);
		{
			long cap = r->c->cfg.retry_max < RETRY_CAP ? r->c->cfg.retry_max : RETRY_CAP;
			double delay = o.retry_after >= 0 ? (double)o.retry_after : pjob_backoff(r->fails, cap > 0 ? cap : 1);
			pjob_note_error(r->st, o.error, delay);
		}
		if (remaining(r) <= 0)
			break;
		snprintf(text, sizeof(text), "eod %s: posting statement %s: %.300s; trying again", g->date,
		         s.statement_id, o.error);
		show(r, text);
		back_off(r, o.retry_after);
		break;
	}
cleanup:
	cJSON_Delete(o.ids);
	eod_stmt_free(&s);
	return rc;
}

/* The loop of the head comment. Returns the exit status. */
static int run(struct eod_run *r, struct pa_err *e)
{
	struct eod_gate g;
	int rc = 0, status = 0;
	bool done = false;

	memset(&g, 0, sizeof(g));
	for (;;) {
		eod_gate_free(&g);
		if ((rc = eod_gate(r->st, r->date, &r->net, &g, e)))
			goto fail;
		if (stop_flag) {
			status = interrupted(r, &g);
			goto cleanup;
		}
		if (strcmp(g.stmt_state, "posted") == 0) {
			status = posted(r, &g, g.posting_id, false);
			goto cleanup;
		}
		if (g.rejected) {
			status = rejected(r, &g);
			goto cleanup;
		}
		if (!g.stmt_state[0] && eod_ready(&g)) {
			struct eod_stmt s;
			rc = eod_freeze(r->st, r->date, &s, e);
			eod_stmt_free(&s);
			if (rc && strcmp(e->code, "not_ready") != 0)
				goto fail; /* not_ready: something moved meanwhile, read again */
			rc = 0;
			continue;
		}
		if (g.stmt_state[0] && g.txns_uploaded == g.txns) {
			if (r->post_fails && remaining(r) <= 0) {
				status = timed_out(r, &g);
				goto cleanup;
			}
			if ((rc = post_step(r, &g, &done, &status, e)))
				goto fail;
			if (done)
				goto cleanup;
			continue;
		}
		show_gate(r, &g);
		/* At least one round, even with --timeout 0. */
		if (r->rounds && remaining(r) <= 0) {
			status = timed_out(r, &g);
			goto cleanup;
		}
		if (r->rounds == 0) { /* start of waiting: a fleet closing at once does not come in step */
			double left = remaining(r), jit = pjob_jitter(EOD_START_JITTER);
			util_sleep(jit < left ? jit : left, &stop_flag);
		}
		if ((rc = sync_round(r, false, e)))
			goto fail;
		r->rounds++;
	}
fail:
	clear_live(r);
	status = cli_fail(r->c, e);
cleanup:
	eod_gate_free(&g);
	return status;
}

/* ---- the command --------------------------------------------------------- */

/* Parses SECONDS (0 .. 7 days). Returns true with *out. */
static bool parse_seconds(const char *s, long *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 7 * 86400 || s[0] == '+' || s[0] == '-' || s[0] == ' ')
		return false;
	*out = v;
	return true;
}

/* --check: the local answer for gate g. */
static int check(struct eod_run *r, const struct eod_gate *g)
{
	char text[LINE_MAX_LEN], msg[LINE_MAX_LEN + 60];

	if (g->rejected)
		return rejected(r, g);
	if (strcmp(g->stmt_state, "refused") == 0) {
		util_copy(r->result, sizeof(r->result), "rejected");
		return finish(r, g, EX_DATAERR, g->stmt_code[0] ? g->stmt_code : "refused", NULL, g->stmt_message);
	}
	if (eod_ready(g)) {
		util_copy(r->result, sizeof(r->result), "ready");
		snprintf(text, sizeof(text), "%s is ready to post: %lld customer%s%s synced, %lld transaction%s uploaded%s",
		         g->date, (long long)(g->customers + g->addresses), cli_s(g->customers + g->addresses),
		         g->addresses ? " and addresses" : "", (long long)g->txns, cli_s(g->txns),
		         g->stmt_state[0] ? " (statement frozen)" : "");
		return finish(r, g, 0, NULL, text, NULL);
	}
	util_copy(r->result, sizeof(r->result), "blocked");
	gate_text(g, false, text, sizeof(text));
	snprintf(msg, sizeof(msg), "end of day %s is not ready: %s", g->date, text);
	return finish(r, g, EX_TEMPFAIL, g->unreachable ? "hq_unreachable" : "blocked", NULL, msg);
}

int cmd_eod(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"date", required_argument, NULL, 'd'}, {"timeout", required_argument, NULL, 't'},
		{"check", no_argument, NULL, 'k'},      {"verbose", no_argument, NULL, 'v'},
		{"json", no_argument, NULL, 'j'},       {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}};
	const char *syn = "posagent eod [--date YYYY-MM-DD] [--timeout SECONDS] [--check] [--verbose]";
	struct eod_run r;
	struct eod_gate g;
	struct pa_err e;
	struct sigaction sa;
	char date[EOD_DATE_LEN + 1] = "";
	bool check_only = false, found = false;
	long timeout = -1;
	int ch, rc = 0;

	memset(&e, 0, sizeof(e));
	memset(&r, 0, sizeof(r));
	memset(&g, 0, sizeof(g));
	r.c = c;
	r.net.own_only = true; /* reasons from this run's attempts only */
	log_set_verbose(0);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "hv", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (!val_date(optarg))
				return cli_usage(c, syn, "--date: %.40s is not a date YYYY-MM-DD", optarg);
			util_copy(date, sizeof(date), optarg);
			break;
		case 't':
			if (!parse_seconds(optarg, &timeout))
				return cli_usage(c, syn, "--timeout: %.40s is not a number of seconds (0 to 604800)", optarg);
			break;
		case 'k': check_only = true; break;
		case 'v': log_set_verbose(1); log_set_requests(1); break;
		case 'j': c->json = true; break;
		case 'h':
			printf("usage: %s\n"
			       "End of day: waits until HQ knows every customer the date's transactions refer to,\n"
			       "then posts the date's statement once. --date: default the oldest open date;\n"
			       "--timeout: default [eod] timeout; --check: only say whether it could post now\n"
			       "(0 ready, 65 a rejected record blocks, 75 not yet).\n", syn);
			return 0;
		default:
			return cli_usage(c, syn, "unknown option or missing value: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage(c, syn, "unexpected argument: %s", argv[optind]);
	if ((rc = cli_open(c, &r.st, &e)))
		goto fail;
	r.timeout = timeout >= 0 ? timeout : c->cfg.eod_timeout;
	r.deadline = util_mono() + (double)r.timeout;
	r.tty = isatty(STDERR_FILENO) == 1;
	if (!date[0]) {
		if ((rc = eod_oldest_open(r.st, date, &found, &e)))
			goto fail;
		if (!found) {
			util_copy(r.result, sizeof(r.result), "nothing_to_post");
			rc = finish(&r, NULL, 0, NULL, "no open business date: every date with transactions is posted", NULL);
			goto cleanup;
		}
	}
	r.date = date;
	if ((rc = eod_gate(r.st, date, NULL, &g, &e)))
		goto fail;
	if (strcmp(g.stmt_state, "posted") == 0) {
		rc = posted(&r, &g, g.posting_id, true);
		goto cleanup;
	}
	if (g.txns == 0) {
		char text[120];
		util_copy(r.result, sizeof(r.result), "nothing_to_post");
		snprintf(text, sizeof(text), "%s has no transactions on this register: nothing to post", date);
		rc = finish(&r, &g, 0, NULL, text, NULL);
		goto cleanup;
	}
	if (check_only) {
		rc = check(&r, &g);
		goto cleanup;
	}
	/* Ctrl-C: a flag the loop, the sleeps and the HQ client poll. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if ((rc = cli_hq(c, &stop_flag, &r.hq, &e)))
		goto fail;
	rc = run(&r, &e);
	goto cleanup;
fail:
	rc = cli_fail(c, &e);
cleanup:
	eod_gate_free(&g);
	cJSON_Delete(r.open_dates);
	hq_client_free(r.hq);
	store_close(r.st);
	return rc;
}
