/*
 * hq_fault: faults queued by tests (admin "fault") for the next requests
 * whose path starts with a given prefix (and, optionally, whose method is
 * a given one). Each fault applies to its next `count` matching requests;
 * when several match, the oldest queued applies first.
 */
#include "tests/hq/hq.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct queued {
	char prefix[256];
	char method[16]; /* "" for any */
	long count;
	struct fault f;
	struct queued *next;
};

static pthread_mutex_t fault_mu = PTHREAD_MUTEX_INITIALIZER;
static struct queued *head; /* under fault_mu, oldest first */

static const struct {
	const char *name;
	enum fault_kind kind;
} kinds[] = {
	{"status", FAULT_STATUS},   {"delay", FAULT_DELAY},
	{"reset", FAULT_RESET},     {"garbage", FAULT_GARBAGE},
	{"drop_after_commit", FAULT_DROP_AFTER_COMMIT}, {"reject", FAULT_REJECT},
};

static const char *const reject_types[] = {"customer", "address", "transaction",
                                           "customer_update", "address_update"};
static const char *const reject_codes[] = {"invalid_email", "invalid_address",
                                           "invalid_transaction", "invalid_record",
                                           "invalid_record"};

static const char *kind_name(enum fault_kind k)
{
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		if (kinds[i].kind == k)
			return kinds[i].name;
	return "none";
}

/* int_member: doc's member name as an integer in [lo, hi] (def when
 * absent). Returns 0, or -1 when present and not such an integer. */
static int int_member(const cJSON *doc, const char *name, long lo, long hi, long def, long *out)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, name);
	long long v;

	*out = def;
	if (!m || cJSON_IsNull(m))
		return 0;
	if (!val_integer(m, &v) || v < lo || v > hi)
		return -1;
	*out = (long)v;
	return 0;
}

/* retry_after_ok: "N" (delta seconds) or "date:+N" / "date:-N". */
static bool retry_after_ok(const char *s)
{
	if (!strncmp(s, "date:", 5)) {
		s += 5;
		if (*s == '+' || *s == '-')
			s++;
	}
	return *s && strlen(s) <= 9 && strspn(s, "0123456789") == strlen(s);
}

/* reject_type: the index of type in reject_types, -1 when none. */
static int reject_type(const char *type)
{
	for (size_t i = 0; type && i < sizeof(reject_types) / sizeof(*reject_types); i++)
		if (!strcmp(type, reject_types[i]))
			return (int)i;
	return -1;
}

/* reject_ok: a reject fault's members: "record" a record type, optional
 * "id" and "code" (snake_case) strings. Returns 0 or -1 with err. */
static int reject_ok(const cJSON *doc, char *err, size_t errlen)
{
	const char *id = json_str(doc, "id"), *code = json_str(doc, "code");

	if (reject_type(json_str(doc, "record")) < 0) {
		snprintf(err, errlen, "record: customer, address, transaction, customer_update or"
		                      " address_update");
		return -1;
	}
	if ((id && strlen(id) >= 80) || (code && (!*code || strlen(code) >= 40 ||
	                                          strspn(code, "abcdefghijklmnopqrstuvwxyz_") !=
	                                                  strlen(code)))) {
		snprintf(err, errlen, "id: at most 79 characters; code: snake_case");
		return -1;
	}
	return 0;
}

/* reject_fill: copies a checked reject fault's members into *f. */
static void reject_fill(const cJSON *doc, struct fault *f)
{
	const char *type = json_str(doc, "record"), *code = json_str(doc, "code");

	util_copy(f->record, sizeof(f->record), type);
	util_copy(f->id, sizeof(f->id), json_str(doc, "id") ? json_str(doc, "id") : "");
	util_copy(f->code, sizeof(f->code), code ? code : reject_codes[reject_type(type)]);
}

