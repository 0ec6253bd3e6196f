// SPDX-License-Identifier: GPL-2.0
/*
 * A sink: its bounded queue, its thread, its format and its transport.
 *
 * The reader pushes copies of events (logd_sink_push); the thread takes
 * up to LOGD_BATCH at a time, formats them and writes them with as few
 * system calls as the transport allows (one write for a batch of file,
 * stdout, TCP and TLS messages; one datagram each for UDP and unix).
 *
 * Delivery failures (connection refused, reset, disk full) keep the
 * undelivered events and retry after a backoff that doubles from 100 ms
 * to 30 s and resets on success; meanwhile the queue fills and what no
 * longer fits is dropped and counted. After the next successful delivery
 * the sink sends a plumwall.lost event (producer LOG_PRODUCER_LOGD, its
 * own sequence) with that count, if it takes lost events, and always
 * says so on stderr. An event that can never be delivered (the formatter
 * refuses it, a datagram too big) is dropped and counted the same way.
 *
 * Framing: file and stdout get one message per line; TCP and TLS get
 * octet counting (RFC 6587 "LEN SP MSG") for syslog and cef, and one JSON
 * object per line for json (what JSON-lines receivers expect); UDP and
 * unix one message per datagram. The unix socket (/dev/log) gets the
 * local RFC 3164 form "<PRI>Mmm dd hh:mm:ss plumwall[PID]: MSG", the one
 * form both systemd-journald and rsyslog's imuxsock parse, with the JSON
 * line (json, syslog) or the CEF line (cef) as MSG.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "logging/logd.h"

#include <plumwall/fs.h>

#include "fw/fw.h" /* PLUMWALL_VERSION */
#include "logging/log_pcap.h"
#include "logging/logd_net.h"

#define LOGD_BATCH 64

struct logd_sink {
	/* configuration, owned copies */
	struct pw_sink cfg;
	char *name, *path, *address, *ca_file;
	struct logd_globals g;
	char *hostname;

	struct logd_queue q;
	pthread_t thread;
	bool started, joined;
	/* under q.lock */
	bool stop, reopen, done;
	/* The drain deadline once stopping, UINT64_MAX before; read by
	 * the connection's waits (logd_net.h) without the lock. wake_fd
	 * (an eventfd) is written when it is set. */
	_Atomic uint64_t stop_ns;
	int wake_fd;
	uint64_t pending_lost; /* dropped, not reported yet */
	/* popped into the batch, not delivered yet: they count against
	 * the configured queue size like queued ones */
	uint32_t inflight;

	/* counters, read by logd_sink_stats() from other threads */
	atomic_uint_least64_t queued, delivered, dropped, lost_reported;
	atomic_uint_least64_t failures;
	atomic_uint_least64_t undelivered; /* left when the thread ended */

	/* the thread's own */
	struct logd_item batch[LOGD_BATCH];
	size_t n_batch;
	size_t ends[LOGD_BATCH]; /* end offset of each message in buf */
	bool refused[LOGD_BATCH]; /* the formatter refused it: dropped */
	int fd; /* file and stdout; -1: closed */
	struct log_pcap *pcap; /* format pcap; NULL: closed */
	uint64_t file_size;
	struct logd_conn conn;
	bool failing; /* last attempt failed: say so once */
	uint64_t backoff_ns;
	struct log_buf buf, msg;
	uint64_t seq; /* LOG_PRODUCER_LOGD sequence of this sink */
	/* the batch holds only this sink's lost report, which is not an
	 * event: delivering it leaves the delivered counter alone */
	bool delivering_report;
};

/* ---- kinds ------------------------------------------------------------- */

enum pw_log_kind logd_kind(uint8_t type)
{
	switch (type) {
	case PW_EVENT_DROP:
		return PW_LOG_DROP;
	case PW_EVENT_AUDIT:
		return PW_LOG_AUDIT;
	case PW_EVENT_FLOW_START:
	case PW_EVENT_FLOW_END:
		return PW_LOG_FLOW;
	case PW_EVENT_SUPPRESSED:
		return PW_LOG_SUPPRESSED;
	case PW_EVENT_LOST:
		return PW_LOG_LOST;
	default:
		return PW_LOG_KIND_COUNT;
	}
}

