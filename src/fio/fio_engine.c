/*
 * libnvmf-fio.so: a fio ioengine that drives libnvmf, so that fio's usual job files run
 * against any NVMe/TCP controller without the kernel's host:
 *
 *   ioengine=external:/path/to/libnvmf-fio.so
 *   filename=trtype=tcp adrfam=ipv4 traddr=127.0.0.1 trsvcid=4420 subnqn=nqn.2014-08.org.nvmexpress\:nvmf-tcp\:quickstart ns=1
 *   thread=1   (optional: processes work as well)
 *
 * The filename is an SPDK-style transport ID, as SPDK's fio plugin takes it, read by
 * libnvmf's nvmf_trid_parse (as nvmf perf -r is): key=value (or key:value) pairs separated
 * by spaces; keys trtype (tcp), adrfam (ipv4, ipv6), traddr, trsvcid (default 4420),
 * subnqn (default: the only NVM subsystem the discovery controller at traddr:trsvcid
 * lists), ns (default 1), hostnqn, hostaddr.  fio splits filename= at ':' into several
 * files, so the colons of NQNs and IPv6 addresses are written '\:'.
 *
 * Engine options: hdgst, ddgst (digests), queue_size, kato (seconds), hostnqn, busy_poll
 * (default 1; 0 sleeps on the queue's fd while waiting for completions), fua,
 * reconnect_delay and ctrl_loss_tmo (seconds; a lost connection is retried, its commands
 * resubmitted, until ctrl_loss_tmo: then they fail), dhchap_secret / dhchap_ctrl_secret
 * (DH-HMAC-CHAP), tls_key / tls_identity_version / tls_compat / tls_record (TLS 1.3 with
 * a PSK; the same as nvmf connect's flags).  fio --enghelp=PATH lists them.
 *
 * Every fio job (thread or process) opens its own controller with one I/O queue pair per
 * file, polled only by that job: libnvmf's model of one queue pair per thread, no locks.
 * ->queue() only prepares commands; ->commit() and ->getevents() poll the queue pair, which
 * sends what was queued and runs the completion callbacks; a callback puts its io_u on the
 * job's list of completed io_us, ->getevents() hands out at most max of them.  An io_u
 * larger than the controller's MDTS becomes several commands and completes with the last.
 * fio commits after every iodepth_batch_submit io_us (default 1): each commit is a send,
 * so iodepth_batch_submit / iodepth_batch_complete_min batch the socket writes as they
 * batch io_submit() for libaio.
 *
 * Built against the headers of the installed fio's source (scripts/fio-src): the engine
 * ABI is fio's internal structs, checked by FIO_IOOPS_VERSION and, at ->init(), by the
 * version string of the fio that loaded us.
 */
#include "config-host.h"
#include "fio.h"
#include "optgroup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <nvmf/nvmf.h>

#ifndef NVMF_FIO_VERSION
#error "NVMF_FIO_VERSION (the fio version the headers are from) must be defined"
#endif

#define NF_DISC_NQN "nqn.2014-08.org.nvmexpress.discovery"

/* ------------------------------------------------------------------ options */

struct nf_opts {
	void *pad;                   /* fio stores the thread_data pointer here */
	unsigned int hdgst;
	unsigned int ddgst;
	unsigned int queue_size;
	unsigned int kato;
	char *hostnqn;
	unsigned int busy_poll;
	unsigned int fua;
	unsigned int reconnect_delay;
	unsigned int ctrl_loss_tmo;
	char *dhchap_secret;
	char *dhchap_ctrl_secret;
	char *tls_key;
	unsigned int tls_identity;
	unsigned int tls_compat;
	char *tls_record;
};

