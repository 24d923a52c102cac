/*
 * In-band authentication on the target (DH-HMAC-CHAP, TP 8006), behaving as nvmet does so
 * the Linux host authenticates against it: which hosts must authenticate and with which
 * keys, and each queue's exchange, driven by Authentication Send (host to controller) and
 * Authentication Receive (controller to host):
 *
 *   NEGOTIATE -Send Negotiate-> CHALLENGE -Recv Challenge-> REPLY -Send Reply-> SUCCESS1
 *   SUCCESS1 -Recv Success1-> DONE                      (the host sent no challenge C2)
 *   SUCCESS1 -Recv Success1 + R2-> SUCCESS2 -Send Success2-> DONE       (bidirectional)
 *   a protocol error -> FAILURE1 -Recv Failure1-> FAILED: the controller is torn down
 *   Failure2 from the host -> FAILED
 *
 * A protocol error completes its command with success: the host learns of it from the
 * Failure1 its next Receive returns.  A Negotiate restarts the exchange in any state
 * (re-authentication); the queue stays usable meanwhile, as with nvmet, so a host's I/O
 * does not fail while it re-authenticates.  An exchange left half-way expires after KATO
 * (120 s without one) and the queue waits for a Negotiate again.
 *
 * Everything runs on the queue's reactor; only the controller's keys are shared, under
 * ctrl->lock.  No key, secret or shared value reaches a log line.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"
#include "util/log.h"

_Static_assert((int)NVMF_CFG_DHCHAP_SHA256 == (int)NVMF_DHCHAP_SHA256 &&
	       (int)NVMF_CFG_DHCHAP_SHA512 == (int)NVMF_DHCHAP_SHA512,
	       "configured hash ids are wire ids");
_Static_assert((int)NVMF_CFG_DHGROUP_NULL == (int)NVMF_DHCHAP_DH_NULL &&
	       (int)NVMF_CFG_DHGROUP_8192 == (int)NVMF_DHCHAP_FFDHE8192,
	       "configured group ids are wire ids");

/* Largest message either way: a Reply with SHA-512 R1 and C2 and an ffdhe8192 value. */
#define AUTH_MSG_MAX \
	(sizeof(struct nvmf_auth_reply) + 2 * NVMF_DHCHAP_MAX_HASH + NVMF_DHCHAP_MAX_DH)
/* How long a half-done exchange may wait for the host when KATO is 0 (nvmet's 120 s). */
#define AUTH_EXPIRY_DEFAULT_MS 120000u
/* nvmet's t_id of a queue that has seen no Negotiate (-1 in a u16). */
#define AUTH_TID_NONE 0xFFFF

enum auth_step {
	AUTH_NEGOTIATE,  /* waiting for a Negotiate: new queue, or an exchange that expired */
	AUTH_CHALLENGE,  /* Negotiate accepted: the next Receive returns the Challenge */
	AUTH_REPLY,      /* Challenge sent: waiting for the host's Reply */
	AUTH_SUCCESS1,   /* Reply verified: the next Receive returns Success1 */
	AUTH_SUCCESS2,   /* Success1 carried R2: waiting for the host's Success2 */
	AUTH_DONE,       /* authenticated; a Negotiate re-authenticates */
	AUTH_FAILURE1,   /* failed: the next Receive returns Failure1 */
	AUTH_FAILED,     /* Failure1 sent or Failure2 received: the controller is going */
};

static const char *const step_names[] = {
	[AUTH_NEGOTIATE] = "negotiate", [AUTH_CHALLENGE] = "challenge",
	[AUTH_REPLY] = "reply",         [AUTH_SUCCESS1] = "success1",
	[AUTH_SUCCESS2] = "success2",   [AUTH_DONE] = "done",
	[AUTH_FAILURE1] = "failure1",   [AUTH_FAILED] = "failed",
};

