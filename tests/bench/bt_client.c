/*
 * bt_client: the benchmarks' reference HQ client. A minimal program that
 * does what the agent does on the wire and nothing else: no state kept,
 * no durability, no retries. libcurl linked directly; one easy handle, so
 * every request of a run goes over one kept-alive TLS connection (checked:
 * the number of connections opened is printed, and must be 1).
 *
 * CONF is an agent configuration as tests/hq/start writes it ([agent]
 * store, register, database; [hq] url, ca_file, token_file).
 *
 *   bt_client drain CONF BATCH
 *       reads the pending customers, then the pending transactions, then
 *       the pending customer updates, from the database (one query each,
 *       in id order), builds the same HQ-API records as common/upload.c
 *       (same members, same order, the transaction's stored body plus its
 *       customer reference, an update as common/update.c), batches of
 *       BATCH in the same envelope, gzip from 4096 bytes as the agent does,
 *       POSTs them with an Idempotency-Key and checks that every record is
 *       accepted. Prints "RECORDS SECONDS CONNECTIONS".
 *   bt_client statement CONF DATE
 *       reads the transactions of DATE, sums them as the agent's statement
 *       does, POSTs the statement, expects 201. Prints "TXNS CONNECTIONS".
 *   bt_client roundtrip CONF N INTERVAL_MS
 *       N times: POST one new customer in a batch, then follow the changes
 *       feed (long poll) until its account_assigned arrives; prints the
 *       milliseconds of each round trip, one a line. HQ assigning at once.
 *   bt_client longpoll CONF WAIT SECONDS
 *       long-polls the changes feed (wait=WAIT) for SECONDS; prints
 *       "REQUESTS CONNECTIONS". The idle reference.
 */
#include <curl/curl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <cJSON.h>

struct conf {
	char store[40], reg[40], db[1024], url[512], ca[1024], token[256];
};

static CURL *easy;
static char auth[320];
static struct conf cf;
static char *buf;
static size_t blen, bcap;
static volatile sig_atomic_t stop;

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bt_client: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static double mono(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void uuid(char out[37])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		die("getrandom", NULL);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
	         b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* Copies v into d[n], cut when too long. */
static void setv(char *d, size_t n, const char *v)
{
	size_t l = strlen(v);

	if (l >= n)
		l = n - 1;
	memcpy(d, v, l);
	d[l] = '\0';
}

/* Copies the value of "key = value" lines of CONF (comments after ';'). */
static void read_conf(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[2048], tok[2048];

	if (!f)
		die("cannot read", path);
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '='), *k = line, *v, *end;
		if (!eq || line[0] == ';' || line[0] == '#' || line[0] == '[')
			continue;
		*eq = '\0';
		v = eq + 1;
		while (*k == ' ')
			k++;
		for (end = eq - 1; end >= k && (*end == ' ' || *end == '\t'); end--)
			*end = '\0';
		while (*v == ' ')
			v++;
		if ((end = strchr(v, ';')))
			*end = '\0';
		for (end = v + strlen(v) - 1; end >= v && (*end == ' ' || *end == '\n' || *end == '\r'); end--)
			*end = '\0';
		setv(tok, sizeof(tok), v);
		if (!strcmp(k, "store"))
			setv(cf.store, sizeof(cf.store), tok);
		else if (!strcmp(k, "register"))
			setv(cf.reg, sizeof(cf.reg), tok);
		else if (!strcmp(k, "database"))
			setv(cf.db, sizeof(cf.db), tok);
		else if (!strcmp(k, "url"))
			setv(cf.url, sizeof(cf.url), tok);
		else if (!strcmp(k, "ca_file"))
			setv(cf.ca, sizeof(cf.ca), tok);
		else if (!strcmp(k, "token_file")) {
			FILE *t = fopen(tok, "r");
			if (!t || !fgets(cf.token, sizeof(cf.token), t))
				die("cannot read token", tok);
			cf.token[strcspn(cf.token, "\r\n")] = '\0';
			fclose(t);
		}
	}
	fclose(f);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", cf.token);
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
	size_t len = sz * n;

	(void)ud;
	if (blen + len + 1 > bcap) {
		bcap = (blen + len + 1) * 2;
		buf = realloc(buf, bcap);
		if (!buf)
			die("out of memory", NULL);
	}
	memcpy(buf + blen, p, len);
	blen += len;
	buf[blen] = '\0';
	return len;
}

static void setup(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	easy = curl_easy_init();
	if (!easy)
		die("curl_easy_init", NULL);
	curl_easy_setopt(easy, CURLOPT_CAINFO, cf.ca);
	curl_easy_setopt(easy, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT, 120L);
}

