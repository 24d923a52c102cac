/*
 * In-band authentication on the target (auth.c) through the real target core: Connect,
 * Property Get/Set, Authentication Send/Receive and ordinary commands go through
 * nvmf_req_init() and their handlers as a transport would hand them over (no sockets).
 * The test plays the host with src/auth's maths -- the answers a Linux host computes --
 * and reads every message the target returns field by field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/dhchap.h"
#include "target/target.h"

#define HOST_AUTH "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
#define HOST_PLAIN "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000002"
#define SUBNQN "nqn.2024-01.io.example:sub1"
#define OPEN_NQN "nqn.2024-01.io.example:open"
#define DISC_NQN "nqn.2014-08.org.nvmexpress.discovery"
/* bytes 00..1f, transform 01 (test_dhchap checks R1 for it against Python) */
#define KEY01 "DHHC-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:"

/* The Linux host's allocation length of every Authentication Receive. */
#define RECV_AL 4096
/* A Reply with SHA-512 R1 and C2 and an ffdhe8192 value. */
#define AUTH_REPLY_MAX (16 + 2 * NVMF_DHCHAP_MAX_HASH + NVMF_DHCHAP_MAX_DH)

#define SC_DNR(sc) NVME_STATUS_NORETRY(NVME_SCT_GENERIC, sc)
#define AUTH_REQUIRED NVME_STATUS_NORETRY(NVME_SCT_CMD_SPECIFIC, NVMF_SC_AUTH_REQUIRED)

/* ------------------------------------------------------------------ the fixture */

struct fx {
	struct nvmf_tgt tgt;
	struct nvmf_reactor reactor;
	struct nvmf_cfg cfg;
	struct nvmf_cfg_host hosts[2];
	struct nvmf_cfg_port cport;
	char *port_subsys[2];
	char *allowed[2];
	struct nvmf_port port;
	struct nvmf_subsys sub, open, disc;
	struct nvmf_sq asq, ioq;
	bool asq_gone, ioq_gone;
	char host_key[NVMF_DHCHAP_SECRET_STR_MAX], ctrl_key[NVMF_DHCHAP_SECRET_STR_MAX];
	char other_key[NVMF_DHCHAP_SECRET_STR_MAX];
	unsigned disconnects, want_disconnects;
	uint16_t t_id;           /* the host's transaction counter */
};

static struct fx *F;
static struct nvmf_req *last_done;

static void queue_response(struct nvmf_req *req)
{
	last_done = req;
}

/* A controller teardown reaches each queue here: the transport closes it. */
static void disconnect(struct nvmf_sq *sq)
{
	if (sq == &F->asq)
		F->asq_gone = true;
	else
		F->ioq_gone = true;
	nvmf_sq_destroy(sq);
	if (++F->disconnects >= F->want_disconnects)
		nvmf_reactor_stop(&F->reactor);
}

static const struct nvmf_transport_ops ops = {
	.name = "fake",
	.queue_response = queue_response,
	.disconnect = disconnect,
};

static void gen_key(char *out, enum nvmf_dhchap_hash t, size_t len)
{
	struct nvmf_dhchap_secret s;

	assert_int_equal(nvmf_dhchap_secret_generate(&s, t, len, NULL, HOST_AUTH), 0);
	assert_int_equal(nvmf_dhchap_secret_format(&s, out, NVMF_DHCHAP_SECRET_STR_MAX), 0);
}

static struct nvmf_subsys_view *new_view(bool any)
{
	struct nvmf_subsys_view *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	v->allow_any_host = any;
	return v;
}

static void init_subsys(struct nvmf_subsys *s, const char *nqn, bool any)
{
	s->tgt = &F->tgt;
	snprintf(s->nqn, sizeof(s->nqn), "%s", nqn);
	s->view = new_view(any);
	s->cntlid_min = 1;
	s->cntlid_max = 0xFFEF;
	s->qid_max = 4;
	s->vs = NVME_VS(2, 1, 0);
}

static void init_sq(struct nvmf_sq *sq)
{
	*sq = (struct nvmf_sq){ .tgt = &F->tgt, .port = &F->port, .reactor = &F->reactor,
				.ops = &ops };
}

