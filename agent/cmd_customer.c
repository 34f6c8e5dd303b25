/*
 * posagent customer create|edit|show|list|search and
 * posagent customer address add|edit: the POS's customer commands. None
 * talks to HQ: they work the same offline.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli.h"
#include "common/customer.h"
#include "common/lookup.h"
#include "common/show.h"
#include "common/util.h"

#define MAX_RECORD_JSON (1024 * 1024)

static const char *const syn_create =
	"posagent customer create [--kind person|organization] [--first-name F] [--last-name L]"
	" [--organization NAME] [--email E] [--phone P] [--language TAG] [--attr KEY=VALUE]..."
	" | --from-json FILE|-";
static const char *const syn_edit =
	"posagent customer edit CUSTOMER [same options as create] | --discard-update";
#define SYN_ADDR_ADD                                                                            \
	"posagent customer address add CUSTOMER --line1 L --city C --postal-code P --country CC" \
	" [--line2 L] [--region R] [--purpose home|delivery|invoice] [--primary]"
#define SYN_ADDR_EDIT \
	"posagent customer address edit ADDRESS [same options as add] [--no-primary] | --discard-update"
static const char *const syn_addr = SYN_ADDR_ADD "\n       " SYN_ADDR_EDIT;
static const char *const syn_all =
	"posagent customer create|edit|show|list|search|address ... (--help on each)";

/* One address as a line of text. */
static void print_address(const cJSON *a, const char *indent)
{
	const cJSON *le = cJSON_GetObjectItemCaseSensitive(a, "last_error");
	const cJSON *ue = cJSON_GetObjectItemCaseSensitive(a, "update_error");
	const char *state = show_str(a, "state");

	/* primary means something only for a purpose (AGENT.md revision) */
	printf("%s%s  %s%s  %s%s%s, %s %s%s%s, %s  [%s]\n", indent,
	       *show_str(a, "async_id") ? show_str(a, "async_id") : show_str(a, "address_id"),
	       *show_str(a, "purpose") ? show_str(a, "purpose") : "no purpose",
	       *show_str(a, "purpose") && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "primary")) ? ", primary" : "",
	       show_str(a, "line1"),
	       *show_str(a, "line2") ? ", " : "", show_str(a, "line2"), show_str(a, "postal_code"), show_str(a, "city"),
	       *show_str(a, "region") ? ", " : "", show_str(a, "region"), show_str(a, "country"),
	       strcmp(state, "rejected") == 0 || cJSON_IsObject(ue) ? "Needs attention"
	       : cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "pending_update")) ? "Changes pending sync"
	       : strcmp(state, "synced") == 0   ? show_str(a, "address_id")
	       : strcmp(state, "uploaded") == 0 ? "at HQ"
	                                        : "Pending sync");
	if (cJSON_IsObject(le))
		printf("%s  last HQ error: %s: %s\n", indent, show_str(le, "code"), show_str(le, "message"));
	if (cJSON_IsObject(ue))
		printf("%s  HQ refused the change: %s: %s; edit the address again, or --discard-update\n", indent,
		       show_str(ue, "code"), show_str(ue, "message"));
}

/* A customer in full, as `customer show` prints it. */
static void print_customer(const cJSON *cu)
{
	const cJSON *le = cJSON_GetObjectItemCaseSensitive(cu, "last_error");
	const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(cu, "attributes"), *it;
	const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(cu, "addresses");
	const char *acc = show_str(cu, "account");
	char name[512];

	show_customer_name(cu, name, sizeof(name));
	const cJSON *ue = cJSON_GetObjectItemCaseSensitive(cu, "update_error");

	printf("%s  %s\n", *show_str(cu, "local_number") ? show_str(cu, "local_number") : acc, show_customer_label(cu));
	printf("  async id:      %s\n", *show_str(cu, "async_id") ? show_str(cu, "async_id") : "(made at HQ)");
	printf("  account:       %s\n", *acc ? acc : "(none yet)");
	printf("  state:         %s\n", show_str(cu, "state"));
	printf("  kind:          %s\n", show_str(cu, "kind"));
	printf("  name:          %s\n", name);
	if (*show_str(cu, "organization_name") && strcmp(show_str(cu, "kind"), "organization") != 0)
		printf("  organization:  %s\n", show_str(cu, "organization_name"));
	printf("  email:         %s\n", show_str(cu, "email"));
	printf("  phone:         %s\n", show_str(cu, "phone"));
	printf("  language:      %s\n", show_str(cu, "language"));
	cJSON_ArrayForEach(it, attrs)
		printf("  attribute:     %s=%s\n", it->string, cJSON_IsString(it) ? it->valuestring : "");
	printf("  created at:    %s\n", show_str(cu, "created_at"));
	if (cJSON_IsObject(le))
		printf("  last HQ error: %s: %s\n", show_str(le, "code"), show_str(le, "message"));
	if (cJSON_IsObject(ue))
		printf("  changes:       Needs attention: HQ refused the change: %s: %s;"
		       " edit again, or --discard-update\n", show_str(ue, "code"), show_str(ue, "message"));
	else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cu, "pending_update")))
		printf("  changes:       Changes pending sync\n");
	if (cJSON_GetArraySize(addrs) > 0) {
		printf("  addresses:\n");
		cJSON_ArrayForEach(it, addrs)
			print_address(it, "    ");
	}
}

