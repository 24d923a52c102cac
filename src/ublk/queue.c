/*
 * One ublk queue: a thread that owns one io_uring and one libnvmf queue pair.
 *
 * The ring carries the queue's ublk I/O commands (FETCH_REQ once per tag, then
 * COMMIT_AND_FETCH_REQ for every result) and a poll on nvmf_qpair_fd(), so one wait covers
 * both a new block request and a libnvmf completion.  A request becomes one NVM command on
 * the tag's own buffer (the address given in the I/O command: the driver copies write data
 * into it before handing the request over, and read data out of it on commit); the
 * command's callback turns into the tag's next COMMIT_AND_FETCH_REQ.
 *
 * The thread ends when the driver has aborted every tag (STOP_DEV, or the device went
 * away) and libnvmf holds none of its buffers, or at once (less what libnvmf holds) when
 * the device's kill eventfd fires.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ublk/bridge.h"
#include "util/log.h"

#define UQ_UD_POLL (1ull << 32)          /* user_data of the poll on the queue pair */
#define UQ_UD_KILL (2ull << 32)          /* user_data of the poll on the kill eventfd */
#define UQ_RECONNECT_WAIT_NS 100000000ll /* re-poll while the controller reconnects */
#define UQ_BUSY_WAIT_NS 50000000ll      /* and while commands are out (path failover, and
					 * libnvmf's io_timeout, which runs only when polled) */

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static size_t round_up(size_t n, size_t to)
{
	return (n + to - 1) / to * to;
}

int uq_init(struct ublk_queue *q, struct nvmf_ublk *u, uint16_t qid)
{
	size_t pg = page_size();
	off_t off;
	int rc;

	memset(q, 0, sizeof(*q));
	q->u = u;
	q->qid = qid;
	q->depth = u->info.queue_depth;
	rc = nvmf_mpath_queue_create(u->mpath, qid, q->depth, &q->mq);
	if (rc)
		return rc;
	/* every tag's command plus the two polls fit at once; CQ is twice that */
	rc = io_uring_queue_init(q->depth + 2, &q->ring, IORING_SETUP_SQE128);
	if (rc < 0)
		return rc;
	q->ring_ready = true;
	/* the driver's descriptors of queue qid sit at a fixed stride for the deepest queue */
	q->iods_len = round_up(q->depth * sizeof(struct ublksrv_io_desc), pg);
	off = UBLKSRV_CMD_BUF_OFFSET +
	      (off_t)qid * (off_t)round_up(UBLK_MAX_QUEUE_DEPTH * sizeof(struct ublksrv_io_desc), pg);
	q->iods = mmap(NULL, q->iods_len, PROT_READ, MAP_SHARED | MAP_POPULATE, u->cdev_fd, off);
	if (q->iods == MAP_FAILED) {
		q->iods = NULL;
		return -errno;
	}
	q->bufs_len = (size_t)q->depth * u->buf_bytes;
	q->bufs = mmap(NULL, q->bufs_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (q->bufs == MAP_FAILED) {
		q->bufs = NULL;
		return -errno;
	}
	q->tags = calloc(q->depth, sizeof(*q->tags));
	q->commit = calloc(q->depth, sizeof(*q->commit));
	q->retry = calloc(q->depth, sizeof(*q->retry));
	if (!q->tags || !q->commit || !q->retry)
		return -ENOMEM;
	for (unsigned i = 0; i < q->depth; i++) {
		q->tags[i].q = q;
		q->tags[i].tag = (uint16_t)i;
		q->tags[i].state = UQ_TAG_KERNEL;
	}
	return 0;
}

/* After the thread ended.  The rings and mappings hold /dev/ublkcN open: DEL_DEV waits
 * for them to be gone. */
void uq_fini(struct ublk_queue *q)
{
	/* first: what it still holds fails into the tags, whose buffers are still there */
	nvmf_mpath_queue_free(q->mq);
	q->mq = NULL;
	if (q->ring_ready)
		io_uring_queue_exit(&q->ring);
	q->ring_ready = false;
	if (q->iods)
		munmap((void *)q->iods, q->iods_len);
	if (q->bufs)
		munmap(q->bufs, q->bufs_len);
	q->iods = NULL;
	q->bufs = NULL;
	free(q->tags);
	free(q->commit);
	free(q->retry);
	q->tags = NULL;
	q->commit = q->retry = NULL;
}

/* ------------------------------------------------------------------ ring */

static struct io_uring_sqe *get_sqe(struct ublk_queue *q)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&q->ring);

	if (!sqe) {
		/* full: hand what is there to the kernel (it copies SQEs at submit) */
		io_uring_submit(&q->ring);
		sqe = io_uring_get_sqe(&q->ring);
	}
	return sqe;
}

static uint8_t *tag_buf(struct ublk_queue *q, uint16_t tag)
{
	return q->bufs + (size_t)tag * q->u->buf_bytes;
}

/* FETCH_REQ or COMMIT_AND_FETCH_REQ for tag: a URING_CMD whose payload (struct
 * ublksrv_io_cmd) fills the upper half of the 128-byte SQE. */
