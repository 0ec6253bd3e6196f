// SPDX-License-Identifier: GPL-2.0
/*
 * bench_logd: events per second from the ring buffer, raw and through
 * plumwall-logd's reader and a JSON file sink, with every event accounted
 * for.
 *
 * A private datapath (no pins, nothing attached) gets a policy that logs
 * every packet (log_rate 0: no rate limit); BPF_PROG_TEST_RUN with repeat
 * runs a denied TCP SYN N times, so the kernel produces N drop events as
 * fast as it can, while a consumer thread reads them:
 *   raw   ring_buffer__poll() with a callback that only counts;
 *   file  logd_reader_consume() -> the sink's queue -> its thread ->
 *         ECS JSON lines written to a file in batches.
 * The figure is events delivered per second from the first produced event
 * until the consumer (raw) or the sink's file (file) has the last one.
 * Accounting: delivered drop events + events the kernel counted lost
 * (reported in its LOST records) + events the sink dropped (queue full)
 * must equal N; the program fails if not.
 */
#include "logging/logd.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <plumwall/diag.h>

#include "fw/datapath.h"
#include "policy/analyze.h"
#include "policy/compile.h"
#include "policy/policy.h"

#define BENCH_EVENTS_DEFAULT 1000000U
#define BENCH_CHUNK 10000U /* test runs of this many repeats */

static const char bench_policy[] = "version: 1\n"
				   "settings:\n"
				   "  log_rate: 0\n"
				   "tenants:\n"
				   "  - name: bench\n"
				   "    interfaces: [lo]\n"
				   "    default: deny\n"
				   "    segments:\n"
				   "      clients: [10.0.0.0/24]\n"
				   "      servers: [10.0.1.0/24]\n"
				   "    rules:\n"
				   "      - name: no-telnet\n"
				   "        from: clients\n"
				   "        to: servers\n"
				   "        proto: tcp\n"
				   "        ports: [23]\n"
				   "        action: deny\n"
				   "        log: true\n";

