/*
 * nvmf output: nvme-cli's formats, so scripts written against `nvme discover`,
 * `nvme id-ctrl`, `nvme id-ns` and `nvme get-log` read ours unchanged — the "normal" text
 * (field names, widths, value radix) and the JSON keys (-o json).
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "proto/nvme_spec.h"
#include "tools/nvmf.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)

/* ------------------------------------------------------------------ field names */

static const char *pick(const char *const *t, size_t n, size_t i)
{
	return i < n && t[i] ? t[i] : "unrecognized";
}

#define PICK(t, i) pick(t, sizeof(t) / sizeof(t[0]), i)

const char *str_trtype(uint8_t v)
{
	static const char *const t[] = { [NVMF_TRTYPE_RDMA] = "rdma", [NVMF_TRTYPE_FC] = "fc",
					 [NVMF_TRTYPE_TCP] = "tcp", [NVMF_TRTYPE_LOOP] = "loop" };
	return PICK(t, v);
}

const char *str_adrfam(uint8_t v)
{
	static const char *const t[] = { [NVMF_ADRFAM_PCI] = "pci", [NVMF_ADRFAM_IPV4] = "ipv4",
					 [NVMF_ADRFAM_IPV6] = "ipv6",
					 [NVMF_ADRFAM_IB] = "infiniband",
					 [NVMF_ADRFAM_FC] = "fibre-channel" };
	return PICK(t, v);
}

const char *str_subtype(uint8_t v)
{
	static const char *const t[] = {
		[NVMF_SUBTYPE_DISCOVERY_REFERRAL] = "discovery subsystem referral",
		[NVMF_SUBTYPE_NVME] = "nvme subsystem",
		[NVMF_SUBTYPE_DISCOVERY_CURRENT] = "current discovery subsystem",
	};
	return PICK(t, v);
}

const char *str_treq(uint8_t v)
{
	static const char *const t[] = {
		[0] = "not specified",
		[1] = "required",
		[2] = "not required",
		[4] = "not specified, sq flow control disable supported",
		[5] = "required, sq flow control disable supported",
		[6] = "not required, sq flow control disable supported",
	};
	return PICK(t, v);
}

const char *str_eflags(uint16_t v)
{
	/* bit 0 DUPRETINFO, bit 1 EPCSD, bit 2 NCC */
	static const char *const t[] = {
		[0] = "none",
		[2] = "explicit discovery connections",
		[1] = "duplicate discovery information",
		[3] = "explicit discovery connections, duplicate discovery information",
		[4] = "no cdc connectivity",
		[6] = "explicit discovery connections, no cdc connectivity",
		[5] = "duplicate discovery information, no cdc connectivity",
		[7] = ("explicit discovery connections, duplicate discovery information, "
		       "no cdc connectivity"),
	};
	return PICK(t, v);
}

const char *str_sectype(uint8_t v)
{
	static const char *const t[] = { [NVMF_TCP_SECTYPE_NONE] = "none",
					 [NVMF_TCP_SECTYPE_TLS12] = "tls",
					 [NVMF_TCP_SECTYPE_TLS13] = "tls13" };
	return PICK(t, v);
}

