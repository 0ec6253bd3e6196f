// SPDX-License-Identifier: GPL-2.0
/*
 * plumwalld [-c /etc/plumwall/plumwall.yaml]: keeps the configured policy
 * applied (cli.md, "Daemons").
 *
 * - At start: read the configuration, apply its policy. A policy already
 *   running from the same files with the same contents (sha256) is kept
 *   as it is: a restart of the daemon changes nothing, not even the
 *   generation, so no tracked flow is re-judged, let alone flushed.
 * - SIGHUP: read the configuration again and re-apply the policy (always:
 *   the operator asked for it). inotify on the policy file (its directory,
 *   so that editors that write a new file and rename it over the old one
 *   are seen) or the policy directory: re-apply once the changes have
 *   settled (PWD_SETTLE_MS without a further change) and only if the
 *   contents differ from the running policy's.
 * - A configuration or policy with errors is reported (every error, as
 *   FILE:LINE:COLUMN) and the running policy and flows stay. At start,
 *   with nothing running yet, that is fatal (exit 1).
 * - Every conntrack_sweep_interval seconds: the pw_sweep program ends the
 *   flows that expired without a packet to notice it and emits their flow
 *   end events (bpf/pw_sweep.h), and stamps the flows it keeps into a new
 *   window of the conntrack stamps (shared.h, pw_cts).
 * - systemd: Type=notify; READY=1 once the policy is in place, RELOADING=1
 *   during a SIGHUP reload, STOPPING=1 on SIGTERM, STATUS= with the
 *   generation.
 * - SIGTERM / SIGINT: exit 0 and leave enforcement in place: the datapath
 *   is pinned and works without any process (`plumwall down` removes it).
 * - Interfaces: the daemon applies with FW_APPLY_ABSENT_OK (apply.h), so
 *   an interface the policy names that does not exist yet is logged as
 *   absent instead of refusing the policy. rtnetlink (RTNLGRP_LINK, a
 *   libmnl socket) tells when one appears, or reappears with a new
 *   ifindex: the policy is applied again (PWD_LINK_SETTLE_MS after the
 *   last such event, so that a veth pair or a burst of VLAN devices is one
 *   apply). That is a new generation, as a SIGHUP re-apply of unchanged
 *   files: the apply path stays the one crash-safe switch, and tracked
 *   flows re-judged by the same rules keep their verdicts. An interface
 *   the policy names that disappears is logged; its link died with it.
 *
 * One thread, one epoll loop over a signalfd, the inotify descriptor, the
 * rtnetlink socket and three timerfds (sweep, settle, link settle).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <jansson.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <systemd/sd-daemon.h>

#include <plumwall/config.h>
#include <plumwall/diag.h>

#include "policy/policy.h"
#include "apply.h"
#include "bpflog.h"
#include "datapath.h"
#include "fw.h"
#include "kernel.h"
#include "runtime.h"

/* Quiet time after the last change of the policy files before a reload:
 * an editor's save is several events (write, rename, chmod). */
#define PWD_SETTLE_MS 300

/* Quiet time after a link event that needs an apply: both ends of a veth
 * pair, several VLAN devices created by one script. Short: an interface
 * must be enforced within a second of its creation. */
#define PWD_LINK_SETTLE_MS 50

/* An interface the running policy names: its ifindex in the state
 * document, 0 when it was absent at the apply or is gone since. */
struct pwd_link {
	char name[IF_NAMESIZE];
	uint32_t ifindex;
};

enum pwd_level { PWD_ERR = 3, PWD_WARNING = 4, PWD_INFO = 6 };

