/*
 * libnvmf multipath: one namespace over several controllers of a subsystem (paths), the
 * Linux host's native multipath in a library.  A multipath queue owns the queue pair of
 * its index on every path; each command is kept in a request of the queue (sqe, scatter
 * list, callback) so that it can be sent again on another path when the one it went to
 * fails: the connection lost, the controller reconnecting or given up, an ANA path status,
 * or the path stalled (commands in flight, none completing for stall_ms).
 *
 * Path states come from the controllers (live / reconnecting / dead, ANA state of the
 * namespace from the ANA log that ctrl.c reads); which usable path a command takes is
 * hmpath_select(), pure logic over those states.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "host/host.h"
#include "host/log.h"

#define WAIT_SLICE_MS 50      /* longest nap while commands are out: failover runs by time */

struct mpath_slot {
	struct nvmf_ctrl *ctrl;       /* NULL: free (under m->lock) */
	bool removing;
	unsigned users;               /* queues attached to it */
	_Atomic uint64_t ios;         /* completed through it */
};

struct nvmf_mpath {
	struct nvmf_mpath_opts o;
	pthread_mutex_t lock;
	pthread_cond_t cond;          /* a queue let go of a path */
	struct mpath_slot slot[NVMF_MPATH_MAX_PATHS];
	atomic_uint gen;              /* bumped when the set of paths changes */
	struct nvmf_ns_info ns;       /* the namespace as the first path described it */
	char subnqn[257];
	bool have_ns;
	struct nvmf_mpath_queue *queues; /* to wake them when paths change */
	_Atomic enum nvmf_iopolicy iopolicy; /* o.iopolicy, changeable while queues run */
};

/* One path as one queue sees it. */
struct mq_path {
	struct nvmf_ctrl *c;          /* NULL: not attached */
	struct nvmf_qpair *q;
	bool draining;                /* being removed: no new commands, detach when empty */
	unsigned ana_gen;
	uint8_t ana;                  /* enum nvmf_ana_state */
	unsigned inflight;            /* our commands on q */
	uint64_t seen_completed;      /* q->completed when progress_ns was taken */
	uint64_t progress_ns;         /* last time q completed something, or had nothing out */
};

struct mreq {
	struct nvmf_mpath_queue *mq;
	struct nvme_sqe sqe;
	struct iovec iov[HREQ_IOV];
	int iovcnt;
	uint32_t len;
	bool write;
	nvmf_io_cb cb;
	void *arg;
	int path;                     /* slot it is on; -1: waiting for a path */
	uint64_t wait_ns;             /* when it began waiting */
	struct nvme_dsm_range dsm;
	struct mreq *next;
};

struct nvmf_mpath_queue {
	struct nvmf_mpath *m;
	struct nvmf_mpath_queue *next;
	unsigned qidx;
	unsigned seen_gen;
	struct mq_path p[NVMF_MPATH_MAX_PATHS];
	struct mreq *reqs, *free;
	unsigned depth, busy;
	struct mreq *wait_head, *wait_tail;
	unsigned rr;
	unsigned completions;         /* callbacks run by the current poll */
	int epfd, kick_fd;
};

/* ------------------------------------------------------------------ policy (pure) */

int hmpath_select(const struct hmpath_cand *cand, unsigned n, enum nvmf_iopolicy pol,
		  unsigned *cursor)
{
	/* optimized paths first; non-optimized only when no optimized path is usable */
	for (uint8_t want = NVME_ANA_OPTIMIZED; want <= NVME_ANA_NON_OPTIMIZED; want++) {
		int best = -1;

		switch (pol) {
		case NVMF_IOPOLICY_ROUND_ROBIN:
			for (unsigned k = 1; k <= n; k++) {
				unsigned i = (*cursor + k) % n;

				if (cand[i].usable && cand[i].ana == want) {
					*cursor = i;
					return (int)i;
				}
			}
			break;
		case NVMF_IOPOLICY_QUEUE_DEPTH:
			for (unsigned i = 0; i < n; i++)
				if (cand[i].usable && cand[i].ana == want &&
				    (best < 0 || cand[i].inflight < cand[best].inflight))
					best = (int)i;
			if (best >= 0)
				return best;
			break;
		case NVMF_IOPOLICY_NUMA:
		default:
			for (unsigned i = 0; i < n; i++)
				if (cand[i].usable && cand[i].ana == want)
					return (int)i;
			break;
		}
	}
	return -1;
}

