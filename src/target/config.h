/*
 * Target configuration: the model the target core consumes, the loader of the JSON that
 * `nvmetcli save` writes (/etc/nvmet/config.json of a kernel target loads unchanged), and
 * the builder behind the quick-start flags (`nvmf-target --ram 1G`).
 *
 * The JSON mirrors nvmet's configfs tree: every object dumps {group: {attr: "text"}} for
 * its writable `<group>_<attr>` files, plus `enable`, `nsid`, `portid`, `grpid`, ... as
 * integers.  Defaults are the ones configfs gives a freshly created object, so a file that
 * lacks a key (older kernels dump fewer) behaves as it would after `nvmetcli restore`.
 *
 * Conventions of the model: every `char *` is non-NULL ("" = not set); enums carry the
 * values the NVMe-oF discovery log uses where there is one; arrays are pointer + count.
 */
#ifndef NVMF_TARGET_CONFIG_H
#define NVMF_TARGET_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NVMF_CFG_DISC_NQN	"nqn.2014-08.org.nvmexpress.discovery"
/* NQN used by the quick-start builder when no --nqn is given. */
#define NVMF_CFG_QUICK_NQN	"nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart"
#define NVMF_CFG_QUICK_ADDR	"127.0.0.1"
#define NVMF_CFG_QUICK_PORT	"4420"

/* Limits, all from nvmet (nvmet.h, configfs.c) unless noted. */
#define NVMF_CFG_NQN_MAX	223	/* NVMF_NQN_SIZE */
#define NVMF_CFG_SERIAL_MAX	20	/* NVMET_SN_MAX_SIZE */
#define NVMF_CFG_MODEL_MAX	40	/* NVMET_MN_MAX_SIZE */
#define NVMF_CFG_FIRMWARE_MAX	8	/* NVMET_FR_MAX_SIZE */
#define NVMF_CFG_TRADDR_MAX	255	/* NVMF_TRADDR_SIZE - 1 */
#define NVMF_CFG_TRSVCID_MAX	31	/* NVMF_TRSVCID_SIZE - 1 */
#define NVMF_CFG_CNTLID_MIN	1	/* NVME_CNTLID_MIN */
#define NVMF_CFG_CNTLID_MAX	0xFFEF	/* NVME_CNTLID_MAX; FFF0h.. are reserved */
#define NVMF_CFG_QID_MAX	128	/* NVMET_NR_QUEUES */
#define NVMF_CFG_QUEUE_SIZE_MIN	16	/* NVMET_MIN_QUEUE_SIZE */
#define NVMF_CFG_QUEUE_SIZE_MAX	1024	/* NVMET_MAX_QUEUE_SIZE */
#define NVMF_CFG_MDTS_MAX	255	/* NVMET_MAX_MDTS */
#define NVMF_CFG_ANA_GRPS_MAX	128	/* NVMET_MAX_ANAGRPS */
#define NVMF_CFG_NS_MAX		1024	/* NVMET_MAX_NAMESPACES per subsystem */
#define NVMF_CFG_NSID_MAX	0xFFFFFFFEu	/* FFFFFFFFh is the broadcast NSID */

/* NVMe VS register encoding; the default is nvmet's NVMET_DEFAULT_VS (2.1.0). */
#define NVMF_CFG_VS(maj, min, ter) \
	(((uint32_t)(maj) << 16) | ((uint32_t)(min) << 8) | (uint32_t)(ter))
#define NVMF_CFG_DEFAULT_VS	NVMF_CFG_VS(2, 1, 0)
#define NVMF_CFG_DEFAULT_MODEL	"Linux"	/* NVMET_DEFAULT_CTRL_MODEL */

/* addr.trtype: discovery-log TRTYPE codes (PCI as in the kernel's nvmet-pci-epf). */
enum nvmf_cfg_trtype {
	NVMF_CFG_TRTYPE_PCI = 0,
	NVMF_CFG_TRTYPE_RDMA = 1,
	NVMF_CFG_TRTYPE_FC = 2,
	NVMF_CFG_TRTYPE_TCP = 3,
	NVMF_CFG_TRTYPE_LOOP = 254,
	NVMF_CFG_TRTYPE_UNSET = 255,	/* "" in a dump: never written */
};

/* addr.adrfam: discovery-log ADRFAM codes. */
enum nvmf_cfg_adrfam {
	NVMF_CFG_ADRFAM_PCI = 0,
	NVMF_CFG_ADRFAM_IPV4 = 1,
	NVMF_CFG_ADRFAM_IPV6 = 2,
	NVMF_CFG_ADRFAM_IB = 3,
	NVMF_CFG_ADRFAM_FC = 4,
	NVMF_CFG_ADRFAM_LOOP = 254,
	NVMF_CFG_ADRFAM_UNSET = 255,
};

