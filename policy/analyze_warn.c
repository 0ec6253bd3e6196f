// SPDX-License-Identifier: GPL-2.0
/*
 * The warnings of policy.md section 8 (analyze.h: policy_warn): rules that
 * can never match (shadowed, after an any-to-any rule, or without a common
 * address family) and unused segments.
 *
 * Packet space. In one tenant a packet is (source class, destination class,
 * service point) with both classes of the same family; the service space is
 * the same for both families. Only inhabited classes count: a class whose
 * LPM entries are each covered completely by longer entries (and a default
 * class when entries cover the whole family) holds no address, and letting
 * it in would make a rule look reachable when no packet reaches it.
 *
 * Shadowing is decided exactly. A rule R's region is one box per family,
 * (source set x destination set x service set). Subtracting an earlier
 * rule's box B' = (S', D', V') from a box (S, D, V) leaves the disjoint
 * boxes (S \ S') x D x V, (S n S') x (D \ D') x V and
 * (S n S') x (D n D') x (V \ V'), empty ones dropped. R is shadowed when,
 * subtracting the earlier rules in order, nothing remains. No cap and no
 * fallback are needed; instead:
 *
 * - Only candidates are subtracted: earlier rules that meet R, found through
 *   an index of rules by the bitset words their sets touch.
 * - Boxes are searched depth first from an explicit stack, each box
 *   remembering the next candidate to try. A box no further candidate meets
 *   holds packets no earlier rule matches and ends the search at once, so
 *   reachable rules (the common case) are cheap. A path down the search
 *   meets each candidate at most once and leaves at most two pending boxes
 *   per step, so the stack stays within 2 * candidates + 2 boxes.
 * - The box being searched turns into one of its pieces in place; a rule
 *   that contains it in two dimensions (a narrow box meeting a wide rule)
 *   just shrinks it, allocating nothing.
 * - A pushed box that differs from the box below it in one dimension only
 *   is united with it (see box_unite()), which keeps chains of rules over
 *   single segments linear instead of quadratic.
 *
 * A rule counts as "covering" R when it was used to split some box. In a
 * complete (shadowed) search those are exactly the earlier rules E that
 * match some packet of R that no rule before E matches, whatever order the
 * boxes are visited in, so the names do not depend on the search.
 *
 * Sets of classes inside boxes are kept as word ranges of a bitset, so the
 * cost of a box tracks the classes it holds, not the tenant's class count;
 * the rules' own sets are sparse (analyze.h), and an operation between a
 * box and a rule looks only at the rule's words inside the box's range.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

#define NONE UINT32_MAX
#define NAMES_SHOWN 3

enum verdict {
	V_LIVE,
	V_NEVER_FAMILY, /* source and destination share no family */
	V_NEVER_SRC, /* the source selects no address at all */
	V_NEVER_DST,
	V_AFTER_ANY,
	V_SHADOWED,
};

struct outcome {
	enum verdict verdict;
	uint32_t any_pos; /* V_AFTER_ANY: position of the any-to-any rule */
	/* V_SHADOWED: positions of the first covering rules; one more than
	 * shown, to know whether to print ", ..." */
	uint32_t names[NAMES_SHOWN + 1];
	uint32_t n_names;
};

/* A global rule's outcomes summed over the tenants. */
struct gstate {
	uint32_t n_never, n_after, n_shadowed;
	enum verdict never; /* the first tenant's reason */
	bool never_same;
	uint32_t any_pos;
	bool any_same;
	uint32_t names[NAMES_SHOWN + 1];
	uint32_t n_names;
};

/* Words [lo, lo + n) of a class bitset; n == 0 is the empty set. */
struct rset {
	uint32_t lo;
	uint32_t n;
	uint64_t *w;
};

/*
 * Where a rule's class set is non-zero: its first and last non-zero words
 * and, when it has at most NARROW_WORDS non-zero words, which (for the
 * index of candidates below). A segment with both IPv4 and IPv6 prefixes
 * has classes far apart, so the range alone would make it look wide.
 */
#define NARROW_WORDS 4

struct words {
	uint32_t lo, hi; /* lo > hi: empty set */
	uint32_t n; /* entries of w[], NONE: too many to list */
	uint32_t w[NARROW_WORDS];
};

/* Per rule of the evaluation list. */
struct rinfo {
	struct words s, d;
	uint32_t vlo, vhi; /* first and last service key */
};

struct box {
	uint32_t next; /* first candidate not yet tried on this box */
	struct rset s;
	struct rset d;
	struct policy_svc_range *v;
	uint32_t n_v;
	uint32_t v_cap;
	uint64_t data[];
};

/*
 * Which rules have a non-zero word w in their source (or destination) set,
 * per word. Sets with more than NARROW_WORDS non-zero words are "wide" and
 * listed apart, so the index holds at most NARROW_WORDS entries per rule.
 * Lists hold rule positions in ascending order.
 */
struct dim_index {
	uint32_t *first; /* words + 1 offsets into pos */
	uint32_t *pos;
	uint32_t *wide;
	uint32_t n_wide;
};

struct tctx {
	const struct policy_tenant_view *tv;
	const struct policy_svc_set *full; /* proto any */
	uint32_t words;
	uint64_t *inh; /* inhabited classes */
	uint32_t n_inh;
	uint64_t *fam[2]; /* inhabited classes of IPv4, IPv6 */
	struct words fam_words[2];
	struct rinfo *ri;
	uint64_t *scr[3]; /* scratch bitsets: s n S', d n D', unions */
	struct policy_svc_range *vscr; /* scratch V \ V' */
	size_t vscr_cap;
	struct dim_index idx[2]; /* by source, by destination */
	uint32_t *seen; /* per position: last rule whose candidates it was */
	uint32_t *cand; /* positions of earlier rules meeting R */
	uint8_t *used;
	uint32_t n_cand;
	struct box **stack;
	size_t sp;
	size_t stack_cap;
};

