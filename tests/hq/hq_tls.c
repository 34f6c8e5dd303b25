/*
 * hq_tls: which certificate a TLS handshake gets. Agents get the server
 * certificate (DIR/server.pem: valid, expired, for another host... as the
 * test chose). A client that asks for the name "hq-admin.test" (SNI) gets
 * DIR/admin.pem instead, always valid and signed by the same CA, so that
 * tests/hq/admin and tests/hq/start keep working whatever --cert did to
 * the server certificate.
 */
#include "tests/hq/hq.h"
#include "tests/hq/hq_tls.h"

#include <stdio.h>
#include <string.h>

struct tls_pair {
	gnutls_pcert_st pcert;
	gnutls_privkey_t key;
	bool loaded;
};

static struct tls_pair server, admin;

/* load_pair: a PEM certificate and its PEM key into *p. Returns 0 or -1. */
static int load_pair(struct tls_pair *p, const char *cert_pem, const char *key_pem)
{
	gnutls_datum_t c = {(unsigned char *)(uintptr_t)cert_pem, (unsigned)strlen(cert_pem)};
	gnutls_datum_t k = {(unsigned char *)(uintptr_t)key_pem, (unsigned)strlen(key_pem)};
	int rc;

	rc = gnutls_pcert_import_x509_raw(&p->pcert, &c, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0) {
		fprintf(stderr, "hq: certificate: %s\n", gnutls_strerror(rc));
		return -1;
	}
	if ((rc = gnutls_privkey_init(&p->key)) < 0 ||
	    (rc = gnutls_privkey_import_x509_raw(p->key, &k, GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		fprintf(stderr, "hq: private key: %s\n", gnutls_strerror(rc));
		gnutls_pcert_deinit(&p->pcert);
		if (p->key)
			gnutls_privkey_deinit(p->key);
		p->key = NULL;
		return -1;
	}
	p->loaded = true;
	return 0;
}

/* tls_load: the server pair, and the admin pair when given (NULL: the
 * server pair serves every name). Returns 0, or -1 with a message. */
int tls_load(const char *cert_pem, const char *key_pem, const char *admin_cert_pem,
             const char *admin_key_pem)
{
	if (load_pair(&server, cert_pem, key_pem) < 0)
		return -1;
	if (admin_cert_pem && admin_key_pem && load_pair(&admin, admin_cert_pem, admin_key_pem) < 0)
		return -1;
	return 0;
}

static void free_pair(struct tls_pair *p)
{
	if (!p->loaded)
		return;
	gnutls_pcert_deinit(&p->pcert);
	gnutls_privkey_deinit(p->key);
	p->loaded = false;
}

void tls_free(void)
{
	free_pair(&server);
	free_pair(&admin);
}

/* tls_pick: GnuTLS's certificate callback (gnutls_certificate_retrieve_
 * function2): the admin pair for SNI "hq-admin.test", else the server's.
 * The pairs stay ours; GnuTLS only borrows them. */
int tls_pick(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
             const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
             unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
	char name[256];
	size_t len = sizeof(name);
	unsigned int type;
	struct tls_pair *p = &server;

	(void)req_ca_rdn;
	(void)nreqs;
	(void)pk_algos;
	(void)pk_algos_length;
	if (admin.loaded &&
	    gnutls_server_name_get(session, name, &len, &type, 0) == GNUTLS_E_SUCCESS &&
	    type == GNUTLS_NAME_DNS && !strcmp(name, HQ_ADMIN_NAME))
		p = &admin;
	*pcert = &p->pcert;
	*pcert_length = 1;
	*pkey = p->key;
	return 0;
}
