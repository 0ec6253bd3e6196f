// SPDX-License-Identifier: GPL-2.0
/*
 * `plumwall apply POLICY [--mode xdp|tc|auto]` and `plumwall down`
 * (cli.md). Pins and the state document: runtime.h.
 *
 * How apply replaces a running policy. Every policy map lives in one of
 * two slots of map-in-map arrays, and the programs read
 * pw_config.active_slot once per packet (shared.h). Apply fills the idle
 * slot with fresh inner maps while the old policy keeps running, then
 * switches with a single update of pw_config. We chose this
 * double-buffered flip over rewriting maps in place (a packet could see
 * half-updated maps), over replacing the programs (links would have to be
 * updated one by one, interface by interface, a window where interfaces
 * disagree) and over per-map swaps (several updates, not one): one map
 * write is atomic for every packet on every interface at once, and the
 * old slot stays intact until the next apply, so undoing is flipping
 * back. Conntrack is global, not per slot: flows survive, and the new
 * policy's generation (one more than the old) makes the datapath re-judge
 * each tracked flow on its next packet and end the ones it revokes.
 *
 * Nothing changes on failure: the policy is compiled and every interface
 * resolved before anything is touched; then the idle slot is filled,
 * new interfaces attached, the state document written aside, and only
 * then the flip. Errors before the flip detach what this run attached
 * (and, for a first apply, remove the pins it created); an error after
 * it flips back.
 */
#include <errno.h>
#include <dirent.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <jansson.h>

#include "policy/compile.h"
#include "policy/policy.h"
#include "apply.h"
#include "counters.h"
#include "ct.h"
#include "datapath.h"
#include "fw.h"
#include "kernel.h"
#include "names.h"
#include "nft.h"
#include "runtime.h"

/* An interface of the new policy, or of the running one. */
struct fw_apply_if {
	char name[IF_NAMESIZE];
	uint32_t ifindex;
	enum fw_rt_mode mode;
	bool vlans; /* a tenant owns VLANs on it: judged in tc, see below */
	bool attached_now; /* by this run: to undo on failure */
	bool pending; /* to be attached by this run, not yet */
	bool keep; /* running and still named by the new policy */
};

struct fw_apply {
	const char *prog;
	unsigned int flags; /* FW_APPLY_* */
	struct fw_apply_if *ifs; /* the new policy's */
	size_t n_ifs;
	/* named by the policy, not in the system (FW_APPLY_ABSENT_OK) */
	char (*absent)[IF_NAMESIZE];
	size_t n_absent;
	struct fw_apply_if *old; /* the running policy's */
	size_t n_old;
};

/* An absent interface (FW_APPLY_ABSENT_OK) has no entry in the
 * datapath's interface map: 1 tells fw_dp_policy_from_compiled() to skip
 * it. */
static int fw_apply_resolve(const char *ifname, void *ctx, uint32_t *ifindex)
{
	const struct fw_apply *a = ctx;
	size_t i;

	for (i = 0; i < a->n_ifs; i++)
		if (!strcmp(a->ifs[i].name, ifname)) {
			*ifindex = a->ifs[i].ifindex;
			return 0;
		}
	for (i = 0; i < a->n_absent; i++)
		if (!strcmp(a->absent[i], ifname))
			return 1;
	return -ENODEV;
}

/*
 * The distinct interfaces of @c, each resolved; unknown ones named on
 * stderr. Returns 0, -ENODEV, or another negative errno. With
 * FW_APPLY_ABSENT_OK (plumwalld) an unknown name is no error but listed
 * in a->absent: the daemon attaches it when it appears.
 *
 * An interface where a tenant owns VLANs is marked: XDP does not see a
 * VLAN tag that the driver (rx VLAN offload) or, on veth, the sending
 * side's VLAN device took out of the frame into the packet's metadata,
 * so XDP would judge such a frame by the untagged tenant. tc sees the
 * tag either way (skb->vlan_tci).
 */
static int fw_apply_interfaces(struct fw_apply *a,
			       const struct policy_compiled *c)
{
	uint32_t i;
	size_t j;
	int ret = 0;

	a->ifs = calloc(c->n_ifaces ? c->n_ifaces : 1, sizeof(*a->ifs));
	a->absent = calloc(c->n_ifaces ? c->n_ifaces : 1, sizeof(*a->absent));
	if (!a->ifs || !a->absent)
		return -ENOMEM;
	for (i = 0; i < c->n_ifaces; i++) {
		const char *name = c->ifaces[i].ifname;
		unsigned int idx;

		for (j = 0; j < a->n_ifs; j++)
			if (!strcmp(a->ifs[j].name, name))
				break;
		if (j < a->n_ifs) {
			a->ifs[j].vlans |= c->ifaces[i].vlan != 0;
			continue;
		}
		for (j = 0; j < a->n_absent; j++)
			if (!strcmp(a->absent[j], name))
				break;
		if (j < a->n_absent)
			continue;
		idx = strlen(name) < IF_NAMESIZE ? if_nametoindex(name) : 0;
		if (!idx && (a->flags & FW_APPLY_ABSENT_OK) &&
		    strlen(name) < IF_NAMESIZE) {
			snprintf(a->absent[a->n_absent++], IF_NAMESIZE, "%s",
				 name);
			continue;
		}
		if (!idx) {
			fprintf(stderr, "%s: unknown interface '%s'\n", a->prog,
				name);
			ret = -ENODEV;
			continue;
		}
		snprintf(a->ifs[a->n_ifs].name, IF_NAMESIZE, "%s", name);
		a->ifs[a->n_ifs].ifindex = idx;
		a->ifs[a->n_ifs].vlans = c->ifaces[i].vlan != 0;
		a->n_ifs++;
	}
	return ret;
}

/*
 * Interfaces with VLAN tenants are judged in tc (see above): --mode xdp
 * for one, or one already attached in XDP mode, is refused rather than
 * half enforced. Returns 0 or -EINVAL (said on stderr).
 */
static int fw_apply_vlan_modes(const struct fw_apply *a, enum fw_rt_want want)
{
	size_t i, j;
	int ret = 0;

	for (i = 0; i < a->n_ifs; i++) {
		if (!a->ifs[i].vlans)
			continue;
		for (j = 0; j < a->n_old; j++)
			if (!strcmp(a->old[j].name, a->ifs[i].name) &&
			    a->old[j].ifindex == a->ifs[i].ifindex)
				break;
		if (j < a->n_old && (a->old[j].mode == FW_RT_XDP ||
				     a->old[j].mode == FW_RT_XDP_GENERIC)) {
			fprintf(stderr,
				"%s: %s: tenants by VLAN need tc, but %s is attached in %s mode; run 'plumwall down' first (XDP does not see VLAN tags taken out of the frame by the driver or a veth peer)\n",
				a->prog, a->ifs[i].name, a->ifs[i].name,
				fw_rt_mode_name(a->old[j].mode));
			ret = -EINVAL;
		} else if (j == a->n_old && want == FW_RT_WANT_XDP) {
			fprintf(stderr,
				"%s: %s: tenants by VLAN need tc (--mode tc or auto): XDP does not see VLAN tags taken out of the frame by the driver or a veth peer\n",
				a->prog, a->ifs[i].name);
			ret = -EINVAL;
		}
	}
	return ret;
}

/* @mode is what @want asks for: xdp takes native or generic XDP (its
 * fallback), tc takes tcx or clsact, auto takes any. */
static bool fw_apply_mode_fits(enum fw_rt_mode mode, enum fw_rt_want want)
{
	bool xdp = mode == FW_RT_XDP || mode == FW_RT_XDP_GENERIC;

	return want == FW_RT_WANT_AUTO || xdp == (want == FW_RT_WANT_XDP);
}

/*
 * An interface stays attached as it is across applies (a new mode would
 * mean detaching it, a window without enforcement): --mode xdp or tc for
 * one attached in the other mode is refused, not ignored. auto never is:
 * it means "XDP where possible", and where it was not (no native XDP, a
 * VLAN tenant), tc is what auto chose. Returns 0 or -EINVAL (said on
 * stderr).
 */
static int fw_apply_attached_modes(const struct fw_apply *a,
				   enum fw_rt_want want)
{
	size_t i, j;
	int ret = 0;

