/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The validated in-memory model of a plumwall policy (spec: policy.md).
 *
 * policy_load() reads a file or directory, checks everything the language
 * defines and fills defaults, so the rest of plumwall (analysis, compiler,
 * show, trace) never sees an invalid or partial policy. Every element keeps
 * the location of the YAML node it came from for later diagnostics (the
 * shadowing analysis points at rules, the unused check at segments).
 */
#ifndef PLUMWALL_POLICY_H
#define PLUMWALL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <plumwall/addr.h>
#include <plumwall/diag.h>

/* Lengths without the terminating NUL. */
#define POLICY_NAME_MAX 31 /* tenant and segment names: [a-z][a-z0-9_-]{0,30} */
#define POLICY_RULE_NAME_MAX 63 /* rule names: [a-zA-Z0-9_.-]{1,63} */
#define POLICY_IFNAME_MAX 15 /* IFNAMSIZ - 1 */

#define POLICY_VERSION 1
#define POLICY_TENANT_ID_MIN 1
#define POLICY_TENANT_ID_MAX 65535
#define POLICY_VLAN_MIN 1
#define POLICY_VLAN_MAX 4094

/* proto: any, or an IP protocol number 0..255 */
#define POLICY_PROTO_ANY (-1)
#define POLICY_PROTO_ICMP 1
#define POLICY_PROTO_TCP 6
#define POLICY_PROTO_UDP 17
#define POLICY_PROTO_ICMPV6 58

/* Settings bounds. Timeouts of zero would expire flows at once; the upper
 * bound keeps nanosecond arithmetic of the datapath far from overflow. */
#define POLICY_CT_MAX_ENTRIES_MIN 1024
#define POLICY_CT_MAX_ENTRIES_MAX (1U << 24)
#define POLICY_TIMEOUT_MIN 1
#define POLICY_TIMEOUT_MAX (7LL * 24 * 3600 * 4) /* four weeks */
#define POLICY_LOG_RATE_MAX 1000000

enum policy_action {
	POLICY_ACTION_ALLOW,
	POLICY_ACTION_DENY,
	POLICY_ACTION_REJECT,
};

enum policy_mode {
	POLICY_MODE_ENFORCE,
	POLICY_MODE_AUDIT,
};

enum policy_timeout {
	POLICY_TIMEOUT_TCP_SYN,
	POLICY_TIMEOUT_TCP_ESTABLISHED,
	POLICY_TIMEOUT_TCP_CLOSING,
	POLICY_TIMEOUT_UDP,
	POLICY_TIMEOUT_ICMP,
	POLICY_TIMEOUT_OTHER,
	POLICY_TIMEOUT_COUNT,
};

struct policy_segment {
	char name[POLICY_NAME_MAX + 1];
	struct pw_loc loc; /* the segment's key */
	int tenant; /* owning tenant index, -1 for a global segment */
	/* Definition order over the whole policy: global segments first, then
	 * each tenant's in file order. Breaks ties between equally specific
	 * segments when naming an address's segment (policy.md section 4). */
	uint32_t order;
	struct pw_prefix *prefixes;
	struct pw_loc *prefix_locs;
	uint32_t n_prefixes;
	uint32_t n_refs; /* selectors naming this segment */
};

enum policy_selector_kind {
	POLICY_SEL_SEGMENT,
	POLICY_SEL_PREFIX,
	POLICY_SEL_ANY,
	/* An address in none of the packet's tenant's own segments. Global
	 * segments do not count: policy.md section 5 says "the tenant's own
	 * segments", so `external` in a global rule means something different
	 * in each tenant. */
	POLICY_SEL_EXTERNAL,
};

struct policy_selector {
	enum policy_selector_kind kind;
	struct pw_loc loc;
	const struct policy_segment *segment; /* POLICY_SEL_SEGMENT */
	struct pw_prefix prefix; /* POLICY_SEL_PREFIX */
};

struct policy_port_range {
	uint16_t lo;
	uint16_t hi; /* inclusive */
	struct pw_loc loc;
};

struct policy_icmp_type {
	uint8_t type;
	struct pw_loc loc;
};

