// SPDX-License-Identifier: GPL-2.0
/*
 * What plumwall says about the kernel (fw/kernel.h, fw/bpflog.h): the
 * release parser on many release strings, the minimum version, every
 * one-line message, the verifier log's telling line, libbpf's output kept
 * bounded with the failed program or map noted, the layout directories
 * that count as foreign and the pin root check (fw/runtime.h).
 *
 * As root also the kernel itself: the probes pass here, a process without
 * BPF privileges (a user namespace) is told so rather than told a feature
 * is missing, the probe table covers every helper and map type of the
 * loaded programs, and two real verifier refusals (a raw program reading
 * an uninitialised register; the XDP program loaded as a tc program,
 * through libbpf and the print callback) come out as one line naming the
 * program and a line of the log, with the whole log in the file.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

/* Before the skeleton: its globals have types of shared.h. */
#include <plumwall/shared.h>

#include "bpf/plumwall.skel.h"
#include "fw/bpflog.h"
#include "fw/fw.h"
#include "fw/kernel.h"
#include "fw/runtime.h"
#include "fixtures.h"

/* The pinned layout's directory name: "v" PW_LAYOUT_VERSION */
#define LAYOUT_STR2(x) #x
#define LAYOUT_STR(x) LAYOUT_STR2(x)
#define LAYOUT "v" LAYOUT_STR(PW_LAYOUT_VERSION)

static char tmpdir[64];

static void tmp_setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/plumwall-kernel.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
	fixture_remove_tree(tmpdir);
}

