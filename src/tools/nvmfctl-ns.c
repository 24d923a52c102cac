/*
 * nvmfctl ns: a subsystem's namespaces (nvmf_subsystem_add_ns / remove_ns), on a bdev
 * that exists or on one made for it in the same command (--ram, --null, --file,
 * --device: the way nvmetcli users think of a namespace, a device path), and their list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/nvmfctl.h"

static int ns_add(int argc, char **argv)
{
	const char *uuid = NULL, *nguid = NULL, *ram = NULL, *null = NULL, *file = NULL;
	const char *dev = NULL, *bdev_name = NULL;
	unsigned nsid = 0, grp = 0, bs = 0;
	bool aio = false, ro = false;
	const struct cli_opt opts[] = {
		{ "nsid", 0, CLI_UINT, &nsid, "N", "namespace ID (default: the lowest free)" },
		{ "uuid", 0, CLI_STR, &uuid, "UUID", "namespace UUID (default: generated)" },
		{ "nguid", 0, CLI_STR, &nguid, "NGUID", "namespace NGUID (32 hex digits)" },
		{ "anagrpid", 0, CLI_UINT, &grp, "N", "ANA group (default 1)" },
		{ "ram", 0, CLI_STR, &ram, "SIZE", "on a new RAM bdev of SIZE" },
		{ "null", 0, CLI_STR, &null, "SIZE", "on a new null bdev of SIZE" },
		{ "file", 0, CLI_STR, &file, "PATH", "on a new bdev on a file (it must exist)" },
		{ "device", 0, CLI_STR, &dev, "DEV", "on a new bdev on a block device" },
		{ "bdev-name", 0, CLI_STR, &bdev_name, "NAME",
		  "the new bdev's name (default: Malloc0, Null0, File0, ...)" },
		{ "block-size", 0, CLI_UINT, &bs, "512|4096", "the new bdev's block size" },
		{ "aio", 0, CLI_FLAG, &aio, NULL, "--file/--device with bdev_aio_create" },
		{ "readonly", 0, CLI_FLAG, &ro, NULL, "--file/--device: refuse writes" },
		CLI_END,
	};
	struct json_object *p, *ns, *res = NULL;
	int nnew, rc;
	char *pos[2], *made = NULL;

	CTL_ARGS("NQN BDEV | NQN --ram SIZE|--null SIZE|--file PATH|--device DEV [options]",
		 "Add a namespace on bdev BDEV, or on a new bdev.", opts, argc, argv, 1, 1, pos);
	nnew = !!ram + !!null + !!file + !!dev;
	if (nnew > 1 || (nnew == 1) == !!pos[1]) {
		cli_err("give either BDEV or one of --ram, --null, --file, --device");
		return CTL_EXIT_USAGE;
	}
	if (nnew) {
		enum ctl_bdev_kind k = ram ? CTL_BDEV_RAM : null ? CTL_BDEV_NULL
					 : aio ? CTL_BDEV_AIO : CTL_BDEV_URING;

		rc = ctl_bdev_create(k, bdev_name, ram ? ram : null ? null : file ? file : dev, bs,
				     ro, &made);
		if (rc)
			return rc;
	}
	p = ctl_obj_str("nqn", pos[0]);
	ns = ctl_obj_str("bdev_name", made ? made : pos[1]);
	json_object_object_add(p, "namespace", ns);
	if (nsid)
		json_object_object_add(ns, "nsid", json_object_new_int64(nsid));
	if (uuid)
		json_object_object_add(ns, "uuid", json_object_new_string(uuid));
	if (nguid)
		json_object_object_add(ns, "nguid", json_object_new_string(nguid));
	if (grp)
		json_object_object_add(ns, "anagrpid", json_object_new_int64(grp));
	rc = ctl_call("nvmf_subsystem_add_ns", p, &res);
	if (rc && made) {
		/* the bdev was made for this namespace only: do not leave it behind */
		ctl_bdev_delete(made);
	} else if (!rc && ctl.json) {
		ctl_print_json(res);
	} else if (!rc) {
		printf("nsid %lld on bdev %s\n", (long long)json_object_get_int64(res),
		       made ? made : pos[1]);
	}
	json_object_put(res);
	free(made);
	return rc;
}

static int ns_remove(int argc, char **argv)
{
	struct json_object *p;
	char *pos[2], *end;
	unsigned long nsid;

	CTL_ARGS("NQN NSID", "Remove a namespace (its bdev stays: bdev remove).", NULL, argc,
		 argv, 2, 0, pos);
	nsid = strtoul(pos[1], &end, 0);
	if (*end || !nsid || nsid > 0xfffffffe || pos[1][0] == '-') {
		cli_err("NSID '%s' is not 1..4294967294", pos[1]);
		return CTL_EXIT_USAGE;
	}
	p = ctl_obj_str("nqn", pos[0]);
	json_object_object_add(p, "nsid", json_object_new_int64((int64_t)nsid));
	return ctl_call("nvmf_subsystem_remove_ns", p, NULL);
}

static int ns_list(int argc, char **argv)
{
	static const char *const head[] = { "NSID", "BDEV", "ANAGRPID", "UUID", "NGUID" };
	struct json_object *res, *nss;
	struct ctl_table *t;
	char *pos[1];
	int rc;

	CTL_ARGS("NQN", "List a subsystem's namespaces.", NULL, argc, argv, 1, 0, pos);
	rc = ctl_call("nvmf_get_subsystems", ctl_obj_str("nqn", pos[0]), &res);
	if (rc)
		return rc;
	nss = ctl_jget(ctl_jidx(res, 0), "namespaces");
	if (ctl.json) {
		struct json_object *o = nss ? json_object_get(nss) : json_object_new_array();

		ctl_print_json(o);
		json_object_put(o);
		json_object_put(res);
		return 0;
	}
	t = ctl_table_new(5, head);
	for (size_t i = 0; i < ctl_jlen(nss); i++) {
		struct json_object *n = ctl_jidx(nss, i);
		char id[16], grp[16];
		const char *row[5];

		snprintf(id, sizeof(id), "%lld", (long long)ctl_jint(n, "nsid"));
		snprintf(grp, sizeof(grp), "%lld", (long long)ctl_jint(n, "anagrpid"));
		row[0] = id;
		row[1] = ctl_jstr(n, "bdev_name");
		row[2] = grp;
		row[3] = ctl_jstr(n, "uuid");
		row[4] = ctl_jstr(n, "nguid");
		ctl_table_row(t, row);
	}
	ctl_table_print(t);
	json_object_put(res);
	return 0;
}

static const struct ctl_action acts[] = {
	{ "add", ns_add,
	  "NQN BDEV | NQN --ram SIZE|--null SIZE|--file PATH|--device DEV "
	  "[--nsid N] [--uuid U] [--nguid G] [--anagrpid A]",
	  "add a namespace (nvmf_subsystem_add_ns), on a new bdev with --ram ... --device" },
	{ "remove", ns_remove, "NQN NSID", "remove a namespace (nvmf_subsystem_remove_ns)" },
	{ "list", ns_list, "NQN", "a subsystem's namespaces" },
	{ NULL, NULL, NULL, NULL },
};

int ctl_ns_main(int argc, char **argv)
{
	return ctl_dispatch("ns", acts, argc, argv);
}
