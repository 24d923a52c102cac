/*
 * libnvmf controller: connect (admin queue, enable, identify, number of queues, I/O
 * queues), the admin thread (keep-alive every KATO/2, async events, reconnects with the
 * kernel's reconnect_delay / ctrl_loss_tmo semantics), admin commands from any thread,
 * and clean disconnect (CC.SHN).
 */
#include <endian.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "host/host.h"
#include "host/log.h"

#define CONNECT_TIMEOUT_MS 10000  /* the kernel host waits 10 s for an ICResp */
/* CC.IOSQES / IOCQES: 64-byte SQEs, 16-byte CQEs */
#define CC_ENTRY_SIZES ((NVME_SQES_LOG2 << NVME_CC_IOSQES_SHIFT) | \
			(NVME_CQES_LOG2 << NVME_CC_IOCQES_SHIFT))

static __thread char last_error[256];

static void wake(struct nvmf_ctrl *c);

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t host_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t host_coarse_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

void host_set_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
}

const char *nvmf_strerror_last(void)
{
	return last_error[0] ? last_error : "no error";
}

void nvmf_ctrl_opts_init(struct nvmf_ctrl_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->nr_io_queues = 1;
	o->queue_size = 128;
	o->admin_queue_size = 32;
	o->kato_ms = 5000;
	o->reconnect_delay_s = 10;
	o->ctrl_loss_tmo_s = 600;
	o->io_timeout_ms = 30000;
	/* what nvme connect --tls-key derives, and what the Linux host's keyring prefers */
	o->tls_identity_version = 1;
}

/* ------------------------------------------------------------------ admin commands */

struct admin_call {
	struct admin_call *next;
	struct nvme_sqe sqe;
	struct iovec iov;
	bool write;
	int status;
	struct nvme_cqe cqe;
	bool done;
	pthread_cond_t cond;
};

/* Run one admin command to completion on the admin queue (caller owns the admin queue). */
static int admin_sync(struct nvmf_ctrl *c, struct nvme_sqe *sqe, void *data, uint32_t len,
		      bool write, struct nvme_cqe *cqe, int timeout_ms)
{
	struct nvmf_qpair *q = &c->admin;
	struct iovec iov = { data, len };
	uint64_t deadline = host_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int status = -EINPROGRESS;
	struct hreq *r;
	int rc = hq_submit(q, sqe, &iov, len ? 1 : 0, len, write, NULL, NULL, &r);

	if (rc)
		return rc;
	r->sync_status = &status;
	r->sync_cqe = cqe;
	rc = 0;
	while (status == -EINPROGRESS) {
		rc = hq_progress(q, 0);
		if (rc < 0)
			break;
		rc = 0;
		if (status != -EINPROGRESS)
			break;
		if (q->state != QP_LIVE) {
			rc = -ENOTCONN;
			break;
		}
		if (host_now_ns() > deadline) {
			hq_close(q, "admin command timed out");
			rc = -ETIMEDOUT;
			break;
		}
		hq_wait_readable(q, 50);
	}
	if (status == -EINPROGRESS) {
		/*
		 * Given up with the command still queued (the connection went down): it must
		 * never write to this returned frame; reconnect() drops it before the next
		 * association (it is not replayed there).
		 */
		r->sync_status = NULL;
		r->sync_cqe = NULL;
	}
	return rc ? rc : status;
}

static void sqe_init(struct nvme_sqe *sqe, uint8_t opc, uint32_t nsid)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opc;
	sqe->nsid = htole32(nsid);
}

static int prop_get(struct nvmf_ctrl *c, uint32_t off, bool eight, uint64_t *val)
{
	struct nvmf_property_get_cmd cmd;
	struct nvme_cqe cqe;
	int rc;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_OPC_FABRICS;
	cmd.fctype = NVMF_FCTYPE_PROPERTY_GET;
	cmd.attrib = eight ? NVMF_PROP_SIZE_8 : NVMF_PROP_SIZE_4;
	cmd.offset = htole32(off);
	rc = admin_sync(c, (struct nvme_sqe *)&cmd, NULL, 0, false, &cqe, CONNECT_TIMEOUT_MS);
	if (rc == 0)
		*val = eight ? le64toh(cqe.result64) : le32toh(cqe.dw0);
	return rc;
}

static int prop_set(struct nvmf_ctrl *c, uint32_t off, uint32_t val)
{
	struct nvmf_property_set_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_OPC_FABRICS;
	cmd.fctype = NVMF_FCTYPE_PROPERTY_SET;
	cmd.attrib = NVMF_PROP_SIZE_4;
	cmd.offset = htole32(off);
	cmd.value = htole64(val);
	return admin_sync(c, (struct nvme_sqe *)&cmd, NULL, 0, false, NULL, CONNECT_TIMEOUT_MS);
}

/* ------------------------------------------------------------------ ANA */

int hana_parse(const void *log, size_t len, struct hana_ns *out, unsigned max)
{
	const uint8_t *p = log;
	struct nvme_ana_log_hdr h;
	size_t off = sizeof(h);
	unsigned n = 0;

	if (len < sizeof(h))
		return -EPROTO;
	memcpy(&h, p, sizeof(h));
	for (unsigned g = 0; g < le16toh(h.ngrps); g++) {
		struct nvme_ana_group_desc d;
		uint32_t nnsids;

		if (off + sizeof(d) > len)
			return -EPROTO;
		memcpy(&d, p + off, sizeof(d));
		off += sizeof(d);
		nnsids = le32toh(d.nnsids);
		if (nnsids > (len - off) / 4)
			return -EPROTO;
		for (uint32_t i = 0; i < nnsids; i++, off += 4) {
			uint32_t nsid;

			memcpy(&nsid, p + off, 4);
			if (n < max) {
				out[n].nsid = le32toh(nsid);
				out[n].grpid = le32toh(d.grpid);
				out[n].state = d.state & 0xF;
			}
			n++;
		}
	}
	return (int)(n < max ? n : max);
}

