/*
 * libnvmf: DH-HMAC-CHAP (NVMe in-band authentication, TP 8006) on a queue pair whose
 * Connect response asked for it (AUTHREQ.ATR): the admin queue and, against nvmet, every
 * I/O queue, each with its own transaction, before anything else goes out on it.
 *
 * The exchange is a chain of Authentication Send / Receive commands in the queue's
 * connect slot, each answered through auth_cb from the receive path and each within the
 * connect's step deadline, so that it never blocks the thread that polls the queue:
 *
 *   NEGOTIATE  Send     Negotiate: SHA-256/384/512, the NULL group and every FFDHE group
 *   CHALLENGE  Receive  Challenge: checked, then the DH exchange and R1 computed
 *   REPLY      Send     Reply: R1, C2 (bidirectional), our DH value
 *   SUCCESS1   Receive  Success1: R2 checked when we sent C2
 *   SUCCESS2   Send     Success2 (bidirectional only)                    -> the queue is live
 *   FAILURE2   Send     Failure2, after a failure of ours past the Challenge; then the
 *                       connect fails with that failure
 *
 * What the Linux host does is the model (facts from drivers/nvme/host/auth.c): the same
 * Negotiate, a 4096-byte allocation for every Receive, the Reply always 16 + 2 hl + dhvlen
 * bytes, no Failure2 after a Failure1 or a wrong message in place of the Challenge.
 * No key material ever reaches an error text or a log line.
 */
#include <endian.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"
#include "host/log.h"

/* What the Linux host allocates for every Authentication Receive; nvmet sends all of it. */
#define AUTH_RECV_LEN 4096
/* The largest message we send: a Reply with SHA-512 and an ffdhe8192 value. */
#define AUTH_SEND_MAX (sizeof(struct nvmf_auth_reply) + 2 * NVMF_DHCHAP_MAX_HASH + \
		       NVMF_DHCHAP_MAX_DH)

enum hauth_step {
	HAUTH_NEGOTIATE,
	HAUTH_CHALLENGE,
	HAUTH_REPLY,
	HAUTH_SUCCESS1,
	HAUTH_SUCCESS2,
	HAUTH_FAILURE2,
};

static const char *const step_names[] = {
	[HAUTH_NEGOTIATE] = "Negotiate",
	[HAUTH_CHALLENGE] = "Challenge",
	[HAUTH_REPLY] = "Reply",
	[HAUTH_SUCCESS1] = "Success1",
	[HAUTH_SUCCESS2] = "Success2",
	[HAUTH_FAILURE2] = "Failure2",
};

struct hauth {
	enum hauth_step step;
	uint16_t tid;
	uint8_t hash;
	uint8_t hl;
	uint32_t s2;                          /* S2; 0 unless we challenge the controller */
	uint8_t cb[NVMF_DHCHAP_MAX_HASH];     /* our C2 as R2 answers it (augmented) */
	int fail_rc;                          /* failed: Failure2 on its way, then this */
	char fail_msg[sizeof(((struct nvmf_qpair *)0)->err)];
	/* aligned: the wire structs are read and written in place */
	uint8_t tx[AUTH_SEND_MAX] __attribute__((aligned(8)));
	uint8_t rx[AUTH_RECV_LEN] __attribute__((aligned(8)));
};

static void auth_cb(void *arg, int status, const struct nvme_cqe *cqe);

static const char *rce_name(uint8_t rce)
{
	switch (rce) {
	case NVMF_AUTH_RCE_FAILED:
		return "authentication failed";
	case NVMF_AUTH_RCE_PROTOCOL_UNUSABLE:
		return "authentication protocol not usable";
	case NVMF_AUTH_RCE_SCC_MISMATCH:
		return "secure channel concatenation mismatch";
	case NVMF_AUTH_RCE_HASH_UNUSABLE:
		return "hash function not usable";
	case NVMF_AUTH_RCE_DHGROUP_UNUSABLE:
		return "DH group not usable";
	case NVMF_AUTH_RCE_INCORRECT_PAYLOAD:
		return "incorrect payload";
	case NVMF_AUTH_RCE_INCORRECT_MESSAGE:
		return "incorrect protocol message";
	}
	return "unknown reason";
}

