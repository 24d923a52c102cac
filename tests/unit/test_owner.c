/*
 * The owner role of a gateway pair (target/owner.c), against backends whose claim and
 * unclaim only count: which namespaces a configuration makes claim (their ANA group
 * optimized on a served port that links their subsystem -- not non-optimized, not a port
 * of another subsystem), that a failed claim leaves the group inaccessible, that owned
 * namespaces are not claimed twice, that a configuration taking the group away releases
 * it, and that namespaces without the gateway role are never touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/target.h"

#define NQN "nqn.2024-01.io.test:gw"

struct fake {
	struct nvmf_bdev b;
	int claims, unclaims;
	int claim_rc;           /* what claim() answers */
};

static int fake_claim(struct nvmf_bdev *b, char *err, size_t errlen)
{
	struct fake *f = (struct fake *)b;

	f->claims++;
	if (f->claim_rc) {
		snprintf(err, errlen, "refused for the test");
		return f->claim_rc;
	}
	__atomic_store_n(&b->owned, true, __ATOMIC_RELEASE);
	return 0;
}

static void fake_unclaim(struct nvmf_bdev *b)
{
	((struct fake *)b)->unclaims++;
	__atomic_store_n(&b->owned, false, __ATOMIC_RELEASE);
}

static const struct nvmf_bdev_ops fake_bdev_ops = {
	.name = "fake",
	.claim = fake_claim,
	.unclaim = fake_unclaim,
};

static const struct nvmf_transport_ops fake_transport = {
	.name = "fake",
	.trtype = NVMF_CFG_TRTYPE_TCP,
};

/*
 * Port 1 links NQN: group 1 optimized, 2 non-optimized, 4 as given.  Port 2 links only
 * the other subsystem: group 3 optimized there.  Namespaces 1..4 of NQN are in groups
 * 1..4; namespace 5 (group 1) is not a gateway namespace.
 */
static struct nvmf_cfg *load(const char *grp4)
{
	char json[2048], err[256];
	struct nvmf_cfg *cfg = NULL;

	snprintf(json, sizeof(json),
		 "{\"ports\": ["
		 " {\"portid\": 1, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\","
		 "  \"traddr\": \"127.0.0.1\", \"trsvcid\": \"4420\"},"
		 "  \"ana_groups\": [{\"grpid\": 1, \"ana\": {\"state\": \"optimized\"}},"
		 "   {\"grpid\": 2, \"ana\": {\"state\": \"non-optimized\"}},"
		 "   {\"grpid\": 4, \"ana\": {\"state\": \"%s\"}}],"
		 "  \"subsystems\": [\"%s\"]},"
		 " {\"portid\": 2, \"addr\": {\"trtype\": \"tcp\", \"adrfam\": \"ipv4\","
		 "  \"traddr\": \"127.0.0.1\", \"trsvcid\": \"4421\"},"
		 "  \"ana_groups\": [{\"grpid\": 3, \"ana\": {\"state\": \"optimized\"}}],"
		 "  \"subsystems\": [\"%s:other\"]}],"
		 " \"subsystems\": ["
		 "  {\"nqn\": \"%s\", \"attr\": {\"allow_any_host\": \"1\"}, \"namespaces\": ["
		 "   {\"nsid\": 1, \"enable\": 1, \"ana_grpid\": 1, \"device\": {\"path\": \"/a\"}},"
		 "   {\"nsid\": 2, \"enable\": 1, \"ana_grpid\": 2, \"device\": {\"path\": \"/b\"}},"
		 "   {\"nsid\": 3, \"enable\": 1, \"ana_grpid\": 3, \"device\": {\"path\": \"/c\"}},"
		 "   {\"nsid\": 4, \"enable\": 1, \"ana_grpid\": 4, \"device\": {\"path\": \"/d\"}},"
		 "   {\"nsid\": 5, \"enable\": 1, \"ana_grpid\": 1, \"device\": {\"path\": \"/e\"}}]},"
		 "  {\"nqn\": \"%s:other\", \"attr\": {\"allow_any_host\": \"1\"},"
		 "   \"namespaces\": [{\"nsid\": 1, \"enable\": 1, \"device\": {\"path\": \"/f\"}}]}"
		 "]}",
		 grp4, NQN, NQN, NQN, NQN);
	if (nvmf_cfg_load_string(json, "test", &cfg, err, sizeof(err)))
		fail_msg("config: %s", err);
	return cfg;
}