static struct fio_option nf_options[] = {
	{
		.name = "hdgst",
		.lname = "NVMe/TCP header digest",
		.type = FIO_OPT_STR_SET,
		.off1 = offsetof(struct nf_opts, hdgst),
		.help = "Enable header digests (CRC32C) on every PDU (nvme connect -g)",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "ddgst",
		.lname = "NVMe/TCP data digest",
		.type = FIO_OPT_STR_SET,
		.off1 = offsetof(struct nf_opts, ddgst),
		.help = "Enable data digests (CRC32C) on every data PDU (nvme connect -G)",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "queue_size",
		.lname = "NVMe I/O queue size",
		.type = FIO_OPT_INT,
		.off1 = offsetof(struct nf_opts, queue_size),
		.minval = 0,
		.maxval = 1024,
		.def = "0",
		.help = "I/O queue entries, 16..1024 (0: max(128, 2 * iodepth))",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "kato",
		.lname = "Keep-alive timeout",
		.type = FIO_OPT_INT,
		.off1 = offsetof(struct nf_opts, kato),
		.maxval = 3600,
		.def = "5",
		.help = "Keep-alive timeout in seconds, 0: none (nvme connect -k)",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "hostnqn",
		.lname = "Host NQN",
		.type = FIO_OPT_STR_STORE,
		.off1 = offsetof(struct nf_opts, hostnqn),
		.help = "Host NQN (default: /etc/nvme/hostnqn, else generated); "
			"hostnqn= in the filename wins",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "busy_poll",
		.lname = "Busy-poll for completions",
		.type = FIO_OPT_BOOL,
		.off1 = offsetof(struct nf_opts, busy_poll),
		.def = "1",
		.help = "Spin on the queue while waiting for completions (0: sleep on its fd)",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "fua",
		.lname = "Force unit access",
		.type = FIO_OPT_STR_SET,
		.off1 = offsetof(struct nf_opts, fua),
		.help = "Set FUA on every write",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "reconnect_delay",
		.lname = "Reconnect delay",
		.type = FIO_OPT_INT,
		.off1 = offsetof(struct nf_opts, reconnect_delay),
		.minval = 1,
		.maxval = 3600,
		.def = "10",
		.help = "Seconds between reconnect attempts after a connection loss "
			"(nvme connect -c)",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "ctrl_loss_tmo",
		.lname = "Controller loss timeout",
		.type = FIO_OPT_INT,
		.off1 = offsetof(struct nf_opts, ctrl_loss_tmo),
		.maxval = 86400,
		.def = "600",
		.help = "Seconds to keep reconnecting before I/O fails, 0: fail at once "
			"(nvme connect -l)",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "dhchap_secret",
		.lname = "DH-HMAC-CHAP host key",
		.type = FIO_OPT_STR_STORE,
		.off1 = offsetof(struct nf_opts, dhchap_secret),
		.help = "Authenticate with this DHHC-1:... key (nvme connect -S)",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "dhchap_ctrl_secret",
		.lname = "DH-HMAC-CHAP controller key",
		.type = FIO_OPT_STR_STORE,
		.off1 = offsetof(struct nf_opts, dhchap_ctrl_secret),
		.help = "Authenticate the controller too, with this DHHC-1:... key (nvme connect -C)",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "tls_key",
		.lname = "TLS PSK",
		.type = FIO_OPT_STR_STORE,
		.off1 = offsetof(struct nf_opts, tls_key),
		.help = "TLS 1.3 with this NVMeTLSkey-1:... PSK (nvme connect --tls-key)",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "tls_identity_version",
		.lname = "TLS PSK identity version",
		.type = FIO_OPT_INT,
		.off1 = offsetof(struct nf_opts, tls_identity),
		.minval = 0,
		.maxval = 1,
		.def = "1",
		.help = "PSK identity version: 1 (NVMe1R0x ... <digest>) or 0 (NVMe0R0x, SPDK's)",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "tls_compat",
		.lname = "TLS PSK compat derivation",
		.type = FIO_OPT_STR_SET,
		.off1 = offsetof(struct nf_opts, tls_compat),
		.help = "Derive the PSK as libnvme <= 1.15 (nvme-cli 2.13) does",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = "tls_record",
		.lname = "TLS record path",
		.type = FIO_OPT_STR_STORE,
		.off1 = offsetof(struct nf_opts, tls_record),
		.help = "Where TLS records are made: auto (default), user, kernel",
		.category = FIO_OPT_C_ENGINE,
		.group = FIO_OPT_G_INVALID,
	},
	{
		.name = NULL,
	},
};

/* ------------------------------------------------------------------ state */

/* One fio file of one job: its own controller and I/O queue pair. */
struct nf_file {
	struct nvmf_ctrl *ctrl;
	struct nvmf_qpair *q;
	uint32_t nsid;
	uint32_t block_size;
	uint32_t max_xfer;           /* bytes per command (MDTS) */
	unsigned depth;              /* commands the queue pair holds */
	bool read_only;
	bool dead;                   /* the controller was given up */
	unsigned unpolled;           /* commands submitted since the queue pair was last polled */
};

