/*
 * The reservation state machine (src/target/resv.c) and the notification log
 * (resv_log.c), on their own: the spec's conflict table for every reservation type and
 * every kind of host, Register / Acquire / Preempt / Release / Clear with the
 * notifications each sends and to whom, Report's structure, Preempt and Abort's cut-off,
 * PTPL's file, a store's record (what is saved, when, and a failed save changing nothing),
 * and the log's count rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target/resv.h"

#define CONFLICT NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_RESERVATION_CONFLICT)
#define INVALID NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD)
#define HOSTID_INC NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_HOSTID_INCONSISTENT)

static const uint8_t A[16] = { 0xA1, 0xA1, 0xA1, 0xA1, 0xA1, 0xA1, 0xA1, 0xA1,
			       0xA1, 0xA1, 0xA1, 0xA1, 0xA1, 0xA1, 0xA1, 0xA1 };
static const uint8_t B[16] = { 0xB2, 0xB2, 0xB2, 0xB2, 0xB2, 0xB2, 0xB2, 0xB2,
			       0xB2, 0xB2, 0xB2, 0xB2, 0xB2, 0xB2, 0xB2, 0xB2 };
static const uint8_t C[16] = { 0xC3, 0xC3, 0xC3, 0xC3, 0xC3, 0xC3, 0xC3, 0xC3,
			       0xC3, 0xC3, 0xC3, 0xC3, 0xC3, 0xC3, 0xC3, 0xC3 };

/* What the notify callback heard. */
struct heard {
	unsigned n;
	uint8_t host[16][16];
	uint8_t type[16];
};

static void hear(void *arg, const uint8_t hostid[16], uint8_t type)
{
	struct heard *h = arg;

	assert_true(h->n < 16);
	memcpy(h->host[h->n], hostid, 16);
	h->type[h->n++] = type;
}

/* How many notifications of type went to host. */
static unsigned heard_of(const struct heard *h, const uint8_t *host, uint8_t type)
{
	unsigned n = 0;

	for (unsigned i = 0; i < h->n; i++)
		n += memcmp(h->host[i], host, 16) == 0 && h->type[i] == type;
	return n;
}

static uint32_t reg_cdw10(unsigned action, bool iekey, unsigned cptpl)
{
	return action | (iekey ? NVME_RESV_CDW10_IEKEY : 0) | (cptpl << NVME_RESV_CDW10_CPTPL_SHIFT);
}

static uint32_t acq_cdw10(unsigned action, uint8_t rtype)
{
	return action | ((uint32_t)rtype << NVME_RESV_CDW10_RTYPE_SHIFT);
}

static struct nvmf_resv *new_resv(const char *ptpl)
{
	struct nvmf_resv *r = NULL;
	char err[256];

	assert_int_equal(nvmf_resv_new(ptpl, &r, err, sizeof(err)), 0);
	return r;
}

static void reg(struct nvmf_resv *r, const uint8_t *host, uint64_t key)
{
	assert_int_equal(nvmf_resv_register(r, host, reg_cdw10(NVME_RREGA_REGISTER, false, 0), 0,
					    key, NULL), 0);
}

static uint8_t report_rtype(struct nvmf_resv *r, unsigned *nregs, uint32_t *gen)
{
	uint8_t buf[64 * 8];
	struct nvme_resv_status h;

	assert_int_equal(nvmf_resv_report(r, true, buf, sizeof(buf)), 0);
	memcpy(&h, buf, sizeof(h));
	if (nregs)
		*nregs = h.regctl[0] | h.regctl[1] << 8;
	if (gen)
		*gen = le32toh(h.gen);
	return h.rtype;
}

/* ------------------------------------------------------------------ conflict table */

/*
 * The spec's table (NVMe base 2.0, "Command Behavior in the Presence of a Reservation"),
 * written out: for each type, whether a read / write command of a registrant that does
 * not hold the reservation, and of a host that is not registered, is refused.  The holder
 * is never refused.
 */
static const struct {
	uint8_t rtype;
	bool reg_read, reg_write, nonreg_read, nonreg_write;
} table[] = {
	{ NVME_RTYPE_WE, false, true, false, true },
	{ NVME_RTYPE_EA, true, true, true, true },
	{ NVME_RTYPE_WE_RO, false, false, false, true },
	{ NVME_RTYPE_EA_RO, false, false, true, true },
	{ NVME_RTYPE_WE_AR, false, false, false, true },
	{ NVME_RTYPE_EA_AR, false, false, true, true },
};

static uint16_t want(bool refused)
{
	return refused ? CONFLICT : 0;
}

