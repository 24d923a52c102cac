/*
 * nvmfctl — manage a running nvmf-target over its JSON-RPC socket (SPDK's methods), in the
 * words of nvmetcli and SPDK's rpc.py: subsystem, ns, bdev, host, port, ana-state,
 * controllers, qpairs, stats, save.  This file: the global options, the verb groups'
 * dispatch and the argument checks every action shares.
 *
 * Exit status: 0 success, 1 the target refused or could not be reached (one line on
 * stderr with the method, message and code), 2 bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc.h"
#include "tools/nvmfctl.h"

#ifndef NVMF_VERSION
#define NVMF_VERSION "unknown"
#endif

const char *cli_prog = "nvmfctl";
const char *cli_verb = "";
struct ctl_opts ctl = { .sock = NVMF_RPC_DEFAULT_SOCK };

static const struct ctl_action groups[] = {
	{ "subsystem", ctl_subsystem_main, "add|remove|list ...", "NVMe subsystems" },
	{ "ns", ctl_ns_main, "add|remove|list ...", "namespaces (and their bdevs, implicitly)" },
	{ "bdev", ctl_bdev_main, "add-ram|add-null|add-file|remove|list ...",
	  "block devices namespaces are built on (RAM, null, files, block devices)" },
	{ "host", ctl_host_main, "add|remove|allow-any|list ...", "hosts a subsystem admits" },
	{ "port", ctl_port_main, "add|remove|list ...", "addresses a subsystem listens on" },
	{ "ana-state", ctl_ana_state_main, "NQN ADDR:PORT STATE [--anagrpid N]",
	  "set a listener's ANA state (optimized, non_optimized, inaccessible)" },
	{ "controllers", ctl_controllers_main, "NQN", "controllers connected to a subsystem" },
	{ "qpairs", ctl_qpairs_main, "NQN", "queue pairs connected to a subsystem" },
	{ "stats", ctl_stats_main, "", "statistics (nvmf_get_stats)" },
	{ "save", ctl_save_main, "", "the configuration as SPDK's JSON (save_config) on stdout" },
	{ "call", ctl_call_main, "METHOD [PARAMS-JSON]",
	  "any JSON-RPC method, as rpc.py's raw calls: the result as JSON" },
	{ NULL, NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: nvmfctl [-s SOCKET] [-o normal|json] COMMAND ...\n"
		"Manage a running nvmf-target over its JSON-RPC socket.\n\n"
		"options (anywhere on the line):\n"
		"  -s, --socket=PATH        the target's socket (default %s)\n"
		"  -o, --output=FMT         normal (tables) or json (the RPC's result)\n"
		"  -h, --help               this help (COMMAND --help: its own)\n"
		"  -V, --version            the version\n\ncommands:\n", NVMF_RPC_DEFAULT_SOCK);
	for (const struct ctl_action *g = groups; g->name; g++)
		fprintf(f, "  %-12s %-36s %s\n", g->name, g->synopsis, g->help);
}

/* An option's value: "-s X", "-sX", "--socket X", "--socket=X"; NULL when arg is not it. */
static const char *global_value(int argc, char **argv, int *i, char s, const char *l)
{
	const char *a = argv[*i];
	size_t n = strlen(l);

	if (a[0] == '-' && a[1] == s)
		return a[2] ? a + 2 : (*i + 1 < argc ? argv[++*i] : "");
	if (a[0] == '-' && a[1] == '-' && !strncmp(a + 2, l, n)) {
		if (a[2 + n] == '=')
			return a + 3 + n;
		if (!a[2 + n])
			return *i + 1 < argc ? argv[++*i] : "";
	}
	return NULL;
}

/*
 * Take -s and -o out of argv wherever they are (before a "--"), so that every action sees
 * only its own; "nvmfctl subsystem list -o json" is what operators type.  Returns the new
 * argc, or -1 after a message.
 */
static int take_globals(int argc, char **argv)
{
	int out = 1;
	bool dashdash = false;

	for (int i = 1; i < argc; i++) {
		const char *v;

		if (!dashdash && !strcmp(argv[i], "--")) {
			dashdash = true;
		} else if (!dashdash && (v = global_value(argc, argv, &i, 's', "socket"))) {
			if (!*v) {
				fprintf(stderr, "nvmfctl: --socket needs a path\n");
				return -1;
			}
			ctl.sock = v;
			continue;
		} else if (!dashdash && (v = global_value(argc, argv, &i, 'o', "output"))) {
			if (strcmp(v, "json") && strcmp(v, "normal")) {
				fprintf(stderr, "nvmfctl: invalid output format '%s' (normal|json)\n",
					v);
				return -1;
			}
			ctl.json = !strcmp(v, "json");
			continue;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

static void group_usage(FILE *f, const char *group, const struct ctl_action *acts)
{
	fprintf(f, "usage: nvmfctl %s ACTION ...\n\nactions:\n", group);
	for (const struct ctl_action *a = acts; a->name; a++)
		fprintf(f, "  %s %s\n      %s\n", a->name, a->synopsis, a->help);
}

int ctl_dispatch(const char *group, const struct ctl_action *acts, int argc, char **argv)
{
	static char verb[64];

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		group_usage(argc < 2 ? stderr : stdout, group, acts);
		return argc < 2 ? CTL_EXIT_USAGE : 0;
	}
	for (const struct ctl_action *a = acts; a->name; a++)
		if (!strcmp(a->name, argv[1])) {
			snprintf(verb, sizeof(verb), "%s %s", group, a->name);
			cli_verb = verb;
			return a->run(argc - 1, argv + 1);
		}
	fprintf(stderr, "nvmfctl %s: unknown action '%s'\n", group, argv[1]);
	group_usage(stderr, group, acts);
	return CTL_EXIT_USAGE;
}

int ctl_args(const char *synopsis, const char *help, const struct cli_opt *opts, int argc,
	     char **argv, int npos, int nopt, char **pos)
{
	static const struct cli_opt none[] = { CLI_END };
	int first, rc = cli_parse_pos(synopsis, help, opts ? opts : none, argc, argv, &first);
	int n;

	if (rc)
		return rc > 0 ? -1 : CTL_EXIT_USAGE;
	n = argc - first;
	if (n < npos || n > npos + nopt) {
		cli_err(n < npos ? "missing argument: %s" : "too many arguments: %s", synopsis);
		return CTL_EXIT_USAGE;
	}
	for (int i = 0; i < npos + nopt; i++)
		pos[i] = i < n ? argv[first + i] : NULL;
	return 0;
}

int main(int argc, char **argv)
{
	argc = take_globals(argc, argv);
	if (argc < 0)
		return CTL_EXIT_USAGE;
	if (argc < 2) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("nvmfctl %s\n", NVMF_VERSION);
		return 0;
	}
	for (const struct ctl_action *g = groups; g->name; g++)
		if (!strcmp(g->name, argv[1])) {
			cli_verb = g->name;
			return g->run(argc - 1, argv + 1);
		}
	fprintf(stderr, "nvmfctl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return CTL_EXIT_USAGE;
}
