/*
 * Reservations of RBD namespaces, kept in the image's metadata (nvmf.resv), against the
 * throw-away Ceph cluster (ceph-cluster.sh):
 *
 *   failover       a gateway pair; a host registers and takes Write Exclusive through
 *                  gateway A; A is killed -9 and B promoted over JSON-RPC: the host,
 *                  connecting to B with the same host ID, finds itself registered and
 *                  holding the reservation in Reservation Report, and writes; a host that
 *                  is not registered gets Reservation Conflict on a write through B
 *   fenced owner   B is promoted while A still serves (a control plane's split brain):
 *                  A's next reservation command fails with the ANA inaccessible status
 *                  and the record does not change -- B, fencing A, took the record too
 *   ptpl           one target, a plain RBD namespace: with PTPL set the registrations and
 *                  the reservation are back after a restart; with PTPL cleared a restart
 *                  (nobody else has the image open: a power loss) drops them, and the
 *                  record leaves the image
 *   failed write   the OSD frozen, the path's timeout 3 s: an Acquire fails with Internal
 *                  Error once the record cannot be written, and changes nothing -- Report
 *                  shows the state from before, and so does the record once the target
 *                  has rewritten it (the write that timed out lands when the OSD runs
 *                  again); with the cluster back the same Acquire succeeds
 *   not on I/O     a write and read load on a namespace with a reservation writes no
 *                  record (the target's count of record writes and the record itself do
 *                  not move), while each changing command writes exactly one
 *   figures        how long Register + Acquire + Release take on RBD (a metadata round
 *                  trip each) and on a RAM namespace of the same target (printed only)
 *
 * The record is checked with `rbd image-meta get` too.
 * Environment (meson): NVMF_TARGET, NVMF_CEPH_CLUSTER.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rpc/client.h"
#include "ceph_test.h"
#include "target_proc.h"
#include "tclient.h"

#define ADDR "127.0.0.1"
#define NQN "nqn.2024-01.io.nvmf-tcp.test:rbd-resv"
#define HOST_X "nqn.2014-08.org.nvmexpress:uuid:11111111-1111-1111-1111-111111111111"
#define HOST_Y "nqn.2014-08.org.nvmexpress:uuid:22222222-2222-2222-2222-222222222222"
#define ID_X 0x11
#define ID_Y 0x22
#define HEX_X "11111111111111111111111111111111"
#define KEY_X 0x1234567890ABCDEFull
#define KEY_Y 0x22ull
#define IMG_MB 8
#define UUID "5b0c1d5e-7b0f-4a8e-9d41-2f1c3b5e9a77"
#define NGUID "ee90689c-6c46-d44c-89c1-4067801309a8"
#define ST_CONFLICT NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_RESERVATION_CONFLICT)
#define ST_INTERNAL NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL)
#define SAVED "reservation record written to the image"
#define ST_ANA_INACCESSIBLE NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE)

static char cfg_a[160], cfg_b[160], sock_b[160], rec_path[160];
static struct target_proc ta = { .pid = -1 }, tb = { .pid = -1 };
static uint16_t port_a, port_b;

/* One host: an admin and an I/O queue to one target. */
struct host {
	struct tclient a, io;
	uint8_t id;
	const char *nqn;
};

