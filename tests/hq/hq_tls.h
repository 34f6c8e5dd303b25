/*
 * hq_tls.h: the GnuTLS side of hq_tls, for hq_http (the rest is in hq.h).
 */
#ifndef POSAGENT_HQ_TLS_H
#define POSAGENT_HQ_TLS_H

#include <gnutls/abstract.h>

/* The certificate callback (gnutls_certificate_retrieve_function2) given
 * to libmicrohttpd: DIR/admin.pem for SNI HQ_ADMIN_NAME, else the server
 * certificate. Always succeeds once tls_load() did. */
int tls_pick(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
             const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length, gnutls_pcert_st **pcert,
             unsigned int *pcert_length, gnutls_privkey_t *pkey);

#endif