static int post_io_cmd(struct ublk_queue *q, uint32_t op, uint16_t tag, int result)
{
	struct io_uring_sqe *sqe = get_sqe(q);
	struct ublksrv_io_cmd *cmd;

	if (!sqe)
		return -EBUSY;
	memset((void *)sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = q->u->cdev_fd;
	sqe->cmd_op = op;
	sqe->user_data = tag;
	cmd = (struct ublksrv_io_cmd *)(void *)sqe->cmd;
	cmd->q_id = q->qid;
	cmd->tag = tag;
	cmd->result = result;
	cmd->addr = (uint64_t)(uintptr_t)tag_buf(q, tag);
	return 0;
}

static void arm_poll(struct ublk_queue *q, int fd, uint64_t ud, bool *armed)
{
	struct io_uring_sqe *sqe = get_sqe(q);

	if (!sqe)
		return;
	io_uring_prep_poll_add(sqe, fd, POLLIN);
	sqe->user_data = ud;
	*armed = true;
}

/* ------------------------------------------------------------------ requests */

/* The result is known: it goes back with the tag's next COMMIT_AND_FETCH_REQ. */
static void finish(struct uq_tag *t, int result)
{
	struct ublk_queue *q = t->q;

	if (result < 0) {
		q->failures++;
		log_debug("ublkb%d q%u tag %u: op %d lba %llu nlb %u failed: %s", q->u->dev_id,
			  q->qid, t->tag, (int)t->io.op, (unsigned long long)t->io.lba, t->io.nlb,
			  strerror(-result));
	}
	t->result = result;
	t->state = UQ_TAG_COMMIT;
	q->commit[q->ncommit++] = t->tag;
}

static void nvmf_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct uq_tag *t = arg;
	int res;

	(void)cqe;
	t->q->in_nvmf--;
	if (status)
		res = ublk_map_status(status);
	else
		res = (int)t->io.bytes;   /* reads and writes: bytes done; the rest: 0 */
	finish(t, res);
}

static void submit(struct ublk_queue *q, struct uq_tag *t)
{
	struct iovec iov = { tag_buf(q, t->tag), t->io.bytes };
	int rc;

	switch (t->io.op) {
	case UBLK_NVME_READ:
		rc = nvmf_mpath_readv(q->mq, t->io.lba, t->io.nlb, &iov, 1, nvmf_done, t);
		break;
	case UBLK_NVME_WRITE:
		rc = nvmf_mpath_writev(q->mq, t->io.lba, t->io.nlb, &iov, 1, t->io.flags,
				       nvmf_done, t);
		break;
	case UBLK_NVME_FLUSH:
		rc = nvmf_mpath_flush(q->mq, nvmf_done, t);
		break;
	case UBLK_NVME_DEALLOCATE:
		rc = nvmf_mpath_deallocate(q->mq, t->io.lba, t->io.nlb, nvmf_done, t);
		break;
	default:
		rc = nvmf_mpath_write_zeroes(q->mq, t->io.lba, t->io.nlb, t->io.flags,
					     nvmf_done, t);
		break;
	}
	if (rc == 0) {
		t->state = UQ_TAG_NVMF;
		q->in_nvmf++;
	} else if (rc == -EAGAIN) {
		t->state = UQ_TAG_RETRY;
		q->retry[q->nretry++] = t->tag;
	} else {
		finish(t, ublk_map_status(rc));
	}
}

/* The driver handed tag a request (its descriptor is in q->iods[tag]). */
static void start_request(struct ublk_queue *q, struct uq_tag *t)
{
	struct ublksrv_io_desc iod = q->iods[t->tag];
	int rc;

	q->requests++;
	if (q->killed) {
		finish(t, -EIO);
		return;
	}
	rc = ublk_map_io(&iod, q->u->bs_shift, q->u->buf_bytes, &t->io);
	if (rc) {
		log_warn("ublkb%d q%u tag %u: request op 0x%x sector %llu +%u refused: %s",
			 q->u->dev_id, q->qid, t->tag, iod.op_flags,
			 (unsigned long long)iod.start_sector, iod.nr_sectors, strerror(-rc));
		finish(t, rc);
		return;
	}
	submit(q, t);
}

static void retry_all(struct ublk_queue *q)
{
	unsigned n = q->nretry;

	q->nretry = 0;
	for (unsigned i = 0; i < n; i++)
		submit(q, &q->tags[q->retry[i]]);
}

static void handle_cqe(struct ublk_queue *q, const struct io_uring_cqe *cqe)
{
	uint64_t ud = cqe->user_data;
	struct uq_tag *t;

	if (ud == UQ_UD_POLL) {
		q->poll_armed = false;
		return;
	}
	if (ud == UQ_UD_KILL) {
		q->kill_armed = false;
		q->killed = true;
		return;
	}
	if (ud >= q->depth)
		return;   /* liburing's own timeout entries, if it had to use them */
	t = &q->tags[ud];
	if (cqe->res == UBLK_IO_RES_OK) {
		start_request(q, t);
		return;
	}
	if (cqe->res != UBLK_IO_RES_ABORT)
		log_err("ublkb%d q%u tag %u: I/O command refused by the driver: %s",
			q->u->dev_id, q->qid, t->tag, strerror(-cqe->res));
	t->state = UQ_TAG_GONE;
	q->gone++;
}

