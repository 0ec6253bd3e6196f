/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A YAML document as a tree of nodes that remember where they came from.
 *
 * Built from libyaml's event API rather than its document API so that we see
 * each scalar's style and explicit tag: `"5"` is a string while `5` is an
 * integer, and tags outside the YAML 1.2 core schema are refused. An alias
 * becomes a shallow copy of the anchored node located at the alias, its
 * children shared (the tree is a DAG; nodes are never freed individually,
 * the whole tree lives in one arena). Merge keys (`<<`) are
 * expanded while building: explicit keys win over merged ones, and among
 * merged mappings the first listed wins, as the YAML merge-key spec says.
 */
#ifndef PLUMWALL_YAML_H
#define PLUMWALL_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#include <plumwall/diag.h>

enum pw_ynode_kind {
	PW_YNODE_SCALAR,
	PW_YNODE_SEQ,
	PW_YNODE_MAP,
};

/* Core-schema type of a scalar (YAML 1.2, section 10.3). */
enum pw_yscalar_type {
	PW_YSCALAR_NULL,
	PW_YSCALAR_BOOL,
	PW_YSCALAR_INT,
	PW_YSCALAR_FLOAT,
	PW_YSCALAR_STR,
};

struct pw_ynode;

struct pw_ypair {
	struct pw_ynode *key;
	struct pw_ynode *value;
};

struct pw_ynode {
	enum pw_ynode_kind kind;
	struct pw_loc loc;
	union {
		struct {
			const char *str; /* NUL-terminated */
			size_t len;
			enum pw_yscalar_type type;
			bool has_nul; /* embedded NUL: never a valid name */
		} scalar;
		struct {
			struct pw_ynode **items;
			size_t count;
		} seq;
		struct {
			struct pw_ypair *pairs;
			size_t count;
		} map;
	};
};

struct pw_ydoc;

/* Policy and configuration files are read whole into memory: at most
 * this many bytes (a 100,000-rule policy is about 10 MiB). */
#define PW_YAML_MAX_FILE (64 << 20)

/* "a directory", "a FIFO", ... for a file type that is not regular. */
const char *pw_file_kind(mode_t mode);

/*
 * Parse @path, a regular file of at most PW_YAML_MAX_FILE bytes (anything
 * else is refused without blocking: a FIFO, a device such as /dev/zero).
 * Problems (syntax errors, bad tags, duplicate keys, unknown
 * aliases, more than one document) are added to @diags. Returns 0 and sets
 * *@doc on success, even when the file holds no document (then the root is
 * NULL); returns a negative errno when the file cannot be read, or -EINVAL
 * when it is not well-formed YAML (the reason is in @diags).
 */
int pw_ydoc_load_file(const char *path, struct pw_diags *diags,
		      struct pw_ydoc **doc);
/* Same, from memory; @name is used in locations. */
int pw_ydoc_load_buffer(const char *name, const char *buf, size_t len,
			struct pw_diags *diags, struct pw_ydoc **doc);
void pw_ydoc_free(struct pw_ydoc *doc);

struct pw_ynode *pw_ydoc_root(const struct pw_ydoc *doc);
/* Location of the start of the document, for "missing key" errors in an
 * empty file. */
const struct pw_loc *pw_ydoc_start(const struct pw_ydoc *doc);

/* Look up @key in mapping @map; NULL when absent or @map is not a map. */
struct pw_ynode *pw_ymap_get(const struct pw_ynode *map, const char *key);

/* Human name of a node's kind and type, for "expected X, got Y" messages:
 * "a mapping", "a list", "a string", "an integer", "a boolean", "null",
 * "a number". */
const char *pw_ynode_describe(const struct pw_ynode *node);

/*
 * Scalar conversions. Each returns 0 on success or -EINVAL when @node is not
 * a scalar of that type, -ERANGE when an integer does not fit.
 */
int pw_ynode_int(const struct pw_ynode *node, int64_t *value);
int pw_ynode_bool(const struct pw_ynode *node, bool *value);
/* Any non-null scalar's text (integers and strings alike). */
const char *pw_ynode_text(const struct pw_ynode *node);

#endif /* PLUMWALL_YAML_H */
