// SPDX-License-Identifier: GPL-2.0
/*
 * pcapng writer (draft-ietf-opsawg-pcapng): a Section Header Block, one
 * Interface Description Block per interface as it first appears in the
 * section, and an Enhanced Packet Block per packet. Host byte order, as
 * the format allows (the SHB's byte-order magic tells readers).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <plumwall/fs.h>

#include "logging/log_internal.h"
#include "logging/log_pcap.h"

#define PCAPNG_SHB 0x0a0d0d0aU
#define PCAPNG_IDB 0x00000001U
#define PCAPNG_EPB 0x00000006U
#define PCAPNG_BOM 0x1a2b3c4dU
#define PCAPNG_OPT_END 0
#define PCAPNG_OPT_COMMENT 1
#define PCAPNG_SHB_USERAPPL 4
#define PCAPNG_IF_NAME 2
#define PCAPNG_IF_TSRESOL 9
#define PCAPNG_LINKTYPE_ETHERNET 1

#define IFNAME_MAX 64 /* interface names are at most 15 bytes in Linux */
#define COMMENT_MAX 1024

struct log_pcap {
	char *path;
	int fd;
	unsigned int snaplen;
	uint64_t rotate_bytes;
	unsigned int keep;
	uint64_t size; /* of the current file */
	uint64_t packets; /* in the current file */
	/* interfaces described in the current section, by id */
	char (*ifnames)[IFNAME_MAX];
	unsigned int nifs, capifs;
};

/* A block being built in memory, written with one write(2). */
struct block {
	unsigned char *p;
	size_t len, cap;
	int err;
};

