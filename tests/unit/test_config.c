/*
 * Tests of the target configuration loader: kernel dumps of three generations load
 * unchanged and field by field, every class of bad value fails with the file name and the
 * exact key path, unknown keys only warn, and the quick-start builder.
 * Runs from tests/unit (meson workdir), so fixtures are under data/config/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/config.h"

#define FIXTURE(name) "data/config/" name

static char err[1024];

/*
 * Inline configurations are written with single quotes to stay readable in C; the
 * loader sees them with double quotes.  None of the tests needs a literal quote.
 */
static char *dq(const char *s)
{
	char *t = strdup(s);

	assert_non_null(t);
	for (char *p = t; *p; p++) {
		if (*p == '\'')
			*p = '"';
	}
	return t;
}

static struct nvmf_cfg *load_ok(const char *single_quoted)
{
	struct nvmf_cfg *cfg = NULL;
	char *json = dq(single_quoted);
	int ret = nvmf_cfg_load_string(json, "t.json", &cfg, err, sizeof(err));

	free(json);
	if (ret)
		print_error("unexpected failure: %s\n", err);
	assert_int_equal(ret, 0);
	assert_non_null(cfg);
	return cfg;
}

static void expect_error(const char *single_quoted, const char *msg)
{
	struct nvmf_cfg *cfg = (struct nvmf_cfg *)1;
	char *json = dq(single_quoted);
	int ret = nvmf_cfg_load_string(json, "t.json", &cfg, err, sizeof(err));

	free(json);
	assert_int_equal(ret, -EINVAL);
	assert_null(cfg);
	assert_string_equal(err, msg);
}

static bool has_warning(const struct nvmf_cfg *cfg, const char *msg)
{
	for (size_t i = 0; i < cfg->nr_warnings; i++) {
		if (!strcmp(cfg->warnings[i], msg))
			return true;
	}
	for (size_t i = 0; i < cfg->nr_warnings; i++)
		print_message("warning: %s\n", cfg->warnings[i]);
	return false;
}

static void assert_uuid(const uint8_t *b, const char *hex32)
{
	char s[33];

	for (int i = 0; i < 16; i++)
		snprintf(s + 2 * i, 3, "%02x", b[i]);
	assert_string_equal(s, hex32);
}

/* A subsystem "nqn.s" with one namespace, for tests that vary one thing elsewhere. */
#define SUBSYS_OK \
	"{'nqn': 'nqn.s', 'attr': {'allow_any_host': '1'}, 'namespaces': " \
	"[{'nsid': 1, 'enable': 1, 'device': {'path': '/dev/ram0'}}]}"
#define PORT_OK(id, svc) \
	"{'portid': " #id ", 'addr': {'trtype': 'tcp', 'adrfam': 'ipv4', " \
	"'traddr': '127.0.0.1', 'trsvcid': '" svc "'}, 'subsystems': ['nqn.s']}"

/* ---- kernel dumps -------------------------------------------------------------------- */

