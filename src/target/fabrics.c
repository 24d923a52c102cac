/*
 * Fabrics commands: Connect (admin and I/O queues, host checks, dynamic controllers,
 * whether the queue must authenticate) and Property Get / Set (CAP, VS, CC, CSTS).
 * Authentication Send / Receive are auth.c's; Disconnect is not supported (Invalid Opcode).
 */
#include <endian.h>
#include <string.h>

#include "proto/nvme_tcp.h"
#include "target/target.h"
#include "util/log.h"

#define CONNECT_STATUS(sc) NVME_STATUS_NORETRY(NVME_SCT_CMD_SPECIFIC, sc)

static const char *peer(struct nvmf_sq *sq)
{
	return sq->ops->peer_name ? sq->ops->peer_name(sq) : "?";
}

/* Connect failed on a parameter: dw0 tells the host where (IATTR / IPO). */
static uint16_t invalid_param(struct nvmf_req *req, bool in_data, uint16_t offset)
{
	req->cqe.dw0 = htole32(NVMF_CONNECT_INVALID_DW0(in_data, offset));
	return CONNECT_STATUS(NVMF_SC_CONNECT_INVALID_PARAM);
}

static uint16_t connect_admin(struct nvmf_req *req, struct nvmf_subsys *subsys,
			      const struct nvmf_connect_cmd *c, const struct nvmf_connect_data *d)
{
	struct nvmf_sq *sq = req->sq;
	struct nvmf_tgt_ctrl *ctrl;
	uint16_t status = 0;

	struct nvmf_auth_keys keys;
	int auth;

	if (le16toh(d->cntlid) != NVMF_CNTLID_DYNAMIC)
		return invalid_param(req, true, offsetof(struct nvmf_connect_data, cntlid));
	/*
	 * the keys are snapshot now; a reload reaches them when qid 0 re-authenticates.
	 * A TLS queue does not authenticate in band: nvmet skips DH-HMAC-CHAP setup for
	 * it ("host %s tls enabled"), the PSK already proved the host.
	 */
	memset(&keys, 0, sizeof(keys));
	auth = sq->tls ? 0 : nvmf_auth_load_keys(subsys, d->hostnqn, &keys);
	if (auth < 0) {
		/* nvmet's answer when its authentication setup fails for the host */
		log_warn("%s: host %s: no usable DH-HMAC-CHAP key for %s", peer(sq), d->hostnqn,
			 subsys->nqn);
		req->cqe.dw0 = htole32(NVMF_CONNECT_INVALID_DW0(
			true, offsetof(struct nvmf_connect_data, hostnqn)));
		return CONNECT_STATUS(NVMF_SC_CONNECT_INVALID_HOST);
	}
	ctrl = nvmf_tgt_ctrl_create(subsys, sq, d, le32toh(c->kato), &status);
	if (ctrl && auth) {
		ctrl->auth_required = true;
		ctrl->auth = keys;
	}
	nvmf_dhchap_wipe(&keys, sizeof(keys));
	if (!ctrl)
		return status;
	ctrl->tls = sq->tls;
	sq->ctrl = ctrl; /* the admin queue holds the creation reference */
	sq->icd_max = NVME_TCP_ADMIN_ICD_DEFAULT;
	req->cqe.dw0 = htole32(ctrl->cntlid);
	return 0;
}

