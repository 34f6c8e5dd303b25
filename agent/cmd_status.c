/*
 * posagent status: what is waiting, stuck or rejected, from the local
 * database only (never HQ), in one read transaction so the numbers agree
 * with each other: counts by state, the oldest record waiting, the sync
 * bookkeeping (last upload and download, last HQ error, next retry), the
 * rejected records with HQ's codes, the open business dates and what holds
 * up their end of day, and batches HQ could not read.
 *
 * It names records by async id, local number or txn id only: never a
 * customer's name, email, phone or address, nor HQ's free-text message
 * about a record (`posagent customer show` gives that to a cashier).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cli.h"
#include "agent/retain_view.h"
#include "common/diag.h"
#include "common/metrics.h"
#include "common/update.h"
#include "common/util.h"

#define JSON_MAX_LIST 1000 /* rejected records, open dates in --json */
#define TEXT_MAX_LIST 20   /* the same in text; the rest are counted */

/* A growing array of fixed-size items, filled by the diag callbacks. */
struct list {
	void *v;
	size_t n, cap, size;
};

/* Appends a copy of item. Returns 0, or -1 when out of memory. */
static int list_add(struct list *l, const void *item)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *nv = realloc(l->v, cap * l->size);
		if (!nv)
			return -1;
		l->v = nv;
		l->cap = cap;
	}
	memcpy((char *)l->v + l->n * l->size, item, l->size);
	l->n++;
	return 0;
}

/* diag callbacks: keep a copy of each entry (non-zero stops: out of memory). */
static int add_rejected(void *ctx, const struct diag_rejected *r)
{
	return list_add(ctx, r);
}

static int add_upd_rejected(void *ctx, const struct upd_rejected_rec *r)
{
	return list_add(ctx, r);
}

static int add_date(void *ctx, const struct diag_date *d)
{
	return list_add(ctx, d);
}

static int add_flagged(void *ctx, const struct diag_flagged *f)
{
	return list_add(ctx, f);
}

/* Everything status shows, read in one transaction. */
struct report {
	time_t now;
	struct diag_counts counts;
	struct diag_waiting oldest;
	struct diag_meta meta;
	struct list rejected;   /* struct diag_rejected */
	int64_t rejected_total;
	struct list upd_rejected; /* struct upd_rejected_rec: refused edits (issue 12) */
	int64_t upd_rejected_total;
	struct list dates;      /* struct diag_date */
	int64_t dates_total;
	struct list flagged;    /* struct diag_flagged */
	int64_t flagged_total;
	long keep_days;          /* [retention], set before report_read */
	struct retain_view size; /* the database's size, what retention frees */
};

/* Reads the report from st (max list entries each). Returns 0 or a status
 * with *e; the lists may hold entries either way (free with report_free). */
static int report_read(struct store *st, size_t max, struct report *r, struct pa_err *e)
{
	int rc;

	r->now = time(NULL);
	if ((rc = store_begin(st, false, e)))
		return rc;
	if ((rc = diag_count(st, &r->counts, e)) || (rc = diag_oldest_waiting(st, &r->oldest, e)) ||
	    (rc = diag_meta(st, &r->meta, e)) ||
	    (rc = diag_rejected(st, max, add_rejected, &r->rejected, &r->rejected_total, e)) ||
	    (rc = upd_list_rejected(st, max, add_upd_rejected, &r->upd_rejected, &r->upd_rejected_total, e)) ||
	    (rc = diag_open_dates(st, max, add_date, &r->dates, &r->dates_total, e)) ||
	    (rc = diag_flagged(st, add_flagged, &r->flagged, &r->flagged_total, e)) ||
	    (rc = retain_view_read(st, r->keep_days, r->now, &r->size, e)))
		goto cleanup;
	if ((r->rejected.n < max && (int64_t)r->rejected.n < r->rejected_total) ||
	    (r->upd_rejected.n < max && (int64_t)r->upd_rejected.n < r->upd_rejected_total) ||
	    (r->dates.n < max && (int64_t)r->dates.n < r->dates_total) ||
	    (int64_t)r->flagged.n < r->flagged_total)
		rc = err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory");
cleanup:
	store_rollback(st); /* a read: nothing to keep */
	return rc;
}

