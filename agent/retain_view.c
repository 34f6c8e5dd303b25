#include "agent/retain_view.h"

#include <stdio.h>
#include <string.h>

int retain_view_read(struct store *st, long keep_days, time_t now, struct retain_view *v, struct pa_err *e)
{
	int rc;

	memset(v, 0, sizeof(*v));
	v->keep_days = keep_days;
	if ((rc = ret_db_size(st, &v->bytes, &v->free_bytes, &v->auto_vacuum, e)))
		return rc;
	return ret_plan(st, keep_days, now, &v->plan, e);
}

void retain_view_json(cJSON *doc, const struct retain_view *v)
{
	cJSON *o = cJSON_AddObjectToObject(doc, "database"), *r;

	cJSON_AddNumberToObject(o, "bytes", (double)v->bytes);
	cJSON_AddNumberToObject(o, "free_bytes", (double)v->free_bytes);
	r = cJSON_AddObjectToObject(o, "retention");
	cJSON_AddNumberToObject(r, "keep_days", (double)v->keep_days);
	if (v->plan.cutoff[0])
		cJSON_AddStringToObject(r, "cutoff", v->plan.cutoff);
	else
		cJSON_AddNullToObject(r, "cutoff");
	cJSON_AddNumberToObject(r, "days", (double)v->plan.days);
	cJSON_AddNumberToObject(r, "transactions", (double)v->plan.txns);
	cJSON_AddNumberToObject(r, "bytes", (double)v->plan.bytes);
}

/* "12.3 MB", "512 kB", "800 B". */
static void human(int64_t n, char *out, size_t outlen)
{
	if (n >= 1000 * 1000)
		snprintf(out, outlen, "%.1f MB", (double)n / 1e6);
	else if (n >= 1000)
		snprintf(out, outlen, "%.0f kB", (double)n / 1e3);
	else
		snprintf(out, outlen, "%lld B", (long long)n);
}

void retain_view_line(const struct retain_view *v, char *out, size_t outlen)
{
	char size[32], fr[32], gain[32];

	human(v->bytes, size, sizeof(size));
	human(v->free_bytes, fr, sizeof(fr));
	human(v->plan.bytes, gain, sizeof(gain));
	if (v->keep_days <= 0)
		snprintf(out, outlen, "%s (%s free); retention off (keep_days = 0 keeps everything)", size, fr);
	else if (v->plan.days == 0)
		snprintf(out, outlen, "%s (%s free); retention keeps %ld days: nothing to free before %s", size, fr,
		         v->keep_days, v->plan.cutoff);
	else
		snprintf(out, outlen,
		         "%s (%s free); retention keeps %ld days: would free about %s (%lld transactions of %lld posted "
		         "days before %s)",
		         size, fr, v->keep_days, gain, (long long)v->plan.txns, (long long)v->plan.days, v->plan.cutoff);
}
