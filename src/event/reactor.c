/* Reactor: the per-thread io_uring event loop (see reactor.h). */
#include "event/reactor.h"

#include <errno.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/ticks.h"

struct nvmf_msg {
	void (*fn)(void *arg);
	void *arg;
	struct nvmf_msg *next;
};

static __thread struct nvmf_reactor *self;

uint64_t nvmf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct nvmf_reactor *nvmf_reactor_self(void)
{
	return self;
}

/* ---- timers: a binary min-heap ---- */

static void heap_swap(struct nvmf_reactor *r, unsigned a, unsigned b)
{
	struct nvmf_timer *t = r->heap[a];

	r->heap[a] = r->heap[b];
	r->heap[b] = t;
	r->heap[a]->heap_idx = a;
	r->heap[b]->heap_idx = b;
}

static void heap_up(struct nvmf_reactor *r, unsigned i)
{
	while (i > 0) {
		unsigned p = (i - 1) / 2;

		if (r->heap[p]->when_ns <= r->heap[i]->when_ns)
			break;
		heap_swap(r, i, p);
		i = p;
	}
}

static void heap_down(struct nvmf_reactor *r, unsigned i)
{
	for (;;) {
		unsigned l = 2 * i + 1, m = i;

		if (l < r->nheap && r->heap[l]->when_ns < r->heap[m]->when_ns)
			m = l;
		if (l + 1 < r->nheap && r->heap[l + 1]->when_ns < r->heap[m]->when_ns)
			m = l + 1;
		if (m == i)
			return;
		heap_swap(r, i, m);
		i = m;
	}
}

void nvmf_timer_cancel(struct nvmf_reactor *r, struct nvmf_timer *t)
{
	unsigned i = t->heap_idx;

	if (!t->armed)
		return;
	t->armed = false;
	r->nheap--;
	if (i == r->nheap)
		return;
	r->heap[i] = r->heap[r->nheap];
	r->heap[i]->heap_idx = i;
	heap_down(r, i);
	heap_up(r, i);
}

void nvmf_timer_arm(struct nvmf_reactor *r, struct nvmf_timer *t, uint64_t delay_ns)
{
	nvmf_timer_cancel(r, t);
	if (r->nheap == r->heap_cap) {
		unsigned cap = r->heap_cap ? r->heap_cap * 2 : 64;
		struct nvmf_timer **h = realloc(r->heap, cap * sizeof(*h));

		if (!h) {
			/* timers guard keep-alive and shutdown: losing one is not an option */
			log_err("reactor %u: out of memory for timers", r->id);
			abort();
		}
		r->heap = h;
		r->heap_cap = cap;
	}
	t->when_ns = nvmf_now_ns() + delay_ns;
	t->armed = true;
	t->heap_idx = r->nheap;
	r->heap[r->nheap++] = t;
	heap_up(r, t->heap_idx);
}

/* Run the timers that are due; whether any ran. */
static bool run_timers(struct nvmf_reactor *r)
{
	bool ran = false;

	while (r->nheap > 0 && r->heap[0]->when_ns <= r->now_ns) {
		struct nvmf_timer *t = r->heap[0];

		nvmf_timer_cancel(r, t);
		t->fn(t);
		ran = true;
	}
	return ran;
}

/* ---- deferred work ---- */

void nvmf_reactor_defer(struct nvmf_reactor *r, struct nvmf_deferred *d)
{
	if (d->queued)
		return;
	d->queued = true;
	d->next = r->deferred;
	r->deferred = d;
}

/* Run this round's deferred work; whether there was any. */
static bool run_deferred(struct nvmf_reactor *r)
{
	/* Work queued while running goes to the next round, so a busy item cannot starve I/O. */
	struct nvmf_deferred *d = r->deferred;
	bool ran = d != NULL;

	r->deferred = NULL;
	while (d) {
		struct nvmf_deferred *next = d->next;

		d->queued = false;
		d->fn(d);
		d = next;
	}
	return ran;
}

/* ---- statistics: one writer (this thread), relaxed so other threads may read ---- */