static void test_conflict_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		struct nvmf_resv *r = new_resv(NULL);

		/* no reservation yet: nobody is refused anything */
		reg(r, A, 1);
		reg(r, B, 2);
		assert_int_equal(nvmf_resv_check(r, C, NVMF_RESV_WRITE), 0);
		assert_int_equal(nvmf_resv_check(r, C, NVMF_RESV_READ), 0);
		assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(NVME_RACQA_ACQUIRE,
								   table[i].rtype), 1, 0, NULL), 0);
		assert_int_equal(report_rtype(r, NULL, NULL), table[i].rtype);
		/* holder */
		assert_int_equal(nvmf_resv_check(r, A, NVMF_RESV_READ), 0);
		assert_int_equal(nvmf_resv_check(r, A, NVMF_RESV_WRITE), 0);
		assert_int_equal(nvmf_resv_check(r, A, NVMF_RESV_OTHER), 0);
		/* registrant, not the holder */
		assert_int_equal(nvmf_resv_check(r, B, NVMF_RESV_READ), want(table[i].reg_read));
		assert_int_equal(nvmf_resv_check(r, B, NVMF_RESV_WRITE), want(table[i].reg_write));
		assert_int_equal(nvmf_resv_check(r, B, NVMF_RESV_OTHER), 0);
		/* not registered */
		assert_int_equal(nvmf_resv_check(r, C, NVMF_RESV_READ), want(table[i].nonreg_read));
		assert_int_equal(nvmf_resv_check(r, C, NVMF_RESV_WRITE),
				 want(table[i].nonreg_write));
		assert_int_equal(nvmf_resv_check(r, C, NVMF_RESV_OTHER), 0);
		/* released: open to all again */
		assert_int_equal(nvmf_resv_release(r, A, acq_cdw10(NVME_RRELA_RELEASE,
								   table[i].rtype), 1, NULL), 0);
		assert_int_equal(nvmf_resv_check(r, C, NVMF_RESV_WRITE), 0);
		nvmf_resv_free(r);
	}
}

/* ------------------------------------------------------------------ register */

static void test_register(void **state)
{
	struct nvmf_resv *r = new_resv(NULL);
	uint32_t gen0, gen;
	unsigned n;

	(void)state;
	report_rtype(r, &n, &gen0);
	assert_int_equal(n, 0);
	reg(r, A, 0x11);
	/* again with the same key: fine; with another: conflict */
	reg(r, A, 0x11);
	assert_int_equal(nvmf_resv_register(r, A, reg_cdw10(NVME_RREGA_REGISTER, false, 0), 0,
					    0x12, NULL), CONFLICT);
	report_rtype(r, &n, &gen);
	assert_int_equal(n, 1);
	assert_int_equal(gen, gen0 + 2);
	/* replace needs the current key unless IEKEY */
	assert_int_equal(nvmf_resv_register(r, A, reg_cdw10(NVME_RREGA_REPLACE, false, 0), 0x99,
					    0x22, NULL), CONFLICT);
	assert_int_equal(nvmf_resv_register(r, A, reg_cdw10(NVME_RREGA_REPLACE, false, 0), 0x11,
					    0x22, NULL), 0);
	assert_int_equal(nvmf_resv_register(r, A, reg_cdw10(NVME_RREGA_REPLACE, true, 0), 0x99,
					    0x33, NULL), 0);
	/* a host that is not registered cannot replace or unregister */
	assert_int_equal(nvmf_resv_register(r, B, reg_cdw10(NVME_RREGA_REPLACE, true, 0), 0,
					    0x44, NULL), CONFLICT);
	assert_int_equal(nvmf_resv_register(r, B, reg_cdw10(NVME_RREGA_UNREGISTER, true, 0), 0,
					    0, NULL), CONFLICT);
	/* unregister: key checked unless IEKEY */
	assert_int_equal(nvmf_resv_register(r, A, reg_cdw10(NVME_RREGA_UNREGISTER, false, 0),
					    0x22, 0, NULL), CONFLICT);
	assert_int_equal(nvmf_resv_register(r, A, reg_cdw10(NVME_RREGA_UNREGISTER, false, 0),
					    0x33, 0, NULL), 0);
	report_rtype(r, &n, NULL);
	assert_int_equal(n, 0);
	/* bad action, reserved CPTPL value, PTPL without a place to keep it */
	assert_int_equal(nvmf_resv_register(r, A, reg_cdw10(3, false, 0), 0, 1, NULL), INVALID);
	assert_int_equal(nvmf_resv_register(r, A, reg_cdw10(0, false, 1), 0, 1, NULL), INVALID);
	assert_int_equal(nvmf_resv_register(r, A, reg_cdw10(0, false, NVME_CPTPL_SET), 0, 1, NULL),
			 INVALID);
	assert_int_equal(nvmf_resv_rescap(r) & NVME_RESCAP_PTPL, 0);
	assert_int_equal(nvmf_resv_rescap(r) & 0x7E, 0x7E);
	nvmf_resv_free(r);
}

/* ------------------------------------------------------------------ acquire / release */

