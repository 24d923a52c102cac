/*
 * The RBD tests' throw-away Ceph cluster (ceph-cluster.sh, named by $NVMF_CEPH_CLUSTER):
 * started once per test program in a directory of its own, stopped and removed at the end,
 * plus the shell commands the tests check the cluster with (rbd create / export).
 */
#ifndef NVMF_TEST_CEPH_TEST_H
#define NVMF_TEST_CEPH_TEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The cluster's directory, its ceph.conf and client.admin keyring (set by ceph_up). */
extern char ceph_dir[64], ceph_conf[128], ceph_keyring[128];

/* system() of the formatted command: its exit status, or -1. */
__attribute__((format(printf, 1, 2))) int ceph_sh(const char *fmt, ...);

/*
 * A new directory /tmp/nvmf-<tag>-XXXXXX and the cluster in it: 0, or -1 after a message
 * (and nothing left behind).
 */
int ceph_up(const char *tag);
/* Stop the cluster and remove its directory (whatever ceph_up got to). */
void ceph_down(void);

/* `rbd create` of rbd/image, mb MiB: 0 or the exit status. */
int ceph_rbd_create(const char *image, unsigned mb);
/* `rbd export` of rbd/image into dir/image.export: the file's path (static), or NULL. */
const char *ceph_rbd_export(const char *image);

/* The OSD's pid, from the pid file the cluster's configuration gives it; -1 if unknown. */
pid_t ceph_osd_pid(void);

#endif
