/*
 * Backends (src/backend): every test runs against every kind — ram (512 and 4096 byte
 * blocks), null, a buffered file, an O_DIRECT file, a file on tmpfs, a loop block device —
 * with a reactor in the test thread.  A shadow copy of the device ("model") is kept by the
 * test and the whole device is read back and compared at the end of each test, so a write
 * that lands in the wrong place is caught too.  Then the file-only paths: short transfers,
 * EOF, read-only files and devices, creating/extending files, the O_DIRECT fallback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/loop.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/bdev.h"

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

#define DEV_SIZE (8u << 20)
#define KIB 1024u
#define MIB (1024u * 1024u)
#define MAX_IOV 64

/* ---- the reactor the tests run on, and one request with its completion record ---- */

static struct nvmf_reactor R;
static int pending;           /* submitted, not yet done */
static bool in_submit;        /* nvmf_bdev_submit() is on the stack */
static bool timed_out;
static struct nvmf_timer watchdog;

struct tio {
	struct nvmf_bdev_io io;
	int calls;                /* done() calls: must end at exactly 1 */
	int res;
	bool done_in_submit;
};

static void tio_done(struct nvmf_bdev_io *io, int res)
{
	struct tio *t = container_of(io, struct tio, io);

	t->calls++;
	t->res = res;
	t->done_in_submit = in_submit;
	if (--pending == 0)
		nvmf_reactor_stop(&R);
}

static void watchdog_fn(struct nvmf_timer *t)
{
	(void)t;
	timed_out = true;
	nvmf_reactor_stop(&R);
}

static void tio_prep(struct tio *t, enum nvmf_bdev_op op, uint64_t off, uint64_t len,
		     struct iovec *iov, int iovcnt, bool fua)
{
	memset(t, 0, sizeof(*t));
	t->io.op = op;
	t->io.offset = off;
	t->io.len = len;
	t->io.iov = iov;
	t->io.iovcnt = iovcnt;
	t->io.fua = fua;
	t->io.done = tio_done;
	t->res = INT_MIN;
}

static void tio_submit(struct nvmf_bdev *b, struct tio *t)
{
	pending++;
	in_submit = true;
	nvmf_bdev_submit(b, &R, &t->io);
	in_submit = false;
}

/* Runs the reactor until every submitted request is done (or 30 s pass: a failure). */
static void wait_all(void)
{
	if (pending > 0) {
		timed_out = false;
		watchdog.fn = watchdog_fn;
		nvmf_timer_arm(&R, &watchdog, 30ull * 1000000000ull);
		atomic_store(&R.stopping, false);
		nvmf_reactor_run(&R);
		nvmf_timer_cancel(&R, &watchdog);
		assert_false(timed_out);
	}
	assert_int_equal(pending, 0);
}

static int do_io(struct nvmf_bdev *b, struct tio *t, enum nvmf_bdev_op op, uint64_t off,
		 uint64_t len, struct iovec *iov, int iovcnt, bool fua)
{
	tio_prep(t, op, off, len, iov, iovcnt, fua);
	tio_submit(b, t);
	wait_all();
	assert_int_equal(t->calls, 1);
	return t->res;
}

/* ---- data patterns and iovec layouts ---- */

/* The byte at device position pos for a write with this seed: misplaced data shows. */
static uint8_t pat(uint64_t pos, unsigned seed)
{
	uint64_t x = (pos + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)seed << 32);

	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	return (uint8_t)(x >> 40);
}

static void fill(uint8_t *buf, uint64_t len, uint64_t pos, unsigned seed)
{
	for (uint64_t i = 0; i < len; i++)
		buf[i] = pat(pos + i, seed);
}

static uint8_t *abuf(uint64_t len)
{
	uint8_t *p = aligned_alloc(4096, (len + 4095) / 4096 * 4096 + 4096);

	assert_non_null(p);
	return p;
}

/*
 * Cuts buf into iovecs of irregular sizes, each a multiple of g (the O_DIRECT granularity,
 * 1 when there is none); style shifts the sequence so reads and writes cut differently.
 */
static int split(uint8_t *buf, uint64_t len, uint64_t g, unsigned style, struct iovec *iov,
		 int max)
{
	static const uint64_t sizes[] = { 1000, 7, 8195, 333, 65536, 1, 12345, 4096 };
	uint64_t pos = 0;
	int n = 0;

	while (pos < len) {
		uint64_t s = sizes[(n + style) % (sizeof(sizes) / sizeof(sizes[0]))];

		s = (s + g - 1) / g * g;
		if (s > len - pos || n == max - 1)
			s = len - pos;
		iov[n].iov_base = buf + pos;
		iov[n].iov_len = s;
		pos += s;
		n++;
	}
	return n;
}

static void assert_same(const uint8_t *got, const uint8_t *want, uint64_t len, uint64_t pos)
{
	if (memcmp(got, want, len) != 0) {
		uint64_t i = 0;

		while (got[i] == want[i])
			i++;
		fail_msg("data differs at device byte %llu: got 0x%02x, want 0x%02x",
			 (unsigned long long)(pos + i), got[i], want[i]);
	}
}

/* ---- the backends under test ---- */

struct variant {
	const char *name;
	enum nvmf_bdev_kind kind;
	uint32_t block_size;
	const char *dir;          /* file: where its temporary file goes */
	bool buffered;
	bool loop;                /* a loop block device over a temporary file */
	bool prealloc;            /* ram: all of it reserved at open */
	bool lazy;                /* ram: no background population (--ram-lazy) */
};

static const struct variant variants[] = {
	{ "ram", NVMF_BDEV_RAM, 0, NULL, false, false, false, true },
	{ "ram4k", NVMF_BDEV_RAM, 4096, NULL, false, false, false, true },
	/* the default: populated in the background while the tests' I/O runs */
	{ "ram-fill", NVMF_BDEV_RAM, 0, NULL, false, false },
	{ "ram-prealloc", NVMF_BDEV_RAM, 0, NULL, false, false, true },
	{ "null", NVMF_BDEV_NULL, 0, NULL, false, false },
	{ "file-buffered", NVMF_BDEV_FILE, 0, "/var/tmp", true, false },
	{ "file-direct", NVMF_BDEV_FILE, 0, "/var/tmp", false, false },
	{ "file-tmpfs", NVMF_BDEV_FILE, 0, "/dev/shm", false, false },
	{ "blockdev-loop", NVMF_BDEV_FILE, 0, "/var/tmp", false, true },
};

