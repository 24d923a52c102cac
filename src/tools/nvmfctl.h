/*
 * nvmfctl — the operator's command line for a running nvmf-target: subsystems, namespaces
 * and their bdevs, hosts, ports, ANA states and the live views, each one or two JSON-RPC
 * calls (SPDK's methods) on the target's socket.  What the verbs share.
 */
#ifndef NVMF_TOOLS_NVMFCTL_H
#define NVMF_TOOLS_NVMFCTL_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>

#include "tools/cli-opts.h"

#define CTL_EXIT_FAIL 1
#define CTL_EXIT_USAGE 2

/* The global options (-s, -o), given anywhere on the line. */
struct ctl_opts {
	const char *sock;
	bool json;
};
extern struct ctl_opts ctl;

/* ---- nvmfctl-rpc.c: the calls */

/*
 * Call method with params (consumed; NULL for none).  0 with *result set (an owned
 * reference, or not asked for: result NULL), or CTL_EXIT_FAIL after one line on stderr:
 * "nvmfctl: METHOD: MESSAGE (code N)", or why the socket failed.
 */
int ctl_call(const char *method, struct json_object *params, struct json_object **result);

/*
 * A listing's call: as ctl_call, but with -o json the result is printed here and *result
 * is NULL (the caller has nothing left to do); otherwise the caller prints its table.
 */
int ctl_call_list(const char *method, struct json_object *params, struct json_object **result);

/* {"nqn": nqn} and the like: a new object with one string key. */
struct json_object *ctl_obj_str(const char *key, const char *val);

/*
 * ADDR:PORT (IPv4, or [IPv6]:PORT) as SPDK's listen_address object (trtype TCP), or NULL
 * after a message naming what is wrong.
 */
struct json_object *ctl_listen_address(const char *text);

/* 4096, 64K, 512M, 1G, 2T (powers of 1024) as bytes: 0, or -1 after a message. */
int ctl_parse_size(const char *text, const char *what, uint64_t *out);

/* ---- nvmfctl-out.c: what is printed */

/* The result as JSON on stdout (what -o json prints). */
void ctl_print_json(struct json_object *o);

/* A table: a header row, then rows; columns as wide as their widest cell. */
struct ctl_table;
struct ctl_table *ctl_table_new(unsigned ncols, const char *const *header);
/* One row of ncols cells (copied); NULL cells print as "-". */
void ctl_table_row(struct ctl_table *t, const char *const *cells);
/* Print to stdout and free. */
void ctl_table_print(struct ctl_table *t);

/*
 * Helpers over results, safe on whatever the target answered: a key's string ("" when
 * absent), integer (0), value (NULL), an array's length (0).
 */
const char *ctl_jstr(struct json_object *o, const char *key);
int64_t ctl_jint(struct json_object *o, const char *key);
struct json_object *ctl_jget(struct json_object *o, const char *key);
size_t ctl_jlen(struct json_object *a);
/* Element i of an array, NULL when a is no array or too short (json-c would assert). */
struct json_object *ctl_jidx(struct json_object *a, size_t i);
/* ADDR:PORT of an SPDK address object ([v6]:PORT for IPv6). */
void ctl_fmt_addr(struct json_object *a, char *buf, size_t len);

/* ---- nvmfctl-bdev.c: bdevs for ns add's implicit ones too */

enum ctl_bdev_kind { CTL_BDEV_RAM, CTL_BDEV_NULL, CTL_BDEV_URING, CTL_BDEV_AIO };

/*
 * Create a bdev of kind: arg is its size (RAM, null) or its file or block device; name
 * NULL picks a free one ("Malloc0", "Null0", "File0"...).  block_size 0: 512 for RAM and
 * null, the file's own otherwise.  0 with *made its name (free it), or an exit status
 * after a message.
 */
int ctl_bdev_create(enum ctl_bdev_kind kind, const char *name, const char *arg,
		    unsigned block_size, bool readonly, char **made);
/* Delete a bdev whatever its kind (and the namespaces on it): 0 or an exit status. */
int ctl_bdev_delete(const char *name);

/* ---- the verb groups: argv[0] is the group's name; exit status */
int ctl_subsystem_main(int argc, char **argv);  /* nvmfctl-subsys.c */
int ctl_host_main(int argc, char **argv);       /* nvmfctl-subsys.c */
int ctl_ns_main(int argc, char **argv);         /* nvmfctl-ns.c */
int ctl_bdev_main(int argc, char **argv);       /* nvmfctl-bdev.c */
int ctl_port_main(int argc, char **argv);       /* nvmfctl-port.c */
int ctl_ana_state_main(int argc, char **argv);  /* nvmfctl-port.c */
int ctl_controllers_main(int argc, char **argv); /* nvmfctl-show.c */
int ctl_qpairs_main(int argc, char **argv);     /* nvmfctl-show.c */
int ctl_stats_main(int argc, char **argv);      /* nvmfctl-show.c */
int ctl_save_main(int argc, char **argv);       /* nvmfctl-show.c */
int ctl_call_main(int argc, char **argv);       /* nvmfctl-show.c */

/*
 * For the groups: run the action argv[0] among acts (name, handler, synopsis, help).
 * A handler gets argv with argv[0] its action.
 */
struct ctl_action {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
	const char *help;
};
int ctl_dispatch(const char *group, const struct ctl_action *acts, int argc, char **argv);

/*
 * Parse an action's options and its positionals: exactly npos of them (plus up to
 * nopt optional ones); pos[] gets them (NULL when an optional one is absent).
 * 0 to go on, -1 after --help (exit 0), else the exit status (usage printed).
 */
#define CTL_ARGS(...)                                   \
	do {                                            \
		int rc_ = ctl_args(__VA_ARGS__);        \
		if (rc_)                                \
			return rc_ < 0 ? 0 : rc_;       \
	} while (0)
int ctl_args(const char *synopsis, const char *help, const struct cli_opt *opts, int argc,
	     char **argv, int npos, int nopt, char **pos);

#endif
