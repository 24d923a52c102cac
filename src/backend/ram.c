/*
 * RAM backend: the namespace is an anonymous private mapping, zero-filled, mapped without
 * a reservation (MAP_NORESERVE).  Every request is a memcpy/memset and completes inside
 * submit().
 *
 * Three ways to get its memory:
 *
 * - default: a thread per namespace faults the mapping in after open, in chunks, at the
 *   lowest priority (ram_fill_thread), so a write soon after start does not pay a page
 *   fault (4k randwrite QD32 on a fresh lazy namespace: every first write to a page is a
 *   fault and a zeroing of 4 KiB on the reactor).  Start-up does not wait for it, and it
 *   stops, saying so in the log, while the system (or the target's cgroup) has little
 *   memory left: a namespace larger than the memory must not get the target OOM-killed.
 *   Huge pages where THP allows, as prealloc.  Deallocate still gives memory back (from
 *   a huge page partly deallocated, once the kernel splits it).
 *
 * - lazy (nvmf-target --ram-lazy, config device.lazy): only what is written costs
 *   memory - a sparse namespace.  Small pages: with MADV_HUGEPAGE a first write into
 *   untouched space faults in and zeroes 2 MiB (and may compact memory first); fio's 4k
 *   randwrite QD32 on a fresh namespace then showed p99.9 of 6-19 ms against 0.4-3.5 ms.
 *
 * - prealloc (nvmf-target --prealloc) does what SPDK's malloc bdev on hugepages does: the
 *   whole namespace is faulted in at open, on transparent huge pages where the system allows
 *   them, and kept until close - no page fault on the I/O path, fewer TLB misses (4k randread
 *   QD32 A/B +10 %), and a namespace that does not fit fails at start instead of the target
 *   being killed later.  Deallocate then zeroes instead of giving memory back.
 */
#include "backend/bdev.h"

#include "util/log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Below this, giving pages back is not worth the madvise() and the faults that follow. */
#define RAM_RELEASE_MIN (256 * 1024)

/*
 * Background population: 8 MiB per madvise() - a few ms of work, so a close waits at most
 * that long, and memory is checked every 8 MiB.  The reserve it leaves: 1/16 of the
 * memory (of the cgroup's limit if lower), at least 64 MiB, at most 1 GiB (the page
 * cache and the rest of the system).
 */
#define RAM_FILL_CHUNK (8ull << 20)
#define RAM_RESERVE_MIN (64ull << 20)
#define RAM_RESERVE_MAX (1ull << 30)

struct ram_bdev {
	struct nvmf_bdev b;	/* first: the ops get &b */
	pthread_t filler;
	bool has_filler;
	atomic_bool stop;	/* close: the filler ends after its current chunk */
	uint64_t reserve;	/* test override of mem_room's reserve; 0: mem_room's */
};

static struct ram_bdev *ram_of(struct nvmf_bdev *b)
{
	return (struct ram_bdev *)((char *)b - offsetof(struct ram_bdev, b));
}

static void ram_copy(struct nvmf_bdev_io *io, uint8_t *mem, bool to_mem)
{
	for (int i = 0; i < io->iovcnt; i++) {
		size_t n = io->iov[i].iov_len;

		if (to_mem)
			memcpy(mem, io->iov[i].iov_base, n);
		else
			memcpy(io->iov[i].iov_base, mem, n);
		mem += n;
	}
}

/*
 * Zeroes [off, off + len).  Whole pages of a large range are dropped instead: a private
 * anonymous page reads as zeroes again after MADV_DONTNEED, and its memory is freed.
 */
static void ram_zero(struct nvmf_bdev *b, uint64_t off, uint64_t len)
{
	uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t start = (off + pg - 1) & ~(pg - 1), end = (off + len) & ~(pg - 1);

	if (!b->prealloc && len >= RAM_RELEASE_MIN && end > start &&
	    madvise(b->mem + start, end - start, MADV_DONTNEED) == 0) {
		memset(b->mem + off, 0, start - off);
		memset(b->mem + end, 0, off + len - end);
		return;
	}
	memset(b->mem + off, 0, len);
}

