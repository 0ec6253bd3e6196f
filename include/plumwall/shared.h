/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything the kernel programs and user space share: map keys and values,
 * event records, verdict, reason and state codes. Fixed-width types,
 * explicit padding, and a size assertion per record, because both sides
 * read the same bytes. Included by BPF code after vmlinux.h and by user
 * space after <linux/types.h>; it must not include anything else.
 *
 * Decision structure (why no rule list is walked per packet):
 *
 *   1. (ifindex, VLAN) -> tenant                       pw_ifindex (array
 *                                                       by ifindex), then
 *                                                       pw_iface (hash) for
 *                                                       VLANs and large
 *                                                       ifindexes
 *   2. (tenant, family, address) -> address class      pw_addr map (LPM),
 *      once for the source, once for the destination;   also gives the
 *                                                       display segment
 *   3. (tenant, proto, port or ICMP type) -> service class  pw_svc map (LPM)
 *   4. decision: tuple-space search over at most eight exact-match keys
 *      (tenant, src class or *, dst class or *, svc class or *) in pw_decision
 *      (hash). The compiler files each rule under the tuple its selectors
 *      need: a rule whose `from` covers every class of the tenant goes under
 *      src = *, likewise `to` and the service, so `any` never multiplies
 *      entries by the number of classes. Each entry holds the FIRST rule (by
 *      evaluation order, i.e. by rule id within the tenant) among the rules
 *      filed under that tuple that match the key; the packet takes the
 *      smallest rule id of the up to eight hits, which is first-match
 *      semantics. No hit: the tenant's default.
 *      In a tenant with PW_TENANT_EXT, `external` has a wildcard of its own,
 *      PW_CLASS_EXT ("any external class"): a rule whose `from` (`to`) covers
 *      every external class but not every class goes under src (dst) = EXT
 *      plus its own non-external classes, and a packet whose address is
 *      external also looks up the keys with EXT in that place (at most ten
 *      more, PW_EXT_TUPLE_BIT), so `external` does not multiply entries by
 *      the number of external classes either.
 *
 * The cost is a constant number of map lookups whatever the number of
 * rules; memory grows with the rules' class products, which the compiler
 * reports (plumwall show).
 *
 * Policy generations: every map above lives in the inner maps of one
 * "policy slot"; user space fills the idle slot and then flips
 * pw_config.active_slot with one map update, so a packet (which reads the
 * active slot once) is judged entirely by the old or the new policy.
 */
#ifndef PLUMWALL_SHARED_H
#define PLUMWALL_SHARED_H

#define PW_PIN_ROOT "/sys/fs/bpf/plumwall"

/* Layout version of everything below: bump on any change so that pinned
 * maps of an older layout are refused, never misread. 3: the external
 * wildcard (PW_TENANT_EXT), which programs of layout 2 would ignore.
 * 4: the judgement cache (pw_jcache) and pw_settings.fill_id, which
 * settings of layout 3 leave 0 in both slots. 5: pw_ifindex, without
 * which programs of layout 4 would find no tenant for untagged frames
 * the hash no longer decides alone. 6: pw_cts (conntrack stamps), without
 * which a flow would be invisible to programs of layout 6. 7: rule and
 * tenant counters in per-CPU stripes of plain arrays (pw_rule_stats),
 * which programs of layout 6 would look up as hashes. 8:
 * pw_config.slot_fill, which user space of layout 7 would not keep. */
#define PW_LAYOUT_VERSION 8

/* The maps of a policy slot (fw/datapath.c, slot_maps[]). */
#define PW_SLOT_MAPS 10

#define PW_FAMILY_IPV4 4
#define PW_FAMILY_IPV6 6

#define PW_MAX_TENANTS 65536
#define PW_TENANT_NONE 0 /* tenant ids start at 1 */
#define PW_RULE_NONE 0xffffffffU /* decided by default or a setting */
#define PW_CLASS_ANY 0xffffffffU /* wildcard in pw_decision_key */
/* wildcard in pw_decision_key of a PW_TENANT_EXT tenant: every class of
 * an external address (policy.md section 5: in none of the tenant's own
 * segments) */
#define PW_CLASS_EXT 0xfffffffeU
/* In a PW_TENANT_EXT tenant, the class id (pw_addr_val and pw_decision_key)
 * of an external class other than the defaults carries this bit: the
 * datapath tells external addresses by it. The default classes
 * (PW_CLASS_DEFAULT_V4/_V6) are always external and never carry it. */
