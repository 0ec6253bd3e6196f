// SPDX-License-Identifier: GPL-2.0
/*
 * YAML documents as located node trees (see include/plumwall/yaml.h).
 *
 * The builder keeps a stack of open collections; children are gathered in
 * growable scratch vectors and copied into the arena when the collection
 * ends. Anchors are registered only when their node is complete, so an alias
 * can never point into its own unfinished definition (no cycles).
 */
#include <errno.h>
#include <unistd.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include <plumwall/arena.h>
#include <plumwall/strmap.h>
#include <plumwall/yaml.h>

#define PW_YAML_CORE_PREFIX "tag:yaml.org,2002:"
/* Upper bound on a document's size with aliases expanded: a file of a few
 * lines must not make the policy walker visit billions of nodes. */
#define PW_YAML_MAX_EXPANDED ((size_t)4 * 1000 * 1000)
#define PW_YAML_MAX_DEPTH 64
#define PW_YAML_MAX_MERGES 64

struct pw_ydoc {
	struct pw_arena *arena;
	struct pw_ynode *root;
	struct pw_loc start;
	const char *file;
};

struct pw_yanchor {
	struct pw_yanchor *next;
	const char *name;
	struct pw_ynode *node;
};

/* One open collection on the builder's stack. */
struct pw_yframe {
	struct pw_ynode *node;
	const char *anchor;
	struct pw_ynode **children;
	size_t count;
	size_t cap;
};

struct pw_ybuilder {
	struct pw_ydoc *doc;
	struct pw_diags *diags;
	struct pw_yanchor *anchors;
	struct pw_yframe stack[PW_YAML_MAX_DEPTH];
	int depth;
	int n_docs;
	int failed; /* 0, or the first negative errno */
};

/* Expanded size of each node, kept beside the tree only while building. */
struct pw_ysize {
	const struct pw_ynode *node;
	size_t size;
};

static struct pw_loc pw_yloc(struct pw_ybuilder *b, const yaml_mark_t *mark)
{
	struct pw_loc loc = {
		.file = b->doc->file,
		.line = (uint32_t)mark->line + 1,
		.col = (uint32_t)mark->column + 1,
	};
	return loc;
}

static void pw_yfail(struct pw_ybuilder *b, int err)
{
	if (!b->failed)
		b->failed = err;
}

static bool pw_match_all(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

/* YAML 1.2 core schema resolution of a plain scalar (section 10.3.2). */
static enum pw_yscalar_type pw_yresolve_plain(const char *s)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const bools[] = { "true",  "True",  "TRUE",
					     "false", "False", "FALSE" };
	static const char *const specials[] = { ".inf", ".Inf", ".INF",
						".nan", ".NaN", ".NAN" };
	const char *p = s;
	size_t i;
	bool digits = false;

	/* A null or bool starts with one of ~nNtTfF, which no number does;
	 * numbers start with a digit, a sign or a dot. Names and addresses,
	 * millions of them in a big policy, mostly do neither. */
	if (*s && strchr("~nN", *s)) {
		for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
			if (!strcmp(s, nulls[i]))
				return PW_YSCALAR_NULL;
		return PW_YSCALAR_STR;
	}
	if (*s && strchr("tTfF", *s)) {
		for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
			if (!strcmp(s, bools[i]))
				return PW_YSCALAR_BOOL;
		return PW_YSCALAR_STR;
	}
	if (!*s)
		return PW_YSCALAR_NULL;
	if (!strchr("0123456789-+.", *s))
		return PW_YSCALAR_STR;
	if (!strncmp(s, "0o", 2) && pw_match_all(s + 2, "01234567"))
		return PW_YSCALAR_INT;
	if (!strncmp(s, "0x", 2) &&
	    pw_match_all(s + 2, "0123456789abcdefABCDEF"))
		return PW_YSCALAR_INT;
	if (*p == '-' || *p == '+')
		p++;
	if (pw_match_all(p, "0123456789"))
		return PW_YSCALAR_INT;
	for (i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		if (!strcmp(p, specials[i]) && (p == s || i < 3))
			return PW_YSCALAR_FLOAT;
	/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
	while (*p >= '0' && *p <= '9') {
		p++;
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			p++;
			digits = true;
		}
	}
	if (!digits)
		return PW_YSCALAR_STR;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return PW_YSCALAR_STR;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p ? PW_YSCALAR_STR : PW_YSCALAR_FLOAT;
}