struct pwd {
	const char *prog;
	const char *cfg_path;
	struct pw_config *cfg;
	bool journal; /* stderr is the journal: prefix messages with <N> */
	int ep_fd;
	int sig_fd;
	int ino_fd;
	int ino_wd;
	char watch_name[NAME_MAX + 1]; /* "": every file of the directory */
	int sweep_fd;
	int settle_fd;
	struct mnl_socket *nl; /* rtnetlink, RTNLGRP_LINK */
	int link_fd; /* link settle timer */
	struct pwd_link *links; /* named by the running policy */
	size_t n_links;
	struct stat links_st; /* of the state document they come from */
	struct fw_dp *dp; /* sweep program on the pinned maps */
	__u32 dp_ct_id; /* pw_ct of that datapath, to notice a new one */
	bool sweep_said; /* its failure is reported, until it works again */
};

static struct pwd pwd = {
	.ep_fd = -1,
	.sig_fd = -1,
	.ino_fd = -1,
	.ino_wd = -1,
	.sweep_fd = -1,
	.settle_fd = -1,
	.link_fd = -1,
};

static void pwd_log(enum pwd_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int pwd_add(int fd);

static void pwd_log(enum pwd_level level, const char *fmt, ...)
{
	va_list ap;

	if (pwd.journal)
		fprintf(stderr, "<%d>", level);
	else
		fprintf(stderr, "%s: ", pwd.prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * stderr is the journal only when JOURNAL_STREAM names its device and
 * inode (systemd.exec(5)): the variable is inherited by every child of a
 * service, whose stderr may well be a file or a terminal.
 */
static bool pwd_stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!v || sscanf(v, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st))
		return false;
	return (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

static void pwd_usage(FILE *out)
{
	fprintf(out,
		"Usage: plumwalld [-h] [-V] [-v] [-c FILE]\n"
		"\n"
		"Apply the configured policy and keep it applied: re-apply on\n"
		"SIGHUP or when the policy files change (a policy with errors\n"
		"is reported and the running one kept), attach interfaces the\n"
		"policy names when they appear, end expired flows with their\n"
		"flow end events, report to systemd (Type=notify).\n"
		"SIGTERM leaves enforcement in place.\n"
		"\n"
		"Options:\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"  -v, --verbose      print libbpf's messages on stderr, and the\n"
		"                     whole verifier log when the kernel refuses\n"
		"                     a program\n"
		"  -h, --help         show this help\n"
		"  -V, --version      show the version\n"
		"\n"
		"Exit status: 0 stopped by SIGTERM or SIGINT, 1 the configuration\n"
		"or policy was refused at start, 2 usage error, 3 no privileges\n"
		"or a kernel plumwall cannot run on.\n",
		PW_CONFIG_PATH);
}

/* The configuration at @path, its errors printed. */
static int pwd_config_load(const char *path, struct pw_config **out)
{
	struct pw_diags diags;
	int ret;

	pw_diags_init(&diags);
	ret = pw_config_load(path, &diags, out);
	pw_diags_sort(&diags);
	pw_diags_print(&diags, stderr);
	if (ret && !diags.n_errors)
		pwd_log(PWD_ERR, "%s: %s", path, strerror(-ret));
	pw_diags_free(&diags);
	return ret;
}

/* The running policy's generation; 0 when nothing runs. */
static uint32_t pwd_running_generation(void)
{
	json_t *st = NULL;
	uint32_t gen = 0;

	if ((fw_rt_pinned() || fw_apply_nft_running()) &&
	    !fw_rt_state_read(&st))
		gen = (uint32_t)json_integer_value(
			json_object_get(st, "generation"));
	json_decref(st);
	return gen;
}

/*
 * Whether the running policy is the configured one with the same
 * contents: same absolute path, same sha256 over the same files. Any
 * doubt (unreadable state, a policy that does not load) answers no, and
 * the apply that follows reports what is wrong.
 */
static bool pwd_policy_unchanged(const char *path)
{
	struct pw_diags diags;
	struct policy *pol = NULL;
	const char *run_path, *run_sha;
	char abs[PATH_MAX], sha[65];
	json_t *st = NULL;
	bool same = false;

	if ((!fw_rt_pinned() && !fw_apply_nft_running()) ||
	    fw_rt_state_read(&st))
		goto out;
	run_path = json_string_value(json_object_get(st, "policy"));
	run_sha = json_string_value(json_object_get(st, "sha256"));
	if (!run_path || !run_sha || !realpath(path, abs) ||
	    strcmp(abs, run_path))
		goto out;
	pw_diags_init(&diags);
	if (!policy_load(path, &diags, &pol) && !diags.n_errors &&
	    !fw_rt_sha256_files(pol->files, pol->n_files, sha))
		same = !strcmp(sha, run_sha);
	if (pol)
		policy_free(pol);
	pw_diags_free(&diags);
out:
	json_decref(st);
	return same;
}

static void pwd_notify_status(const char *what)
{
	sd_notifyf(0, "STATUS=%s, generation %u", what,
		   pwd_running_generation());
}

/*
 * Apply the configured policy (@force: even when unchanged). Returns
 * FW_EXIT_OK when the configured policy is what runs afterwards.
 */
static int pwd_apply(const char *why, bool force)
{
	enum fw_rt_want want;
	uint32_t gen = 0, old;
	int status;

	if (!pwd.cfg) /* refused at start: nothing to apply until SIGHUP */
		return FW_EXIT_REFUSED;
	/* An apply that died part way (ours before a restart, or the
	 * CLI's) is finished or undone first: "unchanged" below compares
	 * with the state of the policy that really runs. */
	fw_apply_recover(pwd.prog);
	old = pwd_running_generation();
	if (!force && pwd_policy_unchanged(pwd.cfg->policy)) {
		pwd_log(PWD_INFO, "%s: %s unchanged, generation %u kept", why,
			pwd.cfg->policy, old);
		return FW_EXIT_OK;
	}
	/* The configuration's mode names are apply's --mode names. */
	if (fw_apply_want_parse(pw_config_mode_name(pwd.cfg->mode), &want))
		want = FW_RT_WANT_AUTO;
	pwd_log(PWD_INFO, "%s: applying %s", why, pwd.cfg->policy);
	/* Log lines in order with the apply's; a journal that cannot take
	 * them is no reason not to apply. */
	(void)fflush(stdout);
	status = fw_apply_policy(pwd.prog, pwd.cfg->policy, want,
				 FW_APPLY_ABSENT_OK, &gen);
	(void)fflush(stdout);
	if (status == FW_EXIT_OK)
		pwd_log(PWD_INFO, "%s: policy %s applied, generation %u", why,
			pwd.cfg->policy, gen);
	else if (old)
		pwd_log(PWD_ERR,
			"%s: policy %s not applied; the running policy (generation %u) and its flows are kept",
			why, pwd.cfg->policy, old);
	else
		pwd_log(PWD_ERR, "%s: policy %s not applied; nothing runs", why,
			pwd.cfg->policy);
	return status;
}

/* ---- inotify ------------------------------------------------------------ */

/* Watch what the policy is made of: the directory, or the file's
 * directory for events naming the file. */
static int pwd_watch(void)
{
	char dir[PATH_MAX], base[PATH_MAX];
	struct stat sb;
	int ret;

	if (pwd.ino_wd >= 0) {
		inotify_rm_watch(pwd.ino_fd, pwd.ino_wd);
		pwd.ino_wd = -1;
	}
	if (!pwd.cfg)
		return 0;
	snprintf(dir, sizeof(dir), "%s", pwd.cfg->policy);
	snprintf(base, sizeof(base), "%s", pwd.cfg->policy);
	if (!stat(pwd.cfg->policy, &sb) && S_ISDIR(sb.st_mode)) {
		pwd.watch_name[0] = '\0';
	} else {
		snprintf(pwd.watch_name, sizeof(pwd.watch_name), "%s",
			 basename(base));
		snprintf(dir, sizeof(dir), "%s", dirname(base));
	}
	pwd.ino_wd =
		inotify_add_watch(pwd.ino_fd, dir,
				  IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM |
					  IN_CREATE | IN_DELETE | IN_ATTRIB);
	if (pwd.ino_wd < 0) {
		ret = -errno;
		pwd_log(PWD_WARNING, "cannot watch %s: %s", dir,
			strerror(-ret));
		return ret;
	}
	return 0;
}

static void pwd_settle_arm(void)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = PWD_SETTLE_MS / 1000,
			      .tv_nsec = (PWD_SETTLE_MS % 1000) * 1000000L },
	};

	timerfd_settime(pwd.settle_fd, 0, &its, NULL);
}