uint32_t logd_kind_bit(uint8_t type)
{
	enum pw_log_kind k = logd_kind(type);

	return k == PW_LOG_KIND_COUNT ? 0 : PW_LOG_KIND_BIT(k);
}

/* ---- configuration ----------------------------------------------------- */

static bool logd_streq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool logd_sink_same(const struct logd_sink *s, const struct pw_sink *c,
		    const struct logd_globals *g)
{
	const struct pw_sink *o = &s->cfg;

	return logd_streq(o->name, c->name) && o->format == c->format &&
	       o->transport == c->transport && o->kinds == c->kinds &&
	       logd_streq(o->path, c->path) &&
	       logd_streq(o->address, c->address) && o->port == c->port &&
	       logd_streq(o->ca_file, c->ca_file) && o->queue == c->queue &&
	       o->rotate_bytes == c->rotate_bytes && o->snaplen == c->snaplen &&
	       logd_streq(s->g.hostname, g->hostname) &&
	       s->g.facility == g->facility &&
	       !memcmp(s->g.severity, g->severity, sizeof(g->severity));
}

const char *logd_sink_name(const struct logd_sink *s)
{
	return s->cfg.name;
}

bool logd_sink_wants(const struct logd_sink *s, uint8_t type)
{
	return s->cfg.kinds & logd_kind_bit(type);
}

void logd_sink_stats(const struct logd_sink *s, struct logd_sink_stats *st)
{
	st->queued = atomic_load(&s->queued);
	st->delivered = atomic_load(&s->delivered);
	st->dropped = atomic_load(&s->dropped);
	st->lost_reported = atomic_load(&s->lost_reported);
	st->failures = atomic_load(&s->failures);
	st->undelivered = atomic_load(&s->undelivered);
}

/* ---- the reader's side --------------------------------------------------- */

void logd_sink_push(struct logd_sink *s, const struct logd_item *it)
{
	int ret;

	pthread_mutex_lock(&s->q.lock);
	if (s->stop)
		ret = -ESHUTDOWN;
	else if (s->q.count + s->inflight >= s->q.cap)
		ret = -ENOSPC;
	else
		ret = logd_queue_push_locked(&s->q, it);
	if (ret) {
		s->pending_lost++;
	} else {
		fw_names_get(it->names);
		if (s->q.count == 1)
			pthread_cond_signal(&s->q.cond);
	}
	pthread_mutex_unlock(&s->q.lock);
	if (ret)
		atomic_fetch_add_explicit(&s->dropped, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&s->queued, 1, memory_order_relaxed);
}

void logd_sink_reopen(struct logd_sink *s)
{
	pthread_mutex_lock(&s->q.lock);
	s->reopen = true;
	pthread_cond_signal(&s->q.cond);
	pthread_mutex_unlock(&s->q.lock);
}

void logd_sink_stop(struct logd_sink *s, uint64_t deadline_ns)
{
	uint64_t one = 1;

	pthread_mutex_lock(&s->q.lock);
	s->stop = true;
	atomic_store(&s->stop_ns, deadline_ns);
	pthread_cond_signal(&s->q.cond);
	pthread_mutex_unlock(&s->q.lock);
	/* A connect, handshake or send under way now ends by the deadline
	 * too. The counter only grows: a full one is readable as well. */
	if (s->wake_fd >= 0 && write(s->wake_fd, &one, sizeof(one)) < 0 &&
	    errno != EAGAIN)
		fprintf(stderr, "plumwall-logd: sink %s: wake-up: %s\n",
			s->cfg.name, strerror(errno));
}

/* ---- formatting ---------------------------------------------------------- */

static void logd_fill(const struct logd_sink *s, const struct logd_item *it,
		      struct log_event *e)
{
	const struct pw_event *ev = &it->ev;
	const struct fw_rule_name *r;