struct fx {
	const struct variant *v;
	struct nvmf_bdev *b;
	uint8_t *model;           /* what the device must hold */
	char path[PATH_MAX];      /* the file, or the loop device's backing file */
	char dev[64];             /* the loop device */
	int loop_fd;              /* held open: the loop device detaches at its last close */
	bool skip;
	char why[160];
};

static int make_temp(const char *dir, uint64_t size, char *path, size_t len)
{
	int fd;

	snprintf(path, len, "%s/nvmf-bdev-test-XXXXXX", dir);
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	if (size && ftruncate(fd, (off_t)size)) {
		int rc = -errno;

		close(fd);
		unlink(path);
		return rc;
	}
	close(fd);
	return 0;
}

/* Binds a loop device to file; returns its fd (keep it open) or -errno. */
static int loop_attach(const char *file, bool ro, char *dev, size_t devlen)
{
	int ctl, bfd, rc = -EBUSY;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return -errno;
	bfd = open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (bfd < 0) {
		rc = -errno;
		close(ctl);
		return rc;
	}
	/* another process may take the free device first: try again */
	for (int tries = 0; tries < 16 && rc == -EBUSY; tries++) {
		struct loop_config cfg;
		int n = ioctl(ctl, LOOP_CTL_GET_FREE), lfd;

		if (n < 0) {
			rc = -errno;
			break;
		}
		snprintf(dev, devlen, "/dev/loop%d", n);
		lfd = open(dev, O_RDWR | O_CLOEXEC);
		if (lfd < 0) {
			rc = -errno;
			break;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (uint32_t)bfd;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (ro ? LO_FLAGS_READ_ONLY : 0);
		if (ioctl(lfd, LOOP_CONFIGURE, &cfg) == 0) {
			rc = lfd;
			break;
		}
		rc = -errno;
		close(lfd);
	}
	close(bfd);
	close(ctl);
	return rc;
}

/* How many 4 KiB pages of [mem, mem + len) are in memory. */
static size_t resident_pages(const uint8_t *mem, size_t len)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n = len / pg, in = 0;
	unsigned char *vec = malloc(n);

	assert_non_null(vec);
	assert_int_equal(mincore((void *)mem, len, vec), 0);
	for (size_t i = 0; i < n; i++)
		in += vec[i] & 1;
	free(vec);
	return in * (pg / 4096);
}

static int fx_setup(void **state)
{
	const struct variant *v = *state;
	struct nvmf_bdev_params p = { .kind = v->kind, .size = DEV_SIZE,
				      .block_size = v->block_size, .buffered = v->buffered,
				      .prealloc = v->prealloc, .lazy = v->lazy };
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	int rc;

	assert_non_null(f);
	f->v = v;
	f->loop_fd = -1;
	*state = f;
	f->model = calloc(1, DEV_SIZE);
	assert_non_null(f->model);
	if (v->dir) {
		rc = make_temp(v->dir, DEV_SIZE, f->path, sizeof(f->path));
		if (rc) {
			snprintf(f->why, sizeof(f->why), "%s: %s", v->dir, strerror(-rc));
			f->skip = true;
			return 0;
		}
		p.path = f->path;
	}
	if (v->loop) {
		rc = loop_attach(f->path, false, f->dev, sizeof(f->dev));
		if (rc < 0) {
			snprintf(f->why, sizeof(f->why), "no loop device: %s", strerror(-rc));
			f->skip = true;
			return 0;
		}
		f->loop_fd = rc;
		p.path = f->dev;
		p.size = 0;
	}
	rc = nvmf_bdev_open(&p, &f->b, err, sizeof(err));
	if (f->path[0]) {
		/* the open fds keep it: nothing is left behind even if the test fails */
		unlink(f->path);
		f->path[0] = 0;
	}
	if (rc)
		fail_msg("open %s: %s", v->name, err);
	assert_int_equal(f->b->size, DEV_SIZE);
	assert_int_equal(f->b->kind, v->kind);
	assert_int_equal(f->b->is_blockdev, v->loop);
	if (v->loop) {
		assert_true(f->b->direct);
		assert_int_equal(f->b->block_size, 512);
	}
	if (v->buffered)
		assert_false(f->b->direct);
	assert_int_equal(f->b->prealloc, v->prealloc);
	if (v->prealloc)
		assert_true(resident_pages(f->b->mem, DEV_SIZE) == DEV_SIZE / 4096);
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	nvmf_bdev_close(f->b);
	if (f->loop_fd >= 0)
		close(f->loop_fd);
	free(f->model);
	free(f);
	return 0;
}

static struct fx *fx_get(void **state)
{
	struct fx *f = *state;

	if (f->skip) {
		print_message("skipped: %s\n", f->why);
		skip();
	}
	return f;
}

static bool stores(const struct fx *f)
{
	return f->v->kind != NVMF_BDEV_NULL;
}

static uint64_t gran(const struct fx *f)
{
	return f->b->direct ? f->b->block_size : 1;
}

static bool sync_kind(const struct fx *f)
{
	return f->v->kind == NVMF_BDEV_RAM || f->v->kind == NVMF_BDEV_NULL;
}

static void dev_write(struct fx *f, uint64_t off, uint64_t len, unsigned style, unsigned seed,
		      bool fua)
{
	struct iovec iov[MAX_IOV];
	uint8_t *buf = abuf(len);
	int n = split(buf, len, gran(f), style, iov, MAX_IOV);
	struct tio t;

	fill(buf, len, off, seed);
	assert_int_equal(do_io(f->b, &t, NVMF_BIO_WRITE, off, len, iov, n, fua), 0);
	/* ram and null complete inside submit (the fast path); files never do */
	assert_int_equal(t.done_in_submit, sync_kind(f));
	if (stores(f))
		memcpy(f->model + off, buf, len);
	free(buf);
}

static void dev_check(struct fx *f, uint64_t off, uint64_t len, unsigned style)
{
	struct iovec iov[MAX_IOV];
	uint8_t *buf = abuf(len);
	int n = split(buf, len, gran(f), style, iov, MAX_IOV);
	struct tio t;

	memset(buf, 0xa5, len);
	assert_int_equal(do_io(f->b, &t, NVMF_BIO_READ, off, len, iov, n, false), 0);
	assert_same(buf, f->model + off, len, off);
	free(buf);
}

