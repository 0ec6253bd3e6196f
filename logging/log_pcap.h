/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log_pcap: the packets of drop (and audit) events, as carried in
 * pw_event.snap, written to a pcapng file (events.md "pcap") that tcpdump
 * and Wireshark read. pcapng rather than libpcap's classic format because
 * it carries, per packet, a comment with what the firewall decided:
 *   "iface=acme0 vlan=100 verdict=deny reason=policy tenant=acme rule=r"
 * and, per interface, its name. The file is written block by block with
 * one write(2) each, so a reader never sees half a block, and a crash
 * loses nothing that was written.
 *
 * Rotation by size: before a packet would take the file past
 * @rotate_bytes (and the file holds at least one packet), PATH.(keep-1)
 * becomes PATH.keep, ..., PATH becomes PATH.1 (so PATH.1 is the newest
 * full file, as logrotate numbers them), the oldest beyond @keep is
 * deleted, and a new PATH is started.
 */
#ifndef PLUMWALL_LOG_PCAP_H
#define PLUMWALL_LOG_PCAP_H

#include <stdint.h>

#include "logging/log_format.h"

#define LOG_PCAP_SNAPLEN_DEFAULT 128

struct log_pcap;

/*
 * Open (create, or append a new pcapng section to) @path. @snaplen: bytes
 * kept of each packet, 1..65535 (0: the default, 128; a packet never has
 * more than PW_SNAPLEN bytes in an event). @rotate_bytes: 0 never
 * rotates; otherwise @keep (>= 1) rotated files are kept. 0 or -errno.
 */
int log_pcap_open(struct log_pcap **out, const char *path, unsigned int snaplen,
		  uint64_t rotate_bytes, unsigned int keep);

/*
 * Write the packet of @e (raw->snap, snap_len bytes, original length
 * raw->pkt_len, at e->time_ns). Events without a packet (snap_len 0:
 * flows, suppressed, lost) are skipped and return 0. -errno on a write
 * or rotation failure; the file is left as it was before the call.
 */
int log_pcap_write(struct log_pcap *w, const struct log_event *e);

/* Close and open the path again (SIGHUP, after logrotate moved it). */
int log_pcap_reopen(struct log_pcap *w);

/* Bytes in the current file. */
uint64_t log_pcap_size(const struct log_pcap *w);

void log_pcap_close(struct log_pcap *w);

#endif /* PLUMWALL_LOG_PCAP_H */
