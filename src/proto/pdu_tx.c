/* NVMe/TCP PDU send path: header building and iovec assembly (see pdu_tx.h). */
#include "proto/pdu_tx.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include "proto/crc32c.h"

size_t nvmf_iov_len(const struct iovec *iov, int cnt)
{
	size_t n = 0;

	for (int i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

int nvmf_pdu_build(struct nvmf_pdu_out *out, const struct nvmf_pdu_tx_cfg *cfg,
		   const struct iovec *data, int datacnt, struct iovec *iov, int max)
{
	struct nvme_tcp_ch *ch = &out->hdr.h.ch;
	uint8_t type = ch->type;
	uint32_t hlen = nvme_tcp_hlen(type);
	bool term = type == NVME_TCP_H2C_TERM || type == NVME_TCP_C2H_TERM;
	bool ic = type == NVME_TCP_ICREQ || type == NVME_TCP_ICRESP;
	size_t dlen = nvmf_iov_len(data, datacnt);
	bool hd = cfg && cfg->hdgst && !ic && !term;
	bool dd = cfg && cfg->ddgst && dlen && !term;
	uint32_t hdr_end, pdo = 0;
	uint64_t plen;
	int cnt = 0;

	if (!hlen || (ic && dlen))
		return -EINVAL;
	hdr_end = hlen + (hd ? NVME_TCP_DIGEST_LEN : 0);
	if (dlen && !term) {
		uint32_t align = ((uint32_t)(cfg ? cfg->pda : 0) + 1) * 4;

		pdo = (hdr_end + align - 1) / align * align;
		if (pdo > UINT8_MAX)
			return -EINVAL;
	}
	/* A TermReq's echoed header follows its own header directly; its PDO stays 0. */
	plen = (uint64_t)(pdo ? pdo : hdr_end) + dlen + (dd ? NVME_TCP_DIGEST_LEN : 0);
	if (plen > UINT32_MAX)
		return -EINVAL;
	if (1 + datacnt + (dd ? 1 : 0) > max)
		return -EINVAL;

	ch->hlen = (uint8_t)hlen;
	ch->pdo = (uint8_t)pdo;
	ch->plen = htole32((uint32_t)plen);
	ch->flags &= (uint8_t)~(NVME_TCP_F_HDGST | NVME_TCP_F_DDGST);
	if (hd)
		ch->flags |= NVME_TCP_F_HDGST;
	if (dd)
		ch->flags |= NVME_TCP_F_DDGST;
	if (hd) {
		uint32_t crc = htole32(nvmf_crc32c(out->hdr.raw, hlen));

		memcpy(out->hdr.raw + hlen, &crc, sizeof(crc));
	}
	if (pdo > hdr_end)
		memset(out->hdr.raw + hdr_end, 0, pdo - hdr_end);
	out->hdr_bytes = pdo ? pdo : hdr_end;

	iov[cnt].iov_base = out->hdr.raw;
	iov[cnt].iov_len = out->hdr_bytes;
	cnt++;
	for (int i = 0; i < datacnt; i++) {
		if (data[i].iov_len == 0)
			continue;
		iov[cnt++] = data[i];
	}
	if (dd) {
		uint32_t crc = htole32(nvmf_crc32c_iov(data, datacnt));

		memcpy(out->ddgst, &crc, sizeof(crc));
		iov[cnt].iov_base = out->ddgst;
		iov[cnt].iov_len = NVME_TCP_DIGEST_LEN;
		cnt++;
	}
	return cnt;
}

/* Zero the header and set its type and type-specific flags. */
static union nvme_tcp_hdr *start(struct nvmf_pdu_out *out, uint8_t type, uint8_t flags)
{
	memset(out->hdr.raw, 0, nvme_tcp_hlen(type));
	out->hdr.h.ch.type = type;
	out->hdr.h.ch.flags = flags;
	return &out->hdr.h;
}

int nvmf_pdu_icreq(struct nvmf_pdu_out *out, uint8_t hpda, uint8_t dgst, uint32_t maxr2t,
		   struct iovec *iov, int max)
{
	union nvme_tcp_hdr *h = start(out, NVME_TCP_ICREQ, 0);

	h->icreq.pfv = htole16(NVME_TCP_PFV_1_0);
	h->icreq.hpda = hpda;
	h->icreq.dgst = dgst;
	h->icreq.maxr2t = htole32(maxr2t);
	return nvmf_pdu_build(out, NULL, NULL, 0, iov, max);
}

int nvmf_pdu_icresp(struct nvmf_pdu_out *out, uint8_t cpda, uint8_t dgst, uint32_t maxh2cdata,
		    struct iovec *iov, int max)
{
	union nvme_tcp_hdr *h = start(out, NVME_TCP_ICRESP, 0);

	h->icresp.pfv = htole16(NVME_TCP_PFV_1_0);
	h->icresp.cpda = cpda;
	h->icresp.dgst = dgst;
	h->icresp.maxh2cdata = htole32(maxh2cdata);
	return nvmf_pdu_build(out, NULL, NULL, 0, iov, max);
}

int nvmf_pdu_term(struct nvmf_pdu_out *out, uint8_t type, uint16_t fes, uint32_t fei,
		  const void *bad_hdr, uint32_t len, struct iovec *iov, int max)
{
	union nvme_tcp_hdr *h;
	struct iovec data;
	uint32_t hlen = sizeof(struct nvme_tcp_term);

	if ((type != NVME_TCP_H2C_TERM && type != NVME_TCP_C2H_TERM) ||
	    len > NVME_TCP_TERM_MAX_DATA)
		return -EINVAL;
	h = start(out, type, 0);
	h->term.fes = htole16(fes);
	h->term.fei = htole32(fei);
	/* bad_hdr may be the receiver's own header buffer: copy, don't alias. */
	memmove(out->hdr.raw + hlen, bad_hdr, len);
	data.iov_base = out->hdr.raw + hlen;
	data.iov_len = len;
	return nvmf_pdu_build(out, NULL, &data, len ? 1 : 0, iov, max);
}

int nvmf_pdu_cmd(struct nvmf_pdu_out *out, const struct nvmf_pdu_tx_cfg *cfg,
		 const struct nvme_sqe *sqe, const struct iovec *icd, int icdcnt,
		 struct iovec *iov, int max)
{
	union nvme_tcp_hdr *h = start(out, NVME_TCP_CMD, 0);

	h->cmd.sqe = *sqe;
	return nvmf_pdu_build(out, cfg, icd, icdcnt, iov, max);
}

int nvmf_pdu_rsp(struct nvmf_pdu_out *out, const struct nvmf_pdu_tx_cfg *cfg,
		 const struct nvme_cqe *cqe, struct iovec *iov, int max)
{
	union nvme_tcp_hdr *h = start(out, NVME_TCP_RSP, 0);

	h->rsp.cqe = *cqe;
	return nvmf_pdu_build(out, cfg, NULL, 0, iov, max);
}

int nvmf_pdu_h2c_data(struct nvmf_pdu_out *out, const struct nvmf_pdu_tx_cfg *cfg,
		      uint16_t cccid, uint16_t ttag, uint32_t datao, bool last,
		      const struct iovec *data, int datacnt, struct iovec *iov, int max)
{
	union nvme_tcp_hdr *h = start(out, NVME_TCP_H2C_DATA, last ? NVME_TCP_F_DATA_LAST : 0);
	size_t dlen = nvmf_iov_len(data, datacnt);

	if (dlen == 0 || dlen > UINT32_MAX)
		return -EINVAL;
	h->data.cccid = htole16(cccid);
	h->data.ttag = htole16(ttag);
	h->data.datao = htole32(datao);
	h->data.datal = htole32((uint32_t)dlen);
	return nvmf_pdu_build(out, cfg, data, datacnt, iov, max);
}

int nvmf_pdu_c2h_data(struct nvmf_pdu_out *out, const struct nvmf_pdu_tx_cfg *cfg,
		      uint16_t cccid, uint32_t datao, uint8_t flags,
		      const struct iovec *data, int datacnt, struct iovec *iov, int max)
{
	union nvme_tcp_hdr *h;
	size_t dlen = nvmf_iov_len(data, datacnt);

	if (flags & ~(NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS))
		return -EINVAL;
	if ((flags & NVME_TCP_F_DATA_SUCCESS) && !(flags & NVME_TCP_F_DATA_LAST))
		return -EINVAL;
	if (dlen == 0 || dlen > UINT32_MAX)
		return -EINVAL;
	h = start(out, NVME_TCP_C2H_DATA, flags);
	h->data.cccid = htole16(cccid);
	h->data.datao = htole32(datao);
	h->data.datal = htole32((uint32_t)dlen);
	return nvmf_pdu_build(out, cfg, data, datacnt, iov, max);
}

int nvmf_pdu_r2t(struct nvmf_pdu_out *out, const struct nvmf_pdu_tx_cfg *cfg,
		 uint16_t cccid, uint16_t ttag, uint32_t r2to, uint32_t r2tl,
		 struct iovec *iov, int max)
{
	union nvme_tcp_hdr *h = start(out, NVME_TCP_R2T, 0);

	h->r2t.cccid = htole16(cccid);
	h->r2t.ttag = htole16(ttag);
	h->r2t.r2to = htole32(r2to);
	h->r2t.r2tl = htole32(r2tl);
	return nvmf_pdu_build(out, cfg, NULL, 0, iov, max);
}
