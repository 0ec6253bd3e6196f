// SPDX-License-Identifier: GPL-2.0
/*
 * plumwall-logd: streams the datapath's events to the configured sinks
 * (cli.md "Daemons", events.md). See logging/logd.h for the structure.
 *
 * One epoll loop in the main thread waits on the ring buffer, the nflog
 * group of nft mode's events (logd_nflog.c, bound at start), a signalfd
 * (SIGHUP reload, SIGTERM/SIGINT stop), an inotify watch on the state
 * directory (names of a new policy generation) and a 500 ms timer that
 * (re)opens the pinned ring buffer: logd may start before the first
 * `plumwall apply` and survives `plumwall down` + `apply`, which pin a
 * new ring buffer.
 *
 * Exit status: 0 after SIGTERM/SIGINT, 1 the configuration was refused,
 * 2 usage error, 3 the system is not in a state for this (no privileges
 * to open the ring buffer, no epoll/signalfd).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "logging/logd.h"

#include <plumwall/config.h>
#include <plumwall/diag.h>

#include "fw/fw.h"
#include "fw/runtime.h"

#define LOGD_TICK_NS (500ULL * 1000000ULL)
/* SIGTERM: how long the sinks get to deliver what they hold. */
#define LOGD_DRAIN_NS (5ULL * 1000000000ULL)
/* A sink removed or changed by a reload gets this long. */
#define LOGD_RETIRE_NS (2ULL * 1000000000ULL)

enum {
	LOGD_EXIT_OK = 0,
	LOGD_EXIT_REFUSED = 1,
	LOGD_EXIT_USAGE = 2,
	LOGD_EXIT_STATE = 3
};

struct logd {
	const char *config_path;
	struct pw_config *cfg;
	char hostname[256];
	struct logd_globals globals;
	struct logd_reader rd;
	struct logd_sink **retiring;
	size_t n_retiring;
	int epfd, sigfd, timerfd, inofd, ino_wd;
	int rb_epfd; /* registered in epfd, or -1 */
	struct logd_nflog nf; /* nft mode's events */
	int nf_fd; /* registered in epfd, or -1 */
	bool waiting_said; /* "waiting for the datapath" printed */
	bool nft_said; /* "nft mode: reading nflog" printed */
	uint64_t state_key; /* of the state document logd_nft_check() read */
};

static void logd_usage(FILE *out)
{
	fputs("Usage: plumwall-logd [-h] [-V] [-c FILE]\n"
	      "\n"
	      "Stream the datapath's drop, audit and flow events to the sinks of\n"
	      "the configuration's 'logging' section: files, stdout, syslog over\n"
	      "UDP, TCP and TLS, the local syslog socket (formats json, syslog,\n"
	      "cef, pcap). Waits for `plumwall apply` when nothing is pinned yet.\n",
	      out);
	fprintf(out,
		"In nft mode (apply --mode nft) the drop and audit events come from\n"
		"nflog group %u, bound at start.\n",
		PW_NFLOG_GROUP);
	fputs("SIGHUP reopens files and reloads the sinks; SIGTERM delivers what\n"
	      "is queued (at most 5 s) and exits.\n"
	      "\n"
	      "Options:\n"
	      "  -c, --config FILE  configuration file (default " PW_CONFIG_PATH
	      ")\n"
	      "  -h, --help         this help\n"
	      "  -V, --version      print the version\n"
	      "\n"
	      "Environment: PLUMWALL_PIN_PATH overrides the configuration's\n"
	      "pin_path, PLUMWALL_RUN_DIR the state directory (/run/plumwall).\n"
	      "Exit status: 0 stopped by a signal, 1 configuration refused,\n"
	      "2 usage error, 3 no privileges or system resources.\n",
	      out);
}

/* ---- configuration and sinks -------------------------------------------- */

