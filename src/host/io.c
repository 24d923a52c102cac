/* libnvmf I/O commands on a queue pair: the NVM command set's submit calls and sync helpers. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "host/host.h"

void hio_rw_sqe(struct nvme_sqe *sqe, uint8_t opc, uint32_t nsid, uint64_t lba, uint32_t nlb,
		unsigned flags)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opc;
	sqe->nsid = htole32(nsid);
	sqe->cdw10 = htole32((uint32_t)lba);
	sqe->cdw11 = htole32((uint32_t)(lba >> 32));
	sqe->cdw12 = htole32((nlb - 1) | ((flags & NVMF_IO_FUA) ? (1u << 30) : 0) |
			     ((flags & NVMF_IO_DEAC) ? (1u << 25) : 0));
}

static uint32_t iov_bytes(const struct iovec *iov, int cnt)
{
	size_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

int nvmf_readv(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb,
	       const struct iovec *iov, int iovcnt, nvmf_io_cb cb, void *arg)
{
	struct nvme_sqe sqe;

	if (nlb == 0 || nlb > 65536)
		return -EINVAL;
	hio_rw_sqe(&sqe, NVME_NVM_READ, nsid, lba, nlb, 0);
	return hq_submit(q, &sqe, iov, iovcnt, iov_bytes(iov, iovcnt), false, cb, arg, NULL);
}

int nvmf_writev(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb,
		const struct iovec *iov, int iovcnt, unsigned flags, nvmf_io_cb cb, void *arg)
{
	struct nvme_sqe sqe;

	if (nlb == 0 || nlb > 65536)
		return -EINVAL;
	hio_rw_sqe(&sqe, NVME_NVM_WRITE, nsid, lba, nlb, flags);
	return hq_submit(q, &sqe, iov, iovcnt, iov_bytes(iov, iovcnt), true, cb, arg, NULL);
}

/* The byte length of nlb blocks is not known here: the caller's buffer size is given by
 * the namespace's block size, which the flat-buffer calls take from the controller. */
static uint32_t ns_bytes(struct nvmf_qpair *q, uint32_t nsid, uint32_t nlb)
{
	uint32_t bs = hctrl_block_size(q->ctrl, nsid);

	return bs ? bs * nlb : 0;
}

int nvmf_read(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb, void *buf,
	      nvmf_io_cb cb, void *arg)
{
	struct iovec iov = { buf, ns_bytes(q, nsid, nlb) };

	if (!iov.iov_len)
		return -ENOENT;
	return nvmf_readv(q, nsid, lba, nlb, &iov, 1, cb, arg);
}

int nvmf_write(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb,
	       const void *buf, unsigned flags, nvmf_io_cb cb, void *arg)
{
	struct iovec iov = { (void *)buf, ns_bytes(q, nsid, nlb) };

	if (!iov.iov_len)
		return -ENOENT;
	return nvmf_writev(q, nsid, lba, nlb, &iov, 1, flags, cb, arg);
}

int nvmf_flush(struct nvmf_qpair *q, uint32_t nsid, nvmf_io_cb cb, void *arg)
{
	struct nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_NVM_FLUSH;
	sqe.nsid = htole32(nsid);
	return hq_submit(q, &sqe, NULL, 0, 0, false, cb, arg, NULL);
}

int nvmf_write_zeroes(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb,
		      unsigned flags, nvmf_io_cb cb, void *arg)
{
	struct nvme_sqe sqe;

	if (nlb == 0 || nlb > 65536)
		return -EINVAL;
	hio_rw_sqe(&sqe, NVME_NVM_WRITE_ZEROES, nsid, lba, nlb, flags);
	return hq_submit(q, &sqe, NULL, 0, 0, false, cb, arg, NULL);
}

int nvmf_deallocate(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb,
		    nvmf_io_cb cb, void *arg)
{
	struct nvme_sqe sqe;
	struct hreq *r = q->free_reqs;
	struct iovec iov;

	if (!r)
		return -EAGAIN;
	/* the range travels as data: it lives in the request until completion */
	memset(&r->dsm_range, 0, sizeof(r->dsm_range));
	r->dsm_range.slba = htole64(lba);
	r->dsm_range.nlb = htole32(nlb);
	iov.iov_base = &r->dsm_range;
	iov.iov_len = sizeof(r->dsm_range);
	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_NVM_DSM;
	sqe.nsid = htole32(nsid);
	sqe.cdw10 = htole32(0);        /* one range (0's based) */
	sqe.cdw11 = htole32(1u << 2);  /* attribute: deallocate */
	return hq_submit(q, &sqe, &iov, 1, sizeof(r->dsm_range), true, cb, arg, NULL);
}

int nvmf_io_raw(struct nvmf_qpair *q, const struct nvme_sqe *sqe, const struct iovec *iov,
		int iovcnt, bool write, nvmf_io_cb cb, void *arg)
{
	return hq_submit(q, sqe, iov, iovcnt, iov_bytes(iov, iovcnt), write, cb, arg, NULL);
}

/* ------------------------------------------------------------------ synchronous */

static void sync_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	(void)cqe;
	*(int *)arg = status;
}

static int wait_done(struct nvmf_qpair *q, int *status)
{
	while (*status == -EINPROGRESS) {
		int rc = nvmf_qpair_wait(q, 100);

		if (rc == -ENODEV && *status == -EINPROGRESS)
			return -ENODEV;
	}
	return *status;
}

int nvmf_read_sync(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb, void *buf)
{
	int status = -EINPROGRESS;
	int rc;

	while ((rc = nvmf_read(q, nsid, lba, nlb, buf, sync_done, &status)) == -EAGAIN)
		nvmf_qpair_wait(q, 10);
	return rc ? rc : wait_done(q, &status);
}

int nvmf_write_sync(struct nvmf_qpair *q, uint32_t nsid, uint64_t lba, uint32_t nlb,
		    const void *buf, unsigned flags)
{
	int status = -EINPROGRESS;
	int rc;

	while ((rc = nvmf_write(q, nsid, lba, nlb, buf, flags, sync_done, &status)) == -EAGAIN)
		nvmf_qpair_wait(q, 10);
	return rc ? rc : wait_done(q, &status);
}

int nvmf_flush_sync(struct nvmf_qpair *q, uint32_t nsid)
{
	int status = -EINPROGRESS;
	int rc;

	while ((rc = nvmf_flush(q, nsid, sync_done, &status)) == -EAGAIN)
		nvmf_qpair_wait(q, 10);
	return rc ? rc : wait_done(q, &status);
}
