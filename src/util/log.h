/*
 * Logging: one line per event, with a level, to stderr.  Errors name the peer, the queue
 * and the command where there is one (callers put them in the message).
 */
#ifndef NVMF_UTIL_LOG_H
#define NVMF_UTIL_LOG_H

enum nvmf_log_level {
	NVMF_LOG_QUIET = -1, /* as a threshold only: nothing is logged (the fuzzers) */
	NVMF_LOG_ERR,
	NVMF_LOG_WARN,
	NVMF_LOG_INFO,
	NVMF_LOG_DEBUG,
};

extern enum nvmf_log_level nvmf_log_threshold;

void nvmf_log(enum nvmf_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) nvmf_log(NVMF_LOG_ERR, __VA_ARGS__)
#define log_warn(...) nvmf_log(NVMF_LOG_WARN, __VA_ARGS__)
#define log_info(...) nvmf_log(NVMF_LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                  \
	do {                                                                            \
		if (nvmf_log_threshold >= NVMF_LOG_DEBUG)                               \
			nvmf_log(NVMF_LOG_DEBUG, __VA_ARGS__);                          \
	} while (0)

#endif