static void test_full_example(void **state)
{
	struct nvmf_cfg *cfg = NULL;
	const struct nvmf_cfg_host *h;
	const struct nvmf_cfg_port *p;
	const struct nvmf_cfg_subsys *s;
	const struct nvmf_cfg_ns *ns;

	(void)state;
	assert_int_equal(nvmf_cfg_load_file(FIXTURE("full.json"), &cfg, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg->nr_warnings, 0);
	assert_string_equal(cfg->discovery_nqn, "nqn.2014-08.org.nvmexpress.discovery");

	assert_int_equal(cfg->nr_hosts, 1);
	h = &cfg->hosts[0];
	assert_string_equal(h->nqn,
		"nqn.2014-08.org.nvmexpress:uuid:1a9e23dd-466e-45ca-9f43-a29aaf47cb21");
	assert_string_equal(h->dhchap_key,
		"DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:");
	assert_string_equal(h->dhchap_ctrl_key, "");
	assert_int_equal(h->dhchap_hash, NVMF_CFG_DHCHAP_SHA256);
	assert_int_equal(h->dhchap_dhgroup, NVMF_CFG_DHGROUP_NULL);

	assert_int_equal(cfg->nr_ports, 2);
	p = &cfg->ports[0];
	assert_int_equal(p->portid, 1);
	assert_int_equal(p->trtype, NVMF_CFG_TRTYPE_TCP);
	assert_int_equal(p->adrfam, NVMF_CFG_ADRFAM_IPV4);
	assert_string_equal(p->traddr, "192.168.1.10");
	assert_string_equal(p->trsvcid, "4420");
	assert_int_equal(p->treq, NVMF_CFG_TREQ_NOT_SPECIFIED);
	assert_int_equal(p->tsas, NVMF_CFG_TSAS_NONE);
	assert_int_equal(p->inline_data_size, 16384);
	assert_int_equal(p->max_queue_size, 1024);
	assert_int_equal(p->mdts, 0);
	assert_false(p->pi_enable);
	assert_true(p->enabled);
	assert_int_equal(p->nr_subsystems, 1);
	assert_string_equal(p->subsystems[0], "nqn.2024-01.io.example:vol1");
	assert_int_equal(p->nr_ana_groups, 2);
	assert_int_equal(p->ana_groups[0].grpid, 1);
	assert_int_equal(p->ana_groups[0].state, NVMF_CFG_ANA_OPTIMIZED);
	assert_int_equal(p->ana_groups[1].grpid, 2);
	assert_int_equal(p->ana_groups[1].state, NVMF_CFG_ANA_NONOPTIMIZED);
	assert_int_equal(nvmf_cfg_port_ana_state(p, 2), NVMF_CFG_ANA_NONOPTIMIZED);
	assert_int_equal(nvmf_cfg_port_ana_state(p, 3), NVMF_CFG_ANA_INACCESSIBLE);
	assert_int_equal(p->nr_referrals, 1);
	assert_string_equal(p->referrals[0].name, "peer-dc");
	assert_int_equal(p->referrals[0].trtype, NVMF_CFG_TRTYPE_TCP);
	assert_int_equal(p->referrals[0].adrfam, NVMF_CFG_ADRFAM_IPV4);
	assert_int_equal(p->referrals[0].portid, 2);
	assert_string_equal(p->referrals[0].traddr, "192.168.1.11");
	assert_string_equal(p->referrals[0].trsvcid, "8009");
	assert_int_equal(p->referrals[0].treq, NVMF_CFG_TREQ_NOT_SPECIFIED);
	assert_true(p->referrals[0].enable);

	p = &cfg->ports[1];
	assert_int_equal(p->portid, 2);
	assert_string_equal(p->trsvcid, "4421");
	assert_int_equal(p->tsas, NVMF_CFG_TSAS_TLS13);
	assert_int_equal(p->treq, NVMF_CFG_TREQ_REQUIRED);
	assert_true(p->enabled);
	assert_int_equal(p->nr_ana_groups, 1);
	assert_int_equal(p->nr_referrals, 0);

	assert_int_equal(cfg->nr_subsystems, 1);
	s = &cfg->subsystems[0];
	assert_ptr_equal(nvmf_cfg_find_subsys(cfg, "nqn.2024-01.io.example:vol1"), s);
	assert_null(nvmf_cfg_find_subsys(cfg, "nqn.nope"));
	assert_false(s->allow_any_host);
	assert_int_equal(s->nr_allowed_hosts, 1);
	assert_ptr_equal(nvmf_cfg_find_host(cfg, s->allowed_hosts[0]), h);
	assert_int_equal(s->cntlid_min, 1);
	assert_int_equal(s->cntlid_max, 65519);
	assert_string_equal(s->firmware, "6.18.0");
	assert_int_equal(s->ieee_oui, 0);
	assert_string_equal(s->model, "Linux");
	assert_false(s->pi_enable);
	assert_int_equal(s->qid_max, 128);
	assert_string_equal(s->serial, "8d56b289fe7f0a73eff8");
	assert_int_equal(s->subsys_vendor_id, 0);
	assert_true(s->tbkas);
	assert_int_equal(s->vendor_id, 0);
	assert_int_equal(s->version, 0x00020100);

	assert_int_equal(s->nr_namespaces, 2);
	ns = &s->namespaces[0];
	assert_int_equal(ns->nsid, 1);
	assert_true(ns->enable);
	assert_int_equal(ns->backend, NVMF_BACKEND_AUTO);
	assert_string_equal(ns->path, "/dev/nvme0n1");
	assert_true(ns->has_uuid);
	assert_uuid(ns->uuid, "d592cdf35d1c44e084123fcf7d99df27");
	assert_true(ns->has_nguid);
	assert_uuid(ns->nguid, "ef90689c6c46d44c89c14067801309a8");
	assert_int_equal(ns->ana_grpid, 1);
	assert_false(ns->resv_enable);
	ns = &s->namespaces[1];
	assert_int_equal(ns->nsid, 2);
	assert_string_equal(ns->path, "/srv/vol1-ns2.img");
	assert_false(ns->has_nguid);	/* all zeroes: not set */
	assert_true(ns->has_uuid);
	assert_uuid(ns->uuid, "6a0c1d5e7b0f4a8e9d412f1c3b5e9a77");
	assert_int_equal(ns->ana_grpid, 2);
	assert_true(ns->resv_enable);

	assert_true(s->passthru.present);
	assert_false(s->passthru.enable);
	assert_string_equal(s->passthru.path, "");
	nvmf_cfg_free(cfg);
}

static void test_minimal_dump(void **state)
{
	struct nvmf_cfg *cfg = NULL;
	const struct nvmf_cfg_port *p;
	const struct nvmf_cfg_subsys *s;

	(void)state;
	assert_int_equal(nvmf_cfg_load_file(FIXTURE("minimal.json"), &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->nr_warnings, 0);
	assert_string_equal(cfg->discovery_nqn, NVMF_CFG_DISC_NQN);
	assert_int_equal(cfg->nr_hosts, 0);
	assert_int_equal(cfg->nr_ports, 1);
	p = &cfg->ports[0];
	assert_true(p->enabled);
	assert_string_equal(p->traddr, "10.0.0.5");
	assert_int_equal(p->inline_data_size, 16384);
	assert_int_equal(p->max_queue_size, -1);	/* absent: transport default */
	assert_int_equal(p->mdts, -1);
	assert_int_equal(p->tsas, NVMF_CFG_TSAS_NONE);
	s = &cfg->subsystems[0];
	assert_string_equal(s->nqn, "testnqn");
	assert_true(s->allow_any_host);
	assert_int_equal(s->nr_allowed_hosts, 0);
	assert_int_equal(s->version, 0x00010300);
	assert_string_equal(s->serial, "3f1c2b7d9e40a6158c21");
	assert_string_equal(s->firmware, "6.1.0-2");
	assert_true(s->tbkas);				/* absent: nvmet default */
	assert_int_equal(s->nr_namespaces, 1);
	assert_string_equal(s->namespaces[0].path, "/dev/ram0");
	assert_true(s->namespaces[0].enable);
	assert_false(s->namespaces[0].has_nguid);
	assert_true(s->namespaces[0].has_uuid);
	assert_false(s->namespaces[0].resv_enable);
	nvmf_cfg_free(cfg);
}

static void test_old_kernel_dump(void **state)
{
	struct nvmf_cfg *cfg = NULL;
	const struct nvmf_cfg_port *p;
	const struct nvmf_cfg_subsys *s;

	(void)state;
	assert_int_equal(nvmf_cfg_load_file(FIXTURE("old-kernel.json"), &cfg, err, sizeof(err)),
			 0);
	/* The RDMA port loads, is not served, and that is said once. */
	assert_int_equal(cfg->nr_warnings, 1);
	assert_true(has_warning(cfg, "data/config/old-kernel.json: ports[0]: trtype \"rdma\" "
				"is not served by nvmf-target (TCP only): port ignored"));
	assert_int_equal(cfg->nr_ports, 2);
	assert_int_equal(cfg->ports[0].trtype, NVMF_CFG_TRTYPE_RDMA);
	assert_false(cfg->ports[0].enabled);

	p = &cfg->ports[1];
	assert_true(p->enabled);
	assert_string_equal(p->traddr, "0.0.0.0");
	assert_int_equal(p->tsas, NVMF_CFG_TSAS_NONE);		/* absent */
	assert_int_equal(p->treq, NVMF_CFG_TREQ_NOT_SPECIFIED);
	assert_int_equal(p->max_queue_size, -1);
	assert_int_equal(p->nr_ana_groups, 1);			/* group 1 always exists */
	assert_int_equal(p->ana_groups[0].grpid, 1);
	assert_int_equal(p->ana_groups[0].state, NVMF_CFG_ANA_OPTIMIZED);

	s = &cfg->subsystems[0];
	assert_false(s->allow_any_host);
	assert_string_equal(s->allowed_hosts[0], cfg->hosts[0].nqn);
	assert_string_equal(s->serial, "9a1b5c3d7e2f4a60");
	assert_int_equal(s->version, 0x00010300);
	/* Attributes this kernel did not have take today's configfs defaults. */
	assert_string_equal(s->model, "Linux");
	assert_string_equal(s->firmware, "");
	assert_int_equal(s->cntlid_min, 1);
	assert_int_equal(s->cntlid_max, 0xFFEF);
	assert_int_equal(s->qid_max, 128);
	assert_true(s->tbkas);
	assert_int_equal(s->ieee_oui, 0);
	assert_false(s->passthru.present);
	assert_int_equal(s->namespaces[0].nsid, 10);
	assert_int_equal(s->namespaces[0].ana_grpid, 1);	/* 0 = no ANA on that kernel */
	assert_uuid(s->namespaces[0].uuid, "0b7c3d2e5f414c8a9e6d1a2b3c4d5e6f");
	assert_int_equal(cfg->hosts[0].dhchap_hash, NVMF_CFG_DHCHAP_SHA256);
	assert_string_equal(cfg->hosts[0].dhchap_key, "");
	nvmf_cfg_free(cfg);
}

static void test_empty_config(void **state)
{
	struct nvmf_cfg *cfg = load_ok("{}");

	(void)state;
	assert_int_equal(cfg->nr_hosts + cfg->nr_ports + cfg->nr_subsystems, 0);
	assert_string_equal(cfg->discovery_nqn, NVMF_CFG_DISC_NQN);
	nvmf_cfg_free(cfg);
}

/* Hand-written files: numbers as strings or ints, booleans in any usual spelling. */
static void test_value_forms(void **state)
{
	struct nvmf_cfg *cfg = load_ok(
		"{'subsystems': [{'nqn': 'nqn.s', 'attr': {'allow_any_host': true, "
		"'qid_max': 4, 'cntlid_min': '0x10', 'cntlid_max': ' 32 ', 'tbkas': 'false', "
		"'ieee_oui': '0xabcdef', 'vendor_id': '0x1b36', 'version': '1.4.2'}, "
		"'namespaces': [{'nsid': '7', 'enable': 'yes', 'device': {'path': '/x', "
		"'nguid': '0102030405060708090a0b0c0d0e0f10'}, 'ana': {'grpid': '3'}}, "
		"{'nsid': 8, 'enable': false, 'ana': {'grpid': '3'}, 'ana_grpid': '4'}]}], "
		"'ports': [{'portid': '0x10', 'addr': {'trtype': 'tcp', 'adrfam': 'ipv6', "
		"'traddr': 'fe80::1%eth0', 'trsvcid': 4420}, 'param': {'max_queue_size': 4096}, "
		"'subsystems': ['nqn.s'], 'ana_groups': [{'grpid': 3}, {'grpid': 4, "
		"'ana': {'state': 'change'}}]}]}");
	const struct nvmf_cfg_subsys *s = &cfg->subsystems[0];
	const struct nvmf_cfg_port *p = &cfg->ports[0];

	(void)state;
	assert_true(s->allow_any_host);
	assert_int_equal(s->qid_max, 4);
	assert_int_equal(s->cntlid_min, 16);
	assert_int_equal(s->cntlid_max, 32);
	assert_false(s->tbkas);
	assert_int_equal(s->ieee_oui, 0xabcdef);
	assert_int_equal(s->vendor_id, 0x1b36);
	assert_int_equal(s->version, 0x00010402);
	assert_int_equal(s->namespaces[0].nsid, 7);
	assert_true(s->namespaces[0].enable);
	assert_true(s->namespaces[0].has_nguid);
	assert_uuid(s->namespaces[0].nguid, "0102030405060708090a0b0c0d0e0f10");
	assert_false(s->namespaces[0].has_uuid);	/* absent: the target generates one */
	assert_int_equal(s->namespaces[0].ana_grpid, 3);
	assert_false(s->namespaces[1].enable);
	assert_int_equal(s->namespaces[1].ana_grpid, 4);	/* top-level ana_grpid wins */

	assert_int_equal(p->portid, 16);
	assert_int_equal(p->adrfam, NVMF_CFG_ADRFAM_IPV6);
	assert_string_equal(p->traddr, "fe80::1%eth0");
	assert_string_equal(p->trsvcid, "4420");
	assert_int_equal(p->max_queue_size, 1024);		/* clamped */
	assert_true(has_warning(cfg, "t.json: ports[0].param.max_queue_size: 4096 is outside "
				"16..1024, using 1024"));
	assert_int_equal(p->nr_ana_groups, 3);			/* 3, 4 and the implicit 1 */
	assert_int_equal(nvmf_cfg_port_ana_state(p, 3), NVMF_CFG_ANA_INACCESSIBLE);
	assert_int_equal(nvmf_cfg_port_ana_state(p, 4), NVMF_CFG_ANA_CHANGE);
	assert_int_equal(nvmf_cfg_port_ana_state(p, 1), NVMF_CFG_ANA_OPTIMIZED);
	nvmf_cfg_free(cfg);
}

/* tsas_store(): with TLS an unspecified treq becomes "required"; "not required" stays. */
static void test_tls_treq(void **state)
{
	struct nvmf_cfg *cfg = load_ok(
		"{'subsystems': [" SUBSYS_OK "], 'ports': ["
		"{'portid': 1, 'addr': {'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': '127.0.0.1', "
		"'trsvcid': '4420', 'treq': 'not specified', 'tsas': 'tls1.3'}, "
		"'subsystems': ['nqn.s']}, "
		"{'portid': 2, 'addr': {'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': '127.0.0.1', "
		"'trsvcid': '4421', 'treq': 'not required', 'tsas': 'tls1.3'}, "
		"'subsystems': ['nqn.s']}, "
		"{'portid': 3, 'addr': {'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': '127.0.0.1', "
		"'trsvcid': '4422', 'treq': 'not specified', 'tsas': 'none'}, "
		"'subsystems': ['nqn.s']}]}");

	(void)state;
	assert_int_equal(cfg->ports[0].tsas, NVMF_CFG_TSAS_TLS13);
	assert_int_equal(cfg->ports[0].treq, NVMF_CFG_TREQ_REQUIRED);
	assert_int_equal(cfg->ports[1].treq, NVMF_CFG_TREQ_NOT_REQUIRED);
	assert_int_equal(cfg->ports[2].treq, NVMF_CFG_TREQ_NOT_SPECIFIED);
	nvmf_cfg_free(cfg);
}

/* param.mptcp (ours): a boolean in any of the usual spellings; absent is plain TCP. */
static void test_port_mptcp(void **state)
{
	struct nvmf_cfg *cfg = load_ok(
		"{'subsystems': [" SUBSYS_OK "], 'ports': ["
		"{'portid': 1, 'addr': {'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': '127.0.0.1', "
		"'trsvcid': '4420'}, 'param': {'mptcp': '1'}, 'subsystems': ['nqn.s']}, "
		"{'portid': 2, 'addr': {'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': '127.0.0.1', "
		"'trsvcid': '4421'}, 'param': {'mptcp': false}, 'subsystems': ['nqn.s']}, "
		"{'portid': 3, 'addr': {'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': '127.0.0.1', "
		"'trsvcid': '4422'}, 'subsystems': ['nqn.s']}]}");

	(void)state;
	assert_true(cfg->ports[0].mptcp);
	assert_false(cfg->ports[1].mptcp);
	assert_false(cfg->ports[2].mptcp);
	assert_int_equal(cfg->nr_warnings, 0);
	nvmf_cfg_free(cfg);
	expect_error("{'ports': [{'portid': 1, 'param': {'mptcp': 'multi'}}]}",
		     "t.json: ports[0].param.mptcp: \"multi\" is not a boolean (0, 1, true, false)");
}

/* ---- warnings ------------------------------------------------------------------------ */

static void test_unknown_key_warns(void **state)
{
	struct nvmf_cfg *cfg = load_ok(
		"{'colour': 'blue', 'subsystems': [{'nqn': 'nqn.s', "
		"'attr': {'allow_any_host': '1', 'frobnicate': '3'}, "
		"'namespaces': [{'nsid': 1, 'enable': 1, 'buffered_io': 1, "
		"'device': {'path': '/dev/ram0', 'p2pmem': '0'}}]}], "
		"'ports': [" PORT_OK(1, "4420") "]}");

	(void)state;
	assert_int_equal(cfg->nr_warnings, 4);
	assert_true(has_warning(cfg, "t.json: colour: unknown key, ignored"));
	assert_true(has_warning(cfg, "t.json: subsystems[0].attr.frobnicate: unknown key, ignored"));
	assert_true(has_warning(cfg, "t.json: subsystems[0].namespaces[0].buffered_io: unknown "
				"key, ignored"));
	assert_true(has_warning(cfg, "t.json: subsystems[0].namespaces[0].device.p2pmem: unknown "
				"key, ignored"));
	/* The known values around the unknown ones still load. */
	assert_true(cfg->subsystems[0].allow_any_host);
	assert_string_equal(cfg->subsystems[0].namespaces[0].path, "/dev/ram0");
	nvmf_cfg_free(cfg);
}

static void test_port_warnings(void **state)
{
	struct nvmf_cfg *cfg = load_ok(
		"{'subsystems': [{'nqn': 'nqn.s', 'attr': {'allow_any_host': '1'}, "
		"'namespaces': [{'nsid': 1, 'enable': 1, 'device': {'path': '/d'}, "
		"'ana_grpid': 5}, {'nsid': 2, 'device': {'path': '/e'}}]}], "
		"'ports': [{'portid': 1, 'addr': {'trtype': 'loop'}, 'subsystems': ['nqn.s']}, "
		"{'portid': 2, 'addr': {'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': 'x', "
		"'trsvcid': 'y'}}, {'portid': 3}]}");

	(void)state;
	assert_false(cfg->ports[0].enabled);
	assert_false(cfg->ports[1].enabled);	/* no subsystems: not validated, not served */
	assert_false(cfg->ports[2].enabled);
	assert_true(has_warning(cfg, "t.json: ports[0]: trtype \"loop\" is not served by "
				"nvmf-target (TCP only): port ignored"));
	assert_true(has_warning(cfg, "t.json: ports[1]: no subsystems linked: like nvmet, the "
				"port is not enabled"));
	assert_true(has_warning(cfg, "t.json: ports[2]: no addr.trtype: port ignored"));
	assert_true(has_warning(cfg, "t.json: subsystems[0].namespaces[0].ana_grpid: ANA group 5 "
				"is defined on no port serving this subsystem: the namespace "
				"is inaccessible"));
	assert_true(has_warning(cfg, "t.json: subsystems[0].namespaces[1]: \"enable\" is "
				"missing: the namespace stays disabled, as in nvmet"));
	assert_int_equal(cfg->nr_warnings, 5);
	assert_false(cfg->subsystems[0].namespaces[1].enable);
	nvmf_cfg_free(cfg);
}

/* ---- errors: one per class, each with the file name and the exact key path ---------- */

static void test_err_bad_uuid(void **state)
{
	(void)state;
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': ["
		     "{'nsid': 1, 'enable': 0}, {'nsid': 2, 'enable': 0, "
		     "'device': {'uuid': 'xyz'}}]}]}",
		     "t.json: subsystems[0].namespaces[1].device.uuid: \"xyz\" is not a UUID");
	/* One digit short, and a hyphen out of place. */
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': [{'nsid': 1, 'enable': 0, "
		     "'device': {'uuid': 'd592cdf3-5d1c-44e0-8412-3fcf7d99df2'}}]}]}",
		     "t.json: subsystems[0].namespaces[0].device.uuid: "
		     "\"d592cdf3-5d1c-44e0-8412-3fcf7d99df2\" is not a UUID");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': [{'nsid': 1, 'enable': 0, "
		     "'device': {'uuid': 'd592cdf35-d1c-44e0-8412-3fcf7d99df27'}}]}]}",
		     "t.json: subsystems[0].namespaces[0].device.uuid: "
		     "\"d592cdf35-d1c-44e0-8412-3fcf7d99df27\" is not a UUID");
}