/* One fio job. */
struct nf_td {
	struct nf_iou *ready_head;   /* completed, not yet handed to fio: a FIFO */
	struct nf_iou *ready_tail;
	struct io_u **events;        /* what the last ->getevents() returned */
	unsigned nr_events, events_cap;
	unsigned queued;             /* io_us queued since the last ->commit() */
	struct nf_file **open;       /* the open files, polled by commit/getevents */
	unsigned nr_open, open_cap;
	int epfd;                    /* busy_poll=0 with several files: their fds */
	bool logged_status;          /* one NVMe status message per job */
	bool logged_align;           /* one message about unaligned I/O per job */
};

/* One io_u in flight: the commands it became. */
struct nf_iou {
	struct io_u *io_u;
	struct nf_td *ntd;
	struct nf_iou *next;         /* on the job's ready FIFO */
	unsigned pending;
	int error;
	uint16_t status;             /* first NVMe status seen, for the message */
};

static inline struct nf_td *ntd_of(struct thread_data *td)
{
	return td->io_ops_data;
}

/* ------------------------------------------------------------------ filename */

/*
 * "trtype=tcp adrfam=ipv4 traddr=A trsvcid=P subnqn=NQN ns=N" (fio has already turned
 * every '\:' into ':'), parsed by libnvmf's transport-ID parser, with this engine's
 * defaults: port 4420, namespace 1.  Returns 0 or -EINVAL after saying why.
 */
static int nf_parse_trid(const char *name, struct nvmf_trid *t)
{
	char err[256];

	if (nvmf_trid_parse(name, t, err, sizeof(err))) {
		/* the usual mistake: fio cut an NQN or IPv6 address at its colons */
		log_err("nvmf: filename '%s': %s (fio splits filename= at ':': write the colons "
			"of NQNs and IPv6 addresses as '\\:'; e.g. filename=trtype=tcp "
			"adrfam=ipv4 traddr=ADDR trsvcid=4420 subnqn=NQN ns=1)\n", name, err);
		return -EINVAL;
	}
	if (!t->trsvcid[0])
		strcpy(t->trsvcid, "4420");
	if (!t->nsid)
		t->nsid = 1;
	return 0;
}

/* ------------------------------------------------------------------ connecting */

/* Checked by nf_init: anything else is refused there. */
static enum nvmf_tls_mode tls_record_mode(const char *s)
{
	if (s && !strcmp(s, "user"))
		return NVMF_TLS_MODE_USER;
	if (s && !strcmp(s, "kernel"))
		return NVMF_TLS_MODE_KERNEL;
	return NVMF_TLS_MODE_AUTO;
}

static void nf_ctrl_opts(struct thread_data *td, const struct nvmf_trid *t, unsigned nr_io,
			 struct nvmf_ctrl_opts *o)
{
	struct nf_opts *eo = td->eo;

	nvmf_ctrl_opts_init(o);
	nvmf_trid_to_opts(t, o);
	if (!t->hostnqn[0] && eo && eo->hostnqn && eo->hostnqn[0])
		o->hostnqn = eo->hostnqn;
	o->nr_io_queues = nr_io;
	if (eo) {
		o->hdgst = eo->hdgst != 0;
		o->ddgst = eo->ddgst != 0;
		o->kato_ms = eo->kato * 1000;
		o->reconnect_delay_s = (int)eo->reconnect_delay;
		o->ctrl_loss_tmo_s = (int)eo->ctrl_loss_tmo;
		o->dhchap_secret = eo->dhchap_secret;
		o->dhchap_ctrl_secret = eo->dhchap_ctrl_secret;
		o->tls_key = eo->tls_key;
		o->tls = eo->tls_key && eo->tls_key[0];
		o->tls_identity_version = eo->tls_identity;
		o->tls_compat = eo->tls_compat != 0;
		o->tls_record = tls_record_mode(eo->tls_record);
	}
}

