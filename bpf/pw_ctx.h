/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The context shim: the one packet-processing path (pw_datapath.h) runs in
 * XDP and in TC programs and reaches the packet only through these
 * functions. @hook is a compile-time constant at every call site (the
 * program entry points pass a literal and everything is inlined), so
 * clang keeps only the branch of the program type at hand and the
 * verifier never sees an xdp_md access in a TC program or vice versa.
 */
#ifndef PW_CTX_H
#define PW_CTX_H

#include "pw_common.h"

enum pw_hook {
	PW_HOOK_XDP = 0, /* XDP, ingress */
	PW_HOOK_TC_INGRESS = 1,
	PW_HOOK_TC_EGRESS = 2,
};

#define PW_IS_XDP(hook) ((hook) == PW_HOOK_XDP)

/*
 * TC: bytes made linear before parsing. Headers beyond the linear part of
 * a non-linear skb (rare: the stack keeps headers linear) would otherwise
 * look truncated; 256 bytes cover Ethernet + VLAN + IPv6 + a few extension
 * headers + TCP with options. Headers reaching beyond that in a non-linear
 * skb are treated as malformed.
 */
#define PW_TC_PULL_LEN 256

/*
 * Load a 32-bit context field at a constant offset. Written as asm
 * because clang likes to keep "ctx + offsetof(field)" in a register
 * across a helper call and load through it later, and the verifier
 * rejects any dereference of a modified ctx pointer.
 */
#define PW_CTX_LOAD(ctx, type, field)                                         \
	({                                                                    \
		__u64 __v;                                                    \
		asm volatile("%[v] = *(u32 *)(%[c] + %[o])"                   \
			     : [v] "=r"(__v)                                  \
			     : [c] "r"(ctx), [o] "i"(offsetof(type, field))); \
		__v;                                                          \
	})

static __always_inline void *ctx_data(void *ctx, const int hook)
{
	if (PW_IS_XDP(hook))
		return (void *)(long)PW_CTX_LOAD(ctx, struct xdp_md, data);
	return (void *)(long)PW_CTX_LOAD(ctx, struct __sk_buff, data);
}

static __always_inline void *ctx_data_end(void *ctx, const int hook)
{
	if (PW_IS_XDP(hook))
		return (void *)(long)PW_CTX_LOAD(ctx, struct xdp_md, data_end);
	return (void *)(long)PW_CTX_LOAD(ctx, struct __sk_buff, data_end);
}

/* Whole frame length. The XDP programs are not frags-aware (plain "xdp"
 * section), so the kernel only gives them linear frames. */
static __always_inline __u32 ctx_len(void *ctx, const int hook)
{
	if (PW_IS_XDP(hook))
		return (__u32)(ctx_data_end(ctx, hook) - ctx_data(ctx, hook));
	return ((struct __sk_buff *)ctx)->len;
}

static __always_inline __u32 ctx_ifindex(void *ctx, const int hook)
{
	if (PW_IS_XDP(hook))
		return ((struct xdp_md *)ctx)->ingress_ifindex;
	return ((struct __sk_buff *)ctx)->ifindex;
}

/*
 * A VLAN tag the kernel already took out of the frame (TC: the stack
 * untags before the ingress hook, and VLAN devices hand their tag down in
 * skb->vlan_tci). Returns 1 and the tag protocol and id, or 0.
 */
static __always_inline int ctx_vlan_offloaded(void *ctx, const int hook,
					      __u16 *proto, __u16 *vid)
{
	struct __sk_buff *skb = ctx;

	if (PW_IS_XDP(hook))
		return 0;
	if (!skb->vlan_present)
		return 0;
	*proto = bpf_ntohs((__u16)skb->vlan_proto);
	*vid = skb->vlan_tci & 0xfff;
	return 1;
}

/* TC only: make the headers linear, see PW_TC_PULL_LEN. */
static __always_inline void ctx_pull(void *ctx, const int hook)
{
	struct __sk_buff *skb = ctx;
	__u32 want;

	if (PW_IS_XDP(hook))
		return;
	want = skb->len < PW_TC_PULL_LEN ? skb->len : PW_TC_PULL_LEN;
	if ((__u32)(ctx_data_end(ctx, hook) - ctx_data(ctx, hook)) < want)
		bpf_skb_pull_data(skb, want);
}

static __always_inline long ctx_load_bytes(void *ctx, const int hook, __u32 off,
					   void *to, __u32 len)
{
	if (PW_IS_XDP(hook))
		return bpf_xdp_load_bytes(ctx, off, to, len);
	return bpf_skb_load_bytes(ctx, off, to, len);
}

static __always_inline long ctx_store_bytes(void *ctx, const int hook,
					    __u32 off, void *from, __u32 len)
{
	if (PW_IS_XDP(hook))
		return bpf_xdp_store_bytes(ctx, off, from, len);
	return bpf_skb_store_bytes(ctx, off, from, len, 0);
}

