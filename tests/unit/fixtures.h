/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared pieces of the unit tests: the example policy of policy.md
 * section 9, loading a policy that must load cleanly, diagnostics as text,
 * the shipped example policies, and the suite runner every main() uses.
 */
#ifndef PLUMWALL_TESTS_FIXTURES_H
#define PLUMWALL_TESTS_FIXTURES_H

#include <check.h>
#include <stdint.h>

#include <plumwall/diag.h>

#include "policy/policy.h"

/* policy.md section 9, verbatim. */
extern const char fixture_spec_example[];

/* $@name, or @fallback when it is unset or empty. */
const char *fixture_env_or(const char *name, const char *fallback);

/* The repository root: $PLUMWALL_ROOT, default ".". */
const char *fixture_root_dir(void);

/* CLOCK_MONOTONIC in nanoseconds, the datapath's own clock. */
uint64_t fixture_mono_ns(void);

/* @diags sorted and printed as `plumwall check` shows them (malloc'd). */
char *fixture_diags_text(struct pw_diags *diags);

/* Load @yaml as "test.yaml"; the policy must load without any diagnostic
 * (on failure the diagnostics and @yaml go to stderr). */
struct policy *fixture_load_ok(const char *yaml);

/* The same for the policy file or directory @path. */
struct policy *fixture_load_path_ok(const char *path);

/* Call @fn with the path of each example policy, the YAML files in
 * etc/policies of the root directory; there must be at least three. */
void fixture_for_each_example(void (*fn)(const char *path));

/* The path of the example policy etc/policies/@name (malloc'd). */
char *fixture_example_path(const char *name);

/* Remove the file or directory tree @path; 0 on success. */
int fixture_remove_tree(const char *path);

/* Run @s (output as CK_VERBOSITY says, default normal); returns the exit
 * status for main(): EXIT_SUCCESS when every test passed. */
int fixture_run_suite(Suite *s);

#endif /* PLUMWALL_TESTS_FIXTURES_H */
