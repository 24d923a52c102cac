/*
 * NVM I/O commands: Read, Write (FUA), Compare, Flush, Write Zeroes, Dataset Management
 * (deallocate), and the Reservation commands of a namespace that has them (resv_cmd.c).
 * Parsing checks the namespace and the LBA range; execution hands the work to the
 * namespace's backend and completes on its callback.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"
#include "util/log.h"

#define DSM_AD (1u << 2)

static struct nvmf_req *bio_req(struct nvmf_bdev_io *io)
{
	return (struct nvmf_req *)((char *)io - offsetof(struct nvmf_req, bio));
}

/* Backend errno -> NVMe status. */
static uint16_t errno_status(int res, bool write)
{
	switch (res) {
	case 0:
		return 0;
	case -EROFS:
	case -EPERM:
	case -EACCES:
		return NVMF_SC_DNR(NVME_SC_NS_WRITE_PROTECTED);
	case -EINVAL:
		return NVMF_SC_DNR(NVME_SC_LBA_OUT_OF_RANGE);
	case -ENOSPC:
		return NVMF_SC_DNR(NVME_SC_CAPACITY_EXCEEDED);
	case -ENOMEM:
	case -EAGAIN:
		return NVMF_SC(NVME_SC_INTERNAL);
	case -ESHUTDOWN:
		/* a gateway backend that lost ownership (bdev.h): the other path serves it */
		return NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE);
	default:
		return NVME_STATUS(NVME_SCT_MEDIA,
				   write ? NVME_SC_WRITE_FAULT : NVME_SC_UNRECOVERED_READ);
	}
}

static void log_io_error(struct nvmf_req *req, int res)
{
	struct nvmf_sq *sq = req->sq;

	/* a gateway's lost ownership: logged once by the backend, not per command */
	if (res == -ESHUTDOWN)
		return;
	log_err("%s: ctrl %u qid %u cid %u: nsid %u opcode 0x%02x failed: %s",
		sq->ops->peer_name ? sq->ops->peer_name(sq) : "?",
		sq->ctrl ? sq->ctrl->cntlid : 0, sq->qid, le16toh(req->cmd.cid), req->ns->nsid,
		req->cmd.opcode, strerror(-res));
}

static void rw_done(struct nvmf_bdev_io *io, int res)
{
	struct nvmf_req *req = bio_req(io);
	bool write = io->op == NVMF_BIO_WRITE;

	/* counted by nvmf_req_complete() (stats.c) */
	if (res)
		log_io_error(req, res);
	nvmf_req_complete(req, errno_status(res, write));
}

static uint64_t req_offset(const struct nvmf_req *req)
{
	uint64_t slba = ((uint64_t)le32toh(req->cmd.cdw11) << 32) | le32toh(req->cmd.cdw10);

	return slba << req->ns->lba_shift;
}

static void rw_submit(struct nvmf_req *req)
{
	req->bio.iov = req->iov;
	req->bio.iovcnt = req->iovcnt;
	nvmf_bdev_submit(req->ns->bdev, req->sq->reactor, &req->bio);
}

static void execute_rw(struct nvmf_req *req)
{
	struct nvmf_bdev_io *io = &req->bio;
	struct nvmf_bdev *b = req->ns->bdev;
	bool write = req->dir == NVME_XFER_HOST_TO_CTRL;

	io->op = write ? NVMF_BIO_WRITE : NVMF_BIO_READ;
	io->offset = req_offset(req);
	io->len = req->xfer_len;
	io->fua = write && (le32toh(req->cmd.cdw12) & NVME_RW_CDW12_FUA);
	io->done = rw_done;
	if (write && req->iov_borrowed) {
		/* RAM: the transport received the data straight into the namespace */
		rw_done(io, 0);
		return;
	}
	if (!write) {
		const void *mem = nvmf_bdev_map_read(b, io->offset, io->len);

		if (mem) {
			/* RAM: send straight from the namespace's memory, no copy (null: from
			 * shared zeroes); the transport only reads iov_base */
			req->iov[0].iov_base = (void *)mem;
			req->iov[0].iov_len = req->xfer_len;
			req->iovcnt = 1;
			req->iov_borrowed = true;
			rw_done(io, 0);
			return;
		}
		if (nvmf_req_alloc_data(req)) {
			/* the reactor's buffers are all in use: read once some come back */
			nvmf_req_wait_data(req, rw_submit);
			return;
		}
	}
	rw_submit(req);
}