static int setup(void **state)
{
	(void)state;
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	last_done = NULL;
	assert_int_equal(nvmf_reactor_init(&F->reactor, 0, 16, 0), 0);
	pthread_mutex_init(&F->tgt.lock, NULL);
	F->tgt.cfg = &F->cfg;

	snprintf(F->host_key, sizeof(F->host_key), "%s", KEY01);
	gen_key(F->ctrl_key, NVMF_DHCHAP_SHA384, 48);
	gen_key(F->other_key, NVMF_DHCHAP_HASH_NONE, 64);
	F->hosts[0] = (struct nvmf_cfg_host){ .nqn = HOST_AUTH, .dhchap_key = F->host_key,
					      .dhchap_ctrl_key = "",
					      .dhchap_hash = NVMF_CFG_DHCHAP_SHA256,
					      .dhchap_dhgroup = NVMF_CFG_DHGROUP_NULL };
	F->hosts[1] = (struct nvmf_cfg_host){ .nqn = HOST_PLAIN, .dhchap_key = "",
					      .dhchap_ctrl_key = "",
					      .dhchap_hash = NVMF_CFG_DHCHAP_SHA256 };
	F->cfg.hosts = F->hosts;
	F->cfg.nr_hosts = 2;

	init_subsys(&F->sub, SUBNQN, false);
	F->allowed[0] = HOST_AUTH;
	F->allowed[1] = HOST_PLAIN;
	F->sub.view->allowed_hosts = F->allowed;
	F->sub.view->nr_allowed_hosts = 2;
	init_subsys(&F->open, OPEN_NQN, true);
	init_subsys(&F->disc, DISC_NQN, true);
	F->disc.is_discovery = true;
	F->tgt.subsys = calloc(1, sizeof(*F->tgt.subsys) + 2 * sizeof(F->tgt.subsys->s[0]));
	assert_non_null(F->tgt.subsys);
	F->tgt.subsys->s[0] = &F->sub;
	F->tgt.subsys->s[1] = &F->open;
	F->tgt.subsys->nr = 2;
	F->tgt.disc_subsys = &F->disc;

	F->port_subsys[0] = SUBNQN;
	F->port_subsys[1] = OPEN_NQN;
	F->cport = (struct nvmf_cfg_port){ .portid = 1, .trtype = NVMF_CFG_TRTYPE_TCP,
					   .adrfam = NVMF_CFG_ADRFAM_IPV4, .traddr = "127.0.0.1",
					   .trsvcid = "4420", .enabled = true,
					   .subsystems = F->port_subsys, .nr_subsystems = 2 };
	F->cfg.ports = &F->cport;
	F->cfg.nr_ports = 1;
	F->port = (struct nvmf_port){ .tgt = &F->tgt, .cfg = &F->cport, .portid = 1,
				      .io_icd = NVMF_IO_ICD_DEFAULT, .max_queue_size = 128,
				      .listen_fd = -1 };
	init_sq(&F->asq);
	init_sq(&F->ioq);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	/* the transport closes what is left: I/O queue first, the admin queue ends it all */
	if (!F->ioq_gone)
		nvmf_sq_destroy(&F->ioq);
	if (!F->asq_gone)
		nvmf_sq_destroy(&F->asq);
	assert_int_equal(atomic_load(&F->tgt.live_ctrls), 0);
	free(F->sub.view);
	free(F->open.view);
	free(F->disc.view);
	free(F->tgt.subsys);
	pthread_mutex_destroy(&F->tgt.lock);
	nvmf_reactor_fini(&F->reactor);
	free(F);
	return 0;
}

/* ------------------------------------------------------------------ commands */

static struct nvme_sqe sqe(uint8_t opc, uint32_t len)
{
	struct nvme_sqe c;

	memset(&c, 0, sizeof(c));
	c.opcode = opc;
	c.flags = NVME_CMD_FLAGS_SGL;
	c.cid = htole16(0x42);
	c.dptr.sgl.length = htole32(len);
	c.dptr.sgl.id = len ? NVME_SGL_ID_TRANSPORT : 0;
	return c;
}

/*
 * A command as a transport runs it: parse, then (data host-to-controller) the data
 * arrives, then the handler.  Returns the status; ctrl-to-host data lands in out.
 */
static uint16_t run(struct nvmf_sq *sq, struct nvme_sqe c, const void *in, void *out,
		    uint32_t *dw0)
{
	struct nvmf_req *req = calloc(1, sizeof(*req));
	uint16_t st;

	assert_non_null(req);
	last_done = NULL;
	req->cmd = c;
	st = nvmf_req_init(req, sq, 0);
	if (st) {
		nvmf_req_complete(req, st);
	} else {
		assert_non_null(req->execute);
		assert_int_equal(nvmf_req_alloc_data(req), 0);
		if (in)
			assert_int_equal(nvmf_req_copy_to(req, 0, in, req->xfer_len),
					 req->xfer_len);
		req->execute(req);
	}
	assert_ptr_equal(last_done, req);
	st = le16toh(req->cqe.status);
	if (st == 0 && out)
		assert_int_equal(nvmf_req_copy_from(req, 0, out, req->xfer_len), req->xfer_len);
	if (dw0)
		*dw0 = le32toh(req->cqe.dw0);
	nvmf_req_free_data(req);
	free(req);
	return st;
}

static uint16_t fabrics_connect(struct nvmf_sq *sq, uint16_t qid, uint16_t cntlid, const char *host,
			const char *subnqn, uint32_t *dw0)
{
	struct nvme_sqe c = sqe(NVME_OPC_FABRICS, sizeof(struct nvmf_connect_data));
	struct nvmf_connect_cmd *cc = (struct nvmf_connect_cmd *)&c;
	struct nvmf_connect_data d;

	cc->fctype = NVMF_FCTYPE_CONNECT;
	cc->qid = htole16(qid);
	cc->sqsize = htole16(31);
	/* a keep-alive timeout, so Keep Alive is a command the controller serves */
	cc->kato = htole32(qid ? 0 : 120000);
	memset(&d, 0, sizeof(d));
	memset(d.hostid, 0x11, sizeof(d.hostid));
	d.cntlid = htole16(cntlid);
	snprintf(d.subnqn, sizeof(d.subnqn), "%s", subnqn);
	snprintf(d.hostnqn, sizeof(d.hostnqn), "%s", host);
	return run(sq, c, &d, NULL, dw0);
}

