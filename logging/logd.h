/* SPDX-License-Identifier: GPL-2.0 */
/*
 * plumwall-logd internals: the ring-buffer reader, the name tables of
 * policy generations, the per-sink bounded queues and the sinks.
 *
 *   ring buffer --(main thread: logd_reader)--> one logd_queue per sink
 *   nflog group --(main thread: logd_nflog)-^   --(one thread per sink)-->
 *                                                   transport
 *
 * The main thread only decodes, resolves names and copies the event into
 * every interested sink's queue; it never formats or does I/O for a sink,
 * so a slow or dead sink cannot stall it or the other sinks. A full queue
 * drops the event and counts it; the sink reports the count as a
 * plumwall.lost event as soon as it delivers again.
 *
 * Why a thread per sink rather than non-blocking state machines in one
 * loop: TLS handshakes, DNS resolution and connect() are blocking in their
 * simple forms, and a sink's formatting then runs on another core than the
 * reader. Sinks are few (a handful), so threads are cheap.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef PLUMWALL_LOGD_H
#define PLUMWALL_LOGD_H

#include <linux/types.h>
#include <net/if.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <plumwall/shared.h>
#include <plumwall/config.h>

#include "fw/names.h"
#include "logging/log_format.h"

/* ---- names of policy generations (logd_names.c) ------------------------ */

/*
 * The names come from the state document through fw/names.h, the reader
 * `plumwall flows` and `stats` use too. The cache keeps the newest
 * LOGD_NAMES_KEEP generations seen (a document holds up to FW_NAMES_KEEP:
 * the running one and the older ones still in use), so an event of a
 * generation apply has since dropped from the document, still in the
 * ring buffer, keeps its names.
 */
#define LOGD_NAMES_KEEP FW_NAMES_KEEP

struct logd_names_cache {
	struct fw_names *gen[LOGD_NAMES_KEEP]; /* by generation, newest first */
	size_t n;
	uint32_t miss_gen; /* last generation a reload did not find */
	uint64_t miss_ns; /* when (CLOCK_MONOTONIC) */
};

/* Read every generation of the state document @state into the cache.
 * Returns 0 when something new was added or nothing changed. */
int logd_names_cache_refresh(struct logd_names_cache *c, const char *state);
/* The table of @generation (no reference taken); reloads @state /
 * @state_tmp (apply writes the document aside before it flips the
 * policy) when @generation is newer than every table held (at most every
 * 100 ms per generation). NULL: unknown. */
struct fw_names *logd_names_cache_find(struct logd_names_cache *c,
				       uint32_t generation, const char *state,
				       const char *state_tmp);
void logd_names_cache_clear(struct logd_names_cache *c);

/* ---- what a sink queue holds (logd_queue.c) ---------------------------- */

struct logd_item {
	struct pw_event ev;
	struct fw_names *names; /* a reference, or NULL */
	uint64_t time_ns; /* wall clock of ev.ts_ns */
	uint64_t start_ns; /* wall clock of ev.start_ns, flow events */
	char ifname[IF_NAMESIZE]; /* "" when unknown */
};

struct logd_queue {
	pthread_mutex_t lock;
	pthread_cond_t cond; /* items, stop, reopen, ... for the consumer */
	struct logd_item *items;
	uint32_t cap;
	uint32_t head; /* oldest */
	uint32_t count;
};

int logd_queue_init(struct logd_queue *q, uint32_t cap);
void logd_queue_destroy(struct logd_queue *q); /* puts the items' names */
/* With q->lock held: -ENOSPC when full (the caller counts the drop). */
int logd_queue_push_locked(struct logd_queue *q, const struct logd_item *it);
/* With q->lock held: -ENOENT when empty. */
int logd_queue_pop_locked(struct logd_queue *q, struct logd_item *it);

/* ---- sinks (logd_sink.c, logd_net.c) ---------------------------------- */

