/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Applying a policy, shared by `plumwall apply` and plumwalld.
 */
#ifndef PLUMWALL_FW_APPLY_H
#define PLUMWALL_FW_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "runtime.h"

/* "xdp", "tc", "auto" or "nft"; -EINVAL for anything else. */
int fw_apply_want_parse(const char *name, enum fw_rt_want *want);

/*
 * @flags of fw_apply_policy(). FW_APPLY_ABSENT_OK: an interface the policy
 * names that does not exist is no error; it is left out of the datapath,
 * listed under "absent" in the state document and on stdout, and
 * attached by the next apply once it exists (plumwalld re-applies when
 * rtnetlink says it appeared). The CLI keeps refusing such a policy: a
 * typo in a name must not pass silently.
 */
#define FW_APPLY_ABSENT_OK 0x1u

/*
 * Compile the policy at @path and load it: attach to its interfaces, or
 * replace the running policy atomically (cmd_apply.c explains how). On any
 * error nothing changes. Serialised with other appliers by fw_rt_lock(),
 * held for the call. Messages go to stdout (what was applied) and stderr
 * (errors), prefixed with @prog. Returns an FW_EXIT_* status; on success
 * *@generation (may be NULL) is the new policy's generation.
 */
int fw_apply_policy(const char *prog, const char *path, enum fw_rt_want want,
		    unsigned int flags, uint32_t *generation);

/*
 * Finish or undo an apply that died part way (cmd_apply.c,
 * fw_apply_reconcile()), under the apply lock. apply does it itself;
 * plumwalld at start. Returns 0 or a negative errno (-ESTALE: the state
 * matches no running policy; said on stderr).
 */
int fw_apply_recover(const char *prog);

/* The state document says the running engine is nftables (apply --mode
 * nft): 1, else 0. */
int fw_apply_nft_running(void);

/* @st is a state document of apply --mode nft. */
bool fw_apply_state_nft(const json_t *st);

#endif /* PLUMWALL_FW_APPLY_H */