	for (i = 0; i < a->n_ifs; i++)
		for (j = 0; j < a->n_old; j++) {
			if (strcmp(a->old[j].name, a->ifs[i].name) ||
			    a->old[j].ifindex != a->ifs[i].ifindex ||
			    fw_apply_mode_fits(a->old[j].mode, want))
				continue;
			fprintf(stderr,
				"%s: %s is attached in %s mode, not %s: an attached interface keeps its mode; run 'plumwall down' first to change it\n",
				a->prog, a->ifs[i].name,
				fw_rt_mode_name(a->old[j].mode),
				want == FW_RT_WANT_XDP ? "xdp" : "tc");
			ret = -EINVAL;
		}
	return ret;
}

/* The running policy's interfaces and generation, from the state. */
static int fw_apply_old(struct fw_apply *a, const json_t *st, uint32_t *gen)
{
	const json_t *arr = json_object_get(st, "interfaces"), *v;
	size_t i;

	*gen = (uint32_t)json_integer_value(json_object_get(st, "generation"));
	a->old = calloc(json_array_size(arr) + 1, sizeof(*a->old));
	if (!a->old)
		return -ENOMEM;
	json_array_foreach(arr, i, v) {
		struct fw_apply_if *o = &a->old[a->n_old];
		const char *name =
			json_string_value(json_object_get(v, "name"));
		const char *mode =
			json_string_value(json_object_get(v, "mode"));

		if (!name || !mode || fw_rt_mode_parse(mode, &o->mode))
			return -EBADMSG;
		snprintf(o->name, IF_NAMESIZE, "%s", name);
		o->ifindex = (uint32_t)json_integer_value(
			json_object_get(v, "ifindex"));
		a->n_old++;
	}
	return 0;
}

/*
 * The pinned datapath's generation into *@gen and its interfaces into @a,
 * from the state *@old (read first when NULL). Returns 0 or a negative
 * errno when the state is missing or unreadable (said on stderr).
 */
static int fw_apply_running(const char *prog, struct fw_apply *a, json_t **old,
			    uint32_t *gen)
{
	int ret = *old ? 0 : fw_rt_state_read(old);

	if (!ret)
		ret = fw_apply_old(a, *old, gen);
	if (ret)
		fprintf(stderr,
			"%s: a datapath is pinned under %s but %s is %s; run 'plumwall down' first\n",
			prog, FW_RT_DIR, FW_RT_STATE,
			ret == -ENOENT ? "missing" : "unreadable");
	return ret;
}

/* @path made absolute (the policy may be given relative to the
 * directory apply ran in; status and plumwalld read it elsewhere). */
static json_t *fw_apply_abs(const char *path)
{
	char abs[PATH_MAX];

	return json_string(realpath(path, abs) ? abs : path);
}

static json_t *fw_apply_state(const struct fw_apply *a,
			      const struct fw_policy_ctx *pc,
			      const struct policy_compiled *c, const char *sha,
			      const char *mode, time_t now)
{
	const struct policy *pol = pc->pol;
	json_t *doc, *arr, *o;
	uint32_t i;
	size_t k;

	doc = json_object();
	if (!doc)
		return NULL;
	json_object_set_new(doc, "layout_version",
			    json_integer(PW_LAYOUT_VERSION));
	json_object_set_new(doc, "policy", fw_apply_abs(pol->path));
	arr = json_array();
	for (i = 0; i < pol->n_files; i++)
		json_array_append_new(arr, fw_apply_abs(pol->files[i]));
	json_object_set_new(doc, "files", arr);
	json_object_set_new(doc, "sha256", json_string(sha));
	json_object_set_new(doc, "loaded_at", json_integer(now));
	json_object_set_new(doc, "mode", json_string(mode));
	arr = json_array();
	for (k = 0; k < a->n_ifs; k++) {
		o = json_object();
		json_object_set_new(o, "name", json_string(a->ifs[k].name));
		json_object_set_new(o, "ifindex",
				    json_integer(a->ifs[k].ifindex));
		json_object_set_new(
			o, "mode",
			json_string(a->ifs[k].pending ?
					    "pending" :
					    fw_rt_mode_name(a->ifs[k].mode)));
		json_array_append_new(arr, o);
	}
	json_object_set_new(doc, "interfaces", arr);
	/* Named by the policy but not in the system at this apply
	 * (plumwalld): the daemon re-applies when one appears. */
	if (a->n_absent) {
		arr = json_array();
		for (k = 0; k < a->n_absent; k++)
			json_array_append_new(arr, json_string(a->absent[k]));
		json_object_set_new(doc, "absent", arr);
	}
	/* What this apply detaches after its switch (fw_apply_reconcile()
	 * finishes it if the apply dies). */
	arr = json_array();
	for (k = 0; k < a->n_old; k++) {
		if (a->old[k].keep)
			continue;
		o = json_object();
		json_object_set_new(o, "name", json_string(a->old[k].name));
		json_object_set_new(o, "ifindex",
				    json_integer(a->old[k].ifindex));
		json_object_set_new(
			o, "mode",
			json_string(fw_rt_mode_name(a->old[k].mode)));
		json_array_append_new(arr, o);
	}
	if (json_array_size(arr))
		json_object_set_new(doc, "detach", arr);
	else
		json_decref(arr);
	/* The names behind the ids (names.h): generation, tenants, rules,
	 * segments. */
	if (fw_names_write(doc, pol, c)) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* Policy generations tracked flows still refer to (a bounded set: the
 * newest FW_APPLY_GENS distinct ones). */
#define FW_APPLY_GENS 64

struct fw_apply_gens {
	uint32_t gen[FW_APPLY_GENS];
	size_t n;
};

static int fw_apply_gen_note(const struct pw_ct_key *k,
			     const struct pw_ct_val *v, void *ctx)
{
	struct fw_apply_gens *g = ctx;
	size_t i, min = 0;

	(void)k;
	for (i = 0; i < g->n; i++) {
		if (g->gen[i] == v->generation)
			return 0;
		if (g->gen[i] < g->gen[min])
			min = i;
	}
	if (g->n < FW_APPLY_GENS)
		g->gen[g->n++] = v->generation;
	else if (v->generation > g->gen[min])
		g->gen[min] = v->generation;
	return 0;
}

static int fw_apply_gen_kept(uint32_t generation, void *ctx)
{
	const struct fw_apply_gens *g = ctx;
	size_t i;

	for (i = 0; i < g->n; i++)
		if (g->gen[i] == generation)
			return 1;
	return 0;
}

/*
 * Before the idle slot is refilled: fold its counters (the policy before
 * the running one, frozen since the last flip) into the running state's
 * base, and write that state back, so that the counts are kept even when
 * this apply fails later. @base gets the running state's base.
 */
static int fw_apply_fold(struct fw_dp *dp, json_t *old, __u32 idle,
			 struct fw_ctr *base)
{
	const json_t *prev, *table = NULL;
	struct fw_ctr_clock clk;
	struct pw_settings set;
	json_t *ctr;
	int ret;

	ret = fw_ctr_read(base, old);
	if (ret)
		return ret;
	prev = json_object_get(json_object_get(old, "counters"),
			       "prev_generation");
	if (!json_is_integer(prev))
		return 0; /* nothing to fold: the idle slot never ran */
	table = fw_names_table(old, (uint32_t)json_integer_value(prev));
	if (table && !fw_dp_slot_settings(dp, idle, &set) &&
	    set.generation == (uint32_t)json_integer_value(prev)) {
		ret = fw_ctr_clock_now(dp, &clk);
		if (!ret)
			ret = fw_ctr_add_dp(base, old, table, dp, idle, &clk);
		if (ret)
			return ret;
	}
	ctr = fw_ctr_json(base, -1);
	if (!ctr || json_object_set_new(old, "counters", ctr))
		return -ENOMEM;
	ret = fw_rt_state_write_tmp(old);
	if (!ret)
		ret = fw_rt_state_commit();
	return ret;
}

/* The new state's history of names and its counters. */
static int fw_apply_history(struct fw_dp *dp, json_t *st, const json_t *old,
			    const struct fw_ctr *base, time_t now)
{
	struct fw_apply_gens gens = { .n = 0 };
	struct fw_ctr ctr;
	json_t *j;
	int ret;

	if (old) {
		/* Names of older generations are kept while a tracked
		 * flow refers to them (flows show them, and logd names
		 * their flow end events). */
		ret = fw_dp_ct_foreach(dp, fw_apply_gen_note, &gens);
		if (ret)
			return ret;
		ret = fw_names_history(st, old, fw_apply_gen_kept, &gens);
		if (!ret)
			ret = fw_ctr_carry(&ctr, st, base, old, now);
	} else {
		ret = fw_names_history(st, NULL, NULL, NULL);
		if (!ret)
			ret = fw_ctr_init(&ctr, st, now);
	}
	if (ret)
		return ret;
	/* The running policy's slot keeps counting until the flip; the
	 * next apply folds it in. */
	j = fw_ctr_json(&ctr, old ? (int64_t)json_integer_value(json_object_get(
					    old, "generation")) :
				    -1);
	fw_ctr_free(&ctr);
	if (!j || json_object_set_new(st, "counters", j))
		return -ENOMEM;
	return 0;
}

/*
 * Tests kill apply at each of its stages (tests/integration/crash.sh):
 * PLUMWALL_TEST_CRASH_AT=STAGE makes this process SIGKILL itself there,
 * as a crash or an OOM kill would, with no cleanup.
 */
static void fw_apply_crash_point(const char *stage)
{
	const char *at = getenv("PLUMWALL_TEST_CRASH_AT");

	if (at && !strcmp(at, stage)) {
		/* best effort: the process is killed next either way */
		(void)fflush(NULL);
		raise(SIGKILL);
	}
}

static uint32_t fw_apply_doc_gen(const json_t *doc)
{
	return (uint32_t)json_integer_value(json_object_get(doc, "generation"));
}

/* @doc lists the interface @name with @ifindex under "interfaces". */
static bool fw_apply_doc_has(const json_t *doc, const char *name,
			     json_int_t ifindex)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(doc, "interfaces"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "name")) ?: "",
			    name) &&
		    json_integer_value(json_object_get(v, "ifindex")) ==
			    ifindex)
			return true;
	return false;
}

