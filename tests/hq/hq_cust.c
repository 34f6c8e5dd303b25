/*
 * hq_cust: what changes a customer HQ holds or its addresses, shared by
 * the batches, the synchronization job, the updates and the admin
 * interface (HQ-API.md, revision 2026-11-30):
 *   - every change bumps the customer's `version` (cust_bump);
 *   - an address gets an address id of HQ's (A000001 upwards) when its
 *     customer has an account, published as `address_assigned` when it
 *     came from a register (cust_give_address_id);
 *   - `primary` is per purpose: an address that becomes primary makes the
 *     customer's earlier primary of that purpose non-primary (cust_demote).
 * Every function runs inside the caller's transaction, under db_lock.
 */
#include "tests/hq/hq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sqlite3_stmt *st_bump, *st_set_aid, *st_addr_row, *st_demote, *st_addr_put, *st_addr_rec,
	*st_cust_rec, *st_unassigned;

int cust_init(void)
{
	st_bump = db_prepare("UPDATE customers SET version = version + 1 WHERE id = ?1"
	                     " RETURNING version");
	st_set_aid = db_prepare("UPDATE addresses SET address_id = ?1 WHERE id = ?2");
	st_addr_row = db_prepare("SELECT a.async_id, c.account, c.store, a.register FROM addresses a"
	                         " JOIN customers c ON c.id = a.customer_id WHERE a.id = ?1");
	st_demote = db_prepare("UPDATE addresses SET record = json_set(record, '$.primary', json('false'))"
	                       " WHERE customer_id = ?1 AND id <> ?2"
	                       " AND json_extract(record, '$.purpose') = ?3"
	                       " AND json_extract(record, '$.primary') = 1");
	st_addr_put = db_prepare("INSERT INTO addresses(async_id, customer_id, store, register, record)"
	                         " VALUES(?1, ?2, ?3, ?4, ?5)");
	st_addr_rec = db_prepare("UPDATE addresses SET record = ?1 WHERE id = ?2");
	st_cust_rec = db_prepare("UPDATE customers SET record = ?1 WHERE id = ?2");
	st_unassigned = db_prepare("SELECT id FROM addresses WHERE customer_id = ?1"
	                           " AND address_id IS NULL ORDER BY id LIMIT 64");
	return st_bump && st_set_aid && st_addr_row && st_demote && st_addr_put && st_addr_rec &&
	               st_cust_rec && st_unassigned
	               ? 0
	               : -1;
}

/* cust_bump: see hq.h. */
int64_t cust_bump(int64_t customer_id)
{
	int64_t v = -1;

	sqlite3_bind_int64(st_bump, 1, customer_id);
	if (sqlite3_step(st_bump) == SQLITE_ROW)
		v = sqlite3_column_int64(st_bump, 0);
	else
		db_log_error("version");
	db_done(st_bump);
	return v;
}

/* cust_give_address_id: see hq.h. */
int cust_give_address_id(int64_t addr_row, cJSON *done)
{
	char aid[24], async_id[64] = "", account[32] = "", store[HQ_ID_MAX] = "";
	bool from_register = false;
	cJSON *ch;
	int64_t n;
	int rc;

	sqlite3_bind_int64(st_addr_row, 1, addr_row);
	rc = sqlite3_step(st_addr_row);
	if (rc == SQLITE_ROW) {
		from_register = sqlite3_column_type(st_addr_row, 0) != SQLITE_NULL &&
		                sqlite3_column_type(st_addr_row, 3) != SQLITE_NULL;
		if (from_register)
			util_copy(async_id, sizeof(async_id), (const char *)sqlite3_column_text(st_addr_row, 0));
		if (sqlite3_column_type(st_addr_row, 1) != SQLITE_NULL)
			util_copy(account, sizeof(account), (const char *)sqlite3_column_text(st_addr_row, 1));
		util_copy(store, sizeof(store), (const char *)sqlite3_column_text(st_addr_row, 2));
	}
	db_done(st_addr_row);
	if (rc != SQLITE_ROW || !account[0])
		return rc == SQLITE_ROW ? 0 : -1;
	n = db_counter_add("address", 1);
	if (n < 0)
		return -1;
	snprintf(aid, sizeof(aid), "A%06lld", (long long)n);
	sqlite3_bind_text(st_set_aid, 1, aid, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st_set_aid, 2, addr_row);
	rc = sqlite3_step(st_set_aid);
	db_done(st_set_aid);
	if (rc != SQLITE_DONE) {
		db_log_error("address id");
		return -1;
	}
	if (done && from_register) {
		cJSON *d = cJSON_CreateObject();
		json_add_str(d, "async_id", async_id);
		json_add_str(d, "address_id", aid);
		cJSON_AddItemToArray(done, d);
	}
	if (!from_register)
		return 0;
	ch = cJSON_CreateObject();
	if (!ch || json_add_str(ch, "type", "address_assigned") < 0 ||
	    json_add_str(ch, "async_id", async_id) < 0 || json_add_str(ch, "address_id", aid) < 0 ||
	    json_add_str(ch, "account", account) < 0) {
		cJSON_Delete(ch);
		return -1;
	}
	return feed_publish(store, ch);
}

