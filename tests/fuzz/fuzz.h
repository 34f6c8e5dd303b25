/*
 * tests/fuzz: libFuzzer harnesses, one per parser of untrusted input (see
 * README.md here). Each fuzz_NAME.c defines LLVMFuzzerTestOneInput; built
 * with clang -fsanitize=fuzzer for `make fuzz`, or with the normal
 * compiler and replay.c's main() for `make test`, which feeds it every
 * file of tests/fuzz/corpus/NAME once (the regression).
 *
 * fz_store gives a harness a real posagent database: a fresh file under
 * $TMPDIR (removed at exit), the schema of store_open, synchronous=OFF
 * (speed only: nothing here tests durability).
 */
#ifndef POSAGENT_FUZZ_H
#define POSAGENT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "common/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of data (malloc'd; aborts when out of memory). */
char *fz_text(const uint8_t *data, size_t size);

/* Opens a new database for this process (identity S0001/R01/EUR), or
 * aborts. *path (may be NULL) gets its file name. */
struct store *fz_store(const char *name, char *path, size_t pathlen);

#endif
