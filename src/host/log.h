/*
 * libnvmf's messages: one line per event, to the application's log function
 * (nvmf_set_log_fn) or, by default, to stderr as "nvmf: <msg>".
 */
#ifndef NVMF_HOST_LOG_H
#define NVMF_HOST_LOG_H

#include <syslog.h>   /* LOG_ERR ... LOG_DEBUG: the levels */

#include "nvmf/nvmf.h"

/* level: a syslog(3) priority.  The text is cut at 1023 bytes. */
void host_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
