// SPDX-License-Identifier: GPL-2.0
/*
 * Shared by the frame and capture harnesses, see common.h. Linked
 * into every harness (it is not one itself).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/gen.h"

#include "common.h"

/* Interfaces: eth0 untagged (shop), eth0 VLAN 100 and 200 (lab, audit
 * mode), eth1 untagged (lab). */
static const char fuzz_policy_yaml[] =
	"version: 1\n"
	"settings:\n"
	"  unmatched: deny\n"
	"  non_ip: allow\n"
	"segments:\n"
	"  dns: [10.0.0.53, \"2001:db8:53::53\"]\n"
	"rules:\n"
	"  - name: dns\n"
	"    from: any\n"
	"    to: dns\n"
	"    proto: udp\n"
	"    ports: [53]\n"
	"    action: allow\n"
	"tenants:\n"
	"  - name: shop\n"
	"    id: 10\n"
	"    interfaces: [eth0]\n"
	"    default: deny\n"
	"    segments:\n"
	"      web: [10.1.0.0/24, \"2001:db8:1::/64\"]\n"
	"      db: [10.1.1.0/28, 10.1.1.77]\n"
	"      admin: [\"2001:db8:99::/48\"]\n"
	"    rules:\n"
	"      - name: in-web\n"
	"        from: external\n"
	"        to: web\n"
	"        proto: tcp\n"
	"        ports: [80, 443, \"8000-8100\"]\n"
	"        action: allow\n"
	"      - name: web-db\n"
	"        from: web\n"
	"        to: db\n"
	"        proto: tcp\n"
	"        ports: [5432]\n"
	"        action: allow\n"
	"        log: true\n"
	"      - name: ping\n"
	"        from: any\n"
	"        to: web\n"
	"        proto: icmp\n"
	"        icmp: [echo-request, 3]\n"
	"        action: allow\n"
	"      - name: ping6\n"
	"        from: admin\n"
	"        to: any\n"
	"        proto: icmpv6\n"
	"        icmp: [echo-request]\n"
	"        action: allow\n"
	"      - name: gre\n"
	"        from: web\n"
	"        to: 192.0.2.0/24\n"
	"        proto: 47\n"
	"        action: allow\n"
	"      - name: no-telnet\n"
	"        from: any\n"
	"        to: any\n"
	"        proto: tcp\n"
	"        ports: [23]\n"
	"        action: reject\n"
	"  - name: lab\n"
	"    interfaces: [eth0, eth1]\n"
	"    vlans: [100, 200]\n"
	"    default: allow\n"
	"    mode: audit\n"
	"    flow_logs: true\n"
	"    segments:\n"
	"      lab: [172.16.0.0/12, \"fd00::/8\"]\n"
	"    rules:\n"
	"      - name: lab-udp\n"
	"        from: lab\n"
	"        to: external\n"
	"        proto: udp\n"
	"        ports: [\"1-1023\"]\n"
	"        action: deny\n";

const struct fuzz_policy *fuzz_policy_get(void)
{
	static struct fuzz_policy fp;
	struct pw_diags diags;

	if (fp.c)
		return &fp;
	pw_diags_init(&diags);
	if (policy_load_buffer("fuzz-policy.yaml", fuzz_policy_yaml,
			       strlen(fuzz_policy_yaml), &diags, &fp.pol) ||
	    policy_analyze(fp.pol, &fp.an) || policy_compile(fp.an, 1, &fp.c)) {
		pw_diags_print(&diags, stderr);
		fprintf(stderr, "fuzz: the harness policy does not compile\n");
		abort();
	}
	pw_diags_free(&diags);
	return &fp;
}

void fuzz_policy_agree(const struct fuzz_policy *fp,
		       const struct policy_packet *pkt)
{
	struct policy_compiled_verdict cv;
	struct policy_eval_result ev;
	uint32_t es, ed;

	policy_compiled_decide(fp->c, pkt, &cv);
	policy_eval_packet(fp->pol, pkt, &ev);
	es = ev.src_segment ? ev.src_segment->order : PW_SEGMENT_NONE;
	ed = ev.dst_segment ? ev.dst_segment->order : PW_SEGMENT_NONE;
	if (cv.verdict == ev.verdict && cv.rule_id == ev.rule_id &&
	    cv.reason == ev.reason && cv.action == ev.action &&
	    cv.log == ev.log &&
	    cv.tenant == (ev.tenant ? ev.tenant->id : PW_TENANT_NONE) &&
	    ((ev.reason != PW_REASON_POLICY && ev.reason != PW_REASON_DEFAULT) ||
	     (cv.src_segment == es && cv.dst_segment == ed)))
		return;
	fprintf(stderr,
		"fuzz: compiled maps: verdict %s reason %s rule %u tenant %u segments %u/%u log %d\n"
		"fuzz: evaluator:     verdict %s reason %s rule %u tenant %u segments %u/%u log %d\n",
		policy_verdict_name(cv.verdict), policy_reason_name(cv.reason),
		cv.rule_id, cv.tenant, cv.src_segment, cv.dst_segment, cv.log,
		policy_verdict_name(ev.verdict), policy_reason_name(ev.reason),
		ev.rule_id, ev.tenant ? ev.tenant->id : 0, es, ed, ev.log);
	gen_print_packet(pkt);
	abort();
}