static void test_acquire_release(void **state)
{
	struct nvmf_resv *r = new_resv(NULL);
	struct heard h = { 0 };
	struct nvmf_resv_notify n = { hear, &h };

	(void)state;
	reg(r, A, 1);
	reg(r, B, 2);
	/* a host that is not registered, or with the wrong key: conflict */
	assert_int_equal(nvmf_resv_acquire(r, C, acq_cdw10(0, NVME_RTYPE_WE), 0, 0, &n), CONFLICT);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_WE), 9, 0, &n), CONFLICT);
	/* IEKEY and types out of range are invalid for Acquire */
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_WE) | NVME_RESV_CDW10_IEKEY,
					   1, 0, &n), INVALID);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, 0), 1, 0, &n), INVALID);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, 7), 1, 0, &n), INVALID);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_WE_RO), 1, 0, &n), 0);
	/* again, same type: fine; another type, or another host: conflict */
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_WE_RO), 1, 0, &n), 0);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_EA), 1, 0, &n), CONFLICT);
	assert_int_equal(nvmf_resv_acquire(r, B, acq_cdw10(0, NVME_RTYPE_WE_RO), 2, 0, &n),
			 CONFLICT);
	/* a release by a registrant that does not hold it: success, nothing changes */
	assert_int_equal(nvmf_resv_release(r, B, acq_cdw10(0, NVME_RTYPE_WE_RO), 2, &n), 0);
	assert_int_equal(report_rtype(r, NULL, NULL), NVME_RTYPE_WE_RO);
	/* wrong type from the holder: invalid; wrong key: conflict */
	assert_int_equal(nvmf_resv_release(r, A, acq_cdw10(0, NVME_RTYPE_WE), 1, &n), INVALID);
	assert_int_equal(nvmf_resv_release(r, A, acq_cdw10(0, NVME_RTYPE_WE_RO), 7, &n), CONFLICT);
	assert_int_equal(h.n, 0);
	/* release of a Registrants Only reservation: the other registrants hear of it */
	assert_int_equal(nvmf_resv_release(r, A, acq_cdw10(0, NVME_RTYPE_WE_RO), 1, &n), 0);
	assert_int_equal(report_rtype(r, NULL, NULL), NVME_RTYPE_NONE);
	assert_int_equal(h.n, 1);
	assert_int_equal(heard_of(&h, B, NVME_RNLPT_RESV_RELEASED), 1);
	/* Write Exclusive: released silently */
	h.n = 0;
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_WE), 1, 0, &n), 0);
	assert_int_equal(nvmf_resv_release(r, A, acq_cdw10(0, NVME_RTYPE_WE), 1, &n), 0);
	assert_int_equal(h.n, 0);
	/* the holder of Exclusive Access - Registrants Only unregisters: released, told */
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_EA_RO), 1, 0, &n), 0);
	assert_int_equal(nvmf_resv_register(r, A, reg_cdw10(NVME_RREGA_UNREGISTER, false, 0), 1,
					    0, &n), 0);
	assert_int_equal(report_rtype(r, NULL, NULL), NVME_RTYPE_NONE);
	assert_int_equal(heard_of(&h, B, NVME_RNLPT_RESV_RELEASED), 1);
	nvmf_resv_free(r);
}

static void test_all_registrants(void **state)
{
	struct nvmf_resv *r = new_resv(NULL);
	uint8_t buf[64 * 4];
	struct nvme_resv_regctl_ext e;

	(void)state;
	reg(r, A, 1);
	reg(r, B, 2);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_EA_AR), 1, 0, NULL), 0);
	/* every registrant holds it: B may acquire the same type and shows as holder */
	assert_int_equal(nvmf_resv_acquire(r, B, acq_cdw10(0, NVME_RTYPE_EA_AR), 2, 0, NULL), 0);
	assert_int_equal(nvmf_resv_report(r, true, buf, sizeof(buf)), 0);
	for (int i = 0; i < 2; i++) {
		memcpy(&e, buf + 64 + 64 * i, sizeof(e));
		assert_int_equal(e.rcsts, 1);
	}
	/* the reservation lasts while a registrant is left */
	assert_int_equal(nvmf_resv_register(r, A, reg_cdw10(NVME_RREGA_UNREGISTER, false, 0), 1,
					    0, NULL), 0);
	assert_int_equal(report_rtype(r, NULL, NULL), NVME_RTYPE_EA_AR);
	assert_int_equal(nvmf_resv_check(r, C, NVMF_RESV_READ), CONFLICT);
	assert_int_equal(nvmf_resv_register(r, B, reg_cdw10(NVME_RREGA_UNREGISTER, false, 0), 2,
					    0, NULL), 0);
	assert_int_equal(report_rtype(r, NULL, NULL), NVME_RTYPE_NONE);
	assert_int_equal(nvmf_resv_check(r, C, NVMF_RESV_READ), 0);
	nvmf_resv_free(r);
}

/* ------------------------------------------------------------------ preempt, clear */

