/*
 * File backend: a regular file or a block device, driven through the submitting reactor's
 * io_uring.  O_DIRECT unless asked otherwise or the file system refuses it.
 *
 *   READ / WRITE   readv / writev (read / write for one segment); a short transfer is
 *                  resubmitted for the rest; FUA is RWF_DSYNC on the write
 *   FLUSH          fdatasync (IORING_FSYNC_DATASYNC)
 *   WRITE_ZEROES   file: fallocate ZERO_RANGE, else PUNCH_HOLE, else writes of zeroes;
 *                  block device: BLKZEROOUT; then, with FUA, fdatasync (an fallocate is
 *                  a metadata change, and BLKZEROOUT may leave the zeroes in the
 *                  device's cache: neither is durable by itself)
 *   DISCARD        file: fallocate PUNCH_HOLE (a no-op where unsupported: deallocate is
 *                  advisory); block device: BLKDISCARD
 *
 * One bdev may be used by several reactors at once: nothing here is per-reactor, and what
 * the backend learns at run time (which fallocate modes work) is kept in atomics.
 */
#include "backend/bdev.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "util/log.h"

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

/* Transient errors a read or write is retried for, at most this many times in a row. */
#define FILE_RETRIES 8

/* The write-zeroes fallback writes from this; in .bss, it costs no memory until read. */
#define ZERO_CHUNK (1024 * 1024)
static uint8_t zero_buf[ZERO_CHUNK] __attribute__((aligned(4096)));

/* How WRITE_ZEROES is done on a regular file, from the best to the last resort. */
enum {
	ZERO_BY_ZERO_RANGE,
	ZERO_BY_PUNCH_HOLE,
	ZERO_BY_WRITING,
};

struct file_bdev {
	struct nvmf_bdev b;
	atomic_int zero_mode;   /* the first ZERO_BY_* worth trying */
	atomic_bool no_punch;   /* PUNCH_HOLE is unsupported: DISCARD does nothing */
};

static void rw_submit(struct nvmf_reactor *r, struct nvmf_bdev_io *io)
{
	const struct iovec *iov = io->iov;
	int cnt = io->iovcnt;
	uint64_t off = io->offset + io->done_bytes;
	struct io_uring_sqe *sqe;

	if (io->done_bytes) {
		/*
		 * After a short transfer: the caller's array from the first untouched
		 * element, or, when the transfer stopped inside an element, that element's
		 * tail alone (the next round picks up the array again).  The caller's iov is
		 * never written, and there is no limit on iovcnt.
		 */
		size_t in;
		int k;

		nvmf_bdev_iov_seek(io->iov, io->iovcnt, io->done_bytes, &k, &in);
		if (in) {
			io->iov_part.iov_base = (uint8_t *)io->iov[k].iov_base + in;
			io->iov_part.iov_len = io->iov[k].iov_len - in;
			iov = &io->iov_part;
			cnt = 1;
		} else {
			iov += k;
			cnt -= k;
		}
	}
	sqe = nvmf_reactor_sqe(r, &io->ev);
	if (io->op == NVMF_BIO_READ) {
		if (cnt == 1 && iov->iov_len <= UINT32_MAX)
			io_uring_prep_read(sqe, io->bdev->fd, iov->iov_base,
					   (unsigned)iov->iov_len, off);
		else
			io_uring_prep_readv(sqe, io->bdev->fd, iov, (unsigned)cnt, off);
	} else {
		if (cnt == 1 && iov->iov_len <= UINT32_MAX)
			io_uring_prep_write(sqe, io->bdev->fd, iov->iov_base,
					    (unsigned)iov->iov_len, off);
		else
			io_uring_prep_writev(sqe, io->bdev->fd, iov, (unsigned)cnt, off);
		if (io->fua)
			sqe->rw_flags = RWF_DSYNC;
	}
}

static void rw_complete(struct nvmf_reactor *r, struct nvmf_bdev_io *io, int res)
{
	if ((res == -EAGAIN || res == -EINTR) && io->stage < FILE_RETRIES) {
		io->stage++;
		rw_submit(r, io);
		return;
	}
	if (res < 0) {
		io->done(io, res);
		return;
	}
	/* no progress: a file shrunk under us (EOF) or a device that gave up */
	if (res == 0) {
		io->done(io, -EIO);
		return;
	}
	io->stage = 0;
	io->done_bytes += (unsigned)res;
	if (io->done_bytes >= io->len)
		io->done(io, 0);
	else
		rw_submit(r, io);
}