static int logd_load_config(const char *path, struct pw_config **out)
{
	struct pw_diags diags;
	int ret;

	pw_diags_init(&diags);
	ret = pw_config_load(path, &diags, out);
	pw_diags_sort(&diags);
	pw_diags_print(&diags, stderr);
	if (ret && !diags.n_errors)
		fprintf(stderr, "plumwall-logd: %s: %s\n", path,
			strerror(-ret));
	pw_diags_free(&diags);
	if (!ret && (!(*out)->has_logging || !(*out)->logging.n_sinks)) {
		fprintf(stderr,
			"plumwall-logd: %s: no 'logging' section with sinks: nothing to do\n",
			path);
		pw_config_free(*out);
		*out = NULL;
		ret = -EINVAL;
	}
	return ret;
}

static void logd_globals(struct logd *d, const struct pw_config *cfg,
			 struct logd_globals *g)
{
	const struct pw_logging *lg = &cfg->logging;

	if (lg->hostname) {
		g->hostname = lg->hostname;
	} else {
		if (gethostname(d->hostname, sizeof(d->hostname)))
			snprintf(d->hostname, sizeof(d->hostname), "-");
		d->hostname[sizeof(d->hostname) - 1] = '\0';
		g->hostname = d->hostname;
	}
	g->facility = lg->facility;
	memcpy(g->severity, lg->severity, sizeof(g->severity));
	g->procid = getpid();
}

static int logd_paths(const struct pw_config *cfg)
{
	const char *pin = getenv("PLUMWALL_PIN_PATH");

	return fw_rt_paths_set(pin && *pin ? pin : cfg->pin_path, NULL);
}

static void logd_retire(struct logd *d, struct logd_sink *s, uint64_t ns)
{
	struct logd_sink **r;

	logd_sink_stop(s, logd_now_ns() + ns);
	r = realloc(d->retiring, (d->n_retiring + 1) * sizeof(*r));
	if (!r) { /* no room to wait for it later: wait now */
		logd_sink_join(s, true);
		return;
	}
	d->retiring = r;
	d->retiring[d->n_retiring++] = s;
}

static void logd_reap(struct logd *d)
{
	size_t i = 0;

	while (i < d->n_retiring) {
		if (logd_sink_join(d->retiring[i], false)) {
			i++;
			continue;
		}
		d->retiring[i] = d->retiring[--d->n_retiring];
	}
}

/*
 * Build the sink set of @cfg: a sink whose configuration is unchanged is
 * kept (and its file reopened), the others are started. All or nothing:
 * if one cannot start, the new ones are stopped and -errno returned.
 */
static int logd_apply_sinks(struct logd *d, const struct pw_config *cfg)
{
	const struct pw_logging *lg = &cfg->logging;
	struct logd_sink **set, **old = d->rd.sinks;
	size_t n_old = d->rd.n_sinks, i, j;
	struct logd_globals g;
	bool *kept;
	int ret = 0;

	logd_globals(d, cfg, &g);
	set = calloc(lg->n_sinks, sizeof(*set));
	kept = calloc(n_old + 1, sizeof(*kept));
	if (!set || !kept) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < lg->n_sinks; i++) {
		for (j = 0; j < n_old; j++)
			if (!kept[j] &&
			    logd_sink_same(old[j], &lg->sinks[i], &g))
				break;
		if (j < n_old) {
			kept[j] = true;
			set[i] = old[j];
			continue;
		}
		ret = logd_sink_start(&lg->sinks[i], &g, &set[i]);
		if (ret) {
			fprintf(stderr,
				"plumwall-logd: sink %s: cannot start: %s\n",
				lg->sinks[i].name,
				ret == -EOPNOTSUPP ?
					"format not supported by this build" :
					strerror(-ret));
			break;
		}
	}
	if (ret) {
		for (j = 0; j < i; j++) {
			size_t k;

			for (k = 0; k < n_old && old[k] != set[j]; k++)
				;
			if (k == n_old)
				logd_retire(d, set[j], 0);
		}
		goto out;
	}
	for (j = 0; j < n_old; j++) {
		if (kept[j])
			logd_sink_reopen(old[j]);
		else
			logd_retire(d, old[j], LOGD_RETIRE_NS);
	}
	free(old);
	d->rd.sinks = set;
	d->rd.n_sinks = lg->n_sinks;
	set = NULL;
