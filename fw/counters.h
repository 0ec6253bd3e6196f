/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fw_ctr: per-rule and per-tenant counters that outlive applies.
 *
 * The datapath counts in maps of the policy slot (shared.h pw_rule_stats,
 * pw_tenant_stats), which every apply creates afresh: they start at zero
 * with each policy. What `plumwall stats` shows is
 *
 *     base (the state document's "counters")
 *   + the previous slot, frozen since the last flip (its generation is
 *     "counters.prev_generation"; apply folds it into the base before it
 *     refills that slot)
 *   + the active slot,
 *
 * matched by identity: a rule is its tenant (or global) and its name, a
 * tenant its name. Names are what operators see and are unique in their
 * list, while rule ids shift whenever a rule is inserted; identity by
 * content would reset a rule's counters on every edit of a port.
 * Identities a new policy drops are dropped with their counts; a renamed
 * rule starts at zero. The base lives in the state document under the run
 * directory, so it survives applies and restarts of plumwalld (not
 * `plumwall down` or a reboot, which end the datapath too).
 *
 * All of it works on the state's generation tables (names.h), so it is
 * tested without a kernel.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef PLUMWALL_FW_COUNTERS_H
#define PLUMWALL_FW_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <linux/types.h>

#include <plumwall/shared.h>

/* Times are wall clock seconds (Unix time), 0: never. */
struct fw_ctr_rule {
	uint64_t packets;
	uint64_t bytes;
	int64_t first_hit;
	int64_t last_hit;
	int64_t since; /* counting started: the rule's first policy */
};

struct fw_ctr_tenant {
	struct pw_counter default_drops;
	struct pw_counter non_ip_drops;
	int64_t since;
};

/* Counters of one generation's rules (by rule id) and tenants (by index
 * of its "tenants" table). */
struct fw_ctr {
	struct fw_ctr_rule *rules;
	size_t n_rules;
	struct fw_ctr_tenant *tenants;
	size_t n_tenants;
};

/* The datapath clock and the wall clock at one moment: what turns the
 * datapath's times into wall clock times. */
struct fw_ctr_clock {
	uint64_t dp_ns; /* fw_dp_clock() */
	int64_t wall_ns; /* CLOCK_REALTIME */
};

/* Zero counters for the rules and tenants of @table, counting since
 * @since. */
int fw_ctr_init(struct fw_ctr *c, const json_t *table, int64_t since);
/* The base of state document @state (its "counters", sized by its own
 * table). A document without counters reads as zeros since its
 * "loaded_at". */
int fw_ctr_read(struct fw_ctr *c, const json_t *state);
void fw_ctr_free(struct fw_ctr *c);
/* "counters" of a state document; @prev_generation < 0: none. */
json_t *fw_ctr_json(const struct fw_ctr *c, int64_t prev_generation);

/*
 * Add the datapath counters of one slot, whose generation's table is
 * @from, to @c, whose table is @to: by identity. @rules are by rule id
 * of @from (@n_rules), @tenants by tenant id (@n_tenant_ids).
 */
int fw_ctr_add_slot(struct fw_ctr *c, const json_t *to, const json_t *from,
		    const struct pw_rule_counter *rules, size_t n_rules,
		    const struct pw_tenant_counter *tenants,
		    size_t n_tenant_ids, const struct fw_ctr_clock *clk);

/*
 * Counters for table @to from @old (of table @from): each rule and tenant
 * of @to whose identity @from has keeps its counts and start; the others
 * start at zero, counting since @now.
 */
int fw_ctr_carry(struct fw_ctr *out, const json_t *to, const struct fw_ctr *old,
		 const json_t *from, int64_t now);

/*
 * The rule ids of table @to by rule id of table @from (*@n of them,
 * malloc'd into *@map): -1 where @to has no rule of that identity.
 */
int fw_ctr_rule_map(const json_t *to, const json_t *from, long **map,
		    size_t *n);
/* Tenant ids of @table: one past the largest (arrays by tenant id). */
size_t fw_ctr_tenant_ids(const json_t *table);

/* ---- with the datapath --------------------------------------------- */

struct fw_dp;

/* The datapath clock and the wall clock now. */
int fw_ctr_clock_now(struct fw_dp *dp, struct fw_ctr_clock *clk);
/* fw_ctr_add_slot() with the counters of @slot of @dp. */
int fw_ctr_add_dp(struct fw_ctr *c, const json_t *to, const json_t *from,
		  struct fw_dp *dp, __u32 slot, const struct fw_ctr_clock *clk);
/*
 * What `stats` shows for the state document @st: its base, the active
 * slot (which must hold @st's generation) and the previous slot (when it
 * still holds "counters.prev_generation"), all by @st's identities.
 * -EAGAIN: an apply changed the datapath meanwhile; read the state again
 * and retry.
 */
int fw_ctr_totals(struct fw_dp *dp, const json_t *st, struct fw_ctr *out);

/*
 * A duration as `stats --since` takes it: one or more NUMBER UNIT, unit
 * s, m, h, d or w ("30m", "2h", "7d", "1h30m"), at most 100 years.
 * -EINVAL: not such a duration (bare numbers too: minutes or seconds?),
 * -ERANGE: too long.
 */
int fw_duration_parse(const char *s, uint64_t *seconds);

#endif /* PLUMWALL_FW_COUNTERS_H */
