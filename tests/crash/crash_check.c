/*
 * crash_check: the crash-consistency checker (issue 12, point 4), on libnvmf.
 *
 *   crash_check run    -a ADDR -s PORT -n NQN -d DIR [--qd N] [--blocks N] [--seconds S]
 *   crash_check verify -a ADDR -s PORT -n NQN -d DIR [--strict]
 *
 * run puts a mixed load on namespace 1 (writes of 4..64 KiB, some with FUA; Write Zeroes,
 * some with FUA; a Flush every few dozen commands; reads) until the connection dies -- the
 * target is killed -- and logs, as dm-log-writes does for a block device, every event the
 * durability promise depends on: each write or Write Zeroes submitted (with its FUA flag),
 * each acknowledged, each Flush submitted and completed.  The events go to the log file once
 * per round of the load (submit what the queue takes, then wait for completions), with one
 * write() and one fdatasync(): a lost checker loses at most its last round.
 *
 * verify, after the target restarts, reads every block back and checks it against the log.
 * Every logical block of every write holds a header (magic, LBA, write id) and a payload
 * that is a function of (LBA, write id), so a block reads back as exactly one write, as
 * zeroes, or as something no write made (torn, garbage) -- and a block holding another
 * LBA's data (misplaced) is told apart.  Write ids (Write Zeroes take them too) grow in
 * submission order; zeroes read back are taken for the newest Write Zeroes to the block.
 *
 * The model is exact because the load never has two commands in flight on one block (a
 * write or read waits for the blocks it covers): a block's writes are then acknowledged in
 * id order, and a read of idle blocks must return the newest acknowledged write.  Per block:
 *   durable  the newest write acknowledged with FUA, or acknowledged before a Flush was
 *            submitted that then completed (NVMe: a Flush covers the commands completed
 *            before it was submitted), or what the block held when run began (run starts
 *            with a Flush);
 *   acked    the newest write acknowledged at all.
 * The block must hold durable or a write to it submitted later (acknowledged or not: a
 * write in flight at the kill, or acknowledged but not yet flushed, may or may not have
 * landed), never an older write, zeroes in place of a write, or garbage.  --strict also
 * fails a block older than acked: right for a process kill, where the kernel keeps what
 * the target wrote (page cache, device), so an acknowledged write that is lost means the
 * target acknowledged it before handing it to the kernel.  (A power loss would be allowed
 * to lose those.)
 *
 * Files in DIR: state (what each block held when run began: binary, written by verify)
 * and log (text, one event a line, written by run).  Exit: 0 ok, 1 mismatches, 2 usage
 * or setup error.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nvmf/nvmf.h>

#define BLK_MAGIC 0x4b43485348415243ull   /* "CRASHCHK" */
#define STATE_MAGIC 0x4554415453484352ull /* "RCHSTATE" */
#define MAX_WRITE (64u * 1024)
#define MIN_WRITE (4u * 1024)
#define MAX_QD 128
#define REPORT_MAX 20                    /* mismatches printed in full */

struct blk_hdr {
	uint64_t magic;
	uint64_t lba;
	uint64_t id;                     /* write id; 0: never written (zeroes) */
};

struct state_hdr {
	uint64_t magic;
	uint64_t next_id;                /* first write id of the next run */
	uint64_t nblocks;                /* the region: blocks 0..nblocks-1 */
	uint32_t block_size;
	uint32_t pad;
};

struct opts {
	const char *addr, *port, *nqn, *dir;
	unsigned qd;
	uint64_t blocks;                 /* 0: min(namespace, 16 MiB) */
	unsigned seconds;                /* 0: until the connection dies */
	uint64_t seed;
	bool strict;
	bool no_sync;                    /* log without fdatasync (faster, weaker) */
};

/* ------------------------------------------------------------------ block contents */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The one content a block written by write id has at lba. */
static void fill_block(uint8_t *p, uint32_t bs, uint64_t lba, uint64_t id)
{
	struct blk_hdr h = { .magic = BLK_MAGIC, .lba = lba, .id = id };
	uint64_t s = id * 0x2545f4914f6cdd1dull ^ lba;

	memcpy(p, &h, sizeof(h));
	for (uint32_t off = sizeof(h); off < bs; off += 8) {
		uint64_t v = splitmix(&s);

		memcpy(p + off, &v, 8);
	}
}

enum blk_kind { BLK_ZERO, BLK_OK, BLK_GARBAGE, BLK_TORN, BLK_MISPLACED };

