/*
 * Reservations on the wire: the Reservation Register / Acquire / Release / Report I/O
 * commands of a namespace with resv.enable, the conflict check of its other I/O commands,
 * Preempt and Abort's effect on the preempted hosts' commands, and the notifications --
 * the Reservation Notification log (LID 80h) of each controller concerned and its
 * asynchronous event -- plus features 82h (notification mask) and 83h (persistence).
 * The state machine itself is resv.c.
 *
 * Threads: the commands run on their I/O queue's reactor -- Register / Acquire / Release
 * and feature 83h of a namespace whose state lives in the cluster on its worker thread
 * (resv_store.c), completing back on the reactor; a notification is added to the
 * controller's log under ctrl->lock and its event raised on the controller's admin
 * reactor (a message, as reload.c's events), where the event state lives.  Lock order:
 * the namespace's reservation cmd_lock (notifications are sent under it), then tgt->lock,
 * then ctrl->lock.
 */
#include <endian.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"
#include "util/log.h"

#define RESV_AEN NVME_AER_DW0(NVME_AER_TYPE_IOCS, NVME_AER_IOCS_RESV_LOG, \
			      NVME_LID_RESV_NOTIFICATION)

static uint32_t cdw10(const struct nvmf_req *req)
{
	return le32toh(req->cmd.cdw10);
}

/* ------------------------------------------------------------------ notifications */

/* On the controller's admin reactor. */
static void raise_aen(void *arg)
{
	struct nvmf_tgt_ctrl *ctrl = arg;

	/* one event until the host reads the log (spec: the event type is masked) */
	if (!atomic_load(&ctrl->dying) && ctrl->admin_sq && !ctrl->resv_aen_masked) {
		ctrl->resv_aen_masked = true;
		nvmf_tgt_ctrl_add_aen(ctrl, RESV_AEN);
	}
	nvmf_tgt_ctrl_put(ctrl);
}

struct notify_ctx {
	struct nvmf_subsys *subsys;
	uint32_t nsid;
};

/* Every live controller of host hostid gets the notification (nvmet: by host ID). */
static void notify_host(void *arg, const uint8_t hostid[NVMF_RESV_HOSTID_LEN], uint8_t type)
{
	struct notify_ctx *n = arg;
	struct nvmf_tgt *tgt = n->subsys->tgt;

	pthread_mutex_lock(&tgt->lock);
	for (struct nvmf_tgt_ctrl *c = n->subsys->ctrls; c; c = c->next) {
		if (atomic_load(&c->dying) || !c->admin_sq ||
		    memcmp(c->hostid, hostid, NVMF_RESV_HOSTID_LEN) != 0)
			continue;
		pthread_mutex_lock(&c->lock);
		nvmf_resv_log_add(&c->resv_log, type, n->nsid);
		pthread_mutex_unlock(&c->lock);
		nvmf_tgt_ctrl_get(c);
		if (nvmf_reactor_call(c->admin_sq->reactor, raise_aen, c)) {
			log_warn("ctrl %u: reservation event not raised (the log has it)",
				 c->cntlid);
			nvmf_tgt_ctrl_put(c);
		}
	}
	pthread_mutex_unlock(&tgt->lock);
}

void nvmf_resv_log_page(struct nvmf_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	bool rae = cdw10(req) & NVME_GLP_CDW10_RAE; /* req is gone once completed */
	struct nvme_resv_notif_log log;

	pthread_mutex_lock(&ctrl->lock);
	nvmf_resv_log_read(&ctrl->resv_log, &log);
	pthread_mutex_unlock(&ctrl->lock);
	if (nvmf_log_page_complete(req, &log, sizeof(log), 0) == 0 && !rae)
		ctrl->resv_aen_masked = false;
}

/* ------------------------------------------------------------------ commands */

static void log_resv(const struct nvmf_req *req, const char *what, uint16_t status)
{
	struct nvmf_sq *sq = req->sq;

	log_info("%s: ctrl %u qid %u cid %u: nsid %u reservation %s: status 0x%03x",
		 sq->ops->peer_name ? sq->ops->peer_name(sq) : "?", sq->ctrl->cntlid, sq->qid,
		 le16toh(req->cmd.cid), req->ns->nsid, what, status & 0x7FFu);
}

