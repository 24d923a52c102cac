/*
 * The reservation state machine of one namespace: Register, Acquire, Release, Report, the
 * conflict table the I/O path consults, and persistence through power loss (PTPL).
 *
 * Behaviour follows the NVMe base specification's reservation chapter as Linux nvmet
 * (drivers/nvme/target/pr.c) implements it, so a host sees the same answers from both:
 * registrations per host identifier, Acquire and Release with IEKEY refused (Invalid
 * Field), Preempt's cases (no reservation / All Registrants / own / holder's key / other
 * registrants' key), the notifications each change sends and to whom.  Where SPDK and the
 * spec agree against nvmet we follow them: a Release naming the wrong type is Invalid
 * Field, and any registrant of an All Registrants reservation may release it.
 *
 * PTPL: while a host has it on (Register's CPTPL, or feature 83h), every change rewrites
 * the state file (temporary file, fsync, rename: a crash leaves the old or the new state,
 * never a mix); turning it off removes the file.  At start a file left there is loaded.
 *
 * A namespace may instead keep its whole state in a store of the caller's (resv.h's
 * nvmf_resv_store: an RBD image's metadata, resv_store.c), written on every change
 * whatever PTPL says, so that another process serving the same image can take it over.
 *
 * Every change is a transaction: the command runs on a copy of the state (struct txn),
 * the copy is persisted (PTPL file or store) and only then installed, under the lock, in
 * one step; its notifications go out after that.  A persistence failure therefore fails
 * the command and leaves the state, the notifications and the Preempt and Abort count as
 * they were -- a host that got a success knows the change is durable, and one that got an
 * error sees nothing of it.  Changes are serialised by cmd_lock, held from the copy to
 * the install (a store write in between, which may be a cluster round trip); the I/O path
 * and Report only take lock, which is never held across a write.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target/resv.h"
#include "util/hex.h"
#include "util/log.h"

#define ST_CONFLICT NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_RESERVATION_CONFLICT)
#define ST_INVALID NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD)
#define ST_INTERNAL NVME_STATUS(NVME_SCT_GENERIC, NVME_SC_INTERNAL)
#define ST_HOSTID NVME_STATUS_NORETRY(NVME_SCT_GENERIC, NVME_SC_HOSTID_INCONSISTENT)

#define PTPL_MAGIC "nvmf-tcp-resv 1"
#define CNTLID_DYNAMIC 0xFFFF   /* Report: registrations are per host, not per controller */

/* ------------------------------------------------------------------ helpers */

static bool all_registrants(uint8_t rtype)
{
	return rtype == NVME_RTYPE_WE_AR || rtype == NVME_RTYPE_EA_AR;
}

/* Whether PTPL can be turned on: there is a file or a store to keep the state in. */
static bool ptpl_capable(const struct nvmf_resv *r)
{
	return r->ptpl_path || r->has_store;
}

static int find_reg(const struct nvmf_resv *r, const uint8_t *hostid)
{
	for (unsigned i = 0; i < r->nr_regs; i++)
		if (memcmp(r->regs[i].hostid, hostid, NVMF_RESV_HOSTID_LEN) == 0)
			return (int)i;
	return -1;
}

static bool is_holder(const struct nvmf_resv *r, const uint8_t *hostid)
{
	if (r->rtype == NVME_RTYPE_NONE)
		return false;
	if (all_registrants(r->rtype))
		return find_reg(r, hostid) >= 0;
	return memcmp(r->holder, hostid, NVMF_RESV_HOSTID_LEN) == 0;
}

static void set_rtype(struct nvmf_resv *r, uint8_t rtype, const uint8_t *holder)
{
	r->rtype = rtype;
	if (holder)
		memcpy(r->holder, holder, NVMF_RESV_HOSTID_LEN);
	else
		memset(r->holder, 0, NVMF_RESV_HOSTID_LEN);
	atomic_store_explicit(&r->fast_rtype, rtype, memory_order_release);
}

static void notify(struct nvmf_resv *r, const struct nvmf_resv_notify *n, const uint8_t *hostid,
		   uint8_t type)
{
	if (atomic_load(&r->notify_mask) & (1u << type))
		return;
	if (n && n->fn)
		n->fn(n->arg, hostid, type);
}

