/*
 * Passthrough subsystems (nvmet's passthru): a subsystem whose namespaces are those of a
 * local NVMe controller.  I/O commands go to the namespaces' generic character devices
 * (/dev/ngXnY) as io_uring NVMe commands; admin commands go to the controller's character
 * device (/dev/nvmeX) the same way, except what the fabric owns (Connect, Property Get/Set,
 * Keep Alive, Asynchronous Events, queue counts, ...), which the target answers as for any
 * subsystem.  What the local controller says about itself is adjusted to what the fabric
 * controller is (Identify Controller: CNTLID, MDTS, SGLs, capsule sizes, subsystem NQN;
 * Identify Namespace: no metadata or protection information, which the fabric does not
 * carry).
 *
 * passthru_filter.c: which command goes where, and the Identify adjustments -- pure code
 * over the command and the Identify data, unit tested.  passthru.c: the devices, the rings
 * and the command path.
 */
#ifndef NVMF_TARGET_PASSTHRU_H
#define NVMF_TARGET_PASSTHRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/nvme_spec.h"

struct nvmf_tgt;
struct nvmf_req;
struct nvmf_cfg_subsys;
struct nvmf_passthru;

/* ------------------------------------------------------------------ filtering */

/* Where an admin or I/O command of a passthru subsystem goes. */
enum nvmf_pt_route {
	NVMF_PT_FORWARD,        /* to the local controller (its status comes back) */
	NVMF_PT_EMULATE,        /* answered by the target's own admin.c, as for any subsystem */
	NVMF_PT_REFUSE,         /* completed at once with the status nvmf_pt_*_route gave */
};

/*
 * The admin command's route, as nvmet_parse_passthru_admin_cmd: vendor-specific commands,
 * Get Log Page, Identify (but command-set-specific CNS 05h/06h, other than the NVM set we
 * do not declare) and the features on an allow list go to the controller; Keep Alive,
 * Asynchronous Event Request and the features the fabric controller owns (Async Event
 * Configuration, Keep Alive Timer, Number of Queues, Host Identifier) are emulated; the
 * rest -- queue, namespace and firmware management, Format, Sanitize, Security, Abort,
 * Host Behavior, Host Memory Buffer, interrupt and reservation features -- is refused with
 * *status (Invalid Opcode or Invalid Field, DNR).
 */
enum nvmf_pt_route nvmf_pt_admin_route(const struct nvme_sqe *cmd, uint16_t *status);

/*
 * The I/O command's route: everything goes to the namespace but the reservation commands
 * (the local controller cannot tell the fabric's hosts apart: nvmet refuses them too).
 */
enum nvmf_pt_route nvmf_pt_io_route(const struct nvme_sqe *cmd, uint16_t *status);

/*
 * Data direction of a forwarded command, from its opcode (bits 1:0: 01b host to
 * controller, 10b controller to host); bidirectional (11b) ones cannot be carried: -1.
 */
int nvmf_pt_xfer_dir(uint8_t opcode);

/* The MDTS the fabric controller reports: the local one (0 = none) capped at max_mdts. */
uint8_t nvmf_pt_mdts(uint8_t dev_mdts, uint8_t max_mdts);

/*
 * Identify Controller of the local controller (id, as it came back) made that of the
 * fabric controller: fabric holds what the target reports for its own controllers
 * (nvmf_build_id_ctrl: CNTLID, VER, KAS, MAXCMD, SGLS, SUBNQN, IOCCSZ, IORCSZ, MSDBD, ...)
 * and those fields are taken from it; MDTS is capped at mdts; host memory buffer, fused
 * commands and reservations are not offered; the controller may share namespaces with
 * other controllers (CMIC bit 1: several hosts connect).  The identity (VID, SN, MN, FR),
 * OACS, ONCS otherwise, LPA and the namespace count stay the local controller's.
 */
void nvmf_pt_override_id_ctrl(struct nvme_id_ctrl *id, const struct nvme_id_ctrl *fabric,
			      uint8_t mdts);

/*
 * Identify Namespace: LBA formats with metadata are dropped (zeroed: a host cannot pick
 * them), as are the metadata and end-to-end protection capabilities and settings; with
 * clear_ids the NGUID and EUI64 are cleared (nvmet's clear_ids: the same drive exported
 * through two targets must not look like one namespace to a host that sees both).
 */
void nvmf_pt_override_id_ns(struct nvme_id_ns *id, bool clear_ids);

/*
 * Namespace Identification Descriptor list (4096 bytes): with clear_ids only the command
 * set identifier stays; without, nothing changes.
 */
void nvmf_pt_override_id_descs(uint8_t *data, size_t len, bool clear_ids);

/* ------------------------------------------------------------------ the subsystem */

/*
 * Open the controller a subsystem's passthru section names: the controller's character
 * device and every namespace's generic one.  Errors name the configuration file (source,
 * NULL: "configuration") and key:
 * "config.json: subsystems[nqn...].passthru.device.path: /dev/nvme9: No such file".
 */
int nvmf_passthru_open(struct nvmf_tgt *tgt, const char *source,
		       const struct nvmf_cfg_subsys *c, struct nvmf_passthru **out, char *err,
		       size_t errlen);
/* Close it (no command in flight: the reactors have ended). */
void nvmf_passthru_close(struct nvmf_passthru *pt);

/* The device path it serves, for logs and reload checks. */
const char *nvmf_passthru_path(const struct nvmf_passthru *pt);

/*
 * The NVMe version the subsystem reports (VS property, Identify VER): the drive's, at least
 * 1.2.1, as nvmet -- whatever attr.version says.
 */
uint32_t nvmf_passthru_vs(const struct nvmf_passthru *pt);

/* Parsers of a passthru subsystem's admin and I/O commands (core.c calls them). */
uint16_t nvmf_parse_passthru_admin(struct nvmf_req *req);
uint16_t nvmf_parse_passthru_io(struct nvmf_req *req);

#endif
