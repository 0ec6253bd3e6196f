// SPDX-License-Identifier: GPL-2.0
/*
 * Formatter throughput of plumwall-logd: events formatted per second for
 * each format (JSON, syslog with JSON, CEF, Community ID alone, pcapng
 * to a file), on a drop event like events.md's example.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "logging/log_format.h"
#include "logging/log_pcap.h"

#define ROUNDS 500000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fmt_syslog(const struct log_event *e, struct log_buf *out)
{
	return log_format_syslog(e, 20, 4, "1234", LOG_SYSLOG_BODY_JSON, out);
}

static int fmt_cid(const struct log_event *e, struct log_buf *out)
{
	char id[LOG_COMMUNITY_ID_SIZE];

	(void)out;
	return log_community_id(e->raw, 0, id);
}

static int run(const char *name,
	       int (*fn)(const struct log_event *, struct log_buf *),
	       struct log_event *e, struct pw_event *ev)
{
	struct log_buf b = {};
	double t0, dt;
	size_t bytes = 0;
	int i;

	t0 = now_s();
	for (i = 0; i < ROUNDS; i++) {
		ev->seq = (uint64_t)i;
		ev->sport = (uint16_t)(1024 + i % 60000);
		log_buf_reset(&b);
		if (fn(e, &b)) {
			fprintf(stderr, "%s: formatting failed\n", name);
			return -1;
		}
		bytes += b.len;
	}
	dt = now_s() - t0;
	printf("  %-22s %10.0f events/s  %6.0f ns/event  %4zu bytes\n", name,
	       ROUNDS / dt, dt * 1e9 / ROUNDS, bytes / ROUNDS);
	log_buf_free(&b);
	return 0;
}

static int run_pcap(struct log_event *e)
{
	char path[] = "/tmp/pw-bench-XXXXXX";
	struct log_pcap *w;
	int fd = mkstemp(path), i, n = ROUNDS / 5, err = 0;
	double t0, dt;

	if (fd < 0)
		return -1;
	close(fd);
	if (log_pcap_open(&w, path, 0, 0, 0)) {
		unlink(path);
		return -1;
	}
	t0 = now_s();
	for (i = 0; i < n && !err; i++)
		err = log_pcap_write(w, e);
	dt = now_s() - t0;
	log_pcap_close(w);
	unlink(path);
	if (err)
		return -1;
	printf("  %-22s %10.0f events/s  %6.0f ns/event\n", "pcapng (file)",
	       n / dt, dt * 1e9 / n);
	return 0;
}

int main(void)
{
	struct pw_event ev = {};
	struct log_event e = {};

	ev.type = PW_EVENT_DROP;
	ev.verdict = PW_VERDICT_DENY;
	ev.family = PW_FAMILY_IPV4;
	ev.proto = 6;
	ev.tcp_flags = 0x02;
	ev.vlan = 100;
	ev.generation = 7;
	ev.dport = 5432;
	ev.pkt_len = 60;
	ev.snap_len = 60;
	inet_pton(AF_INET, "10.1.1.5", ev.saddr);
	inet_pton(AF_INET, "10.1.2.7", ev.daddr);
	e.raw = &ev;
	e.time_ns = 1795514400123456789ULL;
	e.hostname = "fw1";
	e.ifname = "acme0";
	e.tenant = "acme";
	e.rule = "no-ping-db";
	e.src_segment = "web";
	e.dst_segment = "db";
	e.version = "1.0";

	printf("bench_logfmt: drop event, %d rounds\n", ROUNDS);
	if (run("community_id", fmt_cid, &e, &ev) ||
	    run("json", log_format_json, &e, &ev) ||
	    run("syslog (json)", fmt_syslog, &e, &ev) ||
	    run("cef", log_format_cef, &e, &ev) || run_pcap(&e))
		return 1;
	return 0;
}
