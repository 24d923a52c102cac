/*
 * Management over JSON-RPC 2.0 on a Unix socket, in SPDK's dialect: SPDK's method names,
 * parameters, result shapes and error codes for the NVMe-oF and bdev subset that maps onto
 * nvmf-target, so that SPDK's scripts/rpc.py and the control planes built on it drive it.
 *
 * Every change edits the one configuration model (target/config.h) and is applied live by
 * the path SIGHUP reload takes (nvmf_tgt_apply): hosts get the same async events.  The
 * server runs on the target's main thread, beside signal handling: reactors never wait
 * for it, and a change never runs concurrently with a reload.
 */
#ifndef NVMF_RPC_RPC_H
#define NVMF_RPC_RPC_H

#include <stddef.h>

struct nvmf_tgt;
struct nvmf_rpc;

/* SPDK apps listen on /var/tmp/spdk.sock; ours sits beside it (see nvmf-target.c). */
#define NVMF_RPC_DEFAULT_SOCK "/var/tmp/nvmf-target.sock"

/*
 * Listen on sock_path (NULL: no socket, for -c replays only).  save_path: after every
 * change the configuration is written there in nvmetcli's form (NULL: not saved).
 * Returns 0 or -errno with err.
 */
int nvmf_rpc_create(struct nvmf_tgt *tgt, const char *sock_path, const char *save_path,
		    struct nvmf_rpc **out, char *err, size_t errlen);
/*
 * Load SPDK's JSON configuration ({"subsystems": [{"subsystem": "bdev", "config":
 * [{"method": ..., "params": ...}]}, ...]}, what save_config writes) by calling each
 * method in order.  0, or -EINVAL with "<file>: <method>: <message>" in err.
 */
int nvmf_rpc_load_file(struct nvmf_rpc *rpc, const char *path, char *err, size_t errlen);
/*
 * Serve requests until stop_fd is readable (the main thread's signalfd): returns 1; or
 * until timeout_ms passed (-1: no timeout) for the main thread's own periodic work:
 * returns 0; -errno when polling fails.
 */
int nvmf_rpc_serve(struct nvmf_rpc *rpc, int stop_fd, int timeout_ms);
/* The configuration changed behind the server's back (SIGHUP reload): resync bdevs. */
void nvmf_rpc_config_reloaded(struct nvmf_rpc *rpc);
void nvmf_rpc_destroy(struct nvmf_rpc *rpc);

#endif
