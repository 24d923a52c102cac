/*
 * Admin commands of an I/O controller (the part of nvmet's admin-cmd.c a fabrics target
 * needs): Identify, Get Log Page, Set / Get Features, Asynchronous Event Request, Keep
 * Alive and Abort.  Also what other files share: the Identify Controller builder (the
 * discovery controller's too), the log-page window, asynchronous events, the error log and
 * the changed namespace list.
 *
 * Threads: every handler runs on the admin queue's reactor, and so does everything that
 * touches the admin-queue state of struct nvmf_tgt_ctrl (AERs, pending events, AEC, changed
 * namespace list, feature values).  The error log is the exception: a failed command on any
 * queue adds to it, under ctrl->lock.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"
#include "util/log.h"

/*
 * Values we report without a real device behind them.  Temperatures are plausible room
 * values (nvmet leaves all of them 0, which nvme-cli prints as -273 C); the power state
 * is the one nvmet copies from qemu.
 */
#define ADM_TEMP_K 313              /* composite temperature: 40 C */
#define ADM_WCTEMP_K 343            /* warning threshold: 70 C, the default over-threshold */
#define ADM_CCTEMP_K 358            /* critical threshold: 85 C */
#define ADM_PSD0_MP 2500            /* 25.00 W, in 0.01 W */
#define ADM_PSD0_ENLAT 16           /* us */
#define ADM_PSD0_EXLAT 4            /* us */
#define ADM_ASYNC_EVENTS_SMART 0x1Fu /* AEC bits 4:0: the critical warnings we could raise */

/* Events an I/O controller / a discovery controller may enable (AEC) and reports (OAES). */
#define ADM_OAES_IO (NVME_OAES_NS_ATTR | NVME_OAES_ANA_CHANGE)
#define ADM_OAES_DISC NVME_OAES_DISC_LOG_CHANGE
#define ADM_AEC_IO (ADM_ASYNC_EVENTS_SMART | NVME_AEC_NS_ATTR | NVME_AEC_ANA_CHANGE)
#define ADM_AEC_DISC NVME_AEC_DISC_LOG_CHANGE

/* ------------------------------------------------------------------ helpers */

static struct nvmf_tgt_ctrl *req_ctrl(const struct nvmf_req *req)
{
	return req->sq->ctrl;
}

static uint32_t cdw10(const struct nvmf_req *req)
{
	return le32toh(req->cmd.cdw10);
}

static uint32_t cdw11(const struct nvmf_req *req)
{
	return le32toh(req->cmd.cdw11);
}

static void set_xfer(struct nvmf_req *req, enum nvme_xfer_dir dir, uint32_t len,
		     void (*execute)(struct nvmf_req *req))
{
	req->dir = len ? dir : NVME_XFER_NONE;
	req->xfer_len = len;
	req->execute = execute;
}

/* ASCII identification fields: space padded, not NUL terminated. */
static void copy_padded(char *dst, size_t dstlen, const char *src)
{
	size_t n = strnlen(src, dstlen);

	memset(dst, ' ', dstlen);
	memcpy(dst, src, n);
}

/* A 128-bit little-endian counter from a 64-bit value. */
static void put_le128(uint8_t dst[16], uint64_t v)
{
	memset(dst, 0, 16);
	for (int i = 0; i < 8; i++)
		dst[i] = (uint8_t)(v >> (8 * i));
}

static void complete_dw0(struct nvmf_req *req, uint32_t dw0, uint16_t status)
{
	req->cqe.dw0 = htole32(dw0);
	nvmf_req_complete(req, status);
}

/* The highest NSID of the subsystem, 0 without namespaces (the view is sorted). */
static uint32_t max_nsid(const struct nvmf_subsys *s)
{
	const struct nvmf_subsys_view *v = nvmf_subsys_view(s);

	return v->nr_ns ? v->ns[v->nr_ns - 1]->nsid : 0;
}

/* ------------------------------------------------------------------ Identify */

/*
 * ANA as nvmet reports it: every state may be reported, a namespace may move between
 * groups while attached (so no ANAGRPID-static bit), 128 group identifiers, ANATT 10 s
 * (nvmet's value: we never stay in "change" on our own, the administrator sets it).
 */
#define ADM_ANACAP (NVME_ANACAP_OPTIMIZED | NVME_ANACAP_NON_OPTIMIZED | \
		    NVME_ANACAP_INACCESSIBLE | NVME_ANACAP_PERSISTENT_LOSS | NVME_ANACAP_CHANGE)
#define ADM_ANATT 10

static uint16_t ctrl_maxcmd(const struct nvmf_tgt_ctrl *ctrl)
{
	/* nvmet: MAXCMD = CAP.MQES + 1, the commands one queue can hold */
	uint32_t mqes = (uint32_t)NVME_GET(ctrl->cap, NVME_CAP_MQES);

	if (ctrl->cap == 0 && ctrl->port)
		return (uint16_t)ctrl->port->max_queue_size;
	return (uint16_t)(mqes + 1);
}

