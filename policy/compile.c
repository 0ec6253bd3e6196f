// SPDX-License-Identifier: GPL-2.0
/*
 * Compiler back end (compile.h): analysis -> per-slot map contents, and the
 * user-space executor that looks them up the way the datapath does.
 *
 * Everything is built per tenant from the tenant views of the analysis:
 * pw_addr from the view's LPM entries, pw_svc from a sweep over the
 * service sets of the rules, pw_decision by filing every rule under its
 * tuple. The arrays are sorted at the end so that the executor (and any
 * tool) can find entries with bsearch, and so that two compilations of the
 * same policy are byte-identical.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"

#define NONE UINT32_MAX
#define NS_PER_SEC 1000000000ULL

/* ---- small helpers ------------------------------------------------------ */

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Grow *@arr (of @size-byte elements) so that @need elements fit. */
static int grow(void **arr, uint32_t *cap, uint64_t need, size_t size)
{
	uint64_t n = *cap ? *cap : 64;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	if (n > UINT32_MAX)
		return -E2BIG;
	p = realloc(*arr, n * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = (uint32_t)n;
	return 0;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* ---- orders ------------------------------------------------------------- */

int policy_addr_key_cmp(const void *a, const void *b)
{
	const struct pw_addr_key *x = a, *y = b;
	int ret;

	/* tenant_be, family: the bytes compare like the numbers */
	ret = memcmp(x->tenant_be, y->tenant_be, 3);
	if (!ret)
		ret = memcmp(x->addr, y->addr, sizeof(x->addr));
	if (ret)
		return ret < 0 ? -1 : 1;
	return x->prefixlen < y->prefixlen ? -1 : x->prefixlen > y->prefixlen;
}

int policy_svc_key_cmp(const void *a, const void *b)
{
	const struct pw_svc_key *x = a, *y = b;
	int ret = memcmp(x->tenant_be, y->tenant_be, 5);

	if (ret)
		return ret < 0 ? -1 : 1;
	return x->prefixlen < y->prefixlen ? -1 : x->prefixlen > y->prefixlen;
}

int policy_decision_key_cmp(const void *a, const void *b)
{
	const struct pw_decision_key *x = a, *y = b;

	if (x->tenant != y->tenant)
		return x->tenant < y->tenant ? -1 : 1;
	if (x->src_class != y->src_class)
		return x->src_class < y->src_class ? -1 : 1;
	if (x->dst_class != y->dst_class)
		return x->dst_class < y->dst_class ? -1 : 1;
	if (x->svc_class != y->svc_class)
		return x->svc_class < y->svc_class ? -1 : 1;
	return 0;
}

static int iface_cmp(const void *a, const void *b)
{
	const struct policy_iface_entry *x = a, *y = b;
	int ret = strcmp(x->ifname, y->ifname);

	if (ret)
		return ret;
	return x->vlan < y->vlan ? -1 : x->vlan > y->vlan;
}

static int tenant_entry_cmp(const void *a, const void *b)
{
	const struct policy_tenant_entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* ---- decision hash table ------------------------------------------------ */

/*
 * Open addressing over the entries of one tenant. Entries live in a dense
 * array (so they can be walked and copied out); slots index into it.
 */
struct dtab {
	struct policy_decision_entry *e;
	uint32_t n;
	uint32_t cap;
	uint32_t *slot; /* NONE: free */
	uint32_t mask;
	uint64_t max; /* entries allowed: -E2BIG beyond */
};

static uint32_t dkey_hash(const struct pw_decision_key *k)
{
	uint64_t h = (uint64_t)k->src_class * 0x9e3779b97f4a7c15ULL;

	h ^= (uint64_t)k->dst_class * 0xc2b2ae3d27d4eb4fULL;
	h ^= (uint64_t)k->svc_class * 0x165667b19e3779f9ULL;
	h ^= k->tenant;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (uint32_t)h;
}

static bool dkey_eq(const struct pw_decision_key *a,
		    const struct pw_decision_key *b)
{
	return a->tenant == b->tenant && a->src_class == b->src_class &&
	       a->dst_class == b->dst_class && a->svc_class == b->svc_class;
}

static uint32_t dtab_find(const struct dtab *t, const struct pw_decision_key *k)
{
	uint32_t h;

	if (!t->slot)
		return NONE;
	for (h = dkey_hash(k) & t->mask; t->slot[h] != NONE;
	     h = (h + 1) & t->mask)
		if (dkey_eq(&t->e[t->slot[h]].key, k))
			return t->slot[h];
	return NONE;
}

static int dtab_rehash(struct dtab *t, uint32_t size)
{
	uint32_t *slot = malloc((size_t)size * sizeof(*slot));
	uint32_t i, h;

	if (!slot)
		return -ENOMEM;
	memset(slot, 0xff, (size_t)size * sizeof(*slot));
	free(t->slot);
	t->slot = slot;
	t->mask = size - 1;
	for (i = 0; i < t->n; i++) {
		for (h = dkey_hash(&t->e[i].key) & t->mask; slot[h] != NONE;
		     h = (h + 1) & t->mask)
			;
		slot[h] = i;
	}
	return 0;
}

/* Add @k -> @rule, keeping the smaller rule id when @k is present. */
static int dtab_put(struct dtab *t, const struct pw_decision_key *k,
		    uint32_t rule)
{
	uint32_t i = dtab_find(t, k), h;
	int ret = 0;

	if (i != NONE) {
		if (rule < t->e[i].val.rule_id)
			t->e[i].val.rule_id = rule;
		goto out;
	}
	if (t->n >= t->max) {
		ret = -E2BIG;
		goto out;
	}
	if (!t->slot || (uint64_t)(t->n + 1) * 2 > (uint64_t)t->mask + 1) {
		ret = dtab_rehash(t, t->slot ? (t->mask + 1) * 2 : 1024);
		if (ret)
			goto out;
	}
	ret = grow((void **)&t->e, &t->cap, (uint64_t)t->n + 1, sizeof(*t->e));
	if (ret)
		goto out;
	t->e[t->n].key = *k;
	t->e[t->n].val.rule_id = rule;
	for (h = dkey_hash(k) & t->mask; t->slot[h] != NONE;
	     h = (h + 1) & t->mask)
		;
	t->slot[h] = t->n++;
out:
	return ret;
}

static void dtab_release(struct dtab *t)
{
	free(t->e);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

/* ---- service classes ---------------------------------------------------- */

/* True when @set covers every point of every protocol. */
static bool svc_is_all(const struct policy_svc_set *set)
{
	uint32_t i = 0;
	unsigned int p;

	for (p = 0; p < 256; p++) {
		uint32_t lo = POLICY_SVC_KEY(p, 0);
		uint32_t hi = lo + policy_svc_span(p) - 1;

		while (i < set->count && set->ranges[i].hi < lo)
			i++;
		if (i == set->count || set->ranges[i].lo > lo ||
		    set->ranges[i].hi < hi)
			return false;
	}
	return true;
}

struct svc_event {
	uint32_t pos;
	uint32_t rule; /* view index */
	int delta; /* +1 at lo, -1 after hi */
};

static int svc_event_cmp(const void *a, const void *b)
{
	const struct svc_event *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	/* Removals first: a position's interval starts with them applied
	 * (any order would do, this one keeps the active list short). */
	return x->delta - y->delta;
}

/* One service class: its rules (view indices, sorted) in the pool. */
struct svc_class {
	uint64_t hash;
	uint32_t first; /* in pool */
	uint32_t n;
};

/* The elementary intervals of one tenant and their classes. */
struct svc_build {
	const struct policy_tenant_view *tv;
	bool *specific; /* per view */
	uint64_t *zob; /* per view: random 64-bit value */

	struct svc_class *classes; /* [0] = the empty class */
	uint32_t n_classes;
	uint32_t cap_classes;
	uint32_t *htab; /* class index, NONE: free */
	uint32_t hmask;
	uint32_t *pool;
	uint32_t n_pool;
	uint32_t cap_pool;

	/* Intervals with a nonzero class, in key order */
	struct {
		uint32_t lo, hi, cls;
	} * iv;
	uint32_t n_iv;
	uint32_t cap_iv;

	/* Per view: its service classes (CSR rows over the views) */
	uint32_t *rule_first; /* n_rules + 1 */
	uint32_t *rule_classes;
};

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int svc_htab_grow(struct svc_build *b)
{
	uint32_t size = b->htab ? (b->hmask + 1) * 2 : 256, i, h;
	uint32_t *tab = malloc((size_t)size * sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	memset(tab, 0xff, (size_t)size * sizeof(*tab));
	for (i = 0; i < b->n_classes; i++) {
		for (h = (uint32_t)b->classes[i].hash & (size - 1);
		     tab[h] != NONE; h = (h + 1) & (size - 1))
			;
		tab[h] = i;
	}
	free(b->htab);
	b->htab = tab;
	b->hmask = size - 1;
	return 0;
}

/*
 * Class of the active rule set @act (@n sorted view indices, hash @hash),
 * created when new. The hash only narrows the search: sets are compared
 * whole, so classes are exact.
 */
static int svc_intern(struct svc_build *b, const uint32_t *act, uint32_t n,
		      uint64_t hash, uint32_t *cls)
{
	struct svc_class *c;
	uint32_t h;
	int ret = 0;

	for (h = (uint32_t)hash & b->hmask; b->htab[h] != NONE;
	     h = (h + 1) & b->hmask) {
		c = &b->classes[b->htab[h]];
		/* htab holds NONE (memset) or the ids of stored classes; the
		 * analyzer does not model memset(0xff).
		 * NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
		if (c->hash == hash && c->n == n &&
		    (!n ||
		     !memcmp(b->pool + c->first, act, n * sizeof(*act)))) {
			*cls = b->htab[h];
			goto out;
		}
	}
	ret = grow((void **)&b->classes, &b->cap_classes,
		   (uint64_t)b->n_classes + 1, sizeof(*b->classes));
	if (!ret)
		ret = grow((void **)&b->pool, &b->cap_pool,
			   (uint64_t)b->n_pool + n, sizeof(*b->pool));
	if (ret)
		goto out;
	c = &b->classes[b->n_classes];
	c->hash = hash;
	c->first = b->n_pool;
	c->n = n;
	if (n) /* class 0 is the empty set: no pool yet, no act */
		memcpy(b->pool + b->n_pool, act, n * sizeof(*act));
	b->n_pool += n;
	b->htab[h] = b->n_classes;
	*cls = b->n_classes++;
	if ((uint64_t)b->n_classes * 2 > (uint64_t)b->hmask + 1)
		ret = svc_htab_grow(b);
out:
	return ret;
}

static int svc_add_interval(struct svc_build *b, uint32_t lo, uint32_t hi,
			    uint32_t cls)
{
	int ret;

	/* Neighbours of one class merge: fewer, larger LPM prefixes. */
	if (b->n_iv && b->iv[b->n_iv - 1].cls == cls &&
	    b->iv[b->n_iv - 1].hi + 1 == lo) {
		b->iv[b->n_iv - 1].hi = hi;
		return 0;
	}
	ret = grow((void **)&b->iv, &b->cap_iv, (uint64_t)b->n_iv + 1,
		   sizeof(*b->iv));
	if (ret)
		return ret;
	b->iv[b->n_iv].lo = lo;
	b->iv[b->n_iv].hi = hi;
	b->iv[b->n_iv].cls = cls;
	b->n_iv++;
	return 0;
}

/* Sweep the specific rules' ranges in key order; every stretch between two
 * range ends has one active rule set, i.e. one class. */
static int svc_sweep(struct svc_build *b)
{
	const struct policy_tenant_view *tv = b->tv;
	struct svc_event *ev = NULL;
	uint32_t *act = NULL, *pos = NULL, *sorted = NULL;
	uint32_t n_ev = 0, n_act = 0, k, i, j;
	uint64_t hash = 0, total = 0;
	int ret = 0;

	for (k = 0; k < tv->n_rules; k++)
		if (b->specific[k])
			total += 2 * (uint64_t)tv->rules[k].svc.count;
	if (total >= UINT32_MAX) {
		ret = -E2BIG;
		goto out;
	}
	ev = malloc((total + 1) * sizeof(*ev));
	act = malloc(((size_t)tv->n_rules + 1) * sizeof(*act));
	sorted = malloc(((size_t)tv->n_rules + 1) * sizeof(*sorted));
	pos = malloc(((size_t)tv->n_rules + 1) * sizeof(*pos));
	if (!ev || !act || !sorted || !pos) {
		ret = -ENOMEM;
		goto out;
	}
	for (k = 0; k < tv->n_rules; k++) {
		const struct policy_svc_set *s = &tv->rules[k].svc;

		if (!b->specific[k])
			continue;
		for (i = 0; i < s->count; i++) {
			ev[n_ev++] =
				(struct svc_event){ s->ranges[i].lo, k, 1 };
			ev[n_ev++] = (struct svc_event){ s->ranges[i].hi + 1, k,
							 -1 };
		}
	}
	qsort(ev, n_ev, sizeof(*ev), svc_event_cmp);

	for (i = 0; i < n_ev; i = j) {
		uint32_t at = ev[i].pos, end, cls;

		for (j = i; j < n_ev && ev[j].pos == at; j++) {
			k = ev[j].rule;
			if (ev[j].delta > 0) {
				pos[k] = n_act;
				act[n_act++] = k;
				hash += b->zob[k];
			} else {
				/* swap-remove: O(1), order restored below.
				 * A rule's removal sorts after its addition
				 * (keys < 2^24: hi + 1 > lo), so pos[k] is set.
				 * NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign) */
				act[pos[k]] = act[--n_act];
				pos[act[pos[k]]] = pos[k];
				hash -= b->zob[k];
			}
		}
		if (!n_act || j == n_ev)
			continue;
		end = ev[j].pos - 1;
		memcpy(sorted, act, n_act * sizeof(*act));
		qsort(sorted, n_act, sizeof(*sorted), u32_cmp);
		ret = svc_intern(b, sorted, n_act, hash, &cls);
		if (ret)
			goto out;
		ret = svc_add_interval(b, at, end, cls);
		if (ret)
			goto out;
	}
out:
	free(ev);
	free(act);
	free(sorted);
	free(pos);
	return ret;
}

/* Invert the classes' rule lists into per-rule class lists. */
static int svc_rule_classes(struct svc_build *b)
{
	uint32_t n_rules = b->tv->n_rules, c, i;
	uint32_t *fill = NULL;
	int ret = 0;

	b->rule_first = calloc((size_t)n_rules + 1, sizeof(*b->rule_first));
	fill = calloc((size_t)n_rules + 1, sizeof(*fill));
	b->rule_classes =
		malloc(((size_t)b->n_pool + 1) * sizeof(*b->rule_classes));
	if (!b->rule_first || !fill || !b->rule_classes) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < b->n_pool; i++)
		b->rule_first[b->pool[i] + 1]++;
	for (i = 0; i < n_rules; i++)
		b->rule_first[i + 1] += b->rule_first[i];
	/* Classes in increasing id: each row comes out sorted. */
	for (c = 1; c < b->n_classes; c++) {
		const struct svc_class *cl = &b->classes[c];

		for (i = 0; i < cl->n; i++) {
			uint32_t k = b->pool[cl->first + i];

			b->rule_classes[b->rule_first[k] + fill[k]++] = c;
		}
	}
out:
	free(fill);
	return ret;
}

static int svc_build(struct svc_build *b, uint64_t seed)
{
	const struct policy_tenant_view *tv = b->tv;
	uint32_t k, unused;
	int ret = 0;

	b->specific = calloc((size_t)tv->n_rules + 1, sizeof(*b->specific));
	b->zob = malloc(((size_t)tv->n_rules + 1) * sizeof(*b->zob));
	if (!b->specific || !b->zob) {
		ret = -ENOMEM;
		goto out;
	}
	for (k = 0; k < tv->n_rules; k++) {
		b->specific[k] = !svc_is_all(&tv->rules[k].svc);
		b->zob[k] = splitmix(&seed);
	}
	ret = svc_htab_grow(b);
	if (ret)
		goto out;
	/* Class 0: the empty set, so that ids of real classes start at 1 */
	ret = svc_intern(b, NULL, 0, 0, &unused);
	if (ret)
		goto out;
	ret = svc_sweep(b);
	if (ret)
		goto out;
	ret = svc_rule_classes(b);
out:
	return ret;
}

static void svc_release(struct svc_build *b)
{
	free(b->specific);
	free(b->zob);
	free(b->classes);
	free(b->htab);
	free(b->pool);
	free(b->iv);
	free(b->rule_first);
	free(b->rule_classes);
}

/* ---- the compiled policy being built ------------------------------------ */

/* What one rule needs in one tenant: its decision keys, the product of
 * the classes it covers along each dimension (src x dst pairs of one
 * family only). Entries shared with other rules count for each. */
struct rule_cost {
	const struct policy_rule *rule;
	const struct policy_tenant_view *tv;
	uint64_t entries;
	uint32_t n_src, n_dst, n_svc;
};

/* The POLICY_COMPILE_TOP_RULES most costly, largest first. */
struct cost_top {
	struct rule_cost r[POLICY_COMPILE_TOP_RULES];
	uint32_t n;
};

struct cbuild {
	const struct policy_analysis *an;
	const struct policy *pol;
	struct policy_compiled *c;
	uint32_t cap_addrs;
	uint32_t cap_svcs;
	uint32_t cap_decisions;
	uint64_t max_decisions;
	uint32_t ext_min_classes;
	/* The tenant being compiled: the external wildcard, and the set of
	 * its external classes (class_words words) */
	bool ext;
	uint64_t *ext_bits;
	/* For the refusal: over the whole policy, and in the tenant whose
	 * own entries passed the limit (@over). */
	struct cost_top top;
	struct cost_top tenant_top;
	const struct policy_tenant_view *over;
};

static void cost_add(struct cost_top *top, const struct rule_cost *rc)
{
	uint32_t i;

	if (!rc->entries)
		return;
	if (top->n == POLICY_COMPILE_TOP_RULES &&
	    top->r[top->n - 1].entries >= rc->entries)
		return;
	i = top->n < POLICY_COMPILE_TOP_RULES ? top->n++ : top->n - 1;
	/* Insertion: ties keep the earlier rule first. */
	while (i > 0 && top->r[i - 1].entries < rc->entries) {
		top->r[i] = top->r[i - 1];
		i--;
	}
	top->r[i] = *rc;
}

static int emit_svc(struct cbuild *cb, uint16_t tenant, uint8_t proto,
		    uint16_t point, unsigned int bits, uint32_t cls)
{
	struct policy_compiled *c = cb->c;
	struct policy_svc_entry *e;
	int ret;

	ret = grow((void **)&c->svcs, &cb->cap_svcs, (uint64_t)c->n_svcs + 1,
		   sizeof(*c->svcs));
	if (ret)
		return ret;
	e = &c->svcs[c->n_svcs++];
	memset(e, 0, sizeof(*e));
	e->key.prefixlen = 24 + bits;
	put_be16(e->key.tenant_be, tenant);
	e->key.proto = proto;
	put_be16(e->key.point_be, point);
	e->val.svc_class = cls;
	return 0;
}

/*
 * LPM prefixes for the points [lo, hi] of @proto: the whole protocol is one
 * prefixlen-24 entry; otherwise the usual split into aligned power-of-two
 * blocks, largest first.
 */
static int emit_svc_range(struct cbuild *cb, uint16_t tenant, uint8_t proto,
			  uint32_t lo, uint32_t hi, uint32_t cls)
{
	int ret = 0;

	if (lo == 0 && hi == policy_svc_span(proto) - 1)
		return emit_svc(cb, tenant, proto, 0, 0, cls);
	while (lo <= hi && !ret) {
		unsigned int k = 0;

		/* Largest block 2^k aligned at lo and inside [lo, hi] */
		while (k < 16 && !(lo & ((2U << k) - 1)) &&
		       lo + (2U << k) - 1 <= hi)
			k++;
		ret = emit_svc(cb, tenant, proto, (uint16_t)lo, 16 - k, cls);
		lo += 1U << k;
	}
	return ret;
}

static int emit_svc_intervals(struct cbuild *cb, uint16_t tenant,
			      const struct svc_build *sb)
{
	uint32_t i;
	int ret = 0;

	for (i = 0; i < sb->n_iv && !ret; i++) {
		uint32_t lo = sb->iv[i].lo, hi = sb->iv[i].hi;

		/* An interval never crosses a protocol (each rule's ranges
		 * lie in one), but merging neighbours could join two:
		 * split at every protocol boundary to be safe. */
		while (lo <= hi && !ret) {
			uint32_t proto = lo >> 16;
			uint32_t phi = POLICY_SVC_KEY(proto, 0) +
				       policy_svc_span(proto) - 1;
			uint32_t end = hi < phi ? hi : phi;

			if (proto > 255 || lo > phi) {
				ret = -EINVAL; /* key outside the space */
				break;
			}
			ret = emit_svc_range(cb, tenant, (uint8_t)proto,
					     lo & 0xffff, end & 0xffff,
					     sb->iv[i].cls);
			if (end == UINT32_MAX)
				break;
			lo = end + 1;
		}
	}
	return ret;
}

/*
 * The id of analysis class @cls (or a wildcard) in pw_addr values and
 * pw_decision keys: with the external wildcard an external class other
 * than the defaults carries PW_CLASS_EXTERNAL, so that the datapath can
 * tell an external address.
 */
static uint32_t key_class(const struct cbuild *cb,
			  const struct policy_tenant_view *tv, uint32_t cls)
{
	if (cls == PW_CLASS_ANY || cls == PW_CLASS_EXT || !cb->ext ||
	    cls == PW_CLASS_DEFAULT_V4 || cls == PW_CLASS_DEFAULT_V6 ||
	    !tv->classes[cls].external)
		return cls;
	return cls | PW_CLASS_EXTERNAL;
}

/* An address of key class @cls is external (shared.h). */
static bool key_class_external(uint32_t cls)
{
	return cls == PW_CLASS_DEFAULT_V4 || cls == PW_CLASS_DEFAULT_V6 ||
	       (cls != PW_CLASS_ANY && cls != PW_CLASS_EXT &&
		(cls & PW_CLASS_EXTERNAL));
}

static int emit_addrs(struct cbuild *cb, const struct policy_tenant_view *tv)
{
	struct policy_compiled *c = cb->c;
	uint16_t tenant = tv->tenant->id;
	uint32_t i;
	int ret;

	ret = grow((void **)&c->addrs, &cb->cap_addrs,
		   (uint64_t)c->n_addrs + tv->n_lpm, sizeof(*c->addrs));
	if (ret)
		return ret;
	for (i = 0; i < tv->n_lpm; i++) {
		const struct policy_lpm_entry *l = &tv->lpm[i];
		struct policy_addr_entry *e = &c->addrs[c->n_addrs++];

		if (l->class_id >= tv->n_classes ||
		    (l->prefix.family != PW_AF_INET &&
		     l->prefix.family != PW_AF_INET6))
			return -EINVAL;
		memset(e, 0, sizeof(*e));
		e->key.prefixlen = 32 + l->prefix.len;
		put_be16(e->key.tenant_be, tenant);
		e->key.family = l->prefix.family;
		memcpy(e->key.addr, l->prefix.addr, sizeof(e->key.addr));
		e->val.class_id = key_class(cb, tv, l->class_id);
		e->val.segment_id = l->segment ? l->segment->order :
						 PW_SEGMENT_NONE;
		c->addr_lens[l->prefix.family == PW_AF_INET6][l->prefix.len] =
			1;
	}
	return 0;
}

/*
 * The classes of @set as a list (analysis ids), or the single PW_CLASS_ANY
 * when @set holds every class; with the external wildcard, PW_CLASS_EXT
 * and the classes that are not external when @set holds every external
 * class. Returns the count.
 */
static uint32_t class_list(const struct cbuild *cb,
			   const struct policy_tenant_view *tv,
			   const struct policy_class_set *set, uint32_t *list)
{
	bool ext = cb->ext && policy_class_set_covers(set, tv->ext);
	uint32_t n = 0, i;

	if (set->n_classes == tv->n_classes) {
		list[0] = PW_CLASS_ANY;
		return 1;
	}
	if (ext)
		list[n++] = PW_CLASS_EXT;
	for (i = 0; i < set->n_words; i++) {
		uint32_t w = set->word[i];
		uint64_t bits = set->bits[i];

		if (ext)
			bits &= ~cb->ext_bits[w];
		while (bits) {
			list[n++] = w * 64 + (uint32_t)__builtin_ctzll(bits);
			bits &= bits - 1;
		}
	}
	return n;
}

static bool class_wild(uint32_t cls)
{
	return cls == PW_CLASS_ANY || cls == PW_CLASS_EXT;
}

/* Analysis classes (or wildcards) @s and @d can be a packet's pair. */
static bool pair_possible(const struct policy_tenant_view *tv, uint32_t s,
			  uint32_t d)
{
	return class_wild(s) || class_wild(d) ||
	       tv->classes[s].family == tv->classes[d].family;
}

static unsigned int sel_of(uint32_t cls)
{
	return cls == PW_CLASS_ANY ? PW_SEL_ANY :
	       cls == PW_CLASS_EXT ? PW_SEL_EXT :
				     PW_SEL_EXACT;
}

/* The shape of @k: a POLICY_TUPLE_BIT() or, with PW_CLASS_EXT in it
 * (*@ext set), a PW_EXT_TUPLE_BIT(), as the bit's index. */
static unsigned int tuple_of(const struct pw_decision_key *k, bool *ext)
{
	unsigned int bit;

	*ext = k->src_class == PW_CLASS_EXT || k->dst_class == PW_CLASS_EXT;
	if (*ext)
		bit = PW_EXT_TUPLE_BIT(sel_of(k->src_class),
				       sel_of(k->dst_class),
				       k->svc_class == PW_CLASS_ANY);
	else
		bit = POLICY_TUPLE_BIT(k->src_class == PW_CLASS_ANY,
				       k->dst_class == PW_CLASS_ANY,
				       k->svc_class == PW_CLASS_ANY);
	return (unsigned int)__builtin_ctz(bit);
}

/*
 * The values a key field @cls widens to, itself first: an external class
 * to PW_CLASS_EXT (with the external wildcard), anything to PW_CLASS_ANY.
 * Returns the count (1 to 3).
 */
static unsigned int field_widenings(bool ext, uint32_t cls, uint32_t *out)
{
	unsigned int n = 0;

	out[n++] = cls;
	if (ext && cls != PW_CLASS_ANY && cls != PW_CLASS_EXT &&
	    key_class_external(cls))
		out[n++] = PW_CLASS_EXT;
	if (cls != PW_CLASS_ANY)
		out[n++] = PW_CLASS_ANY;
	return n;
}

/* @k with the fields of wildcard bits @m replaced by PW_CLASS_ANY */
static struct pw_decision_key key_widen(const struct pw_decision_key *k,
					unsigned int m)
{
	struct pw_decision_key w = *k;

	if (m & POLICY_TUPLE_SRC_ANY)
		w.src_class = PW_CLASS_ANY;
	if (m & POLICY_TUPLE_DST_ANY)
		w.dst_class = PW_CLASS_ANY;
	if (m & POLICY_TUPLE_SVC_ANY)
		w.svc_class = PW_CLASS_ANY;
	return w;
}

/* Source x destination pairs of one family among @src x @dst. */
static uint64_t pair_count(const struct policy_tenant_view *tv,
			   const uint32_t *src, uint32_t n_src,
			   const uint32_t *dst, uint32_t n_dst)
{
	uint64_t s[3] = { 0 }, d[3] = { 0 }; /* wildcard, IPv4, IPv6 */
	uint32_t i;

	for (i = 0; i < n_src; i++)
		s[class_wild(src[i])			   ? 0 :
		  tv->classes[src[i]].family == PW_AF_INET ? 1 :
							     2]++;
	for (i = 0; i < n_dst; i++)
		d[class_wild(dst[i])			   ? 0 :
		  tv->classes[dst[i]].family == PW_AF_INET ? 1 :
							     2]++;
	return s[0] * n_dst + (s[1] + s[2]) * d[0] + s[1] * d[1] + s[2] * d[2];
}

/* File every rule of @tv under its tuple, drop the entries that can never
 * win, and append the rest to the compiled decisions. Past the limit the
 * rules are only costed, for the refusal. */
static int build_decisions(struct cbuild *cb,
			   const struct policy_tenant_view *tv,
			   const struct svc_build *sb,
			   struct policy_compiled_tenant *info)
{
	struct policy_compiled *c = cb->c;
	uint32_t *src = NULL, *dst = NULL;
	struct dtab t = { .max = cb->max_decisions };
	uint32_t k, i, a, d, v, n_src, n_dst, n_svc;
	uint32_t any = PW_CLASS_ANY;
	struct rule_cost rc;
	bool full = false;
	int ret = 0;

	src = malloc(((size_t)tv->n_classes + 1) * sizeof(*src));
	dst = malloc(((size_t)tv->n_classes + 1) * sizeof(*dst));
	if (!src || !dst) {
		ret = -ENOMEM;
		goto out;
	}
	for (k = 0; k < tv->n_rules; k++) {
		const struct policy_rule_view *rv = &tv->rules[k];
		const uint32_t *svc;
		struct pw_decision_key key = { .tenant = tv->tenant->id };

		n_src = class_list(cb, tv, rv->src, src);
		n_dst = class_list(cb, tv, rv->dst, dst);
		if (sb->specific[k]) {
			svc = sb->rule_classes + sb->rule_first[k];
			n_svc = sb->rule_first[k + 1] - sb->rule_first[k];
		} else {
			svc = &any;
			n_svc = 1;
		}
		info->n_decisions_raw += (uint64_t)n_src * n_dst * n_svc;
		rc = (struct rule_cost){
			.rule = rv->rule,
			.tv = tv,
			.entries =
				pair_count(tv, src, n_src, dst, n_dst) * n_svc,
			.n_src = n_src,
			.n_dst = n_dst,
			.n_svc = n_svc,
		};
		cost_add(&cb->top, &rc);
		cost_add(&cb->tenant_top, &rc);
		for (a = 0; a < n_src && !full; a++) {
			key.src_class = key_class(cb, tv, src[a]);
			for (d = 0; d < n_dst && !full; d++) {
				if (!pair_possible(tv, src[a], dst[d]))
					continue;
				key.dst_class = key_class(cb, tv, dst[d]);
				for (v = 0; v < n_svc && !full; v++) {
					key.svc_class = svc[v];
					ret = dtab_put(&t, &key, rv->rule->id);
					if (ret == -E2BIG)
						full = true;
					else if (ret)
						goto out;
				}
			}
		}
	}
	if (full) {
		cb->over = tv;
		ret = -E2BIG;
		goto out;
	}

	ret = grow((void **)&c->decisions, &cb->cap_decisions,
		   (uint64_t)c->n_decisions + t.n, sizeof(*c->decisions));
	if (ret)
		goto out;
	for (i = 0; i < t.n; i++) {
		const struct policy_decision_entry *e = &t.e[i];
		uint32_t ws[3], wd[3], wv[3];
		unsigned int ns, nd, nv, a2, d2, v2, tup;
		bool dominated = false, ext;

		/* Every strictly wider key, which the datapath looks up
		 * whenever it looks this one up: its hit would always win. */
		ns = field_widenings(cb->ext, e->key.src_class, ws);
		nd = field_widenings(cb->ext, e->key.dst_class, wd);
		nv = field_widenings(false, e->key.svc_class, wv);
		for (a2 = 0; a2 < ns && !dominated; a2++) {
			for (d2 = 0; d2 < nd && !dominated; d2++) {
				for (v2 = 0; v2 < nv && !dominated; v2++) {
					struct pw_decision_key w = e->key;
					uint32_t j;

					if (!a2 && !d2 && !v2)
						continue;
					w.src_class = ws[a2];
					w.dst_class = wd[d2];
					w.svc_class = wv[v2];
					j = dtab_find(&t, &w);
					if (j != NONE &&
					    t.e[j].val.rule_id < e->val.rule_id)
						dominated = true;
				}
			}
		}
		if (dominated)
			continue;
		c->decisions[c->n_decisions++] = *e;
		info->n_decisions++;
		tup = tuple_of(&e->key, &ext);
		if (ext) {
			info->ext_tuple_entries[tup]++;
			info->ext_tuples |= (uint16_t)(1U << tup);
		} else {
			info->tuple_entries[tup]++;
			info->tuples |= (uint8_t)(1U << tup);
		}
	}
out:
	dtab_release(&t);
	free(src);
	free(dst);
	return ret;
}

/*
 * The external wildcard for @tv: when the tenant has enough external
 * classes and some rule's source or destination set holds all of them
 * but not every class (only then does the wildcard save entries).
 */
static int choose_ext(struct cbuild *cb, const struct policy_tenant_view *tv,
		      struct policy_compiled_tenant *info)
{
	uint32_t words = tv->class_words, i, k, n = 0;
	const struct policy_class_set *src, *dst;

	cb->ext = false;
	free(cb->ext_bits);
	cb->ext_bits = calloc((size_t)words + 1, sizeof(*cb->ext_bits));
	if (!cb->ext_bits)
		return -ENOMEM;
	for (i = 0; i < tv->n_classes; i++) {
		if (!tv->classes[i].external)
			continue;
		cb->ext_bits[i / 64] |= 1ULL << (i % 64);
		n++;
	}
	info->n_ext_classes = n;
	if (n < cb->ext_min_classes || n == tv->n_classes)
		return 0;
	for (k = 0; k < tv->n_rules && !cb->ext; k++) {
		src = tv->rules[k].src;
		dst = tv->rules[k].dst;
		cb->ext = (src->n_classes < tv->n_classes &&
			   policy_class_set_covers(src, tv->ext)) ||
			  (dst->n_classes < tv->n_classes &&
			   policy_class_set_covers(dst, tv->ext));
	}
	info->ext = cb->ext;
	return 0;
}

static int compile_tenant(struct cbuild *cb,
			  const struct policy_tenant_view *tv,
			  struct policy_compiled_tenant *info)
{
	struct svc_build sb = { .tv = tv };
	uint32_t n_addrs = cb->c->n_addrs, n_svcs = cb->c->n_svcs;
	int ret;

	info->id = tv->tenant->id;
	info->index = tv->index;
	info->n_addr_classes = tv->n_classes;
	cb->tenant_top.n = 0;
	ret = choose_ext(cb, tv, info);
	if (ret)
		goto out;
	ret = emit_addrs(cb, tv);
	if (ret)
		goto out;
	/* Seeded by the tenant id: the same policy compiles the same way */
	ret = svc_build(&sb, 0x706c756d77616c6cULL ^ tv->tenant->id);
	if (ret)
		goto out;
	info->n_svc_classes = sb.n_classes;
	ret = emit_svc_intervals(cb, tv->tenant->id, &sb);
	if (ret)
		goto out;
	ret = build_decisions(cb, tv, &sb, info);
	info->n_addr_entries = cb->c->n_addrs - n_addrs;
	info->n_svc_entries = cb->c->n_svcs - n_svcs;
out:
	svc_release(&sb);
	return ret;
}

/* ---- whole-policy parts ------------------------------------------------- */

static int build_ifaces(struct policy_compiled *c, const struct policy *pol)
{
	uint32_t t, i, v, n = 0;
	int ret = 0;

	for (t = 0; t < pol->n_tenants; t++) {
		const struct policy_tenant *ten = &pol->tenants[t];

		n += ten->n_interfaces * (ten->n_vlans ? ten->n_vlans : 1);
	}
	c->ifaces = calloc((size_t)n + 1, sizeof(*c->ifaces));
	if (!c->ifaces) {
		ret = -ENOMEM;
		goto out;
	}
	for (t = 0; t < pol->n_tenants; t++) {
		const struct policy_tenant *ten = &pol->tenants[t];
		uint32_t nv = ten->n_vlans ? ten->n_vlans : 1;

		for (i = 0; i < ten->n_interfaces; i++) {
			for (v = 0; v < nv; v++) {
				struct policy_iface_entry *e =
					&c->ifaces[c->n_ifaces++];

				memcpy(e->ifname, ten->interfaces[i].name,
				       sizeof(e->ifname));
				e->vlan = ten->n_vlans ? ten->vlans[v].id : 0;
				e->tenant = ten->id;
			}
		}
	}
	qsort(c->ifaces, c->n_ifaces, sizeof(*c->ifaces), iface_cmp);
out:
	return ret;
}

static uint8_t to_action(enum policy_action a)
{
	switch (a) {
	case POLICY_ACTION_ALLOW:
		return PW_ACTION_ALLOW;
	case POLICY_ACTION_REJECT:
		return PW_ACTION_REJECT;
	default:
		return PW_ACTION_DENY;
	}
}

static int build_tenants(struct policy_compiled *c, const struct policy *pol)
{
	uint32_t t;
	int ret = 0;

	c->tenants = calloc((size_t)pol->n_tenants + 1, sizeof(*c->tenants));
	if (!c->tenants) {
		ret = -ENOMEM;
		goto out;
	}
	for (t = 0; t < pol->n_tenants; t++) {
		const struct policy_tenant *ten = &pol->tenants[t];
		struct policy_tenant_entry *e = &c->tenants[c->n_tenants++];

		e->id = ten->id;
		e->val.present = 1;
		e->val.default_action = to_action(ten->default_action);
		e->val.flags =
			(ten->mode == POLICY_MODE_AUDIT ? PW_TENANT_AUDIT : 0) |
			(ten->log_default ? PW_TENANT_LOG_DEFAULT : 0) |
			(ten->flow_logs ? PW_TENANT_FLOW_LOGS : 0);
	}
	qsort(c->tenants, c->n_tenants, sizeof(*c->tenants), tenant_entry_cmp);
out:
	return ret;
}

static void fill_rule(struct policy_compiled *c, const struct policy_rule *r,
		      uint16_t tenant)
{
	struct pw_rule_val *v = &c->rules[r->id];

	v->action = to_action(r->action);
	v->flags = r->log ? PW_RULE_LOG : 0;
	v->tenant = tenant;
}

static int build_rules(struct policy_compiled *c, const struct policy *pol)
{
	uint32_t t, i;
	int ret = 0;

	c->n_rules = pol->n_rules_total;
	c->rules = calloc((size_t)c->n_rules + 1, sizeof(*c->rules));
	if (!c->rules) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < pol->n_rules; i++) {
		if (pol->rules[i].id >= c->n_rules) {
			ret = -EINVAL;
			goto out;
		}
		fill_rule(c, &pol->rules[i], 0);
	}
	for (t = 0; t < pol->n_tenants; t++) {
		const struct policy_tenant *ten = &pol->tenants[t];

		for (i = 0; i < ten->n_rules; i++) {
			if (ten->rules[i].id >= c->n_rules) {
				ret = -EINVAL;
				goto out;
			}
			fill_rule(c, &ten->rules[i], ten->id);
		}
	}
out:
	return ret;
}

static int build_segments(struct policy_compiled *c, const struct policy *pol)
{
	uint32_t t, i, n = pol->n_segments;
	int ret = 0;

	for (t = 0; t < pol->n_tenants; t++)
		n += pol->tenants[t].n_segments;
	c->n_segments = n;
	c->segments = calloc((size_t)n + 1, sizeof(*c->segments));
	if (!c->segments) {
		ret = -ENOMEM;
		goto out;
	}
	/* The order numbers must be exactly 0..n-1: they are map values. */
	for (t = 0; t <= pol->n_tenants; t++) {
		const struct policy_segment *segs =
			t ? pol->tenants[t - 1].segments : pol->segments;
		uint32_t cnt = t ? pol->tenants[t - 1].n_segments :
				   pol->n_segments;

		for (i = 0; i < cnt; i++) {
			if (segs[i].order >= n || c->segments[segs[i].order]) {
				ret = -EINVAL;
				goto out;
			}
			c->segments[segs[i].order] = &segs[i];
		}
	}
out:
	return ret;
}

static void build_settings(struct policy_compiled *c, const struct policy *pol)
{
	const struct policy_settings *s = &pol->settings;
	uint32_t i;

	_Static_assert((int)POLICY_TIMEOUT_COUNT == (int)PW_TIMEOUT_COUNT,
		       "timeouts map one to one");
	memset(&c->settings, 0, sizeof(c->settings));
	c->settings.generation = c->generation;
	c->settings.unmatched = to_action(s->unmatched);
	c->settings.non_ip = to_action(s->non_ip);
	c->settings.log_rate = s->log_rate;
	for (i = 0; i < PW_TIMEOUT_COUNT; i++)
		c->settings.timeout_ns[i] =
			(uint64_t)s->timeouts[i] * NS_PER_SEC;
}

static void set_size(struct policy_compiled *c, enum policy_map_id id,
		     const char *name, uint32_t key, uint32_t value,
		     uint64_t entries)
{
	struct policy_map_size *m = &c->maps[id];

	m->name = name;
	m->key_size = key;
	m->value_size = value;
	m->entries = entries;
	m->bytes = entries * (key + value);
	c->total_bytes += m->bytes;
}

static void build_sizes(struct policy_compiled *c)
{
	c->total_bytes = 0;
	set_size(c, POLICY_MAP_IFACE, "pw_iface", sizeof(struct pw_iface_key),
		 sizeof(struct pw_iface_val), c->n_ifaces);
	set_size(c, POLICY_MAP_TENANT, "pw_tenant", sizeof(__u32),
		 sizeof(struct pw_tenant_val), c->n_tenants);
	set_size(c, POLICY_MAP_ADDR, "pw_addr", sizeof(struct pw_addr_key),
		 sizeof(struct pw_addr_val), c->n_addrs);
	set_size(c, POLICY_MAP_SVC, "pw_svc", sizeof(struct pw_svc_key),
		 sizeof(struct pw_svc_val), c->n_svcs);
	set_size(c, POLICY_MAP_DECISION, "pw_decision",
		 sizeof(struct pw_decision_key), sizeof(struct pw_decision_val),
		 c->n_decisions);
	set_size(c, POLICY_MAP_RULE, "pw_rule", sizeof(__u32),
		 sizeof(struct pw_rule_val), c->n_rules);
	set_size(c, POLICY_MAP_SETTINGS, "pw_settings", sizeof(__u32),
		 sizeof(struct pw_settings), 1);
}

static const char *tenant_name(const struct policy_tenant_view *tv)
{
	return tv->tenant->name;
}

/*
 * The refusal as errors: where the limit was passed, then each of the
 * rules that need the most entries, at the rule. @top holds them.
 */
static void report_too_big(const struct cbuild *cb, struct pw_diags *diags,
			   const struct cost_top *top, uint64_t total)
{
	const struct policy *pol = cb->pol;
	char names[512] = "", msg[256];
	struct pw_loc loc = { 0 };
	size_t len = 0;
	uint32_t i;

	/* Over the whole policy a global rule may come once per tenant. */
	for (i = 0; i < top->n && len < sizeof(names); i++)
		len += snprintf(names + len, sizeof(names) - len,
				"%s'%s'%s%s%s (%llu)", i ? ", " : "",
				top->r[i].rule->name,
				cb->over ? "" : " in tenant '",
				cb->over ? "" : tenant_name(top->r[i].tv),
				cb->over ? "" : "'",
				(unsigned long long)top->r[i].entries);
	if (cb->over) {
		loc = cb->over->tenant->loc;
		snprintf(msg, sizeof(msg),
			 "tenant '%s' needs more than %llu decision entries",
			 tenant_name(cb->over),
			 (unsigned long long)cb->max_decisions);
	} else {
		/* No tenant alone: the policy as a whole. */
		loc.file = pol->n_files ? pol->files[0] : pol->path;
		snprintf(
			msg, sizeof(msg),
			"the policy needs %llu decision entries, more than %llu",
			(unsigned long long)total,
			(unsigned long long)cb->max_decisions);
	}
	pw_error(
		diags, &loc,
		"%s, plumwall's limit for a datapath map; the rules that need the most: %s (a rule needs an entry per source x destination x service class it covers: overlapping port ranges make many service classes, addresses named by many rules many address classes; plumwall show lists them)",
		msg, names);
	for (i = 0; i < top->n; i++) {
		const struct rule_cost *r = &top->r[i];

		pw_error(
			diags, &r->rule->loc,
			"rule '%s' needs up to %llu decision %s in tenant '%s': it covers %u source, %u destination and %u service %s",
			r->rule->name, (unsigned long long)r->entries,
			r->entries == 1 ? "entry" : "entries",
			tenant_name(r->tv), r->n_src, r->n_dst, r->n_svc,
			r->n_svc == 1 ? "class" : "classes");
	}
}

int policy_compile(const struct policy_analysis *an, uint32_t generation,
		   struct policy_compiled **out)
{
	return policy_compile_opts(an, generation, NULL, out);
}

void policy_compiled_set_generation(struct policy_compiled *c,
				    uint32_t generation)
{
	c->generation = generation;
	c->settings.generation = generation;
}

int policy_compile_opts(const struct policy_analysis *an, uint32_t generation,
			const struct policy_compile_opts *opts,
			struct policy_compiled **out)
{
	struct cbuild cb = { .an = an, .pol = an->policy };
	struct policy_compiled *c;
	uint64_t total = 0;
	uint32_t t;
	int ret = 0;

	*out = NULL;
	cb.max_decisions = opts && opts->max_decisions ?
				   opts->max_decisions :
				   POLICY_COMPILE_MAX_DECISIONS;
	cb.ext_min_classes = opts && opts->ext_min_classes ?
				     opts->ext_min_classes :
				     POLICY_COMPILE_EXT_MIN_CLASSES;
	c = calloc(1, sizeof(*c));
	if (!c) {
		ret = -ENOMEM;
		goto out;
	}
	cb.c = c;
	c->generation = generation;
	build_settings(c, cb.pol);
	ret = build_segments(c, cb.pol);
	if (!ret)
		ret = build_ifaces(c, cb.pol);
	if (!ret)
		ret = build_tenants(c, cb.pol);
	if (!ret)
		ret = build_rules(c, cb.pol);
	if (ret)
		goto out;

	c->tenant_info =
		calloc((size_t)an->n_tenants + 1, sizeof(*c->tenant_info));
	if (!c->tenant_info) {
		ret = -ENOMEM;
		goto out;
	}
	c->n_tenant_info = an->n_tenants;
	/* Never NULL, even empty: qsort and bsearch want an array */
	ret = grow((void **)&c->addrs, &cb.cap_addrs, 1, sizeof(*c->addrs));
	if (!ret)
		ret = grow((void **)&c->svcs, &cb.cap_svcs, 1,
			   sizeof(*c->svcs));
	if (!ret)
		ret = grow((void **)&c->decisions, &cb.cap_decisions, 1,
			   sizeof(*c->decisions));
	if (ret)
		goto out;
	for (t = 0; t < an->n_tenants; t++) {
		ret = compile_tenant(&cb, &an->tenants[t], &c->tenant_info[t]);
		if (ret == -E2BIG && cb.over && opts && opts->diags)
			report_too_big(&cb, opts->diags, &cb.tenant_top, 0);
		if (ret)
			goto out;
	}
	total = c->n_decisions;
	if (total > cb.max_decisions) {
		ret = -E2BIG;
		if (opts && opts->diags)
			report_too_big(&cb, opts->diags, &cb.top, total);
		goto out;
	}
	/* Tell the datapath which key shapes to look up per tenant */
	for (t = 0; t < c->n_tenant_info; t++) {
		struct policy_tenant_entry k = { .id = c->tenant_info[t].id };
		struct policy_tenant_entry *e;

		e = bsearch(&k, c->tenants, c->n_tenants, sizeof(*c->tenants),
			    tenant_entry_cmp);
		if (!e) {
			ret = -EINVAL;
			goto out;
		}
		e->val.tuples = c->tenant_info[t].tuples;
		e->val.flags |= PW_TENANT_TUPLES;
		if (c->tenant_info[t].ext) {
			e->val.flags |= PW_TENANT_EXT;
			e->val.ext_tuples = c->tenant_info[t].ext_tuples;
		}
	}
	qsort(c->addrs, c->n_addrs, sizeof(*c->addrs), policy_addr_key_cmp);
	qsort(c->svcs, c->n_svcs, sizeof(*c->svcs), policy_svc_key_cmp);
	qsort(c->decisions, c->n_decisions, sizeof(*c->decisions),
	      policy_decision_key_cmp);
	build_sizes(c);
	*out = c;
	c = NULL;
out:
	free(cb.ext_bits);
	policy_compiled_free(c);
	return ret;
}

void policy_compiled_free(struct policy_compiled *c)
{
	if (!c)
		return;
	free(c->ifaces);
	free(c->tenants);
	free(c->addrs);
	free(c->svcs);
	free(c->decisions);
	free(c->rules);
	free(c->segments);
	free(c->tenant_info);
	free(c);
}

int policy_iface_key(const struct policy_iface_entry *e,
		     policy_ifindex_fn resolve, void *ctx,
		     struct pw_iface_key *key)
{
	uint32_t ifindex = 0;
	int ret;

	memset(key, 0, sizeof(*key));
	ret = resolve(e->ifname, ctx, &ifindex);
	if (ret)
		goto out;
	key->ifindex = ifindex;
	key->vlan = e->vlan;
out:
	return ret;
}

/* ---- executor ----------------------------------------------------------- */

void policy_addr_lookup_key(uint16_t tenant, uint8_t family,
			    const uint8_t addr[16], struct pw_addr_key *key)
{
	memset(key, 0, sizeof(*key));
	key->prefixlen = 32 + pw_family_bits(family);
	put_be16(key->tenant_be, tenant);
	key->family = family;
	memcpy(key->addr, addr, family == PW_AF_INET ? 4 : 16);
}

void policy_svc_lookup_key(uint16_t tenant, uint8_t proto, uint16_t point,
			   struct pw_svc_key *key)
{
	memset(key, 0, sizeof(*key));
	key->prefixlen = 24 + 16;
	put_be16(key->tenant_be, tenant);
	key->proto = proto;
	put_be16(key->point_be, point);
}

const struct policy_iface_entry *
policy_compiled_iface(const struct policy_compiled *c, const char *ifname,
		      uint16_t vlan)
{
	struct policy_iface_entry k = { .vlan = vlan };

	if (strlen(ifname) > POLICY_IFNAME_MAX)
		return NULL;
	strcpy(k.ifname, ifname);
	return bsearch(&k, c->ifaces, c->n_ifaces, sizeof(*c->ifaces),
		       iface_cmp);
}

const struct pw_tenant_val *
policy_compiled_tenant(const struct policy_compiled *c, uint16_t tenant)
{
	struct policy_tenant_entry k = { .id = tenant };
	const struct policy_tenant_entry *e;

	e = bsearch(&k, c->tenants, c->n_tenants, sizeof(*c->tenants),
		    tenant_entry_cmp);
	return e ? &e->val : NULL;
}

/*
 * Longest-prefix match the way the LPM trie answers it, over the sorted
 * array: try every prefix length that occurs, longest first, with the
 * address masked to it.
 */
const struct policy_addr_entry *
policy_compiled_addr_lookup(const struct policy_compiled *c, uint16_t tenant,
			    uint8_t family, const uint8_t addr[16])
{
	const uint8_t *lens = c->addr_lens[family == PW_AF_INET6];
	struct policy_addr_entry k;
	int len;

	if (family != PW_AF_INET && family != PW_AF_INET6)
		return NULL;
	policy_addr_lookup_key(tenant, family, addr, &k.key);
	for (len = (int)pw_family_bits(family); len >= 0; len--) {
		const struct policy_addr_entry *e;

		if (!lens[len])
			continue;
		memset(k.key.addr, 0, sizeof(k.key.addr));
		memcpy(k.key.addr, addr, (size_t)len / 8);
		if (len % 8)
			k.key.addr[len / 8] = addr[len / 8] &
					      (uint8_t)(0xff00 >> (len % 8));
		k.key.prefixlen = 32 + (uint32_t)len;
		e = bsearch(&k, c->addrs, c->n_addrs, sizeof(*c->addrs),
			    policy_addr_key_cmp);
		if (e)
			return e;
	}
	return NULL;
}

const struct policy_svc_entry *
policy_compiled_svc_lookup(const struct policy_compiled *c, uint16_t tenant,
			   uint8_t proto, uint16_t point)
{
	struct policy_svc_entry k;
	int bits;

	policy_svc_lookup_key(tenant, proto, point, &k.key);
	for (bits = 16; bits >= 0; bits--) {
		const struct policy_svc_entry *e;
		uint16_t mask = bits ? (uint16_t)(0xffff << (16 - bits)) : 0;

		put_be16(k.key.point_be, point & mask);
		k.key.prefixlen = 24 + (uint32_t)bits;
		/* cppcheck-suppress uninitvar ; only k.key is compared */
		e = bsearch(&k, c->svcs, c->n_svcs, sizeof(*c->svcs),
			    policy_svc_key_cmp);
		if (e)
			return e;
	}
	return NULL;
}

const struct policy_decision_entry *
policy_compiled_decision(const struct policy_compiled *c,
			 const struct pw_decision_key *key)
{
	struct policy_decision_entry k = { .key = *key };

	return bsearch(&k, c->decisions, c->n_decisions, sizeof(*c->decisions),
		       policy_decision_key_cmp);
}

void policy_compiled_decide(const struct policy_compiled *c,
			    const struct policy_packet *pkt,
			    struct policy_compiled_verdict *out)
{
	const struct policy_iface_entry *ifc;
	const struct pw_tenant_val *tv;
	const struct policy_addr_entry *ae;
	const struct policy_svc_entry *se;
	struct pw_decision_key key;
	uint32_t best = PW_RULE_NONE;
	unsigned int m;

	memset(out, 0, sizeof(*out));
	out->rule_id = PW_RULE_NONE;
	out->tenant = PW_TENANT_NONE;
	out->src_segment = PW_SEGMENT_NONE;
	out->dst_segment = PW_SEGMENT_NONE;

	if (pkt->kind == POLICY_PKT_NON_IP) {
		out->action = c->settings.non_ip;
		out->reason = PW_REASON_NON_IP;
		goto verdict;
	}
	ifc = policy_compiled_iface(c, pkt->ifname, pkt->vlan);
	tv = ifc ? policy_compiled_tenant(c, ifc->tenant) : NULL;
	if (pkt->kind == POLICY_PKT_MALFORMED) {
		/* reported on the tenant of its wire, without segments */
		if (tv && tv->present)
			out->tenant = ifc->tenant;
		out->action = PW_ACTION_DENY;
		out->reason = PW_REASON_MALFORMED;
		out->log = true;
		goto verdict;
	}
	if (!tv || !tv->present) {
		out->action = c->settings.unmatched;
		out->reason = PW_REASON_UNMATCHED;
		out->log = out->action != PW_ACTION_ALLOW;
		goto verdict;
	}
	out->tenant = ifc->tenant;
	if (policy_packet_later_fragment(pkt) && !pkt->l4) {
		out->action = PW_ACTION_DENY;
		out->reason = PW_REASON_FRAGMENT;
		out->log = true;
		goto verdict;
	}

	ae = policy_compiled_addr_lookup(c, out->tenant, pkt->family,
					 pkt->saddr);
	out->src_class = ae			   ? ae->val.class_id :
			 pkt->family == PW_AF_INET ? PW_CLASS_DEFAULT_V4 :
						     PW_CLASS_DEFAULT_V6;
	out->src_segment = ae ? ae->val.segment_id : PW_SEGMENT_NONE;
	ae = policy_compiled_addr_lookup(c, out->tenant, pkt->family,
					 pkt->daddr);
	out->dst_class = ae			   ? ae->val.class_id :
			 pkt->family == PW_AF_INET ? PW_CLASS_DEFAULT_V4 :
						     PW_CLASS_DEFAULT_V6;
	out->dst_segment = ae ? ae->val.segment_id : PW_SEGMENT_NONE;
	se = policy_compiled_svc_lookup(c, out->tenant, pkt->proto,
					policy_packet_point(pkt));
	out->svc_class = se ? se->val.svc_class : 0;

	for (m = 0; m < 8; m++) {
		const struct policy_decision_entry *de;

		if ((tv->flags & PW_TENANT_TUPLES) && !(tv->tuples & (1U << m)))
			continue;
		memset(&key, 0, sizeof(key));
		key.tenant = out->tenant;
		key.src_class = out->src_class;
		key.dst_class = out->dst_class;
		key.svc_class = out->svc_class;
		key = key_widen(&key, m);
		de = policy_compiled_decision(c, &key);
		if (!de)
			continue;
		out->hits |= (uint8_t)(1U << m);
		if (de->val.rule_id < best)
			best = de->val.rule_id;
	}
	/* The keys with PW_CLASS_EXT for an external address, in
	 * PW_EXT_TUPLE_BIT() order, as bpf/pw_policy.h looks them up. */
	for (m = 0; m < PW_EXT_TUPLES && (tv->flags & PW_TENANT_EXT); m++) {
		const struct policy_decision_entry *de;
		unsigned int pair = m % 5;

		if (!(tv->ext_tuples & (1U << m)))
			continue;
		memset(&key, 0, sizeof(key));
		key.tenant = out->tenant;
		if (pair <= 2) {
			if (!key_class_external(out->src_class) ||
			    (pair == 2 && !key_class_external(out->dst_class)))
				continue;
			key.src_class = PW_CLASS_EXT;
			key.dst_class = pair == 0 ? out->dst_class :
					pair == 1 ? PW_CLASS_ANY :
						    PW_CLASS_EXT;
		} else {
			if (!key_class_external(out->dst_class))
				continue;
			key.src_class = pair == 3 ? out->src_class :
						    PW_CLASS_ANY;
			key.dst_class = PW_CLASS_EXT;
		}
		key.svc_class = m >= 5 ? PW_CLASS_ANY : out->svc_class;
		de = policy_compiled_decision(c, &key);
		if (!de)
			continue;
		out->ext_hits |= (uint16_t)(1U << m);
		if (de->val.rule_id < best)
			best = de->val.rule_id;
	}
	if (best != PW_RULE_NONE && best < c->n_rules) {
		out->rule_id = best;
		out->action = c->rules[best].action;
		out->reason = PW_REASON_POLICY;
		out->log = c->rules[best].flags & PW_RULE_LOG;
	} else if (policy_packet_is_link_control(pkt)) {
		/* neighbour or multicast listener discovery no rule names:
		 * settings.non_ip, as the datapath does it (step 4 in
		 * compile.h) */
		out->action = c->settings.non_ip;
		out->reason = PW_REASON_NON_IP;
		goto verdict;
	} else {
		out->action = tv->default_action;
		out->reason = PW_REASON_DEFAULT;
		out->log = tv->flags & PW_TENANT_LOG_DEFAULT;
	}
	if ((tv->flags & PW_TENANT_AUDIT) && out->action != PW_ACTION_ALLOW) {
		out->verdict = PW_VERDICT_AUDIT;
		out->log = true;
		return;
	}
verdict:
	out->verdict = (enum pw_verdict)out->action;
}

void policy_compiled_print_sizes(const struct policy_compiled *c, FILE *out)
{
	unsigned int i;

	for (i = 0; i < POLICY_MAP_COUNT; i++) {
		const struct policy_map_size *m = &c->maps[i];

		fprintf(out, "%-12s %10llu entries x %3u B = %12llu B\n",
			m->name, (unsigned long long)m->entries,
			m->key_size + m->value_size,
			(unsigned long long)m->bytes);
	}
	fprintf(out,
		"%-12s %38llu B (key + value only; kernel overhead is extra)\n",
		"total", (unsigned long long)c->total_bytes);
}