/* ------------------------------------------------------------------ compare */

/*
 * Compare reads the range into the buffers of a shadow request (priv links the two) and
 * checks them against the host's data chunk by chunk.
 */
static void compare_done(struct nvmf_bdev_io *io, int res)
{
	struct nvmf_req *shadow = bio_req(io);
	struct nvmf_req *req = shadow->priv;
	uint16_t status = errno_status(res, false);

	if (!status) {
		size_t off = 0;

		for (int i = 0; i < shadow->iovcnt && !status; i++) {
			uint8_t tmp[4096];
			size_t left = shadow->iov[i].iov_len;
			const uint8_t *p = shadow->iov[i].iov_base;

			while (left > 0) {
				size_t n = left < sizeof(tmp) ? left : sizeof(tmp);

				nvmf_req_copy_from(req, off, tmp, n);
				if (memcmp(tmp, p, n) != 0) {
					status = NVME_STATUS_NORETRY(NVME_SCT_MEDIA,
								     NVME_SC_COMPARE_FAILURE);
					break;
				}
				p += n;
				off += n;
				left -= n;
			}
		}
	}
	nvmf_req_free_data(shadow);
	free(shadow);
	req->priv = NULL;
	nvmf_req_complete(req, status);
}

static void execute_compare(struct nvmf_req *req)
{
	struct nvmf_req *shadow = malloc(sizeof(*shadow));

	if (!shadow) {
		nvmf_req_complete(req, NVMF_SC(NVME_SC_INTERNAL));
		return;
	}
	memset(shadow, 0, sizeof(*shadow));
	shadow->xfer_len = req->xfer_len;
	shadow->sq = req->sq;
	shadow->ns = req->ns;
	shadow->priv = req;
	req->priv = shadow;
	if (nvmf_req_alloc_data(shadow)) {
		free(shadow);
		nvmf_req_complete(req, NVMF_SC(NVME_SC_INTERNAL));
		return;
	}
	shadow->bio.op = NVMF_BIO_READ;
	shadow->bio.offset = req_offset(req);
	shadow->bio.len = req->xfer_len;
	shadow->bio.iov = shadow->iov;
	shadow->bio.iovcnt = shadow->iovcnt;
	shadow->bio.done = compare_done;
	nvmf_bdev_submit(req->ns->bdev, req->sq->reactor, &shadow->bio);
}

/* ------------------------------------------------------------------ flush, zeroes, dsm */

static void simple_done(struct nvmf_bdev_io *io, int res)
{
	struct nvmf_req *req = bio_req(io);

	if (res)
		log_io_error(req, res);
	nvmf_req_complete(req, errno_status(res, io->op != NVMF_BIO_FLUSH));
}

static void execute_flush(struct nvmf_req *req)
{
	struct nvmf_bdev_io *io = &req->bio;

	memset(io, 0, sizeof(*io));
	io->op = NVMF_BIO_FLUSH;
	io->done = simple_done;
	nvmf_bdev_submit(req->ns->bdev, req->sq->reactor, io);
}

static void execute_write_zeroes(struct nvmf_req *req)
{
	struct nvmf_bdev_io *io = &req->bio;
	uint32_t nlb = (le32toh(req->cmd.cdw12) & NVME_RW_CDW12_NLB_MASK) + 1;

	memset(io, 0, sizeof(*io));
	io->op = NVMF_BIO_WRITE_ZEROES;
	io->offset = req_offset(req);
	io->len = (uint64_t)nlb << req->ns->lba_shift;
	/* Write Zeroes has FUA as Write has (NVM Command Set, CDW12 bit 30) */
	io->fua = le32toh(req->cmd.cdw12) & NVME_RW_CDW12_FUA;
	io->done = simple_done;
	nvmf_bdev_submit(req->ns->bdev, req->sq->reactor, io);
}

/* DSM deallocate: the ranges go to the backend one after another. */
static void dsm_next(struct nvmf_req *req, unsigned idx);