static int group_setup(void **state)
{
	(void)state;
	if (!getenv("NVMF_TARGET"))
		return -1;
	if (ceph_up("rbdresv"))
		return -1;
	snprintf(cfg_a, sizeof(cfg_a), "%s/a.json", ceph_dir);
	snprintf(cfg_b, sizeof(cfg_b), "%s/b.json", ceph_dir);
	snprintf(sock_b, sizeof(sock_b), "%s/b.sock", ceph_dir);
	snprintf(rec_path, sizeof(rec_path), "%s/record", ceph_dir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (ta.pid > 0)
		tp_stop(&ta);
	if (tb.pid > 0)
		tp_stop(&tb);
	ceph_down();
	return 0;
}

/*
 * A config.json: the RBD image as namespace 1 (gateway: ANA group 1 in state, cntlid range
 * from cntlid_min), with reservations; and, when ram, a RAM namespace 2 with them too.
 */
static void write_cfg(const char *path, uint16_t port, const char *image, bool gateway,
		      const char *state, unsigned cntlid_min, unsigned timeout, bool ram)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f,
		"{\"ports\": [{\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\",\n"
		"   \"traddr\": \"%s\", \"trsvcid\": \"%u\"},\n"
		"   \"ana_groups\": [{\"grpid\": 1, \"ana\": {\"state\": \"%s\"}}],\n"
		"   \"subsystems\": [\"%s\"]}],\n"
		" \"subsystems\": [{\"nqn\": \"%s\", \"attr\": {\"allow_any_host\": \"1\",\n"
		"   \"serial\": \"RBDRESV01\", \"cntlid_min\": \"%u\", \"cntlid_max\": \"%u\"},\n"
		"   \"namespaces\": [{\"nsid\": 1, \"enable\": 1, \"ana_grpid\": 1, \"device\": {\n"
		"     \"path\": \"rbd:rbd/%s?conf=%s&keyring=%s&timeout=%u%s\",\n"
		"     \"uuid\": \"%s\", \"nguid\": \"%s\"}, \"resv\": {\"enable\": \"1\"}}%s]}]}\n",
		ADDR, port, state, NQN, NQN, cntlid_min, cntlid_min + 999, image, ceph_conf,
		ceph_keyring, timeout, gateway ? "&gateway=1" : "", UUID, NGUID,
		ram ? ",\n    {\"nsid\": 2, \"enable\": 1, \"device\": {\"backend\": \"ram\", "
		      "\"size\": 8388608}, \"resv\": {\"enable\": \"1\"}}" : "");
	fclose(f);
}

/* What a failed test left running. */
static void leftovers(void)
{
	if (ta.pid > 0)
		tp_stop(&ta);
	if (tb.pid > 0)
		tp_stop(&tb);
	ta.pid = tb.pid = -1;
}

static void start(struct target_proc *t, const char *cfg, uint16_t port, const char *sock)
{
	const char *argv[] = { "--config", cfg, "--cpus", "1", sock ? "-r" : NULL, sock, NULL };

	assert_int_equal(tp_start(t, port, argv), 0);
}

static void host_up(struct host *h, uint16_t port)
{
	assert_int_equal(tc_host_setup(&h->a, &h->io, ADDR, port, NQN, h->nqn, h->id), 0);
}

static void host_down(struct host *h)
{
	tc_close(&h->io);
	tc_close(&h->a);
}

static uint16_t st(const struct nvme_cqe *cqe)
{
	return le16toh(cqe->status) & ~1u;
}

static uint16_t resv_cmd(struct host *h, uint8_t opc, uint32_t nsid, uint32_t cdw10,
			 uint64_t k1, uint64_t k2)
{
	uint64_t d[2] = { htole64(k1), htole64(k2) };
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;

	tc_sqe(&sqe, opc, nsid);
	sqe.cdw10 = htole32(cdw10);
	assert_int_equal(tc_cmd(&h->io, &sqe, d, opc == NVME_NVM_RESV_RELEASE ? 8 : 16, true,
				&cqe), 0);
	return st(&cqe);
}

static uint16_t do_register(struct host *h, uint32_t nsid, unsigned action, unsigned cptpl,
			    uint64_t crkey, uint64_t nrkey)
{
	return resv_cmd(h, NVME_NVM_RESV_REGISTER, nsid,
			action | (cptpl << NVME_RESV_CDW10_CPTPL_SHIFT), crkey, nrkey);
}

