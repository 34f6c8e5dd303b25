#include "common/search.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/customer.h"
#include "common/fold.h"
#include "common/util.h"
#include "common/validate.h"

#define SEARCH_MAX_WORDS 16
#define QUERY_LEN 1024

/* The queries one search text makes: FTS5 query strings (empty when not
 * needed) and the values of the exact lookup. */
struct query {
	char tri[QUERY_LEN];  /* trigram table: every word of 3+ characters */
	char word[QUERY_LEN]; /* word table: every shorter word, as a prefix */
	char name_tri[QUERY_LEN];  /* trigram table, names: " word" for words of 2+ characters */
	char name_word[QUERY_LEN]; /* word table, names: 1-character words as prefixes */
	char shorts[SEARCH_MAX_WORDS][16];      /* the words of 1 or 2 characters */
	int nshorts;
	char name_shorts[SEARCH_MAX_WORDS][16]; /* the words of 1 character */
	int nname_shorts;
	bool no_names;                          /* a word with '@' or a digit: no name tier */
	char exact[256];      /* the whole text, trimmed */
	char digits[64];      /* its phone digits, when it looks like a phone */
};

/* True when text looks like a phone number: digits and " +-()" only,
 * with at least one digit. */
static bool phone_like(const char *text)
{
	bool digit = false;

	for (const char *p = text; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digit = true;
		else if (!strchr(" +-()", *p))
			return false;
	}
	return digit;
}

/* Appends text to q (n bytes) as one FTS5 string, "..." with " doubled,
 * followed by '*' when prefix, after a space when q is not empty.
 * Returns 0, or -1 when it does not fit. */
static int add_term(char *q, size_t n, const char *text, bool prefix)
{
	size_t j = strlen(q);

	if (j && j + 1 < n)
		q[j++] = ' ';
	if (j + 1 >= n)
		return -1;
	q[j++] = '"';
	for (const char *p = text; *p; p++) {
		if (j + 4 >= n)
			return -1;
		if (*p == '"')
			q[j++] = '"';
		q[j++] = *p;
	}
	q[j++] = '"';
	if (prefix)
		q[j++] = '*';
	q[j] = '\0';
	return 0;
}

/* True when a folded word holds something a tokenizer keeps: an ASCII
 * letter or digit, or any non-ASCII character. */
static bool has_token(const char *w)
{
	for (const unsigned char *p = (const unsigned char *)w; *p; p++)
		if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || *p >= 0x80)
			return true;
	return false;
}

/* Adds one folded word to the queries. Returns 0, or -1 when too long.
 * The names tier: search_name is " first last ...", so " silv" (2+
 * characters after the space: a trigram) is a name word starting with
 * silv; a 1-character word goes to the word table's prefix index. */
static int add_word(struct query *q, const char *w)
{
	size_t cps = val_utf8_len(w);
	char spaced[QUERY_LEN + 2];

	if (add_term(cps >= 3 ? q->tri : q->word, QUERY_LEN, w, cps < 3))
		return -1;
	q->no_names = q->no_names || strpbrk(w, "@0123456789") != NULL;
	if (cps < 3 && util_copy(q->shorts[q->nshorts++], sizeof(q->shorts[0]), w))
		return -1;
	if (cps < 2 && util_copy(q->name_shorts[q->nname_shorts++], sizeof(q->name_shorts[0]), w))
		return -1;
	if (cps < 2)
		return add_term(q->name_word, QUERY_LEN, w, true);
	snprintf(spaced, sizeof(spaced), " %s", w);
	return add_term(q->name_tri, QUERY_LEN, spaced, false);
}

/* Phone-looking text (digits and " +-()"): its digits anywhere in the phone
 * digits; one word of them may also be any text (a postal code such as
 * 1100-048). Names are not asked (digits start no name). Returns 0, or a
 * status. */
static int phone_query(struct query *q, int words_n, struct pa_err *e)
{
	char words[QUERY_LEN];
	size_t used;
	int w;

	if (strlen(q->digits) < 3)
		return 0; /* "91": the words as they are (word starts) */
	q->name_tri[0] = q->name_word[0] = '\0';
	q->nname_shorts = 0;
	if (q->word[0] || !q->tri[0] || words_n > 1) { /* the digits alone */
		q->word[0] = q->tri[0] = '\0';
		q->nshorts = 0;
		return add_term(q->tri, QUERY_LEN, q->digits, false)
		               ? err_set(e, EX_DATAERR, "invalid_text", "text", "search text too long") : 0;
	}
	util_copy(words, sizeof(words), q->tri);
	q->tri[0] = '\0';
	if (add_term(q->tri, QUERY_LEN, q->digits, false))
		return err_set(e, EX_DATAERR, "invalid_text", "text", "search text too long");
	used = strlen(q->tri);
	w = snprintf(q->tri + used, QUERY_LEN - used, " OR (%s)", words);
	if (w < 0 || (size_t)w >= QUERY_LEN - used)
		return err_set(e, EX_DATAERR, "invalid_text", "text", "search text too long");
	return 0;
}