out:
	free(set);
	free(kept);
	return ret;
}

/* ---- ring buffer and state ------------------------------------------------ */

static void logd_rb_unregister(struct logd *d)
{
	if (d->rb_epfd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->rb_epfd, NULL);
	d->rb_epfd = -1;
}

/* Does the state document say nft mode runs? Its events come from the
 * nflog group then, and no ring buffer is pinned. */
static bool logd_engine_nft(void)
{
	json_t *st = NULL;
	bool nft;

	if (fw_rt_state_read(&st))
		return false;
	nft = !strcmp(json_string_value(json_object_get(st, "engine")) ?: "",
		      "nft");
	json_decref(st);
	return nft;
}

/* Say once per switch to nft mode where its events come from. The
 * document is parsed again only when it was replaced or rewritten (it
 * holds every name of up to 8 generations: not for every tick). */
static void logd_nft_check(struct logd *d)
{
	struct stat st;
	uint64_t key = 0;

	if (!stat(FW_RT_STATE, &st))
		key = (uint64_t)st.st_ino * 1000003ULL ^
		      (uint64_t)st.st_mtim.tv_sec * 1000000000ULL ^
		      (uint64_t)st.st_mtim.tv_nsec;
	if (key == d->state_key)
		return;
	d->state_key = key;
	if (!key || !logd_engine_nft()) {
		d->nft_said = false;
		return;
	}
	if (d->nft_said)
		return;
	d->nft_said = true;
	d->waiting_said = true; /* no ring buffer to wait for */
	if (d->nf_fd >= 0)
		fprintf(stderr,
			"plumwall-logd: nft mode: reading events from nflog group %u\n",
			PW_NFLOG_GROUP);
	else
		fprintf(stderr,
			"plumwall-logd: nft mode runs, but nflog group %u is not bound: its events are not read\n",
			PW_NFLOG_GROUP);
	logd_names_cache_refresh(&d->rd.names, FW_RT_STATE);
}

/* Bind the nflog group (at start: it needs CAP_NET_ADMIN); a failure
 * leaves the ring buffer's events, and is said. */
static void logd_nflog_start(struct logd *d)
{
	struct epoll_event ee = { .events = EPOLLIN };
	int ret;

	ret = logd_nflog_open(&d->nf, PW_NFLOG_GROUP);
	if (!ret) {
		ee.data.fd = logd_nflog_fd(&d->nf);
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, ee.data.fd, &ee))
			ret = -errno;
	}
	if (ret) {
		fprintf(stderr,
			"plumwall-logd: warning: cannot bind nflog group %u (%s): nft mode's events will not be read\n",
			PW_NFLOG_GROUP,
			ret == -EBUSY ? "another process has it" :
					strerror(-ret));
		logd_nflog_close(&d->nf);
		return;
	}
	d->nf_fd = ee.data.fd;
}

/* Open (or reopen) the pinned ring buffer; 0, -ENOENT (not pinned yet),
 * or another error. */
static int logd_rb_check(struct logd *d)
{
	struct epoll_event ee = { .events = EPOLLIN };
	int ret;

	logd_nft_check(d);
	if (!logd_reader_stale(&d->rd, FW_RT_MAPS))
		return 0;
	if (d->rd.map_fd >= 0) {
		/* what the old ring buffer still holds, then the new one */
		logd_reader_consume(&d->rd);
		logd_rb_unregister(d);
		logd_reader_close(&d->rd);
		fprintf(stderr,
			"plumwall-logd: the datapath pinned at %s changed\n",
			FW_RT_DIR);
	}
	ret = logd_reader_open(&d->rd, FW_RT_MAPS);
	if (ret) {
		if (ret == -ENOENT && !d->waiting_said)
			fprintf(stderr,
				"plumwall-logd: nothing pinned at %s yet: waiting for `plumwall apply`\n",
				FW_RT_DIR);
		else if (ret != -ENOENT)
			fprintf(stderr,
				"plumwall-logd: cannot open %s/pw_events: %s\n",
				FW_RT_MAPS, strerror(-ret));
		d->waiting_said = true;
		return ret;
	}
	d->waiting_said = false;
	logd_names_cache_refresh(&d->rd.names, FW_RT_STATE);
	d->rb_epfd = logd_reader_epoll_fd(&d->rd);
	ee.data.fd = d->rb_epfd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->rb_epfd, &ee))
		return -errno;
	fprintf(stderr, "plumwall-logd: reading events from %s/pw_events\n",
		FW_RT_MAPS);
	return 0;
}