#define PW_CLASS_EXTERNAL 0x80000000U
#define PW_SEGMENT_NONE 0xffffffffU /* address in no segment: external */
#define PW_SNAPLEN 128 /* bytes of a dropped packet carried in events */
#define PW_MAX_EXT_HDRS 8 /* IPv6 extension headers walked; more: malformed */
#define PW_FRAG_TIMEOUT_NS (30ULL * 1000000000ULL) /* pw_frag entry life */

/*
 * Byte order: addresses are network order (IPv4 in the first four bytes
 * of a 16-byte array, the rest zero); LPM keys are big-endian where the
 * field name says _be; every other multi-byte field (ports in pw_ct_key,
 * pw_frag_val and pw_event included) is host order.
 *
 * Clock: every timestamp the datapath writes is CLOCK_MONOTONIC +
 * pw_config.clock_offset_ns (tests set the offset to move time): for
 * pw_event bpf_ktime_get_ns(), for pw_ct_val, pw_rate_val, pw_frag_val
 * and pw_rule_counter the cheaper coarse clock bpf_ktime_get_coarse_ns()
 * (monotonic at the last tick, never ahead of the fine one).
 */

/*
 * skb->mark of a reject answer a TC program sends: the device's other TC
 * program lets a frame with exactly this mark through once (and clears
 * it) instead of judging our own answer. Also the 4 bytes of XDP
 * metadata on a reject answer the XDP program passes up for pw_tc_answer
 * to send. See bpf/pw_ctx.h.
 */
#define PW_ANSWER_MARK 0x706c7741U /* "plwA" */

/* Where a program runs (pw_event.dir). */
enum pw_dir {
	PW_DIR_INGRESS = 0, /* XDP or TC ingress */
	PW_DIR_EGRESS = 1, /* TC egress */
};

/* Verdicts, as events and trace report them. */
enum pw_verdict {
	PW_VERDICT_ALLOW = 0,
	PW_VERDICT_DENY = 1,
	PW_VERDICT_REJECT = 2,
	PW_VERDICT_AUDIT = 3,
	PW_VERDICT_COUNT,
};

/* Why a packet got its verdict (events.md event.reason, drop counters). */
enum pw_reason {
	PW_REASON_POLICY = 0, /* a rule decided */
	PW_REASON_DEFAULT = 1, /* the tenant's default decided */
	PW_REASON_UNMATCHED = 2, /* no tenant owns (ifindex, VLAN) */
	PW_REASON_MALFORMED = 3, /* truncated or inconsistent headers */
	PW_REASON_FRAGMENT = 4, /* non-first fragment without its first */
	PW_REASON_POLICY_REVOKED = 5, /* tracked flow denied by a new policy */
	PW_REASON_NON_IP = 6, /* settings.non_ip */
	PW_REASON_ESTABLISHED = 7, /* tracked flow, original direction */
	PW_REASON_REPLY = 8, /* tracked flow, reply direction */
	PW_REASON_COUNT,
};

/* Action stored for rules and defaults; same values as PW_VERDICT_*. */
enum pw_action {
	PW_ACTION_ALLOW = PW_VERDICT_ALLOW,
	PW_ACTION_DENY = PW_VERDICT_DENY,
	PW_ACTION_REJECT = PW_VERDICT_REJECT,
};

/* Connection tracking states. */
enum pw_ct_state {
	PW_CT_NEW = 0, /* UDP/ICMP/other: seen one way only */
	PW_CT_TCP_SYN = 1, /* SYN seen, handshake not complete */
	PW_CT_ESTABLISHED = 2, /* TCP handshake done, or reply seen */
	PW_CT_TCP_CLOSING = 3, /* FIN seen in one direction */
	PW_CT_TCP_CLOSED = 4, /* FIN both ways or RST: entry being removed */
};

enum pw_timeout {
	PW_TIMEOUT_TCP_SYN = 0,
	PW_TIMEOUT_TCP_ESTABLISHED = 1,
	PW_TIMEOUT_TCP_CLOSING = 2,
	PW_TIMEOUT_UDP = 3,
	PW_TIMEOUT_ICMP = 4,
	PW_TIMEOUT_OTHER = 5,
	PW_TIMEOUT_COUNT = 6,
};