bool hmpath_is_path_error(int status)
{
	if (status < 0)
		return status == -ECONNABORTED || status == -ECONNRESET || status == -ENODEV ||
		       status == -ENOTCONN || status == -ETIMEDOUT || status == -EPIPE;
	/* as the Linux host: every path-related status, unless the controller says DNR */
	return nvme_status_sct((uint16_t)status) == NVME_SCT_PATH &&
	       !nvme_status_dnr((uint16_t)status);
}

const char *nvmf_iopolicy_name(enum nvmf_iopolicy p)
{
	switch (p) {
	case NVMF_IOPOLICY_NUMA: return "numa";
	case NVMF_IOPOLICY_ROUND_ROBIN: return "round-robin";
	case NVMF_IOPOLICY_QUEUE_DEPTH: return "queue-depth";
	}
	return "unknown";
}

int nvmf_iopolicy_parse(const char *s, enum nvmf_iopolicy *out)
{
	for (int p = NVMF_IOPOLICY_NUMA; p <= NVMF_IOPOLICY_QUEUE_DEPTH; p++)
		if (strcmp(s, nvmf_iopolicy_name((enum nvmf_iopolicy)p)) == 0) {
			*out = (enum nvmf_iopolicy)p;
			return 0;
		}
	return -EINVAL;
}

/* ------------------------------------------------------------------ the path set */

void nvmf_mpath_opts_init(struct nvmf_mpath_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->nsid = 1;
	o->iopolicy = NVMF_IOPOLICY_NUMA;
	o->stall_ms = 500;
}

int nvmf_mpath_create(const struct nvmf_mpath_opts *o, struct nvmf_mpath **out)
{
	struct nvmf_mpath *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->o = *o;
	if (!m->o.nsid)
		m->o.nsid = 1;
	atomic_init(&m->iopolicy, o->iopolicy);
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	*out = m;
	return 0;
}

void nvmf_mpath_set_iopolicy(struct nvmf_mpath *m, enum nvmf_iopolicy p)
{
	atomic_store_explicit(&m->iopolicy, p, memory_order_relaxed);
}

enum nvmf_iopolicy nvmf_mpath_iopolicy(const struct nvmf_mpath *m)
{
	return atomic_load_explicit(&m->iopolicy, memory_order_relaxed);
}

void nvmf_mpath_destroy(struct nvmf_mpath *m)
{
	if (!m)
		return;
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	free(m);
}

/*
 * Wake the queues' event loops: before the generation changes, so that a queue that sees
 * the new generation (and drains the kick then) finds the kick already there - a kick
 * left behind would keep its fd readable.
 */
static void kick_queues(struct nvmf_mpath *m)
{
	uint64_t one = 1;

	for (struct nvmf_mpath_queue *mq = m->queues; mq; mq = mq->next)
		if (write(mq->kick_fd, &one, sizeof(one)) < 0) {
			/* saturated: it is being woken anyway */
		}
}

static bool same_ns(const struct nvmf_ns_info *a, const struct nvmf_ns_info *b)
{
	static const uint8_t zero[16];

	if (a->nblocks != b->nblocks || a->block_size != b->block_size)
		return false;
	if ((memcmp(a->nguid, zero, 16) || memcmp(b->nguid, zero, 16)) &&
	    memcmp(a->nguid, b->nguid, 16))
		return false;
	if ((memcmp(a->eui64, zero, 8) || memcmp(b->eui64, zero, 8)) &&
	    memcmp(a->eui64, b->eui64, 8))
		return false;
	if (a->has_uuid != b->has_uuid || (a->has_uuid && memcmp(a->uuid, b->uuid, 16)))
		return false;
	return true;
}

