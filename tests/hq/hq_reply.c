/*
 * hq_reply: the replies handlers build. A reply owns its body (malloc'd);
 * the HTTP layer hands it to libmicrohttpd, which frees it.
 */
#include "tests/hq/hq.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char oom_body[] = "{\"error\":{\"code\":\"internal_error\",\"message\":\"out of memory\"}}";

/* set_oom: the last-resort reply when even building a reply failed. */
static void set_oom(struct hq_reply *rp)
{
	reply_clear(rp);
	rp->status = 500;
	rp->body = strdup(oom_body);
	rp->len = rp->body ? strlen(rp->body) : 0;
}

/* reply_json: prints doc (unformatted) as the body of a status reply and
 * deletes doc. Returns 0, or -1 with a 500 reply when out of memory. */
int reply_json(struct hq_reply *rp, unsigned status, cJSON *doc)
{
	char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;

	cJSON_Delete(doc);
	if (!text) {
		set_oom(rp);
		return -1;
	}
	free(rp->body);
	rp->status = status;
	rp->body = text;
	rp->len = strlen(text);
	rp->content_type = NULL;
	return 0;
}

/* reply_error_x: {"error": {"code", "message", ...extra members}}. The
 * members of extra (an object, taken) go beside code and message. */
int reply_error_x(struct hq_reply *rp, unsigned status, const char *code, cJSON *extra,
                  const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	cJSON *doc = cJSON_CreateObject();
	cJSON *err = cJSON_AddObjectToObject(doc, "error");

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!err || !cJSON_AddStringToObject(err, "code", code) ||
	    !cJSON_AddStringToObject(err, "message", msg)) {
		cJSON_Delete(extra);
		cJSON_Delete(doc);
		set_oom(rp);
		return -1;
	}
	while (extra && extra->child) {
		cJSON *m = cJSON_DetachItemViaPointer(extra, extra->child);
		cJSON_AddItemToObject(err, m->string, m);
	}
	cJSON_Delete(extra);
	return reply_json(rp, status, doc);
}

/* reply_raw: a reply with a copy of body[0..len) as it is. */
int reply_raw(struct hq_reply *rp, unsigned status, const char *body, size_t len,
              const char *content_type)
{
	char *copy = malloc(len + 1);

	if (!copy) {
		set_oom(rp);
		return -1;
	}
	if (len)
		memcpy(copy, body, len);
	copy[len] = '\0';
	free(rp->body);
	rp->status = status;
	rp->body = copy;
	rp->len = len;
	rp->content_type = content_type;
	return 0;
}

void reply_clear(struct hq_reply *rp)
{
	free(rp->body);
	memset(rp, 0, sizeof(*rp));
}
