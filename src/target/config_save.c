/*
 * The configuration written back as the JSON `nvmetcli save` writes: what --save keeps
 * after every JSON-RPC change, and what the JSON-RPC layer edits and loads again to make
 * the next configuration (one model, one loader, one validation).  Attributes are strings,
 * as configfs files read; nsid, portid, grpid and enable are numbers, as nvmetcli dumps
 * them.  Defaults (-1 = transport default) are left out, so the loader gives them back.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target/config.h"

/* Adding to an object or array fails only without memory: one flag for the whole tree. */
struct out {
	bool nomem;
};

static void put(struct out *o, struct json_object *obj, const char *key, struct json_object *v)
{
	if (!v || json_object_object_add(obj, key, v)) {
		json_object_put(v);
		o->nomem = true;
	}
}

static void push(struct out *o, struct json_object *arr, struct json_object *v)
{
	if (!v || json_object_array_add(arr, v)) {
		json_object_put(v);
		o->nomem = true;
	}
}

static void put_str(struct out *o, struct json_object *obj, const char *key, const char *s)
{
	put(o, obj, key, json_object_new_string(s));
}

static void put_fmt(struct out *o, struct json_object *obj, const char *key, const char *fmt,
		    ...) __attribute__((format(printf, 4, 5)));
static void put_fmt(struct out *o, struct json_object *obj, const char *key, const char *fmt,
		    ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	put_str(o, obj, key, buf);
}

static void put_int(struct out *o, struct json_object *obj, const char *key, int64_t v)
{
	put(o, obj, key, json_object_new_int64(v));
}

static void fmt_uuid(char out[37], const uint8_t u[16])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

static struct json_object *host_json(struct out *o, const struct nvmf_cfg_host *h)
{
	struct json_object *j = json_object_new_object(), *d;

	if (!j)
		return NULL;
	put_str(o, j, "nqn", h->nqn);
	if (h->dhchap_key[0] || h->dhchap_ctrl_key[0]) {
		d = json_object_new_object();
		put(o, j, "dhchap", d);
		if (d) {
			put_str(o, d, "key", h->dhchap_key);
			put_str(o, d, "ctrl_key", h->dhchap_ctrl_key);
			put_str(o, d, "hash", nvmf_cfg_dhchap_hash_name(h->dhchap_hash));
			put_str(o, d, "dhgroup", nvmf_cfg_dhchap_dhgroup_name(h->dhchap_dhgroup));
		}
	}
	return j;
}

static struct json_object *ns_json(struct out *o, const struct nvmf_cfg_ns *ns)
{
	struct json_object *j = json_object_new_object(), *d = json_object_new_object();
	char text[40];

	if (!j || !d) {
		json_object_put(j);
		json_object_put(d);
		return NULL;
	}
	put_int(o, j, "nsid", ns->nsid);
	put_int(o, j, "enable", ns->enable);
	put_int(o, j, "ana_grpid", ns->ana_grpid);
	put(o, j, "device", d);
	put_str(o, d, "path", ns->path);
	if (ns->has_uuid) {
		fmt_uuid(text, ns->uuid);
		put_str(o, d, "uuid", text);
	}
	if (ns->has_nguid) {
		fmt_uuid(text, ns->nguid);
		put_str(o, d, "nguid", text);
	}
	if (ns->backend != NVMF_BACKEND_AUTO)
		put_str(o, d, "backend", nvmf_cfg_backend_name(ns->backend));
	if (ns->backend == NVMF_BACKEND_RAM || ns->backend == NVMF_BACKEND_NULL)
		put_int(o, d, "size", (int64_t)ns->size);
	if (ns->block_size)
		put_int(o, d, "block_size", ns->block_size);
	if (ns->lazy && ns->backend == NVMF_BACKEND_RAM)
		put_int(o, d, "lazy", 1);
	if (ns->bdev_name[0])
		put_str(o, d, "bdev", ns->bdev_name);
	if (ns->resv_enable || (ns->resv_ptpl_file && ns->resv_ptpl_file[0])) {
		struct json_object *r = json_object_new_object();

		if (!r)
			return NULL;
		put_int(o, r, "enable", ns->resv_enable);
		if (ns->resv_ptpl_file && ns->resv_ptpl_file[0])
			put_str(o, r, "ptpl_file", ns->resv_ptpl_file);
		put(o, j, "resv", r);
	}
	return j;
}

