/*
 * nvmf perf --plot: the run drawn into a PNG by gnuplot (Debian's gnuplot-nox): IOPS and
 * mean latency over time from the one-second samples, and the latency histogram.  Data
 * and script go to a private temporary directory, removed afterwards.
 */
#ifndef NVMF_TOOLS_PERF_PLOT_H
#define NVMF_TOOLS_PERF_PLOT_H

#include <stdbool.h>

#include "tools/perf-histogram.h"

/* One interval of the live status. */
struct perf_sample {
	double t_s;                  /* end of the interval, seconds since the start */
	double iops, mibps, mean_us;
};

/* gnuplot can be run (checked before a run, so that --plot fails early). */
bool perf_plot_available(void);

/*
 * Draw png.  h: latencies in units of us_per_unit microseconds.  Returns 0, or -1 after
 * saying why on stderr.
 */
int perf_plot(const char *png, const char *title, const struct perf_sample *s, unsigned n,
	      const struct perf_hist *h, double us_per_unit);

#endif
