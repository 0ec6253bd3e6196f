// SPDX-License-Identifier: GPL-2.0
/*
 * plumwall-logd's parts without a datapath: the sink queue, the name
 * tables of the state document, sequence-gap accounting of the reader,
 * a file sink that cannot write for a while (its drops come back as
 * one plumwall.lost event with the count), a rotation that cannot shift
 * the old files (it stops rather than rename one over another), and
 * network sinks whose peer does not read or answer: a stop ends their
 * wait by its deadline, and a peer that reads a little now and then
 * cannot hold a send longer than LOGD_IO_TIMEOUT_MS in all.
 */
#include "logging/logd.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/plumwall-test-logd.XXXXXX";

static void setup(void)
{
	strcpy(tmpdir, "/tmp/plumwall-test-logd.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Lines of @path containing @needle. */
static int count_lines(const char *path, const char *needle)
{
	char line[8192];
	FILE *f = fopen(path, "r");
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static int wait_lines(const char *path, const char *needle, int want)
{
	int i, n = 0;

	for (i = 0; i < 500; i++) { /* at most 5 s */
		n = count_lines(path, needle);
		if (n >= want)
			break;
		usleep(10000);
	}
	return n;
}

START_TEST(queue_bounded_fifo)
{
	struct logd_queue q;
	struct logd_item it = {}, out;
	uint32_t i;

	ck_assert_int_eq(logd_queue_init(&q, 3), 0);
	for (i = 0; i < 3; i++) {
		it.ev.seq = i;
		ck_assert_int_eq(logd_queue_push_locked(&q, &it), 0);
	}
	it.ev.seq = 99;
	ck_assert_int_eq(logd_queue_push_locked(&q, &it), -ENOSPC);
	/* wrap around */
	for (i = 3; i < 10; i++) {
		ck_assert_int_eq(logd_queue_pop_locked(&q, &out), 0);
		ck_assert_uint_eq(out.ev.seq, i - 3);
		it.ev.seq = i;
		ck_assert_int_eq(logd_queue_push_locked(&q, &it), 0);
	}
	for (i = 7; i < 10; i++) {
		ck_assert_int_eq(logd_queue_pop_locked(&q, &out), 0);
		ck_assert_uint_eq(out.ev.seq, i);
	}
	ck_assert_int_eq(logd_queue_pop_locked(&q, &out), -ENOENT);
	logd_queue_destroy(&q);
	ck_assert_int_eq(logd_queue_init(&q, 0), -EINVAL);
}
END_TEST

/* PW_LAYOUT_VERSION as a string: state documents carry it */
#define LAYOUT_STR2(x) #x
#define LAYOUT_STR(x) LAYOUT_STR2(x)
#define LAYOUT LAYOUT_STR(PW_LAYOUT_VERSION)

static const char state_g7[] =
	"{\"layout_version\":" LAYOUT ",\"generation\":7,"
	"\"interfaces\":[{\"name\":\"acme0\",\"ifindex\":12,\"mode\":\"xdp\"}],"
	"\"tenants\":[{\"id\":1,\"name\":\"acme\"},{\"id\":3,\"name\":\"beta\"}],"
	"\"rules\":[{\"id\":0,\"name\":\"g\",\"tenant\":null},"
	"{\"id\":1,\"name\":\"web\",\"tenant\":\"acme\"}],"
	"\"segments\":[\"web\",\"db\"]}";

START_TEST(names_from_state)
{
	struct fw_names_set set = {};
	struct fw_names *n;
	char path[256];

	snprintf(path, sizeof(path), "%s/state.json", tmpdir);
	ck_assert_int_eq(fw_names_set_load(&set, path), -ENOENT);
	write_file(path, state_g7);
	ck_assert_int_eq(fw_names_set_load(&set, path), 0);
	ck_assert_uint_eq(set.n, 1);
	n = fw_names_set_find(&set, 7);
	ck_assert_ptr_nonnull(n);
	ck_assert_ptr_null(fw_names_set_find(&set, 6));
	ck_assert_str_eq(fw_names_tenant(n, 1), "acme");
	ck_assert_ptr_null(fw_names_tenant(n, 2));
	ck_assert_str_eq(fw_names_tenant(n, 3), "beta");
	ck_assert_ptr_null(fw_names_tenant(n, 4));
	ck_assert_ptr_null(fw_names_rule(n, 0)->tenant); /* global */
	ck_assert_str_eq(fw_names_rule(n, 1)->tenant, "acme");
	ck_assert_ptr_null(fw_names_rule(n, 2));
	ck_assert_str_eq(fw_names_segment(n, 1), "db");
	ck_assert_ptr_null(fw_names_segment(n, 2));
	ck_assert_str_eq(fw_names_ifname(n, 12), "acme0");
	ck_assert_ptr_null(fw_names_ifname(n, 13));
	fw_names_set_clear(&set);
	ck_assert_uint_eq(set.n, 0);

	/* not a state document of this layout */
	write_file(path, "{\"layout_version\":1,\"generation\":7}");
	ck_assert_int_eq(fw_names_set_load(&set, path), -EBADMSG);
	write_file(path, "not json");
	ck_assert_int_eq(fw_names_set_load(&set, path), -EBADMSG);
}
END_TEST

/* A state document of generation 9 that still names generations 8 and
 * 5 (flows of those are tracked): the rule ids differ between them. */
static const char state_g9[] =
	"{\"layout_version\":" LAYOUT ",\"generation\":9,"
	"\"tenants\":[{\"id\":1,\"name\":\"acme\"}],"
	"\"rules\":[{\"id\":0,\"name\":\"new\",\"tenant\":\"acme\"},"
	"{\"id\":1,\"name\":\"web\",\"tenant\":\"acme\"}],"
	"\"previous\":[{\"generation\":8,"
	"\"tenants\":[{\"id\":1,\"name\":\"acme\"}],"
	"\"rules\":[{\"id\":0,\"name\":\"web\",\"tenant\":\"acme\"}]},"
	"{\"generation\":5,\"tenants\":[{\"id\":2,\"name\":\"old\"}],"
	"\"rules\":[{\"id\":0,\"name\":\"gone\",\"tenant\":\"old\"}]}]}";

START_TEST(names_previous_generations)
{
	struct logd_names_cache c = {};
	struct fw_names_set set = {};
	char path[256];

	snprintf(path, sizeof(path), "%s/state.json", tmpdir);
	write_file(path, state_g9);
	ck_assert_int_eq(fw_names_set_load(&set, path), 0);
	ck_assert_uint_eq(set.n, 3);
	ck_assert_str_eq(fw_names_rule(fw_names_set_find(&set, 9), 1)->name,
			 "web");
	ck_assert_str_eq(fw_names_rule(fw_names_set_find(&set, 8), 0)->name,
			 "web");
	ck_assert_str_eq(fw_names_rule(fw_names_set_find(&set, 5), 0)->name,
			 "gone");
	ck_assert_str_eq(fw_names_tenant(fw_names_set_find(&set, 5), 2), "old");
	fw_names_set_clear(&set);

	/* logd reads the same: an event of generation 5, older than logd,
	 * gets the names of generation 5 */
	ck_assert_int_eq(logd_names_cache_refresh(&c, path), 0);
	ck_assert_uint_eq(c.n, 3);
	ck_assert_str_eq(
		fw_names_rule(logd_names_cache_find(&c, 5, path, NULL), 0)->name,
		"gone");
	ck_assert_str_eq(
		fw_names_rule(logd_names_cache_find(&c, 9, path, NULL), 0)->name,
		"new");
	ck_assert_ptr_null(logd_names_cache_find(&c, 6, path, NULL));
	logd_names_cache_clear(&c);
}
END_TEST

START_TEST(names_cache_generations)
{
	struct logd_names_cache c = {};
	char state[256], tmp[256];
	char doc[1024];
	uint32_t g;

	snprintf(state, sizeof(state), "%s/state.json", tmpdir);
	snprintf(tmp, sizeof(tmp), "%s/state.json.tmp", tmpdir);
	ck_assert_ptr_null(logd_names_cache_find(&c, 7, state, tmp));
	write_file(state, state_g7);
	/* a miss is not retried at once */
	ck_assert_ptr_null(logd_names_cache_find(&c, 7, state, tmp));
	ck_assert_int_eq(logd_names_cache_refresh(&c, state), 0);
	ck_assert_ptr_nonnull(logd_names_cache_find(&c, 7, state, tmp));
	/* generation 8 only in the temporary document (apply mid-flip) */
	snprintf(doc, sizeof(doc), "%s", state_g7);
	memcpy(strstr(doc, "\"generation\":7,") + strlen("\"generation\":"),
	       "8", 1);
	write_file(tmp, doc);
	ck_assert_uint_eq(logd_names_cache_find(&c, 8, state, tmp)->generation,
			  8);
	ck_assert_uint_eq(logd_names_cache_find(&c, 7, state, tmp)->generation,
			  7);
	/* older unknown generations are never looked for */
	ck_assert_ptr_null(logd_names_cache_find(&c, 5, state, tmp));
	/* bounded, keeping the newest */
	for (g = 9; g < 9 + 2 * LOGD_NAMES_KEEP; g++) {
		snprintf(doc, sizeof(doc),
			 "{\"layout_version\":" LAYOUT ",\"generation\":%u}",
			 g);
		write_file(state, doc);
		ck_assert_int_eq(logd_names_cache_refresh(&c, state), 0);
	}
	ck_assert_uint_eq(c.n, LOGD_NAMES_KEEP);
	ck_assert_ptr_null(logd_names_cache_find(&c, 7, state, tmp));
	ck_assert_uint_eq(c.gen[0]->generation, 9 + 2 * LOGD_NAMES_KEEP - 1);
	/* an older document's generation does not push out newer ones */
	write_file(state, state_g7);
	ck_assert_int_eq(logd_names_cache_refresh(&c, state), 0);
	ck_assert_uint_eq(c.n, LOGD_NAMES_KEEP);
	ck_assert_ptr_null(logd_names_cache_find(&c, 7, state, tmp));
	logd_names_cache_clear(&c);
	ck_assert_uint_eq(c.n, 0);
}
END_TEST

static struct logd_sink *file_sink(const char *path, uint32_t queue)
{
	struct pw_sink cfg = {
		.name = "t",
		.format = PW_SINK_JSON,
		.transport = PW_SINK_FILE,
		.kinds = PW_LOG_KINDS_ALL,
		.path = path,
		.queue = queue,
	};
	struct logd_globals g = { .hostname = "h", .facility = 20 };
	struct logd_sink *s;

	ck_assert_int_eq(logd_sink_start(&cfg, &g, &s), 0);
	return s;
}

static void drop_event(struct pw_event *ev, uint16_t cpu, uint64_t seq)
{
	memset(ev, 0, sizeof(*ev));
	ev->type = PW_EVENT_DROP;
	ev->verdict = PW_VERDICT_DENY;
	ev->family = PW_FAMILY_IPV4;
	ev->proto = 17;
	ev->saddr[0] = 10;
	ev->daddr[0] = 10;
	ev->sport = 1000;
	ev->dport = 2000;
	ev->rule_id = PW_RULE_NONE;
	ev->cpu = cpu;
	ev->seq = seq;
}

START_TEST(reader_sequence_gaps)
{
	struct logd_reader r;
	struct logd_sink *s;
	struct pw_event ev;
	char path[256];

	snprintf(path, sizeof(path), "%s/out.json", tmpdir);
	logd_reader_init(&r);
	s = file_sink(path, 64);
	r.sinks = &s;
	r.n_sinks = 1;

	drop_event(&ev, 0, 10);
	logd_reader_event(&r, &ev); /* first of cpu 0: no expectation */
	drop_event(&ev, 1, 0);
	logd_reader_event(&r, &ev);
	drop_event(&ev, 0, 11);
	logd_reader_event(&r, &ev);
	/* the datapath lost seq 12 and says so in LOST seq 13 */
	drop_event(&ev, 0, 13);
	ev.type = PW_EVENT_LOST;
	ev.count = 1;
	logd_reader_event(&r, &ev);
	ck_assert_uint_eq(r.kernel_lost, 1);
	ck_assert_uint_eq(r.gap_lost, 0);
	/* seq 14, 15 vanished with no LOST record */
	drop_event(&ev, 0, 16);
	logd_reader_event(&r, &ev);
	ck_assert_uint_eq(r.gap_lost, 2);
	/* going backwards: a new datapath, no gap */
	drop_event(&ev, 0, 0);
	logd_reader_event(&r, &ev);
	ck_assert_uint_eq(r.gap_lost, 2);
	ck_assert_uint_eq(r.events, 6);

	ck_assert_int_eq(wait_lines(path, "\"dataset\":\"plumwall.", 7), 7);
	ck_assert_int_eq(count_lines(path, "\"plumwall.drop\""), 5);
	ck_assert_int_eq(count_lines(path, "\"count\":1,\"producer\":\"cpu0\""),
			 1);
	ck_assert_int_eq(count_lines(path, "\"count\":2,\"producer\":\"logd\""),
			 1);
	logd_sink_stop(s, logd_now_ns() + 5000000000ULL);
	logd_sink_join(s, true);
	r.n_sinks = 0;
	logd_reader_close(&r);
}
END_TEST

START_TEST(sink_loss_reported_after_recovery)
{
	struct logd_sink_stats st;
	struct logd_item it = {};
	struct logd_sink *s;
	char dir[256], path[300];
	int i;

	/* the sink's directory cannot be made: a file is in the way */
	snprintf(dir, sizeof(dir), "%s/log", tmpdir);
	snprintf(path, sizeof(path), "%s/events.json", dir);
	write_file(dir, "in the way");
	s = file_sink(path, 2);
	for (i = 0; i < 10; i++) {
		drop_event(&it.ev, 0, i);
		logd_sink_push(s, &it);
	}
	for (i = 0; i < 500; i++) { /* the sink has tried and failed */
		logd_sink_stats(s, &st);
		if (st.failures)
			break;
		usleep(10000);
	}
	ck_assert_uint_ge(st.failures, 1);
	ck_assert_uint_eq(st.queued, 2);
	ck_assert_uint_eq(st.dropped, 8);
	ck_assert_uint_eq(st.delivered, 0);

	/* writable again; the reopen skips the backoff */
	ck_assert_int_eq(unlink(dir), 0);
	logd_sink_reopen(s);
	ck_assert_int_eq(wait_lines(path, "\"dataset\":\"plumwall.", 3), 3);
	ck_assert_int_eq(count_lines(path, "\"plumwall.drop\""), 2);
	ck_assert_int_eq(count_lines(path, "\"action\":\"lost\""), 1);
	ck_assert_int_eq(count_lines(path, "\"count\":8,\"producer\":\"logd\""),
			 1);
	logd_sink_stop(s, logd_now_ns() + 5000000000ULL);
	logd_sink_wait(s); /* the counters are final once it has ended */
	logd_sink_stats(s, &st);
	ck_assert_uint_eq(st.delivered, 2);
	ck_assert_uint_eq(st.lost_reported, 8);
	logd_sink_join(s, true);
}
END_TEST

START_TEST(sink_rotation_keeps_files_it_cannot_shift)
{
	struct pw_sink cfg = {
		.name = "t",
		.format = PW_SINK_JSON,
		.transport = PW_SINK_FILE,
		.kinds = PW_LOG_KINDS_ALL,
		.queue = 4,
		.rotate_bytes = 16,
	};
	struct logd_globals g = { .hostname = "h", .facility = 20 };
	struct logd_sink_stats st;
	struct logd_item it = {};
	struct logd_sink *s;
	char path[256], old[300], text[32];
	int i;

	/* events.json.1 .. .4 hold their number; .5, the oldest, is a
	 * directory the shift cannot rename .4 over */
	snprintf(path, sizeof(path), "%s/events.json", tmpdir);
	write_file(path, "current\n");
	for (i = 1; i < LOGD_ROTATE_KEEP; i++) {
		snprintf(old, sizeof(old), "%s.%d", path, i);
		snprintf(text, sizeof(text), "file %d\n", i);
		write_file(old, text);
	}
	snprintf(old, sizeof(old), "%s.%d", path, LOGD_ROTATE_KEEP);
	ck_assert_int_eq(mkdir(old, 0700), 0);

	cfg.path = path;
	ck_assert_int_eq(logd_sink_start(&cfg, &g, &s), 0);
	drop_event(&it.ev, 0, 0);
	logd_sink_push(s, &it);
	for (i = 0; i < 500; i++) { /* the sink has tried and failed */
		logd_sink_stats(s, &st);
		if (st.failures)
			break;
		usleep(10000);
	}
	ck_assert_uint_ge(st.failures, 1);
	ck_assert_uint_eq(st.delivered, 0);
	logd_sink_stop(s, logd_now_ns());
	logd_sink_join(s, true);

	/* no rotated file was renamed over another */
	for (i = 1; i < LOGD_ROTATE_KEEP; i++) {
		snprintf(old, sizeof(old), "%s.%d", path, i);
		snprintf(text, sizeof(text), "file %d", i);
		ck_assert_int_eq(count_lines(old, text), 1);
	}
}
END_TEST

/* ---- network sinks with peers that do not cooperate ---------------- */

/* Any certificate will do as the sink's ca_file: these handshakes never
 * get as far as verifying one. */
static const char test_ca_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBjDCCATOgAwIBAgIUMmsTSxHpJNX9GML7vbEtgR0f7eAwCgYIKoZIzj0EAwIw\n"
	"GzEZMBcGA1UEAwwQcGx1bXdhbGwgdGVzdCBDQTAgFw0yNjEyMDMxMjM1MzZaGA8y\n"
	"MTI2MTEwOTEyMzUzNlowGzEZMBcGA1UEAwwQcGx1bXdhbGwgdGVzdCBDQTBZMBMG\n"
	"ByqGSM49AgEGCCqGSM49AwEHA0IABIA1jlBriPfUrFDoipA40YcV4mo4kdPjBWvd\n"
	"f999Uszog2PMrxsf5Dqv0MDYEq0/EfB+zFQyBlhzfTUW/EZlm8ijUzBRMB0GA1Ud\n"
	"DgQWBBTKT5RHoazsjVOJYFDHeXIMqna/2jAfBgNVHSMEGDAWgBTKT5RHoazsjVOJ\n"
	"YFDHeXIMqna/2jAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIFjC\n"
	"/PIBSPYigcjl0GZGUTyfRAfyZOroQX6Xo6W7oTGoAiBtWkl3XYfvl5vQBhfGhHw8\n"
	"dgjg9QcA/k2h89RkSOkfOg==\n"
	"-----END CERTIFICATE-----\n";

/* A listener on 127.0.0.1 that the test never accepts from: the kernel
 * completes connections into its backlog, and nobody reads or answers. */
static int mute_listener(uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static struct logd_sink *net_sink(enum pw_sink_transport transport,
				  uint16_t port, const char *ca_file,
				  uint32_t queue)
{
	struct pw_sink cfg = {
		.name = "net",
		.format = PW_SINK_JSON,
		.transport = transport,
		.kinds = PW_LOG_KINDS_ALL,
		.address = "127.0.0.1",
		.port = port,
		.ca_file = ca_file,
		.queue = queue,
	};
	struct logd_globals g = { .hostname = "h", .facility = 20 };
	struct logd_sink *s;

	ck_assert_int_eq(logd_sink_start(&cfg, &g, &s), 0);
	return s;
}

static void push_drops(struct logd_sink *s, int n)
{
	struct logd_item it = {};
	int i;

	for (i = 0; i < n; i++) {
		drop_event(&it.ev, 0, i);
		logd_sink_push(s, &it);
	}
}

/* Until the listener has a connection waiting (the sink connected), at
 * most 5 s. */
static void wait_connected(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	ck_assert_int_eq(poll(&p, 1, 5000), 1);
}

static double since(uint64_t t0)
{
	return (double)(logd_now_ns() - t0) / 1e9;
}

/* Every event the sink was given is delivered, dropped or left over. */
static void check_accounted(struct logd_sink *s, uint64_t given)
{
	struct logd_sink_stats st;

	logd_sink_stats(s, &st);
	ck_assert_uint_eq(st.delivered + st.dropped + st.undelivered, given);
}

/*
 * A TCP peer that never reads: the sink's send waits for room that never
 * comes. A stop with a short deadline ends it then, not when the send
 * would have given up on its own (5 s).
 */
START_TEST(sink_stop_ends_a_blocked_send)
{
	struct logd_sink *s;
	uint16_t port;
	uint64_t t0;
	int lfd;

	lfd = mute_listener(&port);
	s = net_sink(PW_SINK_TCP, port, NULL, 20000);
	/* ~12 MB of JSON: more than the socket buffers hold */
	push_drops(s, 20000);
	wait_connected(lfd);
	t0 = logd_now_ns();
	logd_sink_stop(s, t0 + 300000000ULL);
	logd_sink_wait(s);
	ck_assert_msg(since(t0) < 1.5, "stopped after %.2f s", since(t0));
	check_accounted(s, 20000);
	logd_sink_join(s, true);
	close(lfd);
}
END_TEST

/*
 * A TLS peer that accepts the connection and never answers the
 * ClientHello. The stop comes while the handshake waits: it ends by the
 * deadline.
 */
START_TEST(sink_stop_ends_a_stalled_handshake)
{
	struct logd_sink_stats st;
	struct logd_sink *s;
	char ca[300];
	uint16_t port;
	uint64_t t0;
	int lfd;

	snprintf(ca, sizeof(ca), "%s/ca.pem", tmpdir);
	write_file(ca, test_ca_pem);
	lfd = mute_listener(&port);
	s = net_sink(PW_SINK_TLS, port, ca, 16);
	push_drops(s, 1);
	wait_connected(lfd); /* the ClientHello is out: the sink waits */
	t0 = logd_now_ns();
	logd_sink_stop(s, t0 + 300000000ULL);
	logd_sink_wait(s);
	ck_assert_msg(since(t0) < 1.5, "stopped after %.2f s", since(t0));
	logd_sink_stats(s, &st);
	ck_assert_uint_eq(st.delivered, 0);
	ck_assert_uint_eq(st.undelivered, 1);
	ck_assert_uint_ge(st.failures, 1);
	logd_sink_join(s, true);
	close(lfd);
}
END_TEST

struct trickle {
	int lfd;
	volatile int stop;
};

/* A peer that reads 1 KiB every 20 ms: every send makes some progress,
 * none ever finishes. */
static void *trickle_reader(void *arg)
{
	struct trickle *t = arg;
	char buf[1024];
	int fd;

	fd = accept(t->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	while (!t->stop) {
		if (read(fd, buf, sizeof(buf)) <= 0)
			break;
		usleep(20000); /* the peer's pace, not a synchronisation */
	}
	close(fd);
	return NULL;
}

/*
 * A send is bounded in all, not per system call: against the trickling
 * peer the sink gives up after LOGD_IO_TIMEOUT_MS (and says so by a
 * failed attempt), rather than writing a byte now and then for ever.
 */
START_TEST(sink_send_bounded_in_all)
{
	struct trickle t = { 0 };
	struct logd_sink_stats st;
	struct logd_sink *s;
	pthread_t th;
	uint16_t port;
	uint64_t t0;

	t.lfd = mute_listener(&port);
	ck_assert_int_eq(pthread_create(&th, NULL, trickle_reader, &t), 0);
	s = net_sink(PW_SINK_TCP, port, NULL, 20000);
	t0 = logd_now_ns();
	push_drops(s, 20000);
	do { /* bounded: a failure within twice the timeout */
		logd_sink_stats(s, &st);
		if (st.failures)
			break;
		usleep(10000);
	} while (since(t0) < 2.0 * LOGD_IO_TIMEOUT_MS / 1000);
	ck_assert_uint_ge(st.failures, 1);
	ck_assert_msg(since(t0) >= LOGD_IO_TIMEOUT_MS / 1000.0 - 0.5,
		      "gave up after %.2f s", since(t0));
	logd_sink_stop(s, logd_now_ns());
	logd_sink_wait(s);
	check_accounted(s, 20000);
	logd_sink_join(s, true);
	t.stop = 1;
	shutdown(t.lfd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(t.lfd);
}
END_TEST

static Suite *logd_suite(void)
{
	Suite *s = suite_create("logd");
	TCase *tc = tcase_create("logd");

	tcase_add_checked_fixture(tc, setup, teardown);
	/* sink_send_bounded_in_all waits out LOGD_IO_TIMEOUT_MS */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, queue_bounded_fifo);
	tcase_add_test(tc, names_from_state);
	tcase_add_test(tc, names_previous_generations);
	tcase_add_test(tc, names_cache_generations);
	tcase_add_test(tc, reader_sequence_gaps);
	tcase_add_test(tc, sink_loss_reported_after_recovery);
	tcase_add_test(tc, sink_rotation_keeps_files_it_cannot_shift);
	tcase_add_test(tc, sink_stop_ends_a_blocked_send);
	tcase_add_test(tc, sink_stop_ends_a_stalled_handshake);
	tcase_add_test(tc, sink_send_bounded_in_all);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(logd_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