/* Detach the interfaces @doc lists under @key that @keep (may be NULL)
 * does not list under "interfaces". A mode that is not known yet
 * ("pending": the apply died while attaching) is every mode. */
static void fw_apply_detach_listed(const json_t *doc, const char *key,
				   const json_t *keep)
{
	static const enum fw_rt_mode any[] = { FW_RT_XDP, FW_RT_XDP_GENERIC,
					       FW_RT_TCX, FW_RT_CLSACT };
	const json_t *v;
	enum fw_rt_mode mode;
	const char *name, *m;
	json_int_t idx;
	size_t i, k;

	json_array_foreach(json_object_get(doc, key), i, v) {
		name = json_string_value(json_object_get(v, "name"));
		m = json_string_value(json_object_get(v, "mode"));
		idx = json_integer_value(json_object_get(v, "ifindex"));
		if (!name || (keep && fw_apply_doc_has(keep, name, idx)))
			continue;
		if (m && !fw_rt_mode_parse(m, &mode)) {
			fw_rt_detach(name, (int)idx, mode);
			continue;
		}
		for (k = 0; k < FW_ARRAY_SIZE(any); k++)
			fw_rt_detach(name, (int)idx, any[k]);
	}
}

static bool fw_apply_doc_pending(const json_t *doc)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(doc, "interfaces"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "mode")) ?: "",
			    "pending"))
			return true;
	return false;
}

/* The interfaces an apply removes are detached after its flip; a state
 * still listing them under "detach" is an apply that died before it was
 * done with them. */
static int fw_apply_finish_detach(json_t *st)
{
	if (!json_object_get(st, "detach"))
		return 0;
	fw_apply_detach_listed(st, "detach", NULL);
	json_object_del(st, "detach");
	return fw_rt_state_rewrite(st);
}

/* Detach every link pinned in this layout's links/ (a dead first apply's;
 * other layouts are not ours to touch). */
static void fw_apply_unlink_ours(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(FW_RT_LINKS);
	int fd;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", FW_RT_LINKS, de->d_name);
		fd = bpf_obj_get(path);
		if (fd >= 0) {
			bpf_link_detach(fd);
			close(fd);
		}
		unlink(path);
	}
	closedir(d);
}

/* The attach modes of @a's interfaces into @st's "interfaces". */
static int fw_apply_set_modes(json_t *st, const struct fw_apply *a)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(st, "interfaces"), i, v) {
		if (i >= a->n_ifs)
			return -EINVAL;
		if (json_object_set_new(
			    v, "mode",
			    json_string(fw_rt_mode_name(a->ifs[i].mode))))
			return -ENOMEM;
	}
	return 0;
}

/*
 * Bring the state documents back in line with the datapath after an
 * apply that died (killed, a crash, a power cut) part way. The truth is
 * the generation of the policy the datapath runs (its active slot, which
 * one map update switches). apply writes its new document aside
 * (state.json.tmp) before it attaches anything and again before the flip,
 * and renames it over state.json after:
 * - state.json has the running generation: the apply never flipped. What
 *   it attached (interfaces in the aside document and not in state.json)
 *   is detached, the aside document dropped.
 * - the aside document has it: the apply flipped and died before its
 *   rename. The rename is done now, and the interfaces it was to detach
 *   are detached.
 * - no state.json at all: a first apply that died. Everything it made
 *   goes (links, pins); nothing ran before it either.
 * Anything else (a state.json that matches no running policy) is left for
 * `plumwall down`: -ESTALE. Called with the apply lock held. Returns 0 or
 * a negative errno; what was done is said on stderr. @stp (may be NULL)
 * gets state.json's document when it was read and is what the file holds
 * now, NULL otherwise: apply reads it once, not twice (tens of MB at
 * 100,000 rules).
 */
static int fw_apply_reconcile(const char *prog, json_t **stp)
{
	struct fw_dp_opts o = { .pin_dir = FW_RT_MAPS,
				.pin_must_exist = true,
				.no_progs = true };
	struct fw_dp *dp = NULL;
	json_t *st = NULL, *tmp = NULL;
	bool have_st, have_tmp;
	uint32_t g = 0;
	int ret = 0;

	if (stp)
		*stp = NULL;
	have_st = !fw_rt_state_read(&st);
	have_tmp = !fw_rt_state_read_tmp(&tmp);
	if (!fw_rt_pinned()) {
		/* None of our maps pinned: a first apply dies after pinning
		 * its maps, before it attaches, so nothing of it is left. */
		if (have_tmp)
			fw_rt_state_drop_tmp();
		goto out;
	}
	if (!fw_dp_open(&dp, &o)) {
		ret = fw_dp_running_generation(dp, &g);
		fw_dp_close(dp);
		dp = NULL;
		if (ret)
			goto out;
	}
	if (have_st && fw_apply_doc_gen(st) == g && g) {
		if (have_tmp) {
			fw_apply_detach_listed(tmp, "interfaces", st);
			fw_rt_state_drop_tmp();
			fprintf(stderr,
				"%s: an apply was interrupted before its switch; what it attached is detached (generation %u runs)\n",
				prog, g);
		}
		ret = fw_apply_finish_detach(st);
		if (!ret && stp) {
			*stp = st;
			st = NULL;
		}
	} else if (have_tmp && fw_apply_doc_gen(tmp) == g && g &&
		   !fw_apply_doc_pending(tmp)) {
		ret = fw_rt_state_commit();
		if (!ret)
			ret = fw_apply_finish_detach(tmp);
		fprintf(stderr,
			"%s: an apply was interrupted after its switch; its state is completed (generation %u runs)\n",
			prog, g);
	} else if (!have_st) {
		if (have_tmp)
			fw_apply_detach_listed(tmp, "interfaces", NULL);
		fw_apply_unlink_ours();
		ret = fw_rt_remove_pins();
		fw_rt_state_drop_tmp();
		fprintf(stderr,
			"%s: a first apply was interrupted; what it made is removed\n",
			prog);
	} else {
		fprintf(stderr,
			"%s: %s (generation %u) does not match the running datapath (generation %u); run 'plumwall down' first\n",
			prog, FW_RT_STATE, fw_apply_doc_gen(st), g);
		ret = -ESTALE;
	}
out:
	json_decref(st);
	json_decref(tmp);
	return ret;
}