/* A Preempt and Abort whose completion waits for the commands it cut off (drain_wait). */
struct resv_drain {
	struct nvmf_timer timer;
	struct nvmf_req *req;
	uint16_t status;
	uint64_t seq;           /* the count this preempt published */
	uint64_t since_ns;
	bool warned;
};

#define DRAIN_POLL_NS 100000ull            /* 100 us: backend commands take about that */
#define DRAIN_WARN_NS 5000000000ull

/* Commands of counts before seq still with the backend? */
static bool drain_busy(struct nvmf_resv *r, uint64_t seq)
{
	unsigned cur = (unsigned)(seq & (NVMF_RESV_EPOCHS - 1));

	for (unsigned s = 0; s < NVMF_RESV_EPOCHS; s++)
		if (s != cur && atomic_load(&r->in_backend[s]))
			return true;
	return false;
}

static void drain_poll(struct nvmf_timer *t)
{
	struct resv_drain *d = (struct resv_drain *)t;
	struct nvmf_req *req = d->req;
	uint64_t now = nvmf_now_ns();

	if (drain_busy(req->ns->resv, d->seq)) {
		if (!d->warned && now - d->since_ns > DRAIN_WARN_NS) {
			log_warn("ctrl %u qid %u cid %u: preempt and abort still waits for commands "
				 "of the preempted hosts the backend has not finished",
				 req->sq->ctrl->cntlid, req->sq->qid, req->cmd.cid);
			d->warned = true;
		}
		nvmf_timer_arm(req->sq->reactor, &d->timer, DRAIN_POLL_NS);
		return;
	}
	log_info("ctrl %u qid %u cid %u: preempt and abort waited %llu us for commands the "
		 "backend had taken before it", req->sq->ctrl->cntlid, req->sq->qid, req->cmd.cid,
		 (unsigned long long)((now - d->since_ns) / 1000));
	req->priv = NULL;
	nvmf_req_complete(req, d->status);
	free(d);
}

/*
 * Complete a Preempt and Abort once no command that started before it is with the backend
 * any more: a write the preempted host sent cannot land after the preempting host saw the
 * preempt complete (nvmet waits the same way).  Commands of later counts are not waited
 * for, so hosts that go on writing cannot hold it up.
 */
static void drain_wait(struct nvmf_req *req, uint16_t status)
{
	struct nvmf_resv *r = req->ns->resv;
	struct resv_drain *d;
	uint64_t seq;

	atomic_thread_fence(memory_order_seq_cst);
	seq = nvmf_resv_seq(r);
	if (!drain_busy(r, seq)) {
		nvmf_req_complete(req, status);
		return;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		/* cannot wait: the preempt is still in force, the host may retry the command */
		nvmf_req_complete(req, NVMF_SC(NVME_SC_INTERNAL));
		return;
	}
	d->req = req;
	d->status = status;
	d->seq = seq;
	d->since_ns = nvmf_now_ns();
	d->timer.fn = drain_poll;
	req->priv = d;
	nvmf_timer_arm(req->sq->reactor, &d->timer, DRAIN_POLL_NS);
}

/*
 * Register / Acquire / Release: one job each.  Where the namespace keeps its state in the
 * cluster (an RBD image, resv_store.c) the job runs on the namespace's worker, as the
 * record is written before the command completes, and comes back to the command's reactor
 * to complete; elsewhere it runs here and now.
 */
struct resv_job {
	struct nvmf_resv_job wj;
	struct nvmf_posted posted;
	struct nvmf_req *req;
	struct notify_ctx nc;
	uint8_t hostid[NVMF_RESV_HOSTID_LEN];
	uint32_t cdw10;
	uint64_t k1, k2;
	uint16_t status;
};

