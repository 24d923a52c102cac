/*
 * Target core: request parsing and completion (the transport-independent half of every
 * command) and queue teardown.  Data buffers live in req_data.c.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target/passthru.h"
#include "target/target.h"
#include "util/log.h"

/* ------------------------------------------------------------------ parse / complete */

/* The SGL of the command against what the PDU carried and what the handler expects. */
static uint16_t check_sgl(struct nvmf_req *req, uint32_t icd_len)
{
	const struct nvme_sgl_desc *sgl = &req->cmd.dptr.sgl;
	uint32_t len = le32toh(sgl->length);

	if (req->xfer_len > NVMF_MAX_XFER)
		return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
	if (len != req->xfer_len)
		return NVMF_SC_DNR(NVME_SC_DATA_SGL_LEN_INVALID);
	if (req->xfer_len == 0)
		return icd_len ? NVMF_SC_DNR(NVME_SC_DATA_SGL_LEN_INVALID) : 0;

	switch (sgl->id) {
	case NVME_SGL_ID_ICD:
		if (req->dir != NVME_XFER_HOST_TO_CTRL)
			return NVMF_SC_DNR(NVME_SC_SGL_DESC_TYPE_INVALID);
		if (le64toh(sgl->addr) != 0)
			return NVMF_SC_DNR(NVME_SC_SGL_OFFSET_INVALID);
		if (len != icd_len || len > req->sq->icd_max)
			return NVMF_SC_DNR(NVME_SC_DATA_SGL_LEN_INVALID);
		req->in_capsule = true;
		return 0;
	case NVME_SGL_ID_TRANSPORT:
		if (icd_len)
			return NVMF_SC_DNR(NVME_SC_DATA_SGL_LEN_INVALID);
		return 0;
	default:
		return NVMF_SC_DNR(NVME_SC_SGL_DESC_TYPE_INVALID);
	}
}

uint16_t nvmf_req_init(struct nvmf_req *req, struct nvmf_sq *sq, uint32_t icd_len)
{
	struct nvmf_tgt_ctrl *ctrl = sq->ctrl;
	uint16_t status;

	req->sq = sq;
	req->ns = NULL;
	req->execute = NULL;
	req->xfer_len = 0;
	req->dir = NVME_XFER_NONE;
	req->in_capsule = false;
	req->iovcnt = 0;
	req->iov_borrowed = false;
	req->priv = NULL;
	req->resv_execute = NULL;
	req->resv_slot = -1;
	/* the latency the statistics report starts when the capsule came in (the loop's
	 * clock of this iteration: no clock read of its own) */
	req->start_ticks = sq->reactor ? sq->reactor->now_ticks : 0;
	memset(&req->cqe, 0, sizeof(req->cqe));
	req->cqe.cid = req->cmd.cid;
	req->cqe.sqid = htole16(sq->qid);

	/* The SQ head moves when a command is taken; SQ flow control off means 0. */
	if (!sq->sqflow_disabled && sq->size) {
		sq->sqhd = (uint16_t)((sq->sqhd + 1) % sq->size);
		req->cqe.sqhd = htole16(sq->sqhd);
	}

	if (req->cmd.flags & NVME_CMD_FUSE_MASK)
		return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
	if ((req->cmd.flags & NVME_CMD_FLAGS_PSDT_MASK) != NVME_CMD_FLAGS_SGL)
		return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);

	if (req->cmd.opcode == NVME_OPC_FABRICS) {
		/* Property Get/Set and the authentication commands: before authentication too */
		status = nvmf_parse_fabrics(req);
	} else if (!ctrl) {
		return NVMF_SC_DNR(NVME_SC_CMD_SEQ_ERROR);
	} else if (sq->auth_pending) {
		/* nvmet checks it before the controller state (admin queue) */
		return NVME_STATUS_NORETRY(NVME_SCT_CMD_SPECIFIC, NVMF_SC_AUTH_REQUIRED);
	} else if (!nvmf_tgt_ctrl_ready(ctrl)) {
		return NVMF_SC_DNR(NVME_SC_CMD_SEQ_ERROR);
	} else if (sq->qid == 0) {
		if (ctrl->subsys->is_discovery)
			status = nvmf_parse_discovery(req);
		else if (ctrl->subsys->passthru)
			status = nvmf_parse_passthru_admin(req);
		else
			status = nvmf_parse_admin(req);
	} else if (ctrl->subsys->passthru) {
		status = nvmf_parse_passthru_io(req);
	} else {
		status = nvmf_parse_io(req);
	}
	if (status)
		return status;
	/* Traffic-based keep-alive: any command proves the host is there. */
	if (ctrl && ctrl->subsys->tbkas)
		atomic_store_explicit(&ctrl->last_ka_ns, sq->reactor->now_ns,
				      memory_order_relaxed);
	return check_sgl(req, icd_len);
}

