/*
 * Controllers: creation at admin Connect (dynamic controller IDs), the CC/CSTS state
 * machine, keep-alive, reference counting and teardown of every queue of a controller.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"
#include "util/log.h"

static const char *ctrl_host(const struct nvmf_tgt_ctrl *ctrl)
{
	return ctrl->hostnqn[0] ? ctrl->hostnqn : "?";
}

static bool cntlid_in_use(struct nvmf_subsys *subsys, uint16_t id)
{
	for (struct nvmf_tgt_ctrl *c = subsys->ctrls; c; c = c->next)
		if (c->cntlid == id)
			return true;
	return false;
}

/* Next free controller ID in cntlid_min..cntlid_max, round robin (tgt->lock held). */
static int alloc_cntlid(struct nvmf_subsys *subsys)
{
	uint32_t span = (uint32_t)subsys->cntlid_max - subsys->cntlid_min + 1;

	for (uint32_t i = 0; i < span; i++) {
		uint16_t id = subsys->next_cntlid;

		if (id < subsys->cntlid_min || id > subsys->cntlid_max)
			id = subsys->cntlid_min;
		subsys->next_cntlid = id == subsys->cntlid_max ? subsys->cntlid_min
							       : (uint16_t)(id + 1);
		if (!cntlid_in_use(subsys, id))
			return id;
	}
	return -1;
}

static void ka_expired(struct nvmf_timer *t);

struct nvmf_tgt_ctrl *nvmf_tgt_ctrl_create(struct nvmf_subsys *subsys, struct nvmf_sq *admin_sq,
				   const struct nvmf_connect_data *d, uint32_t kato_ms,
				   uint16_t *status)
{
	struct nvmf_tgt *tgt = subsys->tgt;
	struct nvmf_tgt_ctrl *ctrl = calloc(1, sizeof(*ctrl));
	uint32_t mqes;
	int id;

	if (!ctrl)
		goto nomem;
	ctrl->err_log = calloc(NVMF_ERR_LOG_SLOTS, sizeof(*ctrl->err_log));
	if (!ctrl->err_log)
		goto nomem;
	ctrl->tgt = tgt;
	ctrl->subsys = subsys;
	ctrl->port = admin_sq->port;
	atomic_init(&ctrl->refs, 1);
	memcpy(ctrl->hostnqn, d->hostnqn, sizeof(ctrl->hostnqn) - 1);
	memcpy(ctrl->hostid, d->hostid, sizeof(ctrl->hostid));
	pthread_mutex_init(&ctrl->lock, NULL);

	mqes = admin_sq->port->max_queue_size - 1;
	ctrl->cap = mqes | ((uint64_t)NVMF_CAP_TO << NVME_CAP_TO_SHIFT) | NVME_CAP_BIT_CSS_NVM;
	/* a passthrough controller declares the NVM command set alone (nvmet declares more
	 * only when the drive has them; we pass no command-set-specific Identify but ZNS) */
	if (!subsys->is_discovery && !subsys->passthru)
		ctrl->cap |= NVME_CAP_BIT_CSS_IOCS;

	/* A discovery controller without keep-alive still gets one, as with nvmet. */
	if (subsys->is_discovery && kato_ms == 0)
		kato_ms = NVMF_DISC_KATO_MS;
	ctrl->kato_ms = (kato_ms + NVMF_KAS_MS - 1) / NVMF_KAS_MS * NVMF_KAS_MS;
	ctrl->ka_timer.fn = ka_expired;
	ctrl->admin_sq = admin_sq;
	/* like nvmet: namespace attribute and ANA notices are on until the host says otherwise */
	ctrl->aec = subsys->is_discovery ? 0 : NVME_AEC_NS_ATTR | NVME_AEC_ANA_CHANGE;

	pthread_mutex_lock(&tgt->lock);
	if (subsys->removed) {
		/* a reload took it away since the Connect found it: no controller may join a
		 * subsystem that is about to be freed (nvmf_tgt_reap_removed) */
		pthread_mutex_unlock(&tgt->lock);
		log_warn("subsystem %s: removed from the configuration: host %s refused",
			 subsys->nqn, ctrl_host(ctrl));
		*status = NVME_STATUS_NORETRY(NVME_SCT_CMD_SPECIFIC, NVMF_SC_CONNECT_INVALID_HOST);
		free(ctrl->err_log);
		free(ctrl);
		return NULL;
	}
	id = alloc_cntlid(subsys);
	if (id < 0) {
		pthread_mutex_unlock(&tgt->lock);
		log_warn("subsystem %s: no free controller ID for host %s", subsys->nqn,
			 ctrl_host(ctrl));
		*status = NVME_STATUS_NORETRY(NVME_SCT_CMD_SPECIFIC, NVMF_SC_CONNECT_CTRL_BUSY);
		free(ctrl->err_log);
		free(ctrl);
		return NULL;
	}
	ctrl->cntlid = (uint16_t)id;
	ctrl->next = subsys->ctrls;
	subsys->ctrls = ctrl;
	atomic_fetch_add(&tgt->live_ctrls, 1);
	pthread_mutex_unlock(&tgt->lock);

	atomic_store(&ctrl->last_ka_ns, nvmf_now_ns());
	if (ctrl->kato_ms)
		nvmf_timer_arm(admin_sq->reactor, &ctrl->ka_timer,
			       (uint64_t)ctrl->kato_ms * 1000000ull);
	log_info("ctrl %u: host %s connected to %s (kato %u ms)", ctrl->cntlid, ctrl_host(ctrl),
		 subsys->nqn, ctrl->kato_ms);
	return ctrl;
nomem:
	if (ctrl)
		free(ctrl->err_log);
	free(ctrl);
	*status = NVMF_SC(NVME_SC_INTERNAL);
	return NULL;
}

