/*
 * A stand-in for the target core functions admin.c and discovery.c call, so their unit
 * test links without core.c, ctrl.c and tgt.c (no reactors, no sockets).  Each fake keeps
 * the semantics target.h documents; data buffers come from the real req_data.c.  The test
 * reads and sets the fake_* variables below.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"

/* Calls of nvmf_tgt_ctrl_keep_alive(). */
unsigned fake_keep_alive_calls;
/* What nvmf_tgt_ctrl_fill_stats() reports. */
uint64_t fake_stats[4];

/* ------------------------------------------------------------------ requests */

/* As core.c: the status goes into the CQE, failures into the error log, then the transport. */
void nvmf_req_complete(struct nvmf_req *req, uint16_t status)
{
	struct nvmf_sq *sq = req->sq;

	req->cqe.status = htole16(status);
	if (!nvme_status_is_success(status) && sq->ctrl)
		nvmf_tgt_ctrl_add_error(sq->ctrl, req, status);
	sq->ops->queue_response(req);
}

/* ------------------------------------------------------------------ controllers */

void nvmf_tgt_ctrl_keep_alive(struct nvmf_tgt_ctrl *ctrl)
{
	(void)ctrl;
	fake_keep_alive_calls++;
}

void nvmf_tgt_ctrl_fill_stats(struct nvmf_tgt_ctrl *ctrl, uint64_t *rd_cmds, uint64_t *wr_cmds,
			  uint64_t *rd_bytes, uint64_t *wr_bytes)
{
	(void)ctrl;
	*rd_cmds = fake_stats[0];
	*wr_cmds = fake_stats[1];
	*rd_bytes = fake_stats[2];
	*wr_bytes = fake_stats[3];
}

/* ------------------------------------------------------------------ subsystems */

struct nvmf_subsys *nvmf_tgt_find_subsys(struct nvmf_tgt *tgt, const char *nqn)
{
	if (tgt->disc_subsys &&
	    (strcmp(nqn, NVMF_DISCOVERY_NQN) == 0 || strcmp(nqn, tgt->disc_subsys->nqn) == 0))
		return tgt->disc_subsys;
	for (size_t i = 0; i < tgt->subsys->nr; i++)
		if (strcmp(tgt->subsys->s[i]->nqn, nqn) == 0)
			return tgt->subsys->s[i];
	return NULL;
}

/* The view's namespaces are sorted by NSID. */
struct nvmf_ns *nvmf_subsys_find_ns(struct nvmf_subsys *subsys, uint32_t nsid)
{
	const struct nvmf_subsys_view *v = subsys->view;
	uint32_t lo = 0, hi = v->nr_ns;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (v->ns[mid]->nsid == nsid)
			return v->ns[mid];
		if (v->ns[mid]->nsid < nsid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The allow-list only (the real one also refuses hosts that must authenticate). */
bool nvmf_subsys_host_allowed(const struct nvmf_subsys *subsys, const char *hostnqn)
{
	const struct nvmf_subsys_view *v = subsys->view;

	if (v->allow_any_host)
		return true;
	for (size_t i = 0; i < v->nr_allowed_hosts; i++)
		if (strcmp(v->allowed_hosts[i], hostnqn) == 0)
			return true;
	return false;
}
