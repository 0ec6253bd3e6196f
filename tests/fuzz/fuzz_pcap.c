// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: a pcap or pcapng file read as `plumwall trace
 * --pcap` reads it (libpcap, then the Linux cooked SLL / SLL2 header
 * turned into an Ethernet header, padding of short captures, cutting of
 * long frames), given as a stream (fmemopen) rather than a file. Every
 * frame is tagged as --vlan does and judged by the connection-tracking
 * model, frames of one capture sharing one flow table as in a trace.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw/trace.h"
#include "common.h"

/* Frames judged per capture: enough for handshakes and timeouts, and a
 * bound on the time one input takes. */
#define FUZZ_MAX_FRAMES 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct fuzz_policy *fp = fuzz_policy_get();
	struct fw_trace_answer a;
	struct fw_tracer *t = NULL;
	struct fw_pcap *pc = NULL;
	char err[512];
	uint8_t *frame;
	uint64_t ts;
	size_t len;
	FILE *f;
	int i, ret;

	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	err[0] = '\0';
	if (fw_pcap_open_stream(f, "fuzz.pcap", &pc, err, sizeof(err))) {
		if (!err[0])
			abort(); /* refused without saying why */
		return 0;
	}
	if (fw_tracer_open(&t, FW_TRACE_MODEL, fp->pol, fp->an, "eth0"))
		abort();
	for (i = 0; i < FUZZ_MAX_FRAMES; i++) {
		err[0] = '\0';
		ret = fw_pcap_next(pc, &frame, &len, &ts, err, sizeof(err));
		if (ret < 0 && !err[0])
			abort();
		if (ret <= 0)
			break;
		if (len > FW_TRACE_FRAME_MAX)
			abort(); /* what a test run would refuse */
		if (i & 1) /* --vlan: room for the tag is there */
			len = fw_trace_vlan_tag(frame, len, len + 4, 100);
		if (fw_tracer_run(t, frame, len, ts, &a))
			abort();
	}
	fw_tracer_close(t);
	fw_pcap_close(pc);
	return 0;
}