/* Admin Connect of host to subnqn; returns dw0 (the Connect must succeed). */
static uint32_t connect_admin(const char *host, const char *subnqn)
{
	uint32_t dw0;

	assert_int_equal(fabrics_connect(&F->asq, 0, NVMF_CNTLID_DYNAMIC, host, subnqn, &dw0), 0);
	return dw0;
}

static uint16_t prop_set_cc(struct nvmf_sq *sq, uint32_t cc)
{
	struct nvme_sqe c = sqe(NVME_OPC_FABRICS, 0);
	struct nvmf_property_set_cmd *p = (struct nvmf_property_set_cmd *)&c;

	p->fctype = NVMF_FCTYPE_PROPERTY_SET;
	p->attrib = NVMF_PROP_SIZE_4;
	p->offset = htole32(NVME_REG_CC);
	p->value = htole64(cc);
	return run(sq, c, NULL, NULL, NULL);
}

static uint16_t prop_get_vs(struct nvmf_sq *sq)
{
	struct nvme_sqe c = sqe(NVME_OPC_FABRICS, 0);
	struct nvmf_property_get_cmd *p = (struct nvmf_property_get_cmd *)&c;

	p->fctype = NVMF_FCTYPE_PROPERTY_GET;
	p->attrib = NVMF_PROP_SIZE_4;
	p->offset = htole32(NVME_REG_VS);
	return run(sq, c, NULL, NULL, NULL);
}

static void enable_ctrl(void)
{
	assert_int_equal(prop_set_cc(&F->asq, NVME_CC_EN |
				     (uint32_t)NVME_SET(NVME_CC_IOSQES, NVME_SQES_LOG2) |
				     (uint32_t)NVME_SET(NVME_CC_IOCQES, NVME_CQES_LOG2)), 0);
	assert_true(nvmf_tgt_ctrl_ready(F->asq.ctrl));
}

static uint16_t keep_alive(void)
{
	return run(&F->asq, sqe(NVME_ADM_KEEP_ALIVE, 0), NULL, NULL, NULL);
}

/* Flush of a namespace that does not exist: Invalid Namespace once authenticated. */
static uint16_t io_flush(void)
{
	struct nvme_sqe c = sqe(NVME_NVM_FLUSH, 0);

	c.nsid = htole32(99);
	return run(&F->ioq, c, NULL, NULL, NULL);
}

static struct nvme_sqe auth_cmd(uint8_t fctype, uint32_t len)
{
	struct nvme_sqe c = sqe(NVME_OPC_FABRICS, len);
	struct nvmf_auth_cmd *a = (struct nvmf_auth_cmd *)&c;

	a->fctype = fctype;
	a->secp = NVMF_AUTH_SECP;
	a->spsp0 = NVMF_AUTH_SPSP0_DHCHAP;
	a->spsp1 = NVMF_AUTH_SPSP1_DHCHAP;
	a->tl_al = htole32(len);
	return c;
}

static uint16_t auth_send(struct nvmf_sq *sq, const void *msg, uint32_t len)
{
	return run(sq, auth_cmd(NVMF_FCTYPE_AUTH_SEND, len), msg, NULL, NULL);
}

/* Receive with the Linux host's 4096-byte allocation. */
static uint16_t auth_recv(struct nvmf_sq *sq, uint8_t buf[RECV_AL])
{
	return run(sq, auth_cmd(NVMF_FCTYPE_AUTH_RECV, RECV_AL), NULL, buf, NULL);
}

/* ------------------------------------------------------------------ the host's side */

struct host {
	const char *nqn;
	const char *key;         /* its DHHC-1 secret */
	const char *ctrl_key;    /* NULL: it does not authenticate the controller */
	const uint8_t *hashes;   /* what Negotiate offers */
	uint8_t nr_hashes;
	const uint8_t *groups;
	uint8_t nr_groups;
	uint8_t sc_c;
};

static const uint8_t all_hashes[] = { 1, 2, 3 };
static const uint8_t all_groups[] = { 0, 1, 2, 3, 4, 5 };

/* The Linux host's Negotiate: 72 bytes, one DH-HMAC-CHAP descriptor. */
static uint16_t send_negotiate(struct nvmf_sq *sq, const struct host *h, uint16_t tid)
{
	uint8_t buf[sizeof(struct nvmf_auth_negotiate) + sizeof(struct nvmf_auth_dhchap_desc)];
	struct nvmf_auth_negotiate *n = (struct nvmf_auth_negotiate *)buf;
	const uint8_t *hashes = h->hashes ? h->hashes : all_hashes;
	const uint8_t *groups = h->groups ? h->groups : all_groups;
	uint8_t nh = h->hashes ? h->nr_hashes : 3, ng = h->groups ? h->nr_groups : 6;

	memset(buf, 0, sizeof(buf));
	n->auth_type = NVMF_AUTH_TYPE_COMMON;
	n->auth_id = NVMF_AUTH_ID_NEGOTIATE;
	n->t_id = htole16(tid);
	n->sc_c = h->sc_c;
	n->napd = 1;
	n->descs[0].authid = NVMF_AUTH_PROTO_DHCHAP;
	n->descs[0].halen = nh;
	n->descs[0].dhlen = ng;
	memcpy(n->descs[0].hash_ids, hashes, nh);
	memcpy(n->descs[0].dhg_ids, groups, ng);
	return auth_send(sq, buf, sizeof(buf));
}

