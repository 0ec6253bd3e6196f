// SPDX-License-Identifier: GPL-2.0
/*
 * Address classes and rule views of a policy (analyze.h). The warnings of
 * policy.md section 8 are in analyze_warn.c.
 *
 * Classes. For tenant T the "atoms" are the address selectors its
 * evaluation list uses (segments and literal prefixes), plus the predicate
 * "in one of T's own segments" behind `external`. Addresses that agree on
 * every atom are treated alike by every rule, so a class is one distinct
 * atom-membership signature. Each atom is a union of prefixes; let E be all
 * those prefixes plus the prefixes of every visible segment (the latter only
 * decide display segments). An address whose longest matching entry of E is
 * P lies in exactly the atoms that own P or an ancestor of P in E: an entry
 * containing the address and P are nested (both contain the address) and P
 * is the longest, so the entry contains P. Sorted by pw_prefix_cmp, E is in
 * pre-order of the prefix trie, so one pass keeping a stack of the current
 * entry's ancestors yields every entry's signature and display segment.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

#define NONE UINT32_MAX

/* One prefix of a visible segment or one literal of the evaluation list. */
struct item {
	struct pw_prefix prefix;
	uint32_t seg; /* visible segment index, NONE for a literal */
	uint32_t lit; /* literal index, NONE for a segment prefix */
};

/* A distinct prefix: an LPM entry. */
struct entry {
	struct pw_prefix prefix;
	/* Atoms owning this prefix or an ancestor, sorted, in the pool. */
	uint32_t atoms;
	uint32_t n_atoms;
	bool own; /* some own segment holds this prefix or an ancestor */
	uint32_t display; /* visible segment index, NONE: external */
	uint32_t class_id;
};

/* A class signature; the atoms live in the builder's pool. */
struct sig {
	uint8_t family;
	bool own;
	uint32_t atoms;
	uint32_t n_atoms;
};

struct builder {
	const struct policy *pol;
	const struct policy_tenant *ten;
	struct policy_tenant_view *tv;

	/* Visible segments: global ones, then the tenant's (both in `order`) */
	uint32_t n_vis;
	uint32_t *seg_atom; /* per visible segment: atom id or NONE */
	uint32_t *atom_seg; /* per segment atom: visible index */
	uint32_t n_seg_atoms;
	/* Literal atoms (ids n_seg_atoms + i), sorted and distinct */
	struct pw_prefix *lits;
	uint32_t n_lits;
	uint32_t n_atoms;

	struct item *items;
	uint32_t n_items;
	struct entry *entries;
	uint32_t n_entries;

	uint32_t *pool;
	size_t pool_len;
	size_t pool_cap;

	struct sig *sigs;
	uint32_t n_sigs;
	uint32_t *htab; /* open addressing over sigs, NONE: free */
	uint32_t hmask;

	/* Atom -> classes containing it, compressed rows */
	uint32_t *atom_first; /* n_atoms + 1 */
	uint32_t *atom_classes;
	const struct policy_class_set **atom_set; /* per atom */

	/* Distinct class sets (in tv->arena): open addressing, NULL: free */
	const struct policy_class_set **itab;
	uint32_t imask;
	uint32_t n_sets;
	/* A dense bitset that is all zeros between two uses, the words a
	 * union touched, and room for one sparse set being built. */
	uint64_t *scr;
	uint32_t *touched;
	uint32_t n_touched;
	uint32_t *tmp_word;
	uint64_t *tmp_bits;
};

uint32_t policy_svc_span(unsigned int proto)
{
	switch (proto) {
	case POLICY_PROTO_TCP:
	case POLICY_PROTO_UDP:
		return 65536;
	case POLICY_PROTO_ICMP:
	case POLICY_PROTO_ICMPV6:
		return 256;
	default:
		return 1;
	}
}

static const struct policy_segment *vis_seg(const struct builder *b, uint32_t i)
{
	if (i < b->pol->n_segments)
		return &b->pol->segments[i];
	return &b->ten->segments[i - b->pol->n_segments];
}

/* Position of @seg among the visible segments; -EINVAL when the segment is
 * not visible in this tenant (the loader never lets that happen). */
