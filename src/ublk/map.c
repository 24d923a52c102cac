/*
 * ublk <-> NVMe translations, pure (no kernel, no sockets): the device parameters a
 * namespace gives, one ublk request as one NVM command, a completion as a ublk result.
 */
#include <errno.h>
#include <string.h>

#include "proto/nvme_spec.h"
#include "ublk/bridge.h"

int ublk_map_params(const struct ublk_ns_caps *ns, uint32_t max_io_bytes,
		    struct ublk_params *p)
{
	struct ublk_param_basic *b = &p->basic;
	struct ublk_param_discard *d = &p->discard;
	unsigned shift = 0;

	/* the driver takes 512 bytes up to the page size (4 KiB here) */
	while (shift < 31 && (1u << shift) < ns->block_size)
		shift++;
	if ((1u << shift) != ns->block_size || shift < 9 || shift > 12)
		return -EINVAL;
	max_io_bytes &= ~(ns->block_size - 1);
	if (!max_io_bytes || !ns->nblocks || ns->nblocks > (UINT64_MAX >> (shift - 9)))
		return -EINVAL;

	memset(p, 0, sizeof(*p));
	p->len = sizeof(*p);
	p->types = UBLK_PARAM_TYPE_BASIC;
	/* FUA means something only with a write cache; the driver looks at it only then */
	b->attrs = UBLK_ATTR_FUA;
	if (ns->vwc & NVME_VWC_PRESENT)
		b->attrs |= UBLK_ATTR_VOLATILE_CACHE;
	if (ns->read_only)
		b->attrs |= UBLK_ATTR_READ_ONLY;
	b->logical_bs_shift = (uint8_t)shift;
	b->physical_bs_shift = (uint8_t)shift;
	b->io_min_shift = (uint8_t)shift;
	b->io_opt_shift = (uint8_t)shift;
	b->max_sectors = max_io_bytes >> 9;
	b->dev_sectors = ns->nblocks << (shift - 9);

	if (ns->oncs & (NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES)) {
		p->types |= UBLK_PARAM_TYPE_DISCARD;
		d->discard_granularity = ns->block_size;
		if (ns->oncs & NVME_ONCS_DSM) {
			/* one range per command: its NLB is 32 bits, so is max_discard_sectors */
			d->max_discard_sectors = UINT32_MAX & ~((1u << (shift - 9)) - 1);
			d->max_discard_segments = 1;
		}
		if (ns->oncs & NVME_ONCS_WRITE_ZEROES)
			d->max_write_zeroes_sectors = UBLK_MAX_WZ_BLOCKS << (shift - 9);
	}
	return 0;
}

int ublk_map_io(const struct ublksrv_io_desc *iod, unsigned bs_shift, uint32_t buf_bytes,
		struct ublk_nvme_io *io)
{
	unsigned op = iod->op_flags & 0xFF;
	unsigned spb_shift = bs_shift - 9;           /* 512-byte sectors per block, log2 */
	uint64_t mask = (1ull << spb_shift) - 1;
	uint64_t bytes = (uint64_t)iod->nr_sectors << 9;

	memset(io, 0, sizeof(*io));
	if (op == UBLK_IO_OP_FLUSH) {
		io->op = UBLK_NVME_FLUSH;
		return 0;
	}
	if (op != UBLK_IO_OP_READ && op != UBLK_IO_OP_WRITE && op != UBLK_IO_OP_DISCARD &&
	    op != UBLK_IO_OP_WRITE_ZEROES)
		return -EOPNOTSUPP;
	if (!iod->nr_sectors || ((iod->start_sector | iod->nr_sectors) & mask))
		return -EINVAL;
	io->lba = iod->start_sector >> spb_shift;
	io->nlb = iod->nr_sectors >> spb_shift;
	switch (op) {
	case UBLK_IO_OP_READ:
	case UBLK_IO_OP_WRITE:
		if (bytes > buf_bytes)
			return -EINVAL;
		io->op = op == UBLK_IO_OP_READ ? UBLK_NVME_READ : UBLK_NVME_WRITE;
		io->bytes = (uint32_t)bytes;
		if (op == UBLK_IO_OP_WRITE && (iod->op_flags & UBLK_IO_F_FUA))
			io->flags = NVMF_IO_FUA;
		return 0;
	case UBLK_IO_OP_DISCARD:
		io->op = UBLK_NVME_DEALLOCATE;
		return 0;
	default:
		if (io->nlb > UBLK_MAX_WZ_BLOCKS)
			return -EINVAL;
		io->op = UBLK_NVME_WRITE_ZEROES;
		/* REQ_NOUNMAP: the blocks must stay allocated */
		if (!(iod->op_flags & UBLK_IO_F_NOUNMAP))
			io->flags = NVMF_IO_DEAC;
		return 0;
	}
}

/* Errnos the block layer turns into the matching blk_status_t, as the kernel's NVMe
 * driver classifies the same statuses (nvme_error_status()). */
int ublk_map_status(int status)
{
	uint16_t st;

	if (status == 0)
		return 0;
	if (status < 0)
		return status == -EINVAL || status == -EOPNOTSUPP ? status : -EIO;
	st = (uint16_t)status;
	switch (nvme_status_sct(st)) {
	case NVME_SCT_GENERIC:
		switch (nvme_status_sc(st)) {
		case NVME_SC_INVALID_OPCODE:
		case NVME_SC_INVALID_FIELD:
			return -EOPNOTSUPP;
		case NVME_SC_LBA_OUT_OF_RANGE:
			return -EREMOTEIO;
		case NVME_SC_CAPACITY_EXCEEDED:
			return -ENOSPC;
		default:
			return -EIO;
		}
	case NVME_SCT_MEDIA:
		return -ENODATA;
	default:
		return -EIO;
	}
}