/* What a block read back holds: *id gets the write id its header names. */
static enum blk_kind decode_block(const uint8_t *p, uint32_t bs, uint64_t lba, uint64_t *id,
				  uint64_t *hdr_lba, uint8_t *scratch)
{
	struct blk_hdr h;
	bool zero = true;

	*id = 0;
	*hdr_lba = lba;
	for (uint32_t i = 0; i < bs && zero; i++)
		zero = p[i] == 0;
	if (zero)
		return BLK_ZERO;
	memcpy(&h, p, sizeof(h));
	if (h.magic != BLK_MAGIC)
		return BLK_GARBAGE;
	*id = h.id;
	*hdr_lba = h.lba;
	fill_block(scratch, bs, h.lba, h.id);
	if (memcmp(scratch, p, bs) != 0)
		return BLK_TORN;
	return h.lba == lba ? BLK_OK : BLK_MISPLACED;
}

/* What a block was found to hold, for messages. */
static void describe(char *buf, size_t len, enum blk_kind k, uint64_t id, uint64_t hdr_lba)
{
	switch (k) {
	case BLK_ZERO:
		snprintf(buf, len, "zeroes");
		break;
	case BLK_OK:
		snprintf(buf, len, "write %" PRIu64, id);
		break;
	case BLK_GARBAGE:
		snprintf(buf, len, "garbage (no header)");
		break;
	case BLK_TORN:
		snprintf(buf, len, "a torn block (header: write %" PRIu64 " of lba %" PRIu64
			 ", the payload is not that write's)", id, hdr_lba);
		break;
	case BLK_MISPLACED:
		snprintf(buf, len, "write %" PRIu64 " of lba %" PRIu64 " (misplaced)", id, hdr_lba);
		break;
	}
}

/* ------------------------------------------------------------------ files */

static char *path_in(const struct opts *o, const char *name)
{
	size_t n = strlen(o->dir) + strlen(name) + 2;
	char *p = malloc(n);

	if (!p) {
		perror("malloc");
		exit(2);
	}
	snprintf(p, n, "%s/%s", o->dir, name);
	return p;
}

/* The state verify last wrote, or (no file) a region of zeroes and ids from 1. */
static int state_load(const struct opts *o, uint32_t bs, uint64_t nblocks, uint64_t *ids,
		      uint64_t *next_id)
{
	char *path = path_in(o, "state");
	FILE *f = fopen(path, "rb");
	struct state_hdr h;
	int rc = 0;

	if (!f) {
		free(path);
		if (errno != ENOENT)
			return -errno;
		memset(ids, 0, nblocks * sizeof(*ids));
		*next_id = 1;
		return 0;
	}
	if (fread(&h, sizeof(h), 1, f) != 1 || h.magic != STATE_MAGIC) {
		fprintf(stderr, "crash_check: %s: not a state file\n", path);
		rc = -EINVAL;
	} else if (h.block_size != bs || h.nblocks != nblocks) {
		fprintf(stderr, "crash_check: %s: for %" PRIu64 " blocks of %u bytes, not %" PRIu64
			" of %u\n", path, h.nblocks, h.block_size, nblocks, bs);
		rc = -EINVAL;
	} else if (fread(ids, sizeof(*ids), nblocks, f) != nblocks) {
		fprintf(stderr, "crash_check: %s: short\n", path);
		rc = -EINVAL;
	}
	*next_id = h.next_id;
	fclose(f);
	free(path);
	return rc;
}

static int state_save(const struct opts *o, uint32_t bs, uint64_t nblocks, const uint64_t *ids,
		      uint64_t next_id)
{
	char *path = path_in(o, "state"), *tmp = path_in(o, "state.tmp");
	struct state_hdr h = { .magic = STATE_MAGIC, .next_id = next_id, .nblocks = nblocks,
			       .block_size = bs };
	FILE *f = fopen(tmp, "wb");
	int rc = 0;

	if (!f || fwrite(&h, sizeof(h), 1, f) != 1 ||
	    fwrite(ids, sizeof(*ids), nblocks, f) != nblocks || fflush(f) ||
	    fdatasync(fileno(f)))
		rc = -errno;
	if (f && fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path))
		rc = -errno;
	if (rc)
		fprintf(stderr, "crash_check: %s: %s\n", path, strerror(-rc));
	free(path);
	free(tmp);
	return rc;
}

/* ------------------------------------------------------------------ connection */

static int connect_ns(const struct opts *o, bool retry, struct nvmf_ctrl **c,
		      struct nvmf_ns_info *ns)
{
	struct nvmf_ctrl_opts co;
	int rc;