static int vis_index(const struct builder *b, const struct policy_segment *seg,
		     uint32_t *idx)
{
	const struct policy *pol = b->pol;
	const struct policy_tenant *ten = b->ten;

	if (seg->tenant < 0) {
		if (pol->n_segments && seg >= pol->segments &&
		    seg < pol->segments + pol->n_segments) {
			*idx = (uint32_t)(seg - pol->segments);
			return 0;
		}
	} else if (ten->n_segments && seg >= ten->segments &&
		   seg < ten->segments + ten->n_segments) {
		*idx = pol->n_segments + (uint32_t)(seg - ten->segments);
		return 0;
	}
	return -EINVAL;
}

static const struct policy_rule *eval_rule(const struct builder *b, uint32_t k)
{
	if (k < b->pol->n_rules)
		return &b->pol->rules[k];
	return &b->ten->rules[k - b->pol->n_rules];
}

static int prefix_qcmp(const void *a, const void *b)
{
	return pw_prefix_cmp(a, b);
}

static int u32_qcmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int item_qcmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	int ret = pw_prefix_cmp(&x->prefix, &y->prefix);

	if (ret)
		return ret;
	/* Deterministic order inside a prefix: segments by index, then the
	 * literal (NONE sorts last). */
	if (x->seg != y->seg)
		return x->seg < y->seg ? -1 : 1;
	return x->lit < y->lit ? -1 : x->lit > y->lit;
}

/* Binary search of a literal among the sorted distinct literals. */
static uint32_t lit_index(const struct builder *b, const struct pw_prefix *p)
{
	uint32_t lo = 0, hi = b->n_lits;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int ret = pw_prefix_cmp(&b->lits[mid], p);

		if (!ret)
			return mid;
		if (ret < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NONE;
}

/* Which segments and literals the evaluation list uses: those are the
 * atoms. Segment atoms first in visible order, then literals sorted. */
static int collect_atoms(struct builder *b)
{
	uint32_t n_eval = b->pol->n_rules + b->ten->n_rules;
	size_t n_sel = 0, n = 0;
	uint32_t k, i, j;
	int ret = 0;

	b->n_vis = b->pol->n_segments + b->ten->n_segments;
	b->seg_atom = malloc((b->n_vis + 1) * sizeof(*b->seg_atom));
	b->atom_seg = malloc((b->n_vis + 1) * sizeof(*b->atom_seg));
	if (!b->seg_atom || !b->atom_seg) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < b->n_vis; i++)
		b->seg_atom[i] = NONE;

	for (k = 0; k < n_eval; k++) {
		const struct policy_rule *r = eval_rule(b, k);

		n_sel += (size_t)r->n_from + r->n_to;
	}
	b->lits = malloc((n_sel + 1) * sizeof(*b->lits));
	if (!b->lits) {
		ret = -ENOMEM;
		goto out;
	}

	for (k = 0; k < n_eval; k++) {
		const struct policy_rule *r = eval_rule(b, k);

		for (j = 0; j < r->n_from + r->n_to; j++) {
			const struct policy_selector *sel =
				j < r->n_from ? &r->from[j] :
						&r->to[j - r->n_from];
			uint32_t idx;

			if (sel->kind == POLICY_SEL_PREFIX) {
				b->lits[n++] = sel->prefix;
			} else if (sel->kind == POLICY_SEL_SEGMENT) {
				ret = vis_index(b, sel->segment, &idx);
				if (ret)
					goto out;
				b->seg_atom[idx] = 0;
			}
		}
	}

	for (i = 0; i < b->n_vis; i++) {
		if (b->seg_atom[i] == NONE)
			continue;
		b->seg_atom[i] = b->n_seg_atoms;
		b->atom_seg[b->n_seg_atoms++] = i;
	}

	qsort(b->lits, n, sizeof(*b->lits), prefix_qcmp);
	for (i = 0; i < n; i++) {
		if (b->n_lits &&
		    !pw_prefix_cmp(&b->lits[b->n_lits - 1], &b->lits[i]))
			continue;
		b->lits[b->n_lits++] = b->lits[i];
	}
	b->n_atoms = b->n_seg_atoms + b->n_lits;
out:
	return ret;
}