static void check_all(struct fx *f)
{
	for (uint64_t off = 0; off < DEV_SIZE; off += MIB)
		dev_check(f, off, MIB, 3);
}

static void dev_op(struct fx *f, enum nvmf_bdev_op op, uint64_t off, uint64_t len)
{
	struct tio t;

	assert_int_equal(do_io(f->b, &t, op, off, len, NULL, 0, false), 0);
	if (op == NVMF_BIO_WRITE_ZEROES || op == NVMF_BIO_DISCARD)
		memset(f->model + off, 0, len);
}

/* ---- tests run on every backend ---- */

static void test_rw_patterns(void **state)
{
	struct fx *f = fx_get(state);
	uint64_t bs = f->b->block_size, nblk = DEV_SIZE / bs;
	const struct { uint64_t blk, n; } spots[] = {
		{ 0, 1 }, { 1, 3 }, { 7, 9 }, { 33, 64 }, { 100, 300 }, { nblk - 9, 9 },
		{ nblk - 1, 1 }, { 5, 2 },  /* overlaps an earlier write */
	};

	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++)
		dev_write(f, spots[i].blk * bs, spots[i].n * bs, (unsigned)i, (unsigned)i + 1,
			  false);
	for (size_t i = 0; i < sizeof(spots) / sizeof(spots[0]); i++)
		dev_check(f, spots[i].blk * bs, spots[i].n * bs, (unsigned)i + 2);
	check_all(f);
}

static void test_fua_write(void **state)
{
	struct fx *f = fx_get(state);
	uint64_t bs = f->b->block_size;

	dev_write(f, 16 * bs, 24 * bs, 1, 77, true);
	dev_write(f, 17 * bs, 1 * bs, 2, 78, true);
	check_all(f);
}

static void test_flush(void **state)
{
	struct fx *f = fx_get(state);
	struct tio t;

	assert_int_equal(do_io(f->b, &t, NVMF_BIO_FLUSH, 0, 0, NULL, 0, false), 0);
	dev_write(f, 0, 64 * KIB, 0, 5, false);
	assert_int_equal(do_io(f->b, &t, NVMF_BIO_FLUSH, 0, 0, NULL, 0, false), 0);
	/* the synchronous flush of shutdown, through the ops table as well */
	dev_write(f, 64 * KIB, 64 * KIB, 1, 6, false);
	assert_int_equal(nvmf_bdev_flush(f->b), 0);
	check_all(f);
}

/*
 * A large range whose ends are not page-aligned (ram: pages dropped, edges cleared), and a
 * small one inside written data.
 */
static void zero_ranges(void **state, enum nvmf_bdev_op op)
{
	struct fx *f = fx_get(state);
	uint64_t bs = f->b->block_size;

	dev_write(f, 0, 3 * MIB, 1, 9, false);
	dev_op(f, op, 3 * bs, 1 * MIB + 6 * bs);    /* 512: neither end on a page */
	dev_op(f, op, 2 * MIB + 7 * bs, 2 * bs);
	dev_op(f, op, DEV_SIZE - 4 * bs, 4 * bs);   /* never written: zero stays zero */
	if (f->v->kind == NVMF_BDEV_RAM && f->v->lazy) {
		/* the whole pages inside the large range were given back (before reading
		 * them maps the zero page in); with background population they may be
		 * faulted in again at once, zeroed (see ram_fill_thread) */
		assert_int_equal(resident_pages(f->b->mem + 64 * KIB, 16 * KIB), 0);
	} else if (f->v->prealloc) {
		/* reserved memory stays: zeroed in place, no fault on the next write */
		assert_int_equal(resident_pages(f->b->mem, DEV_SIZE), DEV_SIZE / 4096);
	}
	check_all(f);
	/* and the range can be written again */
	dev_write(f, 4 * bs, 8 * bs, 2, 10, false);
	check_all(f);
}

static void test_write_zeroes(void **state)
{
	zero_ranges(state, NVMF_BIO_WRITE_ZEROES);
}

static void test_discard(void **state)
{
	/* every backend here reads zeroes after deallocation (ext4/tmpfs holes, loop) */
	zero_ranges(state, NVMF_BIO_DISCARD);
}

static void test_out_of_range(void **state)
{
	struct fx *f = fx_get(state);
	uint64_t bs = f->b->block_size, size = f->b->size;
	uint8_t *buf = abuf(2 * bs);
	struct iovec iov = { buf, bs }, iov2 = { buf, 2 * bs };
	struct tio t;

	assert_int_equal(do_io(f->b, &t, NVMF_BIO_READ, size, bs, &iov, 1, false), -EINVAL);
	assert_int_equal(do_io(f->b, &t, NVMF_BIO_WRITE, size - bs, 2 * bs, &iov2, 1, false),
			 -EINVAL);
	assert_int_equal(do_io(f->b, &t, NVMF_BIO_READ, UINT64_MAX - bs + 1, bs, &iov, 1, false),
			 -EINVAL);
	assert_int_equal(do_io(f->b, &t, NVMF_BIO_WRITE_ZEROES, size - bs, 2 * bs, NULL, 0,
			       false), -EINVAL);
	assert_int_equal(do_io(f->b, &t, NVMF_BIO_DISCARD, size, bs, NULL, 0, false), -EINVAL);
	/* the iovs do not add up to len */
	assert_int_equal(do_io(f->b, &t, NVMF_BIO_WRITE, 0, 2 * bs, &iov, 1, false), -EINVAL);
	assert_int_equal(do_io(f->b, &t, (enum nvmf_bdev_op)99, 0, bs, &iov, 1, false), -EINVAL);
	/* the last block is in range */
	memset(buf, 0, bs);
	assert_int_equal(do_io(f->b, &t, NVMF_BIO_READ, size - bs, bs, &iov, 1, false), 0);
	free(buf);
	check_all(f);
}