static uint16_t connect_io(struct nvmf_req *req, struct nvmf_subsys *subsys,
			   const struct nvmf_connect_cmd *c, const struct nvmf_connect_data *d)
{
	struct nvmf_sq *sq = req->sq;
	struct nvmf_tgt *tgt = sq->tgt;
	uint16_t qid = le16toh(c->qid);
	struct nvmf_tgt_ctrl *ctrl;
	uint16_t status = 0;

	if (subsys->is_discovery)
		return invalid_param(req, false, offsetof(struct nvmf_connect_cmd, qid));
	ctrl = nvmf_tgt_ctrl_find(subsys, le16toh(d->cntlid), d->hostnqn);
	if (!ctrl) {
		log_warn("%s: I/O queue %u: no controller %u for host %s", peer(sq), qid,
			 le16toh(d->cntlid), d->hostnqn);
		return invalid_param(req, true, offsetof(struct nvmf_connect_data, cntlid));
	}
	/* the host identifier belongs to the association: every queue must carry the same */
	if (memcmp(ctrl->hostid, d->hostid, sizeof(ctrl->hostid)) != 0) {
		log_warn("%s: I/O queue %u for ctrl %u: host ID differs from the admin queue's",
			 peer(sq), qid, ctrl->cntlid);
		status = invalid_param(req, true, offsetof(struct nvmf_connect_data, hostid));
		goto put;
	}
	/*
	 * A controller made over TLS skipped DH-HMAC-CHAP: a plaintext I/O queue (a "not
	 * required" port) would join it proven by nothing.  One rule both ways keeps an
	 * association either all TLS or all plaintext.
	 */
	if (ctrl->tls != sq->tls) {
		log_warn("%s: I/O queue %u for ctrl %u: %s, the admin queue is %s", peer(sq), qid,
			 ctrl->cntlid, sq->tls ? "TLS" : "plaintext",
			 ctrl->tls ? "TLS" : "plaintext");
		req->cqe.dw0 = htole32(NVMF_CONNECT_INVALID_DW0(
			true, offsetof(struct nvmf_connect_data, hostnqn)));
		status = CONNECT_STATUS(NVMF_SC_CONNECT_INVALID_HOST);
		goto put;
	}
	if (!nvmf_tgt_ctrl_ready(ctrl)) {
		status = NVMF_SC_DNR(NVME_SC_CMD_SEQ_ERROR);
		goto put;
	}
	if (qid > subsys->qid_max || (ctrl->nr_io_queues && qid > ctrl->nr_io_queues)) {
		status = invalid_param(req, false, offsetof(struct nvmf_connect_cmd, qid));
		goto put;
	}
	pthread_mutex_lock(&tgt->lock);
	for (struct nvmf_sq *s = ctrl->io_sqs; s; s = s->ctrl_next) {
		if (s->qid == qid) {
			status = NVMF_SC_DNR(NVME_SC_CMD_SEQ_ERROR);
			break;
		}
	}
	if (!status && (atomic_load(&ctrl->dying) || !ctrl->admin_sq))
		status = NVMF_SC_DNR(NVME_SC_CMD_SEQ_ERROR);
	if (!status) {
		sq->ctrl = ctrl; /* keeps the reference nvmf_tgt_ctrl_find() took */
		sq->ctrl_next = ctrl->io_sqs;
		ctrl->io_sqs = sq;
	}
	pthread_mutex_unlock(&tgt->lock);
	if (status)
		goto put;
	sq->icd_max = sq->port->io_icd;
	req->cqe.dw0 = htole32(ctrl->cntlid);
	return 0;
put:
	nvmf_tgt_ctrl_put(ctrl);
	return status;
}

static void execute_connect(struct nvmf_req *req)
{
	const struct nvmf_connect_cmd *c = (const struct nvmf_connect_cmd *)&req->cmd;
	struct nvmf_sq *sq = req->sq;
	struct nvmf_connect_data d;
	struct nvmf_subsys *subsys;
	uint16_t qid = le16toh(c->qid);
	uint16_t sqsize = le16toh(c->sqsize);
	uint16_t status;

	if (nvmf_req_copy_from(req, 0, &d, sizeof(d)) != sizeof(d)) {
		status = NVMF_SC_DNR(NVME_SC_DATA_SGL_LEN_INVALID);
		goto out;
	}
	d.subnqn[NVMF_NQN_FIELD_LEN - 1] = '\0';
	d.hostnqn[NVMF_NQN_FIELD_LEN - 1] = '\0';

	if (le16toh(c->recfmt) != NVMF_CONNECT_RECFMT) {
		status = CONNECT_STATUS(NVMF_SC_CONNECT_INCOMPATIBLE_FORMAT);
		goto out;
	}
	/* sqsize is 0's based; a 1-entry queue cannot work, nor one beyond MQES */
	if (sqsize == 0 || sqsize >= sq->port->max_queue_size ||
	    (qid == 0 && sqsize < NVMF_MIN_ADMIN_QUEUE_ENTRIES - 1)) {
		status = invalid_param(req, false, offsetof(struct nvmf_connect_cmd, sqsize));
		goto out;
	}
	subsys = nvmf_tgt_find_subsys(sq->tgt, d.subnqn);
	if (!subsys || !nvmf_port_has_subsys(sq->port, subsys)) {
		log_warn("%s: connect to unknown subsystem '%s' from host %s", peer(sq), d.subnqn,
			 d.hostnqn);
		status = invalid_param(req, true, offsetof(struct nvmf_connect_data, subnqn));
		goto out;
	}
	/*
	 * The PSK was derived for the identity's host and subsystem: a Connect naming others
	 * would use a key that is not theirs.  nvmet (6.12) appears not to check this (read,
	 * not tested); refusing closes the gap.
	 */
	if (sq->tls && (strcmp(d.hostnqn, sq->tls_peer.hostnqn) != 0 ||
			strcmp(d.subnqn, sq->tls_peer.subnqn) != 0)) {
		log_warn("%s: connect as host %s to %s on a TLS connection whose PSK is host "
			 "%s's for %s", peer(sq), d.hostnqn, d.subnqn, sq->tls_peer.hostnqn,
			 sq->tls_peer.subnqn);
		req->cqe.dw0 = htole32(NVMF_CONNECT_INVALID_DW0(
			true, offsetof(struct nvmf_connect_data, hostnqn)));
		status = CONNECT_STATUS(NVMF_SC_CONNECT_INVALID_HOST);
		goto out;
	}
	if (!nvmf_subsys_host_allowed(subsys, d.hostnqn)) {
		log_warn("%s: host %s is not allowed on %s", peer(sq), d.hostnqn, subsys->nqn);
		req->cqe.dw0 = htole32(NVMF_CONNECT_INVALID_DW0(
			true, offsetof(struct nvmf_connect_data, hostnqn)));
		status = CONNECT_STATUS(NVMF_SC_CONNECT_INVALID_HOST);
		goto out;
	}
	status = qid == 0 ? connect_admin(req, subsys, c, &d) : connect_io(req, subsys, c, &d);
	if (status)
		goto out;
	sq->qid = qid;
	sq->size = (uint16_t)(sqsize + 1);
	sq->sqflow_disabled = c->cattr & NVMF_CONNECT_CATTR_DISABLE_SQFLOW;
	if (sq->ops->sq_connected && sq->ops->sq_connected(sq)) {
		log_err("%s: ctrl %u qid %u: out of memory for the queue", peer(sq),
			sq->ctrl->cntlid, qid);
		/* the queue is bound to the controller: closing it releases everything */
		status = NVMF_SC(NVME_SC_INTERNAL);
		goto out;
	}
	/* The Connect itself was the first entry taken from this queue. */
	sq->sqhd = sq->sqflow_disabled ? 0 : 1 % sq->size;
	req->cqe.sqhd = htole16(sq->sqhd);
	req->cqe.sqid = htole16(qid);
	/* as nvmet: every queue of such a controller authenticates itself, admin and I/O */
	if (sq->ctrl->auth_required && !sq->tls) {
		sq->auth_pending = true;
		req->cqe.dw0 |= htole32(NVMF_CONNECT_DW0_ATR);
	}
	log_info("%s: ctrl %u: %s queue %u connected (size %u%s%s%s)", peer(sq),
		 sq->ctrl->cntlid, qid ? "I/O" : "admin", qid, sq->size,
		 sq->sqflow_disabled ? ", SQ flow control off" : "",
		 sq->auth_pending ? ", authentication required" : "", sq->tls ? ", TLS" : "");
out:
	nvmf_req_complete(req, status);
}