int fw_apply_recover(const char *prog)
{
	int lock_fd = fw_rt_lock(prog), ret;

	if (lock_fd < 0)
		return lock_fd;
	ret = fw_apply_reconcile(prog, NULL);
	close(lock_fd);
	return ret;
}

static int fw_pin_prog(int fd, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", FW_RT_PROGS, name);
	return bpf_obj_pin(fd, path) ? -errno : 0;
}

static int fw_get_prog(const char *name)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", FW_RT_PROGS, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

static void fw_apply_usage(FILE *out)
{
	fputs("Usage: plumwall apply [-h] [--mode xdp|tc|auto|nft] [--dry-run] POLICY\n"
	      "\n"
	      "Compile POLICY, load it and attach to every interface it names,\n"
	      "or replace the running policy atomically (tracked flows survive\n"
	      "and are re-judged by the new policy). Interfaces the new policy\n"
	      "adds are attached, those it drops are detached. On any error\n"
	      "nothing changes. State is pinned under /sys/fs/bpf/plumwall\n"
	      "(or $PLUMWALL_PIN_PATH), so enforcement goes on without a\n"
	      "plumwall process.\n"
	      "\n"
	      "Options:\n"
	      "  --mode MODE  xdp: native XDP, else generic XDP (with a warning);\n"
	      "               tc: tcx ingress, else a clsact filter;\n"
	      "               auto (default): native XDP, else tc.\n"
	      "               Interfaces already attached keep their mode:\n"
	      "               xdp or tc for one attached in the other mode is\n"
	      "               refused (exit 1); auto takes either.\n"
	      "               nft: no BPF; one nftables table, inet plumwall,\n"
	      "               replaced in one batch (see the README for what\n"
	      "               differs). Switching between nft and the others\n"
	      "               needs 'plumwall down' first.\n"
	      "  --dry-run    compile POLICY, resolve its interfaces, and load\n"
	      "               and verify the programs on this kernel with\n"
	      "               private maps filled with the policy; change\n"
	      "               nothing (no pins, no attach, no state). Exits\n"
	      "               as apply would.\n"
	      "  -h, --help   show this help\n"
	      "\n"
	      "Exit status: 0 applied, 1 policy refused, unknown interface or\n"
	      "the operation failed (nothing changed), 2 usage error, 3 no\n"
	      "privileges, a kernel plumwall cannot run on (too old, a missing\n"
	      "BPF feature, the verifier refused a program), a pin path not on\n"
	      "a BPF filesystem, or pinned state of another layout.\n",
	      out);
}

static int fw_apply_dry_run(const char *prog, const char *path,
			    enum fw_rt_want want);
static int fw_apply_nft(const char *prog, const char *path, bool dry_run,
			unsigned int flags, uint32_t *generation);

int fw_cmd_apply(const struct fw_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "mode", required_argument, NULL, 'm' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	enum fw_rt_want want = FW_RT_WANT_AUTO;
	bool dry_run = false;
	int status, c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fw_apply_usage(stdout);
			return FW_EXIT_OK;
		case 'm':
			if (fw_apply_want_parse(optarg, &want))
				return fw_usage_error(
					argv[0],
					"--mode: xdp, tc, auto or nft, not '%s'",
					optarg);
			break;
		case 'n':
			dry_run = true;
			break;
		default:
			return fw_usage_hint(argv[0]);
		}
	}
	if (optind >= argc)
		return fw_usage_error(argv[0], "missing POLICY");
	if (argc - optind > 1)
		return fw_usage_error(argv[0], "unexpected argument '%s'",
				      argv[optind + 1]);
	status = fw_command_ready(cmd);
	if (status)
		return status;
	if (dry_run)
		return fw_apply_dry_run(argv[0], argv[optind], want);
	return fw_apply_policy(argv[0], argv[optind], want, 0, NULL);
}

/*
 * apply --dry-run: every check apply makes before it changes anything
 * (kernel, policy and compiler, interfaces, tenants by VLAN against the
 * running modes, pinned state of another layout), then the programs
 * loaded (the verifier's verdict on this kernel) with private maps,
 * never pinned, filled with the policy: map creation and limits as apply
 * meets them. Nothing is pinned, attached or written; no lock is taken
 * (nothing here needs one). Exit statuses are apply's.
 */
static int fw_apply_dry_run(const char *prog, const char *path,
			    enum fw_rt_want want)
{
	struct fw_apply a = { .prog = prog };
	struct fw_dp_opts o = { 0 };
	struct policy_compiled *c;
	struct fw_policy_ctx pc;
	struct fw_dp *dp = NULL;
	json_t *old = NULL;
	uint32_t gen = 0;
	char foreign[256], msg[1024];
	int status = FW_EXIT_REFUSED, ret;
	size_t i;

	if (want == FW_RT_WANT_NFT)
		return fw_apply_nft(prog, path, true, 0, NULL);
	memset(&pc, 0, sizeof(pc));
	if (fw_kern_require(prog))
		return FW_EXIT_STATE;
	if (fw_policy_read(prog, path, NULL, 0, FW_POLICY_COMPILE, &pc))
		goto out;
	c = pc.compiled;
	ret = fw_rt_foreign_layout(foreign, sizeof(foreign));
	if (ret > 0) {
		fprintf(stderr,
			"%s: %s/%s holds a datapath of another layout (this plumwall uses v%d); remove it with the plumwall that made it\n",
			prog, FW_RT_ROOT, foreign, PW_LAYOUT_VERSION);
		status = FW_EXIT_STATE;
		goto out;
	}
	if (fw_rt_pinned()) {
		if (fw_apply_running(prog, &a, &old, &gen)) {
			status = FW_EXIT_STATE;
			goto out;
		}
	}
	policy_compiled_set_generation(c, gen + 1);
	if (fw_apply_interfaces(&a, c))
		goto out;
	if (fw_apply_vlan_modes(&a, want))
		goto out;

	o.ct_max_entries = pc.pol->settings.ct_max_entries;
	ret = fw_dp_open(&dp, &o);
	if (!ret)
		ret = fw_dp_load_compiled(dp, c, fw_apply_resolve, &a);
	if (ret) {
		status = fw_kern_load_message(ret, msg, sizeof(msg));
		fprintf(stderr, "%s: %s\n", prog, msg);
		goto out;
	}
	printf("dry run of %s: would be generation %u, %zu interface%s; "
	       "programs verified and the policy loaded on this kernel "
	       "(decision entries: %u); nothing changed\n",
	       path, c->generation, a.n_ifs, a.n_ifs == 1 ? "" : "s",
	       c->n_decisions);
	for (i = 0; i < a.n_ifs; i++)
		printf("  %s%s\n", a.ifs[i].name,
		       a.ifs[i].vlans ? " (tenants by VLAN: tc)" : "");
	status = FW_EXIT_OK;
out:
	fw_dp_close(dp);
	json_decref(old);
	fw_policy_close(&pc);
	free(a.ifs);
	free(a.absent);
	free(a.old);
	return status;
}

static const char *const fw_apply_wants[] = {
	[FW_RT_WANT_AUTO] = "auto",
	[FW_RT_WANT_XDP] = "xdp",
	[FW_RT_WANT_TC] = "tc",
	[FW_RT_WANT_NFT] = "nft",
};

int fw_apply_want_parse(const char *name, enum fw_rt_want *want)
{
	size_t i;

	for (i = 0; i < FW_ARRAY_SIZE(fw_apply_wants); i++)
		if (!strcmp(name, fw_apply_wants[i])) {
			*want = (enum fw_rt_want)i;
			return 0;
		}
	return -EINVAL;
}

/* ------------------------------------------------------------ nft mode */

bool fw_apply_state_nft(const json_t *st)
{
	return !strcmp(json_string_value(json_object_get(st, "engine")) ?: "",
		       "nft");
}