static uint16_t do_acquire(struct host *h, uint32_t nsid, uint8_t rtype, uint64_t crkey)
{
	return resv_cmd(h, NVME_NVM_RESV_ACQUIRE, nsid,
			NVME_RACQA_ACQUIRE | ((uint32_t)rtype << NVME_RESV_CDW10_RTYPE_SHIFT),
			crkey, 0);
}

static uint16_t do_release(struct host *h, uint32_t nsid, uint8_t rtype, uint64_t crkey)
{
	return resv_cmd(h, NVME_NVM_RESV_RELEASE, nsid,
			NVME_RRELA_RELEASE | ((uint32_t)rtype << NVME_RESV_CDW10_RTYPE_SHIFT),
			crkey, 0);
}

/* Reservation Report (extended) of namespace 1: the header, and the first registrant. */
static struct nvme_resv_status report(struct host *h, struct nvme_resv_regctl_ext *first)
{
	uint8_t buf[4096];
	struct nvme_resv_status s;
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;

	tc_sqe(&sqe, NVME_NVM_RESV_REPORT, 1);
	sqe.cdw10 = htole32(sizeof(buf) / 4 - 1);
	sqe.cdw11 = htole32(NVME_RESV_REPORT_CDW11_EDS);
	assert_int_equal(tc_cmd(&h->io, &sqe, buf, sizeof(buf), false, &cqe), 0);
	assert_int_equal(st(&cqe), 0);
	memcpy(&s, buf, sizeof(s));
	if (first)
		memcpy(first, buf + NVME_RESV_STATUS_EXT_SIZE, sizeof(*first));
	return s;
}

static uint16_t rw(struct host *h, bool write, uint64_t lba, uint8_t fill)
{
	uint8_t buf[512];
	uint16_t status;

	memset(buf, fill, sizeof(buf));
	assert_int_equal(tc_rw(&h->io, write, 1, lba, 1, buf, sizeof(buf), false, &status), 0);
	return status;
}

/* Set Features 83h (PTPL) of namespace 1 on the admin queue: the status. */
static uint16_t set_ptpl(struct host *h, bool on)
{
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;

	tc_sqe(&sqe, NVME_ADM_SET_FEATURES, 1);
	sqe.cdw10 = htole32(NVME_FID_RESV_PERSIST);
	sqe.cdw11 = htole32(on);
	assert_int_equal(tc_cmd(&h->a, &sqe, NULL, 0, false, &cqe), 0);
	return st(&cqe);
}

/* The image's record as `rbd image-meta get` prints it (static), or NULL if it has none. */
static const char *record(const char *image)
{
	static char rec[4096];
	size_t n;
	FILE *f;

	unlink(rec_path);
	if (ceph_sh("rbd -c %s image-meta get rbd/%s nvmf.resv >%s 2>/dev/null", ceph_conf,
		    image, rec_path) != 0)
		return NULL;
	f = fopen(rec_path, "r");
	assert_non_null(f);
	n = fread(rec, 1, sizeof(rec) - 1, f);
	fclose(f);
	rec[n] = 0;
	return rec;
}

