// SPDX-License-Identifier: GPL-2.0
/*
 * A sink's bounded queue: a ring of event copies with one producer (the
 * reader) and one consumer (the sink's thread). Allocated once at its
 * configured size, so a burst never allocates and memory stays bounded.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logging/logd.h"

int logd_queue_init(struct logd_queue *q, uint32_t cap)
{
	pthread_condattr_t attr;
	int ret;

	memset(q, 0, sizeof(*q));
	if (!cap)
		return -EINVAL;
	q->items = calloc(cap, sizeof(*q->items));
	if (!q->items)
		return -ENOMEM;
	q->cap = cap;
	ret = -pthread_mutex_init(&q->lock, NULL);
	if (ret)
		goto fail;
	/* Sinks wait with deadlines on CLOCK_MONOTONIC (backoff, stop). */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	ret = -pthread_cond_init(&q->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (ret) {
		pthread_mutex_destroy(&q->lock);
		goto fail;
	}
	return 0;
fail:
	free(q->items);
	q->items = NULL;
	return ret;
}

void logd_queue_destroy(struct logd_queue *q)
{
	struct logd_item it;

	if (!q->items)
		return;
	while (!logd_queue_pop_locked(q, &it))
		fw_names_put(it.names);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q->items);
	q->items = NULL;
}

int logd_queue_push_locked(struct logd_queue *q, const struct logd_item *it)
{
	uint32_t tail;

	if (q->count == q->cap)
		return -ENOSPC;
	tail = q->head + q->count;
	if (tail >= q->cap)
		tail -= q->cap;
	q->items[tail] = *it;
	q->count++;
	return 0;
}

int logd_queue_pop_locked(struct logd_queue *q, struct logd_item *it)
{
	if (!q->count)
		return -ENOENT;
	*it = q->items[q->head];
	if (++q->head == q->cap)
		q->head = 0;
	q->count--;
	return 0;
}