/* 256 requests in flight at once (more than the ring holds), each its own data. */
static void test_many_inflight(void **state)
{
	enum { N = 256 };
	struct fx *f = fx_get(state);
	uint64_t bs = f->b->block_size, len = 2 * bs;
	struct tio *t = calloc(N, sizeof(*t));
	struct iovec (*iov)[2] = calloc(N, sizeof(*iov));
	uint8_t *buf = abuf(N * len);

	assert_non_null(t);
	assert_non_null(iov);
	for (int i = 0; i < N; i++) {
		/* spread over the device, interleaved so neighbours are written by others */
		uint64_t off = (uint64_t)((i * 37) % N) * len * 2;

		fill(buf + i * len, len, off, 1000 + (unsigned)i);
		iov[i][0] = (struct iovec){ buf + i * len, bs };
		iov[i][1] = (struct iovec){ buf + i * len + bs, bs };
		tio_prep(&t[i], NVMF_BIO_WRITE, off, len, iov[i], 2, i % 5 == 0);
		tio_submit(f->b, &t[i]);
		if (stores(f))
			memcpy(f->model + off, buf + i * len, len);
	}
	wait_all();
	for (int i = 0; i < N; i++) {
		assert_int_equal(t[i].calls, 1);
		assert_int_equal(t[i].res, 0);
	}
	memset(buf, 0x5a, N * len);
	for (int i = 0; i < N; i++) {
		uint64_t off = (uint64_t)((i * 37) % N) * len * 2;

		tio_prep(&t[i], NVMF_BIO_READ, off, len, iov[i], 2, false);
		tio_submit(f->b, &t[i]);
	}
	wait_all();
	for (int i = 0; i < N; i++) {
		uint64_t off = (uint64_t)((i * 37) % N) * len * 2;

		assert_int_equal(t[i].calls, 1);
		assert_int_equal(t[i].res, 0);
		assert_same(buf + i * len, f->model + off, len, off);
	}
	free(buf);
	free(iov);
	free(t);
	check_all(f);
}

/* ---- open: errors and how files are sized ---- */

static void expect_open_error(const struct nvmf_bdev_params *p, int want, const char *msg)
{
	struct nvmf_bdev *b = (struct nvmf_bdev *)1;
	char err[256] = "";

	assert_int_equal(nvmf_bdev_open(p, &b, err, sizeof(err)), want);
	assert_null(b);
	if (!strstr(err, msg))
		fail_msg("error \"%s\" does not say \"%s\"", err, msg);
}

static void test_open_errors(void **state)
{
	char path[PATH_MAX];

	(void)state;
	expect_open_error(&(struct nvmf_bdev_params){ .kind = NVMF_BDEV_RAM, .size = 1000 },
			  -EINVAL, "size 1000 is not a multiple of 512");
	expect_open_error(&(struct nvmf_bdev_params){ .kind = NVMF_BDEV_RAM, .size = 0 },
			  -EINVAL, "size");
	expect_open_error(&(struct nvmf_bdev_params){ .kind = NVMF_BDEV_NULL, .size = 4096,
						      .block_size = 1000 },
			  -EINVAL, "block size 1000");
	expect_open_error(&(struct nvmf_bdev_params){ .kind = NVMF_BDEV_RAM, .size = 4096,
						      .block_size = 8192 },
			  -EINVAL, "block size 8192");
	expect_open_error(&(struct nvmf_bdev_params){ .kind = NVMF_BDEV_FILE,
						      .path = "/nonexistent/nvmf/x" },
			  -ENOENT, "/nonexistent/nvmf/x: No such file or directory");
	expect_open_error(&(struct nvmf_bdev_params){ .kind = NVMF_BDEV_FILE }, -EINVAL,
			  "path");
	expect_open_error(&(struct nvmf_bdev_params){ .kind = NVMF_BDEV_FILE, .path = "/tmp" },
			  -EISDIR, "/tmp: Is a directory");
	expect_open_error(&(struct nvmf_bdev_params){ .kind = NVMF_BDEV_FILE,
						      .path = "/dev/null", .buffered = true },
			  -EINVAL, "not a regular file or a block device");
	/* a file too small for one block, and a size that is not a whole number of blocks */
	assert_int_equal(make_temp("/var/tmp", 100, path, sizeof(path)), 0);
	expect_open_error(&(struct nvmf_bdev_params){ .kind = NVMF_BDEV_FILE, .path = path,
						      .buffered = true },
			  -EINVAL, "smaller than one block");
	expect_open_error(&(struct nvmf_bdev_params){ .kind = NVMF_BDEV_FILE, .path = path,
						      .buffered = true, .size = 1000 },
			  -EINVAL, "size 1000 is not a multiple of 512");
	unlink(path);
	expect_open_error(&(struct nvmf_bdev_params){ .kind = NVMF_BDEV_NULL + 7 }, -EINVAL,
			  "kind");
}

static void test_file_create_extend(void **state)
{
	struct nvmf_bdev_params p = { .kind = NVMF_BDEV_FILE, .buffered = true };
	struct nvmf_bdev *b;
	char path[PATH_MAX], err[256];
	struct stat st;
	int fd;

	(void)state;
	/* missing file with a size: created, private, that size */
	assert_int_equal(make_temp("/var/tmp", 0, path, sizeof(path)), 0);
	unlink(path);
	p.path = path;
	p.size = 1 * MIB;
	assert_int_equal(nvmf_bdev_open(&p, &b, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 1 * MIB);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(b->size, 1 * MIB);
	assert_int_equal(b->block_size, 512);
	assert_false(b->direct);
	assert_false(b->read_only);
	assert_non_null(b->path);
	assert_string_equal(b->path, path);
	nvmf_bdev_close(b);

	/* smaller than asked: extended */
	p.size = 3 * MIB;
	assert_int_equal(nvmf_bdev_open(&p, &b, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3 * MIB);
	nvmf_bdev_close(b);

	/* larger than asked: the namespace is the size asked, the file is left alone */
	p.size = 1 * MIB;
	assert_int_equal(nvmf_bdev_open(&p, &b, err, sizeof(err)), 0);
	assert_int_equal(b->size, 1 * MIB);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3 * MIB);
	nvmf_bdev_close(b);

	/* no size: the file's, down to whole blocks */
	fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 3 * 4096 + 1000), 0);
	close(fd);
	p.size = 0;
	assert_int_equal(nvmf_bdev_open(&p, &b, err, sizeof(err)), 0);
	assert_int_equal(b->size, 3 * 4096 + 512);
	nvmf_bdev_close(b);

	/* O_DIRECT on a real file system: the file system's block, at most 4 KiB */
	p.buffered = false;
	assert_int_equal(nvmf_bdev_open(&p, &b, err, sizeof(err)), 0);
	if (b->direct) {
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(b->block_size, st.st_blksize > 4096 ? 4096 : st.st_blksize);
		assert_int_equal(b->size % b->block_size, 0);
		assert_int_equal(nvmf_bdev_buf_align(b), 4096);
	}
	nvmf_bdev_close(b);

	/* an explicit block size wins */
	p.block_size = 4096;
	p.buffered = true;
	assert_int_equal(nvmf_bdev_open(&p, &b, err, sizeof(err)), 0);
	assert_int_equal(b->block_size, 4096);
	assert_int_equal(b->size, 3 * 4096);
	assert_int_equal(nvmf_bdev_buf_align(b), 1);
	nvmf_bdev_close(b);
	unlink(path);
}

