/* nvmf perf --plot: see perf-plot.h. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/perf-plot.h"

extern char **environ;

/* Run argv (PATH searched) with stdout/stderr kept; its exit status, or -1. */
static int run(char *const argv[], bool quiet)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int st, rc;

	posix_spawn_file_actions_init(&fa);
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return -1;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool perf_plot_available(void)
{
	char *const argv[] = { "gnuplot", "--version", NULL };

	return run(argv, true) == 0;
}

struct hist_out {
	FILE *f;
	double us;
};

static void put_bucket(void *ctx, uint64_t low, uint64_t high, uint64_t count,
		       uint64_t cumulative, uint64_t total)
{
	struct hist_out *o = ctx;

	/* bucket middle (us), share of all I/Os (%), cumulative share (%) */
	fprintf(o->f, "%.3f %.6f %.6f\n", ((double)low + (double)high) / 2 * o->us,
		100.0 * (double)count / (double)total, 100.0 * (double)cumulative / (double)total);
}

/* gnuplot string literal: single quotes doubled. */
static void put_quoted(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

int perf_plot(const char *png, const char *title, const struct perf_sample *s, unsigned n,
	      const struct perf_hist *h, double us_per_unit)
{
	char dir[] = "/tmp/nvmf-perf-plot.XXXXXX", ts[64], lat[64], gp[64];
	struct hist_out ho = { NULL, us_per_unit };
	FILE *f;
	int rc = -1;

	if (!mkdtemp(dir)) {
		fprintf(stderr, "nvmf perf: --plot: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	snprintf(ts, sizeof(ts), "%s/ts.dat", dir);
	snprintf(lat, sizeof(lat), "%s/lat.dat", dir);
	snprintf(gp, sizeof(gp), "%s/plot.gp", dir);
	f = fopen(ts, "w");
	if (!f)
		goto io_err;
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%.3f %.1f %.3f %.3f\n", s[i].t_s, s[i].iops, s[i].mibps, s[i].mean_us);
	if (!n) /* gnuplot refuses an empty file: one point at 0 */
		fprintf(f, "0 0 0 0\n");
	fclose(f);
	ho.f = fopen(lat, "w");
	if (!ho.f)
		goto io_err;
	perf_hist_iterate(h, put_bucket, &ho);
	if (!h->count)
		fprintf(ho.f, "1 0 0\n");
	fclose(ho.f);
	f = fopen(gp, "w");
	if (!f)
		goto io_err;
	fprintf(f, "set terminal pngcairo size 1400,560 font 'DejaVu Sans,10'\nset output ");
	put_quoted(f, png);
	fprintf(f, "\nset multiplot layout 1,2 title ");
	put_quoted(f, title);
	fprintf(f,
		"\nset grid\nset key top left\n"
		"set title 'IOPS and mean latency, each second'\nset xlabel 'seconds'\n"
		"set ylabel 'IOPS'\nset y2label 'mean latency (us)'\nset ytics nomirror\n"
		"set y2tics\nset yrange [0:*]\nset y2range [0:*]\n"
		"plot '%s' using 1:2 with linespoints title 'IOPS', "
		"'' using 1:4 axes x1y2 with lines title 'mean latency'\n"
		"unset y2tics\nunset y2label\n"
		"set title 'latency histogram'\nset xlabel 'latency (us)'\nset logscale x\n"
		"set ylabel '%% of I/Os'\nset yrange [0:*]\nset y2range [0:100]\nset y2tics\n"
		"set y2label 'cumulative %%'\n"
		"plot '%s' using 1:2 with impulses lw 2 title 'per bucket', "
		"'' using 1:3 axes x1y2 with lines title 'cumulative'\n"
		"unset multiplot\n",
		ts, lat);
	fclose(f);
	{
		char *const argv[] = { "gnuplot", gp, NULL };
		int st = run(argv, false);

		if (st) {
			fprintf(stderr, "nvmf perf: --plot: gnuplot %s\n",
				st < 0 ? "could not be run" : "failed");
			goto out;
		}
	}
	rc = 0;
	goto out;
io_err:
	fprintf(stderr, "nvmf perf: --plot: %s: %s\n", dir, strerror(errno));
out:
	unlink(ts);
	unlink(lat);
	unlink(gp);
	rmdir(dir);
	return rc;
}
