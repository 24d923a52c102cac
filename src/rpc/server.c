/*
 * The JSON-RPC 2.0 server: a Unix stream socket, any number of clients, requests read as a
 * stream of JSON values (one per connection, as SPDK's rpc.py sends, or several pipelined,
 * or a batch array), each answered in order.  Runs on the main thread with poll(); a
 * client that sends bad JSON gets a -32700 error and is closed, as SPDK's server does.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rpc/rpc_int.h"
#include "target/target.h"
#include "util/log.h"

#define RPC_MAX_REQUEST	(4u << 20)	/* a request larger than this is refused */
#define RPC_MAX_CLIENTS	64

struct rpc_client {
	struct rpc_client *next;
	int fd;
	struct json_tokener *tok;
	char *out;                /* responses not yet written */
	size_t out_len, out_off;
	size_t in_total;          /* bytes of the request being parsed */
	bool closing;             /* write what is left, then close */
};

/* ------------------------------------------------------------------ helpers */

int rpc_fail(struct rpc_call *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
	va_end(ap);
	return code;
}

int rpc_invalid(struct rpc_call *c, const char *fmt, ...)
{
	char why[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(c->msg, sizeof(c->msg), "Invalid parameters: %s", why);
	return RPC_ERR_INVALID_PARAMS;
}

int rpc_params(struct rpc_call *c, const char *const *known)
{
	struct json_object_iterator it, end;

	if (!c->params)
		return 0;
	if (!json_object_is_type(c->params, json_type_object))
		return rpc_invalid(c, "params must be an object");
	it = json_object_iter_begin(c->params);
	end = json_object_iter_end(c->params);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		bool ok = false;

		for (const char *const *k = known; *k && !ok; k++)
			ok = strcmp(*k, key) == 0;
		if (!ok)
			return rpc_invalid(c, "unknown parameter \"%s\"", key);
	}
	return 0;
}

static struct json_object *member(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (obj && json_object_is_type(obj, json_type_object))
		json_object_object_get_ex(obj, key, &v);
	return v;
}

int rpc_str(struct rpc_call *c, struct json_object *obj, const char *key, bool required,
	    const char **out)
{
	struct json_object *v = member(obj, key);

	*out = NULL;
	if (!v)
		return required ? rpc_invalid(c, "\"%s\" is required", key) : 0;
	if (!json_object_is_type(v, json_type_string))
		return rpc_invalid(c, "\"%s\" must be a string", key);
	*out = json_object_get_string(v);
	return 0;
}

int rpc_u64(struct rpc_call *c, struct json_object *obj, const char *key, bool required,
	    uint64_t max, uint64_t *out, bool *present)
{
	struct json_object *v = member(obj, key);
	int64_t i;

	if (present)
		*present = v != NULL;
	if (!v)
		return required ? rpc_invalid(c, "\"%s\" is required", key) : 0;
	if (!json_object_is_type(v, json_type_int))
		return rpc_invalid(c, "\"%s\" must be an integer", key);
	i = json_object_get_int64(v);
	if (i < 0 || (uint64_t)i > max)
		return rpc_invalid(c, "\"%s\" is out of range (0..%llu)", key,
				   (unsigned long long)max);
	*out = (uint64_t)i;
	return 0;
}

int rpc_bool(struct rpc_call *c, struct json_object *obj, const char *key, bool *out)
{
	struct json_object *v = member(obj, key);

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return rpc_invalid(c, "\"%s\" must be true or false", key);
	*out = json_object_get_boolean(v);
	return 0;
}

int rpc_obj(struct rpc_call *c, struct json_object *obj, const char *key, bool required,
	    struct json_object **out)
{
	struct json_object *v = member(obj, key);

	*out = NULL;
	if (!v)
		return required ? rpc_invalid(c, "\"%s\" is required", key) : 0;
	if (!json_object_is_type(v, json_type_object))
		return rpc_invalid(c, "\"%s\" must be an object", key);
	*out = v;
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)(ch | 0x20);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