/* ---- short transfers: the first completion is made short, then the cause removed ---- */

struct hook {
	void (*orig)(struct nvmf_event *ev, int res, uint32_t flags);
	int calls;
	int first_res;
	void (*fix)(void);
};

static struct hook H;

static void hook_fn(struct nvmf_event *ev, int res, uint32_t flags)
{
	if (H.calls++ == 0) {
		H.first_res = res;
		if (H.fix)
			H.fix();
	}
	H.orig(ev, res, flags);
}

static void hook_install(struct tio *t, void (*fix)(void))
{
	/* only while the request is in the ring: the backend set ev.fn in submit */
	assert_int_equal(t->calls, 0);
	memset(&H, 0, sizeof(H));
	H.orig = t->io.ev.fn;
	H.fix = fix;
	t->io.ev.fn = hook_fn;
}

/*
 * Write Zeroes with FUA (NVMe: CDW12 bit 30, as Write): the zeroes -- an fallocate, a
 * BLKZEROOUT, or writes -- must be durable before completion, so the file backend syncs
 * the data (fdatasync) after zeroing.  The sync shows here as one more operation through
 * the ring than the same Write Zeroes without FUA takes; ram and null have nothing to sync.
 * Returns the ring operations the request took (0: done inside submit).
 */
static int zero_ring_ops(struct fx *f, uint64_t off, uint64_t len, bool fua)
{
	struct tio t;

	tio_prep(&t, NVMF_BIO_WRITE_ZEROES, off, len, NULL, 0, fua);
	tio_submit(f->b, &t);
	if (t.calls == 0) {
		hook_install(&t, NULL);
		wait_all();
	} else {
		H.calls = 0;
	}
	assert_int_equal(t.calls, 1);
	assert_int_equal(t.res, 0);
	if (stores(f))
		memset(f->model + off, 0, len);
	return H.calls;
}

static void test_write_zeroes_fua(void **state)
{
	struct fx *f = fx_get(state);
	uint64_t bs = f->b->block_size;
	int plain, fua;

	dev_write(f, 0, 1 * MIB, 1, 21, false);
	/* the first Write Zeroes of a file learns which fallocate mode works: not counted */
	dev_op(f, NVMF_BIO_WRITE_ZEROES, 0, bs);
	plain = zero_ring_ops(f, 8 * bs, 64 * bs, false);
	fua = zero_ring_ops(f, 128 * bs, 64 * bs, true);
	check_all(f);
	assert_int_equal(fua, plain + (f->v->kind == NVMF_BDEV_FILE));
}

#define SHORT_FILE (1 * MIB)
#define SHORT_LEN (192 * KIB)
static int short_fd = -1;
static uint8_t *short_data;   /* the file's contents */

static void refill_file(void)
{
	/* put back what the truncation removed */
	assert_int_equal(ftruncate(short_fd, SHORT_FILE), 0);
	assert_int_equal(pwrite(short_fd, short_data, SHORT_FILE, 0), SHORT_FILE);
}

static struct nvmf_bdev *short_open(char *path, size_t len)
{
	struct nvmf_bdev_params p = { .kind = NVMF_BDEV_FILE, .buffered = true };
	struct nvmf_bdev *b;
	char err[256];

	assert_int_equal(make_temp("/var/tmp", 0, path, len), 0);
	short_fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(short_fd >= 0);
	short_data = malloc(SHORT_FILE);
	assert_non_null(short_data);
	fill(short_data, SHORT_FILE, 0, 31);
	assert_int_equal(pwrite(short_fd, short_data, SHORT_FILE, 0), SHORT_FILE);
	p.path = path;
	assert_int_equal(nvmf_bdev_open(&p, &b, err, sizeof(err)), 0);
	unlink(path);
	return b;
}

static void short_close(struct nvmf_bdev *b)
{
	nvmf_bdev_close(b);
	close(short_fd);
	short_fd = -1;
	free(short_data);
}

/* iovs of 50000, 80000 and 66608 bytes over a 192 KiB read at offset 0 */
static int short_iov(uint8_t *buf, struct iovec *iov)
{
	iov[0] = (struct iovec){ buf, 50000 };
	iov[1] = (struct iovec){ buf + 50000, 80000 };
	iov[2] = (struct iovec){ buf + 130000, SHORT_LEN - 130000 };
	return 3;
}

static void short_read(uint64_t cut, void (*fix)(void), int want, int completions)
{
	char path[PATH_MAX];
	struct nvmf_bdev *b = short_open(path, sizeof(path));
	uint8_t *buf = abuf(SHORT_LEN);
	struct iovec iov[3];
	int n = short_iov(buf, iov);
	struct tio t;

	memset(buf, 0, SHORT_LEN);
	assert_int_equal(ftruncate(short_fd, (off_t)cut), 0);
	tio_prep(&t, NVMF_BIO_READ, 0, SHORT_LEN, iov, n, false);
	tio_submit(b, &t);
	hook_install(&t, fix);
	wait_all();
	assert_int_equal(t.calls, 1);
	assert_int_equal(H.first_res, (int)cut);
	assert_int_equal(H.calls, completions);
	assert_int_equal(t.res, want);
	if (want == 0)
		assert_same(buf, short_data, SHORT_LEN, 0);
	/* the caller's iovs are as they were */
	assert_ptr_equal(iov[1].iov_base, buf + 50000);
	assert_int_equal(iov[1].iov_len, 80000);
	free(buf);
	short_close(b);
}

static void test_short_read_mid_iov(void **state)
{
	(void)state;
	/* the rest of iov[1] alone, then iov[2] */
	short_read(50000 + 1234, refill_file, 0, 3);
}

static void test_short_read_iov_boundary(void **state)
{
	(void)state;
	short_read(130000, refill_file, 0, 2);
}