enum pw_event_type {
	PW_EVENT_DROP = 1,
	PW_EVENT_AUDIT = 2,
	PW_EVENT_FLOW_START = 3,
	PW_EVENT_FLOW_END = 4,
	PW_EVENT_SUPPRESSED = 5,
	PW_EVENT_LOST = 6,
};

enum pw_end_reason {
	PW_END_NONE = 0,
	PW_END_FIN = 1,
	PW_END_RST = 2,
	PW_END_TIMEOUT = 3,
	PW_END_POLICY_REVOKED = 4,
	PW_END_SHUTDOWN = 5,
};

/* pw_tenant_val.flags */
#define PW_TENANT_AUDIT (1U << 0) /* mode: audit */
#define PW_TENANT_LOG_DEFAULT (1U << 1)
#define PW_TENANT_FLOW_LOGS (1U << 2)
#define PW_TENANT_TUPLES (1U << 3) /* pw_tenant_val.tuples is filled in */
#define PW_TENANT_EXT \
	(1U << 4) /* external wildcard: ext_tuples, PW_CLASS_EXT */

/* Bit of pw_tenant_val.tuples for pw_decision keys of one shape: which of
 * src, dst, svc are PW_CLASS_ANY (same as compile.h POLICY_TUPLE_BIT). */
#define PW_TUPLE_BIT(src_any, dst_any, svc_any) \
	(1U                                     \
	 << (((src_any) ? 1 : 0) | ((dst_any) ? 2 : 0) | ((svc_any) ? 4 : 0)))

/* Classes of a pw_decision key field, for PW_EXT_TUPLE_BIT() */
#define PW_SEL_EXACT 0
#define PW_SEL_ANY 1
#define PW_SEL_EXT 2

/* Bit of pw_tenant_val.ext_tuples for pw_decision keys of one shape with
 * PW_CLASS_EXT in src or dst (or both): src and dst are PW_SEL_*, svc_any
 * whether svc is PW_CLASS_ANY. Bits 0-4: (EXT, exact), (EXT, ANY),
 * (EXT, EXT), (exact, EXT), (ANY, EXT); bits 5-9 the same with svc = ANY. */
#define PW_EXT_TUPLE_BIT(src, dst, svc_any) \
	(1U                                 \
	 << (((src) == PW_SEL_EXT ? (dst) : 3 + (src)) + ((svc_any) ? 5 : 0)))
#define PW_EXT_TUPLES 10

/* pw_rule_val.flags */
#define PW_RULE_LOG (1U << 0)

/* ---- per-slot policy maps ----------------------------------------------- */

/* pw_iface: HASH, which tenant owns a frame. vlan 0 = untagged (and
 * priority-tagged, VLAN id 0). */
struct pw_iface_key {
	__u32 ifindex;
	__u16 vlan;
	__u16 pad;
};
_Static_assert(sizeof(struct pw_iface_key) == 8, "pw_iface_key layout");

struct pw_iface_val {
	__u16 tenant;
	__u16 pad;
};
_Static_assert(sizeof(struct pw_iface_val) == 4, "pw_iface_val layout");

/*
 * pw_ifindex: ARRAY indexed by ifindex, PW_IFINDEX_SLOTS entries, the
 * first lookup of every frame. Why: a hash lookup costs about 18 ns of a
 * deny's 100 (program only), an array lookup the verifier inlines a few.
 * pw_iface keeps every binding; this array repeats the untagged ones of
 * interfaces with ifindex < PW_IFINDEX_SLOTS, and says whether an
 * interface has VLAN bindings, which only the hash holds. A tagged frame
 * of such an interface, and any frame of an interface beyond the array,
 * is looked up in pw_iface. A zeroed entry: no binding at all.
 */
struct pw_ifindex_val {
	__u16 tenant; /* untagged frames; PW_TENANT_NONE: none */
	__u16 vlans; /* 1: tagged frames are looked up in pw_iface */
};
_Static_assert(sizeof(struct pw_ifindex_val) == 4, "pw_ifindex_val layout");

/* 256 KiB per slot; ifindexes of a host with many containers grow past
 * it, and such interfaces cost the hash lookup, nothing else. */
#define PW_IFINDEX_SLOTS 65536