/*
 * Check an explicit tag against the core schema. Returns the type it asks
 * for (PW_YSCALAR_STR for "!" on a scalar), or -1 after reporting an error.
 * @want_kind says what node the tag is on.
 */
static int pw_ycheck_tag(struct pw_ybuilder *b, const char *tag,
			 enum pw_ynode_kind kind, const struct pw_loc *loc)
{
	static const struct {
		const char *name;
		enum pw_ynode_kind kind;
		int type;
	} core[] = {
		{ "str", PW_YNODE_SCALAR, PW_YSCALAR_STR },
		{ "int", PW_YNODE_SCALAR, PW_YSCALAR_INT },
		{ "bool", PW_YNODE_SCALAR, PW_YSCALAR_BOOL },
		{ "null", PW_YNODE_SCALAR, PW_YSCALAR_NULL },
		{ "float", PW_YNODE_SCALAR, PW_YSCALAR_FLOAT },
		{ "seq", PW_YNODE_SEQ, 0 },
		{ "map", PW_YNODE_MAP, 0 },
	};
	size_t plen = strlen(PW_YAML_CORE_PREFIX);
	size_t i;

	if (!strcmp(tag, "!"))
		return kind == PW_YNODE_SCALAR ? PW_YSCALAR_STR : 0;
	if (!strncmp(tag, PW_YAML_CORE_PREFIX, plen)) {
		for (i = 0; i < sizeof(core) / sizeof(core[0]); i++) {
			if (strcmp(tag + plen, core[i].name))
				continue;
			if (core[i].kind != kind) {
				pw_error(b->diags, loc,
					 "YAML tag '!!%s' does not fit %s",
					 core[i].name,
					 kind == PW_YNODE_SCALAR ? "a scalar" :
					 kind == PW_YNODE_SEQ	 ? "a list" :
								   "a mapping");
				return -1;
			}
			return core[i].type;
		}
		pw_error(
			b->diags, loc,
			"unsupported YAML tag '!!%s': only the core schema (str, int, bool, null, float, seq, map) is allowed",
			tag + plen);
		return -1;
	}
	pw_error(
		b->diags, loc,
		"unsupported YAML tag '%s': only the core schema (str, int, bool, null, float, seq, map) is allowed",
		tag);
	return -1;
}

static struct pw_ynode *pw_ynew(struct pw_ybuilder *b, enum pw_ynode_kind kind,
				const yaml_mark_t *mark)
{
	struct pw_ynode *node = pw_arena_alloc(b->doc->arena, sizeof(*node));

	if (!node) {
		pw_yfail(b, -ENOMEM);
		return NULL;
	}
	node->kind = kind;
	node->loc = pw_yloc(b, mark);
	return node;
}

static int pw_yframe_push_child(struct pw_ybuilder *b, struct pw_yframe *frame,
				struct pw_ynode *child)
{
	if (frame->count == frame->cap) {
		size_t cap = frame->cap ? frame->cap * 2 : 8;
		struct pw_ynode **children;

		children = realloc(frame->children, cap * sizeof(*children));
		if (!children) {
			pw_yfail(b, -ENOMEM);
			return -ENOMEM;
		}
		frame->children = children;
		frame->cap = cap;
	}
	frame->children[frame->count++] = child;
	return 0;
}

static int pw_yanchor_add(struct pw_ybuilder *b, const char *name,
			  struct pw_ynode *node)
{
	struct pw_yanchor *anchor;

