// SPDX-License-Identifier: GPL-2.0
/* Bump allocator (see include/plumwall/arena.h). */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <plumwall/arena.h>

#define PW_ARENA_CHUNK ((size_t)64 * 1024)

struct pw_arena_chunk {
	struct pw_arena_chunk *next;
	size_t size;
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

struct pw_arena {
	struct pw_arena_chunk *head;
};

struct pw_arena *pw_arena_new(void)
{
	return calloc(1, sizeof(struct pw_arena));
}

void pw_arena_free(struct pw_arena *arena)
{
	struct pw_arena_chunk *chunk, *next;

	if (!arena)
		return;
	for (chunk = arena->head; chunk; chunk = next) {
		next = chunk->next;
		free(chunk);
	}
	free(arena);
}

void *pw_arena_alloc(struct pw_arena *arena, size_t size)
{
	const size_t align = alignof(max_align_t);
	struct pw_arena_chunk *chunk = arena->head;
	size_t rounded;
	void *ptr;

	if (size > SIZE_MAX / 2)
		return NULL;
	rounded = (size + align - 1) & ~(align - 1);
	if (!rounded)
		rounded = align;
	if (!chunk || chunk->size - chunk->used < rounded) {
		size_t csize = rounded > PW_ARENA_CHUNK ? rounded :
							  PW_ARENA_CHUNK;

		chunk = malloc(sizeof(*chunk) + csize);
		if (!chunk)
			return NULL;
		chunk->size = csize;
		chunk->used = 0;
		/* A big one-off block goes behind the current chunk so the
		 * rest of the current chunk stays usable. */
		if (arena->head && csize != PW_ARENA_CHUNK) {
			chunk->next = arena->head->next;
			arena->head->next = chunk;
		} else {
			chunk->next = arena->head;
			arena->head = chunk;
		}
	}
	ptr = chunk->data + chunk->used;
	chunk->used += rounded;
	memset(ptr, 0, size);
	return ptr;
}

void *pw_arena_array(struct pw_arena *arena, size_t count, size_t size)
{
	if (size && count > SIZE_MAX / 2 / size)
		return NULL;
	return pw_arena_alloc(arena, count * size);
}

char *pw_arena_strndup(struct pw_arena *arena, const char *str, size_t len)
{
	char *copy = pw_arena_alloc(arena, len + 1);

	if (copy) {
		memcpy(copy, str, len);
		copy[len] = '\0';
	}
	return copy;
}

char *pw_arena_strdup(struct pw_arena *arena, const char *str)
{
	return pw_arena_strndup(arena, str, strlen(str));
}
