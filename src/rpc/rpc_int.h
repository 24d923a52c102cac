/*
 * Inside the JSON-RPC layer: the server state, the method table and the helpers that
 * decode parameters the way SPDK's handlers do (unknown keys and wrong types are
 * "Invalid params", -32602).
 */
#ifndef NVMF_RPC_RPC_INT_H
#define NVMF_RPC_RPC_INT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "rpc/rpc.h"

/* JSON-RPC 2.0 error codes (SPDK's include/spdk/jsonrpc.h uses the same). */
#define RPC_ERR_PARSE		-32700
#define RPC_ERR_INVALID_REQUEST	-32600
#define RPC_ERR_METHOD_NOT_FOUND -32601
#define RPC_ERR_INVALID_PARAMS	-32602
#define RPC_ERR_INTERNAL	-32603
#define RPC_ERR_INVALID_STATE	-1

/* What SPDK's bdev modules are to us: a named backing, opened when a namespace uses it. */
enum rpc_bdev_kind { RPC_BDEV_MALLOC, RPC_BDEV_NULL, RPC_BDEV_AIO, RPC_BDEV_URING,
		     RPC_BDEV_RBD };

struct rpc_bdev {
	char *name;
	enum rpc_bdev_kind kind;
	char *filename;          /* AIO / URING; RBD: the rbd: device path (rbd_uri.h) */
	uint32_t block_size;     /* 0: the file's (AIO / URING without block_size) */
	uint64_t num_blocks;     /* MALLOC / NULL */
	uint8_t uuid[16];
	bool has_uuid;
};

/* nvmf_create_transport's options for TCP: what ports made over RPC get. */
struct rpc_transport {
	bool created;
	uint32_t max_queue_depth;
	uint32_t max_io_qpairs_per_ctrlr;
	uint32_t in_capsule_data_size;
	uint32_t max_io_size;
	uint32_t io_unit_size;
	uint32_t max_aq_depth;
	uint32_t abort_timeout_sec;
	bool c2h_success;
	uint32_t sock_priority;
};

struct rpc_client;

struct nvmf_rpc {
	struct nvmf_tgt *tgt;
	char *sock_path;
	char *save_path;
	int listen_fd;
	struct rpc_client *clients;
	struct rpc_bdev *bdevs;
	size_t nr_bdevs;
	struct rpc_transport transport;
};

/* A call: params in, result or error out.  A handler returns 0 or an error code. */
struct rpc_call {
	struct nvmf_rpc *rpc;
	const char *method;
	struct json_object *params;  /* NULL when the request had none */
	struct json_object *result;  /* the handler's, owned by the call */
	char msg[512];               /* the error message */
};

int rpc_fail(struct rpc_call *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* -32602 with SPDK's "Invalid parameters" and why. */
int rpc_invalid(struct rpc_call *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Parameter decoding.  rpc_params() checks params is an object (or absent when nothing is
 * required) with only the keys in `known` (NULL-terminated).  The getters return 0 when
 * the key is absent (*present false) or well typed, else the -32602 error.
 */
int rpc_params(struct rpc_call *c, const char *const *known);
int rpc_str(struct rpc_call *c, struct json_object *obj, const char *key, bool required,
	    const char **out);
int rpc_u64(struct rpc_call *c, struct json_object *obj, const char *key, bool required,
	    uint64_t max, uint64_t *out, bool *present);
int rpc_bool(struct rpc_call *c, struct json_object *obj, const char *key, bool *out);
int rpc_obj(struct rpc_call *c, struct json_object *obj, const char *key, bool required,
	    struct json_object **out);
/* UUID text (8-4-4-4-12 hex) into bytes; false when malformed. */
bool rpc_parse_uuid(const char *s, uint8_t out[16]);
void rpc_fmt_uuid(char out[37], const uint8_t u[16]);

struct rpc_method {
	const char *name;
	int (*fn)(struct rpc_call *c);
};
/* Tables of nvmf.c, ns_host.c, live.c, bdev.c, config.c; each ends with a NULL name. */
extern const struct rpc_method rpc_nvmf_methods[];
extern const struct rpc_method rpc_bdev_methods[];
extern const struct rpc_method rpc_config_methods[];
extern const struct rpc_method rpc_live_methods[];
extern const struct rpc_method rpc_ns_host_methods[];

/* Run one method (the server, load_config and -c replays). */
int rpc_dispatch(struct rpc_call *c);

/* bdevs (rpc_bdev.c) */
struct rpc_bdev *rpc_bdev_find(struct nvmf_rpc *rpc, const char *name);
/* The namespace fields of a bdev: backend, path, size, block size, name. */
int rpc_bdev_to_ns(const struct rpc_bdev *b, struct json_object *device, uint64_t *size);
/* Bytes of a bdev (files: their size now); 0 when unknown. */
uint64_t rpc_bdev_bytes(const struct rpc_bdev *b, uint32_t *block_size);
/* Register the bdevs the configuration's namespaces use and the registry lacks. */
void rpc_bdev_sync(struct nvmf_rpc *rpc);
void rpc_bdev_free_all(struct nvmf_rpc *rpc);
/* save_config's bdev part: the create calls, in order. */
struct json_object *rpc_bdev_config(struct nvmf_rpc *rpc);

/*
 * Configuration edits (doc.c): the model in force as nvmetcli JSON, to change and
 * commit: load (the loader validates), apply live, save.  commit consumes doc.
 */
struct json_object *rpc_cfg_begin(struct rpc_call *c);
int rpc_cfg_commit(struct rpc_call *c, struct json_object *doc);
/* A member of an object, or NULL; its text, or "". */
struct json_object *rpc_jget(struct json_object *o, const char *key);
const char *rpc_jstr(struct json_object *o, const char *key);
/* The document's top-level list key ("subsystems", "ports", "hosts"), made when missing. */
struct json_object *rpc_doc_list(struct json_object *doc, const char *key);
/* The subsystem of that NQN in the document (its index in *idx), or NULL. */
struct json_object *rpc_doc_subsys(struct json_object *doc, const char *nqn, size_t *idx);
/* A subsystem's list of NQNs (allowed_hosts, listed_hosts), made when missing. */
struct json_object *rpc_subsys_list(struct json_object *sub, const char *key);
/* Move every NQN of one of a subsystem's lists to the other. */
void rpc_move_hosts(struct json_object *sub, const char *from, const char *to);
/* Lists of strings: membership, removal. */
bool rpc_strv_has(struct json_object *arr, const char *s);
void rpc_strv_del(struct json_object *arr, const char *s);
/* Drop ports that link nothing (nvmet does not enable them) and hosts nothing names. */
void rpc_doc_tidy(struct json_object *doc);
struct json_object *rpc_nvmf_config(struct nvmf_rpc *rpc);
/* SPDK's listen address object of a port: trtype, adrfam, traddr, trsvcid. */
struct nvmf_cfg_port;
struct json_object *rpc_address_json(const struct nvmf_cfg_port *p);
/* Check params against known and that "nqn" names a subsystem (SPDK's error if not). */
int rpc_subsys_arg(struct rpc_call *c, const char *const *known, const char **nqn);
void rpc_transport_from_cfg(struct nvmf_rpc *rpc);

#endif
