#include "agent/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "common/util.h"
#include "common/wake.h"

int cli_config(struct cli *c, struct pa_err *e)
{
	char msg[512];

	if (c->cfg_loaded)
		return 0;
	if (cfg_load(c->cfg_path, &c->cfg, msg, sizeof(msg)) != 0)
		return err_set(e, EX_CONFIG, "config", NULL, "%s", msg);
	c->cfg_loaded = true;
	return 0;
}

int cli_open(struct cli *c, struct store **st, struct pa_err *e)
{
	int rc;

	*st = NULL;
	if ((rc = cli_config(c, e)))
		return rc;
	if ((rc = store_open(c->cfg.database, false, st, e)))
		return rc;
	store_identity(*st, c->cfg.store, c->cfg.reg, c->cfg.currency);
	/* Every commit of a command tells a running service at once. */
	wake_on_commit((*st)->db, (*st)->path);
	return 0;
}

void cli_print_json(const cJSON *doc)
{
	char *s = cJSON_Print(doc);

	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
}

/* Copies msg with control characters shown as \n, \t or \xNN, so that a
 * message echoing input stays one line. */
static void one_line(const char *msg, char *out, size_t n)
{
	size_t j = 0;

	for (const unsigned char *p = (const unsigned char *)msg; *p && j + 5 < n; p++) {
		if (*p >= 0x20 && *p != 0x7f) {
			out[j++] = (char)*p;
		} else {
			int w = snprintf(out + j, n - j, *p == '\n' ? "\\n" : *p == '\t' ? "\\t" : "\\x%02x", *p);
			j += w > 0 ? (size_t)w : 0;
		}
	}
	out[j < n ? j : n - 1] = '\0';
}

int cli_fail(struct cli *c, const struct pa_err *e)
{
	char msg[sizeof(e->message) * 2];

	one_line(e->message, msg, sizeof(msg));
	if (c->json) {
		cJSON *doc = cJSON_CreateObject(), *err = cJSON_AddObjectToObject(doc, "error");
		cJSON_AddStringToObject(err, "code", e->code[0] ? e->code : "error");
		cJSON_AddStringToObject(err, "message", msg);
		if (e->field[0])
			cJSON_AddStringToObject(err, "field", e->field);
		else
			cJSON_AddNullToObject(err, "field");
		cli_print_json(doc);
		cJSON_Delete(doc);
	}
	if (log_to_journal()) /* the journal adds the tag: "<3>message" */
		fprintf(stderr, "%s%s\n", log_prefix(LOG_PRIO_ERR), msg);
	else
		fprintf(stderr, "posagent: %s\n", msg);
	return e->status;
}

int cli_usage(struct cli *c, const char *synopsis, const char *fmt, ...)
{
	struct pa_err e;
	va_list ap;

	memset(&e, 0, sizeof(e));
	e.status = EX_USAGE;
	util_copy(e.code, sizeof(e.code), "usage");
	va_start(ap, fmt);
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	va_end(ap);
	cli_fail(c, &e);
	fprintf(stderr, "usage: %s\n", synopsis);
	return EX_USAGE;
}

int cli_read_file(const char *path, size_t max, char **out, size_t *len, struct pa_err *e)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t n = 0, cap = 65536;
	int rc = 0;
	struct stat sb;

	*out = NULL;
	*len = 0;
	if (strcmp(path, "-") == 0) {
		f = stdin;
	} else {
		f = fopen(path, "re");
		if (!f) {
			rc = err_set(e, EX_DATAERR, "cannot_read", "file", "cannot read %s: %s", path, strerror(errno));
			goto cleanup;
		}
		if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
			rc = err_set(e, EX_DATAERR, "cannot_read", "file", "%s is a directory", path);
			goto cleanup;
		}
	}
	buf = malloc(cap + 1);
	if (!buf) {
		rc = err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory");
		goto cleanup;
	}
	for (;;) {
		size_t got;
		if (n == cap) {
			char *nb;
			if (cap > max) {
				rc = err_set(e, EX_DATAERR, "too_large", "file", "%s is larger than %zu bytes",
				             strcmp(path, "-") ? path : "input", max);
				goto cleanup;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				rc = err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory");
				goto cleanup;
			}
			buf = nb;
		}
		got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = err_set(e, EX_DATAERR, "cannot_read", "file", "cannot read %s", path);
		goto cleanup;
	}
	if (n > max) {
		rc = err_set(e, EX_DATAERR, "too_large", "file", "%s is larger than %zu bytes",
		             strcmp(path, "-") ? path : "input", max);
		goto cleanup;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
cleanup:
	if (f && f != stdin)
		fclose(f);
	free(buf);
	return rc;
}

const char *cli_s(long long n)
{
	return n == 1 ? "" : "s";
}

int cli_hq(struct cli *c, volatile sig_atomic_t *stop, struct hq_client **hq, struct pa_err *e)
{
	char msg[512];

	*hq = NULL;
	if (cfg_check_hq(&c->cfg, msg, sizeof(msg)) != 0)
		return err_set(e, EX_CONFIG, "config", NULL, "config %s: %s", c->cfg.path, msg);
	if (hq_client_new(&c->cfg, stop, hq, msg, sizeof(msg)) != 0)
		return err_set(e, EX_CONFIG, "config", NULL, "%s", msg);
	return 0;
}