/* A customer on one line, for list and search. */
static void print_line(const cJSON *cu)
{
	char line[2048];

	fwrite(line, 1, show_customer_line(cu, line, sizeof(line)), stdout);
}

/* Options of create and edit. */
static const struct option cust_opts[] = {
	{"kind", required_argument, NULL, 'k'},
	{"first-name", required_argument, NULL, 'f'},
	{"last-name", required_argument, NULL, 'l'},
	{"organization", required_argument, NULL, 'o'},
	{"email", required_argument, NULL, 'e'},
	{"phone", required_argument, NULL, 'p'},
	{"language", required_argument, NULL, 'g'},
	{"attr", required_argument, NULL, 'a'},
	{"from-json", required_argument, NULL, 'F'},
	{"discard-update", no_argument, NULL, 'D'},
	{"json", no_argument, NULL, 'j'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* Reads create/edit options into rec (HQ-API names). *from_json gets the
 * --from-json FILE, *discard --discard-update (NULL: not allowed).
 * Returns 0, a usage status, or -1 for --help. */
static int parse_customer_opts(struct cli *c, int argc, char **argv, const char *syn, cJSON *rec,
                               const char **from_json, bool *discard)
{
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", cust_opts, NULL)) != -1) {
		const char *field = NULL;
		switch (ch) {
		case 'k': field = "kind"; break;
		case 'f': field = "first_name"; break;
		case 'l': field = "last_name"; break;
		case 'o': field = "organization_name"; break;
		case 'e': field = "email"; break;
		case 'p': field = "phone"; break;
		case 'g': field = "language"; break;
		case 'F': *from_json = optarg; continue;
		case 'D':
			if (!discard)
				return cli_usage(c, syn, "unknown option: --discard-update");
			*discard = true;
			continue;
		case 'j': c->json = true; continue;
		case 'h':
			printf("usage: %s\n", syn);
			if (syn == syn_edit)
				printf("An empty value clears an optional field (--email \"\"); --attr KEY= removes attribute KEY.\n");
			return -1;
		case 'a': {
			char *eq = strchr(optarg, '=');
			cJSON *attrs = cJSON_GetObjectItemCaseSensitive(rec, "attributes");
			if (!eq || eq == optarg)
				return cli_usage(c, syn, "--attr needs KEY=VALUE, not \"%.60s\"", optarg);
			if (!attrs)
				attrs = cJSON_AddObjectToObject(rec, "attributes");
			*eq = '\0';
			cJSON_DeleteItemFromObjectCaseSensitive(attrs, optarg);
			cJSON_AddStringToObject(attrs, optarg, eq + 1);
			*eq = '=';
			continue;
		}
		default:
			return cli_usage(c, syn, "unknown option or missing value: %s", argv[optind - 1]);
		}
		cJSON_DeleteItemFromObjectCaseSensitive(rec, field);
		cJSON_AddStringToObject(rec, field, optarg);
	}
	return 0;
}

/* Reads a JSON record from FILE or stdin. */
static int read_record(const char *path, cJSON **out, struct pa_err *e)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = cli_read_file(path, MAX_RECORD_JSON, &buf, &len, e)))
		return rc;
	if (util_json_has_nul(buf, len))
		rc = err_set(e, EX_DATAERR, "invalid_text", NULL,
		             "a text holds a NUL character (\\u0000 or a NUL byte): it would be cut short");
	else if (!(*out = util_json_parse(buf, len)))
		rc = err_set(e, EX_DATAERR, "invalid_json", NULL, "%s is not valid JSON (or nested too deep)",
		             strcmp(path, "-") ? path : "input");
	else if (!cJSON_IsObject(*out))
		rc = err_set(e, EX_DATAERR, "invalid_record", NULL, "the record must be a JSON object");
	free(buf);
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	return rc;
}