	anchor = pw_arena_alloc(b->doc->arena, sizeof(*anchor));
	if (!anchor)
		goto oom;
	anchor->name = pw_arena_strdup(b->doc->arena, name);
	if (!anchor->name)
		goto oom;
	anchor->node = node;
	anchor->next = b->anchors; /* newest first: redefinition wins */
	b->anchors = anchor;
	return 0;
oom:
	pw_yfail(b, -ENOMEM);
	return -ENOMEM;
}

/* Attach a finished node to the open collection, or make it the root. */
static void pw_yattach(struct pw_ybuilder *b, struct pw_ynode *node)
{
	if (b->depth == 0) {
		b->doc->root = node;
		return;
	}
	pw_yframe_push_child(b, &b->stack[b->depth - 1], node);
}

static bool pw_yis_merge_key(const struct pw_ynode *key)
{
	return key->kind == PW_YNODE_SCALAR &&
	       key->scalar.type == PW_YSCALAR_STR &&
	       !strcmp(key->scalar.str, "<<");
}

/*
 * Turn a mapping's key/value children into pairs: reject non-scalar and
 * duplicate keys, and expand merge keys. Explicit keys come first and win;
 * merged mappings are taken in the order listed and the first one to define
 * a key wins (YAML merge key type, yaml.org/type/merge.html).
 */
static void pw_yfinish_map(struct pw_ybuilder *b, struct pw_yframe *frame)
{
	struct pw_ynode *node = frame->node;
	struct pw_ynode *merges[PW_YAML_MAX_MERGES];
	size_t n_merges = 0, n_pairs = 0, total, i, j, k;
	struct pw_strmap index; /* key text -> its pair: a segments map
				 * can hold many thousands of keys */
	struct pw_ypair *pairs;
	void *old;
	int ret;

	total = frame->count / 2;
	for (i = 0; i + 1 < frame->count; i += 2) {
		struct pw_ynode *value = frame->children[i + 1];

		if (!pw_yis_merge_key(frame->children[i]))
			continue;
		if (value->kind == PW_YNODE_MAP) {
			total += value->map.count;
		} else if (value->kind == PW_YNODE_SEQ) {
			for (j = 0; j < value->seq.count; j++)
				if (value->seq.items[j]->kind == PW_YNODE_MAP)
					total += value->seq.items[j]->map.count;
		}
	}
	pairs = pw_arena_array(b->doc->arena, total ? total : 1,
			       sizeof(*pairs));
	if (!pairs) {
		pw_yfail(b, -ENOMEM);
		return;
	}
	pw_strmap_init(&index);

	for (i = 0; i + 1 < frame->count; i += 2) {
		struct pw_ynode *key = frame->children[i];
		struct pw_ynode *value = frame->children[i + 1];
		const struct pw_ypair *dup;

		if (key->kind != PW_YNODE_SCALAR) {
			pw_error(b->diags, &key->loc,
				 "mapping keys must be plain scalars, not %s",
				 pw_ynode_describe(key));
			continue;
		}
		if (pw_yis_merge_key(key)) {
			if (value->kind == PW_YNODE_MAP &&
			    n_merges < PW_YAML_MAX_MERGES) {
				merges[n_merges++] = value;
				continue;
			}
			if (value->kind == PW_YNODE_SEQ &&
			    n_merges + value->seq.count <= PW_YAML_MAX_MERGES) {
				for (j = 0; j < value->seq.count; j++) {
					const struct pw_ynode *m =
						value->seq.items[j];

					if (m->kind == PW_YNODE_MAP) {
						merges[n_merges++] =
							value->seq.items[j];
						continue;
					}
					pw_error(
						b->diags, &m->loc,
						"merge key '<<' list items must be mappings, not %s",
						pw_ynode_describe(m));
				}
				continue;
			}
			pw_error(
				b->diags, &value->loc,
				"merge key '<<' needs a mapping or a list of at most %d mappings, not %s",
				PW_YAML_MAX_MERGES, pw_ynode_describe(value));
			continue;
		}
		ret = pw_strmap_add(&index, key->scalar.str, key->scalar.len,
				    &pairs[n_pairs], &old);
		if (ret == -ENOMEM) {
			pw_yfail(b, ret);
			break;
		}
		if (ret == -EEXIST) {
			dup = old;
			pw_error(
				b->diags, &key->loc,
				"duplicate key '%s' (first defined at line %u, column %u)",
				key->scalar.str, dup->key->loc.line,
				dup->key->loc.col);
			continue;
		}
		pairs[n_pairs].key = key;
		pairs[n_pairs].value = value;
		n_pairs++;
	}
	for (k = 0; k < n_merges; k++) {
		const struct pw_ynode *m = merges[k];

		for (j = 0; j < m->map.count; j++) {
			const struct pw_ynode *mkey = m->map.pairs[j].key;

			ret = pw_strmap_add(&index, mkey->scalar.str,
					    mkey->scalar.len, &pairs[n_pairs],
					    NULL);
			if (ret == -ENOMEM)
				pw_yfail(b, ret);
			if (ret)
				continue;
			pairs[n_pairs++] = m->map.pairs[j];
		}
	}
	pw_strmap_free(&index);
	node->map.pairs = pairs;
	node->map.count = n_pairs;
}