/* addr.treq, secure-channel bits of the discovery-log TREQ field. */
enum nvmf_cfg_treq {
	NVMF_CFG_TREQ_NOT_SPECIFIED = 0,
	NVMF_CFG_TREQ_REQUIRED = 1,
	NVMF_CFG_TREQ_NOT_REQUIRED = 2,
};

/* addr.tsas: the security type of a TCP port (RDMA QP types load for ignored ports). */
enum nvmf_cfg_tsas {
	NVMF_CFG_TSAS_NONE = 0,
	NVMF_CFG_TSAS_TLS13,
	NVMF_CFG_TSAS_RDMA_CONNECTED,
	NVMF_CFG_TSAS_RDMA_DATAGRAM,
};

/* ana.state: ANA log page state codes. */
enum nvmf_cfg_ana_state {
	NVMF_CFG_ANA_OPTIMIZED = 0x1,
	NVMF_CFG_ANA_NONOPTIMIZED = 0x2,
	NVMF_CFG_ANA_INACCESSIBLE = 0x3,
	NVMF_CFG_ANA_PERSISTENT_LOSS = 0x4,
	NVMF_CFG_ANA_CHANGE = 0xF,
};

/* dhchap.hash: DH-HMAC-CHAP hash identifiers (TP 8006). */
enum nvmf_cfg_dhchap_hash {
	NVMF_CFG_DHCHAP_SHA256 = 1,	/* configfs default */
	NVMF_CFG_DHCHAP_SHA384 = 2,
	NVMF_CFG_DHCHAP_SHA512 = 3,
};

/* dhchap.dhgroup: DH group identifiers (TP 8006). */
enum nvmf_cfg_dhchap_dhgroup {
	NVMF_CFG_DHGROUP_NULL = 0,	/* configfs default */
	NVMF_CFG_DHGROUP_2048 = 1,
	NVMF_CFG_DHGROUP_3072 = 2,
	NVMF_CFG_DHGROUP_4096 = 3,
	NVMF_CFG_DHGROUP_6144 = 4,
	NVMF_CFG_DHGROUP_8192 = 5,
};

/*
 * Where a namespace's blocks live.  nvmetcli's own JSON only yields AUTO (like nvmet: a
 * block device gets the block backend, anything else the file backend); the quick-start
 * flags and our device.backend key ("ram", "null", "file", "block": what the JSON-RPC's
 * bdev_malloc_create / bdev_null_create make, saved by --save) yield the others.
 */
enum nvmf_cfg_backend {
	NVMF_BACKEND_AUTO = 0,	/* path: block device -> BLOCK, else FILE */
	NVMF_BACKEND_FILE,	/* path must be a regular file (--file) */
	NVMF_BACKEND_BLOCK,	/* path must be a block device (--device) */
	NVMF_BACKEND_RAM,	/* size bytes of memory, path "" (--ram) */
	NVMF_BACKEND_NULL,	/* size bytes, reads return zeroes, writes dropped */
};

struct nvmf_cfg_host {
	char *nqn;
	char *dhchap_key;	/* "DHHC-1:..." host secret, "" = no authentication */
	char *dhchap_ctrl_key;	/* controller secret for bidirectional auth, "" = none */
	enum nvmf_cfg_dhchap_hash dhchap_hash;
	enum nvmf_cfg_dhchap_dhgroup dhchap_dhgroup;
};

struct nvmf_cfg_ana_group {
	uint32_t grpid;		/* 1..128 */
	enum nvmf_cfg_ana_state state;
};

struct nvmf_cfg_referral {
	char *name;
	enum nvmf_cfg_trtype trtype;
	enum nvmf_cfg_adrfam adrfam;
	uint16_t portid;
	char *traddr;
	char *trsvcid;
	enum nvmf_cfg_treq treq;
	bool enable;		/* only enabled referrals appear in the discovery log */
};

