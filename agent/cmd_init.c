/* posagent init: create or upgrade the local database; safe to repeat. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent/cli.h"
#include "common/retain.h"

int cmd_init(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *syn = "posagent init";
	struct pa_err e;
	struct store *st = NULL;
	int ch, rc;
	bool converted = false;

	memset(&e, 0, sizeof(e));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'j')
			c->json = true;
		else if (ch == 'h') {
			printf("usage: %s\nCreates the database named by [agent] database, or upgrades it.\n", syn);
			return 0;
		} else
			return cli_usage(c, syn, "unknown option: %s", argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage(c, syn, "unexpected argument: %s", argv[optind]);
	if ((rc = cli_config(c, &e)) || (rc = store_open(c->cfg.database, true, &st, &e)) ||
	    (rc = ret_vacuum_setup(st, &converted, &e))) {
		store_close(st);
		return cli_fail(c, &e);
	}
	if (converted && !c->json)
		printf("database %s now gives freed space back (auto_vacuum = incremental)\n", c->cfg.database);
	if (c->json) {
		cJSON *doc = cJSON_CreateObject();
		cJSON_AddStringToObject(doc, "database", c->cfg.database);
		cJSON_AddNumberToObject(doc, "schema_version", store_schema_version());
		cli_print_json(doc);
		cJSON_Delete(doc);
	} else {
		printf("database %s ready (schema version %d)\n", c->cfg.database, store_schema_version());
	}
	store_close(st);
	return 0;
}