void nvmf_build_id_ctrl(struct nvmf_tgt_ctrl *ctrl, struct nvme_id_ctrl *id)
{
	const struct nvmf_subsys *s = ctrl->subsys;
	bool disc = s->is_discovery;
	uint32_t icd = ctrl->port ? ctrl->port->io_icd : 0;
	uint32_t nn;

	memset(id, 0, sizeof(*id));
	id->vid = htole16(s->vendor_id);
	id->ssvid = htole16(s->subsys_vendor_id);
	copy_padded(id->sn, sizeof(id->sn), s->serial);
	copy_padded(id->mn, sizeof(id->mn), s->model);
	copy_padded(id->fr, sizeof(id->fr), s->firmware);
	id->cntrltype = disc ? NVME_CNTRLTYPE_DISCOVERY : NVME_CNTRLTYPE_IO;
	id->mdts = NVMF_MDTS;
	id->cntlid = htole16(ctrl->cntlid);
	id->ver = htole32(s->vs);
	id->oaes = htole32(disc ? ADM_OAES_DISC : ADM_OAES_IO);
	id->ctratt = htole32(NVME_CTRATT_HOSTID_128 | (s->tbkas ? NVME_CTRATT_TBKAS : 0));
	id->aerl = NVMF_AERL - 1;
	/* keep-alive in whole seconds, as nvmet; a persistent discovery controller uses it too */
	id->kas = htole16(NVMF_KAS_MS / NVME_KAS_UNIT_MS);
	id->maxcmd = htole16(ctrl_maxcmd(ctrl));
	/* SGLs without alignment; in-capsule data addressed by offset when the port has any */
	id->sgls = htole32(NVME_SGLS_SUPPORTED | (icd ? NVME_SGLS_OFFSET : 0));
	memset(id->subnqn, 0, sizeof(id->subnqn));
	memcpy(id->subnqn, s->nqn, strnlen(s->nqn, sizeof(s->nqn)));

	if (disc) {
		/* what nvmet's discovery Identify fills: extended log data, no namespaces */
		id->lpa = NVME_LPA_EXT_DATA;
		return;
	}

	id->rab = 6;
	id->ieee[0] = (uint8_t)s->ieee_oui;
	id->ieee[1] = (uint8_t)(s->ieee_oui >> 8);
	id->ieee[2] = (uint8_t)(s->ieee_oui >> 16);
	/* several ports, several hosts, ANA reporting: what the Linux host needs for one
	 * multipath device over our controllers (nvme_mpath_init_identify) */
	id->cmic = NVME_CMIC_MULTI_PORT | NVME_CMIC_MULTI_CTRL | NVME_CMIC_ANA;
	id->acl = 3;
	id->frmw = 0x3;         /* one slot, slot 1 read-only */
	/* no per-namespace SMART (the counters are per controller); effects log; LPO/NUMDU */
	id->lpa = NVME_LPA_CMD_EFFECTS | NVME_LPA_EXT_DATA;
	id->elpe = NVMF_ERR_LOG_SLOTS - 1;
	id->npss = 0;
	id->wctemp = htole16(ADM_WCTEMP_K);
	id->cctemp = htole16(ADM_CCTEMP_K);
	id->sqes = NVME_QES(NVME_SQES_LOG2, NVME_SQES_LOG2);
	id->cqes = NVME_QES(NVME_CQES_LOG2, NVME_CQES_LOG2);
	/* nvmet: NN = MNAN = 1024; NN also covers any larger NSID the configuration uses */
	nn = max_nsid(s) > NVMF_MAX_NS_PER_SUBSYS ? max_nsid(s) : NVMF_MAX_NS_PER_SUBSYS;
	id->nn = htole32(nn);
	id->mnan = htole32(nn);
	/* reservations: on the namespaces with resv.enable (RESCAP says which), as nvmet */
	id->oncs = htole16(NVME_ONCS_COMPARE | NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES |
			   NVME_ONCS_SAVE_SELECT | NVME_ONCS_RESERVATIONS);
	/* a cache may sit behind any namespace (nvmet); Flush to FFFFFFFFh is not served */
	id->vwc = NVME_VWC_PRESENT | (NVME_VWC_FLUSH_BCAST_NOT_SUPP << NVME_VWC_FLUSH_BCAST_SHIFT);
	id->ioccsz = htole32((NVME_SQE_SIZE + icd) / 16);
	id->iorcsz = htole32(NVME_CQE_SIZE / 16);
	id->icdoff = 0;
	id->fcatt = 0;          /* dynamic controller model */
	id->msdbd = 1;
	id->ofcs = 0;           /* no Disconnect */
	id->anatt = ADM_ANATT;
	id->anacap = ADM_ANACAP;
	id->anagrpmax = htole32(NVMF_CFG_ANA_GRPS_MAX);
	id->nanagrpid = htole32(NVMF_CFG_ANA_GRPS_MAX);
	id->psd[0].mp = htole16(ADM_PSD0_MP);
	id->psd[0].enlat = htole32(ADM_PSD0_ENLAT);
	id->psd[0].exlat = htole32(ADM_PSD0_EXLAT);
}

/* Deallocated blocks read as zeroes: RAM, null and regular files (punched holes). */
static bool ns_dealloc_zeroes(const struct nvmf_ns *ns)
{
	return ns->bdev && ns->bdev->has_discard && !ns->bdev->is_blockdev;
}

static bool ns_read_only(const struct nvmf_ns *ns)
{
	return ns->bdev && ns->bdev->read_only;
}

static void build_id_ns(const struct nvmf_ns *ns, struct nvme_id_ns *id)
{
	uint64_t nblocks = nvmf_ns_nblocks(ns);

	id->nsze = id->ncap = id->nuse = htole64(nblocks);
	put_le128(id->nvmcap, nblocks << ns->lba_shift);
	/* one LBA format, the backend's block size, no metadata (nvmet) */
	id->nlbaf = 0;
	id->flbas = 0;
	id->lbaf[0].lbads = ns->lba_shift;
	id->nmic = NVME_NMIC_SHARED;
	/* Write Zeroes honours DEAC (it always writes zeroes); reads after deallocate */
	id->dlfeat = NVME_DLFEAT_WZ_DEAC | (ns_dealloc_zeroes(ns) ? NVME_DLFEAT_READ_ZEROES : 0);
	id->anagrpid = htole32(nvmf_ns_anagrpid(ns));
	if (ns_read_only(ns))
		id->nsattr = NVME_NSATTR_WRITE_PROTECTED;
	if (ns->resv)
		id->rescap = nvmf_resv_rescap(ns->resv);
	if (ns->has_nguid)
		memcpy(id->nguid, ns->nguid, sizeof(id->nguid));
	/* no EUI-64, as nvmet */
}

static void identify_ns(struct nvmf_req *req)
{
	uint32_t nsid = le32toh(req->cmd.nsid);
	struct nvme_id_ns id;
	struct nvmf_ns *ns;

	if (nsid == NVME_NSID_NONE || nsid == NVME_NSID_ALL) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
		return;
	}
	/* an NSID that is not active gets a zeroed structure (nvmet, spec: inactive NSID) */
	memset(&id, 0, sizeof(id));
	ns = nvmf_subsys_find_ns(req_ctrl(req)->subsys, nsid);
	if (ns)
		build_id_ns(ns, &id);
	nvmf_req_fill(req, &id, sizeof(id));
	nvmf_req_complete(req, 0);
}

static void identify_ctrl(struct nvmf_req *req)
{
	struct nvme_id_ctrl id;

	nvmf_build_id_ctrl(req_ctrl(req), &id);
	nvmf_req_fill(req, &id, sizeof(id));
	nvmf_req_complete(req, 0);
}

