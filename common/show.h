/*
 * show: how a customer is shown to a person on one line (`customer list`
 * and `customer search`) and the labels of states, in one place, so that
 * the command printing it and the service answering a search for it
 * (common/lookup) print the same bytes.
 */
#ifndef POSAGENT_SHOW_H
#define POSAGENT_SHOW_H

#include <cJSON.h>
#include <stddef.h>

/* How a cashier sees a record's state: "Pending sync", the account (or
 * "synced" without one), or "Needs attention"; "?" for NULL. */
const char *show_state_label(const char *state, const char *account);

/* The label of a customer document: its state's, unless an edit of it
 * travels ("Changes pending sync") or HQ refused one ("Needs attention"). */
const char *show_customer_label(const cJSON *cu);

/* The customer's name for a person, "first last" or the organization's,
 * into out (n bytes). */
void show_customer_name(const cJSON *cu, char *out, size_t n);

/* The customer's line of list and search into out (n bytes, cut to fit),
 * newline included: local number, label, name, email, phone. Returns its
 * length. */
size_t show_customer_line(const cJSON *cu, char *out, size_t n);

/* Member name of o when it is a string, else "" (for printing). */
const char *show_str(const cJSON *o, const char *name);

#endif
