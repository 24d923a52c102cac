/*
 * Backends: the storage behind a namespace.  One ops table (open, submit, close); I/O is
 * asynchronous and completes on the reactor that submitted it, through that reactor's
 * io_uring (file, block) or at once (RAM, null).  The target core never names a backend.
 *
 *   ram    memory (anonymous mmap), zero-filled, data lost at exit
 *   null   discards writes, reads return zeroes: for benchmarks
 *   file   regular file or block device through io_uring, O_DIRECT where the file system
 *          allows; deallocate / write-zeroes map to fallocate (file) or BLKDISCARD /
 *          BLKZEROOUT (block device); flush maps to fdatasync
 */
#ifndef NVMF_BACKEND_BDEV_H
#define NVMF_BACKEND_BDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "event/reactor.h"

enum nvmf_bdev_kind {
	NVMF_BDEV_RAM,
	NVMF_BDEV_NULL,
	NVMF_BDEV_FILE,   /* a regular file or a block device: decided at open */
};

enum nvmf_bdev_op {
	NVMF_BIO_READ,
	NVMF_BIO_WRITE,
	NVMF_BIO_FLUSH,
	NVMF_BIO_WRITE_ZEROES,
	NVMF_BIO_DISCARD,
};

struct nvmf_bdev;

/*
 * One backend request.  Embedded in the target's request; must stay put until done() is
 * called (always on the submitting reactor's thread, possibly from inside submit()).
 */
struct nvmf_bdev_io {
	enum nvmf_bdev_op op;
	uint64_t offset;        /* bytes */
	uint64_t len;           /* bytes (READ/WRITE: the sum of iov) */
	struct iovec *iov;
	int iovcnt;
	bool fua;               /* WRITE, WRITE_ZEROES: durable before completion */
	void (*done)(struct nvmf_bdev_io *io, int res); /* res: 0 or -errno */

	/* backend-private */
	struct nvmf_event ev;
	struct nvmf_bdev *bdev;
	uint64_t done_bytes;    /* short reads/writes are resubmitted for the rest */
	int stage;
	bool syncing;           /* file: the fdatasync that makes a WRITE_ZEROES durable */
	struct iovec iov_part;  /* file: the unfinished tail of one iov element after a short
				 * transfer */
};

struct nvmf_bdev_ops {
	const char *name;
	/* Queue io on reactor r.  Never fails synchronously: errors come through io->done. */
	void (*submit)(struct nvmf_bdev *b, struct nvmf_reactor *r, struct nvmf_bdev_io *io);
	/*
	 * Optional (NULL: nothing volatile to flush): make every completed write durable,
	 * synchronously, with no I/O in flight -- the flush at shutdown, after the reactors
	 * ended.  Returns 0 or -errno.
	 */
	int (*flush)(struct nvmf_bdev *b);
	void (*close)(struct nvmf_bdev *b);
};

struct nvmf_bdev {
	const struct nvmf_bdev_ops *ops;
	enum nvmf_bdev_kind kind;
	char *path;             /* file or device path; NULL for ram/null */
	uint64_t size;          /* bytes, a multiple of block_size */
	uint32_t block_size;    /* logical block: 512 or 4096 */
	bool is_blockdev;
	bool direct;            /* opened O_DIRECT: buffers and offsets must be aligned */
	bool read_only;
	bool has_discard;       /* deallocate really frees space */
	bool write_cache;       /* volatile write cache present: flush means something */
	bool prealloc;          /* RAM: all memory reserved at open, kept until close */
	int fd;                 /* -1 for ram/null */
	uint8_t *mem;           /* ram: the data */
};

