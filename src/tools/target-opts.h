/*
 * nvmf-target's command line: the quick-start flags and the process options, parsed into
 * one struct with no side effect, so the parser can be tested and fuzzed on its own
 * (tests/fuzz/fuzz_target_opts.c).
 */
#ifndef NVMF_TOOLS_TARGET_OPTS_H
#define NVMF_TOOLS_TARGET_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "conn/tls.h"
#include "target/config.h"

struct target_opts {
	struct nvmf_cfg_quick quick;
	const char *config;       /* --config FILE */
	const char *spdk_json;    /* -c, --json FILE: SPDK's JSON configuration */
	const char *rpc_sock;     /* -r, --rpc-socket PATH (the caller picks the default) */
	const char *save;         /* --save FILE */
	const char *metrics;      /* --metrics ADDR:PORT */
	bool have_ns;             /* a quick-start namespace (--ram, --null, --file, --device) */
	const char *tls_keys;     /* --tls-keys FILE */
	const char *user;         /* --user U[:G], resolved by the caller */
	enum nvmf_tls_record tls_record;
	bool tls_compat;
	bool poll;
	bool verbose;
	unsigned cpus;            /* default: the cores online */
	uint32_t spin_us;
	bool no_spin_rx;          /* --no-spin-rx */
	uint64_t buf_pool;        /* 0: no limit */
};

enum { TARGET_OPTS_RUN = 0, TARGET_OPTS_HELP = 1, TARGET_OPTS_USAGE = 2 };

/*
 * Parse argv (getopt_long, from argv[1]): TARGET_OPTS_RUN, TARGET_OPTS_HELP (-h: the usage
 * went to out), or TARGET_OPTS_USAGE (the reason, or the usage, went to errf).
 */
int target_opts_parse(int argc, char **argv, struct target_opts *o, FILE *out, FILE *errf);

#endif