/* Frees the report's lists. */
static void report_free(struct report *r)
{
	free(r->rejected.v);
	free(r->upd_rejected.v);
	free(r->dates.v);
	free(r->flagged.v);
}

/* Adds name: text, or null when text is empty. */
static void add_opt(cJSON *o, const char *name, const char *text)
{
	if (text && text[0])
		cJSON_AddStringToObject(o, name, text);
	else
		cJSON_AddNullToObject(o, name);
}

/* The --json document of AGENT.md's status shape (plus a few members:
 * oldest_waiting.state, .local_number and .customer_state, rejected[].local_number,
 * open_dates[].transactions_not_uploaded and .statement, flagged_batches, and
 * database: its size and what [retention] would free). */
static cJSON *report_json(const struct cfg *cfg, const struct report *r)
{
	static const char *const groups[DIAG_NKINDS] = {"customers", "addresses", "transactions"};
	cJSON *doc = cJSON_CreateObject(), *o, *a;

	cJSON_AddStringToObject(doc, "store", cfg->store);
	cJSON_AddStringToObject(doc, "register", cfg->reg);
	for (int k = 0; k < DIAG_NKINDS; k++) {
		int n;
		const char *const *states = diag_states((enum diag_kind)k, &n);
		o = cJSON_AddObjectToObject(doc, groups[k]);
		for (int i = 0; i < n; i++)
			cJSON_AddNumberToObject(o, states[i], (double)r->counts.n[k][i]);
	}
	if (r->oldest.found) {
		o = cJSON_AddObjectToObject(doc, "oldest_waiting");
		cJSON_AddStringToObject(o, "kind", diag_kind_name(r->oldest.kind));
		cJSON_AddStringToObject(o, "id", r->oldest.id);
		cJSON_AddNumberToObject(o, "age_seconds", (double)(r->now - r->oldest.since));
		cJSON_AddStringToObject(o, "state", r->oldest.state);
		add_opt(o, "local_number", r->oldest.local_number);
		add_opt(o, "customer_state", r->oldest.customer_state);
	} else {
		cJSON_AddNullToObject(doc, "oldest_waiting");
	}
	add_opt(doc, "last_upload", r->meta.last_upload);
	add_opt(doc, "last_download", r->meta.last_download);
	if (r->meta.last_error[0]) {
		o = cJSON_AddObjectToObject(doc, "last_error");
		add_opt(o, "time", r->meta.last_error_at);
		cJSON_AddStringToObject(o, "message", r->meta.last_error);
	} else {
		cJSON_AddNullToObject(doc, "last_error");
	}
	add_opt(doc, "next_retry", r->meta.next_retry);
	a = cJSON_AddArrayToObject(doc, "rejected");
	for (size_t i = 0; i < r->rejected.n; i++) {
		const struct diag_rejected *x = (const struct diag_rejected *)r->rejected.v + i;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", diag_kind_name(x->kind));
		cJSON_AddStringToObject(o, "id", x->id);
		add_opt(o, "code", x->code);
		add_opt(o, "local_number", x->local_number);
		cJSON_AddItemToArray(a, o);
	}
	for (size_t i = 0; i < r->upd_rejected.n; i++) {
		const struct upd_rejected_rec *x = (const struct upd_rejected_rec *)r->upd_rejected.v + i;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", x->kind);
		cJSON_AddStringToObject(o, "id", x->id);
		add_opt(o, "code", x->code);
		add_opt(o, "local_number", x->local_number);
		cJSON_AddStringToObject(o, "update_id", x->update_id);
		cJSON_AddItemToArray(a, o);
	}
	a = cJSON_AddArrayToObject(doc, "open_dates");
	for (size_t i = 0; i < r->dates.n; i++) {
		const struct diag_date *d = (const struct diag_date *)r->dates.v + i;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "business_date", d->date);
		cJSON_AddNumberToObject(o, "transactions", (double)d->transactions);
		cJSON_AddNumberToObject(o, "unsynced_customers", (double)d->unsynced);
		cJSON_AddNumberToObject(o, "unsynced_addresses", (double)d->unsynced_addresses);
		cJSON_AddNumberToObject(o, "transactions_not_uploaded", (double)d->not_uploaded);
		add_opt(o, "statement", d->statement);
		cJSON_AddItemToArray(a, o);
	}
	a = cJSON_AddArrayToObject(doc, "flagged_batches");
	for (size_t i = 0; i < r->flagged.n; i++) {
		const struct diag_flagged *f = (const struct diag_flagged *)r->flagged.v + i;
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "batch_id", f->batch_id);
		cJSON_AddNumberToObject(o, "records", (double)f->records);
		cJSON_AddStringToObject(o, "reason", f->reason);
		cJSON_AddItemToArray(a, o);
	}
	retain_view_json(doc, &r->size);
	return doc;
}

