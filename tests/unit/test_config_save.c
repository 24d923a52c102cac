/*
 * Tests of the configuration writer (config_save.c): what it writes loads back to the same
 * model (kernel dumps included: writing is a fixed point after one round), RAM and null
 * namespaces keep their backend and size through our device.* keys, and files are written
 * atomically with the mode their secrets call for.
 * Runs from tests/unit (meson workdir), so fixtures are under data/config/.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/config.h"

static char err[1024];

static char *text_of(const struct nvmf_cfg *cfg)
{
	struct json_object *j = nvmf_cfg_to_json(cfg);
	char *t;

	assert_non_null(j);
	t = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	assert_non_null(t);
	return t;
}

static struct nvmf_cfg *reload(const char *text)
{
	struct nvmf_cfg *cfg = NULL;

	if (nvmf_cfg_load_string(text, "written", &cfg, err, sizeof(err)))
		fail_msg("what the writer wrote does not load: %s", err);
	return cfg;
}

/* Every kernel dump: load, write, load: the model is the same, and writing again is too. */
static void test_fixtures_round_trip(void **state)
{
	static const char *const files[] = {
		"data/config/full.json", "data/config/minimal.json", "data/config/old-kernel.json",
	};

	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		struct nvmf_cfg *a = NULL, *b;
		char *ta, *tb;

		assert_int_equal(nvmf_cfg_load_file(files[f], &a, err, sizeof(err)), 0);
		ta = text_of(a);
		b = reload(ta);
		tb = text_of(b);
		assert_string_equal(ta, tb);
		assert_int_equal(a->nr_subsystems, b->nr_subsystems);
		assert_int_equal(a->nr_ports, b->nr_ports);
		assert_int_equal(a->nr_hosts, b->nr_hosts);
		assert_string_equal(a->discovery_nqn, b->discovery_nqn);
		for (size_t i = 0; i < a->nr_subsystems; i++) {
			const struct nvmf_cfg_subsys *x = &a->subsystems[i], *y = &b->subsystems[i];

			assert_string_equal(x->nqn, y->nqn);
			assert_int_equal(x->allow_any_host, y->allow_any_host);
			assert_string_equal(x->serial, y->serial);
			assert_int_equal(x->version, y->version);
			assert_int_equal(x->nr_allowed_hosts, y->nr_allowed_hosts);
			assert_int_equal(x->nr_namespaces, y->nr_namespaces);
			for (size_t k = 0; k < x->nr_namespaces; k++) {
				assert_int_equal(x->namespaces[k].nsid, y->namespaces[k].nsid);
				assert_int_equal(x->namespaces[k].enable, y->namespaces[k].enable);
				assert_string_equal(x->namespaces[k].path, y->namespaces[k].path);
				assert_int_equal(x->namespaces[k].has_uuid, y->namespaces[k].has_uuid);
				assert_memory_equal(x->namespaces[k].uuid, y->namespaces[k].uuid, 16);
				assert_int_equal(x->namespaces[k].ana_grpid,
						 y->namespaces[k].ana_grpid);
			}
		}
		for (size_t i = 0; i < a->nr_ports; i++) {
			const struct nvmf_cfg_port *x = &a->ports[i], *y = &b->ports[i];

			assert_int_equal(x->portid, y->portid);
			assert_int_equal(x->enabled, y->enabled);
			assert_string_equal(x->traddr, y->traddr);
			assert_int_equal(x->inline_data_size, y->inline_data_size);
			assert_int_equal(x->nr_ana_groups, y->nr_ana_groups);
			assert_int_equal(x->nr_referrals, y->nr_referrals);
		}
		free(ta);
		free(tb);
		nvmf_cfg_free(a);
		nvmf_cfg_free(b);
	}
}

static const char ram_cfg[] =
	"{\"subsystems\":[{\"nqn\":\"nqn.2016-06.io.spdk:cnode1\","
	"\"attr\":{\"allow_any_host\":\"1\"},"
	"\"namespaces\":[{\"nsid\":1,\"enable\":1,\"device\":{\"path\":\"\",\"backend\":\"ram\","
	"\"size\":1048576,\"block_size\":4096,\"bdev\":\"Malloc0\",\"lazy\":1}},"
	"{\"nsid\":2,\"enable\":1,\"device\":{\"path\":\"\",\"backend\":\"null\","
	"\"size\":4096}}]}]}";

/* Our keys: what bdev_malloc_create / bdev_null_create made comes back after --save. */
static void test_ram_and_null_namespaces(void **state)
{
	struct nvmf_cfg *a = reload(ram_cfg), *b;
	char *t;

	(void)state;
	assert_int_equal(a->subsystems[0].namespaces[0].backend, NVMF_BACKEND_RAM);
	assert_int_equal(a->subsystems[0].namespaces[0].size, 1048576);
	assert_int_equal(a->subsystems[0].namespaces[0].block_size, 4096);
	assert_string_equal(a->subsystems[0].namespaces[0].bdev_name, "Malloc0");
	assert_true(a->subsystems[0].namespaces[0].lazy);	/* device.lazy: --ram-lazy */
	assert_int_equal(a->subsystems[0].namespaces[1].backend, NVMF_BACKEND_NULL);
	assert_false(a->subsystems[0].namespaces[1].lazy);
	assert_string_equal(a->subsystems[0].namespaces[1].bdev_name, "");
	t = text_of(a);
	assert_non_null(strstr(t, "\"backend\":\"ram\""));
	b = reload(t);
	assert_int_equal(b->subsystems[0].namespaces[0].backend, NVMF_BACKEND_RAM);
	assert_int_equal(b->subsystems[0].namespaces[0].size, 1048576);
	assert_int_equal(b->subsystems[0].namespaces[0].block_size, 4096);
	assert_string_equal(b->subsystems[0].namespaces[0].bdev_name, "Malloc0");
	assert_true(b->subsystems[0].namespaces[0].lazy);
	assert_false(b->subsystems[0].namespaces[1].lazy);
	assert_int_equal(b->subsystems[0].namespaces[1].size, 4096);
	free(t);
	nvmf_cfg_free(a);
	nvmf_cfg_free(b);
}

