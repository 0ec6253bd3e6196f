// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the policy front end: policy/load.c on top of lib/yaml.c,
 * lib/addr.c and lib/diag.c (policy.md sections 1 to 6 and 8).
 *
 * The bulk is a table of malformed policies, each with the exact
 * diagnostics the loader must print for it, sorted, all of them: an error
 * that points at the wrong node or a problem reported twice or not at all
 * fails the case. Then positive tests: defaults, id assignment, anchors and
 * merge keys, directory policies and the example policies in etc/policies.
 */
#include <check.h>
#include <fcntl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <plumwall/yaml.h>

#include "policy/policy.h"
#include "fixtures.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_EXPECT 16

struct bad_policy {
	const char *name;
	const char *yaml;
	/* Sorted diagnostics as printed, NULL-terminated. */
	const char *expect[MAX_EXPECT];
};

/* Load @yaml; it must fail with exactly the diagnostics @expect. */
static void load_bad(const char *name, const char *yaml,
		     const char *const *expect)
{
	struct policy *pol = (struct policy *)1;
	struct pw_diags diags;
	char *text, *want = NULL;
	size_t len = 0, n = 0;
	FILE *f;
	int ret;

	pw_diags_init(&diags);
	ret = policy_load_buffer("test.yaml", yaml, strlen(yaml), &diags, &pol);
	text = fixture_diags_text(&diags);

	f = open_memstream(&want, &len);
	ck_assert_ptr_nonnull(f);
	for (; expect[n]; n++)
		fprintf(f, "%s\n", expect[n]);
	fclose(f);

	ck_assert_msg(ret == -EINVAL,
		      "%s: policy_load returned %d, not -EINVAL", name, ret);
	ck_assert_msg(pol == NULL, "%s: *out set on failure", name);
	ck_assert_msg(!strcmp(text, want),
		      "%s: diagnostics differ\n--- expected:\n%s--- got:\n%s",
		      name, want, text);
	ck_assert_msg(diags.n_errors == n && diags.n_warnings == 0,
		      "%s: %zu errors and %zu warnings, expected %zu errors",
		      name, diags.n_errors, diags.n_warnings, n);
	free(text);
	free(want);
	pw_diags_free(&diags);
}

/* ---- malformed policies -------------------------------------------------- */