static const char *ana_name(unsigned s)
{
	return nvmf_ana_state_name((enum nvmf_ana_state)s);
}

/*
 * Read the ANA log (RGO clear: every group with its NSIDs; as the Linux host, the whole
 * log in one command, sized from NANAGRPID and NN) into c->ana.  Reading it clears the
 * ANA change event, so the controller reports the next one.
 */
static int read_ana_log(struct nvmf_ctrl *c)
{
	const struct nvme_id_ctrl *id = (const struct nvme_id_ctrl *)c->id;
	uint32_t groups = le32toh(id->nanagrpid), nn = le32toh(id->nn);
	struct hana_ns tmp[HANA_MAX_NS];
	size_t len;
	uint8_t *buf;
	int n, rc;

	if (!c->ana_reporting)
		return 0;
	if (groups == 0 || groups > 1024)
		groups = 128;
	if (nn == 0 || nn > 4096)
		nn = 4096;
	len = sizeof(struct nvme_ana_log_hdr) + groups * sizeof(struct nvme_ana_group_desc) +
	      (size_t)nn * 4;
	if (c->max_xfer && len > c->max_xfer)
		len = c->max_xfer;
	len &= ~(size_t)3;
	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	atomic_store(&c->ana_stale, false);
	rc = nvmf_get_log_page(c, NVME_LID_ANA, 0, 0, buf, (uint32_t)len);
	if (rc) {
		host_log(LOG_WARNING, "%s: controller %u: ANA log: %s %d", c->subnqn, c->cntlid,
			 rc < 0 ? "error" : "status", rc < 0 ? -rc : rc);
		free(buf);
		return rc < 0 ? rc : -EIO;
	}
	n = hana_parse(buf, len, tmp, HANA_MAX_NS);
	free(buf);
	if (n < 0) {
		host_log(LOG_WARNING, "%s: controller %u: malformed ANA log", c->subnqn, c->cntlid);
		return n;
	}
	pthread_mutex_lock(&c->ana_lock);
	for (int i = 0; i < n; i++) {
		bool known = false;

		for (unsigned j = 0; j < c->ana_n; j++)
			if (c->ana[j].nsid == tmp[i].nsid) {
				known = true;
				if (c->ana[j].state != tmp[i].state)
					host_log(LOG_NOTICE, "%s: controller %u: nsid %u: ANA group %u %s -> %s",
						 c->subnqn, c->cntlid, tmp[i].nsid, tmp[i].grpid,
						 ana_name(c->ana[j].state), ana_name(tmp[i].state));
			}
		if (!known && c->ana_valid)
			host_log(LOG_NOTICE, "%s: controller %u: nsid %u: ANA group %u %s", c->subnqn,
				 c->cntlid, tmp[i].nsid, tmp[i].grpid, ana_name(tmp[i].state));
	}
	memcpy(c->ana, tmp, (size_t)n * sizeof(tmp[0]));
	c->ana_n = (unsigned)n;
	c->ana_valid = true;
	pthread_mutex_unlock(&c->ana_lock);
	atomic_fetch_add(&c->ana_gen, 1);
	return 0;
}

/* Ask for the async events multipath needs (ANA change, namespace attributes). */
static void enable_aens(struct nvmf_ctrl *c)
{
	const struct nvme_id_ctrl *id = (const struct nvme_id_ctrl *)c->id;
	uint32_t want = le32toh(id->oaes) & (NVME_OAES_ANA_CHANGE | NVME_OAES_NS_ATTR);
	struct nvme_sqe sqe;
	int rc;

	if (!want)
		return;
	sqe_init(&sqe, NVME_ADM_SET_FEATURES, 0);
	sqe.cdw10 = htole32(NVME_FID_ASYNC_EVENT);
	sqe.cdw11 = htole32(want);
	rc = admin_sync(c, &sqe, NULL, 0, false, NULL, CONNECT_TIMEOUT_MS);
	if (rc)
		host_log(LOG_WARNING, "%s: Set Features Async Event Configuration: %d", c->subnqn, rc);
}

void hctrl_ana_refresh(struct nvmf_ctrl *c)
{
	if (c->ana_reporting && !atomic_exchange(&c->ana_stale, true))
		wake(c);
}

/* ------------------------------------------------------------------ association */

static bool is_discovery(const struct nvmf_ctrl *c)
{
	return strcmp(c->subnqn, NVMF_DISCOVERY_NQN) == 0 ||
	       ((const struct nvme_id_ctrl *)c->id)->cntrltype == NVME_CNTRLTYPE_DISCOVERY;
}

/*
 * Admin queue up, controller enabled and described: the first connect and every reconnect
 * go through here (on the caller's thread first, on the admin thread later).
 */
