/*
 * ublk bridge translations (src/ublk/map.c), no kernel needed: the device parameters a
 * namespace gives (block sizes, capacity, cache / FUA, discard and write-zeroes limits), a
 * ublk request as an NVM command (LBA scaling, alignment, FUA, DEAC, bounds), and NVMe
 * statuses as the errnos the block layer understands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>

#include "proto/nvme_spec.h"
#include "ublk/bridge.h"

static struct ublk_ns_caps caps(uint32_t bs, uint64_t nblocks, uint16_t oncs, uint8_t vwc)
{
	struct ublk_ns_caps c;

	memset(&c, 0, sizeof(c));
	c.block_size = bs;
	c.nblocks = nblocks;
	c.oncs = oncs;
	c.vwc = vwc;
	return c;
}

static void params_512_all_features(void **state)
{
	struct ublk_ns_caps c = caps(512, 524288, NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES,
				     NVME_VWC_PRESENT);
	struct ublk_params p;

	(void)state;
	assert_int_equal(ublk_map_params(&c, 512 * 1024, &p), 0);
	assert_int_equal(p.len, sizeof(p));
	assert_int_equal(p.types, UBLK_PARAM_TYPE_BASIC | UBLK_PARAM_TYPE_DISCARD);
	assert_int_equal(p.basic.attrs, UBLK_ATTR_VOLATILE_CACHE | UBLK_ATTR_FUA);
	assert_int_equal(p.basic.logical_bs_shift, 9);
	assert_int_equal(p.basic.physical_bs_shift, 9);
	assert_int_equal(p.basic.io_min_shift, 9);
	assert_int_equal(p.basic.io_opt_shift, 9);
	assert_int_equal(p.basic.max_sectors, 1024);
	assert_int_equal(p.basic.dev_sectors, 524288);
	assert_int_equal(p.discard.discard_granularity, 512);
	assert_int_equal(p.discard.discard_alignment, 0);
	assert_int_equal(p.discard.max_discard_segments, 1);
	assert_int_equal(p.discard.max_discard_sectors, UINT32_MAX);
	assert_int_equal(p.discard.max_write_zeroes_sectors, 65536);
}

static void params_4k(void **state)
{
	struct ublk_ns_caps c = caps(4096, 16384, NVME_ONCS_DSM | NVME_ONCS_WRITE_ZEROES, 0);
	struct ublk_params p;

	(void)state;
	/* a transfer limit that is not a block multiple is rounded down */
	assert_int_equal(ublk_map_params(&c, 512 * 1024 + 2048, &p), 0);
	assert_int_equal(p.basic.logical_bs_shift, 12);
	assert_int_equal(p.basic.physical_bs_shift, 12);
	assert_int_equal(p.basic.max_sectors, 1024);
	assert_int_equal(p.basic.dev_sectors, 16384ull * 8);
	/* no volatile write cache: no flushes to send */
	assert_int_equal(p.basic.attrs & UBLK_ATTR_VOLATILE_CACHE, 0);
	assert_int_equal(p.discard.discard_granularity, 4096);
	/* whole blocks only (the block count fits the 32-bit range NLB anyway) */
	assert_int_equal(p.discard.max_discard_sectors, UINT32_MAX & ~7u);
	assert_int_equal(p.discard.max_write_zeroes_sectors, 65536 * 8);
}

static void params_optional_commands(void **state)
{
	struct ublk_ns_caps c = caps(512, 1000, NVME_ONCS_WRITE_ZEROES, NVME_VWC_PRESENT);
	struct ublk_params p;

	(void)state;
	/* write zeroes without DSM: no discard, yet the discard type carries the WZ limit */
	assert_int_equal(ublk_map_params(&c, 65536, &p), 0);
	assert_true(p.types & UBLK_PARAM_TYPE_DISCARD);
	assert_int_equal(p.discard.max_discard_sectors, 0);
	assert_int_equal(p.discard.max_discard_segments, 0);
	assert_int_equal(p.discard.max_write_zeroes_sectors, 65536);
	assert_int_not_equal(p.discard.discard_granularity, 0);

	c = caps(512, 1000, NVME_ONCS_DSM, 0);
	assert_int_equal(ublk_map_params(&c, 65536, &p), 0);
	assert_int_equal(p.discard.max_write_zeroes_sectors, 0);
	assert_int_equal(p.discard.max_discard_segments, 1);

	c = caps(512, 1000, NVME_ONCS_COMPARE, 0);
	assert_int_equal(ublk_map_params(&c, 65536, &p), 0);
	assert_int_equal(p.types, UBLK_PARAM_TYPE_BASIC);

	c.read_only = true;
	assert_int_equal(ublk_map_params(&c, 65536, &p), 0);
	assert_true(p.basic.attrs & UBLK_ATTR_READ_ONLY);
}

