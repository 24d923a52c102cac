/*
 * Reactor: io_uring completions reach their event, timers fire in deadline order and can be
 * cancelled, deferred work runs once per iteration, and other threads' messages arrive;
 * work posted lock-free from several threads at once (nvmf_reactor_post) all runs, on the
 * reactor's thread, each thread's in the order posted; a spinning loop reads the input it
 * was given itself, and only while it spins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "event/reactor.h"
#include "util/ticks.h"

static struct nvmf_reactor R;

static int setup(void **state)
{
	(void)state;
	return nvmf_reactor_init(&R, 0, 64, false);
}

static int teardown(void **state)
{
	(void)state;
	nvmf_reactor_fini(&R);
	return 0;
}

static int nop_count;

static void on_nop(struct nvmf_event *ev, int res, uint32_t flags)
{
	(void)ev;
	(void)flags;
	assert_int_equal(res, 0);
	if (++nop_count == 100)
		nvmf_reactor_stop(&R);
}

static void completions(void **state)
{
	struct nvmf_event ev = { on_nop };

	(void)state;
	atomic_store(&R.stopping, false);
	/* more than the ring holds: nvmf_reactor_sqe() must make room */
	for (int i = 0; i < 100; i++)
		io_uring_prep_nop(nvmf_reactor_sqe(&R, &ev));
	nvmf_reactor_run(&R);
	assert_int_equal(nop_count, 100);
}

static int fired[8], nfired;

struct tagged_timer {
	struct nvmf_timer t;
	int tag;
};

static void on_tagged(struct nvmf_timer *t)
{
	struct tagged_timer *tt = (struct tagged_timer *)t;

	fired[nfired++] = tt->tag;
	if (tt->tag == 99)
		nvmf_reactor_stop(&R);
}

static void timers_in_order(void **state)
{
	struct tagged_timer t[5];
	static const uint64_t delay_ms[5] = { 30, 10, 20, 5, 40 };

	(void)state;
	nfired = 0;
	atomic_store(&R.stopping, false);
	for (int i = 0; i < 5; i++) {
		t[i].t = (struct nvmf_timer){ .fn = on_tagged };
		t[i].tag = i;
		nvmf_timer_arm(&R, &t[i].t, delay_ms[i] * 1000000ull);
	}
	nvmf_timer_cancel(&R, &t[2].t); /* 20 ms: never fires */
	t[4].tag = 99;                   /* the last one stops the loop */
	nvmf_reactor_run(&R);
	assert_int_equal(nfired, 4);
	assert_int_equal(fired[0], 3);
	assert_int_equal(fired[1], 1);
	assert_int_equal(fired[2], 0);
	assert_int_equal(fired[3], 99);
	assert_false(t[2].t.armed);
	assert_int_equal(R.nheap, 0);
}

static int deferred_runs;

static void on_deferred(struct nvmf_deferred *d)
{
	(void)d;
	deferred_runs++;
	nvmf_reactor_stop(&R);
}

static void deferred_once(void **state)
{
	struct nvmf_deferred d = { .fn = on_deferred };

	(void)state;
	atomic_store(&R.stopping, false);
	nvmf_reactor_defer(&R, &d);
	nvmf_reactor_defer(&R, &d); /* queued twice, runs once */
	nvmf_reactor_run(&R);
	assert_int_equal(deferred_runs, 1);
	assert_false(d.queued);
}

static int calls;
static pthread_t caller_thread;
static _Atomic uint64_t sent_ns;

static void on_call(void *arg)
{
	assert_ptr_equal(nvmf_reactor_self(), &R);
	/* the loop's clock was read after the wait, not before it fell asleep */
	assert_true(R.now_ns >= atomic_load(&sent_ns));
	calls += (int)(intptr_t)arg;
	if (calls == 1 + 2 + 3)
		nvmf_reactor_stop(&R);
}