static int setup_admin(struct nvmf_ctrl *c)
{
	struct nvmf_qpair *q = &c->admin;
	uint32_t cc;
	uint64_t csts = 0;
	uint64_t deadline;
	int rc;

	rc = hq_connect(q, NVMF_CNTLID_DYNAMIC, c->opts.kato_ms, CONNECT_TIMEOUT_MS);
	if (rc) {
		host_set_error("%s", q->err);
		return rc;
	}
	q->generation = atomic_load(&c->generation) + 1;
	rc = prop_get(c, NVME_REG_CAP, true, &c->cap);
	if (rc) {
		host_set_error("Property Get CAP: %d", rc);
		goto fail;
	}
	cc = NVME_CC_EN | CC_ENTRY_SIZES;
	rc = prop_set(c, NVME_REG_CC, cc);
	if (rc) {
		host_set_error("Property Set CC.EN: status 0x%x", rc);
		goto fail;
	}
	/* CAP.TO is in 500 ms units: how long the controller may take to become ready */
	deadline = host_now_ns() +
		   (NVME_GET(c->cap, NVME_CAP_TO) + 1) * 500ull * 1000000ull;
	for (;;) {
		rc = prop_get(c, NVME_REG_CSTS, false, &csts);
		if (rc) {
			host_set_error("Property Get CSTS: %d", rc);
			goto fail;
		}
		if (csts & NVME_CSTS_CFS) {
			host_set_error("controller fatal status after enable");
			rc = -EIO;
			goto fail;
		}
		if (csts & NVME_CSTS_RDY)
			break;
		if (host_now_ns() > deadline) {
			host_set_error("controller not ready within CAP.TO");
			rc = -ETIMEDOUT;
			goto fail;
		}
		usleep(10000);
	}
	rc = nvmf_identify(c, NVME_CNS_CTRL, 0, 0, c->id);
	if (rc) {
		host_set_error("Identify Controller: %d", rc);
		goto fail;
	}
	{
		const struct nvme_id_ctrl *id = (const struct nvme_id_ctrl *)c->id;
		uint32_t mps = 4096u << NVME_GET(c->cap, NVME_CAP_MPSMIN);

		uint32_t ioccsz = le32toh(id->ioccsz);

		c->max_xfer = id->mdts ? mps << id->mdts : 1u << 20;
		if (c->max_xfer > (1u << 20) * 4)
			c->max_xfer = (1u << 20) * 4; /* what one command's scatter list holds */
		/* read by I/O threads when their queue pairs connect; c->id may be rewritten */
		atomic_store(&c->io_icd, ioccsz >= 4 ? ioccsz * 16 - (uint32_t)sizeof(struct nvme_sqe)
						    : 0);
	}
	if (!is_discovery(c) && c->nr_io) {
		struct nvme_sqe sqe;
		struct nvme_cqe cqe;
		unsigned want = c->nr_io - 1, got;

		sqe_init(&sqe, NVME_ADM_SET_FEATURES, 0);
		sqe.cdw10 = htole32(NVME_FID_NUM_QUEUES);
		sqe.cdw11 = htole32(want << 16 | want);
		rc = admin_sync(c, &sqe, NULL, 0, false, &cqe, CONNECT_TIMEOUT_MS);
		if (rc) {
			host_set_error("Set Features Number of Queues: status 0x%x", rc);
			goto fail;
		}
		got = (le32toh(cqe.dw0) & 0xFFFF) + 1;
		if (got < c->nr_io) {
			/* fewer queues than asked: use what was granted, as the kernel does */
			c->nr_io = got;
		}
	}
	if (!is_discovery(c)) {
		c->ana_reporting = ((const struct nvme_id_ctrl *)c->id)->cmic & NVME_CMIC_ANA;
		enable_aens(c);
		pthread_mutex_lock(&c->ana_lock);
		c->ana_valid = false;
		pthread_mutex_unlock(&c->ana_lock);
		read_ana_log(c); /* a failure leaves the paths usable: I/O statuses will tell */
	}
	return 0;
fail:
	hq_close(q, "setup failed");
	return rc ? rc : -EIO;
}

/* ------------------------------------------------------------------ admin thread */

static void wake(struct nvmf_ctrl *c)
{
	uint64_t one = 1;

	if (write(c->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the thread is being woken anyway */
	}
}

void hctrl_connection_lost(struct nvmf_ctrl *c, struct nvmf_qpair *q, const char *why)
{
	/*
	 * Dead: nothing reconnects.  Reconnecting: the loss is of a queue of the association
	 * being replaced (a new one's I/O queues connect only once it is live) - a target
	 * that ran again after a stall closes them while our reconnect is under way; asking
	 * again would throw the fresh association away and cost one more reconnect_delay.
	 */
	int st = atomic_load(&c->state);

	if (st == NVMF_CTRL_DEAD || st == NVMF_CTRL_RECONNECTING)
		return;
	if (!atomic_exchange(&c->need_reconnect, true))
		host_log(LOG_WARNING, "%s: queue %u: %s: reconnecting", c->subnqn, q->qid, why);
	wake(c);
}

static void aer_done(void *arg, int status, const struct nvme_cqe *cqe);

static void submit_aer(struct nvmf_ctrl *c)
{
	struct nvme_sqe sqe;
	struct hreq *r;

	if (c->aer_outstanding || c->admin.state != QP_LIVE)
		return;
	sqe_init(&sqe, NVME_ADM_ASYNC_EVENT, 0);
	if (hq_submit(&c->admin, &sqe, NULL, 0, 0, false, aer_done, c, &r) == 0) {
		r->no_timeout = true;
		c->aer_outstanding = true;
	}
}

static void aer_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct nvmf_ctrl *c = arg;

	c->aer_outstanding = false;
	if (status < 0)
		return; /* connection went down: a new one is asked after the reconnect */
	if (status == 0 && cqe) {
		uint32_t dw0 = le32toh(cqe->dw0);
		uint8_t lid = (uint8_t)NVME_AER_DW0_LID(dw0);

		/*
		 * The log is read with RAE clear (so the controller reports the next event)
		 * by the admin thread's loop: not from here, inside the receive path.
		 */
		if (lid == NVME_LID_CHANGED_NS || lid == NVME_LID_DISCOVERY || lid == NVME_LID_ANA)
			c->aen_log = lid;
		host_log(LOG_INFO, "%s: async event 0x%08x (log 0x%02x)", c->subnqn, dw0, lid);
	}
	c->aer_resubmit = status == 0;
}