bool rpc_parse_uuid(const char *s, uint8_t out[16])
{
	static const int dash[] = { 8, 13, 18, 23 };
	size_t k = 0;

	if (strlen(s) != 36)
		return false;
	for (size_t i = 0; i < 36;) {
		int hi, lo;

		if (k < 4 && (int)i == dash[k]) {
			if (s[i] != '-')
				return false;
			k++;
			i++;
			continue;
		}
		hi = hexval(s[i]);
		lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[(i - k) / 2] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	return true;
}

void rpc_fmt_uuid(char out[37], const uint8_t u[16])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

/* ------------------------------------------------------------------ methods of the server */

static const struct rpc_method *const tables[] = {
	rpc_nvmf_methods, rpc_ns_host_methods, rpc_live_methods, rpc_bdev_methods,
	rpc_config_methods,
};

static int m_rpc_get_methods(struct rpc_call *c)
{
	static const char *const known[] = { "current", "include_aliases", NULL };
	bool current = false, aliases = false;
	int rc = rpc_params(c, known);

	if (!rc)
		rc = rpc_bool(c, c->params, "current", &current);
	if (!rc)
		rc = rpc_bool(c, c->params, "include_aliases", &aliases);
	if (rc)
		return rc;
	/* one run-time state: every method is callable at any time ("current" is all) */
	c->result = json_object_new_array();
	for (size_t t = 0; c->result && t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct rpc_method *m = tables[t]; m->name; m++)
			json_object_array_add(c->result, json_object_new_string(m->name));
	return c->result ? 0 : rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
}

static int m_spdk_get_version(struct rpc_call *c)
{
	static const char *const known[] = { NULL };
	struct json_object *f;
	int maj = 0, min = 0, patch = 0;
	char text[64];
	int rc = rpc_params(c, known);

	if (rc)
		return rc;
	sscanf(NVMF_VERSION, "%d.%d.%d", &maj, &min, &patch);
	snprintf(text, sizeof(text), "nvmf-tcp v%s", NVMF_VERSION);
	c->result = json_object_new_object();
	f = json_object_new_object();
	if (!c->result || !f) {
		json_object_put(f);
		return rpc_fail(c, RPC_ERR_INTERNAL, "Out of memory");
	}
	json_object_object_add(c->result, "version", json_object_new_string(text));
	json_object_object_add(c->result, "fields", f);
	json_object_object_add(f, "major", json_object_new_int(maj));
	json_object_object_add(f, "minor", json_object_new_int(min));
	json_object_object_add(f, "patch", json_object_new_int(patch));
	json_object_object_add(f, "suffix", json_object_new_string(""));
	return 0;
}

static const struct rpc_method server_methods[] = {
	{ "rpc_get_methods", m_rpc_get_methods },
	{ "spdk_get_version", m_spdk_get_version },
	{ NULL, NULL },
};

int rpc_dispatch(struct rpc_call *c)
{
	for (const struct rpc_method *m = server_methods; m->name; m++)
		if (strcmp(m->name, c->method) == 0)
			return m->fn(c);
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct rpc_method *m = tables[t]; m->name; m++)
			if (strcmp(m->name, c->method) == 0)
				return m->fn(c);
	return rpc_fail(c, RPC_ERR_METHOD_NOT_FOUND, "Method not found");
}

/* ------------------------------------------------------------------ requests */

static struct json_object *error_response(struct json_object *id, int code, const char *msg)
{
	struct json_object *r = json_object_new_object(), *e = json_object_new_object();