struct nvmf_sq_auth {
	struct nvmf_sq *sq;
	enum auth_step step;
	uint16_t t_id;           /* the host's, from its Negotiate; echoed in our messages */
	uint8_t rce;             /* Failure1's reason code explanation */
	uint8_t hash;            /* chosen at Negotiate */
	uint8_t hl;              /* its digest length */
	uint8_t dhgroup;
	bool bidi;               /* the host sent C2: Success1 carries R2 */
	uint32_t s1, s2;
	uint8_t c1[NVMF_DHCHAP_MAX_HASH];
	uint8_t cb[NVMF_DHCHAP_MAX_HASH]; /* C2, augmented with the DH secret when there is one */
	struct nvmf_auth_keys keys; /* the controller's keys as the Negotiate found them */
	/*
	 * A key pair per exchange, not nvmet's one per controller: every queue of a
	 * controller may sit on another reactor, and a pair of its own needs no sharing or
	 * lock, while each transaction gets a fresh secret.  The cost is one modular
	 * exponentiation per queue, which the host pays per exchange anyway.
	 */
	struct nvmf_dhchap_dh *dh;
	struct nvmf_timer expiry;
};

static const char *peer(struct nvmf_sq *sq)
{
	return sq->ops->peer_name ? sq->ops->peer_name(sq) : "?";
}

/* ------------------------------------------------------------------ keys */

/* Parse a configured secret and transform it with nqn; the length, or -errno. */
static int load_secret(const char *str, const char *nqn, uint8_t out[NVMF_DHCHAP_MAX_HASH])
{
	struct nvmf_dhchap_secret s;
	int rc = nvmf_dhchap_secret_parse(str, &s);

	if (!rc)
		rc = nvmf_dhchap_secret_transform(&s, nqn, out);
	nvmf_dhchap_wipe(&s, sizeof(s));
	return rc;
}

int nvmf_auth_load_keys(const struct nvmf_subsys *subsys, const char *hostnqn,
			struct nvmf_auth_keys *k)
{
	const struct nvmf_cfg *cfg = __atomic_load_n(&subsys->tgt->cfg, __ATOMIC_ACQUIRE);
	const struct nvmf_subsys_view *v = nvmf_subsys_view(subsys);
	const struct nvmf_cfg_host *h;
	int n;

	memset(k, 0, sizeof(*k));
	/* nvmet only sets up authentication for hosts linked to a closed subsystem */
	if (subsys->is_discovery || v->allow_any_host)
		return 0;
	if (!nvmf_subsys_host_allowed(subsys, hostnqn))
		return -EACCES;
	h = cfg ? nvmf_cfg_find_host(cfg, hostnqn) : NULL;
	if (!h || !h->dhchap_key[0])
		return 0;
	n = load_secret(h->dhchap_key, hostnqn, k->host_key);
	if (n < 0)
		goto fail;
	k->host_key_len = (uint8_t)n;
	if (h->dhchap_ctrl_key[0]) {
		n = load_secret(h->dhchap_ctrl_key, subsys->nqn, k->ctrl_key);
		if (n < 0)
			goto fail;
		k->ctrl_key_len = (uint8_t)n;
	}
	k->hash = (uint8_t)h->dhchap_hash;
	k->dhgroup = (uint8_t)h->dhchap_dhgroup;
	return 1;
fail:
	nvmf_dhchap_wipe(k, sizeof(*k));
	return n;
}

/* ------------------------------------------------------------------ the exchange */

static uint32_t seqnum;
static pthread_once_t seqnum_once = PTHREAD_ONCE_INIT;

static void seqnum_init(void)
{
	uint32_t s;

	if (nvmf_dhchap_random(&s, sizeof(s)))
		s = (uint32_t)nvmf_now_ns();
	__atomic_store_n(&seqnum, s, __ATOMIC_RELAXED);
}

/* S1: one counter for the whole target from a random start, never 0 (nvmet's). */
static uint32_t next_seqnum(void)
{
	uint32_t s;

	pthread_once(&seqnum_once, seqnum_init);
	do
		s = __atomic_add_fetch(&seqnum, 1, __ATOMIC_RELAXED);
	while (s == 0);
	return s;
}

/* Forget the transaction's values (not the step or t_id). */
static void exchange_clear(struct nvmf_sq_auth *a)
{
	nvmf_dhchap_dh_free(a->dh);
	a->dh = NULL;
	a->bidi = false;
	a->s1 = a->s2 = 0;
	nvmf_dhchap_wipe(a->c1, sizeof(a->c1));
	nvmf_dhchap_wipe(a->cb, sizeof(a->cb));
	nvmf_dhchap_wipe(&a->keys, sizeof(a->keys));
}