void nvmf_req_complete(struct nvmf_req *req, uint16_t status)
{
	struct nvmf_sq *sq = req->sq;

	if (req->resv_execute)
		status = nvmf_resv_done(req, status);
	req->cqe.status = htole16(status);
	nvmf_stats_req_done(req, status);
	if (!nvme_status_is_success(status) && sq->ctrl)
		nvmf_tgt_ctrl_add_error(sq->ctrl, req, status);
	sq->ops->queue_response(req);
}

/* ------------------------------------------------------------------ namespace use */

static struct nvmf_ns_inflight *ns_slot(const struct nvmf_ns *ns, const struct nvmf_sq *sq)
{
	unsigned id = sq->reactor ? sq->reactor->id : 0;

	return ns->inflight ? &ns->inflight[id % ns->nr_inflight] : NULL;
}

void nvmf_req_set_ns(struct nvmf_req *req, struct nvmf_ns *ns)
{
	struct nvmf_ns_inflight *slot;

	nvmf_req_release(req);
	req->ns = ns;
	slot = ns ? ns_slot(ns, req->sq) : NULL;
	if (slot)
		slot->n++;
}

void nvmf_req_release(struct nvmf_req *req)
{
	struct nvmf_ns_inflight *slot = req->ns ? ns_slot(req->ns, req->sq) : NULL;

	if (slot)
		slot->n--;
	req->ns = NULL;
}

bool nvmf_ns_idle_on(const struct nvmf_ns *ns, unsigned id)
{
	return !ns->inflight || ns->inflight[id % ns->nr_inflight].n == 0;
}

/* ------------------------------------------------------------------ queues */

void nvmf_sq_destroy(struct nvmf_sq *sq)
{
	struct nvmf_tgt_ctrl *ctrl = sq->ctrl;
	struct nvmf_tgt *tgt = sq->tgt;

	atomic_fetch_sub(&tgt->live_queues, 1);
	nvmf_auth_sq_free(sq);
	/* the statistics keep what the queue counted: totals only grow (stats.h) */
	pthread_mutex_lock(&tgt->lock);
	nvmf_conn_stats_fold(&tgt->conn_retired, &sq->conn_stats);
	if (!ctrl) {
		pthread_mutex_unlock(&tgt->lock);
		return;
	}
	sq->ctrl = NULL;
	if (ctrl->admin_sq == sq) {
		ctrl->admin_sq = NULL;
	} else {
		struct nvmf_sq **pp = &ctrl->io_sqs;

		while (*pp && *pp != sq)
			pp = &(*pp)->ctrl_next;
		if (*pp)
			*pp = sq->ctrl_next;
	}
	nvmf_io_stats_fold(&ctrl->retired, &sq->stats);
	pthread_mutex_unlock(&tgt->lock);
	if (sq->qid == 0) {
		/*
		 * The admin queue is the controller: without it the association is over
		 * (as with nvmet).  Its timer and AERs live on this reactor: stop them here.
		 */
		nvmf_timer_cancel(sq->reactor, &ctrl->ka_timer);
		ctrl->nr_aer_reqs = 0;
		nvmf_tgt_ctrl_fatal(ctrl, "admin queue closed");
	}
	nvmf_tgt_ctrl_put(ctrl);
}
