// SPDX-License-Identifier: GPL-2.0
/*
 * bench_control: what the control plane costs at 10,000 and 100,000 rules.
 * The policy is issue 14's: one tenant on a veth, N-1 allow rules from
 * distinct /32 sources to distinct UDP ports, then the rule the traffic
 * hits. For each size, build/plumwall runs as a user runs it:
 *
 *   check         plumwall check POLICY
 *   first apply   plumwall apply POLICY on an empty pin root
 *   replace       plumwall apply POLICY' over it (every port moved by one,
 *                 so every decision entry changes)
 *   replace again plumwall apply POLICY: the steady state, with the
 *                 names of two generations in state.json
 *
 * Each in a child process: wall time, CPU time (user + system) and peak
 * RSS (wait4()), median of BENCH_RUNS rounds (peak RSS: the largest).
 * The applies run in a private network namespace on a private pin root
 * and state directory (PLUMWALL_PIN_PATH, PLUMWALL_RUN_DIR), so a running
 * plumwall is not touched; without root only check is measured.
 *
 *   bench_control [RULES...]     (default: 10000 100000)
 *
 * CPU time is printed next to wall time because this machine is shared:
 * wall time is CPU time plus waiting for a core. Figures, not assertions.
 */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_RUNS 3
#define MAX_SIZES 8

enum { OP_CHECK, OP_FIRST, OP_REPLACE, OP_REPLACE2, OP_COUNT };

static const char *const op_names[OP_COUNT] = {
	"check",
	"first apply",
	"replace",
	"replace again",
};

struct sample {
	double wall; /* s */
	double cpu; /* s, user + system */
	long rss_kib; /* peak */
};

static char pw_bin[PATH_MAX];
static char tmp_dir[] = "/tmp/bench_control.XXXXXX";
static char pin_dir[PATH_MAX];

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The policy of @n rules; @shift moves every allow rule's port. */
static int write_policy(const char *path, unsigned int n, unsigned int shift)
{
	FILE *f = fopen(path, "w");
	unsigned int i, a;
	int ret = 0;

	if (!f)
		return -errno;
	fprintf(f, "version: 1\n"
		   "tenants:\n"
		   "  - name: acme\n"
		   "    interfaces: [pwb0]\n"
		   "    segments:\n"
		   "      sink: [10.99.0.0/16]\n"
		   "    rules:\n");
	for (i = 0; i + 1 < n; i++) {
		a = 0x01000000U + i; /* 1.0.0.0 + i */
		fprintf(f,
			"      - {name: r%u, from: %u.%u.%u.%u, to: sink, "
			"proto: udp, ports: [%u], action: allow}\n",
			i, a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff,
			1 + (i + shift) % 65535);
	}
	fprintf(f, "      - {name: hit, from: any, to: sink, proto: udp, "
		   "ports: [9], action: deny}\n");
	if (fclose(f))
		ret = -errno;
	return ret;
}

/* Run plumwall @argv with its output to /dev/null, into @s; 0 when it
 * exits 0. */
static int run_pw(char *const argv[], struct sample *s)
{
	struct rusage ru;
	double t0 = now_s();
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		/* BENCH_DEBUG=1: plumwall's output shown */
		if (!getenv("BENCH_DEBUG") &&
		    (!freopen("/dev/null", "w", stdout) ||
		     !freopen("/dev/null", "w", stderr)))
			_exit(127);
		execv(pw_bin, argv);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		return -errno;
	s->wall = now_s() - t0;
	s->cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		 ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) /
			 1e6;
	s->rss_kib = ru.ru_maxrss;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "bench_control: plumwall %s %s failed (%d)\n",
			argv[1], argv[2] ? argv[2] : "", status);
		return -EIO;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static void print_row(unsigned int n, int op, const struct sample *s, int k)
{
	double wall[BENCH_RUNS], cpu[BENCH_RUNS];
	long rss = 0;
	int i;

	for (i = 0; i < k; i++) {
		wall[i] = s[i].wall;
		cpu[i] = s[i].cpu;
		if (s[i].rss_kib > rss)
			rss = s[i].rss_kib;
	}
	printf("| %7u | %-13s | %6.2f s | %6.2f s | %7.1f MiB |\n", n,
	       op_names[op], median(wall, k), median(cpu, k),
	       (double)rss / 1024.0);
}