static void set_step(struct nvmf_sq_auth *a, enum auth_step to)
{
	struct nvmf_sq *sq = a->sq;

	log_debug("%s: ctrl %u qid %u: auth %s -> %s", peer(sq), sq->ctrl->cntlid, sq->qid,
		  step_names[a->step], step_names[to]);
	a->step = to;
}

/* A protocol failure: the next Receive says why; the queue is not authenticated now. */
static void fail(struct nvmf_sq_auth *a, uint8_t rce, const char *why)
{
	struct nvmf_sq *sq = a->sq;

	log_warn("%s: ctrl %u qid %u: host %s: authentication failed: %s", peer(sq),
		 sq->ctrl->cntlid, sq->qid, sq->ctrl->hostnqn, why);
	exchange_clear(a);
	a->rce = rce;
	sq->auth_pending = true;
	set_step(a, AUTH_FAILURE1);
}

static void expired(struct nvmf_timer *t)
{
	struct nvmf_sq_auth *a = (struct nvmf_sq_auth *)((char *)t -
							 offsetof(struct nvmf_sq_auth, expiry));
	struct nvmf_sq *sq = a->sq;

	if (!sq->ctrl)
		return;
	log_warn("%s: ctrl %u qid %u: authentication transaction %u expired in step %s",
		 peer(sq), sq->ctrl->cntlid, sq->qid, a->t_id, step_names[a->step]);
	exchange_clear(a);
	a->t_id = AUTH_TID_NONE;
	set_step(a, sq->auth_pending ? AUTH_NEGOTIATE : AUTH_DONE);
}

/* After each message: a transaction under way expires unless the host goes on. */
static void settle(struct nvmf_sq_auth *a)
{
	struct nvmf_sq *sq = a->sq;
	uint32_t ms = sq->ctrl->kato_ms ? sq->ctrl->kato_ms : AUTH_EXPIRY_DEFAULT_MS;

	switch (a->step) {
	case AUTH_NEGOTIATE:
	case AUTH_DONE:
	case AUTH_FAILED:
		exchange_clear(a);
		nvmf_timer_cancel(sq->reactor, &a->expiry);
		break;
	default:
		nvmf_timer_arm(sq->reactor, &a->expiry, (uint64_t)ms * 1000000ull);
		break;
	}
}

static struct nvmf_sq_auth *sq_auth(struct nvmf_sq *sq)
{
	if (!sq->auth) {
		sq->auth = calloc(1, sizeof(*sq->auth));
		if (!sq->auth)
			return NULL;
		sq->auth->sq = sq;
		sq->auth->t_id = AUTH_TID_NONE;
		sq->auth->step = sq->auth_pending ? AUTH_NEGOTIATE : AUTH_DONE;
		sq->auth->expiry.fn = expired;
	}
	return sq->auth;
}

void nvmf_auth_sq_free(struct nvmf_sq *sq)
{
	struct nvmf_sq_auth *a = sq->auth;

	if (!a)
		return;
	nvmf_timer_cancel(sq->reactor, &a->expiry);
	exchange_clear(a);
	free(a);
	sq->auth = NULL;
}

/* ------------------------------------------------------------------ host to controller */

/*
 * The controller's keys for this exchange.  On the admin queue they are read from the
 * configuration again first, as nvmet's re-authentication does: a reload's new keys, hash
 * or group apply from the next admin-queue Negotiate on.
 */
static int take_keys(struct nvmf_sq_auth *a)
{
	struct nvmf_tgt_ctrl *ctrl = a->sq->ctrl;
	struct nvmf_auth_keys fresh;
	int rc = 1;

	if (a->sq->qid == 0 && ctrl->auth_required) {
		rc = nvmf_auth_load_keys(ctrl->subsys, ctrl->hostnqn, &fresh);
		if (rc == 1) {
			pthread_mutex_lock(&ctrl->lock);
			ctrl->auth = fresh;
			pthread_mutex_unlock(&ctrl->lock);
		}
		nvmf_dhchap_wipe(&fresh, sizeof(fresh));
	}
	if (rc != 1 || !ctrl->auth_required)
		return rc < 0 ? rc : -ENOKEY;
	pthread_mutex_lock(&ctrl->lock);
	a->keys = ctrl->auth;
	pthread_mutex_unlock(&ctrl->lock);
	return 0;
}

/* A message's check failed: its reason for Failure1, and why for the log. */
#define REJECT(rce, text)              \
	do {                           \
		*why = (text);         \
		return (rce);          \
	} while (0)