/* pw_tenant: indexed by tenant id (ARRAY, PW_MAX_TENANTS entries). */
struct pw_tenant_val {
	__u8 present; /* 1 for a tenant of this policy */
	__u8 default_action; /* enum pw_action */
	__u8 flags; /* PW_TENANT_* */
	/* With PW_TENANT_TUPLES: PW_TUPLE_BIT()s of the pw_decision key
	 * shapes this tenant has entries of; the datapath skips the lookups
	 * of the others. Without the flag all eight are looked up. */
	__u8 tuples;
	/* With PW_TENANT_EXT: PW_EXT_TUPLE_BIT()s of the shapes with
	 * PW_CLASS_EXT this tenant has entries of (none are looked up
	 * without the flag). */
	__u16 ext_tuples;
	/* Set by the filler, not the compiler: this tenant's index among
	 * the policy's tenants, its counter in each stripe of
	 * pw_tenant_stats. */
	__u16 stats_index;
};
_Static_assert(sizeof(struct pw_tenant_val) == 8, "pw_tenant_val layout");

/*
 * pw_addr: LPM trie. Data after prefixlen is compared bit by bit from the
 * first byte, so tenant and family lead (big-endian tenant) and the address
 * follows: prefixlen = 32 + address prefix length. IPv4 uses addr[0..3].
 */
struct pw_addr_key {
	__u32 prefixlen;
	__u8 tenant_be[2];
	__u8 family;
	__u8 pad;
	__u8 addr[16];
};
_Static_assert(sizeof(struct pw_addr_key) == 24, "pw_addr_key layout");

struct pw_addr_val {
	__u32 class_id;
	__u32 segment_id; /* display segment, PW_SEGMENT_NONE: external */
};
_Static_assert(sizeof(struct pw_addr_val) == 8, "pw_addr_val layout");

/* Classes of an address without LPM match (policy.md: external). */
#define PW_CLASS_DEFAULT_V4 0
#define PW_CLASS_DEFAULT_V6 1

/*
 * pw_svc: LPM trie over (tenant, proto, point), point = destination port
 * for TCP/UDP, ICMP type for ICMP/ICMPv6 (by protocol number 1 and 58,
 * whatever the IP version), 0 for other protocols; point_be is the 16-bit
 * point big-endian, so an ICMP type is point_be = {0, type}.
 * prefixlen = 24 + bits of point matched (0..16); the datapath looks up
 * with prefixlen 40. A miss means service class 0 (no rule names that
 * service specifically).
 */
struct pw_svc_key {
	__u32 prefixlen;
	__u8 tenant_be[2];
	__u8 proto;
	__u8 point_be[2];
	__u8 pad[3];
};
_Static_assert(sizeof(struct pw_svc_key) == 12, "pw_svc_key layout");

struct pw_svc_val {
	__u32 svc_class;
};

/* pw_decision: hash, see the top of this file. */
struct pw_decision_key {
	__u16 tenant;
	__u16 pad;
	__u32 src_class; /* or PW_CLASS_ANY */
	__u32 dst_class; /* or PW_CLASS_ANY */
	__u32 svc_class; /* or PW_CLASS_ANY */
};
_Static_assert(sizeof(struct pw_decision_key) == 16, "pw_decision_key layout");

struct pw_decision_val {
	__u32 rule_id; /* first matching rule of this tuple */
};

/* pw_rule: ARRAY indexed by rule id (BPF_F_INNER_MAP: its size follows the
 * policy). */
struct pw_rule_val {
	__u8 action; /* enum pw_action */
	__u8 flags; /* PW_RULE_* */
	__u16 tenant; /* 0 for a global rule */
	__u32 pad;
};
_Static_assert(sizeof(struct pw_rule_val) == 8, "pw_rule_val layout");

/* pw_settings: ARRAY of one per slot: policy.md section 6. */
struct pw_settings {
	__u32 generation;
	__u8 unmatched; /* PW_ACTION_ALLOW or PW_ACTION_DENY */
	__u8 non_ip; /* PW_ACTION_ALLOW or PW_ACTION_DENY */
	__u16 pad;
	__u32 log_rate; /* events per second per rule, 0 = unlimited */
	/* Set by the filler, not the compiler: the kernel id of this
	 * settings map (fw/datapath.c), which no other fill of either slot
	 * has (map ids are not reused before 2^31 more maps), so it names
	 * the slot's contents in pw_jcache keys. */
	__u32 fill_id;
	__u64 timeout_ns[PW_TIMEOUT_COUNT];
	/* Set by the filler: counters per stripe (per CPU) of this slot's
	 * pw_rule_stats (the policy's rules) and pw_tenant_stats (its
	 * tenants), see there. */
	__u32 rule_stats_stride;
	__u32 tenant_stats_stride;
};
_Static_assert(sizeof(struct pw_settings) == 72, "pw_settings layout");

