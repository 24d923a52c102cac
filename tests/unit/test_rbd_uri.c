/*
 * The rbd: device path (backend/rbd_uri.c): the forms config.json and --file take, every
 * malformed one refused with the reason, and the path the JSON-RPC builds from
 * bdev_rbd_create's parameters parsed back to the same parts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "backend/rbd_uri.h"

static void plain_and_namespace(void **state)
{
	struct nvmf_rbd_uri u;
	char err[256];

	(void)state;
	assert_int_equal(nvmf_rbd_uri_parse("rbd:pool/img", &u, err, sizeof(err)), 0);
	assert_string_equal(u.pool, "pool");
	assert_null(u.ns);
	assert_string_equal(u.image, "img");
	assert_null(u.conf);
	assert_null(u.id);
	assert_int_equal(u.timeout_s, NVMF_RBD_TIMEOUT_DEFAULT);
	nvmf_rbd_uri_free(&u);

	assert_int_equal(nvmf_rbd_uri_parse("rbd:p/ns1/i?conf=/etc/ceph/x.conf&id=gw&keyring="
					    "/k&cluster=c2&timeout=5&mon_host=1.2.3.4&key=AQ==",
					    &u, err, sizeof(err)), 0);
	assert_string_equal(u.pool, "p");
	assert_string_equal(u.ns, "ns1");
	assert_string_equal(u.image, "i");
	assert_string_equal(u.conf, "/etc/ceph/x.conf");
	assert_string_equal(u.id, "gw");
	assert_string_equal(u.keyring, "/k");
	assert_string_equal(u.cluster, "c2");
	assert_int_equal(u.timeout_s, 5);
	assert_int_equal(u.nr_opts, 2);
	assert_string_equal(u.opt_key[0], "mon_host");
	assert_string_equal(u.opt_val[0], "1.2.3.4");
	/* a value may hold '=' (base64 keys) */
	assert_string_equal(u.opt_key[1], "key");
	assert_string_equal(u.opt_val[1], "AQ==");
	assert_false(u.gateway);
	nvmf_rbd_uri_free(&u);
	/* a gateway pair's namespace: ours, not a librados option */
	assert_int_equal(nvmf_rbd_uri_parse("rbd:p/i?gateway=1&timeout=5", &u, err, sizeof(err)),
			 0);
	assert_true(u.gateway);
	assert_int_equal(u.nr_opts, 0);
	nvmf_rbd_uri_free(&u);
	assert_int_equal(nvmf_rbd_uri_parse("rbd:p/i?gateway=0", &u, err, sizeof(err)), 0);
	assert_false(u.gateway);
	nvmf_rbd_uri_free(&u);
	assert_true(nvmf_bdev_path_is_rbd("rbd:a/b"));
	assert_false(nvmf_bdev_path_is_rbd("/dev/rbd0"));
	assert_false(nvmf_bdev_path_is_rbd(NULL));
}

static void malformed(void **state)
{
	static const struct {
		const char *path, *why;
	} cases[] = {
		{ "rbd:", "needs a pool and an image" },
		{ "rbd:pool", "needs a pool and an image" },
		{ "rbd:pool/", "empty" },
		{ "rbd:/img", "empty" },
		{ "rbd:a//b", "empty" },
		{ "rbd:a/b/c/d", "more than" },
		{ "rbd:a/b?conf", "KEY=VALUE" },
		{ "rbd:a/b?conf=", "no value" },
		{ "rbd:a/b?=x", "no key" },
		{ "rbd:a/b?id=x&id=y", "twice" },
		{ "rbd:a/b?timeout=0", "timeout" },
		{ "rbd:a/b?timeout=-1", "timeout" },
		{ "rbd:a/b?timeout=5s", "timeout" },
		{ "rbd:a/b?timeout=3601", "timeout" },
		{ "rbd:a/b?gateway=yes", "gateway=yes is not 0 or 1" },
		{ "rbd:a/b?gateway=", "no value" },
		{ "file:/x", "not an rbd" },
	};
	struct nvmf_rbd_uri u;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_not_equal(nvmf_rbd_uri_parse(cases[i].path, &u, err, sizeof(err)), 0);
		if (!strstr(err, cases[i].why))
			fail_msg("%s: \"%s\", want \"%s\"", cases[i].path, err, cases[i].why);
		assert_null(u.buf);
	}
}

static void format_round_trip(void **state)
{
	struct nvmf_rbd_uri in = { .pool = "rbd", .ns = "tenant", .image = "disk1",
				   .conf = "/c.conf", .id = "gw", .timeout_s = 7 }, out;
	char err[256], *path;

	(void)state;
	in.opt_key[0] = "rbd_cache";
	in.opt_val[0] = "false";
	in.nr_opts = 1;
	path = nvmf_rbd_uri_format(&in, err, sizeof(err));
	assert_non_null(path);
	assert_string_equal(path, "rbd:rbd/tenant/disk1?conf=/c.conf&id=gw&timeout=7&"
			    "rbd_cache=false");
	assert_int_equal(nvmf_rbd_uri_parse(path, &out, err, sizeof(err)), 0);
	assert_string_equal(out.ns, "tenant");
	assert_string_equal(out.opt_val[0], "false");
	assert_int_equal(out.timeout_s, 7);
	nvmf_rbd_uri_free(&out);
	free(path);

	in = (struct nvmf_rbd_uri){ .pool = "p", .image = "i", .gateway = true };
	path = nvmf_rbd_uri_format(&in, err, sizeof(err));
	assert_string_equal(path, "rbd:p/i?gateway=1");
	assert_int_equal(nvmf_rbd_uri_parse(path, &out, err, sizeof(err)), 0);
	assert_true(out.gateway);
	nvmf_rbd_uri_free(&out);
	free(path);

	/* nothing optional: the bare form */
	in = (struct nvmf_rbd_uri){ .pool = "p", .image = "i" };
	path = nvmf_rbd_uri_format(&in, err, sizeof(err));
	assert_string_equal(path, "rbd:p/i");
	free(path);

	/* what cannot be written in the form is refused, not mangled */
	in = (struct nvmf_rbd_uri){ .pool = "p", .image = "a/b" };
	assert_null(nvmf_rbd_uri_format(&in, err, sizeof(err)));
	assert_non_null(strstr(err, "a/b"));
	in = (struct nvmf_rbd_uri){ .pool = "p", .image = "i", .keyring = "/k&x" };
	assert_null(nvmf_rbd_uri_format(&in, err, sizeof(err)));
	in = (struct nvmf_rbd_uri){ .pool = "", .image = "i" };
	assert_null(nvmf_rbd_uri_format(&in, err, sizeof(err)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_and_namespace),
		cmocka_unit_test(malformed),
		cmocka_unit_test(format_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
