/*
 * err: how a failure travels from common/ to the command that prints it.
 * Functions that can fail take a struct pa_err *, fill it with the exit
 * status (sysexits.h), a snake_case code, the field at fault and a one-line
 * message, and return the status. Nothing in common/ prints.
 */
#ifndef POSAGENT_ERR_H
#define POSAGENT_ERR_H

#include <sysexits.h>

#define EX_INTERRUPTED 130

struct pa_err {
	int status;        /* exit status: EX_DATAERR, EX_IOERR, ... */
	char code[40];     /* snake_case: "invalid_email", "unknown_customer", ... */
	char field[64];    /* the field at fault, "" when none */
	char message[512]; /* one line for a person */
};

/* On every function that returns a status (0 or an exit status, or -1):
 * the caller must look at it (gcc warns even through a (void) cast). */
#define PA_MUST_USE __attribute__((warn_unused_result))

/* Fills *e (when not NULL) and returns status. */
int err_set(struct pa_err *e, int status, const char *code, const char *field,
            const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif
