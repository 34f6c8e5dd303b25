# tests/bench/datagen.sh: SQL that fills a database made by `posagent init`
# with customers and transactions as the code itself stores them. Sourced
# by tests/bench/run; each function prints SQL for `sqlite3 DB`.
#
# Why SQL: 1,000,000 customers through `customer create` would take hours
# (one process and one fsync each), and even in-process through
# cust_create() some minutes (a transaction and an FTS flush per row).
# The rows are those cust_create() and txn_record() write, column for
# column (tests/bench/run checks it against rows the real code made: same
# columns filled, same shapes): the FTS tables follow through the schema's
# own triggers, meta local_seq is set so that the next `customer create`
# takes the next number at once.
#
# Names come from 40 first names x 60 last names (real Portuguese ones, so
# that trigrams repeat as they do in a real register), emails and phones
# are distinct per customer (phone digits a bijection of the row number).
# search_name is the names folded as common/fold does, after a space (these
# names need only the nine replacements below).

# cust_sql FROM TO STATE: customers FROM..TO (local numbers R01-FROM..),
# STATE pending (waiting, no account) or synced (account C5000000+N: not a
# number a fresh reference HQ hands out, C000001 upwards, so that a test
# creating customers on a copy never meets its own account twice).
cust_sql() {
	local from=$1 to=$2 state=$3 account=NULL waiting='unixepoch()' version=NULL
	if [ "$state" = synced ]; then
		account="printf('C%d', 5000000 + i)"
		waiting=NULL
		version=1 # HQ's customer version, as a download stores it (issue 12)
	fi
	cat <<SQL
WITH RECURSIVE n(i) AS (SELECT $from UNION ALL SELECT i + 1 FROM n WHERE i < $to),
f(k, name) AS (VALUES (0,'Ana'),(1,'João'),(2,'Maria'),(3,'Pedro'),(4,'Inês'),(5,'Tiago'),(6,'Sofia'),(7,'Rui'),
 (8,'Beatriz'),(9,'Miguel'),(10,'Carla'),(11,'Nuno'),(12,'Marta'),(13,'Luís'),(14,'Rita'),(15,'Paulo'),(16,'Helena'),
 (17,'André'),(18,'Joana'),(19,'Bruno'),(20,'Lena'),(21,'Hugo'),(22,'Clara'),(23,'Diogo'),(24,'Eva'),(25,'Filipe'),
 (26,'Gabriela'),(27,'Ivo'),(28,'Laura'),(29,'Mateus'),(30,'Nádia'),(31,'Óscar'),(32,'Patrícia'),(33,'Raquel'),
 (34,'Sérgio'),(35,'Teresa'),(36,'Vasco'),(37,'Xana'),(38,'Yara'),(39,'Zé')),
l(k, name) AS (VALUES (0,'Silva'),(1,'Santos'),(2,'Ferreira'),(3,'Pereira'),(4,'Oliveira'),(5,'Costa'),(6,'Rodrigues'),
 (7,'Martins'),(8,'Jesus'),(9,'Sousa'),(10,'Fernandes'),(11,'Gonçalves'),(12,'Gomes'),(13,'Lopes'),(14,'Marques'),
 (15,'Alves'),(16,'Almeida'),(17,'Ribeiro'),(18,'Pinto'),(19,'Carvalho'),(20,'Teixeira'),(21,'Moreira'),(22,'Correia'),
 (23,'Mendes'),(24,'Nunes'),(25,'Soares'),(26,'Vieira'),(27,'Monteiro'),(28,'Cardoso'),(29,'Rocha'),(30,'Raposo'),
 (31,'Neves'),(32,'Coelho'),(33,'Cruz'),(34,'Cunha'),(35,'Pires'),(36,'Ramos'),(37,'Reis'),(38,'Simões'),(39,'Antunes'),
 (40,'Matos'),(41,'Fonseca'),(42,'Machado'),(43,'Araújo'),(44,'Barbosa'),(45,'Tavares'),(46,'Lourenço'),(47,'Castro'),
 (48,'Figueiredo'),(49,'Azevedo'),(50,'Freitas'),(51,'Silvestre'),(52,'Miranda'),(53,'Baptista'),(54,'Henriques'),
 (55,'Brito'),(56,'Valente'),(57,'Amaral'),(58,'Campos'),(59,'Faria')),
g(i, fn, ln, p) AS (SELECT i, (SELECT name FROM f WHERE k = (i * 7) % 40), (SELECT name FROM l WHERE k = (i * 13 + i / 40) % 60),
 printf('%08d', (i * 2654435761) % 100000000) FROM n)
INSERT INTO customer(async_id, local_number, account, origin, state, kind, first_name, last_name, email, phone, language,
 attributes, search_name, phone_digits, created_at, waiting_since, updated_at, version)
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
 || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
 printf('R01-%06d', i), $account, 'local', '$state', 'person', fn, ln,
 lower(fn) || '.' || lower(ln) || i || '@example.com',
 '+351 9' || substr(p, 1, 2) || ' ' || substr(p, 3, 3) || ' ' || substr(p, 6, 3),
 CASE WHEN i % 3 = 0 THEN 'pt-PT' END, CASE WHEN i % 4 = 0 THEN '{"loyalty_opt_in":"yes"}' ELSE '{}' END,
 ' ' || lower(replace(replace(replace(replace(replace(replace(replace(replace(replace(fn || ' ' || ln,
 'ã', 'a'), 'ê', 'e'), 'í', 'i'), 'é', 'e'), 'á', 'a'), 'Ó', 'o'), 'ç', 'c'), 'õ', 'o'), 'ú', 'u')), '3519' || p, strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || (($to - i) / 50) || ' seconds'),
 $waiting, unixepoch(), $version
FROM g;
INSERT INTO meta(key, value) VALUES ('local_seq', '$to') ON CONFLICT(key) DO UPDATE SET value = excluded.value;
SQL
}

# txn_sql FROM TO DATE CUSTOMER_EXPR: pending transactions FROM..TO of
# business date DATE (txn_id S0001-R01-NNNNNNN), transaction i for customer
# row CUSTOMER_EXPR (an SQL expression of i; NULL: anonymous), one line of
# 1 to 3 items, one tender of cash, card or voucher; body as txn_record()
# stores it (canonical member order, no customer member) and its tender row.
txn_sql() {
	local from=$1 to=$2 d=$3 cust=$4
	cat <<SQL
WITH RECURSIVE n(i) AS (SELECT $from UNION ALL SELECT i + 1 FROM n WHERE i < $to),
g(i, qty, price, tt) AS (SELECT i, 1 + i % 3, 100 + (i * 37) % 5000,
 CASE i % 3 WHEN 0 THEN 'cash' WHEN 1 THEN 'card' ELSE 'voucher' END FROM n)
INSERT INTO txn(txn_id, kind, business_date, customer_id, total_minor, body, state, waiting_since, updated_at)
SELECT printf('S0001-R01-%07d', i), 'cash_and_carry', '$d', $cust, qty * price,
 '{"type":"transaction","txn_id":"' || printf('S0001-R01-%07d', i) || '","kind":"cash_and_carry","business_date":"$d",'
 || '"created_at":"${d}T10:00:00Z","currency":"EUR","lines":[{"sku":"SKU-' || (i % 5000) || '","qty":' || qty
 || ',"unit_price_minor":' || price || '}],"tenders":[{"type":"' || tt || '","amount_minor":' || (qty * price)
 || '}],"total_minor":' || (qty * price) || '}',
 'pending', unixepoch(), unixepoch()
FROM g;
INSERT INTO tender(txn, type, amount_minor)
SELECT id, json_extract(body, '\$.tenders[0].type'), total_minor FROM txn
WHERE txn_id BETWEEN printf('S0001-R01-%07d', $from) AND printf('S0001-R01-%07d', $to);
SQL
}

# fill DB SQL-GENERATOR-CALLS...: runs the SQL of the given generator calls
# (each a quoted command line) in one transaction, without fsync (nothing
# is measured while building), then checkpoints so that the file is whole.
# addr_sql FROM TO: one pending delivery address for each customer FROM..TO
# (address id = customer id), as `customer address add --purpose delivery`
# stores it (the folded search text included: the trigger gathers it into
# the customer's address_text).
addr_sql() {
	local from=$1 to=$2
	cat <<SQL
WITH RECURSIVE n(i) AS (SELECT $from UNION ALL SELECT i + 1 FROM n WHERE i < $to)
INSERT INTO address(id, async_id, customer_id, origin, state, purpose, is_primary, line1, city, postal_code, country,
 created_at, waiting_since, updated_at, search_text)
SELECT i, lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
 || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
 i, 'local', 'pending', 'delivery', 0, 'Rua ' || i, 'Lisboa', '1100-' || printf('%03d', i % 1000), 'PT',
 strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), unixepoch(), unixepoch(),
 'rua ' || i || ' lisboa 1100-' || printf('%03d', i % 1000)
FROM n;
SQL
}

# txn_addr_sql: every other sale that names a customer names that
# customer's delivery address too (addr_sql's ids).
txn_addr_sql() {
	echo "UPDATE txn SET delivery_address_id = customer_id WHERE customer_id IS NOT NULL AND id % 2 = 0;"
}

# upd_sql FROM TO: customers FROM..TO, synced, edited once each after
# upload (issue 12): a new email applied here and a pending customer_update
# carrying it, HQ's old value kept in record_base, as `customer edit
# --email` does.
upd_sql() {
	local from=$1 to=$2
	cat <<SQL
INSERT INTO record_base(kind, row, fields)
SELECT 'customer_update', id, json_patch('{}', json_object('kind', kind, 'first_name', first_name, 'last_name', last_name,
 'organization_name', organization_name, 'email', email, 'phone', phone, 'language', language,
 'attributes', json(attributes)))
FROM customer WHERE id BETWEEN $from AND $to;
UPDATE customer SET email = 'new.' || email, updated_at = unixepoch() WHERE id BETWEEN $from AND $to;
INSERT INTO record_update(update_id, kind, row, customer_id, fields, state, created_at, waiting_since, updated_at)
SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-'
 || substr('89ab', 1 + abs(random()) % 4, 1) || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
 'customer_update', id, id, json_object('email', email), 'pending', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'),
 unixepoch(), unixepoch()
FROM customer WHERE id BETWEEN $from AND $to ORDER BY id;
SQL
}

fill() {
	local db=$1
	shift
	{
		echo "PRAGMA synchronous=OFF; BEGIN;"
		for call in "$@"; do eval "$call"; done
		echo "COMMIT; PRAGMA wal_checkpoint(TRUNCATE);"
	} | sqlite3 -batch -init /dev/null "$db" >/dev/null
}