/* ---- global (slot-independent) maps --------------------------------------- */

/*
 * Per-slot maps: each map above (pw_iface, pw_tenant, pw_addr, pw_svc,
 * pw_decision, pw_rule, pw_settings), pw_rule_stats and pw_tenant_stats
 * is an ARRAY_OF_MAPS of 2 entries (slot 0 and 1) of that name; the inner
 * maps are created by user space for each policy (fw/datapath.c).
 *
 * pw_rule_stats: ARRAY (BPF_F_INNER_MAP) of struct pw_rule_counter in
 * one stripe per possible CPU, each of settings.rule_stats_stride (the
 * policy's rule count) counters: a program on CPU c counts rule r at
 * index c * stride + r. Counts the packets each rule decided (first
 * packets of flows and re-judged ones), not later packets of the flows
 * it allowed (those are in pw_ct). Not a per-CPU map: a per-CPU array
 * cannot vary its size between policies inside a map-in-map (the kernel
 * refuses BPF_F_INNER_MAP for it), and the per-CPU hash it replaced cost
 * a deny about 30 of its 90 ns (the hash and the bucket walk); an array
 * lookup is an offset. CPU-major, not rule-major: a flood that hits one
 * rule on every CPU must not bounce one cache line between them.
 *
 * pw_tenant_stats: likewise, struct pw_tenant_counter per tenant of the
 * policy, at index c * settings.tenant_stats_stride +
 * pw_tenant_val.stats_index.
 *
 * Both live with the policy slot, so a new policy starts them at zero;
 * user space carries the counts of rules and tenants that keep their
 * name across applies (fw/counters.h).
 */

/* pw_config: ARRAY of one. Flipping active_slot switches policy. */
struct pw_dp_config {
	__u32 active_slot; /* 0 or 1 */
	__u32 layout_version; /* PW_LAYOUT_VERSION */
	__u64 clock_offset_ns; /* added to the clock: tests inject time */
	/*
	 * User space only. Per slot, the pw_settings.fill_id of the maps in
	 * it, 0 while a fill replaces them (or after one failed), and the
	 * ids of those maps, which count only while slot_fill is not 0.
	 * Why: before Linux 6.8 every lookup in an outer map from user
	 * space waits for an RCU grace period (maybe_wait_bpf_programs()):
	 * 15 ms a lookup under emulation, and 'plumwall stats' made about
	 * 60 of them. The ids here come with one lookup in an array.
	 */
	__u32 slot_fill[2];
	__u32 slot_map_ids[2][PW_SLOT_MAPS]; /* in fw/datapath.c's order */
};
_Static_assert(sizeof(struct pw_dp_config) == 104, "pw_dp_config layout");

/*
 * pw_ct: LRU hash keyed by tenant and normalised 5-tuple: the endpoint
 * (address, port) that compares lower is "a", so both directions of a flow
 * find one entry. Order: the 16 address bytes as memcmp() orders them,
 * then the port (host order) as an integer. Ports: TCP/UDP ports; ICMP
 * echo: the identifier in both; other protocols: zero.
 */
struct pw_ct_key {
	__u16 tenant;
	__u8 family;
	__u8 proto;
	__u16 port_a;
	__u16 port_b;
	__u8 addr_a[16];
	__u8 addr_b[16];
} __attribute__((aligned(4))); /* the datapath copies addresses in words */
_Static_assert(sizeof(struct pw_ct_key) == 40, "pw_ct_key layout");
_Static_assert(_Alignof(struct pw_ct_key) == 4, "pw_ct_key alignment");

