/*
 * libFuzzer target for nvmf-target's command line (src/tools/target-opts.c) and, for the
 * quick-start flags, the configuration they build (nvmf_cfg_quickstart: --listen
 * addresses, --nqn, sizes).  The input is the argument vector, NUL separated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/config.h"
#include "tools/target-opts.h"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	char *argv[MAX_ARGS + 2];
	char *buf = malloc(size + 1), *p;
	struct target_opts o;
	int argc = 1;

	if (!buf)
		return 0;
	if (!null)
		null = fopen("/dev/null", "w");
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = (char *)"nvmf-target";
	for (p = buf; p < buf + size && argc < MAX_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	if (target_opts_parse(argc, argv, &o, null, null) == TARGET_OPTS_RUN && !o.config) {
		char err[512];
		struct nvmf_cfg *cfg;

		err[0] = '\0';
		cfg = nvmf_cfg_quickstart(&o.quick, err, sizeof(err));
		if (cfg) {
			if (cfg->nr_ports != 1 || cfg->nr_subsystems != 1 ||
			    !nvmf_cfg_find_subsys(cfg, cfg->ports[0].subsystems[0]))
				abort();
			nvmf_cfg_free(cfg);
		} else if (!err[0]) {
			abort(); /* a refusal says why */
		}
	}
	free(buf);
	return 0;
}
