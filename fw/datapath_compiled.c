// SPDX-License-Identifier: GPL-2.0
/*
 * fw_dp <- policy compiler (policy/compile.h): the compiler's sorted
 * arrays already hold shared.h keys and values, so they are handed to the
 * slot fill in place; only interface names need resolving.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>

#include "policy/compile.h"
#include "datapath.h"

static int default_resolve(const char *ifname, void *ctx, uint32_t *ifindex)
{
	unsigned int i;

	(void)ctx;
	i = if_nametoindex(ifname);
	if (!i)
		return -ENODEV;
	*ifindex = i;
	return 0;
}

int fw_dp_policy_from_compiled(const struct policy_compiled *c,
			       fw_dp_ifindex_fn resolve, void *ctx,
			       struct fw_dp_policy *out,
			       struct fw_dp_iface **ifaces)
{
	struct fw_dp_iface *ifs = NULL;
	uint32_t i, n = 0;
	int ret = 0;

	*ifaces = NULL;
	if (!resolve)
		resolve = default_resolve;
	ifs = calloc(c->n_ifaces ? c->n_ifaces : 1, sizeof(*ifs));
	if (!ifs) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < c->n_ifaces; i++) {
		ret = policy_iface_key(&c->ifaces[i], resolve, ctx,
				       &ifs[n].key);
		if (ret > 0) /* absent interface: no entry */
			continue;
		if (ret)
			goto out;
		ifs[n++].val.tenant = c->ifaces[i].tenant;
	}
	ret = 0;
	out->settings = c->settings;
	out->ifaces = FW_DP_ENTRIES(ifs, n, struct fw_dp_iface, key, val);
	out->tenants = FW_DP_ENTRIES(c->tenants, c->n_tenants,
				     struct policy_tenant_entry, id, val);
	out->addrs = FW_DP_ENTRIES(c->addrs, c->n_addrs,
				   struct policy_addr_entry, key, val);
	out->svcs = FW_DP_ENTRIES(c->svcs, c->n_svcs, struct policy_svc_entry,
				  key, val);
	out->decisions = FW_DP_ENTRIES(c->decisions, c->n_decisions,
				       struct policy_decision_entry, key, val);
	out->rules = c->rules;
	out->n_rules = c->n_rules;
	*ifaces = ifs;
	ifs = NULL;
out:
	free(ifs);
	return ret;
}

int fw_dp_load_compiled(struct fw_dp *dp, const struct policy_compiled *c,
			fw_dp_ifindex_fn resolve, void *ctx)
{
	struct fw_dp_policy p = {};
	struct fw_dp_iface *ifs = NULL;
	int ret;

	ret = fw_dp_policy_from_compiled(c, resolve, ctx, &p, &ifs);
	if (ret)
		goto out;
	ret = fw_dp_load(dp, &p);
out:
	free(ifs);
	return ret;
}