/* Active NSIDs greater than CDW1.NSID, ascending, at most 1024 (CNS 02h, 07h). */
static void identify_active_list(struct nvmf_req *req)
{
	const struct nvmf_subsys_view *v = nvmf_subsys_view(req_ctrl(req)->subsys);
	uint32_t start = le32toh(req->cmd.nsid);
	struct nvme_ns_list list;
	unsigned n = 0;

	if (start >= 0xFFFFFFFEu) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
		return;
	}
	memset(&list, 0, sizeof(list));
	for (uint32_t i = 0; i < v->nr_ns && n < 1024; i++) {
		if (v->ns[i]->nsid > start)
			list.nsid[n++] = htole32(v->ns[i]->nsid);
	}
	nvmf_req_fill(req, &list, sizeof(list));
	nvmf_req_complete(req, 0);
}

static size_t put_ns_desc(uint8_t *buf, size_t off, uint8_t nidt, const void *nid,
			  uint8_t nidl)
{
	struct nvme_ns_id_desc d = { .nidt = nidt, .nidl = nidl };

	memcpy(buf + off, &d, sizeof(d));
	memcpy(buf + off + sizeof(d), nid, nidl);
	return off + sizeof(d) + nidl;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* Namespace identification descriptors: UUID, NGUID, CSI (nvmet's order), no EUI-64. */
static void identify_ns_desc(struct nvmf_req *req)
{
	struct nvmf_ns *ns = nvmf_subsys_find_ns(req_ctrl(req)->subsys, le32toh(req->cmd.nsid));
	uint8_t buf[NVME_IDENTIFY_DATA_SIZE];
	const uint8_t csi = NVME_CSI_NVM;
	size_t off = 0;

	if (!ns) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
		return;
	}
	memset(buf, 0, sizeof(buf));
	if (!all_zero(ns->uuid, sizeof(ns->uuid)))
		off = put_ns_desc(buf, off, NVME_NIDT_UUID, ns->uuid, NVME_NIDT_UUID_LEN);
	if (ns->has_nguid)
		off = put_ns_desc(buf, off, NVME_NIDT_NGUID, ns->nguid, NVME_NIDT_NGUID_LEN);
	put_ns_desc(buf, off, NVME_NIDT_CSI, &csi, NVME_NIDT_CSI_LEN);
	nvmf_req_fill(req, buf, sizeof(buf));
	nvmf_req_complete(req, 0);
}

/* CNS 05h, CSI NVM: no storage tags, no protection information: all zero is valid. */
static void identify_ns_nvm(struct nvmf_req *req)
{
	struct nvme_id_ns_nvm id;

	if (!nvmf_subsys_find_ns(req_ctrl(req)->subsys, le32toh(req->cmd.nsid))) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
		return;
	}
	memset(&id, 0, sizeof(id));
	nvmf_req_fill(req, &id, sizeof(id));
	nvmf_req_complete(req, 0);
}

/* CNS 06h, CSI NVM: no Verify, Write Zeroes or DSM limits beyond MDTS (nvmet: zeroes). */
static void identify_ctrl_nvm(struct nvmf_req *req)
{
	struct nvme_id_ctrl_nvm id;

	memset(&id, 0, sizeof(id));
	nvmf_req_fill(req, &id, sizeof(id));
	nvmf_req_complete(req, 0);
}

/* Namespace features of the command set independent structure (Linux's bit names). */
#define ADM_NSFEAT_VWC_NOT_PRESENT (1u << 5)

static void identify_cs_indep(struct nvmf_req *req)
{
	struct nvmf_ns *ns = nvmf_subsys_find_ns(req_ctrl(req)->subsys, le32toh(req->cmd.nsid));
	struct nvme_id_ns_indep id;

	if (!ns) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_NS_OR_FORMAT));
		return;
	}
	memset(&id, 0, sizeof(id));
	id.nmic = NVME_NMIC_SHARED;
	id.anagrpid = htole32(nvmf_ns_anagrpid(ns));
	if (ns_read_only(ns))
		id.nsattr = NVME_NSATTR_WRITE_PROTECTED;
	if (ns->resv)
		id.rescap = nvmf_resv_rescap(ns->resv);
	/* no cache behind it: the host can skip Flush for this namespace */
	if (ns->bdev && !ns->bdev->write_cache)
		id.nsfeat |= ADM_NSFEAT_VWC_NOT_PRESENT;
	id.nstat = NVME_NSTAT_NRDY; /* bit 0: namespace ready */
	nvmf_req_fill(req, &id, sizeof(id));
	nvmf_req_complete(req, 0);
}

/* CNS 1Ch: one command set combination, NVM only. */
static void identify_iocs(struct nvmf_req *req)
{
	struct nvme_id_iocs id;

	memset(&id, 0, sizeof(id));
	id.iocsc[0] = htole64(NVME_IOCS_NVM);
	nvmf_req_fill(req, &id, sizeof(id));
	nvmf_req_complete(req, 0);
}

static void execute_identify(struct nvmf_req *req)
{
	uint8_t cns = (uint8_t)(cdw10(req) & 0xFF);
	uint8_t csi = (uint8_t)(cdw11(req) >> 24);

	switch (cns) {
	case NVME_CNS_NS:
		identify_ns(req);
		return;
	case NVME_CNS_CTRL:
		identify_ctrl(req);
		return;
	case NVME_CNS_ACTIVE_NS_LIST:
		identify_active_list(req);
		return;
	case NVME_CNS_NS_DESC_LIST:
		identify_ns_desc(req);
		return;
	case NVME_CNS_CSI_NS:
		if (csi == NVME_CSI_NVM) {
			identify_ns_nvm(req);
			return;
		}
		break;
	case NVME_CNS_CSI_CTRL:
		if (csi == NVME_CSI_NVM) {
			identify_ctrl_nvm(req);
			return;
		}
		break;
	case NVME_CNS_CSI_ACTIVE_NS_LIST:
		if (csi == NVME_CSI_NVM) {
			identify_active_list(req);
			return;
		}
		break;
	case NVME_CNS_CS_INDEP_NS:
		identify_cs_indep(req);
		return;
	case NVME_CNS_IOCS:
		identify_iocs(req);
		return;
	default:
		break;
	}
	nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_FIELD));
}

/* ------------------------------------------------------------------ asynchronous events */

/* The AEC bit that enables an event and masks it until its log is read; 0 = none. */
static uint32_t aen_bit(uint32_t dw0)
{
	uint32_t info = NVME_AER_DW0_INFO(dw0);

	switch (NVME_AER_DW0_TYPE(dw0)) {
	case NVME_AER_TYPE_SMART:
		switch (info) {
		case NVME_AER_SMART_SPARE_THRESH:
			return 1u << 0;
		case NVME_AER_SMART_TEMP_THRESH:
			return 1u << 1;
		case NVME_AER_SMART_RELIABILITY:
			return 1u << 2;
		default:
			return 0;
		}
	case NVME_AER_TYPE_NOTICE:
		if (info == NVME_AER_NOTICE_DISC_CHANGED)
			return NVME_AEC_DISC_LOG_CHANGE;
		if (info <= NVME_AER_NOTICE_NORMAL_SHUTDOWN)
			return NVME_AEC_NS_ATTR << info; /* bits 8..15 follow the info codes */
		return 0;
	default:
		return 0;       /* error and command set events are not configurable */
	}
}

