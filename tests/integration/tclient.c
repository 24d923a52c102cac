/* Blocking test host for the target's integration tests (see tclient.h). */
#include "tclient.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IOVMAX 8

static int on_header(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct tclient *c = ctx;
	struct iovec *iov = &c->dest;

	if (rx->hdr.h.ch.type == NVME_TCP_C2H_DATA) {
		uint32_t off = le32toh(rx->hdr.h.data.datao);

		if (!c->rd_buf || (uint64_t)off + rx->data_len > c->rd_len)
			return nvmf_pdu_rx_fail(rx, NVME_TCP_FES_DATA_OUT_OF_RANGE, 12);
		iov->iov_base = c->rd_buf + off;
		iov->iov_len = rx->data_len;
		nvmf_pdu_rx_set_dest(rx, iov, 1);
	} else if (rx->hdr.h.ch.type == NVME_TCP_C2H_TERM) {
		iov->iov_base = c->term_data;
		iov->iov_len = rx->data_len;
		nvmf_pdu_rx_set_dest(rx, iov, 1);
	}
	return 0;
}

static int on_pdu(void *ctx, struct nvmf_pdu_rx *rx)
{
	struct tclient *c = ctx;

	c->last.type = rx->hdr.h.ch.type;
	memcpy(&c->last.hdr, rx->hdr.raw, rx->hdr.h.ch.hlen);
	c->last.data_len = rx->data_len;
	c->last.ddgst_err = rx->ddgst_err;
	return NVMF_PDU_RX_PAUSE; /* one PDU per tc_recv_pdu() */
}

static const struct nvmf_pdu_rx_ops ops = { .on_header = on_header, .on_pdu = on_pdu };

int tc_send(struct tclient *c, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n;

		if (c->io) {
			n = c->io->send(c, p, len);
			if (n == -EAGAIN) {
				struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };

				if (poll(&pfd, 1, 5000) == 0)
					return -ETIMEDOUT;
				continue;
			}
			if (n < 0)
				return (int)n;
			p += n;
			len -= (size_t)n;
			continue;
		}
		n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_iov(struct tclient *c, struct iovec *iov, int cnt)
{
	for (int i = 0; i < cnt; i++) {
		int rc = tc_send(c, iov[i].iov_base, iov[i].iov_len);

		if (rc)
			return rc;
	}
	return 0;
}

int tc_recv_pdu(struct tclient *c, int timeout_ms)
{
	uint64_t before = c->rx.pdus;

	for (;;) {
		if (c->stg_off < c->stg_len) {
			ssize_t n = nvmf_pdu_rx_feed(&c->rx, c->staging + c->stg_off,
						     c->stg_len - c->stg_off);

			if (n < 0)
				return (int)n;
			c->stg_off += (size_t)n;
			if (c->rx.pdus != before)
				return 0;
		}
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int pr = c->io && c->io->buffered(c) ? 1 : poll(&pfd, 1, timeout_ms);

		if (pr == 0)
			return -ETIMEDOUT;
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		ssize_t n;

		if (c->io) {
			n = c->io->recv(c, c->staging, sizeof(c->staging));
			if (n == -EAGAIN)
				continue;
			if (n < 0) {
				errno = (int)-n;
				n = -1;
			}
		} else {
			n = recv(c->fd, c->staging, sizeof(c->staging), 0);
		}

		if (n == 0)
			return -ECONNRESET;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECONNRESET ? -ECONNRESET : -errno;
		}
		c->stg_off = 0;
		c->stg_len = (size_t)n;
	}
}

int tc_open(struct tclient *c, const char *addr, uint16_t port, bool hdgst, bool ddgst)
{
	int rc = tc_tcp_connect(c, addr, port);

	return rc ? rc : tc_ic(c, hdgst, ddgst);
}

int tc_tcp_connect(struct tclient *c, const char *addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct nvmf_pdu_rx_cfg cfg = { .role = NVMF_PDU_ROLE_HOST };
	int one = 1, rc;

	memset(c, 0, sizeof(*c));
	c->next_cid = 1;
	/* a raw connection can already receive (a C2HTermReq for what it sends before IC) */
	nvmf_pdu_rx_init(&c->rx, &cfg, &ops, c);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(c->fd);
		c->fd = -1;
		return rc;
	}
	return 0;
}