static void logd_watch_state(struct logd *d)
{
	if (d->ino_wd >= 0)
		return;
	d->ino_wd = inotify_add_watch(d->inofd, FW_RT_STATE_DIR,
				      IN_MOVED_TO | IN_CLOSE_WRITE |
					      IN_DELETE_SELF | IN_MOVE_SELF);
}

static void logd_inotify(struct logd *d)
{
	char buf[4096]
		__attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	bool state = false;
	ssize_t n;
	char *p;

	while ((n = read(d->inofd, buf, sizeof(buf))) > 0) {
		for (p = buf; p < buf + n; p += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)p;
			if (ie->mask &
			    (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
				d->ino_wd = -1; /* re-added on a tick */
			if (ie->len && !strcmp(ie->name, "state.json"))
				state = true;
		}
	}
	if (state && (d->rd.map_fd >= 0 || d->nf_fd >= 0))
		logd_names_cache_refresh(&d->rd.names, FW_RT_STATE);
}

/* ---- privileges and systemd ------------------------------------------------- */

/*
 * Everything privileged is done: the ring buffer needs CAP_BPF to open,
 * the nflog group CAP_NET_ADMIN to bind (bound before this, once: logd
 * cannot rebind it later), sinks need nothing special. Drop every capability (effective,
 * permitted, inheritable, and the bounding set) and forbid gaining new
 * ones. logd keeps uid 0, so it can still open what root owns with mode
 * 0700/0600 (the pins, the state file, /var/log) and reopen the pinned
 * ring buffer after a later `plumwall apply` (BPF_OBJ_GET needs no
 * capability, only access to the pinned file).
 */
static int logd_drop_privileges(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
	int cap;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	for (cap = 0; cap <= CAP_LAST_CAP; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL &&
		    errno != EPERM)
			return -errno;
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

/* sd_notify(3)'s protocol is one datagram to $NOTIFY_SOCKET; not worth a
 * library. */
static void logd_notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	socklen_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sun.sun_path))
		return;
	strcpy(sun.sun_path, path);
	if (path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract namespace */
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sun,
	       len);
	close(fd);
}

/* ---- the loop --------------------------------------------------------------- */

static void logd_reload(struct logd *d)
{
	struct pw_config *cfg;

	logd_notify("RELOADING=1");
	fprintf(stderr, "plumwall-logd: SIGHUP: reloading %s\n",
		d->config_path);
	if (logd_load_config(d->config_path, &cfg)) {
		fprintf(stderr,
			"plumwall-logd: %s refused: the running sinks are kept (files reopened)\n",
			d->config_path);
		for (size_t i = 0; i < d->rd.n_sinks; i++)
			logd_sink_reopen(d->rd.sinks[i]);
		goto out;
	}
	if (logd_paths(cfg)) {
		fprintf(stderr,
			"plumwall-logd: pin path %s refused: kept the running configuration\n",
			cfg->pin_path);
		pw_config_free(cfg);
		goto out;
	}
	if (logd_apply_sinks(d, cfg)) {
		fprintf(stderr, "plumwall-logd: the running sinks are kept\n");
		pw_config_free(cfg);
		logd_paths(d->cfg);
		goto out;
	}
	pw_config_free(d->cfg);
	d->cfg = cfg;
	d->ino_wd = -1; /* the state directory may have moved */
	fprintf(stderr, "plumwall-logd: %zu sink%s running\n", d->rd.n_sinks,
		d->rd.n_sinks == 1 ? "" : "s");
out:
	logd_notify("READY=1");
}

