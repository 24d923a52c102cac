/*
 * Reactor: one event loop per thread, built on one io_uring.  It owns the thread's sockets
 * (readiness through poll requests), backend I/O (read/write/fsync/fallocate submitted to
 * the same ring), timers and the messages other threads send it.  Nothing here takes a lock
 * except the message queue, which is off the I/O path.
 *
 * Event-driven by default: with nothing to do the thread sleeps in io_uring_enter() and
 * uses no CPU.  Busy-poll mode spins on the completion queue instead, for the lowest latency.
 */
#ifndef NVMF_EVENT_REACTOR_H
#define NVMF_EVENT_REACTOR_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct nvmf_reactor;

/*
 * Completion target of an io_uring request: embed it in the owner and pass it as the
 * request's user data (nvmf_reactor_sqe()).  fn gets the CQE's res and flags.
 */
struct nvmf_event {
	void (*fn)(struct nvmf_event *ev, int res, uint32_t cqe_flags);
};

struct nvmf_timer {
	uint64_t when_ns;       /* CLOCK_MONOTONIC deadline */
	void (*fn)(struct nvmf_timer *t);
	unsigned heap_idx;      /* position in the reactor's heap, valid while armed */
	bool armed;
};

/* Work to run once at the end of the current loop iteration (e.g. flush a socket). */
struct nvmf_deferred {
	void (*fn)(struct nvmf_deferred *d);
	struct nvmf_deferred *next;
	bool queued;
};

struct nvmf_msg;

/*
 * Work another thread hands to a reactor without a lock or an allocation (a library's
 * completion callback, run on the library's thread): embed it in the owner, fill in fn and
 * post it with nvmf_reactor_post(); fn runs on the reactor's thread.
 */
struct nvmf_posted {
	struct nvmf_posted *next;
	void (*fn)(struct nvmf_posted *p);
};

/*
 * Input the loop reads itself while it spins (nvmf_reactor_spin_rx): fn reads what its
 * connection holds and says whether anything came.
 */
struct nvmf_spin_rx {
	bool (*fn)(struct nvmf_spin_rx *s);
};

struct nvmf_reactor {
	struct io_uring ring;
	unsigned id;
	/*
	 * How long the loop keeps polling (io_uring without waiting) after the last event
	 * before it sleeps: a request that follows within the window is picked up without a
	 * wake-up, whose cost (scheduler, IPI) is most of an event-driven round trip at QD1.
	 * 0: sleep at once; NVMF_REACTOR_SPIN_FOREVER: busy-poll.  Idle, the loop sleeps
	 * either way once the window has passed, so an idle target uses no CPU.
	 */
	uint64_t spin_ns;
	uint64_t last_event_ns;
	/*
	 * The connection that had input last: while the loop spins it reads this one itself
	 * between two entries into the ring, so a request that follows is taken without its
	 * readiness first going through the ring (poll task work, a CQE, then the read).
	 */
	struct nvmf_spin_rx *spin_rx;
	bool spin_rx_on;
	atomic_bool stopping;
	pthread_t thread;
	uint64_t now_ns;        /* monotonic time, refreshed each iteration */
	uint64_t now_ticks;     /* the same instant in util/ticks.h's ticks (latencies) */

	/* timers: binary min-heap on when_ns */
	struct nvmf_timer **heap;
	unsigned nheap, heap_cap;

	/* deferred work of this iteration */
	struct nvmf_deferred *deferred;

	/* messages from other threads: a locked list and an eventfd to wake us */
	pthread_mutex_t msg_lock;
	struct nvmf_msg *msg_head, *msg_tail;
	int efd;
	uint64_t efd_val;
	/*
	 * Posted work (nvmf_reactor_post): a lock-free stack pushed by any thread, taken
	 * whole by the loop (so no ABA); the push that finds it empty writes the eventfd.
	 */
	_Atomic(struct nvmf_posted *) posted;
	struct nvmf_event efd_ev;

	/* called once when the thread starts, before the loop (may be NULL) */
	void (*on_start)(struct nvmf_reactor *r, void *arg);
	void *start_arg;

