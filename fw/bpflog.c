// SPDX-License-Identifier: GPL-2.0
/*
 * fw_bpflog: libbpf's messages kept in memory, on stderr only with
 * --verbose. See bpflog.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>

#include "bpflog.h"

/* A buffer this small is kept between operations (plumwalld runs for
 * months; a verifier log of megabytes is not kept beyond its report). */
#define FW_BPFLOG_KEEP 65536

static struct {
	bool installed;
	bool verbose;
	char *buf;
	size_t len;
	size_t cap;
	size_t dropped;
	struct fw_bpflog_failure fail;
} fw_bpflog;

/* Note what a libbpf line (NUL-terminated, no newline) says failed. The
 * formats are libbpf's (libbpf.c, bpf_object_load_prog() and
 * bpf_object__create_maps()); a line that matches none is only kept. */
static void fw_bpflog_note(const char *line)
{
	struct fw_bpflog_failure *f = &fw_bpflog.fail;
	char name[64], path[256], err[128];

	if (strncmp(line, "libbpf: ", 8))
		return;
	line += 8;
	err[0] = '\0';
	if (sscanf(line, "prog '%63[^']': BPF program load failed: %127[^\n]",
		   name, err) >= 1 &&
	    strstr(line, "': BPF program load failed")) {
		snprintf(f->prog, sizeof(f->prog), "%s", name);
		snprintf(f->prog_error, sizeof(f->prog_error), "%s", err);
	} else if (sscanf(line, "prog '%63[^']': -- BEGIN PROG LOAD LOG",
			  name) == 1 &&
		   strstr(line, "': -- BEGIN PROG LOAD LOG") && !f->prog[0]) {
		snprintf(f->prog, sizeof(f->prog), "%s", name);
	} else if (sscanf(line, "map '%63[^']': failed to create", name) == 1 &&
		   strstr(line, "': failed to create")) {
		snprintf(f->map, sizeof(f->map), "%s", name);
	} else if (sscanf(line, "couldn't reuse pinned map at '%255[^']'",
			  path) == 1) {
		snprintf(f->pinned, sizeof(f->pinned), "%s", path);
	}
}

static void fw_bpflog_scan(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;
	char line[512];
	size_t n;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl ? nl : end) - p);
		/* Only libbpf's own lines can be markers, never the verifier
		 * log they carry. */
		if (n >= 8 && !memcmp(p, "libbpf: ", 8)) {
			if (n >= sizeof(line))
				n = sizeof(line) - 1;
			memcpy(line, p, n);
			line[n] = '\0';
			fw_bpflog_note(line);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
}

/* Drop the first @n bytes kept, or more, up to the end of a line. */
static void fw_bpflog_drop(size_t n)
{
	const char *nl;

	if (n < fw_bpflog.len) {
		nl = memchr(fw_bpflog.buf + n, '\n', fw_bpflog.len - n);
		n = nl ? (size_t)(nl + 1 - fw_bpflog.buf) : fw_bpflog.len;
	} else {
		n = fw_bpflog.len;
	}
	memmove(fw_bpflog.buf, fw_bpflog.buf + n, fw_bpflog.len - n);
	fw_bpflog.len -= n;
	fw_bpflog.buf[fw_bpflog.len] = '\0';
	fw_bpflog.dropped += n;
}

void fw_bpflog_add(const char *text, size_t len)
{
	const char *nl;
	size_t skip, cap;
	char *p;

	fw_bpflog_scan(text, len);
	if (len > FW_BPFLOG_MAX) {
		/* Only the end of one huge message (a verifier log), from
		 * the start of a line. */
		skip = len - FW_BPFLOG_MAX;
		nl = memchr(text + skip, '\n', len - skip);
		skip = nl ? (size_t)(nl + 1 - text) : len;
		fw_bpflog.dropped += fw_bpflog.len + skip;
		fw_bpflog.len = 0;
		text += skip;
		len -= skip;
	}
	if (fw_bpflog.len + len > FW_BPFLOG_MAX)
		fw_bpflog_drop(fw_bpflog.len + len - FW_BPFLOG_MAX);
	if (fw_bpflog.len + len + 1 > fw_bpflog.cap) {
		cap = fw_bpflog.cap ? fw_bpflog.cap : 4096;
		while (cap < fw_bpflog.len + len + 1)
			cap *= 2;
		if (cap > FW_BPFLOG_MAX + 1)
			cap = FW_BPFLOG_MAX + 1;
		p = realloc(fw_bpflog.buf, cap);
		if (!p) {
			fw_bpflog.dropped += len;
			return;
		}
		fw_bpflog.buf = p;
		fw_bpflog.cap = cap;
	}
	memcpy(fw_bpflog.buf + fw_bpflog.len, text, len);
	fw_bpflog.len += len;
	fw_bpflog.buf[fw_bpflog.len] = '\0';
}

static int fw_bpflog_print(enum libbpf_print_level level, const char *fmt,
			   va_list ap)
{
	char small[512], *text = small;
	va_list aq;
	int n;

	(void)level; /* every level is kept: the log file gets it all */
	va_copy(aq, ap);
	n = vsnprintf(small, sizeof(small), fmt, aq);
	va_end(aq);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(small)) {
		text = malloc((size_t)n + 1);
		if (!text) {
			fw_bpflog.dropped += (size_t)n;
			return 0;
		}
		vsnprintf(text, (size_t)n + 1, fmt, ap);
	}
	/* A failed echo to stderr is not worth reporting: the log file
	 * below still gets the text. */
	if (fw_bpflog.verbose)
		(void)fwrite(text, 1, (size_t)n, stderr);
	fw_bpflog_add(text, (size_t)n);
	if (text != small) {
		/* cppcheck-suppress autovarInvalidDeallocation ; malloc()ed */
		free(text);
	}
	return n;
}

void fw_bpflog_init(bool verbose)
{
	fw_bpflog.verbose = verbose;
	if (!fw_bpflog.installed)
		libbpf_set_print(fw_bpflog_print);
	fw_bpflog.installed = true;
}

bool fw_bpflog_active(void)
{
	return fw_bpflog.installed;
}

bool fw_bpflog_verbose(void)
{
	return fw_bpflog.verbose;
}

void fw_bpflog_begin(void)
{
	if (fw_bpflog.cap > FW_BPFLOG_KEEP) {
		free(fw_bpflog.buf);
		fw_bpflog.buf = NULL;
		fw_bpflog.cap = 0;
	}
	fw_bpflog.len = 0;
	if (fw_bpflog.buf)
		fw_bpflog.buf[0] = '\0';
	fw_bpflog.dropped = 0;
	memset(&fw_bpflog.fail, 0, sizeof(fw_bpflog.fail));
}

const char *fw_bpflog_text(size_t *len, size_t *dropped)
{
	*len = fw_bpflog.len;
	if (dropped)
		*dropped = fw_bpflog.dropped;
	return fw_bpflog.buf ? fw_bpflog.buf : "";
}

const struct fw_bpflog_failure *fw_bpflog_failure(void)
{
	return &fw_bpflog.fail;
}
