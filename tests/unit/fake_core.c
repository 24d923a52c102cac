/*
 * A stand-in for the target core functions admin.c and discovery.c call, so their unit
 * test links without core.c, ctrl.c and tgt.c (no reactors, no sockets).  Each fake keeps
 * the semantics target.h documents; data buffers are one malloc'ed iovec.  The test reads
 * and sets the fake_* variables below.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"

/* Calls of nvmf_ctrl_keep_alive(). */
unsigned fake_keep_alive_calls;
/* What nvmf_ctrl_fill_stats() reports. */
uint64_t fake_stats[4];

/* ------------------------------------------------------------------ requests */

int nvmf_req_alloc_data(struct nvmf_req *req)
{
	req->iovcnt = 0;
	req->iov_borrowed = false;
	if (req->xfer_len == 0)
		return 0;
	/* garbage, not zeroes: handlers must fill every byte they return */
	req->iov[0].iov_base = malloc(req->xfer_len);
	if (!req->iov[0].iov_base)
		return -1;
	memset(req->iov[0].iov_base, 0xA5, req->xfer_len);
	req->iov[0].iov_len = req->xfer_len;
	req->iovcnt = 1;
	return 0;
}

void nvmf_req_free_data(struct nvmf_req *req)
{
	for (int i = 0; i < req->iovcnt; i++)
		free(req->iov[i].iov_base);
	req->iovcnt = 0;
}

static size_t copy_iov(struct nvmf_req *req, size_t off, void *flat, size_t len, bool to_req)
{
	size_t done = 0;

	for (int i = 0; i < req->iovcnt && done < len; i++) {
		size_t l = req->iov[i].iov_len, n;

		if (off >= l) {
			off -= l;
			continue;
		}
		n = l - off < len - done ? l - off : len - done;
		if (to_req)
			memcpy((uint8_t *)req->iov[i].iov_base + off, (uint8_t *)flat + done, n);
		else
			memcpy((uint8_t *)flat + done, (uint8_t *)req->iov[i].iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t nvmf_req_copy_to(struct nvmf_req *req, size_t off, const void *src, size_t len)
{
	if (req->iovcnt == 0 && req->xfer_len && nvmf_req_alloc_data(req))
		return 0;
	return copy_iov(req, off, (void *)(uintptr_t)src, len, true);
}

size_t nvmf_req_copy_from(struct nvmf_req *req, size_t off, void *dst, size_t len)
{
	return copy_iov(req, off, dst, len, false);
}

void nvmf_req_fill(struct nvmf_req *req, const void *src, size_t len)
{
	if (req->iovcnt == 0 && req->xfer_len && nvmf_req_alloc_data(req))
		return;
	if (len > req->xfer_len)
		len = req->xfer_len;
	copy_iov(req, 0, (void *)(uintptr_t)src, len, true);
	for (size_t off = len; off < req->xfer_len; off++) {
		static const uint8_t zero;

		copy_iov(req, off, (void *)(uintptr_t)&zero, 1, true);
	}
}

/* As core.c: the status goes into the CQE, failures into the error log, then the transport. */
void nvmf_req_complete(struct nvmf_req *req, uint16_t status)
{
	struct nvmf_sq *sq = req->sq;

	req->cqe.status = htole16(status);
	if (!nvme_status_is_success(status) && sq->ctrl)
		nvmf_ctrl_add_error(sq->ctrl, req, status);
	sq->ops->queue_response(req);
}

/* ------------------------------------------------------------------ controllers */

void nvmf_ctrl_keep_alive(struct nvmf_ctrl *ctrl)
{
	(void)ctrl;
	fake_keep_alive_calls++;
}

void nvmf_ctrl_fill_stats(struct nvmf_ctrl *ctrl, uint64_t *rd_cmds, uint64_t *wr_cmds,
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
