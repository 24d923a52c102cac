/*
 * `nvmf perf`: spdk_nvme_perf's role and flags on libnvmf, so benchmark scripts move
 * between the two.  One thread per core of the -c mask, each pinned, each with its own
 * queue pair(s) and -q I/Os kept in flight; busy-polls like SPDK (or sleeps in
 * nvmf_qpair_wait with --no-poll).  Per-thread preallocated I/O contexts and buffers, an
 * xorshift PRNG for offsets, TSC (or CLOCK_MONOTONIC) stamps per I/O and a log-linear
 * histogram per thread (perf-histogram.c), merged for the totals.
 *
 * --verify writes a pattern that names the LBA, the run's seed and a per-block write
 * version, and checks every read of a block written in this run (read-only workloads first
 * fill their region; write-only workloads read each write back).  Threads then own
 * disjoint LBA ranges and never have two I/Os on one block at once.
 */
#include <ctype.h>
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "nvmf/nvmf.h"
#include "tools/nvmf-perf.h"
#include "tools/perf-histogram.h"
#include "tools/perf-plot.h"
#include "util/ticks.h"

#define PERF_MAX_THREADS 256
#define VERIFY_BUSY 0x80000000u     /* an I/O on this unit is in flight */
#define VERIFY_VERSION 0x7FFFFFFFu  /* the version last written; 0: unknown content */
#define VERIFY_MAX_UNITS (1ull << 20)
#define VERIFY_MAX_BYTES (4ull << 30)
#define VERIFY_RECENT 4096          /* units last written, that mixed reads favour */
#define DRAIN_TIMEOUT_S 20          /* after the end: a reconnect (10 s delay) may still land */
#define MAX_REPORTED_ERRORS 5

enum op { OP_READ, OP_WRITE, OP_READBACK };

struct perf_cfg {
	struct nvmf_trid trid;       /* -r (the first, with several) */
	struct nvmf_trid paths[NVMF_MPATH_MAX_PATHS]; /* every -r: paths of one subsystem */
	unsigned npaths;
	bool mpath;                  /* several -r or --iopolicy: through nvmf_mpath */
	enum nvmf_iopolicy iopolicy;
	uint32_t nsid;               /* -n, else ns: of -r, else 1 */
	unsigned qd, qpairs;         /* -q (per thread), -P (per thread) */
	uint32_t io_size;            /* -o */
	const char *pattern;         /* -w */
	bool random;
	int mix;                     /* -M: read percentage */
	double time_s, warmup_s;     /* -t, -a */
	cpu_set_t cores;             /* -c */
	char core_mask[64];
	bool hdgst, ddgst, verify, poll, no_sqflow;
	int latency_level;           /* -L, -LL */
	const char *json;
	unsigned kato_ms;
	int reconnect_delay_s;       /* -1: the library's default (10) */
	int ctrl_loss_tmo_s;         /* -2: the library's default (600); -1: for ever */
	uint64_t seed;
	bool seed_set;
	const char *dhchap_secret, *dhchap_ctrl_secret;
	const char *tls_key;         /* NVMeTLSkey-1:...: turns TLS on */
	int tls_record;              /* enum nvmf_tls_mode */
	int tls_identity;            /* PSK identity version 0 or 1; -1: the library's default */
	bool tls_compat;             /* libnvme <= 1.15's PSK derivation */
	bool mptcp;                  /* Multipath TCP sockets */
	int status;                  /* live status each second: 1 on, 0 off, -1 if a tty */
	const char *plot;            /* --plot FILE.png */
};

struct worker;

struct task {
	struct worker *w;
	struct nvmf_qpair *q;
	struct nvmf_mpath_queue *mq; /* multipath: instead of q */
	uint8_t *buf;
	struct iovec iov;
	uint64_t unit;               /* io_size unit of the namespace */
	uint64_t submit;             /* ticks */
	uint32_t version;            /* verify: written, or expected on read */
	uint8_t op;
};

struct perf;

struct worker {
	struct perf *p;
	unsigned idx;
	int core;
	pthread_t thread;
	bool started;
	struct nvmf_qpair **qps;
	struct nvmf_mpath_queue **mqs; /* multipath: instead of qps */
	unsigned nqp;
	int epfd;                    /* --no-poll with several queue pairs */
	struct task *tasks;
	unsigned ntasks;
	uint64_t rng;
	uint64_t unit_lo, units;     /* the units this thread's offsets come from */
	uint64_t seq;                /* next sequential unit, relative to unit_lo */
	uint32_t *vstate;            /* verify: per unit, VERIFY_BUSY | version */
	uint64_t *recent;            /* verify, mixed workloads: ring of units written */
	unsigned recent_n, recent_pos;
	uint64_t prefill_next;

	/* time, in ticks */
	uint64_t start, measure_start, end, stop_at, drain_deadline;
	bool stopping, finished, dead;
	unsigned outstanding;

	/* results (completions inside [measure_start, end]) */
	uint64_t ios, reads, writes;
	uint64_t errors, submit_errors;
	uint64_t verified, mismatches, unverified;
	uint64_t last_done, max_gap; /* ticks: the longest wait between two completions */
	uint64_t max_gap_at;         /* ticks: when it ended */
	unsigned stuck;              /* I/Os that never completed */
	double usr_s, sys_s;         /* CPU time of the run, drain included */
	struct perf_hist hist;

	/* every completion (warm-up and drain too), for the live status: the worker stores,
	 * the main thread reads once a second */
	uint64_t all_ios, all_lat;
	_Atomic uint64_t live_ios, live_lat;
	atomic_bool done;
} __attribute__((aligned(64)));

struct gate {
	pthread_mutex_t m;
	pthread_cond_t c;
	unsigned waiting, total;
	bool abort;
};

struct perf {
	struct perf_cfg cfg;
	struct nvmf_ctrl *ctrl;
	struct nvmf_ctrl *ctrls[NVMF_MPATH_MAX_PATHS]; /* multipath: every path's */
	struct nvmf_mpath *mpath;
	struct nvmf_ns_info ns;
	uint32_t nlb;                /* blocks per I/O */
	uint64_t ns_units;           /* I/O units in the namespace */
	uint64_t tag_seed;
	char name[600];              /* "TCP (addr:... subnqn:...) NSID n" */
	struct worker *workers;
	unsigned nworkers;
	struct gate gate;
	struct perf_sample *samples; /* one a second, for --plot */
	unsigned nsamples;
};

/* ------------------------------------------------------------------ clock */

static double g_tick_hz = 1e9;
static volatile sig_atomic_t g_interrupted;

static inline uint64_t mono_ns(void)
{
	return nvmf_ticks_mono_ns();
}

/* util/ticks.h's clock: the TSC where it is usable (else CLOCK_MONOTONIC, 2-3 times the
 * cost per read), shared with the target's statistics */
static inline uint64_t ticks(void)
{
	return nvmf_ticks();
}

static uint64_t ticks_from_s(double s)
{
	return (uint64_t)(s * g_tick_hz);
}

static double ticks_to_us(uint64_t t)
{
	return (double)t * 1e6 / g_tick_hz;
}

/* NVMF_PERF_NO_TSC (as before util/ticks.h's NVMF_NO_TSC) still turns the TSC off. */
static void clock_init(void)
{
	if (getenv("NVMF_PERF_NO_TSC"))
		setenv("NVMF_NO_TSC", "1", 0);
	nvmf_ticks_init();
	g_tick_hz = nvmf_ticks_hz;
}

/* ------------------------------------------------------------------ PRNG, pattern */

static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n) without a division. */
static inline uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(s) * n) >> 64);
}

static inline uint64_t pattern_tag(const struct perf *p, uint32_t version)
{
	return p->tag_seed ^ ((uint64_t)version * 0x9E3779B97F4A7C15ull);
}

static inline uint64_t pattern_word(uint64_t lba, uint64_t tag, size_t i)
{
	if (i == 0)
		return lba;
	if (i == 1)
		return tag;
	return tag ^ (lba * 0xD6E8FEB86659FD93ull) ^ ((uint64_t)i * 0xA0761D6478BD642Full);
}

/* Every block: its LBA, the tag (seed + version), then words derived from both. */
static void pattern_fill(const struct perf *p, uint8_t *buf, uint64_t lba, uint32_t version)
{
	uint64_t tag = pattern_tag(p, version);
	size_t words = p->ns.block_size / 8;

	for (uint32_t b = 0; b < p->nlb; b++) {
		uint64_t *w = (uint64_t *)(buf + (size_t)b * p->ns.block_size);

		for (size_t i = 0; i < words; i++)
			w[i] = htole64(pattern_word(lba + b, tag, i));
	}
}

/* Returns the first mismatching block and word (-1: all good). */
static long pattern_check(const struct perf *p, const uint8_t *buf, uint64_t lba,
			  uint32_t version, uint32_t *blk, size_t *word)
{
	uint64_t tag = pattern_tag(p, version);
	size_t words = p->ns.block_size / 8;

	for (uint32_t b = 0; b < p->nlb; b++) {
		const uint64_t *w = (const uint64_t *)(buf + (size_t)b * p->ns.block_size);

		for (size_t i = 0; i < words; i++) {
			if (le64toh(w[i]) != pattern_word(lba + b, tag, i)) {
				*blk = b;
				*word = i;
				return (long)(b * words + i);
			}
		}
	}
	return -1;
}