const char *str_status(int status)
{
	static __thread char buf[160];
	static const char *const generic[] = {
		[0x01] = "Invalid Command Opcode",
		[0x02] = "Invalid Field in Command",
		[0x04] = "Data Transfer Error",
		[0x06] = "Internal Error",
		[0x07] = "Command Abort Requested",
		[0x0B] = "Invalid Namespace or Format",
		[0x0C] = "Command Sequence Error",
		[0x0F] = "Data SGL Length Invalid",
		[0x11] = "SGL Descriptor Type Invalid",
		[0x15] = "Operation Denied",
		[0x18] = "Host Identifier Inconsistent Format",
		[0x19] = "Keep Alive Timer Expired",
		[0x20] = "Namespace is Write Protected",
		[0x21] = "Command Interrupted",
		[0x22] = "Transient Transport Error",
		[0x80] = "LBA Out of Range",
		[0x81] = "Capacity Exceeded",
		[0x82] = "Namespace Not Ready",
		[0x83] = "Reservation Conflict",
	};
	static const char *const specific[] = {
		[0x01] = "Invalid Queue Identifier",
		[0x02] = "Invalid Queue Size",
		[0x09] = "Invalid Log Page",
		[0x0D] = "Feature Identifier Not Saveable",
		[0x80] = "Connect: Incompatible Format",
		[0x81] = "Connect: Controller Busy",
		[0x82] = "Connect: Invalid Parameters",
		[0x84] = "Connect: Host Not Allowed",
	};
	unsigned sc, sct;
	const char *name = NULL;

	if (status < 0) {
		snprintf(buf, sizeof(buf), "%s", strerror(-status));
		return buf;
	}
	sc = nvme_status_sc((uint16_t)status);
	sct = nvme_status_sct((uint16_t)status);
	if (sct == NVME_SCT_GENERIC && sc < sizeof(generic) / sizeof(generic[0]))
		name = generic[sc];
	else if (sct == NVME_SCT_CMD_SPECIFIC && sc < sizeof(specific) / sizeof(specific[0]))
		name = specific[sc];
	snprintf(buf, sizeof(buf), "NVMe status: %s (sct 0x%x, sc 0x%02x)%s",
		 name ? name : "unknown status", sct, sc,
		 nvme_status_dnr((uint16_t)status) ? ", do not retry" : "");
	return buf;
}

/* ------------------------------------------------------------------ helpers */

void wire_trim(char *dst, size_t dlen, const char *src, size_t slen)
{
	size_t n = 0;

	while (n < slen && n + 1 < dlen && src[n])
		n++;
	memcpy(dst, src, n);
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = 0;
}

/* A 128-bit little-endian counter in decimal. */
static void u128_str(char *out, size_t len, const uint8_t le[16])
{
	uint8_t v[16];
	char tmp[48];
	size_t n = 0;
	bool zero;

	memcpy(v, le, 16);
	do {
		unsigned rem = 0;

		zero = true;
		for (int i = 15; i >= 0; i--) {
			unsigned cur = rem << 8 | v[i];

			v[i] = (uint8_t)(cur / 10);
			rem = cur % 10;
			if (v[i])
				zero = false;
		}
		tmp[n++] = (char)('0' + rem);
	} while (!zero && n < sizeof(tmp) - 1);
	for (size_t i = 0; i < n && i + 1 < len; i++)
		out[i] = tmp[n - 1 - i];
	out[n < len ? n : len - 1] = 0;
}

static json_object *json_u128(const uint8_t le[16])
{
	char s[48];
	uint64_t hi, lo;

	memcpy(&lo, le, 8);
	memcpy(&hi, le + 8, 8);
	if (!le64toh(hi))
		return json_object_new_uint64(le64toh(lo));
	u128_str(s, sizeof(s), le);
	return json_object_new_string(s);
}

static void hex_str(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	out[2 * n] = 0;
}

static void uuid_str(char *out, const uint8_t u[16])
{
	sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		u[13], u[14], u[15]);
}

static void json_out(json_object *root)
{
	printf("%s\n", json_object_to_json_string_ext(root, JSON_FLAGS));
	json_object_put(root);
}

const char *si_suffix(double *v)
{
	static const char *const s[] = { "", "k", "M", "G", "T", "P", "E" };
	unsigned i = 0;

	while (*v >= 1000.0 && i + 1 < sizeof(s) / sizeof(s[0])) {
		*v /= 1000.0;
		i++;
	}
	return s[i];
}

