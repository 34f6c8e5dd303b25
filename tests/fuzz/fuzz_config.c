/*
 * fuzz_config: the configuration file (common/config.c: the line scan,
 * libinih's parse and the key table, then the value checks). Each input
 * is written to a file, as cfg_load reads a path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/config.h"
#include "tests/fuzz/fuzz.h"

static char path[512];

/* Removes the input file (atexit). */
static void remove_path(void)
{
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg c;
	char err[512];
	FILE *f;

	if (size > 64 * 1024)
		return 0;
	if (!path[0]) {
		const char *tmp = getenv("TMPDIR");
		snprintf(path, sizeof(path), "%s/posagent-fuzz-config-%d.conf", tmp && *tmp ? tmp : "/tmp", (int)getpid());
		atexit(remove_path);
	}
	f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	if (cfg_load(path, &c, err, sizeof(err)) == 0 && cfg_check_values(&c, err, sizeof(err)) != 0 && !err[0])
		abort(); /* a refusal always says why */
	return 0;
}
