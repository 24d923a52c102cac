/*
 * libnvmf multipath's pure parts: the path selector (given path states, which path each
 * iopolicy picks), the path-error classification that decides a retry on another path,
 * and the ANA log parser.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "host/host.h"

#define OPT NVME_ANA_OPTIMIZED
#define NOPT NVME_ANA_NON_OPTIMIZED
#define INACC NVME_ANA_INACCESSIBLE

static int pick(const struct hmpath_cand *c, unsigned n, enum nvmf_iopolicy p, unsigned *cur)
{
	return hmpath_select(c, n, p, cur);
}

static void numa_first_optimized(void **state)
{
	struct hmpath_cand c[3] = {
		{ true, NOPT, 0 }, { true, OPT, 5 }, { true, OPT, 0 },
	};
	unsigned cur = 0;

	(void)state;
	/* the first optimized path, again and again, whatever the depths */
	for (int i = 0; i < 4; i++)
		assert_int_equal(pick(c, 3, NVMF_IOPOLICY_NUMA, &cur), 1);
	c[1].usable = false;
	assert_int_equal(pick(c, 3, NVMF_IOPOLICY_NUMA, &cur), 2);
	/* no optimized path left: the non-optimized one */
	c[2].ana = INACC;
	assert_int_equal(pick(c, 3, NVMF_IOPOLICY_NUMA, &cur), 0);
	/* nothing usable */
	c[0].usable = false;
	assert_int_equal(pick(c, 3, NVMF_IOPOLICY_NUMA, &cur), -1);
}

static void never_inaccessible_or_other_states(void **state)
{
	struct hmpath_cand c[4] = {
		{ true, INACC, 0 }, { true, NVME_ANA_PERSISTENT_LOSS, 0 },
		{ true, NVME_ANA_CHANGE, 0 }, { true, 0, 0 },
	};
	unsigned cur = 0;

	(void)state;
	for (int p = NVMF_IOPOLICY_NUMA; p <= NVMF_IOPOLICY_QUEUE_DEPTH; p++)
		assert_int_equal(pick(c, 4, (enum nvmf_iopolicy)p, &cur), -1);
}

static void round_robin_over_optimized(void **state)
{
	struct hmpath_cand c[4] = {
		{ true, OPT, 0 }, { true, NOPT, 0 }, { true, OPT, 0 }, { false, OPT, 0 },
	};
	unsigned cur = 0;
	int seen[4] = { 0 };

	(void)state;
	for (int i = 0; i < 10; i++)
		seen[pick(c, 4, NVMF_IOPOLICY_ROUND_ROBIN, &cur)]++;
	/* alternates between the two usable optimized paths */
	assert_int_equal(seen[0], 5);
	assert_int_equal(seen[2], 5);
	assert_int_equal(seen[1], 0);
	assert_int_equal(seen[3], 0);
	/* each choice differs from the last */
	{
		int last = pick(c, 4, NVMF_IOPOLICY_ROUND_ROBIN, &cur);

		for (int i = 0; i < 5; i++) {
			int now = pick(c, 4, NVMF_IOPOLICY_ROUND_ROBIN, &cur);

			assert_int_not_equal(now, last);
			last = now;
		}
	}
	/* optimized ones gone: round robin among the non-optimized */
	c[0].ana = INACC;
	c[2].usable = false;
	c[3] = (struct hmpath_cand){ true, NOPT, 0 };
	memset(seen, 0, sizeof(seen));
	for (int i = 0; i < 6; i++)
		seen[pick(c, 4, NVMF_IOPOLICY_ROUND_ROBIN, &cur)]++;
	assert_int_equal(seen[1], 3);
	assert_int_equal(seen[3], 3);
}

static void queue_depth_least_busy(void **state)
{
	struct hmpath_cand c[3] = {
		{ true, OPT, 7 }, { true, OPT, 3 }, { true, NOPT, 0 },
	};
	unsigned cur = 0;

	(void)state;
	/* the idle non-optimized path is not taken while an optimized one is usable */
	assert_int_equal(pick(c, 3, NVMF_IOPOLICY_QUEUE_DEPTH, &cur), 1);
	c[1].inflight = 9;
	assert_int_equal(pick(c, 3, NVMF_IOPOLICY_QUEUE_DEPTH, &cur), 0);
	c[0].usable = c[1].usable = false;
	assert_int_equal(pick(c, 3, NVMF_IOPOLICY_QUEUE_DEPTH, &cur), 2);
}