static void test_preempt(void **state)
{
	struct nvmf_resv *r = new_resv(NULL);
	struct heard h = { 0 };
	struct nvmf_resv_notify n = { hear, &h };
	uint32_t gen0, gen;
	unsigned nregs;

	(void)state;
	reg(r, A, 1);
	reg(r, B, 2);
	reg(r, C, 3);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_WE_RO), 1, 0, &n), 0);
	report_rtype(r, NULL, &gen0);
	/* PRKEY 0 against a holder that is not All Registrants: invalid */
	assert_int_equal(nvmf_resv_acquire(r, B, acq_cdw10(NVME_RACQA_PREEMPT, NVME_RTYPE_WE_RO),
					   2, 0, &n), INVALID);
	/* a key no one has: conflict */
	assert_int_equal(nvmf_resv_acquire(r, B, acq_cdw10(NVME_RACQA_PREEMPT, NVME_RTYPE_WE_RO),
					   2, 0x77, &n), CONFLICT);
	/* B preempts A with A's key, changing the type: A loses its registration and
	 * hears so; C hears the reservation changed (released) */
	assert_int_equal(nvmf_resv_acquire(r, B, acq_cdw10(NVME_RACQA_PREEMPT, NVME_RTYPE_EA_RO),
					   2, 1, &n), 0);
	assert_int_equal(report_rtype(r, &nregs, &gen), NVME_RTYPE_EA_RO);
	assert_int_equal(nregs, 2);
	assert_int_equal(gen, gen0 + 1);
	assert_int_equal(heard_of(&h, A, NVME_RNLPT_REG_PREEMPTED), 1);
	assert_int_equal(heard_of(&h, C, NVME_RNLPT_RESV_RELEASED), 1);
	assert_int_equal(heard_of(&h, B, NVME_RNLPT_RESV_RELEASED), 0);
	assert_int_equal(nvmf_resv_check(r, A, NVMF_RESV_READ), CONFLICT);
	assert_int_equal(nvmf_resv_check(r, C, NVMF_RESV_READ), 0);
	/* C's registration preempted by key, the reservation stays with B */
	h.n = 0;
	assert_int_equal(nvmf_resv_acquire(r, B, acq_cdw10(NVME_RACQA_PREEMPT, NVME_RTYPE_EA_RO),
					   2, 3, &n), 0);
	assert_int_equal(report_rtype(r, &nregs, NULL), NVME_RTYPE_EA_RO);
	assert_int_equal(nregs, 1);
	assert_int_equal(h.n, 1);
	assert_int_equal(heard_of(&h, C, NVME_RNLPT_REG_PREEMPTED), 1);
	nvmf_resv_free(r);
}

static void test_preempt_all_registrants(void **state)
{
	struct nvmf_resv *r = new_resv(NULL);
	struct heard h = { 0 };
	struct nvmf_resv_notify n = { hear, &h };
	unsigned nregs;

	(void)state;
	reg(r, A, 1);
	reg(r, B, 2);
	reg(r, C, 3);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_WE_AR), 1, 0, &n), 0);
	/* PRKEY 0 on All Registrants: the preempter takes it, everyone else goes */
	assert_int_equal(nvmf_resv_acquire(r, B, acq_cdw10(NVME_RACQA_PREEMPT, NVME_RTYPE_WE), 2,
					   0, &n), 0);
	assert_int_equal(report_rtype(r, &nregs, NULL), NVME_RTYPE_WE);
	assert_int_equal(nregs, 1);
	assert_int_equal(heard_of(&h, A, NVME_RNLPT_REG_PREEMPTED), 1);
	assert_int_equal(heard_of(&h, C, NVME_RNLPT_REG_PREEMPTED), 1);
	assert_int_equal(h.n, 2);
	assert_int_equal(nvmf_resv_check(r, B, NVMF_RESV_WRITE), 0);
	assert_int_equal(nvmf_resv_check(r, A, NVMF_RESV_WRITE), CONFLICT);
	nvmf_resv_free(r);
}

static void test_preempt_abort(void **state)
{
	struct nvmf_resv *r = new_resv(NULL);
	uint64_t before, after;

	(void)state;
	reg(r, A, 1);
	reg(r, B, 2);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_WE), 1, 0, NULL), 0);
	before = nvmf_resv_seq(r);
	assert_false(nvmf_resv_was_aborted(r, A, before));
	/* a plain preempt aborts nothing */
	assert_int_equal(nvmf_resv_acquire(r, B, acq_cdw10(NVME_RACQA_PREEMPT, NVME_RTYPE_WE), 2,
					   1, NULL), 0);
	assert_false(nvmf_resv_was_aborted(r, A, before));
	reg(r, A, 1);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(NVME_RACQA_PREEMPT_ABORT,
							   NVME_RTYPE_EA), 1, 2, NULL), 0);
	after = nvmf_resv_seq(r);
	assert_true(after != before);
	/* B's commands from before are cut off, its later ones and A's are not */
	assert_true(nvmf_resv_was_aborted(r, B, before));
	assert_false(nvmf_resv_was_aborted(r, B, after));
	assert_false(nvmf_resv_was_aborted(r, A, before));
	assert_false(nvmf_resv_was_aborted(r, C, before));
	assert_int_equal(nvmf_resv_check(r, B, NVMF_RESV_READ), CONFLICT);
	nvmf_resv_free(r);
}

