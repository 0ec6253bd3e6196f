// SPDX-License-Identifier: GPL-2.0
/*
 * The ring-buffer reader: pw_events records -> one logd_item per record,
 * copied into the queue of every sink that takes its kind.
 *
 * Clock: the datapath stamps events with CLOCK_MONOTONIC plus
 * pw_config.clock_offset_ns (0 except in tests); wall-clock time is that
 * minus the offset plus (CLOCK_REALTIME - CLOCK_MONOTONIC), sampled once
 * per batch read.
 *
 * Sequence numbers: every CPU is a producer with its own sequence, and the
 * datapath takes a number even for a record it could not reserve, then
 * reports the failures in a LOST record of that CPU (which comes after
 * the gap). So a gap that the next LOST record of the producer accounts
 * for is already reported; a gap no LOST record explains (another
 * consumer took records, or the record was corrupt) is reported by logd
 * itself as a plumwall.lost event with producer LOG_PRODUCER_LOGD. A
 * sequence going backwards means a new datapath: the tracking restarts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "logging/logd.h"

void logd_reader_init(struct logd_reader *r)
{
	memset(r, 0, sizeof(*r));
	r->map_fd = -1;
	r->cfg_fd = -1;
}

void logd_reader_clock(struct logd_reader *r)
{
	struct timespec rt, mono;
	struct pw_dp_config cfg;
	__u32 zero = 0;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	r->wall_delta_ns = ((int64_t)rt.tv_sec - mono.tv_sec) * 1000000000LL +
			   ((int64_t)rt.tv_nsec - mono.tv_nsec);
	if (r->cfg_fd >= 0 && !bpf_map_lookup_elem(r->cfg_fd, &zero, &cfg))
		r->clock_offset_ns = cfg.clock_offset_ns;
}

static uint64_t logd_wall(const struct logd_reader *r, uint64_t ts)
{
	if (!ts)
		return 0;
	return ts - r->clock_offset_ns + r->wall_delta_ns;
}

/* The producer's expectations; NULL when out of memory (no tracking). */
static struct logd_producer *logd_producer(struct logd_reader *r, uint16_t cpu)
{
	struct logd_producer *p;
	size_t n;

	if (cpu >= r->n_prod) {
		n = (size_t)cpu + 1 > 2 * r->n_prod ? (size_t)cpu + 1 :
						      2 * r->n_prod;
		p = realloc(r->prod, n * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + r->n_prod, 0, (n - r->n_prod) * sizeof(*p));
		r->prod = p;
		r->n_prod = n;
	}
	return &r->prod[cpu];
}

static void logd_dispatch(struct logd_reader *r, const struct logd_item *it)
{
	size_t i;

	for (i = 0; i < r->n_sinks; i++)
		if (logd_sink_wants(r->sinks[i], it->ev.type))
			logd_sink_push(r->sinks[i], it);
}

/* logd's own plumwall.lost event for an unexplained gap. */
void logd_reader_lost(struct logd_reader *r, uint64_t gap)
{
	struct logd_item it;

	memset(&it, 0, sizeof(it));
	it.ev.type = PW_EVENT_LOST;
	it.ev.cpu = LOG_PRODUCER_LOGD;
	it.ev.ts_ns = logd_now_ns() + r->clock_offset_ns;
	it.ev.count = gap > UINT32_MAX ? UINT32_MAX : (uint32_t)gap;
	it.time_ns = logd_wall(r, it.ev.ts_ns);
	r->gap_lost += gap;
	logd_dispatch(r, &it);
}

static void logd_track(struct logd_reader *r, const struct pw_event *ev)
{
	struct logd_producer *p = logd_producer(r, ev->cpu);
	uint64_t gap = 0;

	if (!p)
		return;
	if (p->known && ev->seq > p->next)
		gap = ev->seq - p->next;
	p->known = true;
	p->next = ev->seq + 1;
	if (ev->type == PW_EVENT_LOST) {
		r->kernel_lost += ev->count;
		gap = gap > ev->count ? gap - ev->count : 0;
	}
	if (gap)
		logd_reader_lost(r, gap);
}