static void report_mismatch(struct worker *w, const struct task *t, uint32_t blk, size_t word)
{
	const struct perf *p = w->p;
	const uint64_t *d = (const uint64_t *)(t->buf + (size_t)blk * p->ns.block_size);
	uint64_t lba = t->unit * p->nlb + blk;
	uint64_t tag = pattern_tag(p, t->version);
	const char *why;
	char named[48] = "";

	if (le64toh(d[0]) != lba && le64toh(d[1]) == tag) {
		why = "holds the data of another block";
		snprintf(named, sizeof(named), ", LBA %" PRIu64, le64toh(d[0]));
	} else if (le64toh(d[0]) == lba && le64toh(d[1]) != tag) {
		why = "holds an older write, or another run's";
	} else if (le64toh(d[0]) == lba) {
		why = "is corrupted inside";
	} else {
		why = "holds foreign data";
	}
	fprintf(stderr,
		"nvmf perf: verify: core %d: LBA %" PRIu64 " byte %zu: expected 0x%016" PRIx64
		", read 0x%016" PRIx64 " (the block %s%s)\n",
		w->core, lba, word * 8, pattern_word(lba, tag, word), le64toh(d[word]), why, named);
}

/* ------------------------------------------------------------------ I/O */

static void io_done(void *arg, int status, const struct nvme_cqe *cqe);

static const char *op_name(uint8_t op)
{
	return op == OP_WRITE ? "write" : op == OP_READBACK ? "read-back" : "read";
}

static void report_io_error(struct worker *w, const struct task *t, int status)
{
	char why[64];

	if (w->errors + w->submit_errors > MAX_REPORTED_ERRORS)
		return;
	if (status < 0)
		snprintf(why, sizeof(why), "%s", strerror(-status));
	else
		snprintf(why, sizeof(why), "NVMe status 0x%x (sct %u, sc 0x%02x)", status,
			 (status >> 9) & 7, (status >> 1) & 0xFF);
	fprintf(stderr, "nvmf perf: core %d: %s of LBA %" PRIu64 " (%u blocks) failed: %s%s\n",
		w->core, op_name(t->op), t->unit * w->p->nlb, w->p->nlb, why,
		w->errors + w->submit_errors == MAX_REPORTED_ERRORS ? " (further errors not shown)"
								      : "");
}

/* One queue pair, or one multipath queue over every path's. */
static int q_readv(struct task *t, uint64_t lba, nvmf_io_cb cb)
{
	const struct perf *p = t->w->p;

	if (t->mq)
		return nvmf_mpath_readv(t->mq, lba, p->nlb, &t->iov, 1, cb, t);
	return nvmf_readv(t->q, p->cfg.nsid, lba, p->nlb, &t->iov, 1, cb, t);
}

static int q_writev(struct task *t, uint64_t lba, nvmf_io_cb cb)
{
	const struct perf *p = t->w->p;

	if (t->mq)
		return nvmf_mpath_writev(t->mq, lba, p->nlb, &t->iov, 1, 0, cb, t);
	return nvmf_writev(t->q, p->cfg.nsid, lba, p->nlb, &t->iov, 1, 0, cb, t);
}

static int q_poll(struct worker *w, unsigned i)
{
	return w->mqs ? nvmf_mpath_queue_poll(w->mqs[i], 0) : nvmf_qpair_poll(w->qps[i], 0);
}

static int issue(struct task *t, uint64_t now)
{
	struct worker *w = t->w;
	const struct perf *p = w->p;
	uint64_t lba = t->unit * p->nlb;
	int rc;

	t->submit = now;
	/* a read that moved no data must not pass for the pattern left from the write */
	if (w->vstate && t->op != OP_WRITE)
		memset(t->buf, 0xA5, p->cfg.io_size);
	if (t->op == OP_WRITE)
		rc = q_writev(t, lba, io_done);
	else
		rc = q_readv(t, lba, io_done);
	if (rc) {
		w->submit_errors++;
		report_io_error(w, t, rc);
		if (w->vstate)
			w->vstate[t->unit - w->unit_lo] &= VERIFY_VERSION;
		return rc;
	}
	w->outstanding++;
	return 0;
}

/* The next unit to work on; with --verify one with no I/O in flight. */
static uint64_t pick_unit(struct worker *w)
{
	bool random = w->p->cfg.random;
	uint64_t u = 0;

	for (int tries = 0; tries < 8; tries++) {
		if (random) {
			u = rng_below(&w->rng, w->units);
		} else {
			u = w->seq;
			if (++w->seq == w->units)
				w->seq = 0;
		}
		if (!w->vstate || !(w->vstate[u] & VERIFY_BUSY))
			return w->unit_lo + u;
	}
	/* more units than I/Os in flight: a free one is near */
	while (w->vstate[u] & VERIFY_BUSY)
		u = u + 1 == w->units ? 0 : u + 1;
	return w->unit_lo + u;
}

static int submit_next(struct task *t, uint64_t now)
{
	struct worker *w = t->w;
	const struct perf *p = w->p;
	int mix = p->cfg.mix;
	bool read = mix == 100 || (mix > 0 && (int)rng_below(&w->rng, 100) < mix);

	t->unit = pick_unit(w);
	/* --verify rw: half the reads go to blocks written a moment ago, so that most reads
	 * check something (the others still check whatever the run wrote before) */
	if (read && w->recent && w->recent_n && (rng_next(&w->rng) & 1)) {
		uint64_t u = w->recent[rng_below(&w->rng, w->recent_n)];

		if (!(w->vstate[u - w->unit_lo] & VERIFY_BUSY))
			t->unit = u;
	}
	t->op = read ? OP_READ : OP_WRITE;
	if (w->vstate) {
		uint32_t *st = &w->vstate[t->unit - w->unit_lo];

		if (read) {
			t->version = *st & VERIFY_VERSION;
		} else {
			t->version = (*st & VERIFY_VERSION) + 1;
			if (t->version > VERIFY_VERSION)
				t->version = 1;
			pattern_fill(p, t->buf, t->unit * p->nlb, t->version);
		}
		*st |= VERIFY_BUSY;
	}
	return issue(t, now);
}

static void stop(struct worker *w, uint64_t now)
{
	if (w->stopping)
		return;
	w->stopping = true;
	w->stop_at = now < w->end ? now : w->end;
	w->drain_deadline = now + ticks_from_s(DRAIN_TIMEOUT_S);
}

/* Verification of a completed I/O; returns true when the task goes on with a read-back. */
static bool verify_done(struct worker *w, struct task *t, int status, uint64_t now)
{
	const struct perf *p = w->p;
	uint32_t *st = &w->vstate[t->unit - w->unit_lo];
	uint32_t blk;
	size_t word;

	if (status) {
		*st = 0; /* what the block holds is unknown now */
		return false;
	}
	if (t->op == OP_WRITE) {
		*st = t->version; /* not busy */
		if (w->recent) {
			w->recent[w->recent_pos] = t->unit;
			w->recent_pos = (w->recent_pos + 1) % VERIFY_RECENT;
			if (w->recent_n < VERIFY_RECENT)
				w->recent_n++;
		}
		if (p->cfg.mix == 0) {
			/* write-only workload: read it back (the unit stays busy meanwhile) */
			*st |= VERIFY_BUSY;
			t->op = OP_READBACK;
			return issue(t, now) == 0;
		}
		return false;
	}
	if (!t->version) {
		w->unverified++;
		*st &= VERIFY_VERSION;
		return false;
	}
	if (pattern_check(p, t->buf, t->unit * p->nlb, t->version, &blk, &word) >= 0) {
		if (w->mismatches < MAX_REPORTED_ERRORS)
			report_mismatch(w, t, blk, word);
		w->mismatches++;
		*st = 0;
	} else {
		w->verified++;
		*st &= VERIFY_VERSION;
	}
	return false;
}

static void io_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct task *t = arg;
	struct worker *w = t->w;
	uint64_t now = ticks();

	(void)cqe;
	if (w->finished)
		return; /* failed by the disconnect after the run */
	w->outstanding--;
	w->all_ios++;
	w->all_lat += now - t->submit;
	atomic_store_explicit(&w->live_ios, w->all_ios, memory_order_relaxed);
	atomic_store_explicit(&w->live_lat, w->all_lat, memory_order_relaxed);
	if (now >= w->measure_start && now <= w->end) {
		if (w->last_done > w->measure_start && now - w->last_done > w->max_gap) {
			w->max_gap = now - w->last_done;
			w->max_gap_at = now - w->measure_start;
		}
		w->last_done = now;
		perf_hist_add(&w->hist, now - t->submit);
		w->ios++;
		if (t->op == OP_WRITE)
			w->writes++;
		else
			w->reads++;
	}
	if (status) {
		w->errors++;
		report_io_error(w, t, status);
		if (status == -ENODEV) {
			/* the controller was given up: no point in submitting more */
			w->dead = true;
			stop(w, now);
		}
	}
	if (w->vstate && verify_done(w, t, status, now))
		return;
	if (now >= w->end || g_interrupted)
		stop(w, now);
	if (!w->stopping)
		submit_next(t, now);
}