static void pwd_inotify_read(void)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	bool relevant = false;
	ssize_t n;
	char *p;

	for (;;) {
		n = read(pwd.ino_fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_IGNORED)
				pwd.ino_wd = -1;
			if (!pwd.watch_name[0] ||
			    (ev->len && !strcmp(ev->name, pwd.watch_name)))
				relevant = true;
		}
	}
	if (relevant)
		pwd_settle_arm();
}

/* ---- sweep -------------------------------------------------------------- */

static __u32 pwd_pinned_ct_id(void)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/pw_ct", FW_RT_MAPS);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.id = 0;
	close(fd);
	return info.id;
}

/*
 * The sweep program on the pinned maps, reopened when `down` and a new
 * `apply` made another datapath since. A load the kernel refuses is said
 * here, in one line (kernel.h), once until the sweep works again: the
 * timer would repeat it every interval.
 */
static int pwd_sweep_dp(void)
{
	struct fw_dp_opts o = { .pin_dir = FW_RT_MAPS,
				.pin_must_exist = true,
				.sweep_only = true };
	__u32 id = pwd_pinned_ct_id();
	char msg[1024], warn[512];
	int ret;

	if (!id)
		return -ENOENT;
	if (pwd.dp && id == pwd.dp_ct_id)
		return 0;
	fw_dp_close(pwd.dp);
	pwd.dp = NULL;
	ret = fw_kern_check(msg, sizeof(msg), warn, sizeof(warn));
	if (warn[0])
		pwd_log(PWD_WARNING, "%s", warn);
	if (!ret) {
		ret = fw_dp_open(&pwd.dp, &o);
		if (ret)
			fw_kern_load_message(ret, msg, sizeof(msg));
	}
	if (ret) {
		if (!pwd.sweep_said)
			pwd_log(PWD_WARNING, "conntrack sweep: %s", msg);
		pwd.sweep_said = true;
		return -ECANCELED; /* said */
	}
	pwd.dp_ct_id = id;
	return 0;
}

