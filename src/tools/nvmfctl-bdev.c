/*
 * nvmfctl bdev: the block devices namespaces are built on, SPDK's bdevs as nvmf-target
 * has them: RAM (bdev_malloc_create), null (bdev_null_create), files and block devices
 * (bdev_uring_create, or bdev_aio_create with --aio); remove (the *_delete of its kind,
 * found by bdev_get_bdevs) and list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/nvmfctl.h"

static const struct {
	const char *create, *delete, *product, *prefix;
} kinds[] = {
	[CTL_BDEV_RAM] = { "bdev_malloc_create", "bdev_malloc_delete", "Malloc disk", "Malloc" },
	[CTL_BDEV_NULL] = { "bdev_null_create", "bdev_null_delete", "Null disk", "Null" },
	[CTL_BDEV_URING] = { "bdev_uring_create", "bdev_uring_delete", "URING bdev", "File" },
	[CTL_BDEV_AIO] = { "bdev_aio_create", "bdev_aio_delete", "AIO disk", "File" },
};

/* The first PREFIX<n> no bdev has (SPDK's naming of malloc bdevs), or NULL. */
static char *free_name(const char *prefix)
{
	struct json_object *all;
	char name[64];

	if (ctl_call("bdev_get_bdevs", NULL, &all))
		return NULL;
	for (unsigned n = 0;; n++) {
		bool taken = false;

		snprintf(name, sizeof(name), "%s%u", prefix, n);
		for (size_t i = 0; i < ctl_jlen(all) && !taken; i++)
			taken = !strcmp(ctl_jstr(ctl_jidx(all, i), "name"), name);
		if (!taken)
			break;
	}
	json_object_put(all);
	return strdup(name);
}

int ctl_bdev_create(enum ctl_bdev_kind kind, const char *name, const char *arg,
		    unsigned block_size, bool readonly, char **made)
{
	struct json_object *p = json_object_new_object();
	char *picked = name ? strdup(name) : free_name(kinds[kind].prefix);
	int rc;

	if (!picked) {
		json_object_put(p);
		return CTL_EXIT_FAIL;
	}
	json_object_object_add(p, "name", json_object_new_string(picked));
	if (kind == CTL_BDEV_RAM || kind == CTL_BDEV_NULL) {
		unsigned bs = block_size ? block_size : 512;
		uint64_t size;

		if (ctl_parse_size(arg, "size", &size)) {
			rc = CTL_EXIT_USAGE;
			goto out;
		}
		if (size % bs) {
			cli_err("size %s is not a multiple of the block size %u", arg, bs);
			rc = CTL_EXIT_USAGE;
			goto out;
		}
		json_object_object_add(p, "block_size", json_object_new_int64(bs));
		json_object_object_add(p, "num_blocks", json_object_new_int64((int64_t)(size / bs)));
	} else {
		json_object_object_add(p, "filename", json_object_new_string(arg));
		if (block_size)
			json_object_object_add(p, "block_size", json_object_new_int64(block_size));
		if (readonly)
			json_object_object_add(p, "readonly", json_object_new_boolean(1));
	}
	rc = ctl_call(kinds[kind].create, json_object_get(p), NULL);
out:
	json_object_put(p);
	if (rc) {
		free(picked);
		return rc;
	}
	*made = picked;
	return 0;
}

int ctl_bdev_delete(const char *name)
{
	struct json_object *res;
	const char *product;
	int rc = ctl_call("bdev_get_bdevs", ctl_obj_str("name", name), &res);

	if (rc)
		return rc;
	product = ctl_jstr(ctl_jidx(res, 0), "product_name");
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (!strcmp(product, kinds[k].product)) {
			json_object_put(res);
			return ctl_call(kinds[k].delete, ctl_obj_str("name", name), NULL);
		}
	fprintf(stderr, "nvmfctl: bdev %s: no delete for its kind '%s'\n", name, product);
	json_object_put(res);
	return CTL_EXIT_FAIL;
}