/* ------------------------------------------------------------------ verify prefill */

static void prefill_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct task *t = arg;
	struct worker *w = t->w;

	(void)cqe;
	if (w->finished)
		return;
	w->outstanding--;
	if (status) {
		w->errors++;
		report_io_error(w, t, status);
		w->vstate[t->unit - w->unit_lo] = 0;
	} else {
		w->vstate[t->unit - w->unit_lo] = 1;
	}
	if (w->prefill_next < w->units && !w->dead && !g_interrupted) {
		const struct perf *p = w->p;
		int rc;

		t->unit = w->unit_lo + w->prefill_next++;
		t->version = 1;
		pattern_fill(p, t->buf, t->unit * p->nlb, 1);
		rc = q_writev(t, t->unit * p->nlb, prefill_done);
		if (rc) {
			w->submit_errors++;
			report_io_error(w, t, rc);
		} else {
			w->outstanding++;
		}
	}
}

/* Read-only workloads with --verify: write every unit of the region once, untimed. */
static void prefill(struct worker *w)
{
	const struct perf *p = w->p;

	w->prefill_next = 0;
	for (unsigned i = 0; i < w->ntasks && w->prefill_next < w->units; i++) {
		struct task *t = &w->tasks[i];

		t->op = OP_WRITE;
		t->unit = w->unit_lo + w->prefill_next++;
		t->version = 1;
		pattern_fill(p, t->buf, t->unit * p->nlb, 1);
		if (q_writev(t, t->unit * p->nlb, prefill_done)) {
			w->submit_errors++;
			continue;
		}
		w->outstanding++;
	}
	while (w->outstanding) {
		for (unsigned i = 0; i < w->nqp; i++)
			if (q_poll(w, i) == -ENODEV)
				w->dead = true;
		if (w->dead)
			break;
	}
}

/* ------------------------------------------------------------------ threads */

static bool gate_wait(struct gate *g)
{
	bool ok;

	pthread_mutex_lock(&g->m);
	if (++g->waiting == g->total)
		pthread_cond_broadcast(&g->c);
	while (g->waiting < g->total && !g->abort)
		pthread_cond_wait(&g->c, &g->m);
	ok = !g->abort;
	pthread_mutex_unlock(&g->m);
	return ok;
}

static void gate_abort(struct gate *g)
{
	pthread_mutex_lock(&g->m);
	g->abort = true;
	pthread_cond_broadcast(&g->c);
	pthread_mutex_unlock(&g->m);
}

static int wait_ms(const struct worker *w, uint64_t now)
{
	uint64_t left;

	if (w->stopping || now >= w->end)
		return 100;
	left = (uint64_t)(ticks_to_us(w->end - now) / 1000.0) + 1;
	return left > 100 ? 100 : (int)left;
}

static int poll_once(struct worker *w, uint64_t now)
{
	int rc, got = 0;

	if (w->p->cfg.poll) {
		for (unsigned i = 0; i < w->nqp; i++) {
			rc = q_poll(w, i);
			if (rc == -ENODEV)
				return rc;
		}
		return 0;
	}
	if (w->nqp == 1) {
		rc = w->mqs ? nvmf_mpath_queue_wait(w->mqs[0], wait_ms(w, now))
			    : nvmf_qpair_wait(w->qps[0], wait_ms(w, now));
		return rc == -ENODEV ? rc : 0;
	}
	for (unsigned i = 0; i < w->nqp; i++) {
		rc = q_poll(w, i);
		if (rc == -ENODEV)
			return rc;
		if (rc > 0)
			got += rc;
	}
	if (!got) {
		struct epoll_event ev[16];

		/* bounded: output a full socket holds back shows up as no input event */
		epoll_wait(w->epfd, ev, 16, wait_ms(w, now) < 10 ? wait_ms(w, now) : 10);
	}
	return 0;
}

static double tv_s(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	const struct perf *p = w->p;
	struct rusage ru0, ru1;
	uint64_t now;

	if (w->vstate && p->cfg.mix == 100)
		prefill(w);
	if (!gate_wait(&w->p->gate))
		return NULL;
	getrusage(RUSAGE_THREAD, &ru0);
	now = ticks();
	w->start = now;
	w->measure_start = now + ticks_from_s(p->cfg.warmup_s);
	w->end = w->measure_start + ticks_from_s(p->cfg.time_s);
	if (w->dead || g_interrupted)
		stop(w, now);
	for (unsigned i = 0; i < w->ntasks && !w->stopping; i++)
		submit_next(&w->tasks[i], now);
	while (w->outstanding) {
		if (poll_once(w, now) == -ENODEV) {
			/* controller given up: every I/O in flight failed through io_done */
			w->dead = true;
			stop(w, ticks());
			break;
		}
		now = ticks();
		if (!w->stopping && (now >= w->end || g_interrupted))
			stop(w, now);
		if (w->stopping && now > w->drain_deadline) {
			w->stuck = w->outstanding;
			break;
		}
	}
	if (!w->stopping)
		stop(w, ticks()); /* every I/O failed to submit */
	getrusage(RUSAGE_THREAD, &ru1);
	w->usr_s = tv_s(&ru1.ru_utime) - tv_s(&ru0.ru_utime);
	w->sys_s = tv_s(&ru1.ru_stime) - tv_s(&ru0.ru_stime);
	atomic_store(&w->done, true);
	return NULL;
}

/* ------------------------------------------------------------------ arguments */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: nvmf perf -r 'trtype:tcp adrfam:ipv4 traddr:ADDR trsvcid:PORT subnqn:NQN [ns:N]'\n"
		"                 -q DEPTH -o BYTES -w PATTERN -t SECONDS [options]\n"
		"  -r, --transport TRID     the controller, as an SPDK transport ID (keys: trtype,\n"
		"                           adrfam, traddr, trsvcid, subnqn, ns, hostnqn, hostaddr;\n"
		"                           case-insensitive; key:value or key=value; '\\' escapes)\n"
		"  -q, --io-depth N         I/Os in flight per thread, spread over its queue pairs\n"
		"  -o, --io-size BYTES      I/O size, a multiple of the block size (k, m suffixes)\n"
		"  -w, --io-pattern P       read, write, randread, randwrite, rw, randrw\n"
		"  -M, --rwmixread PCT      percentage of reads for rw and randrw (default 50)\n"
		"  -t, --time SECONDS       measured run time\n"
		"  -a, --warmup-time SEC    run this long before measuring (default 0)\n"
		"  -c, --core-mask MASK     one pinned thread per core: hex mask (0x6) or list\n"
		"                           ([1,3-4]); default 0x1\n"
		"  -P, --num-qpairs N       queue pairs per thread (default 1)\n"
		"  -n, --nsid NSID          namespace (default: ns: of -r, else 1)\n"
		"  -H, --enable-tcp-hdgst   header digests\n"
		"  -I, --enable-tcp-ddgst   data digests\n"
		"  -k, --keepalive MS       keep-alive timeout (default 5000, 0: none)\n"
		"  -L, --enable-sw-latency-tracking\n"
		"                           latency percentiles per thread and in total; -LL adds\n"
		"                           the histogram\n"
		"  -V, --verify             write a pattern naming LBA, seed and version; check every\n"
		"                           read of a block written in this run (read workloads fill\n"
		"                           their region first, write workloads read back each write)\n"
		"      --seed N             seed of offsets and patterns (default: from the clock)\n"
		"      --poll               busy-poll the queue pairs (default, as spdk_nvme_perf)\n"
		"      --no-poll            sleep until completions arrive (nvmf_qpair_wait)\n"
		"      --json FILE          results as JSON too ('-': standard output)\n"
		"      --reconnect-delay S  seconds between reconnect attempts (default 10)\n"
		"      --iopolicy P         multipath (implied by several -r: paths of one\n"
		"                           subsystem, one namespace): numa (first usable\n"
		"                           path, default), round-robin or queue-depth; paths\n"
		"                           that fail are failed over at once; prints each\n"
		"                           path's I/Os and the longest wait between completions\n"
		"      --ctrl-loss-tmo S    give the controller up after S seconds without it\n"
		"                           (default 600; 0: at once; -1: never); I/Os still\n"
		"                           queued then fail and count as errors\n"
		"      --disable-sqflow     ask the controller to disable SQ flow control (reads\n"
		"                           then complete with C2HData SUCCESS, no response PDU)\n"
		"      --dhchap-secret KEY  DH-HMAC-CHAP host key (DHHC-1:..., as nvme connect -S)\n"
		"      --dhchap-ctrl-secret KEY\n"
		"                           controller key: authenticate the controller too\n"
		"      --tls-key KEY        TLS 1.3 with this PSK (NVMeTLSkey-1:..., as nvme connect)\n"
		"      --tls-record M       where TLS records are made: auto (default), user, kernel\n"
		"      --tls-identity-version V\n"
		"                           PSK identity version 1 (default) or 0\n"
		"      --tls-compat         derive the PSK as libnvme <= 1.15 does (nvme-cli 2.13's\n"
		"                           keys in a Linux target's keyring)\n"
		"      --mptcp              Multipath TCP: subflows on the paths of `ip mptcp\n"
		"                           endpoint`; the end reports each queue's subflows\n"
		"      --status, --no-status\n"
		"                           a status line each second: IOPS, MiB/s, mean latency\n"
		"                           (default: when stderr is a terminal)\n"
		"      --plot FILE.png      draw IOPS and mean latency over time and the latency\n"
		"                           histogram (gnuplot)\n"
		"  -h, --help\n");
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	va_list ap;

	fputs("nvmf perf: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (tolower((unsigned char)*end)) {
	case 0:
		break;
	case 'k':
		mul = 1024;
		break;
	case 'm':
		mul = 1024 * 1024;
		break;
	default:
		return -1;
	}
	if (*end && end[1] && !(tolower((unsigned char)end[1]) == 'i' && end[2] == 0) &&
	    !(tolower((unsigned char)end[1]) == 'b' && end[2] == 0))
		return -1;
	if (v > UINT32_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0) || v > 1e7)
		return -1;
	*out = v;
	return 0;
}