/* After an async event: read its log, then ask for the next event. */
static void handle_aen(struct nvmf_ctrl *c)
{
	if (c->aen_log == NVME_LID_ANA) {
		c->aen_log = 0;
		read_ana_log(c);
	}
	if (atomic_load(&c->ana_stale) && c->admin.state == QP_LIVE)
		read_ana_log(c);
	if (c->aen_log) {
		uint8_t *scratch = malloc(4096);
		uint8_t lid = c->aen_log;

		c->aen_log = 0;
		if (scratch) {
			nvmf_get_log_page(c, lid, 0, 0, scratch,
					  lid == NVME_LID_DISCOVERY ? 1024 : 4096);
			free(scratch);
		}
	}
	if (c->aer_resubmit) {
		c->aer_resubmit = false;
		submit_aer(c);
	}
}

static void ka_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct nvmf_ctrl *c = arg;

	(void)cqe;
	c->ka_outstanding = false;
	if (status > 0)
		host_log(LOG_WARNING, "%s: keep alive failed: status 0x%x", c->subnqn, status);
}

static void keep_alive(struct nvmf_ctrl *c, uint64_t now)
{
	uint64_t kato = (uint64_t)c->opts.kato_ms * 1000000ull;
	struct nvme_sqe sqe;

	if (!c->opts.kato_ms || c->admin.state != QP_LIVE)
		return;
	if (c->ka_outstanding) {
		if (now - c->ka_sent_ns > kato) {
			/* the admin queue is not an I/O queue: hq_close says nothing of it */
			host_log(LOG_WARNING, "%s: queue 0: keep-alive not answered within %u ms: "
				 "reconnecting", c->subnqn, c->opts.kato_ms);
			hq_close(&c->admin, "keep-alive not answered within KATO");
		}
		return;
	}
	if (now < c->next_ka_ns)
		return;
	sqe_init(&sqe, NVME_ADM_KEEP_ALIVE, 0);
	if (hq_submit(&c->admin, &sqe, NULL, 0, 0, false, ka_done, c, NULL) == 0) {
		c->ka_outstanding = true;
		c->ka_sent_ns = now;
	}
	/* every KATO/2, as the kernel host does */
	c->next_ka_ns = now + kato / 2;
}

/* Admin calls posted by other threads. */
static void run_calls(struct nvmf_ctrl *c)
{
	for (;;) {
		struct admin_call *a;

		pthread_mutex_lock(&c->lock);
		a = c->calls;
		if (a)
			c->calls = a->next;
		pthread_mutex_unlock(&c->lock);
		if (!a)
			return;
		if (atomic_load(&c->state) == NVMF_CTRL_DEAD)
			a->status = -ENODEV;
		else
			a->status = admin_sync(c, &a->sqe, a->iov.iov_base, (uint32_t)a->iov.iov_len,
					       a->write, &a->cqe, CONNECT_TIMEOUT_MS);
		pthread_mutex_lock(&c->lock);
		a->done = true;
		pthread_cond_broadcast(&a->cond);
		pthread_mutex_unlock(&c->lock);
	}
}

static void fail_calls(struct nvmf_ctrl *c)
{
	pthread_mutex_lock(&c->lock);
	while (c->calls) {
		struct admin_call *a = c->calls;

		c->calls = a->next;
		a->status = -ENODEV;
		a->done = true;
		pthread_cond_broadcast(&a->cond);
	}
	pthread_mutex_unlock(&c->lock);
}

/* Sleep up to ms, waking early for stop requests; false when stopping. */
static bool nap(struct nvmf_ctrl *c, uint64_t ms)
{
	uint64_t end = host_now_ns() + ms * 1000000ull;

	while (!atomic_load(&c->stopping)) {
		uint64_t now = host_now_ns();
		struct pollfd p = { .fd = c->wake_fd, .events = POLLIN };
		uint64_t v;

		if (now >= end)
			return true;
		if (poll(&p, 1, (int)((end - now) / 1000000ull) + 1) < 0 && errno != EINTR) {
			host_log(LOG_ERR, "%s: admin thread: poll: %s", c->subnqn, strerror(errno));
			return !atomic_load(&c->stopping);
		}
		if (read(c->wake_fd, &v, sizeof(v)) < 0) {
			/* nothing pending */
		}
		if (c->calls)
			run_calls(c); /* the controller is down: they fail or wait */
	}
	return false;
}

/* The controller is given up: everything waiting fails, nothing reconnects any more. */
static void give_up(struct nvmf_ctrl *c)
{
	atomic_store(&c->state, NVMF_CTRL_DEAD);
	hq_fail_all(&c->admin, -ENODEV);
	c->admin.state = QP_DEAD;
	fail_calls(c);
}

/*
 * The association is gone: retry every reconnect_delay until ctrl_loss_tmo.  Not after an
 * authentication that failed for good (the controller rejected our key or failed to prove
 * its own, or it asks for a key we do not have): as the Linux host (nvmf_should_reconnect
 * refuses -EKEYREJECTED and -ENOKEY), the controller is given up at once rather than
 * knocked at every reconnect_delay with a key it refuses.
 */