/* Settings of the 'logging' section a sink formats with. */
struct logd_globals {
	const char *hostname;
	int facility;
	enum pw_syslog_severity severity[PW_LOG_KIND_COUNT];
	int procid; /* syslog PROCID */
};

/* Backoff of reconnects and reopen attempts. */
#define LOGD_BACKOFF_MIN_NS (100ULL * 1000000ULL)
#define LOGD_BACKOFF_MAX_NS (30ULL * 1000000000ULL)
/* Longest a connect, handshake or send may block a sink thread. */
#define LOGD_IO_TIMEOUT_MS 5000
/* Old files a rotating file sink keeps: PATH.1 (newest) .. PATH.N. */
#define LOGD_ROTATE_KEEP 5

struct logd_sink;

int logd_sink_start(const struct pw_sink *cfg, const struct logd_globals *g,
		    struct logd_sink **out);
/* Same configuration (so a reload keeps the running sink)? */
bool logd_sink_same(const struct logd_sink *s, const struct pw_sink *cfg,
		    const struct logd_globals *g);
const char *logd_sink_name(const struct logd_sink *s);
/* Does the sink take events of this type? */
bool logd_sink_wants(const struct logd_sink *s, uint8_t type);
/* Queue a copy of @it (taking a names reference); a full queue counts
 * the event as dropped. Never blocks beyond the queue lock. */
void logd_sink_push(struct logd_sink *s, const struct logd_item *it);
/* Close and reopen the file (SIGHUP, logrotate). */
void logd_sink_reopen(struct logd_sink *s);
/* Ask the thread to deliver what is queued and end by @deadline_ns
 * (CLOCK_MONOTONIC): a connect, handshake or send already under way
 * ends by then too. Then logd_sink_join(). */
void logd_sink_stop(struct logd_sink *s, uint64_t deadline_ns);
/* Wait for a stopped sink's thread to end: its stats are final then. */
void logd_sink_wait(struct logd_sink *s);
/* Wait for the thread (@wait false: only when done: -EBUSY otherwise)
 * and free the sink; the thread reported what stayed undelivered. */
int logd_sink_join(struct logd_sink *s, bool wait);

struct logd_sink_stats {
	uint64_t queued; /* accepted into the queue */
	uint64_t delivered;
	uint64_t dropped; /* queue full, or undeliverable */
	uint64_t lost_reported; /* of those, reported in plumwall.lost */
	uint64_t failures; /* open, connect or write attempts that failed */
	/* in the queue (or taken from it) when the thread ended: with
	 * delivered and dropped, every event the sink was given */
	uint64_t undelivered;
};
void logd_sink_stats(const struct logd_sink *s, struct logd_sink_stats *st);

/* ---- the ring-buffer reader (logd_reader.c) ---------------------------- */

struct ring_buffer;

struct logd_producer {
	uint64_t next; /* expected sequence number */
	bool known;
};

struct logd_reader {
	int map_fd; /* pw_events, -1: not open */
	int cfg_fd; /* pw_config, -1: not open (clock offset 0) */
	uint64_t pin_ino; /* inode of the pinned ring buffer */
	struct ring_buffer *rb;
	struct logd_names_cache names;
	const char *state; /* state.json and its temporary sibling */
	const char *state_tmp;
	struct logd_sink **sinks;
	size_t n_sinks;
	struct logd_producer *prod; /* by pw_event.cpu */
	size_t n_prod;
	int64_t wall_delta_ns; /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	uint64_t clock_offset_ns; /* pw_config.clock_offset_ns */
	/* counters */
	uint64_t events; /* records read */
	uint64_t kernel_lost; /* counted by the datapath's LOST events */
	uint64_t gap_lost; /* sequence gaps no LOST event explained */
	uint64_t bad; /* records of the wrong size */
};