static void pwd_sweep(void)
{
	struct pw_sweep_args a;
	int ret;

	ret = pwd_sweep_dp();
	/* and clear the conntrack stamps of flows gone (shared.h, pw_cts) */
	if (!ret)
		ret = fw_dp_sweep_restamp(pwd.dp, &a);
	/* Nothing loaded (plumwall down): nothing expires. A sweep program
	 * the kernel refused: said already. */
	if (ret == -ENOENT || ret == -ECANCELED)
		return;
	if (ret)
		pwd_log(PWD_WARNING, "conntrack sweep failed: %s",
			strerror(-ret));
	else
		pwd.sweep_said = false;
}

static int pwd_sweep_arm(void)
{
	time_t secs = pwd.cfg ? pwd.cfg->conntrack_sweep_interval :
				PW_CONFIG_SWEEP_DEFAULT;
	struct itimerspec its = {
		.it_interval = { .tv_sec = secs },
		.it_value = { .tv_sec = secs },
	};

	return timerfd_settime(pwd.sweep_fd, 0, &its, NULL) ? -errno : 0;
}

/* ---- links (rtnetlink) -------------------------------------------------- */

/*
 * The interfaces the running policy names, from its state document:
 * "interfaces" (attached, with their ifindex) and "absent" (named but not
 * in the system at its apply). Read again only when the document changed
 * (ours, or the CLI's apply): at 100,000 rules it is megabytes, and link
 * events come with every carrier change.
 */