static void job_run(struct nvmf_resv_job *wj)
{
	struct resv_job *j = (struct resv_job *)wj;
	struct nvmf_resv *r = j->req->ns->resv;
	struct nvmf_resv_notify n = { notify_host, &j->nc };

	switch (j->req->cmd.opcode) {
	case NVME_NVM_RESV_REGISTER:
		j->status = nvmf_resv_register(r, j->hostid, j->cdw10, j->k1, j->k2, &n);
		break;
	case NVME_NVM_RESV_ACQUIRE:
		j->status = nvmf_resv_acquire(r, j->hostid, j->cdw10, j->k1, j->k2, &n);
		break;
	default: /* NVME_NVM_RESV_RELEASE */
		j->status = nvmf_resv_release(r, j->hostid, j->cdw10, j->k1, &n);
		break;
	}
}

/* On the command's reactor. */
static void job_done(struct nvmf_posted *p)
{
	struct resv_job *j = (struct resv_job *)((char *)p - offsetof(struct resv_job, posted));
	struct nvmf_req *req = j->req;
	uint32_t action = j->cdw10 & NVME_RESV_CDW10_ACTION_MASK;
	uint16_t status = j->status;
	uint8_t opc = req->cmd.opcode;

	free(j);
	/* a preempt or a clear changes who may use the namespace: worth a line in the log */
	if (opc == NVME_NVM_RESV_ACQUIRE && action != NVME_RACQA_ACQUIRE)
		log_resv(req, action == NVME_RACQA_PREEMPT_ABORT ? "preempt and abort" : "preempt",
			 status);
	else if (opc == NVME_NVM_RESV_RELEASE && action == NVME_RRELA_CLEAR)
		log_resv(req, "clear", status);
	if (opc == NVME_NVM_RESV_ACQUIRE && action == NVME_RACQA_PREEMPT_ABORT && !status)
		drain_wait(req, status);
	else
		nvmf_req_complete(req, status);
}

/* On the worker: the command is done, its reactor completes it. */
static void job_run_queued(struct nvmf_resv_job *wj)
{
	struct resv_job *j = (struct resv_job *)wj;

	job_run(wj);
	nvmf_reactor_post(j->req->sq->reactor, &j->posted);
}

static void execute_resv_change(struct nvmf_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	struct resv_job *j = calloc(1, sizeof(*j));
	struct nvme_resv_register_data reg;
	struct nvme_resv_acquire_data acq;
	struct nvme_resv_release_data rel;

	if (!j) {
		nvmf_req_complete(req, NVMF_SC(NVME_SC_INTERNAL));
		return;
	}
	switch (req->cmd.opcode) {
	case NVME_NVM_RESV_REGISTER:
		nvmf_req_copy_from(req, 0, &reg, sizeof(reg));
		j->k1 = le64toh(reg.crkey);
		j->k2 = le64toh(reg.nrkey);
		break;
	case NVME_NVM_RESV_ACQUIRE:
		nvmf_req_copy_from(req, 0, &acq, sizeof(acq));
		j->k1 = le64toh(acq.crkey);
		j->k2 = le64toh(acq.prkey);
		break;
	default: /* NVME_NVM_RESV_RELEASE */
		nvmf_req_copy_from(req, 0, &rel, sizeof(rel));
		j->k1 = le64toh(rel.crkey);
		break;
	}
	j->req = req;
	j->nc.subsys = ctrl->subsys;
	j->nc.nsid = req->ns->nsid;
	memcpy(j->hostid, ctrl->hostid, NVMF_RESV_HOSTID_LEN);
	j->cdw10 = cdw10(req);
	j->posted.fn = job_done;
	j->wj.run = job_run_queued;
	if (nvmf_resv_store_queue(req->ns, &j->wj))
		return;
	job_run(&j->wj);
	job_done(&j->posted);
}

static void execute_report(struct nvmf_req *req)
{
	bool eds = le32toh(req->cmd.cdw11) & NVME_RESV_REPORT_CDW11_EDS;
	void *buf = calloc(1, req->xfer_len);
	uint16_t status;

	if (!buf) {
		nvmf_req_complete(req, NVMF_SC(NVME_SC_INTERNAL));
		return;
	}
	status = nvmf_resv_report(req->ns->resv, eds, buf, req->xfer_len);
	if (!status)
		nvmf_req_fill(req, buf, req->xfer_len);
	free(buf);
	nvmf_req_complete(req, status);
}