/* "2026-11-25T09:14:03Z (12 min ago)" / "(in 30 s)", or "never". */
static void when(const char *t, time_t now, char *out, size_t outlen)
{
	time_t v;
	char span[32];

	if (!t || !t[0]) {
		util_copy(out, outlen, "never");
		return;
	}
	v = util_parse_rfc3339(t);
	if (v == (time_t)-1) {
		util_copy(out, outlen, t);
		return;
	}
	diag_span(v <= now ? now - v : v - now, span, sizeof(span));
	if (v <= now)
		snprintf(out, outlen, "%s (%s ago)", t, span);
	else
		snprintf(out, outlen, "%s (in %s)", t, span);
}

/* Why the oldest waiting record waits, for a person. */
static const char *wait_reason(const struct report *r)
{
	const char *cs = r->oldest.customer_state;

	if (r->oldest.kind == DIAG_CUSTOMER && strcmp(r->oldest.state, "uploaded") == 0)
		return "HQ has it; waiting for HQ to assign an account number";
	if (strcmp(cs, "rejected") == 0)
		return "waiting for its customer, whom HQ rejected: a person must correct the customer";
	if (strcmp(cs, "pending") == 0 && r->meta.next_retry[0])
		return "waiting for its customer to be uploaded; HQ is failing (see last HQ error)";
	if (strcmp(cs, "pending") == 0)
		return "waiting for its customer to be uploaded";
	if (r->meta.next_retry[0])
		return "waiting for upload; HQ is failing (see last HQ error)";
	return "waiting for upload";
}

/* status text: the oldest record waiting for HQ, and why. */
static void text_oldest(const struct report *r)
{
	char span[32];

	if (r->oldest.found) {
		diag_span(r->now - r->oldest.since, span, sizeof(span));
		printf("oldest waiting   %s ", diag_kind_name(r->oldest.kind));
		if (r->oldest.kind == DIAG_CUSTOMER)
			printf("%s (async id %s)", r->oldest.local_number[0] ? r->oldest.local_number : "-", r->oldest.id);
		else if (r->oldest.local_number[0])
			printf("%s (customer %s)", r->oldest.id, r->oldest.local_number);
		else
			printf("%s", r->oldest.id);
		printf(", %s for %s: %s\n", r->oldest.state, span, wait_reason(r));
	} else {
		printf("oldest waiting   nothing is waiting for HQ\n");
	}
}

/* status text: the last upload, download and HQ error, the next retry. */
static void text_hq(const struct report *r)
{
	char buf[96];

	when(r->meta.last_upload, r->now, buf, sizeof(buf));
	printf("last upload      %s\n", buf);
	when(r->meta.last_download, r->now, buf, sizeof(buf));
	printf("last download    %s\n", buf);
	if (r->meta.last_error[0]) {
		/* RFC 3339 texts of one format compare as times. */
		const char *ok = strcmp(r->meta.last_upload, r->meta.last_download) > 0 ? r->meta.last_upload
		                                                                         : r->meta.last_download;
		char ok_buf[96];
		when(r->meta.last_error_at, r->now, buf, sizeof(buf));
		when(ok, r->now, ok_buf, sizeof(ok_buf));
		printf("last HQ error    %s: %s\n", buf, r->meta.last_error);
		if (ok[0] && strcmp(ok, r->meta.last_error_at) >= 0)
			printf("                 HQ has answered since: last success %s\n", ok_buf);
		else
			printf("                 no success since (last success: %s)\n", ok[0] ? ok_buf : "never");
	} else {
		printf("last HQ error    none\n");
	}
	if (r->meta.next_retry[0]) {
		when(r->meta.next_retry, r->now, buf, sizeof(buf));
		printf("next retry       %s\n", buf);
	}
}

