// SPDX-License-Identifier: GPL-2.0
/*
 * fw_kern: the kernel version and feature probes, and the one-line
 * reports of what the kernel refused. See kernel.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "bpflog.h"
#include "fw.h"
#include "kernel.h"
#include "runtime.h"

#define FW_KERN_BTF "/sys/kernel/btf/vmlinux"

/* What privileges a process needs for BPF; said when the kernel answers
 * EPERM although fw_command_ready() found the capabilities (a user
 * namespace, a container's seccomp filter). */
#define FW_KERN_PRIV_HINT                                                 \
	"plumwall needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON " \
	"in the initial user namespace"

#define FW_KERN_PROG(t, what)                                                 \
	{                                                                     \
		FW_KERN_PROG_TYPE, BPF_PROG_TYPE_##t, 0, "BPF_PROG_TYPE_" #t, \
			what                                                  \
	}
#define FW_KERN_MAP(t, what)                                               \
	{                                                                  \
		FW_KERN_MAP_TYPE, BPF_MAP_TYPE_##t, 0, "BPF_MAP_TYPE_" #t, \
			what                                               \
	}
#define FW_KERN_HELPER(t, fn)                                                 \
	{                                                                     \
		FW_KERN_HELPER, BPF_PROG_TYPE_##t, BPF_FUNC_##fn, "bpf_" #fn, \
			NULL                                                  \
	}

/*
 * What bpf/ needs, probed in this order. Program types: SEC() of
 * bpf/plumwall.bpf.c. Map types: bpf/pw_maps.h and the inner maps of
 * datapath.c. Helpers: every helper each program calls, its
 * subprograms included; tests/unit/test_kernel.c compares this table
 * with the instructions of the loaded programs, so a helper added in
 * bpf/ without a line here fails the tests.
 */
static const struct fw_kern_feature fw_kern_features[] = {
	FW_KERN_PROG(XDP, "XDP program type"),
	FW_KERN_PROG(SCHED_CLS, "tc BPF program type"),
	FW_KERN_PROG(SYSCALL, "syscall BPF program type"),

	FW_KERN_MAP(HASH, "BPF hash map"),
	FW_KERN_MAP(ARRAY, "BPF array map"),
	FW_KERN_MAP(LPM_TRIE, "BPF longest-prefix-match map"),
	FW_KERN_MAP(ARRAY_OF_MAPS, "BPF array of maps"),
	FW_KERN_MAP(PERCPU_ARRAY, "per-CPU BPF array map"),
	FW_KERN_MAP(LRU_HASH, "BPF LRU hash map"),
	FW_KERN_MAP(RINGBUF, "BPF ring buffer"),

	FW_KERN_HELPER(XDP, map_lookup_elem),
	FW_KERN_HELPER(XDP, map_update_elem),
	FW_KERN_HELPER(XDP, map_delete_elem),
	FW_KERN_HELPER(XDP, ktime_get_ns),
	FW_KERN_HELPER(XDP, ktime_get_coarse_ns),
	FW_KERN_HELPER(XDP, get_smp_processor_id),
	FW_KERN_HELPER(XDP, csum_diff),
	FW_KERN_HELPER(XDP, xdp_adjust_head),
	FW_KERN_HELPER(XDP, xdp_adjust_tail),
	FW_KERN_HELPER(XDP, xdp_adjust_meta),
	FW_KERN_HELPER(XDP, xdp_load_bytes),
	FW_KERN_HELPER(XDP, xdp_store_bytes),
	FW_KERN_HELPER(XDP, ringbuf_reserve),
	FW_KERN_HELPER(XDP, ringbuf_submit),

	FW_KERN_HELPER(SCHED_CLS, map_lookup_elem),
	FW_KERN_HELPER(SCHED_CLS, map_update_elem),
	FW_KERN_HELPER(SCHED_CLS, map_delete_elem),
	FW_KERN_HELPER(SCHED_CLS, ktime_get_ns),
	FW_KERN_HELPER(SCHED_CLS, ktime_get_coarse_ns),
	FW_KERN_HELPER(SCHED_CLS, get_smp_processor_id),
	FW_KERN_HELPER(SCHED_CLS, csum_diff),
	FW_KERN_HELPER(SCHED_CLS, skb_load_bytes),
	FW_KERN_HELPER(SCHED_CLS, skb_store_bytes),
	FW_KERN_HELPER(SCHED_CLS, skb_change_tail),
	FW_KERN_HELPER(SCHED_CLS, skb_pull_data),
	FW_KERN_HELPER(SCHED_CLS, redirect),
	FW_KERN_HELPER(SCHED_CLS, ringbuf_reserve),
	FW_KERN_HELPER(SCHED_CLS, ringbuf_submit),

	FW_KERN_HELPER(SYSCALL, map_lookup_elem),
	FW_KERN_HELPER(SYSCALL, map_delete_elem),
	FW_KERN_HELPER(SYSCALL, ktime_get_ns),
	FW_KERN_HELPER(SYSCALL, get_smp_processor_id),
	FW_KERN_HELPER(SYSCALL, for_each_map_elem),
	FW_KERN_HELPER(SYSCALL, ringbuf_reserve),
	FW_KERN_HELPER(SYSCALL, ringbuf_submit),
};