/* Hand pending events to outstanding AERs, oldest first. */
static void aen_process(struct nvmf_tgt_ctrl *ctrl)
{
	while (ctrl->nr_aer_reqs && ctrl->nr_pending_aen) {
		struct nvmf_req *req = ctrl->aer_reqs[0];
		uint32_t dw0 = ctrl->pending_aen[0].dw0;

		ctrl->nr_aer_reqs--;
		memmove(&ctrl->aer_reqs[0], &ctrl->aer_reqs[1],
			ctrl->nr_aer_reqs * sizeof(ctrl->aer_reqs[0]));
		ctrl->nr_pending_aen--;
		memmove(&ctrl->pending_aen[0], &ctrl->pending_aen[1],
			ctrl->nr_pending_aen * sizeof(ctrl->pending_aen[0]));
		complete_dw0(req, dw0, 0);
	}
}

void nvmf_tgt_ctrl_add_aen(struct nvmf_tgt_ctrl *ctrl, uint32_t dw0)
{
	const unsigned max = sizeof(ctrl->pending_aen) / sizeof(ctrl->pending_aen[0]);
	uint32_t bit = aen_bit(dw0);

	if (atomic_load(&ctrl->dying))
		return;         /* the AERs may already be gone with the admin queue */
	if (bit && (!(ctrl->aec & bit) || (ctrl->aen_masked & bit)))
		return;         /* disabled, or reported and its log not read yet */
	for (unsigned i = 0; i < ctrl->nr_pending_aen; i++)
		if (ctrl->pending_aen[i].dw0 == dw0)
			return;
	if (ctrl->nr_pending_aen == max) {
		log_warn("ctrl %u: asynchronous event 0x%06x dropped: %u events pending",
			 ctrl->cntlid, dw0, max);
		return;
	}
	ctrl->aen_masked |= bit;
	ctrl->pending_aen[ctrl->nr_pending_aen++].dw0 = dw0;
	aen_process(ctrl);
}

static void execute_async_event(struct nvmf_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req_ctrl(req);

	if (ctrl->nr_aer_reqs >= NVMF_AERL) {
		nvmf_req_complete(req, NVMF_CMD_SC_DNR(NVME_SC_AER_LIMIT_EXCEEDED));
		return;
	}
	ctrl->aer_reqs[ctrl->nr_aer_reqs++] = req;
	aen_process(ctrl);
}

void nvmf_tgt_ctrl_ns_changed(struct nvmf_tgt_ctrl *ctrl, uint32_t nsid)
{
	if (!ctrl->changed_ns_overflow) {
		bool listed = false;

		for (unsigned i = 0; i < ctrl->nr_changed_ns && !listed; i++)
			listed = ctrl->changed_ns[i] == nsid;
		if (!listed && ctrl->nr_changed_ns == NVME_MAX_CHANGED_NS)
			ctrl->changed_ns_overflow = true;
		else if (!listed)
			ctrl->changed_ns[ctrl->nr_changed_ns++] = nsid;
	}
	nvmf_tgt_ctrl_add_aen(ctrl, NVME_AER_DW0(NVME_AER_TYPE_NOTICE, NVME_AER_NOTICE_NS_CHANGED,
					     NVME_LID_CHANGED_NS));
}

/* ------------------------------------------------------------------ error log */

void nvmf_tgt_ctrl_add_error(struct nvmf_tgt_ctrl *ctrl, struct nvmf_req *req, uint16_t status)
{
	struct nvme_error_log_entry *e;
	uint8_t opc = req->cmd.opcode;
	uint16_t qid = req->sq ? req->sq->qid : 0;

	if (!ctrl || !ctrl->err_log || nvme_status_is_success(status))
		return;
	pthread_mutex_lock(&ctrl->lock);
	e = &ctrl->err_log[ctrl->err_head];
	memset(e, 0, sizeof(*e));
	e->error_count = htole64(++ctrl->err_count);
	e->sqid = htole16(qid);
	e->cid = req->cmd.cid;
	e->status = htole16(status & (uint16_t)~NVME_STATUS_P);
	/* the byte in error is only known for an invalid opcode: byte 0 */
	e->pel = htole16(nvme_status_sct(status) == NVME_SCT_GENERIC &&
			 nvme_status_sc(status) == NVME_SC_INVALID_OPCODE ? 0 : NVME_ERR_PEL_NONE);
	if (qid && (opc == NVME_NVM_READ || opc == NVME_NVM_WRITE || opc == NVME_NVM_COMPARE ||
		    opc == NVME_NVM_WRITE_ZEROES))
		e->lba = htole64(((uint64_t)le32toh(req->cmd.cdw11) << 32) |
				 le32toh(req->cmd.cdw10));
	e->nsid = req->cmd.nsid;
	/* nvmet reports the port's transport on every entry */
	if (ctrl->port && nvmf_port_cfg(ctrl->port))
		e->trtype = (uint8_t)nvmf_port_cfg(ctrl->port)->trtype;
	ctrl->err_head = (ctrl->err_head + 1) % NVMF_ERR_LOG_SLOTS;
	pthread_mutex_unlock(&ctrl->lock);
}

/* ------------------------------------------------------------------ Get Log Page */

static uint64_t log_offset(const struct nvmf_req *req)
{
	return ((uint64_t)le32toh(req->cmd.cdw13) << 32) | le32toh(req->cmd.cdw12);
}

static bool log_rae(const struct nvmf_req *req)
{
	return (cdw10(req) & NVME_GLP_CDW10_RAE) != 0;
}

uint16_t nvmf_log_page_complete(struct nvmf_req *req, const void *page, size_t size,
				uint32_t aec_bits)
{
	struct nvmf_tgt_ctrl *ctrl = req_ctrl(req);
	uint64_t off = log_offset(req);
	size_t n;

	/* the offset is a byte offset, dword aligned, at most the size of the page */
	if ((off & 3) || off > size) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_FIELD));
		return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
	}
	n = size - (size_t)off;
	nvmf_req_fill(req, (const uint8_t *)page + off, n < req->xfer_len ? n : req->xfer_len);
	if (!log_rae(req))
		ctrl->aen_masked &= ~aec_bits;
	nvmf_req_complete(req, 0);
	return 0;
}

