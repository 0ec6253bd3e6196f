/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SHA-1 (FIPS 180-4), for the Community ID flow hash, which is defined on
 * it. None of plumwall's dependencies exports one (see fw/sha256.h for the
 * same situation with SHA-256). Not for anything that needs collision
 * resistance.
 */
#ifndef PLUMWALL_LOG_SHA1_H
#define PLUMWALL_LOG_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define LOG_SHA1_SIZE 20

struct log_sha1 {
	uint32_t h[5];
	uint64_t len; /* bytes hashed */
	unsigned char buf[64];
	size_t fill;
};

void log_sha1_init(struct log_sha1 *s);
void log_sha1_update(struct log_sha1 *s, const void *data, size_t len);
void log_sha1_final(struct log_sha1 *s, unsigned char md[LOG_SHA1_SIZE]);

#endif /* PLUMWALL_LOG_SHA1_H */