struct nvmf_tgt_ctrl *nvmf_tgt_ctrl_find(struct nvmf_subsys *subsys, uint16_t cntlid,
				 const char *hostnqn)
{
	struct nvmf_tgt_ctrl *found = NULL;

	pthread_mutex_lock(&subsys->tgt->lock);
	for (struct nvmf_tgt_ctrl *c = subsys->ctrls; c; c = c->next) {
		if (c->cntlid == cntlid && !atomic_load(&c->dying) &&
		    strncmp(c->hostnqn, hostnqn, NVMF_NQN_BUF) == 0) {
			nvmf_tgt_ctrl_get(c);
			found = c;
			break;
		}
	}
	pthread_mutex_unlock(&subsys->tgt->lock);
	return found;
}

void nvmf_tgt_ctrl_get(struct nvmf_tgt_ctrl *ctrl)
{
	atomic_fetch_add(&ctrl->refs, 1);
}

void nvmf_tgt_ctrl_put(struct nvmf_tgt_ctrl *ctrl)
{
	struct nvmf_tgt *tgt = ctrl->tgt;

	if (atomic_fetch_sub(&ctrl->refs, 1) != 1)
		return;
	pthread_mutex_lock(&tgt->lock);
	for (struct nvmf_tgt_ctrl **pp = &ctrl->subsys->ctrls; *pp; pp = &(*pp)->next) {
		if (*pp == ctrl) {
			*pp = ctrl->next;
			break;
		}
	}
	/* its queues are gone and folded into ctrl->retired: the subsystem keeps the sum */
	nvmf_io_stats_fold(&ctrl->subsys->retired, &ctrl->retired);
	pthread_mutex_unlock(&tgt->lock);
	log_info("ctrl %u: host %s: controller released", ctrl->cntlid, ctrl_host(ctrl));
	nvmf_dhchap_wipe(&ctrl->auth, sizeof(ctrl->auth));
	pthread_mutex_destroy(&ctrl->lock);
	free(ctrl->err_log);
	free(ctrl);
	atomic_fetch_sub(&tgt->live_ctrls, 1);
}

