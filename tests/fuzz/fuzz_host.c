/*
 * libFuzzer target for libnvmf against a malicious controller: what a target can send the
 * host -- ICResp, CQEs (unknown, duplicate command IDs), C2HData (offsets and lengths
 * beyond the command, DATA_SUCCESS), R2T (bad offsets and lengths, too many), C2HTermReq,
 * Identify data, discovery and ANA log pages -- through the library's public API on a real
 * loopback connection: nvmf_discover(), or nvmf_ctrl_connect() with an I/O queue, then
 * namespace lookups, a read and a write.
 *
 * The controller is a thread of this file that answers each PDU the host sends as the
 * input says (host_input.h): a sane answer (from templates, optionally patched), or a
 * chosen bad one.  When the input runs out it closes every connection, so the host's
 * calls end promptly with errors.  The host's own checks are what is fuzzed: ASan/UBSan
 * catch memory and arithmetic errors, and every call must return.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host/host.h"
#include "host_input.h"
#include "nvmf/nvmf.h"
#include "proto/nvme_spec.h"
#include "proto/nvme_tcp.h"

#define MAX_CONNS 8
#define MAX_XFER (1u << 20)
#define MAX_PENDING 64

/* A write the controller asked the data of (R2T), answered once it is all in. */
struct pending_w {
	uint16_t cid;
	uint32_t left;
};

struct conn {
	int fd;
	uint8_t *rx;
	size_t rx_len;
	uint32_t cc;
	struct pending_w w[MAX_PENDING];
};

static struct {
	int lfd;
	char port[16];
	const uint8_t *in, *end;
	struct conn conns[MAX_CONNS];
	int stop_fd[2];
	uint8_t tmpl[MAX_XFER];
	uint8_t pdu[MAX_XFER + 64];
} S;

/* ------------------------------------------------------------------ the script */

static bool more(void)
{
	return S.in < S.end;
}

static uint8_t take8(void)
{
	return S.in < S.end ? *S.in++ : 0;
}

static uint16_t take16(void)
{
	return (uint16_t)(take8() | take8() << 8);
}

static uint32_t take32(void)
{
	return (uint32_t)take16() | (uint32_t)take16() << 16;
}

/* ------------------------------------------------------------------ sending */

static void send_all(struct conn *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len && c->fd >= 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			return; /* the host closed: it will see the rest of the script fail */
		}
		p += n;
		len -= (size_t)n;
	}
}

static void ch(void *p, uint8_t type, uint8_t flags, uint8_t hlen, uint8_t pdo, uint32_t plen)
{
	struct nvme_tcp_ch *h = p;

	h->type = type;
	h->flags = flags;
	h->hlen = hlen;
	h->pdo = pdo;
	h->plen = htole32(plen);
}

static void send_cqe(struct conn *c, uint16_t cid, uint16_t status, uint64_t result)
{
	struct nvme_tcp_rsp r;

	memset(&r, 0, sizeof(r));
	ch(&r, NVME_TCP_RSP, 0, sizeof(r), 0, sizeof(r));
	r.cqe.cid = htole16(cid);
	r.cqe.status = htole16(status);
	r.cqe.result64 = htole64(result);
	send_all(c, &r, sizeof(r));
}

static void send_c2h(struct conn *c, uint16_t cid, uint32_t datao, const uint8_t *data,
		     uint32_t len, uint8_t flags)
{
	struct nvme_tcp_data *h = (struct nvme_tcp_data *)S.pdu;

	memset(h, 0, sizeof(*h));
	ch(h, NVME_TCP_C2H_DATA, flags, sizeof(*h), sizeof(*h), sizeof(*h) + len);
	h->cccid = htole16(cid);
	h->datao = htole32(datao);
	h->datal = htole32(len);
	memcpy(S.pdu + sizeof(*h), data, len);
	send_all(c, S.pdu, sizeof(*h) + len);
}