void logd_reader_event(struct logd_reader *r, const struct pw_event *ev)
{
	struct logd_item it;
	const char *ifname;

	r->events++;
	/* nflog's sequence is tracked by logd_nflog.c */
	if (ev->cpu != LOG_PRODUCER_LOGD && ev->cpu != LOG_PRODUCER_NFLOG)
		logd_track(r, ev);
	memcpy(&it.ev, ev, sizeof(it.ev));
	it.time_ns = logd_wall(r, ev->ts_ns);
	it.start_ns = ev->type == PW_EVENT_FLOW_START ||
				      ev->type == PW_EVENT_FLOW_END ?
			      logd_wall(r, ev->start_ns) :
			      0;
	it.names = ev->type == PW_EVENT_LOST ?
			   NULL :
			   logd_names_cache_find(&r->names, ev->generation,
						 r->state, r->state_tmp);
	it.ifname[0] = '\0';
	if (ev->ifindex) {
		ifname = fw_names_ifname(it.names, ev->ifindex);
		if (ifname)
			snprintf(it.ifname, sizeof(it.ifname), "%s", ifname);
		else if (!if_indextoname(ev->ifindex, it.ifname))
			it.ifname[0] = '\0';
	}
	logd_dispatch(r, &it);
}

static int logd_rb_cb(void *ctx, void *data, size_t size)
{
	struct logd_reader *r = ctx;

	if (size < sizeof(struct pw_event)) {
		r->bad++;
		return 0;
	}
	logd_reader_event(r, data);
	return 0;
}

int logd_reader_open_fd(struct logd_reader *r, int map_fd, int cfg_fd)
{
	int ret;

	logd_reader_close(r);
	r->map_fd = dup(map_fd);
	if (r->map_fd < 0)
		return -errno;
	if (cfg_fd >= 0)
		r->cfg_fd = dup(cfg_fd);
	r->rb = ring_buffer__new(r->map_fd, logd_rb_cb, r, NULL);
	if (!r->rb) {
		ret = -errno;
		logd_reader_close(r);
		return ret ? ret : -EINVAL;
	}
	logd_reader_clock(r);
	return 0;
}

static int logd_pin_ino(const char *maps_dir, uint64_t *ino)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/pw_events", maps_dir);
	if (stat(path, &st))
		return -errno;
	*ino = st.st_ino;
	return 0;
}

int logd_reader_open(struct logd_reader *r, const char *maps_dir)
{
	char path[512];
	int fd, cfd, ret;
	uint64_t ino = 0;

	ret = logd_pin_ino(maps_dir, &ino);
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/pw_events", maps_dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/pw_config", maps_dir);
	cfd = bpf_obj_get(path);
	ret = logd_reader_open_fd(r, fd, cfd);
	close(fd);
	if (cfd >= 0)
		close(cfd);
	if (ret)
		return ret;
	r->pin_ino = ino;
	return 0;
}

bool logd_reader_stale(const struct logd_reader *r, const char *maps_dir)
{
	uint64_t ino = 0;

	if (r->map_fd < 0)
		return true;
	return logd_pin_ino(maps_dir, &ino) || ino != r->pin_ino;
}

void logd_reader_close(struct logd_reader *r)
{
	if (r->rb)
		ring_buffer__free(r->rb);
	r->rb = NULL;
	if (r->map_fd >= 0)
		close(r->map_fd);
	if (r->cfg_fd >= 0)
		close(r->cfg_fd);
	r->map_fd = r->cfg_fd = -1;
	r->pin_ino = 0;
	r->clock_offset_ns = 0;
	/* A new ring buffer is a new datapath: new sequences, and
	 * generations counted from the start again. */
	free(r->prod);
	r->prod = NULL;
	r->n_prod = 0;
	logd_names_cache_clear(&r->names);
}

int logd_reader_epoll_fd(const struct logd_reader *r)
{
	return r->rb ? ring_buffer__epoll_fd(r->rb) : -1;
}

int logd_reader_consume(struct logd_reader *r)
{
	if (!r->rb)
		return 0;
	logd_reader_clock(r);
	return ring_buffer__consume(r->rb);
}
