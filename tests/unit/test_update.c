/*
 * test_update: edits after upload (common/update) and the download's
 * merge rule for them (common/download, down_apply), on a real database
 * without a network.
 *
 * What happens: a customer made here is synced by HQ's changes (version
 * 3) with one address; it is edited (an update is queued), and pages of
 * HQ's `customer` changes of newer, older and equal versions arrive
 * before, while and after HQ accepts the update; a refused update takes
 * the next edit; --discard-update; a rejected create folds its edits.
 * What must hold: a change older than the version held is ignored; a
 * newer one brings HQ's fields while the register's living updates stay
 * on top (pending, rejected, or accepted with a version not yet seen);
 * HQ's own values are kept underneath, and discarding shows them again;
 * a change of at least the accepted version ends the update; an update
 * carries only the changed fields, merges newer edits while in no batch,
 * goes up again under its update_id after a rejection, after any newer
 * update; the same for an address listed in the change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/customer.h"
#include "common/download.h"
#include "common/store.h"
#include "common/update.h"

struct fx {
	char dir[256];
	char db[300];
	struct store *st;
	char a1[40];    /* the customer's async id */
	char ad[40];    /* its address's async id */
	int page;       /* pages applied (cursor) */
};

/* First column of a query as text ("" for NULL / no row). */
static const char *q(struct fx *f, const char *sql)
{
	static char out[512];
	sqlite3_stmt *s = NULL;

	out[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(f->st->db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
		snprintf(out, sizeof(out), "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return out;
}

/* Applies one `customer` change of C000001 (version v; email, phone,
 * the address's city) as the next page. */
static void hq_change(struct fx *f, int v, const char *email, const char *phone, const char *city)
{
	char page[2048], after[16], next[16];
	struct down_outcome o;
	struct pa_err e;
	cJSON *doc;

	if (f->page)
		snprintf(after, sizeof(after), "c%d", f->page);
	else
		after[0] = '\0'; /* the first page: from the start */
	snprintf(next, sizeof(next), "c%d", f->page + 1);
	snprintf(page, sizeof(page),
	         "{\"changes\":[{\"type\":\"customer\",\"account\":\"C000001\",\"version\":%d,"
	         "\"customer\":{\"async_id\":\"%s\",\"local_number\":\"R01-000001\",\"kind\":\"person\","
	         "\"first_name\":\"Ana\",\"last_name\":null,\"organization_name\":null,\"email\":\"%s\","
	         "\"phone\":\"%s\",\"language\":null,\"attributes\":{}},"
	         "\"addresses\":[{\"async_id\":\"%s\",\"address_id\":\"A000001\",\"purpose\":\"home\","
	         "\"primary\":false,\"line1\":\"Rua 1\",\"line2\":null,\"city\":\"%s\",\"region\":null,"
	         "\"postal_code\":\"1000-001\",\"country\":\"PT\"}]}],\"next\":\"%s\",\"more\":false}",
	         v, f->a1, email, phone, f->ad, city, next);
	doc = cJSON_Parse(page);
	assert_non_null(doc);
	memset(&o, 0, sizeof(o));
	assert_int_equal(down_apply(f->st, after, doc, &o, &e), 0);
	assert_true(o.ok);
	cJSON_Delete(doc);
	f->page++;
}

/* customer edit R01-000001 with the changes JSON text. */
static void edit(struct fx *f, const char *changes)
{
	struct pa_err e;
	cJSON *ch = cJSON_Parse(changes), *doc = NULL;

	assert_int_equal(cust_edit(f->st, "R01-000001", ch, &doc, &e), 0);
	cJSON_Delete(ch);
	cJSON_Delete(doc);
}

/* The customer's email and phone, "email phone". */
static const char *shown(struct fx *f)
{
	return q(f, "SELECT email || ' ' || phone FROM customer WHERE local_number = 'R01-000001'");
}

/* Runs fn(row) on the only update inside a write transaction. */
static void on_update(struct fx *f, int (*fn)(struct fx *, int64_t))
{
	struct pa_err e;
	int64_t row = strtoll(q(f, "SELECT id FROM record_update ORDER BY id DESC LIMIT 1"), NULL, 10);

	assert_int_equal(store_begin(f->st, true, &e), 0);
	assert_int_equal(fn(f, row), 0);
	assert_int_equal(store_commit(f->st, &e), 0);
}

static int accept_v6(struct fx *f, int64_t row)
{
	struct pa_err e;
	return upd_accepted(f->st, row, 6, &e);
}

static int reject_email(struct fx *f, int64_t row)
{
	struct pa_err e;
	bool deferred = true;
	int rc = upd_rejected(f->st, row, "invalid_email", "no", &deferred, &e);
	assert_false(deferred);
	return rc;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct pa_err e;
	cJSON *rec, *doc = NULL;
	bool created;

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/test_update.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->db, sizeof(f->db), "%s/pos.db", f->dir);
	if (store_open(f->db, true, &f->st, &e))
		return -1;
	store_identity(f->st, "S0001", "R01", "EUR");
	rec = cJSON_Parse("{\"first_name\":\"Ana\",\"email\":\"ana@old.example\",\"phone\":\"+351 911 234 567\"}");
	if (cust_create(f->st, rec, false, &doc, &created, &e))
		return -1;
	snprintf(f->a1, sizeof(f->a1), "%s", cJSON_GetObjectItem(doc, "async_id")->valuestring);
	cJSON_Delete(rec);
	cJSON_Delete(doc);
	rec = cJSON_Parse("{\"line1\":\"Rua 1\",\"city\":\"Lisbon\",\"postal_code\":\"1000-001\",\"country\":\"PT\","
	                  "\"purpose\":\"home\"}");
	if (addr_add(f->st, "R01-000001", rec, &doc, &e))
		return -1;
	snprintf(f->ad, sizeof(f->ad), "%s", cJSON_GetObjectItem(doc, "async_id")->valuestring);
	cJSON_Delete(rec);
	cJSON_Delete(doc);
	/* HQ accepted both (the upload's part), then its record of version 3. */
	sqlite3_exec(f->st->db, "UPDATE customer SET state = 'uploaded'; UPDATE address SET state = 'uploaded'",
	             NULL, NULL, NULL);
	*state = f;
	hq_change(f, 3, "ana@old.example", "+351 911 234 567", "Lisbon");
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char p[400];

	store_close(f->st);
	snprintf(p, sizeof(p), "%s/pos.db", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/pos.db-wal", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/pos.db-shm", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Older ignored, newer applied under the edit, accepted edit kept until
 * HQ's record of its version, then nothing left. */
static void test_merge_rule(void **state)
{
	struct fx *f = *state;

	assert_string_equal(q(f, "SELECT state || ' ' || account || ' ' || version FROM customer"), "synced C000001 3");
	edit(f, "{\"email\":\"ana@new.example\"}");
	assert_string_equal(q(f, "SELECT fields FROM record_update"), "{\"email\":\"ana@new.example\"}");
	assert_string_equal(shown(f), "ana@new.example +351 911 234 567");

	/* newer: HQ's phone arrives, the edit stays on top, HQ's email kept under it */
	hq_change(f, 4, "ana@old.example", "+351 222 333 444", "Lisbon");
	assert_string_equal(shown(f), "ana@new.example +351 222 333 444");
	assert_string_equal(q(f, "SELECT json_extract(fields, '$.email') FROM record_base"), "ana@old.example");
	assert_string_equal(q(f, "SELECT version FROM customer"), "4");

	/* older than held: ignored entirely */
	hq_change(f, 2, "old@old.example", "+351 000 000 000", "Nowhere");
	assert_string_equal(shown(f), "ana@new.example +351 222 333 444");
	assert_string_equal(q(f, "SELECT version FROM customer"), "4");

	/* accepted as version 6: a change of version 5 still does not revert it */
	on_update(f, accept_v6);
	hq_change(f, 5, "ana@old.example", "+351 222 333 444", "Lisbon");
	assert_string_equal(shown(f), "ana@new.example +351 222 333 444");
	assert_string_equal(q(f, "SELECT state FROM record_update"), "accepted");

	/* HQ's record of version 6 (with the edit): the update is done */
	hq_change(f, 6, "ana@new.example", "+351 222 333 444", "Lisbon");
	assert_string_equal(shown(f), "ana@new.example +351 222 333 444");
	assert_string_equal(q(f, "SELECT count(*) FROM record_update"), "0");
	assert_string_equal(q(f, "SELECT count(*) FROM record_base"), "0");

	/* without an edit, HQ's fields simply win */
	hq_change(f, 7, "ana@hq.example", "+351 222 333 444", "Lisbon");
	assert_string_equal(shown(f), "ana@hq.example +351 222 333 444");
}

/* A refused update takes the next edit (union, newest wins) and goes up
 * again under its update_id; discarding shows HQ's values again. */
static void test_rejected_and_discard(void **state)
{
	struct fx *f = *state;
	char uid[64];
	struct pa_err e;
	cJSON *doc = NULL;

	edit(f, "{\"email\":\"bad@new.example\",\"first_name\":\"Anna\"}");
	snprintf(uid, sizeof(uid), "%s", q(f, "SELECT update_id FROM record_update"));
	on_update(f, reject_email);
	assert_int_equal(cust_get(f->st, 1, &doc, &e), 0);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "update_error"), "code")->valuestring,
	                    "invalid_email");
	cJSON_Delete(doc);
	/* a newer HQ change keeps the refused edit applied */
	hq_change(f, 4, "ana@old.example", "+351 911 234 567", "Lisbon");
	assert_string_equal(shown(f), "bad@new.example +351 911 234 567");

	edit(f, "{\"email\":\"good@new.example\"}");
	assert_string_equal(q(f, "SELECT update_id FROM record_update"), uid);
	assert_string_equal(q(f, "SELECT state || ' ' || json_extract(fields, '$.email') || ' '"
	                         " || json_extract(fields, '$.first_name') FROM record_update"),
	                    "pending good@new.example Anna");
	assert_string_equal(q(f, "SELECT count(*) FROM record_update"), "1");

	/* discard: HQ's values (version 4) again, nothing kept */
	assert_int_equal(cust_discard_update(f->st, "R01-000001", &doc, &e), 0);
	cJSON_Delete(doc);
	assert_string_equal(shown(f), "ana@old.example +351 911 234 567");
	assert_string_equal(q(f, "SELECT first_name FROM customer"), "Ana");
	assert_string_equal(q(f, "SELECT count(*) FROM record_update"), "0");
	assert_string_equal(q(f, "SELECT count(*) FROM record_base"), "0");
	assert_int_equal(cust_discard_update(f->st, "R01-000001", &doc, &e), EX_DATAERR);
	assert_string_equal(e.code, "no_update");
}

/* An update in a frozen batch is never changed: a newer edit is a second
 * update, overlaid after it; an address's edit survives HQ's record. */
static void test_frozen_and_address(void **state)
{
	struct fx *f = *state;
	struct pa_err e;
	cJSON *ch, *doc = NULL;

	edit(f, "{\"email\":\"one@new.example\"}");
	sqlite3_exec(f->st->db, "UPDATE record_update SET batch_id = 99", NULL, NULL, NULL);
	edit(f, "{\"email\":\"two@new.example\",\"phone\":\"\"}");
	assert_string_equal(q(f, "SELECT count(*) FROM record_update"), "2");
	assert_string_equal(q(f, "SELECT fields FROM record_update WHERE batch_id = 99"), "{\"email\":\"one@new.example\"}");
	assert_string_equal(q(f, "SELECT fields FROM record_update WHERE batch_id IS NULL"),
	                    "{\"email\":\"two@new.example\",\"phone\":null}");
	hq_change(f, 4, "ana@old.example", "+351 911 234 567", "Lisbon");
	assert_string_equal(q(f, "SELECT coalesce(email, '') || '/' || coalesce(phone, 'null') FROM customer"),
	                    "two@new.example/null");

	ch = cJSON_Parse("{\"city\":\"Lisboa\"}");
	assert_int_equal(addr_edit(f->st, f->ad, ch, &doc, &e), 0);
	cJSON_Delete(ch);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(doc, "pending_update")));
	cJSON_Delete(doc);
	hq_change(f, 5, "ana@old.example", "+351 911 234 567", "Lisbon");
	assert_string_equal(q(f, "SELECT city FROM address"), "Lisboa");
	assert_string_equal(q(f, "SELECT json_extract(fields, '$.city') FROM record_base WHERE kind = 'address_update'"),
	                    "Lisbon");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_merge_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejected_and_discard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_frozen_and_address, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