struct world {
	struct fake f[5];
	struct nvmf_ns ns[5];
	struct nvmf_subsys_view *v;
};

static void build(struct world *w, const struct nvmf_cfg *cfg)
{
	memset(w, 0, sizeof(*w));
	w->v = nvmf_subsys_view_new(&cfg->subsystems[0], 5);
	assert_non_null(w->v);
	for (uint32_t i = 0; i < 5; i++) {
		w->f[i].b.ops = &fake_bdev_ops;
		w->f[i].b.gateway = i < 4;
		w->ns[i].nsid = i + 1;
		w->ns[i].anagrpid = i < 4 ? i + 1 : 1;
		w->ns[i].bdev = &w->f[i].b;
		w->v->ns[w->v->nr_ns++] = &w->ns[i];
	}
}

static void claims_follow_optimized(void **state)
{
	struct nvmf_cfg *cfg = load("optimized");
	const struct nvmf_cfg_subsys *c = &cfg->subsystems[0];
	struct world w;

	(void)state;
	assert_int_equal(nvmf_transport_register(&fake_transport), 0);
	build(&w, cfg);
	w.f[3].claim_rc = -EBUSY;
	/* before anything claimed: every gateway group is inaccessible here */
	for (uint32_t g = 1; g <= 4; g++)
		assert_true(nvmf_owner_group_lost(w.v, g));
	assert_false(nvmf_owner_group_lost(w.v, 5));

	nvmf_owner_claim(cfg, c, w.v);
	assert_int_equal(w.f[0].claims, 1);       /* optimized on a port linking it */
	assert_int_equal(w.f[1].claims, 0);       /* non-optimized: not an owner state */
	assert_int_equal(w.f[2].claims, 0);       /* optimized only on another's port */
	assert_int_equal(w.f[3].claims, 1);       /* tried, refused */
	assert_int_equal(w.f[4].claims, 0);       /* not a gateway namespace */
	assert_true(nvmf_bdev_owned(&w.f[0].b));
	assert_false(nvmf_bdev_owned(&w.f[3].b));
	assert_true(nvmf_bdev_owned(&w.f[4].b));  /* no role: always serves */
	/* group 1 holds namespace 1 (owned) and 5 (no role): accessible */
	assert_false(nvmf_owner_group_lost(w.v, 1));
	assert_true(nvmf_owner_group_lost(w.v, 2));
	assert_true(nvmf_owner_group_lost(w.v, 3));
	assert_true(nvmf_owner_group_lost(w.v, 4));

	/* the same configuration again (a reload): the owner is not claimed twice, the
	 * refused one is tried again */
	nvmf_owner_claim(cfg, c, w.v);
	assert_int_equal(w.f[0].claims, 1);
	assert_int_equal(w.f[3].claims, 2);
	nvmf_owner_release(cfg, c, w.v);
	assert_int_equal(w.f[0].unclaims, 0);
	free(w.v);
	nvmf_cfg_free(cfg);
}

static void release_when_taken_away(void **state)
{
	struct nvmf_cfg *cfg = load("optimized"), *next = load("inaccessible");
	struct world w;

	(void)state;
	assert_int_equal(nvmf_transport_register(&fake_transport), 0);
	build(&w, cfg);
	nvmf_owner_claim(cfg, &cfg->subsystems[0], w.v);
	assert_true(nvmf_bdev_owned(&w.f[3].b));
	assert_false(nvmf_owner_group_lost(w.v, 4));
	/* group 4 becomes inaccessible here: its namespace gives the image up */
	nvmf_owner_claim(next, &next->subsystems[0], w.v);
	nvmf_owner_release(next, &next->subsystems[0], w.v);
	assert_int_equal(w.f[3].unclaims, 1);
	assert_false(nvmf_bdev_owned(&w.f[3].b));
	assert_true(nvmf_owner_group_lost(w.v, 4));
	/* group 1 is still optimized: kept */
	assert_int_equal(w.f[0].unclaims, 0);
	assert_true(nvmf_bdev_owned(&w.f[0].b));
	/* ownership lost by the backend itself (fenced): the group is inaccessible */
	__atomic_store_n(&w.f[0].b.owned, false, __ATOMIC_RELEASE);
	assert_false(nvmf_owner_group_lost(w.v, 5));
	assert_true(nvmf_owner_group_lost(w.v, 1));
	free(w.v);
	nvmf_cfg_free(cfg);
	nvmf_cfg_free(next);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(claims_follow_optimized),
		cmocka_unit_test(release_when_taken_away),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