/* No subnqn in the filename: the one NVM subsystem the discovery controller lists. */
static int nf_discover_subnqn(struct thread_data *td, const char *fname, struct nvmf_trid *t)
{
	struct nvmf_disc_entry *e = NULL;
	struct nvmf_ctrl_opts o;
	unsigned n = 0, found = 0;
	uint64_t gen;
	int rc;

	nf_ctrl_opts(td, t, 0, &o);
	o.subnqn = NF_DISC_NQN;
	rc = nvmf_discover(&o, false, &e, &n, &gen);
	if (rc) {
		log_err("nvmf: %s: no subnqn= and discovery at %s:%s failed: %s\n", fname,
			t->traddr, t->trsvcid, nvmf_strerror_last());
		return rc;
	}
	for (unsigned i = 0; i < n; i++) {
		if (e[i].subtype != 2) /* NVM subsystem, not a referral */
			continue;
		if (!found++)
			snprintf(t->subnqn, sizeof(t->subnqn), "%s", e[i].subnqn);
		else if (strcmp(t->subnqn, e[i].subnqn))
			found = 1000;
	}
	free(e);
	if (found != 1) {
		log_err("nvmf: %s: no subnqn= and the discovery controller at %s:%s lists %s "
			"NVM subsystems: name one with subnqn= (colons as '\\:')\n", fname,
			t->traddr, t->trsvcid, found ? "several" : "no");
		return -ENOENT;
	}
	return 0;
}

static int nf_connect(struct thread_data *td, struct fio_file *f, unsigned nr_io,
		      struct nvmf_ctrl **ctrl, struct nvmf_ns_info *ns)
{
	struct nf_opts *eo = td->eo;
	struct nvmf_ctrl_opts o;
	struct nvmf_trid t;
	int rc;

	rc = nf_parse_trid(f->file_name, &t);
	if (rc)
		return rc;
	if (!t.subnqn[0]) {
		rc = nf_discover_subnqn(td, f->file_name, &t);
		if (rc)
			return rc;
	}
	nf_ctrl_opts(td, &t, nr_io, &o);
	if (nr_io) {
		unsigned qs = eo ? eo->queue_size : 0;

		if (!qs) {
			qs = td->o.iodepth * 2;
			if (qs < 128)
				qs = 128;
		}
		o.queue_size = qs < 16 ? 16 : qs > 1024 ? 1024 : qs;
	}
	rc = nvmf_ctrl_connect(&o, ctrl);
	if (rc) {
		log_err("nvmf: connect to %s:%s (%s): %s\n", t.traddr, t.trsvcid, t.subnqn,
			nvmf_strerror_last());
		return rc;
	}
	rc = nvmf_ctrl_ns_info(*ctrl, t.nsid, ns);
	if (rc || ns->nblocks == 0 || ns->block_size == 0) {
		log_err("nvmf: %s:%s (%s): namespace %u: %s\n", t.traddr, t.trsvcid, t.subnqn,
			t.nsid, rc < 0 && rc != -ENOENT ? strerror(-rc) : "not an active namespace");
		nvmf_ctrl_disconnect(*ctrl);
		*ctrl = NULL;
		return rc < 0 ? rc : -ENOENT;
	}
	ns->nsid = t.nsid;
	return 0;
}

/* ------------------------------------------------------------------ fio hooks */

/*
 * The namespace's size, before the job starts (often in fio's main process, which then
 * forks the job): a short-lived connection of its own.
 */
static int nf_get_file_size(struct thread_data *td, struct fio_file *f)
{
	struct nvmf_ns_info ns;
	struct nvmf_ctrl *ctrl;
	struct fio_file *g;
	unsigned i;
	int rc;

	if (fio_file_size_known(f))
		return 0;
	/* every name first: an NQN with unescaped colons is several "files", and the
	 * fragment without '=' says what went wrong better than a refused Connect */
	for_each_file(td, g, i) {
		struct nvmf_trid t;

		if (nf_parse_trid(g->file_name, &t)) {
			td_verror(td, EINVAL, "nvmf filename");
			return 1;
		}
	}
	rc = nf_connect(td, f, 0, &ctrl, &ns);
	if (rc) {
		/* fio would take ENOENT for "file not created yet" and go on */
		td_verror(td, rc == -ENOENT ? ENXIO : -rc, "nvmf connect");
		return 1;
	}
	nvmf_ctrl_disconnect(ctrl);
	f->filetype = FIO_TYPE_BLOCK;
	f->real_file_size = ns.nblocks * ns.block_size;
	fio_file_set_size_known(f);
	return 0;
}

