// SPDX-License-Identifier: GPL-2.0
/*
 * `plumwall trace` (cli.md "What-if"): what would this policy do to this
 * traffic? Frames from a PACKET text form or a capture file go through a
 * private tracer (trace.h): the real XDP program in unpinned maps, or the
 * reference evaluator. One output line per packet; --diff runs two
 * policies side by side and prints the packets they judge differently.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy/compile.h"
#include "policy/eval.h"
#include "fw.h"
#include "kernel.h"
#include "output.h"
#include "trace.h"

static void fw_trace_usage(FILE *out)
{
	fputs("Usage: plumwall trace POLICY --iface IF [--vlan N] [--json]\n"
	      "                      [--engine bpf|model] (--pcap FILE | PACKET)\n"
	      "       plumwall trace --diff OLD NEW --iface IF [--vlan N] [--json]\n"
	      "                      [--engine bpf|model] (--pcap FILE | PACKET)\n"
	      "\n"
	      "Judge packets with a policy, privately: nothing live is touched.\n"
	      "Packets of one trace share one flow table. PACKET is one of\n"
	      "  tcp|udp SRC:PORT DST:PORT [syn|ack|fin|rst ...]  (tcp default: syn)\n"
	      "  icmp|icmpv6 SRC DST TYPE      (TYPE: a name of policy.md or 0..255)\n"
	      "  PROTO_NUMBER SRC DST\n"
	      "IPv6 with a port: [2001:db8::1]:443.\n"
	      "\n"
	      "Options:\n"
	      "  --iface IF          the policy interface the packets arrive on\n"
	      "  --vlan N            802.1Q VLAN 1..4094: PACKET gets this tag; capture\n"
	      "                      frames without a tag get it, tagged ones keep theirs\n"
	      "  --pcap FILE         pcap or pcapng (Ethernet, Linux cooked SLL/SLL2)\n"
	      "  --engine bpf|model  bpf (default): the real datapath, needs root or\n"
	      "                      CAP_BPF + CAP_NET_ADMIN + CAP_PERFMON; model: the\n"
	      "                      reference evaluator, no privileges\n"
	      "  --diff              OLD NEW: print only packets whose verdict or rule\n"
	      "                      differs, with both answers; exit status 1 when\n"
	      "                      some packet differs, 0 when none does (diff(1))\n"
	      "  --json              one JSON object per line\n"
	      "  -h, --help          this help\n"
	      "\n"
	      "Each line: packet, verdict (allow, deny, reject, audit), rule (none:\n"
	      "the tenant default or a setting decided), tenant, src_segment,\n"
	      "dst_segment, flow (new, established, reply), reason (policy,\n"
	      "default, unmatched, non-ip, malformed, fragment, policy-revoked),\n"
	      "then the packet: src, dst, proto, and sport, dport (tcp, udp) or\n"
	      "icmp_type, icmp_code (icmp, icmpv6).\n"
	      "\n"
	      "Exit status: 0 done (--diff: no packet differs), 1 input refused\n"
	      "(--diff: some packet differs, nothing on stderr), 2 usage error,\n"
	      "3 the BPF engine cannot run here (privileges, kernel).\n",
	      out);
}

struct fw_trace_args {
	const char *policy[2]; /* [1] only with --diff */
	const char *iface;
	const char *pcap;
	uint16_t vlan;
	bool json;
	bool diff;
	enum fw_trace_engine engine;
	char **packet;
	int n_packet;
};

