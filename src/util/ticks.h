/*
 * A cheap clock for latencies: the TSC where the CPU says it ticks at a constant rate
 * through idle states (constant_tsc and nonstop_tsc), calibrated once against
 * CLOCK_MONOTONIC; else CLOCK_MONOTONIC itself.  Reading the TSC is a few ns where
 * clock_gettime() is 20 ns on a TSC clocksource and 100+ ns on others (kvm-clock, hpet):
 * what one read per command costs the target's statistics and nvmf perf.
 */
#ifndef NVMF_UTIL_TICKS_H
#define NVMF_UTIL_TICKS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

extern bool nvmf_ticks_tsc;        /* ticks are TSC cycles (else nanoseconds) */
extern uint64_t nvmf_ticks_mult;   /* ns = ticks * mult >> 32 */
extern double nvmf_ticks_hz;       /* ticks a second */

/*
 * Calibrate (once per process, thread-safe; about 50 ms the first time).  Without a
 * usable TSC, or with NVMF_NO_TSC in the environment, ticks are CLOCK_MONOTONIC ns.
 * Until it has run, ticks are nanoseconds.
 */
void nvmf_ticks_init(void);

static inline uint64_t nvmf_ticks_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t nvmf_ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	if (nvmf_ticks_tsc)
		return __rdtsc();
#endif
	return nvmf_ticks_mono_ns();
}

static inline uint64_t nvmf_ticks_to_ns(uint64_t t)
{
	if (!nvmf_ticks_tsc)
		return t;
	return (uint64_t)(((unsigned __int128)t * nvmf_ticks_mult) >> 32);
}

#endif
