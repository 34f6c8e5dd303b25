/*
 * posagent: the store agent. main() reads the global options and hands
 * the rest of the command line to one command (a table, as wg.c does).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/cli.h"

struct command {
	const char *name;
	int (*run)(struct cli *c, int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"init", cmd_init, "create or upgrade the local database"},
	{"customer", cmd_customer, "create, edit, show, list and search customers and addresses"},
	{"txn", cmd_txn, "record a sale, return or customer order"},
	{"sync", cmd_sync, "one upload and download cycle with HQ now"},
	{"run", cmd_run, "the service: upload and download in the background"},
	{"eod", cmd_eod, "end of day: wait for the day's customers, post the statement"},
	{"status", cmd_status, "what is waiting, stuck or rejected (local only)"},
	{"backup", cmd_backup, "a consistent copy of the database"},
	{"doctor", cmd_doctor, "check that this register can sync"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: posagent [-c FILE] [--json] COMMAND [ARGS]\n       posagent --version | --help\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`posagent COMMAND --help` for a command's options.\n"
	           "-c FILE: configuration (default $POSAGENT_CONFIG, else %s)\n", CFG_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct cli c;
	int ch;

	/* The service and the POS user share the database through a group;
	 * never others. */
	umask(007);
	memset(&c, 0, sizeof(c));
	/* --json anywhere asks for JSON, errors in parsing included. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			c.json = true;
	for (int i = 1; i < argc; i++)
		if (strlen(argv[i]) > CLI_MAX_ARG)
			return cli_usage(&c, "posagent [-c FILE] [--json] COMMAND [ARGS]",
			                 "argument %d is longer than %d bytes", i, CLI_MAX_ARG);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c.cfg_path = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("posagent %s\n", POSAGENT_VERSION);
			return 0;
		default:
			return cli_usage(&c, "posagent [-c FILE] [--json] COMMAND [ARGS]", "unknown option or missing value: %s",
			                 argv[optind - 1]);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;
			optind = 0; /* reset getopt for the command's own options */
			return commands[i].run(&c, sub_argc, sub_argv);
		}
	}
	return cli_usage(&c, "posagent [-c FILE] [--json] COMMAND [ARGS]", "unknown command: %s", argv[optind]);
}
