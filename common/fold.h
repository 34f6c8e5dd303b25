/*
 * fold: the search folding of AGENT.md's revision, written once for the
 * agent and the reference HQ. Every Latin letter becomes its base Latin
 * letter in lower case (canonical decomposition without its combining
 * marks: João -> joao, Ñúñez -> nunez), plus ß -> ss, æ -> ae, œ -> oe,
 * ø -> o, ł -> l, đ -> d, þ -> th; combining marks themselves are dropped
 * (text in decomposed form folds the same); ASCII letters are lowered;
 * everything else is kept as it is (SQLite's FTS5 folds the case of the
 * other scripts).
 */
#ifndef POSAGENT_FOLD_H
#define POSAGENT_FOLD_H

#include <stddef.h>

/* Folds the UTF-8 text in into out (n bytes, n >= 1), always terminated,
 * cut only between characters. A byte that is not valid UTF-8 is copied
 * as it is. Returns the length written, or -1 when in did not fit whole. */
int fold_text(const char *in, char *out, size_t n);

/* Like fold_text for the first len bytes of in (no terminator needed). */
int fold_span(const char *in, size_t len, char *out, size_t n);

#endif
