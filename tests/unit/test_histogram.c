/* The `nvmf perf` latency histogram: bucket layout, bounded error, percentiles, merging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tools/perf-histogram.h"

static struct perf_hist *new_hist(void)
{
	struct perf_hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	perf_hist_init(h);
	return h;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void check_value(uint64_t v)
{
	unsigned idx = perf_hist_index(v);

	assert_true(idx < PERF_HIST_BUCKETS);
	assert_true(perf_hist_bucket_low(idx) <= v);
	assert_true(perf_hist_bucket_high(idx) >= v);
}

/* Every value lands in a bucket whose bounds contain it. */
static void value_in_its_bucket(void **state)
{
	uint64_t s = 0x9E3779B97F4A7C15ull;

	(void)state;
	for (uint64_t v = 0; v < 200000; v++)
		check_value(v);
	for (unsigned b = 0; b < 64; b++) {
		uint64_t p = 1ull << b;

		check_value(p);
		check_value(p - 1);
		check_value(p + 1);
		check_value(p | (p >> 1));
	}
	check_value(UINT64_MAX);
	for (int i = 0; i < 1000000; i++)
		check_value(xorshift(&s) >> (i % 64));
}

/* The buckets tile [0, 2^64) without gaps or overlaps, in ascending order. */
static void buckets_tile_the_range(void **state)
{
	(void)state;
	assert_int_equal(perf_hist_bucket_low(0), 0);
	for (unsigned i = 0; i + 1 < PERF_HIST_BUCKETS; i++) {
		assert_true(perf_hist_bucket_low(i) <= perf_hist_bucket_high(i));
		assert_true(perf_hist_bucket_high(i) + 1 == perf_hist_bucket_low(i + 1));
		assert_int_equal(perf_hist_index(perf_hist_bucket_low(i)), i);
		assert_int_equal(perf_hist_index(perf_hist_bucket_high(i)), i);
	}
	assert_true(perf_hist_bucket_high(PERF_HIST_BUCKETS - 1) == UINT64_MAX);
	assert_int_equal(perf_hist_index(UINT64_MAX), PERF_HIST_BUCKETS - 1);
}

/* Below 128 each value has its own bucket; above, a bucket is at most 1/64 of its values. */
static void relative_error_bounded(void **state)
{
	(void)state;
	for (unsigned i = 0; i < PERF_HIST_LINEAR; i++)
		assert_true(perf_hist_bucket_low(i) == perf_hist_bucket_high(i));
	for (unsigned i = PERF_HIST_LINEAR; i < PERF_HIST_BUCKETS; i++) {
		uint64_t lo = perf_hist_bucket_low(i), hi = perf_hist_bucket_high(i);

		/* width / lowest value <= 1/64 (the top bucket's width is 2^57: no overflow) */
		assert_true(hi - lo + 1 <= lo / PERF_HIST_SUB);
	}
}

static void assert_within(uint64_t got, uint64_t want)
{
	uint64_t d = got > want ? got - want : want - got;

	if (d * PERF_HIST_SUB > want) {
		print_error("got %llu, want %llu (+-1/64)\n", (unsigned long long)got,
			    (unsigned long long)want);
		fail();
	}
}

/* 1..100000 once each: percentiles within 1/64 of the exact order statistics. */
static void percentiles_of_uniform_data(void **state)
{
	struct perf_hist *h = new_hist();
	const double pcts[] = { 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99 };

	(void)state;
	for (uint64_t v = 1; v <= 100000; v++)
		perf_hist_add(h, v);
	assert_int_equal(h->count, 100000);
	assert_int_equal(h->min, 1);
	assert_int_equal(h->max, 100000);
	assert_true(perf_hist_mean(h) > 50000.49 && perf_hist_mean(h) < 50000.51);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		uint64_t want = (uint64_t)(pcts[i] * 1000.0 + 0.5);
		uint64_t got = perf_hist_percentile(h, pcts[i]);

		assert_within(got, want);
		/* reported as the bucket's top: never below the exact value */
		assert_true(got >= want);
	}
	assert_int_equal(perf_hist_percentile(h, 100.0), 100000);
	assert_int_equal(perf_hist_percentile(h, 0.0), 1);
	free(h);
}

