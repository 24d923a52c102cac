/*
 * The ublk bridge: a namespace of a connected libnvmf controller as a local block device,
 * /dev/ublkbN, through the kernel's ublk driver (ublk_drv, Linux >= 6.0, `modprobe
 * ublk_drv`; needs CAP_SYS_ADMIN).
 *
 *   struct nvmf_ublk *u;
 *   int id;
 *   char err[256];
 *   if (nvmf_ublk_start(ctrl, 1, 0, 0, &u, &id, err, sizeof(err)) == 0)
 *           ... /dev/ublkb<id> serves namespace 1 ...
 *   nvmf_ublk_stop(u);              // before nvmf_ctrl_disconnect(ctrl)
 *
 * One ublk queue per libnvmf I/O queue pair, each served by its own thread that owns that
 * queue pair for as long as the device exists: the caller must not poll or submit on the
 * queue pairs the bridge uses (the first nr_queues of the controller) until
 * nvmf_ublk_stop() returns.  While the controller reconnects, I/O waits (libnvmf retries
 * it); once the controller is given up (ctrl_loss_tmo), I/O fails with EIO until the
 * device is stopped.
 */
#ifndef NVMF_UBLK_UBLK_H
#define NVMF_UBLK_UBLK_H

#include <stddef.h>
#include <stdint.h>

struct nvmf_ctrl;
struct nvmf_mpath;
struct nvmf_ublk;

/*
 * Create /dev/ublkbN (N: any free number) for namespace nsid of c and start serving it.
 * nr_queues: ublk queues (0: one per I/O queue pair of c, at most the kernel's CPU count);
 * depth: commands per queue (0: 128; capped to what a queue pair holds).  Returns 0 with
 * *out and *dev_id set, or a negative errno with a message in err.
 */
int nvmf_ublk_start(struct nvmf_ctrl *c, uint32_t nsid, unsigned nr_queues, unsigned depth,
		    struct nvmf_ublk **out, int *dev_id, char *err, size_t errlen);

/*
 * Remove the device: the kernel stops accepting I/O and drains what is in flight while
 * the queue threads keep serving it (so every acknowledged write reached the controller),
 * a final Flush goes to the namespace, then the device is deleted and everything freed.
 * Returns once /dev/ublkbN is gone; the queue pairs are the caller's again.  NULL: no-op.
 */
void nvmf_ublk_stop(struct nvmf_ublk *u);

/*
 * The namespace as the device reaches it: a libnvmf multipath namespace whose first path
 * is the controller given to nvmf_ublk_start.  Add controllers of the same subsystem at
 * other addresses to it (nvmf_mpath_add_path: they need as many I/O queue pairs, which
 * the device then owns too) and the device goes on through them when a path fails;
 * remove them (nvmf_mpath_remove_path) before disconnecting them.  Freed by
 * nvmf_ublk_stop(), after which the added controllers are the caller's again.
 */
struct nvmf_mpath *nvmf_ublk_mpath(struct nvmf_ublk *u);

/* N of /dev/ublkbN. */
int nvmf_ublk_dev_id(const struct nvmf_ublk *u);

#endif
