/*
 * Passthrough subsystems: the devices and the command path (passthru.h).
 *
 * A forwarded command becomes an io_uring NVMe command (IORING_OP_URING_CMD): I/O on the
 * namespace's generic character device /dev/ngXnY (NVME_URING_CMD_IO, or _IO_VEC for a
 * transfer in several buffers), admin on the controller's /dev/nvmeX (NVME_URING_CMD_ADMIN;
 * a kernel without it gets NVME_IOCTL_ADMIN64_CMD, synchronous, on the admin queue's
 * reactor).  The request's data buffers are the command's: no copy.
 *
 * NVMe commands need 128-byte SQEs and 32-byte CQEs (the result dwords), which the
 * reactor's ring does not have: each reactor that forwards gets a second ring of its own
 * (made on first use, on that reactor's thread, so the kernel's completion work runs
 * there), and the reactor's ring polls that ring's fd: when it is readable, the reactor
 * reaps it and completes the requests -- on the reactor that owns their queue.
 */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/nvme_ioctl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/passthru.h"
#include "target/target.h"
#include "util/log.h"

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

/* SQ entries of a reactor's passthrough ring (CQ: twice that; the kernel keeps overflow) */
#define PT_RING_ENTRIES 256

struct pt_ns {
	uint32_t nsid;
	int fd;                 /* /dev/ngXnY */
};

struct pt_ring {
	struct io_uring ring;   /* SQE128 | CQE32 */
	struct nvmf_event poll_ev; /* on the reactor's ring: this ring has completions */
	struct nvmf_reactor *r;
	unsigned inflight;
	bool polling;
};

struct nvmf_passthru {
	char *path;
	int ctrl_fd;            /* /dev/nvmeX */
	bool admin_uring;       /* the kernel takes admin commands as io_uring commands */
	struct pt_ns *ns;
	size_t nr_ns;
	uint8_t mdts;           /* what the fabric controller reports (4 KiB units) */
	uint32_t vs;            /* the drive's version, at least 1.2.1 */
	uint32_t max_xfer;      /* bytes, 4096 << mdts */
	uint32_t admin_timeout_ms, io_timeout_ms; /* 0: the kernel's defaults */
	bool clear_ids;
	/* [nr_rings], slot i made and used by reactor i only; NULL until its first command */
	struct pt_ring **rings;
	unsigned nr_rings;
	bool *ring_failed;      /* [nr_rings]: the ring could not be made (logged once) */
};

const char *nvmf_passthru_path(const struct nvmf_passthru *pt)
{
	return pt->path;
}

uint32_t nvmf_passthru_vs(const struct nvmf_passthru *pt)
{
	return pt->vs;
}

/* ------------------------------------------------------------------ opening */

static void admin_cmd_init(struct nvme_passthru_cmd64 *c, uint8_t cns, void *buf)
{
	memset(c, 0, sizeof(*c));
	c->opcode = NVME_ADM_IDENTIFY;
	c->addr = (uint64_t)(uintptr_t)buf;
	c->data_len = NVME_IDENTIFY_DATA_SIZE;
	c->cdw10 = cns;
}

