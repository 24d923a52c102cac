/* The latency clock's calibration (see ticks.h). */
#include "util/ticks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool nvmf_ticks_tsc;
uint64_t nvmf_ticks_mult = 1ull << 32;
double nvmf_ticks_hz = 1e9;

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void calibrate(void)
{
#if defined(__x86_64__) || defined(__i386__)
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	bool constant = false, nonstop = false;
	uint64_t t0, c0, t1, c1;
	struct timespec nap = { 0, 50 * 1000 * 1000 };
	double hz;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5))
			continue;
		constant = strstr(line, " constant_tsc") != NULL;
		nonstop = strstr(line, " nonstop_tsc") != NULL;
		break;
	}
	fclose(f);
	if (!constant || !nonstop || getenv("NVMF_NO_TSC"))
		return;
	t0 = nvmf_ticks_mono_ns();
	c0 = __rdtsc();
	nanosleep(&nap, NULL);
	t1 = nvmf_ticks_mono_ns();
	c1 = __rdtsc();
	if (t1 <= t0 || c1 <= c0)
		return;
	hz = (double)(c1 - c0) * 1e9 / (double)(t1 - t0);
	nvmf_ticks_hz = hz;
	nvmf_ticks_mult = (uint64_t)(1e9 * 4294967296.0 / hz);
	nvmf_ticks_tsc = true;   /* before any reactor starts: thread creation orders it */
#endif
}

void nvmf_ticks_init(void)
{
	pthread_once(&once, calibrate);
}