static void reconnect(struct nvmf_ctrl *c)
{
	uint64_t now = host_now_ns();

	atomic_store(&c->state, NVMF_CTRL_RECONNECTING);
	c->lost_ns = now;
	hq_close(&c->admin, "reconnecting");
	c->aer_outstanding = false;
	c->ka_outstanding = false;
	for (;;) {
		int64_t tmo = c->opts.ctrl_loss_tmo_s;
		int rc;

		if (atomic_load(&c->auth_rejected)) {
			host_log(LOG_ERR, "%s: authentication failed for good: giving up",
				 c->subnqn);
			give_up(c);
			return;
		}
		if (tmo == 0 || (tmo > 0 && host_now_ns() - c->lost_ns >= (uint64_t)tmo * 1000000000ull)) {
			host_log(LOG_ERR, "%s: controller lost for %llds: giving up", c->subnqn,
				(long long)tmo);
			give_up(c);
			return;
		}
		if (!nap(c, (uint64_t)(c->opts.reconnect_delay_s > 0 ? c->opts.reconnect_delay_s : 1) *
				    1000))
			return;
		atomic_store(&c->need_reconnect, false);
		/*
		 * The admin commands of the lost association (the AER, a keep-alive, a
		 * synchronous command given up) end here with an error rather than go out on
		 * the new one: replayed, they would reach the controller right after the
		 * Connect, before CC.EN (nvmet fails them: "got cmd 12 while CC.EN == 0").
		 * The AER is asked again once the controller is live.
		 */
		hq_fail_all(&c->admin, -ECONNABORTED);
		rc = setup_admin(c);
		if (rc == 0) {
			atomic_store(&c->generation, c->admin.generation);
			atomic_fetch_add(&c->reconnects, 1);
			atomic_store(&c->state, NVMF_CTRL_LIVE);
			c->next_ka_ns = 0;
			host_log(LOG_NOTICE, "%s: reconnected (controller %u)", c->subnqn,
				c->cntlid);
			return;
		}
		host_log(LOG_WARNING, "%s: reconnect failed: %s", c->subnqn, nvmf_strerror_last());
		if (hauth_fatal(rc))
			atomic_store(&c->auth_rejected, true);
	}
}

static void *admin_thread(void *arg)
{
	struct nvmf_ctrl *c = arg;
	int ep = c->admin_ep;

	submit_aer(c);
	while (!atomic_load(&c->stopping)) {
		struct epoll_event evs[2];
		uint64_t now;
		int timeout = c->opts.kato_ms ? (int)(c->opts.kato_ms / 4) : 1000;
		uint64_t v;

		if (nvmf_conn_tx_pending(&c->admin.conn))
			timeout = 1;
		if (epoll_wait(ep, evs, 2, timeout) < 0 && errno != EINTR) {
			/* cannot wait for events: keep the controller alive by the clock */
			host_log(LOG_ERR, "%s: admin thread: epoll_wait: %s", c->subnqn,
				 strerror(errno));
			usleep((useconds_t)timeout * 1000);
		}
		if (read(c->wake_fd, &v, sizeof(v)) < 0) {
			/* not woken by the eventfd */
		}
		if (atomic_load(&c->stopping))
			break;
		if (atomic_load(&c->need_reconnect) || c->admin.state == QP_DOWN) {
			reconnect(c);
			if (atomic_load(&c->state) == NVMF_CTRL_DEAD)
				break;
			submit_aer(c);
		}
		run_calls(c);
		hq_progress(&c->admin, 0);
		handle_aen(c);
		now = host_now_ns();
		keep_alive(c, now);
		hq_progress(&c->admin, 0);
	}
	return NULL;
}

/* The admin thread's wait set: its wake-up eventfd and the admin queue pair's fd. */
static int admin_epoll(struct nvmf_ctrl *c)
{
	struct epoll_event ev = { .events = EPOLLIN };

	c->admin_ep = epoll_create1(EPOLL_CLOEXEC);
	if (c->admin_ep < 0)
		return -errno;
	ev.data.u32 = 1;
	if (epoll_ctl(c->admin_ep, EPOLL_CTL_ADD, c->wake_fd, &ev) < 0)
		return -errno;
	ev.data.u32 = 2;
	if (epoll_ctl(c->admin_ep, EPOLL_CTL_ADD, c->admin.epfd, &ev) < 0)
		return -errno;
	return 0;
}

