// SPDX-License-Identifier: GPL-2.0
/*
 * Usage errors and the privilege check every command shares; here, not
 * in main.c, so that plumwalld, which links the commands' code, has them
 * too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "fw.h"

int fw_usage_hint(const char *prog)
{
	fprintf(stderr, "Try '%s --help'.\n", prog);
	return FW_EXIT_USAGE;
}

int fw_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return fw_usage_hint(prog);
}

static bool fw_has_cap(const struct __user_cap_data_struct *data, int cap)
{
	return data[cap / 32].effective & (1U << (cap % 32));
}

int fw_command_ready(const struct fw_command *cmd)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};

	if (!cmd->privileged)
		return FW_EXIT_OK;
	/* Raw capget(2): libcap would be a dependency for three bits. */
	if (syscall(SYS_capget, &hdr, data)) {
		fprintf(stderr, "plumwall %s: cannot read capabilities: %s\n",
			cmd->name, strerror(errno));
		return FW_EXIT_STATE;
	}
	if (fw_has_cap(data, CAP_NET_ADMIN) &&
	    ((fw_has_cap(data, CAP_BPF) && fw_has_cap(data, CAP_PERFMON)) ||
	     /* Kernels before 5.8 know neither CAP_BPF nor CAP_PERFMON;
	      * there CAP_SYS_ADMIN stands for both. */
	     fw_has_cap(data, CAP_SYS_ADMIN)))
		return FW_EXIT_OK;
	fprintf(stderr,
		"plumwall %s: needs root, or CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON\n",
		cmd->name);
	return FW_EXIT_STATE;
}
