/*
 * nvmf — the host command-line tool: what the verbs share.  Option tables (one per verb,
 * as nvme-cli declares them), the fabrics flags every remote verb takes, the state files
 * of connected controllers (/run/nvmf), and the printers of nvme-cli's output formats.
 */
#ifndef NVMF_TOOLS_NVMF_H
#define NVMF_TOOLS_NVMF_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "nvmf/nvmf.h"
#include "tools/cli-opts.h"

#define EXIT_USAGE 2
#define NVMF_UNSET INT_MIN          /* an integer option that was not given */
#define NVMF_DISC_PORT "8009"
#define NVMF_IO_PORT "4420"

/* The flags that name a controller and this host (discover, connect, id-*, read, ...). */
struct fabrics_args {
	const char *transport;
	const char *traddr;
	const char *trsvcid;
	const char *host_traddr;
	const char *subnqn;
	const char *hostnqn;
	const char *hostid;
	int nr_io_queues;            /* NVMF_UNSET when not given */
	int queue_size;
	int kato_s;
	int reconnect_delay_s;
	int ctrl_loss_tmo_s;
	bool hdgst, ddgst, duplicate, disable_sqflow;
	const char *output;          /* -o */
	bool quiet;                  /* --quiet (connect-all: already connected is no error) */
	const char *dhchap_secret;   /* -S: DH-HMAC-CHAP host key */
	const char *dhchap_ctrl_secret; /* -C: controller key (bidirectional) */
	const char *config;          /* -J: nvme-cli's JSON configuration (keys) */
	bool tls;                    /* --tls */
	const char *tls_key;         /* --tls-key: the configured PSK (NVMeTLSkey-1:...) */
	int tls_identity;            /* --tls-identity-version 0|1; NVMF_UNSET: the library's */
	bool tls_compat;             /* --tls-compat: libnvme <= 1.15's derivation */
	const char *tls_record;      /* --tls-record auto|user|kernel */
	bool mptcp;                  /* --mptcp: Multipath TCP sockets */
	const char *iopolicy;        /* --iopolicy: the subsystem's multipath iopolicy */
	bool no_ublk;
};

#define CLI_TARGET_OPTS(a)                                                                  \
	{ "transport", 't', CLI_STR, &(a).transport, "TRTYPE", "transport type (tcp)" },    \
	{ "traddr", 'a', CLI_STR, &(a).traddr, "ADDR", "transport address" },               \
	{ "trsvcid", 's', CLI_STR, &(a).trsvcid, "PORT", "transport service id (port)" },   \
	{ "host-traddr", 'w', CLI_STR, &(a).host_traddr, "ADDR", "local address to use" },  \
	{ "hostnqn", 'q', CLI_STR, &(a).hostnqn, "NQN",                                     \
	  "host NQN (default: /etc/nvme/hostnqn, else generated)" },                        \
	{ "hostid", 'I', CLI_STR, &(a).hostid, "UUID",                                      \
	  "host ID (default: /etc/nvme/hostid, else derived)" },                            \
	{ "hdr-digest", 'g', CLI_FLAG, &(a).hdgst, NULL, "enable header digest" },          \
	{ "data-digest", 'G', CLI_FLAG, &(a).ddgst, NULL, "enable data digest" },           \
	{ "dhchap-secret", 'S', CLI_STR, &(a).dhchap_secret, "KEY",                         \
	  "DH-HMAC-CHAP host key (DHHC-1:..., nvmf gen-dhchap-key)" },                      \
	{ "dhchap-ctrl-secret", 'C', CLI_STR, &(a).dhchap_ctrl_secret, "KEY",               \
	  "DH-HMAC-CHAP controller key: authenticate the controller too" },                 \
	{ "config", 'J', CLI_STR, &(a).config, "FILE",                                      \
	  "keys from nvme-cli's JSON config (default /etc/nvme/config.json; none: off)" }, \
	{ "tls", 0, CLI_FLAG, &(a).tls, NULL, "TLS 1.3 with a pre-shared key (needs a key)" }, \
	{ "tls-key", 0, CLI_STR, &(a).tls_key, "KEY",                                      \
	  "TLS PSK (NVMeTLSkey-1:..., nvmf gen-tls-key); implies --tls" },                \
	{ "tls-identity-version", 0, CLI_INT, &(a).tls_identity, "0|1",                    \
	  "PSK identity offered: 1 NVMe1R.. (default), 0 NVMe0R.. (SPDK)" },               \
	{ "tls-compat", 0, CLI_FLAG, &(a).tls_compat, NULL,                                \
	  "derive the PSK as libnvme <= 1.15 (nvme-cli 2.13)" },                           \
	{ "tls-record", 0, CLI_STR, &(a).tls_record, "MODE",                               \
	  "TLS records: auto (kTLS when it can), user (OpenSSL), kernel" },                \
	{ "mptcp", 0, CLI_FLAG, &(a).mptcp, NULL,                                          \
	  "Multipath TCP: subflows on the paths of `ip mptcp endpoint`" }