int fw_apply_nft_running(void)
{
	json_t *st = NULL;
	int ret;

	if (fw_rt_state_read(&st))
		return 0;
	ret = fw_apply_state_nft(st);
	json_decref(st);
	return ret;
}

/* The policy of @path compiled for nft (no external wildcard) and its
 * plan, with every refusal said on stderr. Returns an FW_EXIT_* status. */
static int fw_apply_nft_prepare(const char *prog, const char *path,
				struct fw_policy_ctx *pc, uint32_t generation,
				struct policy_compiled **c,
				struct fw_nft_plan **plan)
{
	struct policy_compile_opts co = { .ext_min_classes = UINT32_MAX };
	char why[512];
	int ret;

	if (fw_policy_read(prog, path, NULL, 0, 0, pc))
		return FW_EXIT_REFUSED;
	ret = policy_compile_opts(pc->an, generation, &co, c);
	if (ret) {
		if (ret == -E2BIG)
			fprintf(stderr,
				"%s: %s: in nft mode the policy needs more decision entries than plumwall's limit (%u): nft mode cannot use the external wildcard that keeps them fewer (docs/policy.md); use --mode xdp, tc or auto\n",
				prog, path, POLICY_COMPILE_MAX_DECISIONS);
		else
			fprintf(stderr,
				"%s: %s: cannot compile the policy: %s\n", prog,
				path, strerror(-ret));
		return FW_EXIT_REFUSED;
	}
	ret = fw_nft_plan_build(*c, plan);
	if (ret == -E2BIG) {
		fprintf(stderr,
			"%s: %s: the policy needs more than %u lookup keys in nft mode; use --mode xdp, tc or auto\n",
			prog, path, FW_NFT_MAX_KEYS);
		return FW_EXIT_REFUSED;
	}
	if (ret) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(-ret));
		return FW_EXIT_REFUSED;
	}
	if (fw_nft_plan_supported(*plan, why, sizeof(why))) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, why);
		return FW_EXIT_REFUSED;
	}
	return FW_EXIT_OK;
}

struct fw_apply_nft_carry {
	struct fw_nft_count *old; /* by old id */
	uint32_t n_old;
};

static int fw_apply_nft_count(char kind, uint32_t rule_id, uint64_t packets,
			      uint64_t bytes, void *ctx)
{
	struct fw_apply_nft_carry *k = ctx;

	if (kind == 'r' && rule_id < k->n_old) {
		k->old[rule_id].packets = packets;
		k->old[rule_id].bytes = bytes;
	}
	return 0;
}

/*
 * The counters of the running table, by the new policy's rule ids: a rule
 * keeps its counts across applies as long as it keeps its identity
 * (tenant and name, counters.h), as in the BPF datapath. NULL when there
 * is nothing to carry.
 */
static struct fw_nft_count *fw_apply_nft_carry(const json_t *old,
					       const json_t *st, uint32_t n_new)
{
	struct fw_apply_nft_carry k = {};
	struct fw_nft_count *out = NULL;
	long *map = NULL;
	size_t i, n_map = 0;

	if (!old || !n_new)
		return NULL;
	if (fw_ctr_rule_map(st, old, &map, &n_map))
		return NULL;
	k.n_old = (uint32_t)n_map;
	k.old = calloc(k.n_old + 1, sizeof(*k.old));
	out = calloc(n_new, sizeof(*out));
	if (!k.old || !out || fw_nft_counters(fw_apply_nft_count, &k))
		goto fail;
	for (i = 0; i < n_map; i++)
		if (map[i] >= 0 && (uint32_t)map[i] < n_new)
			out[map[i]] = k.old[i];
	free(map);
	free(k.old);
	return out;
fail:
	free(map);
	free(k.old);
	free(out);
	return NULL;
}

struct fw_apply_nft_reval {
	const struct fw_nft_plan *plan;
	uint32_t ended, failed;
	int err; /* the first failure to end one */
};

/* One tracked flow the table judged: judged again as a new flow on its
 * interface by the plan now running, ended when that denies it. */
static int fw_apply_nft_reval_one(const struct fw_ct_flow *f, void *ctx)
{
	struct fw_apply_nft_reval *r = ctx;
	char ifname[IF_NAMESIZE];
	struct policy_packet p;
	struct fw_nft_verdict v;
	int ret;

	/* gone: no packet of it comes in there any more */
	if (!if_indextoname(f->ifindex, ifname))
		return 0;
	memset(&p, 0, sizeof(p));
	snprintf(p.ifname, sizeof(p.ifname), "%s", ifname);
	p.kind = POLICY_PKT_IP;
	p.family = f->family == AF_INET6 ? PW_AF_INET6 : PW_AF_INET;
	memcpy(p.saddr, f->saddr, sizeof(p.saddr));
	memcpy(p.daddr, f->daddr, sizeof(p.daddr));
	p.proto = f->proto;
	p.hop_limit = 64;
	p.l4 = true;
	p.sport = f->sport;
	p.dport = f->dport;
	p.icmp_type = f->icmp_type;
	p.icmp_code = f->icmp_code;
	fw_nft_plan_decide(r->plan, &p, &v);
	if (!v.judged || v.verdict == PW_VERDICT_ALLOW ||
	    v.verdict == PW_VERDICT_AUDIT)
		return 0;
	ret = fw_ct_delete(f);
	if (!ret || ret == -ENOENT) {
		r->ended++;
	} else {
		r->failed++;
		r->err = r->err ?: ret;
	}
	return 0;
}

/*
 * apply --mode nft: the policy as one nftables table, loaded in one batch
 * that also deletes the running table, so that the switch is atomic.
 * Nothing is pinned; the state document (engine "nft") names the policy
 * and the ids, as for the BPF datapath. The two engines do not run side
 * by side: each refuses to start while the other runs.
 */