/* "0x6", "6" (hex, as SPDK) or "[0,2-3]". */
static int parse_core_mask(const char *s, cpu_set_t *set)
{
	CPU_ZERO(set);
	if (*s == '[') {
		const char *q = s + 1;

		for (;;) {
			char *end;
			unsigned long a, b;

			errno = 0;
			a = strtoul(q, &end, 10);
			if (end == q || errno || a >= CPU_SETSIZE)
				return -1;
			b = a;
			q = end;
			if (*q == '-') {
				q++;
				b = strtoul(q, &end, 10);
				if (end == q || errno || b >= CPU_SETSIZE || b < a)
					return -1;
				q = end;
			}
			for (unsigned long c = a; c <= b; c++)
				CPU_SET(c, set);
			if (*q == ',') {
				q++;
				continue;
			}
			if (q[0] == ']' && q[1] == 0)
				break;
			return -1;
		}
	} else {
		size_t len;
		unsigned bit = 0;

		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			s += 2;
		len = strlen(s);
		if (!len)
			return -1;
		for (size_t i = len; i-- > 0; bit += 4) {
			int d;

			if (!isxdigit((unsigned char)s[i]))
				return -1;
			d = isdigit((unsigned char)s[i]) ? s[i] - '0'
							 : tolower((unsigned char)s[i]) - 'a' + 10;
			for (unsigned k = 0; k < 4; k++) {
				if (!(d & (1 << k)))
					continue;
				if (bit + k >= CPU_SETSIZE)
					return -1;
				CPU_SET(bit + k, set);
			}
		}
	}
	return CPU_COUNT(set) ? 0 : -1;
}

enum {
	OPT_POLL = 256,
	OPT_NO_POLL,
	OPT_JSON,
	OPT_SEED,
	OPT_NO_SQFLOW,
	OPT_RECONNECT_DELAY,
	OPT_CTRL_LOSS_TMO,
	OPT_DHCHAP_SECRET,
	OPT_DHCHAP_CTRL_SECRET,
	OPT_TLS_KEY,
	OPT_TLS_RECORD,
	OPT_TLS_IDENTITY,
	OPT_TLS_COMPAT,
	OPT_IOPOLICY,
	OPT_MPTCP,
	OPT_STATUS,
	OPT_NO_STATUS,
	OPT_PLOT,
};

