# SPDX-License-Identifier: GPL-2.0
# lib/: shared user-space code. Every lib/*.c is archived into
# build/libplumwall.a; public headers live in include/plumwall/.
LIB_SRCS += $(wildcard lib/*.c)
