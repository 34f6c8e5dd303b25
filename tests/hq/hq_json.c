/*
 * hq_json: small JSON helpers. json_array_spans finds where each record of
 * a batch is in the raw text, so that common/validate's raw number check
 * (val_json_plain_numbers) can judge every record on its own: cJSON keeps
 * no trace of how a number was written. This is structure only; the
 * rules themselves stay in common/validate.
 */
#include "tests/hq/hq.h"

#include <string.h>

static size_t skip_ws(const char *s, size_t len, size_t i)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* string_end: i is at an opening quote; returns the index just past the
 * closing quote, or len when unterminated. */
static size_t string_end(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return len;
}

/* value_end: i is at the start of a value; returns the index just past
 * it, or len when it runs off the end. */
static size_t value_end(const char *s, size_t len, size_t i)
{
	long depth = 0;

	if (i >= len)
		return len;
	if (s[i] == '"')
		return string_end(s, len, i);
	if (s[i] != '{' && s[i] != '[') {
		while (i < len && !strchr(",]} \t\r\n", s[i]))
			i++;
		return i;
	}
	while (i < len) {
		if (s[i] == '"') {
			i = string_end(s, len, i);
			continue;
		}
		if (s[i] == '{' || s[i] == '[')
			depth++;
		else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return len;
}

/* json_array_spans: see hq.h. A key is compared as written (no escapes). */
long json_array_spans(const char *s, size_t len, const char *member, struct json_span *spans,
                      size_t max)
{
	size_t i = skip_ws(s, len, 0), mlen = strlen(member);

	if (i >= len || s[i] != '{')
		return -1;
	i++;
	for (;;) {
		size_t k, kend;

		i = skip_ws(s, len, i);
		if (i >= len || s[i] != '"')
			return -1;
		k = i + 1;
		kend = string_end(s, len, i);
		i = skip_ws(s, len, kend);
		if (i >= len || s[i] != ':')
			return -1;
		i = skip_ws(s, len, i + 1);
		if (kend - k - 1 == mlen && memcmp(s + k, member, mlen) == 0)
			break;
		i = skip_ws(s, len, value_end(s, len, i));
		if (i >= len || s[i] != ',')
			return -1;
		i++;
	}
	if (i >= len || s[i] != '[')
		return -1;
	i = skip_ws(s, len, i + 1);
	if (i < len && s[i] == ']')
		return 0;
	for (size_t n = 0;; n++) {
		size_t end = value_end(s, len, i);

		if (n >= max || end >= len)
			return -1;
		spans[n].off = i;
		spans[n].len = end - i;
		i = skip_ws(s, len, end);
		if (i < len && s[i] == ']')
			return (long)n + 1;
		if (i >= len || s[i] != ',')
			return -1;
		i = skip_ws(s, len, i + 1);
	}
}

const char *json_str(const cJSON *obj, const char *name)
{
	const cJSON *m = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, name) : NULL;

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

int json_add_str(cJSON *obj, const char *name, const char *s)
{
	cJSON *v = s ? cJSON_CreateString(s) : cJSON_CreateNull();

	if (!v || !cJSON_AddItemToObject(obj, name, v)) {
		cJSON_Delete(v);
		return -1;
	}
	return 0;
}