bool nvmf_tgt_ctrl_ready(const struct nvmf_tgt_ctrl *ctrl)
{
	return (atomic_load_explicit(&ctrl->cc, memory_order_acquire) & NVME_CC_EN) &&
	       (atomic_load_explicit(&ctrl->csts, memory_order_acquire) & NVME_CSTS_RDY);
}

/* CC.EN 0 -> 1: the values the host chose must be ones we support, else CFS. */
static bool cc_valid(const struct nvmf_tgt_ctrl *ctrl, uint32_t cc)
{
	uint32_t css = NVME_GET(cc, NVME_CC_CSS);

	if (NVME_GET(cc, NVME_CC_MPS) != 0 || NVME_GET(cc, NVME_CC_AMS) != 0)
		return false;
	/* NVM, or "all I/O command sets" where CAP.CSS advertises it (not discovery) */
	if (css != NVME_CC_CSS_NVM && !(css == NVME_CC_CSS_ALL_IOCS && !ctrl->subsys->is_discovery))
		return false;
	/* I/O queue entry sizes only matter for controllers with I/O queues */
	if (!ctrl->subsys->is_discovery &&
	    (NVME_GET(cc, NVME_CC_IOSQES) != NVME_SQES_LOG2 ||
	     NVME_GET(cc, NVME_CC_IOCQES) != NVME_CQES_LOG2))
		return false;
	return true;
}

uint16_t nvmf_tgt_ctrl_set_cc(struct nvmf_tgt_ctrl *ctrl, uint32_t cc)
{
	uint32_t old = atomic_load(&ctrl->cc);
	uint32_t csts = atomic_load(&ctrl->csts);

	if ((cc & NVME_CC_EN) && !(old & NVME_CC_EN)) {
		if (cc_valid(ctrl, cc)) {
			csts = NVME_CSTS_RDY;
		} else {
			log_warn("ctrl %u: host %s enabled with unsupported CC 0x%x", ctrl->cntlid,
				 ctrl_host(ctrl), cc);
			csts = NVME_CSTS_CFS;
		}
	}
	if (!(cc & NVME_CC_EN) && (old & NVME_CC_EN)) {
		/* controller reset: not ready, nothing configured survives */
		csts &= ~(uint32_t)(NVME_CSTS_RDY | NVME_CSTS_CFS);
		cc = 0;
	}
	if (NVME_GET(cc, NVME_CC_SHN) && !NVME_GET(old, NVME_CC_SHN)) {
		/* Writes complete only once on stable storage: a shutdown has nothing to wait for. */
		csts = (csts & ~(NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT)) |
		       (uint32_t)NVME_SET(NVME_CSTS_SHST, NVME_CSTS_SHST_COMPLETE);
		log_info("ctrl %u: host %s: shutdown notification", ctrl->cntlid, ctrl_host(ctrl));
	} else if (!NVME_GET(cc, NVME_CC_SHN) && NVME_GET(old, NVME_CC_SHN)) {
		csts &= ~(NVME_CSTS_SHST_MASK << NVME_CSTS_SHST_SHIFT);
	}
	atomic_store_explicit(&ctrl->cc, cc, memory_order_release);
	atomic_store_explicit(&ctrl->csts, csts, memory_order_release);
	return 0;
}

/* ------------------------------------------------------------------ keep-alive */

static void ka_expired(struct nvmf_timer *t)
{
	struct nvmf_tgt_ctrl *ctrl = (struct nvmf_tgt_ctrl *)((char *)t - offsetof(struct nvmf_tgt_ctrl,
									      ka_timer));
	uint64_t now = nvmf_now_ns();
	uint64_t last = atomic_load(&ctrl->last_ka_ns);
	uint64_t kato = (uint64_t)ctrl->kato_ms * 1000000ull;

	if (!ctrl->kato_ms || !ctrl->admin_sq)
		return;
	if (now - last < kato) {
		nvmf_timer_arm(ctrl->admin_sq->reactor, t, kato - (now - last));
		return;
	}
	log_warn("ctrl %u: host %s: keep-alive timeout (%u ms) expired", ctrl->cntlid,
		 ctrl_host(ctrl), ctrl->kato_ms);
	nvmf_tgt_ctrl_fatal(ctrl, "keep-alive timeout");
}

