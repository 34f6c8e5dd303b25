/*
 * The corpus replay (make test): feeds every file of the harness's seed
 * corpus (CORPUS, a directory, or the directories given as arguments) to
 * LLVMFuzzerTestOneInput once, built with the normal compiler. Exit 0
 * when every input ran (a crash ends the process, failing the test).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"

#ifndef CORPUS
#error "build with -DCORPUS=\"tests/fuzz/corpus/NAME\""
#endif

/* Reads path whole into *buf. Returns 0 or -1. */
static int slurp(const char *path, uint8_t **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	long n;
	int rc = -1;

	*buf = NULL;
	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (*buf = malloc((size_t)n + 1)) && fread(*buf, 1, (size_t)n, f) == (size_t)n) {
		*len = (size_t)n;
		rc = 0;
	}
	fclose(f);
	return rc;
}

/* Feeds every regular file of dir. Returns how many, or -1. */
static int replay_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[4096];
	int n = 0;

	if (!d) {
		fprintf(stderr, "replay: cannot open %s\n", dir);
		return -1;
	}
	while ((de = readdir(d))) {
		uint8_t *buf;
		size_t len = 0;
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (slurp(path, &buf, &len) != 0) {
			free(buf);
			continue;
		}
		LLVMFuzzerTestOneInput(buf, len);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	int total = 0, n;

	if (argc < 2) {
		if ((n = replay_dir(CORPUS)) <= 0) {
			fprintf(stderr, "replay: no inputs in %s\n", CORPUS);
			return 1;
		}
		total = n;
	}
	for (int i = 1; i < argc; i++) {
		if ((n = replay_dir(argv[i])) < 0)
			return 1;
		total += n;
	}
	printf("%s: %d inputs replayed, no crash\n", CORPUS, total);
	return 0;
}