static const struct bad_policy bad_policies[] = {
	/* Unknown keys */
	{
		.name = "unknown top-level key",
		.yaml = "version: 1\n"
			"prots: [80]\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:2:1: error: unknown key 'prots' in policy",
		},
	},
	{
		.name = "top-level typo with hint",
		.yaml = "version: 1\n"
			"tenant:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:1:1: error: missing required key 'tenants' in policy: a policy needs at least one tenant",
			"test.yaml:2:1: error: unknown key 'tenant' in policy (did you mean 'tenants'?)",
		},
	},
	{
		.name = "unknown settings key with hint",
		.yaml = "version: 1\n"
			"settings:\n"
			"  unmatch: deny\n"
			"  colour: blue\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:3: error: unknown key 'unmatch' in settings (did you mean 'unmatched'?)",
			"test.yaml:4:3: error: unknown key 'colour' in settings",
		},
	},
	{
		.name = "unknown conntrack key with hint",
		.yaml = "version: 1\n"
			"settings:\n"
			"  conntrack:\n"
			"    max_entrie: 65536\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:4:5: error: unknown key 'max_entrie' in conntrack settings (did you mean 'max_entries'?)",
		},
	},
	{
		.name = "unknown timeouts keys",
		.yaml = "version: 1\n"
			"settings:\n"
			"  conntrack:\n"
			"    timeouts:\n"
			"      tcp_establised: 3600\n"
			"      sctp: 60\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:5:7: error: unknown key 'tcp_establised' in conntrack timeouts (did you mean 'tcp_established'?)",
			"test.yaml:6:7: error: unknown key 'sctp' in conntrack timeouts",
		},
	},
	{
		.name = "unknown tenant key with hint",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    vlan: [10]\n",
		.expect = {
			"test.yaml:5:5: error: unknown key 'vlan' in tenant (did you mean 'vlans'?)",
		},
	},
	{
		.name = "unknown rule key with hint",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        prots: [80]\n",
		.expect = {
			"test.yaml:10:9: error: unknown key 'prots' in rule (did you mean 'proto'?)",
		},
	},
	{
		/* `proto` is there already: the typo is of `ports` */
		.name = "unknown rule key, hint among the absent keys",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        proto: tcp\n"
			"        prots: [80]\n"
			"        action: allow\n"
			"      - {name: s, from: any, to: any, ports: [80],\n"
			"         proto: tcp, prots: [1], action: allow}\n",
		.expect = {
			"test.yaml:10:9: error: unknown key 'prots' in rule (did you mean 'ports'?)",
			"test.yaml:13:22: error: unknown key 'prots' in rule",
		},
	},
	{
		.name = "unknown rule key without hint",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        description: web to db\n",
		.expect = {
			"test.yaml:10:9: error: unknown key 'description' in rule",
		},
	},
	{
		.name = "keys are case-sensitive",
		.yaml = "version: 1\n"
			"Tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:1:1: error: missing required key 'tenants' in policy: a policy needs at least one tenant",
			"test.yaml:2:1: error: unknown key 'Tenants' in policy (did you mean 'tenants'?)",
		},
	},

	/* Wrong types */
	{
		.name = "version as a string",
		.yaml = "version: \"1\"\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:1:10: error: 'version' must be the integer 1, not a string '1'",
		},
	},
	{
		.name = "version 2",
		.yaml = "version: 2\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:1:10: error: unsupported policy version 2: this plumwall reads version 1",
		},
	},
	{
		.name = "version as a float",
		.yaml = "version: 1.0\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:1:10: error: 'version' must be the integer 1, not a number '1.0'",
		},
	},
	{
		.name = "version null",
		.yaml = "version:\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:1:9: error: 'version' must be the integer 1, not null",
		},
	},
	{
		.name = "tenants a mapping",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  name: a\n"
			"  interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:3: error: 'tenants' must be a list, not a mapping",
		},
	},
	{
		.name = "tenants empty",
		.yaml = "version: 1\n"
			"tenants: []\n",
		.expect = {
			"test.yaml:2:10: error: 'tenants' must not be empty: a policy needs at least one tenant",
		},
	},
	{
		.name = "tenants null",
		.yaml = "version: 1\n"
			"tenants:\n",
		.expect = {
			"test.yaml:2:9: error: 'tenants' must be a list, not null",
		},
	},
	{
		.name = "tenant not a mapping",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - a\n"
			"  - [b]\n",
		.expect = {
			"test.yaml:3:5: error: a tenant must be a mapping, not a string 'a'",
			"test.yaml:4:5: error: a tenant must be a mapping, not a list",
		},
	},
	{
		.name = "rules not a list",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      name: r\n",
		.expect = {
			"test.yaml:6:7: error: 'rules' must be a list, not a mapping",
		},
	},
	{
		.name = "rule not a mapping",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - allow-all\n",
		.expect = {
			"test.yaml:6:9: error: a rule must be a mapping, not a string 'allow-all'",
		},
	},
	{
		.name = "ports not a list",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: tcp\n"
			"        ports: 80\n",
		.expect = {
			"test.yaml:11:16: error: 'ports' must be a list, not an integer '80'",
		},
	},
	{
		.name = "interfaces a string",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: eth0\n",
		.expect = {
			"test.yaml:4:17: error: 'interfaces' must be a list, not a string 'eth0'",
		},
	},
	{
		.name = "interfaces null",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces:\n",
		.expect = {
			"test.yaml:4:16: error: 'interfaces' must be a list, not null",
		},
	},
	{
		.name = "interfaces empty",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: []\n",
		.expect = {
			"test.yaml:4:17: error: 'interfaces' must not be empty",
		},
	},
	{
		.name = "vlans empty",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    vlans: []\n",
		.expect = {
			"test.yaml:5:12: error: 'vlans' must not be empty: omit it for untagged traffic",
		},
	},
	{
		.name = "vlans not a list",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    vlans: 10\n",
		.expect = {
			"test.yaml:5:12: error: 'vlans' must be a list, not an integer '10'",
		},
	},
	{
		.name = "boolean given as yes",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    flow_logs: yes\n",
		.expect = {
			"test.yaml:5:16: error: 'flow_logs' must be true or false, not a string 'yes'",
		},
	},
	{
		.name = "boolean given as a quoted string",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        log: \"true\"\n",
		.expect = {
			"test.yaml:10:14: error: 'log' must be true or false, not a string 'true'",
		},
	},
	{
		.name = "boolean given as 1",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    log_default: 1\n",
		.expect = {
			"test.yaml:5:18: error: 'log_default' must be true or false, not an integer '1'",
		},
	},
	{
		.name = "boolean null",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    flow_logs:\n",
		.expect = {
			"test.yaml:5:15: error: 'flow_logs' must be true or false, not null",
		},
	},
	{
		.name = "id quoted",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    id: \"5\"\n",
		.expect = {
			"test.yaml:5:9: error: 'id' must be an integer from 1 to 65535, not a string '5'",
		},
	},
	{
		.name = "id out of range",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    id: 0\n"
			"    interfaces: [eth0]\n"
			"  - name: b\n"
			"    id: 65536\n"
			"    interfaces: [eth1]\n",
		.expect = {
			"test.yaml:4:9: error: 'id' must be from 1 to 65535, not 0",
			"test.yaml:7:9: error: 'id' must be from 1 to 65535, not 65536",
		},
	},
	{
		.name = "id a float",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    id: 5.5\n",
		.expect = {
			"test.yaml:5:9: error: 'id' must be an integer from 1 to 65535, not a number '5.5'",
		},
	},
	{
		.name = "vlan quoted and out of range",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    vlans: [\"100\", 0, 4095, 10]\n",
		.expect = {
			"test.yaml:5:13: error: a VLAN id must be an integer from 1 to 4094, not a string '100'",
			"test.yaml:5:20: error: a VLAN id must be from 1 to 4094, not 0",
			"test.yaml:5:23: error: a VLAN id must be from 1 to 4094, not 4095",
		},
	},
	{
		.name = "log_rate quoted",
		.yaml = "version: 1\n"
			"settings:\n"
			"  log_rate: \"100\"\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:13: error: 'log_rate' must be an integer from 0 to 1000000, not a string '100'",
		},
	},
	{
		.name = "max_entries quoted",
		.yaml = "version: 1\n"
			"settings:\n"
			"  conntrack:\n"
			"    max_entries: \"65536\"\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:4:18: error: 'max_entries' must be an integer from 1024 to 16777216, not a string '65536'",
		},
	},
	{
		.name = "timeout quoted",
		.yaml = "version: 1\n"
			"settings:\n"
			"  conntrack:\n"
			"    timeouts:\n"
			"      udp: \"60\"\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:5:12: error: timeout 'udp' must be an integer from 1 to 2419200, not a string '60'",
		},
	},
	{
		.name = "settings a list",
		.yaml = "version: 1\n"
			"settings: [unmatched]\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:2:11: error: 'settings' must be a mapping, not a list",
		},
	},
	{
		.name = "settings null",
		.yaml = "version: 1\n"
			"settings:\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:2:10: error: 'settings' must be a mapping, not null",
		},
	},
	{
		.name = "conntrack not a mapping",
		.yaml = "version: 1\n"
			"settings:\n"
			"  conntrack: []\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:14: error: 'conntrack' must be a mapping, not a list",
		},
	},
	{
		.name = "timeouts not a mapping",
		.yaml = "version: 1\n"
			"settings:\n"
			"  conntrack:\n"
			"    timeouts: 30\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:4:15: error: 'timeouts' must be a mapping, not an integer '30'",
		},
	},
	{
		.name = "segments a list",
		.yaml = "version: 1\n"
			"segments: [10.0.0.0/8]\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:2:11: error: 'segments' must be a mapping, not a list",
		},
	},
	{
		.name = "segment null",
		.yaml = "version: 1\n"
			"segments:\n"
			"  web:\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:7: error: segment 'web' must be a list, not null",
		},
	},
	{
		.name = "segment empty",
		.yaml = "version: 1\n"
			"segments:\n"
			"  web: []\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:8: error: segment 'web' must not be empty",
		},
	},
	{
		.name = "name null",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name:\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:10: error: 'name' must be a string, not null",
		},
	},
	{
		.name = "name an integer",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: 5\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:11: error: 'name' must be a string, not an integer '5'",
		},
	},
	{
		.name = "enum null and wrong type",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    default:\n"
			"    mode: 1\n",
		.expect = {
			"test.yaml:5:13: error: 'default' must be allow, deny or reject, not null",
			"test.yaml:6:11: error: 'mode' must be enforce or audit, not an integer '1'",
		},
	},
	{
		.name = "action null",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action:\n",
		.expect = {
			"test.yaml:9:16: error: 'action' must be allow, deny or reject, not null",
		},
	},
	{
		.name = "from null, to an integer",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from:\n"
			"        to: 10\n"
			"        action: allow\n",
		.expect = {
			"test.yaml:7:14: error: 'from' must be a selector or a list of selectors, not null",
			"test.yaml:8:13: error: 'to' must be a selector or a list of selectors, not an integer '10'",
		},
	},
	{
		.name = "from empty list, to a mapping",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: []\n"
			"        to: {segment: web}\n"
			"        action: allow\n",
		.expect = {
			"test.yaml:7:15: error: 'from' must not be empty",
			"test.yaml:8:13: error: 'to' must be a selector or a list of selectors, not a mapping",
		},
	},
	{
		.name = "selector items not strings",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: [any, 10, null]\n"
			"        to: any\n"
			"        action: allow\n",
		.expect = {
			"test.yaml:7:21: error: a selector must be a string, not an integer '10'",
			"test.yaml:7:25: error: a selector must be a string, not null",
		},
	},

	/* Missing required keys */
	{
		.name = "missing version",
		.yaml = "tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:1:1: error: missing required key 'version' in policy",
		},
	},
	{
		.name = "missing tenants",
		.yaml = "version: 1\n"
			"segments:\n"
			"  web: [10.0.0.0/8]\n",
		.expect = {
			"test.yaml:1:1: error: missing required key 'tenants' in policy: a policy needs at least one tenant",
		},
	},
	{
		.name = "tenant without name",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:5: error: missing required key 'name' in tenant",
		},
	},
	{
		.name = "tenant without interfaces",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    vlans: [10]\n",
		.expect = {
			"test.yaml:3:5: error: missing required key 'interfaces' in tenant",
		},
	},
	{
		.name = "rule without name, from, to, action",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - proto: tcp\n"
			"        log: true\n",
		.expect = {
			"test.yaml:6:9: error: missing required key 'name' in rule",
			"test.yaml:6:9: error: missing required key 'from' in rule",
			"test.yaml:6:9: error: missing required key 'to' in rule",
			"test.yaml:6:9: error: missing required key 'action' in rule",
		},
	},

	/* Names */
	{
		.name = "tenant name uppercase",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: Acme\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:11: error: invalid tenant name 'Acme': names are 1 to 31 characters of a-z, 0-9, '_' and '-', starting with a letter",
		},
	},
	{
		.name = "tenant name too long",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: abcdefghij-abcdefghij-abcdefghij\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:11: error: invalid tenant name 'abcdefghij-abcdefghij-abcdefghij': names are 1 to 31 characters of a-z, 0-9, '_' and '-', starting with a letter",
		},
	},
	{
		.name = "tenant name not starting with a letter",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: _acme\n"
			"    interfaces: [eth0]\n"
			"  - name: 9acme\n"
			"    interfaces: [eth1]\n"
			"  - name: \"\"\n"
			"    interfaces: [eth2]\n",
		.expect = {
			"test.yaml:3:11: error: invalid tenant name '_acme': names are 1 to 31 characters of a-z, 0-9, '_' and '-', starting with a letter",
			"test.yaml:5:11: error: invalid tenant name '9acme': names are 1 to 31 characters of a-z, 0-9, '_' and '-', starting with a letter",
			"test.yaml:7:11: error: invalid tenant name '': names are 1 to 31 characters of a-z, 0-9, '_' and '-', starting with a letter",
		},
	},
	{
		.name = "segment names invalid",
		.yaml = "version: 1\n"
			"segments:\n"
			"  Web: [10.0.0.0/8]\n"
			"  db.main: [10.1.0.0/16]\n"
			"  abcdefghij-abcdefghij-abcdefghij: [10.2.0.0/16]\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:3: error: invalid segment name 'Web': names are 1 to 31 characters of a-z, 0-9, '_' and '-', starting with a letter",
			"test.yaml:4:3: error: invalid segment name 'db.main': names are 1 to 31 characters of a-z, 0-9, '_' and '-', starting with a letter",
			"test.yaml:5:3: error: invalid segment name 'abcdefghij-abcdefghij-abcdefghij': names are 1 to 31 characters of a-z, 0-9, '_' and '-', starting with a letter",
		},
	},
	{
		.name = "segment names reserved",
		.yaml = "version: 1\n"
			"segments:\n"
			"  any: [10.0.0.0/8]\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    segments:\n"
			"      external: [192.0.2.0/24]\n",
		.expect = {
			"test.yaml:3:3: error: segment name 'any' is reserved: it is a selector keyword",
			"test.yaml:8:7: error: segment name 'external' is reserved: it is a selector keyword",
		},
	},
	{
		.name = "rule names invalid",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: web to db\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"      - name: rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"      - name: \"\"\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n",
		.expect = {
			"test.yaml:6:15: error: invalid rule name 'web to db': names are 1 to 63 characters of a-z, A-Z, 0-9, '_', '.' and '-'",
			"test.yaml:10:15: error: invalid rule name 'rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr': names are 1 to 63 characters of a-z, A-Z, 0-9, '_', '.' and '-'",
			"test.yaml:14:15: error: invalid rule name '': names are 1 to 63 characters of a-z, A-Z, 0-9, '_', '.' and '-'",
		},
	},
	{
		.name = "interface names invalid",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0.100-too-long, \"a/b\", \"a b\", 0]\n",
		.expect = {
			"test.yaml:4:18: error: invalid interface name 'eth0.100-too-long': 1 to 15 characters without '/', ':' or spaces",
			"test.yaml:4:37: error: invalid interface name 'a/b': 1 to 15 characters without '/', ':' or spaces",
			"test.yaml:4:44: error: invalid interface name 'a b': 1 to 15 characters without '/', ':' or spaces",
			"test.yaml:4:51: error: an interface name must be a string, not an integer '0'",
		},
	},
	{
		.name = "string with NUL",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: \"a\\0b\"\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:11: error: 'name' must not contain a NUL character",
		},
	},

	/* CIDRs */
	{
		.name = "bad address",
		.yaml = "version: 1\n"
			"segments:\n"
			"  web: [10.0.0.256, 10.0.0, \"fd00::g\"]\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:9: error: invalid address '10.0.0.256': expected an IPv4 or IPv6 address or prefix",
			"test.yaml:3:21: error: invalid address '10.0.0': expected an IPv4 or IPv6 address or prefix",
			"test.yaml:3:29: error: invalid address 'fd00::g': expected an IPv4 or IPv6 address or prefix",
		},
	},
	{
		.name = "bad prefix length",
		.yaml = "version: 1\n"
			"segments:\n"
			"  web: [10.0.0.0/33, \"fd00::/129\", 10.0.0.0/, 10.0.0.0/x8]\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:9: error: invalid prefix length in '10.0.0.0/33': must be 0 to 32 for IPv4",
			"test.yaml:3:22: error: invalid prefix length in 'fd00::/129': must be 0 to 128 for IPv6",
			"test.yaml:3:36: error: invalid prefix length in '10.0.0.0/': must be 0 to 32 for IPv4",
			"test.yaml:3:47: error: invalid prefix length in '10.0.0.0/x8': must be 0 to 32 for IPv4",
		},
	},
	{
		.name = "host bits set",
		.yaml = "version: 1\n"
			"segments:\n"
			"  web: [10.1.1.5/24]\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:9: error: prefix '10.1.1.5/24' has host bits set: did you mean 10.1.1.0/24?",
		},
	},
	{
		.name = "IPv6 host bits set",
		.yaml = "version: 1\n"
			"segments:\n"
			"  web: [\"fd00:1:1::5/64\"]\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:9: error: prefix 'fd00:1:1::5/64' has host bits set: did you mean fd00:1:1::/64?",
		},
	},
	{
		.name = "address not a string",
		.yaml = "version: 1\n"
			"segments:\n"
			"  web: [10.0.0.1, 10, [10.0.0.2]]\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:19: error: a segment address must be a string, not an integer '10'",
			"test.yaml:3:23: error: a segment address must be a string, not a list",
		},
	},
	{
		.name = "literal selector with host bits",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: 10.1.1.1/16\n"
			"        to: [\"fd00::1/8\", 300.1.1.1]\n"
			"        action: allow\n",
		.expect = {
			"test.yaml:7:15: error: prefix '10.1.1.1/16' has host bits set: did you mean 10.1.0.0/16?",
			"test.yaml:8:14: error: prefix 'fd00::1/8' has host bits set: did you mean fd00::/8?",
			"test.yaml:8:27: error: invalid address '300.1.1.1': expected an IPv4 or IPv6 address or prefix",
		},
	},

	/* Segments and selectors */
	{
		.name = "undefined segment",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: web\n"
			"        to: any\n"
			"        action: allow\n",
		.expect = {
			"test.yaml:7:15: error: undefined segment 'web' in tenant 'a'",
		},
	},
	{
		.name = "undefined segment with a hint",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    segments:\n"
			"      database: [10.1.2.0/24]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: databse\n"
			"        action: allow\n",
		.expect = {
			"test.yaml:10:13: error: undefined segment 'databse' in tenant 'a' (did you mean 'database'?)",
		},
	},
	{
		.name = "undefined segment in global rules with a hint",
		.yaml = "version: 1\n"
			"segments:\n"
			"  resolvers: [10.0.0.53]\n"
			"rules:\n"
			"  - name: dns\n"
			"    from: any\n"
			"    to: resolver\n"
			"    action: allow\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:7:9: error: undefined segment 'resolver' in global rules (did you mean 'resolvers'?)",
		},
	},
	{
		.name = "tenant segment in a global rule",
		.yaml = "version: 1\n"
			"rules:\n"
			"  - name: g\n"
			"    from: web\n"
			"    to: any\n"
			"    action: allow\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    segments:\n"
			"      web: [10.1.1.0/24]\n",
		.expect = {
			"test.yaml:4:11: error: global rules may only use global segments: 'web' is a segment of tenant 'a'",
		},
	},
	{
		/* The tenant's name was refused: it is named by its place. */
		.name = "segment of a tenant with an invalid name",
		.yaml = "version: 1\n"
			"rules:\n"
			"  - {name: g, from: web, to: any, action: allow}\n"
			"tenants:\n"
			"  - name: Acme\n"
			"    interfaces: [eth0]\n"
			"    segments:\n"
			"      web: [10.1.1.0/24]\n"
			"  - name: b\n"
			"    interfaces: [eth1]\n"
			"    rules:\n"
			"      - {name: r, from: web, to: any, action: allow}\n",
		.expect = {
			"test.yaml:3:21: error: global rules may only use global segments: 'web' is a segment of the tenant at test.yaml:5:5 (its name is invalid)",
			"test.yaml:5:11: error: invalid tenant name 'Acme': names are 1 to 31 characters of a-z, 0-9, '_' and '-', starting with a letter",
			"test.yaml:12:25: error: undefined segment 'web' in tenant 'b': it is a segment of the tenant at test.yaml:5:5 (its name is invalid), and a tenant sees only its own and the global segments",
		},
	},
	{
		.name = "other tenant's segment",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    segments:\n"
			"      web: [10.1.1.0/24]\n"
			"  - name: b\n"
			"    interfaces: [eth1]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: web\n"
			"        to: any\n"
			"        action: allow\n",
		.expect = {
			"test.yaml:11:15: error: undefined segment 'web' in tenant 'b': it is a segment of tenant 'a', and a tenant sees only its own and the global segments",
		},
	},
	{
		.name = "invalid selector",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: Web_Servers\n"
			"        to: [any, \"*\"]\n"
			"        action: allow\n",
		.expect = {
			"test.yaml:7:15: error: invalid selector 'Web_Servers': expected a segment name, an address or prefix, 'any' or 'external'",
			"test.yaml:8:19: error: invalid selector '*': expected a segment name, an address or prefix, 'any' or 'external'",
		},
	},
	{
		.name = "unnamed tenant in messages",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: Bad\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: web\n"
			"        to: any\n"
			"        action: allow\n"
			"  - interfaces: [eth1]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: db\n"
			"        to: any\n"
			"        action: allow\n",
		.expect = {
			"test.yaml:3:11: error: invalid tenant name 'Bad': names are 1 to 31 characters of a-z, 0-9, '_' and '-', starting with a letter",
			"test.yaml:7:15: error: undefined segment 'web' in tenant 'Bad'",
			"test.yaml:10:5: error: missing required key 'name' in tenant",
			"test.yaml:13:15: error: undefined segment 'db' in tenant #2",
		},
	},

	/* Duplicates */
	{
		.name = "duplicate tenant names",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"  - name: b\n"
			"    interfaces: [eth1]\n"
			"  - name: a\n"
			"    interfaces: [eth2]\n",
		.expect = {
			"test.yaml:7:11: error: duplicate tenant name 'a' (first defined at test.yaml:3:5)",
		},
	},
	{
		.name = "duplicate tenant ids",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    id: 7\n"
			"    interfaces: [eth0]\n"
			"  - name: b\n"
			"    id: 7\n"
			"    interfaces: [eth1]\n",
		.expect = {
			"test.yaml:7:9: error: tenant id 7 is already used by tenant 'a' (test.yaml:3:5)",
		},
	},
	{
		.name = "duplicate global segment",
		.yaml = "version: 1\n"
			"segments:\n"
			"  web: [10.1.1.0/24]\n"
			"  web: [10.1.2.0/24]\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:4:3: error: duplicate key 'web' (first defined at line 3, column 3)",
		},
	},
	{
		.name = "tenant segment redefines a global one",
		.yaml = "version: 1\n"
			"segments:\n"
			"  dns: [10.0.0.53]\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    segments:\n"
			"      dns: [10.1.0.53]\n",
		.expect = {
			"test.yaml:8:7: error: segment 'dns' is already defined as a global segment at test.yaml:3:3",
		},
	},
	{
		.name = "duplicate tenant segment",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    segments:\n"
			"      web: [10.1.1.0/24]\n"
			"      web: [10.1.2.0/24]\n",
		.expect = {
			"test.yaml:7:7: error: duplicate key 'web' (first defined at line 6, column 7)",
		},
	},
	{
		.name = "duplicate rule names",
		.yaml = "version: 1\n"
			"rules:\n"
			"  - name: g\n"
			"    from: any\n"
			"    to: any\n"
			"    proto: udp\n"
			"    action: allow\n"
			"  - name: g\n"
			"    from: any\n"
			"    to: any\n"
			"    action: deny\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: g\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"      - name: g\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n",
		.expect = {
			"test.yaml:8:11: error: duplicate rule name 'g' in global rules (first defined at test.yaml:3:5)",
			"test.yaml:20:15: error: duplicate rule name 'g' in tenant 'a' (first defined at test.yaml:16:9)",
		},
	},
	{
		.name = "interface and VLAN listed twice",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0, eth0]\n"
			"    vlans: [10, 20, 10]\n",
		.expect = {
			"test.yaml:4:24: error: interface 'eth0' is listed twice",
			"test.yaml:5:21: error: VLAN 10 is listed twice",
		},
	},

	/* Owners of (interface, VLAN) */
	{
		.name = "untagged owned twice",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0, eth1]\n"
			"  - name: b\n"
			"    interfaces: [eth1]\n",
		.expect = {
			"test.yaml:6:18: error: untagged traffic on interface 'eth1' is already owned by tenant 'a' (test.yaml:3:5)",
		},
	},
	{
		.name = "VLAN owned twice",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    vlans: [10, 20]\n"
			"  - name: b\n"
			"    interfaces: [eth1, eth0]\n"
			"    vlans: [30, 20]\n",
		.expect = {
			"test.yaml:8:17: error: VLAN 20 on interface 'eth0' is already owned by tenant 'a' (test.yaml:3:5)",
		},
	},
	{
		.name = "several owner clashes",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"  - name: b\n"
			"    interfaces: [eth0]\n"
			"    vlans: [10]\n"
			"  - name: c\n"
			"    interfaces: [eth0]\n"
			"  - name: d\n"
			"    interfaces: [eth0]\n"
			"    vlans: [11, 10]\n",
		.expect = {
			"test.yaml:9:18: error: untagged traffic on interface 'eth0' is already owned by tenant 'a' (test.yaml:3:5)",
			"test.yaml:12:17: error: VLAN 10 on interface 'eth0' is already owned by tenant 'b' (test.yaml:5:5)",
		},
	},

	/* Ports */
	{
		.name = "port range LOW > HIGH",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: tcp\n"
			"        ports: [\"90-80\"]\n",
		.expect = {
			"test.yaml:11:17: error: invalid port range '90-80': 90 is greater than 80",
		},
	},
	{
		.name = "ports above 65535",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: tcp\n"
			"        ports: [65536, \"70000\", \"1-70000\", 99999999]\n",
		.expect = {
			"test.yaml:11:17: error: port 65536 is out of range 0 to 65535",
			"test.yaml:11:24: error: port 70000 is out of range 0 to 65535",
			"test.yaml:11:33: error: invalid port range '1-70000': ports are 0 to 65535",
			"test.yaml:11:44: error: port 99999999 is out of range 0 to 65535",
		},
	},
	{
		.name = "ports garbage",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: udp\n"
			"        ports: [http, \"80-\", \"-80\", \"1--2\", \" 80\", \"+80\", 80.5, -1, null, [1]]\n",
		.expect = {
			"test.yaml:11:17: error: invalid port 'http': expected a port number or a range \"LOW-HIGH\"",
			"test.yaml:11:23: error: invalid port '80-': expected a port number or a range \"LOW-HIGH\"",
			"test.yaml:11:30: error: invalid port '-80': expected a port number or a range \"LOW-HIGH\"",
			"test.yaml:11:37: error: invalid port '1--2': expected a port number or a range \"LOW-HIGH\"",
			"test.yaml:11:45: error: invalid port ' 80': expected a port number or a range \"LOW-HIGH\"",
			"test.yaml:11:52: error: invalid port '+80': expected a port number or a range \"LOW-HIGH\"",
			"test.yaml:11:59: error: a port must be a number or a range \"LOW-HIGH\", not a number '80.5'",
			"test.yaml:11:65: error: port -1 is out of range 0 to 65535",
			"test.yaml:11:69: error: a port must be a number or a range \"LOW-HIGH\", not null",
			"test.yaml:11:75: error: a port must be a number or a range \"LOW-HIGH\", not a list",
		},
	},
	{
		.name = "ports empty",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: tcp\n"
			"        ports: []\n",
		.expect = {
			"test.yaml:11:16: error: 'ports' must not be empty: omit it to match every port",
		},
	},
	{
		.name = "ports with icmp",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: icmp\n"
			"        ports: [80]\n",
		.expect = {
			"test.yaml:11:16: error: 'ports' needs proto tcp or udp, but the rule's proto is icmp",
		},
	},
	{
		.name = "ports with proto any",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        ports: [80]\n",
		.expect = {
			"test.yaml:10:16: error: 'ports' needs proto tcp or udp, but the rule's proto is any (the default)",
		},
	},
	{
		/* Written out: not "the default". */
		.name = "ports and icmp with proto any written",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - {name: r, from: any, to: any, proto: any,\n"
			"         ports: [80], action: allow}\n"
			"      - {name: s, from: any, to: any, proto: any,\n"
			"         icmp: [0], action: allow}\n",
		.expect = {
			"test.yaml:7:17: error: 'ports' needs proto tcp or udp, but the rule's proto is any",
			"test.yaml:9:16: error: 'icmp' needs proto icmp or icmpv6, but the rule's proto is any",
		},
	},
	{
		.name = "ports with proto number 47",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: 47\n"
			"        ports: [80]\n",
		.expect = {
			"test.yaml:11:16: error: 'ports' needs proto tcp or udp, but the rule's proto is 47",
		},
	},
	{
		.name = "ports with an unknown proto",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: sctp\n"
			"        ports: [80]\n",
		.expect = {
			"test.yaml:10:16: error: 'proto' must be tcp, udp, icmp, icmpv6, any or a protocol number 0 to 255, not a string 'sctp'",
		},
	},
	{
		.name = "icmp with tcp",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: tcp\n"
			"        icmp: [echo-request]\n",
		.expect = {
			"test.yaml:11:15: error: 'icmp' needs proto icmp or icmpv6, but the rule's proto is tcp",
		},
	},
	{
		.name = "icmp with proto any",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        icmp: [8]\n",
		.expect = {
			"test.yaml:10:15: error: 'icmp' needs proto icmp or icmpv6, but the rule's proto is any (the default)",
		},
	},
	{
		.name = "unknown icmp type names",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: icmp\n"
			"        icmp: [neighbor-solicitation, echo-requst, ping]\n",
		.expect = {
			"test.yaml:11:16: error: unknown icmp type name 'neighbor-solicitation' (it is an icmpv6 type)",
			"test.yaml:11:39: error: unknown icmp type name 'echo-requst' (did you mean 'echo-request'?)",
			"test.yaml:11:52: error: unknown icmp type name 'ping'",
		},
	},
	{
		.name = "unknown icmpv6 type names",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: icmpv6\n"
			"        icmp: [redirect, timestamp, echo-request]\n",
		.expect = {
			"test.yaml:11:16: error: unknown icmpv6 type name 'redirect' (it is an icmp type)",
			"test.yaml:11:26: error: unknown icmpv6 type name 'timestamp' (it is an icmp type)",
		},
	},
	{
		.name = "ICMP type out of range",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: 1\n"
			"        icmp: [256, -1, 255]\n",
		.expect = {
			"test.yaml:11:16: error: ICMP type 256 is out of range 0 to 255",
			"test.yaml:11:21: error: ICMP type -1 is out of range 0 to 255",
		},
	},
	{
		.name = "ICMP type quoted and typed wrong",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: icmp\n"
			"        icmp: [\"8\", true]\n",
		.expect = {
			"test.yaml:11:16: error: unknown icmp type name '8' (write a type number without quotes)",
			"test.yaml:11:21: error: an ICMP type must be a name or a number, not a boolean 'true'",
		},
	},
	{
		.name = "icmp empty",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: icmpv6\n"
			"        icmp: []\n",
		.expect = {
			"test.yaml:11:15: error: 'icmp' must not be empty: omit it to match every type",
		},
	},
	{
		.name = "proto out of range",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: 256\n",
		.expect = {
			"test.yaml:10:16: error: protocol number 256 is out of range 0 to 255",
		},
	},
	{
		.name = "proto unknown name",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: TCP\n",
		.expect = {
			"test.yaml:10:16: error: 'proto' must be tcp, udp, icmp, icmpv6, any or a protocol number 0 to 255, not a string 'TCP'",
		},
	},
	{
		.name = "proto quoted number",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: allow\n"
			"        proto: \"6\"\n",
		.expect = {
			"test.yaml:10:16: error: 'proto' must be tcp, udp, icmp, icmpv6, any or a protocol number 0 to 255, not a string '6'",
		},
	},

	/* Settings */
	{
		.name = "unmatched reject refused",
		.yaml = "version: 1\n"
			"settings:\n"
			"  unmatched: reject\n"
			"  non_ip: reject\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:14: error: 'unmatched' must be allow or deny, not 'reject'",
			"test.yaml:4:11: error: 'non_ip' must be allow or deny, not 'reject'",
		},
	},
	{
		.name = "settings out of range",
		.yaml = "version: 1\n"
			"settings:\n"
			"  log_rate: 1000001\n"
			"  conntrack:\n"
			"    max_entries: 1023\n"
			"    timeouts:\n"
			"      tcp_syn: 0\n"
			"      udp: -5\n"
			"      other: 2419201\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:13: error: 'log_rate' must be from 0 to 1000000, not 1000001",
			"test.yaml:5:18: error: 'max_entries' must be from 1024 to 16777216, not 1023",
			"test.yaml:7:16: error: timeout 'tcp_syn' must be from 1 to 2419200, not 0",
			"test.yaml:8:12: error: timeout 'udp' must be from 1 to 2419200, not -5",
			"test.yaml:9:14: error: timeout 'other' must be from 1 to 2419200, not 2419201",
		},
	},
	{
		.name = "max_entries too big, log_rate negative",
		.yaml = "version: 1\n"
			"settings:\n"
			"  log_rate: -1\n"
			"  conntrack:\n"
			"    max_entries: 16777217\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:13: error: 'log_rate' must be from 0 to 1000000, not -1",
			"test.yaml:5:18: error: 'max_entries' must be from 1024 to 16777216, not 16777217",
		},
	},
	{
		.name = "enum values wrong",
		.yaml = "version: 1\n"
			"settings:\n"
			"  unmatched: 5\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    default: drop\n"
			"    mode: Audit\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: any\n"
			"        to: any\n"
			"        action: accept\n",
		.expect = {
			"test.yaml:3:14: error: 'unmatched' must be allow or deny, not an integer '5'",
			"test.yaml:7:14: error: 'default' must be allow, deny or reject, not 'drop'",
			"test.yaml:8:11: error: 'mode' must be enforce or audit, not 'Audit'",
			"test.yaml:13:17: error: 'action' must be allow, deny or reject, not 'accept'",
		},
	},

	/* YAML */
	{
		.name = "bad indentation",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"   interfaces: [eth0]\n",
		.expect = {
			"test.yaml:4:4: error: YAML syntax error: did not find expected '-' indicator while parsing a block collection started at line 3, column 3",
		},
	},
	{
		.name = "unclosed bracket",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0\n",
		.expect = {
			"test.yaml:5:1: error: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence started at line 4, column 17",
		},
	},
	{
		.name = "tab indentation",
		.yaml = "version: 1\n"
			"tenants:\n"
			"\t- name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:1: error: YAML syntax error: found character that cannot start any token while scanning for the next token (a tab: YAML indentation must use spaces)",
		},
	},
	{
		.name = "unsupported tag !foo",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: !foo a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:11: error: unsupported YAML tag '!foo': only the core schema (str, int, bool, null, float, seq, map) is allowed",
		},
	},
	{
		.name = "unsupported tag !!binary",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: !!binary YWNtZQ==\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:11: error: unsupported YAML tag '!!binary': only the core schema (str, int, bool, null, float, seq, map) is allowed",
		},
	},
	{
		.name = "unsupported tag !!python/object",
		.yaml = "version: 1\n"
			"tenants: !!python/object:os.system\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:2:10: error: unsupported YAML tag '!!python/object:os.system': only the core schema (str, int, bool, null, float, seq, map) is allowed",
		},
	},
	{
		.name = "core tags that do not fit",
		.yaml = "version: !!int one\n"
			"tenants:\n"
			"  - name: !!map a\n"
			"    interfaces: !!str [eth0]\n",
		.expect = {
			"test.yaml:1:10: error: 'one' is not a valid value for its YAML tag",
			"test.yaml:3:11: error: YAML tag '!!map' does not fit a scalar",
			"test.yaml:4:17: error: YAML tag '!!str' does not fit a list",
		},
	},
	{
		.name = "duplicate keys",
		.yaml = "version: 1\n"
			"version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    name: b\n",
		.expect = {
			"test.yaml:2:1: error: duplicate key 'version' (first defined at line 1, column 1)",
			"test.yaml:6:5: error: duplicate key 'name' (first defined at line 4, column 5)",
		},
	},
	{
		.name = "unknown alias",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: *ifs\n",
		.expect = {
			"test.yaml:4:17: error: unknown YAML alias '*ifs'",
		},
	},
	{
		.name = "merge key with a scalar",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    <<: 5\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:4:9: error: merge key '<<' needs a mapping or a list of at most 64 mappings, not an integer",
		},
	},
	{
		.name = "merge key with a list of non-mappings",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    <<: [{id: 3}, 5, [eth1]]\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:4:19: error: merge key '<<' list items must be mappings, not an integer",
			"test.yaml:4:22: error: merge key '<<' list items must be mappings, not a list",
		},
	},
	{
		.name = "mapping as a key",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    ? [x]\n"
			"    : y\n",
		.expect = {
			"test.yaml:5:7: error: mapping keys must be plain scalars, not a list",
		},
	},
	{
		.name = "multiple documents",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"---\n"
			"version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:5:1: error: a policy file holds one YAML document; found a second one",
		},
	},
	{
		.name = "empty file",
		.yaml = "",
		.expect = {
			"test.yaml:1:1: error: empty policy file: expected a mapping with 'version' and 'tenants'",
		},
	},
	{
		.name = "comments only",
		.yaml = "# nothing here yet\n"
			"\n",
		.expect = {
			"test.yaml:1:1: error: empty policy file: expected a mapping with 'version' and 'tenants'",
		},
	},
	{
		.name = "top level a list",
		.yaml = "- version: 1\n"
			"- tenants: []\n",
		.expect = {
			"test.yaml:1:1: error: a policy file must be a mapping with 'version' and 'tenants', not a list",
		},
	},
	{
		.name = "top level a scalar",
		.yaml = "plumwall\n",
		.expect = {
			"test.yaml:1:1: error: a policy file must be a mapping with 'version' and 'tenants', not a string 'plumwall'",
		},
	},
	{
		.name = "invalid UTF-8",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\377\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:12: error: YAML syntax error: invalid leading UTF-8 octet",
		},
	},
	{
		.name = "nesting too deep",
		.yaml = "version: 1\n"
			"tenants: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
		.expect = {
			"test.yaml:2:73: error: YAML nesting deeper than 64 levels",
		},
	},
	{
		.name = "alias bomb",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    x: &a [x, x, x, x, x, x, x, x, x, x]\n"
			"    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			"    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			"    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			"    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			"    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
			"    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
		.expect = {
			"test.yaml:1:1: error: document expands to more than 4000000 nodes through aliases",
		},
	},

	/* Aliases point where they are used */
	{
		.name = "alias of the wrong type",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: &n a\n"
			"    interfaces: *n\n",
		.expect = {
			"test.yaml:4:17: error: 'interfaces' must be a list, not a string 'a'",
		},
	},
	{
		.name = "interfaces shared by alias clash",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: &ifs [eth0]\n"
			"  - name: b\n"
			"    interfaces: *ifs\n",
		.expect = {
			"test.yaml:6:17: error: untagged traffic on interface 'eth0' is already owned by tenant 'a' (test.yaml:3:5)",
		},
	},
	{
		.name = "tenant template merged twice",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - &base\n"
			"    name: a\n"
			"    interfaces: [eth0]\n"
			"    vlans: [10]\n"
			"  - <<: *base\n"
			"    name: b\n"
			"  - *base\n",
		.expect = {
			"test.yaml:7:5: error: VLAN 10 on interface 'eth0' is already owned by tenant 'a' (test.yaml:3:5)",
			"test.yaml:9:5: error: duplicate tenant name 'a' (first defined at test.yaml:3:5)",
			"test.yaml:9:5: error: VLAN 10 on interface 'eth0' is already owned by tenant 'a' (test.yaml:3:5)",
		},
	},
	{
		.name = "merged rule keeps the name",
		.yaml = "version: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - &web\n"
			"        name: web\n"
			"        from: any\n"
			"        to: any\n"
			"        proto: tcp\n"
			"        ports: [80]\n"
			"        action: allow\n"
			"      - <<: *web\n"
			"        ports: [443]\n",
		.expect = {
			"test.yaml:13:9: error: duplicate rule name 'web' in tenant 'a' (first defined at test.yaml:6:9)",
		},
	},

	/* Many errors in one run, in location order */
	{
		.name = "many errors in one policy",
		.yaml = "version: 1\n"
			"settings:\n"
			"  unmatched: reject\n"
			"  log_rate: fast\n"
			"segments:\n"
			"  web: [10.1.1.5/24]\n"
			"  Db: [10.1.2.0/24]\n"
			"rules:\n"
			"  - name: dns\n"
			"    from: any\n"
			"    to: resolvers\n"
			"    proto: udp\n"
			"    ports: [53, 70000]\n"
			"    action: allow\n"
			"tenants:\n"
			"  - name: acme\n"
			"    id: 0\n"
			"    interfaces: [eth0]\n"
			"    default: drop\n"
			"    segments:\n"
			"      app: [\"fd00::1/64\"]\n"
			"    rules:\n"
			"      - name: web-to-db\n"
			"        from: web\n"
			"        to: dbb\n"
			"        proto: icmp\n"
			"        ports: [5432]\n"
			"        action: allow\n"
			"        prots: [80]\n"
			"  - name: acme\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:3:14: error: 'unmatched' must be allow or deny, not 'reject'",
			"test.yaml:4:13: error: 'log_rate' must be an integer from 0 to 1000000, not a string 'fast'",
			"test.yaml:6:9: error: prefix '10.1.1.5/24' has host bits set: did you mean 10.1.1.0/24?",
			"test.yaml:7:3: error: invalid segment name 'Db': names are 1 to 31 characters of a-z, 0-9, '_' and '-', starting with a letter",
			"test.yaml:11:9: error: undefined segment 'resolvers' in global rules",
			"test.yaml:13:17: error: port 70000 is out of range 0 to 65535",
			"test.yaml:17:9: error: 'id' must be from 1 to 65535, not 0",
			"test.yaml:19:14: error: 'default' must be allow, deny or reject, not 'drop'",
			"test.yaml:21:13: error: prefix 'fd00::1/64' has host bits set: did you mean fd00::/64?",
			"test.yaml:25:13: error: undefined segment 'dbb' in tenant 'acme'",
			"test.yaml:27:16: error: 'ports' needs proto tcp or udp, but the rule's proto is icmp",
			"test.yaml:29:9: error: unknown key 'prots' in rule",
			"test.yaml:30:11: error: duplicate tenant name 'acme' (first defined at test.yaml:16:5)",
			"test.yaml:31:18: error: untagged traffic on interface 'eth0' is already owned by tenant 'acme' (test.yaml:16:5)",
		},
	},
	{
		.name = "every problem, not only the first",
		.yaml = "version: 3\n"
			"prots: 1\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n",
		.expect = {
			"test.yaml:1:10: error: unsupported policy version 3: this plumwall reads version 1",
			"test.yaml:2:1: error: unknown key 'prots' in policy",
		},
	},
	{
		.name = "top-level errors do not hide the rest",
		.yaml = "version: \"1\"\n"
			"settings:\n"
			"  unmatched: allow\n"
			"rules: {}\n"
			"tenants:\n"
			"  - name: a\n"
			"    interfaces: [eth0]\n"
			"    rules:\n"
			"      - name: r\n"
			"        from: nowhere\n"
			"        to: any\n"
			"        action: allow\n",
		.expect = {
			"test.yaml:1:10: error: 'version' must be the integer 1, not a string '1'",
			"test.yaml:4:8: error: 'rules' must be a list, not a mapping",
			"test.yaml:10:15: error: undefined segment 'nowhere' in tenant 'a'",
		},
	},
};