struct policy_rule {
	char name[POLICY_RULE_NAME_MAX + 1];
	struct pw_loc loc; /* the rule's mapping */
	int tenant; /* owning tenant index, -1 for a global rule */
	uint32_t index; /* position in its own list */
	/* Unique over the policy: global rules first, then each tenant's rules
	 * in order. Counters and events refer to rules by this id. */
	uint32_t id;
	struct policy_selector *from;
	uint32_t n_from;
	struct policy_selector *to;
	uint32_t n_to;
	int proto; /* POLICY_PROTO_ANY or 0..255 */
	struct pw_loc proto_loc;
	struct policy_port_range *ports; /* n_ports == 0: every port */
	uint32_t n_ports;
	struct policy_icmp_type *icmp; /* n_icmp == 0: every type */
	uint32_t n_icmp;
	enum policy_action action;
	bool log;
};

struct policy_interface {
	char name[POLICY_IFNAME_MAX + 1];
	struct pw_loc loc;
};

struct policy_vlan {
	uint16_t id;
	struct pw_loc loc;
};

struct policy_tenant {
	char name[POLICY_NAME_MAX + 1];
	struct pw_loc loc; /* the tenant's mapping */
	uint16_t id;
	bool id_explicit;
	struct policy_interface *interfaces;
	uint32_t n_interfaces;
	struct policy_vlan *vlans; /* n_vlans == 0: untagged traffic */
	uint32_t n_vlans;
	enum policy_action default_action;
	bool log_default;
	enum policy_mode mode;
	bool flow_logs;
	struct policy_segment *segments;
	uint32_t n_segments;
	struct policy_rule *rules;
	uint32_t n_rules;
};

struct policy_settings {
	enum policy_action unmatched; /* allow or deny */
	enum policy_action non_ip; /* allow or deny */
	uint32_t log_rate; /* events/s per rule, 0 = unlimited */
	uint32_t ct_max_entries;
	uint32_t timeouts[POLICY_TIMEOUT_COUNT]; /* seconds */
};

struct policy {
	char *path; /* as given to policy_load() */
	char **files; /* files read, in read order */
	uint32_t n_files;
	struct policy_settings settings;
	struct policy_segment *segments; /* global */
	uint32_t n_segments;
	struct policy_rule *rules; /* global */
	uint32_t n_rules;
	struct policy_tenant *tenants;
	uint32_t n_tenants;
	uint32_t n_rules_total; /* global + every tenant's */
	struct policy_private *priv;
};

/*
 * Read and validate the policy at @path (a file, or a directory whose
 * *.yaml / *.yml files are merged in byte order of their names). Every
 * problem is added to @diags. Returns 0 and sets *@out only when there were
 * no errors; otherwise -EINVAL (policy errors, in @diags) or another negative
 * errno (the path could not be read, also reported in @diags).
 */
int policy_load(const char *path, struct pw_diags *diags, struct policy **out);
/* Same, from a string in memory; @name is used as the file name. */
int policy_load_buffer(const char *name, const char *buf, size_t len,
		       struct pw_diags *diags, struct policy **out);
void policy_free(struct policy *pol);

/* Segment @name as seen from tenant @tenant (-1: global scope only). */
const struct policy_segment *policy_find_segment(const struct policy *pol,
						 int tenant, const char *name);

/* Rule by its policy-wide id, NULL when out of range. */
const struct policy_rule *policy_rule_by_id(const struct policy *pol,
					    uint32_t id);

const char *policy_action_name(enum policy_action action);
const char *policy_mode_name(enum policy_mode mode);
const char *policy_timeout_name(enum policy_timeout timeout);

/* "tcp", "udp", "icmp", "icmpv6", "any" or NULL for other numbers. */
const char *policy_proto_name(int proto);
/* -ENOENT when @name is not a protocol name (numbers are not parsed). */
int policy_proto_from_name(const char *name, int *proto);

/* ICMP type names of policy.md section 5 for @proto (POLICY_PROTO_ICMP or
 * POLICY_PROTO_ICMPV6). */
int policy_icmp_type_from_name(int proto, const char *name, uint8_t *type);
const char *policy_icmp_type_name(int proto, uint8_t type);
/* The accepted names, NULL-terminated, for error messages. */
const char *const *policy_icmp_type_names(int proto);

#endif /* PLUMWALL_POLICY_H */