static void expect_failure1(struct nvmf_sq *sq, uint16_t tid, uint8_t rce)
{
	uint8_t buf[RECV_AL];
	const struct nvmf_auth_failure *f = (const struct nvmf_auth_failure *)buf;

	assert_int_equal(auth_recv(sq, buf), 0);
	assert_int_equal(f->auth_type, NVMF_AUTH_TYPE_COMMON);
	assert_int_equal(f->auth_id, NVMF_AUTH_ID_FAILURE1);
	assert_int_equal(le16toh(f->t_id), tid);
	assert_int_equal(f->rc, NVMF_AUTH_RC_FAILED);
	assert_int_equal(f->rce, rce);
}

/*
 * The host's half of one exchange on sq, as the Linux host runs it: Negotiate, Challenge,
 * Reply (R1, C2 when it has a controller key, its DH value), Success1 (R2 checked),
 * Success2.  want_hash / want_group: what the Challenge must carry.  key_for_r1: the
 * secret R1 is computed with (a wrong one to see the target refuse it).  want_rce: the
 * Failure1 expected in place of Success1 (0: success).
 */
static void exchange(struct nvmf_sq *sq, const struct host *h, const char *key_for_r1,
		     uint8_t want_hash, uint8_t want_group, uint8_t want_rce)
{
	static uint8_t buf[RECV_AL], reply[AUTH_REPLY_MAX];
	const struct nvmf_auth_challenge *c = (const struct nvmf_auth_challenge *)buf;
	const struct nvmf_auth_success1 *s1 = (const struct nvmf_auth_success1 *)buf;
	struct nvmf_auth_reply *r = (struct nvmf_auth_reply *)reply;
	uint8_t kh[NVMF_DHCHAP_MAX_HASH], kc[NVMF_DHCHAP_MAX_HASH], ca[NVMF_DHCHAP_MAX_HASH];
	uint8_t cb[NVMF_DHCHAP_MAX_HASH], c2[NVMF_DHCHAP_MAX_HASH], r2[NVMF_DHCHAP_MAX_HASH];
	uint8_t z[NVMF_DHCHAP_MAX_DH];
	struct nvmf_dhchap_secret sec;
	struct nvmf_dhchap_dh *dh = NULL;
	uint16_t tid = F->t_id++;
	size_t hl, dhvlen, zlen = 0;
	uint32_t s1v, s2v = 0;
	int khl, kcl = 0;

	assert_int_equal(send_negotiate(sq, h, tid), 0);
	assert_int_equal(auth_recv(sq, buf), 0);
	assert_int_equal(c->auth_type, NVMF_AUTH_TYPE_DHCHAP);
	assert_int_equal(c->auth_id, NVMF_AUTH_ID_CHALLENGE);
	assert_int_equal(le16toh(c->t_id), tid);
	assert_int_equal(c->hashid, want_hash);
	assert_int_equal(c->dhgid, want_group);
	hl = c->hl;
	dhvlen = le16toh(c->dhvlen);
	assert_int_equal(hl, nvmf_dhchap_hash_len(want_hash));
	assert_int_equal(dhvlen, nvmf_dhchap_dh_len(want_group));
	s1v = le32toh(c->seqnum);
	assert_int_not_equal(s1v, 0);
	/* the rest of the 4096 bytes is zero */
	for (size_t i = sizeof(*c) + hl + dhvlen; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);

	memset(reply, 0, sizeof(reply));
	if (dhvlen) {
		dh = nvmf_dhchap_dh_new(want_group);
		assert_non_null(dh);
		zlen = dhvlen;
		assert_int_equal(nvmf_dhchap_dh_shared(dh, c->cval + hl, dhvlen, z, zlen), 0);
		assert_int_equal(nvmf_dhchap_dh_public(dh, r->rval + 2 * hl, dhvlen), 0);
	}
	assert_int_equal(nvmf_dhchap_augment(want_hash, c->cval, dhvlen ? z : NULL, zlen, ca),
			 (int)hl);
	assert_int_equal(nvmf_dhchap_secret_parse(key_for_r1, &sec), 0);
	khl = nvmf_dhchap_secret_transform(&sec, h->nqn, kh);
	assert_true(khl > 0);
	assert_int_equal(nvmf_dhchap_host_response(want_hash, kh, (size_t)khl, ca, s1v, tid, 0,
						   h->nqn, SUBNQN, r->rval), 0);
	if (h->ctrl_key) {
		assert_int_equal(nvmf_dhchap_random(c2, hl), 0);
		memcpy(r->rval + hl, c2, hl);
		r->cvalid = NVMF_AUTH_CVALID;
		s2v = 0x5eed0000u + tid;
		assert_int_equal(nvmf_dhchap_secret_parse(h->ctrl_key, &sec), 0);
		kcl = nvmf_dhchap_secret_transform(&sec, SUBNQN, kc);
		assert_true(kcl > 0);
	}
	r->auth_type = NVMF_AUTH_TYPE_DHCHAP;
	r->auth_id = NVMF_AUTH_ID_REPLY;
	r->t_id = htole16(tid);
	r->hl = (uint8_t)hl;
	r->dhvlen = htole16((uint16_t)dhvlen);
	r->seqnum = htole32(s2v);
	assert_int_equal(auth_send(sq, reply, (uint32_t)(sizeof(*r) + 2 * hl + dhvlen)), 0);

	assert_int_equal(auth_recv(sq, buf), 0);
	if (want_rce) {
		const struct nvmf_auth_failure *f = (const struct nvmf_auth_failure *)buf;

		assert_int_equal(f->auth_type, NVMF_AUTH_TYPE_COMMON);
		assert_int_equal(f->auth_id, NVMF_AUTH_ID_FAILURE1);
		assert_int_equal(le16toh(f->t_id), tid);
		assert_int_equal(f->rce, want_rce);
		goto out;
	}
	assert_int_equal(s1->auth_type, NVMF_AUTH_TYPE_DHCHAP);
	assert_int_equal(s1->auth_id, NVMF_AUTH_ID_SUCCESS1);
	assert_int_equal(le16toh(s1->t_id), tid);
	assert_int_equal(s1->hl, hl);
	if (h->ctrl_key) {
		struct nvmf_auth_success2 s2 = { .auth_type = NVMF_AUTH_TYPE_DHCHAP,
						 .auth_id = NVMF_AUTH_ID_SUCCESS2,
						 .t_id = htole16(tid) };

		/* the host checks R2 = HMAC(K'c, Cb || S2 || T_ID || 0 || "Controller" ...) */
		assert_int_equal(s1->rvalid, NVMF_AUTH_RVALID);
		assert_int_equal(nvmf_dhchap_augment(want_hash, c2, dhvlen ? z : NULL, zlen, cb),
				 (int)hl);
		assert_int_equal(nvmf_dhchap_ctrl_response(want_hash, kc, (size_t)kcl, cb, s2v,
							   tid, SUBNQN, h->nqn, r2), 0);
		assert_memory_equal(s1->rval, r2, hl);
		assert_int_equal(auth_send(sq, &s2, sizeof(s2)), 0);
	} else {
		assert_int_equal(s1->rvalid, 0);
	}
	assert_false(sq->auth_pending);
out:
	nvmf_dhchap_wipe(&sec, sizeof(sec));
	nvmf_dhchap_dh_free(dh);
}