static int collect_items(struct builder *b)
{
	size_t n = b->n_lits;
	uint32_t i, j;
	int ret = 0;

	for (i = 0; i < b->n_vis; i++)
		n += vis_seg(b, i)->n_prefixes;
	if (n >= NONE) {
		ret = -E2BIG;
		goto out;
	}
	b->items = malloc((n + 1) * sizeof(*b->items));
	if (!b->items) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < b->n_vis; i++) {
		const struct policy_segment *seg = vis_seg(b, i);

		for (j = 0; j < seg->n_prefixes; j++) {
			struct item *it = &b->items[b->n_items++];

			it->prefix = seg->prefixes[j];
			it->seg = i;
			it->lit = NONE;
		}
	}
	for (i = 0; i < b->n_lits; i++) {
		struct item *it = &b->items[b->n_items++];

		it->prefix = b->lits[i];
		it->seg = NONE;
		it->lit = i;
	}
	qsort(b->items, b->n_items, sizeof(*b->items), item_qcmp);
out:
	return ret;
}

static int pool_reserve(struct builder *b, size_t extra)
{
	size_t cap = b->pool_cap ? b->pool_cap : 1024;
	uint32_t *pool;

	if (b->pool_len + extra <= b->pool_cap)
		return 0;
	while (cap < b->pool_len + extra)
		cap *= 2;
	pool = realloc(b->pool, cap * sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	b->pool = pool;
	b->pool_cap = cap;
	return 0;
}

/*
 * Group the sorted items into entries and walk them in trie pre-order. The
 * stack holds the chain of entries containing the current one; an entry's
 * data is its own items merged with its nearest ancestor's (already
 * cumulative) data.
 */
static int build_entries(struct builder *b)
{
	uint32_t stack[130]; /* one chain of nested prefixes: at most 129 */
	uint32_t *here = NULL;
	uint32_t depth = 0;
	uint32_t i = 0, j;
	int ret = 0;

	b->entries = calloc(b->n_items + 1, sizeof(*b->entries));
	here = malloc((b->n_items + 1) * sizeof(*here));
	if (!b->entries || !here) {
		ret = -ENOMEM;
		goto out;
	}
	ret = pool_reserve(b, 1); /* never NULL, even without entries */
	if (ret)
		goto out;

	while (i < b->n_items) {
		struct entry *e = &b->entries[b->n_entries];
		const struct entry *parent;
		uint32_t n_here = 0, best_order = NONE, pa = 0, pn = 0;
		uint32_t *dst, a, c;

		e->prefix = b->items[i].prefix;
		e->display = NONE;
		for (j = i; j < b->n_items &&
			    !pw_prefix_cmp(&b->items[j].prefix, &e->prefix);
		     j++) {
			const struct item *it = &b->items[j];
			const struct policy_segment *seg;

			if (it->lit != NONE) {
				here[n_here++] = b->n_seg_atoms + it->lit;
				continue;
			}
			if (b->seg_atom[it->seg] != NONE)
				here[n_here++] = b->seg_atom[it->seg];
			if (it->seg >= b->pol->n_segments)
				e->own = true;
			/* Equally long prefixes: the first defined wins */
			seg = vis_seg(b, it->seg);
			if (seg->order < best_order) {
				best_order = seg->order;
				e->display = it->seg;
			}
		}
		i = j;
		qsort(here, n_here, sizeof(*here), u32_qcmp);

		while (depth &&
		       !pw_prefix_contains(&b->entries[stack[depth - 1]].prefix,
					   &e->prefix))
			depth--;
		parent = depth ? &b->entries[stack[depth - 1]] : NULL;
		if (parent) {
			e->own |= parent->own;
			/* The longest containing segment prefix is the
			 * nearest one on the chain. */
			if (e->display == NONE)
				e->display = parent->display;
			pa = parent->atoms;
			pn = parent->n_atoms;
		}

		/* Merge the parent's sorted atoms with ours, dropping
		 * duplicates (a segment may own nested prefixes). */
		ret = pool_reserve(b, (size_t)pn + n_here);
		if (ret)
			goto out;
		e->atoms = (uint32_t)b->pool_len;
		dst = b->pool + b->pool_len;
		a = 0;
		c = 0;
		while (a < pn || c < n_here) {
			uint32_t v;

			if (c == n_here ||
			    (a < pn && b->pool[pa + a] <= here[c]))
				v = b->pool[pa + a++];
			else
				v = here[c++];
			if (!e->n_atoms || dst[e->n_atoms - 1] != v)
				dst[e->n_atoms++] = v;
		}
		b->pool_len += e->n_atoms;

		if (depth >= sizeof(stack) / sizeof(stack[0])) {
			ret = -EINVAL; /* nested deeper than any family */
			goto out;
		}
		stack[depth++] = b->n_entries++;
	}
out:
	free(here);
	return ret;
}

static uint32_t sig_hash(const struct builder *b, const struct sig *s)
{
	uint32_t h = 2166136261u;
	uint32_t i;

	h = (h ^ s->family) * 16777619u;
	h = (h ^ s->own) * 16777619u;
	for (i = 0; i < s->n_atoms; i++) {
		uint32_t v = b->pool[s->atoms + i];

		h = (h ^ (v & 0xffff)) * 16777619u;
		h = (h ^ (v >> 16)) * 16777619u;
	}
	return h;
}

static bool sig_equal(const struct builder *b, const struct sig *x,
		      const struct sig *y)
{
	/* x is a stored sig: htab holds NONE (memset) or the ids of stored
	 * sigs; the analyzer does not model memset(0xff).
	 * NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult) */
	return x->family == y->family && x->own == y->own &&
	       x->n_atoms == y->n_atoms &&
	       (!x->n_atoms || !memcmp(b->pool + x->atoms, b->pool + y->atoms,
				       x->n_atoms * sizeof(uint32_t)));
}

/* Class id of @s, adding a new class when the signature is new. */
static uint32_t sig_intern(struct builder *b, const struct sig *s)
{
	uint32_t h = sig_hash(b, s) & b->hmask;

	while (b->htab[h] != NONE) {
		if (sig_equal(b, &b->sigs[b->htab[h]], s))
			return b->htab[h];
		h = (h + 1) & b->hmask;
	}
	b->sigs[b->n_sigs] = *s;
	b->htab[h] = b->n_sigs;
	return b->n_sigs++;
}

/* Classes 0 and 1 are the default classes (no atom, not own); then the
 * entries' signatures in entry order. */
static int assign_classes(struct builder *b)
{
	uint32_t size = 8, i;
	int ret = 0;

	while (size < 2 * (b->n_entries + 2))
		size *= 2;
	b->hmask = size - 1;
	b->htab = malloc(size * sizeof(*b->htab));
	b->sigs = malloc((b->n_entries + 2) * sizeof(*b->sigs));
	if (!b->htab || !b->sigs) {
		ret = -ENOMEM;
		goto out;
	}
	memset(b->htab, 0xff, size * sizeof(*b->htab));

	sig_intern(b, &(struct sig){ .family = PW_AF_INET });
	sig_intern(b, &(struct sig){ .family = PW_AF_INET6 });
	for (i = 0; i < b->n_entries; i++) {
		struct entry *e = &b->entries[i];
		struct sig s = {
			.family = e->prefix.family,
			.own = e->own,
			.atoms = e->atoms,
			.n_atoms = e->n_atoms,
		};

		e->class_id = sig_intern(b, &s);
	}
out:
	return ret;
}

static int fill_classes(struct builder *b)
{
	struct policy_tenant_view *tv = b->tv;
	uint32_t i, j;
	int ret = 0;

	tv->n_classes = b->n_sigs;
	tv->class_words = (b->n_sigs + 63) / 64;
	tv->classes = calloc(b->n_sigs, sizeof(*tv->classes));
	tv->lpm = calloc(b->n_entries + 1, sizeof(*tv->lpm));
	if (!tv->classes || !tv->lpm) {
		ret = -ENOMEM;
		goto out;
	}

	for (i = 0; i < b->n_sigs; i++) {
		struct policy_addr_class *cl = &tv->classes[i];
		const struct sig *s = &b->sigs[i];
		const uint32_t *atoms = b->pool + s->atoms;
		uint32_t n_seg = 0;

		while (n_seg < s->n_atoms && atoms[n_seg] < b->n_seg_atoms)
			n_seg++;
		cl->id = i;
		cl->family = s->family;
		cl->is_default = i < 2;
		cl->external = !s->own;
		if (n_seg) {
			cl->segments = pw_arena_array(tv->arena, n_seg,
						      sizeof(*cl->segments));
			if (!cl->segments) {
				ret = -ENOMEM;
				goto out;
			}
		}
		if (s->n_atoms > n_seg) {
			cl->literals = pw_arena_array(tv->arena,
						      s->n_atoms - n_seg,
						      sizeof(*cl->literals));
			if (!cl->literals) {
				ret = -ENOMEM;
				goto out;
			}
		}
		/* Atom order is visible order (= `order`) for segments and
		 * pw_prefix_cmp order for literals. The atoms are sorted:
		 * the n_seg segment atoms come first. */
		for (j = 0; j < n_seg; j++)
			cl->segments[cl->n_segments++] =
				vis_seg(b, b->atom_seg[atoms[j]]);
		for (; j < s->n_atoms; j++)
			cl->literals[cl->n_literals++] =
				b->lits[atoms[j] - b->n_seg_atoms];
	}

	tv->n_lpm = b->n_entries;
	for (i = 0; i < b->n_entries; i++) {
		const struct entry *e = &b->entries[i];
		struct policy_lpm_entry *l = &tv->lpm[i];

		l->prefix = e->prefix;
		l->class_id = e->class_id;
		l->segment = e->display == NONE ? NULL : vis_seg(b, e->display);
		tv->classes[e->class_id].n_lpm++;
	}
out:
	return ret;
}

bool policy_class_set_has(const struct policy_class_set *set, uint32_t id)
{
	uint32_t i = policy_class_set_lower(set, id / 64);

	return i < set->n_words && set->word[i] == id / 64 &&
	       ((set->bits[i] >> (id % 64)) & 1);
}

uint32_t policy_class_set_lower(const struct policy_class_set *set, uint32_t w)
{
	uint32_t lo = 0, hi = set->n_words;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (set->word[mid] < w)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool policy_class_set_covers(const struct policy_class_set *set,
			     const struct policy_class_set *sub)
{
	uint32_t i = 0, j;

	if (sub->n_classes > set->n_classes || sub->n_words > set->n_words)
		return false;
	for (j = 0; j < sub->n_words; j++) {
		while (i < set->n_words && set->word[i] < sub->word[j])
			i++;
		if (i == set->n_words || set->word[i] != sub->word[j] ||
		    (sub->bits[j] & ~set->bits[i]))
			return false;
	}
	return true;
}

static uint32_t set_hash(const uint32_t *word, const uint64_t *bits, uint32_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
	uint32_t i;

	for (i = 0; i < n; i++) {
		h = (h ^ word[i]) * 0xbf58476d1ce4e5b9ULL;
		h = (h ^ bits[i]) * 0x94d049bb133111ebULL;
		h ^= h >> 31;
	}
	return (uint32_t)(h ^ (h >> 32));
}

static int set_table_grow(struct builder *b)
{
	uint32_t size = b->itab ? (b->imask + 1) * 2 : 64, i, h;
	const struct policy_class_set **tab;

	tab = calloc(size, sizeof(*tab));
	if (!tab)
		return -ENOMEM;
	for (i = 0; b->itab && i <= b->imask; i++) {
		const struct policy_class_set *s = b->itab[i];

		if (!s)
			continue;
		for (h = set_hash(s->word, s->bits, s->n_words) & (size - 1);
		     tab[h]; h = (h + 1) & (size - 1))
			;
		tab[h] = s;
	}
	free(b->itab);
	b->itab = tab;
	b->imask = size - 1;
	return 0;
}

/* The set of words @word with @bits (@n of them), shared with every equal
 * set of the tenant: copied into the arena only when new. */
static int set_intern(struct builder *b, const uint32_t *word,
		      const uint64_t *bits, uint32_t n,
		      const struct policy_class_set **out)
{
	struct policy_class_set *s;
	const struct policy_class_set *t;
	uint32_t h, i, count = 0;
	uint64_t *sb;
	uint32_t *sw;

	for (h = set_hash(word, bits, n) & b->imask; (t = b->itab[h]);
	     h = (h + 1) & b->imask) {
		if (t->n_words == n &&
		    (!n || (!memcmp(t->word, word, n * sizeof(*word)) &&
			    !memcmp(t->bits, bits, n * sizeof(*bits))))) {
			*out = t;
			return 0;
		}
	}
	/* One block: the set, its words, their indices. */
	s = pw_arena_alloc(b->tv->arena,
			   sizeof(*s) +
				   (size_t)n * (sizeof(*sb) + sizeof(*sw)));
	if (!s)
		return -ENOMEM;
	sb = (uint64_t *)(s + 1);
	sw = (uint32_t *)(sb + n);
	for (i = 0; i < n; i++) {
		sw[i] = word[i];
		sb[i] = bits[i];
		count += (uint32_t)__builtin_popcountll(bits[i]);
	}
	s->n_words = n;
	s->n_classes = count;
	s->word = sw;
	s->bits = sb;
	b->itab[h] = s;
	*out = s;
	if ((uint64_t)++b->n_sets * 2 > (uint64_t)b->imask + 1)
		return set_table_grow(b);
	return 0;
}

static void scratch_add(struct builder *b, uint32_t w, uint64_t bits)
{
	if (!b->scr[w])
		b->touched[b->n_touched++] = w;
	b->scr[w] |= bits;
}

static void scratch_or(struct builder *b, const struct policy_class_set *s)
{
	uint32_t i;

	for (i = 0; i < s->n_words; i++)
		scratch_add(b, s->word[i], s->bits[i]);
}

/* The set held in the scratch bitset, which is left all zeros. */
static int scratch_take(struct builder *b, const struct policy_class_set **out)
{
	uint32_t i, n = b->n_touched;

	qsort(b->touched, n, sizeof(*b->touched), u32_qcmp);
	for (i = 0; i < n; i++) {
		uint32_t w = b->touched[i];

		b->tmp_word[i] = w;
		b->tmp_bits[i] = b->scr[w];
		b->scr[w] = 0;
	}
	b->n_touched = 0;
	/* The scratch arrays belong to the builder, freed with it (see
	 * builder_release); the analyzer loses them across the call.
	 * NOLINTNEXTLINE(clang-analyzer-unix.Malloc) */
	return set_intern(b, b->tmp_word, b->tmp_bits, n, out);
}

/* Per atom the set of classes containing it, plus the `any` and
 * `external` sets. */
static int index_atoms(struct builder *b)
{
	struct policy_tenant_view *tv = b->tv;
	uint32_t words = tv->class_words;
	uint32_t *fill = NULL;
	size_t total = 0;
	uint32_t i, j;
	int ret = 0;

	b->atom_first = calloc(b->n_atoms + 1, sizeof(*b->atom_first));
	fill = calloc(b->n_atoms + 1, sizeof(*fill));
	b->atom_set = calloc(b->n_atoms + 1, sizeof(*b->atom_set));
	b->scr = calloc(words + 1, sizeof(*b->scr));
	b->touched = malloc((words + 1) * sizeof(*b->touched));
	b->tmp_word = malloc((words + 1) * sizeof(*b->tmp_word));
	b->tmp_bits = malloc((words + 1) * sizeof(*b->tmp_bits));
	if (!b->atom_first || !fill || !b->atom_set || !b->scr || !b->touched ||
	    !b->tmp_word || !b->tmp_bits) {
		ret = -ENOMEM;
		goto out;
	}
	ret = set_table_grow(b);
	if (ret)
		goto out;
	for (i = 0; i < b->n_sigs; i++) {
		const struct sig *s = &b->sigs[i];

		for (j = 0; j < s->n_atoms; j++)
			b->atom_first[b->pool[s->atoms + j] + 1]++;
		total += s->n_atoms;
	}
	for (i = 0; i < b->n_atoms; i++)
		b->atom_first[i + 1] += b->atom_first[i];
	b->atom_classes = malloc((total + 1) * sizeof(*b->atom_classes));
	if (!b->atom_classes) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < b->n_sigs; i++) {
		const struct sig *s = &b->sigs[i];

		for (j = 0; j < s->n_atoms; j++) {
			uint32_t a = b->pool[s->atoms + j];

			b->atom_classes[b->atom_first[a] + fill[a]++] = i;
		}
	}
	for (i = 0; i < b->n_atoms; i++) {
		for (j = b->atom_first[i]; j < b->atom_first[i + 1]; j++) {
			uint32_t c = b->atom_classes[j];

			scratch_add(b, c / 64, 1ULL << (c % 64));
		}
		ret = scratch_take(b, &b->atom_set[i]);
		if (ret)
			goto out;
	}
	for (i = 0; i < b->n_sigs; i++)
		scratch_add(b, i / 64, 1ULL << (i % 64));
	ret = scratch_take(b, &tv->all);
	if (ret)
		goto out;
	for (i = 0; i < b->n_sigs; i++)
		if (!b->sigs[i].own)
			scratch_add(b, i / 64, 1ULL << (i % 64));
	ret = scratch_take(b, &tv->ext);
out:
	free(fill);
	return ret;
}

/* The class set of a selector, NULL for `any`. */
static int selector_set(struct builder *b, const struct policy_selector *sel,
			const struct policy_class_set **out)
{
	uint32_t idx;
	int ret = 0;

	*out = NULL;
	switch (sel->kind) {
	case POLICY_SEL_SEGMENT:
		ret = vis_index(b, sel->segment, &idx);
		if (!ret && b->seg_atom[idx] == NONE)
			ret = -EINVAL;
		if (!ret)
			*out = b->atom_set[b->seg_atom[idx]];
		break;
	case POLICY_SEL_PREFIX:
		idx = lit_index(b, &sel->prefix);
		if (idx == NONE)
			ret = -EINVAL;
		else
			*out = b->atom_set[b->n_seg_atoms + idx];
		break;
	case POLICY_SEL_ANY:
		break;
	case POLICY_SEL_EXTERNAL:
		*out = b->tv->ext;
		break;
	default:
		ret = -EINVAL;
	}
	return ret;
}

/* The union of the selectors' sets: `any` or a single selector is a set
 * that exists already, others are built in the scratch bitset. */
static int selectors_to_set(struct builder *b,
			    const struct policy_selector *sels, uint32_t n,
			    const struct policy_class_set **out)
{
	const struct policy_class_set *s;
	uint32_t i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		if (sels[i].kind == POLICY_SEL_ANY) {
			*out = b->tv->all;
			goto out;
		}
	}
	for (i = 0; i < n; i++) {
		ret = selector_set(b, &sels[i], &s);
		if (ret)
			goto out;
		if (n == 1) {
			*out = s;
			goto out;
		}
		scratch_or(b, s);
	}
	ret = scratch_take(b, out);
out:
	/* On an error the scratch bitset may hold bits: the builder is
	 * released without another use. */
	return ret;
}