/* One number from a sysfs file, 0 when absent or unreadable. */
static unsigned long long sysfs_num(const char *dir, const char *name, const char *attr)
{
	char p[64 + 256 + 64];  /* dir, d_name, "/queue/" attr */
	unsigned long long v = 0;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s/queue/%s", dir, name, attr);
	f = fopen(p, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/*
 * The largest transfer, in bytes, the kernel lets one passthrough command of the
 * controller move: the smallest max_hw_sectors_kb and max_segments pages of its namespace
 * queues (nvmeXnY, or nvmeXcZnY under native multipath), UINT64_MAX when sysfs says nothing.
 * A segment counts as one page: the request's buffers are not physically contiguous.
 */
static uint64_t sysfs_max_xfer(const char *ctrl_name)
{
	char dir[64];
	uint64_t best = UINT64_MAX;
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/sys/class/nvme/%s", ctrl_name);
	d = opendir(dir);
	if (!d)
		return best;
	while ((e = readdir(d))) {
		unsigned long long kb, segs;

		if (strncmp(e->d_name, "nvme", 4) != 0 || !strchr(e->d_name + 4, 'n'))
			continue;
		kb = sysfs_num(dir, e->d_name, "max_hw_sectors_kb");
		segs = sysfs_num(dir, e->d_name, "max_segments");
		if (kb && kb * 1024 < best)
			best = kb * 1024;
		if (segs && segs * 4096 < best)
			best = segs * 4096;
	}
	closedir(d);
	return best;
}

static int fail(char *err, size_t errlen, const char *source,
		const struct nvmf_cfg_subsys *c, const char *key, int rc, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* "<file>: subsystems[<nqn>].passthru.<key>: <what>" */
static int fail(char *err, size_t errlen, const char *source,
		const struct nvmf_cfg_subsys *c, const char *key, int rc, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: subsystems[%s].passthru.%s: %s",
		 source ? source : "configuration", c->nqn, key, what);
	return rc;
}

/* Identify through an io_uring admin command, waited for: does the kernel have it? */
static bool probe_admin_uring(int fd, void *buf)
{
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 };
	struct nvme_uring_cmd uc = {
		.opcode = NVME_ADM_IDENTIFY,
		.addr = (uint64_t)(uintptr_t)buf,
		.data_len = NVME_IDENTIFY_DATA_SIZE,
		.cdw10 = NVME_CNS_CTRL,
	};
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	bool ok = false;

	if (io_uring_queue_init_params(4, &ring, &p) < 0)
		return false;
	sqe = io_uring_get_sqe(&ring);
	if (!sqe)
		goto out;
	memset(sqe, 0, 2 * sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = NVME_URING_CMD_ADMIN;
	memcpy(sqe->cmd, &uc, sizeof(uc));
	if (io_uring_submit(&ring) == 1 && io_uring_wait_cqe(&ring, &cqe) == 0) {
		ok = cqe->res == 0;
		io_uring_cqe_seen(&ring, cqe);
	}
out:
	io_uring_queue_exit(&ring);
	return ok;
}

/* Open every /dev/ng<inst>n* of the controller and learn its NSID. */
static int open_namespaces(struct nvmf_passthru *pt, const char *inst)
{
	char prefix[64];
	size_t plen;
	DIR *d = opendir("/dev");
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -errno;
	plen = (size_t)snprintf(prefix, sizeof(prefix), "ng%sn", inst);
	while ((e = readdir(d))) {
		char path[300];
		struct pt_ns *more;
		int fd, nsid;

		if (strncmp(e->d_name, prefix, plen) != 0 ||
		    strspn(e->d_name + plen, "0123456789") != strlen(e->d_name + plen) ||
		    !e->d_name[plen])
			continue;
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			log_err("passthru %s: %s: %s", pt->path, path, strerror(errno));
			break;
		}
		nsid = ioctl(fd, NVME_IOCTL_ID);
		if (nsid <= 0) {
			close(fd);
			continue;
		}
		more = realloc(pt->ns, (pt->nr_ns + 1) * sizeof(*more));
		if (!more) {
			close(fd);
			rc = -ENOMEM;
			break;
		}
		pt->ns = more;
		pt->ns[pt->nr_ns].nsid = (uint32_t)nsid;
		pt->ns[pt->nr_ns].fd = fd;
		pt->nr_ns++;
	}
	closedir(d);
	return rc;
}

int nvmf_passthru_open(struct nvmf_tgt *tgt, const char *source,
		       const struct nvmf_cfg_subsys *c, struct nvmf_passthru **out, char *err,
		       size_t errlen)
{
	const char *path = c->passthru.path;
	struct nvmf_passthru *pt = calloc(1, sizeof(*pt));
	struct nvme_id_ctrl *id = NULL;
	struct nvme_passthru_cmd64 cmd;
	char real[PATH_MAX], *base;
	unsigned inst;
	uint64_t sys_max;
	struct stat st;
	int rc;

	*out = NULL;
	if (pt)
		pt->ctrl_fd = -1;       /* before anything can fail: close() skips it */
	if (!pt || !(pt->path = strdup(path)) ||
	    posix_memalign((void **)&id, 4096, sizeof(*id))) {
		rc = fail(err, errlen, source, c, "device.path", -ENOMEM, "out of memory");
		goto out;
	}
	pt->clear_ids = c->passthru.clear_ids != 0;
	pt->admin_timeout_ms = c->passthru.admin_timeout > UINT32_MAX / 1000
				       ? UINT32_MAX : c->passthru.admin_timeout * 1000;
	pt->io_timeout_ms = c->passthru.io_timeout > UINT32_MAX / 1000
				    ? UINT32_MAX : c->passthru.io_timeout * 1000;
	if (!realpath(path, real) || stat(real, &st)) {
		rc = fail(err, errlen, source, c, "device.path", -errno, "%s: %s", path,
			  strerror(errno));
		goto out;
	}
	base = strrchr(real, '/');
	base = base ? base + 1 : real;
	if (!S_ISCHR(st.st_mode) || sscanf(base, "nvme%u", &inst) != 1 ||
	    (size_t)snprintf(NULL, 0, "nvme%u", inst) != strlen(base)) {
		rc = fail(err, errlen, source, c, "device.path", -ENODEV,
			  "%s: not an NVMe controller (want its character device, /dev/nvmeX)",
			  path);
		goto out;
	}
	pt->ctrl_fd = open(real, O_RDWR | O_CLOEXEC);
	if (pt->ctrl_fd < 0) {
		rc = fail(err, errlen, source, c, "device.path", -errno, "%s: %s", path,
			  strerror(errno));
		goto out;
	}
	admin_cmd_init(&cmd, NVME_CNS_CTRL, id);
	rc = ioctl(pt->ctrl_fd, NVME_IOCTL_ADMIN64_CMD, &cmd);
	if (rc != 0) {
		/* -1: not an NVMe character device (ENOTTY); > 0: the drive's NVMe status */
		if (rc < 0)
			rc = fail(err, errlen, source, c, "device.path", -ENODEV,
				  "%s: not an NVMe controller (Identify: %s)", path,
				  strerror(errno));
		else
			rc = fail(err, errlen, source, c, "device.path", -EIO,
				  "%s: Identify Controller failed, NVMe status %#x", path,
				  (unsigned)rc);
		goto out;
	}
	if (id->cntrltype > NVME_CNTRLTYPE_IO) {
		rc = fail(err, errlen, source, c, "device.path", -ENODEV,
			  "%s: not an I/O controller (type %u)", path, id->cntrltype);
		goto out;
	}
	rc = open_namespaces(pt, base + 4);
	if (rc) {
		rc = fail(err, errlen, source, c, "device.path", rc, "%s: namespaces: %s", path,
			  strerror(-rc));
		goto out;
	}
	if (pt->nr_ns == 0) {
		rc = fail(err, errlen, source, c, "device.path", -ENODEV,
			  "%s: no generic namespace device /dev/ng%sn* (a controller without "
			  "namespaces, or a kernel older than 5.19)", path, base + 4);
		goto out;
	}
	/* nvmet's floor: older controllers lack what a fabric host expects of Identify */
	pt->vs = le32toh(id->ver) < NVMF_CFG_VS(1, 2, 1) ? NVMF_CFG_VS(1, 2, 1) : le32toh(id->ver);
	pt->admin_uring = probe_admin_uring(pt->ctrl_fd, id);
	/* what one command may move: the drive's MDTS, the kernel's queue limits, ours */
	pt->mdts = nvmf_pt_mdts(id->mdts, NVMF_MDTS);
	sys_max = sysfs_max_xfer(base);
	while (pt->mdts > 0 && (4096ull << pt->mdts) > sys_max)
		pt->mdts--;
	pt->max_xfer = 4096u << pt->mdts;
	pt->nr_rings = tgt->nr_reactors ? tgt->nr_reactors : 1;
	pt->rings = calloc(pt->nr_rings, sizeof(*pt->rings));
	pt->ring_failed = calloc(pt->nr_rings, sizeof(*pt->ring_failed));
	if (!pt->rings || !pt->ring_failed) {
		rc = fail(err, errlen, source, c, "device.path", -ENOMEM, "out of memory");
		goto out;
	}
	log_info("subsystem %s: passthrough of %s, %zu namespace(s), MDTS %u (drive %u, "
		 "kernel %llu KiB), admin via %s", c->nqn, path, pt->nr_ns, pt->mdts, id->mdts,
		 sys_max == UINT64_MAX ? 0ull : (unsigned long long)(sys_max >> 10),
		 pt->admin_uring ? "io_uring" : "ioctl");
	*out = pt;
	pt = NULL;
	rc = 0;
out:
	free(id);
	nvmf_passthru_close(pt);
	return rc;
}

void nvmf_passthru_close(struct nvmf_passthru *pt)
{
	if (!pt)
		return;
	for (unsigned i = 0; pt->rings && i < pt->nr_rings; i++) {
		if (!pt->rings[i])
			continue;
		io_uring_queue_exit(&pt->rings[i]->ring);
		free(pt->rings[i]);
	}
	for (size_t i = 0; i < pt->nr_ns; i++)
		close(pt->ns[i].fd);
	if (pt->ctrl_fd >= 0)
		close(pt->ctrl_fd);
	free(pt->rings);
	free(pt->ring_failed);
	free(pt->ns);
	free(pt->path);
	free(pt);
}

/* ------------------------------------------------------------------ completion */

static struct nvmf_passthru *req_pt(const struct nvmf_req *req)
{
	return req->sq->ctrl->subsys->passthru;
}

static void log_failure(struct nvmf_req *req, const char *what, int err)
{
	struct nvmf_sq *sq = req->sq;

	log_err("%s: ctrl %u qid %u cid %u: passthru %s opcode 0x%02x nsid %u: %s: %s",
		sq->ops->peer_name ? sq->ops->peer_name(sq) : "?",
		sq->ctrl ? sq->ctrl->cntlid : 0, sq->qid, le16toh(req->cmd.cid), req_pt(req)->path,
		req->cmd.opcode, le32toh(req->cmd.nsid), what, strerror(err));
}

/* Identify data of the drive made the fabric controller's (nvmet does it after the fact). */
static uint16_t adjust_identify(struct nvmf_req *req)
{
	const struct nvme_identify_cmd *ic = (const struct nvme_identify_cmd *)&req->cmd;
	struct nvmf_passthru *pt = req_pt(req);
	uint8_t *buf, *fabric;
	size_t len = req->xfer_len < NVME_IDENTIFY_DATA_SIZE ? req->xfer_len
							      : NVME_IDENTIFY_DATA_SIZE;

	if (ic->cns != NVME_CNS_CTRL && ic->cns != NVME_CNS_NS &&
	    ic->cns != NVME_CNS_NS_DESC_LIST)
		return 0;
	buf = calloc(2, NVME_IDENTIFY_DATA_SIZE);
	if (!buf)
		return NVMF_SC(NVME_SC_INTERNAL);
	fabric = buf + NVME_IDENTIFY_DATA_SIZE;
	nvmf_req_copy_from(req, 0, buf, len);
	switch (ic->cns) {
	case NVME_CNS_CTRL:
		nvmf_build_id_ctrl(req->sq->ctrl, (struct nvme_id_ctrl *)fabric);
		nvmf_pt_override_id_ctrl((struct nvme_id_ctrl *)buf,
					 (const struct nvme_id_ctrl *)fabric, pt->mdts);
		break;
	case NVME_CNS_NS:
		nvmf_pt_override_id_ns((struct nvme_id_ns *)buf, pt->clear_ids);
		break;
	default:
		nvmf_pt_override_id_descs(buf, NVME_IDENTIFY_DATA_SIZE, pt->clear_ids);
		break;
	}
	nvmf_req_copy_to(req, 0, buf, len);
	free(buf);
	return 0;
}

/*
 * The drive's answer.  res: the NVMe status as the kernel keeps it (the CQE's status word
 * without the phase bit), or -errno when the command never reached the drive or timed out.
 */
static void pt_complete(struct nvmf_req *req, int res, uint64_t result)
{
	uint16_t status;

	if (res < 0) {
		log_failure(req, "not executed", -res);
		status = res == -EINTR || res == -ETIMEDOUT || res == -ECANCELED
				 ? NVMF_SC(NVME_SC_ABORT_REQUESTED) : NVMF_SC(NVME_SC_INTERNAL);
	} else {
		status = (uint16_t)((unsigned)res << 1);
	}
	req->cqe.result64 = htole64(result);
	if (status == 0 && req->sq->qid == 0 && req->cmd.opcode == NVME_ADM_IDENTIFY)
		status = adjust_identify(req);
	nvmf_req_complete(req, status);
}

static void ring_arm(struct pt_ring *pr);

static void ring_reap(struct pt_ring *pr)
{
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&pr->ring, &cqe) == 0) {
		struct nvmf_req *req = (struct nvmf_req *)(uintptr_t)cqe->user_data;
		int res = cqe->res;
		uint64_t result = cqe->big_cqe[0];

		io_uring_cqe_seen(&pr->ring, cqe);
		pr->inflight--;
		pt_complete(req, res, result);
	}
}