static const struct option long_opts[] = {
	{ "transport", required_argument, NULL, 'r' },
	{ "io-depth", required_argument, NULL, 'q' },
	{ "io-size", required_argument, NULL, 'o' },
	{ "io-pattern", required_argument, NULL, 'w' },
	{ "rwmixread", required_argument, NULL, 'M' },
	{ "time", required_argument, NULL, 't' },
	{ "warmup-time", required_argument, NULL, 'a' },
	{ "core-mask", required_argument, NULL, 'c' },
	{ "num-qpairs", required_argument, NULL, 'P' },
	{ "nsid", required_argument, NULL, 'n' },
	{ "enable-tcp-hdgst", no_argument, NULL, 'H' },
	{ "enable-tcp-ddgst", no_argument, NULL, 'I' },
	{ "keepalive", required_argument, NULL, 'k' },
	{ "enable-sw-latency-tracking", no_argument, NULL, 'L' },
	{ "verify", no_argument, NULL, 'V' },
	{ "poll", no_argument, NULL, OPT_POLL },
	{ "no-poll", no_argument, NULL, OPT_NO_POLL },
	{ "json", required_argument, NULL, OPT_JSON },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "disable-sqflow", no_argument, NULL, OPT_NO_SQFLOW },
	{ "reconnect-delay", required_argument, NULL, OPT_RECONNECT_DELAY },
	{ "ctrl-loss-tmo", required_argument, NULL, OPT_CTRL_LOSS_TMO },
	/* nvme-cli's names (nvme connect -S / -C), long only: the short letters are SPDK's */
	{ "dhchap-secret", required_argument, NULL, OPT_DHCHAP_SECRET },
	{ "dhchap-ctrl-secret", required_argument, NULL, OPT_DHCHAP_CTRL_SECRET },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-record", required_argument, NULL, OPT_TLS_RECORD },
	{ "tls-identity-version", required_argument, NULL, OPT_TLS_IDENTITY },
	{ "tls-compat", no_argument, NULL, OPT_TLS_COMPAT },
	{ "iopolicy", required_argument, NULL, OPT_IOPOLICY },
	{ "mptcp", no_argument, NULL, OPT_MPTCP },
	{ "status", no_argument, NULL, OPT_STATUS },
	{ "no-status", no_argument, NULL, OPT_NO_STATUS },
	{ "plot", required_argument, NULL, OPT_PLOT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* 0: go; 1: help printed; -1: bad arguments (reported). */
static int parse_args(struct perf_cfg *c, int argc, char **argv)
{
	const char *trids[NVMF_MPATH_MAX_PATHS], *mask = "0x1";
	unsigned ntrids = 0;
	char err[256];
	bool nsid_set = false, have_q = false, have_o = false, have_t = false, have_m = false;
	uint64_t v;
	int opt;

	memset(c, 0, sizeof(*c));
	c->nsid = 1;
	c->qpairs = 1;
	c->mix = 50;
	c->poll = true;
	c->kato_ms = 5000;
	c->reconnect_delay_s = -1;
	c->ctrl_loss_tmo_s = -2; /* the library's */
	c->tls_identity = -1; /* the library's */
	c->status = -1;
	optind = 0; /* glibc: start over, whatever parsed argv before */
	opterr = 1;
	while ((opt = getopt_long(argc, argv, "r:q:o:w:M:t:a:c:P:n:HIk:LVh", long_opts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'r':
			if (ntrids == NVMF_MPATH_MAX_PATHS)
				return bad("-r: at most %d paths", NVMF_MPATH_MAX_PATHS);
			trids[ntrids++] = optarg;
			break;
		case OPT_IOPOLICY:
			if (nvmf_iopolicy_parse(optarg, &c->iopolicy))
				return bad("--iopolicy %s: numa, round-robin or queue-depth", optarg);
			c->mpath = true;
			break;
		case 'q':
			if (parse_u64(optarg, 65535, &v) || !v)
				return bad("-q %s: a queue depth of at least 1", optarg);
			c->qd = (unsigned)v;
			have_q = true;
			break;
		case 'o':
			if (parse_size(optarg, &v) || !v)
				return bad("-o %s: an I/O size in bytes", optarg);
			c->io_size = (uint32_t)v;
			have_o = true;
			break;
		case 'w':
			c->pattern = optarg;
			break;
		case 'M':
			if (parse_u64(optarg, 100, &v))
				return bad("-M %s: a read percentage 0..100", optarg);
			c->mix = (int)v;
			have_m = true;
			break;
		case 't':
			if (parse_seconds(optarg, &c->time_s) || c->time_s <= 0)
				return bad("-t %s: seconds to run", optarg);
			have_t = true;
			break;
		case 'a':
			if (parse_seconds(optarg, &c->warmup_s))
				return bad("-a %s: seconds of warm-up", optarg);
			break;
		case 'c':
			mask = optarg;
			break;
		case 'P':
			if (parse_u64(optarg, 1024, &v) || !v)
				return bad("-P %s: queue pairs per thread (1..1024)", optarg);
			c->qpairs = (unsigned)v;
			break;
		case 'n':
			if (parse_u64(optarg, 0xFFFFFFFEu, &v) || !v)
				return bad("-n %s: a namespace ID", optarg);
			c->nsid = (uint32_t)v;
			nsid_set = true;
			break;
		case 'H':
			c->hdgst = true;
			break;
		case 'I':
			c->ddgst = true;
			break;
		case 'k':
			if (parse_u64(optarg, 3600000, &v))
				return bad("-k %s: keep-alive timeout in ms", optarg);
			c->kato_ms = (unsigned)v;
			break;
		case 'L':
			c->latency_level++;
			break;
		case 'V':
			c->verify = true;
			break;
		case OPT_POLL:
			c->poll = true;
			break;
		case OPT_NO_POLL:
			c->poll = false;
			break;
		case OPT_JSON:
			c->json = optarg;
			break;
		case OPT_RECONNECT_DELAY:
			if (parse_u64(optarg, 3600, &v) || !v)
				return bad("--reconnect-delay %s: seconds (1..3600)", optarg);
			c->reconnect_delay_s = (int)v;
			break;
		case OPT_CTRL_LOSS_TMO:
			if (!strcmp(optarg, "-1"))
				c->ctrl_loss_tmo_s = -1;
			else if (parse_u64(optarg, 86400, &v))
				return bad("--ctrl-loss-tmo %s: seconds, or -1 for ever", optarg);
			else
				c->ctrl_loss_tmo_s = (int)v;
			break;
		case OPT_NO_SQFLOW:
			c->no_sqflow = true;
			break;
		case OPT_DHCHAP_SECRET:
			c->dhchap_secret = optarg;
			break;
		case OPT_DHCHAP_CTRL_SECRET:
			c->dhchap_ctrl_secret = optarg;
			break;
		case OPT_TLS_KEY:
			c->tls_key = optarg;
			break;
		case OPT_TLS_RECORD:
			if (!strcmp(optarg, "auto"))
				c->tls_record = NVMF_TLS_MODE_AUTO;
			else if (!strcmp(optarg, "user"))
				c->tls_record = NVMF_TLS_MODE_USER;
			else if (!strcmp(optarg, "kernel"))
				c->tls_record = NVMF_TLS_MODE_KERNEL;
			else
				return bad("--tls-record %s: auto, user or kernel", optarg);
			break;
		case OPT_TLS_IDENTITY:
			if (strcmp(optarg, "0") && strcmp(optarg, "1"))
				return bad("--tls-identity-version %s: 0 or 1", optarg);
			c->tls_identity = optarg[0] - '0';
			break;
		case OPT_TLS_COMPAT:
			c->tls_compat = true;
			break;
		case OPT_MPTCP:
			c->mptcp = true;
			break;
		case OPT_STATUS:
			c->status = 1;
			break;
		case OPT_NO_STATUS:
			c->status = 0;
			break;
		case OPT_PLOT:
			c->plot = optarg;
			break;
		case OPT_SEED:
			if (parse_u64(optarg, UINT64_MAX, &c->seed))
				return bad("--seed %s: a number", optarg);
			c->seed_set = true;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind < argc)
		return bad("unexpected argument '%s'", argv[optind]);
	if (!ntrids)
		return bad("-r is required (e.g. -r 'trtype:tcp adrfam:ipv4 traddr:127.0.0.1 "
			   "trsvcid:4420 subnqn:NQN')");
	for (unsigned i = 0; i < ntrids; i++) {
		struct nvmf_trid *t = &c->paths[i];

		if (nvmf_trid_parse(trids[i], t, err, sizeof(err)))
			return bad("-r: %s", err);
		if (!t->subnqn[0])
			return bad("-r: subnqn is required");
		if (!t->trsvcid[0])
			snprintf(t->trsvcid, sizeof(t->trsvcid), "4420");
		/* paths of one namespace: one subsystem, one NSID */
		if (i && strcmp(t->subnqn, c->paths[0].subnqn))
			return bad("-r: paths of different subsystems (%s, %s)", c->paths[0].subnqn,
				   t->subnqn);
		if (i && t->nsid != c->paths[0].nsid)
			return bad("-r: paths with different ns:");
	}
	c->npaths = ntrids;
	c->mpath |= ntrids > 1;
	c->trid = c->paths[0];
	if (c->trid.nsid && !nsid_set)
		c->nsid = c->trid.nsid;
	if (!have_q || !have_o || !c->pattern || !have_t)
		return bad("-q, -o, -w and -t are required");
	if (c->plot && !perf_plot_available())
		return bad("--plot: gnuplot cannot be run (Debian: apt-get install gnuplot-nox)");
	if (!strcmp(c->pattern, "read") || !strcmp(c->pattern, "randread")) {
		c->mix = 100;
	} else if (!strcmp(c->pattern, "write") || !strcmp(c->pattern, "randwrite")) {
		c->mix = 0;
	} else if (strcmp(c->pattern, "rw") && strcmp(c->pattern, "randrw")) {
		return bad("-w %s: read, write, randread, randwrite, rw or randrw", c->pattern);
	} else if (!have_m) {
		c->mix = 50;
	}
	c->random = !strncmp(c->pattern, "rand", 4);
	if (c->qd < c->qpairs)
		return bad("-q %u is less than -P %u: a queue pair would stay idle", c->qd,
			   c->qpairs);
	if ((c->qd + c->qpairs - 1) / c->qpairs + 1 > 1024)
		return bad("-q %u: at most 1023 I/Os per queue pair (queue size 1024); "
			   "use -P to spread them", c->qd);
	if (parse_core_mask(mask, &c->cores))
		return bad("-c %s: a hex core mask (0x6) or a core list ([1,3-4])", mask);
	snprintf(c->core_mask, sizeof(c->core_mask), "%s", mask);
	if (!c->seed_set)
		c->seed = mono_ns() ^ ((uint64_t)getpid() << 32);
	return 0;
}

/* ------------------------------------------------------------------ setup */

static int check_cores(const struct perf_cfg *c, unsigned *n)
{
	cpu_set_t allowed;

	*n = (unsigned)CPU_COUNT(&c->cores);
	if (*n > PERF_MAX_THREADS)
		return bad("-c %s: at most %d cores", c->core_mask, PERF_MAX_THREADS);
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return 0;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &c->cores) && !CPU_ISSET(i, &allowed))
			return bad("-c %s: core %d is not available to this process", c->core_mask,
				   i);
	return 0;
}

static int setup_workers(struct perf *p)
{
	const struct perf_cfg *c = &p->cfg;
	size_t buf_size = ((size_t)c->io_size + 4095) & ~(size_t)4095;
	uint64_t region = p->ns_units, per = 0;
	int core = -1;

	if (c->verify) {
		if (region > VERIFY_MAX_UNITS)
			region = VERIFY_MAX_UNITS;
		if (region > VERIFY_MAX_BYTES / c->io_size)
			region = VERIFY_MAX_BYTES / c->io_size ? VERIFY_MAX_BYTES / c->io_size : 1;
		per = region / p->nworkers;
		if (per < 2ull * c->qd)
			return bad("--verify: %" PRIu64 " I/O units per thread for -q %u; the "
				   "namespace is too small (or use fewer threads / a smaller -o)",
				   per, c->qd);
	}
	p->workers = aligned_alloc(64, sizeof(*p->workers) * p->nworkers);
	if (!p->workers)
		return bad("out of memory");
	memset(p->workers, 0, sizeof(*p->workers) * p->nworkers);
	for (unsigned i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];
		uint8_t *bufs;

		w->p = p;
		w->idx = i;
		w->epfd = -1;
		do
			core++;
		while (!CPU_ISSET(core, &c->cores));
		w->core = core;
		w->rng = (c->seed ^ ((uint64_t)(i + 1) * 0x9E3779B97F4A7C15ull)) | 1;
		perf_hist_init(&w->hist);
		w->nqp = c->qpairs;
		w->qps = calloc(w->nqp, sizeof(*w->qps));
		if (p->mpath)
			w->mqs = calloc(w->nqp, sizeof(*w->mqs));
		w->ntasks = c->qd;
		w->tasks = calloc(w->ntasks, sizeof(*w->tasks));
		bufs = aligned_alloc(4096, buf_size * w->ntasks);
		if (!w->qps || !w->tasks || !bufs || (p->mpath && !w->mqs)) {
			free(bufs);
			return bad("out of memory for %u I/O buffers of %u bytes", c->qd,
				   c->io_size);
		}
		for (unsigned j = 0; j < w->nqp; j++) {
			w->qps[j] = nvmf_ctrl_qpair(p->ctrl, i * c->qpairs + j);
			if (p->mpath && nvmf_mpath_queue_create(p->mpath, i * c->qpairs + j, 0,
								&w->mqs[j]))
				return bad("out of memory");
		}
		if (c->mix < 100 && !c->verify) {
			/* what the writes carry: anything but zeroes */
			for (size_t k = 0; k < buf_size * w->ntasks; k += 8) {
				uint64_t r = rng_next(&w->rng);

				memcpy(bufs + k, &r, 8);
			}
		}
		for (unsigned j = 0; j < w->ntasks; j++) {
			struct task *t = &w->tasks[j];

			t->w = w;
			t->q = w->qps[j % w->nqp];
			t->mq = w->mqs ? w->mqs[j % w->nqp] : NULL;
			t->buf = bufs + buf_size * j;
			t->iov.iov_base = t->buf;
			t->iov.iov_len = c->io_size;
		}
		if (c->verify) {
			w->unit_lo = per * i;
			w->units = per;
			w->vstate = calloc(per, sizeof(*w->vstate));
			if (c->mix > 0 && c->mix < 100)
				w->recent = calloc(VERIFY_RECENT, sizeof(*w->recent));
			if (!w->vstate || (c->mix > 0 && c->mix < 100 && !w->recent))
				return bad("out of memory");
		} else {
			w->unit_lo = 0;
			w->units = p->ns_units;
			/* sequential threads start spread over the namespace */
			w->seq = p->ns_units / p->nworkers * i;
		}
		if (!c->poll && w->nqp > 1) {
			w->epfd = epoll_create1(EPOLL_CLOEXEC);
			if (w->epfd < 0)
				return bad("epoll_create1: %s", strerror(errno));
			for (unsigned j = 0; j < w->nqp; j++) {
				struct epoll_event ev = { .events = EPOLLIN };

				if (epoll_ctl(w->epfd, EPOLL_CTL_ADD,
					      w->mqs ? nvmf_mpath_queue_fd(w->mqs[j])
						     : nvmf_qpair_fd(w->qps[j]), &ev))
					return bad("epoll_ctl: %s", strerror(errno));
			}
		}
	}
	return 0;
}