static void zero_submit(struct nvmf_reactor *r, struct nvmf_bdev_io *io)
{
	struct io_uring_sqe *sqe = nvmf_reactor_sqe(r, &io->ev);
	int fd = io->bdev->fd;
	uint64_t n;

	switch (io->stage) {
	case ZERO_BY_ZERO_RANGE:
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		break;
	case ZERO_BY_PUNCH_HOLE:
		/* a hole reads as zeroes: as good as written zeroes, minus the allocation */
		io_uring_prep_fallocate(sqe, fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		break;
	default:
		n = io->len - io->done_bytes;
		if (n > ZERO_CHUNK)
			n = ZERO_CHUNK;
		io_uring_prep_write(sqe, fd, zero_buf, (unsigned)n, io->offset + io->done_bytes);
		break;
	}
}

/* The zeroes are in place (res 0) or not: done, or first made durable (FUA). */
static void zero_done(struct nvmf_reactor *r, struct nvmf_bdev_io *io, int res)
{
	if (res == 0 && io->fua && !io->syncing) {
		io->syncing = true;
		io_uring_prep_fsync(nvmf_reactor_sqe(r, &io->ev), io->bdev->fd,
				    IORING_FSYNC_DATASYNC);
		return;
	}
	io->done(io, res);
}

static void zero_complete(struct nvmf_reactor *r, struct nvmf_bdev_io *io, int res)
{
	struct file_bdev *fb = container_of(io->bdev, struct file_bdev, b);

	if (io->stage < ZERO_BY_WRITING) {
		if (res == -EOPNOTSUPP) {
			int seen = io->stage;

			io->stage++;
			/* remember for the next ones; another reactor may have moved it on */
			atomic_compare_exchange_strong(&fb->zero_mode, &seen, io->stage);
			zero_submit(r, io);
			return;
		}
		zero_done(r, io, res < 0 ? res : 0);
		return;
	}
	if (res <= 0) {
		io->done(io, res < 0 ? res : -EIO);
		return;
	}
	io->done_bytes += (unsigned)res;
	if (io->done_bytes >= io->len)
		zero_done(r, io, 0);
	else
		zero_submit(r, io);
}

static void file_event(struct nvmf_event *ev, int res, uint32_t cqe_flags)
{
	struct nvmf_bdev_io *io = container_of(ev, struct nvmf_bdev_io, ev);
	/* completions run on the reactor the io was submitted on */
	struct nvmf_reactor *r = nvmf_reactor_self();

	(void)cqe_flags;
	switch (io->op) {
	case NVMF_BIO_READ:
	case NVMF_BIO_WRITE:
		rw_complete(r, io, res);
		break;
	case NVMF_BIO_WRITE_ZEROES:
		if (io->syncing)
			io->done(io, res < 0 ? res : 0);
		else
			zero_complete(r, io, res);
		break;
	case NVMF_BIO_DISCARD:
		if (res == -EOPNOTSUPP) {
			struct file_bdev *fb = container_of(io->bdev, struct file_bdev, b);

			atomic_store(&fb->no_punch, true);
			res = 0;
		}
		io->done(io, res < 0 ? res : 0);
		break;
	case NVMF_BIO_FLUSH:
		io->done(io, res < 0 ? res : 0);
		break;
	}
}

/*
 * Block devices: zeroing and discarding are ioctls, and synchronous — the reactor waits
 * for the device.  Acceptable for now (they are rare, and a fast device answers quickly);
 * the way out is IORING_OP_URING_CMD with BLOCK_URING_CMD_DISCARD (Linux 6.12) and
 * fallocate(FALLOC_FL_ZERO_RANGE) on the device through the ring.
 */
static int blk_ioctl(struct nvmf_bdev *b, struct nvmf_bdev_io *io)
{
	uint64_t range[2] = { io->offset, io->len };
	unsigned long req = io->op == NVMF_BIO_DISCARD ? BLKDISCARD : BLKZEROOUT;

	if (ioctl(b->fd, req, range) == 0)
		return 0;
	if (io->op == NVMF_BIO_DISCARD && errno == EOPNOTSUPP)
		return 0;
	return -errno;
}

static void file_submit(struct nvmf_bdev *b, struct nvmf_reactor *r, struct nvmf_bdev_io *io)
{
	struct file_bdev *fb = container_of(b, struct file_bdev, b);
	struct io_uring_sqe *sqe;
	int rc = nvmf_bdev_check(b, io);

	if (rc) {
		io->done(io, rc);
		return;
	}
	if (io->len == 0 && io->op != NVMF_BIO_FLUSH) {
		io->done(io, 0);
		return;
	}
	io->ev.fn = file_event;
	switch (io->op) {
	case NVMF_BIO_READ:
	case NVMF_BIO_WRITE:
		rw_submit(r, io);
		break;
	case NVMF_BIO_FLUSH:
		sqe = nvmf_reactor_sqe(r, &io->ev);
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		break;
	case NVMF_BIO_WRITE_ZEROES:
		if (b->is_blockdev) {
			zero_done(r, io, blk_ioctl(b, io));
			break;
		}
		io->stage = atomic_load(&fb->zero_mode);
		zero_submit(r, io);
		break;
	case NVMF_BIO_DISCARD:
		if (b->is_blockdev) {
			io->done(io, blk_ioctl(b, io));
			break;
		}
		if (atomic_load(&fb->no_punch)) {
			io->done(io, 0);
			break;
		}
		sqe = nvmf_reactor_sqe(r, &io->ev);
		io_uring_prep_fallocate(sqe, b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					(off_t)io->offset, (off_t)io->len);
		break;
	}
}

static void file_close(struct nvmf_bdev *b)
{
	struct file_bdev *fb = container_of(b, struct file_bdev, b);

	if (b->fd >= 0)
		close(b->fd);
	free(b->path);
	free(fb);
}

/* Shutdown, reactors gone: what was written reaches stable storage before exit. */
static int file_flush(struct nvmf_bdev *b)
{
	if (b->fd < 0 || b->read_only)
		return 0;
	return fdatasync(b->fd) < 0 ? -errno : 0;
}

static const struct nvmf_bdev_ops file_ops = {
	.name = "file",
	.submit = file_submit,
	.flush = file_flush,
	.close = file_close,
};

/* Opens with O_DIRECT if *direct, and without it when the file system refuses it. */
static int open_maybe_direct(const char *path, int flags, bool *direct)
{
	int fd = open(path, flags | (*direct ? O_DIRECT : 0), 0600);

	if (fd < 0 && errno == EINVAL && *direct) {
		fd = open(path, flags, 0600);
		if (fd >= 0) {
			*direct = false;
			log_warn("%s: O_DIRECT is not supported here, using buffered I/O", path);
		}
	}
	return fd;
}

/* First line of a queue attribute of a block device (or of a partition's disk). */
static int blk_queue_attr(dev_t rdev, const char *attr, char *buf, size_t len)
{
	static const char *const up[] = { "", "../" };

	for (size_t i = 0; i < sizeof(up) / sizeof(up[0]); i++) {
		char path[128];
		FILE *f;

		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%squeue/%s", major(rdev),
			 minor(rdev), up[i], attr);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (!fgets(buf, (int)len, f)) {
			fclose(f);
			continue;
		}
		fclose(f);
		return 0;
	}
	return -ENOENT;
}