static void promote_b(void)
{
	struct rpc_reply r;
	char params[512];

	snprintf(params, sizeof(params),
		 "{\"nqn\": \"%s\", \"listen_address\": {\"trtype\": \"tcp\", \"adrfam\": "
		 "\"ipv4\", \"traddr\": \"%s\", \"trsvcid\": \"%u\"}, \"anagrpid\": 1, "
		 "\"ana_state\": \"optimized\"}", NQN, ADDR, port_b);
	assert_int_equal(rpc_call(sock_b, "nvmf_subsystem_listener_set_ana_state", params, &r), 0);
	assert_int_equal(r.code, 0);
	rpc_reply_free(&r);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------------------ failover */

static void failover_keeps_reservations(void **state)
{
	struct host x = { .id = ID_X, .nqn = HOST_X }, y = { .id = ID_Y, .nqn = HOST_Y };
	struct nvme_resv_regctl_ext e;
	struct nvme_resv_status s;
	const char *rec;
	uint32_t gen;

	(void)state;
	leftovers();
	assert_int_equal(ceph_rbd_create("failover", IMG_MB), 0);
	port_a = tp_free_port();
	do
		port_b = tp_free_port();
	while (port_b == port_a);
	write_cfg(cfg_a, port_a, "failover", true, "optimized", 1, 5, false);
	write_cfg(cfg_b, port_b, "failover", true, "inaccessible", 1001, 5, false);
	start(&ta, cfg_a, port_a, NULL);
	start(&tb, cfg_b, port_b, sock_b);

	host_up(&x, port_a);
	host_up(&y, port_a);
	assert_int_equal(do_register(&x, 1, NVME_RREGA_REGISTER, 0, 0, KEY_X), 0);
	assert_int_equal(do_acquire(&x, 1, NVME_RTYPE_WE, KEY_X), 0);
	assert_int_equal(rw(&y, true, 0, 0xEE), ST_CONFLICT);
	assert_int_equal(rw(&x, true, 0, 0x11), 0);
	gen = le32toh(report(&x, NULL).gen);
	/* in the image, written by A before the commands completed */
	rec = record("failover");
	assert_non_null(rec);
	assert_non_null(strstr(rec, "\"holder\":\"" HEX_X "\""));
	assert_non_null(strstr(rec, "\"rkey\":\"1234567890abcdef\""));
	assert_non_null(strstr(rec, "\"rtype\":1"));
	host_down(&x);
	host_down(&y);

	kill(ta.pid, SIGKILL);
	waitpid(ta.pid, NULL, 0);
	ta.pid = -1;
	promote_b();
	assert_int_equal(tp_log_count(&tb, "fenced the previous lock holder"), 1);
	assert_int_equal(tp_log_count(&tb, "reservations taken over from the image"), 1);

	/* the host comes back through B: same host ID, a new controller */
	host_up(&x, port_b);
	assert_true(x.a.cntlid >= 1001);
	s = report(&x, &e);
	assert_int_equal(s.rtype, NVME_RTYPE_WE);
	assert_int_equal(s.regctl[0] | s.regctl[1] << 8, 1);
	assert_int_equal(le32toh(s.gen), gen);
	assert_int_equal(e.rcsts & 1, 1);
	assert_int_equal(le64toh(e.rkey), KEY_X);
	for (unsigned i = 0; i < sizeof(e.hostid); i++)
		assert_int_equal(e.hostid[i], ID_X);
	assert_int_equal(rw(&x, true, 0, 0x12), 0);
	/* a host that never registered: reads, but its writes conflict */
	host_up(&y, port_b);
	assert_int_equal(rw(&y, false, 0, 0), 0);
	assert_int_equal(rw(&y, true, 0, 0xEE), ST_CONFLICT);
	/* and B goes on keeping it in the image: X releases through B */
	assert_int_equal(do_release(&x, 1, NVME_RTYPE_WE, KEY_X), 0);
	assert_int_equal(tp_log_count(&tb, SAVED), 1);
	rec = record("failover");
	assert_non_null(rec);
	assert_non_null(strstr(rec, "\"rtype\":0"));
	assert_int_equal(rw(&y, true, 0, 0xEE), 0);
	host_down(&x);
	host_down(&y);
	assert_int_equal(tp_stop(&tb), 0);
	tb.pid = -1;
}

/* ------------------------------------------------------------------ fenced owner */

static void fenced_owner_cannot_change_record(void **state)
{
	struct host x = { .id = ID_X, .nqn = HOST_X }, xb = { .id = ID_X, .nqn = HOST_X };
	struct nvme_resv_status s;
	char before[4096];
	const char *rec;
	uint16_t status;

	(void)state;
	leftovers();
	assert_int_equal(ceph_rbd_create("fenced", IMG_MB), 0);
	port_a = tp_free_port();
	do
		port_b = tp_free_port();
	while (port_b == port_a);
	write_cfg(cfg_a, port_a, "fenced", true, "optimized", 1, 5, false);
	write_cfg(cfg_b, port_b, "fenced", true, "inaccessible", 1001, 5, false);
	start(&ta, cfg_a, port_a, NULL);
	start(&tb, cfg_b, port_b, sock_b);
	host_up(&x, port_a);
	assert_int_equal(do_register(&x, 1, NVME_RREGA_REGISTER, 0, 0, KEY_X), 0);
	rec = record("fenced");
	assert_non_null(rec);
	snprintf(before, sizeof(before), "%s", rec);

	/* B is promoted with A alive: A is fenced (blocklisted) */
	promote_b();
	assert_int_equal(tp_log_count(&tb, "fenced the previous lock holder"), 1);
	/*
	 * A's Acquire: refused at once if A already saw it lost the image, else its record
	 * write is refused by the cluster -- the ANA status either way, nothing changed
	 */
	status = do_acquire(&x, 1, NVME_RTYPE_WE, KEY_X);
	assert_int_equal(status, ST_ANA_INACCESSIBLE);
	fprintf(stderr, "# the fenced owner's Acquire: %s\n",
		tp_log_count(&ta, "reservation state not saved") ? "its record write was refused"
								   : "refused before the write");
	rec = record("fenced");
	assert_non_null(rec);
	assert_string_equal(rec, before);
	/* through B: registered, no reservation; the Acquire goes through there */
	host_up(&xb, port_b);
	s = report(&xb, NULL);
	assert_int_equal(s.regctl[0], 1);
	assert_int_equal(s.rtype, NVME_RTYPE_NONE);
	assert_int_equal(do_acquire(&xb, 1, NVME_RTYPE_WE, KEY_X), 0);
	assert_non_null(strstr(record("fenced"), "\"rtype\":1"));
	host_down(&xb);
	host_down(&x);
	tp_stop(&ta);
	ta.pid = -1;
	assert_int_equal(tp_stop(&tb), 0);
	tb.pid = -1;
}

/*
 * The owner blocklisted behind its back (no other gateway promoted, nothing in the image's
 * header changed): it finds out on its record write, which the cluster refuses -- the
 * command fails with the ANA status, the owner reports the group inaccessible, and the
 * record is as before.
 */
static void blocklisted_owner_write_refused(void **state)
{
	struct host x = { .id = ID_X, .nqn = HOST_X };
	char before[4096], addr[128];
	const char *rec;
	FILE *f;

	(void)state;
	leftovers();
	assert_int_equal(ceph_rbd_create("blocked", IMG_MB), 0);
	port_a = tp_free_port();
	write_cfg(cfg_a, port_a, "blocked", true, "optimized", 1, 5, false);
	start(&ta, cfg_a, port_a, NULL);
	host_up(&x, port_a);
	assert_int_equal(do_register(&x, 1, NVME_RREGA_REGISTER, 0, 0, KEY_X), 0);
	rec = record("blocked");
	assert_non_null(rec);
	snprintf(before, sizeof(before), "%s", rec);
	/* the lock holder's address, as `rbd lock ls` shows it; blocklisted by hand */
	assert_int_equal(ceph_sh("rbd -c %s lock ls rbd/blocked | awk 'NR > 2 {print $NF}' >%s",
				 ceph_conf, rec_path), 0);
	f = fopen(rec_path, "r");
	assert_non_null(f);
	assert_non_null(fgets(addr, sizeof(addr), f));
	fclose(f);
	addr[strcspn(addr, "\n")] = 0;
	assert_true(strlen(addr) > 0);
	assert_int_equal(ceph_sh("ceph -c %s osd blocklist add %s >/dev/null 2>&1", ceph_conf,
				 addr), 0);
	assert_int_equal(do_acquire(&x, 1, NVME_RTYPE_WE, KEY_X), ST_ANA_INACCESSIBLE);
	fprintf(stderr, "# the blocklisted owner's Acquire: %s\n",
		tp_log_count(&ta, "reservation state not saved") ? "its record write was refused"
								   : "refused before the write");
	rec = record("blocked");
	assert_non_null(rec);
	assert_string_equal(rec, before);
	host_down(&x);
	tp_stop(&ta);
	ta.pid = -1;
	ceph_sh("ceph -c %s osd blocklist rm %s >/dev/null 2>&1", ceph_conf, addr);
}

/* ------------------------------------------------------------------ PTPL */

static void restart(void)
{
	assert_int_equal(tp_stop(&ta), 0);
	start(&ta, cfg_a, port_a, NULL);
}

static void ptpl_through_restart(void **state)
{
	struct host x = { .id = ID_X, .nqn = HOST_X }, y = { .id = ID_Y, .nqn = HOST_Y };
	struct nvme_resv_status s;
	const char *rec;

	(void)state;
	leftovers();
	assert_int_equal(ceph_rbd_create("ptpl", IMG_MB), 0);
	port_a = tp_free_port();
	write_cfg(cfg_a, port_a, "ptpl", false, "optimized", 1, 10, false);
	start(&ta, cfg_a, port_a, NULL);
	host_up(&x, port_a);
	host_up(&y, port_a);
	/* PTPL set with the registration: RESCAP says the namespace can */
	assert_int_equal(do_register(&x, 1, NVME_RREGA_REGISTER, NVME_CPTPL_SET, 0, KEY_X), 0);
	assert_int_equal(do_register(&y, 1, NVME_RREGA_REGISTER, 0, 0, KEY_Y), 0);
	assert_int_equal(do_acquire(&x, 1, NVME_RTYPE_EA_RO, KEY_X), 0);
	host_down(&x);
	host_down(&y);
	rec = record("ptpl");
	assert_non_null(rec);
	assert_non_null(strstr(rec, "\"ptpl\":true"));

	/* the only process with the image open stops: a power loss; PTPL keeps it all */
	restart();
	assert_int_equal(tp_log_count(&ta, "kept through a power loss"), 1);
	host_up(&x, port_a);
	s = report(&x, NULL);
	assert_int_equal(s.ptpls, 1);
	assert_int_equal(s.rtype, NVME_RTYPE_EA_RO);
	assert_int_equal(s.regctl[0], 2);
	host_up(&y, port_a);
	assert_int_equal(rw(&y, true, 0, 0xEE), 0);     /* a registrant: Registrants Only */
	assert_int_equal(do_register(&y, 1, NVME_RREGA_UNREGISTER, 0, KEY_Y, 0), 0);
	assert_int_equal(rw(&y, false, 0, 0), ST_CONFLICT);
	/* PTPL cleared (Register, replacing the key with itself) */
	assert_int_equal(do_register(&x, 1, NVME_RREGA_REPLACE, NVME_CPTPL_CLEAR, KEY_X, KEY_X),
			 0);
	assert_int_equal(report(&x, NULL).ptpls, 0);
	rec = record("ptpl");
	assert_non_null(rec);
	assert_non_null(strstr(rec, "\"ptpl\":false"));
	/* the feature (83h) is the same flag in the same record */
	assert_int_equal(set_ptpl(&x, true), 0);
	assert_non_null(strstr(record("ptpl"), "\"ptpl\":true"));
	assert_int_equal(report(&x, NULL).ptpls, 1);
	assert_int_equal(set_ptpl(&x, false), 0);
	assert_non_null(strstr(record("ptpl"), "\"ptpl\":false"));
	host_down(&x);
	host_down(&y);

	/* without PTPL the power loss drops it: nothing left, in the target or the image */
	restart();
	assert_int_equal(tp_log_count(&ta, "reservations without PTPL are dropped"), 1);
	host_up(&y, port_a);
	s = report(&y, NULL);
	assert_int_equal(s.rtype, NVME_RTYPE_NONE);
	assert_int_equal(s.regctl[0], 0);
	assert_int_equal(s.ptpls, 0);
	assert_int_equal(rw(&y, true, 0, 0xEE), 0);
	host_down(&y);
	assert_null(record("ptpl"));
	assert_int_equal(tp_stop(&ta), 0);
	ta.pid = -1;
}

/* ------------------------------------------------------------------ a failed write */

static void failed_write_changes_nothing(void **state)
{
	struct host x = { .id = ID_X, .nqn = HOST_X };
	struct nvme_resv_status s;
	char before[4096];
	const char *rec;
	uint32_t gen;
	double t0, took;
	uint16_t status;
	pid_t osd;

	(void)state;
	leftovers();
	assert_int_equal(ceph_rbd_create("failed", IMG_MB), 0);
	port_a = tp_free_port();
	write_cfg(cfg_a, port_a, "failed", false, "optimized", 1, 3, false);
	start(&ta, cfg_a, port_a, NULL);
	host_up(&x, port_a);
	assert_int_equal(do_register(&x, 1, NVME_RREGA_REGISTER, 0, 0, KEY_X), 0);
	gen = le32toh(report(&x, NULL).gen);
	rec = record("failed");
	assert_non_null(rec);
	snprintf(before, sizeof(before), "%s", rec);

	osd = ceph_osd_pid();
	assert_true(osd > 0);
	assert_int_equal(kill(osd, SIGSTOP), 0);
	t0 = now_s();
	/* the record cannot be written: the command fails, retryable, after the timeout */
	status = do_acquire(&x, 1, NVME_RTYPE_WE, KEY_X);
	took = now_s() - t0;
	kill(osd, SIGCONT);
	assert_int_equal(status, ST_INTERNAL);
	fprintf(stderr, "# acquire with the OSD frozen failed after %.1f s (timeout=3)\n", took);
	assert_true(tp_log_count(&ta, "reservation state not saved in the image") >= 1);
	/* nothing changed: no reservation, in memory or in the image */
	s = report(&x, NULL);
	assert_int_equal(s.rtype, NVME_RTYPE_NONE);
	assert_int_equal(s.regctl[0], 1);
	assert_int_equal(le32toh(s.gen), gen);
	/*
	 * The write that timed out may still land once the OSD runs again (it had it
	 * queued): the target puts the record right, the state in force, by itself.
	 */
	for (int i = 0; i < 100 && tp_log_count(&ta, "saved again after a failed save") < 1; i++)
		usleep(100000);
	assert_int_equal(tp_log_count(&ta, "saved again after a failed save"), 1);
	rec = record("failed");
	assert_non_null(rec);
	assert_string_equal(rec, before);
	/* the cluster back, the same command goes through */
	assert_int_equal(do_acquire(&x, 1, NVME_RTYPE_WE, KEY_X), 0);
	assert_int_equal(report(&x, NULL).rtype, NVME_RTYPE_WE);
	assert_non_null(strstr(record("failed"), "\"rtype\":1"));
	host_down(&x);
	assert_int_equal(tp_stop(&ta), 0);
	ta.pid = -1;
}

/* ------------------------------------------------------------------ I/O writes no record */

static void io_writes_no_record(void **state)
{
	struct host x = { .id = ID_X, .nqn = HOST_X }, y = { .id = ID_Y, .nqn = HOST_Y };
	char before[4096];
	const char *rec;
	int saved;

	(void)state;
	leftovers();
	assert_int_equal(ceph_rbd_create("noio", IMG_MB), 0);
	port_a = tp_free_port();
	write_cfg(cfg_a, port_a, "noio", false, "optimized", 1, 10, false);
	start(&ta, cfg_a, port_a, NULL);
	host_up(&x, port_a);
	host_up(&y, port_a);
	/* one record write per changing command */
	assert_int_equal(do_register(&x, 1, NVME_RREGA_REGISTER, 0, 0, KEY_X), 0);
	assert_int_equal(tp_log_count(&ta, SAVED), 1);
	assert_int_equal(do_acquire(&x, 1, NVME_RTYPE_WE, KEY_X), 0);
	assert_int_equal(tp_log_count(&ta, SAVED), 2);
	/* the holder acquiring again changes nothing: no write */
	assert_int_equal(do_acquire(&x, 1, NVME_RTYPE_WE, KEY_X), 0);
	assert_int_equal(tp_log_count(&ta, SAVED), 2);
	saved = tp_log_count(&ta, SAVED);
	rec = record("noio");
	assert_non_null(rec);
	snprintf(before, sizeof(before), "%s", rec);
	/* I/O checked against the reservation: allowed and refused, none writes the record */
	for (unsigned i = 0; i < 200; i++) {
		assert_int_equal(rw(&x, true, i % 64, (uint8_t)i), 0);
		assert_int_equal(rw(&y, false, i % 64, 0), 0);
		assert_int_equal(rw(&y, true, i % 64, 0xEE), ST_CONFLICT);
	}
	assert_int_equal(tp_log_count(&ta, SAVED), saved);
	rec = record("noio");
	assert_non_null(rec);
	assert_string_equal(rec, before);
	host_down(&x);
	host_down(&y);
	assert_int_equal(tp_stop(&ta), 0);
	ta.pid = -1;
}

/* ------------------------------------------------------------------ figures */

/* Register + Acquire + Release + Unregister on nsid, n times: the mean per command, ms. */
static double resv_cycle_ms(struct host *h, uint32_t nsid, unsigned n)
{
	double t0 = now_s();

	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(do_register(h, nsid, NVME_RREGA_REGISTER, 0, 0, KEY_X), 0);
		assert_int_equal(do_acquire(h, nsid, NVME_RTYPE_WE, KEY_X), 0);
		assert_int_equal(do_release(h, nsid, NVME_RTYPE_WE, KEY_X), 0);
		assert_int_equal(do_register(h, nsid, NVME_RREGA_UNREGISTER, 0, KEY_X, 0), 0);
	}
	return (now_s() - t0) * 1000 / (4.0 * n);
}