const struct fw_kern_feature *
fw_kern_feature_find(enum fw_kern_feature_kind kind, int type, int helper)
{
	size_t i;

	for (i = 0; i < FW_ARRAY_SIZE(fw_kern_features); i++) {
		const struct fw_kern_feature *f = &fw_kern_features[i];

		if (f->kind == kind && f->type == type &&
		    (kind != FW_KERN_HELPER || f->helper == helper))
			return f;
	}
	return NULL;
}

/* ---------------------------------------------------------------- version */

/* A decimal number at *@p (at least one digit), *@p moved past it. */
static int fw_kern_number(const char **p, unsigned int *out)
{
	const char *s = *p;
	unsigned long v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (unsigned long)(*s - '0');
		/* no kernel counts this high: garbage, not a version */
		if (v > 99999)
			return -EINVAL;
	}
	*p = s;
	*out = (unsigned int)v;
	return 0;
}

int fw_kern_version_parse(const char *release, struct fw_kern_version *v)
{
	struct fw_kern_version r = { 0, 0, 0 };
	const char *p = release;

	if (!p || fw_kern_number(&p, &r.major) || *p++ != '.' ||
	    fw_kern_number(&p, &r.minor))
		return -EINVAL;
	if (*p == '.' && p[1] >= '0' && p[1] <= '9') {
		p++;
		if (fw_kern_number(&p, &r.patch))
			return -EINVAL;
	}
	*v = r;
	return 0;
}

bool fw_kern_version_supported(const struct fw_kern_version *v)
{
	return v->major > FW_KERN_MIN_MAJOR ||
	       (v->major == FW_KERN_MIN_MAJOR && v->minor >= FW_KERN_MIN_MINOR);
}

/* ----------------------------------------------------------------- probes */

/*
 * One probe: 0 when the kernel has @f, -EOPNOTSUPP when not, -EPERM when
 * the kernel did not let us ask. libbpf's probes (1.1) answer 0 for any
 * failed load or map creation, EPERM included; errno is still the
 * syscall's then (nothing after the syscall sets it).
 */
static int fw_kern_probe_one(const struct fw_kern_feature *f)
{
	int ret;

	errno = 0;
	switch (f->kind) {
	case FW_KERN_PROG_TYPE:
		ret = libbpf_probe_bpf_prog_type(f->type, NULL);
		break;
	case FW_KERN_MAP_TYPE:
		ret = libbpf_probe_bpf_map_type(f->type, NULL);
		break;
	default:
		ret = libbpf_probe_bpf_helper(f->type, f->helper, NULL);
		break;
	}
	if (ret == 1)
		return 0;
	if (ret == -EPERM || (!ret && errno == EPERM))
		return -EPERM;
	return ret ? ret : -EOPNOTSUPP;
}

/*
 * Can this process use bpf(2) at all? An array map exists on every kernel
 * with BPF, so its creation fails for privileges (or a seccomp filter),
 * not for a missing feature.
 */
static int fw_kern_probe_access(void)
{
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, sizeof(__u32),
			    sizeof(__u32), 1, NULL);
	if (fd < 0)
		return errno == EPERM ? -EPERM : 0;
	close(fd);
	return 0;
}

int fw_kern_probe(const char *release, unsigned int flags,
		  struct fw_kern_status *st)
{
	struct fw_kern_version v;
	struct utsname u;
	size_t i;
	int ret;

