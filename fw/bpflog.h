/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fw_bpflog: what libbpf says, kept instead of printed.
 *
 * libbpf prints to stderr by default: pages of relocation notes and, when
 * the kernel refuses a program, the whole verifier log. A user needs one
 * line saying what failed (kernel.h, fw_kern_load_message()), so the
 * commands install this print callback early: it keeps libbpf's messages
 * in memory (the last FW_BPFLOG_MAX bytes: the end of a verifier log is
 * what tells why) and passes them to stderr only with --verbose. It also
 * notes which program or map libbpf reported as failed, so that the
 * message can name it.
 *
 * One operation's messages at a time: fw_bpflog_begin() (fw_dp_open()
 * calls it) forgets the earlier ones. Not thread-safe: the commands and
 * plumwalld use libbpf from one thread.
 */
#ifndef PLUMWALL_FW_BPFLOG_H
#define PLUMWALL_FW_BPFLOG_H

#include <stdbool.h>
#include <stddef.h>

/* Bytes of libbpf output kept; older output is dropped first. */
#define FW_BPFLOG_MAX (8U << 20)

/* What libbpf reported as failed since fw_bpflog_begin(). */
struct fw_bpflog_failure {
	char prog[64]; /* "prog 'NAME': BPF program load failed" */
	char prog_error[128]; /* the error text of that line */
	char map[64]; /* "map 'NAME': failed to create" */
	char pinned[256]; /* "couldn't reuse pinned map at 'PATH'" */
};

/*
 * Install the callback (again: only @verbose changes). @verbose: also
 * pass every message, debug ones included, to stderr as it comes.
 */
void fw_bpflog_init(bool verbose);
/* Whether the callback is installed, and with --verbose. */
bool fw_bpflog_active(void);
bool fw_bpflog_verbose(void);

/* Start of an operation: forget the messages and failures kept. */
void fw_bpflog_begin(void);

/*
 * The messages kept since fw_bpflog_begin(), NUL-terminated (*@len bytes
 * without the NUL; "" when none), and how many bytes were dropped in
 * front of them (*@dropped, may be NULL).
 */
const char *fw_bpflog_text(size_t *len, size_t *dropped);

/* What failed; all empty strings when nothing was reported. */
const struct fw_bpflog_failure *fw_bpflog_failure(void);

/*
 * Keep @text as if libbpf had printed it (one or more lines). The print
 * callback uses it; so do tests.
 */
void fw_bpflog_add(const char *text, size_t len);

#endif /* PLUMWALL_FW_BPFLOG_H */
