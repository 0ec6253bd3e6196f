/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the frame and capture harnesses share: one policy with most of
 * what the language has (global segments and rules, an untagged and a
 * VLAN tenant, IPv4 and IPv6, port ranges, ICMP types, a protocol by
 * number, reject, audit mode), loaded once; and the check that the
 * compiled maps, looked up as the datapath does, judge a parsed frame as
 * the reference evaluator does (the property test_compile holds on
 * random policies).
 */
#ifndef PLUMWALL_FUZZ_COMMON_H
#define PLUMWALL_FUZZ_COMMON_H

#include "policy/analyze.h"
#include "policy/compile.h"
#include "policy/eval.h"
#include "policy/packet.h"
#include "policy/policy.h"

struct fuzz_policy {
	struct policy *pol;
	struct policy_analysis *an;
	struct policy_compiled *c;
};

/* The policy above, loaded on the first call; aborts if it cannot be. */
const struct fuzz_policy *fuzz_policy_get(void);

/* Abort (a finding) when the compiled maps and the evaluator disagree
 * about @pkt. */
void fuzz_policy_agree(const struct fuzz_policy *fp,
		       const struct policy_packet *pkt);

#endif /* PLUMWALL_FUZZ_COMMON_H */
