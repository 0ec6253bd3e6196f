// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: one Ethernet frame, as `plumwall trace --engine
 * model` judges it. The frame parser (policy_packet_parse), the compiled
 * maps against the reference evaluator on what it parsed (they must
 * agree), the frame with an 802.1Q tag added (fw_trace_vlan_tag), and
 * the connection-tracking model twice over (the second time the frame
 * may belong to the flow the first one started).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw/trace.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_parse(const struct fuzz_policy *fp, const uint8_t *frame,
		       size_t len, const char *ifname)
{
	struct policy_packet pkt;

	if (policy_packet_parse(frame, len, ifname, &pkt))
		abort(); /* only a too long interface name is an error */
	if (pkt.kind == POLICY_PKT_MALFORMED && !pkt.malformed)
		abort(); /* malformed says why */
	fuzz_policy_agree(fp, &pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[FW_TRACE_FRAME_MAX + 4];
	const struct fuzz_policy *fp = fuzz_policy_get();
	struct fw_trace_answer a;
	struct fw_tracer *t;
	size_t len;
	int i;

	if (size > FW_TRACE_FRAME_MAX)
		return 0;
	fuzz_parse(fp, data, size, "eth0");
	memcpy(buf, data, size);
	len = fw_trace_vlan_tag(buf, size, sizeof(buf), 200);
	if (len > sizeof(buf))
		abort();
	fuzz_parse(fp, buf, len, "eth1");

	if (fw_tracer_open(&t, FW_TRACE_MODEL, fp->pol, fp->an, "eth0"))
		abort();
	for (i = 0; i < 2; i++)
		if (fw_tracer_run(t, data, size, 1000000000ULL * (i + 1), &a))
			abort();
	fw_tracer_close(t);
	return 0;
}