static void dsm_done(struct nvmf_bdev_io *io, int res)
{
	struct nvmf_req *req = bio_req(io);
	unsigned idx = (unsigned)(uintptr_t)req->priv;

	/* deallocate is advisory: a backend that cannot discard still succeeds */
	if (res && res != -EOPNOTSUPP) {
		log_io_error(req, res);
		nvmf_req_complete(req, errno_status(res, true));
		return;
	}
	dsm_next(req, idx + 1);
}

static void dsm_next(struct nvmf_req *req, unsigned idx)
{
	unsigned nr = (le32toh(req->cmd.cdw10) & 0xFF) + 1;
	struct nvmf_ns *ns = req->ns;

	while (idx < nr) {
		struct nvme_dsm_range r;
		uint64_t slba, len;

		nvmf_req_copy_from(req, idx * sizeof(r), &r, sizeof(r));
		slba = le64toh(r.slba);
		len = le32toh(r.nlb);
		if (len == 0) {
			idx++;
			continue;
		}
		if (slba >= nvmf_ns_nblocks(ns) || len > nvmf_ns_nblocks(ns) - slba) {
			nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_LBA_OUT_OF_RANGE));
			return;
		}
		memset(&req->bio, 0, sizeof(req->bio));
		req->bio.op = NVMF_BIO_DISCARD;
		req->bio.offset = slba << ns->lba_shift;
		req->bio.len = len << ns->lba_shift;
		req->bio.done = dsm_done;
		/* the range index, for dsm_done (which may run inside submit) */
		req->priv = (void *)(uintptr_t)idx;
		nvmf_bdev_submit(ns->bdev, req->sq->reactor, &req->bio);
		return;
	}
	nvmf_req_complete(req, 0);
}

static void execute_dsm(struct nvmf_req *req)
{
	if (!(le32toh(req->cmd.cdw11) & DSM_AD)) {
		/* only hints (integral read/write): nothing to do */
		nvmf_req_complete(req, 0);
		return;
	}
	dsm_next(req, 0);
}

/* ------------------------------------------------------------------ parse */

/* SLBA + NLB within the namespace; returns the byte length or a status via *status. */
static uint64_t check_range(struct nvmf_req *req, uint16_t *status)
{
	uint64_t slba = ((uint64_t)le32toh(req->cmd.cdw11) << 32) | le32toh(req->cmd.cdw10);
	uint64_t nlb = (le32toh(req->cmd.cdw12) & NVME_RW_CDW12_NLB_MASK) + 1ull;

	uint64_t nblocks = nvmf_ns_nblocks(req->ns);

	if (slba >= nblocks || nlb > nblocks - slba) {
		*status = NVMF_SC_DNR(NVME_SC_LBA_OUT_OF_RANGE);
		return 0;
	}
	*status = 0;
	return nlb << req->ns->lba_shift;
}

/*
 * The namespace's ANA group through the controller's port (nvmet's check, before any other
 * of the command): optimized and non-optimized serve I/O; the others get the path status
 * without DNR, so the Linux host fails the command over to another path
 * (nvme_failover_req) and re-reads the ANA log.
 */
static uint16_t check_ana(const struct nvmf_req *req)
{
	const struct nvmf_port *port = req->sq->ctrl->port;

	/* a gateway namespace this process does not own (owner.c): no write may land */
	if (req->ns->bdev && !nvmf_bdev_owned(req->ns->bdev))
		return NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE);
	if (!port)
		return 0;
	switch (nvmf_cfg_port_ana_state(nvmf_port_cfg(port), nvmf_ns_anagrpid(req->ns))) {
	case NVMF_CFG_ANA_INACCESSIBLE:
		return NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE);
	case NVMF_CFG_ANA_PERSISTENT_LOSS:
		return NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_PERSISTENT_LOSS);
	case NVMF_CFG_ANA_CHANGE:
		return NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_TRANSITION);
	default:
		return 0;
	}
}

/* The command groups of the spec's reservation conflict table. */
static enum nvmf_resv_class resv_class(uint8_t opc)
{
	switch (opc) {
	case NVME_NVM_READ:
	case NVME_NVM_COMPARE:
		return NVMF_RESV_READ;
	case NVME_NVM_WRITE:
	case NVME_NVM_WRITE_ZEROES:
	case NVME_NVM_DSM:
	case NVME_NVM_FLUSH:
		return NVMF_RESV_WRITE;
	default:
		return NVMF_RESV_OTHER;
	}
}

static uint16_t parse_nvm(struct nvmf_req *req);