/* 0, or the reason for Failure1 (*why for the log). */
static uint8_t negotiate(struct nvmf_sq_auth *a, const uint8_t *msg, size_t tl,
			 const char **why)
{
	const struct nvmf_auth_negotiate *n = (const struct nvmf_auth_negotiate *)msg;
	const struct nvmf_auth_dhchap_desc *d = &n->descs[0];
	unsigned hash = 0;

	exchange_clear(a);
	a->t_id = le16toh(n->t_id);
	if (tl < sizeof(*n) + sizeof(*d))
		REJECT(NVMF_AUTH_RCE_INCORRECT_PAYLOAD, "Negotiate too short");
	if (n->sc_c != NVMF_AUTH_SCC_NONE)
		REJECT(NVMF_AUTH_RCE_SCC_MISMATCH,
			    "secure channel concatenation is not served");
	/* nvmet's answer to a count of protocol descriptors other than one */
	if (n->napd != 1)
		REJECT(NVMF_AUTH_RCE_HASH_UNUSABLE, "not one protocol descriptor");
	if (d->authid != NVMF_AUTH_PROTO_DHCHAP)
		REJECT(NVMF_AUTH_RCE_INCORRECT_PAYLOAD, "protocol is not DH-HMAC-CHAP");
	if (d->halen > sizeof(d->hash_ids) || d->dhlen > sizeof(d->dhg_ids))
		REJECT(NVMF_AUTH_RCE_INCORRECT_PAYLOAD, "identifier list too long");
	switch (take_keys(a)) {
	case 0:
		break;
	case -EACCES:
		REJECT(NVMF_AUTH_RCE_FAILED, "host no longer allowed on the subsystem");
	default:
		REJECT(NVMF_AUTH_RCE_FAILED, "no usable DH-HMAC-CHAP key for the host");
	}
	/* the configured hash if the host offers it, else the first offered we know */
	for (unsigned i = 0; i < d->halen; i++) {
		if (d->hash_ids[i] == a->keys.hash) {
			hash = a->keys.hash;
			break;
		}
		if (!hash && nvmf_dhchap_hash_len(d->hash_ids[i]))
			hash = d->hash_ids[i];
	}
	if (!hash)
		REJECT(NVMF_AUTH_RCE_HASH_UNUSABLE, "no offered hash is known");
	/*
	 * The configured group, as long as the host offers any: nvmet's selection loop ends
	 * there whatever the host lists (the Linux host offers every group).
	 */
	if (d->dhlen == 0)
		REJECT(NVMF_AUTH_RCE_DHGROUP_UNUSABLE, "no DH group offered");
	a->hash = (uint8_t)hash;
	a->hl = (uint8_t)nvmf_dhchap_hash_len(hash);
	a->dhgroup = a->keys.dhgroup;
	set_step(a, AUTH_CHALLENGE);
	return 0;
}