START_TEST(test_bad_policy)
{
	const struct bad_policy *c = &bad_policies[_i];

	ck_assert_msg(c->expect[0], "%s: no diagnostics expected?", c->name);
	ck_assert_msg(!c->expect[MAX_EXPECT - 1], "%s: raise MAX_EXPECT",
		      c->name);
	load_bad(c->name, c->yaml, c->expect);
}
END_TEST

/* ---- what loads, and how -------------------------------------------------- */

static void assert_loc(const struct pw_loc *loc, uint32_t line, uint32_t col)
{
	ck_assert_str_eq(loc->file, "test.yaml");
	ck_assert_uint_eq(loc->line, line);
	ck_assert_uint_eq(loc->col, col);
}

static void assert_prefix(const struct pw_prefix *p, const char *text)
{
	char buf[PW_PREFIX_STRLEN];

	ck_assert_str_eq(pw_prefix_str(p, false, buf, sizeof(buf)), text);
}

START_TEST(test_example_policy)
{
	struct policy *pol = fixture_load_ok(fixture_spec_example);
	const struct policy_segment *dns, *web, *db;
	const struct policy_tenant *t;
	const struct policy_rule *r;

	ck_assert_str_eq(pol->path, "test.yaml");
	ck_assert_uint_eq(pol->n_files, 1);

	ck_assert_uint_eq(pol->n_segments, 1);
	dns = &pol->segments[0];
	ck_assert_str_eq(dns->name, "dns");
	ck_assert_int_eq(dns->tenant, -1);
	ck_assert_uint_eq(dns->order, 0);
	ck_assert_uint_eq(dns->n_prefixes, 1);
	assert_prefix(&dns->prefixes[0], "10.0.0.53/32");
	assert_loc(&dns->loc, 3, 3);
	assert_loc(&dns->prefix_locs[0], 3, 9);

	ck_assert_uint_eq(pol->n_rules, 1);
	r = &pol->rules[0];
	ck_assert_str_eq(r->name, "dns");
	assert_loc(&r->loc, 5, 5);
	ck_assert_int_eq(r->tenant, -1);
	ck_assert_uint_eq(r->id, 0);
	ck_assert_uint_eq(r->n_from, 1);
	ck_assert_int_eq(r->from[0].kind, POLICY_SEL_ANY);
	ck_assert_uint_eq(r->n_to, 1);
	ck_assert_int_eq(r->to[0].kind, POLICY_SEL_SEGMENT);
	ck_assert_ptr_eq(r->to[0].segment, dns);
	ck_assert_int_eq(r->proto, POLICY_PROTO_UDP);
	assert_loc(&r->proto_loc, 8, 12);
	ck_assert_uint_eq(r->n_ports, 1);
	ck_assert_uint_eq(r->ports[0].lo, 53);
	ck_assert_uint_eq(r->ports[0].hi, 53);
	ck_assert_int_eq(r->action, POLICY_ACTION_ALLOW);
	ck_assert(!r->log);

	ck_assert_uint_eq(pol->n_tenants, 1);
	t = &pol->tenants[0];
	ck_assert_str_eq(t->name, "acme");
	assert_loc(&t->loc, 12, 5);
	ck_assert_uint_eq(t->id, 1);
	ck_assert(!t->id_explicit);
	ck_assert_uint_eq(t->n_interfaces, 1);
	ck_assert_str_eq(t->interfaces[0].name, "acme0");
	ck_assert_uint_eq(t->n_vlans, 0);
	ck_assert_uint_eq(t->n_segments, 2);
	web = &t->segments[0];
	db = &t->segments[1];
	ck_assert_str_eq(web->name, "web");
	ck_assert_str_eq(db->name, "db");
	ck_assert_int_eq(web->tenant, 0);
	ck_assert_uint_eq(web->order, 1);
	ck_assert_uint_eq(db->order, 2);
	assert_prefix(&db->prefixes[0], "10.1.2.0/24");

	ck_assert_uint_eq(t->n_rules, 2);
	r = &t->rules[0];
	ck_assert_str_eq(r->name, "web-to-db");
	ck_assert_int_eq(r->tenant, 0);
	ck_assert_uint_eq(r->index, 0);
	ck_assert_uint_eq(r->id, 1);
	ck_assert_ptr_eq(r->from[0].segment, web);
	ck_assert_ptr_eq(r->to[0].segment, db);
	ck_assert_int_eq(r->proto, POLICY_PROTO_TCP);
	ck_assert_uint_eq(r->ports[0].lo, 5432);
	r = &t->rules[1];
	ck_assert_str_eq(r->name, "web-out");
	ck_assert_uint_eq(r->index, 1);
	ck_assert_uint_eq(r->id, 2);
	ck_assert_int_eq(r->to[0].kind, POLICY_SEL_EXTERNAL);
	assert_loc(&r->to[0].loc, 26, 13);
	ck_assert_uint_eq(r->n_ports, 2);
	ck_assert_uint_eq(r->ports[1].lo, 443);
	assert_loc(&r->ports[1].loc, 28, 21);
	ck_assert(r->log);

	ck_assert_uint_eq(pol->n_rules_total, 3);
	ck_assert_ptr_eq(policy_rule_by_id(pol, 0), &pol->rules[0]);
	ck_assert_ptr_eq(policy_rule_by_id(pol, 2), &t->rules[1]);
	ck_assert_ptr_null(policy_rule_by_id(pol, 3));

	ck_assert_ptr_eq(policy_find_segment(pol, 0, "dns"), dns);
	ck_assert_ptr_eq(policy_find_segment(pol, 0, "db"), db);
	ck_assert_ptr_null(policy_find_segment(pol, -1, "db"));
	ck_assert_uint_eq(dns->n_refs, 1);
	ck_assert_uint_eq(web->n_refs, 2);
	ck_assert_uint_eq(db->n_refs, 1);
	policy_free(pol);
}
END_TEST

