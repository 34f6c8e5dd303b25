/* posagent txn record --from-json FILE|- | show TXN_ID | list [--date D] [--state S] [--limit N]:
 * store a sale, return or order; show one; list them. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "common/customer.h"
#include "common/show.h"
#include "common/txn.h"
#include "common/util.h"
#include "common/validate.h"

/* The sale's customer as a person names it, into name (n bytes): its local
 * number, else its account, else its async id ("" without a customer). */
static void customer_name(struct store *st, const cJSON *doc, char *name, size_t n)
{
	const cJSON *cu = cJSON_GetObjectItemCaseSensitive(doc, "customer");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(cu, "async_id");
	const cJSON *acc = cJSON_GetObjectItemCaseSensitive(cu, "account");
	const cJSON *ln;
	cJSON *full = NULL;
	struct pa_err e;
	int64_t row = 0;

	name[0] = '\0';
	if (!cJSON_IsObject(cu))
		return;
	util_copy(name, n, cJSON_IsString(acc) ? acc->valuestring : cJSON_IsString(id) ? id->valuestring : "");
	memset(&e, 0, sizeof(e));
	if (cust_resolve(st, cJSON_IsString(id) ? id->valuestring : name, &row, &e) || cust_get(st, row, &full, &e))
		return;
	ln = cJSON_GetObjectItemCaseSensitive(full, "local_number");
	if (cJSON_IsString(ln))
		util_copy(name, n, ln->valuestring);
	cJSON_Delete(full);
}

static const char *const syn_all = "posagent txn record --from-json FILE|-\n"
                                   "       posagent txn show TXN_ID\n"
                                   "       posagent txn list [--date YYYY-MM-DD] [--state STATE] [--limit N]";

/* Text of member name or "" (for printing). */
static const char *s_of(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);
	return cJSON_IsString(it) ? it->valuestring : "";
}

/* Prints txn record's warnings on stderr, one line each. */
static void print_warnings(const cJSON *doc)
{
	const cJSON *w;

	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(doc, "warnings"))
		fprintf(stderr, "posagent: warning: %s (%s)\n", s_of(w, "message"), s_of(w, "code"));
}

/* "address async-or-id  [label]" of a reference of txn show, or "none". */
static void print_ref(const char *title, const cJSON *ref, bool customer)
{
	const char *state = s_of(ref, "state");
	const char *strong = customer ? s_of(ref, "account") : s_of(ref, "address_id");

	if (!cJSON_IsObject(ref)) {
		printf("  %-17s (none)\n", title);
		return;
	}
	printf("  %-17s %s%s%s  %s  [%s]\n", title, customer && *s_of(ref, "local_number") ? s_of(ref, "local_number") : "",
	       customer && *s_of(ref, "local_number") ? "  " : "", *s_of(ref, "async_id") ? s_of(ref, "async_id") : strong,
	       state, show_state_label(state, *strong ? strong : NULL));
}

/* One transaction in full, as `txn show` prints it. */
static void print_show(const cJSON *t)
{
	const cJSON *it, *le = cJSON_GetObjectItemCaseSensitive(t, "last_error");
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(t, "total_minor");

	printf("%s  %s\n", s_of(t, "txn_id"), s_of(t, "state"));
	printf("  %-17s %s\n", "kind:", s_of(t, "kind"));
	printf("  %-17s %s\n", "business date:", s_of(t, "business_date"));
	printf("  %-17s %s\n", "created at:", s_of(t, "created_at"));
	print_ref("customer:", cJSON_GetObjectItemCaseSensitive(t, "customer"), true);
	print_ref("delivery address:", cJSON_GetObjectItemCaseSensitive(t, "delivery_address"), false);
	print_ref("invoice address:", cJSON_GetObjectItemCaseSensitive(t, "invoice_address"), false);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(t, "lines"))
		printf("  %-17s %.0f x %s @ %.0f\n", "line:", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "qty")),
		       s_of(it, "sku"), cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "unit_price_minor")));
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(t, "tenders"))
		printf("  %-17s %s %.0f\n", "tender:", s_of(it, "type"),
		       cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(it, "amount_minor")));
	printf("  %-17s %.0f %s\n", "total:", cJSON_GetNumberValue(total), s_of(t, "currency"));
	if (cJSON_IsObject(le))
		printf("  %-17s %s: %s\n", "last HQ error:", s_of(le, "code"), s_of(le, "message"));
}

/* One transaction on a line, for txn list. */
static void print_line(const cJSON *t)
{
	const cJSON *cu = cJSON_GetObjectItemCaseSensitive(t, "customer");
	const cJSON *le = cJSON_GetObjectItemCaseSensitive(t, "last_error");

	printf("%s  %s  %-14s  %-8s  %.0f %s  %s%s%s\n", s_of(t, "txn_id"), s_of(t, "business_date"), s_of(t, "kind"),
	       s_of(t, "state"), cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, "total_minor")),
	       s_of(t, "currency"),
	       !cJSON_IsObject(cu) ? "no customer" : *s_of(cu, "local_number") ? s_of(cu, "local_number") : s_of(cu, "account"),
	       cJSON_IsObject(le) ? "  " : "", cJSON_IsObject(le) ? s_of(le, "code") : "");
}

