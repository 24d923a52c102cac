/*
 * `nvmf perf`: the spdk_nvme_perf of libnvmf — queue-depth driven I/O against one
 * NVMe/TCP namespace from pinned threads, with spdk_nvme_perf's flags and output.
 */
#ifndef NVMF_TOOLS_NVMF_PERF_H
#define NVMF_TOOLS_NVMF_PERF_H

/* argv[0] is the verb ("perf").  Returns the process exit status: 0, or 1 on a bad
 * argument, a failed connect, any I/O error or a verification mismatch. */
int nvmf_perf_main(int argc, char **argv);

#endif