/*
 * The data of Register / Acquire / Release: at least the structure, and what the host
 * sends beyond it is taken and ignored -- the Linux host's block-layer reservations
 * (pr_ops) send 16 bytes for Release, whose structure is 8, and nvmet takes that.
 */
#define RESV_DATA_MAX 4096

static uint16_t parse_resv_data(struct nvmf_req *req, uint32_t need,
				void (*execute)(struct nvmf_req *req))
{
	uint32_t len = le32toh(req->cmd.dptr.sgl.length);

	if (len < need || len > RESV_DATA_MAX)
		return NVMF_SC_DNR(NVME_SC_DATA_SGL_LEN_INVALID);
	req->xfer_len = len;
	req->dir = NVME_XFER_HOST_TO_CTRL;
	req->execute = execute;
	return 0;
}

uint16_t nvmf_parse_resv(struct nvmf_req *req)
{
	uint64_t len;

	switch (req->cmd.opcode) {
	case NVME_NVM_RESV_REGISTER:
		return parse_resv_data(req, sizeof(struct nvme_resv_register_data),
				       execute_resv_change);
	case NVME_NVM_RESV_ACQUIRE:
		return parse_resv_data(req, sizeof(struct nvme_resv_acquire_data),
				       execute_resv_change);
	case NVME_NVM_RESV_RELEASE:
		return parse_resv_data(req, sizeof(struct nvme_resv_release_data),
				       execute_resv_change);
	default: /* NVME_NVM_RESV_REPORT: NUMD is 0's based dwords */
		len = ((uint64_t)cdw10(req) + 1) * 4;
		if (len > NVMF_MAX_XFER)
			return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
		req->xfer_len = (uint32_t)len;
		req->dir = NVME_XFER_CTRL_TO_HOST;
		req->execute = execute_report;
		return 0;
	}
}

/* ------------------------------------------------------------------ other I/O */

#define ST_ABORTED_PREEMPT NVMF_SC(NVME_SC_ABORTED_PREEMPT)

/*
 * Between parse and execution a write's data arrives, and the reservation may change
 * meanwhile: check again before the backend sees the command.
 */
static void resv_execute(struct nvmf_req *req)
{
	struct nvmf_resv *r = req->ns->resv;
	const uint8_t *hostid = req->sq->ctrl->hostid;
	uint16_t status;

	/*
	 * Counted as with the backend before the last look at the reservation, and a Preempt
	 * and Abort publishes its count before it looks at these counters (drain_wait): one
	 * of the two sees the other, so a command either finds its host preempted here or is
	 * waited for by the preempt.
	 */
	req->resv_slot = (int8_t)(nvmf_resv_seq(r) & (NVMF_RESV_EPOCHS - 1));
	atomic_fetch_add(&r->in_backend[req->resv_slot], 1);
	atomic_thread_fence(memory_order_seq_cst);
	if (nvmf_resv_was_aborted(r, hostid, req->resv_seq)) {
		nvmf_req_complete(req, ST_ABORTED_PREEMPT);
		return;
	}
	status = nvmf_resv_check(r, hostid, req->cmd.opcode == NVME_NVM_READ ||
						    req->cmd.opcode == NVME_NVM_COMPARE
					    ? NVMF_RESV_READ : NVMF_RESV_WRITE);
	if (status) {
		nvmf_req_complete(req, status);
		return;
	}
	req->resv_execute(req);
}

uint16_t nvmf_resv_io(struct nvmf_req *req, enum nvmf_resv_class cls)
{
	uint16_t status = nvmf_resv_check(req->ns->resv, req->sq->ctrl->hostid, cls);

	if (status)
		return status;
	req->resv_seq = nvmf_resv_seq(req->ns->resv);
	req->resv_execute = req->execute;
	req->execute = resv_execute;
	return 0;
}

/*
 * A command of a host that a Preempt and Abort cut off after the command came in does not
 * complete successfully, whatever the backend did (the spec lets an aborted write leave
 * its blocks indeterminate).
 */