	nvmf_ctrl_opts_init(&co);
	co.traddr = o->addr;
	co.trsvcid = o->port;
	co.subnqn = o->nqn;
	co.nr_io_queues = 1;
	co.queue_size = MAX_QD + 1;
	/* a lost target is the end of a run: fail what is in flight, do not reconnect */
	co.ctrl_loss_tmo_s = 0;
	co.reconnect_delay_s = 1;
	co.io_timeout_ms = 10000;
	for (int i = 0;; i++) {
		rc = nvmf_ctrl_connect(&co, c);
		if (rc == 0 || !retry || i >= 50)
			break;
		usleep(200 * 1000);   /* the target may still be starting */
	}
	if (rc) {
		fprintf(stderr, "crash_check: connect %s:%s %s: %s\n", o->addr, o->port, o->nqn,
			nvmf_strerror_last());
		return rc;
	}
	rc = nvmf_ctrl_ns_info(*c, 1, ns);
	if (rc) {
		fprintf(stderr, "crash_check: namespace 1: %s\n", strerror(rc < 0 ? -rc : EIO));
		nvmf_ctrl_disconnect(*c);
		return rc < 0 ? rc : -EIO;
	}
	return 0;
}

static uint64_t region_blocks(const struct opts *o, const struct nvmf_ns_info *ns)
{
	uint64_t n = o->blocks ? o->blocks : (16u << 20) / ns->block_size;

	return n < ns->nblocks ? n : ns->nblocks;
}

/* ------------------------------------------------------------------ run */

enum op_kind { OP_FREE, OP_WRITE, OP_ZEROES, OP_READ, OP_FLUSH };

struct op {
	enum op_kind kind;
	struct run *run;
	uint64_t id;                     /* write id, or flush number */
	uint64_t lba;
	uint32_t nlb;
	bool fua;
	uint8_t *buf;
};

struct run {
	const struct opts *o;
	struct nvmf_qpair *q;
	uint32_t bs;
	uint64_t nblocks;
	uint8_t *busy;                   /* per block: a command in flight covers it */
	uint64_t *acked;                 /* per block: newest acknowledged write id */
	uint8_t *acked_zero;             /* per block: that was Write Zeroes (or none) */
	uint8_t *unsure;                 /* per block: a write to it failed (indeterminate) */
	struct op ops[MAX_QD];
	unsigned inflight;
	bool flush_inflight;
	bool lost;                       /* the connection died */
	uint64_t next_id, flush_no;
	uint64_t rng;
	uint8_t *scratch;
	/* the log: appended in memory, written and synced once per round */
	int log_fd;
	char *logbuf;
	size_t loglen, logcap;
	/* counts */
	uint64_t writes, zeroes, fua_writes, write_acks, fua_acks, write_errs, flushes, flush_acks,
		 reads, read_blocks, read_bad;
};

static void log_ev(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void log_ev(struct run *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->logcap - r->loglen < 128) {
		r->logcap = r->logcap ? r->logcap * 2 : 65536;
		r->logbuf = realloc(r->logbuf, r->logcap);
		if (!r->logbuf) {
			perror("realloc");
			exit(2);
		}
	}
	va_start(ap, fmt);
	n = vsnprintf(r->logbuf + r->loglen, r->logcap - r->loglen, fmt, ap);
	va_end(ap);
	r->loglen += (size_t)n;
}

/* One write() and one fdatasync() for the round's events. */
static void log_commit(struct run *r)
{
	size_t off = 0;

	while (off < r->loglen) {
		ssize_t n = write(r->log_fd, r->logbuf + off, r->loglen - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("crash_check: log");
			exit(2);
		}
		off += (size_t)n;
	}
	if (r->loglen && !r->o->no_sync && fdatasync(r->log_fd)) {
		perror("crash_check: log fdatasync");
		exit(2);
	}
	r->loglen = 0;
}

static uint64_t rnd(struct run *r, uint64_t n)
{
	return splitmix(&r->rng) % n;
}

static void set_busy(struct run *r, uint64_t lba, uint32_t nlb, uint8_t v)
{
	memset(r->busy + lba, v, nlb);
}

static bool range_busy(const struct run *r, uint64_t lba, uint32_t nlb)
{
	return memchr(r->busy + lba, 1, nlb) != NULL;
}

