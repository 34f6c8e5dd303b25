/*
 * test_ioerr: every write path under injected I/O errors.
 *
 * A test VFS (faultvfs, below) wraps SQLite's default one, as SQLite's own
 * src/test_vfs.c does, and is registered as the default, so store_open
 * uses it unchanged. Armed, it fails the Nth read, write, sync or lock
 * (xLock and xShmLock) of any file with SQLITE_IOERR (or SQLITE_FULL for a
 * write), once. For each write path (create, edit, address, txn record,
 * batch freeze, result apply, change apply, statement freeze), each kind
 * of fault and every N from 1 until the operation passes without meeting
 * its fault, on a fresh copy of the path's starting database:
 *   - the call returns 0, or EX_IOERR (74) with a message;
 *   - reopened without faults, the database passes integrity_check;
 *   - every record acknowledged before is intact (the starting rows);
 *   - nothing half-written is visible: the database is exactly as before
 *     the call or exactly as after a clean run of it (a digest of every
 *     table that ignores random ids and clock values).
 * The sweep prints how many faults it injected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/customer.h"
#include "common/download.h"
#include "common/eod.h"
#include "common/log.h"
#include "common/record.h"
#include "common/store.h"
#include "common/txn.h"
#include "common/util.h"

/* ---- faultvfs ------------------------------------------------------------ */

enum op { OP_READ, OP_WRITE, OP_SYNC, OP_LOCK, N_OPS };
static const char *const op_name[N_OPS] = {"read", "write", "sync", "lock"};

static struct {
	sqlite3_vfs *real;
	int armed;           /* count and fail only while armed */
	enum op kind;        /* the kind of operation to fail */
	int n;               /* fail the nth one of that kind */
	int err;             /* SQLITE_IOERR or SQLITE_FULL */
	int seen[N_OPS];     /* operations since arming */
	int fired;           /* the fault was injected */
} fv;

struct ffile {
	sqlite3_file base;   /* our methods */
	sqlite3_file *real;  /* the default VFS's file, allocated after us */
};

/* Counts one operation of kind k; returns the error to inject, or 0. */
static int fault(enum op k)
{
	if (!fv.armed)
		return 0;
	if (++fv.seen[k] == fv.n && k == fv.kind && !fv.fired) {
		fv.fired = 1;
		if (fv.err == SQLITE_FULL)
			return SQLITE_FULL;
		return k == OP_READ ? SQLITE_IOERR_READ : k == OP_WRITE ? SQLITE_IOERR_WRITE
		       : k == OP_SYNC ? SQLITE_IOERR_FSYNC : SQLITE_IOERR_LOCK;
	}
	return 0;
}

#define REAL(f) (((struct ffile *)(f))->real)

static int f_close(sqlite3_file *f)
{
	int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
	return rc;
}

static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	int rc = fault(OP_READ);
	return rc ? rc : REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	int rc = fault(OP_WRITE);
	return rc ? rc : REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}

