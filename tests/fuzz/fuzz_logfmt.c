// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: every formatter of plumwall-logd on an event built
 * from the input. The first sizeof(struct pw_event) bytes are the event
 * as the ring buffer delivers it (any values: the datapath is trusted,
 * but a formatter must not trust a field to be in range); then a byte of
 * flags, a byte each for the syslog facility and severity, and the names
 * (host, interface, tenant, rule, segments, version) as NUL-separated
 * strings, absent ones NULL. Rendered as JSON, CEF, syslog with either
 * body, the Community ID, and a packet block of the pcapng writer
 * (into a file in $TMPDIR that rotates, so it stays small).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "logging/log_format.h"
#include "logging/log_pcap.h"

#define FUZZ_N_NAMES 7

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct log_pcap *fuzz_pcap;
static bool fuzz_pcap_tried;
static char fuzz_dir[4096];

static void fuzz_cleanup(void)
{
	char path[4200];
	int i;

	log_pcap_close(fuzz_pcap);
	fuzz_pcap = NULL;
	for (i = 0; i <= 2; i++) {
		snprintf(path, sizeof(path),
			 i ? "%s/events.pcap.%d" : "%s/events.pcap", fuzz_dir,
			 i);
		unlink(path);
	}
	rmdir(fuzz_dir);
}

/* The pcapng writer, on a file of its own that rotates at 64 KiB; none
 * when it cannot be opened (not root: logd's directory checks). */
static struct log_pcap *fuzz_pcap_get(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[4200];

	if (fuzz_pcap_tried)
		return fuzz_pcap;
	fuzz_pcap_tried = true;
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/fuzz-logfmt.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(fuzz_dir))
		return NULL;
	snprintf(path, sizeof(path), "%s/events.pcap", fuzz_dir);
	if (log_pcap_open(&fuzz_pcap, path, 0, 65536, 2)) {
		fprintf(stderr, "fuzz: no pcapng writer in %s\n", fuzz_dir);
		rmdir(fuzz_dir);
		return NULL;
	}
	atexit(fuzz_cleanup);
	return fuzz_pcap;
}

static int fuzz_check(int ret, const struct log_buf *b)
{
	/* The buffer is a string: NUL-terminated, no NUL inside. */
	if (b->len && (b->data[b->len] || strlen(b->data) != b->len))
		abort();
	if (ret && ret != -EINVAL && ret != -ENOMEM)
		abort();
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *names[FUZZ_N_NAMES] = { NULL };
	char cid[LOG_COMMUNITY_ID_SIZE];
	struct log_buf b = { 0 };
	struct pw_event ev;
	struct log_event e;
	struct log_pcap *w;
	uint8_t flags = 0, fac = 0, sev = 0;
	char *text = NULL;
	size_t n, i, off;
	int ret;

	memset(&ev, 0, sizeof(ev));
	n = size < sizeof(ev) ? size : sizeof(ev);
	memcpy(&ev, data, n);
	data += n;
	size -= n;
	if (size >= 3) {
		flags = data[0];
		fac = data[1];
		sev = data[2];
		data += 3;
		size -= 3;
	}
	/* names: NUL-separated; bit i of flags set makes name i NULL */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	for (i = 0, off = 0; i < FUZZ_N_NAMES; i++) {
		names[i] = off <= size ? text + off : "";
		off += strlen(names[i]) + 1;
		if (flags & (1u << i))
			names[i] = NULL;
	}

	memset(&e, 0, sizeof(e));
	e.raw = &ev;
	e.time_ns = ev.ts_ns ^ ev.seq;
	e.start_time_ns = ev.start_ns;
	e.hostname = names[0];
	e.ifname = names[1];
	e.tenant = names[2];
	e.rule = names[3];
	e.src_segment = names[4];
	e.dst_segment = names[5];
	e.version = names[6];
	e.rule_global = flags & 0x80;

	fuzz_check(log_format_json(&e, &b), &b);
	log_buf_reset(&b);
	fuzz_check(log_format_cef(&e, &b), &b);
	log_buf_reset(&b);
	/* facility 0..23 and severity 0..7 are the caller's to keep */
	fuzz_check(log_format_syslog(&e, fac % 24, sev % 8,
				     flags & 0x40 ? NULL : "1234",
				     LOG_SYSLOG_BODY_JSON, &b),
		   &b);
	log_buf_reset(&b);
	fuzz_check(log_format_syslog(&e, fac % 24, sev % 8, names[6],
				     LOG_SYSLOG_BODY_CEF, &b),
		   &b);
	ret = log_community_id(&ev, (uint16_t)(fac << 8 | sev), cid);
	if (!ret && (strnlen(cid, sizeof(cid)) != sizeof(cid) - 1 ||
		     strncmp(cid, "1:", 2)))
		abort();
	if (log_msgid(ev.type))
		(void)strlen(log_msgid(ev.type));
	w = fuzz_pcap_get();
	if (w)
		log_pcap_write(w, &e);
	log_buf_free(&b);
	free(text);
	return 0;
}
