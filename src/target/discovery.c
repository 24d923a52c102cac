/*
 * The discovery controller (nvmet's discovery.c): Identify Controller and the Discovery
 * log page; Set / Get Features (KATO, Asynchronous Event Configuration), Asynchronous
 * Event Request and Keep Alive are admin.c's, limited there to what a discovery controller
 * offers.
 *
 * The log a host reads on a port: the current discovery subsystem (this port), then every
 * subsystem linked to this port that the host may connect to, then the port's enabled
 * referrals -- nvmet's order and filters.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"

#define DISC_ASQSZ 32   /* admin queue entries a host may ask for (nvmet's NVME_AQ_DEPTH) */

/* "0.0.0.0", "::" or "": the port listens on every address. */
static bool traddr_is_wildcard(const char *traddr)
{
	unsigned char a[sizeof(struct in6_addr)];
	size_t len;

	if (traddr[0] == '\0')
		return true;
	if (inet_pton(AF_INET, traddr, a) == 1)
		len = sizeof(struct in_addr);
	else if (inet_pton(AF_INET6, traddr, a) == 1)
		len = sizeof(struct in6_addr);
	else
		return false;
	for (size_t i = 0; i < len; i++)
		if (a[i])
			return false;
	return true;
}

/* Address fields are copied into the zeroed entry: NUL padded, as nvmet does. */
static void copy_field(char *dst, size_t dstlen, const char *src)
{
	memcpy(dst, src, strnlen(src, dstlen - 1));
}

/* An entry for this port: the current discovery subsystem or an NVM subsystem. */
static void port_entry(struct nvmf_disc_log_entry *e, const struct nvmf_port *port,
		       const char *traddr, const char *nqn, uint8_t subtype)
{
	const struct nvmf_cfg_port *c = nvmf_port_cfg(port);

	e->trtype = (uint8_t)c->trtype;
	e->adrfam = (uint8_t)c->adrfam;
	e->subtype = subtype;
	/* secure channel from the configuration; disabling SQ flow control is supported */
	e->treq = (uint8_t)((c->treq & NVMF_TREQ_SECURE_MASK) | NVMF_TREQ_DISABLE_SQFLOW);
	e->portid = htole16(port->portid);
	e->cntlid = htole16(NVMF_CNTLID_DYNAMIC);
	e->asqsz = htole16(DISC_ASQSZ);
	e->eflags = 0;
	copy_field(e->trsvcid, sizeof(e->trsvcid), c->trsvcid);
	copy_field(e->subnqn, sizeof(e->subnqn), nqn);
	copy_field(e->traddr, sizeof(e->traddr), traddr);
	if (c->trtype == NVMF_CFG_TRTYPE_TCP)
		e->tsas.tcp.sectype = c->tsas == NVMF_CFG_TSAS_TLS13 ? NVMF_TCP_SECTYPE_TLS13
								     : NVMF_TCP_SECTYPE_NONE;
}

static void referral_entry(struct nvmf_disc_log_entry *e, const struct nvmf_cfg_referral *r)
{
	e->trtype = (uint8_t)r->trtype;
	e->adrfam = (uint8_t)r->adrfam;
	e->subtype = NVMF_SUBTYPE_DISCOVERY_REFERRAL;
	e->treq = (uint8_t)(r->treq & NVMF_TREQ_SECURE_MASK);
	e->portid = htole16(r->portid);
	e->cntlid = htole16(NVMF_CNTLID_DYNAMIC);
	e->asqsz = htole16(DISC_ASQSZ);
	copy_field(e->trsvcid, sizeof(e->trsvcid), r->trsvcid);
	/* the referred-to target's discovery NQN is not known: the well-known one */
	copy_field(e->subnqn, sizeof(e->subnqn), NVMF_DISCOVERY_NQN);
	copy_field(e->traddr, sizeof(e->traddr), r->traddr);
}

/* nvmet lists referrals with a usable transport only (not PCI, not unset). */
static bool referral_listed(const struct nvmf_cfg_referral *r)
{
	return r->enable && r->trtype != NVMF_CFG_TRTYPE_PCI &&
	       r->trtype != NVMF_CFG_TRTYPE_UNSET;
}

/* The NVM subsystem linked to the port as its i-th link, if this host may use it. */
static struct nvmf_subsys *listed_subsys(const struct nvmf_tgt_ctrl *ctrl,
					  const struct nvmf_cfg_port *c, size_t i)
{
	struct nvmf_subsys *s = nvmf_tgt_find_subsys(ctrl->tgt, c->subsystems[i]);

	if (!s || s->is_discovery || !nvmf_subsys_host_allowed(s, ctrl->hostnqn))
		return NULL;
	return s;
}

/*
 * The whole log for this controller's host and port; NULL when out of memory.  Called
 * with tgt->lock held: a configuration reload swaps what is read here under that lock,
 * so counting and filling the entries see the same configuration.
 */
static struct nvmf_disc_log_hdr *build_log(struct nvmf_req *req, size_t *size)
{
	struct nvmf_tgt_ctrl *ctrl = req->sq->ctrl;
	const struct nvmf_port *port = ctrl->port;
	const struct nvmf_cfg_port *c = nvmf_port_cfg(port);
	const char *traddr = c->traddr;
	char local[NVMF_TRADDR_LEN];
	struct nvmf_disc_log_hdr *hdr;
	uint64_t n = 1, i = 0;