/*
 * May the controller still run a command that arrives now?  Not once torn down, nor once
 * its keep-alive timeout has passed, even if the timer has not fired yet: the timer runs
 * on the reactor's loop, and a target that was stalled (stopped, swapped out, stuck in a
 * slow system call) reads the commands queued in its sockets before the timer runs.  The
 * host gave those up at KATO and has resubmitted them on a new association: run now, an
 * old write would land on the newer data written since.
 */
bool nvmf_tgt_ctrl_alive(struct nvmf_tgt_ctrl *ctrl, uint64_t now)
{
	uint64_t last = atomic_load_explicit(&ctrl->last_ka_ns, memory_order_relaxed);
	uint64_t kato = (uint64_t)ctrl->kato_ms * 1000000ull;

	if (atomic_load(&ctrl->dying))
		return false;
	if (!ctrl->kato_ms || now <= last || now - last < kato)
		return true;
	log_warn("ctrl %u: host %s: keep-alive timeout (%u ms) expired %llu ms ago (the target "
		 "was stalled): commands that arrive now are not run", ctrl->cntlid,
		 ctrl_host(ctrl), ctrl->kato_ms,
		 (unsigned long long)((now - last - kato) / 1000000ull));
	nvmf_tgt_ctrl_fatal(ctrl, "keep-alive timeout");
	return false;
}

/* A Keep Alive command, or KATO changed: on the admin queue's reactor. */
void nvmf_tgt_ctrl_keep_alive(struct nvmf_tgt_ctrl *ctrl)
{
	atomic_store(&ctrl->last_ka_ns, nvmf_now_ns());
	if (!ctrl->admin_sq)
		return;
	if (ctrl->kato_ms)
		nvmf_timer_arm(ctrl->admin_sq->reactor, &ctrl->ka_timer,
			       (uint64_t)ctrl->kato_ms * 1000000ull);
	else
		nvmf_timer_cancel(ctrl->admin_sq->reactor, &ctrl->ka_timer);
}

/* ------------------------------------------------------------------ async events */

unsigned nvmf_tgt_ctrl_take_aers(struct nvmf_sq *sq, struct nvmf_req **out, unsigned max)
{
	struct nvmf_tgt_ctrl *ctrl = sq->ctrl;
	unsigned n = 0;

	/* AERs are parked on the admin queue's reactor: only that queue may take them */
	if (sq->qid != 0 || !ctrl || ctrl->admin_sq != sq)
		return 0;
	while (n < ctrl->nr_aer_reqs && n < max) {
		out[n] = ctrl->aer_reqs[n];
		n++;
	}
	ctrl->nr_aer_reqs -= n;
	memmove(&ctrl->aer_reqs[0], &ctrl->aer_reqs[n], ctrl->nr_aer_reqs * sizeof(out[0]));
	return n;
}

/* ------------------------------------------------------------------ teardown */

struct disconnect_msg {
	struct nvmf_tgt_ctrl *ctrl; /* a reference is held */
	struct nvmf_sq *sq;     /* identity only: dereferenced if still on the controller */
};

static bool sq_still_on_ctrl(struct nvmf_tgt_ctrl *ctrl, struct nvmf_sq *sq)
{
	if (ctrl->admin_sq == sq)
		return true;
	for (struct nvmf_sq *s = ctrl->io_sqs; s; s = s->ctrl_next)
		if (s == sq)
			return true;
	return false;
}

