/*
 * Passthrough: which commands reach the local controller and how its Identify data is made
 * that of the fabric controller (passthru.h).  The rules are nvmet's (passthru.c:
 * nvmet_parse_passthru_admin_cmd, nvmet_passthru_get_set_features,
 * nvmet_passthru_override_id_ctrl / _id_ns / _id_descs); pure code, no device.
 */
#include <endian.h>
#include <string.h>

#include "target/passthru.h"

#define REFUSE_OPCODE NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE)
#define REFUSE_FIELD NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD)

static enum nvmf_pt_route refuse(uint16_t *status, uint16_t sc)
{
	*status = sc;
	return NVMF_PT_REFUSE;
}

/*
 * Features the local controller may report and take (nvmet's allow list): they describe
 * the drive itself.  Interrupts, the host memory buffer, the pre-boot software load count
 * and reservations would not mean what the fabric's host thinks (they act on the target's
 * PCIe host), so they are refused.
 */
static bool feature_forwarded(uint8_t fid)
{
	switch (fid) {
	case NVME_FID_ARBITRATION:
	case NVME_FID_POWER_MGMT:
	case NVME_FID_LBA_RANGE:
	case NVME_FID_TEMP_THRESH:
	case NVME_FID_ERR_RECOVERY:
	case NVME_FID_VOLATILE_WC:
	case NVME_FID_WRITE_ATOMICITY:
	case NVME_FID_AUTO_PST:
	case NVME_FID_TIMESTAMP:
	case NVME_FID_HCTM:
	case NVME_FID_NOPSC:
	case NVME_FID_RRL:
	case NVME_FID_PLM_CONFIG:
	case NVME_FID_PLM_WINDOW:
	case NVME_FID_SANITIZE_CONFIG:
		return true;
	default:
		return fid >= NVME_FID_VENDOR_FIRST;
	}
}

/* Features of the fabric controller itself: admin.c keeps them per controller. */
static bool feature_emulated(uint8_t fid)
{
	return fid == NVME_FID_ASYNC_EVENT || fid == NVME_FID_KATO ||
	       fid == NVME_FID_NUM_QUEUES || fid == NVME_FID_HOST_ID;
}

static enum nvmf_pt_route features_route(const struct nvme_sqe *cmd, uint16_t *status)
{
	uint8_t fid = (uint8_t)(le32toh(cmd->cdw10) & NVME_FEAT_CDW10_FID_MASK);

	if (feature_emulated(fid))
		return NVMF_PT_EMULATE;
	if (fid == NVME_FID_HOST_BEHAVIOR) {
		/*
		 * Reading it describes the drive; setting it would change how the drive treats
		 * the target's own host, which nvmet only accepts when nothing changes: we do
		 * not change it either.
		 */
		if (cmd->opcode == NVME_ADM_GET_FEATURES)
			return NVMF_PT_FORWARD;
		return refuse(status, REFUSE_FIELD);
	}
	if (feature_forwarded(fid))
		return NVMF_PT_FORWARD;
	return refuse(status, REFUSE_OPCODE);
}

static enum nvmf_pt_route identify_route(const struct nvme_sqe *cmd, uint16_t *status)
{
	const struct nvme_identify_cmd *id = (const struct nvme_identify_cmd *)cmd;

	switch (id->cns) {
	case NVME_CNS_CSI_NS:
	case NVME_CNS_CSI_CTRL:
		/*
		 * The fabric controller declares the NVM command set only (CAP.CSS without
		 * IOCS): command-set-specific data is passed for zoned namespaces alone, as
		 * nvmet does.
		 */
		if (id->csi == NVME_CSI_ZNS)
			return NVMF_PT_FORWARD;
		return refuse(status, REFUSE_OPCODE);
	default:
		return NVMF_PT_FORWARD;
	}
}

enum nvmf_pt_route nvmf_pt_admin_route(const struct nvme_sqe *cmd, uint16_t *status)
{
	*status = 0;
	if (cmd->opcode >= NVME_ADM_VENDOR_FIRST)
		return NVMF_PT_FORWARD;
	switch (cmd->opcode) {
	case NVME_ADM_ASYNC_EVENT:
	case NVME_ADM_KEEP_ALIVE:
		/* events and keep-alive belong to the fabric controller (most PCIe
		 * controllers have no keep-alive at all) */
	case NVME_ADM_ABORT:
		/* the local command ids are not the host's: the emulation aborts nothing,
		 * which Abort is allowed to answer (nvmet refuses it; a Linux host sends it
		 * on a timeout and reads either answer as "not aborted") */
		return NVMF_PT_EMULATE;
	case NVME_ADM_SET_FEATURES:
	case NVME_ADM_GET_FEATURES:
		return features_route(cmd, status);
	case NVME_ADM_IDENTIFY:
		return identify_route(cmd, status);
	case NVME_ADM_GET_LOG_PAGE:
		/* every log page describes the drive (nvmet passes them all) */
		return NVMF_PT_FORWARD;
	default:
		/* queue, namespace and firmware management, Format, Sanitize, Security,
		 * Device Self-test, ...: they would act on the drive behind the target's back */
		return refuse(status, REFUSE_OPCODE);
	}
}

