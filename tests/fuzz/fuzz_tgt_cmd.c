/*
 * libFuzzer target for the target's command path: parsing and execution of fabrics (Connect
 * data, Property Get/Set), admin, I/O and discovery commands on the real core (core.c,
 * ctrl.c, fabrics.c, admin.c, io.c, discovery.c, auth.c, resv*.c) with a RAM namespace that
 * has reservations.  The transport is this file: it plays what tcp.c does with a capsule --
 * nvmf_req_init(), the in-capsule or R2T'd data into the request's buffers, execute() -- and
 * takes completions through queue_response.  An input is a sequence of capsules for up to
 * four connections of one target (tgt_cmd_input.h), so Connect, CC.EN and then commands are
 * reachable in order.
 *
 * Everything runs on one reactor of the target, driven from this thread one record per
 * message, so the messages the core sends itself (controller teardown) run in between as
 * they would in the target.  At the end every connection closes and every request must
 * have come back.
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"
#include "tgt_cmd_input.h"
#include "util/log.h"

#define NSLOTS 4

struct fz_req {
	struct nvmf_req req;
	struct fz_slot *slot;
	struct fz_req *next;          /* the slot's outstanding requests */
	const uint8_t *data;          /* the host's data for it (padded with zeroes) */
	uint32_t data_len;
};

struct fz_slot {
	struct nvmf_sq sq;
	bool open;
	bool want_close;              /* the core asked to disconnect it */
	unsigned outstanding;
	struct fz_req *reqs;
};

static struct {
	struct nvmf_tgt *tgt;
	struct nvmf_reactor *r;
	struct fz_slot slots[NSLOTS];
	const uint8_t *in, *end;      /* the input, consumed record by record */
	uint16_t cntlid;              /* of the last admin Connect that succeeded */
	bool verbose;                 /* FUZZ_VERBOSE: logs and every completion */
	uint8_t scratch[NVMF_MAX_XFER];
} F;

/* ------------------------------------------------------------------ the fake transport */

static void req_unlink(struct fz_req *fr)
{
	struct fz_slot *s = fr->slot;

	for (struct fz_req **pp = &s->reqs; *pp; pp = &(*pp)->next) {
		if (*pp == fr) {
			*pp = fr->next;
			break;
		}
	}
	s->outstanding--;
	nvmf_req_free_data(&fr->req);
	free(fr);
}

static void queue_response(struct nvmf_req *req)
{
	struct fz_req *fr = (struct fz_req *)req;

	if (F.verbose)
		fprintf(stderr, "qid %u cid %u opcode 0x%02x: status 0x%04x dw0 0x%x\n",
			fr->slot->sq.qid, le16toh(req->cmd.cid), req->cmd.opcode,
			le16toh(req->cqe.status), le32toh(req->cqe.dw0));
	/* read what goes back to the host, as the transport's send would */
	if (req->dir == NVME_XFER_CTRL_TO_HOST && req->iovcnt &&
	    nvme_status_is_success(le16toh(req->cqe.status)))
		nvmf_req_copy_from(req, 0, F.scratch, req->xfer_len);
	if (fr->slot->sq.qid == 0 && req->cmd.opcode == NVME_OPC_FABRICS && !req->cqe.status &&
	    ((const struct nvmf_capsule_cmd *)&req->cmd)->fctype == NVMF_FCTYPE_CONNECT)
		F.cntlid = (uint16_t)le32toh(req->cqe.dw0);
	req_unlink(fr);
}

static void fz_disconnect(struct nvmf_sq *sq)
{
	((struct fz_slot *)sq)->want_close = true;
}

static const char *fz_peer(struct nvmf_sq *sq)
{
	(void)sq;
	return "fuzz";
}

static const struct nvmf_transport_ops fz_ops = {
	.name = "fuzz",
	.trtype = NVMF_CFG_TRTYPE_TCP,
	.queue_response = queue_response,
	.disconnect = fz_disconnect,
	.peer_name = fz_peer,
};

static void slot_open(struct fz_slot *s)
{
	memset(&s->sq, 0, sizeof(s->sq));
	s->sq.tgt = F.tgt;
	s->sq.port = F.tgt->ports[0];
	s->sq.reactor = F.r;
	s->sq.ops = &fz_ops;
	s->sq.icd_max = s->sq.port->io_icd > NVME_TCP_ADMIN_ICD_DEFAULT ? s->sq.port->io_icd
								   : NVME_TCP_ADMIN_ICD_DEFAULT;
	s->open = true;
	s->want_close = false;
	atomic_fetch_add(&F.tgt->live_queues, 1);
}

