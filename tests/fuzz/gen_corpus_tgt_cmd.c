/*
 * Writes the seed corpus of fuzz_tgt_cmd into a directory: well-formed associations as a
 * host makes them (admin Connect, Property Get CAP / Set CC.EN, Identify, Set Features
 * Number of Queues, an I/O queue Connect, writes and reads, log pages; a discovery
 * controller reading its log with offsets), so the fuzzer starts from deep states.
 */
#include <endian.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/nvme_spec.h"
#include "tgt_cmd_input.h"

#define CC_ENABLE (NVME_CC_EN | 6u << 16 | 4u << 20)

struct seed {
	uint8_t buf[1 << 16];
	size_t len;
	uint16_t cid;
};

static void rec(struct seed *s, uint8_t ctl, struct nvme_sqe *sqe, const void *data,
		uint16_t len)
{
	sqe->cid = htole16(s->cid++);
	s->buf[s->len] = ctl;
	memcpy(s->buf + s->len + 1, sqe, sizeof(*sqe));
	s->buf[s->len + 65] = (uint8_t)len;
	s->buf[s->len + 66] = (uint8_t)(len >> 8);
	s->len += TC_HDR;
	if (len && data)
		memcpy(s->buf + s->len, data, len);
	else if (len)
		memset(s->buf + s->len, 0xA5, len);
	s->len += len;
}

static void connect(struct seed *s, unsigned slot, uint16_t qid, bool disc)
{
	struct nvmf_connect_cmd c;

	memset(&c, 0, sizeof(c));
	c.opcode = NVME_OPC_FABRICS;
	c.fctype = NVMF_FCTYPE_CONNECT;
	c.qid = htole16(qid);
	c.sqsize = htole16(qid ? 127 : 31);
	c.kato = htole32(qid ? 0 : 5000);
	rec(s, (uint8_t)(slot | TC_ICD | TC_FIX_SGL | TC_FIX_CONNECT | TC_FIX_FLAGS |
			 (disc ? TC_DISC : 0)),
	    (struct nvme_sqe *)&c, NULL, 0);
}

static void prop(struct seed *s, bool set, uint32_t off, uint8_t size8, uint64_t val)
{
	struct nvmf_property_set_cmd c;

	memset(&c, 0, sizeof(c));
	c.opcode = NVME_OPC_FABRICS;
	c.fctype = set ? NVMF_FCTYPE_PROPERTY_SET : NVMF_FCTYPE_PROPERTY_GET;
	c.attrib = size8;
	c.offset = htole32(off);
	c.value = htole64(val);
	rec(s, TC_FIX_SGL | TC_FIX_FLAGS, (struct nvme_sqe *)&c, NULL, 0);
}

static void admin(struct seed *s, unsigned slot, uint8_t opc, uint32_t nsid, uint32_t cdw10,
		  uint32_t cdw11, uint32_t cdw12, uint32_t cdw13, uint16_t len, bool icd)
{
	struct nvme_sqe q;

	memset(&q, 0, sizeof(q));
	q.opcode = opc;
	q.nsid = htole32(nsid);
	q.cdw10 = htole32(cdw10);
	q.cdw11 = htole32(cdw11);
	q.cdw12 = htole32(cdw12);
	q.cdw13 = htole32(cdw13);
	rec(s, (uint8_t)(slot | TC_FIX_SGL | TC_FIX_FLAGS | (icd ? TC_ICD : 0)), &q, NULL, len);
}

static void enable(struct seed *s, unsigned slot, bool disc)
{
	connect(s, slot, 0, disc);
	prop(s, false, NVME_REG_CAP, 1, 0);
	prop(s, false, NVME_REG_VS, 0, 0);
	prop(s, true, NVME_REG_CC, 0, CC_ENABLE);
	prop(s, false, NVME_REG_CSTS, 0, 0);
}

static int save(const char *dir, int n, const struct seed *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%02d", dir, n);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -1;
	}
	fwrite(s->buf, 1, s->len, f);
	return fclose(f);
}