static void pwd_links_load(void)
{
	json_t *st = NULL, *v;
	struct pwd_link *links;
	struct stat sb;
	size_t i, n = 0;

	if (stat(FW_RT_STATE, &sb))
		memset(&sb, 0, sizeof(sb));
	if (pwd.links && sb.st_dev == pwd.links_st.st_dev &&
	    sb.st_ino == pwd.links_st.st_ino &&
	    sb.st_size == pwd.links_st.st_size &&
	    sb.st_mtim.tv_sec == pwd.links_st.st_mtim.tv_sec &&
	    sb.st_mtim.tv_nsec == pwd.links_st.st_mtim.tv_nsec)
		return;
	if (sb.st_ino && fw_rt_state_read(&st))
		st = NULL;
	links = calloc(json_array_size(json_object_get(st, "interfaces")) +
			       json_array_size(json_object_get(st, "absent")) +
			       1,
		       sizeof(*links));
	if (!links)
		goto out; /* the old list stays, checked again next event */
	json_array_foreach(json_object_get(st, "interfaces"), i, v) {
		const char *name =
			json_string_value(json_object_get(v, "name"));

		if (!name || strlen(name) >= IF_NAMESIZE)
			continue;
		snprintf(links[n].name, IF_NAMESIZE, "%s", name);
		links[n++].ifindex = (uint32_t)json_integer_value(
			json_object_get(v, "ifindex"));
	}
	json_array_foreach(json_object_get(st, "absent"), i, v) {
		const char *name = json_string_value(v);

		if (!name || strlen(name) >= IF_NAMESIZE)
			continue;
		snprintf(links[n++].name, IF_NAMESIZE, "%s", name);
	}
	free(pwd.links);
	pwd.links = links;
	pwd.n_links = n;
	pwd.links_st = sb;
out:
	json_decref(st);
}

static struct pwd_link *pwd_link_find(const char *name)
{
	size_t i;

	for (i = 0; i < pwd.n_links; i++)
		if (!strcmp(pwd.links[i].name, name))
			return &pwd.links[i];
	return NULL;
}

/* After an apply: which interfaces the policy names are not there. */
static void pwd_links_say_absent(void)
{
	char list[1024] = "";
	size_t i, len = 0, n = 0;

	pwd_links_load();
	for (i = 0; i < pwd.n_links; i++) {
		if (pwd.links[i].ifindex)
			continue;
		if (len < sizeof(list))
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%s%s", n ? ", " : "",
						pwd.links[i].name);
		n++;
	}
	if (n)
		pwd_log(PWD_WARNING,
			"the policy names interfaces that do not exist: %s; each is attached when it appears",
			list);
}

static void pwd_link_arm(void)
{
	struct itimerspec its = {
		.it_value = { .tv_nsec = PWD_LINK_SETTLE_MS * 1000000L },
	};

	timerfd_settime(pwd.link_fd, 0, &its, NULL);
}

/* A named interface with an ifindex the running policy does not have. */
static bool pwd_links_stale(void)
{
	unsigned int idx;
	size_t i;

	pwd_links_load();
	for (i = 0; i < pwd.n_links; i++) {
		idx = if_nametoindex(pwd.links[i].name);
		if (idx && idx != pwd.links[i].ifindex)
			return true;
	}
	return false;
}

