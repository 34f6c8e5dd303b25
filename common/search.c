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
	char name[QUERY_LEN];  /* customer_name_fts: every word, as a prefix */
	char phone[QUERY_LEN]; /* customer_phone_fts: the trigrams of the digits ("": not asked) */
	char shorts[SEARCH_MAX_WORDS][16];      /* the words of 1 or 2 characters */
	int nshorts;
	bool no_names;  /* a word that is not one plain name token: no name tier */
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

/* True when a folded word is one token of customer_name_fts's tokenizer
 * that can start a name: ASCII letters only. (A word with a digit or
 * '@' is no name; one with punctuation or outside ASCII after folding,
 * such as o'brien, is several tokens or may be: it is left to the last
 * tier, which matches it exactly.) */
static bool name_token(const char *w)
{
	for (const char *p = w; *p; p++)
		if (*p < 'a' || *p > 'z')
			return false;
	return *w != '\0';
}

/* Adds one folded word to the queries. Returns 0, or -1 when too long.
 * The names tier asks customer_name_fts for "word"*: a word of up to 4
 * characters is one doclist of its prefix index, a longer one merges
 * the doclists of the name words it starts. */
static int add_word(struct query *q, const char *w)
{
	size_t cps = val_utf8_len(w);

	if (add_term(cps >= 3 ? q->tri : q->word, QUERY_LEN, w, cps < 3))
		return -1;
	if (cps < 3 && util_copy(q->shorts[q->nshorts++], sizeof(q->shorts[0]), w))
		return -1;
	if (!name_token(w))
		q->no_names = true;
	return q->no_names ? 0 : add_term(q->name, QUERY_LEN, w, true);
}

/* customer_phone_fts's query for digits (3 or more): trigrams that cover
 * them, side by side, the last one ending at the last digit ("1234567":
 * 123 AND 456 AND 567). detail='none' keeps no positions, so each row
 * found is checked for the digits themselves; every trigram of them, as
 * overlapping ones would ask, only adds doclists to walk (measured: a
 * third less time for "805 000" at 1,000,000 customers). Returns 0, or
 * -1 when too long. */
static int phone_trigrams(struct query *q)
{
	size_t n = strlen(q->digits);
	char tg[4];

	q->phone[0] = '\0';
	for (size_t i = 0; i + 3 <= n; i = (i + 6 <= n || i + 3 == n) ? i + 3 : n - 3) {
		memcpy(tg, q->digits + i, 3);
		tg[3] = '\0';
		if (add_term(q->phone, QUERY_LEN, tg, false))
			return -1;
		if (i + 3 == n)
			break;
	}
	return 0;
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
	q->no_names = true;
	if (q->word[0] || !q->tri[0] || words_n > 1) { /* the digits alone: the phone index */
		q->word[0] = q->tri[0] = '\0';
		q->nshorts = 0;
		return phone_trigrams(q) ? err_set(e, EX_DATAERR, "invalid_text", "text", "search text too long") : 0;
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
 * every word of shorts starts a word of an indexed column. The short
 * words are checked here on each row, not with a second FTS query per
 * row (a prefix query rebuilds its whole doclist each time). Returns 0 or
 * a status. */
static int run_filtered(struct store *st, const char *tri, const char (*shorts)[16], int nshorts,
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
			for (int col = 1; col <= 6 && !one; col++)
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
                    struct hits *h, struct pa_err *e)
{
	sqlite3_stmt *s;
	const char *one = tri[0] ? tri : word;

	if (!tri[0] && !word[0])
		return 0;
	if (tri[0] && word[0])
		return run_filtered(st, tri, shorts, nshorts, h, e);
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

/* Adds to h the rows of a query on customer_name_fts or customer_phone_fts
 * (sql: its rowid is -id, so its own order is newest first), with the
 * FTS5 query ?1, the limit ?2 and, for the phone, the digits ?3. Returns
 * 0 or a status. */
static int run_key(struct store *st, const char *sql, const char *query, const char *digits, struct hits *h,
                   struct pa_err *e)
{
	sqlite3_stmt *s = store_prepare(st, sql, e);

	if (!s)
		return e->status;
	sqlite3_bind_text(s, 1, query, -1, SQLITE_STATIC);
	sqlite3_bind_int(s, 2, h->max);
	if (digits)
		sqlite3_bind_text(s, 3, digits, -1, SQLITE_STATIC);
	return add_hits(st, s, h, e);
}

/* True when text has an ASCII digit. */
static bool has_digit(const char *text)
{
	return strpbrk(text, "0123456789") != NULL;
}

/* The tiers of AGENT.md's order into h. Returns 0 or a status. */
static int find(struct store *st, const struct query *q, struct hits *h, struct pa_err *e)
{
	sqlite3_stmt *s;
	int rc;

	/* 1. exact local number, account, email or phone digits (index
	 * seeks). A local number or an account has digits, an email an '@':
	 * a text that cannot be one asks nothing of that index (a seek in a
	 * cold index of 1,000,000 rows costs about 0.2 ms), and a name asks
	 * no exact value at all. */
	if (has_digit(q->exact) || strchr(q->exact, '@')) {
		s = store_prepare(st, "SELECT id FROM customer WHERE local_number = ?1 OR local_number = upper(?1)"
		                      " OR account = ?1 OR account = upper(?1) OR email = ?4 COLLATE NOCASE"
		                      " OR phone_digits = ?2 ORDER BY id DESC LIMIT ?3", e);
		if (!s)
			return e->status;
		store_bind_text(s, 1, has_digit(q->exact) ? q->exact : NULL);
		store_bind_text(s, 2, q->digits[0] ? q->digits : NULL);
		sqlite3_bind_int(s, 3, h->max);
		store_bind_text(s, 4, strchr(q->exact, '@') ? q->exact : NULL);
		if ((rc = add_hits(st, s, h, e)) || h->n >= h->max)
			return rc;
	}
	/* 2. names with a word starting with every search word */
	if (!q->no_names && q->name[0] &&
	    (rc = run_key(st, "SELECT -rowid FROM customer_name_fts WHERE customer_name_fts MATCH ?1 ORDER BY rowid LIMIT ?2",
	                  q->name, NULL, h, e)))
		return rc;
	if (h->n >= h->max)
		return 0;
	/* 3. the digits anywhere in the phone, or every word anywhere (3+
	 * characters) or at a word start */
	if (q->phone[0])
		return run_key(st, "SELECT c.id FROM customer_phone_fts p JOIN customer c ON c.id = -p.rowid"
		                   " WHERE customer_phone_fts MATCH ?1 AND instr(c.phone_digits, ?3) > 0"
		                   " ORDER BY p.rowid LIMIT ?2", q->phone, q->digits, h, e);
	return run_pair(st, q->tri, q->word, q->shorts, q->nshorts, h, e);
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