static struct json_object *strv_json(struct out *o, char *const *v, size_t n)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; a && i < n; i++)
		push(o, a, json_object_new_string(v[i]));
	return a;
}

/* nvmetcli's shape: a list holding the subsystem's one passthru node. */
static struct json_object *passthru_json(struct out *o, const struct nvmf_cfg_passthru *pt)
{
	struct json_object *l = json_object_new_array(), *j = json_object_new_object(),
			   *d = json_object_new_object();

	if (!l || !j || !d) {
		json_object_put(l);
		json_object_put(j);
		json_object_put(d);
		return NULL;
	}
	push(o, l, j);
	put(o, j, "device", d);
	put_str(o, d, "path", pt->path);
	put_int(o, j, "enable", pt->enable);
	put_int(o, j, "admin_timeout", pt->admin_timeout);
	put_int(o, j, "io_timeout", pt->io_timeout);
	put_int(o, j, "clear_ids", pt->clear_ids);
	return l;
}

static struct json_object *subsys_json(struct out *o, const struct nvmf_cfg_subsys *s)
{
	struct json_object *j = json_object_new_object(), *a = json_object_new_object(), *nss;

	if (!j || !a) {
		json_object_put(j);
		json_object_put(a);
		return NULL;
	}
	put_str(o, j, "nqn", s->nqn);
	put(o, j, "attr", a);
	put_str(o, a, "allow_any_host", s->allow_any_host ? "1" : "0");
	put_str(o, a, "serial", s->serial);
	put_str(o, a, "model", s->model);
	if (s->firmware[0])
		put_str(o, a, "firmware", s->firmware);
	put_fmt(o, a, "version", "%u.%u.%u", s->version >> 16, (s->version >> 8) & 0xff,
		s->version & 0xff);
	put_fmt(o, a, "ieee_oui", "0x%06" PRIx32, s->ieee_oui);
	put_fmt(o, a, "vendor_id", "0x%04x", s->vendor_id);
	put_fmt(o, a, "subsys_vendor_id", "0x%04x", s->subsys_vendor_id);
	put_fmt(o, a, "cntlid_min", "%u", s->cntlid_min);
	put_fmt(o, a, "cntlid_max", "%u", s->cntlid_max);
	put_fmt(o, a, "qid_max", "%u", s->qid_max);
	put_str(o, a, "tbkas", s->tbkas ? "1" : "0");
	put_str(o, a, "pi_enable", s->pi_enable ? "1" : "0");
	put(o, j, "allowed_hosts", strv_json(o, s->allowed_hosts, s->nr_allowed_hosts));
	if (s->nr_listed_hosts)
		put(o, j, "listed_hosts", strv_json(o, s->listed_hosts, s->nr_listed_hosts));
	nss = json_object_new_array();
	put(o, j, "namespaces", nss);
	for (size_t i = 0; nss && i < s->nr_namespaces; i++)
		push(o, nss, ns_json(o, &s->namespaces[i]));
	if (s->passthru.present)
		put(o, j, "passthru", passthru_json(o, &s->passthru));
	return j;
}

static struct json_object *port_json(struct out *o, const struct nvmf_cfg_port *p)
{
	struct json_object *j = json_object_new_object(), *a, *pa, *groups, *refs;