/* 0, -1 when help was shown, or an exit status. */
static int fw_trace_args(int argc, char **argv, struct fw_trace_args *a)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "iface", required_argument, NULL, 'i' },
		{ "vlan", required_argument, NULL, 'v' },
		{ "engine", required_argument, NULL, 'e' },
		{ "pcap", required_argument, NULL, 'p' },
		{ "diff", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int c, n_pol;
	char *end;
	long v;

	memset(a, 0, sizeof(*a));
	a->engine = FW_TRACE_BPF;
	/* Options may come anywhere (cli.md puts them after POLICY); the
	 * positional words keep their order: POLICY (or OLD NEW), PACKET. */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fw_trace_usage(stdout);
			return -1;
		case 'j':
			a->json = true;
			break;
		case 'i':
			a->iface = optarg;
			break;
		case 'v':
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > 4094)
				return fw_usage_error(
					argv[0],
					"--vlan must be 1..4094, not '%s'",
					optarg);
			a->vlan = (uint16_t)v;
			break;
		case 'e':
			if (!strcmp(optarg, "bpf"))
				a->engine = FW_TRACE_BPF;
			else if (!strcmp(optarg, "model"))
				a->engine = FW_TRACE_MODEL;
			else
				return fw_usage_error(
					argv[0],
					"--engine must be bpf or model, not '%s'",
					optarg);
			break;
		case 'p':
			a->pcap = optarg;
			break;
		case 'd':
			a->diff = true;
			break;
		default:
			return fw_usage_hint(argv[0]);
		}
	}
	n_pol = a->diff ? 2 : 1;
	if (argc - optind < n_pol)
		return fw_usage_error(
			argv[0], a->diff ? "--diff needs OLD and NEW policies" :
					   "missing POLICY");
	a->policy[0] = argv[optind];
	if (a->diff)
		a->policy[1] = argv[optind + 1];
	a->packet = argv + optind + n_pol;
	a->n_packet = argc - optind - n_pol;
	if (!a->iface)
		return fw_usage_error(argv[0], "missing --iface IF");
	if (!*a->iface)
		return fw_usage_error(argv[0],
				      "--iface needs an interface name");
	if (a->pcap && a->n_packet)
		return fw_usage_error(
			argv[0],
			"give either --pcap FILE or a PACKET, not both");
	if (!a->pcap && !a->n_packet)
		return fw_usage_error(argv[0], "missing --pcap FILE or PACKET");
	return 0;
}

static json_t *fw_jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The answer's fields, in cli.md's order, then the reason, into @obj. */
static int fw_trace_jfields(json_t *obj, const struct fw_trace_answer *a)
{
	int err = 0;

	err |= json_object_set_new(
		obj, "verdict", json_string(policy_verdict_name(a->verdict)));
	err |= json_object_set_new(obj, "rule", fw_jstr(a->rule));
	err |= json_object_set_new(obj, "tenant", fw_jstr(a->tenant));
	err |= json_object_set_new(obj, "src_segment", fw_jstr(a->src_segment));
	err |= json_object_set_new(obj, "dst_segment", fw_jstr(a->dst_segment));
	err |= json_object_set_new(obj, "flow", json_string(a->flow));
	err |= json_object_set_new(obj, "reason",
				   json_string(policy_reason_name(a->why)));
	return err ? -ENOMEM : 0;
}

static json_t *fw_jnum(bool have, unsigned int v)
{
	return have ? json_integer((json_int_t)v) : json_null();
}

/* The packet's own fields (after the answer's), into @obj. The protocol
 * by the policy language's name, others by number, as a string. */
static int fw_trace_jpacket(json_t *obj, const struct fw_trace_pkt *p)
{
	const char *name = NULL;
	char num[4] = "";
	int err = 0;

	/* fw_trace_describe() leaves ports and icmp false without ip */
	if (p->ip) {
		if (p->proto == POLICY_PROTO_TCP ||
		    p->proto == POLICY_PROTO_UDP ||
		    p->proto == POLICY_PROTO_ICMP ||
		    p->proto == POLICY_PROTO_ICMPV6)
			name = policy_proto_name(p->proto);
		else
			snprintf(num, sizeof(num), "%u", p->proto);
	}
	err |= json_object_set_new(obj, "src", fw_jstr(p->ip ? p->src : NULL));
	err |= json_object_set_new(obj, "dst", fw_jstr(p->ip ? p->dst : NULL));
	err |= json_object_set_new(obj, "proto",
				   fw_jstr(p->ip ? (name ? name : num) : NULL));
	err |= json_object_set_new(obj, "sport", fw_jnum(p->ports, p->sport));
	err |= json_object_set_new(obj, "dport", fw_jnum(p->ports, p->dport));
	err |= json_object_set_new(obj, "icmp_type",
				   fw_jnum(p->icmp, p->icmp_type));
	err |= json_object_set_new(obj, "icmp_code",
				   fw_jnum(p->icmp, p->icmp_code));
	return err ? -ENOMEM : 0;
}

static const char *const fw_trace_keys[] = {
	"verdict",     "rule", "tenant", "src_segment",
	"dst_segment", "flow", "reason",
};

/* The packet's keys; the last four only where the packet has them. */
static const char *const fw_trace_pkt_keys[] = {
	"src", "dst", "proto", "sport", "dport", "icmp_type", "icmp_code",
};

