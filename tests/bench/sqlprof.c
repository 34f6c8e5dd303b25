/*
 * sqlprof.so: an LD_PRELOAD shim over libsqlite3 for the benchmarks; it
 * changes nothing a program does, it only watches.
 *
 *   SQLPROF_OUT=FILE  at exit, one line per distinct SQL text: how many
 *                     times it was prepared, the time spent preparing it,
 *                     how many times it ran and the time it ran (SQLite's
 *                     own SQLITE_TRACE_PROFILE clock), and the SQL (tabs and
 *                     newlines made spaces), tab-separated.
 *                     Says where a command's time goes (bench notes).
 *   SQLPROF_LOG=FILE  every statement as it starts, with its bound values
 *                     written in (sqlite3_expanded_sql), one per line and
 *                     ending in ';': the exact SQL a command ran, which the
 *                     sqlite3 command-line tool can replay as a reference
 *                     doing the same database work without the program.
 *
 * It wraps sqlite3_open_v2 (to install the trace callback on every
 * connection) and sqlite3_prepare_v2 (to count and time prepares), and
 * passes both on to the real library.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAXQ 1024

struct q {
	char *sql;
	long prep;
	double prep_ns;
	long runs;
	double run_ns;
};

static struct q qs[MAXQ];
static int nq;
static FILE *logf;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* The entry for sql (mu held); NULL when the table is full. */
static struct q *find(const char *sql)
{
	for (int i = 0; i < nq; i++)
		if (strcmp(qs[i].sql, sql) == 0)
			return &qs[i];
	if (nq == MAXQ)
		return NULL;
	qs[nq].sql = strdup(sql);
	return qs[nq].sql ? &qs[nq++] : NULL;
}

static int trace(unsigned type, void *ctx, void *p, void *x)
{
	(void)ctx;
	pthread_mutex_lock(&mu);
	if (type == SQLITE_TRACE_PROFILE) {
		const char *sql = sqlite3_sql((sqlite3_stmt *)p);
		struct q *q = find(sql ? sql : "?");
		if (q) {
			q->runs++;
			q->run_ns += (double)*(sqlite3_int64 *)x;
		}
	} else if (type == SQLITE_TRACE_STMT && logf && x && ((const char *)x)[0] != '-') {
		/* "-- TRIGGER name" lines are the triggers' own statements: the
		 * replayed statement fires them again by itself. */
		char *sql = sqlite3_expanded_sql((sqlite3_stmt *)p);
		if (sql) {
			for (char *c = sql; *c; c++)
				if (*c == '\n')
					*c = ' ';
			fprintf(logf, "%s;\n", sql);
			sqlite3_free(sql);
		}
	}
	pthread_mutex_unlock(&mu);
	return 0;
}

int sqlite3_open_v2(const char *file, sqlite3 **db, int flags, const char *vfs)
{
	static int (*real)(const char *, sqlite3 **, int, const char *);
	unsigned mask = 0;
	int rc;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "sqlite3_open_v2");
	rc = real(file, db, flags, vfs);
	pthread_mutex_lock(&mu);
	if (getenv("SQLPROF_LOG") && !logf)
		logf = fopen(getenv("SQLPROF_LOG"), "we");
	pthread_mutex_unlock(&mu);
	if (getenv("SQLPROF_OUT"))
		mask |= SQLITE_TRACE_PROFILE;
	if (logf)
		mask |= SQLITE_TRACE_STMT;
	if (*db && mask)
		sqlite3_trace_v2(*db, mask, trace, NULL);
	return rc;
}

int sqlite3_prepare_v2(sqlite3 *db, const char *sql, int n, sqlite3_stmt **s, const char **tail)
{
	static int (*real)(sqlite3 *, const char *, int, sqlite3_stmt **, const char **);
	double t;
	int rc;

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "sqlite3_prepare_v2");
	t = now_ns();
	rc = real(db, sql, n, s, tail);
	t = now_ns() - t;
	if (getenv("SQLPROF_OUT")) {
		pthread_mutex_lock(&mu);
		struct q *q = find(sql);
		if (q) {
			q->prep++;
			q->prep_ns += t;
		}
		pthread_mutex_unlock(&mu);
	}
	return rc;
}

__attribute__((destructor)) static void report(void)
{
	const char *out = getenv("SQLPROF_OUT");
	FILE *f;

	if (logf)
		fclose(logf);
	if (!out || !(f = fopen(out, "we")))
		return;
	fprintf(f, "prepares\tprepare_ms\truns\trun_ms\tsql\n");
	for (int i = 0; i < nq; i++) {
		for (char *c = qs[i].sql; *c; c++)
			if (*c == '\t' || *c == '\n')
				*c = ' ';
		fprintf(f, "%ld\t%.1f\t%ld\t%.1f\t%s\n", qs[i].prep, qs[i].prep_ns / 1e6, qs[i].runs, qs[i].run_ns / 1e6,
		        qs[i].sql);
	}
	fclose(f);
}