static void log_supported(struct nvmf_req *req)
{
	static const uint8_t lids[] = {
		NVME_LID_SUPPORTED_LOGS, NVME_LID_ERROR, NVME_LID_SMART, NVME_LID_FW_SLOT,
		NVME_LID_CHANGED_NS, NVME_LID_CMD_EFFECTS, NVME_LID_ANA,
		NVME_LID_RESV_NOTIFICATION,
	};
	struct nvme_supported_logs_log log;

	memset(&log, 0, sizeof(log));
	for (size_t i = 0; i < sizeof(lids); i++)
		log.lids[lids[i]] = htole32(NVME_LIDS_LSUPP);
	nvmf_log_page_complete(req, &log, sizeof(log), 0);
}

/* Newest entry first; slots never used stay zero (error count 0 = empty). */
static void log_error(struct nvmf_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req_ctrl(req);
	struct nvme_error_log_entry log[NVMF_ERR_LOG_SLOTS];

	pthread_mutex_lock(&ctrl->lock);
	for (unsigned i = 0; i < NVMF_ERR_LOG_SLOTS; i++) {
		unsigned slot = (ctrl->err_head + NVMF_ERR_LOG_SLOTS - 1 - i) % NVMF_ERR_LOG_SLOTS;

		log[i] = ctrl->err_log[slot];
	}
	pthread_mutex_unlock(&ctrl->lock);
	nvmf_log_page_complete(req, log, sizeof(log), 0);
}

static uint16_t temp_threshold(const struct nvmf_tgt_ctrl *ctrl, unsigned sel)
{
	if (ctrl->temp_thresh_set[sel])
		return ctrl->temp_thresh[sel];
	return sel == 0 ? ADM_WCTEMP_K : 0;
}

static bool temp_exceeded(const struct nvmf_tgt_ctrl *ctrl)
{
	uint16_t under = temp_threshold(ctrl, 1);

	return ADM_TEMP_K > temp_threshold(ctrl, 0) || (under && ADM_TEMP_K < under);
}

/* Bytes in thousands of 512-byte units, rounded up (SMART data units). */
static uint64_t data_units(uint64_t bytes)
{
	return bytes / 512000 + (bytes % 512000 != 0);
}

/*
 * Controller-wide only: NSID 0 / FFFFFFFFh.  The counters are kept per controller, so LPA
 * bit 0 is clear and any other NSID is Invalid Field, as the spec asks then.
 */
static void log_smart(struct nvmf_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req_ctrl(req);
	uint32_t nsid = le32toh(req->cmd.nsid);
	uint64_t rd_cmds = 0, wr_cmds = 0, rd_bytes = 0, wr_bytes = 0, errs;
	struct nvme_smart_log log;

	if (nsid != NVME_NSID_NONE && nsid != NVME_NSID_ALL) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_FIELD));
		return;
	}
	nvmf_tgt_ctrl_fill_stats(ctrl, &rd_cmds, &wr_cmds, &rd_bytes, &wr_bytes);
	pthread_mutex_lock(&ctrl->lock);
	errs = ctrl->err_count;
	pthread_mutex_unlock(&ctrl->lock);

	memset(&log, 0, sizeof(log));
	if (temp_exceeded(ctrl))
		log.critical_warning |= NVME_SMART_CRIT_TEMPERATURE;
	log.composite_temp[0] = (uint8_t)ADM_TEMP_K;
	log.composite_temp[1] = (uint8_t)(ADM_TEMP_K >> 8);
	log.avail_spare = 100;
	log.avail_spare_thresh = 10;
	put_le128(log.data_units_read, data_units(rd_bytes));
	put_le128(log.data_units_written, data_units(wr_bytes));
	put_le128(log.host_reads, rd_cmds);
	put_le128(log.host_writes, wr_cmds);
	put_le128(log.num_err_log_entries, errs);
	log.temp_sensor[0] = htole16(ADM_TEMP_K);
	nvmf_log_page_complete(req, &log, sizeof(log), ADM_ASYNC_EVENTS_SMART);
}

/* One slot, active, read-only, holding the firmware revision of Identify Controller. */
static void log_fw_slot(struct nvmf_req *req)
{
	struct nvme_fw_slot_log log;

	memset(&log, 0, sizeof(log));
	log.afi = 1;
	copy_padded(log.frs[0], sizeof(log.frs[0]), req_ctrl(req)->subsys->firmware);
	nvmf_log_page_complete(req, &log, sizeof(log), NVME_AEC_FW_ACTIVATION);
}

/* Read with RAE clear: the list is emptied and the namespace-changed event re-armed. */
static void log_changed_ns(struct nvmf_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req_ctrl(req);
	bool rae = log_rae(req);
	struct nvme_changed_ns_log log;

	memset(&log, 0, sizeof(log));
	if (ctrl->changed_ns_overflow)
		log.nsid[0] = htole32(NVME_NSID_ALL);
	else
		for (unsigned i = 0; i < ctrl->nr_changed_ns; i++)
			log.nsid[i] = htole32(ctrl->changed_ns[i]);
	if (nvmf_log_page_complete(req, &log, sizeof(log), NVME_AEC_NS_ATTR) == 0 && !rae) {
		ctrl->nr_changed_ns = 0;
		ctrl->changed_ns_overflow = false;
	}
}