/* Resolve the addresses once: reconnecting must never wait for a name lookup. */
static int resolve(struct nvmf_ctrl *c)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(c->traddr, c->trsvcid, &hints, &res);

	if (rc) {
		host_set_error("%s:%s: %s", c->traddr, c->trsvcid, gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(&c->addr, res->ai_addr, res->ai_addrlen);
	c->addr_len = res->ai_addrlen;
	freeaddrinfo(res);
	if (c->host_traddr[0]) {
		hints.ai_family = c->addr.ss_family;
		rc = getaddrinfo(c->host_traddr, NULL, &hints, &res);
		if (rc) {
			host_set_error("host address %s: %s", c->host_traddr, gai_strerror(rc));
			return -EINVAL;
		}
		memcpy(&c->local_addr, res->ai_addr, res->ai_addrlen);
		c->local_addr_len = res->ai_addrlen;
		freeaddrinfo(res);
	}
	return 0;
}

/* ------------------------------------------------------------------ public: controller */

int nvmf_ctrl_connect(const struct nvmf_ctrl_opts *o, struct nvmf_ctrl **out)
{
	struct nvmf_ctrl *c;
	char idtext[64];
	int rc;

	*out = NULL;
	last_error[0] = 0;
	if (!o->traddr) {
		host_set_error("no address");
		return -EINVAL;
	}
	if (o->queue_size && (o->queue_size < 16 || o->queue_size > 1024)) {
		host_set_error("queue size %u outside 16..1024", o->queue_size);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->opts = *o;
	if (!c->opts.queue_size)
		c->opts.queue_size = 128;
	if (!c->opts.admin_queue_size)
		c->opts.admin_queue_size = 32;
	snprintf(c->traddr, sizeof(c->traddr), "%s", o->traddr);
	snprintf(c->subnqn, sizeof(c->subnqn), "%s", o->subnqn ? o->subnqn : NVMF_DISCOVERY_NQN);
	snprintf(c->trsvcid, sizeof(c->trsvcid), "%s",
		 o->trsvcid ? o->trsvcid : (strcmp(c->subnqn, NVMF_DISCOVERY_NQN) ? "4420" : "8009"));
	if (o->host_traddr)
		snprintf(c->host_traddr, sizeof(c->host_traddr), "%s", o->host_traddr);
	if (o->hostnqn)
		snprintf(c->hostnqn, sizeof(c->hostnqn), "%s", o->hostnqn);
	else
		nvmf_default_hostnqn(c->hostnqn, sizeof(c->hostnqn));
	if (o->hostid)
		snprintf(idtext, sizeof(idtext), "%s", o->hostid);
	else
		nvmf_default_hostid(idtext, sizeof(idtext));
	if (host_parse_uuid(idtext, c->hostid)) {
		host_set_error("host ID '%s' is not a UUID", idtext);
		free(c);
		return -EINVAL;
	}
	rc = hauth_keys_init(c, o->dhchap_secret, o->dhchap_ctrl_secret);
	if (!rc)
		rc = htls_keys_init(c, o);
	if (rc) {
		nvmf_dhchap_wipe(&c->keys, sizeof(c->keys));
		free(c);
		return rc;
	}
	/* the keys are kept transformed: no pointer into the caller's strings stays */
	c->opts.dhchap_secret = NULL;
	c->opts.dhchap_ctrl_secret = NULL;
	c->opts.tls_key = NULL;
	c->opts.traddr = c->traddr;
	c->opts.trsvcid = c->trsvcid;
	c->opts.subnqn = c->subnqn;
	c->opts.hostnqn = c->hostnqn;
	c->opts.hostid = NULL;
	c->opts.host_traddr = c->host_traddr[0] ? c->host_traddr : NULL;
	c->nr_io = strcmp(c->subnqn, NVMF_DISCOVERY_NQN) ? o->nr_io_queues : 0;
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->ana_lock, NULL);
	c->admin_ep = -1;
	c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->wake_fd < 0 || hq_init(&c->admin, c, 0, c->opts.admin_queue_size)) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = admin_epoll(c);
	if (rc) {
		host_set_error("epoll: %s", strerror(-rc));
		goto fail;
	}
	rc = resolve(c);
	if (rc)
		goto fail;
	rc = setup_admin(c);
	if (rc)
		goto fail;
	atomic_store(&c->generation, c->admin.generation);
	if (c->nr_io) {
		c->io = calloc(c->nr_io, sizeof(*c->io));
		if (!c->io) {
			rc = -ENOMEM;
			goto fail;
		}
		for (unsigned i = 0; i < c->nr_io; i++) {
			rc = hq_init(&c->io[i], c, (uint16_t)(i + 1), c->opts.queue_size);
			if (rc)
				goto fail;
			rc = hq_connect(&c->io[i], c->cntlid, 0, CONNECT_TIMEOUT_MS);
			if (rc) {
				host_set_error("%s", c->io[i].err);
				goto fail;
			}
			c->io[i].generation = c->admin.generation;
		}
	}
	/* block sizes for the flat-buffer I/O calls, while the admin queue is ours alone */
	if (c->nr_io) {
		uint32_t nsids[16];
		int n = nvmf_ctrl_list_ns(c, nsids, 16);

		for (int i = 0; i < n && i < 16; i++)
			hctrl_block_size(c, nsids[i]);
	}
	atomic_store(&c->state, NVMF_CTRL_LIVE);
	rc = pthread_create(&c->thread, NULL, admin_thread, c);
	if (rc) {
		rc = -rc;
		goto fail;
	}
	c->thread_started = true;
	*out = c;
	return 0;
fail:
	if (!last_error[0])
		host_set_error("%s", strerror(-rc));
	/* nothing is running yet: tear down without CC.SHN */
	atomic_store(&c->state, NVMF_CTRL_DEAD);
	for (unsigned i = 0; c->io && i < c->nr_io; i++)
		hq_fini(&c->io[i]);
	free(c->io);
	hq_fini(&c->admin);
	if (c->admin_ep >= 0)
		close(c->admin_ep);
	if (c->wake_fd >= 0)
		close(c->wake_fd);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->ana_lock);
	nvmf_dhchap_wipe(&c->keys, sizeof(c->keys));
	nvmf_dhchap_wipe(&c->tls, sizeof(c->tls));
	free(c);
	return rc;
}

void nvmf_ctrl_disconnect(struct nvmf_ctrl *c)
{
	if (!c)
		return;
	if (c->thread_started) {
		atomic_store(&c->stopping, true);
		wake(c);
		pthread_join(c->thread, NULL);
	}
	fail_calls(c);
	/* a normal shutdown: the controller flushes, then reports SHST complete */
	if (c->admin.state == QP_LIVE && atomic_load(&c->state) == NVMF_CTRL_LIVE) {
		uint32_t cc = NVME_CC_EN | (NVME_CC_SHN_NORMAL << NVME_CC_SHN_SHIFT) |
			      CC_ENTRY_SIZES;
		uint64_t csts = 0;

		if (prop_set(c, NVME_REG_CC, cc) == 0) {
			for (int i = 0; i < 100; i++) {
				if (prop_get(c, NVME_REG_CSTS, false, &csts) ||
				    ((csts >> NVME_CSTS_SHST_SHIFT) & NVME_CSTS_SHST_MASK) ==
					    NVME_CSTS_SHST_COMPLETE)
					break;
				usleep(10000);
			}
		}
	}
	atomic_store(&c->state, NVMF_CTRL_DEAD);
	for (unsigned i = 0; i < c->nr_io; i++) {
		hq_fail_all(&c->io[i], -ENODEV);
		hq_fini(&c->io[i]);
	}
	free(c->io);
	hq_fail_all(&c->admin, -ENODEV);
	hq_fini(&c->admin);
	close(c->admin_ep);
	close(c->wake_fd);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->ana_lock);
	nvmf_dhchap_wipe(&c->keys, sizeof(c->keys));
	nvmf_dhchap_wipe(&c->tls, sizeof(c->tls));
	free(c);
}

const void *nvmf_ctrl_id(const struct nvmf_ctrl *c)
{
	return c->id;
}

uint16_t nvmf_ctrl_cntlid(const struct nvmf_ctrl *c)
{
	return c->cntlid;
}

const char *nvmf_ctrl_subnqn(const struct nvmf_ctrl *c)
{
	return c->subnqn;
}