/* status text: the records HQ rejected, each with what a person does. */
static void text_rejected(const struct report *r)
{
	if (r->rejected_total + r->upd_rejected_total == 0) {
		printf("rejected         none\n");
	} else {
		int64_t all = r->rejected_total + r->upd_rejected_total;
		printf("rejected         %lld record%s HQ refused, waiting for a person (what to do on each line):\n",
		       (long long)all, all == 1 ? "" : "s");
		for (size_t i = 0; i < r->upd_rejected.n && i < TEXT_MAX_LIST; i++) {
			const struct upd_rejected_rec *x = (const struct upd_rejected_rec *)r->upd_rejected.v + i;
			printf("  %s %s (update %s) of customer %s: %s; edit it again, or `--discard-update`\n", x->kind,
			       x->id, x->update_id, x->local_number[0] ? x->local_number : "-", x->code);
		}
		for (size_t i = 0; i < r->rejected.n && i < TEXT_MAX_LIST; i++) {
			const struct diag_rejected *x = (const struct diag_rejected *)r->rejected.v + i;
			if (x->kind == DIAG_CUSTOMER)
				printf("  customer %s (async id %s): %s; `posagent customer show %s` says why, correct it with"
				       " `posagent customer edit %s`\n",
				       x->local_number[0] ? x->local_number : "-", x->id, x->code,
				       x->local_number[0] ? x->local_number : x->id, x->local_number[0] ? x->local_number : x->id);
			else if (x->kind == DIAG_ADDRESS)
				printf("  address %s of customer %s: %s; correct it with `posagent customer address edit %s`\n",
				       x->id, x->local_number[0] ? x->local_number : "-", x->code, x->id);
			else
				printf("  transaction %s%s%s: %s; record the corrected transaction with `posagent txn record`\n",
				       x->id, x->local_number[0] ? " of customer " : "", x->local_number, x->code);
		}
		if (r->rejected_total > TEXT_MAX_LIST)
			printf("  ... and %lld more (`posagent --json status` lists up to %d)\n",
			       (long long)(r->rejected_total - TEXT_MAX_LIST), JSON_MAX_LIST);
	}
}

/* status text: the business dates without a posted statement. */
static void text_dates(const struct report *r)
{
	if (r->dates_total == 0) {
		printf("open dates       none\n");
	} else {
		printf("open dates       %lld business date%s without a posted statement:\n", (long long)r->dates_total,
		       r->dates_total == 1 ? "" : "s");
		for (size_t i = 0; i < r->dates.n && i < TEXT_MAX_LIST; i++) {
			const struct diag_date *d = (const struct diag_date *)r->dates.v + i;
			printf("  %s  %lld transaction%s (%lld not uploaded), %lld customer%s not synced%s%.0lld%s%s%s%s\n",
			       d->date, (long long)d->transactions, d->transactions == 1 ? "" : "s",
			       (long long)d->not_uploaded, (long long)d->unsynced, d->unsynced == 1 ? "" : "s",
			       d->unsynced_addresses ? ", " : "", (long long)d->unsynced_addresses,
			       d->unsynced_addresses == 0 ? "" : d->unsynced_addresses == 1 ? " address not synced"
			                                                                     : " addresses not synced",
			       d->statement[0] ? "; statement " : "", d->statement,
			       d->unsynced == 0 && d->unsynced_addresses == 0 && d->not_uploaded == 0 && !d->statement[0]
			               ? "; ready for `posagent eod`" : "");
		}
		if (r->dates_total > TEXT_MAX_LIST)
			printf("  ... and %lld more\n", (long long)(r->dates_total - TEXT_MAX_LIST));
	}
}

/* status text: the batches HQ would not take (none: no line). */
static void text_flagged(const struct report *r)
{
	if (r->flagged_total > 0) {
		printf("flagged batches  %lld upload batch%s HQ would not take (400, or 413 for one record); kept and retried;"
		       " report to support:\n", (long long)r->flagged_total, r->flagged_total == 1 ? "" : "es");
		for (size_t i = 0; i < r->flagged.n; i++) {
			const struct diag_flagged *f = (const struct diag_flagged *)r->flagged.v + i;
			printf("  batch %s (%lld record%s): %s\n", f->batch_id, (long long)f->records, cli_s(f->records),
			       f->reason);
		}
	}
}