	if (!r || !e) {
		json_object_put(r);
		json_object_put(e);
		return NULL;
	}
	json_object_object_add(r, "jsonrpc", json_object_new_string("2.0"));
	json_object_object_add(r, "error", e);
	json_object_object_add(e, "code", json_object_new_int(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(r, "id", id ? json_object_get(id) : NULL);
	return r;
}

/* One request object: the response, or NULL for a notification (no id). */
static struct json_object *handle_one(struct nvmf_rpc *rpc, struct json_object *req)
{
	struct json_object *ver = NULL, *method = NULL, *params = NULL, *id = NULL, *r;
	struct rpc_call c = { .rpc = rpc };
	bool has_id;
	int rc;

	if (!json_object_is_type(req, json_type_object))
		return error_response(NULL, RPC_ERR_INVALID_REQUEST, "Invalid request");
	has_id = json_object_object_get_ex(req, "id", &id);
	if (has_id && id && !json_object_is_type(id, json_type_string) &&
	    !json_object_is_type(id, json_type_int))
		return error_response(NULL, RPC_ERR_INVALID_REQUEST, "Invalid request");
	if (!json_object_object_get_ex(req, "jsonrpc", &ver) || !ver ||
	    !json_object_is_type(ver, json_type_string) ||
	    strcmp(json_object_get_string(ver), "2.0") != 0 ||
	    !json_object_object_get_ex(req, "method", &method) || !method ||
	    !json_object_is_type(method, json_type_string))
		return error_response(id, RPC_ERR_INVALID_REQUEST, "Invalid request");
	json_object_object_get_ex(req, "params", &params);
	if (params && !json_object_is_type(params, json_type_object) &&
	    !json_object_is_type(params, json_type_array))
		return error_response(id, RPC_ERR_INVALID_REQUEST, "Invalid request");
	c.method = json_object_get_string(method);
	c.params = params;
	rc = rpc_dispatch(&c);
	if (rc) {
		if (rc != RPC_ERR_METHOD_NOT_FOUND)
			log_info("rpc %s: error %d: %s", c.method, rc, c.msg);
		json_object_put(c.result);
		return has_id ? error_response(id, rc, c.msg) : NULL;
	}
	if (!has_id) {
		json_object_put(c.result);
		return NULL;
	}
	r = json_object_new_object();
	if (!r) {
		json_object_put(c.result);
		return NULL;
	}
	json_object_object_add(r, "jsonrpc", json_object_new_string("2.0"));
	/* a handler with nothing to return answers true, as SPDK's do */
	json_object_object_add(r, "result", c.result ? c.result : json_object_new_boolean(1));
	json_object_object_add(r, "id", json_object_get(id));
	return r;
}

static void queue_out(struct rpc_client *cl, struct json_object *resp)
{
	const char *text;
	size_t len;
	char *n;

	if (!resp)
		return;
	text = json_object_to_json_string_ext(resp, JSON_C_TO_STRING_PLAIN |
						    JSON_C_TO_STRING_NOSLASHESCAPE);
	len = strlen(text);
	n = realloc(cl->out, cl->out_len + len + 1);
	if (!n) {
		log_err("rpc: out of memory for a response: closing the client");
		cl->closing = true;
	} else {
		cl->out = n;
		memcpy(cl->out + cl->out_len, text, len);
		cl->out[cl->out_len + len] = '\n';
		cl->out_len += len + 1;
	}
	json_object_put(resp);
}

/* A complete JSON value from the client: one request or a batch. */
static void handle_value(struct nvmf_rpc *rpc, struct rpc_client *cl, struct json_object *v)
{
	struct json_object *out;
	size_t n;

	if (!json_object_is_type(v, json_type_array)) {
		queue_out(cl, handle_one(rpc, v));
		return;
	}
	n = json_object_array_length(v);
	if (n == 0) {
		queue_out(cl, error_response(NULL, RPC_ERR_INVALID_REQUEST, "Invalid request"));
		return;
	}
	out = json_object_new_array();
	for (size_t i = 0; out && i < n; i++) {
		struct json_object *r = handle_one(rpc, json_object_array_get_idx(v, i));

		if (r)
			json_object_array_add(out, r);
	}
	if (out && json_object_array_length(out) == 0) {
		json_object_put(out); /* only notifications: nothing is sent */
		return;
	}
	queue_out(cl, out);
}

static void client_input(struct nvmf_rpc *rpc, struct rpc_client *cl, const char *buf,
			 size_t len)
{
	while (len && !cl->closing) {
		struct json_object *v;
		enum json_tokener_error jerr;
		size_t used;

		/* whitespace between pipelined requests */
		if (cl->in_total == 0 && (*buf == ' ' || *buf == '\n' || *buf == '\r' ||
					  *buf == '\t')) {
			buf++;
			len--;
			continue;
		}
		v = json_tokener_parse_ex(cl->tok, buf, (int)len);
		jerr = json_tokener_get_error(cl->tok);
		used = json_tokener_get_parse_end(cl->tok);
		if (jerr == json_tokener_continue) {
			cl->in_total += len;
			if (cl->in_total > RPC_MAX_REQUEST) {
				queue_out(cl, error_response(NULL, RPC_ERR_PARSE,
							     "Request too large"));
				cl->closing = true;
			}
			return;
		}
		if (jerr != json_tokener_success) {
			queue_out(cl, error_response(NULL, RPC_ERR_PARSE, "Parse error"));
			cl->closing = true;
			return;
		}
		json_tokener_reset(cl->tok);
		cl->in_total = 0;
		handle_value(rpc, cl, v);
		json_object_put(v);
		if (used > len)
			used = len;
		buf += used;
		len -= used;
	}
}

/* ------------------------------------------------------------------ socket */

static void client_free(struct rpc_client *cl)
{
	close(cl->fd);
	json_tokener_free(cl->tok);
	free(cl->out);
	free(cl);
}

static void accept_clients(struct nvmf_rpc *rpc)
{
	for (;;) {
		int fd = accept4(rpc->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct rpc_client *cl;
		size_t n = 0;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("rpc: accept: %s", strerror(errno));
			return;
		}
		for (cl = rpc->clients; cl; cl = cl->next)
			n++;
		cl = n < RPC_MAX_CLIENTS ? calloc(1, sizeof(*cl)) : NULL;
		if (cl)
			cl->tok = json_tokener_new_ex(64);
		if (!cl || !cl->tok) {
			log_warn("rpc: %s: client refused", n < RPC_MAX_CLIENTS ? "out of memory"
						: "too many clients");
			free(cl);
			close(fd);
			continue;
		}
		/*
		 * strict JSON: what SPDK's parser takes, no comments or trailing commas; and
		 * what follows a request is the next request (pipelining), not an error
		 */
		json_tokener_set_flags(cl->tok, JSON_TOKENER_STRICT |
					       JSON_TOKENER_ALLOW_TRAILING_CHARS);
		cl->fd = fd;
		cl->next = rpc->clients;
		rpc->clients = cl;
	}
}

/* Returns false when the client is done and goes. */
static bool client_io(struct nvmf_rpc *rpc, struct rpc_client *cl, short revents)
{
	char buf[16384];

	if (revents & (POLLIN | POLLHUP | POLLERR)) {
		ssize_t n = read(cl->fd, buf, sizeof(buf));

		if (n > 0)
			client_input(rpc, cl, buf, (size_t)n);
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			cl->closing = true;
	}
	while (cl->out_off < cl->out_len) {
		ssize_t n = send(cl->fd, cl->out + cl->out_off, cl->out_len - cl->out_off,
				 MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			return false;
		}
		cl->out_off += (size_t)n;
	}
	cl->out_off = cl->out_len = 0;
	return !cl->closing;
}

int nvmf_rpc_serve(struct nvmf_rpc *rpc, int stop_fd, int timeout_ms)
{
	uint64_t end = timeout_ms >= 0 ? nvmf_now_ns() + (uint64_t)timeout_ms * 1000000u : 0;

	for (;;) {
		int wait = -1;

		struct pollfd pfd[RPC_MAX_CLIENTS + 2];
		struct rpc_client *order[RPC_MAX_CLIENTS];
		nfds_t n = 0, nc = 0;

		pfd[n++] = (struct pollfd){ .fd = stop_fd, .events = POLLIN };
		if (rpc->listen_fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = rpc->listen_fd, .events = POLLIN };
		for (struct rpc_client *cl = rpc->clients; cl && nc < RPC_MAX_CLIENTS;
		     cl = cl->next) {
			order[nc++] = cl;
			pfd[n++] = (struct pollfd){
				.fd = cl->fd,
				.events = (short)(POLLIN | (cl->out_len ? POLLOUT : 0)),
			};
		}
		if (timeout_ms >= 0) {
			uint64_t now = nvmf_now_ns();

			if (now >= end)
				return 0;
			wait = (int)((end - now + 999999) / 1000000);
		}
		if (poll(pfd, n, wait) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (nfds_t i = 0; i < nc; i++) {
			struct pollfd *p = &pfd[n - nc + i];

			if (p->revents && !client_io(rpc, order[i], p->revents)) {
				for (struct rpc_client **pp = &rpc->clients; *pp; pp = &(*pp)->next)
					if (*pp == order[i]) {
						*pp = order[i]->next;
						break;
					}
				client_free(order[i]);
			}
		}
		if (rpc->listen_fd >= 0 && (pfd[1].revents & POLLIN))
			accept_clients(rpc);
		if (pfd[0].revents & POLLIN)
			return 1;
	}
}

static int listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, probe;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: RPC socket path too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* a socket file nobody answers on is left from a crash: take it over; else refuse,
	 * as SPDK does when its socket is in use */
	probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		close(probe);
		snprintf(err, errlen, "%s: RPC socket in use by another process (give another "
			 "with -r)", path);
		return -EADDRINUSE;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    chmod(path, 0600) < 0 || listen(fd, 16) < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: RPC socket: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

int nvmf_rpc_create(struct nvmf_tgt *tgt, const char *sock_path, const char *save_path,
		    struct nvmf_rpc **out, char *err, size_t errlen)
{
	struct nvmf_rpc *rpc = calloc(1, sizeof(*rpc));

	*out = NULL;
	if (!rpc || (sock_path && !(rpc->sock_path = strdup(sock_path))) ||
	    (save_path && !(rpc->save_path = strdup(save_path)))) {
		snprintf(err, errlen, "out of memory");
		nvmf_rpc_destroy(rpc);
		return -ENOMEM;
	}
	rpc->tgt = tgt;
	rpc->listen_fd = -1;
	if (sock_path) {
		int fd = listen_unix(sock_path, err, errlen);

		if (fd < 0) {
			free(rpc->sock_path);
			rpc->sock_path = NULL; /* not ours: do not unlink it */
			nvmf_rpc_destroy(rpc);
			return fd;
		}
		rpc->listen_fd = fd;
		log_info("JSON-RPC server listening on %s", sock_path);
	}
	rpc_transport_from_cfg(rpc);
	rpc_bdev_sync(rpc);
	*out = rpc;
	return 0;
}

void nvmf_rpc_config_reloaded(struct nvmf_rpc *rpc)
{
	rpc_transport_from_cfg(rpc);
	rpc_bdev_sync(rpc);
}

void nvmf_rpc_destroy(struct nvmf_rpc *rpc)
{
	if (!rpc)
		return;
	while (rpc->clients) {
		struct rpc_client *cl = rpc->clients;

		rpc->clients = cl->next;
		client_free(cl);
	}
	if (rpc->listen_fd >= 0) {
		close(rpc->listen_fd);
		unlink(rpc->sock_path);
	}
	rpc_bdev_free_all(rpc);
	free(rpc->sock_path);
	free(rpc->save_path);
	free(rpc);
}