static void logd_report(const struct logd *d)
{
	struct logd_sink_stats st;
	size_t i;

	fprintf(stderr,
		"plumwall-logd: %llu events read, %llu lost in the kernel, %llu in sequence gaps\n",
		(unsigned long long)d->rd.events,
		(unsigned long long)d->rd.kernel_lost,
		(unsigned long long)d->rd.gap_lost);
	if (d->nf_fd >= 0)
		fprintf(stderr,
			"plumwall-logd: nflog group %u: %llu events, %llu lost (%llu overruns), %llu refused messages\n",
			PW_NFLOG_GROUP, (unsigned long long)d->nf.events,
			(unsigned long long)d->nf.lost,
			(unsigned long long)d->nf.overruns,
			(unsigned long long)d->nf.bad);
	for (i = 0; i < d->rd.n_sinks; i++) {
		logd_sink_stats(d->rd.sinks[i], &st);
		fprintf(stderr,
			"plumwall-logd: sink %s: %llu delivered, %llu dropped (%llu reported as lost), %llu undelivered at stop, %llu failed attempts\n",
			logd_sink_name(d->rd.sinks[i]),
			(unsigned long long)st.delivered,
			(unsigned long long)st.dropped,
			(unsigned long long)st.lost_reported,
			(unsigned long long)st.undelivered,
			(unsigned long long)st.failures);
	}
}

static int logd_run(struct logd *d)
{
	struct epoll_event evs[8];
	struct signalfd_siginfo si;
	uint64_t ticks, deadline;
	bool running = true;
	int i, n;

	while (running) {
		n = epoll_wait(d->epfd, evs, 8, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "plumwall-logd: epoll: %s\n",
				strerror(errno));
			return LOGD_EXIT_STATE;
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == d->rb_epfd) {
				logd_reader_consume(&d->rd);
			} else if (fd == d->nf_fd) {
				logd_nflog_consume(&d->nf, &d->rd);
			} else if (fd == d->timerfd) {
				if (read(fd, &ticks, sizeof(ticks)) < 0)
					continue;
				logd_rb_check(d);
				logd_watch_state(d);
				logd_reap(d);
			} else if (fd == d->inofd) {
				logd_inotify(d);
			} else if (fd == d->sigfd) {
				if (read(fd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP)
					logd_reload(d);
				else
					running = false;
			}
		}
	}

	/* Stop: what the ring buffer and the group hold, then the sinks
	 * drain. */
	logd_notify("STOPPING=1");
	logd_reader_consume(&d->rd);
	logd_nflog_consume(&d->nf, &d->rd);
	deadline = logd_now_ns() + LOGD_DRAIN_NS;
	for (i = 0; i < (int)d->rd.n_sinks; i++)
		logd_sink_stop(d->rd.sinks[i], deadline);
	for (size_t k = 0; k < d->n_retiring; k++)
		logd_sink_stop(d->retiring[k], deadline);
	/* The counts once every sink is done with its queue. */
	for (i = 0; i < (int)d->rd.n_sinks; i++)
		logd_sink_wait(d->rd.sinks[i]);
	logd_report(d);
	for (i = 0; i < (int)d->rd.n_sinks; i++)
		logd_sink_join(d->rd.sinks[i], true);
	for (size_t k = 0; k < d->n_retiring; k++)
		logd_sink_join(d->retiring[k], true);
	free(d->rd.sinks);
	free(d->retiring);
	d->rd.sinks = NULL;
	d->rd.n_sinks = 0;
	return LOGD_EXIT_OK;
}

