/*
 * hq_stats: how many requests HQ received, by "METHOD path outcome" where
 * outcome is the status sent, or "reset" / "dropped" for an injected
 * fault that sent none. Kept in memory (a restart starts again at zero);
 * /_admin/ requests are not counted.
 */
#include "tests/hq/hq.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct counter {
	char *key;
	long n;
};

static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
static struct counter *counters; /* under stats_mu */
static size_t ncounters, cap;

void stats_count(const char *method, const char *path, const char *outcome)
{
	char key[600];
	size_t i;

	snprintf(key, sizeof(key), "%s %s %s", method, path, outcome);
	pthread_mutex_lock(&stats_mu);
	for (i = 0; i < ncounters && strcmp(counters[i].key, key); i++)
		;
	if (i < ncounters) {
		counters[i].n++;
	} else if (ncounters < 10000) {
		if (ncounters == cap) {
			size_t ncap = cap ? cap * 2 : 32;
			struct counter *c = realloc(counters, ncap * sizeof(*c));
			if (!c)
				goto cleanup;
			counters = c;
			cap = ncap;
		}
		counters[ncounters].key = strdup(key);
		if (counters[ncounters].key)
			counters[ncounters++].n = 1;
	}
cleanup:
	pthread_mutex_unlock(&stats_mu);
}

cJSON *stats_json(void)
{
	cJSON *o = cJSON_CreateObject();

	pthread_mutex_lock(&stats_mu);
	for (size_t i = 0; i < ncounters; i++)
		cJSON_AddNumberToObject(o, counters[i].key, (double)counters[i].n);
	pthread_mutex_unlock(&stats_mu);
	return o;
}

/* stats_free: drops every counter; returns how many there were. */
int stats_free(void)
{
	int n;

	pthread_mutex_lock(&stats_mu);
	n = (int)ncounters;
	for (size_t i = 0; i < ncounters; i++)
		free(counters[i].key);
	free(counters);
	counters = NULL;
	ncounters = cap = 0;
	pthread_mutex_unlock(&stats_mu);
	return n;
}
