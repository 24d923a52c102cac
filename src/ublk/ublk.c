/*
 * The ublk bridge's device life cycle, over /dev/ublk-control (io_uring URING_CMD with
 * 128-byte SQEs, the command in the SQE's upper half):
 *
 *   start: ADD_DEV -> SET_PARAMS -> open /dev/ublkcN, one thread per queue posts a
 *          FETCH_REQ for each tag -> START_DEV (the driver waits until every tag of every
 *          queue is fetched, then adds /dev/ublkbN; its partition scan is already served
 *          by the queue threads)
 *   stop:  STOP_DEV (del_gendisk: new I/O is refused and what is in flight drains through
 *          the still-running queue threads; then the driver aborts every posted
 *          FETCH_REQ, which ends the threads) -> join -> Flush the namespace -> unmap,
 *          close /dev/ublkcN -> DEL_DEV
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "proto/nvme_spec.h"
#include "ublk/bridge.h"
#include "util/log.h"

#define UBLK_CONTROL "/dev/ublk-control"
#define UBLK_CDEV_WAIT_MS 5000          /* for udev / devtmpfs to show /dev/ublkcN */
/* Not in every header: the asynchronous DEL_DEV (Linux >= 6.9) returns without waiting
 * for the last opener of /dev/ublkbN to go. */
#define UBLK_U_CMD_DEL_DEV_ASYNC_NR 0x14
/* The kernel's ENOTSUPP (not a user errno), which 6.0 - 6.1 return for unknown opcodes. */
#define ENOTSUPP_KERNEL 524

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ control commands */

/* Kernels 6.0 - 6.2 know only the plain command numbers. */
static uint32_t ctrl_op(const struct nvmf_ublk *u, unsigned nr, uint32_t encoded)
{
	return u->legacy ? nr : encoded;
}

/* One control command, synchronously.  Returns the driver's result (>= 0 or -errno). */
static int ctrl_cmd(struct nvmf_ublk *u, uint32_t op, const struct ublksrv_ctrl_cmd *cmd)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ctrl_ring);
	struct io_uring_cqe *cqe;
	int rc;

	if (!sqe)
		return -EBUSY;
	memset((void *)sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = u->ctrl_fd;
	sqe->cmd_op = op;
	sqe->user_data = op;
	memcpy((void *)sqe->cmd, cmd, sizeof(*cmd));
	rc = io_uring_submit(&u->ctrl_ring);
	if (rc < 0)
		return rc;
	do
		rc = io_uring_wait_cqe(&u->ctrl_ring, &cqe);
	while (rc == -EINTR);
	if (rc < 0)
		return rc;
	rc = cqe->res;
	io_uring_cqe_seen(&u->ctrl_ring, cqe);
	return rc;
}

static void ctrl_header(const struct nvmf_ublk *u, struct ublksrv_ctrl_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	cmd->dev_id = (uint32_t)u->dev_id;
	cmd->queue_id = (uint16_t)-1;
}

static int add_dev(struct nvmf_ublk *u, unsigned nr_queues, unsigned depth, uint32_t max_io)
{
	struct ublksrv_ctrl_cmd cmd;
	int rc;

	memset(&u->info, 0, sizeof(u->info));
	u->info.nr_hw_queues = (uint16_t)nr_queues;
	u->info.queue_depth = (uint16_t)depth;
	u->info.max_io_buf_bytes = max_io;
	u->info.dev_id = UINT32_MAX;             /* any free number */
	u->info.flags = UBLK_F_CMD_IOCTL_ENCODE;
	memset(&cmd, 0, sizeof(cmd));
	cmd.dev_id = UINT32_MAX;
	cmd.queue_id = (uint16_t)-1;
	cmd.len = sizeof(u->info);
	cmd.addr = (uint64_t)(uintptr_t)&u->info;
	rc = ctrl_cmd(u, UBLK_U_CMD_ADD_DEV, &cmd);
	if (rc == -EOPNOTSUPP || rc == -ENOTSUPP_KERNEL) {
		/* a kernel from before the ioctl encoding (6.0 - 6.2) */
		u->legacy = true;
		u->info.flags = 0;
		rc = ctrl_cmd(u, UBLK_CMD_ADD_DEV, &cmd);
	}
	if (rc < 0)
		return rc;
	u->op_fetch = u->legacy ? UBLK_IO_FETCH_REQ : UBLK_U_IO_FETCH_REQ;
	u->op_commit = u->legacy ? UBLK_IO_COMMIT_AND_FETCH_REQ : UBLK_U_IO_COMMIT_AND_FETCH_REQ;
	u->dev_id = (int)u->info.dev_id;
	u->added = true;
	return 0;
}