static void ram_submit(struct nvmf_bdev *b, struct nvmf_reactor *r, struct nvmf_bdev_io *io)
{
	int rc = nvmf_bdev_check(b, io);

	(void)r;
	if (rc == 0) {
		switch (io->op) {
		case NVMF_BIO_READ:
			ram_copy(io, b->mem + io->offset, false);
			break;
		case NVMF_BIO_WRITE:
			ram_copy(io, b->mem + io->offset, true);
			break;
		case NVMF_BIO_WRITE_ZEROES:
		case NVMF_BIO_DISCARD:
			ram_zero(b, io->offset, io->len);
			break;
		case NVMF_BIO_FLUSH:
			break;
		}
	}
	/* completing inside submit() is allowed by the contract and is the fast path */
	io->done(io, rc);
}

/* Reads "KEY: N kB" of /proc/meminfo in bytes; false when absent. */
static bool meminfo(const char *key, uint64_t *bytes)
{
	FILE *f = fopen("/proc/meminfo", "re");
	size_t klen = strlen(key);
	char line[128];
	bool found = false;
	unsigned long long kb;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':' &&
		    sscanf(line + klen + 1, "%llu", &kb) == 1) {
			*bytes = (uint64_t)kb * 1024;
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

/* One number from a file; false for "max" (v2: no limit) or none. */
static bool read_u64(const char *path, uint64_t *v)
{
	unsigned long long n;
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fscanf(f, "%llu", &n) == 1;
	fclose(f);
	if (ok)
		*v = n;
	return ok;
}

/* Whether the comma-separated controller list of a /proc/self/cgroup line has "memory". */
static bool has_memory(const char *list, size_t len)
{
	for (const char *p = list; p < list + len;) {
		size_t n = strcspn(p, ",:");

		if (n == 6 && strncmp(p, "memory", 6) == 0)
			return true;
		p += n + 1;
	}
	return false;
}

/*
 * The memory limit and usage of the target's cgroup: cgroup v2 (line "0::PATH",
 * memory.max / memory.current) or the v1 memory controller (line "N:...memory...:PATH",
 * memory.limit_in_bytes / memory.usage_in_bytes; "no limit" is a huge number there).
 * false when there is none or it cannot be read (another cgroup namespace, no mount).
 */
static bool cgroup_memory(uint64_t *limit, uint64_t *usage)
{
	char line[4096 + 64], path[4096 + 128];
	bool ok = false;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return false;
	while (!ok && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		c2[1 + strcspn(c2 + 1, "\n")] = 0;
		if (c2 == c1 + 1) {	/* v2 */
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max", c2 + 1);
			ok = read_u64(path, limit);
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.current", c2 + 1);
			ok = ok && read_u64(path, usage);
		} else if (has_memory(c1 + 1, (size_t)(c2 - c1 - 1))) {
			snprintf(path, sizeof(path), "/sys/fs/cgroup/memory%s/memory.limit_in_bytes",
				 c2 + 1);
			ok = read_u64(path, limit);
			snprintf(path, sizeof(path), "/sys/fs/cgroup/memory%s/memory.usage_in_bytes",
				 c2 + 1);
			ok = ok && read_u64(path, usage);
		}
	}
	fclose(f);
	return ok;
}

/*
 * Memory the population may still take (avail) and what it should leave free (reserve:
 * 1/16 of the memory there is, 64 MiB..1 GiB): MemAvailable, and below that the room
 * left under the target's cgroup limit - MemAvailable knows nothing of a container's
 * limit, and a cgroup's OOM killer acts on it.  false when it cannot be known.
 */
static bool mem_room(uint64_t *avail, uint64_t *reserve)
{
	uint64_t total = 0, limit, usage;

	if (!meminfo("MemAvailable", avail))
		return false;
	(void)meminfo("MemTotal", &total);
	if (cgroup_memory(&limit, &usage)) {
		uint64_t room = usage >= limit ? 0 : limit - usage;

		if (room < *avail)
			*avail = room;
		if (limit < total)
			total = limit;
	}
	*reserve = total / 16;
	if (*reserve < RAM_RESERVE_MIN)
		*reserve = RAM_RESERVE_MIN;
	if (*reserve > RAM_RESERVE_MAX)
		*reserve = RAM_RESERVE_MAX;
	return true;
}

static double ram_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Faults the namespace in behind the reactors' back.  Why the races are safe:
 *
 * - MADV_POPULATE_WRITE only write-faults pages that are not there (or are the shared zero
 *   page a read mapped): it installs a fresh zeroed page and never writes into a page that
 *   is present.  A reactor's memcpy into the same page faults it in through the same
 *   kernel path, serialised by the page table lock: whichever comes first installs the
 *   page, the other finds it present.  Data written before, during or after population
 *   is never touched by it.
 * - A read of a page not yet populated maps the zero page or reads a fresh zeroed one:
 *   zeroes either way, which is what the namespace holds there.
 * - Deallocate (MADV_DONTNEED) racing with population: if population comes second the
 *   page is back, zeroed - the range reads as zeroes, as it must; only its memory is taken
 *   again (a deallocate behind the population front frees it for good).
 * - MADV_HUGEPAGE per chunk, just before populating it, and MADV_NOHUGEPAGE (once, on what
 *   is left when population stops) change the mapping's flags, never its contents.  Per
 *   chunk, not for all of it at open: a reactor's write ahead of the population front
 *   would then fault in and zero a whole 2 MiB page - measured here, 4k randwrite QD32 at
 *   once after start fell to 66-135 IOPS in 2 of 8 runs (this VM zeroes memory touched for
 *   the first time at ~110 MiB/s), against 1.5-6x of lazy with small pages ahead of the
 *   front.  The price: the advice takes the mm's write lock from a nice-19 thread; if it
 *   is preempted holding it (microseconds of work), a reactor that faults meanwhile waits
 *   one scheduling turn - and only writes ahead of the front fault at all.
 * - Close: the bdev contract says no request is in flight; ram_close sets stop and joins
 *   this thread before munmap, so it never touches unmapped memory.
 */
/*
 * Where population stopped, the rest is faulted in by writes on the reactors: small pages
 * there, as --ram-lazy (see the top: a 2 MiB first-write fault may compact memory, and
 * memory is short when this happens).
 */
static void ram_fill_rest_small(uint8_t *from, uint64_t len)
{
#ifdef MADV_NOHUGEPAGE
	(void)madvise(from, len, MADV_NOHUGEPAGE);
#else
	(void)from;
	(void)len;
#endif
}

static void *ram_fill_thread(void *arg)
{
	struct ram_bdev *r = arg;
	uint8_t *mem = r->b.mem;
	uint64_t size = r->b.size, off = 0, avail, reserve;
	struct timespec t0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* the lowest priority of this thread alone (Linux: nice is per thread) */
	(void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
	while (off < size && !atomic_load_explicit(&r->stop, memory_order_relaxed)) {
		uint64_t n = size - off < RAM_FILL_CHUNK ? size - off : RAM_FILL_CHUNK;
		bool known = mem_room(&avail, &reserve);	/* unknown: no /proc */

		if (known && r->reserve)
			reserve = r->reserve;
		if (known && avail < reserve + n) {
			log_warn("ram: background population of the %" PRIu64 " MiB namespace stops "
				 "at %" PRIu64 " MiB: %" PRIu64 " MiB of memory available, %" PRIu64
				 " MiB kept free; the rest is faulted in as it is written",
				 size >> 20, off >> 20, avail >> 20, reserve >> 20);
			ram_fill_rest_small(mem + off, size - off);
			return NULL;
		}
#ifdef MADV_HUGEPAGE
		(void)madvise(mem + off, n, MADV_HUGEPAGE);	/* advice: small pages work too */
#endif
#ifdef MADV_POPULATE_WRITE
		if (madvise(mem + off, n, MADV_POPULATE_WRITE) != 0) {
			if (errno == EINTR)
				continue;
			log_warn("ram: background population of the %" PRIu64 " MiB namespace stops "
				 "at %" PRIu64 " MiB: %s; the rest is faulted in as it is written",
				 size >> 20, off >> 20,
				 errno == EINVAL ? "the kernel has no MADV_POPULATE_WRITE (5.14)"
						 : strerror(errno));
			ram_fill_rest_small(mem + off, size - off);
			return NULL;
		}
#else
		log_info("ram: built without MADV_POPULATE_WRITE: pages are faulted in as they "
			 "are written");
		ram_fill_rest_small(mem + off, size - off);
		return NULL;
#endif
		off += n;
	}
	if (off >= size)
		log_info("ram: the %" PRIu64 " MiB namespace is resident (background population: "
			 "%.1f s)", size >> 20, ram_since(&t0));
	return NULL;
}

/* Starts ram_fill_thread with every signal blocked (the target's threads take none). */
static void ram_fill_start(struct ram_bdev *r, uint64_t reserve)
{
	sigset_t all, old;
	int rc;

	r->reserve = reserve;
	atomic_init(&r->stop, false);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&r->filler, NULL, ram_fill_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		/* not fatal: the namespace works, it is only lazy */
		log_warn("ram: no background population (%s): pages are faulted in as they are "
			 "written", strerror(rc));
		return;
	}
	(void)pthread_setname_np(r->filler, "ram-fill");
	r->has_filler = true;
}

static void ram_close(struct nvmf_bdev *b)
{
	struct ram_bdev *r = ram_of(b);

	if (r->has_filler) {
		atomic_store_explicit(&r->stop, true, memory_order_relaxed);
		pthread_join(r->filler, NULL);
	}
	munmap(b->mem, b->size);
	free(r);
}

/* Fault the whole mapping in now, on huge pages where THP allows. 0 or -errno. */
static int ram_prealloc(uint8_t *mem, uint64_t size)
{
#ifdef MADV_HUGEPAGE
	(void)madvise(mem, size, MADV_HUGEPAGE); /* advice: small pages work the same */
#endif
#ifdef MADV_POPULATE_WRITE
	if (madvise(mem, size, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno; /* ENOMEM: does not fit */
#endif
	/* kernels before 5.14: touch every page (an anonymous page reads as zero anyway) */
	for (uint64_t off = 0; off < size; off += 4096)
		mem[off] = 0;
	return 0;
}

static const struct nvmf_bdev_ops ram_ops = {
	.name = "ram",
	.submit = ram_submit,
	.close = ram_close,
};

int nvmf_bdev_ram_open(const struct nvmf_bdev_params *p, struct nvmf_bdev **out, char *err,
		       size_t errlen)
{
	struct ram_bdev *r;
	struct nvmf_bdev *b;
	uint32_t bs;
	void *mem;
	int rc;

	rc = nvmf_bdev_check_block_size(p->block_size, 512, &bs, err, errlen);
	if (rc)
		return rc;
	if (p->size == 0) {
		snprintf(err, errlen, "ram: a size is needed");
		return -EINVAL;
	}
	if (p->size % bs) {
		snprintf(err, errlen, "size %llu is not a multiple of %u",
			 (unsigned long long)p->size, bs);
		return -EINVAL;
	}
	if (p->size > (uint64_t)SIZE_MAX / 2) {
		snprintf(err, errlen, "size %llu is too large", (unsigned long long)p->size);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	b = r ? &r->b : NULL;
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	mem = mmap(NULL, p->size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | (p->prealloc ? 0 : MAP_NORESERVE), -1, 0);
	if (mem == MAP_FAILED) {
		rc = -errno;
		snprintf(err, errlen, "ram: cannot map %llu bytes: %s",
			 (unsigned long long)p->size, strerror(-rc));
		free(r);
		return rc;
	}
	if (p->prealloc) {
		rc = ram_prealloc(mem, p->size);
		if (rc) {
			snprintf(err, errlen, "ram: cannot reserve %llu bytes (--prealloc): %s",
				 (unsigned long long)p->size, strerror(-rc));
			munmap(mem, p->size);
			free(r);
			return rc;
		}
		b->prealloc = true;
	}
	b->ops = &ram_ops;
	b->kind = NVMF_BDEV_RAM;
	b->size = p->size;
	b->block_size = bs;
	b->has_discard = true;
	b->fd = -1;
	b->mem = mem;
	if (!p->prealloc && !p->lazy)
		ram_fill_start(r, p->populate_reserve);
	*out = b;
	return 0;
}
