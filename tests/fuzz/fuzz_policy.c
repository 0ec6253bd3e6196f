// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer harness: a policy file as `plumwall check` and `show` take
 * it. The YAML front end and validation (policy_load_buffer), then, for
 * a policy without errors, the analysis with its warnings and the
 * compiler, as fw/cmd_policy.c runs them; the diagnostics are sorted and
 * printed (to nowhere) as check prints them. A policy that compiles is
 * then held to the datapath contract: on packets picked around its
 * prefixes, ports and interfaces (tests/unit/gen.c, seeded from the
 * input), the compiled maps looked up as the datapath does must judge as
 * the reference evaluator does.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "policy/analyze.h"
#include "policy/compile.h"
#include "policy/policy.h"
#include "tests/unit/gen.h"
#include "common.h"

#define FUZZ_PACKETS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *fuzz_null;

/* FNV-1a of the input: the same policy gets the same packets. */
static uint64_t fuzz_hash(const uint8_t *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	while (size--)
		h = (h ^ *data++) * 0x100000001b3ULL;
	return h;
}

static void fuzz_agree(struct policy *pol, struct policy_analysis *an,
		       struct policy_compiled *c, const uint8_t *data,
		       size_t size)
{
	struct fuzz_policy fp = { .pol = pol, .an = an, .c = c };
	struct policy_packet pkt;
	int i;

	gen_seed(fuzz_hash(data, size) | 1);
	gen_collect(pol);
	for (i = 0; i < FUZZ_PACKETS; i++) {
		gen_pick_packet(pol, &pkt);
		fuzz_policy_agree(&fp, &pkt);
	}
	gen_release();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_compiled *c = NULL;
	struct policy_analysis *an = NULL;
	struct policy *pol = NULL;
	struct pw_diags diags;

	if (!fuzz_null)
		fuzz_null = fopen("/dev/null", "w");
	pw_diags_init(&diags);
	if (policy_load_buffer("fuzz.yaml", (const char *)data, size, &diags,
			       &pol))
		goto out;
	if (policy_analyze(pol, &an))
		goto out;
	if (policy_warn(an, &diags))
		goto out;
	/* -E2BIG is an answer (the policy is too big), not a failure. */
	if (!policy_compile(an, 1, &c))
		fuzz_agree(pol, an, c, data, size);
out:
	policy_compiled_free(c);
	pw_diags_sort(&diags);
	if (fuzz_null)
		pw_diags_print(&diags, fuzz_null);
	policy_analysis_free(an);
	policy_free(pol);
	pw_diags_free(&diags);
	return 0;
}
