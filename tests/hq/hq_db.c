/*
 * hq_db: HQ's state in one SQLite database (DIR/hq.db), so that it
 * survives a restart. One connection, shared by every thread under one
 * mutex: HQ is a test server and its requests are short; the long poll
 * waits without the lock. WAL, synchronous=FULL: a reply is sent only
 * after its commit, so a restart never forgets what HQ answered.
 *
 * Every statement used while serving is prepared once at start-up by the
 * module that owns it (db_prepare); the schema below is the only SQL run
 * as text.
 */
#include "tests/hq/hq.h"

#include <pthread.h>
#include <stdio.h>

#define MAX_STMTS 160

static sqlite3 *db;
static pthread_mutex_t db_mu = PTHREAD_MUTEX_INITIALIZER;
static sqlite3_stmt *stmts[MAX_STMTS];
static size_t nstmts;
static sqlite3_stmt *st_begin, *st_commit, *st_rollback, *st_counter_add, *st_counter_get;

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS counters("
	"  name TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS tokens("
	"  token TEXT PRIMARY KEY, store TEXT NOT NULL, register TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS revoked("
	"  store TEXT NOT NULL, register TEXT NOT NULL, PRIMARY KEY(store, register));"
	/* async_id and local_number are NULL for a customer made at HQ */
	"CREATE TABLE IF NOT EXISTS customers("
	"  id INTEGER PRIMARY KEY, async_id TEXT UNIQUE, local_number TEXT,"
	"  store TEXT NOT NULL, register TEXT, record TEXT NOT NULL,"
	"  accepted_ms INTEGER NOT NULL, account TEXT UNIQUE,"
	"  version INTEGER NOT NULL DEFAULT 1);"
	"CREATE INDEX IF NOT EXISTS customers_pending ON customers(account, id);"
	"CREATE TABLE IF NOT EXISTS addresses("
	/* async_id is NULL for an address made at HQ; address_id is given by
	 * the synchronization job (at once for a customer with an account) */
	"  id INTEGER PRIMARY KEY, async_id TEXT UNIQUE,"
	"  customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  store TEXT NOT NULL, register TEXT, record TEXT NOT NULL,"
	"  address_id TEXT UNIQUE);"
	"CREATE INDEX IF NOT EXISTS addresses_customer ON addresses(customer_id, id);"
	"CREATE TABLE IF NOT EXISTS transactions("
	"  id INTEGER PRIMARY KEY, txn_id TEXT UNIQUE NOT NULL, store TEXT NOT NULL,"
	"  register TEXT NOT NULL, business_date TEXT NOT NULL,"
	"  customer_id INTEGER REFERENCES customers(id), record TEXT NOT NULL,"
	/* the addresses it names, and their records as they were at acceptance */
	"  delivery_id INTEGER REFERENCES addresses(id),"
	"  invoice_id INTEGER REFERENCES addresses(id), addresses TEXT);"
	"CREATE TABLE IF NOT EXISTS updates("
	"  update_id TEXT PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),"
	"  version INTEGER NOT NULL, record TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS transactions_day"
	"  ON transactions(store, register, business_date);"
	"CREATE TABLE IF NOT EXISTS statements("
	"  id INTEGER PRIMARY KEY, statement_id TEXT UNIQUE NOT NULL,"
	"  store TEXT NOT NULL, register TEXT NOT NULL, business_date TEXT NOT NULL,"
	"  posting_id TEXT UNIQUE NOT NULL, transaction_count INTEGER NOT NULL,"
	"  sales_minor INTEGER NOT NULL, UNIQUE(store, register, business_date));"
	"CREATE TABLE IF NOT EXISTS changes("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT, store TEXT NOT NULL, body TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS changes_store ON changes(store, seq);"
	"CREATE TABLE IF NOT EXISTS idem("
	"  store TEXT NOT NULL, register TEXT NOT NULL, key TEXT NOT NULL,"
	"  hash BLOB NOT NULL, status INTEGER NOT NULL, body BLOB NOT NULL,"
	"  created_ms INTEGER NOT NULL, PRIMARY KEY(store, register, key));";

void db_log_error(const char *what)
{
	fprintf(stderr, "hq: database: %s: %s\n", what, db ? sqlite3_errmsg(db) : "not open");
}

/* db_open: opens path (created when missing), sets WAL, FULL sync, a busy
 * timeout and foreign keys, creates the schema, and prepares the
 * statements of this module. Returns 0, or -1 with a message on stderr. */
int db_open(const char *path)
{
	char *msg = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	                                     SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		db_log_error(path);
		return -1;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
	                     "PRAGMA foreign_keys=ON;", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "hq: database %s: %s\n", path, msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	st_begin = db_prepare("BEGIN IMMEDIATE");
	st_commit = db_prepare("COMMIT");
	st_rollback = db_prepare("ROLLBACK");
	st_counter_add = db_prepare("INSERT INTO counters(name, value) VALUES(?1, ?2)"
	                            " ON CONFLICT(name) DO UPDATE SET value = value + ?2"
	                            " RETURNING value");
	st_counter_get = db_prepare("SELECT value FROM counters WHERE name = ?1");
	if (!st_begin || !st_commit || !st_rollback || !st_counter_add || !st_counter_get)
		return -1;
	return 0;
}

/* db_close: finalizes every prepared statement and closes the database. */
void db_close(void)
{
	for (size_t i = 0; i < nstmts; i++)
		sqlite3_finalize(stmts[i]);
	nstmts = 0;
	if (db)
		sqlite3_close(db);
	db = NULL;
}

sqlite3 *db_handle(void)
{
	return db;
}

void db_lock(void)
{
	pthread_mutex_lock(&db_mu);
}

void db_unlock(void)
{
	pthread_mutex_unlock(&db_mu);
}

/* step_once: runs a statement that returns no row. */
static int step_once(sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		db_log_error(what);
		return -1;
	}
	return 0;
}

int db_begin(void)
{
	return step_once(st_begin, "begin");
}

int db_commit(void)
{
	return step_once(st_commit, "commit");
}

void db_rollback(void)
{
	if (!sqlite3_get_autocommit(db))
		step_once(st_rollback, "rollback");
}

/* db_prepare: prepares sql for the life of the process (finalized by
 * db_close). Returns the statement, or NULL with a message on stderr. */
sqlite3_stmt *db_prepare(const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (nstmts >= MAX_STMTS) {
		fprintf(stderr, "hq: database: too many statements\n");
		return NULL;
	}
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "hq: database: %s\n  in: %s\n", sqlite3_errmsg(db), sql);
		return NULL;
	}
	stmts[nstmts++] = st;
	return st;
}

void db_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* db_counter_add: adds delta to the named counter (creating it at delta)
 * inside the caller's transaction. Returns the new value, or -1. */
int64_t db_counter_add(const char *name, int64_t delta)
{
	int64_t v = -1;

	sqlite3_bind_text(st_counter_add, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st_counter_add, 2, delta);
	if (sqlite3_step(st_counter_add) == SQLITE_ROW)
		v = sqlite3_column_int64(st_counter_add, 0);
	else
		db_log_error(name);
	db_done(st_counter_add);
	return v;
}

/* db_counter_get: the named counter, 0 when never set or on error. */
int64_t db_counter_get(const char *name)
{
	int64_t v = 0;

	sqlite3_bind_text(st_counter_get, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st_counter_get) == SQLITE_ROW)
		v = sqlite3_column_int64(st_counter_get, 0);
	db_done(st_counter_get);
	return v;
}