static int do_create(struct cli *c, int argc, char **argv)
{
	cJSON *rec = cJSON_CreateObject(), *doc = NULL;
	const char *from = NULL;
	struct store *st = NULL;
	struct pa_err e;
	bool created = false;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = parse_customer_opts(c, argc, argv, syn_create, rec, &from, NULL);
	if (rc) {
		rc = rc < 0 ? 0 : rc;
		goto cleanup;
	}
	if (optind < argc) {
		rc = cli_usage(c, syn_create, "unexpected argument: %s", argv[optind]);
		goto cleanup;
	}
	if (from) {
		if (cJSON_GetArraySize(rec) > 0) {
			rc = cli_usage(c, syn_create, "--from-json takes the whole record: give no other field option");
			goto cleanup;
		}
		cJSON_Delete(rec);
		rec = NULL;
		if ((rc = read_record(from, &rec, &e)))
			goto fail;
		if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(rec, "type")) &&
		    strcmp(cJSON_GetObjectItemCaseSensitive(rec, "type")->valuestring, "customer") != 0) {
			rc = err_set(&e, EX_DATAERR, "invalid_record", "type", "type: must be \"customer\"");
			goto fail;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "type");
	}
	if ((rc = cli_open(c, &st, &e)) || (rc = cust_create(st, rec, from != NULL, &doc, &created, &e)))
		goto fail;
	if (c->json) {
		cli_print_json(doc);
	} else {
		const cJSON *d;
		printf("%s %s  async id %s  %s\n", created ? "created" : "already recorded",
		       show_str(doc, "local_number"), show_str(doc, "async_id"),
		       show_state_label(show_str(doc, "state"), *show_str(doc, "account") ? show_str(doc, "account") : NULL));
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(doc, "possible_duplicates"))
			printf("possible duplicate: %s (%s)\n",
			       *show_str(d, "local_number") ? show_str(d, "local_number") : show_str(d, "account"),
			       strcmp(show_str(d, "reason"), "same_email") == 0 ? "same email" : "same phone");
	}
	goto cleanup;
fail:
	rc = cli_fail(c, &e);
cleanup:
	cJSON_Delete(rec);
	cJSON_Delete(doc);
	store_close(st);
	return rc;
}

static int do_edit(struct cli *c, int argc, char **argv)
{
	cJSON *rec = cJSON_CreateObject(), *doc = NULL;
	const char *from = NULL;
	struct store *st = NULL;
	struct pa_err e;
	bool discard = false;
	int rc;

	memset(&e, 0, sizeof(e));
	rc = parse_customer_opts(c, argc, argv, syn_edit, rec, &from, &discard);
	if (rc) {
		rc = rc < 0 ? 0 : rc;
		goto cleanup;
	}
	if (optind != argc - 1) {
		rc = cli_usage(c, syn_edit, optind >= argc ? "missing CUSTOMER" : "unexpected argument: %s",
		               argv[argc - 1]);
		goto cleanup;
	}
	if (from) {
		cJSON_Delete(rec);
		rec = NULL;
		if ((rc = read_record(from, &rec, &e)))
			goto fail;
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "type");
		cJSON_DeleteItemFromObjectCaseSensitive(rec, "async_id");
		if (cJSON_GetObjectItemCaseSensitive(rec, "local_number")) {
			rc = err_set(&e, EX_DATAERR, "invalid_record", "local_number", "local_number cannot be changed");
			goto fail;
		}
	}
	if (discard && (from || cJSON_GetArraySize(rec) > 0)) {
		rc = cli_usage(c, syn_edit, "--discard-update takes no field option");
		goto cleanup;
	}
	if (!discard && cJSON_GetArraySize(rec) == 0) {
		rc = cli_usage(c, syn_edit, "nothing to change: give at least one field option");
		goto cleanup;
	}
	if ((rc = cli_open(c, &st, &e)) ||
	    (rc = discard ? cust_discard_update(st, argv[optind], &doc, &e) : cust_edit(st, argv[optind], rec, &doc, &e)))
		goto fail;
	if (c->json)
		cli_print_json(doc);
	else
		print_customer(doc);
	goto cleanup;