#define CLI_CONNECT_OPTS(a)                                                                 \
	{ "nr-io-queues", 'i', CLI_INT, &(a).nr_io_queues, "NUM",                           \
	  "number of I/O queues (default: online CPUs)" },                                  \
	{ "queue-size", 'Q', CLI_INT, &(a).queue_size, "NUM", "I/O queue size (default 128)" }, \
	{ "keep-alive-tmo", 'k', CLI_INT, &(a).kato_s, "SEC", "keep-alive timeout (default 5)" }, \
	{ "reconnect-delay", 'c', CLI_INT, &(a).reconnect_delay_s, "SEC",                   \
	  "delay between reconnect attempts (default 10)" },                                \
	{ "ctrl-loss-tmo", 'l', CLI_INT, &(a).ctrl_loss_tmo_s, "SEC",                       \
	  "give up reconnecting after SEC (default 600, -1: never)" },                      \
	{ "duplicate-connect", 'D', CLI_FLAG, &(a).duplicate, NULL,                         \
	  "allow another controller to the same subsystem and address" },                   \
	{ "disable-sqflow", 0, CLI_FLAG, &(a).disable_sqflow, NULL,                         \
	  "ask the controller to disable SQ flow control" },                                \
	{ "iopolicy", 0, CLI_STR, &(a).iopolicy, "POLICY",                                  \
	  "multipath I/O policy of the subsystem's devices: numa (default: the first "      \
	  "usable path), round-robin or queue-depth; another path's connect changes it" },  \
	{ "no-ublk", 0, CLI_FLAG, &(a).no_ublk, NULL,                                       \
	  "hold the controller without exposing block devices" }

void fabrics_args_init(struct fabrics_args *a);
/*
 * Check the flags (tcp only, an address, values in range) and fill o from them.
 * need_nqn: -n is required.  def_port: the port when -s is absent.  Returns 0, or
 * EXIT_USAGE after printing why.  Strings in o point into a.
 */
int fabrics_opts(struct fabrics_args *a, struct nvmf_ctrl_opts *o, bool need_nqn,
		 const char *def_port);
/* -o value: 0 normal, 1 json, 2 binary (when allowed); -1 bad (printed). */
enum out_fmt { OUT_NORMAL, OUT_JSON, OUT_BINARY };
int parse_output(const char *s, bool allow_binary);

/*
 * The keys for the controller o names (traddr, trsvcid, subnqn, hostnqn; NULL hostnqn: this
 * host's): DH-HMAC-CHAP -S / -C and TLS --tls / --tls-key, else nvme-cli's JSON
 * configuration (-J, or /etc/nvme/config.json when it exists) as libnvme reads it (a
 * port's "tls" and "tls_key").  o->tls set by the caller stays set (connect-all: a log
 * entry asking for TLS).  o's key pointers may point into static storage, valid until the
 * next call.  0, or 1 after printing why (-J unreadable).
 */
int cli_keys(const struct fabrics_args *a, struct nvmf_ctrl_opts *o);

/* This host's identity with the -q / -I overrides applied. */
void resolve_host(struct fabrics_args *a, char *nqn, size_t nqnlen, char *id, size_t idlen);

/* Connect a short-lived controller for a one-shot verb (id-ctrl, read, ...): prints the
 * error and returns NULL on failure. */
struct nvmf_ctrl *connect_oneshot(const struct nvmf_ctrl_opts *o);

/* ------------------------------------------------------------------ verbs */