static int fw_apply_nft(const char *prog, const char *path, bool dry_run,
			unsigned int flags, uint32_t *generation)
{
	struct fw_apply a = { .prog = prog, .flags = flags };
	struct fw_policy_ctx pc;
	struct policy_compiled *c = NULL;
	struct fw_nft_plan *plan = NULL;
	struct fw_nft_count *counts = NULL;
	struct fw_apply_nft_reval rv = {};
	json_t *old = NULL, *st = NULL, *v;
	time_t now = time(NULL);
	uint32_t gen = 0;
	char sha[65];
	int lock_fd = -1, status = FW_EXIT_REFUSED, ret;
	size_t i, j;

	memset(&pc, 0, sizeof(pc));
	if (!dry_run) {
		lock_fd = fw_rt_lock(prog);
		if (lock_fd < 0) {
			if (lock_fd != -ETIMEDOUT)
				fprintf(stderr, "%s: cannot lock %s: %s\n",
					prog, FW_RT_LOCK, strerror(-lock_fd));
			return FW_EXIT_STATE;
		}
	}
	if (fw_rt_pinned()) {
		fprintf(stderr,
			"%s: the BPF datapath is running (%s); run 'plumwall down' before switching to nft mode\n",
			prog, FW_RT_DIR);
		status = FW_EXIT_STATE;
		goto out;
	}
	if (!fw_rt_state_read(&old) && fw_apply_state_nft(old))
		gen = (uint32_t)json_integer_value(
			json_object_get(old, "generation"));
	else {
		json_decref(old);
		old = NULL;
	}
	status = fw_apply_nft_prepare(prog, path, &pc, gen + 1, &c, &plan);
	if (status)
		goto out;
	status = FW_EXIT_REFUSED;
	if (fw_apply_interfaces(&a, c))
		goto out;
	/* Drops and audits are logged through NFLOG (fw/nft.h); flows are
	 * the kernel's conntrack's, which logs none. Not a refusal:
	 * logging judges nothing. But not silent either. */
	for (i = 0; i < c->n_rules; i++)
		if ((c->rules[i].flags & PW_RULE_LOG) &&
		    c->rules[i].action == PW_ACTION_ALLOW)
			break;
	for (j = 0; i == c->n_rules && j < c->n_tenants; j++)
		if ((c->tenants[j].val.flags & PW_TENANT_FLOW_LOGS) ||
		    ((c->tenants[j].val.flags & PW_TENANT_LOG_DEFAULT) &&
		     c->tenants[j].val.default_action == PW_ACTION_ALLOW))
			break;
	if (i < c->n_rules || j < c->n_tenants)
		fprintf(stderr,
			"%s: warning: nft mode produces no flow events: flow_logs, log: true on allow rules and log_default on an allow default have no effect\n",
			prog);
	if (dry_run) {
		printf("dry run of %s: would be generation %u in nft mode, %zu interface%s, table inet %s with %llu set elements; nothing changed\n",
		       path, c->generation, a.n_ifs, a.n_ifs == 1 ? "" : "s",
		       FW_NFT_TABLE, (unsigned long long)plan->n_elements);
		status = FW_EXIT_OK;
		goto out;
	}
	ret = fw_rt_sha256_files(pc.pol->files, pc.pol->n_files, sha);
	if (ret) {
		fprintf(stderr, "%s: cannot hash the policy files: %s\n", prog,
			strerror(-ret));
		goto out;
	}
	st = fw_apply_state(&a, &pc, c, sha, "nft", now);
	if (!st) {
		ret = -ENOMEM;
		goto fail_msg;
	}
	json_object_set_new(st, "engine", json_string("nft"));
	json_array_foreach(json_object_get(st, "interfaces"), i, v)
		json_object_set_new(v, "mode", json_string("nft"));
	/* Every interface the table names and its tenant's id, present or
	 * not: flows names a conntrack entry's tenant by its interface. */
	v = json_object();
	for (i = 0; v && i < plan->n_ifaces; i++)
		json_object_set_new(v, plan->ifaces[i].ifname,
				    json_integer(plan->ifaces[i].tenant));
	json_object_set_new(st, "nft_interfaces", v);
	counts = fw_apply_nft_carry(old, st, plan->n_rules);
	ret = fw_rt_mkdirs(FW_RT_STATE_DIR);
	if (!ret)
		ret = fw_rt_state_write_tmp(st);
	if (ret)
		goto fail_msg;
	/* The switch: one batch. */
	ret = fw_nft_load(plan, counts);
	if (ret) {
		fw_rt_state_drop_tmp();
		fprintf(stderr,
			"%s: the kernel refused the nftables table: %s\n%s: nothing changed\n",
			prog, strerror(-ret), prog);
		status = ret == -EPERM ? FW_EXIT_STATE : FW_EXIT_REFUSED;
		goto out;
	}
	ret = fw_rt_state_commit();
	if (ret) {
		fprintf(stderr,
			"%s: warning: the table is loaded but %s is not written: %s\n",
			prog, FW_RT_STATE, strerror(-ret));
		goto out;
	}
	if (generation)
		*generation = c->generation;
	/* The tracked flows: conntrack accepts their packets before the
	 * table's rules, so those the new policy denies are ended here (as
	 * the BPF datapath judges them again): their next packet is a new
	 * flow, which the table judges. */
	rv.plan = plan;
	ret = fw_ct_flows(fw_apply_nft_reval_one, &rv);
	if (ret || rv.failed)
		fprintf(stderr,
			"%s: warning: tracked flows the new policy denies could not all be ended (%u not): %s\n",
			prog, rv.failed, strerror(-(ret ?: rv.err)));
	printf("applied %s: generation %u, %zu interface%s\n", path,
	       c->generation, a.n_ifs, a.n_ifs == 1 ? "" : "s");
	for (i = 0; i < a.n_ifs; i++)
		printf("  %s: nft\n", a.ifs[i].name);
	if (rv.ended)
		printf("  %u tracked flow%s the new policy denies ended\n",
		       rv.ended, rv.ended == 1 ? "" : "s");
	/* nftables matches interfaces by name: one that appears later is
	 * judged at once. */
	for (i = 0; i < a.n_absent; i++)
		printf("  %s: absent, judged by name when it appears\n",
		       a.absent[i]);
	status = FW_EXIT_OK;
	goto out;
fail_msg:
	fprintf(stderr, "%s: %s\n%s: nothing changed\n", prog, strerror(-ret),
		prog);
out:
	if (lock_fd >= 0)
		close(lock_fd);
	free(counts);
	fw_nft_plan_free(plan);
	policy_compiled_free(c);
	json_decref(st);
	json_decref(old);
	fw_policy_close(&pc);
	free(a.ifs);
	free(a.absent);
	free(a.old);
	return status;
}

