/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A string -> pointer hash map (open addressing, FNV-1a), for the name
 * lookups of the readers: duplicate keys, segment and rule names. Linear
 * searches there made a 100,000-rule policy take seconds to read. Keys are
 * not copied: they must outlive the map.
 */
#ifndef PLUMWALL_STRMAP_H
#define PLUMWALL_STRMAP_H

#include <stddef.h>

struct pw_strmap_slot {
	const char *key;
	size_t len;
	void *value;
};

struct pw_strmap {
	struct pw_strmap_slot *slots;
	size_t cap; /* power of two, or 0 */
	size_t count;
};

void pw_strmap_init(struct pw_strmap *map);
void pw_strmap_free(struct pw_strmap *map);

/* The value stored under @key (@len bytes), or NULL. */
void *pw_strmap_get(const struct pw_strmap *map, const char *key, size_t len);

/*
 * Store @value under @key unless the key is present. Returns 0 when stored,
 * -EEXIST when present (*@old, if given, is set to the stored value) or
 * -ENOMEM.
 */
int pw_strmap_add(struct pw_strmap *map, const char *key, size_t len,
		  void *value, void **old);

#endif /* PLUMWALL_STRMAP_H */