/* ------------------------------------------------------------------ properties */

static void execute_property_get(struct nvmf_req *req)
{
	const struct nvmf_property_get_cmd *c = (const struct nvmf_property_get_cmd *)&req->cmd;
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	bool eight = (c->attrib & NVMF_PROP_ATTRIB_SIZE_MASK) == NVMF_PROP_SIZE_8;
	uint32_t off = le32toh(c->offset);
	uint64_t val;
	uint16_t status = 0;

	if (eight) {
		if (off == NVME_REG_CAP)
			val = ctrl->cap;
		else
			status = NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
	} else {
		switch (off) {
		case NVME_REG_VS:
			val = ctrl->subsys->vs;
			break;
		case NVME_REG_CC:
			val = atomic_load(&ctrl->cc);
			break;
		case NVME_REG_CSTS:
			val = atomic_load(&ctrl->csts);
			break;
		case NVME_REG_CAP:
			/* 4-byte read of CAP's low half, as some hosts do */
			val = (uint32_t)ctrl->cap;
			break;
		default:
			status = NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
			break;
		}
	}
	if (!status)
		req->cqe.result64 = htole64(val);
	nvmf_req_complete(req, status);
}

static void execute_property_set(struct nvmf_req *req)
{
	const struct nvmf_property_set_cmd *c = (const struct nvmf_property_set_cmd *)&req->cmd;
	uint16_t status;

	if ((c->attrib & NVMF_PROP_ATTRIB_SIZE_MASK) != NVMF_PROP_SIZE_4 ||
	    le32toh(c->offset) != NVME_REG_CC)
		status = NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
	else
		status = nvmf_tgt_ctrl_set_cc(req->sq->ctrl, (uint32_t)le64toh(c->value));
	nvmf_req_complete(req, status);
}

uint16_t nvmf_parse_fabrics(struct nvmf_req *req)
{
	const struct nvmf_capsule_cmd *c = (const struct nvmf_capsule_cmd *)&req->cmd;
	struct nvmf_sq *sq = req->sq;

	if (c->fctype == NVMF_FCTYPE_CONNECT) {
		if (sq->ctrl)
			return NVMF_SC_DNR(NVME_SC_CMD_SEQ_ERROR);
		req->dir = NVME_XFER_HOST_TO_CTRL;
		req->xfer_len = sizeof(struct nvmf_connect_data);
		req->execute = execute_connect;
		return 0;
	}
	if (!sq->ctrl)
		return NVMF_SC_DNR(NVME_SC_CMD_SEQ_ERROR);
	switch (c->fctype) {
	case NVMF_FCTYPE_AUTH_SEND:
	case NVMF_FCTYPE_AUTH_RECV:
		/* on the queue being authenticated, admin or I/O */
		return nvmf_parse_auth(req);
	case NVMF_FCTYPE_PROPERTY_GET:
		if (sq->qid != 0)
			return NVMF_SC_DNR(NVME_SC_INVALID_OPCODE);
		req->execute = execute_property_get;
		return 0;
	case NVMF_FCTYPE_PROPERTY_SET:
		if (sq->qid != 0)
			return NVMF_SC_DNR(NVME_SC_INVALID_OPCODE);
		req->execute = execute_property_set;
		return 0;
	default:
		return NVMF_SC_DNR(NVME_SC_INVALID_OPCODE);
	}
}
