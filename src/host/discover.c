/*
 * libnvmf discovery: read a discovery controller's whole log (retrying while its
 * generation counter moves under us), and follow referrals to other discovery controllers.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"

#define GENCTR_RETRIES 10
#define MAX_REFERRAL_HOPS 16

/* Copy a space- or NUL-padded wire string, trimmed. */
static void wire_str(char *dst, size_t dlen, const char *src, size_t slen)
{
	size_t n = 0;

	while (n < slen && n + 1 < dlen && src[n])
		n++;
	memcpy(dst, src, n);
	while (n > 0 && dst[n - 1] == ' ')
		n--;
	dst[n] = 0;
}

static void parse_entry(struct nvmf_disc_entry *e, const struct nvmf_disc_log_entry *w)
{
	memset(e, 0, sizeof(*e));
	e->trtype = w->trtype;
	e->adrfam = w->adrfam;
	e->subtype = w->subtype;
	e->treq = w->treq;
	e->portid = le16toh(w->portid);
	e->cntlid = le16toh(w->cntlid);
	e->asqsz = le16toh(w->asqsz);
	e->eflags = le16toh(w->eflags);
	wire_str(e->trsvcid, sizeof(e->trsvcid), w->trsvcid, sizeof(w->trsvcid));
	wire_str(e->traddr, sizeof(e->traddr), w->traddr, sizeof(w->traddr));
	wire_str(e->subnqn, sizeof(e->subnqn), w->subnqn, sizeof(w->subnqn));
	e->sectype = w->tsas.tcp.sectype;
}

/* The log of one connected discovery controller. */
static int read_log(struct nvmf_ctrl *c, struct nvmf_disc_entry **out, unsigned *count,
		    uint64_t *genctr)
{
	struct nvmf_disc_log_hdr *hdr = NULL;

	for (int attempt = 0; attempt < GENCTR_RETRIES; attempt++) {
		struct nvmf_disc_log_hdr first;
		uint64_t numrec, gen;
		size_t size;
		int rc = nvmf_get_log_page(c, NVME_LID_DISCOVERY, 0, 0, &first, sizeof(first));

		/* a retry holds the previous attempt's log: every way out frees it */
		if (rc) {
			free(hdr);
			return rc < 0 ? rc : -EIO;
		}
		numrec = le64toh(first.numrec);
		gen = le64toh(first.genctr);
		if (numrec > 4096) {
			free(hdr);
			return -E2BIG;
		}
		size = sizeof(first) + numrec * sizeof(struct nvmf_disc_log_entry);
		free(hdr);
		hdr = malloc(size);
		if (!hdr)
			return -ENOMEM;
		/* in pieces of at most 64 KiB, each a Get Log Page with an offset */
		for (size_t off = 0; off < size;) {
			uint32_t n = size - off > 65536 ? 65536 : (uint32_t)(size - off);

			rc = nvmf_get_log_page(c, NVME_LID_DISCOVERY, 0, off, (uint8_t *)hdr + off, n);
			if (rc) {
				free(hdr);
				return rc < 0 ? rc : -EIO;
			}
			off += n;
		}
		/* unchanged generation and count: a consistent snapshot */
		if (le64toh(hdr->genctr) == gen && le64toh(hdr->numrec) == numrec) {
			struct nvmf_disc_entry *e = calloc(numrec ? numrec : 1, sizeof(*e));

			if (!e) {
				free(hdr);
				return -ENOMEM;
			}
			for (uint64_t i = 0; i < numrec; i++)
				parse_entry(&e[i], &hdr->entries[i]);
			*out = e;
			*count = (unsigned)numrec;
			if (genctr)
				*genctr = gen;
			free(hdr);
			return 0;
		}
	}
	free(hdr);
	return -EAGAIN;
}

static int discover_one(const struct nvmf_ctrl_opts *o, struct nvmf_disc_entry **out,
			unsigned *count, uint64_t *genctr)
{
	struct nvmf_ctrl_opts d = *o;
	struct nvmf_ctrl *c;
	int rc;

	d.nr_io_queues = 0;
	d.kato_ms = 0;            /* a one-shot discovery, as nvme discover without -p */
	d.ctrl_loss_tmo_s = 0;    /* never reconnect */
	if (!d.subnqn)
		d.subnqn = NVMF_DISCOVERY_NQN;
	rc = nvmf_ctrl_connect(&d, &c);
	if (rc)
		return rc;
	rc = read_log(c, out, count, genctr);
	nvmf_ctrl_disconnect(c);
	return rc;
}

int nvmf_discover(const struct nvmf_ctrl_opts *o, bool follow_referrals,
		  struct nvmf_disc_entry **entries, unsigned *count, uint64_t *genctr)
{
	struct nvmf_disc_entry *all = NULL;
	unsigned n = 0;
	char visited[MAX_REFERRAL_HOPS][300];
	unsigned nvisited = 0;
	int rc;

	rc = discover_one(o, &all, &n, genctr);
	if (rc)
		return rc;
	snprintf(visited[nvisited++], sizeof(visited[0]), "%s:%s", o->traddr,
		 o->trsvcid ? o->trsvcid : "8009");
	for (unsigned i = 0; follow_referrals && i < n; i++) {
		struct nvmf_disc_entry *more = NULL;
		struct nvmf_ctrl_opts r = *o;
		unsigned m = 0;
		char key[300];
		bool seen = false;

		if (all[i].subtype != NVMF_SUBTYPE_DISCOVERY_REFERRAL || all[i].trtype != NVMF_TRTYPE_TCP)
			continue;
		snprintf(key, sizeof(key), "%s:%s", all[i].traddr, all[i].trsvcid);
		for (unsigned k = 0; k < nvisited; k++)
			seen |= strcmp(visited[k], key) == 0;
		if (seen || nvisited == MAX_REFERRAL_HOPS)
			continue;
		snprintf(visited[nvisited++], sizeof(visited[0]), "%s", key);
		r.traddr = all[i].traddr;
		r.trsvcid = all[i].trsvcid;
		r.subnqn = NULL;
		if (discover_one(&r, &more, &m, NULL) == 0 && m) {
			struct nvmf_disc_entry *grown = realloc(all, (n + m) * sizeof(*all));

			if (grown) {
				all = grown;
				memcpy(all + n, more, m * sizeof(*more));
				n += m;
			}
		}
		free(more);
	}
	*entries = all;
	*count = n;
	return 0;
}
