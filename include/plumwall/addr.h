/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IPv4/IPv6 addresses and prefixes, in network byte order.
 *
 * IPv4 is stored in the first four bytes of addr[]; the remaining bytes are
 * zero so prefixes compare and hash the same way in both families.
 */
#ifndef PLUMWALL_ADDR_H
#define PLUMWALL_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PW_AF_INET 4
#define PW_AF_INET6 6

/* Longest text form of a prefix: a full IPv6 address, "/128" and NUL. */
#define PW_PREFIX_STRLEN 50

struct pw_prefix {
	uint8_t family; /* PW_AF_INET or PW_AF_INET6 */
	uint8_t len; /* prefix length in bits */
	uint8_t addr[16];
};

static inline unsigned int pw_family_bits(uint8_t family)
{
	return family == PW_AF_INET ? 32 : 128;
}

enum pw_prefix_parse_result {
	PW_PREFIX_OK = 0,
	PW_PREFIX_BAD_ADDRESS, /* not an IPv4 or IPv6 address */
	PW_PREFIX_BAD_LENGTH, /* length missing, not a number or too long */
	PW_PREFIX_HOST_BITS, /* address has bits set beyond the length */
};

/*
 * Parse "ADDR" (a /32 or /128) or "ADDR/LEN". On PW_PREFIX_HOST_BITS
 * @prefix holds the intended network (host bits cleared), so the caller can
 * name it in the error.
 */
enum pw_prefix_parse_result pw_prefix_parse(const char *text,
					    struct pw_prefix *prefix);

/* "10.1.1.0/24", or the bare address when @bare_host and the prefix is a
 * single host. Returns @buf. */
const char *pw_prefix_str(const struct pw_prefix *prefix, bool bare_host,
			  char *buf, size_t size);

/* Clear bits beyond prefix->len. */
void pw_prefix_mask(struct pw_prefix *prefix);

/* Bit @bit (0 = most significant) of the address. */
static inline unsigned int pw_prefix_bit(const struct pw_prefix *prefix,
					 unsigned int bit)
{
	return (prefix->addr[bit / 8] >> (7 - bit % 8)) & 1;
}

/* True when @outer contains every address of @inner (same family). */
bool pw_prefix_contains(const struct pw_prefix *outer,
			const struct pw_prefix *inner);

/* Total order: family, address, length. */
int pw_prefix_cmp(const struct pw_prefix *a, const struct pw_prefix *b);

#endif /* PLUMWALL_ADDR_H */
