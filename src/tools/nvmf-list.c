/*
 * nvmf list: the connected controllers' namespaces, in `nvme list`'s columns (Node,
 * Generic, SN, Model, Namespace, Usage, Format, FW Rev) or its JSON ("Devices"), from
 * the state files the daemons keep (identify data as read at connect).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/nvmf.h"

static const char dash[] = "----------------------------------------";

static void node_names(const struct ctrl_state *s, const struct ns_state *ns, char *node,
		       char *generic, size_t len)
{
	if (ns->ublk_id >= 0) {
		snprintf(node, len, "/dev/ublkb%d", ns->ublk_id);
		snprintf(generic, len, "/dev/ublkc%d", ns->ublk_id);
	} else {
		/* held without a block device (--no-ublk): named like nvme's nvmeXnY */
		snprintf(node, len, "%sn%u", s->name, ns->nsid);
		snprintf(generic, len, "-");
	}
}

static void list_normal(const struct ctrl_state *s, int n)
{
	printf("%-21s %-21s %-20s %-40s %-10s %-26s %-16s %-8s\n", "Node", "Generic", "SN",
	       "Model", "Namespace", "Usage", "Format", "FW Rev");
	printf("%-.21s %-.21s %-.20s %-.40s %-.10s %-.26s %-.16s %-.8s\n", dash, dash, dash, dash,
	       dash, dash, dash, dash);
	for (int i = 0; i < n; i++) {
		for (unsigned j = 0; j < s[i].nr_ns; j++) {
			const struct ns_state *ns = &s[i].ns[j];
			double size = (double)ns->nsze * ns->block_size;
			double used = (double)ns->nuse * ns->block_size;
			double lba = ns->block_size;
			const char *su = si_suffix(&size), *uu = si_suffix(&used);
			const char *lu = bin_suffix(&lba);
			char node[64], generic[64], nsid[16], usage[64], format[64];

			node_names(&s[i], ns, node, generic, sizeof(node));
			snprintf(nsid, sizeof(nsid), "0x%x", ns->nsid);
			snprintf(usage, sizeof(usage), "%6.2f %2sB / %6.2f %2sB", used, uu, size, su);
			snprintf(format, sizeof(format), "%3.0f %2sB + %2u B", lba, lu, ns->ms);
			printf("%-21s %-21s %-20s %-40s %-10s %-26s %-16s %-8s\n", node, generic,
			       s[i].sn, s[i].mn, nsid, usage, format, s[i].fr);
		}
	}
}

/*
 * Multipath namespaces (a daemon's controller and the paths it was given): each subsystem
 * with its iopolicy and its controllers, as `nvme list-subsys` shows them - address,
 * controller ID, state, ANA state.
 */
static void list_paths(const struct ctrl_state *s, int n)
{
	bool any = false;

	for (int i = 0; i < n; i++)
		any |= s[i].path_of[0] != 0;
	if (!any)
		return;
	for (int i = 0; i < n; i++) {
		if (s[i].path_of[0])
			continue;
		printf("\n%s%s%s\n", s[i].subnqn, s[i].iopolicy[0] ? " iopolicy=" : "",
		       s[i].iopolicy);
		for (int k = 0; k < n; k++) {
			if (k != i && strcmp(s[k].path_of, s[i].name))
				continue;
			printf(" +- %s tcp traddr=%s,trsvcid=%s%s%s%s%s cntlid %u %s%s%s\n",
			       s[k].name, s[k].traddr, s[k].trsvcid,
			       s[k].host_traddr[0] ? ",host_traddr=" : "", s[k].host_traddr,
			       s[k].tls ? " tls" : "", s[k].mptcp ? " mptcp" : "", s[k].cntlid,
			       s[k].state, s[k].ana[0] ? " " : "", s[k].ana);
		}
	}
}

