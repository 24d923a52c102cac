/* The JSON-RPC client of nvmfctl and the tests (see client.h). */
#include "rpc/client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

int rpc_raw(const char *sock, const char *text, struct json_object **out, int n)
{
	struct json_tokener *tok = json_tokener_new();
	int fd = connect_unix(sock), got = 0;
	size_t len = strlen(text), off = 0;
	char buf[65536];

	if (fd < 0 || !tok) {
		json_tokener_free(tok);
		return fd < 0 ? fd : -ENOMEM;
	}
	while (off < len) {
		ssize_t w = send(fd, text + off, len - off, MSG_NOSIGNAL);

		if (w < 0) {
			got = -errno;
			goto out;
		}
		off += (size_t)w;
	}
	while (got < n) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;
		size_t pos = 0;

		/* 30 s: a target under ASan on a loaded machine can be slow, never this slow */
		if (poll(&p, 1, 30000) <= 0)
			break;
		r = read(fd, buf, sizeof(buf));
		if (r <= 0)
			break;
		while (pos < (size_t)r && got < n) {
			struct json_object *v;

			if (buf[pos] == '\n' || buf[pos] == ' ') {
				pos++;
				continue;
			}
			v = json_tokener_parse_ex(tok, buf + pos, (int)((size_t)r - pos));
			if (json_tokener_get_error(tok) == json_tokener_continue)
				break;
			if (!v) {
				got = -EPROTO;
				goto out;
			}
			pos += json_tokener_get_parse_end(tok);
			json_tokener_reset(tok);
			out[got++] = v;
		}
	}
out:
	close(fd);
	json_tokener_free(tok);
	return got;
}

int rpc_call(const char *sock, const char *method, const char *params, struct rpc_reply *r)
{
	static int id;
	char *req;
	struct json_object *v = NULL, *e, *f;
	int n;

	memset(r, 0, sizeof(*r));
	r->message = "";
	if (asprintf(&req, "{\"jsonrpc\":\"2.0\",\"method\":\"%s\",\"id\":%d%s%s}", method, ++id,
		     params ? ",\"params\":" : "", params ? params : "") < 0)
		return -ENOMEM;
	n = rpc_raw(sock, req, &v, 1);
	free(req);
	if (n < 0)
		return n;
	if (n == 0)
		return -ECONNRESET;
	r->resp = v;
	if (json_object_object_get_ex(v, "error", &e)) {
		if (json_object_object_get_ex(e, "code", &f))
			r->code = json_object_get_int(f);
		if (json_object_object_get_ex(e, "message", &f))
			r->message = json_object_get_string(f);
		if (!r->code)
			r->code = -1;
	} else if (!json_object_object_get_ex(v, "result", &r->result)) {
		return -EPROTO;
	}
	return 0;
}

void rpc_reply_free(struct rpc_reply *r)
{
	json_object_put(r->resp);
	memset(r, 0, sizeof(*r));
}