	memset(st, 0, sizeof(*st));
	if (!release) {
		if (uname(&u)) {
			ret = -errno;
			st->problem = FW_KERN_PROBE_FAILED;
			goto out;
		}
		release = u.release;
	}
	/* cppcheck-suppress nullPointerRedundantCheck ; uname() set it */
	snprintf(st->release, sizeof(st->release), "%s", release);

	/* 1. The version. */
	ret = fw_kern_version_parse(release, &v);
	if (ret || !fw_kern_version_supported(&v)) {
		if (flags & FW_KERN_SKIP_VERSION) {
			st->untested = true;
		} else {
			st->problem = ret ? FW_KERN_VERSION_UNKNOWN :
					    FW_KERN_TOO_OLD;
			ret = ret ? ret : -EOPNOTSUPP;
			goto out;
		}
	}

	/* 2. BTF: CO-RE relocations and the verifier's view of kernel
	 * types need it. */
	if (access(FW_KERN_BTF, R_OK)) {
		ret = -errno;
		st->problem = FW_KERN_NO_BTF;
		goto out;
	}

	/* 3. Program types, map types, helpers. */
	ret = fw_kern_probe_access();
	if (ret) {
		st->problem = FW_KERN_NO_PRIVILEGE;
		goto out;
	}
	for (i = 0; i < FW_ARRAY_SIZE(fw_kern_features); i++) {
		ret = fw_kern_probe_one(&fw_kern_features[i]);
		if (!ret)
			continue;
		st->feature = &fw_kern_features[i];
		if (ret == -EOPNOTSUPP)
			st->problem = FW_KERN_MISSING;
		else if (ret == -EPERM)
			st->problem = FW_KERN_NO_PRIVILEGE;
		else
			st->problem = FW_KERN_PROBE_FAILED;
		goto out;
	}
	ret = 0;
out:
	st->err = ret;
	return ret;
}

static const char *fw_kern_prog_type_name(int type)
{
	switch (type) {
	case BPF_PROG_TYPE_XDP:
		return "XDP";
	case BPF_PROG_TYPE_SCHED_CLS:
		return "tc";
	case BPF_PROG_TYPE_SYSCALL:
		return "syscall";
	default:
		return "BPF";
	}
}

void fw_kern_message(const struct fw_kern_status *st, char *buf, size_t size)
{
	const struct fw_kern_feature *f = st->feature;

	switch (st->problem) {
	case FW_KERN_OK:
		snprintf(buf, size, "%s", "");
		break;
	case FW_KERN_TOO_OLD:
		snprintf(
			buf, size,
			"this kernel (%s) is older than Linux " FW_KERN_MIN_NAME
			", the oldest plumwall supports",
			st->release);
		break;
	case FW_KERN_VERSION_UNKNOWN:
		snprintf(
			buf, size,
			"cannot tell the version of this kernel (%s); plumwall needs Linux " FW_KERN_MIN_NAME
			" or later (" FW_KERN_SKIP_ENV "=1 skips this check)",
			st->release);
		break;
	case FW_KERN_NO_BTF:
		snprintf(
			buf, size,
			"this kernel has no BTF (" FW_KERN_BTF
			": CONFIG_DEBUG_INFO_BTF); plumwall needs Linux " FW_KERN_MIN_NAME
			" or later built with BTF");
		break;
	case FW_KERN_MISSING:
		if (f->kind == FW_KERN_HELPER)
			snprintf(
				buf, size,
				"this kernel has no BPF helper %s for %s programs; plumwall needs Linux " FW_KERN_MIN_NAME
				" or later with it",
				f->name, fw_kern_prog_type_name(f->type));
		else
			snprintf(
				buf, size,
				"this kernel has no %s (%s); plumwall needs Linux " FW_KERN_MIN_NAME
				" or later with it",
				f->what, f->name);
		break;
	case FW_KERN_NO_PRIVILEGE:
		snprintf(
			buf, size,
			"the kernel does not let this process use BPF (%s); " FW_KERN_PRIV_HINT,
			strerror(EPERM));
		break;
	default:
		snprintf(buf, size,
			 "cannot probe the kernel's BPF features%s%s: %s",
			 f ? " for " : "", f ? f->name : "",
			 strerror(st->err < 0 ? -st->err : EIO));
		break;
	}
}

void fw_kern_warning(const struct fw_kern_status *st, char *buf, size_t size)
{
	if (!st->untested)
		snprintf(buf, size, "%s", "");
	else
		snprintf(
			buf, size,
			"warning: this kernel (%s) is untested (plumwall supports Linux " FW_KERN_MIN_NAME
			" or later); trying it because " FW_KERN_SKIP_ENV "=1",
			st->release);
}

