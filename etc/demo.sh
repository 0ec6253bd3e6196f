#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The plumwall demo (`make demo`): validate and compile the example
# policies, then show what a broken policy gets. Run from the repo root
# after `make all`.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
pw="$root/build/plumwall"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Checking the example policies"
for policy in "$root"/etc/policies/*.yaml; do
	"$pw" check "$policy"
done

step "What the compiler derives from etc/policies/vlan-tenants.yaml"
"$pw" show "$root/etc/policies/vlan-tenants.yaml"

step "A policy with mistakes: every problem, with its place, in one run"
cat >"$tmp/broken.yaml" <<'POLICY'
version: 1
tenants:
  - name: acme
    interfaces: [acme0]
    segments:
      web: [10.1.1.5/24]
      db:  [10.1.2.0/24]
    rules:
      - name: web-to-db
        from: web
        to: dbs
        proto: tcp
        prots: [5432]
        action: allow
      - name: ping
        from: any
        to: db
        proto: icmp
        icmp: [echo-requst]
        action: allow
POLICY
cat -n "$tmp/broken.yaml"
status=0
"$pw" check "$tmp/broken.yaml" || status=$?
echo "exit status: $status (1 = the policy was refused)"
[ "$status" -eq 1 ]