const char *nvmf_ctrl_hostnqn(const struct nvmf_ctrl *c)
{
	return c->hostnqn;
}

unsigned nvmf_ctrl_nr_qpairs(const struct nvmf_ctrl *c)
{
	return c->nr_io;
}

struct nvmf_qpair *nvmf_ctrl_qpair(struct nvmf_ctrl *c, unsigned idx)
{
	return idx < c->nr_io ? &c->io[idx] : NULL;
}

uint32_t nvmf_ctrl_max_xfer(const struct nvmf_ctrl *c)
{
	return c->max_xfer;
}

enum nvmf_ctrl_state nvmf_ctrl_state(const struct nvmf_ctrl *c)
{
	return (enum nvmf_ctrl_state)atomic_load(&c->state);
}

unsigned nvmf_ctrl_reconnects(const struct nvmf_ctrl *c)
{
	return atomic_load(&c->reconnects);
}

const char *nvmf_ctrl_traddr(const struct nvmf_ctrl *c)
{
	return c->traddr;
}

const char *nvmf_ctrl_trsvcid(const struct nvmf_ctrl *c)
{
	return c->trsvcid;
}

bool nvmf_ctrl_ana_reporting(const struct nvmf_ctrl *c)
{
	return c->ana_reporting;
}

enum nvmf_ana_state nvmf_ctrl_ana_state(struct nvmf_ctrl *c, uint32_t nsid)
{
	enum nvmf_ana_state st;

	if (!c->ana_reporting)
		return NVMF_ANA_OPTIMIZED;
	pthread_mutex_lock(&c->ana_lock);
	/* no log read yet (or it failed): usable until an I/O status says otherwise */
	st = c->ana_valid ? NVMF_ANA_INACCESSIBLE : NVMF_ANA_OPTIMIZED;
	for (unsigned i = 0; i < c->ana_n; i++)
		if (c->ana[i].nsid == nsid)
			st = (enum nvmf_ana_state)c->ana[i].state;
	pthread_mutex_unlock(&c->ana_lock);
	return st;
}

unsigned nvmf_ctrl_ana_gen(const struct nvmf_ctrl *c)
{
	return atomic_load(&c->ana_gen);
}

const char *nvmf_ana_state_name(enum nvmf_ana_state s)
{
	switch (s) {
	case NVMF_ANA_OPTIMIZED: return "optimized";
	case NVMF_ANA_NON_OPTIMIZED: return "non-optimized";
	case NVMF_ANA_INACCESSIBLE: return "inaccessible";
	case NVMF_ANA_PERSISTENT_LOSS: return "persistent-loss";
	case NVMF_ANA_CHANGE: return "change";
	}
	return "unknown";
}