static void test_err_bad_nguid(void **state)
{
	(void)state;
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': [{'nsid': 1, 'enable': 0, "
		     "'device': {'nguid': 'ef90689c-6c46-d44c-89c1-4067801309a'}}]}]}",
		     "t.json: subsystems[0].namespaces[0].device.nguid: "
		     "\"ef90689c-6c46-d44c-89c1-4067801309a\" is not an NGUID (32 hex digits)");
}

static void test_err_bad_nsid(void **state)
{
	(void)state;
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': [{'nsid': 0}]}]}",
		     "t.json: subsystems[0].namespaces[0].nsid: 0 is out of range "
		     "(1..4294967294)");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': [{'nsid': 4294967295}]}]}",
		     "t.json: subsystems[0].namespaces[0].nsid: 4294967295 is out of range "
		     "(1..4294967294)");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': [{'nsid': 'one'}]}]}",
		     "t.json: subsystems[0].namespaces[0].nsid: \"one\" is not an integer");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': [{'nsid': 1.5}]}]}",
		     "t.json: subsystems[0].namespaces[0].nsid: expected an integer, got 1.5");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': [{'enable': 0}]}]}",
		     "t.json: subsystems[0].namespaces[0]: \"nsid\" is missing");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': [{'nsid': 3, 'enable': 0}, "
		     "{'nsid': 3, 'enable': 0}]}]}",
		     "t.json: subsystems[0].namespaces[1].nsid: nsid 3 is also namespaces[0]");
}

