/*
 * The project's own small JSON-RPC 2.0 client (Unix socket) for nvmf-target's JSON-RPC
 * interface: one request per connection as SPDK's rpc.py sends (nvmfctl, the tests), or
 * raw bytes in and every response out (the tests: pipelining, batches, bad JSON).
 * Independent of the server (rpc_int.h): it links with json-c alone.
 */
#ifndef NVMF_RPC_CLIENT_H
#define NVMF_RPC_CLIENT_H

#include <json-c/json.h>
#include <stddef.h>

struct rpc_reply {
	struct json_object *resp;   /* the whole response object (owned) */
	struct json_object *result; /* its "result", or NULL */
	int code;                   /* "error"."code", 0 on success */
	const char *message;        /* "error"."message", or "" */
};

/*
 * Call method with params (JSON text, or NULL for none).  Returns 0 with *r filled (free
 * with rpc_reply_free), or -errno when the socket or the response fails.
 */
int rpc_call(const char *sock, const char *method, const char *params, struct rpc_reply *r);
void rpc_reply_free(struct rpc_reply *r);

/*
 * Send text as is and read what comes back until the target closes or n values came;
 * the values in out[0..n-1].  Returns how many came, or -errno.
 */
int rpc_raw(const char *sock, const char *text, struct json_object **out, int n);

#endif