/* gzip of in as the agent makes it (zlib, default level, gzip wrapper). */
static unsigned char *gzip(const char *in, size_t len, size_t *outlen)
{
	z_stream zs;
	unsigned char *out;
	uLong bound;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		die("deflateInit2", NULL);
	bound = deflateBound(&zs, (uLong)len) + 64;
	out = malloc(bound);
	if (!out)
		die("out of memory", NULL);
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)bound;
	if (deflate(&zs, Z_FINISH) != Z_STREAM_END)
		die("deflate", NULL);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	return out;
}

/* One request; returns the HTTP status, the body in buf. */
static long request(const char *path, const char *body, size_t len)
{
	char url[1200], key[80], id[37];
	struct curl_slist *h = NULL;
	unsigned char *gz = NULL;
	size_t gzlen = 0;
	long status = 0;
	CURLcode rc;

	snprintf(url, sizeof(url), "%s%s", cf.url, path);
	blen = 0;
	if (buf)
		buf[0] = '\0';
	curl_easy_setopt(easy, CURLOPT_URL, url);
	h = curl_slist_append(h, auth);
	if (body) {
		uuid(id);
		snprintf(key, sizeof(key), "Idempotency-Key: %s", id);
		h = curl_slist_append(h, "Content-Type: application/json");
		h = curl_slist_append(h, key);
		h = curl_slist_append(h, "Expect:");
		if (len >= 4096) {
			gz = gzip(body, len, &gzlen);
			h = curl_slist_append(h, "Content-Encoding: gzip");
		}
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, gz ? (const char *)gz : body);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(gz ? gzlen : len));
	} else {
		curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(easy);
	if (rc != CURLE_OK)
		die("request failed", curl_easy_strerror(rc));
	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	free(gz);
	return status;
}

static long connections(void)
{
	static long total;
	long n = 0;

	curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &n);
	total += n;
	return total;
}

static void put(cJSON *o, const char *name, sqlite3_stmt *s, int col)
{
	const char *v = (const char *)sqlite3_column_text(s, col);

	if (v)
		cJSON_AddStringToObject(o, name, v);
	else
		cJSON_AddNullToObject(o, name);
}

/* POSTs the batch in recs (n records) and checks every result. */
static void post_batch(cJSON *recs, int n, long *conns)
{
	char id[37], path[200], *text;
	cJSON *env = cJSON_CreateObject(), *doc;
	const cJSON *results, *r;
	long status;
	int ok = 0;

	uuid(id);
	cJSON_AddStringToObject(env, "batch_id", id);
	cJSON_AddItemToObject(env, "records", recs);
	text = cJSON_PrintUnformatted(env);
	snprintf(path, sizeof(path), "/v1/stores/%s/registers/%s/batches", cf.store, cf.reg);
	status = request(path, text, strlen(text));
	*conns = connections();
	if (status != 200)
		die("batch not answered 200", buf);
	doc = cJSON_Parse(buf);
	results = cJSON_GetObjectItemCaseSensitive(doc, "results");
	cJSON_ArrayForEach(r, results) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "status");
		if (cJSON_IsString(st) && (!strcmp(st->valuestring, "accepted") || !strcmp(st->valuestring, "duplicate")))
			ok++;
	}
	if (ok != n)
		die("not every record accepted", buf);
	cJSON_Delete(doc);
	cJSON_Delete(env);
	free(text);
}