/* Splits text into folded words and fills *q. Returns 0, or a status. */
static int parse(const char *text, struct query *q, struct pa_err *e)
{
	char folded[QUERY_LEN], *w, *end;
	int words = 0;
	size_t n;

	memset(q, 0, sizeof(*q));
	while (*text == ' ' || *text == '\t')
		text++;
	if (!val_text(text, 200, false))
		return err_set(e, EX_DATAERR, "invalid_text", "text",
		               "search text must be 1 to 200 characters of valid UTF-8 without control characters");
	util_copy(q->exact, sizeof(q->exact), text);
	for (n = strlen(q->exact); n && (q->exact[n - 1] == ' ' || q->exact[n - 1] == '\t'); n--)
		q->exact[n - 1] = '\0';
	if (phone_like(q->exact))
		val_phone_digits(q->exact, q->digits, sizeof(q->digits));
	if (fold_text(text, folded, sizeof(folded)) < 0)
		return err_set(e, EX_DATAERR, "invalid_text", "text", "search text too long");
	for (w = folded; *w; w = end) {
		while (*w == ' ' || *w == '\t')
			w++;
		for (end = w; *end && *end != ' ' && *end != '\t'; end++)
			;
		if (*end)
			*end++ = '\0';
		if (!*w || !has_token(w))
			continue;
		if (++words > SEARCH_MAX_WORDS)
			return err_set(e, EX_DATAERR, "invalid_text", "text", "search text has more than %d words",
			               SEARCH_MAX_WORDS);
		if (add_word(q, w))
			return err_set(e, EX_DATAERR, "invalid_text", "text", "search text too long");
	}
	return q->digits[0] ? phone_query(q, words, e) : 0;
}

/* Row ids found so far, in the order shown, at most max. */
struct hits {
	int64_t *ids;
	int n, max;
};

/* Steps s (whose first column is a customer row id) and adds the ids not
 * yet in h, until h is full or s is done. Finalizes s. Returns 0 or a
 * status. */