fail:
	rc = cli_fail(c, &e);
cleanup:
	cJSON_Delete(rec);
	cJSON_Delete(doc);
	store_close(st);
	return rc;
}

/* Parses --limit N (1..10000). */
static int parse_limit(const char *v, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < 1 || n > 10000)
		return -1;
	*out = (int)n;
	return 0;
}

/* show, list and search: read-only. */
static int do_read(struct cli *c, int argc, char **argv, const char *verb)
{
	static const struct option opts[] = {
		{"state", required_argument, NULL, 's'}, {"limit", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *syn = strcmp(verb, "show") == 0 ? "posagent customer show CUSTOMER"
	                  : strcmp(verb, "list") == 0 ? "posagent customer list [--state STATE] [--limit N]"
	                                              : "posagent customer search TEXT [--limit N]";
	const char *state = NULL;
	int limit = 100, ch, rc, found = 0, want_args = strcmp(verb, "list") == 0 ? 0 : 1;
	struct store *st = NULL;
	struct pa_err e;
	cJSON *doc = NULL;
	char *answer = NULL; /* the service's answer to a search */
	size_t alen = 0;
	int64_t id = 0;

	memset(&e, 0, sizeof(e));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (strcmp(verb, "list") != 0)
				return cli_usage(c, syn, "unknown option: --state");
			if (strcmp(optarg, "pending") && strcmp(optarg, "uploaded") && strcmp(optarg, "synced") &&
			    strcmp(optarg, "rejected"))
				return cli_usage(c, syn, "--state is one of pending, uploaded, synced, rejected");
			state = optarg;
			break;
		case 'n':
			if (strcmp(verb, "show") == 0)
				return cli_usage(c, syn, "unknown option: --limit");
			if (parse_limit(optarg, &limit))
				return cli_usage(c, syn, "--limit must be a number from 1 to 10000");
			break;
		case 'j': c->json = true; break;
		case 'h': printf("usage: %s\n", syn); return 0;
		default: return cli_usage(c, syn, "unknown option or missing value: %s", argv[optind - 1]);
		}
	}
	if (argc - optind != want_args)
		return cli_usage(c, syn, argc - optind < want_args ? "missing argument" : "unexpected argument: %s",
		                 argv[argc - 1]);
	if ((rc = cli_config(c, &e)))
		goto fail;
	/* A search is answered by the running service when it can (its
	 * connection is warm); else, or when it does not answer, here. */
	if (strcmp(verb, "search") == 0 &&
	    lookup_search(c->cfg.database, argv[optind], limit, c->json, &answer, &alen, &found) == 0) {
		fwrite(answer, 1, alen, stdout);
		if (!c->json && found == 0)
			fprintf(stderr, "no customers found\n");
		goto cleanup;
	}
	if ((rc = cli_open(c, &st, &e)) || (rc = store_short_reads(st, &e)))
		goto fail;
	if (strcmp(verb, "show") == 0) {
		if ((rc = cust_resolve(st, argv[optind], &id, &e)) || (rc = cust_get(st, id, &doc, &e)))
			goto fail;
	} else if (strcmp(verb, "list") == 0) {
		if ((rc = cust_list(st, state, limit, &doc, &e)))
			goto fail;
	} else if ((rc = cust_search(st, argv[optind], limit, &doc, &e))) {
		goto fail;
	}
	if (c->json) {
		cli_print_json(doc);
	} else if (cJSON_IsArray(doc)) {
		const cJSON *it;
		cJSON_ArrayForEach(it, doc)
			print_line(it);
		if (cJSON_GetArraySize(doc) == 0)
			fprintf(stderr, "no customers found\n");
	} else {
		print_customer(doc);
	}
	goto cleanup;
fail:
	rc = cli_fail(c, &e);
cleanup:
	free(answer);
	cJSON_Delete(doc);
	store_close(st);
	return rc;
}