/* ------------------------------------------------------------------ helpers */

static void stop_reactor(struct nvmf_timer *t)
{
	(void)t;
	nvmf_reactor_stop(&F->reactor);
}

/* Run the reactor for at most ms, or until n queues were torn down. */
static void run_reactor(unsigned n, unsigned ms)
{
	struct nvmf_timer guard = { .fn = stop_reactor };

	F->want_disconnects = n;
	atomic_store(&F->reactor.stopping, false);
	nvmf_timer_arm(&F->reactor, &guard, (uint64_t)ms * 1000000ull);
	nvmf_reactor_run(&F->reactor);
	nvmf_timer_cancel(&F->reactor, &guard);
}

/* After a Failure1 or Failure2: the controller's n queues are closed by the transport. */
static void expect_teardown(unsigned n)
{
	struct nvmf_tgt_ctrl *ctrl = F->asq.ctrl;

	assert_non_null(ctrl);
	assert_true(atomic_load(&ctrl->dying));
	assert_true(atomic_load(&ctrl->csts) & NVME_CSTS_CFS);
	F->disconnects = 0;
	run_reactor(n, 5000);
	assert_int_equal(F->disconnects, n);
	assert_true(F->asq_gone);
	assert_int_equal(atomic_load(&F->tgt.live_ctrls), 0);
}

/* A new admin queue (the previous one closed or closing now). */
static void new_admin_queue(void)
{
	if (!F->asq_gone)
		nvmf_sq_destroy(&F->asq);
	init_sq(&F->asq);
	F->asq_gone = false;
}

static const struct host auth_host = { .nqn = HOST_AUTH, .key = KEY01 };

/* ------------------------------------------------------------------ tests */

/* ATR in the Connect response exactly where nvmet sets up authentication. */
static void connect_sets_atr(void **state)
{
	struct nvmf_sq other;
	uint32_t dw0;

	(void)state;
	dw0 = connect_admin(HOST_AUTH, SUBNQN);
	assert_int_equal(dw0 & ~0xFFFFu, NVMF_CONNECT_DW0_ATR);
	assert_int_equal(dw0 & 0xFFFF, F->asq.ctrl->cntlid);
	assert_true(F->asq.auth_pending);
	/* fabrics commands are served before authentication, nothing else */
	assert_int_equal(prop_get_vs(&F->asq), 0);
	enable_ctrl();
	assert_int_equal(keep_alive(), AUTH_REQUIRED);
	/* the CQE's status field: DNR (bit 15), SCT 1 (bits 11:9), SC 0x91 (bits 8:1) */
	assert_int_equal(keep_alive(), 0x8000 | 1 << 9 | 0x91 << 1);

	/* a host without a key, a subsystem open to any host, the discovery subsystem */
	init_sq(&other);
	assert_int_equal(fabrics_connect(&other, 0, NVMF_CNTLID_DYNAMIC, HOST_PLAIN, SUBNQN, &dw0), 0);
	assert_int_equal(dw0 & ~0xFFFFu, 0);
	assert_false(other.auth_pending);
	nvmf_sq_destroy(&other);
	init_sq(&other);
	assert_int_equal(fabrics_connect(&other, 0, NVMF_CNTLID_DYNAMIC, HOST_AUTH, OPEN_NQN, &dw0), 0);
	assert_int_equal(dw0 & ~0xFFFFu, 0);
	nvmf_sq_destroy(&other);
	init_sq(&other);
	assert_int_equal(fabrics_connect(&other, 0, NVMF_CNTLID_DYNAMIC, HOST_AUTH, DISC_NQN, &dw0), 0);
	assert_int_equal(dw0 & ~0xFFFFu, 0);
	nvmf_sq_destroy(&other);
}

