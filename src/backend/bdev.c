/*
 * Backends, the common part: open/close dispatch on the kind, and the checks and iovec
 * helpers every backend's submit shares.
 */
#include "backend/bdev.h"

#include <errno.h>
#include <stdio.h>

int nvmf_bdev_open(const struct nvmf_bdev_params *p, struct nvmf_bdev **out, char *err,
		   size_t errlen)
{
	*out = NULL;
	switch (p->kind) {
	case NVMF_BDEV_RAM:
		return nvmf_bdev_ram_open(p, out, err, errlen);
	case NVMF_BDEV_NULL:
		return nvmf_bdev_null_open(p, out, err, errlen);
	case NVMF_BDEV_FILE:
		/* a file path that is an RBD image's: what nvmetcli's device path names */
		if (nvmf_bdev_path_is_rbd(p->path))
			return nvmf_bdev_rbd_open(p, out, err, errlen);
		return nvmf_bdev_file_open(p, out, err, errlen);
	case NVMF_BDEV_RBD:
		return nvmf_bdev_rbd_open(p, out, err, errlen);
	}
	snprintf(err, errlen, "unknown backend kind %d", (int)p->kind);
	return -EINVAL;
}

void nvmf_bdev_close(struct nvmf_bdev *b)
{
	if (b)
		b->ops->close(b);
}

int nvmf_bdev_check_block_size(uint32_t req, uint32_t dflt, uint32_t *bs, char *err,
			       size_t errlen)
{
	uint32_t v = req ? req : dflt;

	/* NVMe's LBA data size is 2^LBADS with LBADS >= 9; hosts expect at most 4 KiB */
	if (v < 512 || v > 4096 || (v & (v - 1))) {
		snprintf(err, errlen, "block size %u is not 512, 1024, 2048 or 4096", v);
		return -EINVAL;
	}
	*bs = v;
	return 0;
}

int nvmf_bdev_check(const struct nvmf_bdev *b, const struct nvmf_bdev_io *io)
{
	switch (io->op) {
	case NVMF_BIO_FLUSH:
		return 0;
	case NVMF_BIO_READ:
	case NVMF_BIO_WRITE: {
		/*
		 * The target core sizes iovs from len; a mismatch would make a backend move
		 * fewer bytes than asked and call it success.
		 */
		uint64_t sum = 0;

		if (io->iovcnt < 0 || (io->iovcnt > 0 && !io->iov))
			return -EINVAL;
		for (int i = 0; i < io->iovcnt; i++)
			sum += io->iov[i].iov_len;
		if (sum != io->len)
			return -EINVAL;
		break;
	}
	case NVMF_BIO_WRITE_ZEROES:
	case NVMF_BIO_DISCARD:
		break;
	default:
		return -EINVAL;
	}
	/* the target core checks LBA ranges first: this is defence in depth (an RBD image's
	 * size may change under us: rbd.c stores it from librbd's thread) */
	uint64_t size = __atomic_load_n(&b->size, __ATOMIC_RELAXED);

	if (io->offset > size || io->len > size - io->offset)
		return -EINVAL;
	if (b->read_only && io->op != NVMF_BIO_READ)
		return -EROFS;
	return 0;
}

void nvmf_bdev_iov_seek(const struct iovec *iov, int iovcnt, uint64_t pos, int *idx,
			size_t *off)
{
	int i = 0;

	while (i < iovcnt && pos >= iov[i].iov_len) {
		pos -= iov[i].iov_len;
		i++;
	}
	*idx = i;
	*off = i < iovcnt ? (size_t)pos : 0;
}
