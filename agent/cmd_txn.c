/* posagent txn record --from-json FILE|-: store a sale, return or order. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "common/txn.h"

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
	if (c->json) {
		cli_print_json(doc);
	} else {
		const cJSON *cu = cJSON_GetObjectItemCaseSensitive(doc, "customer");
		const cJSON *acc = cJSON_GetObjectItemCaseSensitive(cu, "account");
		printf("%s %s  %s%s%s\n", created ? "recorded" : "already recorded",
		       cJSON_GetObjectItemCaseSensitive(doc, "txn_id")->valuestring,
		       cJSON_GetObjectItemCaseSensitive(doc, "state")->valuestring,
		       cJSON_IsObject(cu) ? "  customer " : "",
		       !cJSON_IsObject(cu) ? "" : cJSON_IsString(acc) ? acc->valuestring
		                                : cJSON_GetObjectItemCaseSensitive(cu, "async_id")->valuestring);
	}
cleanup:
	free(buf);
	cJSON_Delete(doc);
	store_close(st);
	return rc;
}