/*
 * pw_cts: conntrack stamps, a filter in front of pw_ct that says "no entry"
 * without a hash lookup. Why: looking up a flow that is not there costs
 * about 20 ns of a 100 ns deny (program only), and every packet of a deny
 * flood does it, since only pw_ct knows whether the packet is the reply of
 * a flow the rules would not allow again.
 *
 * One byte per slot, PW_CTS_SLOTS of them in u64 words (ARRAY of
 * PW_CTS_WORDS), slot = pw_cts_hash() of the flow's key. Before a program
 * inserts a flow it writes the current epoch (pw_cts_state.cur) into the
 * flow's slot. A slot whose stamp is outside [floor, cur] (modulo 256)
 * has no flow: the lookup is skipped. Anything else is looked up as
 * before, so a stale stamp (the flow expired, was evicted or deleted)
 * costs only the lookup that would have been made anyway.
 *
 * Stale stamps are cleared by moving the window (fw_dp_sweep_restamp(),
 * plumwalld's periodic sweep): cur := cur + 1; wait for an RCU grace
 * period, after which no program still writes the old cur; walk pw_ct and
 * write cur into the slot of every flow kept; floor := cur. A flow alive
 * at the end has its slot stamped with the new cur by the walk or by its
 * own insert, so the filter never hides a flow. Only one process moves
 * the window at a time (plumwalld); an interrupted move leaves a wider
 * window, which hides less, never more. Without plumwalld stamps are never
 * cleared and the filter fills up: correct, and slower by the filter's
 * own few nanoseconds.
 */
/* 512 KiB: 6% of slots stamped by 32,768 flows, 39% by a full default
 * table of 262,144; 2 MiB (12%) cost established flows at 32k a cache
 * miss more per packet (bench-vs: +15 ns), 512 KiB nothing measurable. */
#define PW_CTS_SLOTS (1U << 19)
#define PW_CTS_BITS 19
#define PW_CTS_WORDS (PW_CTS_SLOTS / 8)

struct pw_cts_state {
	__u8 cur; /* the epoch programs stamp */
	__u8 floor; /* the oldest epoch that still marks a flow */
	__u8 pad[6];
};
_Static_assert(sizeof(struct pw_cts_state) == 8, "pw_cts_state layout");

/* pw_ct_val.flags */
#define PW_CT_INIT_IS_A (1U << 0) /* the flow's first packet came from a */
#define PW_CT_LOG (1U << 1) /* emit flow start/end events */
#define PW_CT_AUDIT (1U << 2) /* allowed only because of audit mode */
#define PW_CT_FIN_A (1U << 3) /* FIN seen from a */
#define PW_CT_FIN_B (1U << 4) /* FIN seen from b */

struct pw_ct_val {
	__u64 created_ns;
	__u64 last_seen_ns;
	__u64 packets[2]; /* [0] initiator -> responder, [1] back */
	__u64 bytes[2];
	__u32 generation; /* policy generation it was allowed under */
	__u32 rule_id; /* rule that allowed it, or PW_RULE_NONE */
	__u32 ifindex; /* ingress of the first packet */
	__u16 vlan;
	__u8 state; /* enum pw_ct_state */
	__u8 flags; /* PW_CT_* */
	__u32 src_segment; /* of the initiator, for events */
	__u32 dst_segment;
};
_Static_assert(sizeof(struct pw_ct_val) == 72, "pw_ct_val layout");

/*
 * pw_jcache: PERCPU_ARRAY, a direct-mapped cache of what pw_judge() found
 * for a tuple under one fill of a slot: the lookups of a judgement (two
 * address LPM tries, the service trie, up to eighteen decision keys, the
 * rule) become one array lookup and a compare for every later packet
 * with the same tuple on that CPU, e.g. each new flow between two hosts
 * on one service, and each packet of a denied flood. A judgement depends
 * only on the slot's maps and the tuple, and fill_id names the slot's
 * maps, so an entry is never stale: a new policy's packets do not match
 * it and overwrite it. The index is a hash of the tuple; a colliding
 * tuple simply replaces the entry (no allocation, no eviction list: a
 * miss costs the hash and one cache line written). Per CPU: no locks,
 * and no other CPU rewrites an entry while it is read.
 */
struct pw_jc_entry {
	__u32 fill_id; /* pw_settings.fill_id of the slot; 0: empty */
	__u16 tenant;
	__u8 family;
	__u8 proto;
	__u16 point; /* as pw_svc: port, ICMP type or 0 */
	__u8 action; /* the judgement: enum pw_action */
	__u8 reason;
	__u8 log;
	__u8 pad[3];
	__u32 rule_id;
	__u32 src_segment;
	__u32 dst_segment;
	__u32 pad2;
	__u8 saddr[16];
	__u8 daddr[16];
};
_Static_assert(sizeof(struct pw_jc_entry) == 64, "pw_jc_entry layout");

/* Entries per CPU, a power of two: small (16 KiB), so that a miss, which
 * writes the entry of its index, rarely waits for memory. */
#define PW_JCACHE_SLOTS 256