static void reap(struct ublk_queue *q)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&q->ring, head, cqe) {
		handle_cqe(q, cqe);
		n++;
	}
	io_uring_cq_advance(&q->ring, n);
}

static void post_commits(struct ublk_queue *q)
{
	for (unsigned i = 0; i < q->ncommit; i++) {
		struct uq_tag *t = &q->tags[q->commit[i]];

		if (post_io_cmd(q, q->u->op_commit, t->tag, t->result)) {
			/* cannot happen with an SQ that holds every tag; keep it for later */
			memmove(q->commit, q->commit + i, (q->ncommit - i) * sizeof(*q->commit));
			q->ncommit -= i;
			return;
		}
		t->state = UQ_TAG_KERNEL;
	}
	q->ncommit = 0;
}

/* Send what libnvmf queued, receive, run callbacks. */
static void progress(struct ublk_queue *q)
{
	int rc = nvmf_mpath_queue_poll(q->mq, 0);
	bool was_reconnecting = q->reconnecting;

	q->reconnecting = rc == -ENOTCONN;
	if (q->reconnecting && !was_reconnecting)
		log_warn("ublkb%d q%u: controller reconnecting: %u commands wait", q->u->dev_id,
			 q->qid, q->in_nvmf);
	else if (was_reconnecting && rc >= 0)
		log_info("ublkb%d q%u: controller back", q->u->dev_id, q->qid);
	if (rc == -ENODEV && !q->ctrl_dead) {
		q->ctrl_dead = true;
		log_err("ublkb%d q%u: controller given up: I/O fails with EIO", q->u->dev_id,
			q->qid);
	}
}

static bool finished(const struct ublk_queue *q)
{
	/* libnvmf may write into a buffer until its command completes */
	if (q->in_nvmf)
		return false;
	return q->killed || (q->gone == q->depth && !q->ncommit);
}

static void serve(struct ublk_queue *q)
{
	int qfd = nvmf_mpath_queue_fd(q->mq);

	while (!finished(q)) {
		struct __kernel_timespec ts = { 0 }, *tsp = NULL;
		struct io_uring_cqe *cqe;
		int rc;

		post_commits(q);
		if (!q->poll_armed)
			arm_poll(q, qfd, UQ_UD_POLL, &q->poll_armed);
		/*
		 * libnvmf's fd wakes us for input and for output waiting on a full socket;
		 * commands refused as "full" go out when completions (fd events) free room.
		 * A reconnect has nothing to wake us, nor a path that stops answering (multipath
		 * fails it over by the clock), nor a command the controller never answers
		 * (libnvmf times it out, io_timeout, only when polled): look again now and then.
		 */
		if (q->reconnecting) {
			ts.tv_nsec = UQ_RECONNECT_WAIT_NS;
			tsp = &ts;
		} else if (q->in_nvmf) {
			ts.tv_nsec = UQ_BUSY_WAIT_NS;
			tsp = &ts;
		}
		rc = io_uring_submit_and_wait_timeout(&q->ring, &cqe, 1, tsp, NULL);
		if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
			log_err("ublkb%d q%u: io_uring: %s", q->u->dev_id, q->qid, strerror(-rc));
			q->killed = true;
		}
		reap(q);
		retry_all(q);
		progress(q);
	}
}

void *uq_thread(void *arg)
{
	struct ublk_queue *q = arg;
	struct io_uring_cqe *cqe;
	int rc = 0;

	for (unsigned i = 0; i < q->depth && !rc; i++)
		rc = post_io_cmd(q, q->u->op_fetch, (uint16_t)i, 0);
	if (!rc) {
		arm_poll(q, q->u->kill_fd, UQ_UD_KILL, &q->kill_armed);
		arm_poll(q, nvmf_mpath_queue_fd(q->mq), UQ_UD_POLL, &q->poll_armed);
		rc = io_uring_submit(&q->ring);
		rc = rc < 0 ? rc : 0;
	}
	/* a refused FETCH_REQ completes during the submit: look before saying ready, or
	 * START_DEV would wait for this queue forever */
	while (!rc && io_uring_peek_cqe(&q->ring, &cqe) == 0) {
		if (cqe->user_data < q->depth && cqe->res < 0)
			rc = cqe->res;
		handle_cqe(q, cqe);
		io_uring_cqe_seen(&q->ring, cqe);
	}
	ublk_setup_report(q->u, rc);
	if (rc && !q->gone) {
		/* nothing reached the driver: there is nothing to drain either */
		return NULL;
	}
	serve(q);
	log_debug("ublkb%d q%u: done after %llu requests (%llu failed)", q->u->dev_id, q->qid,
		  (unsigned long long)q->requests, (unsigned long long)q->failures);
	return NULL;
}