/* 0, or the reason for Failure1 (*why for the log). */
static uint8_t reply(struct nvmf_sq_auth *a, const uint8_t *msg, size_t tl, const char **why)
{
	const struct nvmf_auth_reply *r = (const struct nvmf_auth_reply *)msg;
	struct nvmf_sq *sq = a->sq;
	struct nvmf_tgt_ctrl *ctrl = sq->ctrl;
	size_t hl = r->hl, dhvlen = le16toh(r->dhvlen), zlen = nvmf_dhchap_dh_len(a->dhgroup);
	uint8_t z[NVMF_DHCHAP_MAX_DH], ca[NVMF_DHCHAP_MAX_HASH], r1[NVMF_DHCHAP_MAX_HASH];
	int rc;

	if (tl < sizeof(*r) || sizeof(*r) + 2 * hl + dhvlen > tl)
		REJECT(NVMF_AUTH_RCE_INCORRECT_PAYLOAD, "Reply shorter than its lengths");
	if (hl != a->hl)
		REJECT(NVMF_AUTH_RCE_FAILED, "response length is not the hash's");
	if (dhvlen != zlen)
		REJECT(zlen && dhvlen ? NVMF_AUTH_RCE_DHGROUP_UNUSABLE
					     : NVMF_AUTH_RCE_INCORRECT_PAYLOAD,
			    "DH value length does not match the group");
	/* every length is now bounded by the group's and the hash's: within AUTH_MSG_MAX */
	if (zlen && nvmf_dhchap_dh_shared(a->dh, r->rval + 2 * hl, dhvlen, z, zlen))
		REJECT(NVMF_AUTH_RCE_DHGROUP_UNUSABLE, "host DH value is not usable");
	rc = nvmf_dhchap_augment(a->hash, a->c1, zlen ? z : NULL, zlen, ca);
	if (rc >= 0)
		rc = nvmf_dhchap_host_response(a->hash, a->keys.host_key, a->keys.host_key_len, ca,
					       a->s1, a->t_id, NVMF_AUTH_SCC_NONE, ctrl->hostnqn,
					       ctrl->subsys->nqn, r1);
	if (rc >= 0 && !nvmf_dhchap_equal(r1, r->rval, hl))
		rc = -EKEYREJECTED;
	/* a C2 with S2 = 0 is no challenge (secure concatenation sends one) */
	if (rc >= 0 && (r->cvalid & NVMF_AUTH_CVALID) && le32toh(r->seqnum)) {
		a->bidi = true;
		a->s2 = le32toh(r->seqnum);
		rc = nvmf_dhchap_augment(a->hash, r->rval + hl, zlen ? z : NULL, zlen, a->cb);
	}
	nvmf_dhchap_wipe(z, sizeof(z));
	nvmf_dhchap_wipe(ca, sizeof(ca));
	nvmf_dhchap_wipe(r1, sizeof(r1));
	if (rc == -EKEYREJECTED)
		REJECT(NVMF_AUTH_RCE_FAILED, "host response R1 does not match its key");
	if (rc < 0)
		REJECT(NVMF_AUTH_RCE_FAILED, "cannot compute the host response");
	nvmf_dhchap_dh_free(a->dh);
	a->dh = NULL;
	if (!a->bidi && sq->auth_pending) {
		sq->auth_pending = false;
		log_info("%s: ctrl %u qid %u: host %s authenticated (%s, DH group %s)", peer(sq),
			 ctrl->cntlid, sq->qid, ctrl->hostnqn, nvmf_dhchap_hash_name(a->hash),
			 nvmf_dhchap_dhgroup_name(a->dhgroup));
	} else if (!a->bidi) {
		log_info("%s: ctrl %u qid %u: host %s re-authenticated (%s, DH group %s)", peer(sq),
			 ctrl->cntlid, sq->qid, ctrl->hostnqn, nvmf_dhchap_hash_name(a->hash),
			 nvmf_dhchap_dhgroup_name(a->dhgroup));
	}
	set_step(a, AUTH_SUCCESS1);
	return 0;
}

static void success2(struct nvmf_sq_auth *a)
{
	struct nvmf_sq *sq = a->sq;

	log_info("%s: ctrl %u qid %u: host %s %sauthenticated, controller authenticated to it "
		 "(%s, DH group %s)", peer(sq), sq->ctrl->cntlid, sq->qid, sq->ctrl->hostnqn,
		 sq->auth_pending ? "" : "re-", nvmf_dhchap_hash_name(a->hash),
		 nvmf_dhchap_dhgroup_name(a->dhgroup));
	sq->auth_pending = false;
	set_step(a, AUTH_DONE);
}