static inline void stat_add(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

/* The ticks of the instant now_ns: the TSC (a few ns), or now_ns itself without one. */
static inline uint64_t stamp_ticks(uint64_t now_ns)
{
	return nvmf_ticks_tsc ? nvmf_ticks() : now_ns;
}

/* ---- submissions ---- */

struct io_uring_sqe *nvmf_reactor_sqe(struct nvmf_reactor *r, struct nvmf_event *ev)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	while (!sqe) {
		int rc = io_uring_submit(&r->ring);

		if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
			log_err("reactor %u: io_uring_submit: %s", r->id, strerror(-rc));
			abort();
		}
		sqe = io_uring_get_sqe(&r->ring);
	}
	io_uring_sqe_set_data(sqe, ev);
	return sqe;
}

void nvmf_reactor_cancel(struct nvmf_reactor *r, struct nvmf_event *ev)
{
	struct io_uring_sqe *sqe = nvmf_reactor_sqe(r, NULL);

	io_uring_prep_cancel(sqe, ev, IORING_ASYNC_CANCEL_ALL);
}

/* ---- messages from other threads ---- */

static void arm_eventfd(struct nvmf_reactor *r);

static void run_posted(struct nvmf_reactor *r)
{
	struct nvmf_posted *p = atomic_exchange_explicit(&r->posted, NULL, memory_order_acquire);
	struct nvmf_posted *fifo = NULL;

	/* the stack holds the newest first */
	while (p) {
		struct nvmf_posted *next = p->next;

		p->next = fifo;
		fifo = p;
		p = next;
	}
	while (fifo) {
		struct nvmf_posted *next = fifo->next;

		fifo->fn(fifo);
		fifo = next;
	}
}