/* Null group, SHA-256, on the admin queue and an I/O queue, each gated until it is done. */
static void exchange_null_sha256(void **state)
{
	uint32_t dw0;
	uint16_t cntlid;

	(void)state;
	cntlid = (uint16_t)connect_admin(HOST_AUTH, SUBNQN);
	enable_ctrl();
	exchange(&F->asq, &auth_host, KEY01, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_DH_NULL, 0);
	assert_int_equal(keep_alive(), 0);

	assert_int_equal(fabrics_connect(&F->ioq, 1, cntlid, HOST_AUTH, SUBNQN, &dw0), 0);
	assert_int_equal(dw0, cntlid | NVMF_CONNECT_DW0_ATR);
	assert_int_equal(io_flush(), AUTH_REQUIRED);
	/* Property Get/Set stay admin-queue commands */
	assert_int_equal(prop_get_vs(&F->ioq), SC_DNR(NVME_SC_INVALID_OPCODE));
	exchange(&F->ioq, &auth_host, KEY01, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_DH_NULL, 0);
	assert_int_equal(io_flush(), SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
	/* a Receive with no exchange under way has nothing to say */
	{
		uint8_t buf[RECV_AL];

		assert_int_equal(auth_recv(&F->ioq, buf), SC_DNR(NVME_SC_CMD_SEQ_ERROR));
	}
}

/* Every hash with the null group and two FFDHE groups. */
static void exchange_every_hash_and_group(void **state)
{
	static const uint8_t groups[] = { NVMF_DHCHAP_DH_NULL, NVMF_DHCHAP_FFDHE2048,
					  NVMF_DHCHAP_FFDHE4096 };

	(void)state;
	for (uint8_t hash = NVMF_DHCHAP_SHA256; hash <= NVMF_DHCHAP_SHA512; hash++) {
		for (size_t g = 0; g < sizeof(groups); g++) {
			F->hosts[0].dhchap_hash = hash;
			F->hosts[0].dhchap_dhgroup = groups[g];
			new_admin_queue();
			connect_admin(HOST_AUTH, SUBNQN);
			exchange(&F->asq, &auth_host, KEY01, hash, groups[g], 0);
		}
	}
}

/* The host challenges the controller: R2 in Success1 is what the host computes. */
static void exchange_bidirectional(void **state)
{
	struct host h = { .nqn = HOST_AUTH, .key = KEY01, .ctrl_key = F->ctrl_key };
	uint16_t cntlid;
	uint32_t dw0;

	(void)state;
	F->hosts[0].dhchap_ctrl_key = F->ctrl_key;
	F->hosts[0].dhchap_hash = NVMF_CFG_DHCHAP_SHA384;
	F->hosts[0].dhchap_dhgroup = NVMF_CFG_DHGROUP_2048;
	cntlid = (uint16_t)connect_admin(HOST_AUTH, SUBNQN);
	enable_ctrl();
	exchange(&F->asq, &h, KEY01, NVMF_DHCHAP_SHA384, NVMF_DHCHAP_FFDHE2048, 0);
	assert_int_equal(keep_alive(), 0);
	assert_int_equal(fabrics_connect(&F->ioq, 1, cntlid, HOST_AUTH, SUBNQN, &dw0), 0);
	exchange(&F->ioq, &h, KEY01, NVMF_DHCHAP_SHA384, NVMF_DHCHAP_FFDHE2048, 0);
	assert_int_equal(io_flush(), SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
}

/* The configured hash when the host offers it, else the first offered one. */
static void hash_choice(void **state)
{
	static const uint8_t only256[] = { NVMF_DHCHAP_SHA256 };
	static const uint8_t backwards[] = { 3, 2, 1 };
	struct host h = auth_host;

	(void)state;
	F->hosts[0].dhchap_hash = NVMF_CFG_DHCHAP_SHA512;
	h.hashes = only256;
	h.nr_hashes = 1;
	connect_admin(HOST_AUTH, SUBNQN);
	exchange(&F->asq, &h, KEY01, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_DH_NULL, 0);
	F->hosts[0].dhchap_hash = NVMF_CFG_DHCHAP_SHA384;
	h.hashes = backwards;
	h.nr_hashes = 3;
	/* re-authentication on the admin queue reads the configuration again */
	exchange(&F->asq, &h, KEY01, NVMF_DHCHAP_SHA384, NVMF_DHCHAP_DH_NULL, 0);
}

/* R1 from another key: Failure1 FAILED, then every queue of the controller is closed. */
static void wrong_host_key(void **state)
{
	uint16_t cntlid;
	uint32_t dw0;

	(void)state;
	cntlid = (uint16_t)connect_admin(HOST_AUTH, SUBNQN);
	enable_ctrl();
	assert_int_equal(fabrics_connect(&F->ioq, 1, cntlid, HOST_AUTH, SUBNQN, &dw0), 0);
	exchange(&F->asq, &auth_host, F->other_key, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_DH_NULL,
		 NVMF_AUTH_RCE_FAILED);
	assert_true(F->asq.auth_pending);
	assert_int_equal(keep_alive(), AUTH_REQUIRED);
	expect_teardown(2);
	assert_true(F->ioq_gone);
}

/* The capsule's own fields: Invalid Field, the exchange untouched. */
static void bad_capsules(void **state)
{
	uint8_t buf[RECV_AL];
	struct nvme_sqe c;

	(void)state;
	/* before Connect there is no controller to authenticate to */
	assert_int_equal(run(&F->ioq, auth_cmd(NVMF_FCTYPE_AUTH_RECV, RECV_AL), NULL, buf, NULL),
			 SC_DNR(NVME_SC_CMD_SEQ_ERROR));
	connect_admin(HOST_AUTH, SUBNQN);
	c = auth_cmd(NVMF_FCTYPE_AUTH_SEND, 72);
	((struct nvmf_auth_cmd *)&c)->secp = 0xEA;
	assert_int_equal(run(&F->asq, c, buf, NULL, NULL), SC_DNR(NVME_SC_INVALID_FIELD));
	c = auth_cmd(NVMF_FCTYPE_AUTH_RECV, RECV_AL);
	((struct nvmf_auth_cmd *)&c)->secp = 0;
	assert_int_equal(run(&F->asq, c, NULL, buf, NULL), SC_DNR(NVME_SC_INVALID_FIELD));
	c = auth_cmd(NVMF_FCTYPE_AUTH_SEND, 72);
	((struct nvmf_auth_cmd *)&c)->spsp0 = 2;
	assert_int_equal(run(&F->asq, c, buf, NULL, NULL), SC_DNR(NVME_SC_INVALID_FIELD));
	c = auth_cmd(NVMF_FCTYPE_AUTH_RECV, RECV_AL);
	((struct nvmf_auth_cmd *)&c)->spsp1 = 0;
	assert_int_equal(run(&F->asq, c, NULL, buf, NULL), SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run(&F->asq, auth_cmd(NVMF_FCTYPE_AUTH_SEND, 0), NULL, NULL, NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	assert_int_equal(run(&F->asq, auth_cmd(NVMF_FCTYPE_AUTH_RECV, 0), NULL, NULL, NULL),
			 SC_DNR(NVME_SC_INVALID_FIELD));
	/* a Receive before any Negotiate: no exchange to answer for */
	assert_int_equal(auth_recv(&F->asq, buf), SC_DNR(NVME_SC_CMD_SEQ_ERROR));
	/* none of it changed anything: the exchange runs as usual */
	exchange(&F->asq, &auth_host, KEY01, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_DH_NULL, 0);
}

/* A message the step does not expect: Failure1 INCORRECT_MESSAGE, then teardown. */
static void unexpected_message(void **state)
{
	struct nvmf_auth_success2 s2 = { .auth_type = NVMF_AUTH_TYPE_DHCHAP,
					 .auth_id = NVMF_AUTH_ID_SUCCESS2, .t_id = htole16(9) };

	(void)state;
	connect_admin(HOST_AUTH, SUBNQN);
	assert_int_equal(send_negotiate(&F->asq, &auth_host, 9), 0);
	/* the target waits for our Receive of its Challenge, not a Success2 */
	assert_int_equal(auth_send(&F->asq, &s2, sizeof(s2)), 0);
	expect_failure1(&F->asq, 9, NVMF_AUTH_RCE_INCORRECT_MESSAGE);
	expect_teardown(1);
}

/* A Reply of another transaction: Failure1 INCORRECT_PAYLOAD. */
static void transaction_id_mismatch(void **state)
{
	uint8_t buf[RECV_AL], reply[16 + 64];
	struct nvmf_auth_reply *r = (struct nvmf_auth_reply *)reply;

	(void)state;
	connect_admin(HOST_AUTH, SUBNQN);
	assert_int_equal(send_negotiate(&F->asq, &auth_host, 3), 0);
	assert_int_equal(auth_recv(&F->asq, buf), 0);
	memset(reply, 0, sizeof(reply));
	r->auth_type = NVMF_AUTH_TYPE_DHCHAP;
	r->auth_id = NVMF_AUTH_ID_REPLY;
	r->t_id = htole16(4);
	r->hl = 32;
	assert_int_equal(auth_send(&F->asq, reply, sizeof(reply)), 0);
	expect_failure1(&F->asq, 3, NVMF_AUTH_RCE_INCORRECT_PAYLOAD);
	expect_teardown(1);
}

/* Negotiates the target cannot serve, each with nvmet's reason. */
static void negotiate_refused(void **state)
{
	static const uint8_t unknown_hash[] = { 7 };
	struct host concat = auth_host, no_groups = auth_host, bad_hash = auth_host;
	const struct {
		const struct host *h;
		uint8_t rce;
	} cases[] = {
		{ &concat, NVMF_AUTH_RCE_SCC_MISMATCH },
		{ &no_groups, NVMF_AUTH_RCE_DHGROUP_UNUSABLE },
		{ &bad_hash, NVMF_AUTH_RCE_HASH_UNUSABLE },
	};

	(void)state;
	concat.sc_c = NVMF_AUTH_SCC_NEWTLSPSK;
	no_groups.groups = all_groups;
	no_groups.nr_groups = 0;
	bad_hash.hashes = unknown_hash;
	bad_hash.nr_hashes = 1;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		new_admin_queue();
		connect_admin(HOST_AUTH, SUBNQN);
		assert_int_equal(send_negotiate(&F->asq, cases[i].h, (uint16_t)(20 + i)), 0);
		expect_failure1(&F->asq, (uint16_t)(20 + i), cases[i].rce);
		expect_teardown(1);
	}
}

/* The host challenges us but no controller key is configured: Failure1 for Success1. */
static void ctrl_challenge_without_ctrl_key(void **state)
{
	struct host h = { .nqn = HOST_AUTH, .key = KEY01, .ctrl_key = F->ctrl_key };

	(void)state;
	connect_admin(HOST_AUTH, SUBNQN);
	exchange(&F->asq, &h, KEY01, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_DH_NULL,
		 NVMF_AUTH_RCE_FAILED);
	expect_teardown(1);
}

/*
 * Re-authentication: the queue keeps serving while it runs; on the admin queue it takes
 * the keys of the configuration in force (what a SIGHUP reload swapped in), which the
 * I/O queues then use too.
 */
static void reauthentication_takes_reloaded_keys(void **state)
{
	struct host h = { .nqn = HOST_AUTH, .key = F->other_key };
	uint16_t cntlid;
	uint32_t dw0;

	(void)state;
	cntlid = (uint16_t)connect_admin(HOST_AUTH, SUBNQN);
	enable_ctrl();
	exchange(&F->asq, &auth_host, KEY01, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_DH_NULL, 0);
	assert_int_equal(fabrics_connect(&F->ioq, 1, cntlid, HOST_AUTH, SUBNQN, &dw0), 0);
	exchange(&F->ioq, &auth_host, KEY01, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_DH_NULL, 0);

	F->hosts[0].dhchap_key = F->other_key; /* the reload */
	F->hosts[0].dhchap_dhgroup = NVMF_CFG_DHGROUP_3072;
	assert_int_equal(send_negotiate(&F->asq, &h, 77), 0);
	assert_int_equal(keep_alive(), 0);
	assert_int_equal(io_flush(), SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
	/* a new Negotiate restarts it */
	exchange(&F->asq, &h, F->other_key, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_FFDHE3072, 0);
	exchange(&F->ioq, &h, F->other_key, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_FFDHE3072, 0);
	assert_int_equal(keep_alive(), 0);
}

/* The host gives up with Failure2: the controller is torn down. */
static void host_failure2(void **state)
{
	struct nvmf_auth_failure f2 = { .auth_type = NVMF_AUTH_TYPE_COMMON,
					.auth_id = NVMF_AUTH_ID_FAILURE2, .t_id = htole16(5),
					.rc = NVMF_AUTH_RC_FAILED, .rce = NVMF_AUTH_RCE_FAILED };
	uint8_t buf[RECV_AL];

	(void)state;
	connect_admin(HOST_AUTH, SUBNQN);
	assert_int_equal(send_negotiate(&F->asq, &auth_host, 5), 0);
	assert_int_equal(auth_recv(&F->asq, buf), 0);
	assert_int_equal(auth_send(&F->asq, &f2, sizeof(f2)), 0);
	expect_teardown(1);
}

/* An exchange left half-way expires after KATO: the queue waits for a Negotiate again. */
static void exchange_expires(void **state)
{
	uint8_t buf[RECV_AL];

	(void)state;
	connect_admin(HOST_AUTH, SUBNQN);
	F->asq.ctrl->kato_ms = 20; /* the expiry is KATO (120 s without one) */
	assert_int_equal(send_negotiate(&F->asq, &auth_host, 6), 0);
	run_reactor(1, 200);
	assert_int_equal(auth_recv(&F->asq, buf), SC_DNR(NVME_SC_CMD_SEQ_ERROR));
	assert_true(F->asq.auth_pending);
	F->asq.ctrl->kato_ms = 120000;
	exchange(&F->asq, &auth_host, KEY01, NVMF_DHCHAP_SHA256, NVMF_DHCHAP_DH_NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(connect_sets_atr, setup, teardown),
		cmocka_unit_test_setup_teardown(exchange_null_sha256, setup, teardown),
		cmocka_unit_test_setup_teardown(exchange_every_hash_and_group, setup, teardown),
		cmocka_unit_test_setup_teardown(exchange_bidirectional, setup, teardown),
		cmocka_unit_test_setup_teardown(hash_choice, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_host_key, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_capsules, setup, teardown),
		cmocka_unit_test_setup_teardown(unexpected_message, setup, teardown),
		cmocka_unit_test_setup_teardown(transaction_id_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(negotiate_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(ctrl_challenge_without_ctrl_key, setup, teardown),
		cmocka_unit_test_setup_teardown(reauthentication_takes_reloaded_keys, setup,
						teardown),
		cmocka_unit_test_setup_teardown(host_failure2, setup, teardown),
		cmocka_unit_test_setup_teardown(exchange_expires, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