static void op_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct op *op = arg;
	struct run *r = op->run;

	(void)cqe;
	if (status < 0)
		r->lost = true;
	switch (op->kind) {
	case OP_WRITE:
	case OP_ZEROES:
		log_ev(r, "A %" PRIu64 " %d\n", op->id, status);
		if (status == 0) {
			r->write_acks++;
			r->fua_acks += op->fua;
			for (uint32_t i = 0; i < op->nlb; i++)
				r->acked[op->lba + i] = op->id;
			memset(r->acked_zero + op->lba, op->kind == OP_ZEROES, op->nlb);
		} else {
			r->write_errs++;
			memset(r->unsure + op->lba, 1, op->nlb);
		}
		set_busy(r, op->lba, op->nlb, 0);
		break;
	case OP_READ:
		if (status == 0) {
			/* nothing else touched these blocks: the newest acknowledged write */
			for (uint32_t i = 0; i < op->nlb; i++) {
				uint64_t lba = op->lba + i, id, hl;
				enum blk_kind k = decode_block(op->buf + (size_t)i * r->bs, r->bs,
							       lba, &id, &hl, r->scratch);

				r->read_blocks++;
				if (r->unsure[lba] || (k == BLK_ZERO && r->acked_zero[lba]) ||
				    (k == BLK_OK && !r->acked_zero[lba] && id == r->acked[lba]))
					continue;
				if (r->read_bad++ < REPORT_MAX) {
					char what[128];

					describe(what, sizeof(what), k, id, hl);
					fprintf(stderr, "crash_check: run: read of lba %" PRIu64
						": expected write %" PRIu64 ", found %s\n", lba,
						r->acked[lba], what);
				}
			}
		}
		set_busy(r, op->lba, op->nlb, 0);
		break;
	case OP_FLUSH:
		log_ev(r, "F %" PRIu64 " %d\n", op->id, status);
		r->flush_acks += status == 0;
		r->flush_inflight = false;
		break;
	case OP_FREE:
		break;
	}
	op->kind = OP_FREE;
	r->inflight--;
}

static struct op *free_op(struct run *r)
{
	for (unsigned i = 0; i < r->o->qd; i++)
		if (r->ops[i].kind == OP_FREE)
			return &r->ops[i];
	return NULL;
}

/* A range of 4..64 KiB (whole blocks) that no command in flight touches, or false. */
static bool pick_range(struct run *r, uint64_t *lba, uint32_t *nlb)
{
	uint32_t min = MIN_WRITE / r->bs ? MIN_WRITE / r->bs : 1;
	uint32_t max = MAX_WRITE / r->bs;

	for (int tries = 0; tries < 8; tries++) {
		uint32_t n = min + (uint32_t)rnd(r, max - min + 1);

		if (n > r->nblocks)
			n = (uint32_t)r->nblocks;
		*lba = rnd(r, r->nblocks - n + 1);
		*nlb = n;
		if (!range_busy(r, *lba, n))
			return true;
	}
	return false;
}

/* Submits one command; false when none could be (all blocks tried are busy, or lost). */
static bool submit_one(struct run *r, unsigned *since_flush, unsigned flush_gap)
{
	struct op *op = free_op(r);
	unsigned dice;
	int rc;

	if (!op)
		return false;
	op->run = r;
	if (*since_flush >= flush_gap && !r->flush_inflight) {
		op->kind = OP_FLUSH;
		op->id = ++r->flush_no;
		/* covers every write acknowledged so far (logged above this line) */
		log_ev(r, "f %" PRIu64 "\n", op->id);
		rc = nvmf_flush(r->q, 1, op_done, op);
		if (rc) {
			log_ev(r, "F %" PRIu64 " %d\n", op->id, rc);
			op->kind = OP_FREE;
			r->lost = true;
			return false;
		}
		r->flushes++;
		r->flush_inflight = true;
		r->inflight++;
		*since_flush = 0;
		return true;
	}
	if (!pick_range(r, &op->lba, &op->nlb))
		return false;
	dice = (unsigned)rnd(r, 100);
	(*since_flush)++;
	if (dice < 25) {
		op->kind = OP_READ;
		rc = nvmf_read(r->q, 1, op->lba, op->nlb, op->buf, op_done, op);
		if (rc == 0)
			r->reads++;
	} else if (dice < 33) {
		op->kind = OP_ZEROES;
		op->id = r->next_id++;
		op->fua = dice >= 29;
		log_ev(r, "Z %" PRIu64 " %" PRIu64 " %u %d\n", op->id, op->lba, op->nlb, op->fua);
		rc = nvmf_write_zeroes(r->q, 1, op->lba, op->nlb, op->fua ? NVMF_IO_FUA : 0,
				       op_done, op);
		if (rc) {
			log_ev(r, "A %" PRIu64 " %d\n", op->id, rc);
		} else {
			r->zeroes++;
			r->fua_writes += op->fua;
		}
	} else {
		op->kind = OP_WRITE;
		op->id = r->next_id++;
		op->fua = dice >= 80;
		for (uint32_t i = 0; i < op->nlb; i++)
			fill_block(op->buf + (size_t)i * r->bs, r->bs, op->lba + i, op->id);
		log_ev(r, "W %" PRIu64 " %" PRIu64 " %u %d\n", op->id, op->lba, op->nlb, op->fua);
		rc = nvmf_write(r->q, 1, op->lba, op->nlb, op->buf, op->fua ? NVMF_IO_FUA : 0,
				op_done, op);
		if (rc) {
			log_ev(r, "A %" PRIu64 " %d\n", op->id, rc);
		} else {
			r->writes++;
			r->fua_writes += op->fua;
		}
	}
	if (rc) {
		op->kind = OP_FREE;
		if (rc != -EAGAIN)
			r->lost = true;
		return false;
	}
	set_busy(r, op->lba, op->nlb, 1);
	r->inflight++;
	return true;
}