static int f_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int f_sync(sqlite3_file *f, int flags)
{
	int rc = fault(OP_SYNC);
	return rc ? (rc == SQLITE_FULL ? SQLITE_IOERR_FSYNC : rc) : REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int f_size(sqlite3_file *f, sqlite3_int64 *size)
{
	return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int f_lock(sqlite3_file *f, int lock)
{
	int rc = fault(OP_LOCK);
	return rc ? SQLITE_IOERR_LOCK : REAL(f)->pMethods->xLock(REAL(f), lock);
}

static int f_unlock(sqlite3_file *f, int lock)
{
	return REAL(f)->pMethods->xUnlock(REAL(f), lock);
}

static int f_check(sqlite3_file *f, int *out)
{
	return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int f_fcntl(sqlite3_file *f, int op, void *arg)
{
	return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int f_sector(sqlite3_file *f)
{
	return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int f_caps(sqlite3_file *f)
{
	return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int f_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **p)
{
	return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, p);
}

static int f_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	/* an unlock never fails: SQLite does not expect it to */
	int rc = (flags & SQLITE_SHM_UNLOCK) ? 0 : fault(OP_LOCK);
	return rc ? SQLITE_IOERR_SHMLOCK : REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}

static void f_shm_barrier(sqlite3_file *f)
{
	REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int f_shm_unmap(sqlite3_file *f, int del)
{
	return REAL(f)->pMethods->xShmUnmap(REAL(f), del);
}

static const sqlite3_io_methods fio = {
	2, f_close, f_read, f_write, f_truncate, f_sync, f_size, f_lock, f_unlock, f_check, f_fcntl,
	f_sector, f_caps, f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap, NULL, NULL,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct ffile *ff = (struct ffile *)f;
	int rc;

	(void)vfs;
	ff->real = (sqlite3_file *)(ff + 1);
	memset(ff->real, 0, (size_t)fv.real->szOsFile);
	rc = fv.real->xOpen(fv.real, name, ff->real, flags, out);
	f->pMethods = ff->real->pMethods ? &fio : NULL;
	return rc;
}

static int v_delete(sqlite3_vfs *v, const char *n, int s) { (void)v; return fv.real->xDelete(fv.real, n, s); }
static int v_access(sqlite3_vfs *v, const char *n, int fl, int *o) { (void)v; return fv.real->xAccess(fv.real, n, fl, o); }
static int v_full(sqlite3_vfs *v, const char *n, int k, char *o) { (void)v; return fv.real->xFullPathname(fv.real, n, k, o); }
static void *v_dlopen(sqlite3_vfs *v, const char *n) { (void)v; return fv.real->xDlOpen(fv.real, n); }
static void v_dlerr(sqlite3_vfs *v, int n, char *m) { (void)v; fv.real->xDlError(fv.real, n, m); }
static void (*v_dlsym(sqlite3_vfs *v, void *h, const char *s))(void) { (void)v; return fv.real->xDlSym(fv.real, h, s); }
static void v_dlclose(sqlite3_vfs *v, void *h) { (void)v; fv.real->xDlClose(fv.real, h); }
static int v_rand(sqlite3_vfs *v, int n, char *o) { (void)v; return fv.real->xRandomness(fv.real, n, o); }
static int v_sleep(sqlite3_vfs *v, int us) { (void)v; return fv.real->xSleep(fv.real, us); }
static int v_time(sqlite3_vfs *v, double *t) { (void)v; return fv.real->xCurrentTime(fv.real, t); }
static int v_lasterr(sqlite3_vfs *v, int n, char *m) { (void)v; return fv.real->xGetLastError ? fv.real->xGetLastError(fv.real, n, m) : 0; }
static int v_time64(sqlite3_vfs *v, sqlite3_int64 *t) { (void)v; return fv.real->xCurrentTimeInt64(fv.real, t); }

static sqlite3_vfs faultvfs = {
	2, 0, 0, NULL, "faultvfs", NULL, v_open, v_delete, v_access, v_full, v_dlopen, v_dlerr, v_dlsym,
	v_dlclose, v_rand, v_sleep, v_time, v_lasterr, v_time64, NULL, NULL, NULL,
};

/* Registers faultvfs as the default VFS (once). */
static void faultvfs_install(void)
{
	if (fv.real)
		return;
	fv.real = sqlite3_vfs_find(NULL);
	assert_non_null(fv.real);
	faultvfs.szOsFile = (int)sizeof(struct ffile) + fv.real->szOsFile;
	faultvfs.mxPathname = fv.real->mxPathname;
	assert_int_equal(sqlite3_vfs_register(&faultvfs, 1), SQLITE_OK);
}

/* ---- the databases --------------------------------------------------------- */

static char dir[256];
static long injected, sweeps;

#define CUST_A "11111111-1111-4111-8111-111111111111"
#define CUST_B "22222222-2222-4222-8222-222222222222"

static char edited_addr[64]; /* base_edited's address (its async id) */
#define SALE(id, cust)                                                                                         \
	"{\"txn_id\":\"S0001-R01-" id "\",\"kind\":\"cash_and_carry\",\"business_date\":\"2026-11-25\","        \
	"\"currency\":\"EUR\",\"customer\":" cust ",\"lines\":[{\"sku\":\"S\",\"qty\":1,\"unit_price_minor\":100}]," \
	"\"tenders\":[{\"type\":\"cash\",\"amount_minor\":100}],\"total_minor\":100}"

static struct store *open_db(const char *path)
{
	struct store *st = NULL;
	struct pa_err e;

	if (store_open(path, true, &st, &e) != 0)
		fail_msg("open %s: %s", path, e.message);
	store_identity(st, "S0001", "R01", "EUR");
	return st;
}

/* Runs SQL on st or fails the test. */
static void exec(struct store *st, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : "?");
}

/* The text of the first column of the first row of sql ("" when none). */
static void one(struct store *st, const char *sql, char *out, size_t n)
{
	sqlite3_stmt *s = NULL;

	out[0] = '\0';
	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(st->db));
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		util_copy(out, n, (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
}

/* A digest of everything but random ids and clock values. */
static const char digest_sql[] =
	"SELECT ifnull((SELECT group_concat(x, '|') FROM (SELECT kind || state || ifnull(first_name, '')"
	"  || ifnull(last_name, '') || ifnull(email, '') || ifnull(account, '') || ifnull(local_number, '')"
	"  || (batch_id IS NULL) || ifnull(last_code, '') || maybe_sent AS x FROM customer ORDER BY id)), '')"
	" || '#' || ifnull((SELECT group_concat(x, '|') FROM (SELECT state || ifnull(line1, '') || ifnull(city, '')"
	"  || ifnull(address_id, '') || (batch_id IS NULL) || ifnull(last_code, '') AS x FROM address ORDER BY id)), '')"
	" || '#' || ifnull((SELECT group_concat(x, '|') FROM (SELECT txn_id || state || (batch_id IS NULL)"
	"  || ifnull(last_code, '') AS x FROM txn ORDER BY id)), '')"
	" || '#' || (SELECT count(*) FROM tender) || '#' || (SELECT count(*) || '/' || ifnull(sum(records), 0) FROM batch)"
	" || '#' || (SELECT ifnull(sum(json_array_length(members)), 0) FROM batch)"
	" || '#' || ifnull((SELECT group_concat(business_date || state, '|') FROM statement), '')"
	" || '#' || ifnull((SELECT group_concat(key || '=' || value, '|') FROM (SELECT key, value FROM meta"
	"  WHERE key NOT LIKE 'last%' AND key NOT LIKE '%_at' ORDER BY key)), '')";

/* Every customer and sale of the starting database, by id (what must
 * survive any failure). */
static const char acked_sql[] =
	"SELECT ifnull((SELECT group_concat(x, '|') FROM (SELECT async_id || ifnull(local_number, '') AS x"
	"  FROM customer WHERE async_id IS NOT NULL ORDER BY async_id)), '')"
	" || '#' || ifnull((SELECT group_concat(x, '|') FROM (SELECT txn_id || total_minor AS x FROM txn"
	"  ORDER BY txn_id)), '')";

/* ---- the write paths ----------------------------------------------------- */

struct path {
	const char *name;
	void (*prepare)(struct store *st); /* the starting database, no faults */
	int (*run)(struct store *st, struct pa_err *e);
};

/* Two customers (one with an address), a sale naming the first. */
static void base(struct store *st)
{
	static const char *const recs[] = {
		"{\"async_id\":\"" CUST_A "\",\"kind\":\"person\",\"first_name\":\"Ana\",\"email\":\"ana@example.com\"}",
		"{\"async_id\":\"" CUST_B "\",\"kind\":\"person\",\"first_name\":\"Bo\"}",
	};
	static const char sale[] = SALE("000001", "{\"async_id\":\"" CUST_A "\"}");
	struct pa_err e;
	cJSON *out = NULL, *f;
	bool created;

	for (size_t i = 0; i < 2; i++) {
		cJSON *rec = cJSON_Parse(recs[i]);
		if (cust_create(st, rec, true, &out, &created, &e))
			fail_msg("create: %s", e.message);
		cJSON_Delete(rec);
		cJSON_Delete(out);
	}
	f = cJSON_Parse("{\"line1\":\"Rua 1\",\"city\":\"Porto\",\"postal_code\":\"4000-001\",\"country\":\"PT\"}");
	if (addr_add(st, CUST_B, f, &out, &e))
		fail_msg("address: %s", e.message);
	cJSON_Delete(f);
	cJSON_Delete(out);
	if (txn_record(st, sale, sizeof(sale) - 1, &out, &created, &e))
		fail_msg("txn: %s", e.message);
	cJSON_Delete(out);
}

static void base_frozen(struct store *st)
{
	struct pa_err e;
	int64_t bid = 0;

	base(st);
	if (rec_freeze(st, 500, NULL, &bid, &e) || !bid)
		fail_msg("freeze: %s", e.message);
}

static void base_closable(struct store *st)
{
	static const char sale[] = SALE("000002", "null");
	struct pa_err e;
	cJSON *out = NULL;
	bool created;

	if (txn_record(st, sale, sizeof(sale) - 1, &out, &created, &e))
		fail_msg("txn: %s", e.message);
	cJSON_Delete(out);
	exec(st, "UPDATE txn SET state = 'uploaded'");
}

static int run_create(struct store *st, struct pa_err *e)
{
	cJSON *rec = cJSON_Parse("{\"kind\":\"person\",\"first_name\":\"Cy\",\"phone\":\"+351 900 000 000\"}"), *out = NULL;
	bool created;
	int rc = cust_create(st, rec, false, &out, &created, e);

	cJSON_Delete(rec);
	cJSON_Delete(out);
	return rc;
}

static int run_edit(struct store *st, struct pa_err *e)
{
	cJSON *ch = cJSON_Parse("{\"first_name\":\"Anabela\",\"email\":\"anabela@example.com\"}"), *out = NULL;
	int rc = cust_edit(st, CUST_A, ch, &out, e);

	cJSON_Delete(ch);
	cJSON_Delete(out);
	return rc;
}

static int run_address(struct store *st, struct pa_err *e)
{
	cJSON *f = cJSON_Parse("{\"line1\":\"Rua 2\",\"city\":\"Lisboa\",\"postal_code\":\"1000-001\",\"country\":\"PT\"}");
	cJSON *out = NULL;
	int rc = addr_add(st, CUST_A, f, &out, e);

	cJSON_Delete(f);
	cJSON_Delete(out);
	return rc;
}

static int run_txn(struct store *st, struct pa_err *e)
{
	static const char sale[] = SALE("000009", "{\"async_id\":\"" CUST_B "\"}");
	cJSON *out = NULL;
	bool created;
	int rc = txn_record(st, sale, sizeof(sale) - 1, &out, &created, e);

	cJSON_Delete(out);
	return rc;
}

static int run_freeze(struct store *st, struct pa_err *e)
{
	int64_t bid = 0;

	return rec_freeze(st, 500, NULL, &bid, e);
}

static int run_apply(struct store *st, struct pa_err *e)
{
	char reply[2048], bid_text[32], batch_id[64];
	struct rec_tally t;
	sqlite3_stmt *s;
	size_t used;
	int ok = 0, i = 0, armed = fv.armed;

	fv.armed = 0; /* the reply is HQ's: built before the faults count */
	one(st, "SELECT id FROM batch", bid_text, sizeof(bid_text));
	one(st, "SELECT batch_id FROM batch", batch_id, sizeof(batch_id));
	used = (size_t)snprintf(reply, sizeof(reply), "{\"batch_id\":\"%s\",\"results\":[", batch_id);
	assert_int_equal(sqlite3_prepare_v2(st->db, "SELECT value ->> 2 FROM json_each((SELECT members FROM batch)) ORDER BY key", -1, &s, NULL),
	                 SQLITE_OK);
	/* the first accepted, the second rejected, the rest duplicates */
	while (sqlite3_step(s) == SQLITE_ROW && used < sizeof(reply) - 200) {
		used += (size_t)snprintf(reply + used, sizeof(reply) - used, "%s{\"id\":\"%s\",\"status\":\"%s\"}",
		                         i ? "," : "", (const char *)sqlite3_column_text(s, 0),
		                         i == 0 ? "accepted" : i == 1 ? "rejected\",\"code\":\"invalid_email" : "duplicate");
		i++;
	}
	sqlite3_finalize(s);
	assert_true(i >= 2);
	snprintf(reply + used, sizeof(reply) - used, "]}");
	memset(&t, 0, sizeof(t));
	fv.armed = armed;
	return rec_apply_reply(st, strtoll(bid_text, NULL, 10), batch_id, reply, &t, &ok, e);
}

static int run_changes(struct store *st, struct pa_err *e)
{
	cJSON *doc = cJSON_Parse(
		"{\"changes\":[{\"type\":\"account_assigned\",\"async_id\":\"" CUST_A "\",\"account\":\"C000001\"},"
		"{\"type\":\"customer\",\"account\":\"C000002\",\"customer\":{\"local_number\":\"R02-000001\","
		"\"kind\":\"person\",\"first_name\":\"Dee\"},\"addresses\":[{\"address_id\":\"A7\",\"line1\":\"Rua 7\","
		"\"city\":\"Faro\",\"postal_code\":\"8000\",\"country\":\"PT\"}]}],\"next\":\"c1\",\"more\":false}");
	struct down_outcome o;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = down_apply(st, "", doc, &o, e);
	cJSON_Delete(doc);
	return rc;
}

/* base, with the second customer and its address synced at HQ (C000002,
 * A000009) and a cashier's edit of that address not yet sent: a change
 * from HQ must keep the edit on top (issue 12), and a failed read of the
 * edited address must fail the apply, never drop the edit. */
static void base_edited(struct store *st)
{
	struct pa_err e;
	cJSON *f, *out = NULL;

	base(st);
	exec(st, "UPDATE customer SET state = 'synced', account = 'C000002', version = 1, waiting_since = NULL"
	         " WHERE async_id = '" CUST_B "';"
	         "UPDATE address SET state = 'synced', address_id = 'A000009', waiting_since = NULL;");
	f = cJSON_Parse("{\"line1\":\"Rua 9 (edited)\"}");
	one(st, "SELECT async_id FROM address", edited_addr, sizeof(edited_addr));
	if (addr_edit(st, edited_addr, f, &out, &e))
		fail_msg("address edit: %s", e.message);
	cJSON_Delete(f);
	cJSON_Delete(out);
}

static int run_changes_edited(struct store *st, struct pa_err *e)
{
	cJSON *doc = cJSON_Parse(
		"{\"changes\":[{\"type\":\"customer\",\"account\":\"C000002\",\"version\":2,"
		"\"customer\":{\"async_id\":\"" CUST_B "\",\"kind\":\"person\",\"first_name\":\"Bo\","
		"\"last_name\":\"Hq\"},\"addresses\":[{\"address_id\":\"A000009\",\"line1\":\"Rua 1\","
		"\"city\":\"Braga\",\"postal_code\":\"4700\",\"country\":\"PT\"}]}],\"next\":\"c2\",\"more\":false}");
	struct down_outcome o;
	char line1[64];
	int rc;

	memset(&o, 0, sizeof(o));
	rc = down_apply(st, "", doc, &o, e);
	cJSON_Delete(doc);
	if (rc == 0) { /* a clean run: HQ's city, the cashier's line 1 on top */
		int armed = fv.armed;
		fv.armed = 0; /* this check is not part of the path */
		one(st, "SELECT line1 || '/' || city FROM address", line1, sizeof(line1));
		fv.armed = armed;
		assert_string_equal(line1, "Rua 9 (edited)/Braga");
	}
	return rc;
}

static int run_statement(struct store *st, struct pa_err *e)
{
	struct eod_stmt s;
	int rc;

	memset(&s, 0, sizeof(s));
	rc = eod_freeze(st, "2026-11-25", &s, e);
	eod_stmt_free(&s);
	return rc;
}

static const struct path paths[] = {
	{"create", base, run_create},          {"edit", base, run_edit},
	{"address", base, run_address},        {"txn record", base, run_txn},
	{"batch freeze", base, run_freeze},    {"result apply", base_frozen, run_apply},
	{"change apply", base, run_changes},   {"statement freeze", base_closable, run_statement},
	{"change apply over an edit", base_edited, run_changes_edited},
};

/* ---- the sweep ------------------------------------------------------------- */

/* Copies the file src to dst (and removes dst's -wal and -shm). */
static void copy(const char *src, const char *dst)
{
	char buf[65536], side[320];
	FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
	size_t n;

	assert_non_null(in);
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	snprintf(side, sizeof(side), "%s-wal", dst);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", dst);
	unlink(side);
}

/* Makes path p's starting database as file tmpl; fills the digests before
 * and after a clean run, and the acknowledged rows. */
static void make_template(const struct path *p, const char *tmpl, char *before, char *after, char *acked,
                          size_t n)
{
	char work[300];
	struct store *st;
	struct pa_err e;

	unlink(tmpl);
	st = open_db(tmpl);
	p->prepare(st);
	one(st, digest_sql, before, n);
	one(st, acked_sql, acked, n);
	exec(st, "PRAGMA wal_checkpoint(TRUNCATE)");
	store_close(st);
	snprintf(work, sizeof(work), "%s/clean.db", dir);
	copy(tmpl, work);
	st = open_db(work);
	if (p->run(st, &e) != 0)
		fail_msg("%s without faults: %s", p->name, e.message);
	one(st, digest_sql, after, n);
	store_close(st);
	if (strcmp(before, after) == 0)
		fail_msg("%s changes nothing the digest sees", p->name);
}

/* Whether every '|'- or '#'-separated item of want is an item of got. */
static bool all_there(const char *want, const char *got)
{
	char item[200], pat[210];
	size_t n;

	while (*want) {
		n = strcspn(want, "|#");
		if (n > 0 && n < sizeof(item)) {
			memcpy(item, want, n);
			item[n] = '\0';
			snprintf(pat, sizeof(pat), "%s", item);
			const char *hit = strstr(got, pat);
			bool whole = false;
			for (; hit && !whole; hit = strstr(hit + 1, pat))
				whole = (hit == got || hit[-1] == '|' || hit[-1] == '#') &&
				        (hit[n] == '\0' || hit[n] == '|' || hit[n] == '#');
			if (!whole)
				return false;
		}
		want += n;
		if (*want)
			want++;
	}
	return true;
}

/* One run of path p with the nth operation of kind k failing with err.
 * Returns whether the fault was met. */
static int one_fault(const struct path *p, const char *tmpl, enum op k, int n, int err, const char *before,
                     const char *after, const char *acked)
{
	char work[300], got[8192], ack[8192];
	struct store *st;
	struct pa_err e;
	int rc;

	snprintf(work, sizeof(work), "%s/work.db", dir);
	copy(tmpl, work);
	st = open_db(work);
	memset(&e, 0, sizeof(e));
	memset(&fv.seen, 0, sizeof(fv.seen));
	fv.kind = k;
	fv.n = n;
	fv.err = err;
	fv.fired = 0;
	fv.armed = 1;
	rc = p->run(st, &e);
	fv.armed = 0;
	store_close(st);
	if (rc != 0 && (rc != EX_IOERR || !e.message[0]))
		fail_msg("%s, %s %d failing (%s): status %d, \"%s\"", p->name, op_name[k], n,
		         err == SQLITE_FULL ? "full" : "ioerr", rc, e.message);
	if (rc != 0 && !fv.fired)
		fail_msg("%s failed with no fault injected: %s", p->name, e.message);
	st = open_db(work);
	one(st, "PRAGMA integrity_check", got, sizeof(got));
	if (strcmp(got, "ok") != 0)
		fail_msg("%s, %s %d failing: integrity_check: %s", p->name, op_name[k], n, got);
	one(st, acked_sql, ack, sizeof(ack));
	one(st, digest_sql, got, sizeof(got));
	store_close(st);
	if (!all_there(acked, ack))
		fail_msg("%s, %s %d failing: an acknowledged record changed:\n%s\nwas\n%s", p->name, op_name[k], n,
		         ack, acked);
	if (strcmp(got, before) != 0 && strcmp(got, after) != 0)
		fail_msg("%s, %s %d failing (status %d): half-written:\n%s\nbefore\n%s\nafter\n%s", p->name,
		         op_name[k], n, rc, got, before, after);
	if (rc == 0 && strcmp(got, after) != 0)
		fail_msg("%s, %s %d failing: reported done but not stored", p->name, op_name[k], n);
	injected += fv.fired;
	return fv.fired;
}

/* Every kind and every n for path i (the state is the index). */
static void test_path(void **state)
{
	const struct path *p = &paths[(size_t)(uintptr_t)*state];
	char tmpl[300], before[8192], after[8192], acked[8192];
	static const int errs[] = {SQLITE_IOERR, SQLITE_FULL};

	faultvfs_install();
	snprintf(tmpl, sizeof(tmpl), "%s/template.db", dir);
	make_template(p, tmpl, before, after, acked, sizeof(before));
	for (int k = 0; k < N_OPS; k++)
		for (size_t x = 0; x < 2; x++) {
			if (errs[x] == SQLITE_FULL && k != OP_WRITE)
				continue;
			for (int n = 1; one_fault(p, tmpl, (enum op)k, n, errs[x], before, after, acked); n++)
				assert_true(n < 5000);
			sweeps++;
		}
	printf("  %s: swept, %ld faults injected so far\n", p->name, injected);
}

static int group_setup(void **state)
{
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";

	(void)state;
	log_set_verbose(0);
	snprintf(dir, sizeof(dir), "%s/test_ioerr.XXXXXX", tmp);
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	printf("%ld faults injected over %ld sweeps\n", injected, sweeps);
	return system(cmd) == 0 ? 0 : -1;
}

#define PATH_TEST(i) cmocka_unit_test_prestate(test_path, (void *)(uintptr_t)(i))

int main(void)
{
	const struct CMUnitTest tests[] = {
		PATH_TEST(0), PATH_TEST(1), PATH_TEST(2), PATH_TEST(3),
		PATH_TEST(4), PATH_TEST(5), PATH_TEST(6), PATH_TEST(7),
		PATH_TEST(8),
	};
	_Static_assert(sizeof(tests) / sizeof(tests[0]) == sizeof(paths) / sizeof(paths[0]),
	               "one test per write path");

	return cmocka_run_group_tests_name("ioerr", tests, group_setup, group_teardown);
}