static struct {
	bool done;
	bool warned;
	int ret;
	struct fw_kern_status st;
} fw_kern_cache;

int fw_kern_check(char *msg, size_t size, char *warn, size_t wsize)
{
	const char *skip;

	if (!fw_kern_cache.done) {
		skip = getenv(FW_KERN_SKIP_ENV);
		fw_kern_cache.ret = fw_kern_probe(
			NULL,
			skip && !strcmp(skip, "1") ? FW_KERN_SKIP_VERSION : 0,
			&fw_kern_cache.st);
		fw_kern_cache.done = true;
	}
	if (fw_kern_cache.st.untested && !fw_kern_cache.warned) {
		fw_kern_warning(&fw_kern_cache.st, warn, wsize);
		fw_kern_cache.warned = true;
	} else {
		snprintf(warn, wsize, "%s", "");
	}
	fw_kern_message(&fw_kern_cache.st, msg, size);
	return fw_kern_cache.ret;
}

int fw_kern_require(const char *prog)
{
	char msg[512], warn[512];
	int ret;

	ret = fw_kern_check(msg, sizeof(msg), warn, sizeof(warn));
	if (warn[0])
		fprintf(stderr, "%s: %s\n", prog, warn);
	if (ret)
		fprintf(stderr, "%s: %s\n", prog, msg);
	return ret;
}

/* ------------------------------------------------------------ load failure */

#define FW_KERN_LOG_BEGIN "-- BEGIN PROG LOAD LOG --"
#define FW_KERN_LOG_END "-- END PROG LOAD LOG --"

/* Lines that sum the verification up rather than say what failed. */
static bool fw_kern_log_statistic(const char *line, size_t n)
{
	static const char *const stats[] = {
		"processed ",
		"verification time ",
		"stack depth ",
	};
	size_t i, k;

	for (i = 0; i < FW_ARRAY_SIZE(stats); i++) {
		k = strlen(stats[i]);
		if (n >= k && !memcmp(line, stats[i], k))
			return true;
	}
	return false;
}

int fw_kern_log_reason(const char *log, size_t len, char *line, size_t size)
{
	const char *end = log + len, *start;
	size_t n;

	while (end > log) {
		/* the line before @end, without its trailing blanks */
		start = end;
		while (start > log && start[-1] != '\n')
			start--;
		n = (size_t)(end - start);
		while (n && (start[n - 1] == '\n' || start[n - 1] == '\r' ||
			     start[n - 1] == ' ' || start[n - 1] == '\t'))
			n--;
		end = start > log ? start - 1 : log;
		if (!n || fw_kern_log_statistic(start, n))
			continue;
		if (n >= size)
			n = size - 1;
		memcpy(line, start, n);
		line[n] = '\0';
		return 0;
	}
	return -ENOENT;
}

/* The last occurrence of @needle in @hay, or NULL. */
static const char *fw_kern_memrmem(const char *hay, size_t len,
				   const char *needle)
{
	const char *p = hay, *last = NULL, *f;
	size_t n = strlen(needle);

	while ((f = memmem(p, len - (size_t)(p - hay), needle, n))) {
		last = f;
		p = f + 1;
	}
	return last;
}

/* The verifier's log inside libbpf's output (all of @log without the
 * markers). Returns its length; 0 when there is none. */
static size_t fw_kern_log_part(const char *log, size_t len, const char **part)
{
	const char *b, *e, *nl;
	bool marked = false;

	*part = log;
	b = fw_kern_memrmem(log, len, FW_KERN_LOG_BEGIN);
	if (b) {
		nl = memchr(b, '\n', len - (size_t)(b - log));
		*part = nl ? nl + 1 : log + len;
		marked = true;
	}
	e = memmem(*part, len - (size_t)(*part - log), FW_KERN_LOG_END,
		   strlen(FW_KERN_LOG_END));
	if (e)
		marked = true;
	else
		e = log + len;
	/* libbpf's output without the markers carries no verifier log,
	 * except when it is the log itself (no "libbpf: " lines). */
	if (!marked && memmem(log, len, "libbpf: ", 8))
		return 0;
	return (size_t)(e - *part);
}