static int cmd_run(const struct opts *o)
{
	struct run r = { .o = o };
	struct nvmf_ctrl *c;
	struct nvmf_ns_info ns;
	struct timespec t0, now;
	unsigned since_flush = 0, flush_gap;
	bool stopped = false;            /* the connection is lost, or the time is up */
	time_t stop_at = 0;              /* since when */
	uint64_t *base;
	char *logpath;
	int rc;

	if (connect_ns(o, false, &c, &ns))
		return 2;
	r.q = nvmf_ctrl_qpair(c, 0);
	r.bs = ns.block_size;
	r.nblocks = region_blocks(o, &ns);
	if (MAX_WRITE > nvmf_ctrl_max_xfer(c) || r.bs > MIN_WRITE) {
		fprintf(stderr, "crash_check: max transfer %u or block size %u does not fit\n",
			nvmf_ctrl_max_xfer(c), r.bs);
		return 2;
	}
	r.busy = calloc(r.nblocks, 1);
	r.unsure = calloc(r.nblocks, 1);
	r.acked = calloc(r.nblocks, sizeof(*r.acked));
	r.acked_zero = calloc(r.nblocks, 1);
	base = calloc(r.nblocks, sizeof(*base));
	r.scratch = malloc(r.bs);
	if (!r.busy || !r.unsure || !r.acked || !r.acked_zero || !base || !r.scratch) {
		perror("calloc");
		return 2;
	}
	for (unsigned i = 0; i < o->qd; i++) {
		r.ops[i].buf = aligned_alloc(4096, MAX_WRITE);
		if (!r.ops[i].buf) {
			perror("aligned_alloc");
			return 2;
		}
	}
	if (state_load(o, r.bs, r.nblocks, base, &r.next_id))
		return 2;
	memcpy(r.acked, base, r.nblocks * sizeof(*base));
	for (uint64_t i = 0; i < r.nblocks; i++)
		r.acked_zero[i] = base[i] == 0;
	logpath = path_in(o, "log");
	r.log_fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (r.log_fd < 0) {
		perror(logpath);
		return 2;
	}
	r.rng = o->seed;
	log_ev(&r, "B %" PRIu64 " %" PRIu64 " %u %" PRIu64 "\n", r.next_id, r.nblocks, r.bs,
	       o->seed);
	/* what the blocks hold now (verify read it) becomes durable: the baseline */
	rc = nvmf_flush_sync(r.q, 1);
	if (rc) {
		fprintf(stderr, "crash_check: run: the first Flush failed (%d)\n", rc);
		log_commit(&r);
		return 2;
	}
	log_ev(&r, "D\n");
	log_commit(&r);
	printf("crash_check: load running: %" PRIu64 " blocks of %u bytes, qd %u, seed %" PRIu64
	       ", first write id %" PRIu64 "\n", r.nblocks, r.bs, o->qd, o->seed, r.next_id);
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	flush_gap = 16 + (unsigned)rnd(&r, 48);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (!stopped && (r.lost || (o->seconds &&
					    now.tv_sec - t0.tv_sec >= (time_t)o->seconds))) {
			stopped = true;
			stop_at = now.tv_sec;
		}
		if (!stopped) {
			while (r.inflight < o->qd && submit_one(&r, &since_flush, flush_gap)) {
				if (since_flush == 0)
					flush_gap = 16 + (unsigned)rnd(&r, 48);
			}
		}
		if (stopped && r.inflight == 0)
			break;
		if (stopped && now.tv_sec - stop_at > 30) {
			fprintf(stderr, "crash_check: run: %u commands never completed\n",
				r.inflight);
			break;
		}
		log_commit(&r);
		rc = nvmf_qpair_wait(r.q, 100);
		if (rc == -ENODEV || rc == -ENOTCONN)
			r.lost = true;
	}
	log_commit(&r);
	close(r.log_fd);
	printf("crash_check: run ended (%s): %" PRIu64 " writes and %" PRIu64 " Write Zeroes (%"
	       PRIu64 " FUA) submitted, %"
	       PRIu64 " acknowledged (%" PRIu64 " FUA), %" PRIu64 " failed; %" PRIu64
	       " flushes, %" PRIu64 " completed; %" PRIu64 " reads (%" PRIu64
	       " blocks) checked, %" PRIu64 " wrong\n",
	       r.lost ? "connection lost" : "time", r.writes, r.zeroes, r.fua_writes, r.write_acks,
	       r.fua_acks, r.write_errs, r.flushes, r.flush_acks, r.reads, r.read_blocks,
	       r.read_bad);
	nvmf_ctrl_disconnect(c);
	for (unsigned i = 0; i < o->qd; i++)
		free(r.ops[i].buf);
	free(r.busy);
	free(r.unsure);
	free(r.acked);
	free(r.acked_zero);
	free(base);
	free(r.scratch);
	free(r.logbuf);
	free(logpath);
	return r.read_bad ? 1 : 0;
}

