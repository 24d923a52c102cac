/*
 * libFuzzer target for the configuration loader (src/target/config.c): the input is a
 * config.json as `nvmetcli save` writes it.  A file that loads must hold what the loader
 * promises the core (every port link names a subsystem, every message is one line that
 * names the file); one that fails must say why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "target/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_loaded(const struct nvmf_cfg *cfg)
{
	for (size_t i = 0; i < cfg->nr_ports; i++) {
		const struct nvmf_cfg_port *p = &cfg->ports[i];

		for (size_t k = 0; k < p->nr_subsystems; k++)
			if (!nvmf_cfg_find_subsys(cfg, p->subsystems[k]))
				abort();
		/* group 1 always exists; an unknown group is inaccessible, never a crash */
		for (uint32_t g = 0; g <= 129; g++)
			(void)nvmf_cfg_port_ana_state(p, g);
		if (!nvmf_cfg_trtype_name(p->trtype) || !nvmf_cfg_adrfam_name(p->adrfam))
			abort();
	}
	for (size_t i = 0; i < cfg->nr_subsystems; i++)
		if (nvmf_cfg_find_subsys(cfg, cfg->subsystems[i].nqn) == NULL)
			abort();
	for (size_t i = 0; i < cfg->nr_hosts; i++)
		if (!nvmf_cfg_find_host(cfg, cfg->hosts[i].nqn))
			abort();
	for (size_t i = 0; i < cfg->nr_warnings; i++)
		if (strchr(cfg->warnings[i], '\n'))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvmf_cfg *cfg = NULL;
	char err[512];
	char *json = malloc(size + 1);
	int rc;

	if (!json)
		return 0;
	memcpy(json, data, size);
	json[size] = '\0';
	err[0] = '\0';
	rc = nvmf_cfg_load_string(json, "fuzz.json", &cfg, err, sizeof(err));
	if (rc == 0) {
		check_loaded(cfg);
		nvmf_cfg_free(cfg);
	} else if (cfg || !err[0] || strncmp(err, "fuzz.json", 9) != 0 || strchr(err, '\n')) {
		fprintf(stderr, "failed load: rc %d, message \"%s\"\n", rc, err);
		abort();
	}
	free(json);
	return 0;
}