/* The file shrank under the namespace: what is past its end is an error, not zeroes. */
static void test_read_past_eof(void **state)
{
	(void)state;
	short_read(4096, NULL, -EIO, 2);
}

static struct rlimit saved_fsize;

static void raise_fsize(void)
{
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved_fsize), 0);
}

/* A write stopped short by RLIMIT_FSIZE, resumed once the limit is lifted. */
static void test_short_write(void **state)
{
	char path[PATH_MAX];
	struct nvmf_bdev *b = short_open(path, sizeof(path));
	uint8_t *buf = abuf(SHORT_LEN), *back = malloc(SHORT_LEN);
	struct iovec iov[3];
	int n = short_iov(buf, iov);
	uint64_t cut = 50000 + 80000 + 777;
	struct rlimit lim;
	struct tio t;

	(void)state;
	assert_non_null(back);
	fill(buf, SHORT_LEN, 0, 99);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved_fsize), 0);
	lim = saved_fsize;
	lim.rlim_cur = cut;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	tio_prep(&t, NVMF_BIO_WRITE, 0, SHORT_LEN, iov, n, false);
	tio_submit(b, &t);
	hook_install(&t, raise_fsize);
	wait_all();
	raise_fsize();
	assert_int_equal(t.calls, 1);
	assert_int_equal(H.first_res, (int)cut);
	assert_int_equal(H.calls, 2);
	assert_int_equal(t.res, 0);
	assert_int_equal(pread(short_fd, back, SHORT_LEN, 0), SHORT_LEN);
	assert_same(back, buf, SHORT_LEN, 0);
	free(back);
	free(buf);
	short_close(b);
}

/* ---- read-only ---- */

/* Root opens any file for writing: take away the capabilities that let it (this thread). */
static int cap_dac(bool on)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	uint32_t bits = (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);

	if (syscall(SYS_capget, &h, d))
		return -errno;
	if (on)
		d[0].effective |= bits & d[0].permitted;
	else
		d[0].effective &= ~bits;
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static void check_read_only(struct nvmf_bdev *b)
{
	uint8_t *buf = abuf(4096);
	struct iovec iov = { buf, 4096 };
	struct tio t;

	assert_true(b->read_only);
	assert_int_equal(do_io(b, &t, NVMF_BIO_WRITE, 0, 4096, &iov, 1, false), -EROFS);
	assert_int_equal(do_io(b, &t, NVMF_BIO_WRITE_ZEROES, 0, 4096, NULL, 0, false), -EROFS);
	assert_int_equal(do_io(b, &t, NVMF_BIO_DISCARD, 0, 4096, NULL, 0, false), -EROFS);
	assert_int_equal(do_io(b, &t, NVMF_BIO_READ, 0, 4096, &iov, 1, false), 0);
	assert_int_equal(buf[0], pat(0, 7));
	assert_int_equal(do_io(b, &t, NVMF_BIO_FLUSH, 0, 0, NULL, 0, false), 0);
	free(buf);
}

static void test_read_only_file(void **state)
{
	struct nvmf_bdev_params p = { .kind = NVMF_BDEV_FILE };
	struct nvmf_bdev *b;
	char path[PATH_MAX], err[256];
	uint8_t data[4096];
	int fd, rc;

	(void)state;
	assert_int_equal(make_temp("/var/tmp", 0, path, sizeof(path)), 0);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	fill(data, sizeof(data), 0, 7);
	for (int i = 0; i < 16; i++)
		assert_int_equal(pwrite(fd, data, sizeof(data), i * 4096), 4096);
	close(fd);
	assert_int_equal(chmod(path, 0400), 0);
	p.path = path;
	assert_int_equal(cap_dac(false), 0);
	rc = nvmf_bdev_open(&p, &b, err, sizeof(err));
	assert_int_equal(cap_dac(true), 0);
	if (rc)
		fail_msg("open: %s", err);
	check_read_only(b);
	nvmf_bdev_close(b);

	/* it cannot be extended either */
	p.size = 1 * MIB;
	assert_int_equal(cap_dac(false), 0);
	rc = nvmf_bdev_open(&p, &b, err, sizeof(err));
	assert_int_equal(cap_dac(true), 0);
	unlink(path);
	assert_int_equal(rc, -EROFS);
}

/* ---- block devices ---- */

static void test_blockdev_read_only(void **state)
{
	struct nvmf_bdev_params p = { .kind = NVMF_BDEV_FILE };
	struct nvmf_bdev *b;
	char path[PATH_MAX], dev[64], err[256];
	uint8_t data[4096];
	int fd, lfd;

	(void)state;
	assert_int_equal(make_temp("/var/tmp", 1 * MIB, path, sizeof(path)), 0);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	fill(data, sizeof(data), 0, 7);
	assert_int_equal(pwrite(fd, data, sizeof(data), 0), 4096);
	close(fd);
	lfd = loop_attach(path, true, dev, sizeof(dev));
	unlink(path);
	if (lfd < 0) {
		print_message("skipped: no loop device: %s\n", strerror(-lfd));
		skip();
	}
	p.path = dev;
	if (nvmf_bdev_open(&p, &b, err, sizeof(err)))
		fail_msg("open: %s", err);
	assert_true(b->is_blockdev);
	assert_int_equal(b->size, 1 * MIB);
	check_read_only(b);
	nvmf_bdev_close(b);

	/* a size larger than the device is refused */
	p.size = 2 * MIB;
	expect_open_error(&p, -EINVAL, "larger than the device");
	close(lfd);
}

/* ---- a file system without O_DIRECT (ramfs, mounted in a private mount namespace) ---- */

static int child_res;
static struct nvmf_reactor *child_r;

static void child_done(struct nvmf_bdev_io *io, int res)
{
	(void)io;
	child_res = res;
	nvmf_reactor_stop(child_r);
}

static int child_io(struct nvmf_bdev *b, enum nvmf_bdev_op op, uint64_t off, uint64_t len,
		    uint8_t *buf)
{
	struct iovec iov[2] = { { buf, len / 2 }, { buf + len / 2, len - len / 2 } };
	struct nvmf_bdev_io io = { .op = op, .offset = off, .len = len, .done = child_done };

	if (op == NVMF_BIO_READ || op == NVMF_BIO_WRITE) {
		io.iov = iov;
		io.iovcnt = 2;
	}
	child_res = INT_MIN;
	atomic_store(&child_r->stopping, false);
	nvmf_bdev_submit(b, child_r, &io);
	if (child_res == INT_MIN)
		nvmf_reactor_run(child_r);
	return child_res;
}

