/*
 * ublk bridge internals: the device (ublk.c: control commands, start / stop), its queues
 * (queue.c: one thread per ublk queue, owning one libnvmf queue pair) and the pure
 * translations between ublk and NVMe (map.c: device parameters, request -> command,
 * completion -> result).
 *
 * A tag's life (struct uq_tag.state, changed only by its queue's thread):
 *   KERNEL  a FETCH_REQ / COMMIT_AND_FETCH_REQ is posted: the driver owns the tag
 *   NVMF    the request became a libnvmf command that has not completed yet
 *   RETRY   libnvmf had no room (-EAGAIN): submitted again after the next poll
 *   COMMIT  the result is known: a COMMIT_AND_FETCH_REQ goes out with the next submit
 *   GONE    the driver aborted the tag (device stopping): it never comes back
 */
#ifndef NVMF_UBLK_BRIDGE_H
#define NVMF_UBLK_BRIDGE_H

#include <liburing.h>
#include <linux/ioctl.h>
#include <linux/ublk_cmd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nvmf/nvmf.h"
#include "ublk/ublk.h"

/*
 * Debian 12's linux-libc-dev (6.1) has the legacy opcodes only.  The ioctl encoding below
 * is the kernel's own (include/uapi/linux/ublk_cmd.h since 6.3); 6.1 and 6.2 kernels take
 * the legacy numbers, later ones both (legacy only with CONFIG_BLKDEV_UBLK_LEGACY_OPCODES).
 */
#ifndef UBLK_U_CMD_ADD_DEV
#define UBLK_U_CMD_GET_DEV_INFO _IOR('u', UBLK_CMD_GET_DEV_INFO, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_ADD_DEV _IOWR('u', UBLK_CMD_ADD_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_DEL_DEV _IOWR('u', UBLK_CMD_DEL_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_START_DEV _IOWR('u', UBLK_CMD_START_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_STOP_DEV _IOWR('u', UBLK_CMD_STOP_DEV, struct ublksrv_ctrl_cmd)
#define UBLK_U_CMD_SET_PARAMS _IOWR('u', UBLK_CMD_SET_PARAMS, struct ublksrv_ctrl_cmd)
#endif
#ifndef UBLK_U_IO_FETCH_REQ
#define UBLK_U_IO_FETCH_REQ _IOWR('u', UBLK_IO_FETCH_REQ, struct ublksrv_io_cmd)
#define UBLK_U_IO_COMMIT_AND_FETCH_REQ \
	_IOWR('u', UBLK_IO_COMMIT_AND_FETCH_REQ, struct ublksrv_io_cmd)
#endif
#ifndef UBLK_F_CMD_IOCTL_ENCODE
#define UBLK_F_CMD_IOCTL_ENCODE (1ULL << 6)
#endif

/* The command payload lives in the second half of a 128-byte SQE (IORING_SETUP_SQE128). */
_Static_assert(sizeof(struct ublksrv_ctrl_cmd) <= 80, "ublk control command fits an SQE128");
_Static_assert(sizeof(struct ublksrv_io_cmd) <= 80, "ublk I/O command fits an SQE128");
_Static_assert(sizeof(struct ublksrv_io_desc) == 24, "ublk I/O descriptor layout");
_Static_assert(sizeof(struct ublksrv_ctrl_dev_info) == 64, "ublk device info layout");

#define UBLK_DEFAULT_DEPTH 128
/* Per-tag buffer: 512 KiB (ublksrv's default) keeps a 128-deep queue at 64 MiB of
 * address space, touched only as far as requests go. */
#define UBLK_MAX_IO_BYTES (512u * 1024)
#define UBLK_MAX_WZ_BLOCKS 65536u   /* Write Zeroes NLB is 16 bits, 0's based */

/* ------------------------------------------------------------------ map.c */

/* What the bridge knows of the namespace and controller. */
struct ublk_ns_caps {
	uint32_t block_size;         /* bytes, a power of two, 512..4096 */
	uint64_t nblocks;
	bool read_only;
	uint16_t oncs;               /* Identify Controller ONCS (host order) */
	uint8_t vwc;                 /* Identify Controller VWC */
};

/* ublk device parameters (basic + discard) for the namespace; max_io_bytes is the
 * driver's (page-aligned) max_io_buf_bytes.  Returns 0 or -EINVAL (block size). */
int ublk_map_params(const struct ublk_ns_caps *ns, uint32_t max_io_bytes,
		    struct ublk_params *p);