int fw_apply_policy(const char *prog, const char *path, enum fw_rt_want want,
		    unsigned int flags, uint32_t *generation)
{
	struct fw_apply a = { .prog = prog, .flags = flags };
	struct fw_policy_ctx pc;
	struct policy_compiled *c = NULL;
	struct fw_dp_policy p = {};
	struct fw_dp_iface *pifs = NULL;
	struct fw_dp_opts o = { .pin_dir = FW_RT_MAPS };
	struct fw_dp *dp = NULL;
	struct fw_ctr base = {};
	json_t *old = NULL, *st = NULL;
	time_t now = time(NULL);
	bool first = true, flipped = false, opened = false, said = false,
	     attached = false;
	uint32_t gen = 0, old_slot = 0, idle = 0;
	int xdp_fd = -1, tc_fd = -1, ans_fd = -1, lock_fd,
	    status = FW_EXIT_REFUSED, ret;
	char sha[65], foreign[256], msg[1024];
	size_t i, j;

	if (want == FW_RT_WANT_NFT)
		return fw_apply_nft(prog, path, false, flags, generation);
	memset(&pc, 0, sizeof(pc));
	/* Before anything else: on a kernel that cannot run the programs,
	 * one line saying why, not libbpf's pages after the policy work. */
	if (fw_kern_require(prog))
		return FW_EXIT_STATE;
	/* Held until the end: nothing else changes the datapath between
	 * reading the running state and the flip. */
	lock_fd = fw_rt_lock(prog);
	if (lock_fd < 0) {
		if (lock_fd != -ETIMEDOUT) /* that one is said already */
			fprintf(stderr, "%s: cannot lock %s: %s\n", prog,
				FW_RT_LOCK, strerror(-lock_fd));
		return FW_EXIT_STATE;
	}

	/* 1. Everything that can be refused, before touching anything. The
	 * compiler's refusal is a policy error, said as check says it. */
	if (fw_policy_read(prog, path, NULL, 0, FW_POLICY_COMPILE, &pc))
		goto out;
	c = pc.compiled;
	/* The analysis served the compiler and nothing after it: a third of
	 * the policy's memory at 100,000 rules, and the old state document
	 * read below needs as much. */
	policy_analysis_free(pc.an);
	pc.an = NULL;
	ret = fw_rt_foreign_layout(foreign, sizeof(foreign));
	if (ret > 0) {
		fprintf(stderr,
			"%s: %s/%s holds a datapath of another layout (this plumwall uses v%d); remove it with the plumwall that made it\n",
			prog, FW_RT_ROOT, foreign, PW_LAYOUT_VERSION);
		status = FW_EXIT_STATE;
		goto out;
	}
	/* An earlier apply that died part way is finished or undone first,
	 * so that the running generation below is the datapath's. */
	if (fw_apply_reconcile(prog, &old)) {
		status = FW_EXIT_STATE;
		goto out;
	}
	if (!fw_rt_pinned() && fw_apply_nft_running()) {
		fprintf(stderr,
			"%s: plumwall runs in nft mode; run 'plumwall down' before switching to the BPF datapath (or apply --mode nft)\n",
			prog);
		status = FW_EXIT_STATE;
		goto out;
	}
	if (fw_rt_pinned()) {
		first = false;
		if (fw_apply_running(prog, &a, &old, &gen)) {
			status = FW_EXIT_STATE;
			goto out;
		}
	}
	policy_compiled_set_generation(c, gen + 1);
	if (fw_apply_interfaces(&a, c))
		goto out;
	if (fw_apply_vlan_modes(&a, want) || fw_apply_attached_modes(&a, want))
		goto out;
	ret = fw_rt_sha256_files(pc.pol->files, pc.pol->n_files, sha);
	if (ret) {
		fprintf(stderr, "%s: cannot hash the policy files: %s\n", prog,
			strerror(-ret));
		goto out;
	}
	ret = fw_dp_policy_from_compiled(c, fw_apply_resolve, &a, &p, &pifs);
	if (ret)
		goto fail_msg;

	/* 2. Load (first apply) or reopen the pinned datapath. */
	ret = fw_rt_bpffs();
	if (ret == -EMEDIUMTYPE) {
		fprintf(stderr,
			"%s: %s is not on a BPF filesystem (bpffs); mount one there ('mount -t bpf bpf %s') or choose a path under /sys/fs/bpf\n",
			prog, FW_RT_ROOT, FW_RT_ROOT);
		status = FW_EXIT_STATE;
		goto out;
	}
	if (!ret)
		ret = fw_rt_mkdirs(FW_RT_MAPS);
	if (!ret)
		ret = fw_rt_mkdirs(FW_RT_PROGS);
	if (!ret)
		ret = fw_rt_mkdirs(FW_RT_LINKS);
	if (ret)
		goto fail_msg;
	opened = true;
	o.no_progs = !first;
	o.ct_max_entries = pc.pol->settings.ct_max_entries;
	ret = fw_dp_open(&dp, &o);
	if (ret) {
		/* The verifier's refusal, pinned maps of another layout
		 * (-EPROTO, the only error that means it), ...: one line. */
		status = fw_kern_load_message(ret, msg, sizeof(msg));
		fprintf(stderr, "%s: %s\n", prog, msg);
		said = true;
		goto rollback;
	}
	/* The conntrack table is shared by every policy and its flows must
	 * survive the switch, so it cannot be resized here: say so rather
	 * than ignore the setting. */
	if (!first &&
	    fw_dp_ct_max_entries(dp) != pc.pol->settings.ct_max_entries)
		fprintf(stderr,
			"%s: warning: conntrack.max_entries %u is not applied: the running table keeps %u entries until 'plumwall down'\n",
			prog, pc.pol->settings.ct_max_entries,
			fw_dp_ct_max_entries(dp));
	if (first) {
		xdp_fd = dup(fw_dp_prog_fd(dp, FW_DP_XDP));
		tc_fd = dup(fw_dp_prog_fd(dp, FW_DP_TC_INGRESS));
		ans_fd = dup(fw_dp_prog_fd(dp, FW_DP_TC_ANSWER));
		ret = xdp_fd < 0 || tc_fd < 0 || ans_fd < 0 ? -errno : 0;
		if (!ret)
			ret = fw_pin_prog(xdp_fd, "xdp");
		if (!ret)
			ret = fw_pin_prog(tc_fd, "tc_ingress");
		if (!ret)
			ret = fw_pin_prog(ans_fd, "tc_answer");
	} else {
		xdp_fd = fw_get_prog("xdp");
		tc_fd = fw_get_prog("tc_ingress");
		/* none: programs pinned by an older plumwall, whose XDP
		 * program answers with XDP_TX itself */
		ans_fd = fw_get_prog("tc_answer");
		ret = xdp_fd < 0 ? xdp_fd : tc_fd < 0 ? tc_fd : 0;
		if (!ret && ans_fd < 0 && ans_fd != -ENOENT)
			ret = ans_fd;
	}
	if (ret)
		goto fail_msg;

	fw_apply_crash_point("opened");
	/* 3. The new policy into the idle slot. A first apply may flip at
	 * once: nothing is attached yet, and attaching to a datapath whose
	 * active slot is empty would drop every packet until the flip. */
	ret = fw_dp_active_slot(dp, &old_slot);
	if (ret)
		goto fail_msg;
	if (first) {
		ret = fw_dp_load(dp, &p);
		if (ret)
			goto fail_msg;
	} else {
		idle = old_slot ^ 1;
		ret = fw_apply_fold(dp, old, idle, &base);
		if (ret)
			goto fail_msg;
		/* @base has them now, and nothing reads them from @old
		 * again: a hundred thousand little JSON arrays less while
		 * the new state is built. */
		json_object_del(old, "counters");
		ret = fw_dp_slot_fill(dp, idle, &p);
		if (ret)
			goto fail_msg;
	}
	fw_apply_crash_point("filled");

	/* 4. Which interfaces the running policy has already, which are to
	 * be attached; then the new state aside, with those as "pending",
	 * before anything is attached: an apply that dies from here on
	 * leaves a document that says what it touched. */
	for (i = 0; i < a.n_ifs; i++) {
		for (j = 0; j < a.n_old; j++)
			if (!strcmp(a.old[j].name, a.ifs[i].name) &&
			    a.old[j].ifindex == a.ifs[i].ifindex)
				break;
		if (j < a.n_old) {
			a.old[j].keep = true;
			a.ifs[i].mode = a.old[j].mode;
		} else {
			a.ifs[i].pending = true;
		}
	}
	/* An interface deleted and created again under its name (a veth,
	 * hotplug) has a new ifindex, and the old one's link pin still
	 * holds the name the attach below pins at. Its link died with the
	 * interface: the pin goes now, and with it nothing that enforced
	 * anything. */
	for (j = 0; j < a.n_old; j++) {
		char name[IF_NAMESIZE];

		if (a.old[j].keep || (if_indextoname(a.old[j].ifindex, name) &&
				      !strcmp(name, a.old[j].name)))
			continue;
		for (i = 0; i < a.n_ifs; i++)
			if (!strcmp(a.old[j].name, a.ifs[i].name))
				break;
		if (i == a.n_ifs)
			continue;
		fw_rt_detach(a.old[j].name, (int)a.old[j].ifindex,
			     a.old[j].mode);
		a.old[j].keep = true; /* nothing left to detach after */
	}
	st = fw_apply_state(&a, &pc, c, sha, fw_apply_wants[want], now);
	ret = st ? fw_apply_history(dp, st, first ? NULL : old, &base, now) :
		   -ENOMEM;
	/* The old document is not read after this (a.old holds what the
	 * detach needs): its memory goes back before the new one is
	 * written. */
	json_decref(old);
	old = NULL;
	if (!ret)
		ret = fw_rt_state_write_tmp(st);
	if (ret)
		goto fail_msg;
	fw_apply_crash_point("intent");

	/* 5. Attach interfaces the running policy does not have. Until the
	 * flip they are judged by the old policy, which does not name them
	 * (settings.unmatched): they were not enforced before either. */
	for (i = 0; i < a.n_ifs; i++) {
		if (!a.ifs[i].pending)
			continue;
		ret = fw_rt_attach_want(prog, a.ifs[i].name,
					(int)a.ifs[i].ifindex,
					a.ifs[i].vlans ? FW_RT_WANT_TC : want,
					xdp_fd, tc_fd, ans_fd, &a.ifs[i].mode);
		if (ret) {
			fprintf(stderr, "%s: cannot attach to %s: %s\n", prog,
				a.ifs[i].name, strerror(-ret));
			goto rollback;
		}
		a.ifs[i].attached_now = true;
		a.ifs[i].pending = false;
		attached = true;
		fw_apply_crash_point("attached-one");
	}

	/* 6. The state aside with the modes, the flip, the state in place.
	 * With nothing attached in 5 the document aside says that already:
	 * it is not written again (at 100,000 rules it is 11 MB). */
	if (attached) {
		ret = fw_apply_set_modes(st, &a);
		if (!ret)
			ret = fw_rt_state_write_tmp(st);
		if (ret)
			goto fail_msg;
	}
	fw_apply_crash_point("final");
	if (!first) {
		ret = fw_dp_flip(dp, idle);
		if (ret)
			goto fail_msg;
		flipped = true;
	}
	fw_apply_crash_point("flipped");
	ret = fw_rt_state_commit();
	if (ret)
		goto fail_msg;
	fw_apply_crash_point("committed");

	/* 7. Interfaces the new policy no longer names. The new policy does
	 * not judge them any more; a detach that fails leaves a harmless
	 * attachment (unmatched traffic) that down removes. */
	for (j = 0; j < a.n_old; j++) {
		if (a.old[j].keep)
			continue;
		ret = fw_rt_detach(a.old[j].name, (int)a.old[j].ifindex,
				   a.old[j].mode);
		if (ret)
			fprintf(stderr,
				"%s: warning: cannot detach from %s: %s\n",
				prog, a.old[j].name, strerror(-ret));
	}
	if (json_object_get(st, "detach")) {
		json_object_del(st, "detach");
		ret = fw_rt_state_rewrite(st);
		if (ret)
			fprintf(stderr, "%s: warning: cannot update %s: %s\n",
				prog, FW_RT_STATE, strerror(-ret));
	}
	if (generation)
		*generation = c->generation;
	printf("applied %s: generation %u, %zu interface%s\n", path,
	       c->generation, a.n_ifs, a.n_ifs == 1 ? "" : "s");
	for (i = 0; i < a.n_ifs; i++)
		printf("  %s: %s%s%s\n", a.ifs[i].name,
		       fw_rt_mode_name(a.ifs[i].mode),
		       a.ifs[i].attached_now ? " (attached)" : "",
		       a.ifs[i].vlans && a.ifs[i].attached_now &&
				       want != FW_RT_WANT_TC ?
			       " (tenants by VLAN: tc sees their tags)" :
			       "");
	for (i = 0; i < a.n_absent; i++)
		printf("  %s: absent, attached when it appears\n", a.absent[i]);
	status = FW_EXIT_OK;
	goto out;

fail_msg:
	fprintf(stderr, "%s: %s\n", prog, strerror(-ret));
rollback:
	if (flipped && fw_dp_flip(dp, old_slot))
		fprintf(stderr, "%s: cannot restore the running policy\n",
			prog);
	for (i = 0; i < a.n_ifs; i++)
		if (a.ifs[i].attached_now)
			fw_rt_detach(a.ifs[i].name, (int)a.ifs[i].ifindex,
				     a.ifs[i].mode);
	fw_rt_state_drop_tmp();
	if (first && opened)
		fw_rt_remove_pins();
	if (!said)
		fprintf(stderr, "%s: nothing changed\n", prog);
out:
	close(lock_fd);
	if (xdp_fd >= 0)
		close(xdp_fd);
	if (tc_fd >= 0)
		close(tc_fd);
	if (ans_fd >= 0)
		close(ans_fd);
	fw_dp_close(dp);
	free(pifs);
	json_decref(st);
	json_decref(old);
	fw_ctr_free(&base);
	fw_policy_close(&pc);
	free(a.ifs);
	free(a.absent);
	free(a.old);
	return status;
}