/* cust_assign_addresses: see hq.h. */
int cust_assign_addresses(int64_t customer_id, cJSON *done)
{
	int64_t ids[64];
	int n, total = 0;

	do {
		n = 0;
		sqlite3_bind_int64(st_unassigned, 1, customer_id);
		while (n < 64 && sqlite3_step(st_unassigned) == SQLITE_ROW)
			ids[n++] = sqlite3_column_int64(st_unassigned, 0);
		db_done(st_unassigned);
		for (int i = 0; i < n; i++)
			if (cust_give_address_id(ids[i], done) < 0)
				return -1;
		total += n;
	} while (n == 64);
	return total;
}

/* cust_demote: see hq.h. */
int cust_demote(int64_t customer_id, int64_t keep_row, const cJSON *addr)
{
	const cJSON *purpose = cJSON_GetObjectItemCaseSensitive(addr, "purpose");
	int rc;

	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(addr, "primary")) ||
	    !cJSON_IsString(purpose))
		return 0;
	sqlite3_bind_int64(st_demote, 1, customer_id);
	sqlite3_bind_int64(st_demote, 2, keep_row);
	sqlite3_bind_text(st_demote, 3, purpose->valuestring, -1, SQLITE_STATIC);
	rc = sqlite3_step(st_demote);
	db_done(st_demote);
	if (rc != SQLITE_DONE) {
		db_log_error("demote");
		return -1;
	}
	return sqlite3_changes(db_handle());
}

/* cust_address_add: see hq.h. */
int64_t cust_address_add(int64_t customer_id, const char *async_id, const char *store,
                         const char *reg, const cJSON *record, cJSON *done)
{
	char *text = cJSON_PrintUnformatted(record);
	int64_t row = -1;
	int rc;

	if (!text)
		return -1;
	sqlite3_bind_text(st_addr_put, 1, async_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st_addr_put, 2, customer_id);
	sqlite3_bind_text(st_addr_put, 3, store, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_addr_put, 4, reg, -1, SQLITE_STATIC);
	sqlite3_bind_text(st_addr_put, 5, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(st_addr_put);
	db_done(st_addr_put);
	free(text);
	if (rc != SQLITE_DONE) {
		db_log_error("address");
		return -1;
	}
	row = sqlite3_last_insert_rowid(db_handle());
	if (cust_demote(customer_id, row, record) < 0 || cust_give_address_id(row, done) < 0)
		return -1;
	return row;
}

/* put_text: runs st (?1 text, ?2 row id). Returns 0 or -1. */
static int put_text(sqlite3_stmt *st, const cJSON *record, int64_t row)
{
	char *text = cJSON_PrintUnformatted(record);
	int rc;

	if (!text)
		return -1;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, row);
	rc = sqlite3_step(st);
	db_done(st);
	free(text);
	if (rc != SQLITE_DONE) {
		db_log_error("record");
		return -1;
	}
	return 0;
}

/* cust_address_set: see hq.h. */
int cust_address_set(int64_t customer_id, int64_t row, const cJSON *before, const cJSON *after)
{
	const cJSON *p0 = cJSON_GetObjectItemCaseSensitive(before, "purpose");
	const cJSON *p1 = cJSON_GetObjectItemCaseSensitive(after, "purpose");
	bool was = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(before, "primary"));
	bool same_purpose = cJSON_IsString(p0) && cJSON_IsString(p1) &&
	                    !strcmp(p0->valuestring, p1->valuestring);

	if (put_text(st_addr_rec, after, row) < 0)
		return -1;
	/* promoted, or a primary whose purpose changed: demote the other */
	if (!was || !same_purpose)
		return cust_demote(customer_id, row, after) < 0 ? -1 : 0;
	return 0;
}

/* cust_record_set: see hq.h. */
int cust_record_set(int64_t customer_id, const cJSON *record)
{
	return put_text(st_cust_rec, record, customer_id);
}

/* cust_apply: see hq.h. */
void cust_apply(cJSON *record, const cJSON *fields)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, fields)
	{
		cJSON *dup = cJSON_Duplicate(m, true);

		if (cJSON_GetObjectItemCaseSensitive(record, m->string))
			cJSON_ReplaceItemInObjectCaseSensitive(record, m->string, dup);
		else
			cJSON_AddItemToObject(record, m->string, dup);
	}
}