static int nf_init(struct thread_data *td)
{
	struct nf_opts *eo = td->eo;
	struct nf_td *ntd;
	unsigned depth = td->o.iodepth ? td->o.iodepth : 1;

	if (strcmp(fio_version_string, "fio-" NVMF_FIO_VERSION)) {
		log_err("nvmf: this engine was built for fio-%s, not %s: rebuild it "
			"(scripts/build fetches the matching fio source)\n", NVMF_FIO_VERSION,
			fio_version_string);
		return 1;
	}
	if (eo && eo->tls_record && strcmp(eo->tls_record, "auto") &&
	    strcmp(eo->tls_record, "user") && strcmp(eo->tls_record, "kernel")) {
		log_err("nvmf: tls_record=%s: auto, user or kernel\n", eo->tls_record);
		return 1;
	}
	ntd = calloc(1, sizeof(*ntd));
	if (!ntd)
		return 1;
	ntd->epfd = -1;
	/* fio asks for at most its queue depth, which is at most iodepth */
	ntd->events_cap = depth;
	ntd->events = calloc(depth, sizeof(*ntd->events));
	if (!ntd->events) {
		free(ntd);
		return 1;
	}
	td->io_ops_data = ntd;
	return 0;
}

static void nf_close_conn(struct nf_td *ntd, struct nf_file *nf)
{
	for (unsigned i = 0; i < ntd->nr_open; i++) {
		if (ntd->open[i] == nf) {
			ntd->open[i] = ntd->open[--ntd->nr_open];
			break;
		}
	}
	if (ntd->epfd >= 0 && nf->q)
		epoll_ctl(ntd->epfd, EPOLL_CTL_DEL, nvmf_qpair_fd(nf->q), NULL);
	nvmf_ctrl_disconnect(nf->ctrl);
	free(nf);
}

static int nf_open_file(struct thread_data *td, struct fio_file *f)
{
	struct nf_td *ntd = td->io_ops_data;
	struct nf_opts *eo = td->eo;
	struct nvmf_ns_info ns;
	struct nf_file *nf;
	unsigned long long max_bs = td_max_bs(td);
	int rc;

	if (FILE_ENG_DATA(f))
		return 0;
	nf = calloc(1, sizeof(*nf));
	if (!nf) {
		td_verror(td, ENOMEM, "calloc");
		return 1;
	}
	rc = nf_connect(td, f, 1, &nf->ctrl, &ns);
	if (rc) {
		free(nf);
		td_verror(td, -rc, "nvmf connect");
		return 1;
	}
	nf->q = nvmf_ctrl_qpair(nf->ctrl, 0);
	nf->nsid = ns.nsid;
	nf->block_size = ns.block_size;
	nf->read_only = ns.read_only;
	nf->max_xfer = nvmf_ctrl_max_xfer(nf->ctrl);
	nf->depth = nf->q ? nvmf_qpair_depth(nf->q) : 0;
	/* libnvmf takes at most 65536 blocks per command */
	if ((uint64_t)nf->max_xfer > 65536ull * nf->block_size)
		nf->max_xfer = 65536u * nf->block_size;
	nf->max_xfer -= nf->max_xfer % nf->block_size;
	if (!nf->q || !nf->max_xfer ||
	    (max_bs + nf->max_xfer - 1) / nf->max_xfer > nf->depth) {
		log_err("nvmf: %s: bs %llu needs more commands than the queue holds (%u "
			"of at most %u bytes): raise queue_size\n", f->file_name, max_bs,
			nf->depth, nf->max_xfer);
		nvmf_ctrl_disconnect(nf->ctrl);
		free(nf);
		td_verror(td, EINVAL, "nvmf open");
		return 1;
	}
	if (ntd->nr_open == ntd->open_cap) {
		unsigned cap = ntd->open_cap ? ntd->open_cap * 2 : 4;
		struct nf_file **n = realloc(ntd->open, cap * sizeof(*n));

		if (!n) {
			nvmf_ctrl_disconnect(nf->ctrl);
			free(nf);
			td_verror(td, ENOMEM, "realloc");
			return 1;
		}
		ntd->open = n;
		ntd->open_cap = cap;
	}
	if (!eo->busy_poll && td->o.nr_files > 1) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = nf };

		if (ntd->epfd < 0)
			ntd->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (ntd->epfd < 0 ||
		    epoll_ctl(ntd->epfd, EPOLL_CTL_ADD, nvmf_qpair_fd(nf->q), &ev)) {
			td_verror(td, errno, "epoll_ctl");
			nvmf_ctrl_disconnect(nf->ctrl);
			free(nf);
			return 1;
		}
	}
	ntd->open[ntd->nr_open++] = nf;
	FILE_SET_ENG_DATA(f, nf);
	dprint(FD_FILE, "nvmf: %s: connected, nsid %u, %u-byte blocks, %u-byte commands, "
	       "queue of %u\n", f->file_name, nf->nsid, nf->block_size, nf->max_xfer, nf->depth);
	return 0;
}