static void ring_event(struct nvmf_event *ev, int res, uint32_t flags)
{
	struct pt_ring *pr = container_of(ev, struct pt_ring, poll_ev);

	(void)res;
	(void)flags;
	pr->polling = false;
	ring_reap(pr);
	/* entries a refused submit left queued (the kernel was short of room): now */
	if (io_uring_sq_ready(&pr->ring))
		io_uring_submit(&pr->ring);
	if (pr->inflight)
		ring_arm(pr);
}

/* Have the reactor tell us when the ring has completions (a one-shot poll, re-armed). */
static void ring_arm(struct pt_ring *pr)
{
	struct io_uring_sqe *sqe;

	if (pr->polling)
		return;
	sqe = nvmf_reactor_sqe(pr->r, &pr->poll_ev);
	io_uring_prep_poll_add(sqe, pr->ring.ring_fd, POLLIN);
	pr->polling = true;
}

static struct pt_ring *ring_get(struct nvmf_passthru *pt, struct nvmf_reactor *r)
{
	unsigned slot = r->id % pt->nr_rings;
	struct io_uring_params p = { .flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32 };
	struct pt_ring *pr = pt->rings[slot];
	int rc;

	if (pr || pt->ring_failed[slot])
		return pr;
	pr = calloc(1, sizeof(*pr));
	if (!pr) {
		rc = -ENOMEM;
		goto fail;
	}
	p.cq_entries = 0;
	rc = io_uring_queue_init_params(PT_RING_ENTRIES, &pr->ring, &p);
	if (rc < 0) {
		free(pr);
		goto fail;
	}
	pr->r = r;
	pr->poll_ev.fn = ring_event;
	pt->rings[slot] = pr;
	return pr;
fail:
	pt->ring_failed[slot] = true;
	log_err("passthru %s: reactor %u: no io_uring with 128-byte entries: %s", pt->path,
		r->id, strerror(-rc));
	return NULL;
}

