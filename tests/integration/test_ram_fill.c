/*
 * The default RAM namespace is faulted in by a background thread after start (ram.c): the
 * target's resident memory grows to the namespace's size without any I/O, --ram-lazy stays
 * small, and a stop while the thread is at work is clean (the target under test runs with
 * ASan/LSan: a thread not joined or memory unmapped under it shows in its exit status).
 * Where a memory cgroup can be made, a namespace larger than its limit stops being
 * populated short of it instead of getting the target OOM-killed.  That data written
 * meanwhile is intact is test_bdev's test_ram_fill_io_during.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target_proc.h"

#define NS_MIB 128

static void start(struct target_proc *t, const char *size, bool lazy)
{
	static char listen[2][64];
	static int n;
	char *l = listen[n++ % 2];
	uint16_t port = tp_free_port();
	const char *argv[] = { "--ram", size, "--listen", l, "--cpus", "1",
			       lazy ? "--ram-lazy" : NULL, NULL };

	snprintf(l, sizeof(listen[0]), "127.0.0.1:%u", port);
	assert_int_equal(tp_start(t, port, argv), 0);
}

/* Both started together: the default one becomes resident while the lazy one stays small. */
static void default_fills_lazy_stays_small(void **state)
{
	struct target_proc lazy, dflt;
	long lazy0, lazy1, rss = 0;

	(void)state;
	start(&lazy, "128M", true);
	start(&dflt, "128M", false);
	lazy0 = tp_rss_kib(lazy.pid);
	/* nice 19 on a loaded machine: give it up to 90 s (it takes well under 1 s idle) */
	for (int i = 0; i < 900; i++) {
		rss = tp_rss_kib(dflt.pid);
		if (rss >= lazy0 + NS_MIB * 1024 * 9 / 10)
			break;
		usleep(100000);
	}
	lazy1 = tp_rss_kib(lazy.pid);
	print_message("# RSS: default %ld KiB, lazy %ld KiB at start and %ld KiB now\n", rss,
		      lazy0, lazy1);
	assert_true(rss >= lazy0 + NS_MIB * 1024 * 9 / 10);
	assert_true(lazy1 < lazy0 + 8 * 1024);
	assert_int_equal(tp_log_count(&lazy, "resident"), 0);
	assert_int_equal(tp_stop(&lazy), 0);
	assert_int_equal(tp_stop(&dflt), 0);
	/* said once, when it was done */
	assert_int_equal(tp_log_count(&dflt, "namespace is resident"), 1);
}

/* SIGTERM while the thread is populating a large namespace: a clean exit, promptly. */
static void stop_during_population(void **state)
{
	struct target_proc t;

	(void)state;
	start(&t, "4G", false);
	usleep(50000);
	assert_int_equal(tp_stop(&t), 0);
	assert_int_equal(tp_log_count(&t, "namespace is resident"), 0);
}

/*
 * A child memory cgroup of ours, limited to `limit` bytes: v1's memory controller or v2.
 * Its directory goes to dir; false (the test then skips) where none can be made.
 */
static bool make_memcg(char *dir, size_t len, unsigned long long limit)
{
	char line[4096], path[4300];
	FILE *f = fopen("/proc/self/cgroup", "r"), *l;
	bool ok = false;

	if (!f)
		return false;
	while (!ok && fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		const char *file;

		if (!c2)
			continue;
		c2[1 + strcspn(c2 + 1, "\n")] = 0;
		if (c2 == c1 + 1) {
			snprintf(dir, len, "/sys/fs/cgroup%s/nvmf-ram-fill-%d", c2 + 1, getpid());
			file = "memory.max";
		} else if (strstr(c1, "memory")) {
			snprintf(dir, len, "/sys/fs/cgroup/memory%s/nvmf-ram-fill-%d", c2 + 1, getpid());
			file = "memory.limit_in_bytes";
		} else {
			continue;
		}
		if (mkdir(dir, 0755) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, file);
		l = fopen(path, "w");
		ok = l && fprintf(l, "%llu\n", limit) > 0;
		if (l && fclose(l) != 0)
			ok = false;
		if (!ok)
			rmdir(dir);
	}
	fclose(f);
	return ok;
}

/*
 * A namespace larger than the target's cgroup allows: population stops short of the
 * limit and says so; the target is not OOM-killed and stops cleanly.
 */
static void stops_below_cgroup_limit(void **state)
{
	char dir[4200], path[4300];
	struct target_proc t;
	FILE *f;
	int i;

	(void)state;
	if (!make_memcg(dir, sizeof(dir), 192ull << 20)) {
		print_message("skipped: no memory cgroup can be made here\n");
		skip();
	}
	start(&t, "1G", false);
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%d\n", (int)t.pid);
	assert_int_equal(fclose(f), 0);
	for (i = 0; i < 900 && !tp_log_count(&t, "background population of the") &&
		    kill(t.pid, 0) == 0; i++)
		usleep(100000);
	print_message("# RSS %ld KiB under a 192 MiB limit\n", tp_rss_kib(t.pid));
	assert_int_equal(tp_log_count(&t, "background population of the"), 1);
	assert_int_equal(tp_log_count(&t, "namespace is resident"), 0);
	assert_int_equal(tp_stop(&t), 0);	/* alive, and a clean exit */
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_fills_lazy_stays_small),
		cmocka_unit_test(stop_during_population),
		cmocka_unit_test(stops_below_cgroup_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