/* Ethernet + IPv4 + TCP SYN 10.0.0.5:40000 -> 10.0.1.7:23. */
static const uint8_t bench_syn[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x08, 0x00, 0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00,
	0x40, 0x06, 0x65, 0xc4, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x01,
	0x07, 0x9c, 0x40, 0x00, 0x17, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x00, 0x50, 0x02, 0xfa, 0xf0, 0x03, 0x8e, 0x00, 0x00,
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int bench_resolve(const char *ifname, void *ctx, uint32_t *ifindex)
{
	(void)ctx;
	(void)ifname;
	*ifindex = 1; /* lo: where test runs happen */
	return 0;
}

static int bench_load(struct fw_dp *dp)
{
	struct policy_analysis *an = NULL;
	struct policy_compiled *c = NULL;
	struct policy *pol = NULL;
	struct pw_diags diags;
	int ret;

	pw_diags_init(&diags);
	ret = policy_load_buffer("bench.yaml", bench_policy,
				 sizeof(bench_policy) - 1, &diags, &pol);
	if (!ret)
		ret = policy_analyze(pol, &an);
	if (!ret)
		ret = policy_compile(an, 1, &c);
	if (!ret)
		ret = fw_dp_load_compiled(dp, c, bench_resolve, NULL);
	pw_diags_print(&diags, stderr);
	policy_compiled_free(c);
	policy_analysis_free(an);
	policy_free(pol);
	pw_diags_free(&diags);
	return ret;
}

/* ---- consumers ---------------------------------------------------------- */

struct bench_run {
	struct fw_dp *dp;
	int map_fd, cfg_fd;
	unsigned int n; /* events to produce */
	bool to_file;
	const char *path;
	/* shared */
	atomic_bool produced;
	/* results */
	uint64_t drops, lost_records, kernel_lost;
	double t_start, t_end;
	struct logd_sink_stats sink;
};

static int bench_raw_cb(void *ctx, void *data, size_t size)
{
	struct bench_run *b = ctx;
	const struct pw_event *ev = data;

	(void)size;
	if (ev->type == PW_EVENT_LOST) {
		b->lost_records++;
		b->kernel_lost += ev->count;
	} else {
		b->drops++;
	}
	return 0;
}

static void *bench_raw_main(void *arg)
{
	struct bench_run *b = arg;
	struct ring_buffer *rb;

	rb = ring_buffer__new(b->map_fd, bench_raw_cb, b, NULL);
	if (!rb)
		return NULL;
	while (!atomic_load(&b->produced))
		ring_buffer__poll(rb, 10);
	ring_buffer__consume(rb);
	b->t_end = now_s();
	ring_buffer__free(rb);
	return NULL;
}

static void *bench_file_main(void *arg)
{
	struct bench_run *b = arg;
	struct logd_reader rd;
	struct logd_sink *sink = NULL;
	struct pw_sink cfg = {
		.name = "bench",
		.format = PW_SINK_JSON,
		.transport = PW_SINK_FILE,
		.kinds = PW_LOG_KINDS_ALL,
		.path = b->path,
		.queue = PW_SINK_QUEUE_DEFAULT,
	};
	struct logd_globals g = { .hostname = "bench", .facility = 20,
				  .procid = getpid() };
	struct epoll_event ee;
	int epfd;

	logd_reader_init(&rd);
	if (logd_reader_open_fd(&rd, b->map_fd, b->cfg_fd))
		return NULL;
	if (logd_sink_start(&cfg, &g, &sink))
		goto out;
	rd.sinks = &sink;
	rd.n_sinks = 1;
	epfd = logd_reader_epoll_fd(&rd);
	while (!atomic_load(&b->produced)) {
		if (epoll_wait(epfd, &ee, 1, 10) > 0)
			logd_reader_consume(&rd);
	}
	logd_reader_consume(&rd);
	b->kernel_lost = rd.kernel_lost;
	logd_sink_stop(sink, logd_now_ns() + 60ULL * 1000000000ULL);
	/* drops happen only when pushing: final now */
	logd_sink_stats(sink, &b->sink);
	/* the thread ends once the queue is written out */
	logd_sink_join(sink, true);
	b->t_end = now_s();
out:
	logd_reader_close(&rd);
	return NULL;
}

/* ---- one run --------------------------------------------------------------- */

static int bench_produce(struct bench_run *b)
{
	unsigned int left = b->n;
	int ret = 0;

	b->t_start = now_s();
	while (left) {
		struct fw_dp_run run = {
			.prog = FW_DP_XDP,
			.flags = FW_DP_RUN_KEEP_EVENTS,
			.in = bench_syn,
			.in_len = sizeof(bench_syn),
			.repeat = left < BENCH_CHUNK ? left : BENCH_CHUNK,
		};

		ret = fw_dp_test_run(b->dp, &run);
		if (ret)
			break;
		left -= run.repeat;
	}
	atomic_store(&b->produced, true);
	return ret;
}

static uint64_t bench_count_lines(const char *path, uint64_t *lost_sum)
{
	char *line = NULL;
	size_t cap = 0;
	uint64_t n = 0;
	FILE *f = fopen(path, "r");
	const char *p;

	*lost_sum = 0;
	if (!f)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		if (strstr(line, "\"dataset\":\"plumwall.lost\"")) {
			p = strstr(line, "\"count\":");
			if (p)
				*lost_sum += strtoull(p + 8, NULL, 10);
			continue;
		}
		n++;
	}
	free(line);
	fclose(f);
	return n;
}

static int bench_one(struct bench_run *b)
{
	pthread_t th;
	__u64 lost_before, lost_after;
	int ret;

	ret = fw_dp_reset_state(b->dp);
	if (ret)
		return ret;
	ret = fw_dp_events_lost(b->dp, &lost_before);
	if (ret)
		return ret;
	atomic_store(&b->produced, false);
	ret = -pthread_create(&th, NULL,
			      b->to_file ? bench_file_main : bench_raw_main, b);
	if (ret)
		return ret;
	ret = bench_produce(b);
	pthread_join(th, NULL);
	if (!ret)
		ret = fw_dp_events_lost(b->dp, &lost_after);
	if (ret)
		return ret;
	/* the kernel's own count, for the LOST records not yet emitted */
	b->kernel_lost = lost_after - lost_before;
	return 0;
}