int cmd_discover(int argc, char **argv);
int cmd_connect_all(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_disconnect(int argc, char **argv);
int cmd_disconnect_all(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_id_ctrl(int argc, char **argv);
int cmd_id_ns(int argc, char **argv);
int cmd_get_log(int argc, char **argv);
int cmd_read(int argc, char **argv);
int cmd_write(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_gen_dhchap_key(int argc, char **argv);
int cmd_check_dhchap_key(int argc, char **argv);
int cmd_gen_tls_key(int argc, char **argv);
int cmd_check_tls_key(int argc, char **argv);

/*
 * Connect one controller and leave a daemon holding it (nvmf-connect.c); used by connect
 * and connect-all.  Prints the result line, or the error.  Returns 0, 1 on error, or
 * CONNECT_ALREADY (nothing printed) when this host already has a controller on that
 * subsystem at that address and -D was not given.
 */
#define CONNECT_ALREADY 3
int connect_one(struct fabrics_args *a, const struct nvmf_ctrl_opts *o, int fmt);

/* ------------------------------------------------------------------ state of connected controllers */

struct ns_state {
	uint32_t nsid;
	int ublk_id;                 /* -1: no block device */
	uint64_t nsze, nuse;         /* blocks */
	uint32_t block_size;
	uint16_t ms;                 /* metadata bytes per block */
};

struct ctrl_state {
	char name[32];               /* nvmfN */
	pid_t pid;
	char state[16];              /* connecting, live, reconnecting */
	char subnqn[257], traddr[257], trsvcid[33], host_traddr[257];
	char hostnqn[257], hostid[64];
	unsigned cntlid;
	char sn[21], mn[41], fr[9];
	char log[512];
	bool ublk;
	/*
	 * Multipath: a controller at another address of a subsystem a daemon already holds is
	 * a path of that daemon's namespaces (its block devices stay one each): path_of
	 * names the daemon's first controller, pid is that daemon.  error: why adding failed.
	 */
	char path_of[32];
	char ana[16];                /* ANA state of the first namespace through it, or "" */
	/*
	 * The daemon's: its devices' multipath iopolicy.  A path request's: the iopolicy it
	 * asks the daemon to switch to, or "" to leave it.
	 */
	char iopolicy[16];
	bool tls, mptcp;             /* the connection: TLS 1.3 (PSK), Multipath TCP */
	char error[256];
	unsigned nr_ns;
	struct ns_state *ns;         /* malloc'ed */
};

/* Where state files live: $NVMF_RUN_DIR, else /run/nvmf. */
const char *run_dir(void);
int state_path(char *buf, size_t len, const char *name, const char *ext);
int state_load(const char *path, struct ctrl_state *s);
int state_save(const struct ctrl_state *s);
void state_free(struct ctrl_state *s);
/* Every controller whose daemon is alive, sorted by name; stale files are removed.
 * Returns the count (array malloc'ed, free with states_free) or -errno. */
int states_live(struct ctrl_state **out);
void states_free(struct ctrl_state *s, int n);
bool pid_alive(pid_t pid);

/* ------------------------------------------------------------------ output (nvmf-print.c) */

const char *str_trtype(uint8_t v);
const char *str_adrfam(uint8_t v);
const char *str_subtype(uint8_t v);
const char *str_treq(uint8_t v);
const char *str_eflags(uint16_t v);
const char *str_sectype(uint8_t v);
/* "LBA Out of Range (0x80)" style text of an NVMe status field, or strerror of -errno. */
const char *str_status(int status);

void print_disc_log(const struct nvmf_disc_entry *e, unsigned n, uint64_t genctr, int fmt);
void print_id_ctrl(const void *id4k, int fmt);
void print_id_ns(const void *id4k, uint32_t nsid, int fmt);
/* nvme-cli's hex dump: offset column, 16 bytes a line, printable ASCII beside. */
void print_hex(const void *buf, size_t len);
/* Scale v to its SI (k, M, G: 1000) or binary (Ki, Mi: 1024) unit; returns the prefix. */
const char *si_suffix(double *v);
const char *bin_suffix(double *v);
/* Trim a space-padded wire string into dst. */
void wire_trim(char *dst, size_t dlen, const char *src, size_t slen);

/* Write all of buf to fd (retrying short writes); 0 or -errno. */
int cli_write_all(int fd, const void *buf, size_t len);

#endif
