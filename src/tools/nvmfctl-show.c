/*
 * nvmfctl's views of the running target: controllers and queue pairs of a subsystem
 * (nvmf_subsystem_get_controllers / get_qpairs), statistics (nvmf_get_stats: SPDK's poll
 * groups, and the subsystems of our detail), and the configuration (save_config).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/nvmfctl.h"

/* Call a listing method; print JSON for -o json.  0 with *res for the table, 1 when done. */
static int fetch(const char *method, struct json_object *params, struct json_object **res,
		 int *rc)
{
	*rc = ctl_call(method, params, res);
	if (*rc)
		return 1;
	if (ctl.json) {
		ctl_print_json(*res);
		json_object_put(*res);
		return 1;
	}
	return 0;
}

static const char *num(char *buf, size_t len, int64_t v)
{
	snprintf(buf, len, "%lld", (long long)v);
	return buf;
}

int ctl_controllers_main(int argc, char **argv)
{
	static const char *const head[] = { "CNTLID", "HOSTNQN", "HOSTID", "IO-QUEUES" };
	struct json_object *res;
	struct ctl_table *t;
	char *pos[1];
	int rc;

	CTL_ARGS("NQN", "Controllers connected to a subsystem.", NULL, argc, argv, 1, 0, pos);
	if (fetch("nvmf_subsystem_get_controllers", ctl_obj_str("nqn", pos[0]), &res, &rc))
		return rc;
	t = ctl_table_new(4, head);
	for (size_t i = 0; i < ctl_jlen(res); i++) {
		struct json_object *c = ctl_jidx(res, i);
		char a[16], b[16];
		const char *row[4];

		row[0] = num(a, sizeof(a), ctl_jint(c, "cntlid"));
		row[1] = ctl_jstr(c, "hostnqn");
		row[2] = ctl_jstr(c, "hostid");
		row[3] = num(b, sizeof(b), ctl_jint(c, "num_io_qpairs"));
		ctl_table_row(t, row);
	}
	ctl_table_print(t);
	json_object_put(res);
	return 0;
}

int ctl_qpairs_main(int argc, char **argv)
{
	static const char *const head[] = {
		"CNTLID", "QID", "STATE", "THREAD", "LISTENER", "HOSTNQN",
	};
	struct json_object *res;
	struct ctl_table *t;
	char *pos[1];
	int rc;

	CTL_ARGS("NQN", "Queue pairs connected to a subsystem.", NULL, argc, argv, 1, 0, pos);
	if (fetch("nvmf_subsystem_get_qpairs", ctl_obj_str("nqn", pos[0]), &res, &rc))
		return rc;
	t = ctl_table_new(6, head);
	for (size_t i = 0; i < ctl_jlen(res); i++) {
		struct json_object *q = ctl_jidx(res, i);
		char a[16], b[16], addr[128] = "";
		const char *row[6];

		if (ctl_jget(q, "listen_address"))
			ctl_fmt_addr(ctl_jget(q, "listen_address"), addr, sizeof(addr));
		row[0] = num(a, sizeof(a), ctl_jint(q, "cntlid"));
		row[1] = num(b, sizeof(b), ctl_jint(q, "qid"));
		row[2] = ctl_jstr(q, "state");
		row[3] = ctl_jstr(q, "thread");
		row[4] = addr;
		row[5] = ctl_jstr(q, "hostnqn");
		ctl_table_row(t, row);
	}
	ctl_table_print(t);
	json_object_put(res);
	return 0;
}

/* o.a.b as an integer (the IO objects of the stats detail) */
static int64_t jint2(struct json_object *o, const char *a, const char *b)
{
	return ctl_jint(ctl_jget(o, a), b);
}