int nvmf_mpath_add_path(struct nvmf_mpath *m, struct nvmf_ctrl *c)
{
	struct nvmf_ns_info info;
	int rc, free_slot = -1;

	if (!nvmf_ctrl_nr_qpairs(c)) {
		host_set_error("%s: controller %u has no I/O queues", c->subnqn, c->cntlid);
		return -EINVAL;
	}
	rc = nvmf_ctrl_ns_info(c, m->o.nsid, &info);
	if (rc) {
		host_set_error("%s: controller %u: namespace %u: %s", c->subnqn, c->cntlid,
			       m->o.nsid, strerror(-rc));
		return rc;
	}
	pthread_mutex_lock(&m->lock);
	for (int i = NVMF_MPATH_MAX_PATHS - 1; i >= 0; i--) {
		if (m->slot[i].ctrl == c) {
			pthread_mutex_unlock(&m->lock);
			host_set_error("%s: controller %u is a path already", c->subnqn, c->cntlid);
			return -EEXIST;
		}
		if (!m->slot[i].ctrl && !m->slot[i].users)
			free_slot = i;
	}
	if (m->have_ns && strcmp(m->subnqn, c->subnqn)) {
		pthread_mutex_unlock(&m->lock);
		host_set_error("%s is not the subsystem of the other paths (%s)", c->subnqn,
			       m->subnqn);
		return -EINVAL;
	}
	if (m->have_ns && !same_ns(&m->ns, &info)) {
		pthread_mutex_unlock(&m->lock);
		host_set_error("%s: namespace %u through %s:%s is not the one of the other paths "
			       "(NGUID, UUID or size differ)", c->subnqn, m->o.nsid, c->traddr,
			       c->trsvcid);
		return -EINVAL;
	}
	if (free_slot < 0) {
		pthread_mutex_unlock(&m->lock);
		host_set_error("%s: %d paths already", c->subnqn, NVMF_MPATH_MAX_PATHS);
		return -ENOSPC;
	}
	if (!m->have_ns) {
		m->ns = info;
		snprintf(m->subnqn, sizeof(m->subnqn), "%s", c->subnqn);
		m->have_ns = true;
	}
	m->slot[free_slot].ctrl = c;
	m->slot[free_slot].removing = false;
	atomic_store(&m->slot[free_slot].ios, 0);
	kick_queues(m);
	atomic_fetch_add(&m->gen, 1);
	pthread_mutex_unlock(&m->lock);
	host_log(LOG_INFO, "%s: nsid %u: path %s:%s (controller %u, ANA %s) added", c->subnqn,
		 m->o.nsid, c->traddr, c->trsvcid, c->cntlid,
		 nvmf_ana_state_name(nvmf_ctrl_ana_state(c, m->o.nsid)));
	return 0;
}

int nvmf_mpath_remove_path(struct nvmf_mpath *m, struct nvmf_ctrl *c)
{
	int i;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < NVMF_MPATH_MAX_PATHS; i++)
		if (m->slot[i].ctrl == c && !m->slot[i].removing)
			break;
	if (i == NVMF_MPATH_MAX_PATHS) {
		pthread_mutex_unlock(&m->lock);
		return -ENOENT;
	}
	m->slot[i].removing = true;
	kick_queues(m);
	atomic_fetch_add(&m->gen, 1);
	while (m->slot[i].users)
		pthread_cond_wait(&m->cond, &m->lock);
	m->slot[i].ctrl = NULL;
	m->slot[i].removing = false;
	atomic_fetch_add(&m->gen, 1);
	pthread_mutex_unlock(&m->lock);
	host_log(LOG_INFO, "%s: nsid %u: path %s:%s (controller %u) removed", c->subnqn,
		 m->o.nsid, c->traddr, c->trsvcid, c->cntlid);
	return 0;
}

/* The idx-th slot in use (not being removed), or -1. */
static int nth_slot(struct nvmf_mpath *m, unsigned idx)
{
	for (int i = 0; i < NVMF_MPATH_MAX_PATHS; i++)
		if (m->slot[i].ctrl && !m->slot[i].removing && idx-- == 0)
			return i;
	return -1;
}

unsigned nvmf_mpath_nr_paths(struct nvmf_mpath *m)
{
	unsigned n = 0;

	pthread_mutex_lock(&m->lock);
	for (int i = 0; i < NVMF_MPATH_MAX_PATHS; i++)
		n += m->slot[i].ctrl && !m->slot[i].removing;
	pthread_mutex_unlock(&m->lock);
	return n;
}

struct nvmf_ctrl *nvmf_mpath_path(struct nvmf_mpath *m, unsigned idx)
{
	struct nvmf_ctrl *c;
	int i;