static void test_clear(void **state)
{
	struct nvmf_resv *r = new_resv(NULL);
	struct heard h = { 0 };
	struct nvmf_resv_notify n = { hear, &h };
	uint32_t gen0, gen;
	unsigned nregs;

	(void)state;
	reg(r, A, 1);
	reg(r, B, 2);
	reg(r, C, 3);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_EA), 1, 0, &n), 0);
	report_rtype(r, NULL, &gen0);
	/* the key is checked */
	assert_int_equal(nvmf_resv_release(r, B, NVME_RRELA_CLEAR, 9, &n), CONFLICT);
	assert_int_equal(nvmf_resv_release(r, B, NVME_RRELA_CLEAR, 2, &n), 0);
	assert_int_equal(report_rtype(r, &nregs, &gen), NVME_RTYPE_NONE);
	assert_int_equal(nregs, 0);
	assert_int_equal(gen, gen0 + 1);
	assert_int_equal(h.n, 2);
	assert_int_equal(heard_of(&h, A, NVME_RNLPT_RESV_PREEMPTED), 1);
	assert_int_equal(heard_of(&h, C, NVME_RNLPT_RESV_PREEMPTED), 1);
	/* an action past Clear: invalid */
	assert_int_equal(nvmf_resv_release(r, B, 2, 2, &n), INVALID);
	nvmf_resv_free(r);
}

static void test_notify_mask(void **state)
{
	struct nvmf_resv *r = new_resv(NULL);
	struct heard h = { 0 };
	struct nvmf_resv_notify n = { hear, &h };

	(void)state;
	atomic_store(&r->notify_mask, NVME_RESV_MASK_RESPRE);
	reg(r, A, 1);
	reg(r, B, 2);
	reg(r, C, 3);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(NVME_RACQA_PREEMPT, NVME_RTYPE_WE), 1,
					   3, &n), 0);
	/* registration preempted is not masked */
	assert_int_equal(heard_of(&h, C, NVME_RNLPT_REG_PREEMPTED), 1);
	h.n = 0;
	assert_int_equal(nvmf_resv_release(r, A, NVME_RRELA_CLEAR, 1, &n), 0);
	assert_int_equal(h.n, 0);
	nvmf_resv_free(r);
}

/* ------------------------------------------------------------------ report */

static void test_report(void **state)
{
	struct nvmf_resv *r = new_resv(NULL);
	uint8_t buf[64 + 64 * 2], small[64 + 64];
	struct nvme_resv_status h;
	struct nvme_resv_regctl_ext e;

	(void)state;
	reg(r, A, 0x1111);
	reg(r, B, 0x2222);
	assert_int_equal(nvmf_resv_acquire(r, B, acq_cdw10(0, NVME_RTYPE_WE_RO), 0x2222, 0, NULL),
			 0);
	/* 128-bit host identifiers: no 64-bit structure */
	assert_int_equal(nvmf_resv_report(r, false, buf, sizeof(buf)), HOSTID_INC);
	memset(buf, 0xEE, sizeof(buf));
	assert_int_equal(nvmf_resv_report(r, true, buf, sizeof(buf)), 0);
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(le32toh(h.gen), 2);
	assert_int_equal(h.rtype, NVME_RTYPE_WE_RO);
	assert_int_equal(h.regctl[0], 2);
	assert_int_equal(h.ptpls, 0);
	for (size_t i = sizeof(h); i < 64; i++)
		assert_int_equal(buf[i], 0);
	memcpy(&e, buf + 64, sizeof(e));
	assert_int_equal(le16toh(e.cntlid), 0xFFFF);
	assert_int_equal(e.rcsts, 0);
	assert_int_equal(le64toh(e.rkey), 0x1111);
	assert_memory_equal(e.hostid, A, 16);
	memcpy(&e, buf + 128, sizeof(e));
	assert_int_equal(e.rcsts, 1);
	assert_int_equal(le64toh(e.rkey), 0x2222);
	assert_memory_equal(e.hostid, B, 16);
	/* a buffer for one registrant: the count still says two */
	assert_int_equal(nvmf_resv_report(r, true, small, sizeof(small)), 0);
	memcpy(&h, small, sizeof(h));
	assert_int_equal(h.regctl[0], 2);
	memcpy(&e, small + 64, sizeof(e));
	assert_memory_equal(e.hostid, A, 16);
	/* shorter than the header: what fits */
	assert_int_equal(nvmf_resv_report(r, true, small, 8), 0);
	assert_int_equal(small[4], NVME_RTYPE_WE_RO);
	nvmf_resv_free(r);
}