static int range_qcmp(const void *a, const void *b)
{
	const struct policy_svc_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : x->hi > y->hi;
}

static int build_svc(struct pw_arena *arena, const struct policy_rule *r,
		     struct policy_svc_set *svc)
{
	bool ports = r->proto == POLICY_PROTO_TCP ||
		     r->proto == POLICY_PROTO_UDP;
	bool icmp = r->proto == POLICY_PROTO_ICMP ||
		    r->proto == POLICY_PROTO_ICMPV6;
	struct policy_svc_range *v;
	uint32_t n, i, out;
	int ret = 0;

	if (r->proto == POLICY_PROTO_ANY)
		n = 256;
	else if (ports && r->n_ports)
		n = r->n_ports;
	else if (icmp && r->n_icmp)
		n = r->n_icmp;
	else
		n = 1;
	if (r->proto != POLICY_PROTO_ANY && (r->proto < 0 || r->proto > 255)) {
		ret = -EINVAL;
		goto out;
	}
	v = pw_arena_array(arena, n, sizeof(*v));
	if (!v) {
		ret = -ENOMEM;
		goto out;
	}

	if (r->proto == POLICY_PROTO_ANY) {
		for (i = 0; i < 256; i++) {
			v[i].lo = POLICY_SVC_KEY(i, 0);
			v[i].hi = v[i].lo + policy_svc_span(i) - 1;
		}
	} else if (ports && r->n_ports) {
		for (i = 0; i < n; i++) {
			v[i].lo = POLICY_SVC_KEY(r->proto, r->ports[i].lo);
			v[i].hi = POLICY_SVC_KEY(r->proto, r->ports[i].hi);
		}
	} else if (icmp && r->n_icmp) {
		for (i = 0; i < n; i++) {
			v[i].lo = POLICY_SVC_KEY(r->proto, r->icmp[i].type);
			v[i].hi = v[i].lo;
		}
	} else {
		v[0].lo = POLICY_SVC_KEY(r->proto, 0);
		v[0].hi = v[0].lo + policy_svc_span(r->proto) - 1;
	}

