/*
 * Null backend, for benchmarks: writes are dropped, reads return zeroes, everything
 * completes inside submit().  It measures the target and the network, not storage.
 */
#include "backend/bdev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Never written: its pages stay the kernel's zero page, always in cache. */
const uint8_t nvmf_bdev_zeroes[NVMF_BDEV_ZEROES_LEN];

static void null_submit(struct nvmf_bdev *b, struct nvmf_reactor *r, struct nvmf_bdev_io *io)
{
	int rc = nvmf_bdev_check(b, io);

	(void)r;
	if (rc == 0 && io->op == NVMF_BIO_READ) {
		for (int i = 0; i < io->iovcnt; i++)
			memset(io->iov[i].iov_base, 0, io->iov[i].iov_len);
	}
	io->done(io, rc);
}

static void null_close(struct nvmf_bdev *b)
{
	free(b);
}

static const struct nvmf_bdev_ops null_ops = {
	.name = "null",
	.submit = null_submit,
	.close = null_close,
};

int nvmf_bdev_null_open(const struct nvmf_bdev_params *p, struct nvmf_bdev **out, char *err,
			size_t errlen)
{
	struct nvmf_bdev *b;
	uint32_t bs;
	int rc;

	rc = nvmf_bdev_check_block_size(p->block_size, 512, &bs, err, errlen);
	if (rc)
		return rc;
	if (p->size == 0) {
		snprintf(err, errlen, "null: a size is needed");
		return -EINVAL;
	}
	if (p->size % bs) {
		snprintf(err, errlen, "size %llu is not a multiple of %u",
			 (unsigned long long)p->size, bs);
		return -EINVAL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b->ops = &null_ops;
	b->kind = NVMF_BDEV_NULL;
	b->size = p->size;
	b->block_size = bs;
	b->has_discard = true;  /* deallocated blocks read as zeroes, as all blocks do */
	b->fd = -1;
	*out = b;
	return 0;
}