struct nvmf_bdev_params {
	enum nvmf_bdev_kind kind;
	const char *path;       /* FILE */
	uint64_t size;          /* RAM/NULL: bytes; FILE: 0 = the file's size */
	uint32_t block_size;    /* 0 = choose (512 for RAM/NULL, the device's for FILE) */
	bool buffered;          /* FILE: do not use O_DIRECT */
	bool prealloc;          /* RAM: reserve and fault in everything at open, on huge
				 * pages where the system has them (as SPDK's malloc bdev on
				 * hugepages): no page fault on the I/O path, memory = size */
	bool lazy;              /* RAM: fault pages in only as they are written (a sparse
				 * namespace); neither this nor prealloc: populated in the
				 * background after open (ram.c) */
	uint64_t populate_reserve; /* RAM background population stops while less memory
				 * than this is available; 0 = the default (ram.c).  Tests
				 * set it to see the stop. */
};

/* Opens a backend; returns 0 or -errno with a reason in err. */
int nvmf_bdev_open(const struct nvmf_bdev_params *p, struct nvmf_bdev **out, char *err,
		   size_t errlen);
void nvmf_bdev_close(struct nvmf_bdev *b);

static inline void nvmf_bdev_submit(struct nvmf_bdev *b, struct nvmf_reactor *r,
				    struct nvmf_bdev_io *io)
{
	io->bdev = b;
	io->done_bytes = 0;
	io->stage = 0;
	io->syncing = false;
	b->ops->submit(b, r, io);
}

/* Synchronous flush (shutdown): 0 or -errno. */
static inline int nvmf_bdev_flush(struct nvmf_bdev *b)
{
	return b->ops->flush ? b->ops->flush(b) : 0;
}

/* RAM only: the bytes at offset, so writes can be received in place; NULL otherwise. */
static inline void *nvmf_bdev_map(struct nvmf_bdev *b, uint64_t offset)
{
	return b->kind == NVMF_BDEV_RAM ? b->mem + offset : NULL;
}

/* Zeroes that are never written (null.c): what a null namespace reads. */
#define NVMF_BDEV_ZEROES_LEN (128u * 1024)
extern const uint8_t nvmf_bdev_zeroes[NVMF_BDEV_ZEROES_LEN];

/*
 * Where the len bytes at offset can be sent from without a copy: the namespace (RAM), or
 * shared zeroes (null, up to NVMF_BDEV_ZEROES_LEN); NULL when they must be read.  Only to
 * be read from.
 */
static inline const void *nvmf_bdev_map_read(const struct nvmf_bdev *b, uint64_t offset,
					     uint64_t len)
{
	if (b->kind == NVMF_BDEV_RAM)
		return b->mem + offset;
	if (b->kind == NVMF_BDEV_NULL && len <= NVMF_BDEV_ZEROES_LEN)
		return nvmf_bdev_zeroes;
	return NULL;
}

/* Alignment buffers must have for this backend (O_DIRECT), 1 when none is needed. */
static inline uint32_t nvmf_bdev_buf_align(const struct nvmf_bdev *b)
{
	return b->direct ? 4096 : 1;
}

/*
 * For the backend implementations only (bdev.c, ram.c, null.c, file.c): each kind's open,
 * which allocates the bdev (possibly embedded in a larger private struct) and fills it in,
 * and the checks every submit starts with.
 */
int nvmf_bdev_ram_open(const struct nvmf_bdev_params *p, struct nvmf_bdev **out, char *err,
		       size_t errlen);
int nvmf_bdev_null_open(const struct nvmf_bdev_params *p, struct nvmf_bdev **out, char *err,
			size_t errlen);
int nvmf_bdev_file_open(const struct nvmf_bdev_params *p, struct nvmf_bdev **out, char *err,
			size_t errlen);

/* 0, or the -errno io must complete with: unknown op, range past the end, iov sum != len,
 * a write to a read-only bdev. */
int nvmf_bdev_check(const struct nvmf_bdev *b, const struct nvmf_bdev_io *io);

/* Validates a requested block size (0 = default) into *bs: a power of two, 512..4096. */
int nvmf_bdev_check_block_size(uint32_t req, uint32_t dflt, uint32_t *bs, char *err,
			       size_t errlen);

/* Where byte pos of an iov array falls: element *idx, *off bytes into it. */
void nvmf_bdev_iov_seek(const struct iovec *iov, int iovcnt, uint64_t pos, int *idx,
			size_t *off);

#endif