void logd_reader_init(struct logd_reader *r);
/* Open the ring buffer pinned under @maps_dir (.../vN/maps, N = PW_LAYOUT_VERSION): -ENOENT when
 * nothing is pinned there yet. */
int logd_reader_open(struct logd_reader *r, const char *maps_dir);
/* Use this ring buffer map (tests, bench); the fd is dup'ed. */
int logd_reader_open_fd(struct logd_reader *r, int map_fd, int cfg_fd);
void logd_reader_close(struct logd_reader *r);
/* Has the pin under @maps_dir changed (apply after down, down)? */
bool logd_reader_stale(const struct logd_reader *r, const char *maps_dir);
/* epoll fd of the ring buffer, -1 when closed. */
int logd_reader_epoll_fd(const struct logd_reader *r);
/* Read what is there and hand it to the sinks; returns records read. */
int logd_reader_consume(struct logd_reader *r);
/* Hand one record to the sinks (exposed for tests). */
void logd_reader_event(struct logd_reader *r, const struct pw_event *ev);
/* Re-read CLOCK_REALTIME - CLOCK_MONOTONIC and the datapath clock offset. */
void logd_reader_clock(struct logd_reader *r);

/* A plumwall.lost event of producer logd for @count events lost. */
void logd_reader_lost(struct logd_reader *r, uint64_t count);

/* ---- nft mode's events: the nflog group (logd_nflog.c) ----------------- */

struct mnl_socket;

struct logd_nflog {
	struct mnl_socket *nl; /* NULL: not open */
	char *buf;
	uint16_t group;
	uint32_t early; /* packets read before the binding's ack: lost */
	uint32_t next_seq; /* the NFULA_SEQ expected next */
	bool seq_known;
	uint32_t pending; /* losses ENOBUFS reported that a gap will show */
	/* counters */
	uint64_t events; /* messages decoded into events */
	uint64_t lost; /* in sequence gaps and overruns */
	uint64_t overruns; /* ENOBUFS */
	uint64_t bad; /* messages refused: not plumwall's or malformed */
};

void logd_nflog_init(struct logd_nflog *n);
/* Bind nflog group @group (needs CAP_NET_ADMIN); -EBUSY: another socket
 * has it. */
int logd_nflog_open(struct logd_nflog *n, uint16_t group);
void logd_nflog_close(struct logd_nflog *n);
int logd_nflog_fd(const struct logd_nflog *n); /* -1 when closed */
/* Read what is there: each packet to logd_reader_event(), losses as
 * plumwall.lost events. Returns the messages read, or -errno. */
int logd_nflog_consume(struct logd_nflog *n, struct logd_reader *r);
/* One message of @len bytes (the rest of the datagram), as consume
 * does (exposed for tests). */
void logd_nflog_message(struct logd_nflog *n, struct logd_reader *r,
			const void *buf, size_t len);
/*
 * Decode one NFULNL_MSG_PACKET (the first message of the @len bytes at
 * @buf) into @ev: type, verdict, reason, tenant, rule and generation
 * from the prefix, the packet's fields from NFULA_PAYLOAD, the snap an
 * Ethernet frame; ts_ns is left 0: *@wall_ns is NFULA_TIMESTAMP (ns
 * since the epoch, 0 when absent), *@has_seq whether ev->seq holds
 * NFULA_SEQ. -EBADMSG for anything else: another message type, a
 * truncated message or attribute, no prefix or not plumwall's, no or a
 * malformed IP header.
 */
int logd_nflog_decode(const void *buf, size_t len, struct pw_event *ev,
		      uint64_t *wall_ns, bool *has_seq);

/* Kind bit (config.h PW_LOG_KIND_BIT) of an event type, 0 for unknown. */
uint32_t logd_kind_bit(uint8_t type);
enum pw_log_kind logd_kind(uint8_t type);

uint64_t logd_now_ns(void); /* CLOCK_MONOTONIC */

#endif /* PLUMWALL_LOGD_H */