/* ------------------------------------------------------------------ PTPL */

static void test_ptpl(void **state)
{
	char path[128], err[256];
	struct nvmf_resv *r, *r2;
	unsigned nregs;
	uint32_t gen;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/nvmf-resv-unit-%d.resv", (int)getpid());
	unlink(path);
	r = new_resv(path);
	assert_int_equal(nvmf_resv_rescap(r) & NVME_RESCAP_PTPL, NVME_RESCAP_PTPL);
	reg(r, A, 1);
	/* off: nothing written */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(nvmf_resv_register(r, B, reg_cdw10(0, false, NVME_CPTPL_SET), 0, 2,
					    NULL), 0);
	assert_int_equal(access(path, F_OK), 0);
	assert_int_equal(nvmf_resv_acquire(r, B, acq_cdw10(0, NVME_RTYPE_WE_RO), 2, 0, NULL), 0);
	report_rtype(r, NULL, &gen);
	nvmf_resv_free(r);

	/* "power loss": a new namespace from the same file has it all back */
	r2 = new_resv(path);
	assert_true(nvmf_resv_ptpl(r2));
	assert_int_equal(report_rtype(r2, &nregs, NULL), NVME_RTYPE_WE_RO);
	{
		uint32_t gen2;

		report_rtype(r2, NULL, &gen2);
		assert_int_equal(gen2, gen);
	}
	assert_int_equal(nregs, 2);
	assert_int_equal(nvmf_resv_check(r2, C, NVMF_RESV_WRITE), CONFLICT);
	assert_int_equal(nvmf_resv_check(r2, A, NVMF_RESV_WRITE), 0);
	assert_int_equal(nvmf_resv_release(r2, B, acq_cdw10(0, NVME_RTYPE_WE_RO), 2, NULL), 0);
	/* PTPL off again: the file goes, a restart starts empty */
	assert_int_equal(nvmf_resv_set_ptpl(r2, false), 0);
	assert_int_equal(access(path, F_OK), -1);
	nvmf_resv_free(r2);
	r2 = new_resv(path);
	assert_int_equal(report_rtype(r2, &nregs, NULL), NVME_RTYPE_NONE);
	assert_int_equal(nregs, 0);
	nvmf_resv_free(r2);

	/* a damaged file is an error naming it and the line */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "nvmf-tcp-resv 1\ngen 3\nreg nothex 1\n");
	fclose(f);
	r2 = NULL;
	assert_int_not_equal(nvmf_resv_new(path, &r2, err, sizeof(err)), 0);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "line 3"));
	/* a holder that is not registered is not a state we can have saved */
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "nvmf-tcp-resv 1\nrtype 1\nholder a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1\n");
	fclose(f);
	assert_int_not_equal(nvmf_resv_new(path, &r2, err, sizeof(err)), 0);
	assert_non_null(strstr(err, path));
	unlink(path);
}

/* A PTPL file that cannot be written fails the change, which then has no effect. */
static void test_ptpl_file_failure(void **state)
{
	char dir[64], path[96];
	struct nvmf_resv *r;
	unsigned nregs;
	uint32_t gen, gen2;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/nvmf-resv-unit-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ns.resv", dir);
	r = new_resv(path);
	assert_int_equal(nvmf_resv_register(r, A, reg_cdw10(0, false, NVME_CPTPL_SET), 0, 1,
					    NULL), 0);
	report_rtype(r, NULL, &gen);
	/* the directory gone: the next save cannot even make its temporary file */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(nvmf_resv_register(r, B, reg_cdw10(0, false, 0), 0, 2, NULL),
			 NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_WE), 1, 0, NULL),
			 NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL));
	assert_int_equal(report_rtype(r, &nregs, &gen2), NVME_RTYPE_NONE);
	assert_int_equal(nregs, 1);
	assert_int_equal(gen2, gen);
	assert_int_equal(nvmf_resv_check(r, B, NVMF_RESV_WRITE), 0);
	nvmf_resv_free(r);
}

/* ------------------------------------------------------------------ a store */

#define ST_INTERNAL NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL)

/* A store in memory: the last record saved, how many saves, and a failure on demand. */
struct mem_store {
	char rec[4096];
	unsigned saves;
	uint16_t fail;
};

static uint16_t mem_save(void *arg, const char *rec)
{
	struct mem_store *m = arg;

	if (m->fail)
		return m->fail;
	assert_true(strlen(rec) < sizeof(m->rec));
	strcpy(m->rec, rec);
	m->saves++;
	return 0;
}

static struct nvmf_resv *store_resv(struct mem_store *m)
{
	struct nvmf_resv_store st = { mem_save, m };
	struct nvmf_resv *r = new_resv(NULL);

	nvmf_resv_set_store(r, &st);
	return r;
}