static int bench_size(unsigned int n, int can_apply)
{
	struct sample s[OP_COUNT][BENCH_RUNS];
	char pa[PATH_MAX], pb[PATH_MAX];
	char *check[] = { "plumwall", "check", pa, NULL };
	char *apply_a[] = { "plumwall", "apply", pa, NULL };
	char *apply_b[] = { "plumwall", "apply", pb, NULL };
	char *down[] = { "plumwall", "down", NULL };
	struct sample ignored;
	int r, op, ret;

	snprintf(pa, sizeof(pa), "%s/p%u.yaml", tmp_dir, n);
	snprintf(pb, sizeof(pb), "%s/p%u-b.yaml", tmp_dir, n);
	ret = write_policy(pa, n, 0);
	if (!ret)
		ret = write_policy(pb, n, 1);
	if (ret)
		return ret;
	for (r = 0; r < BENCH_RUNS; r++) {
		ret = run_pw(check, &s[OP_CHECK][r]);
		if (ret || !can_apply)
			goto next;
		ret = run_pw(apply_a, &s[OP_FIRST][r]);
		if (!ret)
			ret = run_pw(apply_b, &s[OP_REPLACE][r]);
		if (!ret)
			ret = run_pw(apply_a, &s[OP_REPLACE2][r]);
		run_pw(down, &ignored);
next:
		if (ret)
			return ret;
	}
	for (op = 0; op < (can_apply ? OP_COUNT : 1); op++)
		print_row(n, op, s[op], BENCH_RUNS);
	unlink(pa);
	unlink(pb);
	return 0;
}

static int find_plumwall(void)
{
	char self[PATH_MAX], *slash;
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (len < 0)
		return -errno;
	self[len] = '\0';
	/* build/bench/bench_control -> build/plumwall */
	slash = strrchr(self, '/');
	if (slash)
		*slash = '\0';
	if (snprintf(pw_bin, sizeof(pw_bin), "%.4000s/../plumwall", self) >=
	    (int)sizeof(pw_bin))
		return -ENAMETOOLONG;
	return access(pw_bin, X_OK) ? -errno : 0;
}

int main(int argc, char **argv)
{
	unsigned int sizes[MAX_SIZES] = { 10000, 100000 }, n_sizes = 2, i;
	char run_dir[PATH_MAX];
	int can_apply = geteuid() == 0, ret;

	if (argc > 1) {
		n_sizes = 0;
		for (i = 1; i < (unsigned int)argc && n_sizes < MAX_SIZES; i++)
			if (atoi(argv[i]) > 1)
				sizes[n_sizes++] = (unsigned int)atoi(argv[i]);
	}
	ret = find_plumwall();
	if (ret) {
		fprintf(stderr, "bench_control: no plumwall binary: %s\n",
			strerror(-ret));
		return 1;
	}
	if (!mkdtemp(tmp_dir)) {
		perror("bench_control: mkdtemp");
		return 1;
	}
	snprintf(run_dir, sizeof(run_dir), "%s/run", tmp_dir);
	/* no dot: bpffs refuses names with one (EPERM) */
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/bench_control_%d",
		 (int)getpid());
	setenv("PLUMWALL_RUN_DIR", run_dir, 1);
	setenv("PLUMWALL_PIN_PATH", pin_dir, 1);
	if (can_apply &&
	    (unshare(CLONE_NEWNET) ||
	     system("ip link add pwb0 type veth peer name pwb1 && "
		    "ip link set pwb0 up && ip link set pwb1 up"))) {
		fprintf(stderr, "bench_control: no private namespace with a "
				"veth: applies not measured\n");
		can_apply = 0;
	}
	printf("bench_control: plumwall check and apply, median of %d rounds "
	       "(peak RSS: largest);\n"
	       "  one tenant on a veth, N-1 allow rules from distinct /32 "
	       "sources to distinct UDP\n"
	       "  ports, then the rule the traffic hits; replace: every port "
	       "moved by one, replace\n"
	       "  again: back to the first policy (two generations of names "
	       "in state.json)\n",
	       BENCH_RUNS);
	if (!can_apply)
		printf("  (not root: check only)\n");
	printf("\n|   rules | command       |     wall |      CPU |    peak RSS |\n"
	       "| ------: | ------------- | -------: | -------: | ----------: |\n");
	for (i = 0; i < n_sizes && !ret; i++)
		ret = bench_size(sizes[i], can_apply);
	rmdir(pin_dir);
	/* mkdtemp()'s name: no character the shell would read */
	snprintf(run_dir, sizeof(run_dir), "rm -rf -- %s", tmp_dir);
	if (system(run_dir))
		fprintf(stderr, "bench_control: cannot remove %s\n", tmp_dir);
	return ret ? 1 : 0;
}