	if (!j)
		return NULL;
	put_int(o, j, "portid", p->portid);
	a = json_object_new_object();
	put(o, j, "addr", a);
	if (a) {
		put_str(o, a, "trtype", nvmf_cfg_trtype_name(p->trtype));
		put_str(o, a, "adrfam", nvmf_cfg_adrfam_name(p->adrfam));
		put_str(o, a, "traddr", p->traddr);
		put_str(o, a, "trsvcid", p->trsvcid);
		put_str(o, a, "treq", nvmf_cfg_treq_name(p->treq));
		put_str(o, a, "tsas", nvmf_cfg_tsas_name(p->tsas));
	}
	pa = json_object_new_object();
	put(o, j, "param", pa);
	if (pa) {
		if (p->inline_data_size >= 0)
			put_fmt(o, pa, "inline_data_size", "%d", p->inline_data_size);
		if (p->max_queue_size >= 0)
			put_fmt(o, pa, "max_queue_size", "%d", p->max_queue_size);
		if (p->mdts >= 0)
			put_fmt(o, pa, "mdts", "%d", p->mdts);
		put_str(o, pa, "pi_enable", p->pi_enable ? "1" : "0");
		if (p->mptcp)
			put_str(o, pa, "mptcp", "1");
	}
	put(o, j, "subsystems", strv_json(o, p->subsystems, p->nr_subsystems));
	groups = json_object_new_array();
	put(o, j, "ana_groups", groups);
	for (size_t i = 0; groups && i < p->nr_ana_groups; i++) {
		struct json_object *g = json_object_new_object(), *st = json_object_new_object();

		if (!g || !st) {
			json_object_put(g);
			json_object_put(st);
			o->nomem = true;
			break;
		}
		put_int(o, g, "grpid", p->ana_groups[i].grpid);
		put(o, g, "ana", st);
		put_str(o, st, "state", nvmf_cfg_ana_state_name(p->ana_groups[i].state));
		push(o, groups, g);
	}
	refs = json_object_new_array();
	put(o, j, "referrals", refs);
	for (size_t i = 0; refs && i < p->nr_referrals; i++) {
		const struct nvmf_cfg_referral *r = &p->referrals[i];
		struct json_object *rj = json_object_new_object(), *ra = json_object_new_object();

		if (!rj || !ra) {
			json_object_put(rj);
			json_object_put(ra);
			o->nomem = true;
			break;
		}
		put_str(o, rj, "name", r->name);
		put_int(o, rj, "enable", r->enable);
		put(o, rj, "addr", ra);
		put_str(o, ra, "trtype", nvmf_cfg_trtype_name(r->trtype));
		put_str(o, ra, "adrfam", nvmf_cfg_adrfam_name(r->adrfam));
		put_str(o, ra, "traddr", r->traddr);
		put_str(o, ra, "trsvcid", r->trsvcid);
		put_str(o, ra, "treq", nvmf_cfg_treq_name(r->treq));
		put_int(o, ra, "portid", r->portid);
		push(o, refs, rj);
	}
	return j;
}

struct json_object *nvmf_cfg_to_json(const struct nvmf_cfg *cfg)
{
	struct json_object *root = json_object_new_object(), *a, *d;
	struct out o = { .nomem = false };

	if (!root)
		return NULL;
	d = json_object_new_object();
	put(&o, root, "discovery", d);
	if (d)
		put_str(&o, d, "nqn", cfg->discovery_nqn);
	a = json_object_new_array();
	put(&o, root, "hosts", a);
	for (size_t i = 0; a && i < cfg->nr_hosts; i++)
		push(&o, a, host_json(&o, &cfg->hosts[i]));
	a = json_object_new_array();
	put(&o, root, "ports", a);
	for (size_t i = 0; a && i < cfg->nr_ports; i++)
		push(&o, a, port_json(&o, &cfg->ports[i]));
	a = json_object_new_array();
	put(&o, root, "subsystems", a);
	for (size_t i = 0; a && i < cfg->nr_subsystems; i++)
		push(&o, a, subsys_json(&o, &cfg->subsystems[i]));
	if (o.nomem) {
		json_object_put(root);
		return NULL;
	}
	return root;
}

bool nvmf_cfg_has_secrets(const struct nvmf_cfg *cfg)
{
	for (size_t i = 0; i < cfg->nr_hosts; i++)
		if (cfg->hosts[i].dhchap_key[0] || cfg->hosts[i].dhchap_ctrl_key[0])
			return true;
	return false;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int nvmf_cfg_save_file(const struct nvmf_cfg *cfg, const char *path, char *err, size_t errlen)
{
	struct json_object *j = nvmf_cfg_to_json(cfg);
	mode_t mode = nvmf_cfg_has_secrets(cfg) ? 0600 : 0644;
	char *tmp = NULL;
	const char *text;
	int fd = -1, rc;

	if (!j || asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		tmp = NULL;
		rc = -ENOMEM;
		goto out;
	}
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
						 JSON_C_TO_STRING_NOSLASHESCAPE);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	/* the umask may have taken bits away, never added: set exactly what we mean */
	if (fchmod(fd, mode) < 0 || write_all(fd, text, strlen(text)) ||
	    write_all(fd, "\n", 1) || fsync(fd) < 0) {
		rc = errno ? -errno : -EIO;
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		rc = -errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto out;
	}
	rc = 0;
out:
	if (rc && err && errlen)
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
	if (fd >= 0)
		close(fd);
	if (rc && tmp)
		unlink(tmp);
	free(tmp);
	json_object_put(j);
	return rc;
}