static void free_workers(struct perf *p)
{
	if (!p->workers)
		return;
	for (unsigned i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];

		if (w->tasks)
			free(w->tasks[0].buf);
		free(w->tasks);
		free(w->mqs);
		free(w->qps);
		free(w->vstate);
		free(w->recent);
		if (w->epfd >= 0)
			close(w->epfd);
	}
	free(p->workers);
	p->workers = NULL;
}

/*
 * While the workers run: each second, what completed in it (IOPS, MiB/s, mean latency) -
 * a status line on stderr (rewritten in place on a terminal, as fio's) and a sample for
 * --plot.
 */
static void watch(struct perf *p)
{
	const struct perf_cfg *c = &p->cfg;
	bool tty = isatty(STDERR_FILENO), show = c->status > 0 || (c->status < 0 && tty);
	uint64_t t0 = mono_ns(), last_ns = t0, last_ios = 0, last_lat = 0;
	double total = c->warmup_s + c->time_s;
	unsigned cap = 0;

	if (!show && !c->plot)
		return;
	for (unsigned k = 1;; k++) {
		uint64_t due = t0 + (uint64_t)k * 1000000000u, now, ios = 0, lat = 0;
		bool all_done;
		double dt, iops, mean;

		for (;;) {
			struct timespec nap = { 0, 50 * 1000 * 1000 };

			all_done = true;
			for (unsigned i = 0; i < p->nworkers; i++)
				all_done &= atomic_load(&p->workers[i].done);
			now = mono_ns();
			if (all_done || now >= due)
				break;
			if (due - now < (uint64_t)nap.tv_nsec)
				nap.tv_nsec = (long)(due - now);
			nanosleep(&nap, NULL);
		}
		for (unsigned i = 0; i < p->nworkers; i++) {
			ios += atomic_load_explicit(&p->workers[i].live_ios, memory_order_relaxed);
			lat += atomic_load_explicit(&p->workers[i].live_lat, memory_order_relaxed);
		}
		dt = (double)(now - last_ns) / 1e9;
		/* the tail after the last full second is too short to say much */
		if (dt >= 0.25 || !all_done) {
			iops = (double)(ios - last_ios) / dt;
			mean = ios > last_ios ? ticks_to_us(lat - last_lat) / (double)(ios - last_ios)
					      : 0;
			if (p->nsamples == cap) {
				struct perf_sample *ns;

				cap = cap ? cap * 2 : 64;
				ns = realloc(p->samples, cap * sizeof(*ns));
				if (!ns)
					break;
				p->samples = ns;
			}
			p->samples[p->nsamples++] = (struct perf_sample){
				.t_s = (double)(now - t0) / 1e9,
				.iops = iops,
				.mibps = iops * c->io_size / (1 << 20),
				.mean_us = mean,
			};
			if (show)
				fprintf(stderr, "%s[%5.1f/%.0f s] %9.0f IOPS %9.2f MiB/s  mean %9.2f us%s",
					tty ? "\r" : "", (double)(now - t0) / 1e9, total, iops,
					iops * c->io_size / (1 << 20), mean, tty ? "   " : "\n");
		}
		last_ns = now;
		last_ios = ios;
		last_lat = lat;
		if (all_done)
			break;
	}
	if (show && tty)
		fputc('\n', stderr);
}

static int run_workers(struct perf *p)
{
	int rc = 0;

	pthread_mutex_init(&p->gate.m, NULL);
	pthread_cond_init(&p->gate.c, NULL);
	p->gate.total = p->nworkers + 1;
	for (unsigned i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];
		pthread_attr_t attr;
		cpu_set_t one;
		int err;

		CPU_ZERO(&one);
		CPU_SET(w->core, &one);
		pthread_attr_init(&attr);
		pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
		err = pthread_create(&w->thread, &attr, worker_main, w);
		pthread_attr_destroy(&attr);
		if (err) {
			rc = bad("thread for core %d: %s", w->core, strerror(err));
			gate_abort(&p->gate);
			break;
		}
		w->started = true;
	}
	if (!rc && gate_wait(&p->gate)) {
		printf("Initialization complete. Launching workers.\n");
		fflush(stdout);
		watch(p);
	}
	for (unsigned i = 0; i < p->nworkers; i++)
		if (p->workers[i].started)
			pthread_join(p->workers[i].thread, NULL);
	for (unsigned i = 0; i < p->nworkers; i++)
		p->workers[i].finished = true;
	pthread_cond_destroy(&p->gate.c);
	pthread_mutex_destroy(&p->gate.m);
	return rc;
}

/* ------------------------------------------------------------------ results */

struct result {
	uint64_t ios, reads, writes;
	double secs, iops, mibps;
	double mean, min, max;       /* us */
};

static const double cutoffs[] = { 1, 10, 25, 50, 75, 90, 95, 98, 99, 99.5, 99.9, 99.99,
				  99.999, 99.9999, 99.99999 };

static double worker_secs(const struct worker *w)
{
	uint64_t stop_at = w->stop_at ? w->stop_at : w->end;

	if (stop_at <= w->measure_start)
		return 0;
	return (double)(stop_at - w->measure_start) / g_tick_hz;
}

static void worker_result(const struct perf *p, const struct worker *w, struct result *r)
{
	memset(r, 0, sizeof(*r));
	r->ios = w->ios;
	r->reads = w->reads;
	r->writes = w->writes;
	r->secs = worker_secs(w);
	if (r->secs > 0) {
		r->iops = (double)w->ios / r->secs;
		r->mibps = r->iops * p->cfg.io_size / (1024.0 * 1024.0);
	}
	if (w->hist.count) {
		r->mean = perf_hist_mean(&w->hist) * 1e6 / g_tick_hz;
		r->min = ticks_to_us(w->hist.min);
		r->max = ticks_to_us(w->hist.max);
	}
}

static void print_cutoffs(const struct perf_hist *h)
{
	for (size_t i = 0; i < sizeof(cutoffs) / sizeof(cutoffs[0]); i++)
		printf("%9.5f%% : %9.3fus\n", cutoffs[i],
		       ticks_to_us(perf_hist_percentile(h, cutoffs[i])));
	printf("%9.5f%% : %9.3fus\n", 100.0, ticks_to_us(h->max));
}

static void print_bucket(void *ctx, uint64_t low, uint64_t high, uint64_t count,
			 uint64_t cumulative, uint64_t total)
{
	(void)ctx;
	printf("%9.3f - %9.3f: %9.4f%%  (%9" PRIu64 ")\n", ticks_to_us(low), ticks_to_us(high),
	       (double)cumulative * 100.0 / (double)total, count);
}

static void print_results(const struct perf *p, const struct perf_hist *all)
{
	int width = (int)strlen(p->name);
	double iops = 0, mibps = 0, min = 0, max = 0;
	bool any = false;

	printf("========================================================\n");
	printf("%*s\n", width + 60, "Latency(us)");
	printf("%-*s: %10s %10s %10s %10s %10s\n", width + 13, "Device Information", "IOPS",
	       "MiB/s", "Average", "min", "max");
	for (unsigned i = 0; i < p->nworkers; i++) {
		const struct worker *w = &p->workers[i];
		struct result r;

		worker_result(p, w, &r);
		if (!r.ios)
			continue;
		printf("%-*.*s from core %2d: %10.2f %10.2f %10.2f %10.2f %10.2f\n", width, width,
		       p->name, w->core, r.iops, r.mibps, r.mean, r.min, r.max);
		iops += r.iops;
		mibps += r.mibps;
		if (!any || r.min < min)
			min = r.min;
		if (r.max > max)
			max = r.max;
		any = true;
	}
	if (any) {
		printf("========================================================\n");
		printf("%-*s: %10.2f %10.2f %10.2f %10.2f %10.2f\n", width + 13, "Total", iops,
		       mibps, perf_hist_mean(all) * 1e6 / g_tick_hz, min, max);
		printf("\n");
	}
	if (!p->cfg.latency_level || !all->count)
		return;
	for (unsigned i = 0; i < p->nworkers; i++) {
		const struct worker *w = &p->workers[i];

		if (!w->hist.count)
			continue;
		printf("Summary latency data for %-43.43s from core %d:\n", p->name, w->core);
		printf("=================================================================================\n");
		print_cutoffs(&w->hist);
		printf("\n");
	}
	printf("Summary latency data for %-43.43s from all cores:\n", p->name);
	printf("=================================================================================\n");
	print_cutoffs(all);
	printf("\n");
	if (p->cfg.latency_level < 2)
		return;
	for (unsigned i = 0; i < p->nworkers; i++) {
		const struct worker *w = &p->workers[i];

		if (!w->hist.count)
			continue;
		printf("Latency histogram for %-43.43s from core %d:\n", p->name, w->core);
		printf("==============================================================================\n");
		printf("       Range in us     Cumulative    IO count\n");
		perf_hist_iterate(&w->hist, print_bucket, NULL);
		printf("\n");
	}
}

