#include "common/config.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

/* How a key is stored: a string of a given size or a long. */
enum kind { K_STR, K_LONG };

struct key {
	const char *section;
	const char *name;
	enum kind kind;
	size_t off;  /* offset in struct cfg */
	size_t size; /* for K_STR */
};

#define S(sec, nm, mem) {sec, nm, K_STR, offsetof(struct cfg, mem), sizeof(((struct cfg *)0)->mem)}
#define L(sec, nm, mem) {sec, nm, K_LONG, offsetof(struct cfg, mem), 0}

static const struct key keys[] = {
	S("agent", "store", store),
	S("agent", "register", reg),
	S("agent", "database", database),
	S("agent", "currency", currency),
	S("hq", "url", url),
	S("hq", "ca_file", ca_file),
	S("hq", "token_file", token_file),
	S("hq", "client_cert", client_cert),
	S("hq", "client_key", client_key),
	L("hq", "connect_timeout", connect_timeout),
	L("hq", "request_timeout", request_timeout),
	L("sync", "batch_size", batch_size),
	L("sync", "retry_max", retry_max),
	L("sync", "idle_interval", idle_interval),
	L("sync", "long_poll", long_poll),
	L("eod", "timeout", eod_timeout),
	L("doctor", "waiting_warn", waiting_warn),
	L("doctor", "waiting_fail", waiting_fail),
	S("metrics", "textfile", metrics_textfile),
	L("metrics", "interval", metrics_interval),
	L("retention", "keep_days", keep_days),
};

struct parse_ctx {
	struct cfg *c;
	char err[256];        /* first fatal problem */
	unsigned seen_agent;  /* bit i: [agent] key i was given */
};

void cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	util_copy(c->database, sizeof(c->database), "/var/lib/posagent/posagent.db");
	util_copy(c->currency, sizeof(c->currency), "EUR");
	util_copy(c->ca_file, sizeof(c->ca_file), "/etc/posagent/hq-ca.pem");
	util_copy(c->token_file, sizeof(c->token_file), "/etc/posagent/token");
	c->connect_timeout = 5;
	c->request_timeout = 30;
	c->batch_size = 200;
	c->retry_max = 300;
	c->idle_interval = 60;
	c->long_poll = 25;
	c->eod_timeout = 900;
	c->waiting_warn = 3600;
	c->waiting_fail = 86400;
	c->metrics_interval = 15;
	c->keep_days = 90;
}

/* Parses a whole decimal number. Returns 0, or -1 when v is not one. */
static int parse_long(const char *v, long *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

/* Store and register are the ids HQ knows: 1 to 32 of A-Za-z0-9. */
static int valid_id(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char ch = s[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')))
			return 0;
	}
	return i > 0 && i <= 32;
}

/* inih's callback: one key at a time. Returns 0 (an error, inih reports
 * its line) for an unknown section or key or an unreadable value. */
static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *p = user;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key *k = &keys[i];
		char *dst = (char *)p->c + k->off;
		if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
			continue;
		if (strcmp(section, "agent") == 0)
			p->seen_agent |= 1u << i;
		if (k->kind == K_STR) {
			if (util_copy(dst, k->size, value) != 0) {
				snprintf(p->err, sizeof(p->err), "[%s] %s is too long (at most %zu bytes)",
				         section, name, k->size - 1);
				return 0;
			}
		} else if (parse_long(value, (long *)(void *)dst) != 0) {
			if (strcmp(section, "agent") == 0) {
				snprintf(p->err, sizeof(p->err), "[%s] %s must be a whole number", section, name);
				return 0;
			}
			if (!p->c->deferred[0])
				snprintf(p->c->deferred, sizeof(p->c->deferred),
				         "[%s] %s must be a whole number, not \"%.40s\"", section, name, value);
		}
		return 1;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].section, section) == 0)
			break;
	if (i == sizeof(keys) / sizeof(keys[0]))
		snprintf(p->err, sizeof(p->err), "unknown section [%.60s]", section);
	else
		snprintf(p->err, sizeof(p->err), "unknown key \"%.60s\" in [%s]", name, section);
	return 0;
}

/* What libinih cannot tell: a section header with no key under it (inih
 * only reports keys), the same section twice (inih would merge them, the
 * last value winning: a second [agent] could point one store's database
 * at another's identity) and a line longer than Debian's libinih reads
 * whole (INI_MAX_LINE, 200 bytes; the rest would be taken as the next
 * line). Returns 0, or -1 with a message naming the line. */