static int open_blockdev(struct nvmf_bdev *b, const struct nvmf_bdev_params *p,
			 const struct stat *st, char *err, size_t errlen)
{
	uint64_t devsize;
	int lbs, ro = 0;
	char attr[64];
	int rc;

	if (ioctl(b->fd, BLKGETSIZE64, &devsize) || ioctl(b->fd, BLKSSZGET, &lbs)) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot get the device's size: %s", p->path,
			 strerror(-rc));
		return rc;
	}
	/* a read-only device opens for writing all the same; its writes fail with EPERM */
	if (ioctl(b->fd, BLKROGET, &ro) == 0 && ro)
		b->read_only = true;
	if (p->block_size == 0) {
		b->block_size = (uint32_t)lbs;
	} else if (p->block_size < (uint32_t)lbs ||
		   nvmf_bdev_check_block_size(p->block_size, 0, &b->block_size, err, errlen)) {
		snprintf(err, errlen, "%s: block size %u is not possible, the device's is %d",
			 p->path, p->block_size, lbs);
		return -EINVAL;
	}
	if (p->size > devsize) {
		snprintf(err, errlen, "%s: size %llu is larger than the device (%llu)", p->path,
			 (unsigned long long)p->size, (unsigned long long)devsize);
		return -EINVAL;
	}
	if (p->size % b->block_size) {
		snprintf(err, errlen, "size %llu is not a multiple of %u",
			 (unsigned long long)p->size, b->block_size);
		return -EINVAL;
	}
	/* a device whose size is not a multiple of the block: the tail is left out */
	b->size = p->size ? p->size : devsize / b->block_size * b->block_size;
	if (b->size == 0) {
		snprintf(err, errlen, "%s: the device is empty", p->path);
		return -EINVAL;
	}
	b->is_blockdev = true;
	b->has_discard = blk_queue_attr(st->st_rdev, "discard_max_bytes", attr,
					sizeof(attr)) != 0 || strtoull(attr, NULL, 10) > 0;
	b->write_cache = blk_queue_attr(st->st_rdev, "write_cache", attr, sizeof(attr)) != 0 ||
			 strncmp(attr, "write back", 10) == 0;
	return 0;
}