static void params_refused(void **state)
{
	static const uint32_t bad[] = { 0, 256, 3000, 8192, 65536 };
	struct ublk_params p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ublk_ns_caps c = caps(bad[i], 1000, 0, 0);

		assert_int_equal(ublk_map_params(&c, 65536, &p), -EINVAL);
	}
	{
		struct ublk_ns_caps c = caps(4096, 1000, 0, 0);

		/* smaller than one block, or an empty namespace */
		assert_int_equal(ublk_map_params(&c, 2048, &p), -EINVAL);
		c.nblocks = 0;
		assert_int_equal(ublk_map_params(&c, 65536, &p), -EINVAL);
	}
	{
		struct ublk_ns_caps c = caps(1024, 1000, 0, 0);

		assert_int_equal(ublk_map_params(&c, 65536, &p), 0);
		assert_int_equal(p.basic.logical_bs_shift, 10);
	}
}

static struct ublksrv_io_desc iod(unsigned op, unsigned flags, uint64_t sector, uint32_t n)
{
	struct ublksrv_io_desc d;

	memset(&d, 0, sizeof(d));
	d.op_flags = op | flags;
	d.start_sector = sector;
	d.nr_sectors = n;
	return d;
}

static void io_read_write(void **state)
{
	struct ublksrv_io_desc d = iod(UBLK_IO_OP_READ, 0, 16, 8);
	struct ublk_nvme_io io;

	(void)state;
	assert_int_equal(ublk_map_io(&d, 9, 65536, &io), 0);
	assert_int_equal(io.op, UBLK_NVME_READ);
	assert_int_equal(io.lba, 16);
	assert_int_equal(io.nlb, 8);
	assert_int_equal(io.bytes, 4096);
	assert_int_equal(io.flags, 0);

	/* 4 KiB blocks: sectors scale down by 8 */
	d = iod(UBLK_IO_OP_WRITE, 0, 8 * 1000, 8 * 3);
	assert_int_equal(ublk_map_io(&d, 12, 65536, &io), 0);
	assert_int_equal(io.op, UBLK_NVME_WRITE);
	assert_int_equal(io.lba, 1000);
	assert_int_equal(io.nlb, 3);
	assert_int_equal(io.bytes, 3 * 4096);
	assert_int_equal(io.flags, 0);

	d = iod(UBLK_IO_OP_WRITE, UBLK_IO_F_FUA, 0, 8);
	assert_int_equal(ublk_map_io(&d, 12, 65536, &io), 0);
	assert_int_equal(io.flags, NVMF_IO_FUA);

	/* beyond 32-bit sector numbers */
	d = iod(UBLK_IO_OP_READ, UBLK_IO_F_META, 1ull << 40, 1);
	assert_int_equal(ublk_map_io(&d, 9, 65536, &io), 0);
	assert_int_equal(io.lba, 1ull << 40);
}

static void io_refused(void **state)
{
	struct ublk_nvme_io io;
	struct ublksrv_io_desc d;

	(void)state;
	/* not block aligned (start or length) on a 4 KiB namespace */
	d = iod(UBLK_IO_OP_READ, 0, 4, 8);
	assert_int_equal(ublk_map_io(&d, 12, 65536, &io), -EINVAL);
	d = iod(UBLK_IO_OP_WRITE, 0, 8, 12);
	assert_int_equal(ublk_map_io(&d, 12, 65536, &io), -EINVAL);
	/* empty, or larger than the tag's buffer */
	d = iod(UBLK_IO_OP_READ, 0, 0, 0);
	assert_int_equal(ublk_map_io(&d, 9, 65536, &io), -EINVAL);
	d = iod(UBLK_IO_OP_WRITE, 0, 0, 129);
	assert_int_equal(ublk_map_io(&d, 9, 65536, &io), -EINVAL);
	d = iod(UBLK_IO_OP_READ, 0, 0, UINT32_MAX & ~7u);
	assert_int_equal(ublk_map_io(&d, 12, 65536, &io), -EINVAL);
	/* ops the bridge does not serve */
	d = iod(UBLK_IO_OP_WRITE_SAME, 0, 0, 8);
	assert_int_equal(ublk_map_io(&d, 9, 65536, &io), -EOPNOTSUPP);
	d = iod(0x7F, 0, 0, 8);
	assert_int_equal(ublk_map_io(&d, 9, 65536, &io), -EOPNOTSUPP);
}