/* Every change is saved before it is in force; what does not change is not saved. */
static void test_store_saves(void **state)
{
	struct mem_store m = { .saves = 0 };
	struct nvmf_resv *r = store_resv(&m), *r2;
	char err[256];
	unsigned nregs;
	uint32_t gen, gen2;

	(void)state;
	/* a store gives PTPL somewhere to live */
	assert_int_equal(nvmf_resv_rescap(r) & NVME_RESCAP_PTPL, NVME_RESCAP_PTPL);
	reg(r, A, 0xA);
	assert_int_equal(m.saves, 1);
	assert_non_null(strstr(m.rec, "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"));
	assert_non_null(strstr(m.rec, "\"ptpl\":false"));
	assert_int_equal(nvmf_resv_register(r, B, reg_cdw10(0, false, NVME_CPTPL_SET), 0,
					    0xFFFFFFFFFFFFFFF0ull, NULL), 0);
	assert_int_equal(m.saves, 2);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_WE), 0xA, 0, NULL), 0);
	assert_int_equal(m.saves, 3);
	/* the holder acquiring again, a report, a check, a refused command: nothing saved */
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_WE), 0xA, 0, NULL), 0);
	assert_int_equal(report_rtype(r, NULL, &gen), NVME_RTYPE_WE);
	assert_int_equal(nvmf_resv_check(r, C, NVMF_RESV_WRITE), CONFLICT);
	assert_int_equal(nvmf_resv_acquire(r, C, acq_cdw10(0, NVME_RTYPE_WE), 1, 0, NULL),
			 CONFLICT);
	assert_int_equal(m.saves, 3);

	/* the record is the whole state: a namespace loaded from it is the same */
	r2 = new_resv(NULL);
	assert_int_equal(nvmf_resv_load(r2, m.rec, err, sizeof(err)), 0);
	assert_int_equal(report_rtype(r2, &nregs, &gen2), NVME_RTYPE_WE);
	assert_int_equal(nregs, 2);
	assert_int_equal(gen2, gen);
	assert_true(nvmf_resv_ptpl(r2));
	assert_int_equal(nvmf_resv_check(r2, A, NVMF_RESV_WRITE), 0);
	assert_int_equal(nvmf_resv_check(r2, B, NVMF_RESV_WRITE), CONFLICT);
	/* B's 64-bit key came through */
	assert_int_equal(nvmf_resv_register(r2, B, reg_cdw10(NVME_RREGA_UNREGISTER, false, 0),
					    0xFFFFFFFFFFFFFFF0ull, 0, NULL), 0);
	/* loading nothing empties it */
	assert_int_equal(nvmf_resv_load(r2, NULL, err, sizeof(err)), 0);
	assert_int_equal(report_rtype(r2, &nregs, NULL), NVME_RTYPE_NONE);
	assert_int_equal(nregs, 0);
	/* records that cannot be ours are refused, and change nothing */
	reg(r2, C, 3);
	assert_int_not_equal(nvmf_resv_load(r2, "{\"v\": 2}", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "version"));
	assert_int_not_equal(nvmf_resv_load(r2, "{\"v\": 1, \"gen\": 1, \"rtype\": 1, "
				"\"ptpl\": false, \"regs\": []}", err, sizeof(err)), 0);
	assert_int_not_equal(nvmf_resv_load(r2, "not json", err, sizeof(err)), 0);
	assert_int_equal(report_rtype(r2, &nregs, NULL), NVME_RTYPE_NONE);
	assert_int_equal(nregs, 1);
	nvmf_resv_free(r2);
	nvmf_resv_free(r);
}

/*
 * A save that fails fails the command with the store's status and changes nothing: no
 * registrant, no reservation, no notification, no Preempt and Abort count.
 */