int tc_ic(struct tclient *c, bool hdgst, bool ddgst)
{
	struct nvmf_pdu_rx_cfg cfg = { .role = NVMF_PDU_ROLE_HOST };
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX];
	int rc, cnt;

	nvmf_pdu_rx_init(&c->rx, &cfg, &ops, c);
	cnt = nvmf_pdu_icreq(&out, 0,
			     (hdgst ? NVME_TCP_HDGST_ENABLE : 0) | (ddgst ? NVME_TCP_DDGST_ENABLE : 0),
			     0, iov, IOVMAX);
	rc = send_iov(c, iov, cnt);
	if (!rc)
		rc = tc_recv_pdu(c, 5000);
	if (rc)
		return rc;
	if (c->last.type != NVME_TCP_ICRESP)
		return -EPROTO;
	c->tx.hdgst = c->last.hdr.icresp.dgst & NVME_TCP_HDGST_ENABLE;
	c->tx.ddgst = c->last.hdr.icresp.dgst & NVME_TCP_DDGST_ENABLE;
	c->tx.pda = c->last.hdr.icresp.cpda;
	c->maxh2cdata = le32toh(c->last.hdr.icresp.maxh2cdata);
	nvmf_pdu_rx_set_digests(&c->rx, c->tx.hdgst, c->tx.ddgst);
	c->icd_max = 8192;
	return 0;
}

void tc_close(struct tclient *c)
{
	if (c->io)
		c->io->close(c);
	else if (c->fd >= 0)
		close(c->fd);
	c->io = NULL;
	c->fd = -1;
}

static int send_h2c(struct tclient *c, uint16_t cid, const uint8_t *data, uint32_t len);

int tc_send_h2c(struct tclient *c, const void *data, uint32_t len)
{
	if (c->last.type != NVME_TCP_R2T)
		return -EPROTO;
	return send_h2c(c, le16toh(c->last.hdr.r2t.cccid), data, len);
}

static int send_h2c(struct tclient *c, uint16_t cid, const uint8_t *data, uint32_t len)
{
	const struct nvme_tcp_r2t *r2t = &c->last.hdr.r2t;
	uint32_t off = le32toh(r2t->r2to), left = le32toh(r2t->r2tl);

	if ((uint64_t)off + left > len)
		return -EPROTO;
	while (left > 0) {
		uint32_t n = left < c->maxh2cdata ? left : c->maxh2cdata;
		struct nvmf_pdu_out out;
		struct iovec iov[IOVMAX], d = { (void *)(data + off), n };
		int cnt = nvmf_pdu_h2c_data(&out, &c->tx, cid, le16toh(r2t->ttag), off, n == left,
					    &d, 1, iov, IOVMAX);
		int rc = send_iov(c, iov, cnt);

		if (rc)
			return rc;
		off += n;
		left -= n;
	}
	return 0;
}

int tc_cmd(struct tclient *c, struct nvme_sqe *sqe, void *data, uint32_t len, bool write,
	   struct nvme_cqe *cqe)
{
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX], d = { data, len };
	uint16_t cid = c->next_cid++;
	bool icd = write && len && len <= c->icd_max;
	int cnt, rc;

	sqe->cid = htole16(cid);
	sqe->flags = NVME_CMD_FLAGS_SGL;
	sqe->dptr.sgl.addr = 0;
	sqe->dptr.sgl.length = htole32(len);
	sqe->dptr.sgl.id = icd ? NVME_SGL_ID_ICD : NVME_SGL_ID_TRANSPORT;
	c->rd_buf = write ? NULL : data;
	c->rd_len = write ? 0 : len;
	cnt = nvmf_pdu_cmd(&out, &c->tx, sqe, &d, icd ? 1 : 0, iov, IOVMAX);
	rc = send_iov(c, iov, cnt);
	if (rc)
		return rc;
	for (;;) {
		rc = tc_recv_pdu(c, 10000);
		if (rc)
			return rc;
		switch (c->last.type) {
		case NVME_TCP_RSP:
			*cqe = c->last.hdr.rsp.cqe;
			if (le16toh(cqe->cid) != cid)
				return -EPROTO;
			return 0;
		case NVME_TCP_C2H_DATA:
			if (c->last.ddgst_err)
				return -EBADMSG;
			if (c->last.hdr.ch.flags & NVME_TCP_F_DATA_SUCCESS) {
				memset(cqe, 0, sizeof(*cqe));
				cqe->cid = htole16(cid);
				return 0;
			}
			break;
		case NVME_TCP_R2T:
			if (!write || le16toh(c->last.hdr.r2t.cccid) != cid)
				return -EPROTO;
			rc = send_h2c(c, cid, data, len);
			if (rc)
				return rc;
			break;
		case NVME_TCP_C2H_TERM:
			return -EPROTO;
		default:
			return -EPROTO;
		}
	}
}

int tc_submit(struct tclient *c, struct nvme_sqe *sqe, uint16_t *cid)
{
	return tc_submit_len(c, sqe, 0, cid);
}