static int fw_kern_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fw_kern_write_log(int fd, const char *log, size_t len,
			     size_t dropped)
{
	char head[128];
	int ret = 0;

	if (dropped) {
		snprintf(
			head, sizeof(head),
			"[the first %zu bytes of libbpf's output were dropped]\n",
			dropped);
		ret = fw_kern_write_all(fd, head, strlen(head));
	}
	if (!ret)
		ret = fw_kern_write_all(fd, log, len);
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

/* @c as part of a file name: letters, digits and '_' as they are. */
static char fw_kern_file_char(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_')
		return c;
	return '_';
}

void fw_kern_verifier_message(const char *prog, const char *log, size_t len,
			      size_t dropped, char *msg, size_t size)
{
	char name[64], path[PATH_MAX], tmp[PATH_MAX], reason[256];
	const char *part, *verbose;
	size_t i, plen;
	int fd, ret;

	/* The program name is libbpf's report, so it is made a safe file
	 * name rather than trusted. */
	for (i = 0; i < sizeof(name) - 1 && prog[i]; i++)
		name[i] = fw_kern_file_char(prog[i]);
	name[i] = '\0';
	plen = fw_kern_log_part(log, len, &part);
	if (!plen || fw_kern_log_reason(part, plen, reason, sizeof(reason)))
		snprintf(reason, sizeof(reason), "%s",
			 "the log gives no reason");
	verbose = fw_bpflog_verbose() ? "printed above" : "--verbose prints it";

	if (!FW_RT_STATE_DIR[0])
		fw_rt_paths_set(NULL, NULL);
	snprintf(path, sizeof(path), "%s/verifier-%s.log", FW_RT_STATE_DIR,
		 name);
	ret = fw_rt_mkdirs(FW_RT_STATE_DIR);
	if (!ret) {
		fd = open(path,
			  O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
			  0600);
		ret = fd < 0 ? -errno :
			       fw_kern_write_log(fd, log, len, dropped);
	}
	if (!ret) {
		snprintf(
			msg, size,
			"the kernel's verifier refused the datapath program %s: %s; full log in %s (%s)",
			prog, reason, path, verbose);
		return;
	}
	/* Not where the user looks first, but better than nowhere: a new
	 * file (mkstemps), never one someone else made. */
	snprintf(tmp, sizeof(tmp), "/tmp/plumwall-verifier-%s-XXXXXX.log",
		 name);
	fd = mkstemps(tmp, 4);
	if (fd >= 0 && !fw_kern_write_log(fd, log, len, dropped)) {
		snprintf(
			msg, size,
			"the kernel's verifier refused the datapath program %s: %s; cannot write %s (%s), full log in %s (%s)",
			prog, reason, path, strerror(-ret), tmp, verbose);
		return;
	}
	if (fd >= 0)
		unlink(tmp);
	snprintf(
		msg, size,
		"the kernel's verifier refused the datapath program %s: %s; cannot write %s (%s), %s",
		prog, reason, path, strerror(-ret),
		fw_bpflog_verbose() ? "the full log is printed above" :
				      "rerun with --verbose for the full log");
}

int fw_kern_load_message(int err, char *msg, size_t size)
{
	const struct fw_bpflog_failure *f = fw_bpflog_failure();
	const char *text, *part, *hint;
	size_t len, dropped;
	int e = err < 0 ? -err : EIO;

	hint = e == EPERM ? "; " FW_KERN_PRIV_HINT : "";
	if (err == -EPROTO || f->pinned[0]) {
		snprintf(
			msg, size,
			"the maps pinned under %s do not match this plumwall's layout (v%d); run 'plumwall down' first",
			FW_RT_MAPS, PW_LAYOUT_VERSION);
		return FW_EXIT_STATE;
	}
	if (f->prog[0]) {
		text = fw_bpflog_text(&len, &dropped);
		if (fw_kern_log_part(text, len, &part)) {
			fw_kern_verifier_message(f->prog, text, len, dropped,
						 msg, size);
			return FW_EXIT_STATE;
		}
		snprintf(
			msg, size,
			"the kernel could not load the datapath program %s: %s%s",
			f->prog, strerror(e), hint);
	} else if (f->map[0]) {
		snprintf(
			msg, size,
			"the kernel could not create the datapath map %s: %s%s",
			f->map, strerror(e), hint);
	} else {
		snprintf(msg, size, "cannot load the datapath: %s%s",
			 strerror(e), hint);
	}
	return e == EPERM ? FW_EXIT_STATE : FW_EXIT_REFUSED;
}