static void list_json(const struct ctrl_state *s, int n)
{
	json_object *root = json_object_new_object();
	json_object *devs = json_object_new_array();
	json_object *ctrls = json_object_new_array();

	for (int i = 0; i < n; i++) {
		json_object *c = json_object_new_object();
		json_object *nss = json_object_new_array();
		char addr[640];

		snprintf(addr, sizeof(addr), "traddr=%s,trsvcid=%s%s%s", s[i].traddr, s[i].trsvcid,
			 s[i].host_traddr[0] ? ",host_traddr=" : "", s[i].host_traddr);
		for (unsigned j = 0; j < s[i].nr_ns; j++) {
			const struct ns_state *ns = &s[i].ns[j];
			json_object *d = json_object_new_object();
			char node[64], generic[64];

			node_names(&s[i], ns, node, generic, sizeof(node));
			json_object_object_add(d, "NameSpace", json_object_new_int64(ns->nsid));
			json_object_object_add(d, "DevicePath", json_object_new_string(node));
			json_object_object_add(d, "GenericPath", json_object_new_string(generic));
			json_object_object_add(d, "Firmware", json_object_new_string(s[i].fr));
			json_object_object_add(d, "ModelNumber", json_object_new_string(s[i].mn));
			json_object_object_add(d, "SerialNumber", json_object_new_string(s[i].sn));
			json_object_object_add(d, "UsedBytes",
					       json_object_new_uint64(ns->nuse * ns->block_size));
			json_object_object_add(d, "MaximumLBA", json_object_new_uint64(ns->nsze));
			json_object_object_add(d, "PhysicalSize",
					       json_object_new_uint64(ns->nsze * ns->block_size));
			json_object_object_add(d, "SectorSize", json_object_new_int64(ns->block_size));
			json_object_object_add(d, "Controller", json_object_new_string(s[i].name));
			json_object_object_add(d, "SubsystemNQN", json_object_new_string(s[i].subnqn));
			json_object_array_add(devs, d);
			json_object_array_add(nss, json_object_new_int64(ns->nsid));
		}
		json_object_object_add(c, "Controller", json_object_new_string(s[i].name));
		json_object_object_add(c, "Cntlid", json_object_new_int64(s[i].cntlid));
		json_object_object_add(c, "SubsystemNQN", json_object_new_string(s[i].subnqn));
		json_object_object_add(c, "Transport", json_object_new_string("tcp"));
		json_object_object_add(c, "Address", json_object_new_string(addr));
		json_object_object_add(c, "HostNQN", json_object_new_string(s[i].hostnqn));
		json_object_object_add(c, "State", json_object_new_string(s[i].state));
		json_object_object_add(c, "TLS", json_object_new_boolean(s[i].tls));
		json_object_object_add(c, "MPTCP", json_object_new_boolean(s[i].mptcp));
		if (s[i].ana[0])
			json_object_object_add(c, "ANAState", json_object_new_string(s[i].ana));
		/* a path of another controller's namespaces (same block devices) */
		if (s[i].path_of[0])
			json_object_object_add(c, "PathOf", json_object_new_string(s[i].path_of));
		else if (s[i].iopolicy[0])
			json_object_object_add(c, "IOPolicy", json_object_new_string(s[i].iopolicy));
		json_object_object_add(c, "SerialNumber", json_object_new_string(s[i].sn));
		json_object_object_add(c, "ModelNumber", json_object_new_string(s[i].mn));
		json_object_object_add(c, "Firmware", json_object_new_string(s[i].fr));
		json_object_object_add(c, "Pid", json_object_new_int64(s[i].pid));
		json_object_object_add(c, "Log", json_object_new_string(s[i].log));
		json_object_object_add(c, "Namespaces", nss);
		json_object_array_add(ctrls, c);
	}
	json_object_object_add(root, "Devices", devs);
	json_object_object_add(root, "Controllers", ctrls);
	printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

int cmd_list(int argc, char **argv)
{
	const char *output = "normal";
	const struct cli_opt opts[] = {
		{ "output-format", 'o', CLI_FMT, &output, "FMT", "normal|json" },
		CLI_END,
	};
	struct ctrl_state *s = NULL;
	int n, fmt, rc;

	rc = cli_parse("[-o normal|json]", "List the namespaces of connected controllers.", opts,
		       argc, argv);
	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	fmt = parse_output(output, false);
	if (fmt < 0)
		return EXIT_USAGE;
	n = states_live(&s);
	if (n < 0) {
		cli_err("%s: %s", run_dir(), strerror(-n));
		return 1;
	}
	if (fmt == OUT_JSON)
		list_json(s, n);
	else {
		list_normal(s, n);
		list_paths(s, n);
	}
	states_free(s, n);
	return 0;
}