/*
 * Make the frame @new_len bytes long; its content is rewritten afterwards.
 * XDP grows at the head (the headroom is always there, tailroom is not
 * guaranteed by every driver) and shrinks at the tail.
 */
static __always_inline long ctx_resize(void *ctx, const int hook, __u32 new_len)
{
	__s32 delta;

	if (!PW_IS_XDP(hook))
		return bpf_skb_change_tail(ctx, new_len, 0);
	delta = (__s32)new_len - (__s32)ctx_len(ctx, hook);
	if (delta > 0)
		return bpf_xdp_adjust_head(ctx, -delta);
	if (delta < 0)
		return bpf_xdp_adjust_tail(ctx, delta);
	return 0;
}

static __always_inline int ctx_pass(const int hook)
{
	return PW_IS_XDP(hook) ? XDP_PASS : TC_ACT_OK;
}

static __always_inline int ctx_drop(const int hook)
{
	return PW_IS_XDP(hook) ? XDP_DROP : TC_ACT_SHOT;
}

/*
 * PW_ANSWER_MARK (shared.h): skb->mark of a reject answer on its way out
 * of a TC program. The answer
 * passes the device's other TC hook (a redirect to the device's egress
 * runs its egress program; BPF_F_INGRESS its ingress program), which would
 * judge it as a packet of its own and drop it (the reverse direction is
 * rarely allowed). That hook lets a frame with exactly this mark through
 * once and clears the mark. Marks do not cross network namespaces (the
 * veth peer scrubs them), so only local CAP_NET_ADMIN processes could set
 * it. XDP answers reach TC only through pw_answer_out() below, which
 * sends them out before any other TC program sees them.
 */
/* TC: a reject answer of ours coming through the other hook. */
static __always_inline int ctx_is_our_answer(void *ctx, const int hook)
{
	struct __sk_buff *skb = ctx;

	if (PW_IS_XDP(hook) || skb->mark != PW_ANSWER_MARK)
		return 0;
	skb->mark = 0;
	return 1;
}

/*
 * Send the (rewritten) frame back where it came from. TC ingress: out of
 * the same device; TC egress: the frame was leaving towards the peer, so
 * the answer goes up our own stack as if received on that device.
 *
 * XDP: not with XDP_TX, which on a veth only works when the peer device
 * runs an XDP program of its own (the kernel drops the frame silently
 * otherwise, as it does for XDP_REDIRECT there), and plumwall cannot
 * attach one in a namespace or container that is not its own. The answer
 * is passed up, marked in its XDP metadata (PW_ANSWER_MARK, 4 bytes), to
 * the small TC ingress program pw_tc_answer that apply attaches next to
 * every XDP program (pw_answer_out()): it sends the frame out of the
 * device with bpf_redirect(), a plain transmit that works on every
 * device. Only XDP programs write metadata (the device's own is ours;
 * others need the privileges plumwall has), so no sender can ask for
 * it. A driver without XDP metadata support refuses the adjustment:
 * then XDP_TX, which such (physical) drivers do support.
 */
static __always_inline int ctx_bounce(void *ctx, const int hook)
{
	struct __sk_buff *skb = ctx;
	__u32 *meta;

	if (PW_IS_XDP(hook)) {
		if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(__u32)))
			return XDP_TX;
		/* the helper moved the pointers: load them again */
		meta = (void *)(long)PW_CTX_LOAD(ctx, struct xdp_md, data_meta);
		if ((void *)(meta + 1) > ctx_data(ctx, hook))
			return XDP_TX;
		*meta = PW_ANSWER_MARK;
		return XDP_PASS;
	}
	skb->mark = PW_ANSWER_MARK;
	return bpf_redirect(ctx_ifindex(ctx, hook),
			    hook == PW_HOOK_TC_EGRESS ? BPF_F_INGRESS : 0);
}

/*
 * pw_tc_answer, at TC ingress of every device plumwall judges with XDP:
 * a frame whose XDP metadata holds PW_ANSWER_MARK is a reject answer the
 * XDP program built (ctx_bounce()); send it out of the device it came in
 * on. Everything else passes untouched: XDP judged it already.
 */
static __always_inline int pw_answer_out(struct __sk_buff *skb)
{
	void *data = ctx_data(skb, PW_HOOK_TC_INGRESS);
	__u32 *meta =
		(void *)(long)PW_CTX_LOAD(skb, struct __sk_buff, data_meta);

	if ((void *)(meta + 1) > data || *meta != PW_ANSWER_MARK)
		return TC_ACT_OK;
	return bpf_redirect(skb->ifindex, 0);
}

#endif /* PW_CTX_H */