/* fault_add: validates doc and queues its fault. */
int fault_add(const cJSON *doc, char *err, size_t errlen)
{
	const char *path = json_str(doc, "path"), *method = json_str(doc, "method");
	const char *kind = json_str(doc, "kind"), *body = json_str(doc, "body");
	const cJSON *ra = cJSON_GetObjectItemCaseSensitive(doc, "retry_after");
	struct queued *q = NULL, **tail;
	long status, delay_ms, count;
	size_t i;

	if (kind && !strcmp(kind, "reject") && !path)
		path = "/v1/";
	if (!path || path[0] != '/' || strlen(path) >= sizeof(q->prefix)) {
		snprintf(err, errlen, "path: a path prefix starting with / is required");
		return -1;
	}
	if (method && (strlen(method) >= sizeof(q->method) || !*method)) {
		snprintf(err, errlen, "method: GET, POST, ...");
		return -1;
	}
	for (i = 0; kind && i < sizeof(kinds) / sizeof(*kinds) && strcmp(kinds[i].name, kind); i++)
		;
	if (!kind || i == sizeof(kinds) / sizeof(*kinds)) {
		snprintf(err, errlen, "kind: status, delay, reset, garbage, drop_after_commit or reject");
		return -1;
	}
	if (kinds[i].kind == FAULT_REJECT && reject_ok(doc, err, errlen) < 0)
		return -1;
	if (int_member(doc, "status", 100, 599, 503, &status) < 0 ||
	    int_member(doc, "delay_ms", 0, 600000, 1000, &delay_ms) < 0 ||
	    int_member(doc, "count", 1, 1000000, 1, &count) < 0) {
		snprintf(err, errlen, "status 100-599, delay_ms 0-600000, count 1-1000000");
		return -1;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (ra && !cJSON_IsNull(ra)) {
		long long v;
		if (val_integer(ra, &v) && v >= 0)
			snprintf(q->f.retry_after, sizeof(q->f.retry_after), "%lld", v);
		else if (cJSON_IsString(ra) && retry_after_ok(ra->valuestring))
			util_copy(q->f.retry_after, sizeof(q->f.retry_after), ra->valuestring);
		else {
			snprintf(err, errlen, "retry_after: \"N\" seconds or \"date:+N\"");
			goto fail;
		}
	}
	util_copy(q->prefix, sizeof(q->prefix), path);
	util_copy(q->method, sizeof(q->method), method ? method : "");
	q->count = count;
	q->f.kind = kinds[i].kind;
	q->f.status = (unsigned)status;
	q->f.delay_ms = (unsigned)delay_ms;
	if (q->f.kind == FAULT_REJECT)
		reject_fill(doc, &q->f);
	q->f.body = body ? strdup(body) : NULL;
	if (body && !q->f.body) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	pthread_mutex_lock(&fault_mu);
	for (tail = &head; *tail; tail = &(*tail)->next)
		;
	*tail = q;
	pthread_mutex_unlock(&fault_mu);
	return 0;
fail:
	free(q);
	return -1;
}

/* fault_take: the oldest fault matching (method, path), one use of it. */
void fault_take(const char *method, const char *path, struct fault *out)
{
	struct queued **p, *q;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&fault_mu);
	for (p = &head; (q = *p); p = &q->next) {
		if (q->f.kind == FAULT_REJECT || strncmp(path, q->prefix, strlen(q->prefix)) != 0 ||
		    (q->method[0] && strcmp(q->method, method) != 0))
			continue;
		*out = q->f;
		out->body = q->f.body ? strdup(q->f.body) : NULL;
		if (--q->count == 0) {
			*p = q->next;
			free(q->f.body);
			free(q);
		}
		break;
	}
	pthread_mutex_unlock(&fault_mu);
}

/* fault_reject: see hq.h. */
bool fault_reject(const char *path, const char *type, const char *id, struct val_err *err)
{
	struct queued **p, *q;
	bool hit = false;

	pthread_mutex_lock(&fault_mu);
	for (p = &head; (q = *p); p = &q->next) {
		if (q->f.kind != FAULT_REJECT || strncmp(path, q->prefix, strlen(q->prefix)) != 0 ||
		    strcmp(q->f.record, type) != 0 || (q->f.id[0] && strcmp(q->f.id, id) != 0))
			continue;
		hit = true;
		util_copy(err->code, sizeof(err->code), q->f.code);
		util_copy(err->field, sizeof(err->field), "");
		snprintf(err->message, sizeof(err->message), "%s rejected by HQ (an admin reject fault)",
		         type);
		if (--q->count == 0) {
			*p = q->next;
			free(q->f.body);
			free(q);
		}
		break;
	}
	pthread_mutex_unlock(&fault_mu);
	return hit;
}

void fault_free(struct fault *f)
{
	free(f->body);
	f->body = NULL;
}

int fault_clear(void)
{
	struct queued *q;
	int n = 0;

	pthread_mutex_lock(&fault_mu);
	while ((q = head)) {
		head = q->next;
		free(q->f.body);
		free(q);
		n++;
	}
	pthread_mutex_unlock(&fault_mu);
	return n;
}

/* fault_list: [{"path", "method", "kind", "count", ...}] still queued. */
cJSON *fault_list(void)
{
	cJSON *arr = cJSON_CreateArray();

	pthread_mutex_lock(&fault_mu);
	for (struct queued *q = head; q; q = q->next) {
		cJSON *o = cJSON_CreateObject();
		json_add_str(o, "path", q->prefix);
		json_add_str(o, "method", q->method[0] ? q->method : NULL);
		json_add_str(o, "kind", kind_name(q->f.kind));
		cJSON_AddNumberToObject(o, "count", (double)q->count);
		if (q->f.kind == FAULT_STATUS) {
			cJSON_AddNumberToObject(o, "status", q->f.status);
			json_add_str(o, "retry_after", q->f.retry_after[0] ? q->f.retry_after : NULL);
		}
		if (q->f.kind == FAULT_DELAY)
			cJSON_AddNumberToObject(o, "delay_ms", q->f.delay_ms);
		if (q->f.kind == FAULT_REJECT) {
			json_add_str(o, "record", q->f.record);
			json_add_str(o, "id", q->f.id[0] ? q->f.id : NULL);
			json_add_str(o, "code", q->f.code);
		}
		cJSON_AddItemToArray(arr, o);
	}
	pthread_mutex_unlock(&fault_mu);
	return arr;
}
