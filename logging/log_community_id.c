// SPDX-License-Identifier: GPL-2.0
/*
 * Community ID, version 1 (corelight community-id-spec): SHA-1 over
 *   seed (2 bytes) | saddr | daddr | proto | 0 | sport | dport
 * all in network order, with the endpoints ordered so that both
 * directions of a flow hash alike, then "1:" + base64 of the digest.
 * ICMP and ICMPv6 stand in type and code for the ports; for the message
 * types that have an answer (echo, timestamp, ...) the "destination port"
 * is the answer's type, so that request and reply get the same ID, and
 * the other ("one-way") types keep the tuple as it is.
 */
#include <errno.h>
#include <string.h>

#include "logging/log_internal.h"
#include <openssl/evp.h>

/* The answer type of a two-way ICMP message, or -1 for one-way types. */
static int icmp4_counterpart(uint8_t type)
{
	switch (type) {
	case 8: /* echo */
		return 0;
	case 0: /* echo reply */
		return 8;
	case 13: /* timestamp */
		return 14;
	case 14:
		return 13;
	case 15: /* information request */
		return 16;
	case 16:
		return 15;
	case 10: /* router solicitation (the advertisement is one-way) */
		return 9;
	case 17: /* address mask request */
		return 18;
	case 18:
		return 17;
	default:
		return -1;
	}
}

static int icmp6_counterpart(uint8_t type)
{
	switch (type) {
	case 128: /* echo request */
		return 129;
	case 129:
		return 128;
	case 130: /* multicast listener query */
		return 131;
	case 131:
		return 130;
	case 133: /* router solicitation */
		return 134;
	case 134:
		return 133;
	case 135: /* neighbour solicitation */
		return 136;
	case 136:
		return 135;
	case 139: /* node information query */
		return 140;
	case 140:
		return 139;
	case 144: /* home agent address discovery */
		return 145;
	case 145:
		return 144;
	default:
		return -1;
	}
}

static void log_base64(const unsigned char *in, size_t len, char *out)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;
	uint32_t v;

	for (i = 0; i + 2 < len; i += 3) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
		    in[i + 2];
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
		*out++ = tab[v & 63];
	}
	if (len - i == 1) {
		v = (uint32_t)in[i] << 16;
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = '=';
		*out++ = '=';
	} else if (len - i == 2) {
		v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		*out++ = tab[v >> 18];
		*out++ = tab[(v >> 12) & 63];
		*out++ = tab[(v >> 6) & 63];
		*out++ = '=';
	}
	*out = '\0';
}

int log_community_id(const struct pw_event *ev, uint16_t seed,
		     char out[LOG_COMMUNITY_ID_SIZE])
{
	unsigned char in[2 + 16 + 16 + 2 + 4], md[20]; /* SHA-1 */
	const uint8_t *sa = ev->saddr, *da = ev->daddr;
	size_t alen, n = 0;
	uint16_t sp = 0, dp = 0;
	bool ports = true, one_way = false;
	int cmp, peer;

	out[0] = '\0';
	if (!log_has_flow(ev) || !log_is_ip(ev))
		return -EINVAL;
	alen = ev->family == PW_FAMILY_IPV4 ? 4 : 16;

	if (ev->proto == 6 || ev->proto == 17) {
		sp = ev->sport;
		dp = ev->dport;
	} else if (log_is_icmp(ev)) {
		peer = ev->proto == 1 ? icmp4_counterpart(ev->icmp_type) :
					icmp6_counterpart(ev->icmp_type);
		sp = ev->icmp_type;
		if (peer < 0) {
			dp = ev->icmp_code;
			one_way = true;
		} else {
			dp = (uint16_t)peer;
		}
	} else if (ev->proto == 132) {
		/* SCTP has ports in the hash, but the datapath does not
		 * carry them: better no ID than a wrong one. */
		return -EOPNOTSUPP;
	} else {
		ports = false;
	}

	if (!one_way) {
		cmp = memcmp(sa, da, alen);
		if (cmp > 0 || (cmp == 0 && sp > dp)) {
			const uint8_t *ta = sa;
			uint16_t tp = sp;

			sa = da;
			da = ta;
			sp = dp;
			dp = tp;
		}
	}

	in[n++] = (unsigned char)(seed >> 8);
	in[n++] = (unsigned char)seed;
	memcpy(in + n, sa, alen);
	n += alen;
	memcpy(in + n, da, alen);
	n += alen;
	in[n++] = ev->proto;
	in[n++] = 0;
	if (ports) {
		in[n++] = (unsigned char)(sp >> 8);
		in[n++] = (unsigned char)sp;
		in[n++] = (unsigned char)(dp >> 8);
		in[n++] = (unsigned char)dp;
	}
	/* OpenSSL's SHA-1, as the Community ID specification asks; it
	 * cannot fail for a built-in digest short of memory exhaustion. */
	if (!EVP_Digest(in, n, md, NULL, EVP_sha1(), NULL))
		return -ENOMEM;
	out[0] = '1';
	out[1] = ':';
	log_base64(md, sizeof(md), out + 2);
	return 0;
}