/* The whole of the file @path (malloc'd, NUL-terminated). */
static char *read_all(const char *path, size_t *len)
{
	char *buf = NULL;
	FILE *f;
	long n;

	f = fopen(path, "r");
	ck_assert_msg(f, "%s: %s", path, strerror(errno));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(fread(buf, 1, (size_t)n, f), n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void touch(const char *dir, const char *name, bool is_dir)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (is_dir) {
		ck_assert_int_eq(mkdir(path, 0700), 0);
		return;
	}
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static bool exists(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return !access(path, F_OK);
}

/* ---- the release parser ------------------------------------------------ */

static const struct {
	const char *release;
	int ok;
	unsigned int major, minor, patch;
} releases[] = {
	/* distributions */
	{ "6.1.0-57-amd64", 1, 6, 1, 0 }, /* Debian 12 */
	{ "6.12.48+deb13-amd64", 1, 6, 12, 48 }, /* Debian 13 */
	{ "5.10.0-32-amd64", 1, 5, 10, 0 }, /* Debian 11 */
	{ "5.14.0-427.el9.x86_64", 1, 5, 14, 0 }, /* RHEL 9 */
	{ "5.15.0-91-generic", 1, 5, 15, 0 }, /* Ubuntu 22.04 */
	{ "6.7.5-200.fc39.x86_64", 1, 6, 7, 5 }, /* Fedora */
	{ "6.7.4-arch1-1", 1, 6, 7, 4 },
	{ "6.1.21-v8+", 1, 6, 1, 21 }, /* Raspberry Pi */
	{ "5.15.146.1-microsoft-standard-WSL2", 1, 5, 15, 146 },
	{ "4.4.0-19041-Microsoft", 1, 4, 4, 0 },
	{ "6.18.44-fc-v1147", 1, 6, 18, 44 },
	/* odd but versions */
	{ "6.1", 1, 6, 1, 0 },
	{ "6.1-rc3", 1, 6, 1, 0 },
	{ "6.6.0-rc1+", 1, 6, 6, 0 },
	{ "6.10.0", 1, 6, 10, 0 }, /* 6.10, not 6.1 */
	{ "6.01.0", 1, 6, 1, 0 },
	{ "6.1.", 1, 6, 1, 0 },
	{ "6.1.x", 1, 6, 1, 0 },
	{ "6.1_custom", 1, 6, 1, 0 },
	{ "10.0.0", 1, 10, 0, 0 },
	{ "7.0.0-0-generic", 1, 7, 0, 0 },
	/* not versions */
	{ "", 0, 0, 0, 0 },
	{ "6", 0, 0, 0, 0 },
	{ "6.", 0, 0, 0, 0 },
	{ ".1", 0, 0, 0, 0 },
	{ "v6.1", 0, 0, 0, 0 },
	{ " 6.1", 0, 0, 0, 0 },
	{ "6.x", 0, 0, 0, 0 },
	{ "6-1", 0, 0, 0, 0 },
	{ "linux", 0, 0, 0, 0 },
	{ "999999.1", 0, 0, 0, 0 },
	{ "6.999999", 0, 0, 0, 0 },
	{ "6.1.999999", 0, 0, 0, 0 },
};

START_TEST(test_version_parse)
{
	const char *r = releases[_i].release;
	struct fw_kern_version v = { 77, 77, 77 };
	int ret = fw_kern_version_parse(r, &v);

	if (!releases[_i].ok) {
		ck_assert_msg(ret == -EINVAL, "'%s' parsed as %u.%u.%u", r,
			      v.major, v.minor, v.patch);
		/* a refusal leaves the result alone */
		ck_assert_uint_eq(v.major, 77);
		return;
	}
	ck_assert_msg(ret == 0, "'%s' refused", r);
	ck_assert_msg(v.major == releases[_i].major &&
			      v.minor == releases[_i].minor &&
			      v.patch == releases[_i].patch,
		      "'%s' parsed as %u.%u.%u", r, v.major, v.minor, v.patch);
}
END_TEST

START_TEST(test_version_null)
{
	struct fw_kern_version v;

	ck_assert_int_eq(fw_kern_version_parse(NULL, &v), -EINVAL);
}
END_TEST

START_TEST(test_version_minimum)
{
	static const struct {
		const char *release;
		bool supported;
	} cases[] = {
		{ "3.10.0-1160.el7.x86_64", false },
		{ "4.19.0-27-amd64", false },
		{ "5.10.0-32-amd64", false },
		{ "5.14.0-427.el9.x86_64", false },
		{ "5.19.17", false },
		{ "6.0.19", false },
		{ "6.0.999", false },
		{ "6.1.0", true },
		{ "6.1", true },
		{ "6.1.0-57-amd64", true },
		{ "6.1.158", true },
		{ "6.2.0", true },
		{ "6.10.0", true },
		{ "6.12.48+deb13-amd64", true },
		{ "7.0.0", true },
		{ "10.0", true },
	};
	struct fw_kern_version v;
	size_t i;

	ck_assert_int_eq(FW_KERN_MIN_MAJOR, 6);
	ck_assert_int_eq(FW_KERN_MIN_MINOR, 1);
	for (i = 0; i < FW_ARRAY_SIZE(cases); i++) {
		ck_assert_int_eq(fw_kern_version_parse(cases[i].release, &v),
				 0);
		ck_assert_msg(fw_kern_version_supported(&v) ==
				      cases[i].supported,
			      "%s: supported %d", cases[i].release,
			      !cases[i].supported);
	}
}
END_TEST

/* The version is judged before anything else: no probe, no privilege. */
START_TEST(test_probe_too_old)
{
	struct fw_kern_status st;
	char msg[512];

	ck_assert_int_eq(fw_kern_probe("5.10.0-32-amd64", 0, &st), -EOPNOTSUPP);
	ck_assert_int_eq(st.problem, FW_KERN_TOO_OLD);
	ck_assert(!st.untested);
	fw_kern_message(&st, msg, sizeof(msg));
	ck_assert_str_eq(
		msg,
		"this kernel (5.10.0-32-amd64) is older than Linux 6.1, the oldest plumwall supports");

	ck_assert_int_eq(fw_kern_probe("6.0.19", 0, &st), -EOPNOTSUPP);
	fw_kern_message(&st, msg, sizeof(msg));
	ck_assert_str_eq(
		msg,
		"this kernel (6.0.19) is older than Linux 6.1, the oldest plumwall supports");

	ck_assert_int_eq(fw_kern_probe("linux-custom", 0, &st), -EINVAL);
	ck_assert_int_eq(st.problem, FW_KERN_VERSION_UNKNOWN);
	fw_kern_message(&st, msg, sizeof(msg));
	ck_assert_str_eq(
		msg,
		"cannot tell the version of this kernel (linux-custom); plumwall needs Linux 6.1 or later (PLUMWALL_SKIP_KERNEL_VERSION_CHECK=1 skips this check)");
}
END_TEST

/* ---- the messages ------------------------------------------------------ */

static void message_of(enum fw_kern_problem problem,
		       const struct fw_kern_feature *f, char *msg, size_t size)
{
	struct fw_kern_status st = { .problem = problem,
				     .err = -EOPNOTSUPP,
				     .feature = f };

	snprintf(st.release, sizeof(st.release), "%s", "6.1.0-57-amd64");
	fw_kern_message(&st, msg, size);
}

START_TEST(test_message_missing)
{
	const struct fw_kern_feature *f;
	char msg[512];

	f = fw_kern_feature_find(FW_KERN_MAP_TYPE, BPF_MAP_TYPE_RINGBUF, 0);
	ck_assert_ptr_nonnull(f);
	message_of(FW_KERN_MISSING, f, msg, sizeof(msg));
	ck_assert_str_eq(
		msg,
		"this kernel has no BPF ring buffer (BPF_MAP_TYPE_RINGBUF); plumwall needs Linux 6.1 or later with it");

	f = fw_kern_feature_find(FW_KERN_MAP_TYPE, BPF_MAP_TYPE_LPM_TRIE, 0);
	ck_assert_ptr_nonnull(f);
	message_of(FW_KERN_MISSING, f, msg, sizeof(msg));
	ck_assert_str_eq(
		msg,
		"this kernel has no BPF longest-prefix-match map (BPF_MAP_TYPE_LPM_TRIE); plumwall needs Linux 6.1 or later with it");

	f = fw_kern_feature_find(FW_KERN_PROG_TYPE, BPF_PROG_TYPE_SYSCALL, 0);
	ck_assert_ptr_nonnull(f);
	message_of(FW_KERN_MISSING, f, msg, sizeof(msg));
	ck_assert_str_eq(
		msg,
		"this kernel has no syscall BPF program type (BPF_PROG_TYPE_SYSCALL); plumwall needs Linux 6.1 or later with it");

	f = fw_kern_feature_find(FW_KERN_HELPER, BPF_PROG_TYPE_XDP,
				 BPF_FUNC_xdp_load_bytes);
	ck_assert_ptr_nonnull(f);
	message_of(FW_KERN_MISSING, f, msg, sizeof(msg));
	ck_assert_str_eq(
		msg,
		"this kernel has no BPF helper bpf_xdp_load_bytes for XDP programs; plumwall needs Linux 6.1 or later with it");

	f = fw_kern_feature_find(FW_KERN_HELPER, BPF_PROG_TYPE_SYSCALL,
				 BPF_FUNC_for_each_map_elem);
	ck_assert_ptr_nonnull(f);
	message_of(FW_KERN_MISSING, f, msg, sizeof(msg));
	ck_assert_str_eq(
		msg,
		"this kernel has no BPF helper bpf_for_each_map_elem for syscall programs; plumwall needs Linux 6.1 or later with it");

	/* only what the programs use is probed */
	ck_assert_ptr_null(fw_kern_feature_find(FW_KERN_MAP_TYPE,
						BPF_MAP_TYPE_STACK_TRACE, 0));
	ck_assert_ptr_null(fw_kern_feature_find(
		FW_KERN_HELPER, BPF_PROG_TYPE_XDP, BPF_FUNC_skb_load_bytes));
}
END_TEST

START_TEST(test_message_other)
{
	struct fw_kern_status st = { 0 };
	char msg[512];

	message_of(FW_KERN_NO_BTF, NULL, msg, sizeof(msg));
	ck_assert_str_eq(
		msg,
		"this kernel has no BTF (/sys/kernel/btf/vmlinux: CONFIG_DEBUG_INFO_BTF); plumwall needs Linux 6.1 or later built with BTF");
	message_of(FW_KERN_NO_PRIVILEGE, NULL, msg, sizeof(msg));
	ck_assert_str_eq(
		msg,
		"the kernel does not let this process use BPF (Operation not permitted); plumwall needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON in the initial user namespace");
	message_of(FW_KERN_OK, NULL, msg, sizeof(msg));
	ck_assert_str_eq(msg, "");

	/* the warning of PLUMWALL_SKIP_KERNEL_VERSION_CHECK=1 */
	snprintf(st.release, sizeof(st.release), "%s", "5.14.0-427.el9.x86_64");
	fw_kern_warning(&st, msg, sizeof(msg));
	ck_assert_str_eq(msg, "");
	st.untested = true;
	fw_kern_warning(&st, msg, sizeof(msg));
	ck_assert_str_eq(
		msg,
		"warning: this kernel (5.14.0-427.el9.x86_64) is untested (plumwall supports Linux 6.1 or later); trying it because PLUMWALL_SKIP_KERNEL_VERSION_CHECK=1");
}
END_TEST

/* ---- the verifier log's reason ------------------------------------------ */

START_TEST(test_log_reason)
{
	static const struct {
		const char *log;
		const char *reason; /* NULL: none */
	} cases[] = {
		{ "0: R1=ctx() R10=fp0\n0: (bf) r0 = r2\nR2 !read_ok\n"
		  "processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n",
		  "R2 !read_ok" },
		{ "2688: (05) goto pc-1\nback-edge from insn 2688 to 2688\n"
		  "processed 2689 insns (limit 1000000) max_states_per_insn 4 total_states 100 peak_states 100 mark_read 3\n\n",
		  "back-edge from insn 2688 to 2688" },
		{ "12: (71) r3 = *(u8 *)(r1 +0)\nR1 invalid mem access 'scalar'\r\n"
		  "verification time 41 usec\nstack depth 0+0\n"
		  "processed 13 insns (limit 1000000)\n",
		  "R1 invalid mem access 'scalar'" },
		{ "BPF program is too large. Processed 1000001 insn\n"
		  "processed 1000001 insns (limit 1000000) max_states_per_insn 9\n",
		  "BPF program is too large. Processed 1000001 insn" },
		{ "only one line without newline",
		  "only one line without newline" },
		{ "trailing blanks   \t\n\n\n", "trailing blanks" },
		{ "", NULL },
		{ "\n\n", NULL },
		{ "processed 1 insns (limit 1000000)\n", NULL },
	};
	char line[256];
	size_t i;
	int ret;

	for (i = 0; i < FW_ARRAY_SIZE(cases); i++) {
		ret = fw_kern_log_reason(cases[i].log, strlen(cases[i].log),
					 line, sizeof(line));
		if (!cases[i].reason) {
			ck_assert_msg(ret == -ENOENT, "case %zu: '%s'", i,
				      line);
			continue;
		}
		ck_assert_msg(ret == 0, "case %zu: no reason", i);
		ck_assert_str_eq(line, cases[i].reason);
	}
	/* cut to the buffer */
	ck_assert_int_eq(fw_kern_log_reason("abcdefgh\n", 9, line, 5), 0);
	ck_assert_str_eq(line, "abcd");
}
END_TEST

/* ---- libbpf's output ---------------------------------------------------- */

static void add(const char *text)
{
	fw_bpflog_add(text, strlen(text));
}

START_TEST(test_bpflog_failure)
{
	const struct fw_bpflog_failure *f = fw_bpflog_failure();
	const char *text;
	size_t len, dropped;

	fw_bpflog_begin();
	ck_assert_str_eq(f->prog, "");
	/* a verifier log line that looks like libbpf's is not libbpf's */
	add("libbpf: prog 'pw_tc_ingress': -- BEGIN PROG LOAD LOG --\n"
	    "prog 'evil': BPF program load failed: nope\n"
	    "-- END PROG LOAD LOG --\n");
	ck_assert_str_eq(f->prog, "pw_tc_ingress");
	add("libbpf: prog 'pw_xdp_ingress': BPF program load failed: Permission denied\n");
	ck_assert_str_eq(f->prog, "pw_xdp_ingress");
	ck_assert_str_eq(f->prog_error, "Permission denied");
	ck_assert_str_eq(f->map, "");
	add("libbpf: map 'pw_ct': failed to create: Cannot allocate memory(-12)\n");
	ck_assert_str_eq(f->map, "pw_ct");
	add("libbpf: couldn't reuse pinned map at '/sys/fs/bpf/x/v2/maps/pw_ct': parameter mismatch\n");
	ck_assert_str_eq(f->pinned, "/sys/fs/bpf/x/v2/maps/pw_ct");
	text = fw_bpflog_text(&len, &dropped);
	ck_assert_uint_eq(len, strlen(text));
	ck_assert_uint_eq(dropped, 0);
	ck_assert_ptr_nonnull(strstr(text, "prog 'evil'"));

	fw_bpflog_begin();
	text = fw_bpflog_text(&len, &dropped);
	ck_assert_str_eq(text, "");
	ck_assert_str_eq(f->prog, "");
	ck_assert_str_eq(f->map, "");
	ck_assert_str_eq(f->pinned, "");
}
END_TEST

/* What is kept stays within FW_BPFLOG_MAX, keeps the end and starts at a
 * line. */
START_TEST(test_bpflog_bound)
{
	static char line[4096], big[FW_BPFLOG_MAX + 100];
	const char *text;
	size_t len, dropped, i, n = 0;

	fw_bpflog_begin();
	memset(line, 'x', sizeof(line) - 2);
	line[sizeof(line) - 2] = '\n';
	for (i = 0; i < 2 * FW_BPFLOG_MAX / sizeof(line); i++)
		add(line);
	add("the end\n");
	text = fw_bpflog_text(&len, &dropped);
	ck_assert_uint_le(len, FW_BPFLOG_MAX);
	ck_assert_uint_gt(dropped, 0);
	ck_assert_uint_eq(len + dropped,
			  i * (sizeof(line) - 1) + strlen("the end\n"));
	ck_assert(text[0] == 'x');
	ck_assert_str_eq(text + len - 8, "the end\n");
	ck_assert_uint_eq((len - 8) % (sizeof(line) - 1), 0);

	/* one message bigger than everything: its end, from a line on */
	fw_bpflog_begin();
	while (n + 100 < sizeof(big) - 1) {
		memset(big + n, 'y', 99);
		big[n + 99] = '\n';
		n += 100;
	}
	big[n] = '\0';
	add("libbpf: prog 'pw_big': BPF program load failed: Permission denied\n");
	fw_bpflog_add(big, n);
	text = fw_bpflog_text(&len, &dropped);
	ck_assert_uint_le(len, FW_BPFLOG_MAX);
	ck_assert_uint_eq(len % 100, 0);
	ck_assert(text[0] == 'y');
	/* the failure noted before stays noted */
	ck_assert_str_eq(fw_bpflog_failure()->prog, "pw_big");
	fw_bpflog_begin();
}
END_TEST

/* ---- the one line for a failed load ------------------------------------- */

START_TEST(test_load_message)
{
	char msg[1024], run[128];

	snprintf(run, sizeof(run), "%s/run", tmpdir);
	ck_assert_int_eq(fw_rt_paths_set("/sys/fs/bpf/pw-test-kernel", run), 0);

	/* -EINVAL with nothing noted is what it is, not a layout mismatch */
	fw_bpflog_begin();
	ck_assert_int_eq(fw_kern_load_message(-EINVAL, msg, sizeof(msg)),
			 FW_EXIT_REFUSED);
	ck_assert_str_eq(msg, "cannot load the datapath: Invalid argument");

	ck_assert_int_eq(fw_kern_load_message(-EPROTO, msg, sizeof(msg)),
			 FW_EXIT_STATE);
	ck_assert_str_eq(
		msg, "the maps pinned under /sys/fs/bpf/pw-test-kernel/" LAYOUT
		     "/maps do not match this plumwall's layout (" LAYOUT
		     "); run 'plumwall down' first");

	/* a program the kernel refused without a log */
	add("libbpf: prog 'pw_xdp_ingress': BPF program load failed: Cannot allocate memory\n");
	ck_assert_int_eq(fw_kern_load_message(-ENOMEM, msg, sizeof(msg)),
			 FW_EXIT_REFUSED);
	ck_assert_str_eq(
		msg,
		"the kernel could not load the datapath program pw_xdp_ingress: Cannot allocate memory");
	ck_assert_int_eq(fw_kern_load_message(-EPERM, msg, sizeof(msg)),
			 FW_EXIT_STATE);
	ck_assert_str_eq(
		msg,
		"the kernel could not load the datapath program pw_xdp_ingress: Operation not permitted; plumwall needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON in the initial user namespace");

	fw_bpflog_begin();
	add("libbpf: map 'pw_ct': failed to create: Cannot allocate memory(-12)\n");
	ck_assert_int_eq(fw_kern_load_message(-ENOMEM, msg, sizeof(msg)),
			 FW_EXIT_REFUSED);
	ck_assert_str_eq(
		msg,
		"the kernel could not create the datapath map pw_ct: Cannot allocate memory");

	/* libbpf refusing a pinned map is a map of another layout */
	fw_bpflog_begin();
	add("libbpf: couldn't reuse pinned map at '/x/pw_ct': parameter mismatch\n");
	ck_assert_int_eq(fw_kern_load_message(-EINVAL, msg, sizeof(msg)),
			 FW_EXIT_STATE);
	ck_assert_ptr_nonnull(
		strstr(msg, "do not match this plumwall's layout"));
	ck_assert_int_eq(access(run, F_OK), -1); /* no log file for these */
	fw_bpflog_begin();
}
END_TEST

static const char refusal[] =
	"libbpf: loading object 'plumwall_bpf' from buffer\n"
	"libbpf: prog 'pw_bad_prog': BPF program load failed: Permission denied\n"
	"libbpf: prog 'pw_bad_prog': -- BEGIN PROG LOAD LOG --\n"
	"0: R1=ctx() R10=fp0\n0: (bf) r0 = r2\nR2 !read_ok\n"
	"processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n"
	"-- END PROG LOAD LOG --\n"
	"libbpf: prog 'pw_bad_prog': failed to load: -13\n";

/* Through fw_bpflog, as a command sees it; the run directory made 0700 */
START_TEST(test_load_message_verifier)
{
	char msg[1024], run[128], path[256], want[512], *file;
	struct stat st;
	size_t len;

	snprintf(run, sizeof(run), "%s/run/sub", tmpdir);
	ck_assert_int_eq(fw_rt_paths_set(NULL, run), 0);
	fw_bpflog_begin();
	add(refusal);
	ck_assert_int_eq(fw_kern_load_message(-EACCES, msg, sizeof(msg)),
			 FW_EXIT_STATE);
	snprintf(path, sizeof(path), "%s/verifier-pw_bad_prog.log", run);
	snprintf(
		want, sizeof(want),
		"the kernel's verifier refused the datapath program pw_bad_prog: R2 !read_ok; full log in %s (--verbose prints it)",
		path);
	ck_assert_str_eq(msg, want);
	file = read_all(path, &len);
	ck_assert_str_eq(file, refusal);
	free(file);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(stat(run, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	fw_bpflog_begin();
}
END_TEST

/* The run directory cannot be written: the line says so and where the log
 * went instead. */
START_TEST(test_verifier_message_fallback)
{
	char msg[1024], run[128], *tmp, *end, *file;
	size_t len;

	/* a regular file where a directory should be: mkdir fails, even
	 * for root */
	touch(tmpdir, "file", false);
	snprintf(run, sizeof(run), "%s/file/run", tmpdir);
	ck_assert_int_eq(fw_rt_paths_set(NULL, run), 0);
	fw_kern_verifier_message("pw_bad_prog", refusal, strlen(refusal), 0,
				 msg, sizeof(msg));
	ck_assert_msg(
		strstr(msg,
		       "the kernel's verifier refused the datapath program pw_bad_prog: R2 !read_ok; cannot write ") ==
			msg,
		"%s", msg);
	ck_assert_ptr_nonnull(strstr(
		msg,
		"/file/run/verifier-pw_bad_prog.log (Not a directory), full log in /tmp/plumwall-verifier-pw_bad_prog-"));
	ck_assert_ptr_nonnull(strstr(msg, ".log (--verbose prints it)"));
	tmp = strstr(msg, "full log in ") + strlen("full log in ");
	end = strstr(tmp, " (--verbose");
	*end = '\0';
	file = read_all(tmp, &len);
	ck_assert_str_eq(file, refusal);
	free(file);
	unlink(tmp);
}
END_TEST

/* ---- the state documents' JSON ------------------------------------------ */

/* fw_rt_json_write()'s bytes for @doc, as a string. */
static char *json_written(const json_t *doc)
{
	char path[256];
	size_t len;
	char *text;
	int fd;

	snprintf(path, sizeof(path), "%s/doc.json", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fw_rt_json_write(doc, fd), 0);
	close(fd);
	text = read_all(path, &len);
	ck_assert_uint_eq(strlen(text), len);
	unlink(path);
	return text;
}

/* The hand-written state writer gives jansson's compact bytes: every
 * escape, keys in insertion order, integers at both ends, what it leaves
 * to jansson (reals, text past ASCII in values and keys), nesting, a
 * document bigger than its buffer. */
START_TEST(test_state_json_as_jansson)
{
	json_t *doc = json_object(), *arr = json_array(), *o;
	char ctl[40], key[16], *ours, *theirs;
	int i;

	for (i = 0; i < 32; i++)
		ctl[i] = (char)(i + 1 < 32 ? i + 1 : 'x');
	memcpy(ctl + 31, "\"\\/\x7f", 5);
	json_object_set_new(doc, "zeta", json_integer(1));
	json_object_set_new(doc, "alpha", json_stringn(ctl, 36));
	json_object_set_new(doc, "tab\tkey\"",
			    json_string("caf\xc3\xa9 \xe2\x82\xac"));
	json_object_set_new(doc, "cl\xc3\xa9", json_true());
	json_object_set_new(doc, "min", json_integer(INT64_MIN));
	json_object_set_new(doc, "max", json_integer(INT64_MAX));
	json_object_set_new(doc, "neg", json_integer(-42));
	json_object_set_new(doc, "zero", json_integer(0));
	json_object_set_new(doc, "real", json_real(0.1));
	json_object_set_new(doc, "nothing", json_null());
	json_object_set_new(doc, "no", json_false());
	json_object_set_new(doc, "empty", json_object());
	json_object_set_new(doc, "none", json_array());
	json_object_set_new(doc, "nul", json_stringn("a\0b", 3));
	for (i = 0; i < 20000; i++) {
		o = json_object();
		snprintf(key, sizeof(key), "r%d", i);
		json_object_set_new(o, "id", json_integer(i));
		json_object_set_new(o, "name", json_string(key));
		json_object_set_new(o, "counts",
				    json_pack("[iiii]", i, i * 7, -i, 0));
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "rules", arr);
	o = json_array();
	for (i = 0; i < 100; i++)
		o = json_pack("[o]", o);
	json_object_set_new(doc, "deep", o);

	ours = json_written(doc);
	theirs = json_dumps(doc, JSON_COMPACT);
	ck_assert_ptr_nonnull(theirs);
	ck_assert_uint_gt(strlen(theirs), 64 * 1024);
	ck_assert_str_eq(ours, theirs);
	free(ours);
	free(theirs);
	json_decref(doc);
}
END_TEST

/* ---- layout directories and the pin root --------------------------------- */

START_TEST(test_foreign_layout)
{
	char name[64] = "", run[128];

	snprintf(run, sizeof(run), "%s/run", tmpdir);
	ck_assert_int_eq(fw_rt_paths_set(tmpdir, run), 0);
	ck_assert(fw_rt_layout_name("v1"));
	ck_assert(fw_rt_layout_name("v10"));
	ck_assert(!fw_rt_layout_name("v"));
	ck_assert(!fw_rt_layout_name("v1a"));
	ck_assert(!fw_rt_layout_name("maps.debug"));
	ck_assert(!fw_rt_layout_name("V1"));

	/* what a fresh bpffs mount root holds, and other things that are
	 * not a plumwall's */
	touch(tmpdir, "maps.debug", false);
	touch(tmpdir, "progs.debug", false);
	touch(tmpdir, "progs.iter", false);
	touch(tmpdir, "vfoo", true);
	touch(tmpdir, "v9", false); /* a file, not a layout */
	ck_assert_int_eq(fw_rt_foreign_layout(name, sizeof(name)), 0);
	ck_assert(!fw_rt_loaded());
	touch(tmpdir, LAYOUT, true); /* ours */
	ck_assert_int_eq(fw_rt_foreign_layout(name, sizeof(name)), 0);
	ck_assert(fw_rt_loaded());
	touch(tmpdir, "v1", true);
	ck_assert_int_eq(fw_rt_foreign_layout(name, sizeof(name)), 1);
	ck_assert_str_eq(name, "v1");

	/* down: every layout goes, what is not plumwall's stays, and so
	 * does the root that holds it, without an error */
	touch(tmpdir, "v1/maps", true);
	touch(tmpdir, "v1/maps/pw_config", false);
	ck_assert_int_eq(fw_rt_remove_pins(), 0);
	ck_assert(!exists(tmpdir, "v1"));
	ck_assert(!exists(tmpdir, LAYOUT));
	ck_assert(exists(tmpdir, "maps.debug"));
	ck_assert(exists(tmpdir, "vfoo"));
	ck_assert(exists(tmpdir, "v9"));
	ck_assert(!fw_rt_loaded());
}
END_TEST

START_TEST(test_remove_pins_root)
{
	char root[128];

	/* an empty root goes, a missing one is no error */
	snprintf(root, sizeof(root), "%s/pins", tmpdir);
	ck_assert_int_eq(fw_rt_paths_set(root, tmpdir), 0);
	ck_assert_int_eq(mkdir(root, 0700), 0);
	touch(root, LAYOUT, true);
	ck_assert_int_eq(fw_rt_remove_pins(), 0);
	ck_assert_int_eq(access(root, F_OK), -1);
	ck_assert_int_eq(fw_rt_remove_pins(), 0);
}
END_TEST

/* A pin root not on a bpffs, existing or not (then its nearest existing
 * ancestor counts). */
START_TEST(test_bpffs_refused)
{
	char root[128];

	ck_assert_int_eq(fw_rt_paths_set(tmpdir, tmpdir), 0);
	ck_assert_int_eq(fw_rt_bpffs(), -EMEDIUMTYPE);
	snprintf(root, sizeof(root), "%s/not/yet", tmpdir);
	ck_assert_int_eq(fw_rt_paths_set(root, tmpdir), 0);
	ck_assert_int_eq(fw_rt_bpffs(), -EMEDIUMTYPE);
	ck_assert_int_eq(access(root, F_OK), -1);
}
END_TEST

/* ---- the running kernel (root) ------------------------------------------- */

START_TEST(test_probe_running)
{
	struct fw_kern_status st;
	char msg[512];
	int ret;

	ret = fw_kern_probe(NULL, 0, &st);
	fw_kern_message(&st, msg, sizeof(msg));
	ck_assert_msg(ret == 0, "%s", msg);
	ck_assert_int_eq(st.problem, FW_KERN_OK);
	ck_assert(!st.untested);

	/* the escape hatch: the version is not judged, the features are */
	ck_assert_int_eq(fw_kern_probe("5.14.0-427.el9.x86_64",
				       FW_KERN_SKIP_VERSION, &st),
			 0);
	ck_assert(st.untested);
	ck_assert_int_eq(
		fw_kern_probe("6.1.0-57-amd64", FW_KERN_SKIP_VERSION, &st), 0);
	ck_assert(!st.untested);
}
END_TEST

/*
 * In a new user namespace the process has every capability there (so
 * fw_command_ready() is satisfied) but none for bpf(2): the probes get
 * EPERM, which must read as privileges, not as a missing feature.
 */
START_TEST(test_probe_eperm)
{
	struct fw_kern_status st;
	char msg[512];
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid) {
		close(fds[0]);
		if (unshare(CLONE_NEWUSER))
			_exit(2);
		status = fw_kern_probe(NULL, 0, &st);
		fw_kern_message(&st, msg, sizeof(msg));
		if (write(fds[1], msg, strlen(msg) + 1) < 0)
			_exit(3);
		_exit(status == -EPERM && st.problem == FW_KERN_NO_PRIVILEGE ?
			      0 :
			      1);
	}
	close(fds[1]);
	n = read(fds[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "exit %d: %s", WEXITSTATUS(status), msg);
	ck_assert_str_eq(
		msg,
		"the kernel does not let this process use BPF (Operation not permitted); plumwall needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON in the initial user namespace");
}
END_TEST

/* Every helper each loaded program calls (its subprograms appended by
 * libbpf) and every map type is in the probe table: a helper added in
 * bpf/ without a probe would leave old kernels with libbpf's noise. */
START_TEST(test_table_covers_programs)
{
	const struct bpf_insn *insn;
	struct plumwall_bpf *s;
	struct bpf_program *p;
	struct bpf_map *m;
	size_t i, n, calls = 0;

	s = plumwall_bpf__open_and_load();
	ck_assert_ptr_nonnull(s);
	bpf_object__for_each_program(p, s->obj) {
		enum bpf_prog_type t = bpf_program__type(p);

		ck_assert_msg(fw_kern_feature_find(FW_KERN_PROG_TYPE, t, 0),
			      "%s: program type %d not probed",
			      bpf_program__name(p), t);
		insn = bpf_program__insns(p);
		n = bpf_program__insn_cnt(p);
		for (i = 0; i < n; i++) {
			if (insn[i].code != (BPF_JMP | BPF_CALL) ||
			    insn[i].src_reg != 0)
				continue;
			calls++;
			ck_assert_msg(
				fw_kern_feature_find(FW_KERN_HELPER, t,
						     insn[i].imm),
				"%s: helper #%d not probed for program type %d",
				bpf_program__name(p), insn[i].imm, t);
		}
	}
	ck_assert_uint_gt(calls, 0);
	bpf_object__for_each_map(m, s->obj) {
		if (bpf_map__is_internal(m))
			continue;
		ck_assert_msg(fw_kern_feature_find(FW_KERN_MAP_TYPE,
						   bpf_map__type(m), 0),
			      "map %s: type %d not probed", bpf_map__name(m),
			      bpf_map__type(m));
	}
	plumwall_bpf__destroy(s);
}
END_TEST

/* A raw program that reads an uninitialised register: the kernel's own
 * log, fed through the reporting function. */
START_TEST(test_verifier_raw)
{
	struct bpf_insn insns[] = {
		/* r0 = r2: r2 was never written */
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X,
		  .dst_reg = 0,
		  .src_reg = 2 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	static char log[65536];
	LIBBPF_OPTS(bpf_prog_load_opts, o, .log_buf = log,
		    .log_size = sizeof(log), .log_level = 1);
	char msg[1024], run[128], want[512], *file;
	size_t len;
	int fd;

	fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "pw_bad_prog", "GPL", insns, 2,
			   &o);
	ck_assert_int_lt(fd, 0);
	ck_assert_int_eq(errno, EACCES);
	ck_assert_ptr_nonnull(strstr(log, "R2 !read_ok"));

	snprintf(run, sizeof(run), "%s/run", tmpdir);
	ck_assert_int_eq(fw_rt_paths_set(NULL, run), 0);
	fw_kern_verifier_message("pw_bad_prog", log, strlen(log), 0, msg,
				 sizeof(msg));
	snprintf(
		want, sizeof(want),
		"the kernel's verifier refused the datapath program pw_bad_prog: R2 !read_ok; full log in %s/verifier-pw_bad_prog.log (--verbose prints it)",
		run);
	ck_assert_str_eq(msg, want);
	snprintf(want, sizeof(want), "%s/verifier-pw_bad_prog.log", run);
	file = read_all(want, &len);
	ck_assert_str_eq(file, log);
	free(file);
}
END_TEST

/*
 * The real thing through libbpf: the datapath's XDP program loaded as a
 * tc program, which the verifier refuses (XDP context, XDP helpers).
 * libbpf's output reaches the print callback, which notes the program;
 * fw_kern_load_message() gives the one line and the file holds all of
 * libbpf's output for the load, the verifier's log in it.
 */
START_TEST(test_verifier_libbpf)
{
	char msg[1024], run[128], want[512], path[256], *file, *reason;
	struct plumwall_bpf *s;
	struct bpf_program *p;
	const char *text;
	size_t len, tlen, dropped;
	int ret;

	snprintf(run, sizeof(run), "%s/run", tmpdir);
	ck_assert_int_eq(fw_rt_paths_set(NULL, run), 0);
	fw_bpflog_init(false);
	fw_bpflog_begin();
	s = plumwall_bpf__open();
	ck_assert_ptr_nonnull(s);
	bpf_object__for_each_program(p, s->obj)
		bpf_program__set_autoload(p, p == s->progs.pw_xdp_ingress);
	bpf_program__set_type(s->progs.pw_xdp_ingress, BPF_PROG_TYPE_SCHED_CLS);
	ret = plumwall_bpf__load(s);
	plumwall_bpf__destroy(s);
	ck_assert_int_lt(ret, 0);
	ck_assert_str_eq(fw_bpflog_failure()->prog, "pw_xdp_ingress");

	ck_assert_int_eq(fw_kern_load_message(ret, msg, sizeof(msg)),
			 FW_EXIT_STATE);
	snprintf(
		want, sizeof(want),
		"the kernel's verifier refused the datapath program pw_xdp_ingress: ");
	ck_assert_msg(!strncmp(msg, want, strlen(want)), "%s", msg);
	snprintf(path, sizeof(path), "%s/verifier-pw_xdp_ingress.log", run);
	snprintf(want, sizeof(want), "; full log in %s (--verbose prints it)",
		 path);
	ck_assert_msg(strlen(msg) > strlen(want) &&
			      !strcmp(msg + strlen(msg) - strlen(want), want),
		      "%s", msg);

	text = fw_bpflog_text(&tlen, &dropped);
	file = read_all(path, &len);
	ck_assert_uint_eq(dropped, 0);
	ck_assert_uint_eq(len, tlen);
	ck_assert(!memcmp(file, text, len));
	ck_assert_ptr_nonnull(strstr(file, "-- BEGIN PROG LOAD LOG --"));
	/* the reason is a line of the verifier's log */
	reason =
		msg +
		strlen("the kernel's verifier refused the datapath program pw_xdp_ingress: ");
	reason[strlen(reason) - strlen(want)] = '\0';
	ck_assert_uint_gt(strlen(reason), 0);
	ck_assert_msg(strstr(file, reason), "'%s' not in the log", reason);
	ck_assert_ptr_null(strstr(reason, "processed "));
	free(file);
	fw_bpflog_begin();
}
END_TEST

static Suite *kernel_suite(void)
{
	Suite *s = suite_create("kernel");
	TCase *tc;

	tc = tcase_create("version");
	tcase_add_loop_test(tc, test_version_parse, 0,
			    (int)FW_ARRAY_SIZE(releases));
	tcase_add_test(tc, test_version_null);
	tcase_add_test(tc, test_version_minimum);
	tcase_add_test(tc, test_probe_too_old);
	suite_add_tcase(s, tc);

	tc = tcase_create("messages");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	/* test_bpflog_bound pushes 16 MiB through the 8 MiB log buffer:
	 * about 4 s of CPU under ASan, more on a machine busy with VMs (CI
	 * timed it out at 4 x the default 4 s) */
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_message_missing);
	tcase_add_test(tc, test_message_other);
	tcase_add_test(tc, test_log_reason);
	tcase_add_test(tc, test_bpflog_failure);
	tcase_add_test(tc, test_bpflog_bound);
	tcase_add_test(tc, test_load_message);
	tcase_add_test(tc, test_load_message_verifier);
	tcase_add_test(tc, test_verifier_message_fallback);
	suite_add_tcase(s, tc);

	tc = tcase_create("pins");
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_foreign_layout);
	tcase_add_test(tc, test_state_json_as_jansson);
	tcase_add_test(tc, test_remove_pins_root);
	tcase_add_test(tc, test_bpffs_refused);
	suite_add_tcase(s, tc);

	if (geteuid() == 0) {
		tc = tcase_create("running kernel");
		tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, test_probe_running);
		tcase_add_test(tc, test_probe_eperm);
		tcase_add_test(tc, test_table_covers_programs);
		tcase_add_test(tc, test_verifier_raw);
		tcase_add_test(tc, test_verifier_libbpf);
		suite_add_tcase(s, tc);
	} else {
		printf("test_kernel: not root, the running kernel's tests skipped\n");
	}
	return s;
}

int main(void)
{
	return fixture_run_suite(kernel_suite());
}