static int add_hits(struct store *st, sqlite3_stmt *s, struct hits *h, struct pa_err *e)
{
	int step = SQLITE_DONE, rc = 0;

	while (h->n < h->max && (step = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		bool seen = false;

		for (int i = 0; i < h->n && !seen; i++)
			seen = h->ids[i] == id;
		if (!seen)
			h->ids[h->n++] = id;
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = store_fail(st, e, "search customers");
	sqlite3_finalize(s);
	return rc;
}

/* True when w starts a word of text: at its start or after a character
 * that is not an ASCII letter or digit (as FTS5's unicode61 splits words;
 * ASCII case ignored). text may be NULL. */
static bool starts_word(const char *text, const char *w)
{
	size_t n = strlen(w);
	bool at_start = true;

	for (const unsigned char *p = (const unsigned char *)text; p && *p; p++) {
		if (at_start && strncasecmp((const char *)p, w, n) == 0)
			return true;
		at_start = !((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p >= 0x80);
	}
	return false;
}

/* Adds to h the rows of the trigram query tri, newest first, in which
 * every word of shorts starts a word: of the names only (names), else of
 * any indexed column. The short words are checked here on each row, not
 * with a second FTS query per row (a prefix query rebuilds its whole
 * doclist each time). Returns 0 or a status. */
static int run_filtered(struct store *st, const char *tri, const char (*shorts)[16], int nshorts, bool names,
                        struct hits *h, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT t.rowid, c.search_name, c.email, c.phone, c.local_number,"
	                                    " c.account, c.address_text FROM customer_tri t JOIN customer c"
	                                    " ON c.id = t.rowid WHERE customer_tri MATCH ?1 ORDER BY t.rowid DESC", e);
	int step, rc = 0;

	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, tri, -1, SQLITE_STATIC);
	while (h->n < h->max && (step = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		bool all = true, seen = false;

		for (int i = 0; i < nshorts && all; i++) {
			bool one = false;
			for (int col = 1; col <= (names ? 1 : 6) && !one; col++)
				one = starts_word(store_col_text(s, col), shorts[i]);
			all = one;
		}
		for (int i = 0; i < h->n && all && !seen; i++)
			seen = h->ids[i] == id;
		if (all && !seen)
			h->ids[h->n++] = id;
	}
	if (h->n < h->max && step != SQLITE_DONE)
		rc = store_fail(st, e, "search customers");
	sqlite3_finalize(s);
	return rc;
}

/* Adds to h the customers matching the trigram query tri and the word
 * query word (either may be "": not asked), newest first. With both, the
 * trigram query leads and shorts (the word query's words) are checked row
 * by row. Returns 0 or a status. */
static int run_pair(struct store *st, const char *tri, const char *word, const char (*shorts)[16], int nshorts,
                    bool names, struct hits *h, struct pa_err *e)
{
	sqlite3_stmt *s;
	const char *one = tri[0] ? tri : word;

	if (!tri[0] && !word[0])
		return 0;
	if (tri[0] && word[0])
		return run_filtered(st, tri, shorts, nshorts, names, h, e);
	if (tri[0])
		s = store_prepare(st, "SELECT rowid FROM customer_tri WHERE customer_tri MATCH ?1"
		                      " ORDER BY rowid DESC LIMIT ?2", e);
	else
		s = store_prepare(st, "SELECT rowid FROM customer_word WHERE customer_word MATCH ?1"
		                      " ORDER BY rowid DESC LIMIT ?2", e);
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, one, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, h->max);
	return add_hits(st, s, h, e);
}

/* "search_name : (QUERY)" into out (n bytes), or "" for an empty query. */
static void names_only(const char *query, char *out, size_t n)
{
	out[0] = '\0';
	if (query[0])
		snprintf(out, n, "search_name : (%s)", query);
}

/* The three tiers of AGENT.md's order into h. Returns 0 or a status. */
static int find(struct store *st, const struct query *q, struct hits *h, struct pa_err *e)
{
	char name_tri[QUERY_LEN + 32], name_word[QUERY_LEN + 32];
	sqlite3_stmt *s;
	int rc;

	/* 1. exact local number, account, email or phone digits (index seeks) */
	s = store_prepare(st, "SELECT id FROM customer WHERE local_number = ?1 OR local_number = upper(?1)"
	                      " OR account = ?1 OR account = upper(?1) OR email = ?1 COLLATE NOCASE"
	                      " OR phone_digits = ?2 ORDER BY id DESC LIMIT ?3", e);
	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, q->exact, -1, SQLITE_STATIC);
	store_bind_text(s, 2, q->digits[0] ? q->digits : NULL);
	sqlite3_bind_int(s, 3, h->max);
	if ((rc = add_hits(st, s, h, e)) || h->n >= h->max)
		return rc;
	/* 2. names with a word starting with every search word */
	names_only(q->name_tri, name_tri, sizeof(name_tri));
	names_only(q->name_word, name_word, sizeof(name_word));
	if (!q->no_names && (rc = run_pair(st, name_tri, name_word, q->name_shorts, q->nname_shorts, true,
	                                   h, e)))
		return rc;
	if (h->n >= h->max)
		return 0;
	/* 3. every word anywhere (3+ characters) or at a word start */
	return run_pair(st, q->tri, q->word, q->shorts, q->nshorts, false, h, e);
}

int search_customers(struct store *st, const char *text, int limit, cJSON **out, struct pa_err *e)
{
	struct query *q = calloc(1, sizeof(*q));
	struct hits h = {calloc((size_t)(limit > 0 ? limit : 1), sizeof(int64_t)), 0, limit};
	cJSON *arr = NULL, *doc;
	int rc;

	*out = NULL;
	if (!q || !h.ids) {
		rc = err_set(e, EX_OSERR, "out_of_memory", NULL, "out of memory");
		goto cleanup;
	}
	if ((rc = parse(text, q, e)) || (rc = find(st, q, &h, e)))
		goto cleanup;
	arr = cJSON_CreateArray();
	for (int i = 0; i < h.n; i++) {
		if ((rc = cust_get(st, h.ids[i], &doc, e)))
			goto cleanup;
		cJSON_AddItemToArray(arr, doc);
	}
	*out = arr;
	arr = NULL;
cleanup:
	cJSON_Delete(arr);
	free(h.ids);
	free(q);
	return rc;
}

int search_index_address(struct store *st, int64_t id, struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, "SELECT coalesce(line1, '') || ' ' || coalesce(city, '') || ' '"
	                                    " || coalesce(postal_code, '') FROM address WHERE id = ?1", e);
	char folded[1024] = "";
	int rc = 0, step;

	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, id);
	step = sqlite3_step(s);
	if (step == SQLITE_ROW)
		fold_text(store_col_text(s, 0), folded, sizeof(folded));
	sqlite3_finalize(s);
	if (step != SQLITE_ROW && step != SQLITE_DONE) /* a failed read is not an empty address */
		return store_fail(st, e, "index address");
	s = store_prepare(st, "UPDATE address SET search_text = ?2 WHERE id = ?1", e);
	if (!s)
		return e->status;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_text(s, 2, folded, -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_DONE)
		rc = store_fail(st, e, "index address");
	sqlite3_finalize(s);
	return rc;
}