static int pwd_link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct ifinfomsg *ifi;
	const struct nlattr *attr;
	const char *name = NULL;
	struct pwd_link *l;

	(void)data;
	if ((nlh->nlmsg_type != RTM_NEWLINK &&
	     nlh->nlmsg_type != RTM_DELLINK) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifi))
		return MNL_CB_OK;
	ifi = mnl_nlmsg_get_payload(nlh);
	mnl_attr_for_each(attr, nlh, sizeof(*ifi))
		if (mnl_attr_get_type(attr) == IFLA_IFNAME &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
			name = mnl_attr_get_str(attr);
	l = name ? pwd_link_find(name) : NULL;
	if (!l || ifi->ifi_index <= 0)
		return MNL_CB_OK;
	if (nlh->nlmsg_type == RTM_DELLINK) {
		if (l->ifindex != (uint32_t)ifi->ifi_index)
			return MNL_CB_OK;
		pwd_log(PWD_WARNING,
			"interface %s (ifindex %d) is gone: the policy names it; it is attached again when it reappears",
			name, ifi->ifi_index);
		/* One created again with the same ifindex (ip link add
		 * index N) is a new interface too. */
		l->ifindex = 0;
		return MNL_CB_OK;
	}
	/* Every carrier or flag change is a NEWLINK too: only a new
	 * ifindex under a named name asks for an apply. */
	if (l->ifindex == (uint32_t)ifi->ifi_index)
		return MNL_CB_OK;
	pwd_log(PWD_INFO, "interface %s appeared (ifindex %d)", name,
		ifi->ifi_index);
	/* Said once; the apply's state document has the real one. */
	l->ifindex = (uint32_t)ifi->ifi_index;
	pwd_link_arm();
	return MNL_CB_OK;
}

static void pwd_link_read(void)
{
	static char buf[32768];
	ssize_t n;

	pwd_links_load();
	for (;;) {
		n = mnl_socket_recvfrom(pwd.nl, buf, sizeof(buf));
		if (n < 0 && errno == ENOBUFS) {
			/* Events were lost: compare every named interface
			 * with the system instead. */
			pwd_log(PWD_WARNING,
				"rtnetlink: events lost; checking the interfaces");
			if (pwd_links_stale())
				pwd_link_arm();
			continue;
		}
		if (n <= 0)
			break;
		mnl_cb_run(buf, (size_t)n, 0, 0, pwd_link_cb, NULL);
	}
}

/* The link settle timer: apply if a named interface is still not in the
 * running policy (an apply of the CLI may have taken it meanwhile). */
static void pwd_link_apply(void)
{
	/* From the state, not from the events: forget what they said. */
	free(pwd.links);
	pwd.links = NULL;
	if (!pwd_links_stale())
		return;
	if (pwd_apply("interface appeared", true) == FW_EXIT_OK)
		pwd_links_say_absent();
	pwd_notify_status("running");
}

/* Without rtnetlink the daemon still works, as before: interfaces that
 * appear later wait for a reload. */
static void pwd_link_open(void)
{
	int ret;

	pwd.nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!pwd.nl ||
	    mnl_socket_bind(pwd.nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID)) {
		ret = -errno;
		goto fail;
	}
	ret = pwd_add(mnl_socket_get_fd(pwd.nl));
	if (!ret)
		return;
fail:
	pwd_log(PWD_WARNING,
		"rtnetlink: %s; interfaces that appear later are attached at the next reload",
		strerror(-ret));
	if (pwd.nl)
		mnl_socket_close(pwd.nl);
	pwd.nl = NULL;
}

/* ---- reload ------------------------------------------------------------- */

static void pwd_reload(void)
{
	struct pw_config *cfg = NULL;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading",
		   (unsigned long long)now.tv_sec * 1000000ULL +
			   (unsigned long long)now.tv_nsec / 1000);
	pwd_log(PWD_INFO, "SIGHUP: reading %s", pwd.cfg_path);
	if (pwd_config_load(pwd.cfg_path, &cfg)) {
		pwd_log(PWD_ERR,
			"SIGHUP: %s refused; the running configuration and policy (generation %u) are kept",
			pwd.cfg_path, pwd_running_generation());
		goto out;
	}
	if (strcmp(cfg->pin_path, pwd.cfg ? pwd.cfg->pin_path : FW_RT_ROOT))
		/* The pins cannot move under a running datapath. */
		pwd_log(PWD_WARNING,
			"SIGHUP: pin_path %s is not applied: the datapath stays pinned under %s until plumwalld restarts",
			cfg->pin_path, FW_RT_ROOT);
	pw_config_free(pwd.cfg);
	pwd.cfg = cfg;
	pwd_watch();
	pwd_sweep_arm();
	if (pwd_apply("SIGHUP", true) == FW_EXIT_OK)
		pwd_links_say_absent();
