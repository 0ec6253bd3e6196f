// SPDX-License-Identifier: GPL-2.0
/* String -> pointer hash map (see include/plumwall/strmap.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <plumwall/strmap.h>

void pw_strmap_init(struct pw_strmap *map)
{
	memset(map, 0, sizeof(*map));
}

void pw_strmap_free(struct pw_strmap *map)
{
	free(map->slots);
	pw_strmap_init(map);
}

static uint64_t pw_strmap_hash(const char *key, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)key[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* The slot holding @key, or the empty slot where it would go. */
static struct pw_strmap_slot *pw_strmap_find(const struct pw_strmap *map,
					     const char *key, size_t len)
{
	size_t mask = map->cap - 1;
	size_t i = (size_t)pw_strmap_hash(key, len) & mask;

	for (;; i = (i + 1) & mask) {
		struct pw_strmap_slot *slot = &map->slots[i];

		if (!slot->key ||
		    (slot->len == len && !memcmp(slot->key, key, len)))
			return slot;
	}
}

void *pw_strmap_get(const struct pw_strmap *map, const char *key, size_t len)
{
	struct pw_strmap_slot *slot;

	if (!map->cap)
		return NULL;
	slot = pw_strmap_find(map, key, len);
	return slot->key ? slot->value : NULL;
}

static int pw_strmap_grow(struct pw_strmap *map)
{
	struct pw_strmap old = *map;
	size_t i;

	map->cap = old.cap ? old.cap * 2 : 16;
	map->slots = calloc(map->cap, sizeof(*map->slots));
	if (!map->slots) {
		*map = old;
		return -ENOMEM;
	}
	for (i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*pw_strmap_find(map, old.slots[i].key,
					old.slots[i].len) = old.slots[i];
	free(old.slots);
	return 0;
}

int pw_strmap_add(struct pw_strmap *map, const char *key, size_t len,
		  void *value, void **old)
{
	struct pw_strmap_slot *slot;
	int ret;

	/* Keep the load factor under 1/2 so probes stay short. */
	if ((map->count + 1) * 2 > map->cap) {
		ret = pw_strmap_grow(map);
		if (ret)
			return ret;
	}
	slot = pw_strmap_find(map, key, len);
	if (slot->key) {
		if (old)
			*old = slot->value;
		return -EEXIST;
	}
	slot->key = key;
	slot->len = len;
	slot->value = value;
	map->count++;
	return 0;
}