static int nf_close_file(struct thread_data *td, struct fio_file *f)
{
	struct nf_file *nf = FILE_ENG_DATA(f);

	if (nf) {
		nf_close_conn(td->io_ops_data, nf);
		FILE_SET_ENG_DATA(f, NULL);
	}
	return 0;
}

static void nf_cleanup(struct thread_data *td)
{
	struct nf_td *ntd = td->io_ops_data;
	struct fio_file *f;
	unsigned i;

	if (!ntd)
		return;
	for_each_file(td, f, i)
		nf_close_file(td, f);
	while (ntd->nr_open)    /* files fio no longer lists */
		nf_close_conn(ntd, ntd->open[0]);
	if (ntd->epfd >= 0)
		close(ntd->epfd);
	free(ntd->open);
	free(ntd->events);
	free(ntd);
	td->io_ops_data = NULL;
}

static int nf_io_u_init(struct thread_data *td, struct io_u *io_u)
{
	struct nf_iou *iou = calloc(1, sizeof(*iou));

	if (!iou)
		return 1;
	iou->io_u = io_u;
	iou->ntd = td->io_ops_data;
	io_u->engine_data = iou;
	return 0;
}

static void nf_io_u_free(struct thread_data *td, struct io_u *io_u)
{
	(void)td;
	free(io_u->engine_data);
	io_u->engine_data = NULL;
}

static void nf_io_done(void *arg, int status, const struct nvme_cqe *cqe)
{
	struct nf_iou *iou = arg;
	struct nf_td *ntd = iou->ntd;

	(void)cqe;
	if (status && !iou->error) {
		iou->error = status < 0 ? -status : EIO;
		if (status > 0)
			iou->status = (uint16_t)status;
	}
	if (--iou->pending)
		return;
	iou->io_u->error = (unsigned int)iou->error;
	iou->next = NULL;
	if (ntd->ready_tail)
		ntd->ready_tail->next = iou;
	else
		ntd->ready_head = iou;
	ntd->ready_tail = iou;
}

static enum fio_q_status nf_queue(struct thread_data *td, struct io_u *io_u)
{
	struct nf_opts *eo = td->eo;
	struct nf_file *nf = FILE_ENG_DATA(io_u->file);
	struct nf_iou *iou = io_u->engine_data;
	unsigned long long len = io_u->xfer_buflen, off = io_u->offset;
	unsigned parts = 1;
	int rc = 0;

	fio_ro_check(td, io_u);
	if (!nf || nf->dead) {
		io_u->error = nf ? ENODEV : EBADF;
		return FIO_Q_COMPLETED;
	}
	iou->error = 0;
	iou->status = 0;
	if (io_u->ddir == DDIR_READ || io_u->ddir == DDIR_WRITE || io_u->ddir == DDIR_TRIM) {
		if (len == 0 || off % nf->block_size || len % nf->block_size) {
			if (!ntd_of(td)->logged_align) {
				ntd_of(td)->logged_align = true;
				log_err("nvmf: %s: I/O of %llu bytes at %llu is not in whole "
					"%u-byte blocks (bs=, ba=, offset=)\n",
					io_u->file->file_name, len, off, nf->block_size);
			}
			io_u->error = EINVAL;
			return FIO_Q_COMPLETED;
		}
		if (io_u->ddir != DDIR_READ && nf->read_only) {
			io_u->error = EROFS;
			return FIO_Q_COMPLETED;
		}
	}
	if (io_u->ddir == DDIR_READ || io_u->ddir == DDIR_WRITE)
		parts = (unsigned)((len + nf->max_xfer - 1) / nf->max_xfer);
	/* all commands of an io_u go in together or not at all */
	if (nvmf_qpair_inflight(nf->q) + parts > nf->depth)
		return FIO_Q_BUSY;