int main(int argc, char **argv)
{
	static struct seed s;
	int n = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}

	/* admin queue: identify, logs, features, AER, keep alive */
	memset(&s, 0, sizeof(s));
	enable(&s, 0, false);
	admin(&s, 0, NVME_ADM_IDENTIFY, 0, 1, 0, 0, 0, 4096, false);
	admin(&s, 0, NVME_ADM_IDENTIFY, 1, 0, 0, 0, 0, 4096, false);
	admin(&s, 0, NVME_ADM_IDENTIFY, 0, 2, 0, 0, 0, 4096, false);
	admin(&s, 0, NVME_ADM_IDENTIFY, 1, 3, 0, 0, 0, 4096, false);
	admin(&s, 0, NVME_ADM_GET_LOG_PAGE, 0xFFFFFFFF, NVME_LID_SMART | 127u << 16, 0, 0, 0,
	      512, false);
	admin(&s, 0, NVME_ADM_GET_LOG_PAGE, 0, NVME_LID_ERROR | 63u << 16, 0, 0, 0, 256, false);
	admin(&s, 0, NVME_ADM_GET_LOG_PAGE, 0, NVME_LID_ANA | 1023u << 16, 0, 0, 0, 4096, false);
	admin(&s, 0, NVME_ADM_GET_LOG_PAGE, 0, NVME_LID_CHANGED_NS | 1023u << 16, 0, 0, 0, 4096,
	      false);
	admin(&s, 0, NVME_ADM_GET_LOG_PAGE, 0, NVME_LID_CMD_EFFECTS | 1023u << 16, 0, 0, 0, 4096,
	      false);
	admin(&s, 0, NVME_ADM_GET_FEATURES, 0, 0x07, 0, 0, 0, 0, false);
	admin(&s, 0, NVME_ADM_SET_FEATURES, 0, 0x07, 0x00030003, 0, 0, 0, false);
	admin(&s, 0, NVME_ADM_SET_FEATURES, 0, 0x0B, 0x900, 0, 0, 0, false);
	admin(&s, 0, NVME_ADM_SET_FEATURES, 0, 0x0F, 10000, 0, 0, 0, false);
	admin(&s, 0, NVME_ADM_ASYNC_EVENT, 0, 0, 0, 0, 0, 0, false);
	admin(&s, 0, NVME_ADM_KEEP_ALIVE, 0, 0, 0, 0, 0, 0, false);
	admin(&s, 0, NVME_ADM_GET_FEATURES, 0, 0x04, 0, 0, 0, 0, false);
	if (save(argv[1], n++, &s))
		return 1;

	/* an I/O queue: writes in capsule and after R2T, reads, flush, zeroes, deallocate */
	memset(&s, 0, sizeof(s));
	enable(&s, 0, false);
	admin(&s, 0, NVME_ADM_SET_FEATURES, 0, 0x07, 0x00010001, 0, 0, 0, false);
	connect(&s, 1, 1, false);
	admin(&s, 1, NVME_NVM_WRITE, 1, 8, 0, 7, 0, 4096, true);
	admin(&s, 1, NVME_NVM_WRITE, 1, 16, 0, 15, 0, 8192, false);
	admin(&s, 1, NVME_NVM_READ, 1, 8, 0, 7, 0, 4096, false);
	admin(&s, 1, NVME_NVM_READ, 1, 2040, 0, 7, 0, 4096, false);
	admin(&s, 1, NVME_NVM_FLUSH, 1, 0, 0, 0, 0, 0, false);
	admin(&s, 1, NVME_NVM_WRITE_ZEROES, 1, 0, 0, 31, 0, 0, false);
	admin(&s, 1, NVME_NVM_DSM, 1, 1, 4, 0, 0, 32, true);
	admin(&s, 1, NVME_NVM_COMPARE, 1, 8, 0, 0, 0, 512, true);
	admin(&s, 1, NVME_NVM_VERIFY, 1, 8, 0, 7, 0, 0, false);
	connect(&s, 2, 2, false);
	admin(&s, 2, NVME_NVM_READ, 1, 0, 0, 255, 0, 0, false);
	if (save(argv[1], n++, &s))
		return 1;

	/* a discovery controller reading its log whole and in pieces */
	memset(&s, 0, sizeof(s));
	enable(&s, 0, true);
	admin(&s, 0, NVME_ADM_IDENTIFY, 0, 1, 0, 0, 0, 4096, false);
	admin(&s, 0, NVME_ADM_GET_LOG_PAGE, 0, NVME_LID_DISCOVERY | 255u << 16, 0, 0, 0, 1024,
	      false);
	admin(&s, 0, NVME_ADM_GET_LOG_PAGE, 0, NVME_LID_DISCOVERY | 255u << 16, 0, 1024, 0,
	      1024, false);
	admin(&s, 0, NVME_ADM_GET_LOG_PAGE, 0, NVME_LID_DISCOVERY | 1023u << 16, 0, 16, 0, 4096,
	      false);
	admin(&s, 0, NVME_ADM_SET_FEATURES, 0, 0x0B, 0x80000000, 0, 0, 0, false);
	admin(&s, 0, NVME_ADM_ASYNC_EVENT, 0, 0, 0, 0, 0, 0, false);
	admin(&s, 0, NVME_ADM_GET_LOG_PAGE, 0, NVME_LID_DISCOVERY | 3u << 16, 0, 0, 0, 16,
	      false);
	if (save(argv[1], n++, &s))
		return 1;

	/* reservations (keys 0: the padding): register, acquire, report, I/O under it,
	 * preempt and abort, release, clear; the notification log and features 82h / 83h */
	memset(&s, 0, sizeof(s));
	enable(&s, 0, false);
	admin(&s, 0, NVME_ADM_SET_FEATURES, 0, 0x07, 0x00010001, 0, 0, 0, false);
	connect(&s, 1, 1, false);
	admin(&s, 1, NVME_NVM_RESV_REGISTER, 1, 0, 0, 0, 0, 16, true);
	admin(&s, 1, NVME_NVM_RESV_ACQUIRE, 1, 1u << 8, 0, 0, 0, 16, true);
	admin(&s, 1, NVME_NVM_RESV_REPORT, 1, 1023, 1, 0, 0, 4096, false);
	admin(&s, 1, NVME_NVM_WRITE, 1, 0, 0, 0, 0, 512, false);
	admin(&s, 1, NVME_NVM_RESV_ACQUIRE, 1, 2 | 4u << 8, 0, 0, 0, 16, true);
	admin(&s, 1, NVME_NVM_RESV_RELEASE, 1, 4u << 8, 0, 0, 0, 8, true);
	admin(&s, 1, NVME_NVM_RESV_RELEASE, 1, 1, 0, 0, 0, 8, true);
	admin(&s, 0, NVME_ADM_GET_LOG_PAGE, 0xFFFFFFFF, NVME_LID_RESV_NOTIFICATION | 15u << 16,
	      0, 0, 0, 64, false);
	admin(&s, 0, NVME_ADM_SET_FEATURES, 1, 0x82, 0x4, 0, 0, 0, false);
	admin(&s, 0, NVME_ADM_GET_FEATURES, 1, 0x83, 0, 0, 0, 0, false);
	if (save(argv[1], n++, &s))
		return 1;

	/* reset and shutdown sequences, a second association on the same subsystem */
	memset(&s, 0, sizeof(s));
	enable(&s, 0, false);
	prop(&s, true, NVME_REG_CC, 0, 0);
	prop(&s, true, NVME_REG_CC, 0, CC_ENABLE);
	prop(&s, true, NVME_REG_CC, 0, CC_ENABLE | 1u << 14);
	prop(&s, false, NVME_REG_CSTS, 0, 0);
	connect(&s, 3, 0, false);
	connect(&s, 1, 1, false);
	admin(&s, 1, NVME_NVM_WRITE, 1, 0, 0, 0, 0, 512, true);
	if (save(argv[1], n++, &s))
		return 1;
	return 0;
}