static void send_r2t(struct conn *c, uint16_t cid, uint16_t ttag, uint32_t off, uint32_t len)
{
	struct nvme_tcp_r2t r;

	memset(&r, 0, sizeof(r));
	ch(&r, NVME_TCP_R2T, 0, sizeof(r), 0, sizeof(r));
	r.cccid = htole16(cid);
	r.ttag = htole16(ttag);
	r.r2to = htole32(off);
	r.r2tl = htole32(len);
	send_all(c, &r, sizeof(r));
}

static void send_term(struct conn *c, uint16_t fes, uint32_t fei)
{
	struct nvme_tcp_term t;

	memset(&t, 0, sizeof(t));
	ch(&t, NVME_TCP_C2H_TERM, 0, sizeof(t), 0, sizeof(t));
	t.fes = htole16(fes);
	t.fei = htole32(fei);
	send_all(c, &t, sizeof(t));
}

/* ------------------------------------------------------------------ sane answers */

static void pad(char *dst, size_t len, const char *s)
{
	memset(dst, ' ', len);
	memcpy(dst, s, strnlen(s, len));
}

/* What a sane controller returns for the command, into S.tmpl (len bytes from off). */
static void template(const struct nvme_sqe *sqe, uint64_t off, uint32_t len)
{
	static uint8_t page[16384];
	size_t size = sizeof(page);

	memset(page, 0, sizeof(page));
	if (sqe->opcode == NVME_ADM_IDENTIFY) {
		uint8_t cns = (uint8_t)le32toh(sqe->cdw10);

		if (cns == 1) {
			struct nvme_id_ctrl *id = (struct nvme_id_ctrl *)page;

			id->vid = htole16(0x1b36);
			pad(id->sn, sizeof(id->sn), "FUZZ0001");
			pad(id->mn, sizeof(id->mn), "fuzz controller");
			pad(id->fr, sizeof(id->fr), "1.0");
			id->mdts = 5;
			id->cntlid = htole16(1);
			id->ver = htole32(NVME_VS(1, 4, 0));
			id->cntrltype = 1;
			id->lpa = 0x0C;
			id->kas = htole16(10);
			id->anacap = 0x47;
			id->anagrpmax = htole32(4);
			id->nanagrpid = htole32(4);
			id->sqes = 0x66;
			id->cqes = 0x44;
			id->maxcmd = htole16(128);
			id->nn = htole32(4);
			id->oncs = htole16(0x0C);
			id->vwc = 1;
			id->sgls = htole32(0x100005);
			id->ioccsz = htole32(4 + 1024);
			id->iorcsz = htole32(1);
			snprintf(id->subnqn, sizeof(id->subnqn), "nqn.2024-01.io.fuzz:sub");
			id->cmic = 0x0B;
			id->oaes = htole32(0x900);
		} else if (cns == 0) {
			struct nvme_id_ns *ns = (struct nvme_id_ns *)page;

			ns->nsze = ns->ncap = ns->nuse = htole64(2048);
			ns->nlbaf = 0;
			ns->flbas = 0;
			ns->lbaf[0].lbads = 9;
			ns->anagrpid = htole32(1);
			ns->nmic = 1;
		} else if (cns == 2) {
			uint32_t *l = (uint32_t *)page;

			l[0] = htole32(1);
			l[1] = htole32(2);
		} else if (cns == 3) {
			page[0] = 3; /* UUID descriptor */
			page[1] = 16;
			memset(page + 4, 0xAB, 16);
		}
		size = 4096;
	} else if (sqe->opcode == NVME_ADM_GET_LOG_PAGE) {
		uint8_t lid = (uint8_t)le32toh(sqe->cdw10);

		if (lid == NVME_LID_DISCOVERY) {
			struct nvmf_disc_log_hdr *h = (struct nvmf_disc_log_hdr *)page;

			h->genctr = htole64(7);
			h->numrec = htole64(2);
			for (int i = 0; i < 2; i++) {
				struct nvmf_disc_log_entry *e = &h->entries[i];

				e->trtype = NVMF_TRTYPE_TCP;
				e->adrfam = NVMF_ADRFAM_IPV4;
				e->subtype = i ? NVMF_SUBTYPE_DISCOVERY_REFERRAL : NVMF_SUBTYPE_NVME;
				e->portid = htole16(1);
				e->cntlid = htole16(0xFFFF);
				e->asqsz = htole16(32);
				pad(e->trsvcid, sizeof(e->trsvcid), S.port);
				pad(e->traddr, sizeof(e->traddr), "127.0.0.1");
				snprintf(e->subnqn, sizeof(e->subnqn), "nqn.2024-01.io.fuzz:sub%d", i);
			}
			size = sizeof(*h) + 2 * sizeof(h->entries[0]);
		} else if (lid == NVME_LID_ANA) {
			/* header: chgcnt, ngrps; one group: grpid 1, 2 NSIDs, optimized */
			page[0] = 1;
			page[8] = 1;
			page[16] = 1;
			page[20] = 2;
			page[32] = 1;
			page[40] = 1;
			page[44] = 2;
			size = 48;
		} else {
			size = 512;
		}
	}
	memset(S.tmpl, 0, len);
	if (off < size)
		memcpy(S.tmpl, page + off, size - off < len ? size - off : len);
}

