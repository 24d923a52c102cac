/* The RBD tests' Ceph cluster and the commands on it (ceph_test.h). */
#include "ceph_test.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

char ceph_dir[64], ceph_conf[128], ceph_keyring[128];
static bool cluster_up;

int ceph_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int ceph_up(const char *tag)
{
	const char *script = getenv("NVMF_CEPH_CLUSTER");

	if (!script) {
		fprintf(stderr, "NVMF_CEPH_CLUSTER (ceph-cluster.sh) is not set\n");
		return -1;
	}
	snprintf(ceph_dir, sizeof(ceph_dir), "/tmp/nvmf-%s-XXXXXX", tag);
	if (!mkdtemp(ceph_dir)) {
		ceph_dir[0] = 0;
		return -1;
	}
	snprintf(ceph_conf, sizeof(ceph_conf), "%s/ceph.conf", ceph_dir);
	snprintf(ceph_keyring, sizeof(ceph_keyring), "%s/keyring", ceph_dir);
	if (ceph_sh("%s start %s", script, ceph_dir) != 0) {
		fprintf(stderr, "the Ceph cluster did not start (%s start %s)\n", script,
			ceph_dir);
		ceph_sh("%s stop %s; rm -rf %s", script, ceph_dir, ceph_dir);
		ceph_dir[0] = 0;
		return -1;
	}
	cluster_up = true;
	return 0;
}

void ceph_down(void)
{
	if (cluster_up)
		ceph_sh("%s stop %s", getenv("NVMF_CEPH_CLUSTER"), ceph_dir);
	cluster_up = false;
	if (ceph_dir[0])
		ceph_sh("rm -rf %s", ceph_dir);
	ceph_dir[0] = 0;
}

int ceph_rbd_create(const char *image, unsigned mb)
{
	return ceph_sh("rbd -c %s create --size %uM rbd/%s", ceph_conf, mb, image);
}

const char *ceph_rbd_export(const char *image)
{
	static char out[192];

	snprintf(out, sizeof(out), "%s/%s.export", ceph_dir, image);
	unlink(out);
	if (ceph_sh("rbd -c %s export --no-progress rbd/%s %s >/dev/null 2>&1", ceph_conf, image,
		    out) != 0)
		return NULL;
	return out;
}

pid_t ceph_osd_pid(void)
{
	char pidf[128];
	long pid = -1;
	FILE *f;

	snprintf(pidf, sizeof(pidf), "%s/run/osd.0.pid", ceph_dir);
	f = fopen(pidf, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = -1;
	fclose(f);
	return (pid_t)pid;
}
