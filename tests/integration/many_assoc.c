/*
 * many-assoc: connect COUNT idle associations (admin + one I/O queue each, assoc.h) to one
 * target and measure the target's resident memory per association; then hold them until
 * SIGTERM / SIGINT (bench/run measures an active association's latency meanwhile).
 *
 *   many-assoc -a ADDR -s PORT -N SUBNQN -n COUNT -p TARGET_PID [--json FILE] [--no-hold]
 *
 * The first few associations are opened before the baseline is taken: one-time costs (the
 * reactor's first buffers, the first controller's log pages) are not per association.
 * THREADS threads open the rest, each its share one after the other: set-up is a chain of
 * round trips, and on a busy machine each waits for the target's turn on its core.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "assoc.h"
#include "target_proc.h"

#define WARM 16
#define THREADS 8
#define CHUNK 50                /* associations a thread opens between looks at stop */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct share {
	struct assoc *a;
	int n, got, err;
	bool thread;              /* runs in a thread of its own (else it ran inline) */
	const char *addr, *nqn;
	uint16_t port;
};

static void *open_share(void *arg)
{
	struct share *sh = arg;

	while (sh->got < sh->n && !stop) {
		int k = sh->n - sh->got < CHUNK ? sh->n - sh->got : CHUNK;
		int got = assoc_open(sh->a + sh->got, k, sh->addr, sh->port, sh->nqn, &sh->err);

		sh->got += got;
		if (got < k)
			break;
	}
	return NULL;
}

/* Open n associations into a with THREADS threads; how many opened (first error in *err). */
static int open_all(struct assoc *a, int n, const char *addr, uint16_t port, const char *nqn,
		    int *err)
{
	struct share sh[THREADS];
	pthread_t th[THREADS];
	int got = 0, ok = 1;

	*err = 0;
	for (int t = 0; t < THREADS; t++) {
		int from = (int)((long)n * t / THREADS), to = (int)((long)n * (t + 1) / THREADS);

		sh[t] = (struct share){ .a = a + from, .n = to - from, .addr = addr, .nqn = nqn,
					.port = port };
		sh[t].thread = pthread_create(&th[t], NULL, open_share, &sh[t]) == 0;
		if (!sh[t].thread)
			open_share(&sh[t]);
	}
	for (int t = 0; t < THREADS; t++)
		if (sh[t].thread)
			pthread_join(th[t], NULL);
	/* keep the opened ones contiguous: close what comes after a gap */
	for (int t = 0; t < THREADS; t++) {
		int from = (int)((long)n * t / THREADS);

		if (ok && sh[t].got == sh[t].n) {
			got += sh[t].got;
			continue;
		}
		if (ok) {
			got += sh[t].got;
			*err = sh[t].err ? sh[t].err : -EINTR;
			ok = 0;
			continue;
		}
		assoc_close(a + from, sh[t].got);
	}
	return got;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", required_argument, NULL, 'j' },
		{ "no-hold", no_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	const char *addr = "127.0.0.1", *nqn = NULL, *json = NULL;
	int port = 0, n = 0, pid = 0, hold = 1, opt, err = 0, got, warm;
	long rss_empty, rss0, rss1;
	struct assoc *a;
	double t0, t1;
	FILE *f;

	while ((opt = getopt_long(argc, argv, "a:s:N:n:p:", opts, NULL)) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 's': port = atoi(optarg); break;
		case 'N': nqn = optarg; break;
		case 'n': n = atoi(optarg); break;
		case 'p': pid = atoi(optarg); break;
		case 'j': json = optarg; break;
		case 'x': hold = 0; break;
		default: return 2;
		}
	}
	if (!nqn || port <= 0 || n <= WARM || pid <= 0) {
		fprintf(stderr, "usage: many-assoc -a ADDR -s PORT -N SUBNQN -n COUNT(>%d) "
				"-p TARGET_PID [--json FILE] [--no-hold]\n", WARM);
		return 2;
	}
	if (assoc_raise_nofile(2L * n + 64)) {
		fprintf(stderr, "many-assoc: cannot raise the descriptor limit to %ld\n",
			2L * n + 64);
		return 1;
	}
	a = calloc((size_t)n, sizeof(*a));
	if (!a)
		return 1;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	rss_empty = tp_rss_kib(pid);
	warm = WARM;
	got = assoc_open(a, warm, addr, (uint16_t)port, nqn, &err);
	if (got < warm) {
		fprintf(stderr, "many-assoc: association %d failed: %d\n", got, err);
		return 1;
	}
	usleep(200000);
	rss0 = tp_rss_kib(pid);
	t0 = now_s();
	got += open_all(a + warm, n - warm, addr, (uint16_t)port, nqn, &err);
	t1 = now_s();
	if (got < n) {
		fprintf(stderr, "many-assoc: association %d failed: %d (%s)\n", got, err,
			err < 0 ? strerror(-err) : "NVMe status");
		assoc_close(a, got);
		return 1;
	}
	usleep(500000); /* the target has handled the last Connects */
	rss1 = tp_rss_kib(pid);
	printf("%d associations in %.1f s; target RSS %ld KiB empty, %ld KiB with %d, %ld KiB "
	       "with %d: %.1f KiB per association\n", n, t1 - t0, rss_empty, rss0, warm, rss1,
	       n, (double)(rss1 - rss0) / (n - warm));
	if (json) {
		f = fopen(json, "w");
		if (!f)
			return 1;
		fprintf(f, "{\"associations\": %d, \"connect_s\": %.3f, \"rss_kib_empty\": %ld, "
			   "\"rss_kib_warm\": %ld, \"warm\": %d, \"rss_kib\": %ld, "
			   "\"kib_per_association\": %.2f}\n", n, t1 - t0, rss_empty, rss0, warm,
			rss1, (double)(rss1 - rss0) / (n - warm));
		fclose(f);
	}
	fflush(stdout);
	while (hold && !stop)
		pause();
	assoc_close(a, n);
	free(a);
	return 0;
}