out:
	pwd_notify_status("running");
	sd_notify(0, "READY=1");
}

/* ---- main --------------------------------------------------------------- */

static int pwd_add(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(pwd.ep_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int pwd_setup(void)
{
	sigset_t mask;
	int ret;

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL))
		return -errno;
	pwd.sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	pwd.ino_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	pwd.sweep_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	pwd.settle_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	pwd.link_fd =
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	pwd.ep_fd = epoll_create1(EPOLL_CLOEXEC);
	if (pwd.sig_fd < 0 || pwd.ino_fd < 0 || pwd.sweep_fd < 0 ||
	    pwd.settle_fd < 0 || pwd.link_fd < 0 || pwd.ep_fd < 0)
		return -errno;
	ret = pwd_add(pwd.sig_fd);
	if (!ret)
		ret = pwd_add(pwd.ino_fd);
	if (!ret)
		ret = pwd_add(pwd.sweep_fd);
	if (!ret)
		ret = pwd_add(pwd.settle_fd);
	if (!ret)
		ret = pwd_add(pwd.link_fd);
	/* Before the first apply: an interface created while it runs is
	 * not missed. */
	if (!ret)
		pwd_link_open();
	return ret;
}

static void pwd_drain_timer(int fd)
{
	uint64_t n;

	while (read(fd, &n, sizeof(n)) == sizeof(n))
		;
}

