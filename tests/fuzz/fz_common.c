/* Helpers of the harnesses (fuzz.h). */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

static char made[4][512];
static int n_made;

/* Removes the databases fz_store made (atexit). */
static void remove_made(void)
{
	static const char *const sfx[] = {"", "-wal", "-shm", "-sync.lock"};
	char p[2100];

	for (int i = 0; i < n_made; i++)
		for (size_t j = 0; j < sizeof(sfx) / sizeof(sfx[0]); j++) {
			snprintf(p, sizeof(p), "%s%s", made[i], sfx[j]);
			unlink(p);
		}
}

char *fz_text(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

struct store *fz_store(const char *name, char *path, size_t pathlen)
{
	const char *tmp = getenv("TMPDIR");
	struct store *st = NULL;
	struct pa_err e;

	log_set_verbose(0);
	if (n_made >= 4)
		abort();
	snprintf(made[n_made], sizeof(made[0]), "%s/posagent-fuzz-%s-%d.db", tmp && *tmp ? tmp : "/tmp", name,
	         (int)getpid());
	remove_made();
	if (store_open(made[n_made], true, &st, &e) != 0) {
		fprintf(stderr, "fuzz: cannot make %s: %s\n", made[n_made], e.message);
		abort();
	}
	if (n_made++ == 0)
		atexit(remove_made);
	store_identity(st, "S0001", "R01", "EUR");
	sqlite3_exec(st->db, "PRAGMA synchronous=OFF", NULL, NULL, NULL);
	if (path)
		snprintf(path, pathlen, "%s", made[n_made - 1]);
	return st;
}