static void path_errors(void **state)
{
	(void)state;
	assert_true(hmpath_is_path_error(-ECONNABORTED));
	assert_true(hmpath_is_path_error(-ENODEV));
	assert_true(hmpath_is_path_error(-ETIMEDOUT));
	assert_false(hmpath_is_path_error(-EINVAL));
	assert_false(hmpath_is_path_error(0));
	assert_true(hmpath_is_path_error(NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_INACCESSIBLE)));
	assert_true(hmpath_is_path_error(NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_TRANSITION)));
	assert_true(hmpath_is_path_error(NVME_STATUS(NVME_SCT_PATH, NVME_SC_ANA_PERSISTENT_LOSS)));
	assert_true(hmpath_is_path_error(NVME_STATUS(NVME_SCT_PATH, NVME_SC_HOST_PATH_ERROR)));
	/* the controller said do not retry: the caller gets it */
	assert_false(hmpath_is_path_error(NVME_STATUS_NORETRY(NVME_SCT_PATH,
							      NVME_SC_ANA_INACCESSIBLE)));
	/* media and generic errors are the namespace's, not the path's */
	assert_false(hmpath_is_path_error(NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_LBA_OUT_OF_RANGE)));
	assert_false(hmpath_is_path_error(NVME_STATUS(NVME_SCT_MEDIA, 0x81)));
}

static void iopolicy_names(void **state)
{
	enum nvmf_iopolicy p;

	(void)state;
	assert_int_equal(nvmf_iopolicy_parse("round-robin", &p), 0);
	assert_int_equal(p, NVMF_IOPOLICY_ROUND_ROBIN);
	assert_int_equal(nvmf_iopolicy_parse("queue-depth", &p), 0);
	assert_int_equal(p, NVMF_IOPOLICY_QUEUE_DEPTH);
	assert_int_equal(nvmf_iopolicy_parse("numa", &p), 0);
	assert_int_equal(p, NVMF_IOPOLICY_NUMA);
	assert_int_equal(nvmf_iopolicy_parse("random", &p), -EINVAL);
	assert_string_equal(nvmf_ana_state_name(NVMF_ANA_NON_OPTIMIZED), "non-optimized");
	assert_string_equal(nvmf_ana_state_name(NVMF_ANA_CHANGE), "change");
}

/* An ANA log as nvmet builds it: group 1 optimized with NSIDs 1 and 3, group 2 inaccessible
 * with NSID 2, group 3 empty. */
static size_t build_log(uint8_t *buf)
{
	struct nvme_ana_log_hdr h = { .chgcnt = htole64(7), .ngrps = htole16(3) };
	size_t off = sizeof(h);
	struct {
		uint32_t grpid, state, n, nsids[2];
	} g[3] = { { 1, OPT, 2, { 1, 3 } }, { 2, INACC, 1, { 2, 0 } }, { 3, NOPT, 0, { 0, 0 } } };

	memcpy(buf, &h, sizeof(h));
	for (int i = 0; i < 3; i++) {
		struct nvme_ana_group_desc d;

		memset(&d, 0, sizeof(d));
		d.grpid = htole32(g[i].grpid);
		d.nnsids = htole32(g[i].n);
		d.state = (uint8_t)g[i].state;
		memcpy(buf + off, &d, sizeof(d));
		off += sizeof(d);
		for (uint32_t k = 0; k < g[i].n; k++, off += 4) {
			uint32_t v = htole32(g[i].nsids[k]);

			memcpy(buf + off, &v, 4);
		}
	}
	return off;
}

static void ana_log(void **state)
{
	uint8_t buf[512];
	struct hana_ns ns[8];
	size_t len = build_log(buf);

	(void)state;
	assert_int_equal(hana_parse(buf, len, ns, 8), 3);
	assert_int_equal(ns[0].nsid, 1);
	assert_int_equal(ns[0].state, OPT);
	assert_int_equal(ns[1].nsid, 3);
	assert_int_equal(ns[1].grpid, 1);
	assert_int_equal(ns[2].nsid, 2);
	assert_int_equal(ns[2].grpid, 2);
	assert_int_equal(ns[2].state, INACC);
	/* room for two: the first two */
	assert_int_equal(hana_parse(buf, len, ns, 2), 2);
	/* cut short anywhere inside: malformed, never read past the end */
	for (size_t cut = 0; cut < len; cut++)
		if (cut != 16 + 32 + 8 + 32 + 4) /* ends after group 2: group 3 is missing */
			assert_int_equal(hana_parse(buf, cut, ns, 8), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numa_first_optimized),
		cmocka_unit_test(never_inaccessible_or_other_states),
		cmocka_unit_test(round_robin_over_optimized),
		cmocka_unit_test(queue_depth_least_busy),
		cmocka_unit_test(path_errors),
		cmocka_unit_test(iopolicy_names),
		cmocka_unit_test(ana_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