static void log_cmd_effects(struct nvmf_req *req)
{
	static const uint8_t admin[] = {
		NVME_ADM_GET_LOG_PAGE, NVME_ADM_IDENTIFY, NVME_ADM_ABORT, NVME_ADM_SET_FEATURES,
		NVME_ADM_GET_FEATURES, NVME_ADM_ASYNC_EVENT, NVME_ADM_KEEP_ALIVE,
	};
	struct nvme_cmd_effects_log log;
	uint8_t csi = (uint8_t)(le32toh(req->cmd.cdw14) >> 24);

	if (csi != NVME_CSI_NVM) {
		nvmf_req_complete(req, NVMF_CMD_SC_DNR(NVME_SC_LOG_PAGE_INVALID));
		return;
	}
	memset(&log, 0, sizeof(log));
	for (size_t i = 0; i < sizeof(admin); i++)
		log.acs[admin[i]] = htole32(NVME_CE_CSUPP);
	log.iocs[NVME_NVM_READ] = htole32(NVME_CE_CSUPP);
	log.iocs[NVME_NVM_FLUSH] = htole32(NVME_CE_CSUPP);
	log.iocs[NVME_NVM_COMPARE] = htole32(NVME_CE_CSUPP);
	log.iocs[NVME_NVM_WRITE] = htole32(NVME_CE_CSUPP | NVME_CE_LBCC);
	log.iocs[NVME_NVM_WRITE_ZEROES] = htole32(NVME_CE_CSUPP | NVME_CE_LBCC);
	log.iocs[NVME_NVM_DSM] = htole32(NVME_CE_CSUPP | NVME_CE_LBCC);
	log.iocs[NVME_NVM_RESV_REGISTER] = htole32(NVME_CE_CSUPP);
	log.iocs[NVME_NVM_RESV_REPORT] = htole32(NVME_CE_CSUPP);
	log.iocs[NVME_NVM_RESV_ACQUIRE] = htole32(NVME_CE_CSUPP);
	log.iocs[NVME_NVM_RESV_RELEASE] = htole32(NVME_CE_CSUPP);
	nvmf_log_page_complete(req, &log, sizeof(log), 0);
}

/*
 * Asymmetric Namespace Access, as this controller's port sees it: one descriptor per group
 * the port defines or a namespace of the subsystem belongs to (nvmet lists every group in
 * use; a group the port does not define is inaccessible through it, as in nvmet), in
 * ascending order, each with the NSIDs of the subsystem in it unless the host asked for
 * groups only (LSP bit 0, RGO).  Read with RAE clear, it re-arms the ANA change event.
 */
static void log_ana(struct nvmf_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req_ctrl(req);
	const struct nvmf_subsys_view *v = nvmf_subsys_view(ctrl->subsys);
	const struct nvmf_cfg_port *pc = nvmf_port_cfg(ctrl->port);
	uint32_t lsp = (cdw10(req) >> NVME_GLP_CDW10_LSP_SHIFT) & NVME_GLP_CDW10_LSP_MASK;
	bool rgo = (lsp & NVME_ANA_LSP_RGO) != 0;
	uint64_t chgcnt = atomic_load(&ctrl->tgt->ana_chgcnt);
	bool used[NVMF_CFG_ANA_GRPS_MAX + 1] = { false };
	struct nvme_ana_log_hdr *hdr;
	size_t size = sizeof(*hdr), off = sizeof(*hdr);
	uint16_t ngrps = 0;
	uint8_t *page;

	for (size_t i = 0; i < pc->nr_ana_groups; i++)
		if (pc->ana_groups[i].grpid <= NVMF_CFG_ANA_GRPS_MAX)
			used[pc->ana_groups[i].grpid] = true;
	for (uint32_t i = 0; i < v->nr_ns; i++)
		used[nvmf_ns_anagrpid(v->ns[i])] = true;
	for (uint32_t g = 1; g <= NVMF_CFG_ANA_GRPS_MAX; g++)
		size += used[g] ? sizeof(struct nvme_ana_group_desc) : 0;
	if (!rgo)
		size += v->nr_ns * sizeof(uint32_t);
	page = calloc(1, size);
	if (!page) {
		nvmf_req_complete(req, NVMF_SC(NVME_SC_INTERNAL));
		return;
	}
	for (uint32_t g = 1; g <= NVMF_CFG_ANA_GRPS_MAX; g++) {
		struct nvme_ana_group_desc d;
		uint32_t n = 0;

		if (!used[g])
			continue;
		for (uint32_t i = 0; i < v->nr_ns && !rgo; i++) {
			if (nvmf_ns_anagrpid(v->ns[i]) == g) {
				uint32_t nsid = htole32(v->ns[i]->nsid);

				memcpy(page + off + sizeof(d) + n++ * sizeof(nsid), &nsid,
				       sizeof(nsid));
			}
		}
		memset(&d, 0, sizeof(d));
		d.grpid = htole32(g);
		d.nnsids = htole32(n);
		d.chgcnt = htole64(chgcnt);
		d.state = nvmf_owner_group_lost(v, g) ? NVME_ANA_INACCESSIBLE
						      : (uint8_t)nvmf_cfg_port_ana_state(pc, g);
		memcpy(page + off, &d, sizeof(d));
		off += sizeof(d) + n * sizeof(uint32_t);
		ngrps++;
	}
	hdr = (struct nvme_ana_log_hdr *)page;
	hdr->chgcnt = htole64(chgcnt);
	hdr->ngrps = htole16(ngrps);
	nvmf_log_page_complete(req, page, size, NVME_AEC_ANA_CHANGE);
	free(page);
}

static void execute_get_log_page(struct nvmf_req *req)
{
	/* index offsets (OT) are not supported: LPO is a byte offset */
	if (le32toh(req->cmd.cdw14) & (1u << 23)) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_FIELD));
		return;
	}
	switch (cdw10(req) & NVME_GLP_CDW10_LID_MASK) {
	case NVME_LID_SUPPORTED_LOGS:
		log_supported(req);
		return;
	case NVME_LID_ERROR:
		log_error(req);
		return;
	case NVME_LID_SMART:
		log_smart(req);
		return;
	case NVME_LID_FW_SLOT:
		log_fw_slot(req);
		return;
	case NVME_LID_CHANGED_NS:
		log_changed_ns(req);
		return;
	case NVME_LID_CMD_EFFECTS:
		log_cmd_effects(req);
		return;
	case NVME_LID_ANA:
		log_ana(req);
		return;
	case NVME_LID_RESV_NOTIFICATION:
		nvmf_resv_log_page(req);
		return;
	default:
		nvmf_req_complete(req, NVMF_CMD_SC_DNR(NVME_SC_LOG_PAGE_INVALID));
		return;
	}
}

/* NUMD (0's based dwords) as bytes; more than one command can move is Invalid Field. */
static uint16_t parse_log_len(struct nvmf_req *req)
{
	uint64_t len = nvme_glp_bytes((uint16_t)(cdw10(req) >> 16), (uint16_t)cdw11(req));

	if (len > NVMF_MAX_XFER)
		return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
	set_xfer(req, NVME_XFER_CTRL_TO_HOST, (uint32_t)len, execute_get_log_page);
	return 0;
}

/* ------------------------------------------------------------------ features */

#define FEAT_SUPPORTED (1u << 0)
#define FEAT_CHANGEABLE (1u << 1)
#define FEAT_NS (1u << 2)          /* namespace specific */