uint16_t nvmf_resv_done(struct nvmf_req *req, uint16_t status)
{
	if (req->resv_slot >= 0) {
		atomic_fetch_sub(&req->ns->resv->in_backend[req->resv_slot], 1);
		req->resv_slot = -1;
	}
	if (!nvme_status_is_success(status) || !req->ns || !req->ns->resv || !req->sq->ctrl)
		return status;
	if (nvmf_resv_was_aborted(req->ns->resv, req->sq->ctrl->hostid, req->resv_seq))
		return ST_ABORTED_PREEMPT;
	return status;
}

/* ------------------------------------------------------------------ features */

/* Set Features 83h on the worker: PTPL is in the record, a cluster write. */
static void ptpl_run(struct nvmf_resv_job *wj)
{
	struct resv_job *j = (struct resv_job *)wj;

	j->status = nvmf_resv_set_ptpl(j->req->ns->resv, j->cdw10 & 1);
	nvmf_reactor_post(j->req->sq->reactor, &j->posted);
}

static void ptpl_done(struct nvmf_posted *p)
{
	struct resv_job *j = (struct resv_job *)((char *)p - offsetof(struct resv_job, posted));
	struct nvmf_req *req = j->req;
	uint16_t status = j->status;

	if (!status)
		req->cqe.dw0 = htole32(j->cdw10);
	free(j);
	nvmf_req_complete(req, status);
}

bool nvmf_resv_set_ptpl_queued(struct nvmf_req *req, uint32_t v)
{
	struct nvmf_ns *ns;
	struct resv_job *j;

	/* every namespace at once (FFFFFFFFh) stays on the reactor: see the README */
	if (le32toh(req->cmd.nsid) == NVME_NSID_ALL || (v & ~1u))
		return false;
	ns = nvmf_subsys_find_ns(req->sq->ctrl->subsys, le32toh(req->cmd.nsid));
	if (!ns || !ns->resv || !ns->resv_worker || !(j = calloc(1, sizeof(*j))))
		return false;
	/* the namespace stays open while the command holds it (grace.c) */
	nvmf_req_set_ns(req, ns);
	j->req = req;
	j->cdw10 = v;
	j->posted.fn = ptpl_done;
	j->wj.run = ptpl_run;
	if (nvmf_resv_store_queue(ns, &j->wj))
		return true;
	free(j);
	return false;
}

/*
 * Set Features 82h / 83h: on the namespace the command names (Invalid Field when it has no
 * reservations), or for FFFFFFFFh on every namespace that has them (PTPL: that can keep
 * it), as nvmet sets the mask.
 */
uint16_t nvmf_resv_set_feature(struct nvmf_req *req, uint8_t fid, uint32_t v, uint32_t *dw0)
{
	struct nvmf_subsys *s = req->sq->ctrl->subsys;
	uint32_t nsid = le32toh(req->cmd.nsid);
	const struct nvmf_subsys_view *view = nvmf_subsys_view(s);
	uint16_t status = 0;
	bool all = nsid == NVME_NSID_ALL;
	bool found = false;

	if (fid == NVME_FID_RESV_MASK ? (v & ~NVME_RESV_MASK_ALL) != 0 : (v & ~1u) != 0)
		return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
	for (uint32_t i = 0; i < view->nr_ns && !status; i++) {
		struct nvmf_resv *r = view->ns[i]->resv;

		if (!all && view->ns[i]->nsid != nsid)
			continue;
		found = true;
		if (!r) {
			if (!all)
				status = NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
			continue;
		}
		if (fid == NVME_FID_RESV_MASK)
			atomic_store(&r->notify_mask, (uint8_t)v);
		else if (r->ptpl_path || !all)
			status = nvmf_resv_set_ptpl(r, v & 1);
	}
	if (!found && !all)
		return NVMF_SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT);
	*dw0 = v;
	return status;
}

uint16_t nvmf_resv_get_feature(struct nvmf_req *req, uint8_t fid, uint32_t *dw0)
{
	struct nvmf_ns *ns = nvmf_subsys_find_ns(req->sq->ctrl->subsys, le32toh(req->cmd.nsid));

	if (!ns)
		return NVMF_SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT);
	if (!ns->resv)
		return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
	*dw0 = fid == NVME_FID_RESV_MASK ? atomic_load(&ns->resv->notify_mask)
					 : nvmf_resv_ptpl(ns->resv);
	return 0;
}