int tc_submit_len(struct tclient *c, struct nvme_sqe *sqe, uint32_t len, uint16_t *cid)
{
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX];
	int cnt;

	*cid = c->next_cid++;
	sqe->cid = htole16(*cid);
	sqe->flags = NVME_CMD_FLAGS_SGL;
	sqe->dptr.sgl.addr = 0;
	sqe->dptr.sgl.length = htole32(len);
	sqe->dptr.sgl.id = NVME_SGL_ID_TRANSPORT;
	cnt = nvmf_pdu_cmd(&out, &c->tx, sqe, NULL, 0, iov, IOVMAX);
	return send_iov(c, iov, cnt);
}

int tc_submit_icd(struct tclient *c, struct nvme_sqe *sqe, const void *data, uint32_t len,
		  uint16_t *cid)
{
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX], d = { (void *)data, len };
	int cnt;

	if (len > c->icd_max)
		return -EMSGSIZE;
	*cid = c->next_cid++;
	sqe->cid = htole16(*cid);
	sqe->flags = NVME_CMD_FLAGS_SGL;
	sqe->dptr.sgl.addr = 0;
	sqe->dptr.sgl.length = htole32(len);
	sqe->dptr.sgl.id = NVME_SGL_ID_ICD;
	cnt = nvmf_pdu_cmd(&out, &c->tx, sqe, &d, 1, iov, IOVMAX);
	return send_iov(c, iov, cnt);
}

int tc_send_h2c_part(struct tclient *c, const void *data, uint32_t len)
{
	const struct nvme_tcp_r2t *r2t = &c->last.hdr.r2t;
	struct nvmf_pdu_out out;
	struct iovec iov[IOVMAX], d = { (void *)((const uint8_t *)data + le32toh(r2t->r2to)),
					len };
	int cnt;

	if (c->last.type != NVME_TCP_R2T || len >= le32toh(r2t->r2tl) || len > c->maxh2cdata)
		return -EPROTO;
	cnt = nvmf_pdu_h2c_data(&out, &c->tx, le16toh(r2t->cccid), le16toh(r2t->ttag),
				le32toh(r2t->r2to), false, &d, 1, iov, IOVMAX);
	return send_iov(c, iov, cnt);
}

int tc_wait_rsp(struct tclient *c, uint16_t cid, int timeout_ms, struct nvme_cqe *cqe)
{
	int rc = tc_recv_pdu(c, timeout_ms);

	if (rc)
		return rc;
	if (c->last.type != NVME_TCP_RSP || le16toh(c->last.hdr.rsp.cqe.cid) != cid)
		return -EPROTO;
	*cqe = c->last.hdr.rsp.cqe;
	return 0;
}

void tc_sqe(struct nvme_sqe *sqe, uint8_t opc, uint32_t nsid)
{
	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = opc;
	sqe->nsid = htole32(nsid);
}

int tc_connect(struct tclient *c, uint16_t qid, uint16_t sqsize, const char *subnqn,
	       const char *hostnqn, uint16_t cntlid, uint32_t kato_ms, uint8_t cattr,
	       struct nvme_cqe *cqe)
{
	struct nvmf_connect_cmd cmd;
	struct nvmf_connect_data d;
	int rc;

	memset(&cmd, 0, sizeof(cmd));
	memset(&d, 0, sizeof(d));
	cmd.opcode = NVME_OPC_FABRICS;
	cmd.fctype = NVMF_FCTYPE_CONNECT;
	cmd.qid = htole16(qid);
	cmd.sqsize = htole16(sqsize);
	cmd.kato = htole32(kato_ms);
	cmd.cattr = cattr;
	memset(d.hostid, c->hostid_byte ? c->hostid_byte : 0x5a, sizeof(d.hostid));
	d.cntlid = htole16(cntlid);
	strncpy(d.subnqn, subnqn, sizeof(d.subnqn) - 1);
	strncpy(d.hostnqn, hostnqn, sizeof(d.hostnqn) - 1);
	rc = tc_cmd(c, (struct nvme_sqe *)&cmd, &d, sizeof(d), true, cqe);
	if (rc)
		return rc;
	if (nvme_status_is_success(le16toh(cqe->status))) {
		c->cntlid = (uint16_t)le32toh(cqe->dw0);
		c->qid = qid;
		c->sqflow_disabled = cattr & NVMF_CONNECT_CATTR_DISABLE_SQFLOW;
	}
	return le16toh(cqe->status) & ~1u;
}

int tc_prop_get(struct tclient *c, uint32_t off, bool eight, uint64_t *val)
{
	struct nvmf_property_get_cmd cmd;
	struct nvme_cqe cqe;
	int rc;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_OPC_FABRICS;
	cmd.fctype = NVMF_FCTYPE_PROPERTY_GET;
	cmd.attrib = eight ? NVMF_PROP_SIZE_8 : NVMF_PROP_SIZE_4;
	cmd.offset = htole32(off);
	rc = tc_cmd(c, (struct nvme_sqe *)&cmd, NULL, 0, false, &cqe);
	if (rc)
		return rc;
	*val = le64toh(cqe.result64);
	return le16toh(cqe.status) & ~1u;
}