/* pw_frag: LRU hash, first fragment's ports for the later fragments. */
struct pw_frag_key {
	__u16 tenant;
	__u8 family;
	__u8 proto;
	__u32 id; /* IPv4 id (16 bits) or IPv6 fragment id */
	__u8 saddr[16];
	__u8 daddr[16];
};
_Static_assert(sizeof(struct pw_frag_key) == 40, "pw_frag_key layout");

/* The first fragment's layer 4 fields; later fragments use them as their
 * own. Entries older than PW_FRAG_TIMEOUT_NS are ignored. */
struct pw_frag_val {
	__u16 sport; /* ICMP echo: identifier */
	__u16 dport;
	__u8 icmp_type;
	__u8 icmp_code;
	__u16 pad;
	__u64 created_ns;
};
_Static_assert(sizeof(struct pw_frag_val) == 16, "pw_frag_val layout");

/* pw_drop_stats: PERCPU_ARRAY by reason. */
struct pw_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct pw_counter) == 16, "pw_counter layout");

/* pw_rule_stats (one per CPU stripe): the packets a rule decided, and when the
 * first and the last of them came (datapath clock, 0: none yet). */
struct pw_rule_counter {
	__u64 packets;
	__u64 bytes;
	__u64 first_ns;
	__u64 last_ns;
};
_Static_assert(sizeof(struct pw_rule_counter) == 32, "pw_rule_counter layout");

/* pw_tenant_stats (one per CPU stripe): drops of one tenant's packets by its
 * default, and by settings.non_ip (non-IP frames on its interfaces and
 * VLANs, and neighbour discovery no rule named). */
struct pw_tenant_counter {
	struct pw_counter default_drops;
	struct pw_counter non_ip_drops;
};
_Static_assert(sizeof(struct pw_tenant_counter) == 32,
	       "pw_tenant_counter layout");

/*
 * pw_rate: LRU hash, token bucket of policy.md log_rate (burst = rate) per
 * event source: {rule id, 0, 0} for a rule, {PW_RULE_NONE, tenant, reason}
 * for a tenant default (reason DEFAULT) and for the drops no rule decides
 * (UNMATCHED with tenant 0, MALFORMED, FRAGMENT). suppressed is reported
 * (SUPPRESSED event) by the next event of the bucket that gets a token;
 * the daemon reports what is left by reading the map.
 */
struct pw_rate_key {
	__u32 rule_id;
	__u16 tenant;
	__u8 reason;
	__u8 pad;
};
_Static_assert(sizeof(struct pw_rate_key) == 8, "pw_rate_key layout");

struct pw_rate_val {
	__u64 tokens_ns; /* bucket level, in ns worth of tokens */
	__u64 last_ns;
	__u64 suppressed; /* events suppressed since the last summary */
};
_Static_assert(sizeof(struct pw_rate_val) == 24, "pw_rate_val layout");

/*
 * pw_producer: PERCPU_ARRAY of one. Every CPU is an event producer
 * (pw_event.cpu) with its own sequence; seq is taken for every event the
 * datapath tries to emit, so a reservation failure leaves a gap. lost
 * counts those failures (the "events lost" counter: sum over CPUs);
 * lost_pending is what the next LOST event of that CPU will report.
 */
struct pw_producer {
	__u64 seq; /* next sequence number */
	__u64 lost;
	__u64 lost_pending;
};
_Static_assert(sizeof(struct pw_producer) == 24, "pw_producer layout");

/* ---- conntrack sweep (program pw_sweep) ----------------------------------- */

/*
 * Context of the pw_sweep program, run by plumwalld with BPF_PROG_TEST_RUN
 * (a syscall program: ctx in and out). It walks pw_ct once, in the kernel,
 * under the active slot's timeouts and the datapath clock, and ends every
 * flow that has expired: a logged flow not already closed gets its flow
 * end event (end reason timeout) from the same producers as the packet
 * path, then the entry is deleted. With PW_SWEEP_SHUTDOWN every flow is
 * ended (end reason shutdown), as `plumwall down` does before removing the
 * datapath. The counts come back in the same struct.
 */
#define PW_SWEEP_SHUTDOWN (1U << 0)
/* and stamp the slot of every flow kept with pw_cts_state.cur (pw_cts) */
#define PW_SWEEP_RESTAMP (1U << 1)