/* The service set of proto any, in canonical form: TCP and UDP, which use
 * the whole point space of their protocol, run into the next protocol's
 * first point, so their ranges merge with it. */
static void init_full_svc(struct policy_svc_set *full)
{
	struct policy_svc_range *v = full->ranges;
	unsigned int p;
	uint32_t lo, hi;

	full->count = 0;
	for (p = 0; p < 256; p++) {
		lo = POLICY_SVC_KEY(p, 0);
		hi = lo + policy_svc_span(p) - 1;
		if (full->count && v[full->count - 1].hi + 1 == lo)
			v[full->count - 1].hi = hi;
		else
			v[full->count++] = (struct policy_svc_range){ lo, hi };
	}
}

static bool svc_equal(const struct policy_svc_set *a,
		      const struct policy_svc_set *b)
{
	return a->count == b->count &&
	       !memcmp(a->ranges, b->ranges, a->count * sizeof(*a->ranges));
}

static int u32_qcmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Index of the first range of @b with hi >= @key, or @nb. */
static uint32_t svc_find(const struct policy_svc_range *b, uint32_t nb,
			 uint32_t key)
{
	uint32_t lo = 0, hi = nb;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (b[mid].hi < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Service sets are short for the box and up to 256 ranges for a rule with
 * proto any: walk the shorter, binary search the longer. */
static bool svc_meet(const struct policy_svc_range *a, uint32_t na,
		     const struct policy_svc_range *b, uint32_t nb)
{
	const struct policy_svc_range *t;
	uint32_t i, j;

	if (na > nb) {
		t = a;
		a = b;
		b = t;
		j = na;
		na = nb;
		nb = j;
	}
	for (i = 0; i < na; i++) {
		j = svc_find(b, nb, a[i].lo);
		if (j < nb && b[j].lo <= a[i].hi)
			return true;
	}
	return false;
}

/* a is a subset of b. Ranges of b are never adjacent, so each range of a
 * must lie inside a single range of b. */
static bool svc_within(const struct policy_svc_range *a, uint32_t na,
		       const struct policy_svc_range *b, uint32_t nb)
{
	uint32_t i, j;

	for (i = 0; i < na; i++) {
		j = svc_find(b, nb, a[i].lo);
		if (j == nb || b[j].lo > a[i].lo || b[j].hi < a[i].hi)
			return false;
	}
	return true;
}

/* @out = a \ b; @out has room for na + nb ranges (each range of b starts
 * inside at most one range of a, and only such a start adds a piece).
 * Returns the count. */
static uint32_t svc_diff(const struct policy_svc_range *a, uint32_t na,
			 const struct policy_svc_range *b, uint32_t nb,
			 struct policy_svc_range *out)
{
	uint32_t i, k, n = 0;

	for (i = 0; i < na; i++) {
		uint32_t lo = a[i].lo, hi = a[i].hi;
		bool left = true;

		for (k = svc_find(b, nb, lo); k < nb && b[k].lo <= hi; k++) {
			if (b[k].lo > lo)
				out[n++] = (struct policy_svc_range){
					lo, b[k].lo - 1
				};
			if (b[k].hi >= hi) {
				left = false;
				break;
			}
			lo = b[k].hi + 1;
		}
		if (left)
			out[n++] = (struct policy_svc_range){ lo, hi };
	}
	return n;
}

/* The same of a dense bitset of @words words. */
static void dense_words_of(const uint64_t *set, uint32_t words, struct words *x)
{
	uint32_t w;

	x->lo = 1;
	x->hi = 0;
	x->n = 0;
	for (w = 0; w < words; w++) {
		if (!set[w])
			continue;
		if (x->lo > x->hi)
			x->lo = w;
		x->hi = w;
		if (x->n == NONE)
			continue;
		if (x->n == NARROW_WORDS)
			x->n = NONE;
		else
			x->w[x->n++] = w;
	}
}

static void words_of(const struct policy_class_set *set, struct words *x)
{
	uint32_t i;

	x->lo = 1;
	x->hi = 0;
	x->n = set->n_words <= NARROW_WORDS ? set->n_words : NONE;
	if (!set->n_words)
		return;
	x->lo = set->word[0];
	x->hi = set->word[set->n_words - 1];
	for (i = 0; i < set->n_words && i < NARROW_WORDS; i++)
		x->w[i] = set->word[i];
}

/* Does @p meet @set? Only the set's words inside @p's range are looked
 * at. */
static bool rset_meet(const struct rset *p, const struct policy_class_set *set)
{
	uint32_t end = p->lo + p->n, i;

	if (!p->n)
		return false;
	for (i = policy_class_set_lower(set, p->lo);
	     i < set->n_words && set->word[i] < end; i++)
		if (p->w[set->word[i] - p->lo] & set->bits[i])
			return true;
	return false;
}

/* Is @p a subset of @set? An rset is trimmed (its first and last words are
 * non-zero), so reaching outside the set's words already answers no; the
 * cost is bounded by the words of @p. */
static bool rset_within(const struct rset *p,
			const struct policy_class_set *set)
{
	uint32_t w, i;

	if (!p->n)
		return true;
	if (!set->n_words || p->lo < set->word[0] ||
	    p->lo + p->n - 1 > set->word[set->n_words - 1])
		return false;
	i = policy_class_set_lower(set, p->lo);
	for (w = 0; w < p->n; w++) {
		if (!p->w[w])
			continue;
		while (i < set->n_words && set->word[i] < p->lo + w)
			i++;
		if (i == set->n_words || set->word[i] != p->lo + w ||
		    (p->w[w] & ~set->bits[i]))
			return false;
	}
	return true;
}

static void rset_trim(struct rset *p)
{
	while (p->n && !p->w[0]) {
		p->w++;
		p->lo++;
		p->n--;
	}
	while (p->n && !p->w[p->n - 1])
		p->n--;
}

/* @p minus @set, in place: costs the words of @set inside @p plus the
 * words trimmed off, so a box losing one class pays for one word. */
static void rset_sub(struct rset *p, const struct policy_class_set *set)
{
	uint32_t end = p->lo + p->n, i;

	if (!p->n)
		return;
	for (i = policy_class_set_lower(set, p->lo);
	     i < set->n_words && set->word[i] < end; i++)
		p->w[set->word[i] - p->lo] &= ~set->bits[i];
	rset_trim(p);
}

/* @p n @set into scratch words (indexed like the full bitset). */
static struct rset rset_and(const struct rset *p,
			    const struct policy_class_set *set, uint64_t *scr)
{
	struct rset r = { 0, 0, NULL };
	uint32_t lo, hi, i;

	if (!p->n || !set->n_words)
		return r;
	lo = p->lo > set->word[0] ? p->lo : set->word[0];
	hi = p->lo + p->n - 1;
	if (set->word[set->n_words - 1] < hi)
		hi = set->word[set->n_words - 1];
	if (lo > hi)
		return r;
	memset(scr + lo, 0, (size_t)(hi - lo + 1) * sizeof(*scr));
	for (i = policy_class_set_lower(set, lo);
	     i < set->n_words && set->word[i] <= hi; i++)
		scr[set->word[i]] = p->w[set->word[i] - p->lo] & set->bits[i];
	r.lo = lo;
	r.n = hi - lo + 1;
	r.w = scr + lo;
	rset_trim(&r);
	return r;
}

/* @set n the dense bitset @dense (non-zero within @x) into scratch words:
 * a rule's classes of one family. */
static struct rset rset_of(const struct policy_class_set *set,
			   const uint64_t *dense, const struct words *x,
			   uint64_t *scr)
{
	struct rset r = { 0, 0, NULL };
	uint32_t lo, hi, i;

	if (!set->n_words || x->lo > x->hi)
		return r;
	lo = set->word[0] > x->lo ? set->word[0] : x->lo;
	hi = set->word[set->n_words - 1];
	if (x->hi < hi)
		hi = x->hi;
	if (lo > hi)
		return r;
	memset(scr + lo, 0, (size_t)(hi - lo + 1) * sizeof(*scr));
	for (i = policy_class_set_lower(set, lo);
	     i < set->n_words && set->word[i] <= hi; i++)
		scr[set->word[i]] = set->bits[i] & dense[set->word[i]];
	r.lo = lo;
	r.n = hi - lo + 1;
	r.w = scr + lo;
	rset_trim(&r);
	return r;
}

static struct box *box_new(uint32_t next, const struct rset *s,
			   const struct rset *d,
			   const struct policy_svc_range *v, uint32_t n_v)
{
	struct box *b;

	b = malloc(sizeof(*b) + ((size_t)s->n + d->n) * sizeof(uint64_t) +
		   (size_t)n_v * sizeof(*v));
	if (!b)
		return NULL;
	b->next = next;
	b->s.lo = s->lo;
	b->s.n = s->n;
	b->s.w = b->data;
	/* An empty set may have no words at all (w NULL): memcpy() from
	 * NULL is undefined even for 0 bytes. */
	if (s->n)
		memcpy(b->s.w, s->w, s->n * sizeof(uint64_t));
	b->d.lo = d->lo;
	b->d.n = d->n;
	b->d.w = b->data + s->n;
	if (d->n)
		memcpy(b->d.w, d->w, d->n * sizeof(uint64_t));
	b->v = (struct policy_svc_range *)(b->data + s->n + d->n);
	b->n_v = n_v;
	b->v_cap = n_v;
	if (n_v)
		memcpy(b->v, v, n_v * sizeof(*v));
	return b;
}

static int vscr_reserve(struct tctx *c, size_t n)
{
	struct policy_svc_range *v;

	if (n <= c->vscr_cap)
		return 0;
	v = realloc(c->vscr, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->vscr = v;
	c->vscr_cap = n;
	return 0;
}

static bool rset_equal(const struct rset *a, const struct rset *b)
{
	/* Trimmed sets are equal exactly when their words are. */
	return a->n == b->n &&
	       (!a->n || (a->lo == b->lo &&
			  !memcmp(a->w, b->w, a->n * sizeof(uint64_t))));
}

/* Union of two non-empty sets into scratch words. */
static struct rset rset_union(const struct rset *a, const struct rset *b,
			      uint64_t *scr)
{
	uint32_t lo = a->lo < b->lo ? a->lo : b->lo;
	uint32_t end = a->lo + a->n > b->lo + b->n ? a->lo + a->n :
						     b->lo + b->n;
	struct rset r = { lo, end - lo, scr + lo };
	uint32_t w;

	memset(r.w, 0, r.n * sizeof(uint64_t));
	for (w = 0; w < a->n; w++)
		scr[a->lo + w] |= a->w[w];
	for (w = 0; w < b->n; w++)
		scr[b->lo + w] |= b->w[w];
	return r;
}

/* @out = a u b in canonical form; room for na + nb ranges. */
static uint32_t svc_union(const struct policy_svc_range *a, uint32_t na,
			  const struct policy_svc_range *b, uint32_t nb,
			  struct policy_svc_range *out)
{
	uint32_t i = 0, j = 0, n = 0;

	while (i < na || j < nb) {
		struct policy_svc_range r;

		if (j == nb || (i < na && a[i].lo <= b[j].lo))
			r = a[i++];
		else
			r = b[j++];
		if (n && r.lo <= out[n - 1].hi + 1) {
			if (r.hi > out[n - 1].hi)
				out[n - 1].hi = r.hi;
		} else {
			out[n++] = r;
		}
	}
	return n;
}

/*
 * Two boxes that differ in one dimension only unite into one box. The
 * union restarts at the smaller `next`: the candidates it tries again
 * cannot meet the part that had already passed them (a box is disjoint
 * from every candidate before its `next`), so the search stays exact; and
 * as every split still removes a non-empty part of the remaining region,
 * it still ends. *@out is NULL when the boxes do not unite.
 */
static int box_unite(struct tctx *c, const struct box *x, const struct box *y,
		     struct box **out)
{
	uint32_t next = x->next < y->next ? x->next : y->next;
	bool s_eq = rset_equal(&x->s, &y->s);
	bool d_eq = rset_equal(&x->d, &y->d);
	bool v_eq = x->n_v == y->n_v &&
		    !memcmp(x->v, y->v, x->n_v * sizeof(*x->v));
	struct rset u;
	uint32_t n_v;
	int ret = 0;

	*out = NULL;
	if (s_eq && d_eq) {
		ret = vscr_reserve(c, (size_t)x->n_v + y->n_v);
		if (ret)
			goto out;
		n_v = svc_union(x->v, x->n_v, y->v, y->n_v, c->vscr);
		*out = box_new(next, &x->s, &x->d, c->vscr, n_v);
	} else if (s_eq && v_eq) {
		u = rset_union(&x->d, &y->d, c->scr[2]);
		*out = box_new(next, &x->s, &u, x->v, x->n_v);
	} else if (d_eq && v_eq) {
		u = rset_union(&x->s, &y->s, c->scr[2]);
		*out = box_new(next, &u, &x->d, x->v, x->n_v);
	} else {
		goto out;
	}
	if (!*out)
		ret = -ENOMEM;
out:
	return ret;
}

/*
 * Push @b, folding it into the box on top when they unite. This keeps a
 * chain like "each source to external" followed by "any to each
 * destination" linear: the slices the first rules cut off one source at a
 * time share their destination and service sets and fold back into one
 * box, which the second rules then whittle down once, not once per source.
 */
static int push(struct tctx *c, struct box *b)
{
	struct box **stack, *u;
	size_t cap;
	int ret;

	if (!b)
		return -ENOMEM;
	if (c->sp) {
		ret = box_unite(c, c->stack[c->sp - 1], b, &u);
		if (ret) {
			free(b);
			return ret;
		}
		if (u) {
			free(c->stack[c->sp - 1]);
			free(b);
			c->stack[c->sp - 1] = u;
			return 0;
		}
	}
	if (c->sp == c->stack_cap) {
		cap = c->stack_cap ? 2 * c->stack_cap : 64;
		stack = realloc(c->stack, cap * sizeof(*stack));
		if (!stack) {
			free(b);
			return -ENOMEM;
		}
		c->stack = stack;
		c->stack_cap = cap;
	}
	c->stack[c->sp++] = b;
	return 0;
}

static void drop_stack(struct tctx *c)
{
	while (c->sp)
		free(c->stack[--c->sp]);
}

static bool box_meets(const struct tctx *c, const struct box *b, uint32_t k)
{
	const struct policy_rule_view *e = &c->tv->rules[k];
	const struct rinfo *ri = &c->ri[k];

	if (ri->vhi < b->v[0].lo || ri->vlo > b->v[b->n_v - 1].hi)
		return false;
	return rset_meet(&b->s, e->src) && rset_meet(&b->d, e->dst) &&
	       svc_meet(b->v, b->n_v, e->svc.ranges, e->svc.count);
}

/*
 * Subtract rule @k (candidate @idx), which meets *@bp, from it. Of the three
 * remaining pieces, the ones that need memory of their own are pushed (they
 * continue with candidate idx + 1); the box itself turns into the last
 * non-empty piece in place, or is freed (*@bp = NULL) when none is left.
 * Pieces are built before the box changes, as all derive from it. When the
 * rule contains the box in two dimensions, the common case of a narrow box
 * meeting a wide rule, nothing is allocated at all.
 */
static int split(struct tctx *c, struct box **bp, uint32_t k, uint32_t idx)
{
	const struct policy_rule_view *e = &c->tv->rules[k];
	struct box *b = *bp, *nb;
	struct rset s_and, d_and;
	bool s_in, d_in, v_in;
	uint32_t n_v;
	int ret = 0;

	s_in = rset_within(&b->s, e->src);
	d_in = rset_within(&b->d, e->dst);
	v_in = svc_within(b->v, b->n_v, e->svc.ranges, e->svc.count);
	s_and = s_in ? b->s : rset_and(&b->s, e->src, c->scr[0]);
	d_and = d_in ? b->d : rset_and(&b->d, e->dst, c->scr[1]);

	/* (S n S') x (D n D') x (V \ V') */
	if (!v_in) {
		ret = vscr_reserve(c, (size_t)b->n_v + e->svc.count);
		if (ret)
			goto out;
		n_v = svc_diff(b->v, b->n_v, e->svc.ranges, e->svc.count,
			       c->vscr);
		if (s_in && d_in) {
			if (n_v <= b->v_cap) {
				memcpy(b->v, c->vscr, n_v * sizeof(*b->v));
				b->n_v = n_v;
				goto out;
			}
			nb = box_new(idx + 1, &b->s, &b->d, c->vscr, n_v);
			if (!nb) {
				ret = -ENOMEM;
				goto out;
			}
			free(b);
			*bp = nb;
			goto out;
		}
		ret = push(c, box_new(idx + 1, &s_and, &d_and, c->vscr, n_v));
		if (ret)
			goto out;
	}
	/* (S n S') x (D \ D') x V */
	if (!d_in) {
		if (s_in) {
			rset_sub(&b->d, e->dst);
			goto out;
		}
		nb = box_new(idx + 1, &s_and, &b->d, b->v, b->n_v);
		if (nb)
			rset_sub(&nb->d, e->dst);
		ret = push(c, nb);
		if (ret)
			goto out;
	}
	/* (S \ S') x D x V */
	if (!s_in) {
		rset_sub(&b->s, e->src);
		goto out;
	}
	free(b);
	*bp = NULL;
out:
	return ret;
}

/* Follow each box on the stack through the candidates; *@covered tells
 * whether they cover every box. */
static int search(struct tctx *c, bool *covered)
{
	struct box *b = NULL;
	uint32_t i;
	int ret = 0;

	*covered = false;
	while (c->sp) {
		b = c->stack[--c->sp];
		for (i = b->next; b; i++) {
			while (i < c->n_cand && !box_meets(c, b, c->cand[i]))
				i++;
			if (i == c->n_cand)
				goto out; /* a packet no earlier rule matches */
			c->used[i] = 1;
			ret = split(c, &b, c->cand[i], i);
			if (ret)
				goto out;
		}
	}
	*covered = true;
out:
	free(b);
	drop_stack(c);
	return ret;
}

static void add_name(uint32_t *names, uint32_t *n, uint32_t pos)
{
	uint32_t i, j;

	for (i = 0; i < *n && names[i] < pos; i++)
		;
	if (i < *n && names[i] == pos)
		return;
	if (i > NAMES_SHOWN)
		return;
	j = *n < NAMES_SHOWN + 1 ? (*n)++ : NAMES_SHOWN;
	for (; j > i; j--)
		names[j] = names[j - 1];
	names[i] = pos;
}

/* Number of entries below @k in the ascending list @l of length @n. */
static uint32_t count_below(const uint32_t *l, uint32_t n, uint32_t k)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (l[mid] < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* How many rules before @k the index of dimension @d offers for the
 * non-zero words of @x; UINT32_MAX when @x is too wide to look up. */
static uint32_t index_cost(const struct tctx *c, int d, const struct words *x,
			   uint32_t k)
{
	const struct dim_index *ix = &c->idx[d];
	uint32_t n, i, w;

	if (x->lo > x->hi || x->n == NONE)
		return UINT32_MAX;
	n = count_below(ix->wide, ix->n_wide, k);
	for (i = 0; i < x->n; i++) {
		w = x->w[i];
		n += count_below(ix->pos + ix->first[w],
				 ix->first[w + 1] - ix->first[w], k);
	}
	return n;
}

static void try_candidate(struct tctx *c, uint32_t k, uint32_t j,
			  struct box **init, uint32_t n_init)
{
	uint32_t i;

	if (c->seen[j] == k + 1)
		return;
	c->seen[j] = k + 1;
	for (i = 0; i < n_init; i++) {
		if (box_meets(c, init[i], j)) {
			c->cand[c->n_cand++] = j;
			return;
		}
	}
}

/*
 * The rules before @k that meet R's boxes, in order. A rule meeting R
 * shares a source word and a destination word with it, so when R's source
 * or destination is narrow the index of that dimension lists every such
 * rule (plus some that do not meet); the cheaper dimension is used, and
 * only when both are wide all earlier rules are tried.
 */
static void gather(struct tctx *c, uint32_t k, struct box **init,
		   uint32_t n_init)
{
	const struct rinfo *ri = &c->ri[k];
	const struct dim_index *ix;
	const struct words *x;
	uint32_t cost[2], i, j, n;
	int d;

	c->n_cand = 0;
	cost[0] = index_cost(c, 0, &ri->s, k);
	cost[1] = index_cost(c, 1, &ri->d, k);
	if (cost[0] == UINT32_MAX && cost[1] == UINT32_MAX) {
		for (j = 0; j < k; j++)
			try_candidate(c, k, j, init, n_init);
		return;
	}
	d = cost[1] < cost[0];
	ix = &c->idx[d];
	x = d ? &ri->d : &ri->s;
	n = count_below(ix->wide, ix->n_wide, k);
	for (j = 0; j < n; j++)
		try_candidate(c, k, ix->wide[j], init, n_init);
	for (i = 0; i < x->n; i++) {
		const uint32_t *l = ix->pos + ix->first[x->w[i]];

		n = count_below(l, ix->first[x->w[i] + 1] - ix->first[x->w[i]],
				k);
		for (j = 0; j < n; j++)
			try_candidate(c, k, l[j], init, n_init);
	}
	qsort(c->cand, c->n_cand, sizeof(*c->cand), u32_qcmp);
}

/* Is rule @k, whose region is the boxes @init (taken over), shadowed by
 * the rules before it? */
static int check_shadow(struct tctx *c, uint32_t k, struct box **init,
			uint32_t n_init, struct outcome *o)
{
	bool covered = false;
	uint32_t i;
	int ret = 0;

	gather(c, k, init, n_init);
	if (!c->n_cand)
		goto out;
	memset(c->used, 0, c->n_cand);
	for (i = 0; i < n_init; i++) {
		ret = push(c, init[i]);
		init[i] = NULL;
		if (ret)
			goto out;
	}
	ret = search(c, &covered);
	if (ret || !covered)
		goto out;
	o->verdict = V_SHADOWED;
	for (i = 0; i < c->n_cand && o->n_names <= NAMES_SHOWN; i++)
		if (c->used[i])
			o->names[o->n_names++] = c->cand[i];
out:
	for (i = 0; i < n_init; i++)
		free(init[i]);
	drop_stack(c);
	return ret;
}

/* @set holds every inhabited class. */
static bool covers_inhabited(const struct tctx *c,
			     const struct policy_class_set *set)
{
	uint32_t w, i = 0;

	if (set->n_classes < c->n_inh)
		return false;
	for (w = 0; w < c->words; w++) {
		if (!c->inh[w])
			continue;
		while (i < set->n_words && set->word[i] < w)
			i++;
		if (i == set->n_words || set->word[i] != w ||
		    (c->inh[w] & ~set->bits[i]))
			return false;
	}
	return true;
}

/* Outcome of rule @k, given the first any-to-any rule before it. */
static int judge(struct tctx *c, uint32_t k, uint32_t any_pos,
		 struct outcome *o)
{
	const struct policy_rule_view *r = &c->tv->rules[k];
	struct box *init[2] = { NULL, NULL };
	bool src_any = false, dst_any = false;
	uint32_t n_init = 0, f;
	int ret = 0;

	memset(o, 0, sizeof(*o));
	if (any_pos != NONE) {
		o->verdict = V_AFTER_ANY;
		o->any_pos = any_pos;
		goto out;
	}
	for (f = 0; f < 2; f++) {
		/* The rule's inhabited classes of family f */
		struct rset s =
			rset_of(r->src, c->fam[f], &c->fam_words[f], c->scr[0]);
		struct rset d =
			rset_of(r->dst, c->fam[f], &c->fam_words[f], c->scr[1]);

		src_any |= s.n != 0;
		dst_any |= d.n != 0;
		if (!s.n || !d.n)
			continue;
		init[n_init] = box_new(0, &s, &d, r->svc.ranges, r->svc.count);
		if (!init[n_init]) {
			ret = -ENOMEM;
			goto out;
		}
		n_init++;
	}
	if (!src_any)
		o->verdict = V_NEVER_SRC;
	else if (!dst_any)
		o->verdict = V_NEVER_DST;
	else if (!n_init)
		o->verdict = V_NEVER_FAMILY;
	else if (r->svc.count) {
		ret = check_shadow(c, k, init, n_init, o);
		n_init = 0; /* check_shadow() took them */
	}
out:
	for (f = 0; f < n_init; f++)
		free(init[f]);
	return ret;
}

/*
 * Inhabited classes, from the LPM table alone: an entry holds an address of
 * its own unless the entries directly below it cover it. Direct children
 * are disjoint, so they cover a prefix of length L exactly when their sizes,
 * 2^(128 - (len - L)) in units of 2^-128 of the parent, sum to 2^128,
 * i.e. to 0 modulo 2^128 (partial sums stay below it).
 */
static int find_inhabited(struct tctx *c)
{
	const struct policy_tenant_view *tv = c->tv;
	unsigned __int128 *sum = NULL, root_sum[2] = { 0, 0 };
	uint32_t *kids = NULL, root_kids[2] = { 0, 0 };
	bool root_full[2] = { false, false };
	uint32_t stack[130], depth = 0, i, f;
	int ret = 0;

	sum = calloc(tv->n_lpm + 1, sizeof(*sum));
	kids = calloc(tv->n_lpm + 1, sizeof(*kids));
	if (!sum || !kids) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < tv->n_lpm; i++) {
		const struct pw_prefix *p = &tv->lpm[i].prefix;
		unsigned int d;

		while (depth && !pw_prefix_contains(
					&tv->lpm[stack[depth - 1]].prefix, p))
			depth--;
		if (depth) {
			uint32_t up = stack[depth - 1];

			d = p->len - tv->lpm[up].prefix.len;
			sum[up] += (unsigned __int128)1 << (128 - d);
			kids[up]++;
		} else {
			f = p->family == PW_AF_INET6;
			if (!p->len)
				root_full[f] = true;
			else
				root_sum[f] += (unsigned __int128)1
					       << (128 - p->len);
			root_kids[f]++;
		}
		if (depth >= sizeof(stack) / sizeof(stack[0])) {
			ret = -EINVAL;
			goto out;
		}
		stack[depth++] = i;
	}
	for (i = 0; i < tv->n_lpm; i++) {
		uint32_t id = tv->lpm[i].class_id;

		if (!kids[i] || sum[i])
			c->inh[id / 64] |= 1ULL << (id % 64);
	}
	for (f = 0; f < 2; f++)
		if (!root_full[f] && (!root_kids[f] || root_sum[f]))
			c->inh[0] |= 1ULL << f; /* classes 0 and 1 */
	for (i = 0; i < c->words; i++)
		c->n_inh += (uint32_t)__builtin_popcountll(c->inh[i]);
	for (i = 0; i < tv->n_classes; i++) {
		f = tv->classes[i].family == PW_AF_INET6;
		c->fam[f][i / 64] |= c->inh[i / 64] & (1ULL << (i % 64));
	}
	/* c's arrays are freed by tctx_release(); the analyzer loses them
	 * in the stores through c->fam[f] above.
	 * NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
	for (f = 0; f < 2; f++)
		dense_words_of(c->fam[f], c->words, &c->fam_words[f]);
out:
	free(sum);
	free(kids);
	return ret;
}

static bool is_any_to_any(const struct tctx *c,
			  const struct policy_rule_view *r)
{
	return svc_equal(&r->svc, c->full) && covers_inhabited(c, r->src) &&
	       covers_inhabited(c, r->dst);
}

static void tctx_release(struct tctx *c)
{
	uint32_t i;

	for (i = 0; i < 2; i++) {
		free(c->idx[i].first);
		free(c->idx[i].pos);
		free(c->idx[i].wide);
	}
	free(c->seen);
	free(c->inh);
	free(c->fam[0]);
	free(c->fam[1]);
	free(c->ri);
	for (i = 0; i < 3; i++)
		free(c->scr[i]);
	free(c->vscr);
	free(c->cand);
	free(c->used);
	drop_stack(c);
	free(c->stack);
}

static int build_index(struct tctx *c, int d)
{
	struct dim_index *ix = &c->idx[d];
	uint32_t n = c->tv->n_rules, k, i, w;
	uint32_t *fill = NULL;
	int ret = 0;

	ix->first = calloc((size_t)c->words + 2, sizeof(*ix->first));
	ix->pos = malloc(((size_t)n * NARROW_WORDS + 1) * sizeof(*ix->pos));
	ix->wide = malloc(((size_t)n + 1) * sizeof(*ix->wide));
	fill = calloc((size_t)c->words + 1, sizeof(*fill));
	if (!ix->first || !ix->pos || !ix->wide || !fill) {
		ret = -ENOMEM;
		goto out;
	}
	for (k = 0; k < n; k++) {
		const struct words *x = d ? &c->ri[k].d : &c->ri[k].s;

		if (x->n != NONE)
			for (i = 0; i < x->n; i++)
				ix->first[x->w[i] + 1]++;
	}
	for (w = 0; w < c->words; w++)
		ix->first[w + 1] += ix->first[w];
	/* Rules with an empty set meet nothing and are left out. */
	for (k = 0; k < n; k++) {
		const struct words *x = d ? &c->ri[k].d : &c->ri[k].s;

		if (x->n == NONE)
			ix->wide[ix->n_wide++] = k;
		else
			for (i = 0; i < x->n; i++)
				ix->pos[ix->first[x->w[i]] + fill[x->w[i]]++] =
					k;
	}
out:
	free(fill);
	return ret;
}

static int tctx_init(struct tctx *c, const struct policy_tenant_view *tv,
		     const struct policy_svc_set *full)
{
	uint32_t words = tv->class_words ? tv->class_words : 1;
	uint32_t k, i;
	int ret = 0;

	memset(c, 0, sizeof(*c));
	c->tv = tv;
	c->full = full;
	c->words = tv->class_words;
	c->inh = calloc(words, sizeof(uint64_t));
	c->fam[0] = calloc(words, sizeof(uint64_t));
	c->fam[1] = calloc(words, sizeof(uint64_t));
	c->ri = calloc(tv->n_rules + 1, sizeof(*c->ri));
	c->cand = calloc(tv->n_rules + 1, sizeof(*c->cand));
	c->used = calloc(tv->n_rules + 1, 1);
	c->seen = calloc(tv->n_rules + 1, sizeof(*c->seen));
	if (!c->inh || !c->fam[0] || !c->fam[1] || !c->ri || !c->cand ||
	    !c->used || !c->seen) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < 3; i++) {
		c->scr[i] = calloc(words, sizeof(uint64_t));
		if (!c->scr[i]) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (k = 0; k < tv->n_rules; k++) {
		const struct policy_rule_view *r = &tv->rules[k];
		struct rinfo *ri = &c->ri[k];

		words_of(r->src, &ri->s);
		words_of(r->dst, &ri->d);
		if (r->svc.count) {
			ri->vlo = r->svc.ranges[0].lo;
			ri->vhi = r->svc.ranges[r->svc.count - 1].hi;
		} else {
			ri->vlo = 1;
			ri->vhi = 0;
		}
	}
	ret = build_index(c, 0);
	if (ret)
		goto out;
	ret = build_index(c, 1);
	if (ret)
		goto out;
	ret = find_inhabited(c);
out:
	return ret;
}

/* "'a', global rule 'b', 'c', ..." */
static void format_names(const struct policy_tenant_view *tv,
			 const uint32_t *names, uint32_t n, bool qualify,
			 char *buf, size_t size)
{
	size_t len = 0;
	uint32_t i;

	buf[0] = '\0';
	for (i = 0; i < n && i < NAMES_SHOWN && len < size; i++) {
		const struct policy_rule *r = tv->rules[names[i]].rule;

		len += snprintf(buf + len, size - len, "%s%s'%s'",
				i ? ", " : "",
				qualify && r->tenant < 0 ? "global rule " : "",
				r->name);
	}
	if (n > NAMES_SHOWN && len < size)
		snprintf(buf + len, size - len, ", ...");
}

static const char *never_reason(enum verdict v)
{
	switch (v) {
	case V_NEVER_SRC:
		return "its source matches no address";
	case V_NEVER_DST:
		return "its destination matches no address";
	default:
		return "its source and destination have no address family "
		       "in common";
	}
}

static void warn_tenant_rule(const struct policy_tenant_view *tv,
			     const struct policy_rule *r,
			     const struct outcome *o, struct pw_diags *diags)
{
	char names[4 * (POLICY_RULE_NAME_MAX + 20)];
	const struct policy_rule *x;

	switch (o->verdict) {
	case V_NEVER_FAMILY:
	case V_NEVER_SRC:
	case V_NEVER_DST:
		pw_warning(diags, &r->loc, "rule '%s' can never match: %s",
			   r->name, never_reason(o->verdict));
		break;
	case V_AFTER_ANY:
		x = tv->rules[o->any_pos].rule;
		pw_warning(diags, &r->loc,
			   "rule '%s' comes after the any-to-any %srule '%s' "
			   "and can never match",
			   r->name, x->tenant < 0 ? "global " : "", x->name);
		break;
	case V_SHADOWED:
		format_names(tv, o->names, o->n_names, true, names,
			     sizeof(names));
		pw_warning(diags, &r->loc,
			   "rule '%s' is shadowed by earlier rules and can "
			   "never match (covered by %s)",
			   r->name, names);
		break;
	default:
		break;
	}
}

static void merge_global(struct gstate *g, const struct outcome *o)
{
	uint32_t i;

	switch (o->verdict) {
	case V_NEVER_FAMILY:
	case V_NEVER_SRC:
	case V_NEVER_DST:
		if (!g->n_never) {
			g->never = o->verdict;
			g->never_same = true;
		} else if (g->never != o->verdict) {
			g->never_same = false;
		}
		g->n_never++;
		break;
	case V_AFTER_ANY:
		if (!g->n_after) {
			g->any_pos = o->any_pos;
			g->any_same = true;
		} else if (g->any_pos != o->any_pos) {
			g->any_same = false;
		}
		g->n_after++;
		add_name(g->names, &g->n_names, o->any_pos);
		break;
	case V_SHADOWED:
		g->n_shadowed++;
		for (i = 0; i < o->n_names; i++)
			add_name(g->names, &g->n_names, o->names[i]);
		break;
	default:
		break;
	}
}

/* A global rule is dead only when it is dead in every tenant; the global
 * rules are the same first positions of every tenant's list, so positions
 * (and the names they stand for) agree between tenants. */
static void warn_global_rule(const struct policy_analysis *an,
			     const struct policy_rule *r,
			     const struct gstate *g, struct pw_diags *diags)
{
	const struct policy_tenant_view *tv = &an->tenants[0];
	uint32_t n = an->n_tenants;
	char names[4 * (POLICY_RULE_NAME_MAX + 20)];

	if (!n || g->n_never + g->n_after + g->n_shadowed < n)
		return;
	if (g->n_never == n) {
		if (g->never_same)
			pw_warning(diags, &r->loc,
				   "global rule '%s' can never match: %s",
				   r->name, never_reason(g->never));
		else
			pw_warning(diags, &r->loc,
				   "global rule '%s' can never match in any "
				   "tenant",
				   r->name);
		return;
	}
	if (g->n_after == n && g->any_same) {
		pw_warning(diags, &r->loc,
			   "global rule '%s' comes after the any-to-any "
			   "global rule '%s' and can never match",
			   r->name, tv->rules[g->any_pos].rule->name);
		return;
	}
	format_names(tv, g->names, g->n_names, false, names, sizeof(names));
	pw_warning(diags, &r->loc,
		   "global rule '%s' is shadowed by earlier global rules in "
		   "every tenant and can never match (covered by %s)",
		   r->name, names);
}

static int warn_tenant(const struct policy_analysis *an, uint32_t t,
		       const struct policy_svc_set *full, struct gstate *gs,
		       struct pw_diags *diags)
{
	const struct policy_tenant_view *tv = &an->tenants[t];
	uint32_t n_global = an->policy->n_rules;
	uint32_t any_pos = NONE, k;
	struct outcome o;
	struct tctx c;
	int ret;

	ret = tctx_init(&c, tv, full);
	if (ret)
		goto out;
	for (k = 0; k < tv->n_rules; k++) {
		ret = judge(&c, k, any_pos, &o);
		if (ret)
			goto out;
		if (k < n_global)
			merge_global(&gs[k], &o);
		else
			warn_tenant_rule(tv, tv->rules[k].rule, &o, diags);
		if (any_pos == NONE && is_any_to_any(&c, &tv->rules[k]))
			any_pos = k;
	}
out:
	tctx_release(&c);
	return ret;
}

static void count_refs(const struct policy *pol, const struct policy_rule *r,
		       uint32_t *gref, uint32_t **tref)
{
	uint32_t j;

	for (j = 0; j < r->n_from + r->n_to; j++) {
		const struct policy_selector *sel =
			j < r->n_from ? &r->from[j] : &r->to[j - r->n_from];
		const struct policy_segment *seg = sel->segment;
		const struct policy_tenant *ten;

		if (sel->kind != POLICY_SEL_SEGMENT || !seg)
			continue;
		if (seg->tenant < 0) {
			if (pol->n_segments && seg >= pol->segments &&
			    seg < pol->segments + pol->n_segments)
				gref[seg - pol->segments]++;
		} else if ((uint32_t)seg->tenant < pol->n_tenants) {
			ten = &pol->tenants[seg->tenant];
			if (ten->n_segments && seg >= ten->segments &&
			    seg < ten->segments + ten->n_segments)
				tref[seg->tenant][seg - ten->segments]++;
		}
	}
}

/* Unused segments, counted from the selectors rather than trusting
 * n_refs, so the warning cannot drift from what the rules really name. */
static int warn_unused(const struct policy *pol, struct pw_diags *diags)
{
	uint32_t *gref = NULL, **tref = NULL;
	uint32_t t, i;
	int ret = 0;

	gref = calloc(pol->n_segments + 1, sizeof(*gref));
	tref = calloc(pol->n_tenants + 1, sizeof(*tref));
	if (!gref || !tref) {
		ret = -ENOMEM;
		goto out;
	}
	for (t = 0; t < pol->n_tenants; t++) {
		tref[t] =
			calloc(pol->tenants[t].n_segments + 1, sizeof(**tref));
		if (!tref[t]) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (i = 0; i < pol->n_rules; i++)
		count_refs(pol, &pol->rules[i], gref, tref);
	for (t = 0; t < pol->n_tenants; t++)
		for (i = 0; i < pol->tenants[t].n_rules; i++)
			count_refs(pol, &pol->tenants[t].rules[i], gref, tref);

	for (i = 0; i < pol->n_segments; i++)
		if (!gref[i])
			pw_warning(diags, &pol->segments[i].loc,
				   "global segment '%s' is not used by any "
				   "rule",
				   pol->segments[i].name);
	for (t = 0; t < pol->n_tenants; t++) {
		const struct policy_tenant *ten = &pol->tenants[t];

		for (i = 0; i < ten->n_segments; i++)
			if (!tref[t][i])
				pw_warning(diags, &ten->segments[i].loc,
					   "segment '%s' is not used by any "
					   "rule",
					   ten->segments[i].name);
	}
out:
	if (tref)
		for (t = 0; t < pol->n_tenants; t++)
			free(tref[t]);
	free(tref);
	free(gref);
	return ret;
}

int policy_warn(const struct policy_analysis *an, struct pw_diags *diags)
{
	const struct policy *pol = an->policy;
	struct policy_svc_range any_ranges[256];
	struct policy_svc_set full = { any_ranges, 0 };
	struct gstate *gs;
	uint32_t t, k;
	int ret = 0;

	init_full_svc(&full);
	gs = calloc(pol->n_rules + 1, sizeof(*gs));
	if (!gs) {
		ret = -ENOMEM;
		goto out;
	}
	for (t = 0; t < an->n_tenants; t++) {
		ret = warn_tenant(an, t, &full, gs, diags);
		if (ret)
			goto out;
	}
	for (k = 0; k < pol->n_rules; k++)
		warn_global_rule(an, &pol->rules[k], &gs[k], diags);
	ret = warn_unused(pol, diags);
out:
	free(gs);
	return ret;
}
