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
 *   rbd    a Ceph RBD image through librbd's asynchronous calls (rbd.c), their completions
 *          brought back to the submitting reactor (nvmf_reactor_post); path
 *          "rbd:pool[/namespace]/image[?conf=...&id=...&keyring=...]" (rbd_uri.c)
 */
#ifndef NVMF_BACKEND_BDEV_H
#define NVMF_BACKEND_BDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backend/rbd_uri.h"
#include "event/reactor.h"

enum nvmf_bdev_kind {
	NVMF_BDEV_RAM,
	NVMF_BDEV_NULL,
	NVMF_BDEV_FILE,   /* a regular file or a block device: decided at open */
	NVMF_BDEV_RBD,    /* a Ceph RBD image (built with librbd only) */
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

	/* backend-private (unions: what file.c and rbd.c each need, in the same bytes) */
	union {
		struct nvmf_event ev;   /* file: the io_uring completion */
		struct nvmf_reactor *reactor; /* rbd: where it was submitted */
	};
	struct nvmf_bdev *bdev;
	union {
		uint64_t done_bytes;    /* file: short reads/writes are resubmitted for the
					 * rest */
		int res;                /* rbd: librbd's result, carried to the reactor */
	};
	int stage;
	bool syncing;           /* file: the fdatasync that makes a WRITE_ZEROES durable */
	union {
		struct iovec iov_part;  /* file: the unfinished tail of one iov element after
					 * a short transfer */
		struct nvmf_posted posted; /* rbd: the completion, handed to the reactor */
	};
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
	/*
	 * Optional, for a backend shared by a gateway pair (b->gateway): claim() makes this
	 * process the only writer, fencing a previous one first (RBD: blocklist its client,
	 * break its lock, take the lock); blocking, on a control thread, never a reactor;
	 * 0 or -errno with the reason in err.  unclaim() gives ownership up after writing
	 * back what is cached (a planned hand-over: the peer then needs no fencing).
	 */
	int (*claim)(struct nvmf_bdev *b, char *err, size_t errlen);
	void (*unclaim)(struct nvmf_bdev *b);
	/*
	 * Optional: small named values kept with the backing itself (RBD: the image's
	 * metadata), for state that must follow the data to whichever process serves it
	 * next.  Blocking -- a cluster round trip, bounded by the backend's timeout -- so never
	 * on a reactor.  meta_get: *val malloc'd, -ENOENT when there is none; meta_set with
	 * val NULL removes.  0 or -errno; on a gateway a failure that means ownership is gone
	 * (fenced, lock lost, cluster out of reach) is -ESHUTDOWN and ends ownership, as for
	 * I/O.
	 */
	int (*meta_get)(struct nvmf_bdev *b, const char *key, char **val);
	int (*meta_set)(struct nvmf_bdev *b, const char *key, const char *val);
	/* Optional: how many other clients have the backing open now (-errno: unknown). */
	int (*others_open)(struct nvmf_bdev *b);
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
	/*
	 * Set by the owner after open (optional): the backend's size changed under it to
	 * new_size bytes (an RBD image resized by its admin).  Called on a thread of the
	 * backend's library, never after close() began; the owner updates what it shows.
	 */
	void (*on_resize)(struct nvmf_bdev *b, uint64_t new_size, void *arg);
	void *resize_arg;
	/*
	 * Gateway pair (RBD gateway=1): I/O is served only while owned (nvmf_bdev_owned);
	 * owned goes false when claim() is undone or when the backend finds ownership lost
	 * (the cluster fenced us, the lock went, the cluster stopped answering), and then
	 * on_lost (optional, set by the owner after open, argument resize_arg) is called once,
	 * on a thread of the backend's library.  fenced: the cluster refuses this client for
	 * good (blocklisted); only a new process can own the image again.
	 */
	bool gateway;
	bool owned;             /* __atomic: nvmf_bdev_owned() */
	bool fenced;            /* __atomic */
	void (*on_lost)(struct nvmf_bdev *b, int err, void *arg);
	/*
	 * Optional, set by the owner after open: called by claim() once the backing is this
	 * process's alone and before it counts as owned (so before any I/O is served), on
	 * claim's thread, with resize_arg; a failure (-errno, reason in err) undoes the claim.
	 * What must be read from the backing before serving it goes here (the reservation
	 * state another gateway left in the image).
	 */
	int (*on_claim)(struct nvmf_bdev *b, void *arg, char *err, size_t errlen);
};

/* Whether I/O may reach a gateway backend (always true for the others). */
static inline bool nvmf_bdev_owned(const struct nvmf_bdev *b)
{
	return !b->gateway || __atomic_load_n(&b->owned, __ATOMIC_ACQUIRE);
}

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
int nvmf_bdev_rbd_open(const struct nvmf_bdev_params *p, struct nvmf_bdev **out, char *err,
		       size_t errlen);
/* Whether this build has the rbd backend. */
bool nvmf_bdev_rbd_available(void);

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
