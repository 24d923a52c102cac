/*
 * nvmf_trid_parse (src/host/trid.c): SPDK's key:value form and the fio engine's key=value
 * form with escaped colons, case, whitespace, defaults, and every refusal with the message
 * that names the bad key or token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nvmf/nvmf.h"

#define NQN "nqn.2014-08.org.nvmexpress:nvmf-tcp:quickstart"

/* ------------------------------------------------------------------ accepted */

static void spdk_form(void **state)
{
	struct nvmf_trid t;
	char err[256];

	(void)state;
	assert_int_equal(nvmf_trid_parse("trtype:tcp adrfam:ipv4 traddr:127.0.0.1 trsvcid:4420 "
					 "subnqn:" NQN " ns:1", &t, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(t.trtype, "tcp");
	assert_string_equal(t.adrfam, "ipv4");
	assert_string_equal(t.traddr, "127.0.0.1");
	assert_string_equal(t.trsvcid, "4420");
	/* the value's own colons stay: only the first one separates */
	assert_string_equal(t.subnqn, NQN);
	assert_int_equal(t.nsid, 1);
	assert_string_equal(t.hostnqn, "");
	assert_string_equal(t.hostaddr, "");
}

static void fio_form_with_escapes(void **state)
{
	struct nvmf_trid t;
	char err[256];

	(void)state;
	assert_int_equal(nvmf_trid_parse("trtype=tcp adrfam=ipv4 traddr=10.0.0.2 trsvcid=4421 "
					 "subnqn=nqn.2014-08.org.nvmexpress\\:nvmf-tcp\\:quickstart "
					 "nsid=3 hostnqn=nqn.2014-08.org.nvmexpress\\:uuid\\:1",
					 &t, err, sizeof(err)), 0);
	assert_string_equal(t.traddr, "10.0.0.2");
	assert_string_equal(t.trsvcid, "4421");
	assert_string_equal(t.subnqn, NQN);
	assert_string_equal(t.hostnqn, "nqn.2014-08.org.nvmexpress:uuid:1");
	assert_int_equal(t.nsid, 3);
}

static void case_blanks_ipv6_ignored_keys(void **state)
{
	struct nvmf_trid t;
	char err[256];

	(void)state;
	assert_int_equal(nvmf_trid_parse("  TrType:TCP\tADRFAM:IPv6\n traddr:fe80::1%eth0  "
					 "hostaddr=fe80::2 priority:3 hostsvcid:0 "
					 "subnqn:a\\ b\\\\c ns:0x10 ", &t, err, sizeof(err)), 0);
	assert_string_equal(t.trtype, "tcp");
	assert_string_equal(t.adrfam, "ipv6");
	assert_string_equal(t.traddr, "fe80::1%eth0");
	assert_string_equal(t.hostaddr, "fe80::2");
	assert_string_equal(t.subnqn, "a b\\c");
	assert_int_equal(t.nsid, 16);
}

static void defaults_and_opts(void **state)
{
	struct nvmf_trid t;
	struct nvmf_ctrl_opts o;

	(void)state;
	assert_int_equal(nvmf_trid_parse("traddr:192.0.2.1", &t, NULL, 0), 0);
	assert_string_equal(t.trtype, "tcp");
	assert_string_equal(t.adrfam, "");
	assert_string_equal(t.trsvcid, "");
	assert_int_equal(t.nsid, 0);
	nvmf_ctrl_opts_init(&o);
	o.kato_ms = 1234;
	nvmf_trid_to_opts(&t, &o);
	assert_string_equal(o.traddr, "192.0.2.1");
	/* what the trid leaves out gets the library's defaults */
	assert_null(o.trsvcid);
	assert_null(o.subnqn);
	assert_null(o.hostnqn);
	assert_null(o.host_traddr);
	assert_int_equal(o.kato_ms, 1234);

	assert_int_equal(nvmf_trid_parse("traddr:a trsvcid:8009 subnqn:s hostnqn:h hostaddr:l "
					 "ns:4294967294", &t, NULL, 0), 0);
	assert_int_equal(t.nsid, 4294967294u);
	nvmf_trid_to_opts(&t, &o);
	assert_string_equal(o.trsvcid, "8009");
	assert_string_equal(o.subnqn, "s");
	assert_string_equal(o.hostnqn, "h");
	assert_string_equal(o.host_traddr, "l");
}

/* ------------------------------------------------------------------ refused */

static void refused(const char *s, const char *msg)
{
	struct nvmf_trid t;
	char err[256];

	memset(&t, 0x55, sizeof(t));
	assert_int_equal(nvmf_trid_parse(s, &t, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, msg);
	/* nothing half-parsed is left behind */
	assert_string_equal(t.traddr, "");
	assert_int_equal(t.nsid, 0);
}

static void bad_keys(void **state)
{
	(void)state;
	refused("tradr:1.2.3.4", "unknown key 'tradr' (keys: trtype adrfam traddr trsvcid subnqn "
		"hostnqn hostaddr ns)");
	refused("traddr:1 TRADDR:2", "key 'TRADDR' given twice");
	refused("traddr:1 ns:1 nsid:2", "key 'nsid' given twice");
	refused("traddr: trsvcid:4420", "key 'traddr' has no value");
	refused("traddr:x subnqn=", "key 'subnqn' has no value");
}

static void bad_tokens(void **state)
{
	(void)state;
	/* what fio leaves of an NQN with unescaped colons */
	refused("traddr:x nvmf-tcp", "'nvmf-tcp' is not key:value or key=value");
	refused(":x traddr:y", "':x' is not key:value or key=value");
	refused("=x", "'=x' is not key:value or key=value");
	refused("traddr:x sub\\:nqn", "'sub\\:nqn' is not key:value or key=value");
	refused("traddr:x\\", "'traddr:x\\': ends in a lone '\\'");
}

static void bad_values(void **state)
{
	char addr[300];

	(void)state;
	refused("trtype:rdma traddr:1.2.3.4", "trtype 'rdma': only tcp is supported");
	refused("adrfam:ib traddr:1.2.3.4", "adrfam 'ib': ipv4 or ipv6");
	refused("traddr:x ns:0", "ns '0': a namespace ID, 1..4294967294");
	refused("traddr:x ns:4294967295", "ns '4294967295': a namespace ID, 1..4294967294");
	refused("traddr:x nsid:-1", "nsid '-1': a namespace ID, 1..4294967294");
	refused("traddr:x ns:1x", "ns '1x': a namespace ID, 1..4294967294");
	snprintf(addr, sizeof(addr), "traddr:%0257d", 0);
	refused(addr, "traddr: value too long (at most 256 characters)");
	refused("trsvcid:123456789012345678901234567890123 traddr:x",
		"trsvcid: value too long (at most 32 characters)");
}

static void traddr_required(void **state)
{
	(void)state;
	refused("", "traddr is required");
	refused("   ", "traddr is required");
	refused("trtype:tcp subnqn:" NQN, "traddr is required");
}

static void short_error_buffer(void **state)
{
	struct nvmf_trid t;
	char err[8];

	(void)state;
	assert_int_equal(nvmf_trid_parse("bogus:1", &t, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown");
	assert_int_equal(nvmf_trid_parse("bogus:1", &t, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spdk_form),
		cmocka_unit_test(fio_form_with_escapes),
		cmocka_unit_test(case_blanks_ipv6_ignored_keys),
		cmocka_unit_test(defaults_and_opts),
		cmocka_unit_test(bad_keys),
		cmocka_unit_test(bad_tokens),
		cmocka_unit_test(bad_values),
		cmocka_unit_test(traddr_required),
		cmocka_unit_test(short_error_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