static int open_regular(struct nvmf_bdev *b, const struct nvmf_bdev_params *p,
			const struct stat *st, char *err, size_t errlen)
{
	uint32_t dflt = 512;
	int rc;

	if (b->direct) {
		/* as nvmet: the file system's block, at most 4 KiB */
		dflt = st->st_blksize < 512 ? 512 : st->st_blksize > 4096 ? 4096 :
			(uint32_t)st->st_blksize;
		if (dflt & (dflt - 1))
			dflt = 4096;
	}
	rc = nvmf_bdev_check_block_size(p->block_size, dflt, &b->block_size, err, errlen);
	if (rc)
		return rc;
	if (p->size) {
		if (p->size % b->block_size) {
			snprintf(err, errlen, "size %llu is not a multiple of %u",
				 (unsigned long long)p->size, b->block_size);
			return -EINVAL;
		}
		if ((uint64_t)st->st_size < p->size) {
			if (b->read_only) {
				snprintf(err, errlen, "%s: read-only, cannot extend it to %llu bytes",
					 p->path, (unsigned long long)p->size);
				return -EROFS;
			}
			if (ftruncate(b->fd, (off_t)p->size)) {
				rc = -errno;
				snprintf(err, errlen, "%s: cannot extend to %llu bytes: %s", p->path,
					 (unsigned long long)p->size, strerror(-rc));
				return rc;
			}
		}
		b->size = p->size;
	} else {
		/* a tail smaller than a block is not addressable: leave it out */
		b->size = (uint64_t)st->st_size / b->block_size * b->block_size;
		if (b->size == 0) {
			snprintf(err, errlen, "%s: smaller than one block (%u bytes); give a size",
				 p->path, b->block_size);
			return -EINVAL;
		}
	}
	b->has_discard = true;
	b->write_cache = true;  /* the page cache, or the disk's under O_DIRECT */
	return 0;
}

int nvmf_bdev_file_open(const struct nvmf_bdev_params *p, struct nvmf_bdev **out, char *err,
			size_t errlen)
{
	struct file_bdev *fb;
	struct nvmf_bdev *b;
	struct stat st;
	int flags = O_RDWR | O_CLOEXEC;
	int rc;

	if (!p->path || !p->path[0]) {
		snprintf(err, errlen, "file: a path is needed");
		return -EINVAL;
	}
	fb = calloc(1, sizeof(*fb));
	if (!fb) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	b = &fb->b;
	b->ops = &file_ops;
	b->kind = NVMF_BDEV_FILE;
	b->fd = -1;
	atomic_init(&fb->zero_mode, ZERO_BY_ZERO_RANGE);
	atomic_init(&fb->no_punch, false);

	/* with a size, a missing file is created (but not a mistyped device node in /dev) */
	if (p->size && strncmp(p->path, "/dev/", 5) != 0)
		flags |= O_CREAT;
	b->direct = !p->buffered;
	b->fd = open_maybe_direct(p->path, flags, &b->direct);
	/* read-only file system, no write permission, immutable file: serve it read-only */
	if (b->fd < 0 && (errno == EROFS || errno == EACCES || errno == EPERM)) {
		b->direct = !p->buffered;
		b->fd = open_maybe_direct(p->path, O_RDONLY | O_CLOEXEC, &b->direct);
		b->read_only = true;
	}
	if (b->fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", p->path, strerror(-rc));
		goto fail;
	}
	if (fstat(b->fd, &st)) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", p->path, strerror(-rc));
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		rc = open_blockdev(b, p, &st, err, errlen);
	} else if (S_ISREG(st.st_mode)) {
		rc = open_regular(b, p, &st, err, errlen);
	} else {
		snprintf(err, errlen, "%s: not a regular file or a block device", p->path);
		rc = -EINVAL;
	}
	if (rc)
		goto fail;
	b->path = strdup(p->path);
	if (!b->path) {
		snprintf(err, errlen, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	*out = b;
	return 0;
fail:
	if (b->fd >= 0)
		close(b->fd);
	free(fb);
	return rc;
}