static void pw_yfinish_seq(struct pw_ybuilder *b, struct pw_yframe *frame)
{
	struct pw_ynode *node = frame->node;

	node->seq.items = pw_arena_array(b->doc->arena,
					 frame->count ? frame->count : 1,
					 sizeof(*node->seq.items));
	if (!node->seq.items) {
		pw_yfail(b, -ENOMEM);
		return;
	}
	if (frame->count)
		memcpy(node->seq.items, frame->children,
		       frame->count * sizeof(*node->seq.items));
	node->seq.count = frame->count;
}

static void pw_yopen(struct pw_ybuilder *b, enum pw_ynode_kind kind,
		     const yaml_event_t *ev, const char *anchor,
		     const char *tag)
{
	struct pw_ynode *node = pw_ynew(b, kind, &ev->start_mark);
	struct pw_yframe *frame;

	if (!node)
		return;
	if (tag)
		pw_ycheck_tag(b, tag, kind, &node->loc);
	if (b->depth == PW_YAML_MAX_DEPTH) {
		pw_error(b->diags, &node->loc,
			 "YAML nesting deeper than %d levels",
			 PW_YAML_MAX_DEPTH);
		pw_yfail(b, -EINVAL);
		return;
	}
	frame = &b->stack[b->depth++];
	memset(frame, 0, sizeof(*frame));
	frame->node = node;
	if (anchor) {
		/* The event owning @anchor is deleted before the node ends. */
		frame->anchor = pw_arena_strdup(b->doc->arena, anchor);
		if (!frame->anchor)
			pw_yfail(b, -ENOMEM);
	}
}

static void pw_yclose(struct pw_ybuilder *b)
{
	struct pw_yframe *frame = &b->stack[--b->depth];

	if (frame->node->kind == PW_YNODE_MAP)
		pw_yfinish_map(b, frame);
	else
		pw_yfinish_seq(b, frame);
	free(frame->children);
	if (frame->anchor)
		pw_yanchor_add(b, frame->anchor, frame->node);
	pw_yattach(b, frame->node);
}