/* HI_PATCH: up to 4 (offset, length, bytes) over the answer's data. */
static void patch(uint8_t *data, uint32_t len)
{
	unsigned n = take8() & 3;

	for (unsigned i = 0; i <= n; i++) {
		uint16_t off = take16();
		uint8_t l = take8() & 15;

		for (uint8_t k = 0; k < l; k++) {
			uint8_t b = take8();

			if (off + k < len)
				data[off + k] = b;
		}
	}
}

static uint64_t property(struct conn *c, const struct nvme_sqe *sqe, bool *bad)
{
	const struct nvmf_property_get_cmd *p = (const void *)sqe;

	*bad = false;
	switch (le32toh(p->offset)) {
	case NVME_REG_CAP:
		return 127 | 1ull << 16 | 15ull << 24 | 1ull << 37;
	case NVME_REG_VS:
		return NVME_VS(1, 4, 0);
	case NVME_REG_CC:
		return c->cc;
	case NVME_REG_CSTS:
		return (c->cc & NVME_CC_EN ? NVME_CSTS_RDY : 0) |
		       ((c->cc >> 14) & 3 ? 2u << 2 : 0);
	default:
		*bad = true;
		return 0;
	}
}

/* The sane answer to a command, with the data patched and flags the op asks for. */
static void answer(struct conn *c, const struct nvme_sqe *sqe, uint8_t op, bool icd)
{
	uint16_t cid = le16toh(sqe->cid);
	uint32_t len = le32toh(sqe->dptr.sgl.length);
	uint64_t result = 0;
	uint16_t status = 0;

	if (len > MAX_XFER)
		len = MAX_XFER;
	if (sqe->opcode == NVME_OPC_FABRICS) {
		const struct nvmf_capsule_cmd *f = (const void *)sqe;
		bool bad;

		if (f->fctype == NVMF_FCTYPE_CONNECT) {
			result = 1;
		} else if (f->fctype == NVMF_FCTYPE_PROPERTY_GET) {
			result = property(c, sqe, &bad);
			status = bad ? NVME_SC_INVALID_FIELD : 0;
		} else if (f->fctype == NVMF_FCTYPE_PROPERTY_SET) {
			c->cc = (uint32_t)le64toh(((const struct nvmf_property_set_cmd *)sqe)->value);
		}
		send_cqe(c, cid, status, result);
		return;
	}
	if (sqe->opcode == NVME_ADM_ASYNC_EVENT && !(op & HI_AEN))
		return; /* parked, as a controller does */
	if (sqe->opcode == NVME_ADM_ASYNC_EVENT) {
		/* an event: namespace attributes changed, or ANA change */
		send_cqe(c, cid, 0, op & HI_PATCH ? 0x030002 : 0x0B0002);
		return;
	}
	if (sqe->opcode == NVME_ADM_SET_FEATURES && (le32toh(sqe->cdw10) & 0xFF) == 7)
		result = le32toh(sqe->cdw11);
	if ((sqe->opcode & 3) == 2 && len) {
		uint64_t off = 0;

		if (sqe->opcode == NVME_ADM_GET_LOG_PAGE)
			off = le32toh(sqe->cdw12) | (uint64_t)le32toh(sqe->cdw13) << 32;
		template(sqe, off, len);
		if (op & HI_PATCH)
			patch(S.tmpl, len);
		if (op & HI_SPLIT && len > 1) {
			send_c2h(c, cid, 0, S.tmpl, len / 2, 0);
			send_c2h(c, cid, len / 2, S.tmpl + len / 2, len - len / 2,
				 NVME_TCP_F_DATA_LAST | (op & HI_SUCCESS ? NVME_TCP_F_DATA_SUCCESS : 0));
		} else {
			send_c2h(c, cid, 0, S.tmpl, len,
				 NVME_TCP_F_DATA_LAST | (op & HI_SUCCESS ? NVME_TCP_F_DATA_SUCCESS : 0));
		}
		if (op & HI_SUCCESS)
			return;
	} else if ((sqe->opcode & 3) == 1 && len && !icd) {
		for (int i = 0; i < MAX_PENDING; i++) {
			if (!c->w[i].left) {
				c->w[i].cid = cid;
				c->w[i].left = len;
				send_r2t(c, cid, (uint16_t)i, 0, len);
				return;
			}
		}
	}
	send_cqe(c, cid, status, result);
}