static void test_err_missing_port_subsystem(void **state)
{
	(void)state;
	expect_error("{'subsystems': [" SUBSYS_OK "], 'ports': [{'portid': 1, 'addr': "
		     "{'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': '127.0.0.1', "
		     "'trsvcid': '4420'}, 'subsystems': ['nqn.s', 'nqn.missing']}]}",
		     "t.json: ports[0].subsystems[1]: \"nqn.missing\" names no subsystem in "
		     "subsystems[]");
	expect_error("{'subsystems': [" SUBSYS_OK "], 'ports': [{'portid': 1, 'addr': "
		     "{'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': '127.0.0.1', "
		     "'trsvcid': '4420'}, 'subsystems': ['nqn.s', 'nqn.s']}]}",
		     "t.json: ports[0].subsystems[1]: \"nqn.s\" is linked twice");
}

static void test_err_missing_allowed_host(void **state)
{
	(void)state;
	expect_error("{'hosts': [{'nqn': 'nqn.h1'}], 'subsystems': [{'nqn': 'nqn.s', "
		     "'allowed_hosts': ['nqn.h1', 'nqn.h2']}]}",
		     "t.json: subsystems[0].allowed_hosts[1]: \"nqn.h2\" names no host in "
		     "hosts[]");
}

static void test_err_allow_any_with_hosts(void **state)
{
	(void)state;
	expect_error("{'hosts': [{'nqn': 'nqn.h1'}], 'subsystems': [{'nqn': 'nqn.s', "
		     "'attr': {'allow_any_host': '1'}, 'allowed_hosts': ['nqn.h1']}]}",
		     "t.json: subsystems[0].attr.allow_any_host: allow_any_host is set but "
		     "allowed_hosts lists 1 host(s); use one or the other");
}

