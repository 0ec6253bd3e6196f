// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: the PACKET text forms of `plumwall trace` (cli.md),
 * given as words separated by white space, as the shell would split
 * them. A PACKET that is accepted must give a frame that the frame
 * parser takes as the IP packet it describes, untagged and with an
 * 802.1Q tag; anything else is a bug in one of the two.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fw/trace.h"
#include "policy/packet.h"

#define FUZZ_MAX_WORDS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_build(int argc, char **argv, uint16_t vlan)
{
	static uint8_t frame[256];
	struct policy_packet pkt;
	char err[256];
	int len;

	len = fw_trace_packet_build(argc, argv, vlan, frame, sizeof(frame), err,
				    sizeof(err));
	if (len < 0) {
		/* refused, with a message */
		if (!err[0] || !memchr(err, '\0', sizeof(err)))
			abort();
		return;
	}
	if ((size_t)len > sizeof(frame) || len < 14 + 20)
		abort();
	if (policy_packet_parse(frame, (size_t)len, "eth0", &pkt))
		abort();
	if (pkt.kind != POLICY_PKT_IP || pkt.vlan != vlan || !pkt.l4 ||
	    pkt.len != (uint32_t)len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[FUZZ_MAX_WORDS], *text, *p, *save = NULL;
	int argc = 0;

	/* words as the shell gives them: NUL-terminated, no white space */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (p = strtok_r(text, " \t\n\r\f\v", &save);
	     p && argc < FUZZ_MAX_WORDS;
	     p = strtok_r(NULL, " \t\n\r\f\v", &save))
		argv[argc++] = p;
	fuzz_build(argc, argv, 0);
	fuzz_build(argc, argv, 100);
	free(text);
	return 0;
}