uint16_t nvmf_parse_io(struct nvmf_req *req)
{
	struct nvmf_sq *sq = req->sq;
	uint8_t opc = req->cmd.opcode;
	uint16_t status;

	nvmf_req_set_ns(req, nvmf_subsys_find_ns(sq->ctrl->subsys, le32toh(req->cmd.nsid)));
	if (!req->ns)
		return NVMF_SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT);
	status = check_ana(req);
	if (status)
		return status;
	switch (opc) {
	case NVME_NVM_RESV_REGISTER:
	case NVME_NVM_RESV_REPORT:
	case NVME_NVM_RESV_ACQUIRE:
	case NVME_NVM_RESV_RELEASE:
		/* a namespace without resv.enable does not have them (nvmet) */
		return req->ns->resv ? nvmf_parse_resv(req) : NVMF_SC_DNR(NVME_SC_INVALID_OPCODE);
	default:
		break;
	}
	status = parse_nvm(req);
	if (!status && req->ns->resv)
		status = nvmf_resv_io(req, resv_class(opc));
	return status;
}

static uint16_t parse_nvm(struct nvmf_req *req)
{
	uint8_t opc = req->cmd.opcode;
	uint16_t status = 0;
	uint64_t len;

	switch (opc) {
	case NVME_NVM_READ:
	case NVME_NVM_WRITE:
	case NVME_NVM_COMPARE:
		len = check_range(req, &status);
		if (status)
			return status;
		if (len > NVMF_MAX_XFER)
			return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
		if (opc == NVME_NVM_WRITE && req->ns->bdev->read_only)
			return NVMF_SC_DNR(NVME_SC_NS_WRITE_PROTECTED);
		req->xfer_len = (uint32_t)len;
		req->dir = opc == NVME_NVM_READ ? NVME_XFER_CTRL_TO_HOST : NVME_XFER_HOST_TO_CTRL;
		req->execute = opc == NVME_NVM_COMPARE ? execute_compare : execute_rw;
		if (opc == NVME_NVM_WRITE) {
			void *mem = nvmf_bdev_map(req->ns->bdev, req_offset(req));

			/*
			 * RAM namespace: the transport receives the data where it belongs, no
			 * copy.  A write that fails on the way (digest error, lost connection)
			 * leaves its blocks indeterminate, as NVMe allows for a failed write.
			 * Not with reservations: a Preempt and Abort that comes while the data
			 * arrives must still keep it off the namespace.
			 */
			if (mem && !req->ns->resv) {
				req->iov[0].iov_base = mem;
				req->iov[0].iov_len = req->xfer_len;
				req->iovcnt = 1;
				req->iov_borrowed = true;
			}
		}
		return 0;
	case NVME_NVM_FLUSH:
		req->execute = execute_flush;
		return 0;
	case NVME_NVM_WRITE_ZEROES:
		check_range(req, &status);
		if (status)
			return status;
		if (req->ns->bdev->read_only)
			return NVMF_SC_DNR(NVME_SC_NS_WRITE_PROTECTED);
		req->execute = execute_write_zeroes;
		return 0;
	case NVME_NVM_DSM:
		if (req->ns->bdev->read_only && (le32toh(req->cmd.cdw11) & DSM_AD))
			return NVMF_SC_DNR(NVME_SC_NS_WRITE_PROTECTED);
		/*
		 * The SGL may describe more than the NR + 1 ranges: the Linux host always sends
		 * NVME_DSM_MAX_RANGES ranges' worth (4 KiB) whatever NR says. Take the whole
		 * payload and read only NR + 1 ranges of it, as nvmet does
		 * (nvmet_check_data_len_lte); a payload too short for NR + 1 ranges is refused.
		 */
		len = ((le32toh(req->cmd.cdw10) & 0xFF) + 1) * sizeof(struct nvme_dsm_range);
		if (le32toh(req->cmd.dptr.sgl.length) < len)
			return NVMF_SC_DNR(NVME_SC_DATA_SGL_LEN_INVALID);
		req->xfer_len = le32toh(req->cmd.dptr.sgl.length);
		req->dir = NVME_XFER_HOST_TO_CTRL;
		req->execute = execute_dsm;
		return 0;
	default:
		return NVMF_SC_DNR(NVME_SC_INVALID_OPCODE);
	}
}
