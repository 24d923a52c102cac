/*
 * The reservations of an RBD namespace live with the image, in its metadata (key
 * NVMF_RESV_META_KEY, resv_rec.c's record), not in the process: whichever gateway serves
 * the image next -- after a failover, a hand-over or a restart -- serves the registrations
 * and the reservation the hosts made, and a plain RBD namespace keeps them through a
 * restart when PTPL says so.  One store for both: PTPL on RBD is this record.
 *
 *   change     every reservation command that changes the state writes the record before
 *              it completes (resv.c's transactions): a success is durable in the cluster;
 *              a failed write fails the command and changes nothing in memory; as a write
 *              that timed out may still land (the OSD had it queued), the record is then
 *              written again with the state in force, every second until it lands
 *   claim      a gateway taking the image (owner.c, after fencing the old owner) reads the
 *              record before it reports optimized (bdev.h's on_claim), so hosts that come
 *              back through it find their registrations; registrants are keyed by host ID,
 *              so a new controller of the same host is the same registrant
 *   power      the image is powered while any process has it open; one that opens it when
 *              no other client does (no other watcher of its header) comes after a power
 *              loss: without PTPL the record is dropped, with PTPL it is kept
 *
 * Threads: the record is written by librbd's blocking metadata calls (it has no
 * asynchronous form), so the namespace's reservation commands run on a worker thread of
 * their own here and complete on their reactor (resv_cmd.c).  I/O never waits for it: the
 * conflict check reads the state in memory, and the state is installed in memory only
 * after the write (resv.h).  Every cluster call is bounded by the path's timeout.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "target/target.h"
#include "util/log.h"

#define RESAVE_EVERY_S 1

struct nvmf_resv_worker {
	struct nvmf_ns *ns;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct nvmf_resv_job *head, **tail;
	bool stop;
};

static void *worker_main(void *arg)
{
	struct nvmf_resv_worker *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct nvmf_resv_job *j = w->head;

		if (!j) {
			struct timespec ts;

			if (w->stop)
				break;
			/*
			 * Nothing to put right -- or not ours to: a gateway that lost the
			 * image leaves the record to the new owner, and reads it back when
			 * it claims the image again (which ends the staleness).
			 */
			if (!atomic_load(&w->ns->resv->store_stale) ||
			    !nvmf_bdev_owned(w->ns->bdev)) {
				pthread_cond_wait(&w->cond, &w->lock);
				continue;
			}
			/*
			 * A failed write may land after its timeout (the OSD had it queued):
			 * the record is put right -- the state in force -- as soon as the
			 * cluster takes writes again.  Commands go first.
			 */
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += RESAVE_EVERY_S;
			if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT &&
			    !w->head && !w->stop) {
				pthread_mutex_unlock(&w->lock);
				w->ns->resv_resaving = true;
				nvmf_resv_resave(w->ns->resv);
				w->ns->resv_resaving = false;
				pthread_mutex_lock(&w->lock);
			}
			continue;
		}
		w->head = j->next;
		if (!w->head)
			w->tail = &w->head;
		pthread_mutex_unlock(&w->lock);
		j->run(j);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

bool nvmf_resv_store_queue(struct nvmf_ns *ns, struct nvmf_resv_job *j)
{
	struct nvmf_resv_worker *w = ns->resv_worker;

	if (!w)
		return false;
	j->next = NULL;
	pthread_mutex_lock(&w->lock);
	*w->tail = j;
	w->tail = &j->next;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	return true;
}

/*
 * resv.c's store: the record into the image before the change takes effect.  A write the
 * cluster refuses or does not answer fails the command with Internal Error, not DNR: the
 * state is as before, and the host may send the command again (SPDK answers a failed
 * update of its reservation file the same way).  On a gateway whose ownership went with
 * it (fenced, lock lost, cluster out of reach) the answer is the ANA inaccessible status
 * I/O gets there: a path error, which the host repairs through the other gateway.
 */
static uint16_t store_save(void *arg, const char *rec)
{
	struct nvmf_ns *ns = arg;
	struct nvmf_bdev *b = ns->bdev;
	int rc = b->ops->meta_set(b, NVMF_RESV_META_KEY, rec);

	if (rc == 0) {
		/* a cluster write per change (never per I/O): worth a line, and tests count it */
		log_info("%s: namespace %u: reservation record written to the image (%llu)",
			 b->path, ns->nsid,
			 (unsigned long long)atomic_fetch_add(&ns->resv_saves, 1) + 1);
		return 0;
	}
	/* the worker retrying while the cluster is away: its first failure said it all */
	if (!ns->resv_resaving)
		log_err("%s: namespace %u: reservation state not saved in the image: %s; the "
			"command fails and changes nothing", b->path, ns->nsid, strerror(-rc));
	if (b->gateway && rc == -ESHUTDOWN)
		return NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE);
	return NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL);
}

