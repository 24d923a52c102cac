/*
 * State of connected controllers: one JSON file per controller, /run/nvmf/nvmfN.json
 * ($NVMF_RUN_DIR overrides the directory), written by the daemon that holds the
 * controller and read by list / disconnect / connect's duplicate check.  A file whose
 * daemon is gone is stale and removed by whoever finds it.
 */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/nvmf.h"

/* Absolute, so a daemon (which leaves its working directory) finds the same place. */
const char *run_dir(void)
{
	static char dir[400];
	const char *d = getenv("NVMF_RUN_DIR");
	char cwd[256];

	if (dir[0])
		return dir;
	if (!d || !d[0])
		d = "/run/nvmf";
	if (d[0] != '/' && getcwd(cwd, sizeof(cwd)))
		snprintf(dir, sizeof(dir), "%.255s/%.140s", cwd, d);
	else
		snprintf(dir, sizeof(dir), "%.399s", d);
	return dir;
}

int state_path(char *buf, size_t len, const char *name, const char *ext)
{
	int n = snprintf(buf, len, "%s/%s%s", run_dir(), name, ext);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * Alive, not a zombie, and still an nvmf process (a recycled pid is not ours).  A zombie
 * counts as gone: its parent may never reap it (the daemon's parent is init, or whoever
 * adopted it).
 */
bool pid_alive(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;
	char *open, *close;
	bool ok = false;

	if (pid <= 0 || (kill(pid, 0) && errno != EPERM))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return true;    /* no /proc: trust kill() */
	if (fgets(buf, sizeof(buf), f)) {
		open = strchr(buf, '(');
		close = strrchr(buf, ')');
		if (open && close && close[1] == ' ')
			ok = close[2] != 'Z' && close[2] != 'X' && !strncmp(open + 1, "nvmf", 4);
	}
	fclose(f);
	return ok;
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v) : "";
}

static int64_t jint(json_object *o, const char *key, int64_t def)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_int64(v) : def;
}

#define COPY(dst, src) snprintf(dst, sizeof(dst), "%s", src)

int state_load(const char *path, struct ctrl_state *s)
{
	json_object *root = json_object_from_file(path);
	json_object *nss;

	memset(s, 0, sizeof(*s));
	if (!root)
		return -ENOENT;
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return -EINVAL;
	}
	COPY(s->name, jstr(root, "name"));
	s->pid = (pid_t)jint(root, "pid", 0);
	COPY(s->state, jstr(root, "state"));
	COPY(s->subnqn, jstr(root, "subnqn"));
	COPY(s->traddr, jstr(root, "traddr"));
	COPY(s->trsvcid, jstr(root, "trsvcid"));
	COPY(s->host_traddr, jstr(root, "host_traddr"));
	COPY(s->hostnqn, jstr(root, "hostnqn"));
	COPY(s->hostid, jstr(root, "hostid"));
	s->cntlid = (unsigned)jint(root, "cntlid", 0);
	COPY(s->sn, jstr(root, "sn"));
	COPY(s->mn, jstr(root, "mn"));
	COPY(s->fr, jstr(root, "fr"));
	COPY(s->log, jstr(root, "log"));
	s->ublk = jint(root, "ublk", 0) != 0;
	COPY(s->path_of, jstr(root, "path_of"));
	COPY(s->ana, jstr(root, "ana_state"));
	COPY(s->iopolicy, jstr(root, "iopolicy"));
	s->tls = jint(root, "tls", 0) != 0;
	s->mptcp = jint(root, "mptcp", 0) != 0;
	COPY(s->error, jstr(root, "error"));
	if (json_object_object_get_ex(root, "namespaces", &nss) &&
	    json_object_is_type(nss, json_type_array)) {
		size_t n = json_object_array_length(nss);

		s->ns = n ? calloc(n, sizeof(*s->ns)) : NULL;
		for (size_t i = 0; s->ns && i < n; i++) {
			json_object *o = json_object_array_get_idx(nss, i);
			struct ns_state *ns = &s->ns[s->nr_ns++];

			ns->nsid = (uint32_t)jint(o, "nsid", 0);
			ns->ublk_id = (int)jint(o, "ublk_id", -1);
			ns->nsze = (uint64_t)jint(o, "nsze", 0);
			ns->nuse = (uint64_t)jint(o, "nuse", 0);
			ns->block_size = (uint32_t)jint(o, "block_size", 512);
			ns->ms = (uint16_t)jint(o, "ms", 0);
		}
	}
	json_object_put(root);
	return 0;
}

