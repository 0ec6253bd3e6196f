// SPDX-License-Identifier: GPL-2.0
/*
 * bench_trace: how fast `plumwall trace` judges a capture, per engine.
 *
 * A pcap of 10,000 packets (2,000 TCP flows of SYN, SYN-ACK, ACK, plus a
 * denied SYN and a DNS query per flow) is written to a temporary file,
 * then read back and traced as the command does it (fw_pcap_next +
 * fw_tracer_run, output left out), best of three runs per engine. Prints
 * ns per packet and seconds per 10,000 packets, and the time to open the
 * tracer (compile; for bpf also load and verify the programs). The BPF
 * engine needs root and is skipped without it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include <plumwall/diag.h>

#include "fw/trace.h"
#include "policy/analyze.h"
#include "policy/policy.h"

#define N_FLOWS 2000
#define PER_FLOW 5
#define N_PACKETS (N_FLOWS * PER_FLOW)
#define RUNS 3

static const char policy_yaml[] =
	"version: 1\n"
	"segments:\n"
	"  dns: [10.0.0.53]\n"
	"rules:\n"
	"  - {name: dns, from: any, to: dns, proto: udp, ports: [53], action: allow}\n"
	"tenants:\n"
	"  - name: acme\n"
	"    interfaces: [acme0]\n"
	"    segments:\n"
	"      web: [10.1.1.0/24]\n"
	"      db: [10.1.2.0/24]\n"
	"    rules:\n"
	"      - {name: web-to-db, from: web, to: db, proto: tcp, ports: [5432], action: allow}\n"
	"      - {name: web-out, from: web, to: external, proto: tcp, ports: [80, 443], action: allow}\n";

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int add(pcap_dumper_t *d, uint64_t i, const char *line)
{
	char copy[256], *argv[8], *save = NULL, *w;
	struct pcap_pkthdr h = { 0 };
	uint8_t buf[256];
	char err[256];
	int argc = 0, len;

	snprintf(copy, sizeof(copy), "%s", line);
	for (w = strtok_r(copy, " ", &save); w && argc < 8;
	     w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	len = fw_trace_packet_build(argc, argv, 0, buf, sizeof(buf), err,
				    sizeof(err));
	if (len < 0) {
		fprintf(stderr, "bench_trace: %s: %s\n", line, err);
		return len;
	}
	h.ts.tv_sec = 1700000000 + (time_t)(i / 1000);
	h.ts.tv_usec = (suseconds_t)(i % 1000) * 1000;
	h.caplen = h.len = (bpf_u_int32)len;
	pcap_dump((u_char *)d, &h, buf);
	return 0;
}

static int write_capture(const char *path)
{
	char line[128];
	pcap_dumper_t *d;
	pcap_t *p;
	uint64_t n = 0;
	int k, ret = 0;

	p = pcap_open_dead(DLT_EN10MB, 65535);
	d = p ? pcap_dump_open(p, path) : NULL;
	if (!d) {
		ret = -EIO;
		goto out;
	}
	for (k = 0; k < N_FLOWS && !ret; k++) {
		int c = 1 + k % 250, s = 1024 + k;

		snprintf(line, sizeof(line),
			 "tcp 10.1.1.%d:%d 10.1.2.7:5432 syn", c, s);
		ret |= add(d, n++, line);
		snprintf(line, sizeof(line),
			 "tcp 10.1.2.7:5432 10.1.1.%d:%d syn ack", c, s);
		ret |= add(d, n++, line);
		snprintf(line, sizeof(line),
			 "tcp 10.1.1.%d:%d 10.1.2.7:5432 ack", c, s);
		ret |= add(d, n++, line);
		snprintf(line, sizeof(line), "tcp 10.1.2.7:%d 10.1.1.%d:22 syn",
			 s, c);
		ret |= add(d, n++, line);
		snprintf(line, sizeof(line), "udp 10.1.1.%d:%d 10.0.0.53:53", c,
			 s);
		ret |= add(d, n++, line);
	}
out:
	if (d)
		pcap_dump_close(d);
	if (p)
		pcap_close(p);
	return ret;
}

static int bench(enum fw_trace_engine e, const char *path,
		 const struct policy *pol, const struct policy_analysis *an)
{
	struct fw_trace_answer a;
	struct fw_tracer *t = NULL;
	struct fw_pcap *pc = NULL;
	uint64_t t0, open_ns = 0, best = UINT64_MAX, n, allowed;
	char err[512] = "";
	uint8_t *frame;
	size_t len;
	uint64_t ts;
	int run, ret = 0;

	for (run = 0; run < RUNS; run++) {
		t0 = now_ns();
		ret = fw_tracer_open(&t, e, pol, an, "acme0");
		if (ret)
			goto out;
		open_ns = now_ns() - t0;
		ret = fw_pcap_open(path, &pc, err, sizeof(err));
		if (ret)
			goto out;
		n = allowed = 0;
		t0 = now_ns();
		while ((ret = fw_pcap_next(pc, &frame, &len, &ts, err,
					   sizeof(err))) > 0) {
			ret = fw_tracer_run(t, frame, len, ts, &a);
			if (ret)
				goto out;
			n++;
			allowed += a.verdict == PW_VERDICT_ALLOW;
		}
		if (ret < 0)
			goto out;
		t0 = now_ns() - t0;
		if (t0 < best)
			best = t0;
		if (n != N_PACKETS || allowed != N_FLOWS * 4) {
			fprintf(stderr,
				"bench_trace: %lu packets, %lu allowed: wrong\n",
				(unsigned long)n, (unsigned long)allowed);
			ret = -EINVAL;
			goto out;
		}
		fw_pcap_close(pc);
		pc = NULL;
		fw_tracer_close(t);
		t = NULL;
	}
	printf("bench_trace: engine %-5s %6.0f ns/packet  %.4f s per 10,000 packets  (open %.0f ms; %d packets, %d flows, best of %d)\n",
	       e == FW_TRACE_BPF ? "bpf" : "model", (double)best / N_PACKETS,
	       (double)best / N_PACKETS * 10000 / 1e9, (double)open_ns / 1e6,
	       N_PACKETS, N_FLOWS, RUNS);
out:
	if (ret)
		fprintf(stderr, "bench_trace: %s engine: %s %s\n",
			e == FW_TRACE_BPF ? "bpf" : "model", strerror(-ret),
			err);
	fw_pcap_close(pc);
	fw_tracer_close(t);
	return ret;
}

int main(void)
{
	char dir[] = "/tmp/pw-bench-trace-XXXXXX", path[64];
	struct policy_analysis *an = NULL;
	struct policy *pol = NULL;
	struct pw_diags diags;
	int ret;

	pw_diags_init(&diags);
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/bench.pcap", dir);
	ret = policy_load_buffer("bench.yaml", policy_yaml,
				 sizeof(policy_yaml) - 1, &diags, &pol);
	if (!ret)
		ret = policy_analyze(pol, &an);
	if (!ret)
		ret = write_capture(path);
	if (!ret)
		ret = bench(FW_TRACE_MODEL, path, pol, an);
	if (!ret) {
		if (geteuid() == 0)
			ret = bench(FW_TRACE_BPF, path, pol, an);
		else
			printf("bench_trace: engine bpf needs root, skipped\n");
	}
	unlink(path);
	rmdir(dir);
	policy_analysis_free(an);
	policy_free(pol);
	pw_diags_free(&diags);
	return ret ? 1 : 0;
}