/* Small values are exact; percentiles never leave [min, max]. */
static void small_values_exact(void **state)
{
	struct perf_hist *h = new_hist();

	(void)state;
	for (int i = 0; i < 90; i++)
		perf_hist_add(h, 10);
	for (int i = 0; i < 9; i++)
		perf_hist_add(h, 20);
	perf_hist_add(h, 1000003);
	assert_int_equal(perf_hist_percentile(h, 50), 10);
	assert_int_equal(perf_hist_percentile(h, 90), 10);
	assert_int_equal(perf_hist_percentile(h, 90.5), 20);
	assert_int_equal(perf_hist_percentile(h, 99), 20);
	/* the top bucket's upper bound is past the max: clamped */
	assert_int_equal(perf_hist_percentile(h, 99.5), 1000003);
	assert_int_equal(perf_hist_percentile(h, 100), 1000003);
	assert_int_equal(perf_hist_percentile(h, 0.001), 10);
	free(h);
}

/* One sample: every percentile is that sample, even when it is not a bucket edge. */
static void single_sample(void **state)
{
	struct perf_hist *h = new_hist();

	(void)state;
	perf_hist_add(h, 123457);
	assert_int_equal(perf_hist_percentile(h, 0.01), 123457);
	assert_int_equal(perf_hist_percentile(h, 50), 123457);
	assert_int_equal(perf_hist_percentile(h, 99.999), 123457);
	assert_true(perf_hist_mean(h) == 123457.0);
	free(h);
}

static void empty_histogram(void **state)
{
	struct perf_hist *h = new_hist();

	(void)state;
	assert_int_equal(h->count, 0);
	assert_int_equal(perf_hist_percentile(h, 50), 0);
	assert_int_equal(perf_hist_percentile(h, 100), 0);
	assert_true(perf_hist_mean(h) == 0.0);
	free(h);
}

static void extremes(void **state)
{
	struct perf_hist *h = new_hist();

	(void)state;
	perf_hist_add(h, 0);
	perf_hist_add(h, UINT64_MAX);
	assert_int_equal(h->min, 0);
	assert_true(h->max == UINT64_MAX);
	assert_int_equal(h->buckets[0], 1);
	assert_int_equal(h->buckets[PERF_HIST_BUCKETS - 1], 1);
	assert_int_equal(perf_hist_percentile(h, 50), 0);
	assert_true(perf_hist_percentile(h, 50.1) == UINT64_MAX);
	free(h);
}

/* Merging per-thread histograms equals recording everything in one. */
static void merge_equals_one(void **state)
{
	struct perf_hist *a = new_hist(), *b = new_hist(), *all = new_hist(), *m = new_hist();
	struct perf_hist *none = new_hist();
	uint64_t s = 12345;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint64_t v = 5000 + xorshift(&s) % 2000000;

		perf_hist_add(i % 3 ? a : b, v);
		perf_hist_add(all, v);
	}
	perf_hist_merge(m, a);
	perf_hist_merge(m, b);
	perf_hist_merge(m, none); /* merging an empty one changes nothing */
	assert_int_equal(m->count, all->count);
	assert_int_equal(m->min, all->min);
	assert_int_equal(m->max, all->max);
	assert_true(m->sum == all->sum);
	assert_memory_equal(m->buckets, all->buckets, sizeof(all->buckets));
	for (double p = 0.5; p < 100; p += 0.5)
		assert_true(perf_hist_percentile(m, p) == perf_hist_percentile(all, p));
	free(a);
	free(b);
	free(all);
	free(m);
	free(none);
}

struct iter_check {
	uint64_t last_high, seen, calls;
	bool first;
};

static void iter_cb(void *ctx, uint64_t low, uint64_t high, uint64_t count,
		    uint64_t cumulative, uint64_t total)
{
	struct iter_check *c = ctx;

	assert_true(count > 0);
	assert_true(low <= high);
	assert_true(c->first || low > c->last_high);
	c->first = false;
	c->last_high = high;
	c->seen += count;
	assert_int_equal(cumulative, c->seen);
	assert_int_equal(total, 1000);
	c->calls++;
}

static void iterate_non_empty_ascending(void **state)
{
	struct perf_hist *h = new_hist();
	struct iter_check c = { .first = true };

	(void)state;
	for (int i = 0; i < 1000; i++)
		perf_hist_add(h, (uint64_t)(i % 10) * 1000 + 7);
	perf_hist_iterate(h, iter_cb, &c);
	assert_int_equal(c.seen, 1000);
	assert_int_equal(c.calls, 10);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(value_in_its_bucket),
		cmocka_unit_test(buckets_tile_the_range),
		cmocka_unit_test(relative_error_bounded),
		cmocka_unit_test(percentiles_of_uniform_data),
		cmocka_unit_test(small_values_exact),
		cmocka_unit_test(single_sample),
		cmocka_unit_test(empty_histogram),
		cmocka_unit_test(extremes),
		cmocka_unit_test(merge_equals_one),
		cmocka_unit_test(iterate_non_empty_ascending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