static void execute_auth_send(struct nvmf_req *req)
{
	struct nvmf_sq *sq = req->sq;
	struct nvmf_tgt_ctrl *ctrl = sq->ctrl;
	uint8_t msg[AUTH_MSG_MAX];
	const struct nvmf_auth_hdr *h = (const struct nvmf_auth_hdr *)msg;
	size_t tl = req->xfer_len, len = tl < sizeof(msg) ? tl : sizeof(msg);
	struct nvmf_sq_auth *a = sq_auth(sq);
	const char *why = NULL;
	uint8_t rce = 0;

	if (!a) {
		log_err("%s: ctrl %u qid %u: out of memory for authentication", peer(sq),
			ctrl->cntlid, sq->qid);
		nvmf_req_complete(req, NVMF_SC(NVME_SC_INTERNAL));
		return;
	}
	if (a->step == AUTH_FAILED) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_CMD_SEQ_ERROR));
		return;
	}
	/* the parts of the message past AUTH_MSG_MAX are never read: lengths are checked */
	memset(msg, 0, sizeof(msg));
	nvmf_req_copy_from(req, 0, msg, len);

	if (tl < sizeof(*h)) {
		rce = NVMF_AUTH_RCE_INCORRECT_PAYLOAD;
		why = "message shorter than its header";
	} else if (h->auth_type == NVMF_AUTH_TYPE_COMMON && h->auth_id == NVMF_AUTH_ID_NEGOTIATE) {
		rce = negotiate(a, msg, tl, &why);
	} else if (h->auth_type == NVMF_AUTH_TYPE_COMMON && h->auth_id == NVMF_AUTH_ID_FAILURE2) {
		const struct nvmf_auth_failure *f = (const struct nvmf_auth_failure *)msg;

		log_warn("%s: ctrl %u qid %u: host %s reports authentication failure (reason "
			 "0x%02x): tearing the controller down", peer(sq), ctrl->cntlid, sq->qid,
			 ctrl->hostnqn, tl >= sizeof(*f) ? f->rce : 0);
		sq->auth_pending = true;
		set_step(a, AUTH_FAILED);
	} else if (h->auth_type == NVMF_AUTH_TYPE_DHCHAP &&
		   ((a->step == AUTH_REPLY && h->auth_id == NVMF_AUTH_ID_REPLY) ||
		    (a->step == AUTH_SUCCESS2 && h->auth_id == NVMF_AUTH_ID_SUCCESS2))) {
		if (le16toh(h->t_id) != a->t_id) {
			rce = NVMF_AUTH_RCE_INCORRECT_PAYLOAD;
			why = "transaction ID does not match";
		} else if (h->auth_id == NVMF_AUTH_ID_REPLY) {
			rce = reply(a, msg, tl, &why);
		} else {
			success2(a);
		}
	} else {
		rce = NVMF_AUTH_RCE_INCORRECT_MESSAGE;
		why = "unexpected message for the step";
	}
	if (rce)
		fail(a, rce, why);
	settle(a);
	nvmf_req_complete(req, 0);
	if (a->step == AUTH_FAILED)
		nvmf_tgt_ctrl_fatal(ctrl, "host reported authentication failure");
}

/* ------------------------------------------------------------------ controller to host */

/* The Challenge into msg; its length, or 0 (cannot: Internal Error, as nvmet). */
static size_t challenge(struct nvmf_sq_auth *a, uint8_t *msg, size_t al)
{
	struct nvmf_auth_challenge *c = (struct nvmf_auth_challenge *)msg;
	size_t dhvlen = nvmf_dhchap_dh_len(a->dhgroup), len = sizeof(*c) + a->hl + dhvlen;

	if (al < len || nvmf_dhchap_random(a->c1, a->hl))
		return 0;
	if (dhvlen) {
		nvmf_dhchap_dh_free(a->dh);
		a->dh = nvmf_dhchap_dh_new(a->dhgroup);
		if (!a->dh || nvmf_dhchap_dh_public(a->dh, c->cval + a->hl, dhvlen))
			return 0;
	}
	a->s1 = next_seqnum();
	c->auth_type = NVMF_AUTH_TYPE_DHCHAP;
	c->auth_id = NVMF_AUTH_ID_CHALLENGE;
	c->t_id = htole16(a->t_id);
	c->hl = a->hl;
	c->hashid = a->hash;
	c->dhgid = a->dhgroup;
	c->dhvlen = htole16((uint16_t)dhvlen);
	c->seqnum = htole32(a->s1);
	memcpy(c->cval, a->c1, a->hl);
	return len;
}

static size_t failure1(struct nvmf_sq_auth *a, uint8_t *msg)
{
	struct nvmf_auth_failure *f = (struct nvmf_auth_failure *)msg;

	f->auth_type = NVMF_AUTH_TYPE_COMMON;
	f->auth_id = NVMF_AUTH_ID_FAILURE1;
	f->t_id = htole16(a->t_id);
	f->rc = NVMF_AUTH_RC_FAILED;
	f->rce = a->rce;
	return sizeof(*f);
}

