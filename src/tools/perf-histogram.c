/* Log-linear latency histogram for `nvmf perf` (see perf-histogram.h for the layout). */
#include "tools/perf-histogram.h"

#include <string.h>

void perf_hist_init(struct perf_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

uint64_t perf_hist_bucket_low(unsigned idx)
{
	return loglin_low(idx, PERF_HIST_SUB_BITS);
}

uint64_t perf_hist_bucket_high(unsigned idx)
{
	return loglin_high(idx, PERF_HIST_SUB_BITS);
}

void perf_hist_merge(struct perf_hist *dst, const struct perf_hist *src)
{
	if (!src->count)
		return;
	for (unsigned i = 0; i < PERF_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t perf_hist_percentile(const struct perf_hist *h, double pct)
{
	uint64_t rank, seen = 0;
	long double want;

	if (!h->count)
		return 0;
	if (pct >= 100.0)
		return h->max;
	if (pct <= 0.0)
		return h->min;
	/* the rank-th smallest sample, 1-based; computed in long double so p99.99999 of
	 * 10^9 samples is not rounded away */
	want = (long double)pct / 100.0L * (long double)h->count;
	rank = (uint64_t)want;
	if ((long double)rank < want)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	for (unsigned i = 0; i < PERF_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			uint64_t v = perf_hist_bucket_high(i);

			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

double perf_hist_mean(const struct perf_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

void perf_hist_iterate(const struct perf_hist *h, perf_hist_fn fn, void *ctx)
{
	uint64_t seen = 0;

	for (unsigned i = 0; i < PERF_HIST_BUCKETS && seen < h->count; i++) {
		if (!h->buckets[i])
			continue;
		seen += h->buckets[i];
		fn(ctx, perf_hist_bucket_low(i), perf_hist_bucket_high(i), h->buckets[i], seen,
		   h->count);
	}
}
