/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fw_names: the names behind the ids of a policy generation (tenants,
 * rules, segments, interfaces), written by apply into the state document
 * (runtime.h) and read back by the CLI (`flows`, `stats`) and by
 * plumwall-logd: one format, one reader.
 *
 * The datapath counts and tracks by id, and ids mean something only
 * within the generation that assigned them: inserting one rule shifts the
 * ids of all that follow. Flows and events carry their generation, so the
 * state keeps, besides the running generation's names (the document's
 * top level), those of older generations still in use in "previous"
 * (newest first): always the one just replaced (its events may still be
 * in the ring buffer, its counters are folded at the next apply), and
 * those tracked flows still refer to. At most FW_NAMES_KEEP generations
 * in all, so the document stays bounded.
 *
 * One generation's table, the top level and each "previous" entry alike:
 *
 *   {"generation": N,
 *    "tenants": [{"id": 1, "name": "acme", ...}],
 *    "rules": [{"id": 0, "name": "web", "tenant": "acme" | null}],
 *    "segments": ["web", "db"],           (by segment id)
 *    "interfaces": [{"name": "acme0", "ifindex": 12, ...}]}
 *
 * Functions return 0 or a negative errno.
 */
#ifndef PLUMWALL_FW_NAMES_H
#define PLUMWALL_FW_NAMES_H

#include <net/if.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Generations the state document names, the running one included. */
#define FW_NAMES_KEEP 8

struct fw_rule_name {
	char *name;
	char *tenant; /* NULL: a global rule */
};

struct fw_if_name {
	uint32_t ifindex;
	char name[IF_NAMESIZE];
};

/* One generation's names, reference counted (logd's sink threads hold
 * them while their events wait in a queue). */
struct fw_names {
	atomic_int refs;
	uint32_t generation;
	char **tenants; /* by tenant id; NULL where no tenant */
	size_t n_tenants;
	struct fw_rule_name *rules; /* by rule id */
	size_t n_rules;
	char **segments; /* by segment id */
	size_t n_segments;
	struct fw_if_name *ifs;
	size_t n_ifs;
};

/* The generations of one state document, newest (the running one)
 * first. */
struct fw_names_set {
	struct fw_names *gen[FW_NAMES_KEEP];
	size_t n;
};

/* ---- reading ----------------------------------------------------------- */

/* One generation's table (see above) into a fresh fw_names with one
 * reference. -EBADMSG: not such a table. */
int fw_names_parse(const json_t *table, struct fw_names **out);
/* Every generation of a state document (@set empty on entry). -EBADMSG:
 * not a state document of this layout. */
int fw_names_set_read(struct fw_names_set *set, const json_t *state);
/* The same from the file at @path; -ENOENT: no such file. */
int fw_names_set_load(struct fw_names_set *set, const char *path);
/* The names of @generation (no reference taken), NULL if not there. */
struct fw_names *fw_names_set_find(const struct fw_names_set *set,
				   uint32_t generation);
void fw_names_set_clear(struct fw_names_set *set);

struct fw_names *fw_names_get(struct fw_names *n);
void fw_names_put(struct fw_names *n);

/* Entries; NULL when unknown (or @n is NULL). A rule the compiler made up
 * (no name) is unknown too. */
const char *fw_names_tenant(const struct fw_names *n, uint32_t id);
const struct fw_rule_name *fw_names_rule(const struct fw_names *n, uint32_t id);
const char *fw_names_segment(const struct fw_names *n, uint32_t id);
const char *fw_names_ifname(const struct fw_names *n, uint32_t ifindex);

/* ---- writing (apply) ---------------------------------------------------- */

struct policy;
struct policy_compiled;

/* Set "generation", "tenants", "rules" and "segments" of @doc from the
 * policy and its compilation. Each tenant also lists its "interfaces"
 * and "vlans", as the policy names them. */
int fw_names_write(json_t *doc, const struct policy *pol,
		   const struct policy_compiled *c);

/*
 * Set "previous" of @doc (the new state) from @old (the state it
 * replaces, may be NULL): @old's own table and then its "previous"
 * tables, newest first, as far as @keep says so. @keep(generation, ctx)
 * is asked for each older generation than @old's; @old's own is always
 * kept. At most FW_NAMES_KEEP - 1 tables.
 */
int fw_names_history(json_t *doc, const json_t *old,
		     int (*keep)(uint32_t generation, void *ctx), void *ctx);

/*
 * After reading a state document from its file: a "previous" table whose
 * rule names are the running generation's was written with "rules_of":
 * GENERATION in place of its "rules" (fw_names_history() shares them);
 * give it back its "rules". -EBADMSG: a reference to anything else.
 */
int fw_names_resolve(json_t *doc);

/* The table of @generation in state @doc (the top level or a "previous"
 * entry), NULL if not there. */
const json_t *fw_names_table(const json_t *doc, uint32_t generation);

#endif /* PLUMWALL_FW_NAMES_H */