static int prescan(const char *path, char *err, size_t errlen)
{
	char line[4096];
	FILE *f = fopen(path, "re");
	int n = 0, rc = 0;
	int first[sizeof(keys) / sizeof(keys[0])] = {0}; /* line of each section's header, by its first key */

	if (!f) {
		snprintf(err, errlen, "cannot read config %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		const char *p = line, *end;
		n++;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		if (len >= 199 || (len == sizeof(line) - 1)) {
			snprintf(err, errlen, "config %s line %d: longer than 198 characters", path, n);
			rc = -1;
			break;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '[' || !(end = strchr(p, ']')))
			continue;
		size_t i, sl = (size_t)(end - p - 1);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strlen(keys[i].section) == sl && strncmp(keys[i].section, p + 1, sl) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			snprintf(err, errlen, "config %s line %d: unknown section [%.*s]", path, n, (int)(sl > 60 ? 60 : sl),
			         p + 1);
			rc = -1;
			break;
		}
		if (first[i]) {
			snprintf(err, errlen, "config %s line %d: section [%s] appears a second time (first at line %d);"
			         " put its keys under one header", path, n, keys[i].section, first[i]);
			rc = -1;
			break;
		}
		first[i] = n;
	}
	fclose(f);
	return rc;
}

int cfg_load(const char *path, struct cfg *c, char *err, size_t errlen)
{
	struct parse_ctx p;
	int line;
	struct stat st;

	if (!path || !*path)
		path = getenv("POSAGENT_CONFIG");
	if (!path || !*path)
		path = CFG_DEFAULT_PATH;
	cfg_defaults(c);
	if (util_copy(c->path, sizeof(c->path), path) != 0) {
		snprintf(err, errlen, "config path too long");
		return -1;
	}
	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "cannot read config %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "config %s is not a regular file", path);
		return -1;
	}
	if (prescan(path, err, errlen) != 0)
		return -1;
	memset(&p, 0, sizeof(p));
	p.c = c;
	line = ini_parse(path, on_key, &p);
	if (line < 0) {
		snprintf(err, errlen, "cannot read config %s: %s", path, strerror(errno ? errno : EIO));
		return -1;
	}
	if (line > 0) {
		snprintf(err, errlen, "config %s line %d: %s", path, line, p.err[0] ? p.err : "syntax error");
		return -1;
	}
	if (!(p.seen_agent & 1u) || !c->store[0]) {
		snprintf(err, errlen, "config %s: [agent] store is required", path);
		return -1;
	}
	if (!(p.seen_agent & 2u) || !c->reg[0]) {
		snprintf(err, errlen, "config %s: [agent] register is required", path);
		return -1;
	}
	if (!valid_id(c->store) || !valid_id(c->reg)) {
		snprintf(err, errlen, "config %s: [agent] %s must be 1 to 32 letters or digits", path,
		         valid_id(c->store) ? "register" : "store");
		return -1;
	}
	if (!c->database[0]) {
		snprintf(err, errlen, "config %s: [agent] database must not be empty", path);
		return -1;
	}
	if (strlen(c->currency) != 3 || c->currency[0] < 'A' || c->currency[0] > 'Z' ||
	    c->currency[1] < 'A' || c->currency[1] > 'Z' || c->currency[2] < 'A' || c->currency[2] > 'Z') {
		snprintf(err, errlen, "config %s: [agent] currency must be three capital letters (ISO 4217)", path);
		return -1;
	}
	return 0;
}

/* A range check for cfg_check_hq. */
static int in_range(long v, long lo, long hi, const char *key, char *err, size_t errlen)
{
	if (v >= lo && v <= hi)
		return 0;
	snprintf(err, errlen, "%s must be from %ld to %ld (it is %ld)", key, lo, hi, v);
	return -1;
}