/* The record into memory (NULL/-ENOENT: none).  0 or -errno, reason in err. */
static int load_record(struct nvmf_ns *ns, char *err, size_t errlen)
{
	struct nvmf_bdev *b = ns->bdev;
	char *rec = NULL, why[256];
	int rc = b->ops->meta_get(b, NVMF_RESV_META_KEY, &rec);

	if (rc < 0 && rc != -ENOENT) {
		snprintf(err, errlen, "%s: reading the reservation record (image metadata %s): %s",
			 b->path, NVMF_RESV_META_KEY, strerror(-rc));
		return rc;
	}
	rc = nvmf_resv_load(ns->resv, rec, why, sizeof(why));
	if (rc)
		snprintf(err, errlen, "%s: image metadata %s: %s", b->path, NVMF_RESV_META_KEY,
			 why);
	free(rec);
	return rc;
}

/* bdev.h's on_claim: this gateway takes the image -- and the hosts' reservations in it. */
static int store_claimed(struct nvmf_bdev *b, void *arg, char *err, size_t errlen)
{
	struct nvmf_ns *ns = arg;
	int rc = load_record(ns, err, errlen);

	(void)b;
	if (!rc)
		log_info("%s: namespace %u: reservations taken over from the image (generation "
			 "%u, %u registrants)", b->path, ns->nsid, ns->resv->gen,
			 ns->resv->nr_regs);
	return rc;
}

/*
 * Power loss (nobody else has the image open): a record without PTPL goes.  On a gateway
 * the removal needs the image's lock, which nobody holds now: taken and given back at
 * once (claim / unclaim), so the gateway that claims next fences no one.
 */
static int drop_record(struct nvmf_ns *ns, char *err, size_t errlen)
{
	struct nvmf_bdev *b = ns->bdev;
	int rc;

	if (b->gateway) {
		rc = b->ops->claim(b, err, errlen);
		if (rc < 0)
			return rc;
	}
	rc = b->ops->meta_set(b, NVMF_RESV_META_KEY, NULL);
	if (b->gateway)
		b->ops->unclaim(b);
	if (rc < 0) {
		snprintf(err, errlen, "%s: removing the reservation record (image metadata %s) "
			 "after a power loss: %s", b->path, NVMF_RESV_META_KEY, strerror(-rc));
		return rc;
	}
	return nvmf_resv_load(ns->resv, NULL, err, errlen);
}

int nvmf_resv_store_open(struct nvmf_ns *ns, char *err, size_t errlen)
{
	struct nvmf_bdev *b = ns->bdev;
	struct nvmf_resv_store st = { store_save, ns };
	struct nvmf_resv_worker *w;
	int others, rc;

	if (!b->ops->meta_get || !b->ops->meta_set) {
		snprintf(err, errlen, "%s: the backend keeps no metadata", b->path);
		return -EOPNOTSUPP;
	}
	/* asked before the record is read: a process that opens it later is not a power on */
	others = b->ops->others_open ? b->ops->others_open(b) : -EOPNOTSUPP;
	rc = load_record(ns, err, errlen);
	if (rc)
		return rc;
	if (others < 0) {
		log_warn("%s: namespace %u: who else has the image open is unknown (%s): its "
			 "reservation record is kept as if powered", b->path, ns->nsid,
			 strerror(-others));
	} else if (others == 0 && ns->resv->nr_regs && !ns->resv->ptpl) {
		log_info("%s: namespace %u: no other client has the image open (a power loss): "
			 "reservations without PTPL are dropped", b->path, ns->nsid);
		rc = drop_record(ns, err, errlen);
		if (rc)
			return rc;
	} else if (ns->resv->nr_regs) {
		log_info("%s: namespace %u: reservations from the image (generation %u, %u "
			 "registrants%s)", b->path, ns->nsid, ns->resv->gen, ns->resv->nr_regs,
			 others ? "" : ", kept through a power loss: PTPL");
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->tail = &w->head;
	w->ns = ns;
	rc = pthread_create(&w->thread, NULL, worker_main, w);
	if (rc) {
		pthread_cond_destroy(&w->cond);
		pthread_mutex_destroy(&w->lock);
		free(w);
		snprintf(err, errlen, "reservation worker thread: %s", strerror(rc));
		return -rc;
	}
	ns->resv_worker = w;
	nvmf_resv_set_store(ns->resv, &st);
	if (b->gateway)
		__atomic_store_n(&b->on_claim, store_claimed, __ATOMIC_RELEASE);
	return 0;
}

void nvmf_resv_store_close(struct nvmf_ns *ns)
{
	struct nvmf_resv_worker *w = ns->resv_worker;

	if (!w)
		return;
	/* the namespace is idle: nothing is queued, the thread only has to end */
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	free(w);
	ns->resv_worker = NULL;
}
