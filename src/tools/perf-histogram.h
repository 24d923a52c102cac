/*
 * Latency histogram for `nvmf perf`: log-linear buckets in the manner of HdrHistogram.
 *
 * Values below 2 * PERF_HIST_SUB (128) get a bucket each; above, every power-of-two range
 * [2^k, 2^(k+1)) is cut into PERF_HIST_SUB (64) equal buckets, so a bucket's width is at
 * most 1/64 of its lowest value: any value read back (a percentile) is within 1/64 (1.6 %)
 * of the value recorded.  The whole uint64_t range fits in PERF_HIST_BUCKETS counters
 * (30 KiB), recording is a few instructions and no branches on the data, and histograms of
 * several threads merge by adding counters.
 *
 * The unit is the caller's (nanoseconds, TSC ticks): the relative error does not depend on
 * it.  Not thread-safe: one histogram per thread, merged after the run.
 */
#ifndef NVMF_TOOLS_PERF_HISTOGRAM_H
#define NVMF_TOOLS_PERF_HISTOGRAM_H

#include <stdbool.h>
#include <stdint.h>

#include "util/loglin.h"

/* the bucket arithmetic is util/loglin.h's, shared with the target's statistics */
#define PERF_HIST_SUB_BITS 6
#define PERF_HIST_SUB LOGLIN_SUB(PERF_HIST_SUB_BITS)         /* buckets per power of two */
#define PERF_HIST_LINEAR LOGLIN_LINEAR(PERF_HIST_SUB_BITS)   /* values with a bucket each */
#define PERF_HIST_BUCKETS LOGLIN_BUCKETS(PERF_HIST_SUB_BITS)

struct perf_hist {
	uint64_t count;
	uint64_t min, max;           /* exact; min is UINT64_MAX while empty */
	uint64_t sum;                /* 2^64 ns is 584 years of summed latency */
	uint64_t buckets[PERF_HIST_BUCKETS];
};

/* The bucket of a value. */
static inline unsigned perf_hist_index(uint64_t v)
{
	return loglin_index(v, PERF_HIST_SUB_BITS);
}

static inline void perf_hist_add(struct perf_hist *h, uint64_t v)
{
	h->buckets[perf_hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void perf_hist_init(struct perf_hist *h);
/* Lowest and highest value that land in bucket idx (idx < PERF_HIST_BUCKETS). */
uint64_t perf_hist_bucket_low(unsigned idx);
uint64_t perf_hist_bucket_high(unsigned idx);
/* dst += src */
void perf_hist_merge(struct perf_hist *dst, const struct perf_hist *src);
/*
 * The value at percentile pct (0..100]: the highest value of the bucket that holds the
 * ceil(pct/100 * count)-th smallest sample, clamped to [min, max] (so p100 is the max).
 * 0 for an empty histogram.
 */
uint64_t perf_hist_percentile(const struct perf_hist *h, double pct);
double perf_hist_mean(const struct perf_hist *h);

/* Calls fn for every non-empty bucket in ascending order with the running count. */
typedef void (*perf_hist_fn)(void *ctx, uint64_t low, uint64_t high, uint64_t count,
			     uint64_t cumulative, uint64_t total);
void perf_hist_iterate(const struct perf_hist *h, perf_hist_fn fn, void *ctx);

#endif
