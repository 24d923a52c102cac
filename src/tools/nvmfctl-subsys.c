/*
 * nvmfctl subsystem and host: create, delete and list subsystems
 * (nvmf_create_subsystem, nvmf_delete_subsystem, nvmf_get_subsystems) and edit which
 * hosts one admits (nvmf_subsystem_add_host / remove_host / allow_any_host).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/nvmfctl.h"

static int subsys_add(int argc, char **argv)
{
	const char *serial = NULL, *model = NULL;
	bool any = false, ana = false;
	unsigned max_ns = 0;
	const struct cli_opt opts[] = {
		{ "serial", 0, CLI_STR, &serial, "S", "serial number (default: generated)" },
		{ "model", 0, CLI_STR, &model, "M", "model number" },
		{ "allow-any-host", 0, CLI_FLAG, &any, NULL, "admit every host" },
		{ "ana-reporting", 0, CLI_FLAG, &ana, NULL, "report ANA states to hosts" },
		{ "max-namespaces", 0, CLI_UINT, &max_ns, "N", "most namespaces (0: no limit)" },
		CLI_END,
	};
	struct json_object *p;
	char *pos[1];

	CTL_ARGS("NQN [options]", "Create a subsystem.", opts, argc, argv, 1, 0, pos);
	p = ctl_obj_str("nqn", pos[0]);
	if (serial)
		json_object_object_add(p, "serial_number", json_object_new_string(serial));
	if (model)
		json_object_object_add(p, "model_number", json_object_new_string(model));
	if (any)
		json_object_object_add(p, "allow_any_host", json_object_new_boolean(1));
	if (ana)
		json_object_object_add(p, "ana_reporting", json_object_new_boolean(1));
	if (max_ns)
		json_object_object_add(p, "max_namespaces", json_object_new_int64(max_ns));
	return ctl_call("nvmf_create_subsystem", p, NULL);
}

static int subsys_remove(int argc, char **argv)
{
	char *pos[1];

	CTL_ARGS("NQN", "Delete a subsystem (its controllers are disconnected).", NULL, argc,
		 argv, 1, 0, pos);
	return ctl_call("nvmf_delete_subsystem", ctl_obj_str("nqn", pos[0]), NULL);
}

/* "a, b, c" of the strings each element of arr yields */
static char *join(struct json_object *arr, void (*fmt)(struct json_object *, char *, size_t))
{
	size_t len = 1, n = ctl_jlen(arr);
	char *out = calloc(1, 1), one[512];

	for (size_t i = 0; out && i < n; i++) {
		char *grown;

		fmt(ctl_jidx(arr, i), one, sizeof(one));
		grown = realloc(out, len + strlen(one) + 2);
		if (!grown) {
			free(out);
			return NULL;
		}
		out = grown;
		if (i)
			strcat(out, ",");
		strcat(out, one);
		len += strlen(one) + 1;
	}
	return out;
}

static void fmt_host(struct json_object *h, char *buf, size_t len)
{
	snprintf(buf, len, "%s", ctl_jstr(h, "nqn"));
}

static void fmt_ns(struct json_object *n, char *buf, size_t len)
{
	snprintf(buf, len, "%lld:%s", (long long)ctl_jint(n, "nsid"), ctl_jstr(n, "bdev_name"));
}

static int subsys_list(int argc, char **argv)
{
	static const char *const head[] = {
		"NQN", "TYPE", "SERIAL", "MODEL", "HOSTS", "NAMESPACES", "LISTENERS",
	};
	struct json_object *res;
	struct ctl_table *t;
	char *pos[1];
	int rc;

	CTL_ARGS("[NQN]", "List subsystems (one: NQN) with their hosts, namespaces (NSID:BDEV) "
		 "and listeners.", NULL, argc, argv, 0, 1, pos);
	rc = ctl_call_list("nvmf_get_subsystems", pos[0] ? ctl_obj_str("nqn", pos[0]) : NULL, &res);
	if (rc || !res)
		return rc;
	t = ctl_table_new(7, head);
	for (size_t i = 0; i < ctl_jlen(res); i++) {
		struct json_object *s = ctl_jidx(res, i);
		bool any = json_object_get_boolean(ctl_jget(s, "allow_any_host"));
		char *hosts = join(ctl_jget(s, "hosts"), fmt_host);
		char *nss = join(ctl_jget(s, "namespaces"), fmt_ns);
		char *ls = join(ctl_jget(s, "listen_addresses"), ctl_fmt_addr);
		const char *row[] = {
			ctl_jstr(s, "nqn"), ctl_jstr(s, "subtype"), ctl_jstr(s, "serial_number"),
			ctl_jstr(s, "model_number"), any ? "any" : hosts, nss, ls,
		};

		ctl_table_row(t, row);
		free(hosts);
		free(nss);
		free(ls);
	}
	ctl_table_print(t);
	json_object_put(res);
	return 0;
}

