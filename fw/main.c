// SPDX-License-Identifier: GPL-2.0
/*
 * plumwall: the command line (spec: cli.md).
 *
 * Global options are parsed up to the first non-option, which names the
 * command; the rest of the line belongs to the command and is parsed by its
 * handler with getopt_long. Command names match exactly: an abbreviation
 * accepted today would become ambiguous, and so break scripts, when a
 * later command shares its prefix.
 */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "bpflog.h"
#include "fw.h"
#include "runtime.h"

static int fw_cmd_help(const struct fw_command *cmd, int argc, char **argv);

/* To add a command: a handler in cmd_*.c, declared in fw.h, and a line
 * here. The order is the order of `plumwall --help`. */
static const struct fw_command fw_commands[] = {
	{ "check", fw_cmd_check,
	  "validate a policy, print its errors and warnings", false },
	{ "show", fw_cmd_show,
	  "show a policy compiled: tenants, classes, rules, map sizes", false },
	{ "apply", fw_cmd_apply,
	  "load a policy and attach it, or replace the running one", true },
	{ "status", fw_cmd_status,
	  "interfaces, policy, generation and counts of the running datapath",
	  true },
	{ "stats", fw_cmd_stats,
	  "per rule counters, drops by reason, conntrack use, lost events",
	  true },
	{ "flows", fw_cmd_flows, "tracked flows", true },
	{ "down", fw_cmd_down, "detach and remove everything plumwall pinned",
	  true },
	/* privileged with --engine bpf only: the handler checks */
	{ "trace", fw_cmd_trace,
	  "what a policy does to packets or a capture, privately (--engine bpf: privileged)",
	  false },
	{ "help", fw_cmd_help,
	  "this overview, or a command's help: plumwall help COMMAND", false },
};

#define FW_N_COMMANDS (sizeof(fw_commands) / sizeof(fw_commands[0]))

static const struct fw_command *fw_find_command(const char *name)
{
	size_t i;

	for (i = 0; i < FW_N_COMMANDS; i++)
		if (!strcmp(fw_commands[i].name, name))
			return &fw_commands[i];
	return NULL;
}

static void fw_usage(FILE *out)
{
	size_t i, len, width = 0;

	for (i = 0; i < FW_N_COMMANDS; i++) {
		len = strlen(fw_commands[i].name);
		if (len > width)
			width = len;
	}
	fputs("Usage: plumwall [-h|--help] [-V|--version] [-v|--verbose] COMMAND [ARGS...]\n"
	      "\n"
	      "Options:\n"
	      "  -v, --verbose  print libbpf's messages on stderr, and the whole\n"
	      "                verifier log when the kernel refuses a program\n"
	      "  -V, --version  print the version\n"
	      "  -h, --help     show this help\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (i = 0; i < FW_N_COMMANDS; i++)
		fprintf(out, "  %-*s  %s%s\n", (int)width, fw_commands[i].name,
			fw_commands[i].summary,
			fw_commands[i].privileged ? " (privileged)" : "");
	fputs("\n"
	      "Run 'plumwall help COMMAND' (or 'plumwall COMMAND --help') for the\n"
	      "options of a command.\n"
	      "Exit status: 0 success, 1 input refused or operation failed,\n"
	      "2 usage error, 3 system not in a state for this (not loaded,\n"
	      "no privileges).\n",
	      out);
}

/* Run @cmd as `plumwall NAME --help`. */
static int fw_command_help(const struct fw_command *cmd)
{
	char prog[64], help[] = "--help";
	char *argv[] = { prog, help, NULL };

	snprintf(prog, sizeof(prog), "plumwall %s", cmd->name);
	optind = 0;
	return cmd->run(cmd, 2, argv);
}

/* `plumwall help [COMMAND]`: the same as `plumwall --help` and
 * `plumwall COMMAND --help`, for those who type it that way. */
static int fw_cmd_help(const struct fw_command *cmd, int argc, char **argv)
{
	const struct fw_command *c;

	(void)cmd;
	if (argc < 2) {
		fw_usage(stdout);
		return FW_EXIT_OK;
	}
	if (argc > 2)
		return fw_usage_error(argv[0], "unexpected argument '%s'",
				      argv[2]);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		fputs("Usage: plumwall help [COMMAND]\n"
		      "\n"
		      "Without COMMAND, the commands and global options (as\n"
		      "'plumwall --help'); with one, its usage and options (as\n"
		      "'plumwall COMMAND --help').\n",
		      stdout);
		return FW_EXIT_OK;
	}
	c = fw_find_command(argv[1]);
	if (!c)
		return fw_usage_error(argv[0], "unknown command '%s'", argv[1]);
	return fw_command_help(c);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	static char prog[] = "plumwall";
	const char *name = prog; /* in messages: "plumwall" or "plumwall CMD" */
	const struct fw_command *cmd;
	bool verbose = false;
	char cmd_prog[64];
	int c, status;

	/* No fastbins: freeing the millions of small objects of a big
	 * policy's documents (jansson, YAML) made glibc consolidate them
	 * over and over, a tenth of a replacing apply at 100,000 rules;
	 * small allocations still come from the per-thread cache. */
	mallopt(M_MXFAST, 0);
	/* getopt_long's messages start with argv[0]; a full path there would
	 * not match the name the other messages use. */
	if (argc > 0)
		argv[0] = prog;
	/* "+": stop at the command name, its options are its own. */
	while ((c = getopt_long(argc, argv, "+hVv", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fw_usage(stdout);
			status = FW_EXIT_OK;
			goto out;
		case 'V':
			printf("plumwall %s\n", PLUMWALL_VERSION);
			status = FW_EXIT_OK;
			goto out;
		case 'v':
			verbose = true;
			break;
		default:
			status = fw_usage_hint(prog);
			goto out;
		}
	}
	/* Before any command uses libbpf: its messages are kept for the
	 * one-line reports (kernel.h) and shown only when asked for. */
	fw_bpflog_init(verbose);
	if (optind >= argc) {
		status = fw_usage_error(prog, "missing command");
		goto out;
	}
	cmd = fw_find_command(argv[optind]);
	if (!cmd) {
		status = fw_usage_error(prog, "unknown command '%s'",
					argv[optind]);
		goto out;
	}

	if (fw_rt_paths_set(NULL, NULL)) {
		status = fw_usage_error(
			prog, "PLUMWALL_PIN_PATH and PLUMWALL_RUN_DIR "
			      "must be absolute paths");
		goto out;
	}
	snprintf(cmd_prog, sizeof(cmd_prog), "plumwall %s", cmd->name);
	argv += optind;
	argc -= optind;
	argv[0] = cmd_prog;
	name = cmd_prog;
	/* 0, not 1: also resets getopt's state within a clustered option. */
	optind = 0;
	status = cmd->run(cmd, argc, argv);
out:
	/* Output not yet flushed can still fail (full disk, closed pipe). A
	 * command that failed has said why already. */
	if ((fflush(stdout) || ferror(stdout)) && status == FW_EXIT_OK) {
		fprintf(stderr, "%s: cannot write output: %s\n", name,
			strerror(errno ? errno : EIO));
		status = FW_EXIT_REFUSED;
	}
	return status;
}
