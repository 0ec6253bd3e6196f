/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A bump allocator for trees built once and freed whole (YAML documents, the
 * policy model): no per-node frees, no leaks on error paths.
 */
#ifndef PLUMWALL_ARENA_H
#define PLUMWALL_ARENA_H

#include <stddef.h>

struct pw_arena;

struct pw_arena *pw_arena_new(void);
void pw_arena_free(struct pw_arena *arena);

/* Zeroed, aligned for any type. NULL when out of memory or @size overflows
 * (count * size in pw_arena_array). */
void *pw_arena_alloc(struct pw_arena *arena, size_t size);
void *pw_arena_array(struct pw_arena *arena, size_t count, size_t size);
char *pw_arena_strndup(struct pw_arena *arena, const char *str, size_t len);
char *pw_arena_strdup(struct pw_arena *arena, const char *str);

#endif /* PLUMWALL_ARENA_H */