static const struct ctl_action subsys_acts[] = {
	{ "add", subsys_add,
	  "NQN [--serial S] [--model M] [--allow-any-host] [--ana-reporting] [--max-namespaces N]",
	  "create a subsystem (nvmf_create_subsystem)" },
	{ "remove", subsys_remove, "NQN", "delete a subsystem (nvmf_delete_subsystem)" },
	{ "list", subsys_list, "[NQN]", "list subsystems (nvmf_get_subsystems)" },
	{ NULL, NULL, NULL, NULL },
};

int ctl_subsystem_main(int argc, char **argv)
{
	return ctl_dispatch("subsystem", subsys_acts, argc, argv);
}

/* ------------------------------------------------------------------ hosts */

static int host_edit(int argc, char **argv, const char *method, const char *help)
{
	struct json_object *p;
	char *pos[2];

	CTL_ARGS("NQN HOSTNQN", help, NULL, argc, argv, 2, 0, pos);
	p = ctl_obj_str("nqn", pos[0]);
	json_object_object_add(p, "host", json_object_new_string(pos[1]));
	return ctl_call(method, p, NULL);
}

static int host_add(int argc, char **argv)
{
	return host_edit(argc, argv, "nvmf_subsystem_add_host", "Admit a host.");
}

static int host_remove(int argc, char **argv)
{
	return host_edit(argc, argv, "nvmf_subsystem_remove_host",
			 "Stop admitting a host (its controllers are disconnected).");
}

static int host_allow_any(int argc, char **argv)
{
	struct json_object *p;
	char *pos[2];
	bool on;

	CTL_ARGS("NQN on|off", "Admit every host (on), or only the listed ones (off).", NULL,
		 argc, argv, 2, 0, pos);
	on = !strcmp(pos[1], "on") || !strcmp(pos[1], "yes") || !strcmp(pos[1], "1");
	if (!on && strcmp(pos[1], "off") && strcmp(pos[1], "no") && strcmp(pos[1], "0")) {
		cli_err("'%s': on or off", pos[1]);
		return CTL_EXIT_USAGE;
	}
	p = ctl_obj_str("nqn", pos[0]);
	json_object_object_add(p, "allow_any_host", json_object_new_boolean(on));
	return ctl_call("nvmf_subsystem_allow_any_host", p, NULL);
}

static int host_list(int argc, char **argv)
{
	static const char *const head[] = { "HOSTNQN" };
	struct json_object *res, *s;
	struct ctl_table *t;
	char *pos[1];
	int rc;

	CTL_ARGS("NQN", "List the hosts a subsystem admits.", NULL, argc, argv, 1, 0, pos);
	rc = ctl_call("nvmf_get_subsystems", ctl_obj_str("nqn", pos[0]), &res);
	if (rc)
		return rc;
	s = ctl_jidx(res, 0);
	if (ctl.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "allow_any_host",
				       json_object_get(ctl_jget(s, "allow_any_host")));
		json_object_object_add(o, "hosts", json_object_get(ctl_jget(s, "hosts")));
		ctl_print_json(o);
		json_object_put(o);
	} else {
		if (json_object_get_boolean(ctl_jget(s, "allow_any_host")))
			printf("any host is admitted\n");
		t = ctl_table_new(1, head);
		for (size_t i = 0; i < ctl_jlen(ctl_jget(s, "hosts")); i++) {
			const char *row[] = {
				ctl_jstr(ctl_jidx(ctl_jget(s, "hosts"), i), "nqn"),
			};

			ctl_table_row(t, row);
		}
		ctl_table_print(t);
	}
	json_object_put(res);
	return 0;
}

static const struct ctl_action host_acts[] = {
	{ "add", host_add, "NQN HOSTNQN", "admit a host (nvmf_subsystem_add_host)" },
	{ "remove", host_remove, "NQN HOSTNQN", "stop admitting a host (remove_host)" },
	{ "allow-any", host_allow_any, "NQN on|off",
	  "admit every host or only the listed (nvmf_subsystem_allow_any_host)" },
	{ "list", host_list, "NQN", "the hosts a subsystem admits" },
	{ NULL, NULL, NULL, NULL },
};

int ctl_host_main(int argc, char **argv)
{
	return ctl_dispatch("host", host_acts, argc, argv);
}