/* ------------------------------------------------------------------ down */

static void fw_down_usage(FILE *out)
{
	fputs("Usage: plumwall down [-h]\n"
	      "\n"
	      "Detach plumwall from every interface and remove everything it\n"
	      "pinned under /sys/fs/bpf/plumwall (PLUMWALL_PIN_PATH) and its\n"
	      "state in /run/plumwall (PLUMWALL_RUN_DIR). A pin path that is a\n"
	      "mount point, or /sys/fs/bpf itself, stays.\n"
	      "\n"
	      "Exit status: 0 removed, 1 something could not be removed,\n"
	      "2 usage error, 3 not loaded or no privileges.\n",
	      out);
}

/* Detach every link pinned in any layout's links/ directory. */
static int fw_down_links(void)
{
	char path[PATH_MAX];
	struct dirent *de, *le;
	DIR *d, *ld;
	int fd, ret = 0;

	d = opendir(FW_RT_ROOT);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!fw_rt_layout_name(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s/links", FW_RT_ROOT,
			 de->d_name);
		ld = opendir(path);
		if (!ld)
			continue;
		while ((le = readdir(ld))) {
			if (le->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s/links/%s",
				 FW_RT_ROOT, de->d_name, le->d_name);
			fd = bpf_obj_get(path);
			if (fd < 0)
				continue;
			if (bpf_link_detach(fd) && errno != ENOLINK && !ret)
				ret = -errno;
			close(fd);
		}
		closedir(ld);
	}
	closedir(d);
	return ret;
}

/*
 * Once nothing is attached any more: end every tracked flow with a flow
 * end event (reason shutdown), so that a logged flow's start has its end.
 * plumwall-logd still holds the ring buffer and reads them after the pins
 * are gone. Best effort: down goes on without it.
 */
static void fw_down_end_flows(const char *prog)
{
	struct fw_dp_opts o = { .pin_dir = FW_RT_MAPS,
				.pin_must_exist = true,
				.sweep_only = true };
	struct pw_sweep_args a;
	struct fw_dp *dp = NULL;
	char msg[1024], warn[512];
	int ret;

	if (!fw_rt_pinned())
		return;
	ret = fw_kern_check(msg, sizeof(msg), warn, sizeof(warn));
	if (warn[0])
		fprintf(stderr, "%s: %s\n", prog, warn);
	if (!ret) {
		ret = fw_dp_open(&dp, &o);
		if (ret)
			fw_kern_load_message(ret, msg, sizeof(msg));
	}
	if (ret) {
		/* The kernel refused the sweep program: down goes on. */
		fprintf(stderr,
			"%s: warning: tracked flows end without flow end events: %s\n",
			prog, msg);
		goto out;
	}
	ret = fw_dp_sweep(dp, PW_SWEEP_SHUTDOWN, &a);
	if (ret && ret != -ENOENT)
		fprintf(stderr,
			"%s: warning: cannot end the tracked flows: %s\n", prog,
			strerror(-ret));
out:
	fw_dp_close(dp);
}

int fw_cmd_down(const struct fw_command *cmd, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const json_t *v;
	json_t *st = NULL, *tmp = NULL;
	enum fw_rt_mode mode;
	int status, ret, c, r;
	bool nft;
	size_t i;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fw_down_usage(stdout);
			return FW_EXIT_OK;
		default:
			return fw_usage_hint(argv[0]);
		}
	}
	if (optind < argc)
		return fw_usage_error(argv[0], "unexpected argument '%s'",
				      argv[optind]);
	status = fw_command_ready(cmd);
	if (status)
		return status;
	/* Held until this process exits (see apply). */
	ret = fw_rt_lock(argv[0]);
	if (ret < 0) {
		if (ret != -ETIMEDOUT) /* that one is said already */
			fprintf(stderr, "%s: cannot lock %s: %s\n", argv[0],
				FW_RT_LOCK, strerror(-ret));
		return FW_EXIT_STATE;
	}
	nft = fw_nft_present() == 1;
	if (!fw_rt_loaded() && !nft) {
		fprintf(stderr, "%s: plumwall is not loaded\n", argv[0]);
		return FW_EXIT_STATE;
	}
	/* nft mode: the table (and the state below) is all there is. */
	ret = nft ? fw_nft_remove() : 0;
	if (ret == -ENOENT)
		ret = 0;
	/* clsact filters hold no pin (tc interfaces, and the answer program
	 * of XDP interfaces on kernels without tcx): the state names them. */
	if (!fw_rt_state_read(&st)) {
		json_array_foreach(json_object_get(st, "interfaces"), i, v) {
			const char *name =
				json_string_value(json_object_get(v, "name"));
			const char *m =
				json_string_value(json_object_get(v, "mode"));

			if (!name || !m || fw_rt_mode_parse(m, &mode) ||
			    mode == FW_RT_TCX)
				continue;
			r = fw_rt_detach(name,
					 (int)json_integer_value(
						 json_object_get(v, "ifindex")),
					 mode);
			if (r && !ret)
				ret = r;
		}
	}
	/* What an apply that died part way attached or meant to detach
	 * (fw_apply_reconcile()): the aside document and "detach" say. */
	if (st)
		fw_apply_detach_listed(st, "detach", NULL);
	if (!fw_rt_state_read_tmp(&tmp)) {
		fw_apply_detach_listed(tmp, "interfaces", NULL);
		fw_apply_detach_listed(tmp, "detach", NULL);
		json_decref(tmp);
	}
	r = fw_down_links();
	if (r && !ret)
		ret = r;
	fw_down_end_flows(argv[0]);
	r = fw_rt_remove_pins();
	if (r && !ret)
		ret = r;
	r = fw_rt_state_remove();
	if (r && !ret)
		ret = r;
	json_decref(st);
	if (ret) {
		fprintf(stderr, "%s: %s\n", argv[0], strerror(-ret));
		return FW_EXIT_REFUSED;
	}
	printf("plumwall is down\n");
	return FW_EXIT_OK;
}
