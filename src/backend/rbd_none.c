/*
 * The rbd backend of a build without librbd: an "rbd:" path is refused with the reason.
 */
#include "backend/bdev.h"

#include <errno.h>
#include <stdio.h>

bool nvmf_bdev_rbd_available(void)
{
	return false;
}

int nvmf_bdev_rbd_open(const struct nvmf_bdev_params *p, struct nvmf_bdev **out, char *err,
		       size_t errlen)
{
	(void)out;
	snprintf(err, errlen, "%s: this nvmf-target is built without RBD support (librbd-dev)",
		 p->path ? p->path : "rbd");
	return -EOPNOTSUPP;
}
