// SPDX-License-Identifier: GPL-2.0
/* struct log_buf: the growable output buffer of the formatters. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "logging/log_format.h"
#include "logging/log_internal.h"

/* Room for @extra more bytes plus the terminating NUL. */
int log_buf_reserve(struct log_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1, cap;
	char *p;

	if (need <= b->cap)
		return 0;
	if (need < b->len)
		return -ENOMEM; /* overflow */
	cap = b->cap ? b->cap : 256;
	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -ENOMEM;
		cap *= 2;
	}
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int log_buf_append(struct log_buf *b, const void *data, size_t len)
{
	int err = log_buf_reserve(b, len);

	if (err)
		return err;
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int log_buf_printf(struct log_buf *b, const char *fmt, ...)
{
	size_t room = b->cap > b->len ? b->cap - b->len : 0;
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= room) {
		err = log_buf_reserve(b, (size_t)n);
		if (err) {
			/* vsnprintf may have written a truncated tail. */
			if (b->cap > b->len)
				b->data[b->len] = '\0';
			return err;
		}
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
	return 0;
}

void log_buf_reset(struct log_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void log_buf_free(struct log_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}