/* Success1 (with R2 when the host challenged us), or Failure1 when we cannot answer. */
static size_t success1(struct nvmf_sq_auth *a, uint8_t *msg)
{
	struct nvmf_auth_success1 *s = (struct nvmf_auth_success1 *)msg;
	struct nvmf_tgt_ctrl *ctrl = a->sq->ctrl;

	s->auth_type = NVMF_AUTH_TYPE_DHCHAP;
	s->auth_id = NVMF_AUTH_ID_SUCCESS1;
	s->t_id = htole16(a->t_id);
	s->hl = a->hl;
	if (!a->bidi)
		return sizeof(*s);
	if (!a->keys.ctrl_key_len) {
		fail(a, NVMF_AUTH_RCE_FAILED, "host asks the controller to authenticate, but it "
		     "has no controller key");
		return failure1(a, msg);
	}
	if (nvmf_dhchap_ctrl_response(a->hash, a->keys.ctrl_key, a->keys.ctrl_key_len, a->cb,
				      a->s2, a->t_id, ctrl->subsys->nqn, ctrl->hostnqn, s->rval)) {
		fail(a, NVMF_AUTH_RCE_FAILED, "cannot compute the controller response");
		return failure1(a, msg);
	}
	s->rvalid = NVMF_AUTH_RVALID;
	return sizeof(*s) + a->hl;
}

static void execute_auth_recv(struct nvmf_req *req)
{
	struct nvmf_sq *sq = req->sq;
	struct nvmf_tgt_ctrl *ctrl = sq->ctrl;
	struct nvmf_sq_auth *a = sq->auth;
	size_t al = req->xfer_len, len = 0;
	uint8_t msg[AUTH_MSG_MAX];
	uint16_t status = 0;

	/* nothing to say: no exchange under way */
	if (!a || a->step == AUTH_NEGOTIATE || a->step == AUTH_DONE || a->step == AUTH_FAILED) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_CMD_SEQ_ERROR));
		return;
	}
	memset(msg, 0, sizeof(msg));
	switch (a->step) {
	case AUTH_CHALLENGE:
		len = challenge(a, msg, al);
		if (!len) {
			log_err("%s: ctrl %u qid %u: cannot build the Challenge (%zu bytes allowed)",
				peer(sq), ctrl->cntlid, sq->qid, al);
			status = NVMF_SC(NVME_SC_INTERNAL);
			break;
		}
		set_step(a, AUTH_REPLY);
		break;
	case AUTH_SUCCESS1:
		if (al < sizeof(struct nvmf_auth_success1) + (a->bidi ? a->hl : 0)) {
			status = NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
			break;
		}
		len = success1(a, msg);
		if (a->step == AUTH_SUCCESS1)
			set_step(a, a->bidi ? AUTH_SUCCESS2 : AUTH_DONE);
		else
			set_step(a, AUTH_FAILED); /* Failure1 in place of Success1 */
		break;
	case AUTH_REPLY:
	case AUTH_SUCCESS2:
		/* the host should have sent its message: nothing we can answer */
		fail(a, NVMF_AUTH_RCE_INCORRECT_MESSAGE, "Receive while waiting for the host");
		/* fall through */
	case AUTH_FAILURE1:
		if (al < sizeof(struct nvmf_auth_failure)) {
			status = NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
			break;
		}
		len = failure1(a, msg);
		set_step(a, AUTH_FAILED);
		break;
	default:
		break;
	}
	if (!status && !req->iovcnt && nvmf_req_alloc_data(req))
		status = NVMF_SC(NVME_SC_INTERNAL);
	if (!status)
		nvmf_req_fill(req, msg, len); /* al bytes: the message, then zeroes */
	settle(a);
	nvmf_req_complete(req, status);
	if (a->step == AUTH_FAILED)
		nvmf_tgt_ctrl_fatal(ctrl, "authentication failed (Failure1 sent)");
}

/* ------------------------------------------------------------------ parse */

uint16_t nvmf_parse_auth(struct nvmf_req *req)
{
	const struct nvmf_auth_cmd *c = (const struct nvmf_auth_cmd *)&req->cmd;
	uint32_t len = le32toh(c->tl_al);

	if (c->secp != NVMF_AUTH_SECP || c->spsp0 != NVMF_AUTH_SPSP0_DHCHAP ||
	    c->spsp1 != NVMF_AUTH_SPSP1_DHCHAP || len == 0)
		return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
	req->xfer_len = len;
	if (c->fctype == NVMF_FCTYPE_AUTH_SEND) {
		req->dir = NVME_XFER_HOST_TO_CTRL;
		req->execute = execute_auth_send;
	} else {
		req->dir = NVME_XFER_CTRL_TO_HOST;
		req->execute = execute_auth_recv;
	}
	return 0;
}