/* The connection is gone: AERs come back, then the queue leaves the controller. */
static void slot_close(struct fz_slot *s)
{
	struct nvmf_req *aers[NVMF_AERL];
	unsigned n = nvmf_tgt_ctrl_take_aers(&s->sq, aers, NVMF_AERL);

	for (unsigned i = 0; i < n; i++)
		req_unlink((struct fz_req *)aers[i]);
	if (s->outstanding) {
		/* nothing else waits on anything in this target: a request was lost */
		fprintf(stderr, "qid %u: %u requests never completed\n", s->sq.qid,
			s->outstanding);
		abort();
	}
	nvmf_sq_destroy(&s->sq);
	s->open = false;
	s->want_close = false;
}

/* ------------------------------------------------------------------ one capsule */

/* Copy the host's data into the request's buffers, zeroes past what the input had. */
static void fill_data(struct fz_req *fr)
{
	struct nvmf_req *req = &fr->req;
	uint32_t have = fr->data_len < req->xfer_len ? fr->data_len : req->xfer_len;

	nvmf_req_copy_to(req, 0, fr->data, have);
	if (have < req->xfer_len) {
		memset(F.scratch, 0, req->xfer_len - have);
		nvmf_req_copy_to(req, have, F.scratch, req->xfer_len - have);
	}
}

/* The data buffers a write waited for are there: the R2T'd data arrives, it runs. */
static void on_buffer(struct nvmf_req *req)
{
	fill_data((struct fz_req *)req);
	req->execute(req);
}

static void fix_connect(struct nvme_sqe *sqe, uint8_t ctl, uint8_t *data, uint32_t *len)
{
	struct nvmf_connect_cmd *c = (struct nvmf_connect_cmd *)sqe;
	struct nvmf_connect_data d;
	uint32_t keep = *len < offsetof(struct nvmf_connect_data, subnqn)
				? *len : (uint32_t)offsetof(struct nvmf_connect_data, subnqn);

	/* the input keeps the host ID, controller ID and reserved bytes it gives */
	memset(&d, 0, sizeof(d));
	memcpy(&d, data, keep);
	if (keep < offsetof(struct nvmf_connect_data, cntlid) + 2)
		d.cntlid = htole16(le16toh(c->qid) ? F.cntlid : NVMF_CNTLID_DYNAMIC);
	if (keep < sizeof(d.hostid))
		memset(d.hostid, 0x5A, sizeof(d.hostid));
	snprintf(d.subnqn, sizeof(d.subnqn), "%s",
		 ctl & TC_DISC ? NVMF_DISCOVERY_NQN : NVMF_CFG_QUICK_NQN);
	snprintf(d.hostnqn, sizeof(d.hostnqn), "%s", TC_HOSTNQN);
	memcpy(data, &d, sizeof(d));
	*len = sizeof(d);
}

static void run_capsule(uint8_t ctl, struct nvme_sqe *sqe, const uint8_t *in, uint32_t len)
{
	static uint8_t data[TC_MAX_DATA + 1];
	struct fz_slot *s = &F.slots[ctl & TC_SLOT_MASK];
	bool icd = ctl & TC_ICD;
	struct fz_req *fr;
	uint16_t status;

	if (!s->open)
		slot_open(s);
	memcpy(data, in, len);
	if ((ctl & TC_FIX_CONNECT) && sqe->opcode == NVME_OPC_FABRICS &&
	    ((struct nvmf_capsule_cmd *)sqe)->fctype == NVMF_FCTYPE_CONNECT)
		fix_connect(sqe, ctl, data, &len);
	if (ctl & TC_FIX_FLAGS)
		sqe->flags = NVME_CMD_FLAGS_SGL;
	if (ctl & TC_FIX_SGL) {
		sqe->dptr.sgl.addr = 0;
		sqe->dptr.sgl.length = htole32(len);
		sqe->dptr.sgl.id = icd ? NVME_SGL_ID_ICD : NVME_SGL_ID_TRANSPORT;
	}

	fr = calloc(1, sizeof(*fr));
	if (!fr)
		abort();
	fr->slot = s;
	fr->data = data;
	fr->data_len = len;
	fr->next = s->reqs;
	s->reqs = fr;
	s->outstanding++;
	fr->req.cmd = *sqe;
	status = nvmf_req_init(&fr->req, &s->sq, icd ? len : 0);
	if (status) {
		nvmf_req_complete(&fr->req, status);
		return;
	}
	if (fr->req.dir == NVME_XFER_HOST_TO_CTRL && fr->req.xfer_len) {
		if (!fr->req.iovcnt && nvmf_req_alloc_data(&fr->req)) {
			if (fr->req.in_capsule) {
				nvmf_req_complete(&fr->req, NVMF_SC(NVME_SC_INTERNAL));
				return;
			}
			nvmf_req_wait_data(&fr->req, on_buffer);
			return;
		}
		fill_data(fr);
	}
	fr->req.execute(&fr->req);
}