	/* Canonical form: sorted, overlapping and adjacent ranges merged. */
	qsort(v, n, sizeof(*v), range_qcmp);
	out = 0;
	for (i = 0; i < n; i++) {
		if (out && v[i].lo <= v[out - 1].hi + 1) {
			if (v[i].hi > v[out - 1].hi)
				v[out - 1].hi = v[i].hi;
			continue;
		}
		v[out++] = v[i];
	}
	svc->ranges = v;
	svc->count = out;
out:
	return ret;
}

static int build_views(struct builder *b)
{
	struct policy_tenant_view *tv = b->tv;
	uint32_t k;
	int ret = 0;

	tv->n_rules = b->pol->n_rules + b->ten->n_rules;
	tv->rules = calloc(tv->n_rules + 1, sizeof(*tv->rules));
	if (!tv->rules) {
		ret = -ENOMEM;
		goto out;
	}
	for (k = 0; k < tv->n_rules; k++) {
		struct policy_rule_view *v = &tv->rules[k];
		const struct policy_rule *r = eval_rule(b, k);

		v->rule = r;
		ret = selectors_to_set(b, r->from, r->n_from, &v->src);
		if (ret)
			goto out;
		ret = selectors_to_set(b, r->to, r->n_to, &v->dst);
		if (ret)
			goto out;
		ret = build_svc(tv->arena, r, &v->svc);
		if (ret)
			goto out;
	}
out:
	return ret;
}