static void pw_yscalar(struct pw_ybuilder *b, const yaml_event_t *ev)
{
	const char *value = (const char *)ev->data.scalar.value;
	const char *tag = (const char *)ev->data.scalar.tag;
	size_t len = ev->data.scalar.length;
	struct pw_ynode *node = pw_ynew(b, PW_YNODE_SCALAR, &ev->start_mark);
	int type;

	if (!node)
		return;
	node->scalar.str = pw_arena_strndup(b->doc->arena, value, len);
	if (!node->scalar.str) {
		pw_yfail(b, -ENOMEM);
		return;
	}
	node->scalar.len = len;
	node->scalar.has_nul = memchr(value, '\0', len) != NULL;

	if (tag && !ev->data.scalar.plain_implicit &&
	    !ev->data.scalar.quoted_implicit) {
		type = pw_ycheck_tag(b, tag, PW_YNODE_SCALAR, &node->loc);
		if (type < 0)
			type = PW_YSCALAR_STR;
		/* An explicit type must fit the text: `!!int abc` is bad. */
		if (type != PW_YSCALAR_STR &&
		    (int)pw_yresolve_plain(node->scalar.str) != type) {
			pw_error(b->diags, &node->loc,
				 "'%s' is not a valid value for its YAML tag",
				 node->scalar.str);
			type = PW_YSCALAR_STR;
		}
		node->scalar.type = (enum pw_yscalar_type)type;
	} else if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		node->scalar.type = pw_yresolve_plain(node->scalar.str);
	} else {
		node->scalar.type = PW_YSCALAR_STR;
	}

	if (ev->data.scalar.anchor)
		pw_yanchor_add(b, (const char *)ev->data.scalar.anchor, node);
	pw_yattach(b, node);
}

static void pw_yalias(struct pw_ybuilder *b, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	struct pw_yanchor *anchor;
	struct pw_loc loc = pw_yloc(b, &ev->start_mark);
	struct pw_ynode *node;

	for (anchor = b->anchors; anchor; anchor = anchor->next)
		if (!strcmp(anchor->name, name))
			break;
	if (!anchor) {
		pw_error(b->diags, &loc, "unknown YAML alias '*%s'", name);
		pw_yfail(b, -EINVAL);
		return;
	}
	/*
	 * A shallow copy located at the alias: a problem with the node as a
	 * whole (a list where a string is needed) is reported where it is
	 * used, not at the anchor, which may be fine in its own place. The
	 * children stay shared and keep their own locations.
	 */
	node = pw_arena_alloc(b->doc->arena, sizeof(*node));
	if (!node) {
		pw_yfail(b, -ENOMEM);
		return;
	}
	*node = *anchor->node;
	node->loc = loc;
	pw_yattach(b, node);
}

/* Node count with aliases expanded, or 0 once it passes @budget. The walk
 * stops at the budget, so an alias bomb costs at most @budget visits. */
static size_t pw_yexpanded(const struct pw_ynode *node, size_t budget)
{
	size_t total = 1, i, sub;

	if (node->kind == PW_YNODE_SEQ) {
		for (i = 0; i < node->seq.count; i++) {
			sub = pw_yexpanded(node->seq.items[i], budget - total);
			if (!sub || sub >= budget - total)
				return 0;
			total += sub;
		}
	} else if (node->kind == PW_YNODE_MAP) {
		for (i = 0; i < node->map.count; i++) {
			sub = pw_yexpanded(node->map.pairs[i].value,
					   budget - total);
			if (!sub || sub + 1 >= budget - total)
				return 0;
			total += sub + 1;
		}
	}
	return total;
}

static void pw_ysyntax_error(struct pw_ybuilder *b, const yaml_parser_t *p,
			     const char *buf, size_t len)
{
	yaml_mark_t mark = p->problem_mark;
	const char *problem = p->problem ? p->problem : "unknown problem";
	const char *hint = "";
	struct pw_loc loc;

	if (p->error == YAML_READER_ERROR) {
		/* The reader decodes ahead of the scanner and has no mark for
		 * its problem, only a byte offset: count lines and characters
		 * up to it. */
		size_t i,
			end = p->problem_offset < len ? p->problem_offset : len;

		mark.line = 0;
		mark.column = 0;
		for (i = 0; i < end; i++) {
			if (buf[i] == '\n') {
				mark.line++;
				mark.column = 0;
			} else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
				mark.column++;
			}
		}
	}
	/* libyaml says "found character that cannot start any token" for
	 * a tab used as indentation; say what the character is. */
	if (p->error == YAML_SCANNER_ERROR && mark.index < len &&
	    buf[mark.index] == '\t' && !strstr(problem, "tab"))
		hint = " (a tab: YAML indentation must use spaces)";
	loc = pw_yloc(b, &mark);
	/* "while parsing a flow sequence" is of little use at the end of
	 * the file without where that sequence starts. */
	if (p->context && p->context_mark.line != mark.line)
		pw_error(
			b->diags, &loc,
			"YAML syntax error: %s %s started at line %zu, column %zu%s",
			problem, p->context, p->context_mark.line + 1,
			p->context_mark.column + 1, hint);
	else if (p->context)
		pw_error(b->diags, &loc, "YAML syntax error: %s %s%s", problem,
			 p->context, hint);
	else
		pw_error(b->diags, &loc, "YAML syntax error: %s%s", problem,
			 hint);
}