static void fw_trace_text_keys(FILE *out, const json_t *obj,
			       const char *const *keys, size_t n,
			       bool skip_null)
{
	const json_t *v;
	size_t i;
	bool first = true;

	for (i = 0; i < n; i++) {
		v = fw_out_get(obj, keys[i]);
		if (skip_null && i >= 3 && json_is_null(v))
			continue;
		fprintf(out, "%s%s=", first ? "" : " ", keys[i]);
		fw_out_value(out, v);
		first = false;
	}
}

/*
 * Text: the JSON line's fields as key=value, "-" for null; the port and
 * ICMP keys only where the packet has them:
 *   packet=1 verdict=allow rule=web-to-db ... reason=policy src=10.1.1.5
 *     dst=10.1.2.7 proto=tcp sport=40000 dport=5432
 *   packet=3 old: verdict=allow ... reason=policy; new: verdict=deny ...
 *     reason=default; src=... dport=5432
 */
static int fw_trace_text(FILE *out, const json_t *doc)
{
	const json_t *old = fw_out_get(doc, "old");

	fprintf(out, "packet=%lld ",
		(long long)json_integer_value(fw_out_get(doc, "packet")));
	if (old) {
		fputs("old: ", out);
		fw_trace_text_keys(out, old, fw_trace_keys,
				   FW_ARRAY_SIZE(fw_trace_keys), false);
		fputs("; new: ", out);
		fw_trace_text_keys(out, fw_out_get(doc, "new"), fw_trace_keys,
				   FW_ARRAY_SIZE(fw_trace_keys), false);
		fputs("; ", out);
	} else {
		fw_trace_text_keys(out, doc, fw_trace_keys,
				   FW_ARRAY_SIZE(fw_trace_keys), false);
		fputc(' ', out);
	}
	fw_trace_text_keys(out, doc, fw_trace_pkt_keys,
			   FW_ARRAY_SIZE(fw_trace_pkt_keys), true);
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

struct fw_trace_run {
	const char *prog;
	const struct fw_trace_args *a;
	struct fw_tracer *t[2];
	unsigned long packet;
	unsigned long differ; /* --diff: packets printed */
};

/* Judge one frame with every tracer and print the line. An exit status. */
static int fw_trace_frame(struct fw_trace_run *r, const uint8_t *frame,
			  size_t len, uint64_t ts)
{
	struct fw_trace_answer ans[2];
	json_t *doc = NULL, *side;
	int ret, i, n = r->a->diff ? 2 : 1, status = FW_EXIT_OK;

	r->packet++;
	for (i = 0; i < n; i++) {
		ret = fw_tracer_run(r->t[i], frame, len, ts, &ans[i]);
		if (ret) {
			fprintf(stderr, "%s: packet %lu: %s\n", r->prog,
				r->packet, strerror(-ret));
			return FW_EXIT_REFUSED;
		}
	}
	/* cppcheck-suppress uninitvar ; fw_tracer_run() filled ans[0..n) */
	if (r->a->diff && ans[0].verdict == ans[1].verdict &&
	    (ans[0].rule == ans[1].rule ||
	     (ans[0].rule && ans[1].rule && !strcmp(ans[0].rule, ans[1].rule))))
		return FW_EXIT_OK;
	if (r->a->diff)
		r->differ++;

	doc = json_object();
	ret = doc ? json_object_set_new(doc, "packet",
					json_integer((json_int_t)r->packet)) :
		    -1;
	for (i = 0; !ret && i < n; i++) {
		if (r->a->diff) {
			side = json_object();
			ret = side ? json_object_set_new(doc, i ? "new" : "old",
							 side) :
				     -1;
			if (!ret)
				ret = fw_trace_jfields(side, &ans[i]);
		} else {
			ret = fw_trace_jfields(doc, &ans[i]);
		}
	}
	/* the same bytes for both policies: described once */
	if (!ret)
		ret = fw_trace_jpacket(doc, &ans[0].pkt);
	if (ret) {
		fprintf(stderr, "%s: out of memory\n", r->prog);
		status = FW_EXIT_REFUSED;
		goto out;
	}
	ret = fw_output(stdout, r->a->json ? FW_FORMAT_JSON : FW_FORMAT_TEXT,
			doc, fw_trace_text);
	if (ret) {
		fprintf(stderr, "%s: cannot write output: %s\n", r->prog,
			strerror(-ret));
		status = FW_EXIT_REFUSED;
	}
out:
	json_decref(doc);
	return status;
}

static int fw_trace_pcap(struct fw_trace_run *r)
{
	struct fw_pcap *pc = NULL;
	char err[512] = "";
	uint8_t *frame;
	uint64_t ts;
	size_t len;
	int ret, status = FW_EXIT_OK;

	if (fw_pcap_open(r->a->pcap, &pc, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", r->prog, err);
		return FW_EXIT_REFUSED;
	}
	while ((ret = fw_pcap_next(pc, &frame, &len, &ts, err, sizeof(err))) >
	       0) {
		if (r->a->vlan)
			len = fw_trace_vlan_tag(
				frame, len, FW_TRACE_FRAME_MAX + 4, r->a->vlan);
		status = fw_trace_frame(r, frame, len, ts);
		if (status)
			goto out;
	}
	if (ret < 0) {
		fprintf(stderr, "%s: %s: after packet %lu: %s\n", r->prog,
			r->a->pcap, r->packet, err);
		status = FW_EXIT_REFUSED;
	}
out:
	fw_pcap_close(pc);
	return status;
}

int fw_cmd_trace(const struct fw_command *cmd, int argc, char **argv)
{
	struct fw_policy_ctx ctx[2];
	struct fw_trace_args a;
	struct fw_trace_run r = { .prog = argv[0], .a = &a };
	struct fw_command need = *cmd;
	uint8_t frame[256];
	char err[512] = "", msg[1024];
	int status, ret, i, n, opened = 0, len = 0;

	memset(ctx, 0, sizeof(ctx));
	status = fw_trace_args(argc, argv, &a);
	if (status)
		return status < 0 ? FW_EXIT_OK : status;
	n = a.diff ? 2 : 1;
	if (a.n_packet) {
		len = fw_trace_packet_build(a.n_packet, a.packet, a.vlan, frame,
					    sizeof(frame), err, sizeof(err));
		if (len < 0)
			return fw_usage_error(argv[0], "%s", err);
	}
	/* Only the real datapath needs privileges. */
	need.privileged = a.engine == FW_TRACE_BPF;
	status = fw_command_ready(&need);
	if (status)
		return status;
	if (a.engine == FW_TRACE_BPF && fw_kern_require(argv[0]))
		return FW_EXIT_STATE;

	for (i = 0; i < n; i++) {
		/* closed either way */
		ret = fw_policy_open(argv[0], a.policy[i], &ctx[i]);
		opened++;
		if (ret) {
			status = FW_EXIT_REFUSED;
			goto out;
		}
		if (!fw_trace_policy_has_iface(ctx[i].pol, a.iface)) {
			fprintf(stderr,
				"%s: %s: no tenant has interface '%s'\n",
				argv[0], a.policy[i], a.iface);
			status = FW_EXIT_REFUSED;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		ret = fw_tracer_open(&r.t[i], a.engine, ctx[i].pol, ctx[i].an,
				     a.iface);
		if (ret == -E2BIG) {
			fprintf(stderr,
				"%s: %s: the compiled policy needs more datapath map entries than plumwall allows (more than %u decision entries)\n",
				argv[0], a.policy[i],
				POLICY_COMPILE_MAX_DECISIONS);
			status = FW_EXIT_REFUSED;
			goto out;
		}
		if (ret && a.engine == FW_TRACE_BPF) {
			/* The verifier's refusal and the like in one line;
			 * whatever stops the private datapath is the
			 * system's, not the input's (exit 3). */
			fw_kern_load_message(ret, msg, sizeof(msg));
			fprintf(stderr, "%s: %s\n", argv[0], msg);
			status = FW_EXIT_STATE;
			goto out;
		}
		if (ret) {
			fprintf(stderr, "%s: cannot load the evaluator: %s\n",
				argv[0], strerror(-ret));
			status = FW_EXIT_REFUSED;
			goto out;
		}
	}
	if (a.pcap)
		status = fw_trace_pcap(&r);
	else
		status = fw_trace_frame(&r, frame, (size_t)len, 0);
	/* --diff exits as diff(1) does: 1 when some packet differs */
	if (!status && r.differ)
		status = FW_EXIT_REFUSED;
out:
	for (i = 0; i < 2; i++)
		fw_tracer_close(r.t[i]);
	for (i = 0; i < opened; i++)
		fw_policy_close(&ctx[i]);
	return status;
}