/* One ring size: the raw and the file consumer. 0 when all is accounted. */
static int bench_ring(unsigned int n, __u32 ring_bytes, const char *path)
{
	struct fw_dp_opts opts = { .ringbuf_bytes = ring_bytes };
	struct bench_run raw = {}, file = {};
	uint64_t in_file, lost_in_file;
	struct fw_dp *dp = NULL;
	double t_raw, t_file;
	int ret;

	ret = fw_dp_open(&dp, &opts);
	if (!ret)
		ret = bench_load(dp);
	if (ret)
		goto out;
	raw.dp = file.dp = dp;
	raw.map_fd = file.map_fd = fw_dp_map_fd(dp, "pw_events");
	raw.cfg_fd = file.cfg_fd = fw_dp_map_fd(dp, "pw_config");
	raw.n = file.n = n;
	file.to_file = true;
	file.path = path;
	truncate(path, 0);

	ret = bench_one(&raw);
	if (!ret)
		ret = bench_one(&file);
	if (ret)
		goto out;
	in_file = bench_count_lines(path, &lost_in_file);
	t_raw = raw.t_end - raw.t_start;
	t_file = file.t_end - file.t_start;
	printf("| %u MiB | raw ring buffer (count only) | %llu | %llu | - | %.0f |\n",
	       ring_bytes >> 20, (unsigned long long)raw.drops,
	       (unsigned long long)raw.kernel_lost, raw.drops / t_raw);
	printf("| %u MiB | logd reader -> JSON file sink | %llu | %llu | %llu | %.0f |\n",
	       ring_bytes >> 20, (unsigned long long)in_file,
	       (unsigned long long)file.kernel_lost,
	       (unsigned long long)file.sink.dropped, in_file / t_file);
	/* every event is delivered or counted */
	if (raw.drops + raw.kernel_lost != n ||
	    in_file + file.kernel_lost + file.sink.dropped != n ||
	    lost_in_file > file.kernel_lost + file.sink.dropped) {
		fprintf(stderr, "bench_logd: %u MiB: unaccounted loss\n",
			ring_bytes >> 20);
		ret = -EPROTO;
	}
out:
	fw_dp_close(dp);
	return ret;
}

int main(void)
{
	const char *env = getenv("BENCH_LOGD_EVENTS");
	/* as loaded (bpf/pw_maps.h), and one the whole run fits in */
	static const __u32 rings[] = { 1U << 20, 1U << 29 };
	char path[] = "/tmp/plumwall-bench-logd.XXXXXX";
	unsigned int n = BENCH_EVENTS_DEFAULT, i;
	int ret = 0, fd;

	if (geteuid() != 0) {
		printf("bench_logd: needs root, skipped\n");
		return 77;
	}
	if (env && atoi(env) > 0)
		n = (unsigned int)atoi(env);
	libbpf_set_print(NULL);
	fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "bench_logd: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	printf("bench_logd: %u drop events produced by BPF_PROG_TEST_RUN "
	       "(XDP, repeat %u per run) on one CPU,\n"
	       "  consumed on another; %d CPUs. events/s = delivered / "
	       "(first produced .. last delivered)\n",
	       n, BENCH_CHUNK, libbpf_num_possible_cpus());
	printf("| ring buffer | consumer | delivered | lost in kernel | "
	       "dropped by sink | events/s |\n");
	printf("| ---: | --- | ---: | ---: | ---: | ---: |\n");
	for (i = 0; i < sizeof(rings) / sizeof(rings[0]) && !ret; i++)
		ret = bench_ring(n, rings[i], path);
	if (!ret)
		printf("unaccounted loss: 0 (delivered + lost in kernel + "
		       "dropped by sink = produced, every run)\n");
	else
		fprintf(stderr, "bench_logd: %s\n", strerror(-ret));
	unlink(path);
	return ret ? 1 : 0;
}