static const char resv_cfg[] =
	"{\"subsystems\":[{\"nqn\":\"nqn.2016-06.io.spdk:cnode1\","
	"\"attr\":{\"allow_any_host\":\"1\"},"
	"\"namespaces\":[{\"nsid\":1,\"enable\":1,\"device\":{\"path\":\"/a.img\"},"
	"\"resv\":{\"enable\":\"1\",\"ptpl_file\":\"/var/lib/a.resv\"}},"
	"{\"nsid\":2,\"enable\":1,\"device\":{\"path\":\"/b.img\"},"
	"\"resv\":{\"enable\":\"0\"}}]}]}";

/* resv.enable (nvmetcli's) and resv.ptpl_file (ours) survive --save; off is left out. */
static void test_resv_keys(void **state)
{
	struct nvmf_cfg *a = reload(resv_cfg), *b;
	char *t;

	(void)state;
	assert_true(a->subsystems[0].namespaces[0].resv_enable);
	assert_string_equal(a->subsystems[0].namespaces[0].resv_ptpl_file, "/var/lib/a.resv");
	assert_false(a->subsystems[0].namespaces[1].resv_enable);
	assert_string_equal(a->subsystems[0].namespaces[1].resv_ptpl_file, "");
	t = text_of(a);
	b = reload(t);
	assert_true(b->subsystems[0].namespaces[0].resv_enable);
	assert_string_equal(b->subsystems[0].namespaces[0].resv_ptpl_file, "/var/lib/a.resv");
	assert_false(b->subsystems[0].namespaces[1].resv_enable);
	free(t);
	nvmf_cfg_free(a);
	nvmf_cfg_free(b);
}

static void test_ram_needs_size(void **state)
{
	struct nvmf_cfg *cfg = NULL;

	(void)state;
	assert_int_equal(nvmf_cfg_load_string(
				 "{\"subsystems\":[{\"nqn\":\"nqn.2016-06.io.spdk:c\",\"namespaces\":"
				 "[{\"nsid\":1,\"enable\":1,\"device\":{\"backend\":\"ram\","
				 "\"size\":1000}}]}]}", "t.json", &cfg, err, sizeof(err)),
			 -EINVAL);
	assert_null(cfg);
	assert_string_equal(err, "t.json: subsystems[0].namespaces[0].device.size: a \"ram\" "
			    "namespace needs a size that is a multiple of 512 bytes");
	assert_int_equal(nvmf_cfg_load_string(
				 "{\"subsystems\":[{\"nqn\":\"nqn.2016-06.io.spdk:c\",\"namespaces\":"
				 "[{\"nsid\":1,\"enable\":1,\"device\":{\"backend\":\"disk\"}}]}]}",
				 "t.json", &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "subsystems[0].namespaces[0].device.backend"));
}

/* Atomic, and 0600 once it holds a DH-HMAC-CHAP secret, whatever the umask. */
static void test_save_file(void **state)
{
	char dir[] = "/tmp/nvmf-cfgsave-XXXXXX", path[64];
	struct nvmf_cfg *a = reload(ram_cfg), *b = NULL;
	struct dirent *de;
	struct stat st;
	DIR *d;
	int n = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	umask(0);
	assert_int_equal(nvmf_cfg_save_file(a, path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(nvmf_cfg_load_file(path, &b, err, sizeof(err)), 0);
	assert_int_equal(b->subsystems[0].nr_namespaces, 2);
	nvmf_cfg_free(b);
	nvmf_cfg_free(a);

	a = reload("{\"hosts\":[{\"nqn\":\"nqn.2014-08.org.nvmexpress:uuid:"
		   "11111111-2222-3333-4444-555555555555\",\"dhchap\":{\"key\":"
		   "\"DHHC-1:00:ia6zGodOr4SEG0Zzaw398rpY0wqipUWj4jWjUh4HWUz6aQ2n:\"}}]}");
	assert_true(nvmf_cfg_has_secrets(a));
	assert_int_equal(nvmf_cfg_save_file(a, path, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(nvmf_cfg_load_file(path, &b, err, sizeof(err)), 0);
	assert_int_equal(nvmf_cfg_check_private(path, b, err, sizeof(err)), 0);
	nvmf_cfg_free(b);
	umask(022);
	/* nothing but the file: no temporary left behind */
	d = opendir(dir);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(n, 1);
	/* a directory that is not there: the error names the file */
	snprintf(path, sizeof(path), "%s/no/config.json", dir);
	assert_int_equal(nvmf_cfg_save_file(a, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/no/config.json: "));
	nvmf_cfg_free(a);
	snprintf(path, sizeof(path), "%s/config.json", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_round_trip),
		cmocka_unit_test(test_ram_and_null_namespaces),
		cmocka_unit_test(test_resv_keys),
		cmocka_unit_test(test_ram_needs_size),
		cmocka_unit_test(test_save_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