START_TEST(test_defaults)
{
	static const uint32_t timeouts[POLICY_TIMEOUT_COUNT] = {
		[POLICY_TIMEOUT_TCP_SYN] = 30,
		[POLICY_TIMEOUT_TCP_ESTABLISHED] = 7200,
		[POLICY_TIMEOUT_TCP_CLOSING] = 30,
		[POLICY_TIMEOUT_UDP] = 60,
		[POLICY_TIMEOUT_ICMP] = 30,
		[POLICY_TIMEOUT_OTHER] = 60,
	};
	struct policy *pol = fixture_load_ok("version: 1\n"
					     "tenants:\n"
					     "  - name: a\n"
					     "    interfaces: [eth0]\n"
					     "    rules:\n"
					     "      - name: r\n"
					     "        from: any\n"
					     "        to: any\n"
					     "        action: reject\n"
					     "  - name: b\n"
					     "    interfaces: [eth1]\n"
					     "    default: allow\n"
					     "  - name: c\n"
					     "    interfaces: [eth2]\n"
					     "    default: reject\n"
					     "  - name: d\n"
					     "    interfaces: [eth3]\n"
					     "    default: deny\n"
					     "    log_default: false\n"
					     "  - name: e\n"
					     "    interfaces: [eth4]\n"
					     "    default: allow\n"
					     "    log_default: true\n"
					     "    mode: audit\n"
					     "    flow_logs: true\n");
	const struct policy_tenant *t = pol->tenants;
	const struct policy_rule *r = &t[0].rules[0];
	int i;

	ck_assert_int_eq(pol->settings.unmatched, POLICY_ACTION_DENY);
	ck_assert_int_eq(pol->settings.non_ip, POLICY_ACTION_ALLOW);
	ck_assert_uint_eq(pol->settings.log_rate, 100);
	ck_assert_uint_eq(pol->settings.ct_max_entries, 262144);
	for (i = 0; i < POLICY_TIMEOUT_COUNT; i++)
		ck_assert_uint_eq(pol->settings.timeouts[i], timeouts[i]);
	ck_assert_uint_eq(pol->n_segments, 0);
	ck_assert_uint_eq(pol->n_rules, 0);

	ck_assert_uint_eq(pol->n_tenants, 5);
	ck_assert_int_eq(t[0].default_action, POLICY_ACTION_DENY);
	ck_assert(t[0].log_default);
	ck_assert_int_eq(t[0].mode, POLICY_MODE_ENFORCE);
	ck_assert(!t[0].flow_logs);
	ck_assert_uint_eq(t[0].n_vlans, 0);
	ck_assert_uint_eq(t[0].n_segments, 0);
	ck_assert_int_eq(t[1].default_action, POLICY_ACTION_ALLOW);
	ck_assert(!t[1].log_default);
	ck_assert_uint_eq(t[1].n_rules, 0);
	ck_assert_int_eq(t[2].default_action, POLICY_ACTION_REJECT);
	ck_assert(t[2].log_default);
	ck_assert_int_eq(t[3].default_action, POLICY_ACTION_DENY);
	ck_assert(!t[3].log_default);
	ck_assert_int_eq(t[4].default_action, POLICY_ACTION_ALLOW);
	ck_assert(t[4].log_default);
	ck_assert_int_eq(t[4].mode, POLICY_MODE_AUDIT);
	ck_assert(t[4].flow_logs);

	/* A rule's defaults: every protocol, port and type, no logging;
	 * proto_loc is the rule's own place when proto is not given. */
	ck_assert_int_eq(r->proto, POLICY_PROTO_ANY);
	assert_loc(&r->proto_loc, 6, 9);
	ck_assert_uint_eq(r->n_ports, 0);
	ck_assert_uint_eq(r->n_icmp, 0);
	ck_assert_int_eq(r->action, POLICY_ACTION_REJECT);
	ck_assert(!r->log);
	policy_free(pol);
}
END_TEST