void nvmf_reactor_post(struct nvmf_reactor *r, struct nvmf_posted *p)
{
	struct nvmf_posted *head = atomic_load_explicit(&r->posted, memory_order_relaxed);
	uint64_t one = 1;

	do {
		p->next = head;
	} while (!atomic_compare_exchange_weak_explicit(&r->posted, &head, p,
							memory_order_release,
							memory_order_relaxed));
	/* a non-empty stack already has a wake-up on its way: one write per batch */
	if (head)
		return;
	if (write(r->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("reactor %u: eventfd write: %s", r->id, strerror(errno));
}

static void on_eventfd(struct nvmf_event *ev, int res, uint32_t flags)
{
	struct nvmf_reactor *r = (struct nvmf_reactor *)((char *)ev -
							 offsetof(struct nvmf_reactor, efd_ev));
	struct nvmf_msg *m;

	(void)flags;
	if (res < 0 && res != -EAGAIN && res != -EINTR && res != -ECANCELED)
		log_warn("reactor %u: eventfd read: %s", r->id, strerror(-res));
	run_posted(r);
	pthread_mutex_lock(&r->msg_lock);
	m = r->msg_head;
	r->msg_head = r->msg_tail = NULL;
	pthread_mutex_unlock(&r->msg_lock);
	while (m) {
		struct nvmf_msg *next = m->next;

		m->fn(m->arg);
		free(m);
		m = next;
	}
	if (!atomic_load(&r->stopping) || res != -ECANCELED)
		arm_eventfd(r);
}

static void arm_eventfd(struct nvmf_reactor *r)
{
	struct io_uring_sqe *sqe = nvmf_reactor_sqe(r, &r->efd_ev);

	io_uring_prep_read(sqe, r->efd, &r->efd_val, sizeof(r->efd_val), 0);
}

int nvmf_reactor_call(struct nvmf_reactor *r, void (*fn)(void *arg), void *arg)
{
	struct nvmf_msg *m = malloc(sizeof(*m));
	uint64_t one = 1;

	if (!m)
		return -ENOMEM;
	m->fn = fn;
	m->arg = arg;
	m->next = NULL;
	pthread_mutex_lock(&r->msg_lock);
	if (r->msg_tail)
		r->msg_tail->next = m;
	else
		r->msg_head = m;
	r->msg_tail = m;
	pthread_mutex_unlock(&r->msg_lock);
	if (write(r->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("reactor %u: eventfd write: %s", r->id, strerror(errno));
	return 0;
}

/* ---- life cycle ---- */

static int ring_init(struct nvmf_reactor *r, unsigned entries)
{
	struct io_uring_params p;
	int rc;

	/*
	 * One thread submits and reaps: let the kernel skip its cross-thread work
	 * (SINGLE_ISSUER, DEFER_TASKRUN need 6.0/6.1; fall back for older kernels).
	 */
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	rc = io_uring_queue_init_params(entries, &r->ring, &p);
	if (rc == -EINVAL) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_COOP_TASKRUN;
		rc = io_uring_queue_init_params(entries, &r->ring, &p);
	}
	if (rc == -EINVAL) {
		memset(&p, 0, sizeof(p));
		rc = io_uring_queue_init_params(entries, &r->ring, &p);
	}
	return rc;
}

int nvmf_reactor_init(struct nvmf_reactor *r, unsigned id, unsigned entries, uint32_t spin_us)
{
	int rc;

	r->id = id;
	r->spin_ns = spin_us == NVMF_REACTOR_SPIN_FOREVER ? UINT64_MAX : spin_us * 1000ull;
	r->last_event_ns = 0;
	r->spin_rx = NULL;
	r->spin_rx_on = false;
	atomic_store(&r->stopping, false);
	r->heap = NULL;
	r->nheap = r->heap_cap = 0;
	r->deferred = NULL;
	r->msg_head = r->msg_tail = NULL;
	atomic_init(&r->posted, NULL);
	pthread_mutex_init(&r->msg_lock, NULL);
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0)
		return -errno;
	rc = ring_init(r, entries);
	if (rc < 0) {
		close(r->efd);
		return rc;
	}
	r->efd_ev.fn = on_eventfd;
	r->now_ns = nvmf_now_ns();
	r->now_ticks = stamp_ticks(r->now_ns);
	self = r;
	arm_eventfd(r);
	return 0;
}

void nvmf_reactor_fini(struct nvmf_reactor *r)
{
	struct nvmf_msg *m = r->msg_head;

	while (m) {
		struct nvmf_msg *next = m->next;

		free(m);
		m = next;
	}
	io_uring_queue_exit(&r->ring);
	close(r->efd);
	free(r->heap);
	pthread_mutex_destroy(&r->msg_lock);
	if (self == r)
		self = NULL;
}

/* Handle the completions there are; how many. */
static unsigned reap(struct nvmf_reactor *r)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&r->ring, head, cqe) {
		struct nvmf_event *ev = io_uring_cqe_get_data(cqe);

		n++;
		/* the CQE slot must not be reused by submissions in the callback: copy first */
		if (ev) {
			int res = cqe->res;
			uint32_t flags = cqe->flags;

			io_uring_cq_advance(&r->ring, 1);
			ev->fn(ev, res, flags);
		} else {
			io_uring_cq_advance(&r->ring, 1);
		}
	}
	if (n) {
		stat_add(&r->stats.events, n);
		r->last_event_ns = r->now_ns;
	}
	return n;
}