/* Reservation Released to every registrant but host hostid. */
static void notify_released(struct nvmf_resv *r, const struct nvmf_resv_notify *n,
			    const uint8_t *hostid)
{
	for (unsigned i = 0; i < r->nr_regs; i++)
		if (memcmp(r->regs[i].hostid, hostid, NVMF_RESV_HOSTID_LEN) != 0)
			notify(r, n, r->regs[i].hostid, NVME_RNLPT_RESV_RELEASED);
}

static int add_reg(struct nvmf_resv *r, const uint8_t *hostid, uint64_t rkey)
{
	if (r->nr_regs == r->cap_regs) {
		unsigned cap = r->cap_regs ? r->cap_regs * 2 : 8;
		struct nvmf_resv_reg *n = realloc(r->regs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->regs = n;
		r->cap_regs = cap;
	}
	memcpy(r->regs[r->nr_regs].hostid, hostid, NVMF_RESV_HOSTID_LEN);
	r->regs[r->nr_regs].rkey = rkey;
	r->nr_regs++;
	return 0;
}

/*
 * Remove registrant idx.  The holder of a Registrants Only / Write Exclusive / Exclusive
 * Access reservation that goes takes the reservation with it (the Registrants Only types
 * tell the other registrants); an All Registrants reservation ends with its last
 * registrant.
 */
static void remove_reg(struct nvmf_resv *r, unsigned idx, const struct nvmf_resv_notify *n)
{
	uint8_t hostid[NVMF_RESV_HOSTID_LEN];
	bool was_holder = r->rtype != NVME_RTYPE_NONE && !all_registrants(r->rtype) &&
			  memcmp(r->holder, r->regs[idx].hostid, NVMF_RESV_HOSTID_LEN) == 0;
	uint8_t rtype = r->rtype;

	memcpy(hostid, r->regs[idx].hostid, sizeof(hostid));
	memmove(&r->regs[idx], &r->regs[idx + 1], (r->nr_regs - idx - 1) * sizeof(r->regs[0]));
	r->nr_regs--;
	if (was_holder) {
		set_rtype(r, NVME_RTYPE_NONE, NULL);
		if (rtype == NVME_RTYPE_WE_RO || rtype == NVME_RTYPE_EA_RO)
			notify_released(r, n, hostid);
	} else if (all_registrants(rtype) && r->nr_regs == 0) {
		set_rtype(r, NVME_RTYPE_NONE, NULL);
	}
}

/* Host hostid's commands that started before now end as aborted (Preempt and Abort). */
static int mark_aborted(struct nvmf_resv *r, const uint8_t *hostid, uint64_t seq)
{
	struct nvmf_resv_aborted *a;

	for (unsigned i = 0; i < r->nr_aborted; i++) {
		if (memcmp(r->aborted[i].hostid, hostid, NVMF_RESV_HOSTID_LEN) == 0) {
			r->aborted[i].seq = seq;
			return 0;
		}
	}
	a = realloc(r->aborted, (r->nr_aborted + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	r->aborted = a;
	memcpy(a[r->nr_aborted].hostid, hostid, NVMF_RESV_HOSTID_LEN);
	a[r->nr_aborted].seq = seq;
	r->nr_aborted++;
	return 0;
}

/* ------------------------------------------------------------------ PTPL file */

static void put_hostid(FILE *f, const uint8_t *id)
{
	char buf[2 * NVMF_RESV_HOSTID_LEN + 1];

	nvmf_hex_encode(buf, id, NVMF_RESV_HOSTID_LEN);
	fputs(buf, f);
}

/* Write the state where ptpl_path says, atomically.  0 or -errno. */
static int ptpl_save(const struct nvmf_resv *r)
{
	size_t len = strlen(r->ptpl_path) + 8;
	char *tmp = malloc(len), *dirc = NULL;
	int fd = -1, ret = 0;
	FILE *f = NULL;

	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, len, "%s.tmp", r->ptpl_path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		ret = -errno;
		goto out;
	}
	fd = -1;
	fprintf(f, "%s\ngen %" PRIu32 "\nrtype %u\n", PTPL_MAGIC, r->gen, r->rtype);
	if (r->rtype != NVME_RTYPE_NONE && !all_registrants(r->rtype)) {
		fprintf(f, "holder ");
		put_hostid(f, r->holder);
		fprintf(f, "\n");
	}
	for (unsigned i = 0; i < r->nr_regs; i++) {
		fprintf(f, "reg ");
		put_hostid(f, r->regs[i].hostid);
		fprintf(f, " %016" PRIx64 "\n", r->regs[i].rkey);
	}
	if (fflush(f) || fsync(fileno(f))) {
		ret = -errno;
		goto out;
	}
	if (fclose(f)) {
		f = NULL;
		ret = -errno;
		goto out;
	}
	f = NULL;
	if (rename(tmp, r->ptpl_path)) {
		ret = -errno;
		goto out;
	}
	/* the rename itself survives a power loss once the directory is on disk */
	dirc = strdup(r->ptpl_path);
	if (dirc) {
		int dfd = open(dirname(dirc), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (ret)
		unlink(tmp);
	free(dirc);
	free(tmp);
	return ret;
}

static int ptpl_load(struct nvmf_resv *r, char *err, size_t errlen)
{
	FILE *f = fopen(r->ptpl_path, "re");
	char line[256];
	unsigned lineno = 0;
	bool holder = false;
	int ret = 0;

	if (!f) {
		if (errno == ENOENT)
			return 0;       /* PTPL was never on */
		ret = -errno;
		snprintf(err, errlen, "%s: %s", r->ptpl_path, strerror(errno));
		return ret;
	}
	while (fgets(line, sizeof(line), f)) {
		char key[16], a[64], b[64];
		unsigned u;
		int n;

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (lineno == 1) {
			if (strcmp(line, PTPL_MAGIC) != 0)
				goto bad;
			continue;
		}
		n = sscanf(line, "%15s %63s %63s", key, a, b);
		if (n == 2 && strcmp(key, "gen") == 0 && sscanf(a, "%u", &u) == 1) {
			r->gen = u;
		} else if (n == 2 && strcmp(key, "rtype") == 0 && sscanf(a, "%u", &u) == 1 &&
			   u <= NVME_RTYPE_EA_AR) {
			r->rtype = (uint8_t)u;
		} else if (n == 2 && strcmp(key, "holder") == 0) {
			if (nvmf_hex_decode(a, r->holder, NVMF_RESV_HOSTID_LEN))
				goto bad;
			holder = true;
		} else if (n == 3 && strcmp(key, "reg") == 0) {
			uint8_t hostid[NVMF_RESV_HOSTID_LEN];
			uint64_t key64;
			char *end;

			errno = 0;
			key64 = strtoull(b, &end, 16);
			if (nvmf_hex_decode(a, hostid, sizeof(hostid)) || *end || errno ||
			    find_reg(r, hostid) >= 0)
				goto bad;
			if (add_reg(r, hostid, key64)) {
				ret = -ENOMEM;
				snprintf(err, errlen, "%s: out of memory", r->ptpl_path);
				goto out;
			}
		} else {
			goto bad;
		}
	}
	if (lineno == 0)
		goto bad;
	/* a reservation needs its holder among the registrants (or, All Registrants, any) */
	if (r->rtype != NVME_RTYPE_NONE &&
	    (all_registrants(r->rtype) ? r->nr_regs == 0
				       : !holder || find_reg(r, r->holder) < 0)) {
		lineno = 0;
		goto bad;
	}
	set_rtype(r, r->rtype, r->rtype && !all_registrants(r->rtype) ? r->holder : NULL);
	r->ptpl = true;
	goto out;
bad:
	ret = -EINVAL;
	if (lineno)
		snprintf(err, errlen, "%s: line %u: not a reservation state line", r->ptpl_path,
			 lineno);
	else
		snprintf(err, errlen, "%s: not a consistent reservation state", r->ptpl_path);
out:
	fclose(f);
	return ret;
}

/* ------------------------------------------------------------------ life cycle */

int nvmf_resv_new(const char *ptpl_path, struct nvmf_resv **out, char *err, size_t errlen)
{
	struct nvmf_resv *r = calloc(1, sizeof(*r));
	int ret;

	if (!r || (ptpl_path && !(r->ptpl_path = strdup(ptpl_path)))) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->cmd_lock, NULL);
	if (r->ptpl_path) {
		ret = ptpl_load(r, err, errlen);
		if (ret) {
			nvmf_resv_free(r);
			return ret;
		}
	}
	*out = r;
	return 0;
}

void nvmf_resv_free(struct nvmf_resv *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->cmd_lock);
	free(r->regs);
	free(r->aborted);
	free(r->ptpl_path);
	free(r);
}

void nvmf_resv_set_store(struct nvmf_resv *r, const struct nvmf_resv_store *st)
{
	r->store = *st;
	r->has_store = true;
}

static uint16_t txn_persist(const struct nvmf_resv *r, const struct nvmf_resv *s);

bool nvmf_resv_resave(struct nvmf_resv *r)
{
	pthread_mutex_lock(&r->cmd_lock);
	if (r->has_store && atomic_load(&r->store_stale) && txn_persist(r, r) == 0) {
		atomic_store(&r->store_stale, false);
		log_info("reservations: the state in force is saved again after a failed save");
	}
	pthread_mutex_unlock(&r->cmd_lock);
	return atomic_load(&r->store_stale);
}

int nvmf_resv_rec_add(struct nvmf_resv *s, const uint8_t *hostid, uint64_t rkey)
{
	return add_reg(s, hostid, rkey);
}

bool nvmf_resv_rec_has(const struct nvmf_resv *s, const uint8_t *hostid)
{
	return find_reg(s, hostid) >= 0;
}

static void txn_install(struct nvmf_resv *r, struct nvmf_resv *s);

int nvmf_resv_load(struct nvmf_resv *r, const char *rec, char *err, size_t errlen)
{
	struct nvmf_resv *s = calloc(1, sizeof(*s));
	int ret = 0;

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (rec)
		ret = nvmf_resv_rec_decode(s, rec, err, errlen);
	if (!ret) {
		pthread_mutex_lock(&r->cmd_lock);
		/* aborts under way stay as they are: they concern commands, not the state */
		s->aborted = r->aborted;
		s->nr_aborted = r->nr_aborted;
		atomic_store(&s->abort_seq, atomic_load(&r->abort_seq));
		txn_install(r, s);
		/* memory and store agree again: the store's record is what was loaded */
		if (r->has_store)
			atomic_store(&r->store_stale, false);
		pthread_mutex_unlock(&r->cmd_lock);
	}
	free(s->regs);
	free(s);
	return ret;
}

uint8_t nvmf_resv_rescap(const struct nvmf_resv *r)
{
	return (uint8_t)(NVME_RESCAP_WE | NVME_RESCAP_EA | NVME_RESCAP_WE_RO | NVME_RESCAP_EA_RO |
			 NVME_RESCAP_WE_AR | NVME_RESCAP_EA_AR | NVME_RESCAP_IEKEY13 |
			 (ptpl_capable(r) ? NVME_RESCAP_PTPL : 0));
}


/* ------------------------------------------------------------------ transactions */

/* A notification a change makes, sent once the change is installed. */
struct note {
	uint8_t hostid[NVMF_RESV_HOSTID_LEN];
	uint8_t type;
};

struct txn {
	struct nvmf_resv s;             /* the copy the command changes */
	struct note *notes;
	unsigned nr_notes;
	bool notes_lost;                /* out of memory: some notification is not sent */
	const struct nvmf_resv_notify *out;
	struct nvmf_resv_notify defer;  /* what the engine calls: collects into notes */
};

static void defer_note(void *arg, const uint8_t hostid[NVMF_RESV_HOSTID_LEN], uint8_t type)
{
	struct txn *t = arg;
	struct note *n;

	if (!t->out || !t->out->fn)
		return;
	n = realloc(t->notes, (t->nr_notes + 1) * sizeof(*n));
	if (!n) {
		t->notes_lost = true;
		return;
	}
	t->notes = n;
	memcpy(n[t->nr_notes].hostid, hostid, NVMF_RESV_HOSTID_LEN);
	n[t->nr_notes].type = type;
	t->nr_notes++;
}

/* Start a change of r: cmd_lock taken, t->s a copy of the state.  0 or ST_INTERNAL. */
static uint16_t txn_begin(struct nvmf_resv *r, struct txn *t, const struct nvmf_resv_notify *n)
{
	struct nvmf_resv *s = &t->s;

	memset(t, 0, sizeof(*t));
	t->out = n;
	t->defer.fn = defer_note;
	t->defer.arg = t;
	pthread_mutex_lock(&r->cmd_lock);
	/* only changes write r, and they hold cmd_lock: r can be read without lock here */
	s->cap_regs = r->nr_regs ? r->nr_regs : 1;
	s->regs = malloc(s->cap_regs * sizeof(*s->regs));
	s->aborted = r->nr_aborted ? malloc(r->nr_aborted * sizeof(*s->aborted)) : NULL;
	if (!s->regs || (r->nr_aborted && !s->aborted)) {
		free(s->regs);
		free(s->aborted);
		pthread_mutex_unlock(&r->cmd_lock);
		return ST_INTERNAL;
	}
	memcpy(s->regs, r->regs, r->nr_regs * sizeof(*s->regs));
	s->nr_regs = r->nr_regs;
	if (r->nr_aborted)
		memcpy(s->aborted, r->aborted, r->nr_aborted * sizeof(*s->aborted));
	s->nr_aborted = r->nr_aborted;
	s->rtype = r->rtype;
	memcpy(s->holder, r->holder, NVMF_RESV_HOSTID_LEN);
	s->fast_rtype = r->rtype;
	s->gen = r->gen;
	s->ptpl = r->ptpl;
	s->notify_mask = atomic_load(&r->notify_mask);
	s->ptpl_path = r->ptpl_path;    /* borrowed */
	s->has_store = r->has_store;
	s->abort_seq = atomic_load(&r->abort_seq);
	return 0;
}

/* Whether the copy differs from r in what persists. */
static bool txn_changed(const struct nvmf_resv *r, const struct nvmf_resv *s)
{
	return s->gen != r->gen || s->rtype != r->rtype || s->ptpl != r->ptpl ||
	       memcmp(s->holder, r->holder, NVMF_RESV_HOSTID_LEN) != 0 ||
	       s->nr_regs != r->nr_regs ||
	       memcmp(s->regs, r->regs, s->nr_regs * sizeof(*s->regs)) != 0;
}

static int ptpl_save(const struct nvmf_resv *r);

/* Make the copy durable where r keeps its state: 0 or the command's NVMe status. */
static uint16_t txn_persist(const struct nvmf_resv *r, const struct nvmf_resv *s)
{
	char *rec;
	uint16_t status;
	int ret;

	if (r->has_store) {
		rec = nvmf_resv_rec_encode(s);
		if (!rec)
			return ST_INTERNAL;
		status = r->store.save(r->store.arg, rec);
		free(rec);
		return status;
	}
	if (!r->ptpl_path)
		return 0;
	if (s->ptpl) {
		ret = ptpl_save(s);
		if (ret) {
			log_err("reservations: cannot save %s: %s", r->ptpl_path, strerror(-ret));
			return ST_INTERNAL;
		}
	} else if (r->ptpl) {
		/* PTPL turned off: a restart starts empty */
		if (unlink(r->ptpl_path) && errno != ENOENT) {
			log_err("reservations: cannot remove %s: %s", r->ptpl_path,
				strerror(errno));
			return ST_INTERNAL;
		}
	}
	return 0;
}

/* Install the copy in r, in one step for the I/O path and Report. */
static void txn_install(struct nvmf_resv *r, struct nvmf_resv *s)
{
	struct nvmf_resv_reg *regs = r->regs;
	struct nvmf_resv_aborted *aborted = r->aborted;
	unsigned cap = r->cap_regs, nr_aborted = r->nr_aborted;

	pthread_mutex_lock(&r->lock);
	r->regs = s->regs;
	r->nr_regs = s->nr_regs;
	r->cap_regs = s->cap_regs;
	r->aborted = s->aborted;
	r->nr_aborted = s->nr_aborted;
	r->gen = s->gen;
	r->ptpl = s->ptpl;
	set_rtype(r, s->rtype, s->rtype != NVME_RTYPE_NONE && !all_registrants(s->rtype)
				       ? s->holder : NULL);
	/* published last: a command that sees the new count finds its host marked */
	if (atomic_load(&s->abort_seq) != atomic_load(&r->abort_seq))
		atomic_store_explicit(&r->abort_seq, atomic_load(&s->abort_seq),
				      memory_order_release);
	pthread_mutex_unlock(&r->lock);
	s->regs = regs;
	s->cap_regs = cap;
	s->aborted = aborted;
	s->nr_aborted = nr_aborted;
}

/*
 * End a change: a successful command's copy is persisted (when it changed anything) and
 * installed, then its notifications go out.  Returns the command's status.
 */
static uint16_t txn_end(struct nvmf_resv *r, struct txn *t, uint16_t status)
{
	bool stale = atomic_load(&r->store_stale);

	if (!status && (txn_changed(r, &t->s) || stale)) {
		status = txn_persist(r, &t->s);
		if (r->has_store)
			atomic_store(&r->store_stale, status != 0);
	}
	if (!status) {
		txn_install(r, &t->s);
		if (t->notes_lost)
			log_err("reservations: out of memory: a reservation notification is "
				"not sent");
		for (unsigned i = 0; i < t->nr_notes; i++)
			t->out->fn(t->out->arg, t->notes[i].hostid, t->notes[i].type);
	}
	pthread_mutex_unlock(&r->cmd_lock);
	free(t->s.regs);
	free(t->s.aborted);
	free(t->notes);
	return status;
}

/* ------------------------------------------------------------------ Register */

uint16_t nvmf_resv_register(struct nvmf_resv *r, const uint8_t *hostid, uint32_t cdw10,
			    uint64_t crkey, uint64_t nrkey, const struct nvmf_resv_notify *n)
{
	unsigned action = cdw10 & NVME_RESV_CDW10_ACTION_MASK;
	bool iekey = cdw10 & NVME_RESV_CDW10_IEKEY;
	unsigned cptpl = cdw10 >> NVME_RESV_CDW10_CPTPL_SHIFT;
	struct txn t;
	struct nvmf_resv *s = &t.s;
	uint16_t status;
	int idx;

	if (cptpl == 1 || (cptpl == NVME_CPTPL_SET && !ptpl_capable(r)) ||
	    action > NVME_RREGA_REPLACE)
		return ST_INVALID;
	status = txn_begin(r, &t, n);
	if (status)
		return status;
	idx = find_reg(s, hostid);
	switch (action) {
	case NVME_RREGA_REGISTER:
		/* registering again with the key it has is not an error (nvmet, spec) */
		if (idx >= 0)
			status = s->regs[idx].rkey == nrkey ? 0 : ST_CONFLICT;
		else if (add_reg(s, hostid, nrkey))
			status = ST_INTERNAL;
		break;
	case NVME_RREGA_UNREGISTER:
		if (idx < 0 || (!iekey && s->regs[idx].rkey != crkey))
			status = ST_CONFLICT;
		else
			remove_reg(s, (unsigned)idx, &t.defer);
		break;
	default: /* NVME_RREGA_REPLACE */
		if (idx < 0 || (!iekey && s->regs[idx].rkey != crkey))
			status = ST_CONFLICT;
		else
			s->regs[idx].rkey = nrkey;
		break;
	}
	if (!status) {
		s->gen++;
		if (cptpl == NVME_CPTPL_SET)
			s->ptpl = true;
		else if (cptpl == NVME_CPTPL_CLEAR)
			s->ptpl = false;
	}
	return txn_end(r, &t, status);
}

/* ------------------------------------------------------------------ Acquire */

/*
 * Unregister the registrants whose key is prkey (but not self unless with_self): they
 * hear Registration Preempted (self does not), and with abort their commands in flight
 * end aborted.  Returns how many went.
 */
static unsigned preempt_by_key(struct nvmf_resv *r, uint64_t prkey, const uint8_t *self,
			       bool with_self, bool match_any, uint64_t seq,
			       const struct nvmf_resv_notify *n)
{
	unsigned gone = 0;

	for (unsigned i = 0; i < r->nr_regs;) {
		uint8_t hostid[NVMF_RESV_HOSTID_LEN];
		bool me = memcmp(r->regs[i].hostid, self, NVMF_RESV_HOSTID_LEN) == 0;

		if ((!match_any && r->regs[i].rkey != prkey) || (me && !with_self)) {
			i++;
			continue;
		}
		memcpy(hostid, r->regs[i].hostid, sizeof(hostid));
		if (seq && !me && mark_aborted(r, hostid, seq))
			log_err("reservations: out of memory: commands of a preempted host "
				"are not aborted");
		remove_reg(r, i, n);
		if (!me)
			notify(r, n, hostid, NVME_RNLPT_REG_PREEMPTED);
		gone++;
	}
	return gone;
}

static uint16_t preempt(struct nvmf_resv *r, const uint8_t *self, uint8_t rtype, uint64_t prkey,
			uint64_t seq, const struct nvmf_resv_notify *n)
{
	uint8_t old = r->rtype;

	if (old == NVME_RTYPE_NONE)
		return preempt_by_key(r, prkey, self, true, false, seq, n) ? 0 : ST_CONFLICT;
	if (all_registrants(old)) {
		if (prkey == 0) {
			/* the new holder first, so no one else gets in between */
			set_rtype(r, rtype, self);
			preempt_by_key(r, 0, self, false, true, seq, n);
			return 0;
		}
		return preempt_by_key(r, prkey, self, true, false, seq, n) ? 0 : ST_CONFLICT;
	}
	if (is_holder(r, self)) {
		/*
		 * The holder may change its own type and preempt registrations by key (the
		 * spec; nvmet only changes the type).  A type change is a change of the others'
		 * access: they hear Reservation Released.
		 */
		set_rtype(r, rtype, self);
		if (prkey)
			preempt_by_key(r, prkey, self, false, false, seq, n);
		if (old != rtype)
			notify_released(r, n, self);
		return 0;
	}
	if (prkey == r->regs[find_reg(r, r->holder)].rkey) {
		set_rtype(r, rtype, self);
		preempt_by_key(r, prkey, self, false, false, seq, n);
		if (old != rtype)
			notify_released(r, n, self);
		return 0;
	}
	if (prkey)
		return preempt_by_key(r, prkey, self, true, false, seq, n) ? 0 : ST_CONFLICT;
	return ST_INVALID;
}

uint16_t nvmf_resv_acquire(struct nvmf_resv *r, const uint8_t *hostid, uint32_t cdw10,
			   uint64_t crkey, uint64_t prkey, const struct nvmf_resv_notify *n)
{
	unsigned action = cdw10 & NVME_RESV_CDW10_ACTION_MASK;
	uint8_t rtype = (uint8_t)(cdw10 >> NVME_RESV_CDW10_RTYPE_SHIFT);
	struct txn t;
	struct nvmf_resv *s = &t.s;
	uint64_t seq = 0;
	uint16_t status;
	int idx;

	/* IEKEY is for Register only (nvmet refuses it here too) */
	if ((cdw10 & NVME_RESV_CDW10_IEKEY) || rtype < NVME_RTYPE_WE || rtype > NVME_RTYPE_EA_AR ||
	    action > NVME_RACQA_PREEMPT_ABORT)
		return ST_INVALID;
	status = txn_begin(r, &t, n);
	if (status)
		return status;
	idx = find_reg(s, hostid);
	if (idx < 0 || s->regs[idx].rkey != crkey)
		return txn_end(r, &t, ST_CONFLICT);
	if (action == NVME_RACQA_ACQUIRE) {
		if (s->rtype == NVME_RTYPE_NONE)
			set_rtype(s, rtype, hostid);
		status = is_holder(s, hostid) && s->rtype == rtype ? 0 : ST_CONFLICT;
	} else {
		if (action == NVME_RACQA_PREEMPT_ABORT)
			seq = atomic_load(&s->abort_seq) + 1;
		status = preempt(s, hostid, rtype, prkey, seq, &t.defer);
		if (!status)
			s->gen++;
		/* installed with the rest: the count goes up only if the preempt holds */
		if (seq)
			atomic_store(&s->abort_seq, seq);
	}
	return txn_end(r, &t, status);
}

/* ------------------------------------------------------------------ Release */

uint16_t nvmf_resv_release(struct nvmf_resv *r, const uint8_t *hostid, uint32_t cdw10,
			   uint64_t crkey, const struct nvmf_resv_notify *n)
{
	unsigned action = cdw10 & NVME_RESV_CDW10_ACTION_MASK;
	uint8_t rtype = (uint8_t)(cdw10 >> NVME_RESV_CDW10_RTYPE_SHIFT);
	struct txn t;
	struct nvmf_resv *s = &t.s;
	uint16_t status;
	int idx;

	if ((cdw10 & NVME_RESV_CDW10_IEKEY) || action > NVME_RRELA_CLEAR)
		return ST_INVALID;
	status = txn_begin(r, &t, n);
	if (status)
		return status;
	idx = find_reg(s, hostid);
	if (idx < 0 || s->regs[idx].rkey != crkey) {
		status = ST_CONFLICT;
	} else if (action == NVME_RRELA_RELEASE) {
		uint8_t old = s->rtype;

		/* not the holder, or nothing held: success without effect (spec) */
		if (is_holder(s, hostid)) {
			if (old != rtype) {
				status = ST_INVALID;
			} else {
				set_rtype(s, NVME_RTYPE_NONE, NULL);
				if (old != NVME_RTYPE_WE && old != NVME_RTYPE_EA)
					notify_released(s, &t.defer, hostid);
			}
		}
	} else {
		/* Clear: every other registrant hears Reservation Preempted */
		for (unsigned i = 0; i < s->nr_regs; i++)
			if (memcmp(s->regs[i].hostid, hostid, NVMF_RESV_HOSTID_LEN) != 0)
				notify(s, &t.defer, s->regs[i].hostid, NVME_RNLPT_RESV_PREEMPTED);
		set_rtype(s, NVME_RTYPE_NONE, NULL);
		s->nr_regs = 0;
		s->gen++;
	}
	return txn_end(r, &t, status);
}

/* ------------------------------------------------------------------ Report */

uint16_t nvmf_resv_report(struct nvmf_resv *r, bool eds, void *buf, size_t len)
{
	struct nvme_resv_status hdr;
	uint8_t *p = buf;

	/* our host identifiers are 128-bit: the 64-bit structure cannot carry them */
	if (!eds)
		return ST_HOSTID;
	memset(buf, 0, len);
	memset(&hdr, 0, sizeof(hdr));
	pthread_mutex_lock(&r->lock);
	hdr.gen = htole32(r->gen);
	hdr.rtype = r->rtype;
	hdr.regctl[0] = (uint8_t)r->nr_regs;
	hdr.regctl[1] = (uint8_t)(r->nr_regs >> 8);
	hdr.ptpls = r->ptpl;
	memcpy(p, &hdr, len < sizeof(hdr) ? len : sizeof(hdr));
	for (unsigned i = 0; i < r->nr_regs; i++) {
		size_t off = NVME_RESV_STATUS_EXT_SIZE + i * sizeof(struct nvme_resv_regctl_ext);
		struct nvme_resv_regctl_ext e;

		if (off + sizeof(e) > len)
			break;  /* the count says how many there are; the host asks again */
		memset(&e, 0, sizeof(e));
		e.cntlid = htole16(CNTLID_DYNAMIC);
		e.rcsts = is_holder(r, r->regs[i].hostid);
		e.rkey = htole64(r->regs[i].rkey);
		memcpy(e.hostid, r->regs[i].hostid, NVMF_RESV_HOSTID_LEN);
		memcpy(p + off, &e, sizeof(e));
	}
	pthread_mutex_unlock(&r->lock);
	return 0;
}

/* ------------------------------------------------------------------ I/O */

uint16_t nvmf_resv_check(struct nvmf_resv *r, const uint8_t *hostid, enum nvmf_resv_class cls)
{
	bool conflict = false;

	if (cls == NVMF_RESV_OTHER ||
	    atomic_load_explicit(&r->fast_rtype, memory_order_acquire) == NVME_RTYPE_NONE)
		return 0;
	pthread_mutex_lock(&r->lock);
	if (!is_holder(r, hostid)) {
		bool registered = find_reg(r, hostid) >= 0;

		switch (r->rtype) {
		case NVME_RTYPE_WE:
			conflict = cls == NVMF_RESV_WRITE;
			break;
		case NVME_RTYPE_EA:
			conflict = true;
			break;
		case NVME_RTYPE_WE_RO:
		case NVME_RTYPE_WE_AR:
			conflict = cls == NVMF_RESV_WRITE && !registered;
			break;
		case NVME_RTYPE_EA_RO:
		case NVME_RTYPE_EA_AR:
			conflict = !registered;
			break;
		default:
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return conflict ? ST_CONFLICT : 0;
}

bool nvmf_resv_was_aborted(struct nvmf_resv *r, const uint8_t *hostid, uint64_t seq)
{
	bool aborted = false;

	if (nvmf_resv_seq(r) == seq)
		return false;
	pthread_mutex_lock(&r->lock);
	for (unsigned i = 0; i < r->nr_aborted; i++)
		if (memcmp(r->aborted[i].hostid, hostid, NVMF_RESV_HOSTID_LEN) == 0)
			aborted = r->aborted[i].seq > seq;
	pthread_mutex_unlock(&r->lock);
	return aborted;
}

/* ------------------------------------------------------------------ PTPL feature */

bool nvmf_resv_ptpl(struct nvmf_resv *r)
{
	bool on;

	pthread_mutex_lock(&r->lock);
	on = r->ptpl;
	pthread_mutex_unlock(&r->lock);
	return on;
}

uint16_t nvmf_resv_set_ptpl(struct nvmf_resv *r, bool on)
{
	struct txn t;
	uint16_t status;

	if (on && !ptpl_capable(r))
		return ST_INVALID;
	status = txn_begin(r, &t, NULL);
	if (status)
		return status;
	t.s.ptpl = on;
	return txn_end(r, &t, 0);
}