START_TEST(test_settings)
{
	struct policy *pol = fixture_load_ok("version: 1\n"
					     "settings:\n"
					     "  unmatched: allow\n"
					     "  non_ip: deny\n"
					     "  log_rate: 0\n"
					     "  conntrack:\n"
					     "    max_entries: 1024\n"
					     "    timeouts:\n"
					     "      tcp_established: 2419200\n"
					     "      icmp: 1\n"
					     "tenants:\n"
					     "  - name: a\n"
					     "    interfaces: [eth0]\n");

	ck_assert_int_eq(pol->settings.unmatched, POLICY_ACTION_ALLOW);
	ck_assert_int_eq(pol->settings.non_ip, POLICY_ACTION_DENY);
	ck_assert_uint_eq(pol->settings.log_rate, 0);
	ck_assert_uint_eq(pol->settings.ct_max_entries, 1024);
	ck_assert_uint_eq(
		pol->settings.timeouts[POLICY_TIMEOUT_TCP_ESTABLISHED],
		2419200);
	ck_assert_uint_eq(pol->settings.timeouts[POLICY_TIMEOUT_ICMP], 1);
	/* the others keep their defaults */
	ck_assert_uint_eq(pol->settings.timeouts[POLICY_TIMEOUT_TCP_SYN], 30);
	ck_assert_uint_eq(pol->settings.timeouts[POLICY_TIMEOUT_OTHER], 60);
	policy_free(pol);
}
END_TEST

