/*
 * nvmfctl port and ana-state: the addresses a subsystem listens on
 * (nvmf_subsystem_add_listener / remove_listener / get_listeners) and a listener's ANA
 * state per group (nvmf_subsystem_listener_set_ana_state).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/nvmfctl.h"

/* {"nqn": NQN, "listen_address": ADDR:PORT's}, or NULL after a message */
static struct json_object *listener_params(const char *nqn, const char *addr)
{
	struct json_object *la = ctl_listen_address(addr), *p;

	if (!la)
		return NULL;
	p = ctl_obj_str("nqn", nqn);
	json_object_object_add(p, "listen_address", la);
	return p;
}

/*
 * SPDK wants nvmf_create_transport before the first listener; nvmet has no such step, so
 * a port added to a target without one creates the TCP transport with its defaults.
 */
static int ensure_transport(void)
{
	struct json_object *ts;
	int rc = ctl_call("nvmf_get_transports", NULL, &ts);
	bool have = false;

	if (rc)
		return rc;
	for (size_t i = 0; i < ctl_jlen(ts); i++)
		have |= !strcasecmp(ctl_jstr(ctl_jidx(ts, i), "trtype"), "tcp");
	json_object_put(ts);
	return have ? 0 : ctl_call("nvmf_create_transport", ctl_obj_str("trtype", "TCP"), NULL);
}

static int port_add(int argc, char **argv)
{
	const char *ana = NULL;
	bool secure = false;
	const struct cli_opt opts[] = {
		{ "ana-state", 0, CLI_STR, &ana, "STATE", "the listener's first ANA state" },
		{ "secure-channel", 0, CLI_FLAG, &secure, NULL, "TLS required on this listener" },
		CLI_END,
	};
	struct json_object *p;
	char *pos[2];
	int rc;

	CTL_ARGS("NQN ADDR:PORT [--ana-state STATE] [--secure-channel]",
		 "Listen for a subsystem on ADDR:PORT (IPv6: [ADDR]:PORT).", opts, argc, argv, 2,
		 0, pos);
	p = listener_params(pos[0], pos[1]);
	if (!p)
		return CTL_EXIT_USAGE;
	if (ana)
		json_object_object_add(p, "ana_state", json_object_new_string(ana));
	if (secure)
		json_object_object_add(p, "secure_channel", json_object_new_boolean(1));
	rc = ensure_transport();
	if (rc) {
		json_object_put(p);
		return rc;
	}
	return ctl_call("nvmf_subsystem_add_listener", p, NULL);
}

static int port_remove(int argc, char **argv)
{
	struct json_object *p;
	char *pos[2];

	CTL_ARGS("NQN ADDR:PORT", "Stop listening for a subsystem on ADDR:PORT.", NULL, argc,
		 argv, 2, 0, pos);
	p = listener_params(pos[0], pos[1]);
	if (!p)
		return CTL_EXIT_USAGE;
	return ctl_call("nvmf_subsystem_remove_listener", p, NULL);
}

static int port_list(int argc, char **argv)
{
	static const char *const head[] = { "ADDRESS", "FAMILY", "ANA" };
	struct json_object *res;
	struct ctl_table *t;
	char *pos[1];
	int rc;

	CTL_ARGS("NQN", "List a subsystem's listeners and their ANA states (GROUP:STATE).",
		 NULL, argc, argv, 1, 0, pos);
	rc = ctl_call_list("nvmf_subsystem_get_listeners", ctl_obj_str("nqn", pos[0]), &res);
	if (rc || !res)
		return rc;
	t = ctl_table_new(3, head);
	for (size_t i = 0; i < ctl_jlen(res); i++) {
		struct json_object *l = ctl_jidx(res, i);
		struct json_object *st = ctl_jget(l, "ana_states");
		char addr[128], ana[512] = "";
		const char *row[3];
		size_t off = 0;

		ctl_fmt_addr(ctl_jget(l, "address"), addr, sizeof(addr));
		for (size_t g = 0; g < ctl_jlen(st) && off < sizeof(ana); g++) {
			struct json_object *e = ctl_jidx(st, g);
			int n = snprintf(ana + off, sizeof(ana) - off, "%s%lld:%s", g ? "," : "",
					 (long long)ctl_jint(e, "ana_group"),
					 ctl_jstr(e, "ana_state"));

			if (n < 0)
				break;
			off += (size_t)n;
		}
		row[0] = addr;
		row[1] = ctl_jstr(ctl_jget(l, "address"), "adrfam");
		row[2] = ana;
		ctl_table_row(t, row);
	}
	ctl_table_print(t);
	json_object_put(res);
	return 0;
}

static const struct ctl_action acts[] = {
	{ "add", port_add, "NQN ADDR:PORT [--ana-state STATE] [--secure-channel]",
	  "listen for a subsystem (nvmf_subsystem_add_listener)" },
	{ "remove", port_remove, "NQN ADDR:PORT",
	  "stop listening (nvmf_subsystem_remove_listener)" },
	{ "list", port_list, "NQN", "a subsystem's listeners (nvmf_subsystem_get_listeners)" },
	{ NULL, NULL, NULL, NULL },
};

int ctl_port_main(int argc, char **argv)
{
	return ctl_dispatch("port", acts, argc, argv);
}

int ctl_ana_state_main(int argc, char **argv)
{
	unsigned grp = 0;
	const struct cli_opt opts[] = {
		{ "anagrpid", 0, CLI_UINT, &grp, "N", "the ANA group (default: every group)" },
		CLI_END,
	};
	struct json_object *p;
	char *pos[3];

	CTL_ARGS("NQN ADDR:PORT STATE [--anagrpid N]",
		 "Set a listener's ANA state: optimized, non_optimized or inaccessible.", opts,
		 argc, argv, 3, 0, pos);
	p = listener_params(pos[0], pos[1]);
	if (!p)
		return CTL_EXIT_USAGE;
	/* nvmet's configfs spells it non-optimized, SPDK non_optimized */
	for (char *c = pos[2]; *c; c++)
		if (*c == '-')
			*c = '_';
	json_object_object_add(p, "ana_state", json_object_new_string(pos[2]));
	if (grp)
		json_object_object_add(p, "anagrpid", json_object_new_int64(grp));
	return ctl_call("nvmf_subsystem_listener_set_ana_state", p, NULL);
}