enum nvmf_pt_route nvmf_pt_io_route(const struct nvme_sqe *cmd, uint16_t *status)
{
	*status = 0;
	switch (cmd->opcode) {
	case NVME_NVM_RESV_REGISTER:
	case NVME_NVM_RESV_REPORT:
	case NVME_NVM_RESV_ACQUIRE:
	case NVME_NVM_RESV_RELEASE:
		/* every fabric host is the same host to the drive: reservations would fence
		 * nobody */
		return refuse(status, REFUSE_OPCODE);
	default:
		return NVMF_PT_FORWARD;
	}
}

int nvmf_pt_xfer_dir(uint8_t opcode)
{
	enum nvme_xfer_dir d = NVME_OPC_XFER(opcode);

	return d == NVME_XFER_BIDIR ? -1 : (int)d;
}

uint8_t nvmf_pt_mdts(uint8_t dev_mdts, uint8_t max_mdts)
{
	if (dev_mdts == 0 || dev_mdts > max_mdts)
		return max_mdts;
	return dev_mdts;
}

void nvmf_pt_override_id_ctrl(struct nvme_id_ctrl *id, const struct nvme_id_ctrl *fabric,
			      uint8_t mdts)
{
	/* the fabric controller's identity within the subsystem and its version */
	id->cntlid = fabric->cntlid;
	id->ver = fabric->ver;
	id->cntrltype = fabric->cntrltype;
	id->mdts = nvmf_pt_mdts(id->mdts, mdts);
	/* queues, events and keep-alive are the target's */
	id->acl = fabric->acl;
	id->aerl = fabric->aerl;
	id->kas = fabric->kas;
	id->maxcmd = fabric->maxcmd;
	id->sqes = fabric->sqes;
	id->cqes = fabric->cqes;
	/* the drive's host memory buffer would be the target's memory, not the host's */
	id->hmpre = 0;
	id->hmmin = 0;
	id->hmminds = 0;
	id->hmmaxd = 0;
	id->fuses = 0;
	/* the subsystem the host connected to, not the drive's (two drives behind one
	 * target would otherwise be one subsystem to a host, and the local host may see the
	 * drive too) */
	memcpy(id->subnqn, fabric->subnqn, sizeof(id->subnqn));
	/* transport: SGLs and capsules as the port gives them */
	id->sgls = fabric->sgls;
	id->ioccsz = fabric->ioccsz;
	id->iorcsz = fabric->iorcsz;
	id->icdoff = fabric->icdoff;
	id->fcatt = fabric->fcatt;
	id->msdbd = fabric->msdbd;
	id->ofcs = fabric->ofcs;
	/* several hosts, several controllers: the namespaces are shared */
	id->cmic |= NVME_CMIC_MULTI_CTRL;
	id->oncs = htole16(le16toh(id->oncs) & (uint16_t)~NVME_ONCS_RESERVATIONS);
}

void nvmf_pt_override_id_ns(struct nvme_id_ns *id, bool clear_ids)
{
	unsigned nlbaf = (unsigned)id->nlbaf + 1;

	if (nlbaf > sizeof(id->lbaf) / sizeof(id->lbaf[0]))
		nlbaf = sizeof(id->lbaf) / sizeof(id->lbaf[0]);
	/* the fabric carries no metadata: formats with it cannot be used over it */
	for (unsigned i = 0; i < nlbaf; i++)
		if (id->lbaf[i].ms)
			memset(&id->lbaf[i], 0, sizeof(id->lbaf[i]));
	id->flbas &= (uint8_t)~NVME_FLBAS_META_EXT;
	id->mc = 0;
	/* protection information lives in the metadata */
	id->dpc = 0;
	id->dps = 0;
	if (clear_ids) {
		memset(id->nguid, 0, sizeof(id->nguid));
		memset(id->eui64, 0, sizeof(id->eui64));
	}
}

void nvmf_pt_override_id_descs(uint8_t *data, size_t len, bool clear_ids)
{
	const size_t hdr = sizeof(struct nvme_ns_id_desc);
	bool have_csi = false;
	uint8_t csi = 0;

	if (!clear_ids)
		return;
	for (size_t pos = 0; pos + hdr <= len;) {
		const struct nvme_ns_id_desc *d = (const struct nvme_ns_id_desc *)(data + pos);

		if (d->nidl == 0)
			break;
		if (d->nidt == NVME_NIDT_CSI) {
			if (pos + hdr + NVME_NIDT_CSI_LEN <= len) {
				csi = data[pos + hdr];
				have_csi = true;
			}
			break;
		}
		pos += hdr + d->nidl;
	}
	memset(data, 0, len);
	if (have_csi && len >= hdr + NVME_NIDT_CSI_LEN) {
		data[0] = NVME_NIDT_CSI;
		data[1] = NVME_NIDT_CSI_LEN;
		data[hdr] = csi;
	}
}
