// SPDX-License-Identifier: GPL-2.0
/* IPv4/IPv6 prefixes (see include/plumwall/addr.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <plumwall/addr.h>

void pw_prefix_mask(struct pw_prefix *prefix)
{
	unsigned int bits = pw_family_bits(prefix->family);
	unsigned int i;

	for (i = prefix->len; i < bits; i++)
		prefix->addr[i / 8] &= ~(0x80 >> (i % 8));
	/* IPv4 keeps bytes 4..15 zero whatever the length. */
	if (prefix->family == PW_AF_INET)
		memset(prefix->addr + 4, 0, 12);
}

enum pw_prefix_parse_result pw_prefix_parse(const char *text,
					    struct pw_prefix *prefix)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t host_len = slash ? (size_t)(slash - text) : strlen(text);
	struct pw_prefix masked;
	unsigned int len = 0;

	memset(prefix, 0, sizeof(*prefix));
	if (host_len == 0 || host_len >= sizeof(host))
		return PW_PREFIX_BAD_ADDRESS;
	memcpy(host, text, host_len);
	host[host_len] = '\0';

	if (inet_pton(AF_INET, host, prefix->addr) == 1)
		prefix->family = PW_AF_INET;
	else if (inet_pton(AF_INET6, host, prefix->addr) == 1)
		prefix->family = PW_AF_INET6;
	else
		return PW_PREFIX_BAD_ADDRESS;

	if (!slash) {
		prefix->len = pw_family_bits(prefix->family);
		return PW_PREFIX_OK;
	}
	/* Digits only: no sign, no spaces, no leading "0x"; at most 3. */
	if (!slash[1] || strlen(slash + 1) > 3)
		return PW_PREFIX_BAD_LENGTH;
	for (const char *p = slash + 1; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return PW_PREFIX_BAD_LENGTH;
		len = len * 10 + (unsigned int)(*p - '0');
	}
	if (len > pw_family_bits(prefix->family))
		return PW_PREFIX_BAD_LENGTH;
	prefix->len = (uint8_t)len;

	masked = *prefix;
	pw_prefix_mask(&masked);
	if (memcmp(masked.addr, prefix->addr, sizeof(masked.addr))) {
		*prefix = masked;
		return PW_PREFIX_HOST_BITS;
	}
	return PW_PREFIX_OK;
}

const char *pw_prefix_str(const struct pw_prefix *prefix, bool bare_host,
			  char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	inet_ntop(prefix->family == PW_AF_INET ? AF_INET : AF_INET6,
		  prefix->addr, host, sizeof(host));
	if (bare_host && prefix->len == pw_family_bits(prefix->family))
		snprintf(buf, size, "%s", host);
	else
		snprintf(buf, size, "%s/%u", host, prefix->len);
	return buf;
}

bool pw_prefix_contains(const struct pw_prefix *outer,
			const struct pw_prefix *inner)
{
	unsigned int full, rest;

	if (outer->family != inner->family || outer->len > inner->len)
		return false;
	full = outer->len / 8;
	rest = outer->len % 8;
	if (memcmp(outer->addr, inner->addr, full))
		return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00 >> rest);

		if ((outer->addr[full] ^ inner->addr[full]) & mask)
			return false;
	}
	return true;
}

int pw_prefix_cmp(const struct pw_prefix *a, const struct pw_prefix *b)
{
	int ret;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	ret = memcmp(a->addr, b->addr, sizeof(a->addr));
	if (ret)
		return ret < 0 ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return 0;
}