/*
 * Runs on the queue's reactor.  A queue is freed only by its own reactor, after it left
 * the controller's lists under tgt->lock: if it is still listed, it is alive.
 */
static void disconnect_on_reactor(void *arg)
{
	struct disconnect_msg *m = arg;
	bool alive;

	pthread_mutex_lock(&m->ctrl->tgt->lock);
	alive = sq_still_on_ctrl(m->ctrl, m->sq);
	pthread_mutex_unlock(&m->ctrl->tgt->lock);
	if (alive)
		m->sq->ops->disconnect(m->sq);
	nvmf_tgt_ctrl_put(m->ctrl);
	free(m);
}

void nvmf_tgt_ctrl_fatal(struct nvmf_tgt_ctrl *ctrl, const char *why)
{
	struct nvmf_tgt *tgt = ctrl->tgt;
	struct nvmf_sq *targets[NVMF_CFG_QID_MAX + 2];
	/*
	 * Each queue's reactor, read under the lock: once it is dropped, a queue may leave
	 * the lists and be freed by its own reactor at any moment, so nothing below may
	 * dereference targets[i] (disconnect_on_reactor checks it is still listed first).
	 */
	struct nvmf_reactor *owners[NVMF_CFG_QID_MAX + 2];
	unsigned n = 0;

	if (atomic_exchange(&ctrl->dying, true))
		return;
	atomic_fetch_or(&ctrl->csts, NVME_CSTS_CFS);
	log_info("ctrl %u: host %s: tearing down (%s)", ctrl->cntlid, ctrl_host(ctrl), why);

	pthread_mutex_lock(&tgt->lock);
	if (ctrl->admin_sq) {
		owners[n] = ctrl->admin_sq->reactor;
		targets[n++] = ctrl->admin_sq;
	}
	for (struct nvmf_sq *s = ctrl->io_sqs; s && n < sizeof(targets) / sizeof(targets[0]);
	     s = s->ctrl_next) {
		owners[n] = s->reactor;
		targets[n++] = s;
	}
	pthread_mutex_unlock(&tgt->lock);

	for (unsigned i = 0; i < n; i++) {
		struct disconnect_msg *m = malloc(sizeof(*m));

		if (!m) {
			log_err("ctrl %u: out of memory tearing down queue", ctrl->cntlid);
			continue;
		}
		nvmf_tgt_ctrl_get(ctrl);
		m->ctrl = ctrl;
		m->sq = targets[i];
		if (nvmf_reactor_call(owners[i], disconnect_on_reactor, m)) {
			nvmf_tgt_ctrl_put(ctrl);
			free(m);
		}
	}
}

void nvmf_tgt_ctrl_fill_stats(struct nvmf_tgt_ctrl *ctrl, uint64_t *rd_cmds, uint64_t *wr_cmds,
			  uint64_t *rd_bytes, uint64_t *wr_bytes)
{
	pthread_mutex_lock(&ctrl->tgt->lock);
	*rd_cmds = ctrl->retired.cmds[NVMF_STATS_READ];
	*wr_cmds = ctrl->retired.cmds[NVMF_STATS_WRITE];
	*rd_bytes = ctrl->retired.bytes[NVMF_STATS_READ];
	*wr_bytes = ctrl->retired.bytes[NVMF_STATS_WRITE];
	for (struct nvmf_sq *s = ctrl->io_sqs; s; s = s->ctrl_next) {
		*rd_cmds += nvmf_stat_read(&s->stats.cmds[NVMF_STATS_READ]);
		*wr_cmds += nvmf_stat_read(&s->stats.cmds[NVMF_STATS_WRITE]);
		*rd_bytes += nvmf_stat_read(&s->stats.bytes[NVMF_STATS_READ]);
		*wr_bytes += nvmf_stat_read(&s->stats.bytes[NVMF_STATS_WRITE]);
	}
	pthread_mutex_unlock(&ctrl->tgt->lock);
}