#define CHILD_CHECK(c)                                                                  \
	do {                                                                            \
		if (!(c)) {                                                             \
			fprintf(stderr, "child: line %d: %s failed\n", __LINE__, #c);  \
			rc = 1;                                                         \
			goto out;                                                       \
		}                                                                       \
	} while (0)

/* Exit status: 0 passed, 77 cannot run here, 1 failed (the reason on stderr). */
static int ramfs_child(void)
{
	struct nvmf_bdev_params p = { .kind = NVMF_BDEV_FILE, .size = 4 * MIB };
	struct nvmf_reactor r;
	struct nvmf_bdev *b = NULL;
	char dir[] = "/tmp/nvmf-ramfs-XXXXXX", path[64], err[256];
	uint8_t *buf = aligned_alloc(4096, 2 * MIB), *want = malloc(2 * MIB);
	int rc = 0;

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return 77;
	if (!mkdtemp(dir))
		return 77;
	if (mount("nvmf-test", dir, "ramfs", 0, NULL)) {
		rmdir(dir);
		return 77;
	}
	snprintf(path, sizeof(path), "%s/ns", dir);
	p.path = path;
	CHILD_CHECK(buf && want);
	CHILD_CHECK(nvmf_reactor_init(&r, 1, 32, false) == 0);
	child_r = &r;
	CHILD_CHECK(nvmf_bdev_open(&p, &b, err, sizeof(err)) == 0);
	CHILD_CHECK(!b->direct);                   /* O_DIRECT refused: fell back */
	CHILD_CHECK(b->size == 4 * MIB);
	fill(want, 2 * MIB, 0, 3);
	memcpy(buf, want, 2 * MIB);
	CHILD_CHECK(child_io(b, NVMF_BIO_WRITE, 0, 2 * MIB, buf) == 0);
	memset(buf, 0, 2 * MIB);
	CHILD_CHECK(child_io(b, NVMF_BIO_READ, 0, 2 * MIB, buf) == 0);
	CHILD_CHECK(memcmp(buf, want, 2 * MIB) == 0);
	/* no fallocate on ramfs: zeroes are written (more than one chunk of them) */
	CHILD_CHECK(child_io(b, NVMF_BIO_WRITE_ZEROES, 4096, 1536 * KIB, NULL) == 0);
	memset(want + 4096, 0, 1536 * KIB);
	CHILD_CHECK(child_io(b, NVMF_BIO_READ, 0, 2 * MIB, buf) == 0);
	CHILD_CHECK(memcmp(buf, want, 2 * MIB) == 0);
	/* the second time starts at the fallback directly */
	CHILD_CHECK(child_io(b, NVMF_BIO_WRITE_ZEROES, 0, 512, NULL) == 0);
	memset(want, 0, 512);
	/* deallocate is advisory: unsupported, it succeeds and changes nothing */
	CHILD_CHECK(child_io(b, NVMF_BIO_DISCARD, 2 * MIB - 8192, 8192, NULL) == 0);
	CHILD_CHECK(child_io(b, NVMF_BIO_DISCARD, 0, 8192, NULL) == 0);
	CHILD_CHECK(child_io(b, NVMF_BIO_READ, 0, 2 * MIB, buf) == 0);
	CHILD_CHECK(memcmp(buf, want, 2 * MIB) == 0);
	CHILD_CHECK(child_io(b, NVMF_BIO_FLUSH, 0, 0, NULL) == 0);
out:
	if (rc)
		fprintf(stderr, "child: open error: %s\n", err);
	nvmf_bdev_close(b);
	umount(dir);
	rmdir(dir);
	free(buf);
	free(want);
	return rc;
}

static void test_no_odirect_fallback(void **state)
{
	int status;
	pid_t pid;

	(void)state;
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(ramfs_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		print_message("skipped: cannot mount a ramfs here\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- iov_seek, the arithmetic behind resubmitting short transfers ---- */

static void test_iov_seek(void **state)
{
	struct iovec iov[4] = { { NULL, 10 }, { NULL, 0 }, { NULL, 5 }, { NULL, 7 } };
	int k;
	size_t off;

	(void)state;
	nvmf_bdev_iov_seek(iov, 4, 0, &k, &off);
	assert_int_equal(k, 0);
	assert_int_equal(off, 0);
	nvmf_bdev_iov_seek(iov, 4, 9, &k, &off);
	assert_int_equal(k, 0);
	assert_int_equal(off, 9);
	nvmf_bdev_iov_seek(iov, 4, 10, &k, &off);   /* the empty element is skipped */
	assert_int_equal(k, 2);
	assert_int_equal(off, 0);
	nvmf_bdev_iov_seek(iov, 4, 16, &k, &off);
	assert_int_equal(k, 3);
	assert_int_equal(off, 1);
	nvmf_bdev_iov_seek(iov, 4, 22, &k, &off);
	assert_int_equal(k, 4);
	assert_int_equal(off, 0);
}

/* ---- the table ---- */

/* ---- RAM: background population (ram.c's ram_fill_thread) ---- */

/* Threads of this process: the population thread is the only one these tests add. */
static int task_count(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Waits (up to 90 s: the thread runs at nice 19 on a loaded machine) for it to end. */
static void wait_filler_done(int tasks_before)
{
	for (int i = 0; i < 9000 && task_count() > tasks_before; i++)
		usleep(10000);
	assert_int_equal(task_count(), tasks_before);
}

static struct nvmf_bdev *ram_open(uint64_t size, bool lazy, uint64_t reserve)
{
	struct nvmf_bdev_params p = { .kind = NVMF_BDEV_RAM, .size = size, .lazy = lazy,
				      .populate_reserve = reserve };
	struct nvmf_bdev *b = NULL;
	char err[256];

	if (nvmf_bdev_open(&p, &b, err, sizeof(err)))
		fail_msg("open ram: %s", err);
	return b;
}

/* Without any I/O a default namespace becomes resident; a lazy one stays empty. */
static void test_ram_fill_resident(void **state)
{
	int before = task_count();
	struct nvmf_bdev *lazy = ram_open(32 * MIB, true, 0), *b;

	(void)state;
	assert_int_equal(task_count(), before);	/* lazy: no thread */
	b = ram_open(32 * MIB, false, 0);
	assert_int_equal(task_count(), before + 1);
	assert_false(b->prealloc);	/* deallocate still gives memory back */
	wait_filler_done(before);
	assert_int_equal(resident_pages(b->mem, 32 * MIB), 32 * MIB / 4096);
	assert_int_equal(resident_pages(lazy->mem, 32 * MIB), 0);
	nvmf_bdev_close(b);
	nvmf_bdev_close(lazy);
}

/*
 * Writes and deallocations while the namespace is being populated: every byte written is
 * there afterwards, every deallocated or never written byte reads zero.
 */
static void test_ram_fill_io_during(void **state)
{
	enum { SIZE = 64 * MIB, STEP = 256 * KIB, LEN = 8 * KIB + 512 };
	int before = task_count();
	struct nvmf_bdev *b = ram_open(SIZE, false, 0);
	uint8_t *buf = malloc(SIZE), *model = calloc(1, SIZE);
	struct iovec iov;
	struct tio t;

	(void)state;
	assert_non_null(buf);
	assert_non_null(model);
	/* from the end backwards: the population goes forwards, so they cross */
	for (uint64_t off = SIZE - STEP; off < SIZE; off -= STEP) {
		uint64_t o = off + 512 * (off / STEP % 7);	/* pages written in part */

		fill(model + o, LEN, o, 77);
		iov = (struct iovec){ model + o, LEN };
		assert_int_equal(do_io(b, &t, NVMF_BIO_WRITE, o, LEN, &iov, 1, false), 0);
		if (off / STEP % 5 == 0) {	/* 1 MiB deallocated across a written range */
			uint64_t d = off >= MIB ? off - MIB + 4 * KIB : 0;

			memset(model + d, 0, MIB);
			assert_int_equal(do_io(b, &t, NVMF_BIO_DISCARD, d, MIB, NULL, 0, false), 0);
		}
		if (off == 0)
			break;
	}
	wait_filler_done(before);
	iov = (struct iovec){ buf, SIZE };
	assert_int_equal(do_io(b, &t, NVMF_BIO_READ, 0, SIZE, &iov, 1, false), 0);
	assert_memory_equal(buf, model, SIZE);
	free(buf);
	free(model);
	nvmf_bdev_close(b);
}

/* Close while the thread is still at work: it stops and is joined (ASan/LSan watch). */
static void test_ram_fill_close_early(void **state)
{
	int before = task_count();

	(void)state;
	for (int i = 0; i < 3; i++) {
		struct nvmf_bdev *b = ram_open(1024 * MIB, false, 0);

		if (i)
			usleep(1000 * i);
		nvmf_bdev_close(b);
		assert_int_equal(task_count(), before);
	}
}

/* Too little memory available: population stops before it takes any; the I/O works. */
static void test_ram_fill_low_memory(void **state)
{
	int before = task_count();
	struct nvmf_bdev *b = ram_open(32 * MIB, false, UINT64_MAX / 4);
	uint8_t w[4096], r[4096];
	struct iovec iov;
	struct tio t;

	(void)state;
	wait_filler_done(before);
	assert_int_equal(resident_pages(b->mem, 32 * MIB), 0);
	fill(w, sizeof(w), 5 * MIB, 3);
	iov = (struct iovec){ w, sizeof(w) };
	assert_int_equal(do_io(b, &t, NVMF_BIO_WRITE, 5 * MIB, sizeof(w), &iov, 1, false), 0);
	iov = (struct iovec){ r, sizeof(r) };
	assert_int_equal(do_io(b, &t, NVMF_BIO_READ, 5 * MIB, sizeof(r), &iov, 1, false), 0);
	assert_memory_equal(w, r, sizeof(w));
	nvmf_bdev_close(b);
}

static int group_setup(void **state)
{
	(void)state;
	return nvmf_reactor_init(&R, 0, 64, false);
}

static int group_teardown(void **state)
{
	(void)state;
	nvmf_reactor_fini(&R);
	return 0;
}

static const struct {
	const char *name;
	CMUnitTestFunction fn;
} per_variant[] = {
	{ "rw_patterns", test_rw_patterns },
	{ "fua_write", test_fua_write },
	{ "flush", test_flush },
	{ "write_zeroes", test_write_zeroes },
	{ "write_zeroes_fua", test_write_zeroes_fua },
	{ "discard", test_discard },
	{ "out_of_range", test_out_of_range },
	{ "many_inflight", test_many_inflight },
};

static const struct CMUnitTest single[] = {
	cmocka_unit_test(test_open_errors),
	cmocka_unit_test(test_file_create_extend),
	cmocka_unit_test(test_iov_seek),
	cmocka_unit_test(test_short_read_mid_iov),
	cmocka_unit_test(test_short_read_iov_boundary),
	cmocka_unit_test(test_read_past_eof),
	cmocka_unit_test(test_short_write),
	cmocka_unit_test(test_read_only_file),
	cmocka_unit_test(test_blockdev_read_only),
	cmocka_unit_test(test_no_odirect_fallback),
	cmocka_unit_test(test_ram_fill_resident),
	cmocka_unit_test(test_ram_fill_io_during),
	cmocka_unit_test(test_ram_fill_close_early),
	cmocka_unit_test(test_ram_fill_low_memory),
};

int main(void)
{
	enum { NV = sizeof(variants) / sizeof(variants[0]),
	       NT = sizeof(per_variant) / sizeof(per_variant[0]),
	       NS = sizeof(single) / sizeof(single[0]) };
	static struct CMUnitTest tests[NV * NT + NS];
	static char names[NV * NT][64];
	size_t n = 0;

	for (size_t v = 0; v < NV; v++) {
		for (size_t t = 0; t < NT; t++, n++) {
			snprintf(names[n], sizeof(names[n]), "%s/%s", per_variant[t].name,
				 variants[v].name);
			tests[n] = (struct CMUnitTest){
				.name = names[n],
				.test_func = per_variant[t].fn,
				.setup_func = fx_setup,
				.teardown_func = fx_teardown,
				.initial_state = (void *)&variants[v],
			};
		}
	}
	for (size_t i = 0; i < NS; i++)
		tests[n++] = single[i];
	return _cmocka_run_group_tests("bdev", tests, n, group_setup, group_teardown);
}