const char *bin_suffix(double *v)
{
	static const char *const s[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
	unsigned i = 0;

	while (*v >= 1024.0 && i + 1 < sizeof(s) / sizeof(s[0])) {
		*v /= 1024.0;
		i++;
	}
	return s[i];
}

/* ------------------------------------------------------------------ discovery log */

void print_disc_log(const struct nvmf_disc_entry *e, unsigned n, uint64_t genctr, int fmt)
{
	if (fmt == OUT_JSON) {
		json_object *root = json_object_new_object();
		json_object *recs = json_object_new_array();

		json_object_object_add(root, "genctr", json_object_new_uint64(genctr));
		json_object_object_add(root, "records", recs);
		for (unsigned i = 0; i < n; i++) {
			json_object *r = json_object_new_object();

			json_object_object_add(r, "trtype", json_object_new_string(str_trtype(e[i].trtype)));
			json_object_object_add(r, "adrfam", json_object_new_string(str_adrfam(e[i].adrfam)));
			json_object_object_add(r, "subtype",
					       json_object_new_string(str_subtype(e[i].subtype)));
			json_object_object_add(r, "treq", json_object_new_string(str_treq(e[i].treq)));
			json_object_object_add(r, "portid", json_object_new_uint64(e[i].portid));
			json_object_object_add(r, "trsvcid", json_object_new_string(e[i].trsvcid));
			json_object_object_add(r, "subnqn", json_object_new_string(e[i].subnqn));
			json_object_object_add(r, "traddr", json_object_new_string(e[i].traddr));
			json_object_object_add(r, "eflags", json_object_new_string(str_eflags(e[i].eflags)));
			if (e[i].trtype == NVMF_TRTYPE_TCP)
				json_object_object_add(r, "sectype",
						       json_object_new_string(str_sectype(e[i].sectype)));
			json_object_array_add(recs, r);
		}
		json_out(root);
		return;
	}
	printf("\nDiscovery Log Number of Records %u, Generation counter %" PRIu64 "\n", n, genctr);
	for (unsigned i = 0; i < n; i++) {
		printf("=====Discovery Log Entry %u======\n", i);
		printf("trtype:  %s\n", str_trtype(e[i].trtype));
		printf("adrfam:  %s\n", e[i].traddr[0] ? str_adrfam(e[i].adrfam) : "");
		printf("subtype: %s\n", str_subtype(e[i].subtype));
		printf("treq:    %s\n", str_treq(e[i].treq));
		printf("portid:  %u\n", e[i].portid);
		printf("trsvcid: %s\n", e[i].trsvcid);
		printf("subnqn:  %s\n", e[i].subnqn);
		printf("traddr:  %s\n", e[i].traddr);
		printf("eflags:  %s\n", str_eflags(e[i].eflags));
		if (e[i].trtype == NVMF_TRTYPE_TCP)
			printf("sectype: %s\n", str_sectype(e[i].sectype));
	}
}

/* ------------------------------------------------------------------ identify controller */

static void print_power(uint16_t p, unsigned scale)
{
	switch (scale & 3) {
	case 0:
		printf("-");
		break;
	case 1:
		printf("%01u.%04uW", p / 10000, p % 10000);
		break;
	case 2:
		printf("%01u.%02uW", p / 100, p % 100);
		break;
	default:
		printf("reserved");
	}
}

static void print_psd(const struct nvme_id_ctrl *c)
{
	for (unsigned i = 0; i <= c->npss && i < 32; i++) {
		const struct nvme_psd *p = &c->psd[i];
		uint16_t mp = le16toh(p->mp);
		static const char *const workload[] = { "-", "1MiB 32 RW, 30s idle", "80K 128KiB SW" };

		printf("ps   %4u : mp:", i);
		if (p->flags & NVME_PSD_FLAG_MXPS)
			printf("%01u.%04uW ", mp / 10000, mp % 10000);
		else
			printf("%01u.%02uW ", mp / 100, mp % 100);
		if (p->flags & NVME_PSD_FLAG_NOPS)
			printf("non-");
		printf("operational enlat:%u exlat:%u rrt:%u rrl:%u\n"
		       "            rwt:%u rwl:%u idle_power:",
		       le32toh(p->enlat), le32toh(p->exlat), p->rrt, p->rrl, p->rwt, p->rwl);
		print_power(le16toh(p->idlp), p->ips >> 6);
		printf(" active_power:");
		print_power(le16toh(p->actp), p->apw_aps >> 6);
		printf("\n            active_power_workload:%s\n",
		       (p->apw_aps & 7) < 3 ? workload[p->apw_aps & 7] : "reserved");
	}
}

static void id_ctrl_json(const struct nvme_id_ctrl *c)
{
	json_object *r = json_object_new_object();
	json_object *psds = json_object_new_array();
	char s[300];

#define JU(k, v) json_object_object_add(r, k, json_object_new_uint64(v))
#define JS(k, v) json_object_object_add(r, k, json_object_new_string(v))
	JU("vid", le16toh(c->vid));
	JU("ssvid", le16toh(c->ssvid));
	wire_trim(s, sizeof(s), c->sn, sizeof(c->sn));
	JS("sn", s);
	wire_trim(s, sizeof(s), c->mn, sizeof(c->mn));
	JS("mn", s);
	wire_trim(s, sizeof(s), c->fr, sizeof(c->fr));
	JS("fr", s);
	JU("rab", c->rab);
	JU("ieee", (uint32_t)c->ieee[2] << 16 | (uint32_t)c->ieee[1] << 8 | c->ieee[0]);
	JU("cmic", c->cmic);
	JU("mdts", c->mdts);
	JU("cntlid", le16toh(c->cntlid));
	JU("ver", le32toh(c->ver));
	JU("rtd3r", le32toh(c->rtd3r));
	JU("rtd3e", le32toh(c->rtd3e));
	JU("oaes", le32toh(c->oaes));
	JU("ctratt", le32toh(c->ctratt));
	JU("rrls", le16toh(c->rrls));
	JU("cntrltype", c->cntrltype);
	uuid_str(s, c->fguid);
	JS("fguid", s);
	JU("crdt1", le16toh(c->crdt1));
	JU("crdt2", le16toh(c->crdt2));
	JU("crdt3", le16toh(c->crdt3));
	JU("nvmsr", c->nvmsr);
	JU("vwci", c->vwci);
	JU("mec", c->mec);
	JU("oacs", le16toh(c->oacs));
	JU("acl", c->acl);
	JU("aerl", c->aerl);
	JU("frmw", c->frmw);
	JU("lpa", c->lpa);
	JU("elpe", c->elpe);
	JU("npss", c->npss);
	JU("avscc", c->avscc);
	JU("apsta", c->apsta);
	JU("wctemp", le16toh(c->wctemp));
	JU("cctemp", le16toh(c->cctemp));
	JU("mtfa", le16toh(c->mtfa));
	JU("hmpre", le32toh(c->hmpre));
	JU("hmmin", le32toh(c->hmmin));
	json_object_object_add(r, "tnvmcap", json_u128(c->tnvmcap));
	json_object_object_add(r, "unvmcap", json_u128(c->unvmcap));
	JU("rpmbs", le32toh(c->rpmbs));
	JU("edstt", le16toh(c->edstt));
	JU("dsto", c->dsto);
	JU("fwug", c->fwug);
	JU("kas", le16toh(c->kas));
	JU("hctma", le16toh(c->hctma));
	JU("mntmt", le16toh(c->mntmt));
	JU("mxtmt", le16toh(c->mxtmt));
	JU("sanicap", le32toh(c->sanicap));
	JU("hmminds", le32toh(c->hmminds));
	JU("hmmaxd", le16toh(c->hmmaxd));
	JU("nsetidmax", le16toh(c->nsetidmax));
	JU("endgidmax", le16toh(c->endgidmax));
	JU("anatt", c->anatt);
	JU("anacap", c->anacap);
	JU("anagrpmax", le32toh(c->anagrpmax));
	JU("nanagrpid", le32toh(c->nanagrpid));
	JU("pels", le32toh(c->pels));
	JU("domainid", le16toh(c->domainid));
	json_object_object_add(r, "megcap", json_u128(c->megcap));
	JU("sqes", c->sqes);
	JU("cqes", c->cqes);
	JU("maxcmd", le16toh(c->maxcmd));
	JU("nn", le32toh(c->nn));
	JU("oncs", le16toh(c->oncs));
	JU("fuses", le16toh(c->fuses));
	JU("fna", c->fna);
	JU("vwc", c->vwc);
	JU("awun", le16toh(c->awun));
	JU("awupf", le16toh(c->awupf));
	JU("icsvscc", c->icsvscc);
	JU("nwpc", c->nwpc);
	JU("acwu", le16toh(c->acwu));
	JU("ocfs", le16toh(c->ocfs));
	JU("sgls", le32toh(c->sgls));
	JU("mnan", le32toh(c->mnan));
	json_object_object_add(r, "maxdna", json_u128(c->maxdna));
	JU("maxcna", le32toh(c->maxcna));
	JU("oaqd", le32toh(c->oaqd));
	wire_trim(s, sizeof(s), c->subnqn, sizeof(c->subnqn));
	JS("subnqn", s);
	JU("ioccsz", le32toh(c->ioccsz));
	JU("iorcsz", le32toh(c->iorcsz));
	JU("icdoff", le16toh(c->icdoff));
	JU("fcatt", c->fcatt);
	JU("msdbd", c->msdbd);
	JU("ofcs", le16toh(c->ofcs));
	JU("dctype", c->dctype);
#undef JU
#undef JS
	for (unsigned i = 0; i <= c->npss && i < 32; i++) {
		const struct nvme_psd *p = &c->psd[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "max_power", json_object_new_uint64(le16toh(p->mp)));
		json_object_object_add(o, "max_power_scale",
				       json_object_new_uint64(p->flags & NVME_PSD_FLAG_MXPS));
		json_object_object_add(o, "non-operational_state",
				       json_object_new_uint64(!!(p->flags & NVME_PSD_FLAG_NOPS)));
		json_object_object_add(o, "entry_lat", json_object_new_uint64(le32toh(p->enlat)));
		json_object_object_add(o, "exit_lat", json_object_new_uint64(le32toh(p->exlat)));
		json_object_object_add(o, "read_tput", json_object_new_uint64(p->rrt));
		json_object_object_add(o, "read_lat", json_object_new_uint64(p->rrl));
		json_object_object_add(o, "write_tput", json_object_new_uint64(p->rwt));
		json_object_object_add(o, "write_lat", json_object_new_uint64(p->rwl));
		json_object_object_add(o, "idle_power", json_object_new_uint64(le16toh(p->idlp)));
		json_object_object_add(o, "idle_scale", json_object_new_uint64(p->ips >> 6));
		json_object_object_add(o, "active_power", json_object_new_uint64(le16toh(p->actp)));
		json_object_object_add(o, "active_power_work", json_object_new_uint64(p->apw_aps & 7));
		json_object_object_add(o, "active_scale", json_object_new_uint64(p->apw_aps >> 6));
		json_object_array_add(psds, o);
	}
	json_object_object_add(r, "psds", psds);
	json_out(r);
}

void print_id_ctrl(const void *id4k, int fmt)
{
	const struct nvme_id_ctrl *c = id4k;
	char s[64];

	if (fmt == OUT_JSON) {
		id_ctrl_json(c);
		return;
	}
	printf("NVME Identify Controller:\n");
	printf("vid       : %#x\n", le16toh(c->vid));
	printf("ssvid     : %#x\n", le16toh(c->ssvid));
	printf("sn        : %-.*s\n", (int)sizeof(c->sn), c->sn);
	printf("mn        : %-.*s\n", (int)sizeof(c->mn), c->mn);
	printf("fr        : %-.*s\n", (int)sizeof(c->fr), c->fr);
	printf("rab       : %u\n", c->rab);
	printf("ieee      : %02x%02x%02x\n", c->ieee[2], c->ieee[1], c->ieee[0]);
	printf("cmic      : %#x\n", c->cmic);
	printf("mdts      : %u\n", c->mdts);
	printf("cntlid    : %#x\n", le16toh(c->cntlid));
	printf("ver       : %#x\n", le32toh(c->ver));
	printf("rtd3r     : %#x\n", le32toh(c->rtd3r));
	printf("rtd3e     : %#x\n", le32toh(c->rtd3e));
	printf("oaes      : %#x\n", le32toh(c->oaes));
	printf("ctratt    : %#x\n", le32toh(c->ctratt));
	printf("rrls      : %#x\n", le16toh(c->rrls));
	printf("cntrltype : %u\n", c->cntrltype);
	uuid_str(s, c->fguid);
	printf("fguid     : %s\n", s);
	printf("crdt1     : %u\n", le16toh(c->crdt1));
	printf("crdt2     : %u\n", le16toh(c->crdt2));
	printf("crdt3     : %u\n", le16toh(c->crdt3));
	printf("nvmsr     : %u\n", c->nvmsr);
	printf("vwci      : %u\n", c->vwci);
	printf("mec       : %u\n", c->mec);
	printf("oacs      : %#x\n", le16toh(c->oacs));
	printf("acl       : %u\n", c->acl);
	printf("aerl      : %u\n", c->aerl);
	printf("frmw      : %#x\n", c->frmw);
	printf("lpa       : %#x\n", c->lpa);
	printf("elpe      : %u\n", c->elpe);
	printf("npss      : %u\n", c->npss);
	printf("avscc     : %#x\n", c->avscc);
	printf("apsta     : %#x\n", c->apsta);
	printf("wctemp    : %u\n", le16toh(c->wctemp));
	printf("cctemp    : %u\n", le16toh(c->cctemp));
	printf("mtfa      : %u\n", le16toh(c->mtfa));
	printf("hmpre     : %u\n", le32toh(c->hmpre));
	printf("hmmin     : %u\n", le32toh(c->hmmin));
	u128_str(s, sizeof(s), c->tnvmcap);
	printf("tnvmcap   : %s\n", s);
	u128_str(s, sizeof(s), c->unvmcap);
	printf("unvmcap   : %s\n", s);
	printf("rpmbs     : %#x\n", le32toh(c->rpmbs));
	printf("edstt     : %u\n", le16toh(c->edstt));
	printf("dsto      : %u\n", c->dsto);
	printf("fwug      : %u\n", c->fwug);
	printf("kas       : %u\n", le16toh(c->kas));
	printf("hctma     : %#x\n", le16toh(c->hctma));
	printf("mntmt     : %u\n", le16toh(c->mntmt));
	printf("mxtmt     : %u\n", le16toh(c->mxtmt));
	printf("sanicap   : %#x\n", le32toh(c->sanicap));
	printf("hmminds   : %u\n", le32toh(c->hmminds));
	printf("hmmaxd    : %u\n", le16toh(c->hmmaxd));
	printf("nsetidmax : %u\n", le16toh(c->nsetidmax));
	printf("endgidmax : %u\n", le16toh(c->endgidmax));
	printf("anatt     : %u\n", c->anatt);
	printf("anacap    : %u\n", c->anacap);
	printf("anagrpmax : %u\n", le32toh(c->anagrpmax));
	printf("nanagrpid : %u\n", le32toh(c->nanagrpid));
	printf("pels      : %u\n", le32toh(c->pels));
	printf("domainid  : %u\n", le16toh(c->domainid));
	u128_str(s, sizeof(s), c->megcap);
	printf("megcap    : %s\n", s);
	printf("sqes      : %#x\n", c->sqes);
	printf("cqes      : %#x\n", c->cqes);
	printf("maxcmd    : %u\n", le16toh(c->maxcmd));
	printf("nn        : %u\n", le32toh(c->nn));
	printf("oncs      : %#x\n", le16toh(c->oncs));
	printf("fuses     : %#x\n", le16toh(c->fuses));
	printf("fna       : %#x\n", c->fna);
	printf("vwc       : %#x\n", c->vwc);
	printf("awun      : %u\n", le16toh(c->awun));
	printf("awupf     : %u\n", le16toh(c->awupf));
	printf("icsvscc   : %u\n", c->icsvscc);
	printf("nwpc      : %u\n", c->nwpc);
	printf("acwu      : %u\n", le16toh(c->acwu));
	printf("ocfs      : %#x\n", le16toh(c->ocfs));
	printf("sgls      : %#x\n", le32toh(c->sgls));
	printf("mnan      : %u\n", le32toh(c->mnan));
	u128_str(s, sizeof(s), c->maxdna);
	printf("maxdna    : %s\n", s);
	printf("maxcna    : %u\n", le32toh(c->maxcna));
	printf("oaqd      : %u\n", le32toh(c->oaqd));
	printf("subnqn    : %-.*s\n", (int)sizeof(c->subnqn), c->subnqn);
	printf("ioccsz    : %u\n", le32toh(c->ioccsz));
	printf("iorcsz    : %u\n", le32toh(c->iorcsz));
	printf("icdoff    : %u\n", le16toh(c->icdoff));
	printf("fcatt     : %#x\n", c->fcatt);
	printf("msdbd     : %u\n", c->msdbd);
	printf("ofcs      : %u\n", le16toh(c->ofcs));
	printf("dctype    : %u\n", c->dctype);
	print_psd(c);
}

/* ------------------------------------------------------------------ identify namespace */

static unsigned nr_lbaf(const struct nvme_id_ns *ns)
{
	unsigned n = (unsigned)ns->nlbaf + ns->nulbaf + 1;

	return n > 64 ? 64 : n;
}

static unsigned flbas_index(uint8_t flbas)
{
	return (flbas & 0xF) | ((flbas >> 5) & 0x3) << 4;
}

void print_id_ns(const void *id4k, uint32_t nsid, int fmt)
{
	const struct nvme_id_ns *ns = id4k;
	unsigned inuse = flbas_index(ns->flbas);
	char s[64];

	if (fmt == OUT_JSON) {
		json_object *r = json_object_new_object();
		json_object *lbafs = json_object_new_array();

#define JU(k, v) json_object_object_add(r, k, json_object_new_uint64(v))
		JU("nsze", le64toh(ns->nsze));
		JU("ncap", le64toh(ns->ncap));
		JU("nuse", le64toh(ns->nuse));
		JU("nsfeat", ns->nsfeat);
		JU("nlbaf", ns->nlbaf);
		JU("flbas", ns->flbas);
		JU("mc", ns->mc);
		JU("dpc", ns->dpc);
		JU("dps", ns->dps);
		JU("nmic", ns->nmic);
		JU("rescap", ns->rescap);
		JU("fpi", ns->fpi);
		JU("dlfeat", ns->dlfeat);
		JU("nawun", le16toh(ns->nawun));
		JU("nawupf", le16toh(ns->nawupf));
		JU("nacwu", le16toh(ns->nacwu));
		JU("nabsn", le16toh(ns->nabsn));
		JU("nabo", le16toh(ns->nabo));
		JU("nabspf", le16toh(ns->nabspf));
		JU("noiob", le16toh(ns->noiob));
		json_object_object_add(r, "nvmcap", json_u128(ns->nvmcap));
		JU("mssrl", le16toh(ns->mssrl));
		JU("mcl", le32toh(ns->mcl));
		JU("msrc", ns->msrc);
		JU("nulbaf", ns->nulbaf);
		JU("anagrpid", le32toh(ns->anagrpid));
		JU("nsattr", ns->nsattr);
		JU("nvmsetid", le16toh(ns->nvmsetid));
		JU("endgid", le16toh(ns->endgid));
#undef JU
		hex_str(s, ns->nguid, 16);
		json_object_object_add(r, "nguid", json_object_new_string(s));
		hex_str(s, ns->eui64, 8);
		json_object_object_add(r, "eui64", json_object_new_string(s));
		for (unsigned i = 0; i < nr_lbaf(ns); i++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "ms", json_object_new_uint64(le16toh(ns->lbaf[i].ms)));
			json_object_object_add(o, "ds", json_object_new_uint64(ns->lbaf[i].lbads));
			json_object_object_add(o, "rp", json_object_new_uint64(ns->lbaf[i].rp & 3));
			json_object_array_add(lbafs, o);
		}
		json_object_object_add(r, "lbafs", lbafs);
		json_out(r);
		return;
	}
	printf("NVME Identify Namespace %u:\n", nsid);
	printf("nsze    : %#" PRIx64 "\n", le64toh(ns->nsze));
	printf("ncap    : %#" PRIx64 "\n", le64toh(ns->ncap));
	printf("nuse    : %#" PRIx64 "\n", le64toh(ns->nuse));
	printf("nsfeat  : %#x\n", ns->nsfeat);
	printf("nlbaf   : %u\n", ns->nlbaf);
	printf("flbas   : %#x\n", ns->flbas);
	printf("mc      : %#x\n", ns->mc);
	printf("dpc     : %#x\n", ns->dpc);
	printf("dps     : %#x\n", ns->dps);
	printf("nmic    : %#x\n", ns->nmic);
	printf("rescap  : %#x\n", ns->rescap);
	printf("fpi     : %#x\n", ns->fpi);
	printf("dlfeat  : %u\n", ns->dlfeat);
	printf("nawun   : %u\n", le16toh(ns->nawun));
	printf("nawupf  : %u\n", le16toh(ns->nawupf));
	printf("nacwu   : %u\n", le16toh(ns->nacwu));
	printf("nabsn   : %u\n", le16toh(ns->nabsn));
	printf("nabo    : %u\n", le16toh(ns->nabo));
	printf("nabspf  : %u\n", le16toh(ns->nabspf));
	printf("noiob   : %u\n", le16toh(ns->noiob));
	u128_str(s, sizeof(s), ns->nvmcap);
	printf("nvmcap  : %s\n", s);
	if (ns->nsfeat & 0x10) {
		printf("npwg    : %u\n", le16toh(ns->npwg));
		printf("npwa    : %u\n", le16toh(ns->npwa));
		printf("npdg    : %u\n", le16toh(ns->npdg));
		printf("npda    : %u\n", le16toh(ns->npda));
		printf("nows    : %u\n", le16toh(ns->nows));
	}
	printf("mssrl   : %u\n", le16toh(ns->mssrl));
	printf("mcl     : %u\n", le32toh(ns->mcl));
	printf("msrc    : %u\n", ns->msrc);
	printf("nulbaf  : %u\n", ns->nulbaf);
	printf("anagrpid: %u\n", le32toh(ns->anagrpid));
	printf("nsattr\t: %u\n", ns->nsattr);
	printf("nvmsetid: %u\n", le16toh(ns->nvmsetid));
	printf("endgid  : %u\n", le16toh(ns->endgid));
	hex_str(s, ns->nguid, 16);
	printf("nguid   : %s\n", s);
	hex_str(s, ns->eui64, 8);
	printf("eui64   : %s\n", s);
	for (unsigned i = 0; i < nr_lbaf(ns); i++)
		printf("lbaf %2u : ms:%-3u lbads:%-2u rp:%#x %s\n", i, le16toh(ns->lbaf[i].ms),
		       ns->lbaf[i].lbads, ns->lbaf[i].rp & 3, i == inuse ? "(in use)" : "");
}

/* ------------------------------------------------------------------ hex dump */

void print_hex(const void *buf, size_t len)
{
	const uint8_t *b = buf;
	char ascii[17];
	size_t i;

	printf("     ");
	for (i = 0; i < 16; i++)
		printf("%3zx", i);
	for (i = 0; i < len; i++) {
		if (i % 16 == 0)
			printf("\n%04zx:", i);
		printf(" %02x", b[i]);
		ascii[i % 16] = b[i] >= '!' && b[i] <= '~' ? (char)b[i] : '.';
		if (i % 16 == 15)
			printf(" \"%.16s\"", ascii);
	}
	if (i % 16) {
		unsigned left = 16 - (unsigned)(i % 16);

		/* the short last line, padded as nvme-cli pads it */
		printf(" %*s \"%.*s\"", (int)(3 * left), "", (int)(i % 16), ascii);
	}
	printf("\n");
}
