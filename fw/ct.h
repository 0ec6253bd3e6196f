/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fw_ct: the kernel's conntrack table over ctnetlink (libmnl), for nft
 * mode: the flows its table judged (those whose conntrack labels carry
 * an input interface, FW_NFT_LABEL_IIF_OFF in nft.h), listed for
 * `plumwall flows` and ended when a new policy denies them.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef PLUMWALL_FW_CT_H
#define PLUMWALL_FW_CT_H

#include <stdbool.h>
#include <stdint.h>

struct fw_ct_flow {
	uint32_t id; /* conntrack's id of the entry */
	uint32_t ifindex; /* where its first packet came in */
	uint8_t family; /* AF_INET, AF_INET6 */
	uint8_t proto;
	uint8_t saddr[16], daddr[16]; /* the initiator's direction */
	uint16_t sport, dport; /* TCP, UDP, SCTP, UDP-Lite, DCCP */
	uint8_t icmp_type, icmp_code; /* ICMP, ICMPv6 */
	uint16_t icmp_id;
	uint8_t tcp_state; /* enum tcp_conntrack, TCP only */
	uint32_t status; /* IPS_* */
	uint32_t timeout_s; /* until conntrack forgets it */
	bool counted; /* packets and bytes present (nf_conntrack_acct) */
	uint64_t packets[2], bytes[2]; /* initiator's direction, replies */
	bool stamped; /* start_ns present (nf_conntrack_timestamp) */
	uint64_t start_ns; /* CLOCK_REALTIME */
};

/* @fn for every flow of the current network namespace the nft table
 * judged; a nonzero return from @fn stops the walk and is returned. */
typedef int (*fw_ct_flow_fn)(const struct fw_ct_flow *f, void *ctx);
int fw_ct_flows(fw_ct_flow_fn fn, void *ctx);

/* End @f (the entry of its tuple and id): -ENOENT when it is gone. */
int fw_ct_delete(const struct fw_ct_flow *f);

#endif /* PLUMWALL_FW_CT_H */