static int drain(int batch)
{
	static const char *const q[] = {
		"SELECT async_id, local_number, created_at, kind, first_name, last_name, organization_name, email, phone,"
		" language, attributes FROM customer WHERE state = 'pending' ORDER BY id",
		"SELECT t.body, t.customer_id, c.async_id, c.account FROM txn t LEFT JOIN customer c"
		" ON c.id = t.customer_id WHERE t.state = 'pending' ORDER BY t.id",
		"SELECT u.update_id, u.created_at, u.fields, c.async_id, c.account FROM record_update u"
		" JOIN customer c ON c.id = u.customer_id WHERE u.state = 'pending' AND u.kind = 'customer_update'"
		" ORDER BY u.id",
	};
	sqlite3 *db = NULL;
	long total = 0, conns = 0;
	double t0 = mono();

	if (sqlite3_open_v2(cf.db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die("cannot open", cf.db);
	setup();
	for (int k = 0; k < 3; k++) {
		sqlite3_stmt *s = NULL;
		cJSON *recs = NULL;
		int n = 0;
		if (sqlite3_prepare_v2(db, q[k], -1, &s, NULL) != SQLITE_OK)
			die("prepare", sqlite3_errmsg(db));
		while (sqlite3_step(s) == SQLITE_ROW) {
			cJSON *r;
			if (!recs)
				recs = cJSON_CreateArray();
			if (k == 0) {
				cJSON *attrs;
				r = cJSON_CreateObject();
				cJSON_AddStringToObject(r, "type", "customer");
				put(r, "async_id", s, 0);
				put(r, "local_number", s, 1);
				put(r, "created_at", s, 2);
				put(r, "kind", s, 3);
				put(r, "first_name", s, 4);
				put(r, "last_name", s, 5);
				put(r, "organization_name", s, 6);
				put(r, "email", s, 7);
				put(r, "phone", s, 8);
				put(r, "language", s, 9);
				attrs = cJSON_Parse(sqlite3_column_text(s, 10) ? (const char *)sqlite3_column_text(s, 10) : "{}");
				cJSON_AddItemToObject(r, "attributes", attrs ? attrs : cJSON_CreateObject());
			} else if (k == 2) { /* as common/update.c's upd_record */
				cJSON *ref, *fields;
				r = cJSON_CreateObject();
				cJSON_AddStringToObject(r, "type", "customer_update");
				put(r, "update_id", s, 0);
				put(r, "created_at", s, 1);
				ref = cJSON_AddObjectToObject(r, "customer");
				if (sqlite3_column_text(s, 4))
					put(ref, "account", s, 4);
				else
					put(ref, "async_id", s, 3);
				fields = cJSON_Parse((const char *)sqlite3_column_text(s, 2));
				if (!fields)
					die("unreadable update fields", NULL);
				cJSON_AddItemToObject(r, "fields", fields);
			} else {
				r = cJSON_Parse((const char *)sqlite3_column_text(s, 0));
				if (!r)
					die("unreadable transaction body", NULL);
				if (sqlite3_column_type(s, 1) == SQLITE_NULL) {
					cJSON_AddNullToObject(r, "customer");
				} else {
					cJSON *ref = cJSON_CreateObject();
					if (sqlite3_column_text(s, 3))
						put(ref, "account", s, 3);
					else
						put(ref, "async_id", s, 2);
					cJSON_AddItemToObject(r, "customer", ref);
				}
			}
			cJSON_AddItemToArray(recs, r);
			if (++n == batch) {
				post_batch(recs, n, &conns);
				total += n;
				recs = NULL;
				n = 0;
			}
		}
		if (n) {
			post_batch(recs, n, &conns);
			total += n;
		}
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	printf("%ld %.6f %ld\n", total, mono() - t0, conns);
	return 0;
}

static int statement(const char *date)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	cJSON *doc = cJSON_CreateObject(), *ids, *totals, *by;
	char id[37], path[200], *text;
	long long sales = 0, n = 0;
	long status;

	if (sqlite3_open_v2(cf.db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die("cannot open", cf.db);
	uuid(id);
	cJSON_AddStringToObject(doc, "statement_id", id);
	cJSON_AddStringToObject(doc, "business_date", date);
	cJSON_AddStringToObject(doc, "currency", "EUR");
	ids = cJSON_CreateArray();
	sqlite3_prepare_v2(db, "SELECT txn_id, total_minor FROM txn WHERE business_date = ?1 ORDER BY id", -1, &s, NULL);
	sqlite3_bind_text(s, 1, date, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW) {
		cJSON_AddItemToArray(ids, cJSON_CreateString((const char *)sqlite3_column_text(s, 0)));
		sales += sqlite3_column_int64(s, 1);
		n++;
	}
	sqlite3_finalize(s);
	cJSON_AddNumberToObject(doc, "transaction_count", (double)n);
	cJSON_AddItemToObject(doc, "transactions", ids);
	totals = cJSON_AddObjectToObject(doc, "totals");
	cJSON_AddNumberToObject(totals, "sales_minor", (double)sales);
	by = cJSON_AddObjectToObject(totals, "by_tender");
	sqlite3_prepare_v2(db, "SELECT tn.type, sum(tn.amount_minor) FROM tender tn JOIN txn t ON t.id = tn.txn"
	                       " WHERE t.business_date = ?1 GROUP BY tn.type ORDER BY tn.type", -1, &s, NULL);
	sqlite3_bind_text(s, 1, date, -1, SQLITE_STATIC);
	while (sqlite3_step(s) == SQLITE_ROW)
		cJSON_AddNumberToObject(by, (const char *)sqlite3_column_text(s, 0), (double)sqlite3_column_int64(s, 1));
	sqlite3_finalize(s);
	sqlite3_close(db);
	text = cJSON_PrintUnformatted(doc);
	setup();
	snprintf(path, sizeof(path), "/v1/stores/%s/registers/%s/statements", cf.store, cf.reg);
	status = request(path, text, strlen(text));
	if (status != 201)
		die("statement not answered 201", buf);
	printf("%lld %ld\n", n, connections());
	free(text);
	cJSON_Delete(doc);
	return 0;
}

/* Reads the feed from cursor (wait seconds); returns the next cursor in
 * next and whether async_id (when given) got its account. */
static int changes(const char *cursor, int wait, const char *async_id, char *next, size_t nn, int *more)
{
	char path[700];
	cJSON *doc;
	const cJSON *ch, *nx;
	int found = 0;

	snprintf(path, sizeof(path), "/v1/stores/%s/changes?after=%s&limit=1000&wait=%d", cf.store, cursor, wait);
	if (request(path, NULL, 0) != 200)
		die("changes not answered 200", buf);
	doc = cJSON_Parse(buf);
	cJSON_ArrayForEach(ch, cJSON_GetObjectItemCaseSensitive(doc, "changes")) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(ch, "type");
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(ch, "async_id");
		if (async_id && cJSON_IsString(t) && !strcmp(t->valuestring, "account_assigned") && cJSON_IsString(a) &&
		    !strcmp(a->valuestring, async_id))
			found = 1;
	}
	nx = cJSON_GetObjectItemCaseSensitive(doc, "next");
	if (cJSON_IsString(nx))
		snprintf(next, nn, "%s", nx->valuestring);
	*more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "more"));
	cJSON_Delete(doc);
	return found;
}

static void catch_up(char *cursor, size_t n)
{
	int more = 1;

	while (more)
		changes(cursor, 0, NULL, cursor, n, &more);
}

static int roundtrip(int n, int interval_ms)
{
	char cursor[512] = "", path[200], id[37], body[1024];
	int more = 0;

	setup();
	catch_up(cursor, sizeof(cursor));
	snprintf(path, sizeof(path), "/v1/stores/%s/registers/%s/batches", cf.store, cf.reg);
	for (int i = 0; i < n; i++) {
		char bid[37];
		double t0 = mono(), t1;
		int found = 0;
		uuid(id);
		uuid(bid);
		snprintf(body, sizeof(body),
		         "{\"batch_id\":\"%s\",\"records\":[{\"type\":\"customer\",\"async_id\":\"%s\","
		         "\"local_number\":\"R01-9%05d\",\"created_at\":\"2026-01-01T00:00:00Z\",\"kind\":\"person\","
		         "\"first_name\":\"Ana\",\"last_name\":\"Silva\",\"organization_name\":null,"
		         "\"email\":\"rt%d@example.com\",\"phone\":\"+351 911 234 567\",\"language\":null,"
		         "\"attributes\":{}}]}",
		         bid, id, i, i);
		if (request(path, body, strlen(body)) != 200)
			die("batch not answered 200", buf);
		while (!found)
			found = changes(cursor, 10, id, cursor, sizeof(cursor), &more);
		catch_up(cursor, sizeof(cursor));
		t1 = mono();
		printf("%.3f\n", (t1 - t0) * 1000);
		fflush(stdout);
		if (interval_ms > 0 && (t1 - t0) * 1000 < interval_ms)
			usleep((useconds_t)((interval_ms - (t1 - t0) * 1000) * 1000));
	}
	fprintf(stderr, "bt_client: roundtrip: %ld connection(s)\n", connections());
	return 0;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int longpoll(int wait, double seconds)
{
	char cursor[512] = "";
	long requests = 0;
	int more = 0;
	double end = mono() + seconds;

	signal(SIGTERM, on_term);
	setup();
	catch_up(cursor, sizeof(cursor));
	while (!stop && mono() < end) {
		changes(cursor, wait, NULL, cursor, sizeof(cursor), &more);
		requests++;
	}
	printf("%ld %ld\n", requests, connections());
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bt_client drain CONF BATCH | statement CONF DATE | roundtrip CONF N INTERVAL_MS"
		                " | longpoll CONF WAIT SECONDS\n");
		return 64;
	}
	read_conf(argv[2]);
	if (!strcmp(argv[1], "drain") && argc == 4)
		return drain(atoi(argv[3]));
	if (!strcmp(argv[1], "statement") && argc == 4)
		return statement(argv[3]);
	if (!strcmp(argv[1], "roundtrip") && argc == 5)
		return roundtrip(atoi(argv[3]), atoi(argv[4]));
	if (!strcmp(argv[1], "longpoll") && argc == 5)
		return longpoll(atoi(argv[3]), atof(argv[4]));
	fprintf(stderr, "bt_client: bad arguments\n");
	return 64;
}
