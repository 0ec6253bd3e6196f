/* SPDX-License-Identifier: GPL-2.0 */
/*
 * plumwall trace (cli.md "What-if"): judge frames with a policy, privately.
 *
 * A tracer holds one policy and one flow table. Engine BPF compiles the
 * policy into a private, unpinned datapath (fw_dp with fw_dp_opts.trace)
 * and runs every frame through the real XDP program with
 * BPF_PROG_TEST_RUN; the program notes what the frame got (struct
 * pw_trace). Engine MODEL runs the reference evaluator (policy/eval.h)
 * on the same bytes, without privileges. Frames of one tracer share its
 * flow table, so a handshake and its replies are judged statefully.
 *
 * The interface the frames arrive on (@ifname) need not exist: the BPF
 * engine maps it to the loopback device's ifindex (test runs must name a
 * real device) and every other interface of the policy to an ifindex no
 * device has, in its private maps only.
 *
 * Also here: the PACKET text forms of cli.md turned into frames, and
 * pcap / pcapng files (Ethernet, Linux cooked v1 and v2) read as frames.
 *
 * Functions return 0 or a negative errno unless they say otherwise.
 */
#ifndef PLUMWALL_FW_TRACE_H
#define PLUMWALL_FW_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/types.h>
#include <netinet/in.h>

#include <plumwall/shared.h>

struct policy;
struct policy_analysis;

/*
 * Largest frame BPF_PROG_TEST_RUN takes for XDP (a page less headroom and
 * tailroom). Longer frames (GRO/TSO captures, jumbo frames) are judged on
 * their first FW_TRACE_FRAME_MAX bytes with the IP (and UDP) lengths cut
 * to match, by both engines: the policy never looks past the headers.
 */
#define FW_TRACE_FRAME_MAX 3520

enum fw_trace_engine {
	FW_TRACE_BPF,
	FW_TRACE_MODEL,
};

/*
 * The packet as the answer describes it: what its headers say, read by
 * the model's parser (policy/packet.h) from the same bytes for both
 * engines. Non-IP and malformed frames have no fields (ip false).
 */
struct fw_trace_pkt {
	bool ip; /* addresses and protocol known */
	char src[INET6_ADDRSTRLEN];
	char dst[INET6_ADDRSTRLEN];
	uint8_t proto;
	bool ports; /* TCP or UDP, with its header (not a later fragment) */
	uint16_t sport, dport;
	bool icmp; /* ICMP or ICMPv6, with its header */
	uint8_t icmp_type, icmp_code;
};

/* What one frame got. Names point into the tracer's policy. */
struct fw_trace_answer {
	enum pw_verdict verdict;
	/* As the datapath records it: ESTABLISHED / REPLY for a packet of a
	 * tracked flow (see flow). */
	enum pw_reason reason;
	/*
	 * Why, in events.md's terms (its event.reason, and non-ip): a packet
	 * of a tracked flow has the reason of the judgement that allowed the
	 * flow, POLICY when a rule did, DEFAULT when the tenant default did.
	 */
	enum pw_reason why;
	const char *rule; /* NULL: the tenant default or a setting decided */
	/* NULL: no tenant (non-IP frames, unmatched (interface, VLAN)); a
	 * malformed frame's is the tenant of the wire it came from, the one
	 * its drop event names */
	const char *tenant;
	/* "external" when in none; NULL: no tenant, or a malformed frame */
	const char *src_segment;
	const char *dst_segment;
	const char *flow; /* "new", "established" or "reply" */
	struct fw_trace_pkt pkt;
};

struct fw_tracer;

/*
 * A tracer for @pol (analysed as @an; both must outlive the tracer) and
 * frames arriving on @ifname, which the policy must name (-ENODEV
 * otherwise). BPF engine: -EPERM and the like when the datapath cannot
 * be loaded; -E2BIG when the policy exceeds the datapath's limits.
 */
int fw_tracer_open(struct fw_tracer **out, enum fw_trace_engine engine,
		   const struct policy *pol, const struct policy_analysis *an,
		   const char *ifname);
void fw_tracer_close(struct fw_tracer *t);

/*
 * Judge @frame (an Ethernet frame of @len bytes, at most
 * FW_TRACE_FRAME_MAX) captured at @ts_ns (any clock; a frame older than
 * the newest one seen is taken as arriving with it). The flow table's
 * clock follows these times, so flows time out as in the capture.
 */
int fw_tracer_run(struct fw_tracer *t, const uint8_t *frame, size_t len,
		  uint64_t ts_ns, struct fw_trace_answer *ans);

/* Whether the policy names @ifname in some tenant. */
bool fw_trace_policy_has_iface(const struct policy *pol, const char *ifname);

/*
 * Build the frame of a PACKET text form (cli.md), given as @argc words:
 *   tcp|udp SRC:PORT DST:PORT [syn|ack|fin|rst ...]   (tcp default: syn)
 *   icmp|icmpv6 SRC DST TYPE                          (TYPE: name or 0..255)
 *   PROTO_NUMBER SRC DST
 * IPv6 with a port: [ADDR]:PORT, or ADDR:PORT when ADDR:PORT is not
 * itself an IPv6 address. @vlan > 0 adds an 802.1Q tag. Returns the frame
 * length, or -EINVAL with a message in @err.
 */
int fw_trace_packet_build(int argc, char *const *argv, uint16_t vlan,
			  uint8_t *buf, size_t cap, char *err, size_t errlen);

/*
 * Tag an untagged frame (no 802.1Q / 802.1ad / 0x9100 tag) with @vlan in
 * place; @buf must have room for 4 more bytes. Tagged frames are left as
 * they are. A tagged frame longer than FW_TRACE_FRAME_MAX is cut to it,
 * as fw_pcap_next() cuts long frames. Returns the new length.
 */
size_t fw_trace_vlan_tag(uint8_t *buf, size_t len, size_t cap, uint16_t vlan);

/* ---- capture files -------------------------------------------------------- */

struct fw_pcap;

/*
 * Open a pcap or pcapng file. Link types: Ethernet, Linux cooked (SLL,
 * SLL2; an Ethernet header is rebuilt from the protocol field). -EINVAL
 * for anything else or a file that is not a capture, with a message in
 * @err.
 */
int fw_pcap_open(const char *path, struct fw_pcap **out, char *err,
		 size_t errlen);
/*
 * The same from an open stream (a pipe, a memory buffer through
 * fmemopen()), named @name in messages. @fp is the capture's from then
 * on: fw_pcap_close() closes it, and so does a failure.
 */
int fw_pcap_open_stream(FILE *fp, const char *name, struct fw_pcap **out,
			char *err, size_t errlen);
void fw_pcap_close(struct fw_pcap *pc);

/*
 * The next frame, as an Ethernet frame in *@frame (valid until the next
 * call; room for a VLAN tag to be added after *@len bytes). A frame
 * captured short of its length (snaplen) is padded with zeros to its
 * length; a frame longer than FW_TRACE_FRAME_MAX is cut (see above).
 * Returns 1 with a frame, 0 at the end, or -EINVAL (message in @err).
 */
int fw_pcap_next(struct fw_pcap *pc, uint8_t **frame, size_t *len,
		 uint64_t *ts_ns, char *err, size_t errlen);

#endif /* PLUMWALL_FW_TRACE_H */
