/*
 * The Reservation Notification log of one controller (LID 80h): a queue of the oldest
 * unread notifications.  Each Get Log Page returns and consumes the oldest entry, with the
 * number still waiting behind it.
 *
 * Every notification takes the next Log Page Count (64 bits, 0 skipped: 0 means "empty").
 * When the queue is full the oldest entry goes, so what the host reads next jumps in
 * count: the jump is how many it lost, which is how the spec lets a controller report
 * lost notifications without a separate counter.
 */
#include <endian.h>
#include <string.h>

#include "target/resv.h"

void nvmf_resv_log_add(struct nvmf_resv_log *l, uint8_t type, uint32_t nsid)
{
	struct nvme_resv_notif_log *e;

	if (++l->counter == 0)
		l->counter = 1;
	if (l->nr == NVMF_RESV_LOG_SLOTS) {
		/* full: drop the oldest, the count gap reports it */
		l->head = (l->head + 1) % NVMF_RESV_LOG_SLOTS;
		l->nr--;
	}
	e = &l->slots[(l->head + l->nr) % NVMF_RESV_LOG_SLOTS];
	memset(e, 0, sizeof(*e));
	e->count = htole64(l->counter);
	e->type = type;
	e->nsid = htole32(nsid);
	l->nr++;
}

void nvmf_resv_log_read(struct nvmf_resv_log *l, struct nvme_resv_notif_log *out)
{
	memset(out, 0, sizeof(*out));
	if (!l->nr)
		return;
	*out = l->slots[l->head];
	l->head = (l->head + 1) % NVMF_RESV_LOG_SLOTS;
	l->nr--;
	out->nr_avail = (uint8_t)(l->nr > 255 ? 255 : l->nr);
}