void nvmf_reactor_run(struct nvmf_reactor *r)
{
	bool worked = false;     /* this iteration handled something: its time is busy */

	self = r;
	r->now_ns = nvmf_now_ns();
	r->now_ticks = stamp_ticks(r->now_ns);
	while (!atomic_load(&r->stopping)) {
		struct __kernel_timespec ts, *tsp = NULL;
		struct io_uring_cqe *cqe;
		uint64_t before_wait;
		int rc;

		stat_add(&r->stats.loops, 1);
		worked |= run_deferred(r);
		/*
		 * Timers go by the clock read after the last wait: late by the time reap() and
		 * the deferred work took (microseconds), and one clock read per iteration less
		 * (a spinning loop read it twice per turn: ~2 % of a busy target).
		 */
		worked |= run_timers(r);
		if (r->deferred || r->now_ns - r->last_event_ns < r->spin_ns) {
			ts.tv_sec = 0;
			ts.tv_nsec = 0;
			tsp = &ts;
		} else if (r->nheap > 0) {
			uint64_t d = r->heap[0]->when_ns > r->now_ns ? r->heap[0]->when_ns - r->now_ns
								     : 0;

			ts.tv_sec = (long long)(d / 1000000000ull);
			ts.tv_nsec = (long long)(d % 1000000000ull);
			tsp = &ts;
		}
		/*
		 * The busy/idle split costs one clock read in an iteration that did work (a TSC
		 * read, per batch of events); a turn that found nothing, as a polling loop's
		 * mostly do, reads no clock of its own: all of it is idle.
		 */
		before_wait = r->now_ticks;
		if (worked) {
			before_wait = nvmf_ticks();
			stat_add(&r->stats.busy_ticks, before_wait - r->now_ticks);
		}
		if (tsp && tsp->tv_sec == 0 && tsp->tv_nsec == 0) {
			/*
			 * A turn that found nothing: read the last active connection before
			 * entering the ring again.  Input found is handled now; its response
			 * goes out with the next turn's deferred flush, and the poll CQE that
			 * follows finds the socket empty.
			 */
			if (!worked && r->spin_rx) {
				/* what the input brings is stamped with the time it is read */
				r->now_ns = nvmf_now_ns();
				r->now_ticks = stamp_ticks(r->now_ns);
				if (r->spin_rx->fn(r->spin_rx)) {
					stat_add(&r->stats.idle_ticks, r->now_ticks - before_wait);
					stat_add(&r->stats.events, 1);
					r->last_event_ns = r->now_ns;
					worked = true;
					continue;
				}
			}
			rc = io_uring_submit_and_get_events(&r->ring);
		} else {
			rc = io_uring_submit_and_wait_timeout(&r->ring, &cqe, 1, tsp, NULL);
			stat_add(&r->stats.wakeups, 1);
		}
		if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
			log_err("reactor %u: io_uring wait: %s", r->id, strerror(-rc));
			abort();
		}
		/*
		 * The wait may have lasted seconds: events are stamped with the time they are
		 * handled (traffic-based keep-alive relies on it), not the time we fell asleep.
		 */
		r->now_ns = nvmf_now_ns();
		r->now_ticks = stamp_ticks(r->now_ns);
		stat_add(&r->stats.idle_ticks, r->now_ticks - before_wait);
		worked = reap(r) > 0;
	}
}

void nvmf_reactor_stop(struct nvmf_reactor *r)
{
	uint64_t one = 1;

	atomic_store(&r->stopping, true);
	if (write(r->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("reactor %u: eventfd write: %s", r->id, strerror(errno));
}

struct start_ctx {
	struct nvmf_reactor *r;
	unsigned id, entries;
	uint32_t spin_us;
	int cpu;
	int rc;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void *reactor_thread(void *arg)
{
	struct start_ctx *c = arg;
	struct nvmf_reactor *r = c->r;
	int rc;

	if (c->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(c->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set) != 0)
			log_warn("reactor %u: cannot pin to cpu %d", c->id, c->cpu);
	}
	rc = nvmf_reactor_init(r, c->id, c->entries, c->spin_us);
	pthread_mutex_lock(&c->lock);
	c->rc = rc;
	c->done = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	if (rc < 0)
		return NULL;
	/* c belongs to the starter and may be gone now */
	if (r->on_start)
		r->on_start(r, r->start_arg);
	nvmf_reactor_run(r);
	nvmf_reactor_fini(r);
	return NULL;
}

int nvmf_reactor_start(struct nvmf_reactor *r, unsigned id, unsigned entries, uint32_t spin_us,
		       int cpu)
{
	struct start_ctx c = { .r = r, .id = id, .entries = entries, .spin_us = spin_us,
			       .cpu = cpu };
	int rc;

	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	rc = pthread_create(&r->thread, NULL, reactor_thread, &c);
	if (rc) {
		rc = -rc;
		goto out;
	}
	pthread_mutex_lock(&c.lock);
	while (!c.done)
		pthread_cond_wait(&c.cond, &c.lock);
	pthread_mutex_unlock(&c.lock);
	rc = c.rc;
	if (rc < 0)
		pthread_join(r->thread, NULL);
out:
	pthread_mutex_destroy(&c.lock);
	pthread_cond_destroy(&c.cond);
	return rc;
}

void nvmf_reactor_join(struct nvmf_reactor *r)
{
	pthread_join(r->thread, NULL);
}
