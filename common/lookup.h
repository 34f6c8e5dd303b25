/*
 * lookup: `customer search` answered by the running service, over a unix
 * socket beside the database (DATABASE-lookup, SOCK_STREAM, mode 0660 and
 * the database's group: common/usock).
 *
 * Why: a search from the CLI is a new process that opens the database,
 * parses its schema (72 objects) and reads the customers it shows through
 * a cold page cache; on a register that is most of the time a cashier
 * waits. The service already holds the database open, so its lookup
 * thread answers with a warm connection, and the command only starts,
 * asks and prints.
 *
 * It is only ever a shortcut: a search reads and changes nothing, so
 * whenever the service does not answer (not running, a stale socket, an
 * older or newer posagent, too slow, a reply cut short), the command
 * searches the database itself, with the same result. The answer is read
 * in one read transaction of the service's own connection, which sees
 * every commit made before the question was asked.
 *
 * The conversation, one per connection:
 *   question  "posagent-lookup 1 VERSION search LIMIT FORMAT\n" (FORMAT is
 *             text or json) then the search text (no newline, at most
 *             LOOKUP_MAX_TEXT bytes), then the asker shuts its side down;
 *   answer    '+' as soon as the question came (the service is alive: a
 *             stopped one is told from a slow search), then
 *             "ok COUNT BYTES\n" and the BYTES bytes the command prints
 *             on stdout for those COUNT customers (the lines of
 *             common/show, or the JSON array as cJSON_Print writes it),
 *             or "no\n": not answered here (any error, such as a text
 *             search refuses, which the command then reports itself);
 *             then the service closes. An answer of another length than
 *             BYTES (cut short) is no answer.
 * The answer is the printed output, not the documents, so that the command
 * has nothing to parse: reading 100 customers back into cJSON cost it
 * about 0.75 ms and 59 first-touched pages (measured).
 * The service never logs the text nor the customers.
 */
#ifndef POSAGENT_LOOKUP_H
#define POSAGENT_LOOKUP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/config.h"
#include "common/store.h"

#define LOOKUP_MAX_TEXT 1024            /* bytes of search text asked; longer: searched locally */
#define LOOKUP_MAX_QUESTION 2048        /* bytes of a question the service reads */
#define LOOKUP_MAX_ANSWER (64u << 20)   /* bytes of an answer the command reads */
#define LOOKUP_WAIT_MS 1000             /* the command's wait for the service's '+' */
#define LOOKUP_TOTAL_MS 5000            /* and for the whole conversation */
#define LOOKUP_SERVE_MS 500             /* the service's wait for a question, and for each write to be taken */

/* Parses a question (len bytes of buf, not NUL-terminated) asked of a
 * service of version: the limit into *limit (1 to 10000), the format into
 * *json and the text into text (n bytes, NUL-terminated). Returns 0, or -1
 * when it is not such a question (another version or protocol, a bad
 * limit or format, a text empty, too long or with a NUL). */
int lookup_parse_question(const char *buf, size_t len, const char *version, int *limit, bool *json, char *text,
                          size_t n);

/* Asks the service of database db_path for the customers matching text
 * (at most limit), printed as text or (json) JSON, waiting at most
 * LOOKUP_WAIT_MS for the service's '+' and LOOKUP_TOTAL_MS in all.
 * Returns 0 with the output in *out (the caller's to free; *len bytes)
 * and the number of customers in *count, or -1 when there is no answer:
 * the caller searches itself. Never fails otherwise. */
int lookup_search(const char *db_path, const char *text, int limit, bool json, char **out, size_t *len, int *count);

/* The answer to question (len bytes, as it came) from st:
 * "ok COUNT BYTES\n" and the output, or "no\n" (not such a question, or
 * the search failed).
 * Returns it (the caller's to free; *n bytes), or NULL when out of memory. */
char *lookup_answer(struct store *st, const char *question, size_t len, size_t *n);

/* The service's lookup thread: opens its own connection to
 * cfg->database, binds DATABASE-lookup and answers questions, one at a
 * time, until *stop (util_wait_fd: at once with its descriptor). A failure to start
 * is logged and ends it: commands then search by themselves. */
void lookup_loop(const struct cfg *cfg, volatile sig_atomic_t *stop);

#endif