static int set_params(struct nvmf_ublk *u)
{
	struct ublksrv_ctrl_cmd cmd;

	ctrl_header(u, &cmd);
	cmd.len = sizeof(u->params);
	cmd.addr = (uint64_t)(uintptr_t)&u->params;
	return ctrl_cmd(u, ctrl_op(u, UBLK_CMD_SET_PARAMS, UBLK_U_CMD_SET_PARAMS), &cmd);
}

static int start_dev(struct nvmf_ublk *u)
{
	struct ublksrv_ctrl_cmd cmd;

	ctrl_header(u, &cmd);
	cmd.data[0] = (uint64_t)getpid();
	return ctrl_cmd(u, ctrl_op(u, UBLK_CMD_START_DEV, UBLK_U_CMD_START_DEV), &cmd);
}

static int stop_dev(struct nvmf_ublk *u)
{
	struct ublksrv_ctrl_cmd cmd;

	ctrl_header(u, &cmd);
	return ctrl_cmd(u, ctrl_op(u, UBLK_CMD_STOP_DEV, UBLK_U_CMD_STOP_DEV), &cmd);
}

static int del_dev(struct nvmf_ublk *u)
{
	struct ublksrv_ctrl_cmd cmd;
	int rc = -EOPNOTSUPP;

	ctrl_header(u, &cmd);
	if (!u->legacy)
		rc = ctrl_cmd(u, _IOR('u', UBLK_U_CMD_DEL_DEV_ASYNC_NR, struct ublksrv_ctrl_cmd),
			      &cmd);
	if (rc == -EOPNOTSUPP || rc == -EINVAL)
		rc = ctrl_cmd(u, ctrl_op(u, UBLK_CMD_DEL_DEV, UBLK_U_CMD_DEL_DEV), &cmd);
	return rc;
}

/* ------------------------------------------------------------------ queue threads */

void ublk_setup_report(struct nvmf_ublk *u, int rc)
{
	pthread_mutex_lock(&u->lock);
	u->setup_done++;
	if (rc && !u->setup_err)
		u->setup_err = rc;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
}

/* Threads get no signals: the application's own threads handle them. */
static int start_threads(struct nvmf_ublk *u, unsigned *started)
{
	sigset_t all, old;
	int rc = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (*started = 0; *started < u->nr_queues; (*started)++) {
		struct ublk_queue *q = &u->queues[*started];

		rc = -pthread_create(&q->thread, NULL, uq_thread, q);
		if (rc)
			break;
		q->thread_started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&u->lock);
	while (u->setup_done < *started)
		pthread_cond_wait(&u->cond, &u->lock);
	if (!rc)
		rc = u->setup_err;
	pthread_mutex_unlock(&u->lock);
	return rc;
}

static void kill_threads(struct nvmf_ublk *u)
{
	uint64_t one = 1;

	if (u->kill_fd >= 0 && write(u->kill_fd, &one, sizeof(one)) < 0)
		log_err("ublkb%d: cannot stop the queue threads: %s", u->dev_id, strerror(errno));
}

/* ------------------------------------------------------------------ teardown */

static void flush_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	(void)cqe;
	*(int *)arg = status;
}

/* Flush through whichever path is usable (across a reconnect if one is under way). */
static int flush_sync(struct nvmf_mpath_queue *mq)
{
	int st = -EINPROGRESS;
	int rc = nvmf_mpath_flush(mq, flush_done, &st);

	if (rc)
		return rc;
	while (st == -EINPROGRESS)
		nvmf_mpath_queue_wait(mq, 100);
	return st;
}

