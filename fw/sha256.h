/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SHA-256 (FIPS 180-4), for the policy hash `status` shows. None of the
 * dependencies exports one, and the kernel's AF_ALG hash sockets are not
 * built into every kernel (CONFIG_CRYPTO_USER_API_HASH), so runtime.c
 * falls back to this small implementation.
 */
#ifndef PLUMWALL_FW_SHA256_H
#define PLUMWALL_FW_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct fw_sha256 {
	uint32_t h[8];
	uint64_t len; /* bytes hashed */
	unsigned char buf[64];
	size_t fill;
};

void fw_sha256_init(struct fw_sha256 *s);
void fw_sha256_update(struct fw_sha256 *s, const void *data, size_t len);
void fw_sha256_final(struct fw_sha256 *s, unsigned char md[32]);

#endif /* PLUMWALL_FW_SHA256_H */