int nvmf_admin_cmd(struct nvmf_ctrl *c, struct nvme_sqe *sqe, void *data, uint32_t len,
		   bool write, struct nvme_cqe *cqe)
{
	struct admin_call a;

	if (!c->thread_started || pthread_equal(pthread_self(), c->thread))
		return admin_sync(c, sqe, data, len, write, cqe, CONNECT_TIMEOUT_MS);
	memset(&a, 0, sizeof(a));
	a.sqe = *sqe;
	a.iov.iov_base = data;
	a.iov.iov_len = len;
	a.write = write;
	pthread_cond_init(&a.cond, NULL);
	pthread_mutex_lock(&c->lock);
	/*
	 * A controller given up has no admin thread any more to run the call (give_up()
	 * marks it dead, then fails what is queued under this lock): it would wait forever.
	 */
	if (atomic_load(&c->state) == NVMF_CTRL_DEAD) {
		pthread_mutex_unlock(&c->lock);
		pthread_cond_destroy(&a.cond);
		return -ENODEV;
	}
	a.next = c->calls;
	c->calls = &a;
	pthread_mutex_unlock(&c->lock);
	wake(c);
	pthread_mutex_lock(&c->lock);
	while (!a.done)
		pthread_cond_wait(&a.cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
	pthread_cond_destroy(&a.cond);
	if (cqe)
		*cqe = a.cqe;
	return a.status;
}

int nvmf_identify(struct nvmf_ctrl *c, uint8_t cns, uint32_t nsid, uint8_t csi, void *buf4k)
{
	struct nvme_sqe sqe;

	sqe_init(&sqe, NVME_ADM_IDENTIFY, nsid);
	sqe.cdw10 = htole32(cns);
	sqe.cdw11 = htole32((uint32_t)csi << 24);
	return nvmf_admin_cmd(c, &sqe, buf4k, 4096, false, NULL);
}

int nvmf_get_log_page(struct nvmf_ctrl *c, uint8_t lid, uint32_t nsid, uint64_t offset,
		      void *buf, uint32_t len)
{
	struct nvme_sqe sqe;
	uint32_t numd = len / 4 - 1;

	if (len < 4 || len % 4)
		return -EINVAL;
	sqe_init(&sqe, NVME_ADM_GET_LOG_PAGE, nsid);
	sqe.cdw10 = htole32(lid | (numd & 0xFFFF) << 16);
	sqe.cdw11 = htole32(numd >> 16);
	sqe.cdw12 = htole32((uint32_t)offset);
	sqe.cdw13 = htole32((uint32_t)(offset >> 32));
	return nvmf_admin_cmd(c, &sqe, buf, len, false, NULL);
}

int nvmf_ctrl_list_ns(struct nvmf_ctrl *c, uint32_t *nsids, unsigned max)
{
	uint32_t list[1024];
	unsigned n = 0;
	uint32_t start = 0;

	for (;;) {
		int rc = nvmf_identify(c, NVME_CNS_ACTIVE_NS_LIST, start, 0, list);
		unsigned got = 0;

		if (rc)
			return rc < 0 ? rc : -EIO;
		while (got < 1024 && list[got]) {
			if (n < max)
				nsids[n] = le32toh(list[got]);
			n++;
			got++;
		}
		if (got < 1024)
			break;
		start = le32toh(list[1023]);
	}
	return (int)n;
}

int nvmf_ctrl_ns_info(struct nvmf_ctrl *c, uint32_t nsid, struct nvmf_ns_info *info)
{
	uint8_t buf[4096];
	const struct nvme_id_ns *id = (const struct nvme_id_ns *)buf;
	int rc = nvmf_identify(c, NVME_CNS_NS, nsid, 0, buf);

	if (rc)
		return rc < 0 ? rc : -EIO;
	if (!le64toh(id->nsze))
		return -ENOENT;
	memset(info, 0, sizeof(*info));
	info->nsid = nsid;
	info->nblocks = le64toh(id->nsze);
	info->block_size = 1u << id->lbaf[id->flbas & 0xF].lbads;
	info->read_only = id->nsattr & 1;
	memcpy(info->nguid, id->nguid, 16);
	memcpy(info->eui64, id->eui64, 8);
	if (nvmf_identify(c, NVME_CNS_NS_DESC_LIST, nsid, 0, buf) == 0) {
		for (size_t off = 0; off + 4 <= sizeof(buf) && buf[off];) {
			if (buf[off] == NVME_NIDT_UUID && buf[off + 1] == 16 && off + 20 <= sizeof(buf)) {
				memcpy(info->uuid, buf + off + 4, 16);
				info->has_uuid = true;
			}
			off += 4 + buf[off + 1];
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ namespaces */

uint32_t hctrl_block_size(struct nvmf_ctrl *c, uint32_t nsid)
{
	struct nvmf_ns_info info;
	unsigned n = sizeof(c->ns_cache) / sizeof(c->ns_cache[0]);

	for (unsigned i = 0; i < n; i++) {
		uint64_t e = atomic_load_explicit(&c->ns_cache[i], memory_order_relaxed);

		if (e && (uint32_t)(e >> 32) == nsid)
			return (uint32_t)e;
	}
	if (nvmf_ctrl_ns_info(c, nsid, &info))
		return 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t empty = 0;

		if (atomic_compare_exchange_strong(&c->ns_cache[i], &empty,
						   (uint64_t)nsid << 32 | info.block_size))
			break;
	}
	return info.block_size;
}

/* ------------------------------------------------------------------ public: I/O */

int nvmf_qpair_poll(struct nvmf_qpair *q, unsigned max)
{
	struct nvmf_ctrl *c = q->ctrl;
	enum nvmf_ctrl_state st = (enum nvmf_ctrl_state)atomic_load(&c->state);
	uint64_t gen = atomic_load(&c->generation);
	int rc;

	if (st == NVMF_CTRL_DEAD) {
		if (q->state != QP_DEAD) {
			hq_close(q, "controller given up");
			q->state = QP_DEAD;
			hq_fail_all(q, -ENODEV);
		}
		return -ENODEV;
	}
	/*
	 * The controller was re-associated: this connection belongs to the old one.  While it
	 * reconnects, a connect under way is for the old association too: give it up.
	 */
	if (q->state != QP_DOWN &&
	    ((q->generation != gen && st == NVMF_CTRL_LIVE) ||
	     (st != NVMF_CTRL_LIVE && q->state != QP_LIVE)))
		hq_close(q, "controller reconnected");
	if (q->state == QP_DOWN) {
		if (st != NVMF_CTRL_LIVE)
			return -ENOTCONN;
		/* a connect that goes on in the background, advanced by the polls below */
		if (hq_connect_start(q, c->cntlid, 0, CONNECT_TIMEOUT_MS)) {
			hctrl_connection_lost(c, q, q->err);
			return -ENOTCONN;
		}
		q->generation = gen;
	}
	rc = hq_progress(q, max);
	if (q->state == QP_LIVE)
		return rc < 0 ? -ENOTCONN : rc;
	/*
	 * This queue could not (re)connect: the controller reconnects as a whole - unless it
	 * already left the association this connect was for.
	 */
	if (q->state == QP_DOWN && q->connect_rc != -EINPROGRESS && q->connect_rc != 0 &&
	    q->generation == atomic_load(&c->generation) &&
	    atomic_load(&c->state) == NVMF_CTRL_LIVE) {
		/* this queue's key was refused: the reconnect gives the controller up */
		if (hauth_fatal(q->connect_rc))
			atomic_store(&c->auth_rejected, true);
		hctrl_connection_lost(c, q, q->err);
	}
	return -ENOTCONN;
}

int nvmf_qpair_wait(struct nvmf_qpair *q, int timeout_ms)
{
	int rc = nvmf_qpair_poll(q, 0);

	if (rc == -ENOTCONN) {
		/* reconnecting: wait for the connect in progress, or for time */
		if (q->state == QP_DOWN)
			usleep(timeout_ms < 0 || timeout_ms > 100 ? 100000
								 : (useconds_t)timeout_ms * 1000);
		else
			hq_wait_readable(q, timeout_ms < 0 || timeout_ms > 100 ? 100 : timeout_ms);
		return nvmf_qpair_poll(q, 0);
	}
	if (rc != 0)
		return rc;
	hq_wait_readable(q, timeout_ms);
	return nvmf_qpair_poll(q, 0);
}

int nvmf_qpair_fd(const struct nvmf_qpair *q)
{
	return q->epfd;
}

unsigned nvmf_qpair_depth(const struct nvmf_qpair *q)
{
	return q->depth;
}

unsigned nvmf_qpair_inflight(const struct nvmf_qpair *q)
{
	return q->busy;
}

int nvmf_qpair_mptcp_subflows(const struct nvmf_qpair *q)
{
	if (q->state != QP_LIVE || q->conn.fd < 0)
		return -ENOTCONN;
	return nvmf_sock_mptcp_subflows(q->conn.fd);
}