static json_object *jdouble(double v, int decimals)
{
	char b[64];

	snprintf(b, sizeof(b), "%.*f", decimals, v);
	return json_object_new_double_s(v, b);
}

static json_object *json_lat(const struct perf_hist *h)
{
	json_object *o = json_object_new_object();
	static const struct {
		const char *key;
		double pct;
	} pcts[] = { { "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p999", 99.9 },
		     { "p9999", 99.99 } };

	json_object_object_add(o, "mean", jdouble(perf_hist_mean(h) * 1e6 / g_tick_hz, 3));
	json_object_object_add(o, "min", jdouble(h->count ? ticks_to_us(h->min) : 0, 3));
	json_object_object_add(o, "max", jdouble(ticks_to_us(h->max), 3));
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		json_object_object_add(o, pcts[i].key,
				       jdouble(ticks_to_us(perf_hist_percentile(h, pcts[i].pct)), 3));
	return o;
}

static void json_counts(json_object *o, uint64_t ios, uint64_t reads, uint64_t writes,
			double iops, double mibps, uint64_t errors)
{
	json_object_object_add(o, "ios", json_object_new_int64((int64_t)ios));
	json_object_object_add(o, "reads", json_object_new_int64((int64_t)reads));
	json_object_object_add(o, "writes", json_object_new_int64((int64_t)writes));
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)errors));
	json_object_object_add(o, "iops", jdouble(iops, 2));
	json_object_object_add(o, "mibps", jdouble(mibps, 2));
}

/*
 * The I/O queues' paths at the end (the workers have stopped polling them) and the
 * reconnects of the run: with MPTCP, a path that failed is no reconnect.
 */
static void print_paths(const struct perf *p)
{
	printf("MPTCP: %u reconnects; subflows per I/O queue now:", nvmf_ctrl_reconnects(p->ctrl));
	for (unsigned i = 0; i < nvmf_ctrl_nr_qpairs(p->ctrl); i++) {
		int n = nvmf_qpair_mptcp_subflows(nvmf_ctrl_qpair(p->ctrl, i));

		if (n > 0)
			printf(" %d", n);
		else
			printf(" %s", n == 0 ? "fallback-to-TCP" : n == -1 ? "TCP" : "down");
	}
	printf("\n");
}

static json_object *json_paths(const struct perf *p)
{
	json_object *o = json_object_new_object(), *sf = json_object_new_array();

	for (unsigned i = 0; i < nvmf_ctrl_nr_qpairs(p->ctrl); i++)
		json_object_array_add(sf, json_object_new_int(
			nvmf_qpair_mptcp_subflows(nvmf_ctrl_qpair(p->ctrl, i))));
	json_object_object_add(o, "reconnects",
			       json_object_new_int64(nvmf_ctrl_reconnects(p->ctrl)));
	json_object_object_add(o, "mptcp_subflows", sf);
	return o;
}