/* ------------------------------------------------------------------ submission */

/* The admin command on a kernel without io_uring admin commands: the ioctl, waited for. */
static void submit_admin_ioctl(struct nvmf_req *req, const struct nvme_uring_cmd *uc)
{
	struct nvmf_passthru *pt = req_pt(req);
	struct nvme_passthru_cmd64 c = { 0 };
	int rc;

	if (req->iovcnt > 1) {
		/* admin transfers are small: one buffer (MDTS >= 4 KiB, the pool's chunks
		 * are 128 KiB) */
		pt_complete(req, -EINVAL, 0);
		return;
	}
	c.opcode = uc->opcode;
	c.nsid = uc->nsid;
	c.cdw2 = uc->cdw2;
	c.cdw3 = uc->cdw3;
	c.addr = uc->addr;
	c.data_len = uc->data_len;
	c.cdw10 = uc->cdw10;
	c.cdw11 = uc->cdw11;
	c.cdw12 = uc->cdw12;
	c.cdw13 = uc->cdw13;
	c.cdw14 = uc->cdw14;
	c.cdw15 = uc->cdw15;
	c.timeout_ms = uc->timeout_ms;
	rc = ioctl(pt->ctrl_fd, NVME_IOCTL_ADMIN64_CMD, &c);
	pt_complete(req, rc < 0 ? -errno : rc, c.result);
}

