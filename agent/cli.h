/*
 * cli: what every command of the posagent program shares: the parsed
 * global options and configuration, opening the store, and printing data
 * (stdout) and failures (stderr, or a JSON error document with --json).
 */
#ifndef POSAGENT_CLI_H
#define POSAGENT_CLI_H

#include <stdbool.h>
#include <cJSON.h>

#include "common/config.h"
#include "common/err.h"
#include "common/hqclient.h"
#include "common/store.h"
#include <signal.h>

#define CLI_MAX_ARG 65536 /* longest command-line argument accepted */

struct cli {
	const char *cfg_path; /* -c FILE, or NULL */
	bool json;            /* --json */
	struct cfg cfg;       /* loaded by cli_config */
	bool cfg_loaded;      /* cfg holds the file's configuration */
};

/* Loads the configuration, once (exit 78 on any problem). Returns 0 or
 * status. */
int cli_config(struct cli *c, struct pa_err *e);

/* Loads the configuration and opens the store (not creating it); its
 * commits wake a running service (wake_on_commit). */
int cli_open(struct cli *c, struct store **st, struct pa_err *e);

/* Prints the failure: a one-line "posagent: message" on stderr, or the
 * JSON error document on stdout with --json. Returns e->status. */
int cli_fail(struct cli *c, const struct pa_err *e);

/* A usage error (64) naming the problem, with the command's synopsis. */
int cli_usage(struct cli *c, const char *synopsis, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prints doc as one JSON document on stdout (pretty, newline ended). */
void cli_print_json(const cJSON *doc);

/* Reads FILE ("-" for stdin) whole, at most max bytes. Returns 0 with a
 * malloc'd NUL-terminated buffer, or EX_DATAERR with *e (unreadable, too large). */
int cli_read_file(const char *path, size_t max, char **out, size_t *len, struct pa_err *e);

/* "s" unless n is 1: "1 transaction", "2 transactions". */
const char *cli_s(long long n);

/* Checks the [hq] settings (78 naming the key) and makes an HQ client. */
int cli_hq(struct cli *c, volatile sig_atomic_t *stop, struct hq_client **hq, struct pa_err *e);

/* The commands: each takes argc/argv from its own name on. */
int cmd_init(struct cli *c, int argc, char **argv);
int cmd_customer(struct cli *c, int argc, char **argv);
int cmd_txn(struct cli *c, int argc, char **argv);
int cmd_sync(struct cli *c, int argc, char **argv);
int cmd_run(struct cli *c, int argc, char **argv);
int cmd_eod(struct cli *c, int argc, char **argv);
int cmd_status(struct cli *c, int argc, char **argv);
int cmd_backup(struct cli *c, int argc, char **argv);
int cmd_doctor(struct cli *c, int argc, char **argv);

#endif
