/* posagent txn record --from-json FILE|-: store a sale, return or order. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "common/customer.h"
#include "common/txn.h"
#include "common/util.h"

/* The sale's customer, as the command names it: its local number, else
 * its account, else its async id; and whether HQ rejected it. Adds the
 * AGENT.md "warnings" array to doc (kept when already there), with a
 * customer_rejected warning, also printed on stderr, when it is rejected
 * (end of day waits for its correction). */
static void customer_note(struct store *st, cJSON *doc, char *name, size_t n)
{
	const cJSON *cu = cJSON_GetObjectItemCaseSensitive(doc, "customer");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(cu, "async_id");
	const cJSON *acc = cJSON_GetObjectItemCaseSensitive(cu, "account");
	cJSON *warnings = cJSON_GetObjectItemCaseSensitive(doc, "warnings"), *full = NULL, *w;
	const cJSON *ln, *state;
	struct pa_err e;
	int64_t row = 0;
	char msg[400];

	name[0] = '\0';
	if (!cJSON_IsArray(warnings))
		warnings = cJSON_AddArrayToObject(doc, "warnings");
	if (!cJSON_IsObject(cu))
		return;
	util_copy(name, n, cJSON_IsString(acc) ? acc->valuestring : cJSON_IsString(id) ? id->valuestring : "");
	memset(&e, 0, sizeof(e));
	if (cust_resolve(st, cJSON_IsString(id) ? id->valuestring : name, &row, &e) || cust_get(st, row, &full, &e))
		return;
	ln = cJSON_GetObjectItemCaseSensitive(full, "local_number");
	if (cJSON_IsString(ln))
		util_copy(name, n, ln->valuestring);
	state = cJSON_GetObjectItemCaseSensitive(full, "state");
	if (cJSON_IsString(state) && strcmp(state->valuestring, "rejected") == 0) {
		const cJSON *le = cJSON_GetObjectItemCaseSensitive(full, "last_error");
		const cJSON *code = cJSON_GetObjectItemCaseSensitive(le, "code");
		snprintf(msg, sizeof(msg),
		         "customer %.80s was rejected by HQ (%.48s): the sale is recorded, but end of day waits until a"
		         " person corrects the customer with `posagent customer edit %.80s`",
		         name, cJSON_IsString(code) ? code->valuestring : "rejected", name);
		w = cJSON_CreateObject();
		cJSON_AddStringToObject(w, "code", "customer_rejected");
		cJSON_AddStringToObject(w, "message", msg);
		cJSON_AddItemToArray(warnings, w);
		fprintf(stderr, "posagent: warning: %s\n", msg);
	}
	cJSON_Delete(full);
}

int cmd_txn(struct cli *c, int argc, char **argv)
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
	if (argc < 2 || strcmp(argv[1], "record") != 0) {
		if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
			printf("usage: %s\n", syn);
			return 0;
		}
		return cli_usage(c, syn, argc < 2 ? "missing txn command" : "unknown txn command: %s", argv[1]);
	}
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
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
	customer_note(st, doc, name, sizeof(name));
	if (c->json) {
		cli_print_json(doc);
	} else {
		printf("%s %s  %s%s%s\n", created ? "recorded" : "already recorded",
		       cJSON_GetObjectItemCaseSensitive(doc, "txn_id")->valuestring,
		       cJSON_GetObjectItemCaseSensitive(doc, "state")->valuestring, name[0] ? "  customer " : "", name);
	}
cleanup:
	free(buf);
	cJSON_Delete(doc);
	store_close(st);
	return rc;
}