/*
 * A tenant without an id gets the smallest id that no tenant with an
 * explicit id and no earlier tenant uses, in file order.
 */
START_TEST(test_tenant_ids)
{
	struct policy *pol = fixture_load_ok("version: 1\n"
					     "tenants:\n"
					     "  - name: a\n"
					     "    interfaces: [eth0]\n"
					     "  - name: b\n"
					     "    id: 1\n"
					     "    interfaces: [eth1]\n"
					     "  - name: c\n"
					     "    interfaces: [eth2]\n");

	ck_assert_uint_eq(pol->tenants[0].id, 2);
	ck_assert(!pol->tenants[0].id_explicit);
	ck_assert_uint_eq(pol->tenants[1].id, 1);
	ck_assert(pol->tenants[1].id_explicit);
	ck_assert_uint_eq(pol->tenants[2].id, 3);
	policy_free(pol);

	pol = fixture_load_ok("version: 1\n"
			      "tenants:\n"
			      "  - name: a\n"
			      "    id: 2\n"
			      "    interfaces: [eth0]\n"
			      "  - name: b\n"
			      "    interfaces: [eth1]\n"
			      "  - name: c\n"
			      "    interfaces: [eth2]\n"
			      "  - name: d\n"
			      "    id: 3\n"
			      "    interfaces: [eth3]\n"
			      "  - name: e\n"
			      "    interfaces: [eth4]\n"
			      "  - name: f\n"
			      "    id: 65535\n"
			      "    interfaces: [eth5]\n");
	ck_assert_uint_eq(pol->tenants[0].id, 2);
	ck_assert_uint_eq(pol->tenants[1].id, 1);
	ck_assert_uint_eq(pol->tenants[2].id, 4);
	ck_assert_uint_eq(pol->tenants[3].id, 3);
	ck_assert_uint_eq(pol->tenants[4].id, 5);
	ck_assert_uint_eq(pol->tenants[5].id, 65535);
	policy_free(pol);
}
END_TEST

/* `5` is an integer, `"5"` a string (the table has the refusals). */
START_TEST(test_scalar_types)
{
	struct policy *pol =
		fixture_load_ok("version: 1\n"
				"tenants:\n"
				"  - name: a\n"
				"    id: 5\n"
				"    interfaces: [eth0]\n"
				"    vlans: [1, 4094, 0x10]\n"
				"    flow_logs: True\n"
				"    rules:\n"
				"      - name: r\n"
				"        from: any\n"
				"        to: any\n"
				"        proto: tcp\n"
				"        ports: [80, \"443\", 8000-8100]\n"
				"        action: allow\n"
				"        log: FALSE\n");
	const struct policy_tenant *t = &pol->tenants[0];

	ck_assert_uint_eq(t->id, 5);
	ck_assert(t->id_explicit);
	ck_assert_uint_eq(t->n_vlans, 3);
	ck_assert_uint_eq(t->vlans[0].id, 1);
	ck_assert_uint_eq(t->vlans[1].id, 4094);
	ck_assert_uint_eq(t->vlans[2].id, 16);
	ck_assert(t->flow_logs);
	/* Ports are text when quoted or ranges (policy.md section 5). */
	ck_assert_uint_eq(t->rules[0].n_ports, 3);
	ck_assert_uint_eq(t->rules[0].ports[1].lo, 443);
	ck_assert_uint_eq(t->rules[0].ports[2].lo, 8000);
	ck_assert_uint_eq(t->rules[0].ports[2].hi, 8100);
	ck_assert(!t->rules[0].log);
	policy_free(pol);
}
END_TEST

/* Explicit core-schema tags are fine and decide the type. */
START_TEST(test_core_tags)
{
	struct policy *pol = fixture_load_ok("version: !!int 1\n"
					     "tenants: !!seq\n"
					     "  - !!map\n"
					     "    name: !!str a\n"
					     "    id: !!int \"7\"\n"
					     "    interfaces: [!!str eth0]\n"
					     "    flow_logs: !!bool \"true\"\n"
					     "    rules:\n"
					     "      - name: !!str 42\n"
					     "        from: any\n"
					     "        to: any\n"
					     "        action: allow\n");

	ck_assert_uint_eq(pol->tenants[0].id, 7);
	ck_assert(pol->tenants[0].flow_logs);
	ck_assert_str_eq(pol->tenants[0].rules[0].name, "42");
	policy_free(pol);
}
END_TEST

START_TEST(test_selectors_and_prefixes)
{
	struct policy *pol = fixture_load_ok(
		"version: 1\n"
		"tenants:\n"
		"  - name: a\n"
		"    interfaces: [eth0]\n"
		"    segments:\n"
		"      web: [10.1.1.0/24, \"fd00:1::/64\", 10.1.9.10, \"fd00::10\", 0.0.0.0/0]\n"
		"    rules:\n"
		"      - name: r\n"
		"        from: [web, 192.0.2.1, \"2001:db8::/32\", 10.0.0.0/8]\n"
		"        to: [any, external]\n"
		"        action: deny\n");
	const struct policy_segment *web = &pol->tenants[0].segments[0];
	const struct policy_rule *r = &pol->tenants[0].rules[0];

	ck_assert_uint_eq(web->n_prefixes, 5);
	assert_prefix(&web->prefixes[0], "10.1.1.0/24");
	assert_prefix(&web->prefixes[1], "fd00:1::/64");
	/* a bare address is a /32 or a /128 */
	assert_prefix(&web->prefixes[2], "10.1.9.10/32");
	ck_assert_uint_eq(web->prefixes[2].family, PW_AF_INET);
	assert_prefix(&web->prefixes[3], "fd00::10/128");
	ck_assert_uint_eq(web->prefixes[3].family, PW_AF_INET6);
	assert_prefix(&web->prefixes[4], "0.0.0.0/0");

	ck_assert_uint_eq(r->n_from, 4);
	ck_assert_int_eq(r->from[0].kind, POLICY_SEL_SEGMENT);
	ck_assert_ptr_eq(r->from[0].segment, web);
	ck_assert_int_eq(r->from[1].kind, POLICY_SEL_PREFIX);
	assert_prefix(&r->from[1].prefix, "192.0.2.1/32");
	assert_prefix(&r->from[2].prefix, "2001:db8::/32");
	assert_prefix(&r->from[3].prefix, "10.0.0.0/8");
	assert_loc(&r->from[3].loc, 9, 49);
	ck_assert_uint_eq(r->n_to, 2);
	ck_assert_int_eq(r->to[0].kind, POLICY_SEL_ANY);
	ck_assert_int_eq(r->to[1].kind, POLICY_SEL_EXTERNAL);
	policy_free(pol);
}
END_TEST

START_TEST(test_protocols)
{
	struct policy *pol = fixture_load_ok(
		"version: 1\n"
		"tenants:\n"
		"  - name: a\n"
		"    interfaces: [eth0]\n"
		"    rules:\n"
		"      - name: tcp-by-number\n"
		"        from: any\n"
		"        to: any\n"
		"        proto: 6\n"
		"        ports: [22, \"0-65535\", 0]\n"
		"        action: allow\n"
		"      - name: ping\n"
		"        from: any\n"
		"        to: any\n"
		"        proto: icmp\n"
		"        icmp: [echo-request, destination-unreachable, 3, 255, timestamp-reply]\n"
		"        action: allow\n"
		"      - name: nd\n"
		"        from: any\n"
		"        to: any\n"
		"        proto: icmpv6\n"
		"        icmp: [neighbor-solicitation, neighbor-advertisement, echo-request, packet-too-big]\n"
		"        action: allow\n"
		"      - name: ra-by-number\n"
		"        from: any\n"
		"        to: any\n"
		"        proto: 58\n"
		"        icmp: [router-advertisement]\n"
		"        action: allow\n"
		"      - name: gre\n"
		"        from: any\n"
		"        to: any\n"
		"        proto: 47\n"
		"        action: allow\n"
		"      - name: everything\n"
		"        from: any\n"
		"        to: any\n"
		"        proto: any\n"
		"        action: deny\n");
	const struct policy_rule *r = pol->tenants[0].rules;

	ck_assert_int_eq(r[0].proto, POLICY_PROTO_TCP);
	ck_assert_uint_eq(r[0].n_ports, 3);
	ck_assert_uint_eq(r[0].ports[1].lo, 0);
	ck_assert_uint_eq(r[0].ports[1].hi, 65535);
	ck_assert_uint_eq(r[0].ports[2].hi, 0);

	ck_assert_int_eq(r[1].proto, POLICY_PROTO_ICMP);
	ck_assert_uint_eq(r[1].n_icmp, 5);
	ck_assert_uint_eq(r[1].icmp[0].type, 8);
	ck_assert_uint_eq(r[1].icmp[1].type, 3);
	ck_assert_uint_eq(r[1].icmp[2].type, 3);
	ck_assert_uint_eq(r[1].icmp[3].type, 255);
	ck_assert_uint_eq(r[1].icmp[4].type, 14);

	ck_assert_int_eq(r[2].proto, POLICY_PROTO_ICMPV6);
	ck_assert_uint_eq(r[2].icmp[0].type, 135);
	ck_assert_uint_eq(r[2].icmp[1].type, 136);
	ck_assert_uint_eq(r[2].icmp[2].type, 128);
	ck_assert_uint_eq(r[2].icmp[3].type, 2);

	ck_assert_int_eq(r[3].proto, POLICY_PROTO_ICMPV6);
	ck_assert_uint_eq(r[3].icmp[0].type, 134);
	ck_assert_int_eq(r[4].proto, 47);
	ck_assert_int_eq(r[5].proto, POLICY_PROTO_ANY);
	policy_free(pol);
}
END_TEST

/*
 * Not conflicts: untagged and tagged traffic of one interface, the same
 * VLAN on different interfaces, the same segment name in two tenants, the
 * same rule name in the global list and a tenant's.
 */
START_TEST(test_no_conflict)
{
	struct policy *pol = fixture_load_ok("version: 1\n"
					     "rules:\n"
					     "  - name: r\n"
					     "    from: any\n"
					     "    to: any\n"
					     "    proto: icmp\n"
					     "    action: allow\n"
					     "tenants:\n"
					     "  - name: a\n"
					     "    interfaces: [eth0]\n"
					     "    segments:\n"
					     "      web: [10.0.0.0/24]\n"
					     "    rules:\n"
					     "      - name: r\n"
					     "        from: web\n"
					     "        to: any\n"
					     "        action: allow\n"
					     "  - name: b\n"
					     "    interfaces: [eth0]\n"
					     "    vlans: [10]\n"
					     "    segments:\n"
					     "      web: [10.0.0.0/24]\n"
					     "    rules:\n"
					     "      - name: r\n"
					     "        from: web\n"
					     "        to: any\n"
					     "        action: allow\n"
					     "  - name: c\n"
					     "    interfaces: [eth1]\n"
					     "    vlans: [10]\n");

	ck_assert_uint_eq(pol->n_tenants, 3);
	ck_assert_ptr_eq(pol->tenants[0].rules[0].from[0].segment,
			 &pol->tenants[0].segments[0]);
	ck_assert_ptr_eq(pol->tenants[1].rules[0].from[0].segment,
			 &pol->tenants[1].segments[0]);
	ck_assert_uint_eq(pol->n_rules_total, 3);
	policy_free(pol);
}
END_TEST

