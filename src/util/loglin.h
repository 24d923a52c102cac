/*
 * Log-linear bucket arithmetic, shared by every latency histogram of the project (nvmf
 * perf's, the target's statistics), in the manner of HdrHistogram.
 *
 * With b sub-bucket bits: values below 2^(b+1) get a bucket each; above, every power-of-two
 * range [2^k, 2^(k+1)) is cut into 2^b equal buckets, so a bucket's width is at most 2^-b
 * of its lowest value and any value read back is within that relative error.  The whole
 * uint64_t range fits in LOGLIN_BUCKETS(b) buckets; finding one is a count-leading-zeroes
 * and a shift, no branch on the data.  b is a compile-time constant at every caller, so
 * the functions fold to the same code as hand-written constants.
 */
#ifndef NVMF_UTIL_LOGLIN_H
#define NVMF_UTIL_LOGLIN_H

#include <stdint.h>

#define LOGLIN_SUB(b) (1u << (b))          /* buckets per power of two */
#define LOGLIN_LINEAR(b) (2u << (b))       /* values with a bucket each */
/* msb b+1..63: 63 - b ranges of LOGLIN_SUB(b) buckets above the linear part */
#define LOGLIN_BUCKETS(b) (LOGLIN_LINEAR(b) + (64u - (b) - 1u) * LOGLIN_SUB(b))

/* The bucket of value v. */
static inline unsigned loglin_index(uint64_t v, unsigned b)
{
	unsigned msb, shift;

	if (v < LOGLIN_LINEAR(b))
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - b;
	/* v >> shift is in [SUB, 2 * SUB) */
	return LOGLIN_LINEAR(b) + (shift - 1u) * LOGLIN_SUB(b) + (unsigned)(v >> shift) -
	       LOGLIN_SUB(b);
}

/* Lowest value that lands in bucket idx (idx < LOGLIN_BUCKETS(b)). */
static inline uint64_t loglin_low(unsigned idx, unsigned b)
{
	unsigned shift, sub;

	if (idx < LOGLIN_LINEAR(b))
		return idx;
	shift = (idx - LOGLIN_LINEAR(b)) / LOGLIN_SUB(b) + 1u;
	sub = (idx - LOGLIN_LINEAR(b)) % LOGLIN_SUB(b) + LOGLIN_SUB(b);
	return (uint64_t)sub << shift;
}

/* Highest value that lands in bucket idx. */
static inline uint64_t loglin_high(unsigned idx, unsigned b)
{
	if (idx + 1u >= LOGLIN_BUCKETS(b))
		return UINT64_MAX;
	return loglin_low(idx + 1u, b) - 1u;
}

#endif