	pthread_mutex_lock(&m->lock);
	i = nth_slot(m, idx);
	c = i < 0 ? NULL : m->slot[i].ctrl;
	pthread_mutex_unlock(&m->lock);
	return c;
}

uint64_t nvmf_mpath_path_ios(struct nvmf_mpath *m, unsigned idx)
{
	uint64_t n;
	int i;

	pthread_mutex_lock(&m->lock);
	i = nth_slot(m, idx);
	n = i < 0 ? 0 : atomic_load(&m->slot[i].ios);
	pthread_mutex_unlock(&m->lock);
	return n;
}

uint32_t nvmf_mpath_nsid(const struct nvmf_mpath *m)
{
	return m->o.nsid;
}

/* ------------------------------------------------------------------ queue: paths */

static void detach(struct nvmf_mpath_queue *mq, unsigned i)
{
	struct nvmf_mpath *m = mq->m;
	struct mq_path *P = &mq->p[i];

	epoll_ctl(mq->epfd, EPOLL_CTL_DEL, nvmf_qpair_fd(P->q), NULL);
	memset(P, 0, sizeof(*P));
	pthread_mutex_lock(&m->lock);
	m->slot[i].users--;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
}

/* Follow the path set: attach new paths, start draining removed ones. */
static void sync_paths(struct nvmf_mpath_queue *mq)
{
	struct nvmf_mpath *m = mq->m;
	unsigned gen = atomic_load(&m->gen);
	uint64_t now = host_coarse_ns();

	pthread_mutex_lock(&m->lock);
	for (unsigned i = 0; i < NVMF_MPATH_MAX_PATHS; i++) {
		struct mpath_slot *s = &m->slot[i];
		struct mq_path *P = &mq->p[i];

		if (P->c && (s->removing || s->ctrl != P->c)) {
			P->draining = true;
		} else if (!P->c && s->ctrl && !s->removing &&
			   mq->qidx < nvmf_ctrl_nr_qpairs(s->ctrl)) {
			struct epoll_event ev = { .events = EPOLLIN, .data.u32 = i + 1 };

			P->c = s->ctrl;
			P->q = nvmf_ctrl_qpair(s->ctrl, mq->qidx);
			/* before any command is sent: a non-optimized path takes none */
			P->ana_gen = nvmf_ctrl_ana_gen(P->c);
			P->ana = (uint8_t)nvmf_ctrl_ana_state(P->c, m->o.nsid);
			P->progress_ns = now;
			P->seen_completed = P->q->completed;
			epoll_ctl(mq->epfd, EPOLL_CTL_ADD, nvmf_qpair_fd(P->q), &ev);
			s->users++;
		}
	}
	mq->seen_gen = gen;
	pthread_mutex_unlock(&m->lock);
}

/* The controller of P can take commands now (it may still be connecting this queue pair). */
static bool ctrl_up(const struct mq_path *P)
{
	return atomic_load(&P->c->state) == NVMF_CTRL_LIVE &&
	       !atomic_load(&P->c->need_reconnect) && P->q->state != QP_DEAD;
}

static void refresh_ana(struct nvmf_mpath_queue *mq, struct mq_path *P)
{
	unsigned g = nvmf_ctrl_ana_gen(P->c);

	if (g != P->ana_gen) {
		P->ana_gen = g;
		P->ana = (uint8_t)nvmf_ctrl_ana_state(P->c, mq->m->o.nsid);
	}
}

/*
 * What the selector sees.  live_only: paths whose queue pair is connected; one that is
 * still connecting (after its controller reconnected) would hold commands meanwhile.
 */
static unsigned candidates(struct nvmf_mpath_queue *mq, struct hmpath_cand *cand,
			   bool live_only)
{
	unsigned usable = 0;

	for (unsigned i = 0; i < NVMF_MPATH_MAX_PATHS; i++) {
		struct mq_path *P = &mq->p[i];

		cand[i].usable = P->c && !P->draining && ctrl_up(P) &&
				 (!live_only || P->q->state == QP_LIVE);
		cand[i].ana = P->ana;
		cand[i].inflight = P->inflight;
		usable += cand[i].usable && (P->ana == NVME_ANA_OPTIMIZED ||
					     P->ana == NVME_ANA_NON_OPTIMIZED);
	}
	return usable;
}