static void pt_submit(struct nvmf_req *req)
{
	struct nvmf_passthru *pt = req_pt(req);
	const struct pt_ns *ns = req->priv;
	bool admin = req->sq->qid == 0;
	struct nvme_uring_cmd uc = {
		.opcode = req->cmd.opcode,
		.nsid = le32toh(req->cmd.nsid),
		.cdw2 = le32toh(req->cmd.cdw2),
		.cdw3 = le32toh(req->cmd.cdw3),
		.cdw10 = le32toh(req->cmd.cdw10),
		.cdw11 = le32toh(req->cmd.cdw11),
		.cdw12 = le32toh(req->cmd.cdw12),
		.cdw13 = le32toh(req->cmd.cdw13),
		.cdw14 = le32toh(req->cmd.cdw14),
		.cdw15 = le32toh(req->cmd.cdw15),
		.timeout_ms = admin ? pt->admin_timeout_ms : pt->io_timeout_ms,
	};
	struct io_uring_sqe *sqe;
	struct pt_ring *pr;
	uint32_t op;
	int rc;

	if (req->xfer_len == 0) {
		op = admin ? NVME_URING_CMD_ADMIN : NVME_URING_CMD_IO;
	} else if (req->iovcnt == 1) {
		uc.addr = (uint64_t)(uintptr_t)req->iov[0].iov_base;
		uc.data_len = req->xfer_len;
		op = admin ? NVME_URING_CMD_ADMIN : NVME_URING_CMD_IO;
	} else {
		/* the pool's chunks as they are: the kernel maps the vector */
		uc.addr = (uint64_t)(uintptr_t)req->iov;
		uc.data_len = (uint32_t)req->iovcnt;
		op = admin ? NVME_URING_CMD_ADMIN_VEC : NVME_URING_CMD_IO_VEC;
	}
	if (admin && !pt->admin_uring) {
		submit_admin_ioctl(req, &uc);
		return;
	}
	pr = ring_get(pt, req->sq->reactor);
	if (!pr) {
		nvmf_req_complete(req, NVMF_SC(NVME_SC_INTERNAL));
		return;
	}
	sqe = io_uring_get_sqe(&pr->ring);
	if (!sqe) {
		/* full: hand what is queued to the kernel (submissions below are one by
		 * one, so this only happens if a submit failed) */
		io_uring_submit(&pr->ring);
		sqe = io_uring_get_sqe(&pr->ring);
	}
	if (!sqe) {
		log_failure(req, "submission", EBUSY);
		nvmf_req_complete(req, NVMF_SC(NVME_SC_INTERNAL));
		return;
	}
	memset(sqe, 0, 2 * sizeof(*sqe)); /* one 128-byte entry */
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = admin ? pt->ctrl_fd : ns->fd;
	sqe->cmd_op = op;
	sqe->user_data = (uint64_t)(uintptr_t)req;
	memcpy(sqe->cmd, &uc, sizeof(uc));
	rc = io_uring_submit(&pr->ring);
	if (rc < 0 && io_uring_sq_ready(&pr->ring) == 0) {
		log_failure(req, "submission", -rc);
		nvmf_req_complete(req, NVMF_SC(NVME_SC_INTERNAL));
		return;
	}
	/* else it is in flight, or still queued (-EBUSY: completions to reap first), and
	 * goes with the next submit or when the ring's completions are reaped */
	pr->inflight++;
	ring_arm(pr);
}

