/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The plumwall CLI: the command table and what commands share.
 *
 * A command's handler gets the arguments after the command name, with
 * argv[0] replaced by "plumwall NAME" so that getopt_long's own messages
 * and usage lines name the command. Handlers return an exit status
 * (enum fw_exit, cli.md), not an errno: it is the one value main() passes
 * on unchanged.
 */
#ifndef PLUMWALL_FW_H
#define PLUMWALL_FW_H

#include <stdbool.h>
#include <stddef.h>

#include <plumwall/diag.h>

#ifndef PLUMWALL_VERSION
#define PLUMWALL_VERSION "0.1.0"
#endif

/* Exit statuses of cli.md. */
#define FW_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum fw_exit {
	FW_EXIT_OK = 0,
	FW_EXIT_REFUSED = 1, /* input refused, or the operation failed */
	FW_EXIT_USAGE = 2,
	FW_EXIT_STATE = 3, /* not loaded, no privileges */
};

struct fw_command {
	const char *name;
	int (*run)(const struct fw_command *cmd, int argc, char **argv);
	const char *summary;
	/* Needs root or CAP_BPF + CAP_NET_ADMIN + CAP_PERFMON. */
	bool privileged;
};

/*
 * Call once the command line is known to be good, before touching the
 * system: FW_EXIT_OK, or a message on stderr and FW_EXIT_STATE when @cmd is
 * privileged and the process lacks the capabilities. Checking after option
 * parsing keeps `--help` and usage errors working for everyone.
 */
int fw_command_ready(const struct fw_command *cmd);

/*
 * Report a usage problem of the command named @prog ("plumwall show"):
 * the message, then a pointer to --help, on stderr. Returns FW_EXIT_USAGE.
 */
int fw_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Only the pointer to --help, after getopt_long has said what was wrong. */
int fw_usage_hint(const char *prog);

/* A policy read, analyzed and its diagnostics reported (cmd_policy.c). */
struct fw_policy_ctx {
	struct pw_diags diags;
	struct policy *pol;
	struct policy_analysis *an;
	struct policy_compiled *compiled; /* with FW_POLICY_COMPILE */
};

/* fw_policy_read() flags */
#define FW_POLICY_COMPILE (1U << 0) /* also compile (generation 0) */
#define FW_POLICY_QUIET (1U << 1) /* diagnostics only in ctx->diags */

/*
 * Load (from @buf of @len bytes named @path when @buf is set), analyze and
 * warn, and with FW_POLICY_COMPILE compile: a policy the compiler refuses
 * (more decision entries than plumwall's limit) has errors at the rules
 * that need the most, the same in every command. Then every diagnostic,
 * sorted, to stderr (unless FW_POLICY_QUIET). Returns 0 when the policy
 * has no errors, else a negative errno; @ctx is to be closed either way.
 */
int fw_policy_read(const char *prog, const char *path, const char *buf,
		   size_t len, unsigned int flags, struct fw_policy_ctx *ctx);
/* fw_policy_read() of the file or directory @path, without compiling. */
int fw_policy_open(const char *prog, const char *path,
		   struct fw_policy_ctx *ctx);
void fw_policy_close(struct fw_policy_ctx *ctx);

/* Command handlers (cmd_*.c). */
int fw_cmd_check(const struct fw_command *cmd, int argc, char **argv);
int fw_cmd_show(const struct fw_command *cmd, int argc, char **argv);
int fw_cmd_apply(const struct fw_command *cmd, int argc, char **argv);
int fw_cmd_down(const struct fw_command *cmd, int argc, char **argv);
int fw_cmd_status(const struct fw_command *cmd, int argc, char **argv);
int fw_cmd_stats(const struct fw_command *cmd, int argc, char **argv);
int fw_cmd_flows(const struct fw_command *cmd, int argc, char **argv);
int fw_cmd_trace(const struct fw_command *cmd, int argc, char **argv);

#endif /* PLUMWALL_FW_H */