struct nvmf_cfg_port {
	uint16_t portid;
	enum nvmf_cfg_trtype trtype;
	enum nvmf_cfg_adrfam adrfam;
	char *traddr;
	char *trsvcid;
	enum nvmf_cfg_treq treq;	/* with TLS, "not specified" becomes REQUIRED as in nvmet */
	enum nvmf_cfg_tsas tsas;
	int inline_data_size;		/* bytes, -1 = transport default (nvmet-tcp: 16 KiB) */
	int max_queue_size;		/* 16..1024, -1 = transport default (1024) */
	int mdts;			/* 0..255 (log2 pages), -1 = transport default */
	bool pi_enable;
	/*
	 * param.mptcp (ours, not nvmet's: configfs has no such attribute): listen with
	 * IPPROTO_MPTCP, so that hosts that speak Multipath TCP get subflows over every path
	 * the kernel's path manager knows (`ip mptcp endpoint`); plain TCP hosts are served as
	 * before.  A kernel without MPTCP: the port listens on plain TCP, with a warning.
	 */
	bool mptcp;
	/*
	 * Whether the target listens on this port: a TCP port with at least one subsystem
	 * linked (nvmet enables a port only once a subsystem is linked).  Other ports load
	 * for round-tripping and are ignored with a warning.
	 */
	bool enabled;
	char **subsystems;		/* NQNs, each names an entry of nvmf_cfg.subsystems */
	size_t nr_subsystems;
	struct nvmf_cfg_ana_group *ana_groups;	/* group 1 always present */
	size_t nr_ana_groups;
	struct nvmf_cfg_referral *referrals;
	size_t nr_referrals;
};

struct nvmf_cfg_ns {
	uint32_t nsid;			/* 1..0xFFFFFFFE */
	bool enable;
	enum nvmf_cfg_backend backend;
	char *path;			/* device.path; "" for RAM and NULL */
	uint64_t size;			/* RAM / NULL only: bytes */
	uint32_t block_size;		/* device.block_size (ours): 512 or 4096; 0 = RAM / NULL
					 * 512, file: the backend's choice */
	/*
	 * device.bdev (ours): the name the JSON-RPC interface knows the backing by (SPDK's
	 * bdev_name), "" when the namespace came from a file that did not name it.
	 */
	char *bdev_name;
	bool prealloc;			/* RAM only: reserve it all at start (--prealloc) */
	bool lazy;			/* RAM only: device.lazy (ours) / --ram-lazy: memory
					 * only where written, no background population */
	uint8_t uuid[16];
	bool has_uuid;			/* false: the target generates one, as nvmet does */
	uint8_t nguid[16];
	bool has_nguid;			/* false for absent or all-zero (nvmet's "not set") */
	uint32_t ana_grpid;		/* 1..128 */
	bool resv_enable;		/* resv.enable: NVMe reservations (nvmet's resv_enable) */
	/*
	 * resv.ptpl_file (ours; SPDK's ptpl_file): where reservations persist through power
	 * loss when a host asks; "" = next to a file backend ("<path>.resv"), none otherwise.
	 */
	char *resv_ptpl_file;
};

struct nvmf_cfg_passthru {
	bool present;			/* the file had a passthru entry */
	bool enable;
	char *path;			/* NVMe controller, e.g. /dev/nvme0 */
	uint32_t admin_timeout;
	uint32_t io_timeout;
	uint32_t clear_ids;
};

struct nvmf_cfg_subsys {
	char *nqn;
	bool allow_any_host;
	char *serial;			/* "" = the target generates 20 random hex digits */
	char *model;
	char *firmware;			/* "" = the target reports its own version */
	uint32_t ieee_oui;		/* 24 bits */
	uint16_t vendor_id;
	uint16_t subsys_vendor_id;
	uint16_t cntlid_min;
	uint16_t cntlid_max;
	uint16_t qid_max;		/* highest I/O queue id, 1..128 */
	bool tbkas;			/* traffic-based keep-alive */
	bool pi_enable;
	uint32_t version;		/* NVMF_CFG_VS() encoding */
	char **allowed_hosts;		/* host NQNs, each names an entry of nvmf_cfg.hosts */
	size_t nr_allowed_hosts;
	/*
	 * listed_hosts (ours): hosts SPDK's JSON-RPC added while allow_any_host was set, which
	 * nvmet cannot hold in allowed_hosts then.  They grant nothing (any host may connect);
	 * they become allowed_hosts when allow_any_host is cleared.  Each names a hosts[] entry.
	 */
	char **listed_hosts;
	size_t nr_listed_hosts;
	struct nvmf_cfg_ns *namespaces;
	size_t nr_namespaces;
	struct nvmf_cfg_passthru passthru;
};

struct nvmf_cfg {
	/* where it came from, for errors found when it is applied ("config.json"); NULL:
	 * built by the quick-start flags or the JSON-RPC interface */
	char *source;
	char *discovery_nqn;
	struct nvmf_cfg_host *hosts;
	size_t nr_hosts;
	struct nvmf_cfg_port *ports;
	size_t nr_ports;
	struct nvmf_cfg_subsys *subsystems;
	size_t nr_subsystems;
	/* Non-fatal findings, "<file>: <key path>: <text>", for the caller to log. */
	char **warnings;
	size_t nr_warnings;
};

/*
 * Load a configuration.  On success returns 0 and *out (free with nvmf_cfg_free()).
 * On failure returns a negative errno (-EINVAL for a bad file), leaves *out NULL and
 * writes one line into err: "<file>: <key path>: <what and why>", or for a JSON syntax
 * error "<file>:<line>:<column>: ...".  err may be NULL.
 */