/* Some path may still carry commands one day (its controller is not given up). */
static bool any_alive(struct nvmf_mpath_queue *mq)
{
	for (unsigned i = 0; i < NVMF_MPATH_MAX_PATHS; i++)
		if (mq->p[i].c && !mq->p[i].draining &&
		    atomic_load(&mq->p[i].c->state) != NVMF_CTRL_DEAD)
			return true;
	return false;
}

/* ------------------------------------------------------------------ queue: commands */

static void wait_push(struct nvmf_mpath_queue *mq, struct mreq *r, bool front)
{
	r->path = -1;
	r->wait_ns = host_coarse_ns();
	if (front) {
		r->next = mq->wait_head;
		mq->wait_head = r;
		if (!mq->wait_tail)
			mq->wait_tail = r;
		return;
	}
	r->next = NULL;
	if (mq->wait_tail)
		mq->wait_tail->next = r;
	else
		mq->wait_head = r;
	mq->wait_tail = r;
}

static void finish(struct nvmf_mpath_queue *mq, struct mreq *r, int status,
		   const struct nvme_cqe *cqe)
{
	nvmf_io_cb cb = r->cb;
	void *arg = r->arg;

	r->next = mq->free;
	mq->free = r;
	mq->busy--;
	mq->completions++;
	if (cb)
		cb(arg, status, cqe);
}

static void mreq_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct mreq *r = arg;
	struct nvmf_mpath_queue *mq = r->mq;
	struct mq_path *P = &mq->p[r->path];

	P->inflight--;
	if (status == 0)
		atomic_fetch_add_explicit(&mq->m->slot[r->path].ios, 1, memory_order_relaxed);
	if (hmpath_is_path_error(status)) {
		if (status > 0) {
			/* an ANA status: the path is out until the log says otherwise */
			uint8_t sc = nvme_status_sc((uint16_t)status);

			if (sc == NVME_SC_ANA_INACCESSIBLE)
				P->ana = NVME_ANA_INACCESSIBLE;
			else if (sc == NVME_SC_ANA_PERSISTENT_LOSS)
				P->ana = NVME_ANA_PERSISTENT_LOSS;
			else if (sc == NVME_SC_ANA_TRANSITION)
				P->ana = NVME_ANA_CHANGE;
			hctrl_ana_refresh(P->c);
		}
		/* again, at the end of this poll, on another path */
		wait_push(mq, r, true);
		return;
	}
	finish(mq, r, status, cqe);
}

/*
 * Send r on the path the policy picks: 0 sent, 1 no usable path now, -EAGAIN every usable
 * path is full, other -errno: r cannot be sent at all.
 */
static int dispatch(struct nvmf_mpath_queue *mq, struct mreq *r)
{
	struct hmpath_cand cand[NVMF_MPATH_MAX_PATHS];
	bool full = false, live_only = true;

	candidates(mq, cand, true);
	for (;;) {
		enum nvmf_iopolicy pol = atomic_load_explicit(&mq->m->iopolicy,
							      memory_order_relaxed);
		int i = hmpath_select(cand, NVMF_MPATH_MAX_PATHS, pol, &mq->rr);
		int rc;

		if (i < 0 && live_only && !full) {
			/* no connected path: one that is connecting takes it */
			live_only = false;
			candidates(mq, cand, false);
			continue;
		}
		if (i < 0)
			return full ? -EAGAIN : 1;
		rc = hq_submit(mq->p[i].q, &r->sqe, r->iov, r->iovcnt, r->len, r->write, mreq_done,
			       r, NULL);
		if (rc == 0) {
			r->path = i;
			mq->p[i].inflight++;
			return 0;
		}
		if (rc != -EAGAIN && rc != -ENODEV)
			return rc;
		full |= rc == -EAGAIN;
		cand[i].usable = false;
	}
}

/* Commands that wait for a path: send them, or fail them when no path will come back. */
static void run_waiting(struct nvmf_mpath_queue *mq)
{
	uint64_t tmo = (uint64_t)mq->m->o.no_path_tmo_ms * 1000000ull;

	while (mq->wait_head) {
		struct mreq *r = mq->wait_head;
		int rc = dispatch(mq, r);
		bool alive;

		if (rc == -EAGAIN)
			return;
		if (rc == 1) {
			alive = any_alive(mq);
			if (alive && (!tmo || host_coarse_ns() - r->wait_ns < tmo))
				return;
			rc = alive ? -ETIMEDOUT : -ENODEV;
		}
		mq->wait_head = r->next;
		if (!mq->wait_head)
			mq->wait_tail = NULL;
		if (rc)
			finish(mq, r, rc, NULL);
	}
}

