/*
 * The default RAM namespace is faulted in by a background thread after start (ram.c): the
 * target's resident memory grows to the namespace's size without any I/O, --ram-lazy stays
 * small, and a stop while the thread is at work is clean (the target under test runs with
 * ASan/LSan: a thread not joined or memory unmapped under it shows in its exit status).
 * That data written meanwhile is intact is test_bdev's test_ram_fill_io_during.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_fills_lazy_stays_small),
		cmocka_unit_test(stop_during_population),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