/* txn record --from-json FILE|- */
static int do_record(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"from-json", required_argument, NULL, 'F'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *syn = "posagent txn record --from-json FILE|-";
	const char *from = NULL;
	struct store *st = NULL;
	struct pa_err e;
	cJSON *doc = NULL;
	char *buf = NULL;
	size_t len = 0;
	bool created = false;
	char name[80];
	int ch, rc = 0;

	memset(&e, 0, sizeof(e));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'F': from = optarg; break;
		case 'j': c->json = true; break;
		case 'h': printf("usage: %s\nThe file holds one HQ-API transaction record.\n", syn); return 0;
		default: return cli_usage(c, syn, "unknown option or missing value: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage(c, syn, "unexpected argument: %s", argv[optind]);
	if (!from)
		return cli_usage(c, syn, "--from-json FILE is required");
	if ((rc = cli_read_file(from, TXN_MAX_JSON, &buf, &len, &e)) || (rc = cli_open(c, &st, &e)) ||
	    (rc = txn_record(st, buf, len, &doc, &created, &e))) {
		rc = cli_fail(c, &e);
		goto cleanup;
	}
	customer_name(st, doc, name, sizeof(name));
	print_warnings(doc);
	if (c->json) {
		cli_print_json(doc);
	} else {
		printf("%s %s  %s%s%s\n", created ? "recorded" : "already recorded", s_of(doc, "txn_id"), s_of(doc, "state"),
		       name[0] ? "  customer " : "", name);
	}
cleanup:
	free(buf);
	cJSON_Delete(doc);
	store_close(st);
	return rc;
}

/* Reads the options of txn list into date/state/limit; 0 or a usage exit. */
static int list_options(struct cli *c, int argc, char **argv, const char *syn, const char **date, const char **state,
                        int *limit)
{
	static const struct option opts[] = {
		{"date", required_argument, NULL, 'd'}, {"state", required_argument, NULL, 's'},
		{"limit", required_argument, NULL, 'n'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	char *end;
	long n;
	int ch;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (!val_date(optarg))
				return cli_usage(c, syn, "--date must be a real date YYYY-MM-DD");
			*date = optarg;
			break;
		case 's':
			if (strcmp(optarg, "pending") && strcmp(optarg, "uploaded") && strcmp(optarg, "rejected"))
				return cli_usage(c, syn, "--state must be pending, uploaded or rejected");
			*state = optarg;
			break;
		case 'n':
			n = strtol(optarg, &end, 10);
			if (end == optarg || *end || n < 1 || n > 10000)
				return cli_usage(c, syn, "--limit must be a number from 1 to 10000");
			*limit = (int)n;
			break;
		case 'j': c->json = true; break;
		case 'h': printf("usage: %s\n", syn); return -1;
		default: return cli_usage(c, syn, "unknown option or missing value: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage(c, syn, "unexpected argument: %s", argv[optind]);
	return 0;
}

/* txn show TXN_ID and txn list [...]. */
static int do_read(struct cli *c, bool show, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *syn = show ? "posagent txn show TXN_ID"
	                       : "posagent txn list [--date YYYY-MM-DD] [--state STATE] [--limit N]";
	const char *date = NULL, *state = NULL, *id = NULL;
	struct store *st = NULL;
	struct pa_err e;
	const cJSON *it;
	cJSON *doc = NULL;
	int ch, rc = 0, limit = 100;

	memset(&e, 0, sizeof(e));
	if (!show) {
		rc = list_options(c, argc, argv, syn, &date, &state, &limit);
		if (rc)
			return rc < 0 ? 0 : rc;
	} else {
		while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
			if (ch == 'j')
				c->json = true;
			else if (ch == 'h')
				return printf("usage: %s\n", syn) < 0;
			else
				return cli_usage(c, syn, "unknown option or missing value: %s", argv[optind - 1]);
		}
		if (optind != argc - 1)
			return cli_usage(c, syn, optind >= argc ? "missing TXN_ID" : "unexpected argument: %s", argv[argc - 1]);
		id = argv[optind];
	}
	if ((rc = cli_open(c, &st, &e)) ||
	    (rc = show ? txn_show(st, id, &doc, &e) : txn_list(st, date, state, limit, &doc, &e))) {
		rc = cli_fail(c, &e);
		goto cleanup;
	}
	if (c->json)
		cli_print_json(doc);
	else if (show)
		print_show(doc);
	else
		cJSON_ArrayForEach(it, doc)
			print_line(it);
cleanup:
	cJSON_Delete(doc);
	store_close(st);
	return rc;
}

int cmd_txn(struct cli *c, int argc, char **argv)
{
	const char *verb = argc >= 2 ? argv[1] : NULL;

	if (verb && (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0)) {
		printf("usage: %s\n", syn_all);
		return 0;
	}
	if (!verb || (strcmp(verb, "record") && strcmp(verb, "show") && strcmp(verb, "list")))
		return cli_usage(c, syn_all, !verb ? "missing txn command" : "unknown txn command: %s", verb);
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	if (strcmp(verb, "record") == 0)
		return do_record(c, argc, argv);
	return do_read(c, strcmp(verb, "show") == 0, argc, argv);
}