enum ublk_nvme_op {
	UBLK_NVME_READ,
	UBLK_NVME_WRITE,
	UBLK_NVME_FLUSH,
	UBLK_NVME_DEALLOCATE,
	UBLK_NVME_WRITE_ZEROES,
};

/* One ublk request as one NVMe command. */
struct ublk_nvme_io {
	enum ublk_nvme_op op;
	uint64_t lba;
	uint32_t nlb;
	uint32_t bytes;              /* data moved (read / write), the success result */
	unsigned flags;              /* NVMF_IO_FUA, NVMF_IO_DEAC */
};

/* Translate a descriptor; bs_shift = log2(block size).  0, or the -errno to complete the
 * request with (-EINVAL: not block aligned or larger than the buffer, -EOPNOTSUPP). */
int ublk_map_io(const struct ublksrv_io_desc *iod, unsigned bs_shift, uint32_t buf_bytes,
		struct ublk_nvme_io *io);

/* A libnvmf completion status (NVMe status field or -errno) as a ublk result (-errno). */
int ublk_map_status(int status);

/* ------------------------------------------------------------------ queue.c */

enum uq_tag_state {
	UQ_TAG_KERNEL,
	UQ_TAG_NVMF,
	UQ_TAG_RETRY,
	UQ_TAG_COMMIT,
	UQ_TAG_GONE,
};

struct ublk_queue;

struct uq_tag {
	struct ublk_queue *q;
	uint16_t tag;
	uint8_t state;               /* enum uq_tag_state */
	int result;                  /* for the COMMIT */
	struct ublk_nvme_io io;
};

struct ublk_queue {
	struct nvmf_ublk *u;
	uint16_t qid;
	unsigned depth;
	struct nvmf_mpath_queue *mq; /* over every path of the namespace */
	struct io_uring ring;
	bool ring_ready;
	const struct ublksrv_io_desc *iods;  /* read-only mapping of the driver's descriptors */
	size_t iods_len;
	uint8_t *bufs;               /* depth buffers of u->buf_bytes, page aligned */
	size_t bufs_len;
	struct uq_tag *tags;
	uint16_t *commit;            /* tags in COMMIT, waiting for an SQE */
	unsigned ncommit;
	uint16_t *retry;             /* tags in RETRY */
	unsigned nretry;
	unsigned gone;               /* tags in GONE */
	unsigned in_nvmf;            /* tags in NVMF */
	bool poll_armed;             /* a POLL_ADD on nvmf_qpair_fd() is posted */
	bool kill_armed;
	bool reconnecting;           /* the last poll said -ENOTCONN */
	bool ctrl_dead;              /* the last poll said -ENODEV */
	bool killed;                 /* forced exit (start failed / stop could not drain) */
	pthread_t thread;
	bool thread_started;
	uint64_t requests, failures;
};

int uq_init(struct ublk_queue *q, struct nvmf_ublk *u, uint16_t qid);
void uq_fini(struct ublk_queue *q);
/* The queue thread: posts FETCH_REQ for every tag, reports through u (start_*), serves. */
void *uq_thread(void *arg);

/* ------------------------------------------------------------------ ublk.c */

struct nvmf_ublk {
	struct nvmf_ctrl *ctrl;      /* the first path */
	struct nvmf_mpath *mpath;    /* the namespace over every path (one at start) */
	uint32_t nsid;
	int dev_id;
	struct ublksrv_ctrl_dev_info info;   /* as the driver returned it from ADD_DEV */
	struct ublk_params params;
	unsigned bs_shift;
	uint32_t buf_bytes;          /* per-tag buffer = max_io_buf_bytes */
	bool vwc;                    /* the namespace has a volatile write cache */
	int ctrl_fd;                 /* /dev/ublk-control */
	struct io_uring ctrl_ring;
	bool ctrl_ring_ready;
	int cdev_fd;                 /* /dev/ublkcN */
	int kill_fd;                 /* eventfd: queue threads leave at once */
	unsigned nr_queues;
	struct ublk_queue *queues;
	bool added, started;
	bool legacy;                 /* the kernel predates the ioctl-encoded opcodes */
	uint32_t op_fetch, op_commit; /* the I/O command opcodes that go with it */
	/* start handshake: each queue thread reports once its FETCH_REQs are posted */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned setup_done;
	int setup_err;
};

/* A queue thread's FETCH_REQs are in (rc 0) or could not be (rc < 0). */
void ublk_setup_report(struct nvmf_ublk *u, int rc);

#endif
