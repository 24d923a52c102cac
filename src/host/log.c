/*
 * libnvmf's log sink (see host/log.h).  Messages are rare (connection events, never per
 * command), so a mutex guarding the function and its argument costs nothing and keeps the
 * pair consistent when an application changes it while the admin thread logs.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

#include "host/log.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static nvmf_log_fn log_fn;
static void *log_arg;
static atomic_int log_level = LOG_INFO;

void nvmf_set_log_fn(nvmf_log_fn fn, void *arg)
{
	pthread_mutex_lock(&log_lock);
	log_fn = fn;
	log_arg = arg;
	pthread_mutex_unlock(&log_lock);
}

void nvmf_set_log_level(int level)
{
	atomic_store(&log_level, level);
}

void host_log(int level, const char *fmt, ...)
{
	char msg[1024];
	nvmf_log_fn fn;
	void *arg;
	va_list ap;

	if (level > atomic_load(&log_level))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	fn = log_fn;
	arg = log_arg;
	pthread_mutex_unlock(&log_lock);
	/* outside the lock: the function may log itself, or take its own locks */
	if (fn)
		fn(arg, level, msg);
	else
		fprintf(stderr, "nvmf: %s\n", msg);
}