int nvmf_cfg_load_file(const char *path, struct nvmf_cfg **out, char *err, size_t errlen);
int nvmf_cfg_load_string(const char *json, const char *name_for_errors,
			 struct nvmf_cfg **out, char *err, size_t errlen);
void nvmf_cfg_free(struct nvmf_cfg *cfg);

/*
 * A configuration holding secrets (DH-HMAC-CHAP keys) must come from a file only its owner
 * may access, as the TLS keys file: 0, or -EACCES with "<file>: holds ... (mode 0644):
 * chmod 600 it" in err.  nvmetcli saves with the umask (0644 by default).
 */
int nvmf_cfg_check_private(const char *path, const struct nvmf_cfg *cfg, char *err,
			   size_t errlen);

/* The quick-start flags: one subsystem open to any host, one namespace, one TCP port. */
struct nvmf_cfg_quick {
	enum nvmf_cfg_backend backend;	/* RAM / NULL (size), FILE / BLOCK / AUTO (path) */
	const char *path;		/* --file PATH or --device /dev/X */
	uint64_t size;			/* --ram SIZE in bytes, a multiple of 512 */
	bool prealloc;			/* --prealloc: RAM reserved at start, on huge pages */
	bool lazy;			/* --ram-lazy: RAM taken only as written */
	bool mptcp;			/* --mptcp: the port's param.mptcp */
	const char *listen;		/* "ADDR[:PORT]" or "[V6ADDR][:PORT]", NULL = 127.0.0.1:4420 */
	const char *nqn;		/* NULL = NVMF_CFG_QUICK_NQN */
	bool tls;			/* --tls: the port takes TLS 1.3 only (tsas tls1.3,
					 * treq required); the PSKs come from --tls-keys */
};

/* Build the configuration for the flags; NULL with a message in err on bad input. */
struct nvmf_cfg *nvmf_cfg_quickstart(const struct nvmf_cfg_quick *q, char *err, size_t errlen);

/* "1G", "512M", "64KiB", "4096": binary multiples.  0 on success, -EINVAL otherwise. */
int nvmf_cfg_parse_size(const char *s, uint64_t *out);

/* Lookups for the target core; NULL when absent. */
const struct nvmf_cfg_subsys *nvmf_cfg_find_subsys(const struct nvmf_cfg *cfg, const char *nqn);
const struct nvmf_cfg_host *nvmf_cfg_find_host(const struct nvmf_cfg *cfg, const char *nqn);

/* ANA state of group grpid on a port; like nvmet, undefined groups are inaccessible. */
enum nvmf_cfg_ana_state nvmf_cfg_port_ana_state(const struct nvmf_cfg_port *port, uint32_t grpid);

/* Names as they appear in the JSON, for logs ("tcp", "ipv4", "required", ...). */
const char *nvmf_cfg_trtype_name(enum nvmf_cfg_trtype t);
const char *nvmf_cfg_adrfam_name(enum nvmf_cfg_adrfam a);
const char *nvmf_cfg_treq_name(enum nvmf_cfg_treq t);
const char *nvmf_cfg_tsas_name(enum nvmf_cfg_tsas t);
const char *nvmf_cfg_ana_state_name(enum nvmf_cfg_ana_state s);
const char *nvmf_cfg_dhchap_hash_name(enum nvmf_cfg_dhchap_hash h);
const char *nvmf_cfg_dhchap_dhgroup_name(enum nvmf_cfg_dhchap_dhgroup g);
const char *nvmf_cfg_backend_name(enum nvmf_cfg_backend b);

/*
 * The writer (config_save.c): the configuration as the JSON `nvmetcli save` writes (what
 * nvmf_cfg_load_string() reads back to the same model), plus our keys where nvmet has none
 * (device.backend/size/block_size/bdev of RAM and null namespaces, param.mptcp).
 * NULL when out of memory.  The caller owns the object (json_object_put).
 */
struct json_object;
struct json_object *nvmf_cfg_to_json(const struct nvmf_cfg *cfg);
/* Whether cfg holds secrets (DH-HMAC-CHAP keys): such a file must be mode 0600. */
bool nvmf_cfg_has_secrets(const struct nvmf_cfg *cfg);
/*
 * Write it to path atomically (a temporary file in the same directory, fsync, rename):
 * a crash leaves the old file or the new one.  Mode 0600 when it holds secrets, else 0644.
 * 0 or -errno with "<path>: <why>" in err.
 */
int nvmf_cfg_save_file(const struct nvmf_cfg *cfg, const char *path, char *err, size_t errlen);

#endif