static void test_store_failure(void **state)
{
	struct mem_store m = { .saves = 0 };
	struct nvmf_resv *r = store_resv(&m);
	struct heard h = { .n = 0 };
	struct nvmf_resv_notify n = { hear, &h };
	uint64_t seq;
	unsigned nregs;
	uint32_t gen, gen2;

	(void)state;
	reg(r, A, 0xA);
	reg(r, B, 0xB);
	assert_int_equal(nvmf_resv_acquire(r, A, acq_cdw10(0, NVME_RTYPE_WE_RO), 0xA, 0, NULL), 0);
	report_rtype(r, NULL, &gen);
	seq = nvmf_resv_seq(r);
	m.fail = ST_INTERNAL;
	/* B preempts and aborts A: refused by the store */
	assert_int_equal(nvmf_resv_acquire(r, B, acq_cdw10(NVME_RACQA_PREEMPT_ABORT,
							   NVME_RTYPE_EA), 0xB, 0xA, &n),
			 ST_INTERNAL);
	assert_int_equal(h.n, 0);
	assert_int_equal(nvmf_resv_seq(r), seq);
	assert_false(nvmf_resv_was_aborted(r, A, seq - 1));
	assert_int_equal(report_rtype(r, &nregs, &gen2), NVME_RTYPE_WE_RO);
	assert_int_equal(nregs, 2);
	assert_int_equal(gen2, gen);
	assert_int_equal(nvmf_resv_check(r, A, NVMF_RESV_WRITE), 0);
	/* register, unregister, release, clear, PTPL: all refused, all without effect */
	assert_int_equal(nvmf_resv_register(r, C, reg_cdw10(0, false, 0), 0, 0xC, &n), ST_INTERNAL);
	assert_int_equal(nvmf_resv_register(r, B, reg_cdw10(NVME_RREGA_UNREGISTER, false, 0), 0xB,
					    0, &n), ST_INTERNAL);
	assert_int_equal(nvmf_resv_release(r, A, acq_cdw10(NVME_RRELA_RELEASE, NVME_RTYPE_WE_RO),
					   0xA, &n), ST_INTERNAL);
	assert_int_equal(nvmf_resv_release(r, A, acq_cdw10(NVME_RRELA_CLEAR, 0), 0xA, &n),
			 ST_INTERNAL);
	assert_int_equal(nvmf_resv_set_ptpl(r, true), ST_INTERNAL);
	assert_false(nvmf_resv_ptpl(r));
	assert_int_equal(h.n, 0);
	assert_int_equal(report_rtype(r, &nregs, &gen2), NVME_RTYPE_WE_RO);
	assert_int_equal(nregs, 2);
	assert_int_equal(gen2, gen);
	assert_int_equal(nvmf_resv_check(r, C, NVMF_RESV_WRITE), CONFLICT);
	/* the store back: the same preempt goes through, with its notifications */
	m.fail = 0;
	assert_int_equal(nvmf_resv_acquire(r, B, acq_cdw10(NVME_RACQA_PREEMPT_ABORT,
							   NVME_RTYPE_EA), 0xB, 0xA, &n), 0);
	assert_int_equal(heard_of(&h, A, NVME_RNLPT_REG_PREEMPTED), 1);
	assert_true(nvmf_resv_seq(r) > seq);
	assert_true(nvmf_resv_was_aborted(r, A, seq));
	assert_int_equal(report_rtype(r, &nregs, NULL), NVME_RTYPE_EA);
	assert_int_equal(nregs, 1);
	nvmf_resv_free(r);
}

/* ------------------------------------------------------------------ the log */

static void test_log(void **state)
{
	struct nvmf_resv_log *l = calloc(1, sizeof(*l));
	struct nvme_resv_notif_log e;

	(void)state;
	assert_non_null(l);
	/* empty: all zero */
	nvmf_resv_log_read(l, &e);
	assert_int_equal(le64toh(e.count), 0);
	assert_int_equal(e.type, NVME_RNLPT_EMPTY);
	nvmf_resv_log_add(l, NVME_RNLPT_REG_PREEMPTED, 5);
	nvmf_resv_log_add(l, NVME_RNLPT_RESV_RELEASED, 6);
	nvmf_resv_log_read(l, &e);
	assert_int_equal(le64toh(e.count), 1);
	assert_int_equal(e.type, NVME_RNLPT_REG_PREEMPTED);
	assert_int_equal(le32toh(e.nsid), 5);
	assert_int_equal(e.nr_avail, 1);
	nvmf_resv_log_read(l, &e);
	assert_int_equal(le64toh(e.count), 2);
	assert_int_equal(e.nr_avail, 0);
	nvmf_resv_log_read(l, &e);
	assert_int_equal(le64toh(e.count), 0);
	/* overflow: the oldest go; the count jumps by how many were lost */
	for (unsigned i = 0; i < NVMF_RESV_LOG_SLOTS + 5; i++)
		nvmf_resv_log_add(l, NVME_RNLPT_RESV_PREEMPTED, 1);
	nvmf_resv_log_read(l, &e);
	assert_int_equal(le64toh(e.count), 2 + 5 + 1);
	assert_int_equal(e.nr_avail, NVMF_RESV_LOG_SLOTS - 1);
	/* the count wraps past 0 to 1 */
	l->counter = UINT64_MAX;
	l->nr = 0;
	nvmf_resv_log_add(l, NVME_RNLPT_RESV_PREEMPTED, 1);
	nvmf_resv_log_read(l, &e);
	assert_int_equal(le64toh(e.count), 1);
	free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conflict_table),
		cmocka_unit_test(test_register),
		cmocka_unit_test(test_acquire_release),
		cmocka_unit_test(test_all_registrants),
		cmocka_unit_test(test_preempt),
		cmocka_unit_test(test_preempt_all_registrants),
		cmocka_unit_test(test_preempt_abort),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_notify_mask),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_ptpl),
		cmocka_unit_test(test_ptpl_file_failure),
		cmocka_unit_test(test_store_saves),
		cmocka_unit_test(test_store_failure),
		cmocka_unit_test(test_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