int state_save(const struct ctrl_state *s)
{
	json_object *root = json_object_new_object();
	json_object *nss = json_object_new_array();
	char path[512], tmp[520];
	int rc = 0;

	if (state_path(path, sizeof(path), s->name, ".json")) {
		json_object_put(root);
		json_object_put(nss);
		return -ENAMETOOLONG;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
#define JS(k, v) json_object_object_add(root, k, json_object_new_string(v))
#define JI(k, v) json_object_object_add(root, k, json_object_new_int64(v))
	JS("name", s->name);
	JI("pid", s->pid);
	JS("state", s->state);
	JS("transport", "tcp");
	JS("subnqn", s->subnqn);
	JS("traddr", s->traddr);
	JS("trsvcid", s->trsvcid);
	JS("host_traddr", s->host_traddr);
	JS("hostnqn", s->hostnqn);
	JS("hostid", s->hostid);
	JI("cntlid", s->cntlid);
	JS("sn", s->sn);
	JS("mn", s->mn);
	JS("fr", s->fr);
	JS("log", s->log);
	JI("ublk", s->ublk);
	if (s->path_of[0])
		JS("path_of", s->path_of);
	if (s->ana[0])
		JS("ana_state", s->ana);
	if (s->iopolicy[0])
		JS("iopolicy", s->iopolicy);
	JI("tls", s->tls);
	JI("mptcp", s->mptcp);
	if (s->error[0])
		JS("error", s->error);
#undef JS
#undef JI
	for (unsigned i = 0; i < s->nr_ns; i++) {
		const struct ns_state *ns = &s->ns[i];
		json_object *o = json_object_new_object();
		char dev[64];

		json_object_object_add(o, "nsid", json_object_new_int64(ns->nsid));
		json_object_object_add(o, "ublk_id", json_object_new_int64(ns->ublk_id));
		if (ns->ublk_id >= 0) {
			snprintf(dev, sizeof(dev), "/dev/ublkb%d", ns->ublk_id);
			json_object_object_add(o, "block_device", json_object_new_string(dev));
			snprintf(dev, sizeof(dev), "/dev/ublkc%d", ns->ublk_id);
			json_object_object_add(o, "char_device", json_object_new_string(dev));
		}
		json_object_object_add(o, "nsze", json_object_new_int64((int64_t)ns->nsze));
		json_object_object_add(o, "nuse", json_object_new_int64((int64_t)ns->nuse));
		json_object_object_add(o, "block_size", json_object_new_int64(ns->block_size));
		json_object_object_add(o, "ms", json_object_new_int64(ns->ms));
		json_object_array_add(nss, o);
	}
	json_object_object_add(root, "namespaces", nss);
	/* readers never see a half-written file */
	if (json_object_to_file_ext(tmp, root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE))
		rc = -EIO;
	else if (rename(tmp, path))
		rc = -errno;
	if (rc)
		unlink(tmp);
	json_object_put(root);
	return rc;
}

void state_free(struct ctrl_state *s)
{
	free(s->ns);
	s->ns = NULL;
	s->nr_ns = 0;
}

void states_free(struct ctrl_state *s, int n)
{
	for (int i = 0; i < n; i++)
		state_free(&s[i]);
	free(s);
}

static int name_number(const char *name)
{
	return !strncmp(name, "nvmf", 4) ? atoi(name + 4) : -1;
}

static int by_name(const void *a, const void *b)
{
	return name_number(((const struct ctrl_state *)a)->name) -
	       name_number(((const struct ctrl_state *)b)->name);
}

int states_live(struct ctrl_state **out)
{
	DIR *d = opendir(run_dir());
	struct dirent *de;
	struct ctrl_state *all = NULL;
	int n = 0, cap = 0;

	*out = NULL;
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		char path[512];
		struct ctrl_state s;

		if (len < 6 || strcmp(de->d_name + len - 5, ".json") || strncmp(de->d_name, "nvmf", 4))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", run_dir(), de->d_name) >= (int)sizeof(path))
			continue;
		if (state_load(path, &s))
			continue;
		if (!pid_alive(s.pid)) {
			unlink(path);   /* its daemon is gone */
			state_free(&s);
			continue;
		}
		if (n == cap) {
			struct ctrl_state *grown = realloc(all, (size_t)(cap ? cap * 2 : 8) * sizeof(*all));

			if (!grown) {
				state_free(&s);
				break;
			}
			all = grown;
			cap = cap ? cap * 2 : 8;
		}
		all[n++] = s;
	}
	closedir(d);
	if (n)
		qsort(all, (size_t)n, sizeof(*all), by_name);
	*out = all;
	return n;
}