int cfg_check_values(const struct cfg *c, char *err, size_t errlen)
{
	if (c->deferred[0]) {
		snprintf(err, errlen, "%s", c->deferred);
		return -1;
	}
	if (!c->url[0]) {
		snprintf(err, errlen, "[hq] url is required to talk to HQ");
		return -1;
	}
	if (strncmp(c->url, "https://", 8) != 0 || c->url[8] == '\0' || c->url[8] == '/') {
		snprintf(err, errlen, "[hq] url must be an https:// URL (https only)");
		return -1;
	}
	if ((c->client_cert[0] != 0) != (c->client_key[0] != 0)) {
		snprintf(err, errlen, "[hq] client_cert and client_key go together");
		return -1;
	}
	if (c->client_cert[0] && access(c->client_cert, R_OK) != 0) {
		snprintf(err, errlen, "[hq] client_cert %s cannot be read: %s", c->client_cert, strerror(errno));
		return -1;
	}
	if (c->client_key[0] && access(c->client_key, R_OK) != 0) {
		snprintf(err, errlen, "[hq] client_key %s cannot be read: %s", c->client_key, strerror(errno));
		return -1;
	}
	if (in_range(c->connect_timeout, 1, 300, "[hq] connect_timeout", err, errlen) ||
	    in_range(c->request_timeout, 1, 600, "[hq] request_timeout", err, errlen) ||
	    in_range(c->batch_size, 1, 500, "[sync] batch_size", err, errlen) ||
	    in_range(c->retry_max, 1, 86400, "[sync] retry_max", err, errlen) ||
	    in_range(c->idle_interval, 1, 86400, "[sync] idle_interval", err, errlen) ||
	    in_range(c->long_poll, 0, 60, "[sync] long_poll", err, errlen) ||
	    in_range(c->eod_timeout, 0, 7 * 86400, "[eod] timeout", err, errlen) ||
	    in_range(c->waiting_warn, 1, 30 * 86400, "[doctor] waiting_warn", err, errlen) ||
	    in_range(c->waiting_fail, 1, 30 * 86400, "[doctor] waiting_fail", err, errlen) ||
	    in_range(c->metrics_interval, 1, 3600, "[metrics] interval", err, errlen) ||
	    in_range(c->keep_days, 0, 36500, "[retention] keep_days", err, errlen))
		return -1;
	if (c->metrics_textfile[0] && (strlen(c->metrics_textfile) < 6 ||
	                               strcmp(c->metrics_textfile + strlen(c->metrics_textfile) - 5, ".prom") != 0)) {
		snprintf(err, errlen, "[metrics] textfile must end in .prom (node_exporter reads only those), or be empty");
		return -1;
	}
	if (c->waiting_fail < c->waiting_warn) {
		snprintf(err, errlen, "[doctor] waiting_fail (%ld) must not be below waiting_warn (%ld)", c->waiting_fail,
		         c->waiting_warn);
		return -1;
	}
	return 0;
}

int cfg_check_hq(const struct cfg *c, char *err, size_t errlen)
{
	struct stat st;
	char msg[256];

	if (cfg_check_values(c, msg, sizeof(msg)) != 0) {
		snprintf(err, errlen, "%s", msg);
		return -1;
	}
	if (access(c->ca_file, R_OK) != 0) {
		snprintf(err, errlen, "[hq] ca_file %s cannot be read: %s", c->ca_file, strerror(errno));
		return -1;
	}
	if (stat(c->token_file, &st) != 0) {
		snprintf(err, errlen, "[hq] token_file %s: %s", c->token_file, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "[hq] token_file %s is not a regular file", c->token_file);
		return -1;
	}
	if (st.st_mode & 0007) {
		snprintf(err, errlen, "[hq] token_file %s is open to others (mode %04o): chmod o-rwx it",
		         c->token_file, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

int cfg_read_token(const struct cfg *c, char *tok, size_t toklen, char *err, size_t errlen)
{
	FILE *f = NULL;
	size_t n;
	int rc = -1;

	f = fopen(c->token_file, "re");
	if (!f) {
		snprintf(err, errlen, "[hq] token_file %s cannot be read: %s", c->token_file, strerror(errno));
		goto cleanup;
	}
	n = fread(tok, 1, toklen - 1, f);
	if (ferror(f) || !feof(f) || n == 0) {
		snprintf(err, errlen, "[hq] token_file %s must hold one token of at most %zu bytes",
		         c->token_file, toklen - 2);
		goto cleanup;
	}
	tok[n] = '\0';
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' || tok[n - 1] == ' '))
		tok[--n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)tok[i] <= 0x20 || (unsigned char)tok[i] >= 0x7f) {
			snprintf(err, errlen, "[hq] token_file %s holds characters a token cannot have",
			         c->token_file);
			goto cleanup;
		}
	}
	if (n == 0) {
		snprintf(err, errlen, "[hq] token_file %s is empty", c->token_file);
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (f)
		fclose(f);
	if (rc != 0)
		explicit_bzero(tok, toklen);
	return rc;
}