static void test_err_bad_trsvcid(void **state)
{
	(void)state;
	expect_error("{'subsystems': [" SUBSYS_OK "], 'ports': [" PORT_OK(1, "44x0") "]}",
		     "t.json: ports[0].addr.trsvcid: \"44x0\" is not a TCP port number "
		     "(1..65535)");
	expect_error("{'subsystems': [" SUBSYS_OK "], 'ports': [" PORT_OK(1, "65536") "]}",
		     "t.json: ports[0].addr.trsvcid: \"65536\" is not a TCP port number "
		     "(1..65535)");
	expect_error("{'subsystems': [" SUBSYS_OK "], 'ports': [" PORT_OK(1, "0") "]}",
		     "t.json: ports[0].addr.trsvcid: \"0\" is not a TCP port number (1..65535)");
}

static void test_err_bad_traddr(void **state)
{
	(void)state;
	expect_error("{'subsystems': [" SUBSYS_OK "], 'ports': [{'portid': 1, 'addr': "
		     "{'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': '10.0.0.256', "
		     "'trsvcid': '4420'}, 'subsystems': ['nqn.s']}]}",
		     "t.json: ports[0].addr.traddr: \"10.0.0.256\" is not an IPv4 address");
	expect_error("{'subsystems': [" SUBSYS_OK "], 'ports': [{'portid': 1, 'addr': "
		     "{'trtype': 'tcp', 'adrfam': 'ipv6', 'traddr': '10.0.0.1', "
		     "'trsvcid': '4420'}, 'subsystems': ['nqn.s']}]}",
		     "t.json: ports[0].addr.traddr: \"10.0.0.1\" is not an IPv6 address");
}

static void test_err_bad_adrfam(void **state)
{
	(void)state;
	expect_error("{'ports': [{'portid': 1, 'addr': {'adrfam': 'ipv5'}}]}",
		     "t.json: ports[0].addr.adrfam: \"ipv5\" is not one of \"ipv4\", \"ipv6\", "
		     "\"ib\", \"fc\", \"pci\", \"pcie\", \"loop\"");
	/* A valid family that TCP cannot use. */
	expect_error("{'subsystems': [" SUBSYS_OK "], 'ports': [{'portid': 1, 'addr': "
		     "{'trtype': 'tcp', 'adrfam': 'fc', 'traddr': '127.0.0.1', "
		     "'trsvcid': '4420'}, 'subsystems': ['nqn.s']}]}",
		     "t.json: ports[0].addr.adrfam: \"fc\" cannot carry TCP: adrfam must be "
		     "\"ipv4\" or \"ipv6\"");
}

/* ANA: what nvmet's configfs refuses (grpid 1..128 on ports and namespaces), named by key. */
static void test_err_ana(void **state)
{
	(void)state;
	expect_error("{'ports': [{'portid': 1, 'ana_groups': [{'grpid': 129}]}]}",
		     "t.json: ports[0].ana_groups[0].grpid: 129 is out of range (1..128)");
	expect_error("{'ports': [{'portid': 1, 'ana_groups': [{'grpid': 1}, {'grpid': 0}]}]}",
		     "t.json: ports[0].ana_groups[1].grpid: 0 is out of range (1..128)");
	expect_error("{'ports': [{'portid': 1, 'ana_groups': [{'grpid': 2, "
		     "'ana': {'state': 'standby'}}]}]}",
		     "t.json: ports[0].ana_groups[0].ana.state: \"standby\" is not one of "
		     "\"optimized\", \"non-optimized\", \"inaccessible\", \"persistent-loss\", "
		     "\"change\"");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': [{'nsid': 1, "
		     "'device': {'path': '/e'}, 'ana_grpid': 129}]}]}",
		     "t.json: subsystems[0].namespaces[0].ana_grpid: 129 is out of range (0..128)");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': [{'nsid': 1, "
		     "'device': {'path': '/e'}, 'ana': {'grpid': '300'}}]}]}",
		     "t.json: subsystems[0].namespaces[0].ana.grpid: \"300\" is out of range "
		     "(0..128)");
}

static void test_err_bad_enum_and_types(void **state)
{
	(void)state;
	expect_error("{'ports': [{'portid': 1, 'addr': {'trtype': 'TCP'}}]}",
		     "t.json: ports[0].addr.trtype: \"TCP\" is not one of \"tcp\", \"rdma\", "
		     "\"fc\", \"pci\", \"loop\"");
	expect_error("{'ports': [{'portid': 1, 'ana_groups': [{'grpid': 2, "
		     "'ana': {'state': 'fast'}}]}]}",
		     "t.json: ports[0].ana_groups[0].ana.state: \"fast\" is not one of "
		     "\"optimized\", \"non-optimized\", \"inaccessible\", \"persistent-loss\", "
		     "\"change\"");
	expect_error("{'hosts': [{'nqn': 'nqn.h', 'dhchap': {'hash': 'sha1'}}]}",
		     "t.json: hosts[0].dhchap.hash: \"sha1\" is not one of \"hmac(sha256)\", "
		     "\"hmac(sha384)\", \"hmac(sha512)\"");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'attr': {'allow_any_host': '2'}}]}",
		     "t.json: subsystems[0].attr.allow_any_host: \"2\" is not a boolean "
		     "(0, 1, true, false)");
	expect_error("{'subsystems': {'nqn': 'nqn.s'}}",
		     "t.json: subsystems: expected a list, got {\"nqn\":\"nqn.s\"}");
	expect_error("{'subsystems': [{'nqn': null}]}",
		     "t.json: subsystems[0].nqn: null is not a valid value");
	expect_error("{'subsystems': [{'nqn': 'nqn.s\\u0000x'}]}",
		     "t.json: subsystems[0].nqn: \"nqn.s\\u0000x\" contains a NUL character");
	expect_error("[]", "t.json: expected an object, got []");
}

static void test_err_serial_too_long(void **state)
{
	(void)state;
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'attr': "
		     "{'serial': '0123456789abcdef01234'}}]}",
		     "t.json: subsystems[0].attr.serial: \"0123456789abcdef01234\" is 21 "
		     "characters long, at most 20 are allowed");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'attr': {'model': 'caf\\u00e9'}}]}",
		     "t.json: subsystems[0].attr.model: \"caf\xc3\xa9\" has a character outside "
		     "printable ASCII");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'attr': {'firmware': '123456789'}}]}",
		     "t.json: subsystems[0].attr.firmware: \"123456789\" is 9 characters long, "
		     "at most 8 are allowed");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'attr': {'model': ''}}]}",
		     "t.json: subsystems[0].attr.model: \"\" is empty");
}