/* ------------------------------------------------------------------ the sequence */

static void next_record(void *arg);

/* Connections the core disconnected close, like the transport's would. */
static bool close_wanted(void)
{
	bool any = false;

	for (int i = 0; i < NSLOTS; i++) {
		if (F.slots[i].open && F.slots[i].want_close) {
			slot_close(&F.slots[i]);
			any = true;
		}
	}
	return any;
}

static void finish(void *arg)
{
	(void)arg;
	if (close_wanted()) {
		/* their teardown may have sent more messages: let them run first */
		nvmf_reactor_call(F.r, finish, NULL);
		return;
	}
	for (int i = 0; i < NSLOTS; i++)
		if (F.slots[i].open)
			abort();
	nvmf_reactor_stop(F.r);
}

/* Close every connection, I/O queues first (as a host disconnecting), then the admin one. */
static void close_all(void *arg)
{
	(void)arg;
	for (int i = NSLOTS - 1; i >= 0; i--)
		if (F.slots[i].open)
			slot_close(&F.slots[i]);
	nvmf_reactor_call(F.r, finish, NULL);
}

static void next_record(void *arg)
{
	struct nvme_sqe sqe;
	uint32_t len;
	uint8_t ctl;

	(void)arg;
	close_wanted();
	if (F.end - F.in < TC_HDR) {
		nvmf_reactor_call(F.r, close_all, NULL);
		return;
	}
	ctl = F.in[0];
	memcpy(&sqe, F.in + 1, sizeof(sqe));
	len = (uint32_t)F.in[65] | (uint32_t)F.in[66] << 8;
	F.in += TC_HDR;
	if (len > (size_t)(F.end - F.in))
		len = (uint32_t)(F.end - F.in);
	run_capsule(ctl, &sqe, F.in, len);
	F.in += len;
	if ((ctl & TC_CLOSE) && F.slots[ctl & TC_SLOT_MASK].open)
		slot_close(&F.slots[ctl & TC_SLOT_MASK]);
	nvmf_reactor_call(F.r, next_record, NULL);
}

/*
 * Each input starts with no reservation: what an earlier input registered would make the
 * outcome depend on the order inputs ran in (and grow without bound).
 */
static void reset_resv(void)
{
	const struct nvmf_subsys_list *l = nvmf_tgt_subsys(F.tgt);
	char err[256];

	for (size_t i = 0; i < l->nr; i++) {
		const struct nvmf_subsys_view *v = nvmf_subsys_view(l->s[i]);

		for (uint32_t k = 0; k < v->nr_ns; k++) {
			if (!v->ns[k]->resv)
				continue;
			nvmf_resv_free(v->ns[k]->resv);
			v->ns[k]->resv = NULL;
			if (nvmf_resv_new(NULL, &v->ns[k]->resv, err, sizeof(err)))
				abort();
		}
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct nvmf_cfg_quick q = { .backend = NVMF_BACKEND_RAM, .size = 1 << 20 };
	struct nvmf_cfg *cfg;
	char err[256];

	(void)argc;
	(void)argv;
	F.verbose = getenv("FUZZ_VERBOSE") != NULL;
	nvmf_log_threshold = F.verbose ? NVMF_LOG_DEBUG : NVMF_LOG_QUIET;
	if (nvmf_transport_register(&fz_ops))
		abort();
	cfg = nvmf_cfg_quickstart(&q, err, sizeof(err));
	/* reservations on (RAM: no PTPL file), so their commands and checks are reached */
	if (cfg)
		cfg->subsystems[0].namespaces[0].resv_enable = true;
	if (!cfg || nvmf_tgt_create(cfg, 1, 0, &F.tgt, err, sizeof(err))) {
		fprintf(stderr, "fuzz_tgt_cmd: %s\n", err);
		abort();
	}
	F.r = &F.tgt->reactors[0];
	if (nvmf_reactor_init(F.r, 0, 64, 0)) {
		fprintf(stderr, "fuzz_tgt_cmd: no io_uring\n");
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	F.in = data;
	F.end = data + size;
	reset_resv();
	atomic_store(&F.r->stopping, false);
	nvmf_reactor_call(F.r, next_record, NULL);
	nvmf_reactor_run(F.r);
	if (atomic_load(&F.tgt->live_ctrls) != 0) {
		fprintf(stderr, "%d controllers outlived their queues\n",
			atomic_load(&F.tgt->live_ctrls));
		abort();
	}
	return 0;
}