static int add(int argc, char **argv, enum ctl_bdev_kind kind)
{
	bool file = kind == CTL_BDEV_URING, aio = false, ro = false;
	unsigned bs = 0;
	const struct cli_opt mem_opts[] = {
		{ "block-size", 0, CLI_UINT, &bs, "512|4096", "logical block size (default 512)" },
		CLI_END,
	};
	const struct cli_opt file_opts[] = {
		{ "block-size", 0, CLI_UINT, &bs, "512|4096",
		  "logical block size (default: the file's or device's)" },
		{ "aio", 0, CLI_FLAG, &aio, NULL, "bdev_aio_create (default: bdev_uring_create)" },
		{ "readonly", 0, CLI_FLAG, &ro, NULL, "refuse writes" },
		CLI_END,
	};
	char *pos[2], *made = NULL;
	int rc;

	CTL_ARGS(file ? "NAME PATH [--aio] [--block-size N] [--readonly]"
		      : "NAME SIZE [--block-size N]",
		 file ? "Create a bdev on a file or block device (it must exist)."
		      : "Create a bdev of SIZE bytes (K, M, G, T: powers of 1024).",
		 file ? file_opts : mem_opts, argc, argv, 2, 0, pos);
	if (aio)
		kind = CTL_BDEV_AIO;
	rc = ctl_bdev_create(kind, pos[0], pos[1], bs, ro, &made);
	if (!rc && ctl.json) {
		struct json_object *o = json_object_new_string(made);

		ctl_print_json(o);
		json_object_put(o);
	}
	free(made);
	return rc;
}

static int add_ram(int argc, char **argv)
{
	return add(argc, argv, CTL_BDEV_RAM);
}

static int add_null(int argc, char **argv)
{
	return add(argc, argv, CTL_BDEV_NULL);
}

static int add_file(int argc, char **argv)
{
	return add(argc, argv, CTL_BDEV_URING);
}

static int remove_bdev(int argc, char **argv)
{
	char *pos[1];

	CTL_ARGS("NAME", "Delete a bdev; namespaces on it go first.", NULL, argc, argv, 1, 0,
		 pos);
	return ctl_bdev_delete(pos[0]);
}

static int list(int argc, char **argv)
{
	static const char *const head[] = { "NAME", "TYPE", "SIZE", "BLOCK", "CLAIMED", "FILE" };
	struct json_object *res;
	struct ctl_table *t;
	char *pos[1];
	int rc;

	CTL_ARGS("[NAME]", "List bdevs (bdev_get_bdevs).", NULL, argc, argv, 0, 1, pos);
	rc = ctl_call_list("bdev_get_bdevs", pos[0] ? ctl_obj_str("name", pos[0]) : NULL, &res);
	if (rc || !res)
		return rc;
	t = ctl_table_new(6, head);
	for (size_t i = 0; i < ctl_jlen(res); i++) {
		struct json_object *b = ctl_jidx(res, i);
		char size[32], bs[16];
		const char *file = "", *row[6];

		snprintf(size, sizeof(size), "%lld",
			 (long long)(ctl_jint(b, "num_blocks") * ctl_jint(b, "block_size")));
		snprintf(bs, sizeof(bs), "%lld", (long long)ctl_jint(b, "block_size"));
		/* driver_specific: {"aio"|"uring": {"filename": ...}} */
		if (json_object_is_type(ctl_jget(b, "driver_specific"), json_type_object)) {
			json_object_object_foreach(ctl_jget(b, "driver_specific"), k, v) {
				(void)k;
				if (ctl_jget(v, "filename"))
					file = ctl_jstr(v, "filename");
			}
		}
		row[0] = ctl_jstr(b, "name");
		row[1] = ctl_jstr(b, "product_name");
		row[2] = size;
		row[3] = bs;
		row[4] = json_object_get_boolean(ctl_jget(b, "claimed")) ? "yes" : "no";
		row[5] = file;
		ctl_table_row(t, row);
	}
	ctl_table_print(t);
	json_object_put(res);
	return 0;
}

static const struct ctl_action acts[] = {
	{ "add-ram", add_ram, "NAME SIZE [--block-size N]", "a RAM bdev (bdev_malloc_create)" },
	{ "add-null", add_null, "NAME SIZE [--block-size N]",
	  "a null bdev: writes dropped, reads zeros (bdev_null_create)" },
	{ "add-file", add_file, "NAME PATH [--aio] [--block-size N] [--readonly]",
	  "a file or block device (bdev_uring_create, --aio: bdev_aio_create)" },
	{ "remove", remove_bdev, "NAME", "delete a bdev and the namespaces on it" },
	{ "list", list, "[NAME]", "list bdevs (bdev_get_bdevs)" },
	{ NULL, NULL, NULL, NULL },
};

int ctl_bdev_main(int argc, char **argv)
{
	return ctl_dispatch("bdev", acts, argc, argv);
}