/* A command capsule: the next op of the script says how it is answered. */
static void on_cmd(struct conn *c, const struct nvme_sqe *sqe, bool icd)
{
	uint8_t op = take8();
	uint16_t cid = le16toh(sqe->cid);
	int times = op & HI_TWICE ? 2 : 1;

	for (int t = 0; t < times; t++) {
		switch (op & HI_KIND_MASK) {
		case HI_CQE: {
			uint16_t status = take16();
			uint64_t result = take32();

			send_cqe(c, cid ^ take16(), status, result);
			break;
		}
		case HI_C2H: {
			uint32_t datao = take32(), datal = take32() & 0x1FFFF;
			uint8_t flags = take8();

			memset(S.tmpl, 0x5C, datal);
			send_c2h(c, cid ^ take16(), datao, S.tmpl, datal, flags & 0x0F);
			break;
		}
		case HI_R2T: {
			uint32_t off = take32(), len = take32();

			send_r2t(c, cid ^ take16(), take16(), off, len);
			break;
		}
		case HI_TERM: {
			uint16_t fes = take16();

			send_term(c, fes, take32());
			break;
		}
		case HI_RAW: {
			uint8_t n = take8();
			uint8_t raw[256];

			for (unsigned i = 0; i < n; i++)
				raw[i] = take8();
			send_all(c, raw, n);
			break;
		}
		case HI_CLOSE:
			shutdown(c->fd, SHUT_RDWR);
			return;
		default:
			answer(c, sqe, op, icd);
			break;
		}
	}
}

static void on_h2c(struct conn *c, const struct nvme_tcp_data *h)
{
	uint16_t tag = le16toh(h->ttag);

	if (tag >= MAX_PENDING || !c->w[tag].left)
		return;
	c->w[tag].left -= le32toh(h->datal) < c->w[tag].left ? le32toh(h->datal)
							      : c->w[tag].left;
	if (!c->w[tag].left) {
		uint8_t op = take8();

		if ((op & HI_KIND_MASK) == HI_CQE)
			send_cqe(c, c->w[tag].cid, take16(), 0);
		else
			send_cqe(c, c->w[tag].cid, 0, 0);
	}
}