int pw_ydoc_load_buffer(const char *name, const char *buf, size_t len,
			struct pw_diags *diags, struct pw_ydoc **out)
{
	struct pw_ybuilder b = { .diags = diags };
	size_t errors_before = diags->n_errors;
	yaml_parser_t parser;
	yaml_event_t ev;
	bool done = false;
	int ret = 0;

	*out = NULL;
	b.doc = calloc(1, sizeof(*b.doc));
	if (!b.doc)
		return -ENOMEM;
	b.doc->arena = pw_arena_new();
	if (!b.doc->arena) {
		free(b.doc);
		return -ENOMEM;
	}
	b.doc->file = pw_arena_strdup(b.doc->arena, name);
	if (!b.doc->file) {
		ret = -ENOMEM;
		goto out;
	}
	b.doc->start.file = b.doc->file;
	b.doc->start.line = 1;
	b.doc->start.col = 1;

	if (!yaml_parser_initialize(&parser)) {
		ret = -ENOMEM;
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);

	while (!done && !b.failed) {
		if (!yaml_parser_parse(&parser, &ev)) {
			pw_ysyntax_error(&b, &parser, buf, len);
			pw_yfail(&b, -EINVAL);
			break;
		}
		switch (ev.type) {
		case YAML_DOCUMENT_START_EVENT:
			if (++b.n_docs > 1) {
				struct pw_loc loc = pw_yloc(&b, &ev.start_mark);

				pw_error(
					diags, &loc,
					"a policy file holds one YAML document; found a second one");
				pw_yfail(&b, -EINVAL);
			} else {
				b.doc->start = pw_yloc(&b, &ev.start_mark);
			}
			break;
		case YAML_SCALAR_EVENT:
			pw_yscalar(&b, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			pw_yopen(&b, PW_YNODE_SEQ, &ev,
				 (const char *)ev.data.sequence_start.anchor,
				 ev.data.sequence_start.implicit ?
					 NULL :
					 (const char *)
						 ev.data.sequence_start.tag);
			break;
		case YAML_MAPPING_START_EVENT:
			pw_yopen(&b, PW_YNODE_MAP, &ev,
				 (const char *)ev.data.mapping_start.anchor,
				 ev.data.mapping_start.implicit ?
					 NULL :
					 (const char *)
						 ev.data.mapping_start.tag);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (b.depth > 0)
				pw_yclose(&b);
			break;
		case YAML_ALIAS_EVENT:
			pw_yalias(&b, &ev);
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	while (b.depth > 0)
		free(b.stack[--b.depth].children);

	if (!b.failed && b.doc->root &&
	    !pw_yexpanded(b.doc->root, PW_YAML_MAX_EXPANDED)) {
		pw_error(
			diags, &b.doc->root->loc,
			"document expands to more than %zu nodes through aliases",
			PW_YAML_MAX_EXPANDED);
		b.failed = -EINVAL;
	}
	ret = b.failed;
	if (!ret && diags->n_errors > errors_before)
		ret = -EINVAL;
out:
	if (ret) {
		pw_ydoc_free(b.doc);
		return ret;
	}
	*out = b.doc;
	return 0;
}

const char *pw_file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	return "not a regular file";
}

int pw_ydoc_load_file(const char *path, struct pw_diags *diags,
		      struct pw_ydoc **doc)
{
	struct pw_loc loc = { .file = path }; /* the whole file */
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, ret = 0;

	*doc = NULL;
	/* Non-blocking: opening a FIFO must not wait for a writer (it is
	 * refused below); regular files ignore the flag. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pw_error(diags, &loc, "cannot open: %s", strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st)) {
		ret = -errno;
		pw_error(diags, &loc, "cannot read: %s", strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		pw_error(diags, &loc, "cannot read: %s, not a regular file",
			 pw_file_kind(st.st_mode));
		goto out;
	}
	if (st.st_size > PW_YAML_MAX_FILE) {
		ret = -EFBIG;
		pw_error(
			diags, &loc,
			"cannot read: %lld bytes, more than the %d MiB plumwall reads",
			(long long)st.st_size, PW_YAML_MAX_FILE >> 20);
		goto out;
	}
	/* The size read, at most the limit plus one byte to see a file
	 * that grows meanwhile. */
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	for (;;) {
		n = read(fd, buf + len, (size_t)st.st_size + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			pw_error(diags, &loc, "cannot read: %s",
				 strerror(-ret));
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
		if (len > (size_t)st.st_size) {
			ret = -EAGAIN;
			pw_error(
				diags, &loc,
				"cannot read: the file changed while it was read");
			goto out;
		}
	}
	ret = pw_ydoc_load_buffer(path, buf, len, diags, doc);
out:
	free(buf);
	close(fd);
	return ret;
}

void pw_ydoc_free(struct pw_ydoc *doc)
{
	if (!doc)
		return;
	pw_arena_free(doc->arena);
	free(doc);
}

struct pw_ynode *pw_ydoc_root(const struct pw_ydoc *doc)
{
	return doc->root;
}

const struct pw_loc *pw_ydoc_start(const struct pw_ydoc *doc)
{
	return &doc->start;
}

struct pw_ynode *pw_ymap_get(const struct pw_ynode *map, const char *key)
{
	size_t i;

	if (!map || map->kind != PW_YNODE_MAP)
		return NULL;
	for (i = 0; i < map->map.count; i++) {
		const struct pw_ynode *k = map->map.pairs[i].key;

		if (k->kind == PW_YNODE_SCALAR && !k->scalar.has_nul &&
		    !strcmp(k->scalar.str, key))
			return map->map.pairs[i].value;
	}
	return NULL;
}

const char *pw_ynode_describe(const struct pw_ynode *node)
{
	if (node->kind == PW_YNODE_SEQ)
		return "a list";
	if (node->kind == PW_YNODE_MAP)
		return "a mapping";
	switch (node->scalar.type) {
	case PW_YSCALAR_NULL:
		return "null";
	case PW_YSCALAR_BOOL:
		return "a boolean";
	case PW_YSCALAR_INT:
		return "an integer";
	case PW_YSCALAR_FLOAT:
		return "a number";
	default:
		return "a string";
	}
}

int pw_ynode_int(const struct pw_ynode *node, int64_t *value)
{
	const char *s;
	char *end;
	long long v;
	int base = 10;

	if (node->kind != PW_YNODE_SCALAR ||
	    node->scalar.type != PW_YSCALAR_INT)
		return -EINVAL;
	s = node->scalar.str;
	if (!strncmp(s, "0o", 2)) {
		s += 2;
		base = 8;
	} else if (!strncmp(s, "0x", 2)) {
		s += 2;
		base = 16;
	}
	errno = 0;
	v = strtoll(s, &end, base);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end || end == s)
		return -EINVAL;
	*value = v;
	return 0;
}

int pw_ynode_bool(const struct pw_ynode *node, bool *value)
{
	if (node->kind != PW_YNODE_SCALAR ||
	    node->scalar.type != PW_YSCALAR_BOOL)
		return -EINVAL;
	*value = node->scalar.str[0] == 't' || node->scalar.str[0] == 'T';
	return 0;
}

const char *pw_ynode_text(const struct pw_ynode *node)
{
	if (node->kind != PW_YNODE_SCALAR ||
	    node->scalar.type == PW_YSCALAR_NULL)
		return NULL;
	return node->scalar.str;
}
