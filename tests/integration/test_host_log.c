/*
 * libnvmf's messages from a real event: a target that goes away.  With a log function
 * installed, the "reconnecting", "reconnect failed" and "giving up" lines arrive through
 * it with their levels and nothing reaches stderr; without one they are on stderr as
 * before ("nvmf: <subnqn>: ...").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "nvmf/nvmf.h"
#include "target_proc.h"

#define NQN "nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart"
#define HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-4333-8444-555555555555"
#define MAX_LINES 64

/* What the log function received; it runs on the library's admin thread. */
struct lines {
	pthread_mutex_t lock;
	unsigned n;
	int level[MAX_LINES];
	char msg[MAX_LINES][512];
};

static void collect(void *arg, int level, const char *msg)
{
	struct lines *l = arg;

	pthread_mutex_lock(&l->lock);
	if (l->n < MAX_LINES) {
		l->level[l->n] = level;
		snprintf(l->msg[l->n], sizeof(l->msg[0]), "%s", msg);
		l->n++;
	}
	pthread_mutex_unlock(&l->lock);
}

/* Index of the first line containing s at level, or -1. */
static int find(struct lines *l, int level, const char *s)
{
	int at = -1;

	pthread_mutex_lock(&l->lock);
	for (unsigned i = 0; i < l->n && at < 0; i++)
		if (l->level[i] == level && strstr(l->msg[i], s))
			at = (int)i;
	pthread_mutex_unlock(&l->lock);
	return at;
}

struct outcome {
	int start, connect, stop, read;
	char stderr_text[8192];
};

/*
 * Connect (reconnect after 1 s, give up after 1 s), stop the target, read: the read
 * fails once the controller is given up.  stderr is captured meanwhile; assertions come
 * after it is restored, so that a failure is reported where it can be seen.
 */
static void lose_target(struct outcome *r)
{
	const char *argv[] = { "--ram", "16M", "--listen", NULL, "--cpus", "1", NULL };
	struct target_proc t;
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c = NULL;
	uint16_t port = tp_free_port();
	char listen[64], port_text[16], buf[4096];
	FILE *cap;
	int saved;
	size_t n;

	memset(r, 0, sizeof(*r));
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	snprintf(port_text, sizeof(port_text), "%u", port);
	argv[3] = listen;
	r->start = tp_start(&t, port, argv);
	if (r->start)
		return;
	nvmf_ctrl_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = port_text;
	o.subnqn = NQN;
	o.hostnqn = HOSTNQN;
	o.reconnect_delay_s = 1;
	o.ctrl_loss_tmo_s = 1;

	cap = tmpfile();
	saved = dup(2);
	assert_non_null(cap);
	assert_true(saved >= 0);
	fflush(stderr);
	dup2(fileno(cap), 2);
	r->connect = nvmf_ctrl_connect(&o, &c);
	r->stop = tp_stop(&t);
	if (r->connect == 0) {
		r->read = nvmf_read_sync(nvmf_ctrl_qpair(c, 0), 1, 0, 8, buf);
		nvmf_ctrl_disconnect(c);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);

	rewind(cap);
	n = fread(r->stderr_text, 1, sizeof(r->stderr_text) - 1, cap);
	r->stderr_text[n] = '\0';
	fclose(cap);
	unlink(t.log);
}

static void log_function_gets_the_messages(void **state)
{
	struct lines *l = calloc(1, sizeof(*l));
	struct outcome r;

	(void)state;
	assert_non_null(l);
	pthread_mutex_init(&l->lock, NULL);
	nvmf_set_log_fn(collect, l);
	lose_target(&r);
	nvmf_set_log_fn(NULL, NULL);

	assert_int_equal(r.start, 0);
	assert_int_equal(r.connect, 0);
	assert_int_equal(r.stop, 0);
	assert_int_equal(r.read, -ENODEV);
	for (unsigned i = 0; i < l->n; i++)
		print_message("# log %d: %s\n", l->level[i], l->msg[i]);
	assert_true(find(l, LOG_WARNING, NQN ": queue ") >= 0);
	assert_true(find(l, LOG_WARNING, ": reconnecting") >= 0);
	assert_true(find(l, LOG_WARNING, NQN ": reconnect failed: ") >= 0);
	assert_true(find(l, LOG_ERR, NQN ": controller lost for 1s: giving up") >= 0);
	/* in the order they happened */
	assert_true(find(l, LOG_WARNING, ": reconnecting") <
		    find(l, LOG_ERR, "giving up"));
	if (r.stderr_text[0])
		print_message("# stderr: %s\n", r.stderr_text);
	assert_string_equal(r.stderr_text, "");
	pthread_mutex_destroy(&l->lock);
	free(l);
}

static void default_is_stderr(void **state)
{
	struct outcome r;

	(void)state;
	lose_target(&r);
	assert_int_equal(r.start, 0);
	assert_int_equal(r.connect, 0);
	assert_int_equal(r.read, -ENODEV);
	assert_non_null(strstr(r.stderr_text, "nvmf: " NQN ": queue "));
	assert_non_null(strstr(r.stderr_text, ": reconnecting\n"));
	assert_non_null(strstr(r.stderr_text, "nvmf: " NQN ": controller lost for 1s: giving up\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(log_function_gets_the_messages),
		cmocka_unit_test(default_is_stderr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