static void teardown(struct nvmf_ublk *u)
{
	bool threads = false;
	int rc;

	for (unsigned i = 0; u->queues && i < u->nr_queues; i++)
		threads |= u->queues[i].thread_started;
	if (u->added && threads) {
		/* drains the started device, and aborts every posted FETCH_REQ either way */
		rc = stop_dev(u);
		if (rc < 0) {
			log_err("ublkb%d: STOP_DEV: %s", u->dev_id, strerror(-rc));
			kill_threads(u);
		}
	} else if (threads) {
		kill_threads(u);
	}
	for (unsigned i = 0; u->queues && i < u->nr_queues; i++) {
		if (u->queues[i].thread_started)
			pthread_join(u->queues[i].thread, NULL);
	}
	/* every acknowledged write is at the controller; make it durable there too (across a
	 * reconnect if one is under way) */
	if (u->started && u->vwc && u->queues && u->queues[0].mq) {
		rc = flush_sync(u->queues[0].mq);
		if (rc)
			log_err("ublkb%d: final flush of namespace %u: %s%d", u->dev_id, u->nsid,
				rc < 0 ? "errno " : "NVMe status 0x", rc < 0 ? -rc : rc);
	}
	for (unsigned i = 0; u->queues && i < u->nr_queues; i++)
		uq_fini(&u->queues[i]);
	free(u->queues);
	u->queues = NULL;
	nvmf_mpath_destroy(u->mpath);
	u->mpath = NULL;
	if (u->cdev_fd >= 0)
		close(u->cdev_fd);
	u->cdev_fd = -1;
	if (u->added) {
		rc = del_dev(u);
		if (rc < 0)
			log_err("ublkb%d: DEL_DEV: %s", u->dev_id, strerror(-rc));
	}
	if (u->ctrl_ring_ready)
		io_uring_queue_exit(&u->ctrl_ring);
	if (u->ctrl_fd >= 0)
		close(u->ctrl_fd);
	if (u->kill_fd >= 0)
		close(u->kill_fd);
	pthread_cond_destroy(&u->cond);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

/* ------------------------------------------------------------------ public */

struct nvmf_mpath *nvmf_ublk_mpath(struct nvmf_ublk *u)
{
	return u->mpath;
}

static int open_cdev(struct nvmf_ublk *u)
{
	char path[64];
	struct timespec nap = { 0, 10 * 1000 * 1000 };

	snprintf(path, sizeof(path), "/dev/ublkc%d", u->dev_id);
	for (int waited = 0;; waited += 10) {
		int fd = open(path, O_RDWR | O_CLOEXEC);

		if (fd >= 0)
			return fd;
		if (errno != ENOENT || waited >= UBLK_CDEV_WAIT_MS)
			return -errno;
		nanosleep(&nap, NULL);
	}
}

static unsigned min_u(unsigned a, unsigned b)
{
	return a < b ? a : b;
}

int nvmf_ublk_start(struct nvmf_ctrl *c, uint32_t nsid, unsigned nr_queues, unsigned depth,
		    struct nvmf_ublk **out, int *dev_id, char *err, size_t errlen)
{
	const struct nvme_id_ctrl *id;
	struct ublk_ns_caps caps;
	struct nvmf_ns_info ns;
	struct nvmf_ublk *u;
	unsigned nq, qdepth = UBLK_MAX_QUEUE_DEPTH, started = 0;
	uint32_t max_io;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	int rc;

	if (out)
		*out = NULL;
	if (dev_id)
		*dev_id = -1;
	if (!c || !out) {
		set_err(err, errlen, "no controller");
		return -EINVAL;
	}
	rc = nvmf_ctrl_ns_info(c, nsid, &ns);
	if (rc) {
		set_err(err, errlen, "namespace %u: %s", nsid, strerror(rc < 0 ? -rc : EIO));
		return rc < 0 ? rc : -EIO;
	}
	nq = nvmf_ctrl_nr_qpairs(c);
	if (!nq) {
		set_err(err, errlen, "the controller has no I/O queues");
		return -EINVAL;
	}
	nr_queues = nr_queues ? min_u(nr_queues, nq) : nq;
	for (unsigned i = 0; i < nr_queues; i++)
		qdepth = min_u(qdepth, nvmf_qpair_depth(nvmf_ctrl_qpair(c, i)));
	depth = min_u(depth ? depth : UBLK_DEFAULT_DEPTH, qdepth);
	max_io = nvmf_ctrl_max_xfer(c);
	if (max_io > UBLK_MAX_IO_BYTES)
		max_io = UBLK_MAX_IO_BYTES;
	max_io &= ~(uint32_t)(pg - 1);
	id = nvmf_ctrl_id(c);
	memset(&caps, 0, sizeof(caps));
	caps.block_size = ns.block_size;
	caps.nblocks = ns.nblocks;
	caps.read_only = ns.read_only;
	caps.oncs = le16toh(id->oncs);
	caps.vwc = id->vwc;
	if (!depth || max_io < ns.block_size || ns.block_size > pg) {
		set_err(err, errlen, "namespace %u: block size %u, transfers up to %u bytes, "
			"queues of %u: not usable as a ublk device", nsid, ns.block_size, max_io,
			depth);
		return -EINVAL;
	}

	u = calloc(1, sizeof(*u));
	if (!u) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	u->ctrl = c;
	u->nsid = nsid;
	{
		struct nvmf_mpath_opts mo;

		nvmf_mpath_opts_init(&mo);
		mo.nsid = nsid;
		rc = nvmf_mpath_create(&mo, &u->mpath);
		if (!rc)
			rc = nvmf_mpath_add_path(u->mpath, c);
		if (rc) {
			set_err(err, errlen, "namespace %u: %s", nsid, nvmf_strerror_last());
			goto fail;
		}
	}
	u->dev_id = -1;
	u->ctrl_fd = u->cdev_fd = u->kill_fd = -1;
	u->vwc = caps.vwc & NVME_VWC_PRESENT;
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->cond, NULL);

	u->ctrl_fd = open(UBLK_CONTROL, O_RDWR | O_CLOEXEC);
	if (u->ctrl_fd < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			set_err(err, errlen, UBLK_CONTROL " missing: load the ublk driver "
				"(modprobe ublk_drv; Linux >= 6.0)");
		else
			set_err(err, errlen, UBLK_CONTROL ": %s%s", strerror(-rc),
				rc == -EACCES || rc == -EPERM ? " (needs root)" : "");
		goto fail;
	}
	rc = io_uring_queue_init(4, &u->ctrl_ring, IORING_SETUP_SQE128);
	if (rc < 0) {
		set_err(err, errlen, "io_uring with 128-byte SQEs: %s", strerror(-rc));
		goto fail;
	}
	u->ctrl_ring_ready = true;
	u->kill_fd = eventfd(0, EFD_CLOEXEC);
	if (u->kill_fd < 0) {
		rc = -errno;
		set_err(err, errlen, "eventfd: %s", strerror(-rc));
		goto fail;
	}

	rc = add_dev(u, nr_queues, depth, max_io);
	if (rc) {
		set_err(err, errlen, "ADD_DEV (%u queues of %u, %u-byte I/O): %s%s", nr_queues,
			depth, max_io, strerror(-rc), rc == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		goto fail;
	}
	/* the driver may have trimmed them (queues: to the CPU count) */
	u->nr_queues = u->info.nr_hw_queues;
	u->buf_bytes = u->info.max_io_buf_bytes;
	if (!u->nr_queues || u->nr_queues > nr_queues || !u->info.queue_depth ||
	    u->info.queue_depth > depth || u->buf_bytes < ns.block_size) {
		rc = -EPROTO;
		set_err(err, errlen, "ublkc%d: driver answered %u queues of %u, %u-byte I/O",
			u->dev_id, u->info.nr_hw_queues, u->info.queue_depth, u->buf_bytes);
		goto fail;
	}
	rc = ublk_map_params(&caps, u->buf_bytes, &u->params);
	if (!rc)
		rc = set_params(u);
	if (rc) {
		set_err(err, errlen, "ublkc%d: SET_PARAMS (block size %u, %llu blocks): %s",
			u->dev_id, ns.block_size, (unsigned long long)ns.nblocks, strerror(-rc));
		goto fail;
	}
	u->bs_shift = u->params.basic.logical_bs_shift;

	rc = open_cdev(u);
	if (rc < 0) {
		set_err(err, errlen, "/dev/ublkc%d: %s", u->dev_id, strerror(-rc));
		goto fail;
	}
	u->cdev_fd = rc;
	u->queues = calloc(u->nr_queues, sizeof(*u->queues));
	if (!u->queues) {
		rc = -ENOMEM;
		set_err(err, errlen, "out of memory");
		goto fail;
	}
	for (unsigned i = 0; i < u->nr_queues; i++) {
		rc = uq_init(&u->queues[i], u, (uint16_t)i);
		if (rc) {
			set_err(err, errlen, "ublkc%d queue %u: %s", u->dev_id, i, strerror(-rc));
			goto fail;
		}
	}
	rc = start_threads(u, &started);
	if (rc) {
		set_err(err, errlen, "ublkc%d: queue %s: %s", u->dev_id,
			started < u->nr_queues ? "thread" : "setup (FETCH_REQ)", strerror(-rc));
		goto fail;
	}
	rc = start_dev(u);
	if (rc < 0) {
		set_err(err, errlen, "ublkc%d: START_DEV: %s", u->dev_id, strerror(-rc));
		goto fail;
	}
	u->started = true;
	log_info("/dev/ublkb%d: namespace %u of %s: %llu blocks of %u bytes%s, %u queues of %u, "
		 "%u-byte I/O%s%s", u->dev_id, nsid, nvmf_ctrl_subnqn(c),
		 (unsigned long long)ns.nblocks, ns.block_size, ns.read_only ? " (read-only)" : "",
		 u->nr_queues, u->info.queue_depth, u->buf_bytes,
		 u->vwc ? ", write cache" : "",
		 u->params.types & UBLK_PARAM_TYPE_DISCARD ? ", discard/write-zeroes" : "");
	*out = u;
	if (dev_id)
		*dev_id = u->dev_id;
	return 0;
fail:
	teardown(u);
	return rc;
}

void nvmf_ublk_stop(struct nvmf_ublk *u)
{
	int id;

	if (!u)
		return;
	id = u->dev_id;
	teardown(u);
	log_info("/dev/ublkb%d: removed", id);
}

int nvmf_ublk_dev_id(const struct nvmf_ublk *u)
{
	return u ? u->dev_id : -1;
}