static int logd_setup(struct logd *d)
{
	struct itimerspec its = {
		.it_interval = { 0, LOGD_TICK_NS },
		.it_value = { 0, LOGD_TICK_NS },
	};
	struct epoll_event ee = { .events = EPOLLIN };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Blocked before any sink thread starts, so they inherit it. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN); /* a closed TLS connection: EPIPE */
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->timerfd =
		timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->inofd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (d->sigfd < 0 || d->epfd < 0 || d->timerfd < 0 || d->inofd < 0)
		return -errno;
	if (timerfd_settime(d->timerfd, 0, &its, NULL))
		return -errno;
	ee.data.fd = d->sigfd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ee))
		return -errno;
	ee.data.fd = d->timerfd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->timerfd, &ee))
		return -errno;
	ee.data.fd = d->inofd;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->inofd, &ee))
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct logd d = { .config_path = PW_CONFIG_PATH,
			  .ino_wd = -1,
			  .rb_epfd = -1,
			  .nf_fd = -1,
			  .epfd = -1,
			  .sigfd = -1,
			  .timerfd = -1,
			  .inofd = -1 };
	static char prog[] = "plumwall-logd";
	int c, ret, status;

	/* getopt_long's messages start with argv[0]: the name, not a path,
	 * as in every other message. */
	if (argc > 0)
		argv[0] = prog;
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d.config_path = optarg;
			break;
		case 'h':
			logd_usage(stdout);
			return LOGD_EXIT_OK;
		case 'V':
			printf("plumwall-logd %s\n", PLUMWALL_VERSION);
			return LOGD_EXIT_OK;
		default:
			fprintf(stderr, "Try 'plumwall-logd --help'.\n");
			return LOGD_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"plumwall-logd: unexpected argument '%s'\n"
			"Try 'plumwall-logd --help'.\n",
			argv[optind]);
		return LOGD_EXIT_USAGE;
	}
	/* Line-buffered diagnostics, in order with the sinks' threads (when
	 * this fails stderr stays unbuffered, no worse). */
	(void)setvbuf(stderr, NULL, _IOLBF, 0);

	logd_reader_init(&d.rd);
	logd_nflog_init(&d.nf);
	if (logd_load_config(d.config_path, &d.cfg))
		return LOGD_EXIT_REFUSED;
	ret = logd_paths(d.cfg);
	if (ret) {
		fprintf(stderr,
			"plumwall-logd: pin path or PLUMWALL_RUN_DIR: %s\n",
			strerror(-ret));
		status = LOGD_EXIT_REFUSED;
		goto out;
	}
	d.rd.state = FW_RT_STATE;
	d.rd.state_tmp = fw_rt_paths.state_tmp;
	ret = logd_setup(&d);
	if (ret) {
		fprintf(stderr, "plumwall-logd: %s\n", strerror(-ret));
		status = LOGD_EXIT_STATE;
		goto out;
	}
	logd_nflog_start(&d);
	ret = logd_rb_check(&d);
	if (ret && ret != -ENOENT) {
		status = LOGD_EXIT_STATE;
		goto out;
	}
	if (logd_apply_sinks(&d, d.cfg)) {
		status = LOGD_EXIT_REFUSED;
		goto out;
	}
	logd_watch_state(&d);
	ret = logd_drop_privileges();
	if (ret)
		fprintf(stderr,
			"plumwall-logd: warning: cannot drop capabilities: %s\n",
			strerror(-ret));
	fprintf(stderr, "plumwall-logd: %zu sink%s running\n", d.rd.n_sinks,
		d.rd.n_sinks == 1 ? "" : "s");
	logd_notify("READY=1");
	status = logd_run(&d);
out:
	for (size_t i = 0; i < d.rd.n_sinks; i++) {
		logd_sink_stop(d.rd.sinks[i], 0);
		logd_sink_join(d.rd.sinks[i], true);
	}
	free(d.rd.sinks);
	logd_reader_close(&d.rd);
	logd_nflog_close(&d.nf);
	pw_config_free(d.cfg);
	return status;
}