static void *caller(void *arg)
{
	(void)arg;
	usleep(10000); /* the reactor is asleep in io_uring_enter by now */
	atomic_store(&sent_ns, nvmf_now_ns());
	for (intptr_t i = 1; i <= 3; i++)
		nvmf_reactor_call(&R, on_call, (void *)i);
	return NULL;
}

static void messages_from_threads(void **state)
{
	(void)state;
	atomic_store(&R.stopping, false);
	pthread_create(&caller_thread, NULL, caller, NULL);
	nvmf_reactor_run(&R);
	pthread_join(caller_thread, NULL);
	assert_int_equal(calls, 6);
}

/* nvmf_reactor_post: POSTERS threads race to push POSTS items each */
#define POSTERS 4
#define POSTS 20000

struct post_item {
	struct nvmf_posted p;
	int thread, seq;
};

static struct post_item *post_items;
static int post_next[POSTERS], post_runs;

static void on_posted(struct nvmf_posted *p)
{
	struct post_item *it = (struct post_item *)p;

	assert_ptr_equal(nvmf_reactor_self(), &R);
	/* no item twice, none out of its thread's order */
	assert_int_equal(it->seq, post_next[it->thread]);
	post_next[it->thread]++;
	if (++post_runs == POSTERS * POSTS)
		nvmf_reactor_stop(&R);
}

static void *poster(void *arg)
{
	int t = (int)(intptr_t)arg;

	for (int i = 0; i < POSTS; i++) {
		struct post_item *it = &post_items[t * POSTS + i];

		it->p.fn = on_posted;
		it->thread = t;
		it->seq = i;
		nvmf_reactor_post(&R, &it->p);
		if (i % 1000 == 0)
			usleep(100); /* let the reactor drain and sleep now and then */
	}
	return NULL;
}