/*
 * Take every command off P's queue pair and give it to another path: the connection is
 * closed first so that no reply or data can reach them any more.
 */
static void fail_over(struct nvmf_mpath_queue *mq, struct mq_path *P, int status)
{
	(void)mq;
	hq_abort_all(P->q, status);
	P->progress_ns = host_coarse_ns();
	P->seen_completed = P->q->completed;
}

static void check_path(struct nvmf_mpath_queue *mq, unsigned i, uint64_t now)
{
	struct mq_path *P = &mq->p[i];
	uint64_t stall = (uint64_t)mq->m->o.stall_ms * 1000000ull;

	if (!P->inflight || P->q->completed != P->seen_completed) {
		P->seen_completed = P->q->completed;
		P->progress_ns = now;
	}
	if (!P->inflight)
		return;
	/* the controller is reconnecting or gone: its commands go elsewhere now */
	if (!ctrl_up(P)) {
		fail_over(mq, P, -ECONNABORTED);
		return;
	}
	if (stall && now - P->progress_ns > stall) {
		struct hmpath_cand cand[NVMF_MPATH_MAX_PATHS];

		candidates(mq, cand, true);
		cand[i].usable = false;
		for (unsigned k = 0; k < NVMF_MPATH_MAX_PATHS; k++) {
			if (!cand[k].usable || (cand[k].ana != NVME_ANA_OPTIMIZED &&
						cand[k].ana != NVME_ANA_NON_OPTIMIZED))
				continue;
			host_log(LOG_WARNING, "%s: path %s:%s (controller %u) queue %u: %u commands, "
				 "none completed for %u ms: failing over, reconnecting it",
				 P->c->subnqn, P->c->traddr, P->c->trsvcid, P->c->cntlid, P->q->qid,
				 P->inflight, mq->m->o.stall_ms);
			hctrl_connection_lost(P->c, P->q, "path stalled");
			fail_over(mq, P, -ETIMEDOUT);
			return;
		}
	}
}

int nvmf_mpath_queue_poll(struct nvmf_mpath_queue *mq, unsigned max)
{
	uint64_t now;

	mq->completions = 0;
	if (atomic_load(&mq->m->gen) != mq->seen_gen) {
		uint64_t v;

		if (read(mq->kick_fd, &v, sizeof(v)) < 0) {
			/* not kicked (a resync after a detach) */
		}
		sync_paths(mq);
	}
	now = host_coarse_ns();
	for (unsigned i = 0; i < NVMF_MPATH_MAX_PATHS; i++) {
		struct mq_path *P = &mq->p[i];

		if (!P->c)
			continue;
		refresh_ana(mq, P);
		/* also when idle: a lost connection is closed here, its fd quiet again */
		nvmf_qpair_poll(P->q, max);
		check_path(mq, i, now);
		if (P->draining && !P->inflight) {
			detach(mq, i);
			mq->seen_gen--; /* the slot may be in use again: look once more */
		}
	}
	run_waiting(mq);
	if (mq->completions)
		return (int)mq->completions;
	/* as a queue pair says of its controller: given up, or reconnecting */
	if (!any_alive(mq))
		return -ENODEV;
	{
		struct hmpath_cand cand[NVMF_MPATH_MAX_PATHS];

		if (!candidates(mq, cand, false))
			return -ENOTCONN;
	}
	return 0;
}

int nvmf_mpath_queue_wait(struct nvmf_mpath_queue *mq, int timeout_ms)
{
	struct epoll_event ev[NVMF_MPATH_MAX_PATHS + 1];
	uint64_t v;
	int rc = nvmf_mpath_queue_poll(mq, 0);

	if (rc > 0)
		return rc;
	/* commands out: failover is a matter of time, so wake up to check */
	if (mq->busy && (timeout_ms < 0 || timeout_ms > WAIT_SLICE_MS))
		timeout_ms = WAIT_SLICE_MS;
	if (epoll_wait(mq->epfd, ev, NVMF_MPATH_MAX_PATHS + 1, timeout_ms) < 0 && errno != EINTR)
		return -errno;
	if (read(mq->kick_fd, &v, sizeof(v)) < 0) {
		/* not kicked */
	}
	return nvmf_mpath_queue_poll(mq, 0);
}