	memset(e, 0, sizeof(*e));
	e->raw = ev;
	e->time_ns = it->time_ns;
	e->start_time_ns = it->start_ns;
	e->hostname = s->g.hostname;
	e->ifname = it->ifname[0] ? it->ifname : NULL;
	e->version = PLUMWALL_VERSION;
	if (ev->type == PW_EVENT_LOST)
		return;
	if (ev->tenant != PW_TENANT_NONE)
		e->tenant = fw_names_tenant(it->names, ev->tenant);
	if (ev->rule_id != PW_RULE_NONE) {
		r = fw_names_rule(it->names, ev->rule_id);
		if (r) {
			e->rule = r->name;
			e->rule_global = !r->tenant;
		}
	}
	if (ev->type == PW_EVENT_SUPPRESSED || ev->tenant == PW_TENANT_NONE)
		return;
	if (ev->src_segment != PW_SEGMENT_NONE)
		e->src_segment = fw_names_segment(it->names, ev->src_segment);
	if (ev->dst_segment != PW_SEGMENT_NONE)
		e->dst_segment = fw_names_segment(it->names, ev->dst_segment);
}

/* RFC 3164 header of the local socket: "<PRI>Mmm dd hh:mm:ss TAG[PID]: ". */
static int logd_rfc3164(const struct logd_sink *s, const struct log_event *e,
			int severity, struct log_buf *out)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr",
					   "May", "Jun", "Jul", "Aug",
					   "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(e->time_ns / 1000000000ULL);
	struct tm tm;

	localtime_r(&t, &tm);
	return log_buf_printf(out, "<%d>%s %2d %02d:%02d:%02d plumwall[%d]: ",
			      s->g.facility * 8 + severity, mon[tm.tm_mon],
			      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			      s->g.procid);
}

/* The message of one event, without framing, appended to @out. */
static int logd_format(struct logd_sink *s, const struct logd_item *it,
		       struct log_buf *out)
{
	enum pw_log_kind k = logd_kind(it->ev.type);
	int sev = s->g.severity[k == PW_LOG_KIND_COUNT ? PW_LOG_DROP : k];
	bool network = s->cfg.transport == PW_SINK_UDP ||
		       s->cfg.transport == PW_SINK_TCP ||
		       s->cfg.transport == PW_SINK_TLS;
	enum log_syslog_body body;
	struct log_event e;
	char procid[16];
	int ret;

	logd_fill(s, it, &e);
	if (s->cfg.transport == PW_SINK_UNIX) {
		ret = logd_rfc3164(s, &e, sev, out);
		if (ret)
			return ret;
		return s->cfg.format == PW_SINK_CEF ? log_format_cef(&e, out) :
						      log_format_json(&e, out);
	}
	switch (s->cfg.format) {
	case PW_SINK_JSON:
		return log_format_json(&e, out);
	case PW_SINK_CEF:
		if (!network)
			return log_format_cef(&e, out);
		body = LOG_SYSLOG_BODY_CEF;
		break;
	case PW_SINK_SYSLOG:
		body = LOG_SYSLOG_BODY_JSON;
		break;
	default:
		return -EOPNOTSUPP;
	}
	snprintf(procid, sizeof(procid), "%d", s->g.procid);
	return log_format_syslog(&e, s->g.facility, sev, procid, body, out);
}

/* ---- files ----------------------------------------------------------------- */

static int logd_file_open(struct logd_sink *s, char *err, size_t errlen)
{
	char why[256];
	struct stat st;
	int ret;

	if (s->cfg.transport == PW_SINK_STDOUT) {
		s->fd = dup(STDOUT_FILENO);
		if (s->fd < 0) {
			ret = -errno;
			snprintf(err, errlen, "standard output: %s",
				 strerror(-ret));
			return ret;
		}
		s->file_size = 0;
		return 0;
	}
	pw_mkdirs_for(s->cfg.path, 0750); /* the open says what is wrong */
	s->fd = pw_open_log(s->cfg.path, 0640, why, sizeof(why));
	if (s->fd < 0) {
		ret = s->fd;
		if (why[0]) /* names the directory or the file */
			snprintf(err, errlen, "cannot open the sink file: %s",
				 why);
		else
			snprintf(err, errlen, "cannot open %s: %s", s->cfg.path,
				 strerror(-ret));
		return ret;
	}
	s->file_size = fstat(s->fd, &st) ? 0 : (uint64_t)st.st_size;
	return 0;
}