	/*
	 * Statistics, written by the loop's thread only with relaxed stores, read by any
	 * thread with relaxed loads (no lock, no locked instruction in the loop).  An
	 * iteration that handled an event, a deferred item or a timer is busy from the clock
	 * read after the wait to the one before the next wait; everything else is idle: the
	 * wait itself and, when polling, the turns that found nothing.  A wake-up is a wait
	 * that blocked (not a zero-timeout poll) and returned.  Times are in ticks
	 * (util/ticks.h: nvmf_ticks_to_ns()).
	 */
	struct nvmf_reactor_stats {
		uint64_t busy_ticks, idle_ticks, wakeups, loops, events;
	} stats;
};

#define NVMF_REACTOR_SPIN_FOREVER UINT32_MAX /* spin_us: never sleep */
#define NVMF_REACTOR_SPIN_DEFAULT 50         /* spin_us: as net.core.busy_poll's usual 50 */

/*
 * Create the ring in the calling thread and prepare the reactor (no thread started).
 * spin_us: see spin_ns above (0, microseconds, or NVMF_REACTOR_SPIN_FOREVER).
 */
int nvmf_reactor_init(struct nvmf_reactor *r, unsigned id, unsigned entries, uint32_t spin_us);
void nvmf_reactor_fini(struct nvmf_reactor *r);

/* Run the loop in the calling thread until nvmf_reactor_stop(). */
void nvmf_reactor_run(struct nvmf_reactor *r);

/*
 * Start a thread that creates its ring, optionally pins itself to cpu (-1: no pinning),
 * calls on_start and runs the loop.  Returns once the ring exists.
 */
int nvmf_reactor_start(struct nvmf_reactor *r, unsigned id, unsigned entries, uint32_t spin_us,
		       int cpu);
/* Thread-safe: ask the loop to return (nvmf_reactor_run) or the thread to end. */
void nvmf_reactor_stop(struct nvmf_reactor *r);
void nvmf_reactor_join(struct nvmf_reactor *r);

/* The reactor running on this thread, or NULL. */
struct nvmf_reactor *nvmf_reactor_self(void);

/*
 * A submission queue entry whose completion calls ev->fn.  Never NULL: a full ring is
 * submitted to make room.
 */
struct io_uring_sqe *nvmf_reactor_sqe(struct nvmf_reactor *r, struct nvmf_event *ev);

/* Cancel io_uring requests whose user data is ev (their completions still arrive). */
void nvmf_reactor_cancel(struct nvmf_reactor *r, struct nvmf_event *ev);

/* Timers (owner's thread only). */
void nvmf_timer_arm(struct nvmf_reactor *r, struct nvmf_timer *t, uint64_t delay_ns);
void nvmf_timer_cancel(struct nvmf_reactor *r, struct nvmf_timer *t);

void nvmf_reactor_defer(struct nvmf_reactor *r, struct nvmf_deferred *d);

/*
 * Owner's thread: s is the input the loop tries itself while it spins (the last one set
 * wins; s must stay valid until nvmf_reactor_spin_rx_drop(r, s)).
 */
static inline void nvmf_reactor_spin_rx(struct nvmf_reactor *r, struct nvmf_spin_rx *s)
{
	if (r->spin_rx_on)
		r->spin_rx = s;
}

/* Owner's thread: let the loop read connections itself while it spins (off at init). */
static inline void nvmf_reactor_spin_rx_enable(struct nvmf_reactor *r, bool on)
{
	r->spin_rx_on = on;
	if (!on)
		r->spin_rx = NULL;
}

static inline void nvmf_reactor_spin_rx_drop(struct nvmf_reactor *r, struct nvmf_spin_rx *s)
{
	if (r->spin_rx == s)
		r->spin_rx = NULL;
}

/* Thread-safe: run fn(arg) on r's thread.  Returns 0 or -ENOMEM. */
int nvmf_reactor_call(struct nvmf_reactor *r, void (*fn)(void *arg), void *arg);

/*
 * Any thread, lock-free, never fails: run p->fn(p) on r's thread.  p must stay put until
 * then, and r must outlive it.  Items posted together run in the order posted.
 */
void nvmf_reactor_post(struct nvmf_reactor *r, struct nvmf_posted *p);

uint64_t nvmf_now_ns(void);

#endif