static void builder_release(struct builder *b)
{
	free(b->atom_set);
	free(b->itab);
	free(b->scr);
	free(b->touched);
	free(b->tmp_word);
	free(b->tmp_bits);
	free(b->atom_first);
	free(b->atom_classes);
	free(b->htab);
	free(b->sigs);
	free(b->pool);
	free(b->entries);
	free(b->items);
	free(b->lits);
	free(b->atom_seg);
	free(b->seg_atom);
}

static int analyze_tenant(const struct policy *pol, uint32_t t,
			  struct policy_tenant_view *tv)
{
	struct builder b = {
		.pol = pol,
		.ten = &pol->tenants[t],
		.tv = tv,
	};
	int ret;

	tv->tenant = b.ten;
	tv->index = t;
	tv->arena = pw_arena_new();
	if (!tv->arena) {
		ret = -ENOMEM;
		goto out;
	}
	ret = collect_atoms(&b);
	if (ret)
		goto out;
	ret = collect_items(&b);
	if (ret)
		goto out;
	ret = build_entries(&b);
	if (ret)
		goto out;
	ret = assign_classes(&b);
	if (ret)
		goto out;
	ret = fill_classes(&b);
	if (ret)
		goto out;
	ret = index_atoms(&b);
	if (ret)
		goto out;
	ret = build_views(&b);
out:
	builder_release(&b);
	return ret;
}

int policy_analyze(const struct policy *pol, struct policy_analysis **out)
{
	struct policy_analysis *an;
	uint32_t t;
	int ret = 0;

	*out = NULL;
	an = calloc(1, sizeof(*an));
	if (!an) {
		ret = -ENOMEM;
		goto out;
	}
	an->policy = pol;
	an->tenants = calloc(pol->n_tenants + 1, sizeof(*an->tenants));
	if (!an->tenants) {
		ret = -ENOMEM;
		goto out;
	}
	an->n_tenants = pol->n_tenants;
	for (t = 0; t < pol->n_tenants; t++) {
		ret = analyze_tenant(pol, t, &an->tenants[t]);
		if (ret)
			goto out;
	}
	*out = an;
	an = NULL;
out:
	policy_analysis_free(an);
	return ret;
}

void policy_analysis_free(struct policy_analysis *an)
{
	uint32_t t;

	if (!an)
		return;
	for (t = 0; an->tenants && t < an->n_tenants; t++) {
		struct policy_tenant_view *tv = &an->tenants[t];

		free(tv->classes);
		free(tv->lpm);
		free(tv->rules);
		pw_arena_free(tv->arena);
	}
	free(an->tenants);
	free(an);
}
