/*
 * restore: a register restored from a backup never hands out a local
 * number it had already given (AGENT.md, "Restored copies").
 *
 * `backup` marks the copy it writes (meta backup_mark: the register and
 * when it was taken). The first time a marked copy is opened as the
 * register's database (store_open, any command), in one write transaction:
 * the local-number counter jumps to 10,000 past the highest of its own
 * value, the highest number of this register any customer here holds
 * (HQ told it of those) and the highest floor an earlier restore beside
 * this database chose (the file .NAME.restores next to it, so restoring
 * the same copy twice still moves on); every pending or rejected customer
 * and address is marked possibly sent (column maybe_sent: an edit of one
 * must travel as an update) and every open batch counts as sent; the mark
 * is removed and meta restored_at/restored_from say what happened. Works
 * offline: nothing here needs HQ.
 */
#ifndef POSAGENT_RESTORE_H
#define POSAGENT_RESTORE_H

#include <sqlite3.h>

#include "common/err.h"
#include "common/store.h"

/* How far the counter jumps past anything the lost database could have
 * given. */
#define RESTORE_JUMP 10000

/* Marks the fresh copy db (written by `backup`) as a backup of register
 * reg taken at taken (RFC 3339). Returns 0 or EX_IOERR with *e. */
PA_MUST_USE int restore_mark(sqlite3 *db, const char *reg, const char *taken, struct pa_err *e);

/* When st is a marked copy opened for the first time, adopts it as
 * described above. Returns 0 (also when st is no copy) or a status. */
PA_MUST_USE int restore_adopt(struct store *st, struct pa_err *e);

#endif