/* Returns the exit status once SIGTERM or SIGINT came. */
static int pwd_loop(void)
{
	struct epoll_event evs[8];
	struct signalfd_siginfo si;
	int n, i;

	for (;;) {
		n = epoll_wait(pwd.ep_fd, evs, FW_ARRAY_SIZE(evs), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pwd_log(PWD_ERR, "epoll: %s", strerror(errno));
			return FW_EXIT_REFUSED;
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == pwd.sig_fd) {
				while (read(pwd.sig_fd, &si, sizeof(si)) ==
				       sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						pwd_reload();
						continue;
					}
					sd_notify(0, "STOPPING=1");
					pwd_log(PWD_INFO,
						"%s: exiting; enforcement stays in place",
						strsignal((int)si.ssi_signo));
					return FW_EXIT_OK;
				}
			} else if (fd == pwd.ino_fd) {
				pwd_inotify_read();
			} else if (fd == pwd.settle_fd) {
				pwd_drain_timer(fd);
				if (pwd.ino_wd < 0)
					pwd_watch(); /* the directory went */
				if (pwd_apply("policy changed", false) ==
				    FW_EXIT_OK)
					pwd_links_say_absent();
				pwd_notify_status("running");
			} else if (fd == pwd.sweep_fd) {
				pwd_drain_timer(fd);
				pwd_sweep();
			} else if (fd == pwd.link_fd) {
				pwd_drain_timer(fd);
				pwd_link_apply();
			} else if (pwd.nl && fd == mnl_socket_get_fd(pwd.nl)) {
				pwd_link_read();
			}
		}
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct fw_command self = { .name = "plumwalld",
						.privileged = true };
	static char prog[] = "plumwalld";
	char msg[1024], warn[512];
	bool verbose = false;
	int c, ret, status = FW_EXIT_REFUSED;

	pwd.prog = prog;
	pwd.cfg_path = PW_CONFIG_PATH;
	pwd.journal = pwd_stderr_is_journal();
	if (argc > 0)
		argv[0] = prog;
	while ((c = getopt_long(argc, argv, "c:hVv", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			pwd.cfg_path = optarg;
			break;
		case 'v':
			verbose = true;
			break;
		case 'h':
			pwd_usage(stdout);
			return FW_EXIT_OK;
		case 'V':
			printf("plumwalld %s\n", PLUMWALL_VERSION);
			return FW_EXIT_OK;
		default:
			return fw_usage_hint(prog);
		}
	}
	if (optind < argc)
		return fw_usage_error(prog, "unexpected argument '%s'",
				      argv[optind]);
	/* libbpf's messages are kept for the one-line reports (kernel.h). */
	fw_bpflog_init(verbose);
	/* Messages of the apply go to the journal line by line (when this
	 * fails they go in blocks, no worse). */
	(void)setvbuf(stdout, NULL, _IOLBF, 0);
	status = fw_command_ready(&self);
	if (status)
		return status;
	status = FW_EXIT_REFUSED;
	if (pwd_config_load(pwd.cfg_path, &pwd.cfg)) {
		/*
		 * A refused configuration stops the start only when nothing
		 * runs. With a datapath pinned where plumwall pins by default
		 * (or PLUMWALL_PIN_PATH), the daemon stays up for it: it
		 * sweeps its expired flows and waits for a SIGHUP with a
		 * configuration it can take. Exiting would leave it without
		 * a sweep, and Restart= would not bring the daemon back
		 * (RestartPreventExitStatus=1).
		 */
		pw_config_free(pwd.cfg);
		pwd.cfg = NULL;
		if (fw_rt_paths_set(NULL, NULL) || !pwd_running_generation())
			goto out;
		pwd_log(PWD_ERR,
			"%s refused; the running policy (generation %u) and its flows are kept; waiting for SIGHUP",
			pwd.cfg_path, pwd_running_generation());
	}
	ret = pwd.cfg ? fw_rt_paths_set(pwd.cfg->pin_path, NULL) : 0;
	if (ret) {
		pwd_log(PWD_ERR, "pin_path %s: %s",
			pwd.cfg ? pwd.cfg->pin_path : "(default)",
			strerror(-ret));
		goto out;
	}
	/* A kernel that cannot run the programs is the system's state, not
	 * the configuration's: exit 3, with the one line that says why. */
	ret = fw_kern_check(msg, sizeof(msg), warn, sizeof(warn));
	if (warn[0])
		pwd_log(PWD_WARNING, "%s", warn);
	if (ret) {
		pwd_log(PWD_ERR, "%s", msg);
		status = FW_EXIT_STATE;
		goto out;
	}
	ret = pwd_setup();
	if (ret) {
		pwd_log(PWD_ERR, "cannot set up: %s", strerror(-ret));
		goto out;
	}
	pwd_watch();
	if (pwd_apply("start", false) != FW_EXIT_OK) {
		if (!pwd_running_generation())
			goto out;
	} else {
		pwd_links_say_absent();
	}
	/* One created between the apply's look and the socket's first
	 * event would otherwise wait for the next one. */
	if (pwd_links_stale())
		pwd_link_arm();
	ret = pwd_sweep_arm();
	if (ret) {
		pwd_log(PWD_ERR, "cannot start the sweep timer: %s",
			strerror(-ret));
		goto out;
	}
	pwd_notify_status("running");
	sd_notify(0, "READY=1");
	status = pwd_loop();
out:
	fw_dp_close(pwd.dp);
	if (pwd.ep_fd >= 0)
		close(pwd.ep_fd);
	if (pwd.sig_fd >= 0)
		close(pwd.sig_fd);
	if (pwd.ino_fd >= 0)
		close(pwd.ino_fd);
	if (pwd.sweep_fd >= 0)
		close(pwd.sweep_fd);
	if (pwd.settle_fd >= 0)
		close(pwd.settle_fd);
	if (pwd.link_fd >= 0)
		close(pwd.link_fd);
	if (pwd.nl)
		mnl_socket_close(pwd.nl);
	free(pwd.links);
	pw_config_free(pwd.cfg);
	return status;
}
