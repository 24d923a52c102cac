/*
 * TLS 1.3 for the test client (tclient.h): the connection layer's TLS client carries the
 * PDUs, with the identity and TLS PSK nvmf_tls_psk() derives, as a Linux host would.
 */
#ifndef NVMF_TEST_TCLIENT_TLS_H
#define NVMF_TEST_TCLIENT_TLS_H

#include "auth/tls_psk.h"
#include "tclient.h"

struct tc_tls {
	const char *key;       /* NVMeTLSkey-1:xx:...: */
	const char *hostnqn;   /* the identity's (TC_HOSTNQN when NULL) */
	const char *subnqn;
	unsigned version;      /* identity version 0 or 1 */
	enum nvmf_tls_derive how;
};

/*
 * TCP connect, TLS handshake (5 s), then ICReq / ICResp inside TLS.  0, the handshake's
 * -errno (-EACCES: refused, -ECONNRESET: the target closed), or tc_ic()'s.  On failure c
 * is closed.
 */
int tc_open_tls(struct tclient *c, const char *addr, uint16_t port, const struct tc_tls *t);
/* The TCP connection and the handshake only (no IC exchange). */
int tc_tls_handshake(struct tclient *c, const char *addr, uint16_t port,
		     const struct tc_tls *t);

#endif