static void posted_from_threads(void **state)
{
	pthread_t th[POSTERS];

	(void)state;
	post_items = calloc(POSTERS * POSTS, sizeof(*post_items));
	assert_non_null(post_items);
	atomic_store(&R.stopping, false);
	for (intptr_t i = 0; i < POSTERS; i++)
		pthread_create(&th[i], NULL, poster, (void *)i);
	nvmf_reactor_run(&R);
	for (int i = 0; i < POSTERS; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(post_runs, POSTERS * POSTS);
	for (int i = 0; i < POSTERS; i++)
		assert_int_equal(post_next[i], POSTS);
	free(post_items);
}

static atomic_int thread_started;

static void on_start(struct nvmf_reactor *r, void *arg)
{
	(void)arg;
	assert_ptr_equal(nvmf_reactor_self(), r);
	atomic_store(&thread_started, 1);
}

static void reactor_thread(void **state)
{
	static struct nvmf_reactor t;

	(void)state;
	t.on_start = on_start;
	assert_int_equal(nvmf_reactor_start(&t, 1, 32, false, -1), 0);
	while (!atomic_load(&thread_started))
		usleep(1000);
	nvmf_reactor_stop(&t);
	nvmf_reactor_join(&t);
}

static atomic_int call_seen;

static void on_spin_call(void *arg)
{
	(void)arg;
	atomic_store(&call_seen, 1);
}

static uint64_t loops_of(struct nvmf_reactor *r)
{
	return __atomic_load_n(&r->stats.loops, __ATOMIC_RELAXED);
}

/* Loop iterations of a reactor thread with this spin window, in the 5 ms after one event
 * (*after) and over 50 ms once the window has passed (*idle). */
static void spin_case(uint32_t spin_us, uint64_t *after, uint64_t *idle)
{
	static struct nvmf_reactor t;
	uint64_t a, b;

	memset(&t, 0, sizeof(t));
	atomic_store(&call_seen, 0);
	assert_int_equal(nvmf_reactor_start(&t, 2, 32, spin_us, -1), 0);
	usleep(20000 + spin_us); /* settled: asleep */
	assert_int_equal(nvmf_reactor_call(&t, on_spin_call, NULL), 0);
	while (!atomic_load(&call_seen))
		usleep(100);
	a = loops_of(&t);
	usleep(5000);
	*after = loops_of(&t) - a;
	usleep(spin_us + 20000);
	a = loops_of(&t);
	usleep(50000);
	b = loops_of(&t);
	*idle = b - a;
	nvmf_reactor_stop(&t);
	nvmf_reactor_join(&t);
}

/*
 * The spin window: after an event the loop keeps polling instead of sleeping (many
 * iterations), and once the window is over it sleeps (none) - an idle target costs nothing.
 * Without a window the loop sleeps right after the event.
 */
static void spin_window(void **state)
{
	uint64_t after, idle;

	(void)state;
	spin_case(100000, &after, &idle);
	assert_true(after > 20);
	assert_true(idle <= 1);
	spin_case(0, &after, &idle);
	assert_true(after <= 2);
	assert_true(idle <= 1);
}

static void on_busy_call(void *arg)
{
	uint64_t until = nvmf_now_ns() + 20000000ull;

	(void)arg;
	while (nvmf_now_ns() < until)
		;
	atomic_store(&call_seen, 1);
}

/*
 * Busy and idle time, wake-ups: a reactor that sleeps, wakes for a message whose handler
 * works 20 ms, and sleeps again has at least 20 ms busy, the rest idle, and woke up; the
 * two add up to no more than the time it ran.
 */
static void busy_idle(void **state)
{
	static struct nvmf_reactor t;
	uint64_t t0, busy, idle, wakeups;

	(void)state;
	nvmf_ticks_init();   /* the TSC where there is one, as in the target */
	memset(&t, 0, sizeof(t));
	atomic_store(&call_seen, 0);
	t0 = nvmf_now_ns();
	assert_int_equal(nvmf_reactor_start(&t, 3, 32, 0, -1), 0);
	usleep(30000);
	assert_int_equal(nvmf_reactor_call(&t, on_busy_call, NULL), 0);
	while (!atomic_load(&call_seen))
		usleep(100);
	usleep(30000);
	busy = nvmf_ticks_to_ns(__atomic_load_n(&t.stats.busy_ticks, __ATOMIC_RELAXED));
	idle = nvmf_ticks_to_ns(__atomic_load_n(&t.stats.idle_ticks, __ATOMIC_RELAXED));
	wakeups = __atomic_load_n(&t.stats.wakeups, __ATOMIC_RELAXED);
	assert_true(busy >= 20000000ull);
	assert_true(idle >= 30000000ull);  /* asleep before the message and after */
	assert_true(busy + idle <= nvmf_now_ns() - t0);
	assert_true(wakeups >= 1);
	nvmf_reactor_stop(&t);
	nvmf_reactor_join(&t);
}

/* ---- the spinning loop's own reads (nvmf_reactor_spin_rx) ---- */

struct probe {
	struct nvmf_spin_rx s;
	int fd;                  /* a pipe no io_uring request watches */
	atomic_int calls, got;   /* bytes read */
	atomic_bool off_thread;  /* fn ran on another thread than the reactor's */
	struct nvmf_reactor *r;
};

static bool probe_read(struct nvmf_spin_rx *s)
{
	struct probe *p = (struct probe *)s;
	char c;

	if (!pthread_equal(pthread_self(), p->r->thread))
		atomic_store(&p->off_thread, true);
	atomic_fetch_add(&p->calls, 1);
	if (read(p->fd, &c, 1) != 1)
		return false;
	atomic_fetch_add(&p->got, 1);
	return true;
}

static struct probe P;

static void probe_on(void *arg)
{
	(void)arg;
	nvmf_reactor_spin_rx_enable(P.r, true);
	nvmf_reactor_spin_rx(P.r, &P.s);
	atomic_store(&call_seen, 1);
}

static void probe_drop(void *arg)
{
	(void)arg;
	nvmf_reactor_spin_rx_drop(P.r, &P.s);
	atomic_store(&call_seen, 1);
}

static void probe_set_disabled(void *arg)
{
	(void)arg;
	nvmf_reactor_spin_rx_enable(P.r, false);
	nvmf_reactor_spin_rx(P.r, &P.s); /* ignored while off */
	atomic_store(&call_seen, 1);
}

static void call_and_wait(struct nvmf_reactor *r, void (*fn)(void *))
{
	atomic_store(&call_seen, 0);
	assert_int_equal(nvmf_reactor_call(r, fn, NULL), 0);
	while (!atomic_load(&call_seen))
		usleep(100);
}

/* Wait (bounded) until the probe read n bytes in all. */
static void wait_got(int n)
{
	for (int i = 0; i < 50000 && atomic_load(&P.got) < n; i++)
		usleep(100);
}

/*
 * While it spins, the loop reads the input it was given itself: a byte on a pipe that no
 * ring request watches is read, on the reactor's thread.  Dropped or switched off, the
 * input is no longer read; once the spin window is over the loop sleeps and reads nothing
 * (an idle target stays at 0 % CPU).
 */
static void spin_rx(void **state)
{
	static struct nvmf_reactor t;
	int fds[2];
	char c;
	int ncalls;

	(void)state;
	memset(&t, 0, sizeof(t));
	memset(&P, 0, sizeof(P));
	assert_int_equal(pipe2(fds, O_NONBLOCK), 0);
	P.s.fn = probe_read;
	P.fd = fds[0];
	P.r = &t;
	/* a window of 60 s: the loop spins throughout the first part */
	assert_int_equal(nvmf_reactor_start(&t, 4, 32, 60000000, -1), 0);
	assert_false(t.spin_rx_on);  /* off unless the owner turns it on */
	call_and_wait(&t, probe_on);
	assert_int_equal(write(fds[1], "a", 1), 1);
	wait_got(1);
	assert_int_equal(atomic_load(&P.got), 1);
	assert_int_equal(write(fds[1], "b", 1), 1);
	wait_got(2);
	assert_int_equal(atomic_load(&P.got), 2);

	/* dropped: the byte stays in the pipe (read here after two message round trips) */
	call_and_wait(&t, probe_drop);
	assert_int_equal(write(fds[1], "c", 1), 1);
	call_and_wait(&t, on_spin_call);
	call_and_wait(&t, on_spin_call);
	assert_int_equal(read(fds[0], &c, 1), 1);
	assert_int_equal(c, 'c');
	assert_int_equal(atomic_load(&P.got), 2);

	/* switched off: setting an input is ignored */
	call_and_wait(&t, probe_set_disabled);
	assert_int_equal(write(fds[1], "d", 1), 1);
	call_and_wait(&t, on_spin_call);
	call_and_wait(&t, on_spin_call);
	assert_int_equal(read(fds[0], &c, 1), 1);
	assert_int_equal(c, 'd');
	assert_false(atomic_load(&P.off_thread));
	nvmf_reactor_stop(&t);
	nvmf_reactor_join(&t);

	/* a 1 ms window: once it is over the loop sleeps and tries the input no more */
	memset(&t, 0, sizeof(t));
	assert_int_equal(nvmf_reactor_start(&t, 5, 32, 1000, -1), 0);
	call_and_wait(&t, probe_on);
	assert_ptr_equal(t.spin_rx, &P.s);
	usleep(50000);                                /* the window is long over: asleep */
	ncalls = atomic_load(&P.calls);
	usleep(50000);
	assert_int_equal(atomic_load(&P.calls), ncalls);
	nvmf_reactor_stop(&t);
	nvmf_reactor_join(&t);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(completions),
		cmocka_unit_test(timers_in_order),
		cmocka_unit_test(deferred_once),
		cmocka_unit_test(messages_from_threads),
		cmocka_unit_test(posted_from_threads),
		cmocka_unit_test(reactor_thread),
		cmocka_unit_test(spin_window),
		cmocka_unit_test(busy_idle),
		cmocka_unit_test(spin_rx),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