	iou->pending = parts;
	switch (io_u->ddir) {
	case DDIR_READ:
	case DDIR_WRITE:
		for (unsigned i = 0; i < parts; i++) {
			unsigned long long done = (unsigned long long)i * nf->max_xfer;
			struct iovec iov = {
				.iov_base = (char *)io_u->xfer_buf + done,
				.iov_len = len - done < nf->max_xfer ? len - done : nf->max_xfer,
			};
			uint64_t lba = (off + done) / nf->block_size;
			uint32_t nlb = (uint32_t)(iov.iov_len / nf->block_size);

			if (io_u->ddir == DDIR_READ)
				rc = nvmf_readv(nf->q, nf->nsid, lba, nlb, &iov, 1, nf_io_done, iou);
			else
				rc = nvmf_writev(nf->q, nf->nsid, lba, nlb, &iov, 1,
						 eo->fua ? NVMF_IO_FUA : 0, nf_io_done, iou);
			if (rc) {
				if (i == 0)
					break;
				/* the submitted ones complete the io_u, with an error */
				iou->error = -rc;
				iou->pending -= parts - i;
				nf->unpolled += i;
				ntd_of(td)->queued++;
				return FIO_Q_QUEUED;
			}
		}
		break;
	case DDIR_TRIM:
		if (len / nf->block_size > UINT32_MAX) {
			io_u->error = EINVAL;
			return FIO_Q_COMPLETED;
		}
		rc = nvmf_deallocate(nf->q, nf->nsid, off / nf->block_size,
				     (uint32_t)(len / nf->block_size), nf_io_done, iou);
		break;
	case DDIR_SYNC:
	case DDIR_DATASYNC:
	case DDIR_SYNC_FILE_RANGE:
		rc = nvmf_flush(nf->q, nf->nsid, nf_io_done, iou);
		break;
	default:
		io_u->error = EINVAL;
		return FIO_Q_COMPLETED;
	}
	if (rc == -EAGAIN)
		return FIO_Q_BUSY;
	if (rc) {
		if (rc == -ENODEV)
			nf->dead = true;
		io_u->error = (unsigned int)-rc;
		return FIO_Q_COMPLETED;
	}
	nf->unpolled += parts;
	ntd_of(td)->queued++;
	return FIO_Q_QUEUED;
}

/* Poll one queue pair: sends what was queued, runs completion callbacks.  Returns
 * whether it is still alive. */
static bool nf_poll_one(struct nf_file *nf)
{
	nf->unpolled = 0;
	if (nvmf_qpair_poll(nf->q, 0) == -ENODEV)
		nf->dead = true;
	return !nf->dead;
}

/* Poll every open queue pair once.  Returns the number of queue pairs still alive. */
static unsigned nf_poll_all(struct nf_td *ntd)
{
	unsigned alive = 0;

	for (unsigned i = 0; i < ntd->nr_open; i++)
		if (!ntd->open[i]->dead)
			alive += nf_poll_one(ntd->open[i]);
	return alive;
}

/*
 * Sends only to a queue pair with nothing else in flight; otherwise the commands queued
 * go out with the next ->getevents(), together.  fio commits after every io_u
 * (iodepth_batch_submit=1 by default), and one sendmsg per command made fio's QD32 a
 * stream of 72-byte segments, each answered alone (125K IOPS against 600K for `nvmf perf`
 * on the same target).  A busy queue pair has completions coming, and fio reaps them with
 * ->getevents() soon; an idle one may not be reaped for a while (rate_iops, thinktime: fio
 * sleeps first), so its command leaves now (rate_iops=2000 iodepth=16: mean latency as
 * fio counts it 212 us when every send waited for a reap, 118 us with this rule).
 */
static int nf_commit(struct thread_data *td)
{
	struct nf_td *ntd = td->io_ops_data;

	for (unsigned i = 0; i < ntd->nr_open; i++) {
		struct nf_file *nf = ntd->open[i];

		if (nf->unpolled && !nf->dead && nvmf_qpair_inflight(nf->q) <= nf->unpolled)
			nf_poll_one(nf);
	}
	/* fio's submit-batch statistics are the engine's to count */
	if (ntd->queued) {
		io_u_mark_submit(td, ntd->queued);
		ntd->queued = 0;
	}
	return 0;
}