static void logd_file_close(struct logd_sink *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* PATH -> PATH.1 -> ... -> PATH.LOGD_ROTATE_KEEP (the oldest goes). */
static int logd_file_rotate(struct logd_sink *s)
{
	char from[PATH_MAX], to[PATH_MAX];
	int i;

	logd_file_close(s);
	/* A shift that fails (other than for a missing file) stops the
	 * rotation: going on would rename the next file over the one that
	 * did not move, and that file's events would be gone unreported. */
	for (i = LOGD_ROTATE_KEEP; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%d", s->cfg.path, i - 1);
		snprintf(to, sizeof(to), "%s.%d", s->cfg.path, i);
		if (rename(from, to) && errno != ENOENT)
			return -errno;
	}
	snprintf(to, sizeof(to), "%s.1", s->cfg.path);
	if (rename(s->cfg.path, to) && errno != ENOENT)
		return -errno;
	return 0;
}

static int logd_write_all(int fd, const char *p, size_t len, size_t *sent)
{
	ssize_t n;

	*sent = 0;
	while (*sent < len) {
		n = write(fd, p + *sent, len - *sent);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		*sent += n;
	}
	return 0;
}

/* ---- delivery -------------------------------------------------------------- */

static bool logd_is_file(const struct logd_sink *s)
{
	return s->cfg.transport == PW_SINK_FILE ||
	       s->cfg.transport == PW_SINK_STDOUT;
}

static bool logd_is_open(const struct logd_sink *s)
{
	if (s->cfg.format == PW_SINK_PCAP)
		return s->pcap;
	return logd_is_file(s) ? s->fd >= 0 : s->conn.fd >= 0;
}

static int logd_pcap_open(struct logd_sink *s, char *err, size_t errlen)
{
	int ret;

	pw_mkdirs_for(s->cfg.path, 0750);
	ret = log_pcap_open(&s->pcap, s->cfg.path, s->cfg.snaplen,
			    s->cfg.rotate_bytes, LOGD_ROTATE_KEEP);
	if (ret)
		snprintf(err, errlen, "cannot open %s: %s", s->cfg.path,
			 strerror(-ret));
	return ret;
}

static void logd_close(struct logd_sink *s)
{
	if (s->pcap)
		log_pcap_close(s->pcap);
	s->pcap = NULL;
	logd_file_close(s);
	logd_conn_close(&s->conn);
}

static int logd_open(struct logd_sink *s)
{
	char err[512] = "";
	int ret;

	if (logd_is_open(s)) {
		if (logd_is_file(s) || !logd_conn_peer_gone(&s->conn))
			return 0;
		logd_close(s);
		fprintf(stderr,
			"plumwall-logd: sink %s: connection closed by the peer, reconnecting\n",
			s->cfg.name);
	}
	if (s->cfg.format == PW_SINK_PCAP)
		ret = logd_pcap_open(s, err, sizeof(err));
	else if (logd_is_file(s))
		ret = logd_file_open(s, err, sizeof(err));
	else
		ret = logd_conn_open(&s->conn, &s->cfg, err, sizeof(err));
	if (ret) {
		if (!s->failing)
			fprintf(stderr,
				"plumwall-logd: sink %s: %s (retrying)\n",
				s->cfg.name, err[0] ? err : strerror(-ret));
		s->failing = true;
		return ret;
	}
	if (s->failing)
		fprintf(stderr, "plumwall-logd: sink %s: delivering again\n",
			s->cfg.name);
	s->failing = false;
	return 0;
}

/* Account @n delivered items from the front of the batch. */
static void logd_batch_done(struct logd_sink *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fw_names_put(s->batch[i].names);
	memmove(&s->batch[0], &s->batch[n],
		(s->n_batch - n) * sizeof(s->batch[0]));
	s->n_batch -= n;
	pthread_mutex_lock(&s->q.lock);
	s->inflight = s->n_batch;
	pthread_mutex_unlock(&s->q.lock);
}

static void logd_count_delivered(struct logd_sink *s, uint64_t n)
{
	if (!s->delivering_report)
		atomic_fetch_add(&s->delivered, n);
}

static void logd_count_drop(struct logd_sink *s, uint64_t n)
{
	pthread_mutex_lock(&s->q.lock);
	s->pending_lost += n;
	pthread_mutex_unlock(&s->q.lock);
	atomic_fetch_add(&s->dropped, n);
}

/* Datagram transports: one message per send. */
static int logd_deliver_dgram(struct logd_sink *s)
{
	size_t sent;
	int ret;

	while (s->n_batch) {
		log_buf_reset(&s->buf);
		ret = logd_format(s, &s->batch[0], &s->buf);
		if (!ret)
			ret = logd_conn_send(&s->conn, s->buf.data, s->buf.len,
					     &sent);
		if (ret == -EMSGSIZE || ret == -EINVAL || ret == -EOPNOTSUPP) {
			logd_count_drop(s, 1); /* never deliverable */
		} else if (ret) {
			return ret;
		} else {
			logd_count_delivered(s, 1);
		}
		logd_batch_done(s, 1);
	}
	return 0;
}

/* Stream transports: the batch framed into one buffer, one write. */
static int logd_deliver_stream(struct logd_sink *s)
{
	bool octets = !logd_is_file(s) && s->cfg.format != PW_SINK_JSON;
	size_t i, n, sent, done, refused = 0;
	int ret;

	log_buf_reset(&s->buf);
	for (i = 0, n = 0; i < s->n_batch; i++) {
		size_t before = s->buf.len;

		if (octets) {
			log_buf_reset(&s->msg);
			ret = logd_format(s, &s->batch[i], &s->msg);
			if (!ret)
				ret = log_buf_printf(&s->buf, "%zu ",
						     s->msg.len);
			if (!ret)
				ret = log_buf_append(&s->buf, s->msg.data,
						     s->msg.len);
		} else {
			ret = logd_format(s, &s->batch[i], &s->buf);
			if (!ret)
				ret = log_buf_append(&s->buf, "\n", 1);
		}
		s->refused[i] = ret != 0;
		if (ret) { /* this one can never be delivered */
			s->buf.len = before;
			logd_count_drop(s, 1);
		}
		s->ends[i] = s->buf.len;
		/* Rotation happens between messages: cut the write there. */
		if (s->cfg.rotate_bytes && i > 0 &&
		    s->file_size + s->buf.len > s->cfg.rotate_bytes) {
			s->buf.len = before;
			break;
		}
		n = i + 1;
	}
	if (s->cfg.rotate_bytes && s->file_size > 0 &&
	    s->file_size + s->buf.len > s->cfg.rotate_bytes) {
		ret = logd_file_rotate(s);
		if (!ret)
			ret = logd_open(s);
		if (ret)
			return ret;
	}
	if (logd_is_file(s))
		ret = logd_write_all(s->fd, s->buf.data, s->buf.len, &sent);
	else
		ret = logd_conn_send(&s->conn, s->buf.data, s->buf.len, &sent);
	s->file_size += sent;
	for (done = 0; done < n && s->ends[done] <= sent; done++)
		refused += s->refused[done];
	logd_count_delivered(s, done - refused);
	logd_batch_done(s, done);
	if (ret)
		return ret;
	return 0;
}

/* pcap: one block per packet, the writer rotates. */
static int logd_deliver_pcap(struct logd_sink *s)
{
	struct log_event e;
	int ret;

	while (s->n_batch) {
		logd_fill(s, &s->batch[0], &e);
		ret = log_pcap_write(s->pcap, &e);
		if (ret)
			return ret;
		logd_count_delivered(s, 1);
		logd_batch_done(s, 1);
	}
	return 0;
}

static int logd_deliver(struct logd_sink *s)
{
	if (s->cfg.format == PW_SINK_PCAP)
		return logd_deliver_pcap(s);
	if (s->cfg.transport == PW_SINK_UDP || s->cfg.transport == PW_SINK_UNIX)
		return logd_deliver_dgram(s);
	return logd_deliver_stream(s);
}

/* After a delivery: a plumwall.lost event for what was dropped. */
static void logd_report_lost(struct logd_sink *s)
{
	struct logd_item it;
	struct timespec ts;
	uint64_t n;
	int ret;

	pthread_mutex_lock(&s->q.lock);
	n = s->pending_lost;
	s->pending_lost = 0;
	pthread_mutex_unlock(&s->q.lock);
	if (!n)
		return;
	fprintf(stderr,
		"plumwall-logd: sink %s: %llu events lost (queue full or undeliverable)\n",
		s->cfg.name, (unsigned long long)n);
	if (!(s->cfg.kinds & PW_LOG_KIND_BIT(PW_LOG_LOST))) {
		atomic_fetch_add(&s->lost_reported, n);
		return;
	}
	memset(&it, 0, sizeof(it));
	clock_gettime(CLOCK_REALTIME, &ts);
	it.time_ns = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	it.ev.ts_ns = logd_now_ns();
	it.ev.type = PW_EVENT_LOST;
	it.ev.cpu = LOG_PRODUCER_LOGD;
	it.ev.seq = s->seq;
	it.ev.count = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
	s->batch[s->n_batch++] = it; /* the batch is empty here */
	pthread_mutex_lock(&s->q.lock);
	s->inflight = s->n_batch;
	pthread_mutex_unlock(&s->q.lock);
	s->delivering_report = true;
	ret = logd_deliver(s);
	s->delivering_report = false;
	if (ret || s->n_batch) {
		/* still undelivered: report it with the next success */
		logd_batch_done(s, s->n_batch);
		pthread_mutex_lock(&s->q.lock);
		s->pending_lost += n;
		pthread_mutex_unlock(&s->q.lock);
		if (ret)
			logd_close(s);
		return;
	}
	s->seq++;
	atomic_fetch_add(&s->lost_reported, n);
	if (n > UINT32_MAX) /* the rest in the next report */
		logd_count_drop(s, n - UINT32_MAX);
}

static void logd_backoff(struct logd_sink *s)
{
	struct timespec ts;
	uint64_t now = logd_now_ns(), until;

	s->backoff_ns = !s->backoff_ns ? LOGD_BACKOFF_MIN_NS :
					 s->backoff_ns * 2;
	if (s->backoff_ns > LOGD_BACKOFF_MAX_NS)
		s->backoff_ns = LOGD_BACKOFF_MAX_NS;
	until = now + s->backoff_ns;
	pthread_mutex_lock(&s->q.lock);
	ts.tv_sec = (time_t)(until / 1000000000ULL);
	ts.tv_nsec = (long)(until % 1000000000ULL);
	/* A stop ends the wait: the loop then decides (see there). */
	while (!s->reopen && !s->stop && logd_now_ns() < until)
		if (pthread_cond_timedwait(&s->q.cond, &s->q.lock, &ts) ==
		    ETIMEDOUT)
			break;
	pthread_mutex_unlock(&s->q.lock);
}

static void *logd_sink_main(void *arg)
{
	struct logd_sink *s = arg;
	uint64_t left;
	bool reopen, stop;
	int ret;

	for (;;) {
		pthread_mutex_lock(&s->q.lock);
		while (!s->n_batch && !s->q.count && !s->stop && !s->reopen)
			pthread_cond_wait(&s->q.cond, &s->q.lock);
		while (s->n_batch < LOGD_BATCH &&
		       !logd_queue_pop_locked(&s->q, &s->batch[s->n_batch]))
			s->n_batch++;
		s->inflight = s->n_batch;
		reopen = s->reopen;
		s->reopen = false;
		stop = s->stop;
		pthread_mutex_unlock(&s->q.lock);

		if (reopen) {
			logd_close(s);
			s->backoff_ns = 0;
		}
		/* A sink that is failing at stop gets no drain period: it has
		 * been retried with backoff all along, and waiting for it
		 * would hold every other sink's exit up to the deadline. */
		if (stop && (!s->n_batch || s->failing ||
			     logd_now_ns() >= atomic_load(&s->stop_ns)))
			break;
		if (!s->n_batch)
			continue;
		ret = logd_open(s);
		if (!ret) {
			ret = logd_deliver(s);
			if (ret && !s->failing)
				fprintf(stderr,
					"plumwall-logd: sink %s: %s (retrying)\n",
					s->cfg.name, strerror(-ret));
			s->failing = ret != 0;
		}
		if (ret) {
			atomic_fetch_add(&s->failures, 1);
			logd_close(s);
			logd_backoff(s);
			continue;
		}
		s->backoff_ns = 0;
		if (!s->n_batch)
			logd_report_lost(s);
	}
	/* What stays: the batch and the queue (the drops not reported as
	 * lost yet are counted as dropped already). */
	pthread_mutex_lock(&s->q.lock);
	left = s->n_batch + s->q.count;
	s->done = true;
	pthread_mutex_unlock(&s->q.lock);
	atomic_store(&s->undelivered, left);
	if (left)
		fprintf(stderr,
			"plumwall-logd: sink %s: %llu events undelivered at stop\n",
			s->cfg.name, (unsigned long long)left);
	logd_batch_done(s, s->n_batch);
	logd_close(s);
	return NULL;
}

/* ---- life cycle ---------------------------------------------------------- */

static void logd_sink_free(struct logd_sink *s)
{
	if (!s)
		return;
	logd_queue_destroy(&s->q);
	logd_conn_free(&s->conn);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	log_buf_free(&s->buf);
	log_buf_free(&s->msg);
	free(s->name);
	free(s->path);
	free(s->address);
	free(s->ca_file);
	free(s->hostname);
	free(s);
}

static int logd_strdup(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int logd_sink_start(const struct pw_sink *cfg, const struct logd_globals *g,
		    struct logd_sink **out)
{
	struct logd_sink *s;
	int ret;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->conn.fd = -1;
	atomic_init(&s->stop_ns, UINT64_MAX);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		ret = -errno;
		goto fail;
	}
	s->conn.wake_fd = s->wake_fd;
	s->conn.stop_ns = &s->stop_ns;
	s->cfg = *cfg;
	s->g = *g;
	ret = logd_strdup(&s->name, cfg->name);
	ret = ret ?: logd_strdup(&s->path, cfg->path);
	ret = ret ?: logd_strdup(&s->address, cfg->address);
	ret = ret ?: logd_strdup(&s->ca_file, cfg->ca_file);
	ret = ret ?: logd_strdup(&s->hostname, g->hostname);
	if (ret)
		goto fail;
	s->cfg.name = s->name;
	s->cfg.path = s->path;
	s->cfg.address = s->address;
	s->cfg.ca_file = s->ca_file;
	s->g.hostname = s->hostname;
	ret = logd_queue_init(&s->q, cfg->queue);
	if (ret)
		goto fail;
	ret = -pthread_create(&s->thread, NULL, logd_sink_main, s);
	if (ret)
		goto fail;
	s->started = true;
	*out = s;
	return 0;
fail:
	logd_sink_free(s);
	return ret;
}

void logd_sink_wait(struct logd_sink *s)
{
	if (s->started && !s->joined)
		pthread_join(s->thread, NULL);
	s->joined = true;
}

int logd_sink_join(struct logd_sink *s, bool wait)
{
	bool done;

	if (!wait) {
		pthread_mutex_lock(&s->q.lock);
		done = s->done;
		pthread_mutex_unlock(&s->q.lock);
		if (!done)
			return -EBUSY;
	}
	logd_sink_wait(s);
	logd_sink_free(s);
	return 0;
}