int tc_prop_set(struct tclient *c, uint32_t off, uint32_t val)
{
	struct nvmf_property_set_cmd cmd;
	struct nvme_cqe cqe;
	int rc;

	memset(&cmd, 0, sizeof(cmd));
	cmd.opcode = NVME_OPC_FABRICS;
	cmd.fctype = NVMF_FCTYPE_PROPERTY_SET;
	cmd.attrib = NVMF_PROP_SIZE_4;
	cmd.offset = htole32(off);
	cmd.value = htole64(val);
	rc = tc_cmd(c, (struct nvme_sqe *)&cmd, NULL, 0, false, &cqe);
	if (rc)
		return rc;
	return le16toh(cqe.status) & ~1u;
}

int tc_enable(struct tclient *c)
{
	uint32_t cc = NVME_CC_EN | (6u << NVME_CC_IOSQES_SHIFT) | (4u << NVME_CC_IOCQES_SHIFT);
	uint64_t csts = 0;
	int rc = tc_prop_set(c, NVME_REG_CC, cc);

	if (rc)
		return rc;
	for (int i = 0; i < 100; i++) {
		rc = tc_prop_get(c, NVME_REG_CSTS, false, &csts);
		if (rc)
			return rc;
		if (csts & NVME_CSTS_RDY)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

int tc_admin_setup(struct tclient *c, const char *addr, uint16_t port, const char *subnqn,
		   bool hdgst, bool ddgst)
{
	struct nvme_cqe cqe;
	int rc = tc_open(c, addr, port, hdgst, ddgst);

	if (!rc)
		rc = tc_connect(c, 0, 31, subnqn, TC_HOSTNQN, 0xFFFF, 30000, 0, &cqe);
	if (!rc)
		rc = tc_enable(c);
	return rc;
}

int tc_io_setup(struct tclient *c, const char *addr, uint16_t port, const char *subnqn,
		uint16_t cntlid, uint16_t qid, bool hdgst, bool ddgst)
{
	struct nvme_cqe cqe;
	int rc = tc_open(c, addr, port, hdgst, ddgst);

	if (!rc)
		rc = tc_connect(c, qid, 127, subnqn, TC_HOSTNQN, cntlid, 0, 0, &cqe);
	if (!rc)
		c->icd_max = 16384;
	return rc;
}

int tc_host_setup(struct tclient *admin, struct tclient *io, const char *addr, uint16_t port,
		  const char *subnqn, const char *hostnqn, uint8_t hostid_byte)
{
	struct nvme_cqe cqe;
	int rc = tc_open(admin, addr, port, false, false);

	/* tc_open() clears the client: the host ID goes in after it, before Connect */
	admin->hostid_byte = hostid_byte;
	if (!rc)
		rc = tc_connect(admin, 0, 31, subnqn, hostnqn, 0xFFFF, 30000, 0, &cqe);
	if (!rc)
		rc = tc_enable(admin);
	if (!rc)
		rc = tc_open(io, addr, port, false, false);
	io->hostid_byte = hostid_byte;
	if (!rc)
		rc = tc_connect(io, 1, 127, subnqn, hostnqn, admin->cntlid, 0, 0, &cqe);
	return rc;
}

int tc_rw(struct tclient *c, bool write, uint32_t nsid, uint64_t slba, uint32_t nlb,
	  void *buf, uint32_t len, bool fua, uint16_t *status)
{
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	int rc;

	tc_sqe(&sqe, write ? NVME_NVM_WRITE : NVME_NVM_READ, nsid);
	sqe.cdw10 = htole32((uint32_t)slba);
	sqe.cdw11 = htole32((uint32_t)(slba >> 32));
	sqe.cdw12 = htole32((nlb - 1) | (fua ? (1u << 30) : 0));
	rc = tc_cmd(c, &sqe, buf, len, write, &cqe);
	if (!rc)
		*status = le16toh(cqe.status) & ~1u;
	return rc;
}

int tc_identify(struct tclient *c, uint8_t cns, uint32_t nsid, uint8_t csi, void *buf,
		uint16_t *status)
{
	struct nvme_sqe sqe;
	struct nvme_cqe cqe;
	int rc;

	tc_sqe(&sqe, NVME_ADM_IDENTIFY, nsid);
	sqe.cdw10 = htole32(cns);
	sqe.cdw11 = htole32((uint32_t)csi << 24);
	rc = tc_cmd(c, &sqe, buf, 4096, false, &cqe);
	if (!rc)
		*status = le16toh(cqe.status) & ~1u;
	return rc;
}