static void test_err_subsys_attrs(void **state)
{
	(void)state;
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'attr': {'cntlid_min': '100', "
		     "'cntlid_max': '50'}}]}",
		     "t.json: subsystems[0].attr.cntlid_min: cntlid_min 100 is above "
		     "cntlid_max 50");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'attr': {'cntlid_max': '65535'}}]}",
		     "t.json: subsystems[0].attr.cntlid_max: \"65535\" is out of range "
		     "(1..65519)");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'attr': {'qid_max': '129'}}]}",
		     "t.json: subsystems[0].attr.qid_max: \"129\" is out of range (1..128)");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'attr': {'ieee_oui': '0x1000000'}}]}",
		     "t.json: subsystems[0].attr.ieee_oui: \"0x1000000\" is out of range "
		     "(0..16777215)");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'attr': {'version': '2'}}]}",
		     "t.json: subsystems[0].attr.version: \"2\" is not a version "
		     "\"major.minor\" or \"major.minor.tertiary\"");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'attr': {'version': '1.3.0.1'}}]}",
		     "t.json: subsystems[0].attr.version: \"1.3.0.1\" is not a version "
		     "\"major.minor\" or \"major.minor.tertiary\"");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': [{'nsid': 1, "
		     "'enable': 1}]}]}",
		     "t.json: subsystems[0].namespaces[0].device.path: an enabled namespace "
		     "needs a device path");
	expect_error("{'subsystems': [{'nqn': 'nqn.s', 'namespaces': [{'nsid': 1, "
		     "'enable': 0}], 'passthru': [{'enable': 1, 'device': {'path': '/dev/nvme0'}}]}]}",
		     "t.json: subsystems[0].passthru: a subsystem cannot have both a passthru "
		     "controller and namespaces");
}

static void test_err_duplicates(void **state)
{
	(void)state;
	expect_error("{'subsystems': [" SUBSYS_OK "], 'ports': [" PORT_OK(1, "4420") ", "
		     PORT_OK(1, "4421") "]}",
		     "t.json: ports[1].portid: portid 1 is also ports[0]");
	expect_error("{'subsystems': [" SUBSYS_OK "], 'ports': [" PORT_OK(1, "4420") ", "
		     PORT_OK(2, "4420") "]}",
		     "t.json: ports[1].addr: 127.0.0.1:4420 is also the address of ports[0]");
	expect_error("{'subsystems': [{'nqn': 'nqn.a'}, {'nqn': 'nqn.b'}, {'nqn': 'nqn.a'}]}",
		     "t.json: subsystems[2].nqn: \"nqn.a\" is also subsystems[0]");
	expect_error("{'hosts': [{'nqn': 'nqn.h'}, {'nqn': 'nqn.h'}]}",
		     "t.json: hosts[1].nqn: \"nqn.h\" is also hosts[0]");
	expect_error("{'ports': [{'portid': 1, 'ana_groups': [{'grpid': 2}, {'grpid': 2}]}]}",
		     "t.json: ports[0].ana_groups[1].grpid: grpid 2 is also ana_groups[0]");
	expect_error("{'ports': [{'portid': 1, 'referrals': [{'name': 'r'}, {'name': 'r'}]}]}",
		     "t.json: ports[0].referrals[1].name: \"r\" is also referrals[0]");
}

static void test_err_nqn_rules(void **state)
{
	(void)state;
	expect_error("{'subsystems': [{'nqn': 'nqn.2014-08.org.nvmexpress.discovery'}]}",
		     "t.json: subsystems[0].nqn: \"nqn.2014-08.org.nvmexpress.discovery\" is "
		     "the discovery NQN");
	expect_error("{'discovery': {'nqn': 'nqn.d'}, 'subsystems': [{'nqn': 'nqn.d'}]}",
		     "t.json: subsystems[0].nqn: \"nqn.d\" is the discovery NQN");
	expect_error("{'subsystems': [{'attr': {}}]}",
		     "t.json: subsystems[0]: \"nqn\" is missing");
	expect_error("{'ports': [{'addr': {}}]}", "t.json: ports[0]: \"portid\" is missing");
	/* a control byte quoted back stays out of the one-line message (found by fuzz_config) */
	expect_error("{'hosts': [{'nqn': 'nqn.h\\nx'}]}",
		     "t.json: hosts[0].nqn: NQN \"nqn.h?x\" contains a control character or '/'");
	expect_error("{'hosts': [{'nqn': 'nqn.h', 'dhchap': {'key': 'secret'}}]}",
		     "t.json: hosts[0].dhchap.key: not a DH-HMAC-CHAP secret "
		     "(expected \"DHHC-1:...\")");
}

/*
 * Secrets are checked whole at load: CRC, transform digits, length.  The messages name
 * the file and the key path and never carry the secret.
 */
static void test_err_dhchap_secret(void **state)
{
	/* bytes 00..1f, transform 01; one base64 character changed breaks the CRC */
	static const char good[] = "DHHC-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:";
	static const char bad_crc[] = "DHHC-1:01:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaS:";
	struct nvmf_cfg *cfg;
	char json[512];

	(void)state;
	snprintf(json, sizeof(json), "{'hosts': [{'nqn': 'nqn.h', 'dhchap': {'key': '%s', "
		 "'ctrl_key': '%s'}}]}", good, bad_crc);
	expect_error(json, "t.json: hosts[0].dhchap.ctrl_key: DH-HMAC-CHAP secret fails its "
		     "CRC check (mistyped or truncated?)");
	assert_null(strstr(err, "AAEC"));
	snprintf(json, sizeof(json), "{'hosts': [{'nqn': 'nqn.h'}, {'nqn': 'nqn.i', "
		 "'dhchap': {'key': '%s'}}]}", bad_crc);
	expect_error(json, "t.json: hosts[1].dhchap.key: DH-HMAC-CHAP secret fails its "
		     "CRC check (mistyped or truncated?)");
	/* transform 04 does not exist; a key of 16 bytes is too short */
	expect_error("{'hosts': [{'nqn': 'nqn.h', 'dhchap': {'key': "
		     "'DHHC-1:04:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+KfiaR:'}}]}",
		     "t.json: hosts[0].dhchap.key: malformed DH-HMAC-CHAP secret (expected "
		     "\"DHHC-1:<00..03>:<base64 of 32, 48 or 64 bytes and a CRC-32>:\")");
	expect_error("{'hosts': [{'nqn': 'nqn.h', 'dhchap': {'key': "
		     "'DHHC-1:00:AAECAwQFBgcICQoLDA0OD4jizs4=:'}}]}",
		     "t.json: hosts[0].dhchap.key: malformed DH-HMAC-CHAP secret (expected "
		     "\"DHHC-1:<00..03>:<base64 of 32, 48 or 64 bytes and a CRC-32>:\")");
	/* both good: loads */
	snprintf(json, sizeof(json), "{'hosts': [{'nqn': 'nqn.h', 'dhchap': {'key': '%s', "
		 "'ctrl_key': '%s'}}]}", good, good);
	cfg = load_ok(json);
	assert_string_equal(cfg->hosts[0].dhchap_ctrl_key, good);
	nvmf_cfg_free(cfg);
}

static void test_err_tsas(void **state)
{
	(void)state;
	expect_error("{'ports': [{'portid': 1, 'addr': {'trtype': 'rdma', 'tsas': 'tls1.3'}}]}",
		     "t.json: ports[0].addr.tsas: \"tls1.3\" does not apply to trtype \"rdma\"");
	expect_error("{'ports': [{'portid': 1, 'param': {'inline_data_size': '-2'}}]}",
		     "t.json: ports[0].param.inline_data_size: \"-2\" is out of range "
		     "(-1..2147483647)");
	expect_error("{'ports': [{'portid': 1, 'param': {'mdts': '256'}}]}",
		     "t.json: ports[0].param.mdts: \"256\" is out of range (-1..255)");
}