/* The text report for a person. */
static void report_text(const struct cfg *cfg, const struct report *r)
{
	static const char *const groups[DIAG_NKINDS] = {"customers", "addresses", "transactions"};
	char now[21], line[512];

	util_rfc3339(r->now, now);
	printf("store %s  register %s  at %s\n\n", cfg->store, cfg->reg, now);
	for (int k = 0; k < DIAG_NKINDS; k++) {
		int n;
		const char *const *states = diag_states((enum diag_kind)k, &n);
		printf("%-17s", groups[k]);
		for (int i = 0; i < n; i++)
			printf("%s%s %lld", i ? "  " : "", states[i], (long long)r->counts.n[k][i]);
		printf("\n");
	}
	printf("\n");
	text_oldest(r);
	text_hq(r);
	printf("\n");
	text_rejected(r);
	text_dates(r);
	text_flagged(r);
	retain_view_line(&r->size, line, sizeof(line));
	printf("database         %s\n", line);
}

/* posagent status --prometheus: the exposition the service writes to
 * [metrics] textfile (common/metrics), on stdout. Returns 0, or the
 * status of a database that does not open or read. */
static int status_prometheus(struct cli *c)
{
	struct store *st = NULL;
	struct met_snapshot m;
	struct pa_err e;
	char *buf = NULL;
	size_t cap = 16384;
	int n, rc;

	memset(&e, 0, sizeof(e));
	if ((rc = cli_open(c, &st, &e)) || (rc = met_collect(st, &m, &e))) {
		rc = cli_fail(c, &e);
		goto cleanup;
	}
	if (!(buf = malloc(cap)) || (n = met_format(&m, c->cfg.store, c->cfg.reg, buf, cap)) < 0) {
		err_set(&e, EX_SOFTWARE, "internal", NULL, "the metrics do not fit in %zu bytes", cap);
		rc = cli_fail(c, &e);
		goto cleanup;
	}
	fwrite(buf, 1, (size_t)n, stdout);
cleanup:
	free(buf);
	store_close(st);
	return rc;
}

/* posagent status [--json] [--prometheus]: the report above, from the local database.
 * Returns 0, 64 for a usage error, 78 for a configuration that does not
 * load, 74 when the database is missing or unreadable. */
int cmd_status(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
	                                     {"prometheus", no_argument, NULL, 'p'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	bool prom = false;
	const char *syn = "posagent status";
	struct store *st = NULL;
	struct report r;
	struct pa_err e;
	int ch, rc;

	memset(&e, 0, sizeof(e));
	memset(&r, 0, sizeof(r));
	r.rejected.size = sizeof(struct diag_rejected);
	r.upd_rejected.size = sizeof(struct upd_rejected_rec);
	r.dates.size = sizeof(struct diag_date);
	r.flagged.size = sizeof(struct diag_flagged);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'j') {
			c->json = true;
		} else if (ch == 'p') {
			prom = true;
		} else if (ch == 'h') {
			printf("usage: %s [--prometheus]\nWhat is waiting, stuck or rejected; reads only the local database.\n"
			       "--prometheus prints the metrics the service writes for node_exporter.\n", syn);
			return 0;
		} else {
			return cli_usage(c, syn, "unknown option: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage(c, syn, "unexpected argument: %s", argv[optind]);
	if (prom)
		return status_prometheus(c);
	if (!(rc = cli_open(c, &st, &e)))
		r.keep_days = c->cfg.keep_days;
	if (rc || (rc = report_read(st, c->json ? JSON_MAX_LIST : TEXT_MAX_LIST, &r, &e))) {
		rc = cli_fail(c, &e);
		goto cleanup;
	}
	if (c->json) {
		cJSON *doc = report_json(&c->cfg, &r);
		cli_print_json(doc);
		cJSON_Delete(doc);
	} else {
		report_text(&c->cfg, &r);
	}
cleanup:
	report_free(&r);
	store_close(st);
	return rc;
}
