/*
 * Target core: request parsing and completion (the transport-independent half of every
 * command), the per-reactor data buffer pool, and queue teardown.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"
#include "util/log.h"

/* ------------------------------------------------------------------ buffer pool */

/*
 * Size classes 4 KiB .. 128 KiB, one free list each, per thread: a reactor never shares
 * its buffers, so no locks; after warm-up no allocation happens per I/O.  Buffers are
 * 4 KiB aligned so O_DIRECT backends can use them as they are.
 */
#define POOL_CLASSES 6

struct pool_buf {
	struct pool_buf *next;
};

static __thread struct pool_buf *pool_free[POOL_CLASSES];
static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

/* A reactor thread that ends hands its buffers back to the system. */
static void pool_release(void *unused)
{
	(void)unused;
	for (unsigned c = 0; c < POOL_CLASSES; c++) {
		while (pool_free[c]) {
			struct pool_buf *b = pool_free[c];

			pool_free[c] = b->next;
			free(b);
		}
	}
}

static void pool_key_init(void)
{
	pthread_key_create(&pool_key, pool_release);
}

static unsigned size_class(size_t len)
{
	unsigned c = 0;
	size_t sz = 4096;

	while (sz < len && c < POOL_CLASSES - 1) {
		sz <<= 1;
		c++;
	}
	return c;
}

static void *pool_get(size_t len)
{
	unsigned c = size_class(len);
	struct pool_buf *b = pool_free[c];
	void *p;

	if (b) {
		pool_free[c] = b->next;
		return b;
	}
	if (posix_memalign(&p, 4096, (size_t)4096 << c) != 0)
		return NULL;
	pthread_once(&pool_once, pool_key_init);
	if (!pthread_getspecific(pool_key))
		pthread_setspecific(pool_key, pool_free); /* any non-NULL value arms the destructor */
	return p;
}

static void pool_put(void *p, size_t len)
{
	unsigned c = size_class(len);
	struct pool_buf *b = p;

	b->next = pool_free[c];
	pool_free[c] = b;
}

int nvmf_req_alloc_data(struct nvmf_req *req)
{
	uint32_t left = req->xfer_len;

	req->iovcnt = 0;
	req->iov_borrowed = false;
	while (left > 0) {
		uint32_t n = left > NVMF_BUF_CHUNK ? NVMF_BUF_CHUNK : left;
		void *p;

		if (req->iovcnt == NVMF_REQ_IOV)
			goto fail;
		p = pool_get(n);
		if (!p)
			goto fail;
		req->iov[req->iovcnt].iov_base = p;
		req->iov[req->iovcnt].iov_len = n;
		req->iovcnt++;
		left -= n;
	}
	return 0;
fail:
	nvmf_req_free_data(req);
	return -ENOMEM;
}

void nvmf_req_free_data(struct nvmf_req *req)
{
	if (!req->iov_borrowed) {
		for (int i = 0; i < req->iovcnt; i++)
			pool_put(req->iov[i].iov_base, req->iov[i].iov_len);
	}
	req->iovcnt = 0;
	req->iov_borrowed = false;
}

static size_t copy_iov(struct nvmf_req *req, size_t off, void *flat, size_t len, bool to_req)
{
	size_t done = 0;

	for (int i = 0; i < req->iovcnt && done < len; i++) {
		size_t l = req->iov[i].iov_len;
		size_t n;

		if (off >= l) {
			off -= l;
			continue;
		}
		n = l - off;
		if (n > len - done)
			n = len - done;
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
	/* the rest of the transfer is zero, whatever the buffer held before */
	for (size_t off = len; off < req->xfer_len;) {
		static const uint8_t zeroes[512];
		size_t n = req->xfer_len - off < sizeof(zeroes) ? req->xfer_len - off
							       : sizeof(zeroes);

		copy_iov(req, off, (void *)(uintptr_t)zeroes, n, true);
		off += n;
	}
}

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
	struct nvmf_ctrl *ctrl = sq->ctrl;
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
		status = nvmf_parse_fabrics(req);
	} else if (!ctrl) {
		return NVMF_SC_DNR(NVME_SC_CMD_SEQ_ERROR);
	} else if (!nvmf_ctrl_ready(ctrl)) {
		return NVMF_SC_DNR(NVME_SC_CMD_SEQ_ERROR);
	} else if (sq->qid == 0) {
		status = ctrl->subsys->is_discovery ? nvmf_parse_discovery(req)
						    : nvmf_parse_admin(req);
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

	req->cqe.status = htole16(status);
	if (!nvme_status_is_success(status) && sq->ctrl)
		nvmf_ctrl_add_error(sq->ctrl, req, status);
	sq->ops->queue_response(req);
}

/* ------------------------------------------------------------------ queues */

void nvmf_sq_destroy(struct nvmf_sq *sq)
{
	struct nvmf_ctrl *ctrl = sq->ctrl;
	struct nvmf_tgt *tgt = sq->tgt;

	atomic_fetch_sub(&tgt->live_queues, 1);
	if (!ctrl)
		return;
	sq->ctrl = NULL;
	pthread_mutex_lock(&tgt->lock);
	if (ctrl->admin_sq == sq) {
		ctrl->admin_sq = NULL;
	} else {
		struct nvmf_sq **pp = &ctrl->io_sqs;

		while (*pp && *pp != sq)
			pp = &(*pp)->ctrl_next;
		if (*pp)
			*pp = sq->ctrl_next;
		ctrl->retired_stats[0] += atomic_load(&sq->stats.read_cmds);
		ctrl->retired_stats[1] += atomic_load(&sq->stats.write_cmds);
		ctrl->retired_stats[2] += atomic_load(&sq->stats.read_bytes);
		ctrl->retired_stats[3] += atomic_load(&sq->stats.write_bytes);
	}
	pthread_mutex_unlock(&tgt->lock);
	if (sq->qid == 0) {
		/*
		 * The admin queue is the controller: without it the association is over
		 * (as with nvmet).  Its timer and AERs live on this reactor: stop them here.
		 */
		nvmf_timer_cancel(sq->reactor, &ctrl->ka_timer);
		ctrl->nr_aer_reqs = 0;
		nvmf_ctrl_fatal(ctrl, "admin queue closed");
	}
	nvmf_ctrl_put(ctrl);
}