static void figures(void **state)
{
	struct host x = { .id = ID_X, .nqn = HOST_X };
	double rbd_ms, ram_ms;

	(void)state;
	leftovers();
	assert_int_equal(ceph_rbd_create("figures", IMG_MB), 0);
	port_a = tp_free_port();
	write_cfg(cfg_a, port_a, "figures", false, "optimized", 1, 10, true);
	start(&ta, cfg_a, port_a, NULL);
	host_up(&x, port_a);
	rbd_ms = resv_cycle_ms(&x, 1, 25);
	ram_ms = resv_cycle_ms(&x, 2, 25);
	fprintf(stderr, "# reservation command (register/acquire/release/unregister, mean of "
		"100): RBD %.3f ms (a metadata round trip each), RAM %.3f ms\n", rbd_ms, ram_ms);
	/* 100 changes on RBD, 100 record writes; none for RAM */
	assert_int_equal(tp_log_count(&ta, SAVED), 100);
	host_down(&x);
	assert_int_equal(tp_stop(&ta), 0);
	ta.pid = -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(failover_keeps_reservations),
		cmocka_unit_test(fenced_owner_cannot_change_record),
		cmocka_unit_test(blocklisted_owner_write_refused),
		cmocka_unit_test(ptpl_through_restart),
		cmocka_unit_test(failed_write_changes_nothing),
		cmocka_unit_test(io_writes_no_record),
		cmocka_unit_test(figures),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