struct pw_sweep_args {
	__u32 flags; /* in: PW_SWEEP_* */
	__u32 pad;
	__u64 scanned; /* out: entries looked at */
	__u64 ended; /* out: flow end events emitted */
	__u64 removed; /* out: entries deleted */
};
_Static_assert(sizeof(struct pw_sweep_args) == 32, "pw_sweep_args layout");

/*
 * pw_trace_rec: a global (.bss) of the programs, not a pinned map: what the
 * last packet got, for `plumwall trace`. Written only when the rodata
 * pw_trace_on is set, which only trace's private datapath does; with it
 * clear the verifier removes every write as dead code, leaving the live
 * path a flag load and a branch per trace point.
 * seq grows by one per packet noted (a run that noted nothing is an error).
 */
struct pw_trace {
	__u64 seq;
	__u32 rule_id; /* rule that decided or allowed the flow, PW_RULE_NONE */
	__u32 src_segment; /* PW_SEGMENT_NONE: external, or no tenant */
	__u32 dst_segment;
	__u16 tenant; /* PW_TENANT_NONE: none looked up (or none owns it) */
	__u8 verdict; /* enum pw_verdict */
	__u8 reason; /* enum pw_reason: ESTABLISHED / REPLY = tracked flow */
};
_Static_assert(sizeof(struct pw_trace) == 24, "pw_trace layout");

/* ---- events of nft mode (NFLOG) -------------------------------------------- */

/*
 * nft mode (fw/nft.c) has no ring buffer: the table logs a packet with
 * `log group PW_NFLOG_GROUP prefix "..."` and plumwall-logd reads the
 * group over nfnetlink_log (logging/logd_nflog.c), making a struct
 * pw_event of each message. The group is one constant, 0x7077 ("pw"),
 * far from the small numbers people give their own NFLOG rules.
 *
 * The prefix (NFULA_PREFIX, at most PW_NFLOG_PREFIX_MAX characters)
 * carries what the packet itself does not:
 *
 *   pw1:GENERATION:TENANT:RULE:VERDICT
 *
 * decimal policy generation and tenant id; RULE the decimal rule id, or
 * "d" for the tenant's default (reason default; a rule id means reason
 * policy); VERDICT one letter: 'd' deny, 'r' reject, 'a' audit. E.g.
 * "pw1:7:1:12:d" is rule 12 denying a packet of tenant 1 under policy
 * generation 7. Anything else in the group is not plumwall's and is
 * refused (counted, never turned into an event).
 */
#define PW_NFLOG_GROUP 28791U
#define PW_NFLOG_MAGIC "pw1"
#define PW_NFLOG_PREFIX_MAX 127
#define PW_NFLOG_RULE_DEFAULT 'd'
#define PW_NFLOG_VERDICT_DENY 'd'
#define PW_NFLOG_VERDICT_REJECT 'r'
#define PW_NFLOG_VERDICT_AUDIT 'a'

/* ---- events (ring buffer pw_events) --------------------------------------- */

struct pw_event {
	__u64 ts_ns; /* datapath clock, see the top of this file */
	__u64 seq; /* per-producer sequence number, gaps = loss */
	__u8 type; /* enum pw_event_type */
	__u8 verdict; /* enum pw_verdict */
	__u8 reason; /* enum pw_reason */
	__u8 family;
	__u8 proto;
	__u8 tcp_flags; /* TCP flags byte of the packet */
	__u8 icmp_type;
	__u8 icmp_code;
	__u16 tenant;
	__u16 vlan;
	__u32 ifindex;
	__u32 rule_id;
	__u32 generation;
	__u32 src_segment;
	__u32 dst_segment;
	__u16 sport;
	__u16 dport;
	__u32 pkt_len;
	__u8 saddr[16]; /* the packet's (drop/audit) or initiator's (flow) */
	__u8 daddr[16];
	/* flow events */
	__u64 start_ns;
	__u64 packets[2];
	__u64 bytes[2];
	__u8 end_reason; /* enum pw_end_reason */
	__u8 dir; /* enum pw_dir */
	__u8 pad[2];
	/* suppressed / lost: how many */
	__u32 count;
	__u16 snap_len; /* bytes of snap[] used */
	__u16 cpu; /* producer of seq */
	__u16 pad2[2];
	__u8 snap[PW_SNAPLEN];
};
_Static_assert(sizeof(struct pw_event) == 272, "pw_event layout");

#endif /* PLUMWALL_SHARED_H */