/* What a controller of this kind offers for fid: FEAT_* bits, 0 = not supported. */
static unsigned feat_flags(const struct nvmf_tgt_ctrl *ctrl, uint8_t fid)
{
	if (ctrl->subsys->is_discovery) {
		switch (fid) {
		case NVME_FID_KATO:
		case NVME_FID_ASYNC_EVENT:
			return FEAT_SUPPORTED | FEAT_CHANGEABLE;
		default:
			return 0;
		}
	}
	switch (fid) {
	case NVME_FID_POWER_MGMT:
	case NVME_FID_TEMP_THRESH:
	case NVME_FID_NUM_QUEUES:
	case NVME_FID_ASYNC_EVENT:
	case NVME_FID_KATO:
		return FEAT_SUPPORTED | FEAT_CHANGEABLE;
	case NVME_FID_RESV_MASK:
	case NVME_FID_RESV_PERSIST:
		return FEAT_SUPPORTED | FEAT_CHANGEABLE | FEAT_NS;
	case NVME_FID_ERR_RECOVERY:
	case NVME_FID_VOLATILE_WC:
	case NVME_FID_WRITE_ATOMICITY:
	case NVME_FID_HOST_ID:
		return FEAT_SUPPORTED;
	default:
		return 0;       /* incl. interrupt features: PCIe only, as nvmet says */
	}
}

/* Features that carry data (nvmet's nvmet_feat_data_len, plus the fixed-size ones). */
static uint32_t feat_data_len(uint8_t fid)
{
	switch (fid) {
	case NVME_FID_HOST_ID:
		return NVMF_HOSTID_LEN;
	case NVME_FID_TIMESTAMP:
		return sizeof(struct nvme_timestamp);
	case NVME_FID_HOST_BEHAVIOR:
		return sizeof(struct nvme_host_behavior);
	default:
		return 0;
	}
}

static uint32_t aec_supported(const struct nvmf_tgt_ctrl *ctrl)
{
	return ctrl->subsys->is_discovery ? ADM_AEC_DISC : ADM_AEC_IO;
}

/* The value a host gets without having set one (nvmet: NS attribute and ANA notices on). */
static uint32_t aec_default(const struct nvmf_tgt_ctrl *ctrl)
{
	return ctrl->subsys->is_discovery ? 0 : NVME_AEC_NS_ATTR | NVME_AEC_ANA_CHANGE;
}

static uint32_t nq_dw0(uint32_t nr)
{
	return NVME_FEAT_NQ(nr - 1, nr - 1);
}

/* TMPSEL 0 (composite) or Fh (all sensors: we have only the composite); THSEL over/under. */
static int temp_sel(uint32_t v, unsigned *sel)
{
	uint32_t tmpsel = NVME_GET(v, NVME_FEAT_TT_TMPSEL);
	uint32_t thsel = NVME_GET(v, NVME_FEAT_TT_THSEL);

	if ((tmpsel != 0 && tmpsel != 0xF) || thsel > 1)
		return -1;
	*sel = thsel;
	return 0;
}

/* Set Number of Queues: granted = min(asked, qid_max), only before an I/O queue exists. */
static uint16_t set_num_queues(struct nvmf_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req_ctrl(req);
	uint32_t v = cdw11(req);
	uint32_t nsq = NVME_GET(v, NVME_FEAT_NQ_NSQ), ncq = NVME_GET(v, NVME_FEAT_NQ_NCQ);
	uint32_t want = (nsq < ncq ? nsq : ncq) + 1, granted;
	uint16_t status = 0;

	if (nsq == NVME_FEAT_NQ_INVALID || ncq == NVME_FEAT_NQ_INVALID)
		return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
	granted = want < ctrl->subsys->qid_max ? want : ctrl->subsys->qid_max;
	if (granted == 0)
		granted = 1;
	pthread_mutex_lock(&ctrl->tgt->lock);
	if (ctrl->io_sqs)
		status = NVMF_SC_DNR(NVME_SC_CMD_SEQ_ERROR);
	else
		ctrl->nr_io_queues = (uint16_t)granted;
	pthread_mutex_unlock(&ctrl->tgt->lock);
	if (!status)
		req->cqe.dw0 = htole32(nq_dw0(granted));
	return status;
}

static void execute_set_features(struct nvmf_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req_ctrl(req);
	uint8_t fid = (uint8_t)(cdw10(req) & NVME_FEAT_CDW10_FID_MASK);
	unsigned flags = feat_flags(ctrl, fid);
	uint32_t v = cdw11(req);
	uint16_t status = 0;
	unsigned sel;

	if (!flags) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_FIELD));
		return;
	}
	if (cdw10(req) & NVME_FEAT_CDW10_SV) {
		nvmf_req_complete(req, NVMF_CMD_SC_DNR(NVME_SC_FEATURE_NOT_SAVEABLE));
		return;
	}
	if (fid == NVME_FID_HOST_ID) {
		/* a fabrics host gives its identifier in Connect (nvmet) */
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_CMD_SEQ_ERROR));
		return;
	}
	if (!(flags & FEAT_CHANGEABLE)) {
		nvmf_req_complete(req, NVMF_CMD_SC_DNR(NVME_SC_FEATURE_NOT_CHANGEABLE));
		return;
	}

	switch (fid) {
	case NVME_FID_NUM_QUEUES:
		status = set_num_queues(req);
		break;
	case NVME_FID_KATO: {
		/* whole seconds (KAS = 1 s), as nvmet; the timer is re-armed with the new value */
		uint64_t ms = ((uint64_t)v + NVMF_KAS_MS - 1) / NVMF_KAS_MS * NVMF_KAS_MS;

		if (ms > UINT32_MAX)
			ms = (uint64_t)UINT32_MAX / NVMF_KAS_MS * NVMF_KAS_MS;
		ctrl->kato_ms = (uint32_t)ms;
		nvmf_tgt_ctrl_keep_alive(ctrl);
		break;
	}
	case NVME_FID_ASYNC_EVENT:
		if (v & ~aec_supported(ctrl))
			status = NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
		else
			ctrl->aec = v;
		break;
	case NVME_FID_TEMP_THRESH:
		if (temp_sel(v, &sel)) {
			status = NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
			break;
		}
		ctrl->temp_thresh[sel] = (uint16_t)(v & NVME_FEAT_TT_TMPTH_MASK);
		ctrl->temp_thresh_set[sel] = true;
		if (temp_exceeded(ctrl))
			nvmf_tgt_ctrl_add_aen(ctrl, NVME_AER_DW0(NVME_AER_TYPE_SMART,
							     NVME_AER_SMART_TEMP_THRESH,
							     NVME_LID_SMART));
		break;
	case NVME_FID_POWER_MGMT:
		/* power state 0 only (NPSS = 0), no workload hint */
		if (v != 0)
			status = NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
		break;
	case NVME_FID_RESV_MASK:
	case NVME_FID_RESV_PERSIST: {
		uint32_t dw0 = 0;

		/* an RBD namespace's PTPL is a cluster write: not on this reactor */
		if (fid == NVME_FID_RESV_PERSIST && nvmf_resv_set_ptpl_queued(req, v))
			return;

		status = nvmf_resv_set_feature(req, fid, v, &dw0);
		if (!status)
			req->cqe.dw0 = htole32(dw0);
		break;
	}
	default:
		status = NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
		break;
	}
	nvmf_req_complete(req, status);
}

