# SPDX-License-Identifier: GPL-2.0
# policy/: YAML front end and policy compiler. Every policy/*.c is archived
# into build/libplumwall.a (together with lib/*.c), so the CLI, the daemon,
# the logging service and the tests can all link it.
LIB_SRCS += $(wildcard policy/*.c)