static int write_json(const struct perf *p, const struct perf_hist *all)
{
	const struct perf_cfg *c = &p->cfg;
	json_object *root = json_object_new_object(), *cfg = json_object_new_object();
	json_object *threads = json_object_new_array(), *total;
	uint64_t ios = 0, reads = 0, writes = 0, errors = 0;
	uint64_t verified = 0, mismatches = 0, unverified = 0;
	double iops = 0, mibps = 0, secs = 0;
	char seed[32];
	int rc = 0;

	json_object_object_add(cfg, "trtype", json_object_new_string("tcp"));
	json_object_object_add(cfg, "traddr", json_object_new_string(c->trid.traddr));
	json_object_object_add(cfg, "trsvcid", json_object_new_string(c->trid.trsvcid));
	json_object_object_add(cfg, "subnqn", json_object_new_string(c->trid.subnqn));
	json_object_object_add(cfg, "nsid", json_object_new_int64(c->nsid));
	json_object_object_add(cfg, "block_size", json_object_new_int64(p->ns.block_size));
	json_object_object_add(cfg, "ns_blocks", json_object_new_int64((int64_t)p->ns.nblocks));
	json_object_object_add(cfg, "io_size", json_object_new_int64(c->io_size));
	json_object_object_add(cfg, "queue_depth", json_object_new_int64(c->qd));
	json_object_object_add(cfg, "qpairs_per_thread", json_object_new_int64(c->qpairs));
	json_object_object_add(cfg, "workload", json_object_new_string(c->pattern));
	json_object_object_add(cfg, "rwmixread", json_object_new_int64(c->mix));
	json_object_object_add(cfg, "time_s", jdouble(c->time_s, 3));
	json_object_object_add(cfg, "warmup_s", jdouble(c->warmup_s, 3));
	json_object_object_add(cfg, "core_mask", json_object_new_string(c->core_mask));
	json_object_object_add(cfg, "threads", json_object_new_int64(p->nworkers));
	json_object_object_add(cfg, "hdgst", json_object_new_boolean(c->hdgst));
	json_object_object_add(cfg, "ddgst", json_object_new_boolean(c->ddgst));
	json_object_object_add(cfg, "poll", json_object_new_boolean(c->poll));
	json_object_object_add(cfg, "verify", json_object_new_boolean(c->verify));
	json_object_object_add(cfg, "disable_sqflow", json_object_new_boolean(c->no_sqflow));
	json_object_object_add(cfg, "mptcp", json_object_new_boolean(c->mptcp));
	snprintf(seed, sizeof(seed), "%" PRIu64, c->seed);
	json_object_object_add(cfg, "seed", json_object_new_string(seed));
	json_object_object_add(cfg, "clock", json_object_new_string(nvmf_ticks_tsc ? "tsc" : "monotonic"));
	json_object_object_add(root, "config", cfg);

	for (unsigned i = 0; i < p->nworkers; i++) {
		const struct worker *w = &p->workers[i];
		struct result r;
		json_object *t;
		uint64_t e = w->errors + w->submit_errors + w->stuck;

		worker_result(p, w, &r);
		t = json_object_new_object();
		json_object_object_add(t, "core", json_object_new_int(w->core));
		json_counts(t, r.ios, r.reads, r.writes, r.iops, r.mibps, e);
		json_object_object_add(t, "secs", jdouble(r.secs, 6));
		json_object_object_add(t, "cpu_usr_s", jdouble(w->usr_s, 3));
		json_object_object_add(t, "cpu_sys_s", jdouble(w->sys_s, 3));
		json_object_object_add(t, "lat_us", json_lat(&w->hist));
		json_object_array_add(threads, t);
		ios += r.ios;
		reads += r.reads;
		writes += r.writes;
		errors += e;
		iops += r.iops;
		mibps += r.mibps;
		if (r.secs > secs)
			secs = r.secs;
		verified += w->verified;
		mismatches += w->mismatches;
		unverified += w->unverified;
	}
	json_object_object_add(root, "threads", threads);
	total = json_object_new_object();
	json_counts(total, ios, reads, writes, iops, mibps, errors);
	json_object_object_add(total, "secs", jdouble(secs, 6));
	json_object_object_add(total, "lat_us", json_lat(all));
	json_object_object_add(root, "total", total);
	if (c->mptcp)
		json_object_object_add(root, "paths", json_paths(p));
	if (c->verify) {
		json_object *v = json_object_new_object();

		json_object_object_add(v, "verified", json_object_new_int64((int64_t)verified));
		json_object_object_add(v, "mismatches", json_object_new_int64((int64_t)mismatches));
		json_object_object_add(v, "unverified", json_object_new_int64((int64_t)unverified));
		json_object_object_add(root, "verify", v);
	}
	if (!strcmp(c->json, "-")) {
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								  JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (json_object_to_file_ext(c->json, root, JSON_C_TO_STRING_PRETTY |
				JSON_C_TO_STRING_NOSLASHESCAPE)) {
		rc = bad("--json %s: %s", c->json, json_util_get_last_err());
	}
	json_object_put(root);
	return rc;
}

/* ------------------------------------------------------------------ main */

static void on_signal(int sig)
{
	(void)sig;
	g_interrupted = 1;
}

static int connect_ctrl(struct perf *p)
{
	const struct perf_cfg *c = &p->cfg;
	struct nvmf_ctrl_opts o;
	unsigned per_qp = (c->qd + c->qpairs - 1) / c->qpairs;
	int rc;

	nvmf_ctrl_opts_init(&o);
	nvmf_trid_to_opts(&c->trid, &o);
	o.nr_io_queues = p->nworkers * c->qpairs;
	/* a queue of size N holds N - 1 commands */
	o.queue_size = per_qp + 1 > 128 ? per_qp + 1 : 128;
	o.hdgst = c->hdgst;
	o.ddgst = c->ddgst;
	o.kato_ms = c->kato_ms;
	o.disable_sqflow = c->no_sqflow;
	o.dhchap_secret = c->dhchap_secret;
	o.dhchap_ctrl_secret = c->dhchap_ctrl_secret;
	o.tls_key = c->tls_key;
	o.tls = c->tls_key != NULL;
	o.tls_record = (enum nvmf_tls_mode)c->tls_record;
	if (c->tls_identity >= 0)
		o.tls_identity_version = (unsigned)c->tls_identity;
	o.tls_compat = c->tls_compat;
	o.mptcp = c->mptcp;
	if (c->reconnect_delay_s > 0)
		o.reconnect_delay_s = c->reconnect_delay_s;
	if (c->ctrl_loss_tmo_s != -2)
		o.ctrl_loss_tmo_s = c->ctrl_loss_tmo_s;
	printf("Initializing NVMe Controllers\n");
	fflush(stdout);
	if (c->mpath) {
		struct nvmf_mpath_opts mo;

		nvmf_mpath_opts_init(&mo);
		mo.nsid = c->nsid;
		mo.iopolicy = c->iopolicy;
		if (nvmf_mpath_create(&mo, &p->mpath))
			return bad("out of memory");
	}
	for (unsigned i = 0; i < c->npaths; i++) {
		const struct nvmf_trid *t = &c->paths[i];

		nvmf_trid_to_opts(t, &o);
		rc = nvmf_ctrl_connect(&o, &p->ctrls[i]);
		if (rc)
			return bad("connect to %s:%s (%s): %s", t->traddr, t->trsvcid, t->subnqn,
				   nvmf_strerror_last());
		if (nvmf_ctrl_nr_qpairs(p->ctrls[i]) < o.nr_io_queues)
			return bad("the controller gave %u I/O queues, %u wanted",
				   nvmf_ctrl_nr_qpairs(p->ctrls[i]), o.nr_io_queues);
		printf("Attached to NVMe over Fabrics controller at %s:%s: %s\n", t->traddr,
		       t->trsvcid, t->subnqn);
		if (p->mpath && nvmf_mpath_add_path(p->mpath, p->ctrls[i]))
			return bad("path %s:%s: %s", t->traddr, t->trsvcid, nvmf_strerror_last());
	}
	p->ctrl = p->ctrls[0];
	if (p->mpath)
		printf("Multipath: %u paths, iopolicy %s\n", c->npaths,
		       nvmf_iopolicy_name(c->iopolicy));
	return 0;
}

static int check_namespace(struct perf *p)
{
	const struct perf_cfg *c = &p->cfg;
	uint32_t max_xfer = nvmf_ctrl_max_xfer(p->ctrl);
	int rc = nvmf_ctrl_ns_info(p->ctrl, c->nsid, &p->ns);

	if (rc)
		return bad("namespace %u: %s", c->nsid,
			   rc == -ENOENT ? "not active" : rc < 0 ? strerror(-rc) : "Identify failed");
	if (!p->ns.block_size || c->io_size % p->ns.block_size)
		return bad("-o %u is not a multiple of the block size %u of namespace %u",
			   c->io_size, p->ns.block_size, c->nsid);
	p->nlb = c->io_size / p->ns.block_size;
	if (p->nlb > 65536)
		return bad("-o %u: more than 65536 blocks in one command", c->io_size);
	if (max_xfer && c->io_size > max_xfer)
		return bad("-o %u exceeds the controller's largest transfer (MDTS) of %u bytes",
			   c->io_size, max_xfer);
	p->ns_units = p->ns.nblocks / p->nlb;
	if (!p->ns_units)
		return bad("namespace %u (%" PRIu64 " blocks) is smaller than one I/O",
			   c->nsid, p->ns.nblocks);
	if (p->ns.read_only && c->mix < 100)
		return bad("namespace %u is read-only", c->nsid);
	snprintf(p->name, sizeof(p->name), "TCP (addr:%s subnqn:%s) NSID %u", c->trid.traddr,
		 c->trid.subnqn, c->nsid);
	return 0;
}

/* Multipath: how the I/O went over the paths, and the longest stall a failover made. */
static void print_mpaths(struct perf *p)
{
	uint64_t gap = 0, at = 0;

	for (unsigned i = 0; i < nvmf_mpath_nr_paths(p->mpath); i++) {
		struct nvmf_ctrl *c = nvmf_mpath_path(p->mpath, i);
		enum nvmf_ctrl_state st = nvmf_ctrl_state(c);

		printf("Path %s:%s controller %u: %" PRIu64 " I/Os, %s, ANA %s, %u reconnects\n",
		       nvmf_ctrl_traddr(c), nvmf_ctrl_trsvcid(c), nvmf_ctrl_cntlid(c),
		       nvmf_mpath_path_ios(p->mpath, i),
		       st == NVMF_CTRL_LIVE ? "live" : st == NVMF_CTRL_RECONNECTING ? "reconnecting"
										: "dead",
		       nvmf_ana_state_name(nvmf_ctrl_ana_state(c, p->cfg.nsid)),
		       nvmf_ctrl_reconnects(c));
	}
	for (unsigned i = 0; i < p->nworkers; i++)
		if (p->workers[i].max_gap > gap) {
			gap = p->workers[i].max_gap;
			at = p->workers[i].max_gap_at;
		}
	printf("Longest wait between two completions: %.1f ms, ended %.3f s into the run\n",
	       ticks_to_us(gap) / 1000.0, ticks_to_us(at) / 1e6);
}

int nvmf_perf_main(int argc, char **argv)
{
	struct perf *p = calloc(1, sizeof(*p));
	struct perf_hist *all = malloc(sizeof(*all));
	struct sigaction sa, old_int, old_term;
	uint64_t errors = 0, stuck = 0, verified = 0, mismatches = 0, unverified = 0;
	bool dead = false;
	int rc;

	if (!p || !all) {
		free(p);
		free(all);
		bad("out of memory");
		return 1;
	}
	perf_hist_init(all);
	rc = parse_args(&p->cfg, argc, argv);
	if (rc) {
		free(p);
		free(all);
		return rc > 0 ? 0 : 1;
	}
	if (check_cores(&p->cfg, &p->nworkers)) {
		free(p);
		free(all);
		return 1;
	}
	p->tag_seed = p->cfg.seed * 0xD1B54A32D192ED03ull + 1;
	clock_init();
	g_interrupted = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = (int)SA_RESETHAND; /* a second ^C kills */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);

	rc = connect_ctrl(p);
	if (!rc)
		rc = check_namespace(p);
	if (!rc)
		rc = setup_workers(p);
	if (!rc) {
		for (unsigned i = 0; i < p->nworkers; i++)
			printf("Associating %s with lcore %d\n", p->name, p->workers[i].core);
		if (p->cfg.verify && p->cfg.mix == 100)
			printf("Verify: writing the pattern over %" PRIu64 " MiB first (untimed)\n",
			       p->workers[0].units * p->nworkers * p->cfg.io_size >> 20);
		fflush(stdout);
		rc = run_workers(p);
	}
	if (!rc) {
		for (unsigned i = 0; i < p->nworkers; i++) {
			const struct worker *w = &p->workers[i];

			perf_hist_merge(all, &w->hist);
			errors += w->errors + w->submit_errors;
			stuck += w->stuck;
			verified += w->verified;
			mismatches += w->mismatches;
			unverified += w->unverified;
			dead |= w->dead;
		}
		print_results(p, all);
		if (p->cfg.mptcp)
			print_paths(p);
		if (p->mpath)
			print_mpaths(p);
		if (p->cfg.verify)
			printf("Verify: %" PRIu64 " reads checked, %" PRIu64 " mismatches, %" PRIu64
			       " reads of blocks not written in this run\n",
			       verified, mismatches, unverified);
		if (errors)
			fprintf(stderr, "nvmf perf: %" PRIu64 " I/O errors\n", errors);
		if (stuck)
			fprintf(stderr, "nvmf perf: %" PRIu64 " I/Os did not complete within %d s of "
				"the end\n", stuck, DRAIN_TIMEOUT_S);
		if (dead)
			fprintf(stderr, "nvmf perf: the controller was lost: %s\n",
				"given up after ctrl_loss_tmo");
		if (p->cfg.json && write_json(p, all))
			rc = -1;
		if (p->cfg.plot && perf_plot(p->cfg.plot, p->name, p->samples, p->nsamples, all,
					     ticks_to_us(1)))
			rc = -1;
		if (errors || stuck || mismatches || dead)
			rc = -1;
	}
	fflush(stdout);
	/* multipath queues first: what they still hold fails into the tasks, still there */
	for (unsigned i = 0; p->workers && i < p->nworkers; i++)
		for (unsigned j = 0; p->workers[i].mqs && j < p->workers[i].nqp; j++) {
			nvmf_mpath_queue_free(p->workers[i].mqs[j]);
			p->workers[i].mqs[j] = NULL;
		}
	nvmf_mpath_destroy(p->mpath);
	for (unsigned i = 0; i < NVMF_MPATH_MAX_PATHS; i++)
		nvmf_ctrl_disconnect(p->ctrls[i]);
	free_workers(p);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	free(p->samples);
	free(p);
	free(all);
	return rc ? 1 : 0;
}