	for (size_t k = 0; k < c->nr_subsystems; k++)
		n += listed_subsys(ctrl, c, k) != NULL;
	for (size_t k = 0; k < c->nr_referrals; k++)
		n += referral_listed(&c->referrals[k]);
	*size = sizeof(*hdr) + n * sizeof(hdr->entries[0]);
	hdr = calloc(1, *size);
	if (!hdr)
		return NULL;

	/* a wildcard listener is reported with the address this host reached (nvmet) */
	if (traddr_is_wildcard(traddr) && req->sq->ops->local_addr &&
	    req->sq->ops->local_addr(req->sq, local, sizeof(local)) == 0)
		traddr = local;

	port_entry(&hdr->entries[i++], port, traddr, ctrl->subsys->nqn,
		   NVMF_SUBTYPE_DISCOVERY_CURRENT);
	for (size_t k = 0; k < c->nr_subsystems; k++) {
		const struct nvmf_subsys *s = listed_subsys(ctrl, c, k);

		if (s)
			port_entry(&hdr->entries[i++], port, traddr, s->nqn, NVMF_SUBTYPE_NVME);
	}
	for (size_t k = 0; k < c->nr_referrals; k++)
		if (referral_listed(&c->referrals[k]))
			referral_entry(&hdr->entries[i++], &c->referrals[k]);

	hdr->genctr = htole64(atomic_load(&ctrl->tgt->genctr));
	hdr->numrec = htole64(n);
	hdr->recfmt = htole16(NVMF_DISC_RECFMT);
	return hdr;
}

static void log_discovery(struct nvmf_req *req)
{
	struct nvmf_disc_log_hdr *hdr;
	size_t size;

	if (!req->sq->ctrl->port || !nvmf_port_cfg(req->sq->ctrl->port)) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_FIELD));
		return;
	}
	pthread_mutex_lock(&req->sq->ctrl->tgt->lock);
	hdr = build_log(req, &size);
	pthread_mutex_unlock(&req->sq->ctrl->tgt->lock);
	if (!hdr) {
		nvmf_req_complete(req, NVMF_SC(NVME_SC_INTERNAL));
		return;
	}
	/* read with RAE clear: the next change raises an event again */
	nvmf_log_page_complete(req, hdr, size, NVME_AEC_DISC_LOG_CHANGE);
	free(hdr);
}

static void log_supported(struct nvmf_req *req)
{
	struct nvme_supported_logs_log log;

	memset(&log, 0, sizeof(log));
	log.lids[NVME_LID_SUPPORTED_LOGS] = htole32(NVME_LIDS_LSUPP);
	log.lids[NVME_LID_DISCOVERY] = htole32(NVME_LIDS_LSUPP);
	nvmf_log_page_complete(req, &log, sizeof(log), 0);
}

static void execute_get_log_page(struct nvmf_req *req)
{
	switch (le32toh(req->cmd.cdw10) & NVME_GLP_CDW10_LID_MASK) {
	case NVME_LID_DISCOVERY:
		log_discovery(req);
		return;
	case NVME_LID_SUPPORTED_LOGS:
		log_supported(req);
		return;
	default:
		nvmf_req_complete(req, NVMF_CMD_SC_DNR(NVME_SC_LOG_PAGE_INVALID));
		return;
	}
}

/* Identify Controller only: a discovery controller has no namespaces. */
static void execute_identify(struct nvmf_req *req)
{
	struct nvme_id_ctrl id;

	if ((le32toh(req->cmd.cdw10) & 0xFF) != NVME_CNS_CTRL) {
		nvmf_req_complete(req, NVMF_SC_DNR(NVME_SC_INVALID_FIELD));
		return;
	}
	nvmf_build_id_ctrl(req->sq->ctrl, &id);
	nvmf_req_fill(req, &id, sizeof(id));
	nvmf_req_complete(req, 0);
}

uint16_t nvmf_parse_discovery(struct nvmf_req *req)
{
	uint64_t len;

	switch (req->cmd.opcode) {
	case NVME_ADM_IDENTIFY:
		req->dir = NVME_XFER_CTRL_TO_HOST;
		req->xfer_len = NVME_IDENTIFY_DATA_SIZE;
		req->execute = execute_identify;
		return 0;
	case NVME_ADM_GET_LOG_PAGE:
		len = nvme_glp_bytes((uint16_t)(le32toh(req->cmd.cdw10) >> 16),
				     (uint16_t)le32toh(req->cmd.cdw11));
		if (len > NVMF_MAX_XFER)
			return NVMF_SC_DNR(NVME_SC_INVALID_FIELD);
		req->dir = NVME_XFER_CTRL_TO_HOST;
		req->xfer_len = (uint32_t)len;
		req->execute = execute_get_log_page;
		return 0;
	case NVME_ADM_SET_FEATURES:
	case NVME_ADM_GET_FEATURES:
	case NVME_ADM_ASYNC_EVENT:
	case NVME_ADM_KEEP_ALIVE:
		return nvmf_parse_admin(req);
	default:
		return NVMF_SC_DNR(NVME_SC_INVALID_OPCODE);
	}
}