/* The queue's error text: peer, queue, the connect slot's command id, then what failed. */
static void __attribute__((format(printf, 2, 3))) auth_error(struct nvmf_qpair *q,
							     const char *fmt, ...)
{
	struct nvmf_ctrl *c = q->ctrl;
	va_list ap;
	int n = snprintf(q->err, sizeof(q->err), "%s:%s qid %u cid %u: ", c->traddr, c->trsvcid,
			 q->qid, q->depth);

	if (n < 0 || (size_t)n >= sizeof(q->err))
		return;
	va_start(ap, fmt);
	vsnprintf(q->err + n, sizeof(q->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

void hauth_free(struct nvmf_qpair *q)
{
	if (!q->auth)
		return;
	nvmf_dhchap_wipe(q->auth, sizeof(*q->auth));
	free(q->auth);
	q->auth = NULL;
}

bool hauth_fatal(int rc)
{
	/* as the kernel's nvmf_should_reconnect: a rejected or missing key is not retried */
	return rc == -EKEYREJECTED || rc == -ENOKEY;
}

int hauth_failed(struct nvmf_qpair *q)
{
	if (!q->auth || !q->auth->fail_rc)
		return 0;
	snprintf(q->err, sizeof(q->err), "%s", q->auth->fail_msg);
	return q->auth->fail_rc;
}

/* ------------------------------------------------------------------ commands */

static int auth_submit(struct nvmf_qpair *q, enum hauth_step step, uint8_t fctype, void *buf,
		       uint32_t len)
{
	struct nvmf_auth_cmd cmd;
	int rc;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_OPC_FABRICS;
	cmd.fctype = fctype;
	cmd.spsp0 = NVMF_AUTH_SPSP0_DHCHAP;
	cmd.spsp1 = NVMF_AUTH_SPSP1_DHCHAP;
	cmd.secp = NVMF_AUTH_SECP;
	cmd.tl_al = htole32(len);
	q->auth->step = step;
	rc = hq_submit_connect_cmd(q, (const struct nvme_sqe *)&cmd, buf, len,
				   fctype == NVMF_FCTYPE_AUTH_SEND, auth_cb);
	if (rc)
		auth_error(q, "authentication: cannot send the %s command: %s", step_names[step],
			   rc == -EBUSY ? "the controller answered the previous one before it was sent"
					: strerror(-rc));
	return rc;
}

static int auth_send(struct nvmf_qpair *q, enum hauth_step step, uint32_t len)
{
	return auth_submit(q, step, NVMF_FCTYPE_AUTH_SEND, q->auth->tx, len);
}

static int auth_receive(struct nvmf_qpair *q, enum hauth_step step)
{
	memset(q->auth->rx, 0, sizeof(q->auth->rx));
	return auth_submit(q, step, NVMF_FCTYPE_AUTH_RECV, q->auth->rx, sizeof(q->auth->rx));
}

/* The exchange ended without telling the controller (it ended it, or nothing to say). */
static void fail(struct nvmf_qpair *q, int rc)
{
	q->connect_rc = rc;
}

/*
 * A failure of ours after the Challenge: tell the controller (Failure2 with the reason),
 * then fail the connect with rc and the text already in q->err, whatever the answer.
 */
static void fail2(struct nvmf_qpair *q, uint8_t rce, int rc)
{
	struct hauth *a = q->auth;
	struct nvmf_auth_failure *f = (struct nvmf_auth_failure *)a->tx;

	a->fail_rc = rc;
	snprintf(a->fail_msg, sizeof(a->fail_msg), "%s", q->err);
	memset(f, 0, sizeof(*f));
	f->auth_type = NVMF_AUTH_TYPE_COMMON;
	f->auth_id = NVMF_AUTH_ID_FAILURE2;
	f->t_id = htole16(a->tid);
	f->rc = NVMF_AUTH_RC_FAILED;
	f->rce = rce;
	if (auth_send(q, HAUTH_FAILURE2, sizeof(*f))) {
		snprintf(q->err, sizeof(q->err), "%s", a->fail_msg);
		fail(q, rc);
	}
}

/* The exchange succeeded: the queue may be used. */
static void done(struct nvmf_qpair *q)
{
	hauth_free(q);
	hq_set_live(q);
}

/* ------------------------------------------------------------------ messages */

/* Bytes the controller sent in answer to the last Authentication Receive. */
static size_t received(const struct nvmf_qpair *q)
{
	uint32_t n = q->reqs[q->depth].c2h_bytes;

	return n < AUTH_RECV_LEN ? n : AUTH_RECV_LEN;
}

/*
 * Is the message received the one expected (id, this transaction)?  A Failure1 ends the
 * exchange with its reason (the controller already gave up: no Failure2); the controller
 * refusing in place of the Challenge saw no key of ours yet.  0 when it is the expected one.
 */
static int check_message(struct nvmf_qpair *q, uint8_t id, size_t min_len)
{
	struct hauth *a = q->auth;
	const struct nvmf_auth_hdr *h = (const struct nvmf_auth_hdr *)a->rx;
	size_t got = received(q);

	if (got >= sizeof(struct nvmf_auth_failure) && h->auth_type == NVMF_AUTH_TYPE_COMMON &&
	    h->auth_id == NVMF_AUTH_ID_FAILURE1) {
		const struct nvmf_auth_failure *f = (const struct nvmf_auth_failure *)a->rx;

		if (id == NVMF_AUTH_ID_CHALLENGE)
			auth_error(q, "authentication failed: controller %s refused the negotiation (%s)",
				   q->ctrl->subnqn, rce_name(f->rce));
		else
			auth_error(q, "authentication failed: controller %s rejected the host key (%s)",
				   q->ctrl->subnqn, rce_name(f->rce));
		fail(q, -EKEYREJECTED);
		return -1;
	}
	if (got < min_len || h->auth_type != NVMF_AUTH_TYPE_DHCHAP || h->auth_id != id ||
	    le16toh(h->t_id) != a->tid) {
		auth_error(q, "authentication: expected %s (transaction %u), got %zu bytes: type "
			   "0x%02x id 0x%02x transaction %u", step_names[a->step], a->tid, got,
			   h->auth_type, h->auth_id, le16toh(h->t_id));
		/* in place of the Challenge the kernel just gives up; later, the controller is told */
		if (id == NVMF_AUTH_ID_CHALLENGE)
			fail(q, -EPROTO);
		else
			fail2(q, NVMF_AUTH_RCE_INCORRECT_MESSAGE, -EPROTO);
		return -1;
	}
	return 0;
}

/* Check the Challenge; 0 and the DH value's length, or -1 after failing (Failure2). */
static int check_challenge(struct nvmf_qpair *q, const struct nvmf_auth_challenge *ch,
			   size_t *dhvlen)
{
	size_t hl = nvmf_dhchap_hash_len(ch->hashid);
	size_t len = le16toh(ch->dhvlen);

	if (!hl || ch->hl != hl) {
		auth_error(q, "authentication: the Challenge's hash 0x%02x (length %u) is not usable",
			   ch->hashid, ch->hl);
		fail2(q, NVMF_AUTH_RCE_HASH_UNUSABLE, -EPROTO);
		return -1;
	}
	if (ch->dhgid >= NVMF_DHCHAP_DH_COUNT || (ch->dhgid && !len)) {
		auth_error(q, "authentication: the Challenge's DH group 0x%02x (value of %zu bytes) "
			   "is not usable", ch->dhgid, len);
		fail2(q, NVMF_AUTH_RCE_DHGROUP_UNUSABLE, -EPROTO);
		return -1;
	}
	if ((!ch->dhgid && len) || (ch->dhgid && len != nvmf_dhchap_dh_len(ch->dhgid)) ||
	    sizeof(*ch) + hl + len > received(q)) {
		auth_error(q, "authentication: the Challenge's DH value (%zu bytes, group %s) does "
			   "not fit its group or the %zu bytes received", len,
			   nvmf_dhchap_dhgroup_name(ch->dhgid), received(q));
		fail2(q, NVMF_AUTH_RCE_INCORRECT_PAYLOAD, -EPROTO);
		return -1;
	}
	*dhvlen = len;
	return 0;
}

/*
 * Our DH value into the Reply, and the augmented challenges: Ca (answered by R1) from C1,
 * and, bidirectional, our C2's as the controller will answer it.  0 or -1 after failing.
 * The key pair is new for each exchange, as the Linux host's.  The maths runs on the thread
 * that polls the queue (a few ms; tens for ffdhe8192), once per queue per connect.
 */
static int exchange(struct nvmf_qpair *q, const struct nvmf_auth_challenge *ch, size_t dhvlen,
		    struct nvmf_auth_reply *rp, uint8_t ca[NVMF_DHCHAP_MAX_HASH],
		    const uint8_t *c2)
{
	struct hauth *a = q->auth;
	uint8_t z[NVMF_DHCHAP_MAX_DH];
	struct nvmf_dhchap_dh *dh = NULL;
	int rc = 0;

	if (ch->dhgid != NVMF_DHCHAP_DH_NULL) {
		dh = nvmf_dhchap_dh_new(ch->dhgid);
		rc = dh ? nvmf_dhchap_dh_public(dh, rp->rval + 2 * a->hl, dhvlen) : -ENOMEM;
		if (rc) {
			auth_error(q, "authentication: cannot make a %s key pair: %s",
				   nvmf_dhchap_dhgroup_name(ch->dhgid), strerror(-rc));
			nvmf_dhchap_dh_free(dh);
			fail2(q, NVMF_AUTH_RCE_DHGROUP_UNUSABLE, rc);
			return -1;
		}
		rc = nvmf_dhchap_dh_shared(dh, ch->cval + a->hl, dhvlen, z, dhvlen);
		nvmf_dhchap_dh_free(dh);
		if (rc) {
			auth_error(q, "authentication: the controller's %s value is not valid",
				   nvmf_dhchap_dhgroup_name(ch->dhgid));
			nvmf_dhchap_wipe(z, sizeof(z));
			fail2(q, NVMF_AUTH_RCE_INCORRECT_PAYLOAD, -EPROTO);
			return -1;
		}
	}
	rc = nvmf_dhchap_augment(a->hash, ch->cval, z, dhvlen, ca);
	if (rc >= 0 && c2)
		rc = nvmf_dhchap_augment(a->hash, c2, z, dhvlen, a->cb);
	nvmf_dhchap_wipe(z, sizeof(z));
	if (rc < 0) {
		auth_error(q, "authentication: cannot augment the challenge: %s", strerror(-rc));
		fail2(q, NVMF_AUTH_RCE_FAILED, rc);
		return -1;
	}
	return 0;
}

/* Challenge in: answer it with the Reply (and our challenge, with a controller key). */
static void on_challenge(struct nvmf_qpair *q)
{
	struct hauth *a = q->auth;
	struct nvmf_ctrl *c = q->ctrl;
	const struct nvmf_auth_challenge *ch = (const struct nvmf_auth_challenge *)a->rx;
	struct nvmf_auth_reply *rp = (struct nvmf_auth_reply *)a->tx;
	uint8_t ca[NVMF_DHCHAP_MAX_HASH], c2[NVMF_DHCHAP_MAX_HASH];
	bool bidir = c->keys.ctrl_len > 0;
	size_t dhvlen = 0;
	int rc;

	if (check_message(q, NVMF_AUTH_ID_CHALLENGE, sizeof(*ch)) ||
	    check_challenge(q, ch, &dhvlen))
		return;
	a->hash = ch->hashid;
	a->hl = ch->hl;
	memset(a->tx, 0, sizeof(*rp) + 2 * a->hl + dhvlen);
	if (bidir) {
		rc = nvmf_dhchap_random(c2, a->hl);
		/* S2 = 0 would say "no controller challenge" */
		while (!rc && !a->s2)
			rc = nvmf_dhchap_random(&a->s2, sizeof(a->s2));
		if (rc) {
			auth_error(q, "authentication: no random bytes for our challenge");
			fail2(q, NVMF_AUTH_RCE_FAILED, rc);
			return;
		}
	}
	if (exchange(q, ch, dhvlen, rp, ca, bidir ? c2 : NULL))
		return;
	rc = nvmf_dhchap_host_response(a->hash, c->keys.host, c->keys.host_len, ca,
				       le32toh(ch->seqnum), a->tid, NVMF_AUTH_SCC_NONE, c->hostnqn,
				       c->subnqn, rp->rval);
	nvmf_dhchap_wipe(ca, sizeof(ca));
	if (rc < 0) {
		auth_error(q, "authentication: cannot compute the response: %s", strerror(-rc));
		fail2(q, NVMF_AUTH_RCE_FAILED, rc);
		return;
	}
	rp->auth_type = NVMF_AUTH_TYPE_DHCHAP;
	rp->auth_id = NVMF_AUTH_ID_REPLY;
	rp->t_id = htole16(a->tid);
	rp->hl = a->hl;
	rp->dhvlen = htole16((uint16_t)dhvlen);
	/* C2 is always there (zeros unless valid): nvmet reads the DH value after it */
	if (bidir) {
		rp->cvalid = 1;
		rp->seqnum = htole32(a->s2);
		memcpy(rp->rval + a->hl, c2, a->hl);
	}
	if (auth_send(q, HAUTH_REPLY, (uint32_t)(sizeof(*rp) + 2 * a->hl + dhvlen)))
		fail(q, -EIO);
}

/* Success1 in: the controller took our response; check its own when we asked for it. */
static void on_success1(struct nvmf_qpair *q)
{
	struct hauth *a = q->auth;
	struct nvmf_ctrl *c = q->ctrl;
	const struct nvmf_auth_success1 *s = (const struct nvmf_auth_success1 *)a->rx;
	struct nvmf_auth_success2 *s2 = (struct nvmf_auth_success2 *)a->tx;
	uint8_t r2[NVMF_DHCHAP_MAX_HASH];
	bool match;
	int rc;

	if (check_message(q, NVMF_AUTH_ID_SUCCESS1, sizeof(*s)))
		return;
	if (s->hl != a->hl) {
		auth_error(q, "authentication: Success1 has hash length %u, the Challenge %u", s->hl,
			   a->hl);
		fail2(q, NVMF_AUTH_RCE_INCORRECT_PAYLOAD, -EPROTO);
		return;
	}
	if (!a->s2) {
		done(q);
		return;
	}
	/*
	 * We challenged the controller: no response is a failure.  Stricter than the Linux
	 * host, which accepts a Success1 without R2 (RVALID clear) even when it sent C2 - that
	 * would let any controller that skips the answer pass as authenticated.
	 */
	if (!(s->rvalid & 1) || received(q) < sizeof(*s) + a->hl) {
		auth_error(q, "controller %s failed bidirectional authentication: no response to "
			   "our challenge", c->subnqn);
		fail2(q, NVMF_AUTH_RCE_FAILED, -EKEYREJECTED);
		return;
	}
	rc = nvmf_dhchap_ctrl_response(a->hash, c->keys.ctrl, c->keys.ctrl_len, a->cb, a->s2,
				       a->tid, c->subnqn, c->hostnqn, r2);
	match = rc >= 0 && nvmf_dhchap_equal(r2, s->rval, a->hl);
	nvmf_dhchap_wipe(r2, sizeof(r2));
	if (rc < 0) {
		auth_error(q, "authentication: cannot compute the controller's response: %s",
			   strerror(-rc));
		fail2(q, NVMF_AUTH_RCE_FAILED, rc);
		return;
	}
	if (!match) {
		auth_error(q, "controller %s failed bidirectional authentication: its response "
			   "does not match the controller key", c->subnqn);
		fail2(q, NVMF_AUTH_RCE_FAILED, -EKEYREJECTED);
		return;
	}
	memset(s2, 0, sizeof(*s2));
	s2->auth_type = NVMF_AUTH_TYPE_DHCHAP;
	s2->auth_id = NVMF_AUTH_ID_SUCCESS2;
	s2->t_id = htole16(a->tid);
	if (auth_send(q, HAUTH_SUCCESS2, sizeof(*s2)))
		fail(q, -EIO);
}

/* Each Authentication Send / Receive answered (from the receive path). */
static void auth_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct nvmf_qpair *q = arg;
	struct hauth *a = q->auth;

	(void)cqe;
	/* a negative status: the connection went down, and connect_failed cleans up */
	if (!a || status < 0)
		return;
	if (a->step == HAUTH_FAILURE2) {
		/* answered or not, the controller knows: report our failure */
		snprintf(q->err, sizeof(q->err), "%s", a->fail_msg);
		fail(q, a->fail_rc);
		return;
	}
	if (status) {
		auth_error(q, "authentication: %s command failed: status 0x%x", step_names[a->step],
			   status);
		fail(q, -EPROTO);
		return;
	}
	switch (a->step) {
	case HAUTH_NEGOTIATE:
		if (auth_receive(q, HAUTH_CHALLENGE))
			fail(q, -EIO);
		break;
	case HAUTH_CHALLENGE:
		on_challenge(q);
		break;
	case HAUTH_REPLY:
		if (auth_receive(q, HAUTH_SUCCESS1))
			fail(q, -EIO);
		break;
	case HAUTH_SUCCESS1:
		on_success1(q);
		break;
	case HAUTH_SUCCESS2:
		done(q);
		break;
	case HAUTH_FAILURE2:
		break;
	}
}

/* ------------------------------------------------------------------ start */

int hauth_connected(struct nvmf_qpair *q, uint32_t dw0)
{
	struct nvmf_ctrl *c = q->ctrl;
	struct nvmf_auth_negotiate *n;
	struct nvmf_auth_dhchap_desc *d;
	struct hauth *a;

	if (!(dw0 & (NVMF_CONNECT_DW0_ATR | NVMF_CONNECT_DW0_ASCR))) {
		/* as the Linux host: a controller that does not ask is not authenticated */
		if (q->qid == 0 && c->keys.ctrl_len)
			host_log(LOG_WARNING, "%s: the controller does not ask for authentication: "
				 "it is not authenticated (the controller key is not used)",
				 c->subnqn);
		return 0;
	}
	if (dw0 & NVMF_CONNECT_DW0_ASCR) {
		auth_error(q, "controller %s requires secure channel concatenation (AUTHREQ.ASCR), "
			   "which is not supported", c->subnqn);
		return -EOPNOTSUPP;
	}
	if (!c->keys.host_len) {
		auth_error(q, "controller %s requires authentication but no --dhchap-secret given",
			   c->subnqn);
		return -ENOKEY;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		auth_error(q, "authentication: out of memory");
		return -ENOMEM;
	}
	a->tid = (uint16_t)atomic_fetch_add(&c->auth_tid, 1);
	n = (struct nvmf_auth_negotiate *)a->tx;
	n->auth_type = NVMF_AUTH_TYPE_COMMON;
	n->auth_id = NVMF_AUTH_ID_NEGOTIATE;
	n->t_id = htole16(a->tid);
	n->sc_c = NVMF_AUTH_SCC_NONE;
	n->napd = 1;
	d = &n->descs[0];
	d->authid = NVMF_AUTH_PROTO_DHCHAP;
	/* every hash and group: nvmet challenges with the ones configured for the host */
	d->halen = 3;
	d->hash_ids[0] = NVMF_AUTH_HASH_SHA256;
	d->hash_ids[1] = NVMF_AUTH_HASH_SHA384;
	d->hash_ids[2] = NVMF_AUTH_HASH_SHA512;
	d->dhlen = NVMF_DHCHAP_DH_COUNT;
	for (uint8_t g = 0; g < NVMF_DHCHAP_DH_COUNT; g++)
		d->dhg_ids[g] = g;
	q->auth = a;
	q->state = QP_AUTH;
	if (auth_send(q, HAUTH_NEGOTIATE, (uint32_t)(sizeof(*n) + sizeof(*d))))
		return -EIO;
	return 1;
}

/* ------------------------------------------------------------------ keys */

static int key_init(const char *opt, const char *text, const char *nqn,
		    uint8_t out[NVMF_DHCHAP_MAX_HASH], size_t *len)
{
	struct nvmf_dhchap_secret s;
	int rc = nvmf_dhchap_secret_parse(text, &s);

	if (rc == -EBADMSG) {
		host_set_error("%s: the key's CRC does not match (a mistyped or truncated key)", opt);
		return -EINVAL;
	}
	if (rc) {
		host_set_error("%s: not a DH-HMAC-CHAP secret (DHHC-1:<00..03>:<base64 of a 32, 48 "
			       "or 64-byte key and its CRC>:)", opt);
		return -EINVAL;
	}
	rc = nvmf_dhchap_secret_transform(&s, nqn, out);
	nvmf_dhchap_wipe(&s, sizeof(s));
	if (rc < 0) {
		host_set_error("%s: cannot transform the key: %s", opt, strerror(-rc));
		return -EINVAL;
	}
	*len = (size_t)rc;
	return 0;
}

int hauth_keys_init(struct nvmf_ctrl *c, const char *host_secret, const char *ctrl_secret)
{
	int rc;

	if (ctrl_secret && !host_secret) {
		host_set_error("dhchap_ctrl_secret without dhchap_secret: bidirectional "
			       "authentication needs the host key too");
		return -EINVAL;
	}
	if (host_secret) {
		rc = key_init("dhchap_secret", host_secret, c->hostnqn, c->keys.host,
			      &c->keys.host_len);
		if (rc)
			return rc;
	}
	if (ctrl_secret) {
		/* the controller key is transformed with the subsystem's NQN */
		rc = key_init("dhchap_ctrl_secret", ctrl_secret, c->subnqn, c->keys.ctrl,
			      &c->keys.ctrl_len);
		if (rc) {
			nvmf_dhchap_wipe(&c->keys, sizeof(c->keys));
			c->keys.host_len = 0;
			return rc;
		}
	}
	return 0;
}