/* ------------------------------------------------------------------ verify */

struct wrec {
	uint64_t lba;
	uint32_t nlb;
	bool fua;
	bool zeroes;                     /* Write Zeroes */
	int status;                      /* 1: never acknowledged */
};

enum why { WHY_BASE, WHY_FUA, WHY_FLUSH };

struct model {
	uint64_t nblocks;
	uint32_t bs;
	uint64_t first_id, next_id;      /* writes first_id..next_id-1 are in w[] */
	struct wrec *w;
	size_t wcap;
	uint64_t *base;                  /* the block at the start of run */
	uint64_t *durable, *acked;
	uint64_t *zlast;                 /* the newest Write Zeroes to the block, 0: none */
	uint64_t *why;                   /* WHY_BASE, WHY_FUA, or WHY_FLUSH + flush no << 2 */
	uint64_t *snap;                  /* acked when the Flush in flight was submitted */
	uint64_t snap_flush;             /* its number, 0: none */
	bool base_durable;               /* run's first Flush completed */
	uint64_t n_acked, n_fua, n_flushes;
};

static struct wrec *model_write(struct model *m, uint64_t id)
{
	if (id < m->first_id || id >= m->next_id)
		return NULL;
	return &m->w[id - m->first_id];
}

/* Replays the log into per-block durable / acked ids.  Returns 0 or -1 (bad log). */
static int model_load(const struct opts *o, struct model *m)
{
	char *path = path_in(o, "log");
	FILE *f = fopen(path, "r");
	char line[256];
	unsigned lineno = 0;
	int rc = -1;

	if (!f) {
		perror(path);
		free(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		uint64_t a, b, d;
		unsigned n;
		int s, fua;

		lineno++;
		if (!strchr(line, '\n'))
			break;                   /* a torn last line: the checker itself died */
		switch (line[0]) {
		case 'B':
			if (sscanf(line, "B %" SCNu64 " %" SCNu64 " %u %" SCNu64, &a, &b, &n, &d) != 4 ||
			    b != m->nblocks || n != m->bs)
				goto bad;
			/* the run that wrote this log started from the state verify read */
			if (a != m->first_id)
				goto bad;
			break;
		case 'D':
			/* run's first Flush completed: what the blocks held is durable */
			m->base_durable = true;
			memcpy(m->durable, m->base, m->nblocks * sizeof(*m->durable));
			break;
		case 'W':
		case 'Z':
			if (sscanf(line + 1, " %" SCNu64 " %" SCNu64 " %u %d", &a, &b, &n, &fua) != 4 ||
			    a != m->next_id || b + n > m->nblocks || n == 0)
				goto bad;
			if (a - m->first_id >= m->wcap) {
				m->wcap = m->wcap ? m->wcap * 2 : 4096;
				m->w = realloc(m->w, m->wcap * sizeof(*m->w));
				if (!m->w)
					goto bad;
			}
			m->w[a - m->first_id] = (struct wrec){ .lba = b, .nlb = n, .fua = fua,
							       .zeroes = line[0] == 'Z',
							       .status = 1 };
			for (uint32_t i = 0; line[0] == 'Z' && i < n; i++)
				m->zlast[b + i] = a;
			m->next_id++;
			break;
		case 'A': {
			struct wrec *w;

			if (sscanf(line, "A %" SCNu64 " %d", &a, &s) != 2 || !(w = model_write(m, a)))
				goto bad;
			w->status = s;
			if (s != 0)
				break;
			m->n_acked++;
			m->n_fua += w->fua;
			for (uint32_t i = 0; i < w->nlb; i++) {
				uint64_t lba = w->lba + i;

				/* one command per block at a time: acks come in id order */
				if (m->acked[lba] > a)
					goto bad;
				m->acked[lba] = a;
				if (w->fua) {
					m->durable[lba] = a;
					m->why[lba] = WHY_FUA;
				}
			}
			break;
		}
		case 'f':
			if (sscanf(line, "f %" SCNu64, &a) != 1 || m->snap_flush)
				goto bad;
			memcpy(m->snap, m->acked, m->nblocks * sizeof(*m->snap));
			m->snap_flush = a;
			break;
		case 'F':
			if (sscanf(line, "F %" SCNu64 " %d", &a, &s) != 2 || a != m->snap_flush)
				goto bad;
			m->snap_flush = 0;
			if (s != 0)
				break;
			m->n_flushes++;
			for (uint64_t lba = 0; lba < m->nblocks; lba++) {
				if (m->snap[lba] > m->durable[lba]) {
					m->durable[lba] = m->snap[lba];
					m->why[lba] = WHY_FLUSH | a << 2;
				}
			}
			break;
		default:
			goto bad;
		}
	}
	rc = 0;
	goto out;
bad:
	fprintf(stderr, "crash_check: %s:%u: bad or out-of-order record: %s", path, lineno, line);
out:
	fclose(f);
	free(path);
	return rc;
}

static void why_text(uint64_t why, char *buf, size_t len)
{
	switch (why & 3) {
	case WHY_FUA:
		snprintf(buf, len, "FUA-acknowledged");
		break;
	case WHY_FLUSH:
		snprintf(buf, len, "acknowledged before Flush %" PRIu64, why >> 2);
		break;
	default:
		snprintf(buf, len, "held when the run began");
		break;
	}
}

static int cmd_verify(const struct opts *o)
{
	struct model m = { 0 };
	struct nvmf_ctrl *c;
	struct nvmf_ns_info ns;
	struct nvmf_qpair *q;
	uint64_t *found, chunk, bad = 0, newer = 0, lost_acked = 0, next_id;
	uint8_t *buf, *scratch;
	int rc;

	if (connect_ns(o, true, &c, &ns))
		return 2;
	q = nvmf_ctrl_qpair(c, 0);
	m.bs = ns.block_size;
	m.nblocks = region_blocks(o, &ns);
	m.base = calloc(m.nblocks, sizeof(uint64_t));
	m.durable = calloc(m.nblocks, sizeof(uint64_t));
	m.acked = calloc(m.nblocks, sizeof(uint64_t));
	m.why = calloc(m.nblocks, sizeof(uint64_t));
	m.snap = calloc(m.nblocks, sizeof(uint64_t));
	m.zlast = calloc(m.nblocks, sizeof(uint64_t));
	found = calloc(m.nblocks, sizeof(uint64_t));
	chunk = (nvmf_ctrl_max_xfer(c) < 131072 ? nvmf_ctrl_max_xfer(c) : 131072) / m.bs;
	buf = aligned_alloc(4096, chunk * m.bs);
	scratch = malloc(m.bs);
	if (!m.base || !m.durable || !m.acked || !m.why || !m.snap || !m.zlast || !found || !buf ||
	    !scratch) {
		perror("calloc");
		return 2;
	}
	if (state_load(o, m.bs, m.nblocks, m.base, &next_id))
		return 2;
	memcpy(m.acked, m.base, m.nblocks * sizeof(uint64_t));
	m.first_id = m.next_id = next_id;
	if (model_load(o, &m))
		return 2;

	for (uint64_t lba = 0; lba < m.nblocks; lba += chunk) {
		uint32_t n = (uint32_t)(m.nblocks - lba < chunk ? m.nblocks - lba : chunk);

		rc = nvmf_read_sync(q, 1, lba, n, buf);
		if (rc) {
			fprintf(stderr, "crash_check: verify: read of lba %" PRIu64 "+%u failed (%d)\n",
				lba, n, rc);
			return 2;
		}
		for (uint32_t i = 0; i < n; i++) {
			uint64_t b = lba + i, id, hl;
			enum blk_kind k = decode_block(buf + (size_t)i * m.bs, m.bs, b, &id, &hl,
						       scratch);
			const struct wrec *w = k == BLK_OK ? model_write(&m, id) : NULL;
			const char *what = NULL;
			char why[64], desc[128];

			/* what the next run starts from: zeroes are id 0 */
			found[b] = k == BLK_OK ? id : 0;
			if (k == BLK_GARBAGE || k == BLK_TORN)
				what = "not a block any write made";
			else if (k == BLK_MISPLACED)
				what = "another block's data";
			else if (k == BLK_ZERO && m.zlast[b])
				id = m.zlast[b];    /* the newest Write Zeroes: the best zeroes can be */
			else if (k == BLK_ZERO && m.base[b] != 0)
				what = "zeroes where a write had landed";
			else if (k == BLK_OK && id != m.base[b] &&
				 (!w || w->zeroes || b < w->lba || b >= w->lba + w->nlb))
				what = "a write not logged for this block (stale or misdirected)";
			if (!what && id < m.durable[b])
				what = "older data: a durable write is lost";
			if (!what && o->strict && id < m.acked[b])
				what = "older data: an acknowledged write is lost";
			if (!what) {
				newer += id > m.durable[b];
				continue;
			}
			if (id < m.acked[b])
				lost_acked++;
			if (bad++ >= REPORT_MAX)
				continue;
			why_text(m.why[b], why, sizeof(why));
			describe(desc, sizeof(desc), k, id, hl);
			w = model_write(&m, m.durable[b]);
			printf("MISMATCH lba %" PRIu64 ": expected %s %" PRIu64 " (%s) or newer"
			       "; newest acknowledged %" PRIu64 "; found %s: %s\n", b,
			       w && w->zeroes ? "Write Zeroes" : "write", m.durable[b], why,
			       m.acked[b], desc, what);
		}
	}
	printf("crash_check: verify: %" PRIu64 " blocks of %u bytes; log: %" PRIu64
	       " writes and Write Zeroes (%" PRIu64 " acknowledged, %" PRIu64 " with FUA), %" PRIu64
	       " flushes completed; %" PRIu64 " blocks newer than their durable write; %"
	       PRIu64 " mismatches%s\n", m.nblocks, m.bs, m.next_id - m.first_id, m.n_acked,
	       m.n_fua, m.n_flushes, newer, bad, bad ? "" : ": ok");
	if (bad > REPORT_MAX)
		printf("(%" PRIu64 " more mismatches not shown)\n", bad - REPORT_MAX);
	if (!bad)
		rc = state_save(o, m.bs, m.nblocks, found, m.next_id) ? 2 : 0;
	else
		rc = 1;
	nvmf_ctrl_disconnect(c);
	free(m.w);
	free(m.base);
	free(m.durable);
	free(m.acked);
	free(m.why);
	free(m.snap);
	free(m.zlast);
	free(found);
	free(buf);
	free(scratch);
	return rc;
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
	fprintf(stderr,
		"usage: crash_check run|verify -a ADDR -s PORT -n NQN -d DIR [options]\n"
		"  --qd N        run: commands in flight (default 32, at most %d)\n"
		"  --blocks N    the region: blocks 0..N-1 (default: 16 MiB)\n"
		"  --seconds S   run: stop after S seconds (default: when the connection dies)\n"
		"  --seed X      run: random seed (default: from the clock)\n"
		"  --no-sync     run: do not fdatasync the log\n"
		"  --strict      verify: an acknowledged write must never be lost (process kill)\n",
		MAX_QD);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 's' },
		{ "nqn", required_argument, NULL, 'n' },
		{ "dir", required_argument, NULL, 'd' },
		{ "qd", required_argument, NULL, 'q' },
		{ "blocks", required_argument, NULL, 'b' },
		{ "seconds", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 'r' },
		{ "strict", no_argument, NULL, 'S' },
		{ "no-sync", no_argument, NULL, 'N' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .addr = "127.0.0.1", .port = "4420", .qd = 32 };
	struct timespec ts;
	const char *mode;
	int ch;

	if (argc < 2)
		usage();
	mode = argv[1];
	clock_gettime(CLOCK_REALTIME, &ts);
	o.seed = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 20 ^ (uint64_t)getpid();
	optind = 2;
	while ((ch = getopt_long(argc, argv, "a:s:n:d:", lo, NULL)) != -1) {
		switch (ch) {
		case 'a': o.addr = optarg; break;
		case 's': o.port = optarg; break;
		case 'n': o.nqn = optarg; break;
		case 'd': o.dir = optarg; break;
		case 'q': o.qd = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'b': o.blocks = strtoull(optarg, NULL, 0); break;
		case 't': o.seconds = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'r': o.seed = strtoull(optarg, NULL, 0); break;
		case 'S': o.strict = true; break;
		case 'N': o.no_sync = true; break;
		default: usage();
		}
	}
	if (!o.nqn || !o.dir || o.qd == 0 || o.qd > MAX_QD)
		usage();
	nvmf_set_log_level(3 /* LOG_ERR: the lost connection is expected */);
	if (strcmp(mode, "run") == 0)
		return cmd_run(&o);
	if (strcmp(mode, "verify") == 0)
		return cmd_verify(&o);
	usage();
	return 2;
}
