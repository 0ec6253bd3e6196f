// SPDX-License-Identifier: GPL-2.0
/*
 * Test frame builder, see dp_pkt.h.
 */
#include <arpa/inet.h>
#include <string.h>

#include "dp_pkt.h"

static const uint8_t mac_dst[6] = { 0x02, 0, 0, 0, 0, 0x02 };
static const uint8_t mac_src[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

uint32_t tpkt_sum(const uint8_t *p, size_t len, uint32_t sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t tpkt_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t tpkt_l3_off(const struct tpkt *t)
{
	return 14 + (t->tagged || t->vlan ? 4 : 0) + (t->double_tag ? 4 : 0);
}

/* Pseudo-header sum; addresses at @ip in the family's layout. */
static uint32_t pseudo(const uint8_t *ip, int v6, uint8_t proto, uint32_t len)
{
	uint32_t sum;

	if (v6)
		sum = tpkt_sum(ip + 8, 32, 0);
	else
		sum = tpkt_sum(ip + 12, 8, 0);
	return sum + (len >> 16) + (len & 0xffff) + proto;
}

static size_t l4_header(const struct tpkt *t, uint8_t *p)
{
	switch (t->proto) {
	case 6:
		put16(p, t->sport);
		put16(p + 2, t->dport);
		put32(p + 4, t->seq);
		put32(p + 8, t->ack);
		p[12] = 5 << 4;
		p[13] = t->flags;
		put16(p + 14, 65535);
		return 20;
	case 17:
		put16(p, t->sport);
		put16(p + 2, t->dport);
		put16(p + 4, 8 + t->payload);
		return 8;
	case 1:
	case 58:
		p[0] = t->type;
		p[1] = t->code;
		put16(p + 4, t->id);
		put16(p + 6, 1);
		return 8;
	default:
		return 0;
	}
}

static void l4_csum(uint8_t proto, uint8_t *ip, int v6, uint8_t *l4, size_t len)
{
	uint32_t sum = 0;
	int off;

	switch (proto) {
	case 6:
		off = 16;
		break;
	case 17:
		off = 6;
		break;
	case 1:
		off = 2;
		break;
	case 58:
		off = 2;
		break;
	default:
		return;
	}
	if (proto != 1)
		sum = pseudo(ip, v6, proto, (uint32_t)len);
	l4[off] = l4[off + 1] = 0;
	put16(l4 + off, tpkt_fold(tpkt_sum(l4, len, sum)));
	if (proto == 17 && !l4[off] && !l4[off + 1])
		put16(l4 + off, 0xffff);
}

size_t tpkt_build(const struct tpkt *t, uint8_t *buf, size_t cap)
{
	size_t off = 12, l3, l4off, hlen, l4len, i, end;
	int later = t->frag_off != 0;
	uint8_t *ip, *nh_field;
	int v6 = t->family == 6;

	if (cap < TPKT_MAX)
		return 0;
	memset(buf, 0, TPKT_MAX);
	memcpy(buf,
	       t->bcast_mac ? (const uint8_t *)"\xff\xff\xff\xff\xff\xff" :
			      mac_dst,
	       6);
	memcpy(buf + 6, mac_src, 6);
	if (t->tagged || t->vlan) {
		put16(buf + off, t->tag_proto ? t->tag_proto : 0x8100);
		put16(buf + off + 2, t->vlan);
		off += 4;
		if (t->double_tag) {
			put16(buf + off, 0x8100);
			put16(buf + off + 2, t->vlan + 1);
			off += 4;
		}
	}
	if (!t->family) {
		put16(buf + off, t->ethertype);
		off += 2;
		for (i = 0; i < 28; i++)
			buf[off + i] = (uint8_t)i;
		end = off + 28;
		goto pad;
	}
	put16(buf + off, v6 ? 0x86dd : 0x0800);
	l3 = off + 2;
	ip = buf + l3;

	if (!v6) {
		hlen = 20 + t->ip_opts;
		ip[0] = 0x40 | (uint8_t)(hlen / 4);
		put16(ip + 4, (uint16_t)t->frag_id);
		if (t->frag)
			put16(ip + 6, (uint16_t)((t->mf ? 0x2000 : 0) |
						 (t->frag_off & 0x1fff)));
		ip[8] = 64;
		ip[9] = t->proto;
		inet_pton(AF_INET, t->src, ip + 12);
		inet_pton(AF_INET, t->dst, ip + 16);
		for (i = 20; i < hlen; i++)
			ip[i] = 1; /* NOP options */
		l4off = l3 + hlen;
		nh_field = NULL;
	} else {
		ip[0] = 0x60;
		ip[7] = t->hop_limit ? t->hop_limit : 64;
		inet_pton(AF_INET6, t->src, ip + 8);
		inet_pton(AF_INET6, t->dst, ip + 24);
		nh_field = ip + 6;
		l4off = l3 + 40;
		for (i = 0; i < (size_t)t->n_ext; i++) {
			uint8_t *h = buf + l4off;
			size_t len = 8;

			*nh_field = t->ext[i];
			nh_field = h;
			if (t->ext[i] == TPKT_FRAG) {
				put16(h + 2, (uint16_t)(t->frag_off << 3 |
							(t->mf ? 1 : 0)));
				put32(h + 4, t->frag_id);
			} else if (t->ext[i] == TPKT_AH) {
				h[1] = 1; /* (1 + 2) * 4 = 12 bytes */
				len = 12;
			} else if (t->hbh_set && t->ext[i] == TPKT_HBH) {
				memcpy(h + 2, t->hbh, sizeof(t->hbh));
			} else {
				h[2] = 1; /* PadN over the rest */
				h[3] = 4;
			}
			l4off += len;
		}
		*nh_field = t->proto;
	}

	if (later) {
		/* a later fragment: payload only */
		l4len = t->payload;
		for (i = 0; i < l4len; i++)
			buf[l4off + i] = (uint8_t)(0xa0 + i);
	} else {
		l4len = l4_header(t, buf + l4off);
		if (t->inner && (t->proto == 1 || t->proto == 58)) {
			static uint8_t in[TPKT_MAX];
			size_t ilen = tpkt_build(t->inner, in, sizeof(in));
			size_t il3 = tpkt_l3_off(t->inner), q;

			q = t->inner->family == 6 ? 40 :
						    (size_t)(in[il3] & 0xf) * 4;
			q += t->inner_len ? (size_t)t->inner_len : 8;
			if (!ilen || il3 + q > ilen)
				return 0;
			put32(buf + l4off + 4, 0); /* unused / MTU */
			memcpy(buf + l4off + l4len, in + il3, q);
			l4len += q;
		}
		for (i = 0; i < t->payload; i++)
			buf[l4off + l4len + i] = (uint8_t)(0x30 + i);
		l4len += t->payload;
	}
	end = l4off + l4len;
	if (!v6) {
		put16(ip + 2, (uint16_t)(end - l3));
		put16(ip + 10, tpkt_fold(tpkt_sum(ip, hlen, 0)));
	} else {
		put16(ip + 4, (uint16_t)(end - l3 - 40));
	}
	if (!later && !(t->frag && t->mf) &&
	    !(v6 && t->n_ext && memchr(t->ext, TPKT_FRAG, t->n_ext) && t->mf))
		l4_csum(t->proto, ip, v6, buf + l4off, l4len);
pad:
	if (t->pad_to && (size_t)t->pad_to > end)
		end = t->pad_to;
	return end;
}

int tpkt_verify_csums(const uint8_t *ip, size_t len)
{
	size_t hlen, l4len;
	const uint8_t *l4;
	uint32_t sum = 0;
	uint8_t proto;
	int v6;

	if (len < 20)
		return -1;
	v6 = (ip[0] >> 4) == 6;
	if (!v6) {
		hlen = (ip[0] & 0xf) * 4;
		if (tpkt_fold(tpkt_sum(ip, hlen, 0)) != 0)
			return -2;
		if (((size_t)ip[2] << 8 | ip[3]) != len)
			return -3;
		proto = ip[9];
	} else {
		hlen = 40;
		if (((size_t)ip[4] << 8 | ip[5]) + 40 != len)
			return -3;
		proto = ip[6];
	}
	l4 = ip + hlen;
	l4len = len - hlen;
	if (proto != 1)
		sum = pseudo(ip, v6, proto, (uint32_t)l4len);
	if (tpkt_fold(tpkt_sum(l4, l4len, sum)) != 0)
		return -4;
	return 0;
}