static void blk_put(struct block *b, const void *data, size_t n)
{
	unsigned char *np;
	size_t cap;

	if (b->err)
		return;
	if (b->len + n + 3 > b->cap) {
		cap = b->cap ? b->cap * 2 : 512;
		while (cap < b->len + n + 3)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	if (n) /* data may be NULL then (an empty comment) */
		memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void blk_u32(struct block *b, uint32_t v)
{
	blk_put(b, &v, 4);
}

static void blk_u16(struct block *b, uint16_t v)
{
	blk_put(b, &v, 2);
}

static void blk_pad(struct block *b)
{
	static const unsigned char zero[4];

	blk_put(b, zero, (4 - b->len % 4) % 4);
}

static void blk_opt(struct block *b, uint16_t code, const void *data, size_t n)
{
	blk_u16(b, code);
	blk_u16(b, (uint16_t)n);
	blk_put(b, data, n);
	blk_pad(b);
}

static void blk_begin(struct block *b, uint32_t type)
{
	b->len = 0;
	blk_u32(b, type);
	blk_u32(b, 0); /* total length, filled in by blk_end() */
}

static void blk_end(struct block *b)
{
	uint32_t total;

	blk_opt(b, PCAPNG_OPT_END, NULL, 0);
	total = (uint32_t)b->len + 4;
	blk_u32(b, total);
	if (!b->err)
		memcpy(b->p + 4, &total, 4);
}

/* Write the whole block or, on failure, nothing (the file is cut back). */
static int write_block(struct log_pcap *w, const struct block *b)
{
	size_t done = 0;
	ssize_t n;
	int err;

	if (b->err)
		return b->err;
	while (done < b->len) {
		n = write(w->fd, b->p + done, b->len - done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto fail;
		}
		done += (size_t)n;
	}
	w->size += b->len;
	return 0;
fail:
	if (done && ftruncate(w->fd, (off_t)w->size))
		err = -errno;
	return err;
}

static int write_shb(struct log_pcap *w)
{
	struct block b = {};
	uint64_t section_len = UINT64_MAX; /* not given */
	int err;

	blk_begin(&b, PCAPNG_SHB);
	blk_u32(&b, PCAPNG_BOM);
	blk_u16(&b, 1);
	blk_u16(&b, 0);
	blk_put(&b, &section_len, 8);
	blk_opt(&b, PCAPNG_SHB_USERAPPL, "plumwall-logd", 13);
	blk_end(&b);
	err = write_block(w, &b);
	free(b.p);
	w->nifs = 0;
	return err;
}

/* Interface id of @name in this section, writing its IDB first if new. */
static int interface_id(struct log_pcap *w, const char *name, uint32_t *id)
{
	static const unsigned char nsec = 9; /* timestamps in ns */
	struct block b = {};
	size_t n = strlen(name);
	unsigned int i;
	int err;

	if (n >= IFNAME_MAX)
		n = IFNAME_MAX - 1;
	for (i = 0; i < w->nifs; i++) {
		if (!strncmp(w->ifnames[i], name, n) && !w->ifnames[i][n]) {
			*id = i;
			return 0;
		}
	}
	if (w->nifs == w->capifs) {
		unsigned int cap = w->capifs ? w->capifs * 2 : 8;
		void *p = reallocarray(w->ifnames, cap, IFNAME_MAX);

		if (!p)
			return -ENOMEM;
		w->ifnames = p;
		w->capifs = cap;
	}
	blk_begin(&b, PCAPNG_IDB);
	blk_u16(&b, PCAPNG_LINKTYPE_ETHERNET);
	blk_u16(&b, 0);
	blk_u32(&b, w->snaplen);
	blk_opt(&b, PCAPNG_IF_NAME, name, n);
	blk_opt(&b, PCAPNG_IF_TSRESOL, &nsec, 1);
	blk_end(&b);
	err = write_block(w, &b);
	free(b.p);
	if (err)
		return err;
	memcpy(w->ifnames[w->nifs], name, n);
	w->ifnames[w->nifs][n] = '\0';
	*id = w->nifs++;
	return 0;
}

static int open_file(struct log_pcap *w)
{
	struct stat st;
	int err;

	w->fd = pw_open_log(w->path, 0640, NULL, 0);
	if (w->fd < 0)
		return w->fd;
	if (fstat(w->fd, &st)) {
		err = -errno;
		goto fail;
	}
	w->size = (uint64_t)st.st_size;
	w->packets = 0;
	/* An existing file gets a new section: pcapng allows several. */
	err = write_shb(w);
	if (err)
		goto fail;
	return 0;
fail:
	close(w->fd);
	w->fd = -1;
	return err;
}

static char *numbered(const char *path, unsigned int n)
{
	char *p;

	if (asprintf(&p, "%s.%u", path, n) < 0)
		return NULL;
	return p;
}

/* PATH.(keep-1) -> PATH.keep, ..., PATH -> PATH.1, then a new PATH. */
static int rotate(struct log_pcap *w)
{
	char *from = NULL, *to = NULL;
	unsigned int i;
	int err = 0;

	close(w->fd);
	w->fd = -1;
	for (i = w->keep; i >= 1; i--) {
		from = i > 1 ? numbered(w->path, i - 1) : strdup(w->path);
		to = numbered(w->path, i);
		if (!from || !to) {
			err = -ENOMEM;
			goto out;
		}
		if (rename(from, to) && errno != ENOENT) {
			err = -errno;
			goto out;
		}
		free(from);
		free(to);
		from = to = NULL;
	}
out:
	free(from);
	free(to);
	/* Whatever happened, carry on writing somewhere. */
	if (open_file(w) && !err)
		err = -EIO;
	return err;
}

int log_pcap_open(struct log_pcap **out, const char *path, unsigned int snaplen,
		  uint64_t rotate_bytes, unsigned int keep)
{
	struct log_pcap *w;
	int err;

	*out = NULL;
	if (!path || !*path || snaplen > 65535 || (rotate_bytes && !keep))
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	w->snaplen = snaplen ? snaplen : LOG_PCAP_SNAPLEN_DEFAULT;
	w->rotate_bytes = rotate_bytes;
	w->keep = keep;
	w->path = strdup(path);
	if (!w->path) {
		err = -ENOMEM;
		goto fail;
	}
	err = open_file(w);
	if (err)
		goto fail;
	*out = w;
	return 0;
fail:
	log_pcap_close(w);
	return err;
}

/* "iface=acme0 vlan=100 verdict=deny reason=policy tenant=acme rule=r" */
static void comment_of(const struct log_event *e, char *buf, size_t size)
{
	const struct pw_event *ev = e->raw;
	int n;

	n = snprintf(buf, size, "iface=%s", e->ifname ? e->ifname : "?");
	if (ev->vlan && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " vlan=%u", ev->vlan);
	if (n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " verdict=%s reason=%s",
			      log_verdict_name(ev->verdict),
			      log_reason_name(ev->reason));
	if (e->tenant && n >= 0 && (size_t)n < size)
		n += snprintf(buf + n, size - n, " tenant=%s", e->tenant);
	if (e->rule && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - n, " rule=%s", e->rule);
}

int log_pcap_write(struct log_pcap *w, const struct log_event *e)
{
	const struct pw_event *ev = e->raw;
	char comment[COMMENT_MAX], ifname[IFNAME_MAX];
	struct block b = {};
	uint32_t ifid, caplen;
	int err;

	if (!ev || ev->snap_len == 0)
		return 0;
	if (w->fd < 0) {
		/* A failed rotation or reopen: try again. */
		err = open_file(w);
		if (err)
			return err;
	}
	caplen = ev->snap_len;
	if (caplen > PW_SNAPLEN)
		caplen = PW_SNAPLEN;
	if (caplen > w->snaplen)
		caplen = w->snaplen;
	comment_of(e, comment, sizeof(comment));

	/* Rotate when this packet would pass the limit (an estimate that
	 * leaves out a possible new IDB, which is small). */
	if (w->rotate_bytes && w->packets &&
	    w->size + 32 + caplen + 3 + 4 + strlen(comment) + 3 + 8 >
		    w->rotate_bytes) {
		err = rotate(w);
		if (err)
			return err;
	}

	if (e->ifname)
		snprintf(ifname, sizeof(ifname), "%s", e->ifname);
	else
		snprintf(ifname, sizeof(ifname), "if%u", ev->ifindex);
	err = interface_id(w, ifname, &ifid);
	if (err)
		return err;

	blk_begin(&b, PCAPNG_EPB);
	blk_u32(&b, ifid);
	blk_u32(&b, (uint32_t)(e->time_ns >> 32));
	blk_u32(&b, (uint32_t)e->time_ns);
	blk_u32(&b, caplen);
	blk_u32(&b, ev->pkt_len > caplen ? ev->pkt_len : caplen);
	blk_put(&b, ev->snap, caplen);
	blk_pad(&b);
	blk_opt(&b, PCAPNG_OPT_COMMENT, comment, strlen(comment));
	blk_end(&b);
	err = write_block(w, &b);
	free(b.p);
	if (!err)
		w->packets++;
	return err;
}

int log_pcap_reopen(struct log_pcap *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	return open_file(w);
}

uint64_t log_pcap_size(const struct log_pcap *w)
{
	return w->size;
}

void log_pcap_close(struct log_pcap *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->ifnames);
	free(w->path);
	free(w);
}