static void on_icreq(struct conn *c)
{
	struct nvme_tcp_icresp r;
	uint8_t op = take8();

	memset(&r, 0, sizeof(r));
	ch(&r, NVME_TCP_ICRESP, 0, sizeof(r), 0, sizeof(r));
	r.maxh2cdata = htole32(131072);
	if (op & HI_PATCH)
		patch((uint8_t *)&r, sizeof(r));
	send_all(c, &r, sizeof(r));
}

/* Whole PDUs in c->rx: answer each. */
static void on_rx(struct conn *c)
{
	size_t off = 0;

	while (c->rx_len - off >= sizeof(struct nvme_tcp_ch)) {
		const struct nvme_tcp_ch *h = (const void *)(c->rx + off);
		uint32_t plen = le32toh(h->plen);

		if (plen < sizeof(*h) || plen > MAX_XFER + 1024) {
			shutdown(c->fd, SHUT_RDWR);
			c->rx_len = 0;
			return;
		}
		if (c->rx_len - off < plen)
			break;
		switch (h->type) {
		case NVME_TCP_ICREQ:
			on_icreq(c);
			break;
		case NVME_TCP_CMD:
			if (plen >= sizeof(struct nvme_tcp_cmd))
				on_cmd(c, &((const struct nvme_tcp_cmd *)h)->sqe,
				       plen > sizeof(struct nvme_tcp_cmd));
			break;
		case NVME_TCP_H2C_DATA:
			if (plen >= sizeof(struct nvme_tcp_data))
				on_h2c(c, (const struct nvme_tcp_data *)h);
			break;
		default:
			shutdown(c->fd, SHUT_RDWR);
			break;
		}
		off += plen;
	}
	memmove(c->rx, c->rx + off, c->rx_len - off);
	c->rx_len -= off;
}

static void hang_up(void)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		if (S.conns[i].fd >= 0)
			close(S.conns[i].fd);
		S.conns[i].fd = -1;
		S.conns[i].rx_len = 0;
	}
}

static void *controller(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd p[MAX_CONNS + 2];
		int n = 0;

		p[n++] = (struct pollfd){ .fd = S.stop_fd[0], .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = S.lfd, .events = POLLIN };
		for (int i = 0; i < MAX_CONNS; i++)
			p[n++] = (struct pollfd){ .fd = S.conns[i].fd, .events = POLLIN };
		int rc = poll(p, (nfds_t)n, 50);

		if (rc < 0 || (p[0].revents & POLLIN))
			break;
		if (rc == 0 || !more()) {
			/*
			 * The host waits for something the script does not give (an answer
			 * to a command ID it never saw), or the script ended: hang up, so
			 * the host's calls end now instead of at their timeouts.
			 */
			hang_up();
			continue;
		}
		if (p[1].revents & POLLIN) {
			int fd = accept(S.lfd, NULL, NULL), one = 1;

			/* answers go as several small sends: Nagle would hold them for an ACK */
			if (fd >= 0)
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

			for (int i = 0; fd >= 0 && i < MAX_CONNS; i++) {
				if (S.conns[i].fd < 0) {
					uint8_t *rx = S.conns[i].rx;

					memset(&S.conns[i], 0, sizeof(S.conns[i]));
					S.conns[i].rx = rx;
					S.conns[i].fd = fd;
					fd = -1;
				}
			}
			if (fd >= 0)
				close(fd);
		}
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &S.conns[i];
			ssize_t got;

			if (c->fd < 0 || !(p[2 + i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = recv(c->fd, c->rx + c->rx_len, MAX_XFER + 1024 - c->rx_len, 0);
			if (got <= 0) {
				close(c->fd);
				c->fd = -1;
				c->rx_len = 0;
				continue;
			}
			c->rx_len += (size_t)got;
			on_rx(c);
		}
	}
	hang_up();
	return NULL;
}

/* ------------------------------------------------------------------ the host */

static void io_cb(void *arg, int status, const struct nvme_cqe *cqe)
{
	(void)status;
	(void)cqe;
	*(int *)arg = 1;
}

static void wait_io(struct nvmf_qpair *q, const int *done)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!*done) {
		if (nvmf_qpair_poll(q, 0) < 0)
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 3)
			break;
		usleep(100);
	}
}