/*
 * Anchors and merge keys: a rule that doubles as a template, explicit keys
 * over merged ones, the first of several merged mappings winning, aliased
 * lists shared between segments and tenants.
 */
START_TEST(test_anchors_and_merge_keys)
{
	struct policy *pol = fixture_load_ok(
		"version: 1\n"
		"segments:\n"
		"  dns: &resolvers [10.0.0.53, \"fd00::53\"]\n"
		"  dns-backup: *resolvers\n"
		"tenants:\n"
		"  - name: a\n"
		"    interfaces: &trunk [eth1, eth2]\n"
		"    vlans: [100]\n"
		"    rules:\n"
		"      - &tcp-allow\n"
		"        name: ssh\n"
		"        from: any\n"
		"        to: dns\n"
		"        proto: tcp\n"
		"        ports: [22]\n"
		"        action: allow\n"
		"        log: true\n"
		"      - <<: *tcp-allow\n"
		"        name: https\n"
		"        ports: [443]\n"
		"      - <<: [*tcp-allow, {proto: udp, action: reject, to: dns-backup}]\n"
		"        name: merged-list\n"
		"        ports: [\"1-1024\"]\n"
		"  - name: b\n"
		"    interfaces: *trunk\n"
		"    vlans: [200]\n"
		"    rules:\n"
		"      - *tcp-allow\n");
	const struct policy_tenant *a = &pol->tenants[0], *b = &pol->tenants[1];
	const struct policy_rule *r;

	ck_assert_uint_eq(pol->n_segments, 2);
	ck_assert_str_eq(pol->segments[1].name, "dns-backup");
	ck_assert_uint_eq(pol->segments[1].n_prefixes, 2);
	assert_prefix(&pol->segments[1].prefixes[1], "fd00::53/128");

	ck_assert_uint_eq(a->n_rules, 3);
	r = &a->rules[0];
	ck_assert_str_eq(r->name, "ssh");
	ck_assert_uint_eq(r->ports[0].lo, 22);

	r = &a->rules[1];
	ck_assert_str_eq(r->name, "https");
	assert_loc(&r->loc, 18, 9);
	ck_assert_int_eq(r->proto, POLICY_PROTO_TCP);
	ck_assert_uint_eq(r->n_ports, 1);
	ck_assert_uint_eq(r->ports[0].lo, 443);
	ck_assert_ptr_eq(r->to[0].segment, &pol->segments[0]);
	ck_assert_int_eq(r->action, POLICY_ACTION_ALLOW);
	ck_assert(r->log);

	/* The first merged mapping wins over the second. */
	r = &a->rules[2];
	ck_assert_str_eq(r->name, "merged-list");
	ck_assert_int_eq(r->proto, POLICY_PROTO_TCP);
	ck_assert_int_eq(r->action, POLICY_ACTION_ALLOW);
	ck_assert_ptr_eq(r->to[0].segment, &pol->segments[0]);
	ck_assert_uint_eq(r->ports[0].lo, 1);
	ck_assert_uint_eq(r->ports[0].hi, 1024);
	ck_assert(r->log);

	ck_assert_uint_eq(b->n_interfaces, 2);
	ck_assert_str_eq(b->interfaces[1].name, "eth2");
	ck_assert_uint_eq(b->vlans[0].id, 200);
	ck_assert_uint_eq(b->n_rules, 1);
	ck_assert_str_eq(b->rules[0].name, "ssh");
	ck_assert_uint_eq(b->rules[0].id, 3);
	ck_assert_uint_eq(pol->segments[0].n_refs, 4);
	policy_free(pol);
}
END_TEST

/* ---- files and directories ------------------------------------------------ */

struct tmpdir {
	char path[64];
};

static void tmpdir_make(struct tmpdir *d)
{
	strcpy(d->path, "/tmp/plumwall-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(d->path));
}

static void tmpdir_write(const struct tmpdir *d, const char *name,
			 const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void tmpdir_remove(const struct tmpdir *d)
{
	ck_assert_int_eq(fixture_remove_tree(d->path), 0);
}

/* policy_load(@path) fails with @ret and exactly @expect, with "DIR" in
 * @expect standing for the directory. */
static void load_path_bad(const struct tmpdir *d, const char *path,
			  int ret_want, const char *expect)
{
	struct policy *pol = (struct policy *)1;
	struct pw_diags diags;
	char *text, *want = NULL, *p;
	const char *e;
	size_t len = 0;
	FILE *f;
	int ret;

	pw_diags_init(&diags);
	ret = policy_load(path, &diags, &pol);
	text = fixture_diags_text(&diags);
	f = open_memstream(&want, &len);
	ck_assert_ptr_nonnull(f);
	for (e = expect; *e;) {
		p = strstr(e, "DIR");
		if (!p) {
			fputs(e, f);
			break;
		}
		fwrite(e, 1, (size_t)(p - e), f);
		fputs(d->path, f);
		e = p + 3;
	}
	fclose(f);
	ck_assert_msg(ret == ret_want, "policy_load returned %d, not %d:\n%s",
		      ret, ret_want, text);
	ck_assert_ptr_null(pol);
	ck_assert_msg(!strcmp(text, want),
		      "diagnostics differ\n--- expected:\n%s--- got:\n%s", want,
		      text);
	free(text);
	free(want);
	pw_diags_free(&diags);
}

START_TEST(test_directory_merge)
{
	struct pw_diags diags;
	struct policy *pol = NULL;
	struct tmpdir d;
	char path[128];
	int ret;

	tmpdir_make(&d);
	/* Byte order of names: "10-x.yml" < "B.yaml" < "a.yaml". */
	tmpdir_write(&d, "a.yaml",
		     "version: 1\n"
		     "segments:\n"
		     "  ntp: [10.0.0.123]\n"
		     "tenants:\n"
		     "  - name: alpha\n"
		     "    interfaces: [eth1]\n"
		     "    rules:\n"
		     "      - name: time\n"
		     "        from: any\n"
		     "        to: [ntp, dns]\n"
		     "        proto: udp\n"
		     "        ports: [53, 123]\n"
		     "        action: allow\n");
	tmpdir_write(&d, "B.yaml",
		     "version: 1\n"
		     "tenants:\n"
		     "  - name: beta\n"
		     "    interfaces: [eth2]\n");
	tmpdir_write(&d, "10-x.yml",
		     "version: 1\n"
		     "settings:\n"
		     "  log_rate: 50\n"
		     "segments:\n"
		     "  dns: [10.0.0.53]\n"
		     "rules:\n"
		     "  # uses a segment of a later file\n"
		     "  - name: time\n"
		     "    from: any\n"
		     "    to: ntp\n"
		     "    proto: udp\n"
		     "    ports: [123]\n"
		     "    action: allow\n"
		     "tenants:\n"
		     "  - name: gamma\n"
		     "    interfaces: [eth3]\n");
	/* Not policy files: other suffixes, hidden files, directories. */
	tmpdir_write(&d, "README", "not: [yaml\n");
	tmpdir_write(&d, "a.yaml.orig", "not: [yaml\n");
	tmpdir_write(&d, ".a.yaml.swp", "not: [yaml\n");
	tmpdir_write(&d, ".hidden.yaml", "not: [yaml\n");
	snprintf(path, sizeof(path), "%s/sub.yaml", d.path);
	ck_assert_int_eq(mkdir(path, 0700), 0);

	pw_diags_init(&diags);
	ret = policy_load(d.path, &diags, &pol);
	ck_assert_msg(ret == 0 && diags.count == 0, "ret %d, %zu diagnostics",
		      ret, diags.count);
	ck_assert_str_eq(pol->path, d.path);
	ck_assert_uint_eq(pol->n_files, 3);
	snprintf(path, sizeof(path), "%s/10-x.yml", d.path);
	ck_assert_str_eq(pol->files[0], path);
	snprintf(path, sizeof(path), "%s/a.yaml", d.path);
	ck_assert_str_eq(pol->files[2], path);

	/* tenants concatenated in file order, ids in that order */
	ck_assert_uint_eq(pol->n_tenants, 3);
	ck_assert_str_eq(pol->tenants[0].name, "gamma");
	ck_assert_str_eq(pol->tenants[1].name, "beta");
	ck_assert_str_eq(pol->tenants[2].name, "alpha");
	ck_assert_uint_eq(pol->tenants[0].id, 1);
	ck_assert_uint_eq(pol->tenants[2].id, 3);
	/* segments united, in file order */
	ck_assert_uint_eq(pol->n_segments, 2);
	ck_assert_str_eq(pol->segments[0].name, "dns");
	ck_assert_str_eq(pol->segments[1].name, "ntp");
	ck_assert_str_eq(pol->segments[1].loc.file, path);
	ck_assert_uint_eq(pol->settings.log_rate, 50);
	ck_assert_uint_eq(pol->n_rules, 1);
	ck_assert_ptr_eq(pol->rules[0].to[0].segment, &pol->segments[1]);
	ck_assert_ptr_eq(pol->tenants[2].rules[0].to[1].segment,
			 &pol->segments[0]);
	policy_free(pol);
	pw_diags_free(&diags);

	/* A trailing slash changes nothing but the path. */
	snprintf(path, sizeof(path), "%s/", d.path);
	pw_diags_init(&diags);
	ck_assert_int_eq(policy_load(path, &diags, &pol), 0);
	ck_assert_uint_eq(pol->n_tenants, 3);
	policy_free(pol);
	pw_diags_free(&diags);
	tmpdir_remove(&d);
}
END_TEST

START_TEST(test_directory_segment_twice)
{
	struct tmpdir d;

	tmpdir_make(&d);
	tmpdir_write(&d, "a.yaml",
		     "version: 1\n"
		     "segments:\n"
		     "  dns: [10.0.0.53]\n"
		     "tenants:\n"
		     "  - name: a\n"
		     "    interfaces: [eth0]\n");
	tmpdir_write(&d, "b.yaml",
		     "version: 1\n"
		     "segments:\n"
		     "  ntp: [10.0.0.123]\n"
		     "  dns: [10.0.0.54]\n");
	load_path_bad(
		&d, d.path, -EINVAL,
		"DIR/b.yaml:4:3: error: segment 'dns' is already defined as a global segment at DIR/a.yaml:3:3\n");
	tmpdir_remove(&d);
}
END_TEST

START_TEST(test_directory_settings_and_rules_twice)
{
	struct tmpdir d;

	tmpdir_make(&d);
	tmpdir_write(&d, "1.yaml",
		     "version: 1\n"
		     "settings:\n"
		     "  log_rate: 10\n"
		     "rules:\n"
		     "  - name: ping\n"
		     "    from: any\n"
		     "    to: any\n"
		     "    proto: icmp\n"
		     "    action: allow\n");
	tmpdir_write(&d, "2.yaml",
		     "version: 1\n"
		     "tenants:\n"
		     "  - name: a\n"
		     "    interfaces: [eth0]\n"
		     "    rules:\n"
		     "      - name: r\n"
		     "        from: any\n"
		     "        to: nowhere\n"
		     "        action: allow\n"
		     "settings:\n"
		     "  log_rate: 20\n"
		     "rules: []\n");
	/* Every file's problems, sorted by file and place. */
	load_path_bad(
		&d, d.path, -EINVAL,
		"DIR/2.yaml:8:13: error: undefined segment 'nowhere' in tenant 'a'\n"
		"DIR/2.yaml:10:1: error: 'settings' may appear in only one file (already given at DIR/1.yaml:2:1)\n"
		"DIR/2.yaml:12:1: error: global 'rules' may appear in only one file (already given at DIR/1.yaml:4:1)\n");
	tmpdir_remove(&d);
}
END_TEST

/*
 * A file that is not well-formed YAML, or of another version, is not
 * merged; every other file is checked all the same (every error of every
 * file in one run, issue 11). A segment the unread files may define is
 * reported as such, and no "no tenant" error stands in for their tenants.
 */
START_TEST(test_directory_file_errors)
{
	struct tmpdir d;

	tmpdir_make(&d);
	tmpdir_write(&d, "a.yaml",
		     "version: 1\n"
		     "tenants:\n"
		     "  - name: a\n"
		     "    interfaces: [eth0]\n"
		     "    default: drop\n"
		     "    rules:\n"
		     "      - name: r\n"
		     "        from: web\n"
		     "        to: dns\n"
		     "        action: allow\n");
	tmpdir_write(&d, "b.yaml", "segments:\n  web: [10.0.0.0/8\n");
	tmpdir_write(&d, "c.yaml", "version: 2\nprots: 1\n");
	tmpdir_write(&d, "d.yml", "");
	tmpdir_write(&d, "e.yaml",
		     "version: 1\n"
		     "segments:\n"
		     "  dns: [10.0.0.53/24]\n"
		     "tenants:\n"
		     "  - name: a\n"
		     "    interfaces: [eth1]\n");
	load_path_bad(
		&d, d.path, -EINVAL,
		"DIR/a.yaml:5:14: error: 'default' must be allow, deny or reject, not 'drop'\n"
		"DIR/a.yaml:8:15: error: undefined segment 'web' in tenant 'a'; 2 policy files were not read (they have errors) and may define it\n"
		"DIR/b.yaml:3:1: error: YAML syntax error: did not find expected ',' or ']' while parsing a flow sequence started at line 2, column 8\n"
		"DIR/c.yaml:1:10: error: unsupported policy version 2: this plumwall reads version 1\n"
		"DIR/c.yaml:2:1: error: unknown key 'prots' in policy\n"
		"DIR/d.yml:1:1: error: empty policy file: expected a mapping with 'version' and 'tenants'\n"
		"DIR/e.yaml:3:9: error: prefix '10.0.0.53/24' has host bits set: did you mean 10.0.0.0/24?\n"
		"DIR/e.yaml:5:11: error: duplicate tenant name 'a' (first defined at DIR/a.yaml:3:5)\n");
	tmpdir_remove(&d);

	/* One unread file, named; the tenants may be in it. */
	tmpdir_make(&d);
	tmpdir_write(&d, "a.yaml",
		     "version: 1\n"
		     "rules:\n"
		     "  - {name: r, from: web, to: any, action: allow}\n");
	tmpdir_write(&d, "b.yaml", "version: 1\ntenants: [\n");
	load_path_bad(
		&d, d.path, -EINVAL,
		"DIR/a.yaml:3:21: error: undefined segment 'web' in global rules; DIR/b.yaml was not read (it has errors) and may define it\n"
		"DIR/b.yaml:3:1: error: YAML syntax error: did not find expected node content while parsing a flow node\n");
	tmpdir_remove(&d);
}
END_TEST

START_TEST(test_directory_empty)
{
	struct tmpdir d;

	tmpdir_make(&d);
	load_path_bad(
		&d, d.path, -ENOENT,
		"DIR: error: policy directory has no *.yaml or *.yml files\n");
	tmpdir_write(&d, "policy.json", "{}\n");
	tmpdir_write(&d, "notes.txt", "version: 1\n");
	load_path_bad(
		&d, d.path, -ENOENT,
		"DIR: error: policy directory has no *.yaml or *.yml files\n");
	tmpdir_remove(&d);
}
END_TEST

START_TEST(test_missing_path)
{
	struct tmpdir d;
	char path[128];

	tmpdir_make(&d);
	snprintf(path, sizeof(path), "%s/nope.yaml", d.path);
	load_path_bad(
		&d, path, -ENOENT,
		"DIR/nope.yaml: error: cannot read policy: No such file or directory\n");
	tmpdir_remove(&d);
}
END_TEST

/* Paths that are not regular files are refused, never skipped and never
 * waited on (a FIFO), nor read without end (/dev/zero). */
START_TEST(test_not_regular_files)
{
	struct tmpdir d;
	char path[128], link[128];
	int fd;

	tmpdir_make(&d);
	tmpdir_write(&d, "a.yaml", fixture_spec_example);
	snprintf(link, sizeof(link), "%s/b.yaml", d.path);
	ck_assert_int_eq(symlink("/nonexistent/policy.yaml", link), 0);
	snprintf(link, sizeof(link), "%s/c.yaml", d.path);
	ck_assert_int_eq(symlink("c.yaml", link), 0);
	snprintf(path, sizeof(path), "%s/d.yaml", d.path);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/e.yml", d.path);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	load_path_bad(
		&d, d.path, -EINVAL,
		"DIR/b.yaml: error: cannot read policy file: No such file or directory (a symbolic link to nothing)\n"
		"DIR/c.yaml: error: cannot read policy file: Too many levels of symbolic links\n"
		"DIR/d.yaml: error: cannot read policy file: a FIFO, not a regular file\n");

	/* named directly: the FIFO is refused at once, without a writer */
	snprintf(path, sizeof(path), "%s/d.yaml", d.path);
	load_path_bad(
		&d, path, -EINVAL,
		"DIR/d.yaml: error: cannot read: a FIFO, not a regular file\n");
	load_path_bad(
		&d, "/dev/zero", -EINVAL,
		"/dev/zero: error: cannot read: a character device, not a regular file\n");

	/* too big to read into memory (sparse: no disk used) */
	snprintf(path, sizeof(path), "%s/big.yaml", d.path);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, PW_YAML_MAX_FILE + 1), 0);
	close(fd);
	load_path_bad(
		&d, path, -EINVAL,
		"DIR/big.yaml: error: cannot read: 67108865 bytes, more than the 64 MiB plumwall reads\n");
	tmpdir_remove(&d);
}
END_TEST

