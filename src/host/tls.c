/*
 * libnvmf and TLS 1.3 (NVMe/TCP TP 8011): the PSK identity and TLS PSK, derived once at
 * connect from the configured key, and each queue pair's client handshake (QP_TLS), which
 * qpair.c starts after the TCP connect and advances from hq_progress; the ICReq then goes
 * inside TLS.  The handshake itself is src/conn's; this file turns its outcome into the
 * library's errors and messages (peer and qid, never key material).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "auth/dhchap.h"
#include "conn/tls.h"
#include "host/host.h"

int htls_keys_init(struct nvmf_ctrl *c, const struct nvmf_ctrl_opts *o)
{
	struct htls_keys *t = &c->tls;
	struct nvmf_tls_key k;
	int rc;

	memset(t, 0, sizeof(*t));
	if (!o->tls && !o->tls_key)
		return 0;
	if (!o->tls_key) {
		/* the kernel host would search its keyring; we have none to search */
		host_set_error("TLS needs a configured PSK (tls_key, NVMeTLSkey-1:...)");
		return -ENOKEY;
	}
	if (o->tls_identity_version > 1) {
		host_set_error("TLS identity version %u (0 or 1)", o->tls_identity_version);
		return -EINVAL;
	}
	rc = nvmf_tls_key_parse(o->tls_key, &k);
	if (rc) {
		host_set_error("TLS key: %s", rc == -EBADMSG ? "CRC mismatch (mistyped or truncated)"
							     : "not a PSK in the interchange form");
		return -EINVAL;
	}
	rc = nvmf_tls_psk(&k, c->hostnqn, c->subnqn, o->tls_identity_version,
			  o->tls_compat ? NVMF_TLS_DERIVE_COMPAT : NVMF_TLS_DERIVE_RFC,
			  t->identity, t->psk);
	t->hash = nvmf_tls_key_hash(&k);
	nvmf_dhchap_wipe(&k, sizeof(k));
	if (rc < 0) {
		host_set_error("TLS key: cannot derive the PSK: %s", strerror(-rc));
		nvmf_dhchap_wipe(t, sizeof(*t));
		return rc;
	}
	t->psk_len = (size_t)rc;
	t->on = true;
	return 0;
}

static enum nvmf_tls_record record_mode(enum nvmf_tls_mode m)
{
	switch (m) {
	case NVMF_TLS_MODE_USER:
		return NVMF_TLS_RECORD_USER;
	case NVMF_TLS_MODE_KERNEL:
		return NVMF_TLS_RECORD_KERNEL;
	default:
		return NVMF_TLS_RECORD_AUTO;
	}
}

static void tls_err(struct nvmf_qpair *q, const char *what)
{
	struct nvmf_ctrl *c = q->ctrl;

	/* a long reason is cut short: the message stays a message */
	if (snprintf(q->err, sizeof(q->err), "TLS handshake with %s:%s (qid %u) %s", c->traddr,
		     c->trsvcid, q->qid, what) >= (int)sizeof(q->err))
		q->err[sizeof(q->err) - 1] = '\0';
}

int htls_start(struct nvmf_qpair *q)
{
	struct nvmf_ctrl *c = q->ctrl;
	struct nvmf_tls_client_cfg cfg = {
		.identity = c->tls.identity,
		.psk = c->tls.psk,
		.psk_len = c->tls.psk_len,
		.hash = c->tls.hash,
		.record = record_mode(c->opts.tls_record),
	};
	int rc = nvmf_tls_client_start(&q->conn, &cfg);
	char why[320];

	if (rc) {
		snprintf(why, sizeof(why), "could not start: %s",
			 nvmf_tls_error(&q->conn)[0] ? nvmf_tls_error(&q->conn) : strerror(-rc));
		tls_err(q, why);
	}
	q->tls_want = NVMF_TLS_WANT_WRITE; /* the ClientHello goes first */
	return rc;
}

int htls_step(struct nvmf_qpair *q)
{
	int rc = nvmf_tls_handshake(&q->conn);
	char why[320];

	if (rc == NVMF_TLS_WANT_READ || rc == NVMF_TLS_WANT_WRITE) {
		q->tls_want = rc;
		return 1;
	}
	if (rc == 0)
		return 0;
	snprintf(why, sizeof(why), "failed: %s",
		 nvmf_tls_error(&q->conn)[0] ? nvmf_tls_error(&q->conn) : strerror(-rc));
	tls_err(q, why);
	/*
	 * A refused or mismatched PSK will be refused again: the error the reconnect logic
	 * (hauth_fatal) gives up on, as for a rejected DH-HMAC-CHAP key.
	 */
	return rc == -EACCES ? -EKEYREJECTED : rc;
}