static void run_host(uint8_t mode)
{
	static uint8_t buf[1 << 20];
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c;

	nvmf_ctrl_opts_init(&o);
	o.traddr = "127.0.0.1";
	o.trsvcid = S.port;
	o.hostnqn = "nqn.2014-08.org.nvmexpress:uuid:0f0f0f0f-1111-2222-3333-444444444444";
	o.hostid = "0f0f0f0f-1111-2222-3333-444444444444";
	o.kato_ms = 0;
	o.ctrl_loss_tmo_s = 0;
	o.io_timeout_ms = 2000;
	o.queue_size = 16;
	if ((mode & 3) == HM_DISCOVER) {
		struct nvmf_disc_entry *e = NULL;
		unsigned n = 0;

		if (nvmf_discover(&o, false, &e, &n, NULL) == 0)
			free(e);
		return;
	}
	o.subnqn = "nqn.2024-01.io.fuzz:sub";
	o.nr_io_queues = 1;
	o.disable_sqflow = mode & HM_NO_SQFLOW;
	if (nvmf_ctrl_connect(&o, &c))
		return;
	{
		uint32_t nsids[8];
		struct nvmf_ns_info info;
		struct nvmf_qpair *q = nvmf_ctrl_nr_qpairs(c) ? nvmf_ctrl_qpair(c, 0) : NULL;
		/* a command given up on completes at disconnect: its flag must outlive this */
		static int done;

		nvmf_ctrl_list_ns(c, nsids, 8);
		nvmf_ctrl_ns_info(c, 1, &info);
		nvmf_get_log_page(c, NVME_LID_ANA, 0, 0, buf, 4096);
		/* the buffers hold what the library's idea of the block size makes of them */
		if (q && (uint64_t)hctrl_block_size(c, 1) * 64 <= sizeof(buf)) {
			done = 0;
			if (nvmf_read(q, 1, 0, 8, buf, io_cb, &done) == 0)
				wait_io(q, &done);
			done = 0;
			if (nvmf_write(q, 1, 0, (mode & HM_BIG_WRITE) ? 64 : 8, buf, 0, io_cb,
				       &done) == 0)
				wait_io(q, &done);
		}
	}
	nvmf_ctrl_disconnect(c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);

	(void)argc;
	(void)argv;
	if (!getenv("FUZZ_VERBOSE"))
		nvmf_set_log_level(-1);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	S.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (S.lfd < 0 || bind(S.lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(S.lfd, 16) || getsockname(S.lfd, (struct sockaddr *)&sa, &sl))
		abort();
	snprintf(S.port, sizeof(S.port), "%u", ntohs(sa.sin_port));
	for (int i = 0; i < MAX_CONNS; i++) {
		S.conns[i].fd = -1;
		S.conns[i].rx = malloc(MAX_XFER + 1024);
		if (!S.conns[i].rx)
			abort();
	}
	if (pipe(S.stop_fd))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pthread_t t;
	char one = 1;

	if (size < 1)
		return 0;
	S.in = data + 1;
	S.end = data + size;
	if (pthread_create(&t, NULL, controller, NULL))
		abort();
	run_host(data[0]);
	if (write(S.stop_fd[1], &one, 1) != 1)
		abort();
	pthread_join(t, NULL);
	if (read(S.stop_fd[0], &one, 1) != 1)
		abort();
	return 0;
}