static void io_flush_discard_zeroes(void **state)
{
	struct ublk_nvme_io io;
	struct ublksrv_io_desc d;

	(void)state;
	d = iod(UBLK_IO_OP_FLUSH, 0, 0, 0);
	assert_int_equal(ublk_map_io(&d, 9, 65536, &io), 0);
	assert_int_equal(io.op, UBLK_NVME_FLUSH);
	assert_int_equal(io.bytes, 0);

	/* discards are not bounded by the data buffer */
	d = iod(UBLK_IO_OP_DISCARD, 0, 8 * 10, 8 * 100000);
	assert_int_equal(ublk_map_io(&d, 12, 65536, &io), 0);
	assert_int_equal(io.op, UBLK_NVME_DEALLOCATE);
	assert_int_equal(io.lba, 10);
	assert_int_equal(io.nlb, 100000);
	assert_int_equal(io.bytes, 0);

	d = iod(UBLK_IO_OP_WRITE_ZEROES, 0, 0, 65536);
	assert_int_equal(ublk_map_io(&d, 9, 65536, &io), 0);
	assert_int_equal(io.op, UBLK_NVME_WRITE_ZEROES);
	assert_int_equal(io.nlb, 65536);
	assert_int_equal(io.flags, NVMF_IO_DEAC);
	assert_int_equal(io.bytes, 0);

	/* REQ_NOUNMAP: keep the blocks allocated */
	d = iod(UBLK_IO_OP_WRITE_ZEROES, UBLK_IO_F_NOUNMAP, 0, 8);
	assert_int_equal(ublk_map_io(&d, 9, 65536, &io), 0);
	assert_int_equal(io.flags, 0);

	/* one past the 16-bit NLB */
	d = iod(UBLK_IO_OP_WRITE_ZEROES, 0, 0, 65537);
	assert_int_equal(ublk_map_io(&d, 9, 65536, &io), -EINVAL);
}

static void status_to_errno(void **state)
{
	(void)state;
	assert_int_equal(ublk_map_status(0), 0);
	assert_int_equal(ublk_map_status(-ENODEV), -EIO);
	assert_int_equal(ublk_map_status(-ECONNRESET), -EIO);
	assert_int_equal(ublk_map_status(-EINVAL), -EINVAL);
	assert_int_equal(ublk_map_status(NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INVALID_OPCODE)),
			 -EOPNOTSUPP);
	assert_int_equal(ublk_map_status(NVME_STATUS_NORETRY(NVME_SCT_GENERIC,
							     NVME_SC_INVALID_FIELD)),
			 -EOPNOTSUPP);
	assert_int_equal(ublk_map_status(NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_LBA_OUT_OF_RANGE)),
			 -EREMOTEIO);
	assert_int_equal(ublk_map_status(NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_CAPACITY_EXCEEDED)),
			 -ENOSPC);
	assert_int_equal(ublk_map_status(NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_DATA_XFER_ERROR)),
			 -EIO);
	assert_int_equal(ublk_map_status(NVME_STATUS(NVME_SCT_MEDIA, 0x81)), -ENODATA);
	assert_int_equal(ublk_map_status(NVME_STATUS(NVME_SCT_PATH, 0x00)), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(params_512_all_features),
		cmocka_unit_test(params_4k),
		cmocka_unit_test(params_optional_commands),
		cmocka_unit_test(params_refused),
		cmocka_unit_test(io_read_write),
		cmocka_unit_test(io_refused),
		cmocka_unit_test(io_flush_discard_zeroes),
		cmocka_unit_test(status_to_errno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