int ctl_stats_main(int argc, char **argv)
{
	static const char *const gh[] = {
		"POLL GROUP", "ADMIN QP", "IO QP", "COMPLETED", "READS", "WRITES", "READ BYTES",
		"WRITE BYTES",
	};
	static const char *const sh[] = {
		"SUBSYSTEM", "READS", "WRITES", "OTHER", "READ BYTES", "WRITE BYTES", "ERRORS",
		"DEPTH",
	};
	struct json_object *res, *groups, *subs;
	struct ctl_table *t;
	int rc;

	CTL_ARGS("", "Statistics: SPDK's poll groups (one per reactor) and the subsystems' "
		 "totals since start.", NULL, argc, argv, 0, 0, NULL);
	if (fetch("nvmf_get_stats", NULL, &res, &rc))
		return rc;
	groups = ctl_jget(res, "poll_groups");
	t = ctl_table_new(8, gh);
	for (size_t i = 0; i < ctl_jlen(groups); i++) {
		struct json_object *g = ctl_jidx(groups, i);
		struct json_object *tr = ctl_jidx(ctl_jget(g, "transports"), 0);
		char v[7][24];
		const char *row[8];

		row[0] = ctl_jstr(g, "name");
		row[1] = num(v[0], sizeof(v[0]), ctl_jint(g, "current_admin_qpairs"));
		row[2] = num(v[1], sizeof(v[1]), ctl_jint(g, "current_io_qpairs"));
		row[3] = num(v[2], sizeof(v[2]), ctl_jint(g, "completed_nvme_io"));
		row[4] = num(v[3], sizeof(v[3]), ctl_jint(tr, "read_cmds"));
		row[5] = num(v[4], sizeof(v[4]), ctl_jint(tr, "write_cmds"));
		row[6] = num(v[5], sizeof(v[5]), ctl_jint(tr, "read_bytes"));
		row[7] = num(v[6], sizeof(v[6]), ctl_jint(tr, "write_bytes"));
		ctl_table_row(t, row);
	}
	ctl_table_print(t);
	/* our detail, when the target gives it (nvmf-target does; SPDK's nvmf_tgt does not) */
	subs = ctl_jget(res, "subsystems");
	if (subs) {
		printf("\n");
		t = ctl_table_new(8, sh);
		for (size_t i = 0; i < ctl_jlen(subs); i++) {
			struct json_object *s = ctl_jidx(subs, i);
			struct json_object *io = ctl_jget(s, "io"), *errs = ctl_jget(io, "errors");
			int64_t nerr = ctl_jint(io, "errors_other");
			char v[7][24];
			const char *row[8];

			for (size_t e = 0; e < ctl_jlen(errs); e++)
				nerr += ctl_jint(ctl_jidx(errs, e), "count");
			row[0] = ctl_jstr(s, "nqn");
			row[1] = num(v[0], sizeof(v[0]), jint2(io, "commands", "read"));
			row[2] = num(v[1], sizeof(v[1]), jint2(io, "commands", "write"));
			row[3] = num(v[2], sizeof(v[2]), jint2(io, "commands", "other"));
			row[4] = num(v[3], sizeof(v[3]), jint2(io, "bytes", "read"));
			row[5] = num(v[4], sizeof(v[4]), jint2(io, "bytes", "write"));
			row[6] = num(v[5], sizeof(v[5]), nerr);
			row[7] = num(v[6], sizeof(v[6]), ctl_jint(io, "depth"));
			ctl_table_row(t, row);
		}
		ctl_table_print(t);
	}
	json_object_put(res);
	return 0;
}

int ctl_save_main(int argc, char **argv)
{
	struct json_object *res;
	int rc;

	CTL_ARGS("", "The configuration as SPDK's JSON (save_config) on stdout: nvmf-target "
		 "-c FILE or load_config takes it back.", NULL, argc, argv, 0, 0, NULL);
	rc = ctl_call("save_config", NULL, &res);
	if (rc)
		return rc;
	ctl_print_json(res);
	json_object_put(res);
	return 0;
}

/*
 * What a control plane scripts with rpc.py, by method name: any method, parameters as one
 * JSON object (checked here, so a typo is a usage error rather than a parse error at the
 * target), the result printed as JSON whatever -o says.
 */
int ctl_call_main(int argc, char **argv)
{
	struct json_object *params = NULL, *res;
	char *pos[2];
	int rc;

	CTL_ARGS("METHOD [PARAMS-JSON]", "Call METHOD (SPDK's name, e.g. nvmf_get_subsystems) "
		 "with PARAMS-JSON (an object) and print its result as JSON.", NULL, argc, argv,
		 1, 1, pos);
	if (pos[1]) {
		params = json_tokener_parse(pos[1]);
		if (!params || !json_object_is_type(params, json_type_object)) {
			cli_err("PARAMS-JSON is not a JSON object: %s", pos[1]);
			json_object_put(params);
			return CTL_EXIT_USAGE;
		}
	}
	rc = ctl_call(pos[0], params, &res);
	if (rc)
		return rc;
	ctl_print_json(res);
	json_object_put(res);
	return 0;
}