static void pt_execute(struct nvmf_req *req)
{
	if (req->dir == NVME_XFER_CTRL_TO_HOST && req->xfer_len && req->iovcnt == 0 &&
	    nvmf_req_alloc_data(req)) {
		/* the reactor's buffers are all in use: go once some come back */
		nvmf_req_wait_data(req, pt_submit);
		return;
	}
	pt_submit(req);
}

/* ------------------------------------------------------------------ parsing */

/* Direction and length from the opcode and the SGL, as nvmet does for passthrough. */
static uint16_t pt_setup(struct nvmf_req *req, const struct pt_ns *ns)
{
	struct nvmf_passthru *pt = req_pt(req);
	int dir = nvmf_pt_xfer_dir(req->cmd.opcode);
	uint32_t len = le32toh(req->cmd.dptr.sgl.length);

	if (dir < 0)
		return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
	/* no metadata crosses the fabric (Identify Namespace says so) */
	if (req->cmd.mptr)
		return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
	if (dir != NVME_XFER_NONE) {
		if (len > pt->max_xfer)
			return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
		req->dir = (enum nvme_xfer_dir)dir;
		req->xfer_len = len;
	}
	req->priv = (void *)ns;
	req->execute = pt_execute;
	return 0;
}

uint16_t nvmf_parse_passthru_admin(struct nvmf_req *req)
{
	uint16_t status;

	switch (nvmf_pt_admin_route(&req->cmd, &status)) {
	case NVMF_PT_EMULATE:
		return nvmf_parse_admin(req);
	case NVMF_PT_REFUSE:
		return status;
	default:
		return pt_setup(req, NULL);
	}
}

uint16_t nvmf_parse_passthru_io(struct nvmf_req *req)
{
	struct nvmf_passthru *pt = req_pt(req);
	uint32_t nsid = le32toh(req->cmd.nsid);
	uint16_t status;

	if (nvmf_pt_io_route(&req->cmd, &status) == NVMF_PT_REFUSE)
		return status;
	for (size_t i = 0; i < pt->nr_ns; i++)
		if (pt->ns[i].nsid == nsid)
			return pt_setup(req, &pt->ns[i]);
	return NVMF_SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT);
}