static void test_err_referral(void **state)
{
	(void)state;
	expect_error("{'ports': [{'portid': 1, 'referrals': [{'name': 'r', 'enable': 1, "
		     "'addr': {'trtype': 'tcp', 'adrfam': 'ipv4', 'traddr': '1.2.3.4', "
		     "'trsvcid': 'disc'}}]}]}",
		     "t.json: ports[0].referrals[0].addr.trsvcid: \"disc\" is not a TCP port "
		     "number (1..65535)");
}

static void test_err_malformed_json(void **state)
{
	struct nvmf_cfg *cfg = NULL;

	(void)state;
	/* Line 4 starts "subsystems" where a ',' was due. */
	assert_int_equal(nvmf_cfg_load_file(FIXTURE("malformed.json"), &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_null(cfg);
	assert_string_equal(err, "data/config/malformed.json:4:3: invalid JSON: "
			    "object value separator ',' expected");
	expect_error("{'hosts': [],\n 'ports': [],\n}",
		     "t.json:3:1: invalid JSON: unexpected character");
	expect_error("{'hosts': [", "t.json:1:12: invalid JSON: unexpected end of file");
	expect_error("", "t.json:1:1: invalid JSON: unexpected end of file");
	expect_error("{}\n{}", "t.json:2:1: invalid JSON: data after the top-level object");
}

static void test_err_file(void **state)
{
	struct nvmf_cfg *cfg = NULL;

	(void)state;
	assert_int_equal(nvmf_cfg_load_file(FIXTURE("no-such.json"), &cfg, err, sizeof(err)),
			 -ENOENT);
	assert_null(cfg);
	assert_string_equal(err, "data/config/no-such.json: cannot open: No such file or "
			    "directory");
}

/* ---- quick start --------------------------------------------------------------------- */

static void check_quick_common(const struct nvmf_cfg *cfg, const char *nqn)
{
	const struct nvmf_cfg_port *p;
	const struct nvmf_cfg_subsys *s;

	assert_int_equal(cfg->nr_subsystems, 1);
	assert_int_equal(cfg->nr_ports, 1);
	assert_int_equal(cfg->nr_hosts, 0);
	assert_int_equal(cfg->nr_warnings, 0);
	s = &cfg->subsystems[0];
	assert_string_equal(s->nqn, nqn);
	assert_true(s->allow_any_host);
	assert_string_equal(s->model, "Linux");
	assert_int_equal(s->version, NVMF_CFG_DEFAULT_VS);
	assert_int_equal(s->nr_namespaces, 1);
	assert_int_equal(s->namespaces[0].nsid, 1);
	assert_true(s->namespaces[0].enable);
	assert_int_equal(s->namespaces[0].ana_grpid, 1);
	p = &cfg->ports[0];
	assert_true(p->enabled);
	assert_int_equal(p->trtype, NVMF_CFG_TRTYPE_TCP);
	assert_int_equal(p->nr_subsystems, 1);
	assert_string_equal(p->subsystems[0], nqn);
	assert_int_equal(nvmf_cfg_port_ana_state(p, 1), NVMF_CFG_ANA_OPTIMIZED);
	assert_int_equal(p->inline_data_size, -1);
}

static void test_quick_ram(void **state)
{
	struct nvmf_cfg_quick q = { .backend = NVMF_BACKEND_RAM, .size = 1ull << 30 };
	struct nvmf_cfg *cfg = nvmf_cfg_quickstart(&q, err, sizeof(err));

	(void)state;
	assert_non_null(cfg);
	check_quick_common(cfg, NVMF_CFG_QUICK_NQN);
	assert_int_equal(cfg->subsystems[0].namespaces[0].backend, NVMF_BACKEND_RAM);
	assert_int_equal(cfg->subsystems[0].namespaces[0].size, 1ull << 30);
	assert_string_equal(cfg->subsystems[0].namespaces[0].path, "");
	assert_int_equal(cfg->ports[0].adrfam, NVMF_CFG_ADRFAM_IPV4);
	assert_string_equal(cfg->ports[0].traddr, "127.0.0.1");
	assert_string_equal(cfg->ports[0].trsvcid, "4420");
	nvmf_cfg_free(cfg);
}

/* --tls: the port as a config port with addr.tsas "tls1.3" loads; without it, plaintext. */
static void test_quick_tls(void **state)
{
	struct nvmf_cfg_quick q = { .backend = NVMF_BACKEND_RAM, .size = 1ull << 20 };
	struct nvmf_cfg *cfg;

	(void)state;
	cfg = nvmf_cfg_quickstart(&q, err, sizeof(err));
	assert_non_null(cfg);
	assert_int_equal(cfg->ports[0].tsas, NVMF_CFG_TSAS_NONE);
	assert_int_equal(cfg->ports[0].treq, NVMF_CFG_TREQ_NOT_SPECIFIED);
	nvmf_cfg_free(cfg);

	q.tls = true;
	cfg = nvmf_cfg_quickstart(&q, err, sizeof(err));
	assert_non_null(cfg);
	check_quick_common(cfg, NVMF_CFG_QUICK_NQN);
	assert_int_equal(cfg->ports[0].tsas, NVMF_CFG_TSAS_TLS13);
	assert_int_equal(cfg->ports[0].treq, NVMF_CFG_TREQ_REQUIRED);
	nvmf_cfg_free(cfg);
}

static void test_quick_file(void **state)
{
	struct nvmf_cfg_quick q = {
		.backend = NVMF_BACKEND_FILE, .path = "/srv/disk.img",
		.listen = "0.0.0.0:4421", .nqn = "nqn.2024-01.io.example:disk",
	};
	struct nvmf_cfg *cfg = nvmf_cfg_quickstart(&q, err, sizeof(err));

	(void)state;
	assert_non_null(cfg);
	check_quick_common(cfg, "nqn.2024-01.io.example:disk");
	assert_int_equal(cfg->subsystems[0].namespaces[0].backend, NVMF_BACKEND_FILE);
	assert_string_equal(cfg->subsystems[0].namespaces[0].path, "/srv/disk.img");
	assert_string_equal(cfg->ports[0].traddr, "0.0.0.0");
	assert_string_equal(cfg->ports[0].trsvcid, "4421");
	nvmf_cfg_free(cfg);
}

static void test_quick_device(void **state)
{
	struct nvmf_cfg_quick q = {
		.backend = NVMF_BACKEND_BLOCK, .path = "/dev/nvme0n1", .listen = "[::1]:4430",
	};
	struct nvmf_cfg *cfg = nvmf_cfg_quickstart(&q, err, sizeof(err));

	(void)state;
	assert_non_null(cfg);
	check_quick_common(cfg, NVMF_CFG_QUICK_NQN);
	assert_int_equal(cfg->subsystems[0].namespaces[0].backend, NVMF_BACKEND_BLOCK);
	assert_string_equal(cfg->subsystems[0].namespaces[0].path, "/dev/nvme0n1");
	assert_int_equal(cfg->ports[0].adrfam, NVMF_CFG_ADRFAM_IPV6);
	assert_string_equal(cfg->ports[0].traddr, "::1");
	assert_string_equal(cfg->ports[0].trsvcid, "4430");
	nvmf_cfg_free(cfg);

	q.listen = "fd00::5";	/* bare IPv6, default port */
	cfg = nvmf_cfg_quickstart(&q, err, sizeof(err));
	assert_non_null(cfg);
	assert_string_equal(cfg->ports[0].traddr, "fd00::5");
	assert_string_equal(cfg->ports[0].trsvcid, "4420");
	nvmf_cfg_free(cfg);
}

static void expect_quick_error(const struct nvmf_cfg_quick *q, const char *msg)
{
	assert_null(nvmf_cfg_quickstart(q, err, sizeof(err)));
	assert_string_equal(err, msg);
}

static void test_quick_errors(void **state)
{
	struct nvmf_cfg_quick q = { .backend = NVMF_BACKEND_RAM, .size = 4096 };

	(void)state;
	q.listen = "localhost:4420";
	expect_quick_error(&q, "--listen \"localhost:4420\": \"localhost\" is not an IPv4 or "
			   "IPv6 address (host names are not resolved)");
	q.listen = "127.0.0.1:70000";
	expect_quick_error(&q, "--listen \"127.0.0.1:70000\": \"70000\" is not a TCP port "
			   "number (1..65535)");
	q.listen = "[::1";
	expect_quick_error(&q, "--listen \"[::1\": expected ADDR[:PORT] or [IPV6ADDR][:PORT]");
	q.listen = ":4420";
	expect_quick_error(&q, "--listen \":4420\": expected ADDR[:PORT] or [IPV6ADDR][:PORT]");
	q.listen = NULL;
	q.size = 1000;
	expect_quick_error(&q, "--ram size 1000: must be a non-zero multiple of 512 bytes");
	q.size = 4096;
	q.nqn = "";
	expect_quick_error(&q, "--nqn: an NQN must not be empty");
	q.nqn = NULL;
	q.backend = NVMF_BACKEND_BLOCK;
	expect_quick_error(&q, "--device: a path is required");
	q.backend = NVMF_BACKEND_FILE;
	q.path = "";
	expect_quick_error(&q, "--file: a path is required");
}

static void test_parse_size(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(nvmf_cfg_parse_size("1G", &v), 0);
	assert_int_equal(v, 1ull << 30);
	assert_int_equal(nvmf_cfg_parse_size("512m", &v), 0);
	assert_int_equal(v, 512ull << 20);
	assert_int_equal(nvmf_cfg_parse_size("64KiB", &v), 0);
	assert_int_equal(v, 64ull << 10);
	assert_int_equal(nvmf_cfg_parse_size("2T", &v), 0);
	assert_int_equal(v, 2ull << 40);
	assert_int_equal(nvmf_cfg_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(nvmf_cfg_parse_size("4096B", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(nvmf_cfg_parse_size("", &v), -EINVAL);
	assert_int_equal(nvmf_cfg_parse_size("G", &v), -EINVAL);
	assert_int_equal(nvmf_cfg_parse_size("1X", &v), -EINVAL);
	assert_int_equal(nvmf_cfg_parse_size("1GG", &v), -EINVAL);
	assert_int_equal(nvmf_cfg_parse_size("-1G", &v), -EINVAL);
	assert_int_equal(nvmf_cfg_parse_size("16777216T", &v), -EINVAL);	/* 2^64 */
	assert_int_equal(nvmf_cfg_parse_size("99999999999999999999", &v), -EINVAL);
}

/* copy FIXTURE(name) to a private temporary file of the given mode; its path in out */
static void copy_fixture(const char *name, mode_t mode, char *out, size_t len)
{
	char buf[65536], src[256];
	FILE *in;
	int fd;
	size_t n;

	snprintf(src, sizeof(src), FIXTURE("%s"), name);
	in = fopen(src, "r");

	assert_non_null(in);
	snprintf(out, len, "/tmp/nvmf-cfg-private-%d.json", (int)getpid());
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* DH-HMAC-CHAP keys in a file others may read: refused, naming file, count and mode. */
static void test_secrets_private(void **state)
{
	struct nvmf_cfg *cfg = NULL;
	char path[128], want[256];

	(void)state;
	copy_fixture("full.json", 0644, path, sizeof(path));
	assert_int_equal(nvmf_cfg_load_file(path, &cfg, err, sizeof(err)), 0);
	assert_int_equal(nvmf_cfg_check_private(path, cfg, err, sizeof(err)), -EACCES);
	snprintf(want, sizeof(want), "%s: holds 1 DH-HMAC-CHAP key(s) and group or others may "
		 "access it (mode 0644): chmod 600 it", path);
	assert_string_equal(err, want);
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(nvmf_cfg_check_private(path, cfg, err, sizeof(err)), -EACCES);
	assert_int_equal(chmod(path, 0600), 0);
	err[0] = '\0';
	assert_int_equal(nvmf_cfg_check_private(path, cfg, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	nvmf_cfg_free(cfg);
	/* no secrets: any mode will do */
	copy_fixture("minimal.json", 0644, path, sizeof(path));
	assert_int_equal(nvmf_cfg_load_file(path, &cfg, err, sizeof(err)), 0);
	assert_int_equal(nvmf_cfg_check_private(path, cfg, err, sizeof(err)), 0);
	nvmf_cfg_free(cfg);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_secrets_private),
		cmocka_unit_test(test_minimal_dump),
		cmocka_unit_test(test_old_kernel_dump),
		cmocka_unit_test(test_empty_config),
		cmocka_unit_test(test_value_forms),
		cmocka_unit_test(test_tls_treq),
		cmocka_unit_test(test_port_mptcp),
		cmocka_unit_test(test_unknown_key_warns),
		cmocka_unit_test(test_port_warnings),
		cmocka_unit_test(test_err_bad_uuid),
		cmocka_unit_test(test_err_bad_nguid),
		cmocka_unit_test(test_err_bad_nsid),
		cmocka_unit_test(test_err_missing_port_subsystem),
		cmocka_unit_test(test_err_missing_allowed_host),
		cmocka_unit_test(test_err_allow_any_with_hosts),
		cmocka_unit_test(test_err_bad_trsvcid),
		cmocka_unit_test(test_err_bad_traddr),
		cmocka_unit_test(test_err_bad_adrfam),
		cmocka_unit_test(test_err_bad_enum_and_types),
		cmocka_unit_test(test_err_ana),
		cmocka_unit_test(test_err_serial_too_long),
		cmocka_unit_test(test_err_subsys_attrs),
		cmocka_unit_test(test_err_duplicates),
		cmocka_unit_test(test_err_nqn_rules),
		cmocka_unit_test(test_err_dhchap_secret),
		cmocka_unit_test(test_err_tsas),
		cmocka_unit_test(test_err_referral),
		cmocka_unit_test(test_err_malformed_json),
		cmocka_unit_test(test_err_file),
		cmocka_unit_test(test_quick_ram),
		cmocka_unit_test(test_quick_tls),
		cmocka_unit_test(test_quick_file),
		cmocka_unit_test(test_quick_device),
		cmocka_unit_test(test_quick_errors),
		cmocka_unit_test(test_parse_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