/* Sleep until one of the queue pairs has work, at most timeout_ms. */
static void nf_wait(struct nf_td *ntd, int timeout_ms)
{
	if (ntd->nr_open == 1) {
		if (!ntd->open[0]->dead)
			nvmf_qpair_wait(ntd->open[0]->q, timeout_ms);
	} else if (ntd->epfd >= 0) {
		struct epoll_event ev;

		/* each queue pair's fd also wakes for output it still has to send; a queue
		 * pair that reconnects has no socket to wake it: bounded, then polled again */
		epoll_wait(ntd->epfd, &ev, 1, timeout_ms < 0 || timeout_ms > 100 ? 100 : timeout_ms);
	}
}

static int64_t nf_ns_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t0->tv_sec) * 1000000000 + (now.tv_nsec - t0->tv_nsec);
}

static int nf_getevents(struct thread_data *td, unsigned int min, unsigned int max,
			const struct timespec *t)
{
	struct nf_td *ntd = td->io_ops_data;
	struct nf_opts *eo = td->eo;
	int64_t limit_ns = t ? (int64_t)t->tv_sec * 1000000000 + t->tv_nsec : -1;
	struct timespec t0;
	bool polled = false;

	ntd->nr_events = 0;
	if (max > ntd->events_cap)
		max = ntd->events_cap;
	if (t)
		clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		while (ntd->ready_head && ntd->nr_events < max) {
			struct nf_iou *iou = ntd->ready_head;
			struct io_u *io_u = iou->io_u;

			ntd->ready_head = iou->next;
			if (!ntd->ready_head)
				ntd->ready_tail = NULL;
			if (iou->status && !ntd->logged_status) {
				ntd->logged_status = true;
				log_err("nvmf: %s: command failed, NVMe status 0x%x (SCT %u SC "
					"0x%02x); further failures of this job are not logged\n",
					io_u->file ? io_u->file->file_name : "?", iou->status,
					(iou->status >> 9) & 7, (iou->status >> 1) & 0xff);
			}
			ntd->events[ntd->nr_events++] = io_u;
		}
		if (ntd->nr_events >= max || (polled && ntd->nr_events >= min))
			break;
		if (!nf_poll_all(ntd) && !ntd->ready_head) {
			/* every controller is gone and nothing completed: do not spin */
			if (ntd->nr_events < min && !ntd->nr_events)
				return -ENODEV;
			break;
		}
		polled = true;
		if (ntd->ready_head)
			continue;
		if (limit_ns >= 0) {
			int64_t spent = nf_ns_since(&t0);

			if (spent >= limit_ns)
				break;
			if (!eo->busy_poll && ntd->nr_events < min)
				nf_wait(ntd, (int)((limit_ns - spent + 999999) / 1000000));
		} else if (!eo->busy_poll && ntd->nr_events < min) {
			nf_wait(ntd, 100);
		}
	}
	return (int)ntd->nr_events;
}

static struct io_u *nf_event(struct thread_data *td, int event)
{
	struct nf_td *ntd = td->io_ops_data;

	if (event < 0 || (unsigned)event >= ntd->nr_events)
		return NULL;
	return ntd->events[event];
}

static int nf_invalidate(struct thread_data *td, struct fio_file *f)
{
	(void)td;
	(void)f;
	return 0; /* no host page cache in between */
}

/* fio finds the engine by the symbol "ioengine" (dlsym), so it is not static. */
struct ioengine_ops ioengine = {
	.name = "nvmf",
	.version = FIO_IOOPS_VERSION,
	/* NO_OFFLOAD: io_submit_mode=offload would queue from another thread than the one
	 * polling the queue pair */
	.flags = FIO_DISKLESSIO | FIO_NOEXTEND | FIO_NODISKUTIL | FIO_MEMALIGN | FIO_NO_OFFLOAD,
	.init = nf_init,
	.queue = nf_queue,
	.commit = nf_commit,
	.getevents = nf_getevents,
	.event = nf_event,
	.cleanup = nf_cleanup,
	.open_file = nf_open_file,
	.close_file = nf_close_file,
	.invalidate = nf_invalidate,
	.get_file_size = nf_get_file_size,
	.io_u_init = nf_io_u_init,
	.io_u_free = nf_io_u_free,
	.option_struct_size = sizeof(struct nf_opts),
	.options = nf_options,
};