/* ---- the shipped example policies ------------------------------------------ */

static void load_and_free(const char *path)
{
	policy_free(fixture_load_path_ok(path));
}

START_TEST(test_example_policies)
{
	fixture_for_each_example(load_and_free);
}
END_TEST

static struct policy *load_example(const char *name)
{
	char *path = fixture_example_path(name);
	struct policy *pol = fixture_load_path_ok(path);

	free(path);
	return pol;
}

/* The examples show what their names promise. */
START_TEST(test_example_vlan_tenants)
{
	struct policy *pol = load_example("vlan-tenants.yaml");
	const struct policy_tenant *a, *b;
	uint32_t i, j;
	bool shared_if = false, overlap = false;

	ck_assert_uint_ge(pol->n_tenants, 2);
	a = &pol->tenants[0];
	b = &pol->tenants[1];
	ck_assert_uint_gt(a->n_vlans, 0);
	ck_assert_uint_gt(b->n_vlans, 0);
	for (i = 0; i < a->n_interfaces; i++)
		for (j = 0; j < b->n_interfaces; j++)
			if (!strcmp(a->interfaces[i].name,
				    b->interfaces[j].name))
				shared_if = true;
	ck_assert(shared_if);
	for (i = 0; i < a->n_segments; i++)
		for (j = 0; j < b->n_segments; j++)
			if (a->segments[i].n_prefixes &&
			    b->segments[j].n_prefixes &&
			    !pw_prefix_cmp(&a->segments[i].prefixes[0],
					   &b->segments[j].prefixes[0]))
				overlap = true;
	ck_assert(overlap);
	policy_free(pol);
}
END_TEST

START_TEST(test_example_shared_services)
{
	struct policy *pol = load_example("shared-services.yaml");
	bool audit = false, flow_logs = false;
	uint32_t i;

	ck_assert_uint_ge(pol->n_tenants, 3);
	ck_assert_uint_gt(pol->n_rules, 0);
	for (i = 0; i < pol->n_tenants; i++) {
		audit |= pol->tenants[i].mode == POLICY_MODE_AUDIT;
		flow_logs |= pol->tenants[i].flow_logs;
	}
	ck_assert(audit);
	ck_assert(flow_logs);
	policy_free(pol);
}
END_TEST

START_TEST(test_example_three_tier)
{
	struct policy *pol = load_example("three-tier.yaml");
	bool v6 = false, reject = false, logged = false, echo = false;
	const struct policy_tenant *t;
	uint32_t i, j;

	ck_assert_uint_ge(pol->n_tenants, 1);
	ck_assert_uint_gt(pol->n_rules, 0);
	t = &pol->tenants[0];
	ck_assert_ptr_nonnull(policy_find_segment(pol, 0, "lb"));
	ck_assert_ptr_nonnull(policy_find_segment(pol, 0, "web"));
	ck_assert_ptr_nonnull(policy_find_segment(pol, 0, "app"));
	ck_assert_ptr_nonnull(policy_find_segment(pol, 0, "db"));
	for (i = 0; i < t->n_segments; i++)
		for (j = 0; j < t->segments[i].n_prefixes; j++)
			v6 |= t->segments[i].prefixes[j].family == PW_AF_INET6;
	for (i = 0; i < t->n_rules; i++) {
		reject |= t->rules[i].action == POLICY_ACTION_REJECT;
		logged |= t->rules[i].log;
		for (j = 0; j < t->rules[i].n_icmp; j++)
			echo |= t->rules[i].icmp[j].type == 8;
	}
	ck_assert(v6 && reject && logged && echo);
	policy_free(pol);
}
END_TEST

static Suite *policy_load_suite(void)
{
	Suite *s = suite_create("policy_load");
	TCase *tc;

	tc = tcase_create("malformed");
	tcase_add_loop_test(tc, test_bad_policy, 0, ARRAY_SIZE(bad_policies));
	suite_add_tcase(s, tc);

	tc = tcase_create("model");
	tcase_add_test(tc, test_example_policy);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_settings);
	tcase_add_test(tc, test_tenant_ids);
	tcase_add_test(tc, test_scalar_types);
	tcase_add_test(tc, test_core_tags);
	tcase_add_test(tc, test_selectors_and_prefixes);
	tcase_add_test(tc, test_protocols);
	tcase_add_test(tc, test_no_conflict);
	tcase_add_test(tc, test_anchors_and_merge_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("files");
	tcase_add_test(tc, test_directory_merge);
	tcase_add_test(tc, test_directory_segment_twice);
	tcase_add_test(tc, test_directory_settings_and_rules_twice);
	tcase_add_test(tc, test_directory_file_errors);
	tcase_add_test(tc, test_directory_empty);
	tcase_add_test(tc, test_not_regular_files);
	tcase_add_test(tc, test_missing_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("examples");
	tcase_add_test(tc, test_example_policies);
	tcase_add_test(tc, test_example_three_tier);
	tcase_add_test(tc, test_example_vlan_tenants);
	tcase_add_test(tc, test_example_shared_services);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return fixture_run_suite(policy_load_suite());
}