int nvmf_mpath_queue_fd(const struct nvmf_mpath_queue *mq)
{
	return mq->epfd;
}

unsigned nvmf_mpath_queue_depth(const struct nvmf_mpath_queue *mq)
{
	return mq->depth;
}

unsigned nvmf_mpath_queue_inflight(const struct nvmf_mpath_queue *mq)
{
	return mq->busy;
}

int nvmf_mpath_queue_create(struct nvmf_mpath *m, unsigned qidx, unsigned depth,
			    struct nvmf_mpath_queue **out)
{
	struct nvmf_mpath_queue *mq = calloc(1, sizeof(*mq));
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 };

	if (!mq)
		return -ENOMEM;
	mq->m = m;
	mq->qidx = qidx;
	mq->epfd = epoll_create1(EPOLL_CLOEXEC);
	mq->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (mq->epfd < 0 || mq->kick_fd < 0 ||
	    epoll_ctl(mq->epfd, EPOLL_CTL_ADD, mq->kick_fd, &ev) < 0)
		goto fail;
	if (!depth) {
		pthread_mutex_lock(&m->lock);
		for (unsigned i = 0; i < NVMF_MPATH_MAX_PATHS; i++) {
			struct nvmf_ctrl *c = m->slot[i].ctrl;

			if (c && qidx < c->nr_io && c->io[qidx].depth > depth)
				depth = c->io[qidx].depth;
		}
		pthread_mutex_unlock(&m->lock);
		if (!depth)
			depth = 127;
	}
	mq->depth = depth;
	mq->reqs = calloc(depth, sizeof(*mq->reqs));
	if (!mq->reqs)
		goto fail;
	for (unsigned i = 0; i < depth; i++) {
		mq->reqs[i].mq = mq;
		mq->reqs[i].next = i + 1 < depth ? &mq->reqs[i + 1] : NULL;
	}
	mq->free = mq->reqs;
	pthread_mutex_lock(&m->lock);
	mq->next = m->queues;
	m->queues = mq;
	pthread_mutex_unlock(&m->lock);
	mq->seen_gen = atomic_load(&m->gen) - 1;
	sync_paths(mq);
	*out = mq;
	return 0;
fail:
	if (mq->epfd >= 0)
		close(mq->epfd);
	if (mq->kick_fd >= 0)
		close(mq->kick_fd);
	free(mq);
	return -ENOMEM;
}

void nvmf_mpath_queue_free(struct nvmf_mpath_queue *mq)
{
	struct nvmf_mpath *m;

	if (!mq)
		return;
	m = mq->m;
	for (unsigned i = 0; i < NVMF_MPATH_MAX_PATHS; i++)
		if (mq->p[i].c) {
			mq->p[i].draining = true;
			if (mq->p[i].inflight)
				hq_abort_all(mq->p[i].q, -ECONNABORTED);
			detach(mq, i);
		}
	while (mq->wait_head) {
		struct mreq *r = mq->wait_head;

		mq->wait_head = r->next;
		finish(mq, r, -ENODEV, NULL);
	}
	pthread_mutex_lock(&m->lock);
	for (struct nvmf_mpath_queue **pp = &m->queues; *pp; pp = &(*pp)->next)
		if (*pp == mq) {
			*pp = mq->next;
			break;
		}
	pthread_mutex_unlock(&m->lock);
	close(mq->epfd);
	close(mq->kick_fd);
	free(mq->reqs);
	free(mq);
}

/* ------------------------------------------------------------------ queue: submit */

/* Send r on a path, or let it wait for one while any path may come back; else give r up. */
static int start(struct nvmf_mpath_queue *mq, struct mreq *r)
{
	int rc = dispatch(mq, r);

	if (rc == 0)
		return 0;
	if ((rc == 1 || rc == -EAGAIN) && any_alive(mq)) {
		wait_push(mq, r, false);
		return 0;
	}
	r->next = mq->free;
	mq->free = r;
	mq->busy--;
	return rc == 1 || rc == -EAGAIN ? -ENODEV : rc;
}