/* The value of a feature; current = false asks the default (also what "saved" returns). */
static uint16_t feat_value(struct nvmf_req *req, uint8_t fid, bool current, uint32_t *dw0)
{
	struct nvmf_tgt_ctrl *ctrl = req_ctrl(req);
	unsigned sel;

	switch (fid) {
	case NVME_FID_POWER_MGMT:
	case NVME_FID_ERR_RECOVERY:
	case NVME_FID_WRITE_ATOMICITY:
		*dw0 = 0;
		return 0;
	case NVME_FID_VOLATILE_WC:
		*dw0 = NVME_FEAT_VWC_WCE;       /* enabled, as nvmet reports */
		return 0;
	case NVME_FID_TEMP_THRESH:
		if (temp_sel(cdw11(req), &sel))
			return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
		*dw0 = current ? temp_threshold(ctrl, sel) : (sel == 0 ? ADM_WCTEMP_K : 0);
		return 0;
	case NVME_FID_NUM_QUEUES:
		*dw0 = nq_dw0(current && ctrl->nr_io_queues ? ctrl->nr_io_queues
							    : ctrl->subsys->qid_max);
		return 0;
	case NVME_FID_ASYNC_EVENT:
		*dw0 = current ? ctrl->aec : aec_default(ctrl);
		return 0;
	case NVME_FID_KATO:
		*dw0 = current ? ctrl->kato_ms : 0;
		return 0;
	case NVME_FID_RESV_MASK:
	case NVME_FID_RESV_PERSIST:
		/* the default: nothing masked, no persistence */
		if (!current) {
			*dw0 = 0;
			return 0;
		}
		return nvmf_resv_get_feature(req, fid, dw0);
	default:
		return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
	}
}

static void execute_get_features(struct nvmf_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req_ctrl(req);
	uint8_t fid = (uint8_t)(cdw10(req) & NVME_FEAT_CDW10_FID_MASK);
	uint32_t sel = NVME_GET(cdw10(req), NVME_FEAT_CDW10_SEL);
	unsigned flags = feat_flags(ctrl, fid);
	uint32_t dw0 = 0;
	uint16_t status;

	if (!flags || sel > NVME_FEAT_SEL_SUPPORTED_CAPS) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_FIELD));
		return;
	}
	if (sel == NVME_FEAT_SEL_SUPPORTED_CAPS) {
		/* nothing is saveable or namespace specific */
		nvmf_req_fill(req, ctrl->hostid, 0);
		complete_dw0(req, (flags & FEAT_CHANGEABLE ? NVME_FEAT_CAP_CHANGEABLE : 0) |
				  (flags & FEAT_NS ? NVME_FEAT_CAP_NS_SPECIFIC : 0), 0);
		return;
	}
	if (fid == NVME_FID_HOST_ID) {
		/* only the 128-bit identifier (nvmet) */
		if (!(cdw11(req) & NVME_FEAT_HOSTID_EXHID)) {
			nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_FIELD));
			return;
		}
		nvmf_req_fill(req, ctrl->hostid, sizeof(ctrl->hostid));
		nvmf_req_complete(req, 0);
		return;
	}
	/* not saveable: "saved" is the default */
	status = feat_value(req, fid, sel == NVME_FEAT_SEL_CURRENT, &dw0);
	complete_dw0(req, dw0, status);
}

/* ------------------------------------------------------------------ the rest */

static void execute_keep_alive(struct nvmf_req *req)
{
	struct nvmf_tgt_ctrl *ctrl = req_ctrl(req);

	/* nvmet: a Keep Alive while keep-alive is off is an error, without DNR */
	if (ctrl->kato_ms == 0) {
		nvmf_req_complete(req, NVMF_SC(NVME_SC_KA_TIMEOUT_INVALID));
		return;
	}
	nvmf_tgt_ctrl_keep_alive(ctrl);
	nvmf_req_complete(req, 0);
}

/* Nothing is ever aborted (nvmet): dw0 bit 0 says so. */
static void execute_abort(struct nvmf_req *req)
{
	complete_dw0(req, NVME_ABORT_DW0_NOT_ABORTED, 0);
}

/*
 * Also the parser of discovery.c for Set / Get Features, Asynchronous Event Request and
 * Keep Alive: the features a discovery controller offers are decided in feat_flags().
 */
uint16_t nvmf_parse_admin(struct nvmf_req *req)
{
	uint8_t fid = (uint8_t)(cdw10(req) & NVME_FEAT_CDW10_FID_MASK);

	switch (req->cmd.opcode) {
	case NVME_ADM_IDENTIFY:
		set_xfer(req, NVME_XFER_CTRL_TO_HOST, NVME_IDENTIFY_DATA_SIZE, execute_identify);
		return 0;
	case NVME_ADM_GET_LOG_PAGE:
		return parse_log_len(req);
	case NVME_ADM_SET_FEATURES:
		set_xfer(req, NVME_XFER_HOST_TO_CTRL, feat_data_len(fid), execute_set_features);
		return 0;
	case NVME_ADM_GET_FEATURES:
		set_xfer(req, NVME_XFER_CTRL_TO_HOST, feat_data_len(fid), execute_get_features);
		return 0;
	case NVME_ADM_ASYNC_EVENT:
		set_xfer(req, NVME_XFER_NONE, 0, execute_async_event);
		return 0;
	case NVME_ADM_KEEP_ALIVE:
		set_xfer(req, NVME_XFER_NONE, 0, execute_keep_alive);
		return 0;
	case NVME_ADM_ABORT:
		set_xfer(req, NVME_XFER_NONE, 0, execute_abort);
		return 0;
	default:
		/* queue management, namespace management, firmware, format, security, ... */
		return NVMF_SC_DNR(NVME_SC_INVALID_OPCODE);
	}
}
