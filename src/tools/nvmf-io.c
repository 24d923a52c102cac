/*
 * nvmf read / write: blocks of a remote namespace to or from a file (stdout / stdin by
 * default), with nvme-cli's flags: --start-block, -c/--block-count (0's based),
 * -z/--data-size, -d/--data.  Large ranges go as several commands, each at most what the
 * controller takes in one (MDTS) and 65536 blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/nvme_spec.h"
#include "tools/nvmf.h"

struct io_args {
	unsigned nsid;
	uint64_t slba;
	int block_count;             /* 0's based; NVMF_UNSET when not given */
	uint64_t data_size;          /* bytes; 0 when not given */
	const char *data;
	bool fua;
};

static ssize_t read_full(int fd, uint8_t *p, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int io_cmd(int argc, char **argv, bool wr)
{
	struct fabrics_args a;
	struct io_args io = { .nsid = 1, .block_count = NVMF_UNSET };
	struct nvmf_ctrl_opts o;
	struct nvmf_ctrl *c = NULL;
	struct nvmf_ns_info ns;
	struct nvmf_qpair *q;
	uint64_t nblocks, bytes, done = 0;
	uint32_t chunk_blocks;
	uint8_t *buf = NULL;
	int fd = -1, rc;

	fabrics_args_init(&a);
	{
		struct cli_opt opts[] = {
			CLI_TARGET_OPTS(a),
			{ "nqn", 'n', CLI_STR, &a.subnqn, "NQN", "subsystem NQN" },
			{ "namespace-id", 0, CLI_UINT, &io.nsid, "NSID", "namespace (default 1)" },
			{ "start-block", 0, CLI_U64, &io.slba, "LBA", "first logical block (default 0)" },
			{ "block-count", 'c', CLI_INT, &io.block_count, "NUM",
			  "number of blocks, 0's based (0 is one block)" },
			{ "data-size", 'z', CLI_U64, &io.data_size, "BYTES", "bytes to transfer" },
			{ "data", 'd', CLI_STR, &io.data, "FILE",
			  wr ? "data to write (default: stdin)" : "file to read into (default: stdout)" },
			{ "force-unit-access", 'f', CLI_FLAG, &io.fua, NULL,
			  "write through to stable media (FUA)" },
			CLI_END,
		};

		if (!wr)
			opts[sizeof(opts) / sizeof(opts[0]) - 2].name = NULL;  /* FUA: writes only */

		rc = cli_parse(wr ? "-t tcp -a ADDR [-s PORT] -n NQN [--namespace-id=NSID] "
				    "[--start-block=LBA] [-c COUNT] [-z BYTES] [-d FILE]"
				  : "-t tcp -a ADDR [-s PORT] -n NQN [--namespace-id=NSID] "
				    "[--start-block=LBA] (-c COUNT | -z BYTES) [-d FILE]",
			       wr ? "Write a file's bytes to the namespace from --start-block on; the "
				    "last block is padded with zeroes."
				  : "Read blocks of the namespace into a file.",
			       opts, argc, argv);
	}
	if (rc)
		return rc > 0 ? 0 : EXIT_USAGE;
	if (io.block_count != NVMF_UNSET && io.block_count < 0) {
		cli_err("block count must be 0 or more (0's based)");
		return EXIT_USAGE;
	}
	if (!wr && io.block_count == NVMF_UNSET && !io.data_size) {
		cli_err("give the block count [--block-count | -c] (0's based) or the data size "
			"[--data-size | -z]");
		return EXIT_USAGE;
	}
	rc = fabrics_opts(&a, &o, true, NVMF_IO_PORT);
	if (rc)
		return rc;
	o.nr_io_queues = 1;

	/* the file first: a typo in a path should not cost a connection */
	if (io.data && strcmp(io.data, "-")) {
		fd = wr ? open(io.data, O_RDONLY | O_CLOEXEC)
			: open(io.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			cli_err("%s: %s", io.data, strerror(errno));
			return 1;
		}
	} else {
		fd = wr ? 0 : 1;
	}
	if (wr && io.block_count == NVMF_UNSET && !io.data_size) {
		struct stat st;

		if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
			cli_err("give the block count (-c) or the data size (-z) when the data does "
				"not come from a regular file");
			rc = EXIT_USAGE;
			goto out;
		}
		io.data_size = (uint64_t)st.st_size;
		if (!io.data_size) {
			cli_err("%s is empty", io.data);
			rc = 1;
			goto out;
		}
	}

	c = connect_oneshot(&o);
	if (!c) {
		rc = 1;
		goto out;
	}
	rc = nvmf_ctrl_ns_info(c, io.nsid, &ns);
	if (rc) {
		cli_err("%s:%s: %s: namespace %u: %s", o.traddr, o.trsvcid, o.subnqn, io.nsid,
			rc == -ENOENT ? "not active" : str_status(rc));
		rc = 1;
		goto out;
	}
	if (io.block_count != NVMF_UNSET)
		nblocks = (uint64_t)io.block_count + 1;
	else
		nblocks = (io.data_size + ns.block_size - 1) / ns.block_size;
	if (io.data_size > nblocks * ns.block_size) {
		cli_err("data size %llu is more than %llu blocks of %u bytes",
			(unsigned long long)io.data_size, (unsigned long long)nblocks, ns.block_size);
		rc = EXIT_USAGE;
		goto out;
	}
	bytes = io.data_size ? io.data_size : nblocks * ns.block_size;
	if (io.slba >= ns.nblocks || nblocks > ns.nblocks - io.slba) {
		cli_err("blocks %llu..%llu are beyond namespace %u's %llu blocks",
			(unsigned long long)io.slba, (unsigned long long)(io.slba + nblocks - 1),
			io.nsid, (unsigned long long)ns.nblocks);
		rc = 1;
		goto out;
	}
	if (wr && ns.read_only) {
		cli_err("namespace %u is write protected", io.nsid);
		rc = 1;
		goto out;
	}
	chunk_blocks = nvmf_ctrl_max_xfer(c) / ns.block_size;
	if (chunk_blocks > 65536)
		chunk_blocks = 65536;
	if (!chunk_blocks)
		chunk_blocks = 1;
	if (posix_memalign((void **)&buf, 4096, (size_t)chunk_blocks * ns.block_size)) {
		buf = NULL;
		rc = 1;
		goto out;
	}
	q = nvmf_ctrl_qpair(c, 0);
	for (uint64_t lba = io.slba; lba < io.slba + nblocks;) {
		uint32_t nlb = io.slba + nblocks - lba > chunk_blocks ? chunk_blocks
								      : (uint32_t)(io.slba + nblocks - lba);
		size_t len = (size_t)nlb * ns.block_size;
		size_t want = bytes - done < len ? (size_t)(bytes - done) : len;

		if (wr) {
			ssize_t got = read_full(fd, buf, want);

			if (got < 0) {
				cli_err("%s: %s", io.data ? io.data : "stdin", strerror((int)-got));
				rc = 1;
				break;
			}
			/* short input: the rest of the range is written as zeroes */
			memset(buf + got, 0, len - (size_t)got);
			rc = nvmf_write_sync(q, io.nsid, lba, nlb, buf, io.fua ? NVMF_IO_FUA : 0);
		} else {
			rc = nvmf_read_sync(q, io.nsid, lba, nlb, buf);
		}
		if (rc) {
			cli_err("%s:%s: %s of blocks %llu..%llu: %s", o.traddr, o.trsvcid,
				wr ? "write" : "read", (unsigned long long)lba,
				(unsigned long long)(lba + nlb - 1), str_status(rc));
			rc = 1;
			break;
		}
		if (!wr && (rc = cli_write_all(fd, buf, want))) {
			cli_err("%s: %s", io.data ? io.data : "stdout", strerror(-rc));
			rc = 1;
			break;
		}
		done += want;
		lba += nlb;
	}
	if (!rc)
		fprintf(stderr, "%s: Success\n", wr ? "write" : "read");
out:
	free(buf);
	if (c)
		nvmf_ctrl_disconnect(c);
	if (fd > 2)
		close(fd);
	return rc;
}

int cmd_read(int argc, char **argv)
{
	return io_cmd(argc, argv, false);
}

int cmd_write(int argc, char **argv)
{
	return io_cmd(argc, argv, true);
}
