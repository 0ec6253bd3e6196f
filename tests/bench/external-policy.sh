#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# external-policy.sh - a policy of many rules to `external` with wide port
# ranges, the shape of issue 11 item 2, on stdout.
#
#   tests/bench/external-policy.sh [RULES] [HOSTS] [RANGES] [SEED]
#
# One tenant with RULES/10 segments. RULES rules, each from one segment
# (round robin), TCP to a wide port range: every one out of RULES/HOSTS
# goes to one outside host (a literal address, so each makes an address
# class of its own that `external` covers), the others to `external`.
# RANGES: "typical" (a few wide ranges a security team writes, such as
# 1024-65535) or "random" (a random range of 10,000 to 35,000 ports per
# rule: every range cuts every other into more service classes).
# Defaults: 6000 rules, 2000 hosts, typical, seed 1.
#
# Compare compilers with /usr/bin/time -v build/plumwall show --json.

set -eu

rules=${1:-6000}
hosts=${2:-2000}
ranges=${3:-typical}
seed=${4:-1}

case $ranges in
typical | random) ;;
*)
	echo "usage: $0 [RULES] [HOSTS] [typical|random] [SEED]" >&2
	exit 2
	;;
esac

awk -v n="$rules" -v hosts="$hosts" -v ranges="$ranges" -v seed="$seed" '
BEGIN {
	srand(seed)
	nseg = int(n / 10); if (nseg < 1) nseg = 1
	every = hosts ? int(n / hosts) : 0
	split("1024-65535 0-1023 8000-8999 80-443 1024-49151 49152-65535", typical, " ")
	print "version: 1"
	print "tenants:"
	print "  - name: acme"
	print "    interfaces: [acme0]"
	print "    segments:"
	for (j = 0; j < nseg; j++)
		printf "      s%d: [10.%d.%d.0/24]\n", j, int(j / 256), j % 256
	print "    rules:"
	h = 0
	for (i = 0; i < n; i++) {
		if (ranges == "typical") {
			r = typical[1 + int(rand() * 6)]
		} else {
			lo = int(rand() * 30000)
			hi = lo + 10000 + int(rand() * 25000)
			if (hi > 65535) hi = 65535
			r = lo "-" hi
		}
		if (every && i % every == 0 && h < hosts) {
			to = sprintf("203.%d.%d.%d", int(h / 65536) % 256, int(h / 256) % 256, h % 256)
			h++
		} else {
			to = "external"
		}
		printf "      - {name: r%d, from: s%d, to: %s, proto: tcp, ports: [\"%s\"], action: allow}\n", i, i % nseg, to, r
	}
}'