static int submit(struct nvmf_mpath_queue *mq, const struct nvme_sqe *sqe,
		  const struct iovec *iov, int iovcnt, bool write, nvmf_io_cb cb, void *arg,
		  struct mreq **out)
{
	struct mreq *r = mq->free;
	size_t len = 0;

	if (iovcnt < 0 || iovcnt > HREQ_IOV)
		return -EINVAL;
	if (!r)
		return -EAGAIN;
	if (atomic_load(&mq->m->gen) != mq->seen_gen)
		sync_paths(mq);
	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len > UINT32_MAX)
		return -EINVAL;
	mq->free = r->next;
	mq->busy++;
	r->sqe = *sqe;
	if (iovcnt)
		memcpy(r->iov, iov, (size_t)iovcnt * sizeof(*iov));
	r->iovcnt = iovcnt;
	r->len = (uint32_t)len;
	r->write = write;
	r->cb = cb;
	r->arg = arg;
	if (out) {
		/* the caller fills r's own data (a DSM range) before it can go */
		*out = r;
		return 0;
	}
	return start(mq, r);
}

int nvmf_mpath_readv(struct nvmf_mpath_queue *mq, uint64_t lba, uint32_t nlb,
		     const struct iovec *iov, int iovcnt, nvmf_io_cb cb, void *arg)
{
	struct nvme_sqe sqe;

	if (nlb == 0 || nlb > 65536)
		return -EINVAL;
	hio_rw_sqe(&sqe, NVME_NVM_READ, mq->m->o.nsid, lba, nlb, 0);
	return submit(mq, &sqe, iov, iovcnt, false, cb, arg, NULL);
}

int nvmf_mpath_writev(struct nvmf_mpath_queue *mq, uint64_t lba, uint32_t nlb,
		      const struct iovec *iov, int iovcnt, unsigned flags, nvmf_io_cb cb,
		      void *arg)
{
	struct nvme_sqe sqe;

	if (nlb == 0 || nlb > 65536)
		return -EINVAL;
	hio_rw_sqe(&sqe, NVME_NVM_WRITE, mq->m->o.nsid, lba, nlb, flags);
	return submit(mq, &sqe, iov, iovcnt, true, cb, arg, NULL);
}

int nvmf_mpath_flush(struct nvmf_mpath_queue *mq, nvmf_io_cb cb, void *arg)
{
	struct nvme_sqe sqe;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_NVM_FLUSH;
	sqe.nsid = htole32(mq->m->o.nsid);
	return submit(mq, &sqe, NULL, 0, false, cb, arg, NULL);
}

int nvmf_mpath_write_zeroes(struct nvmf_mpath_queue *mq, uint64_t lba, uint32_t nlb,
			    unsigned flags, nvmf_io_cb cb, void *arg)
{
	struct nvme_sqe sqe;

	if (nlb == 0 || nlb > 65536)
		return -EINVAL;
	hio_rw_sqe(&sqe, NVME_NVM_WRITE_ZEROES, mq->m->o.nsid, lba, nlb, flags);
	return submit(mq, &sqe, NULL, 0, false, cb, arg, NULL);
}

int nvmf_mpath_deallocate(struct nvmf_mpath_queue *mq, uint64_t lba, uint32_t nlb,
			  nvmf_io_cb cb, void *arg)
{
	struct nvme_sqe sqe;
	struct mreq *r;
	int rc;

	memset(&sqe, 0, sizeof(sqe));
	sqe.opcode = NVME_NVM_DSM;
	sqe.nsid = htole32(mq->m->o.nsid);
	sqe.cdw10 = htole32(0);        /* one range (0's based) */
	sqe.cdw11 = htole32(1u << 2);  /* attribute: deallocate */
	rc = submit(mq, &sqe, NULL, 0, true, cb, arg, &r);
	if (rc)
		return rc;
	/* the range travels as data: it lives in the request, across retries too */
	memset(&r->dsm, 0, sizeof(r->dsm));
	r->dsm.slba = htole64(lba);
	r->dsm.nlb = htole32(nlb);
	r->iov[0].iov_base = &r->dsm;
	r->iov[0].iov_len = sizeof(r->dsm);
	r->iovcnt = 1;
	r->len = sizeof(r->dsm);
	return start(mq, r);
}
