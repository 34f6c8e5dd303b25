#include "common/show.h"

#include <stdio.h>
#include <string.h>

const char *show_str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : "";
}

const char *show_state_label(const char *state, const char *account)
{
	if (!state)
		return "?";
	if (strcmp(state, "synced") == 0)
		return account ? account : "synced";
	if (strcmp(state, "rejected") == 0)
		return "Needs attention";
	return "Pending sync";
}

const char *show_customer_label(const cJSON *cu)
{
	const char *acc = show_str(cu, "account");

	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(cu, "update_error")))
		return "Needs attention";
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cu, "pending_update")) &&
	    strcmp(show_str(cu, "state"), "rejected") != 0)
		return "Changes pending sync";
	return show_state_label(show_str(cu, "state"), *acc ? acc : NULL);
}

void show_customer_name(const cJSON *cu, char *out, size_t n)
{
	const char *first = show_str(cu, "first_name"), *last = show_str(cu, "last_name");

	if (strcmp(show_str(cu, "kind"), "organization") == 0)
		snprintf(out, n, "%s", show_str(cu, "organization_name"));
	else
		snprintf(out, n, "%s%s%s", first, *first && *last ? " " : "", last);
}

size_t show_customer_line(const cJSON *cu, char *out, size_t n)
{
	char name[512];
	int w;

	if (n < 2) {
		if (n)
			out[0] = '\0';
		return 0;
	}
	show_customer_name(cu, name, sizeof(name));
	w = snprintf(out, n, "%-12s %-20s %-28s %-28s %s\n",
	             *show_str(cu, "local_number") ? show_str(cu, "local_number") : "-", show_customer_label(cu), name,
	             show_str(cu, "email"), show_str(cu, "phone"));
	if (w < 0)
		w = 0;
	if ((size_t)w >= n) { /* cut: still one line */
		out[n - 2] = '\n';
		out[n - 1] = '\0';
		return n - 1;
	}
	return (size_t)w;
}
