/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fw_kern: whether this kernel can run plumwall, and what to tell the
 * user when it cannot.
 *
 * Every command that loads BPF programs (apply, trace --engine bpf,
 * plumwalld, down for its sweep) calls fw_kern_check() first. It checks,
 * in this order, and stops at the first failure:
 *
 *   1. the kernel version from uname(2): Linux FW_KERN_MIN_MAJOR.
 *      FW_KERN_MIN_MINOR or later (PLUMWALL_SKIP_KERNEL_VERSION_CHECK=1
 *      skips only this step, for backport kernels such as RHEL 9's 5.14,
 *      with a warning when the version is below the minimum);
 *   2. kernel BTF (/sys/kernel/btf/vmlinux);
 *   3. the BPF program types, map types and helpers the programs use
 *      (the table in kernel.c, which a unit test holds to the compiled
 *      programs).
 *
 * The answer is one line ("this kernel has no BPF ring buffer ..."), so
 * a user on an old distribution kernel is not left with pages of libbpf
 * output. A probe the kernel refuses with EPERM is a privilege problem,
 * not a missing feature.
 *
 * When loading fails all the same (the verifier refuses a program, a map
 * cannot be created), fw_kern_load_message() turns libbpf's output, kept
 * by fw_bpflog (bpflog.h), into one line as well, and writes a refused
 * program's verifier log to a file.
 */
#ifndef PLUMWALL_FW_KERNEL_H
#define PLUMWALL_FW_KERNEL_H

#include <stdbool.h>
#include <stddef.h>

/* The oldest kernel plumwall supports (user space only: the programs
 * themselves carry no version). */
#define FW_KERN_MIN_MAJOR 6
#define FW_KERN_MIN_MINOR 1
#define FW_KERN_MIN_NAME "6.1"

/* Environment: "1" skips the version comparison (step 1 above). */
#define FW_KERN_SKIP_ENV "PLUMWALL_SKIP_KERNEL_VERSION_CHECK"

struct fw_kern_version {
	unsigned int major;
	unsigned int minor;
	unsigned int patch; /* 0 when the release has none */
};

/*
 * Parse a uname(2) release: "6.1.0-57-amd64", "5.14.0-427.el9.x86_64",
 * "6.12.48+deb13-amd64", "6.6". MAJOR.MINOR must be there, as decimal
 * numbers; anything after them (a patch level, a vendor suffix) is
 * allowed. Returns 0 or -EINVAL.
 */
int fw_kern_version_parse(const char *release, struct fw_kern_version *v);
/* @v is FW_KERN_MIN_MAJOR.FW_KERN_MIN_MINOR or later. */
bool fw_kern_version_supported(const struct fw_kern_version *v);

enum fw_kern_problem {
	FW_KERN_OK,
	FW_KERN_TOO_OLD, /* the release is below the minimum */
	FW_KERN_VERSION_UNKNOWN, /* the release does not parse */
	FW_KERN_NO_BTF,
	FW_KERN_MISSING, /* a program type, map type or helper: feature */
	FW_KERN_NO_PRIVILEGE, /* a probe got EPERM */
	FW_KERN_PROBE_FAILED, /* a probe could not run: err */
};

enum fw_kern_feature_kind {
	FW_KERN_PROG_TYPE,
	FW_KERN_MAP_TYPE,
	FW_KERN_HELPER,
};

/* One thing the programs need from the kernel. */
struct fw_kern_feature {
	enum fw_kern_feature_kind kind;
	int type; /* enum bpf_prog_type or bpf_map_type; a helper's program type */
	int helper; /* enum bpf_func_id (FW_KERN_HELPER) */
	const char *name; /* "BPF_MAP_TYPE_RINGBUF", "bpf_xdp_load_bytes" */
	const char *what; /* "BPF ring buffer"; NULL for helpers */
};

/* The entry of the table for @type (and @helper), NULL if not probed. */
const struct fw_kern_feature *
fw_kern_feature_find(enum fw_kern_feature_kind kind, int type, int helper);

struct fw_kern_status {
	enum fw_kern_problem problem;
	int err; /* 0, or the negative errno behind the problem */
	char release[65];
	/* The version check was skipped on a kernel below the minimum (or
	 * of an unknown version): it works, untested. */
	bool untested;
	const struct fw_kern_feature *feature; /* FW_KERN_MISSING */
};

/* fw_kern_probe() flags */
#define FW_KERN_SKIP_VERSION (1U << 0)

/*
 * Run the checks now (not cached). @release: the kernel release to judge
 * (NULL: uname(2)'s); the feature probes always ask the running kernel.
 * Returns 0 or the negative errno of the first failure (-EOPNOTSUPP for a
 * too old kernel or a missing feature, -ENOENT without BTF, -EPERM, ...),
 * described in *@st either way.
 */
int fw_kern_probe(const char *release, unsigned int flags,
		  struct fw_kern_status *st);

/*
 * The one line for a failed @st (no "plumwall CMD: " prefix, no newline),
 * e.g. "this kernel has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF);
 * plumwall needs Linux 6.1 or later with it". "" for FW_KERN_OK.
 */
void fw_kern_message(const struct fw_kern_status *st, char *buf, size_t size);
/* The warning for an untested kernel ("" when @st is not untested). */
void fw_kern_warning(const struct fw_kern_status *st, char *buf, size_t size);

/*
 * What commands call before loading BPF programs: fw_kern_probe() of the
 * running kernel once per process (later calls give the same answer),
 * FW_KERN_SKIP_VERSION when FW_KERN_SKIP_ENV is "1". Returns 0 or a
 * negative errno with the reason in @msg; @warn gets the untested-kernel
 * warning the first time it is due, "" otherwise.
 */
int fw_kern_check(char *msg, size_t size, char *warn, size_t wsize);
/* fw_kern_check() with the warning and the reason on stderr, each as
 * "@prog: ..." on one line. */
int fw_kern_require(const char *prog);

/*
 * The line of a verifier log that says why the program was refused: the
 * last one that is not a statistic ("processed N insns ...") or empty,
 * e.g. "R1 invalid mem access 'scalar'". Returns 0 or -ENOENT.
 */
int fw_kern_log_reason(const char *log, size_t len, char *line, size_t size);

/*
 * The one line for the verifier refusing program @prog: @log is its log,
 * or all of libbpf's output for the load, which carries it between
 * "-- BEGIN PROG LOAD LOG --" and "-- END PROG LOAD LOG --" (@dropped
 * bytes were lost in front of it). The line names the program, gives the
 * log's reason (fw_kern_log_reason()) and where the whole of @log went:
 * FW_RT_STATE_DIR/verifier-PROG.log (mode 0600, the directory created
 * 0700), else a new file in /tmp, or neither (the line says so).
 */
void fw_kern_verifier_message(const char *prog, const char *log, size_t len,
			      size_t dropped, char *msg, size_t size);

/*
 * The one line for a failed fw_dp_open() that returned @err, from what
 * fw_bpflog kept of the load: a verifier refusal (fw_kern_verifier_message),
 * a program or map the kernel could not create, or pinned maps of another
 * layout (-EPROTO). Returns the exit status (fw.h) the command gives for
 * it: FW_EXIT_STATE when the kernel refused (verifier, privileges) or the
 * pinned maps belong to another layout, FW_EXIT_REFUSED otherwise.
 */
int fw_kern_load_message(int err, char *msg, size_t size);

#endif /* PLUMWALL_FW_KERNEL_H */
