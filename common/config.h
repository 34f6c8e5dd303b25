/*
 * config: the INI file of AGENT.md, parsed with libinih.
 *
 * cfg_load() checks only what every command needs: the file parses, every
 * section and key is known, the [agent] keys are present and sane, numbers
 * are numbers. The [hq] values are checked by cfg_check_hq(), which only
 * the commands that talk to HQ call: a broken HQ setting never stops a
 * cashier. Both write a one-line message into err and return -1 on error.
 */
#ifndef POSAGENT_CONFIG_H
#define POSAGENT_CONFIG_H

#include <stddef.h>
#include "common/err.h"

#define CFG_PATH_MAX 1024
#define CFG_DEFAULT_PATH "/etc/posagent/posagent.conf"

struct cfg {
	char path[CFG_PATH_MAX];        /* the file this came from */
	/* [agent] */
	char store[33];                 /* required, e.g. S0001 */
	char reg[33];                   /* "register": required, e.g. R01 */
	char database[CFG_PATH_MAX];    /* SQLite file */
	char currency[4];               /* ISO 4217, default EUR */
	/* [hq] */
	char url[CFG_PATH_MAX];         /* https://... base URL, no trailing slash */
	char ca_file[CFG_PATH_MAX];
	char token_file[CFG_PATH_MAX];
	char client_cert[CFG_PATH_MAX]; /* "" when unused */
	char client_key[CFG_PATH_MAX];
	long connect_timeout;           /* seconds */
	long request_timeout;           /* seconds */
	/* [sync] */
	long batch_size;                /* 1..500 */
	long retry_max;                 /* backoff cap, seconds */
	long idle_interval;             /* seconds */
	long long_poll;                 /* 0..60 seconds */
	/* [eod] */
	long eod_timeout;               /* seconds */
	/* [doctor] */
	long waiting_warn;              /* seconds */
	long waiting_fail;              /* seconds */
	/* [metrics] */
	char metrics_textfile[CFG_PATH_MAX]; /* Prometheus textfile, "" off */
	long metrics_interval;          /* seconds between writes */
	/* [retention] */
	long keep_days;                 /* posted days kept; 0 keeps all */
	/* A bad value outside [agent] (a non-number, say) does not stop the
	 * commands that never talk to HQ: it is kept here and reported by
	 * cfg_check_hq() (and by doctor). "" when none. */
	char deferred[256];
};

/* Fills *c with the defaults of AGENT.md. */
void cfg_defaults(struct cfg *c);

/* Loads path (NULL: $POSAGENT_CONFIG, else CFG_DEFAULT_PATH) into *c.
 * Returns 0, or -1 with a message naming the file, line, section or key. */
PA_MUST_USE int cfg_load(const char *path, struct cfg *c, char *err, size_t errlen);

/* Checks the [hq] and [sync] values a command that talks to HQ relies on:
 * url present and https, ca_file readable, token_file present and not
 * readable or writable by others, client_cert/key together, batch_size 1..500,
 * long_poll 0..60. Returns 0 or -1 with a message naming the key. */
PA_MUST_USE int cfg_check_hq(const struct cfg *c, char *err, size_t errlen);

/* The part of cfg_check_hq that reads no file but the client certificate:
 * values held back by cfg_load, url, ranges. doctor reports the CA and
 * token files on lines of their own. */
PA_MUST_USE int cfg_check_values(const struct cfg *c, char *err, size_t errlen);

/* Reads the bearer token from c->token_file into tok (trailing newline
 * stripped). Returns 0 or -1 with a message that never contains the token. */
PA_MUST_USE int cfg_read_token(const struct cfg *c, char *tok, size_t toklen, char *err, size_t errlen);

#endif