static int do_address(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"line1", required_argument, NULL, '1'}, {"line2", required_argument, NULL, '2'},
		{"city", required_argument, NULL, 'c'}, {"region", required_argument, NULL, 'r'},
		{"postal-code", required_argument, NULL, 'p'}, {"country", required_argument, NULL, 'C'},
		{"purpose", required_argument, NULL, 'u'}, {"primary", no_argument, NULL, 'P'},
		{"no-primary", no_argument, NULL, 'N'}, {"discard-update", no_argument, NULL, 'D'},
		{"json", no_argument, NULL, 'j'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	cJSON *rec = cJSON_CreateObject(), *doc = NULL;
	struct store *st = NULL;
	struct pa_err e;
	bool add, discard = false;
	int ch, rc = 0;

	memset(&e, 0, sizeof(e));
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: %s\nADDRESS is the address's async id or HQ's address id.\n", syn_addr);
		goto cleanup;
	}
	if (argc < 2 || (strcmp(argv[1], "add") && strcmp(argv[1], "edit"))) {
		rc = cli_usage(c, syn_addr, argc < 2 ? "missing add or edit" : "unknown address command: %s", argv[1]);
		goto cleanup;
	}
	add = strcmp(argv[1], "add") == 0;
	argc--;
	argv++;
	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		const char *field = NULL;
		switch (ch) {
		case '1': field = "line1"; break;
		case '2': field = "line2"; break;
		case 'c': field = "city"; break;
		case 'r': field = "region"; break;
		case 'p': field = "postal_code"; break;
		case 'C': field = "country"; break;
		case 'u': field = "purpose"; break;
		case 'P':
		case 'N':
			cJSON_DeleteItemFromObjectCaseSensitive(rec, "primary");
			cJSON_AddBoolToObject(rec, "primary", ch == 'P');
			continue;
		case 'D': discard = true; continue;
		case 'j': c->json = true; continue;
		case 'h': printf("usage: %s\n", add ? SYN_ADDR_ADD : SYN_ADDR_EDIT); goto cleanup;
		default:
			rc = cli_usage(c, syn_addr, "unknown option or missing value: %s", argv[optind - 1]);
			goto cleanup;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(rec, field);
		cJSON_AddStringToObject(rec, field, optarg);
	}
	if (optind != argc - 1) {
		rc = cli_usage(c, syn_addr, optind >= argc ? "missing %s" : "unexpected argument: %s",
		               optind >= argc ? (add ? "CUSTOMER" : "ADDRESS") : argv[argc - 1]);
		goto cleanup;
	}
	if (discard && (add || cJSON_GetArraySize(rec) > 0)) {
		rc = cli_usage(c, syn_addr, add ? "--discard-update is for address edit" : "--discard-update takes no field option");
		goto cleanup;
	}
	if (!add && !discard && cJSON_GetArraySize(rec) == 0) {
		rc = cli_usage(c, syn_addr, "nothing to change: give at least one field option");
		goto cleanup;
	}
	if ((rc = cli_open(c, &st, &e)))
		goto fail;
	rc = add ? addr_add(st, argv[optind], rec, &doc, &e)
	     : discard ? addr_discard_update(st, argv[optind], &doc, &e) : addr_edit(st, argv[optind], rec, &doc, &e);
	if (rc)
		goto fail;
	if (c->json)
		cli_print_json(doc);
	else
		print_address(doc, "");
	goto cleanup;
fail:
	rc = cli_fail(c, &e);
cleanup:
	cJSON_Delete(rec);
	cJSON_Delete(doc);
	store_close(st);
	return rc;
}

int cmd_customer(struct cli *c, int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : NULL;

	if (!verb)
		return cli_usage(c, syn_all, "missing customer command");
	if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0) {
		printf("usage: %s\n       %s\n       posagent customer show CUSTOMER\n"
		       "       posagent customer list [--state STATE] [--limit N]\n"
		       "       posagent customer search TEXT [--limit N]\n       %s\n"
		       "CUSTOMER is an async id, a local number or an account.\n",
		       syn_create, syn_edit, syn_addr);
		return 0;
	}
	if (strcmp(verb, "address") == 0)
		return do_address(c, argc - 1, argv + 1);
	argc--;
	argv++;
	optind = 0;
	if (strcmp(verb, "create") == 0)
		return do_create(c, argc, argv);
	if (strcmp(verb, "edit") == 0)
		return do_edit(c, argc, argv);
	if (strcmp(verb, "show") == 0 || strcmp(verb, "list") == 0 || strcmp(verb, "search") == 0)
		return do_read(c, argc, argv, verb);
	return cli_usage(c, syn_all, "unknown customer command: %s", verb);
}
