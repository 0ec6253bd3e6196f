/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fw_rt: the running datapath as apply leaves it for the later commands
 * (status, stats, flows, down) and a later apply.
 *
 * Pins (bpffs, mounted at /sys/fs/bpf by apply if it is not):
 *
 *   PW_PIN_ROOT/vN/maps/NAME         every map of bpf/pw_maps.h
 *   PW_PIN_ROOT/vN/progs/xdp         the programs, loaded once by the
 *   PW_PIN_ROOT/vN/progs/tc_ingress  first apply (tc_answer: sends the
 *   PW_PIN_ROOT/vN/progs/tc_answer   XDP program's reject answers)
 *   PW_PIN_ROOT/vN/links/IF@MODE     one bpf_link per attachment (XDP and
 *                                    tcx), so it outlives the process
 *   PW_PIN_ROOT/vN/links/IF@answer   tc_answer next to XDP (tcx)
 *
 * N is PW_LAYOUT_VERSION: a plumwall of another layout finds its own
 * directory, and apply refuses to start next to a foreign one instead of
 * misreading its maps.
 *
 * What the maps cannot tell (the policy file and its hash, load time,
 * attach mode per interface, the names of tenants, rules and segments
 * behind the ids the datapath counts by) is in FW_RT_STATE, one JSON
 * document replaced atomically (write + rename) by each apply. bpffs
 * holds no regular files, and a pinned array map would need a fixed
 * layout of its own for variable-length names; /run is tmpfs like bpffs,
 * so both disappear together at reboot. The document is written to a
 * temporary name before the flip and renamed over the old one after it.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef PLUMWALL_FW_RUNTIME_H
#define PLUMWALL_FW_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <plumwall/shared.h>

/*
 * Where the pins and the state live. The defaults are PW_PIN_ROOT and
 * FW_RT_RUN_DIR; plumwalld takes the pin root from its configuration file
 * (pin_path), and the environment variables PLUMWALL_PIN_PATH and
 * PLUMWALL_RUN_DIR move both for every command, so that a test can run a
 * private plumwall next to a loaded one.
 */
#define FW_RT_RUN_DIR "/run/plumwall"

struct fw_rt_paths {
	char root[256]; /* pin root, e.g. /sys/fs/bpf/plumwall */
	char dir[288]; /* root/vN: this layout's pins */
	char maps[320];
	char progs[320];
	char links[320];
	char state_dir[256]; /* /run/plumwall */
	char state[288]; /* state_dir/state.json */
	char state_tmp[296];
	char lock[288];
};

extern struct fw_rt_paths fw_rt_paths;

/*
 * Set the paths from @pin_root and @state_dir (NULL: the environment, else
 * the defaults). Both must be absolute. Returns 0 or -EINVAL /
 * -ENAMETOOLONG; the previous paths stay on error.
 */
int fw_rt_paths_set(const char *pin_root, const char *state_dir);

#define FW_RT_ROOT (fw_rt_paths.root)
#define FW_RT_DIR (fw_rt_paths.dir)
#define FW_RT_MAPS (fw_rt_paths.maps)
#define FW_RT_PROGS (fw_rt_paths.progs)
#define FW_RT_LINKS (fw_rt_paths.links)
#define FW_RT_STATE_DIR (fw_rt_paths.state_dir)
#define FW_RT_STATE (fw_rt_paths.state)
#define FW_RT_LOCK (fw_rt_paths.lock)

/* How an interface is attached; the names are those status shows. */
enum fw_rt_mode {
	FW_RT_XDP, /* native XDP, bpf_link */
	FW_RT_XDP_GENERIC, /* generic (skb) XDP, bpf_link */
	FW_RT_TCX, /* tcx ingress, bpf_link */
	FW_RT_CLSACT, /* clsact ingress filter (no link: kernels < 6.6) */
	FW_RT_MODE_COUNT,
};

/* What apply was asked for (--mode). */
enum fw_rt_want {
	FW_RT_WANT_AUTO, /* native XDP, else tc */
	FW_RT_WANT_XDP, /* native XDP, else generic XDP with a warning */
	FW_RT_WANT_TC, /* tcx, else clsact */
	FW_RT_WANT_NFT, /* no BPF: one nftables table (nft.h) */
};

const char *fw_rt_mode_name(enum fw_rt_mode mode);
int fw_rt_mode_parse(const char *name, enum fw_rt_mode *mode);

/*
 * Make sure the pin root is on a bpffs: mount one at /sys/fs/bpf when the
 * root is below it and nothing is mounted there; elsewhere the root, or
 * its nearest existing ancestor, must be on a bpffs already
 * (-EMEDIUMTYPE otherwise).
 */
int fw_rt_bpffs(void);
/* mkdir -p for @path (mode 0700). */
int fw_rt_mkdirs(const char *path);
/* @name is that of a layout directory: "v" and decimal digits. */
bool fw_rt_layout_name(const char *name);
/* A layout directory (fw_rt_layout_name()) other than ours under the pin
 * root: 1 and its name in @name, 0 if none. Other entries (the kernel's
 * maps.debug and progs.debug in a bpffs mount root, other software's
 * pins) do not count. */
int fw_rt_foreign_layout(char *name, size_t size);
/* The datapath of this layout is pinned. */
bool fw_rt_pinned(void);
/* Something plumwall made is there: a layout directory of any version
 * under the pin root, or the state document. */
bool fw_rt_loaded(void);
/*
 * Remove every layout directory under the pin root, then the root itself
 * unless it is /sys/fs/bpf, a mount point or holds something else: those
 * stay, silently. Returns 0 when nothing plumwall made is left, else the
 * first error.
 */
int fw_rt_remove_pins(void);

/*
 * Attach @prog_fd (XDP or TC program, per @mode) to @ifindex and pin the
 * link as FW_RT_LINKS/@ifname@MODE (bpffs refuses names with a dot). For FW_RT_WANT_* choice and fallback
 * see fw_rt_attach_want(), which also prints the warning a fallback
 * deserves.
 */
int fw_rt_attach(const char *ifname, int ifindex, enum fw_rt_mode mode,
		 int prog_fd);
/* With XDP, @answer_fd (pw_tc_answer; -1: none, a datapath pinned by an
 * older plumwall) goes to tc ingress next to it: a tcx link pinned as
 * IF@answer, else a clsact filter; it sends the reject answers XDP
 * passes up (bpf/pw_ctx.h). */
int fw_rt_attach_want(const char *prog, const char *ifname, int ifindex,
		      enum fw_rt_want want, int xdp_fd, int tc_fd,
		      int answer_fd, enum fw_rt_mode *mode);
/* Undo fw_rt_attach() (and with XDP, the answer program of
 * fw_rt_attach_want()); an attachment already gone is not an error. */
int fw_rt_detach(const char *ifname, int ifindex, enum fw_rt_mode mode);

/* Remove @dir and everything below it (bpffs or not). */
int fw_rt_remove_tree(const char *dir);

/* sha256 of the files' contents, concatenated in order, as 64 hex
 * digits. */
int fw_rt_sha256_files(char *const *files, size_t n, char hex[65]);

/* The state document: read (-ENOENT: none), write to FW_RT_STATE.tmp,
 * commit (rename over FW_RT_STATE), drop the temporary, remove. */
/*
 * Take the lock that serialises the commands changing the datapath (apply,
 * down): two applies filling the idle slot at once would mix policies.
 * Waits at most FW_RT_LOCK_WAIT_S seconds (PLUMWALL_LOCK_TIMEOUT
 * overrides; an apply takes well under one), saying on stderr, as @prog
 * (NULL: silent), who holds it (/proc/locks); then -ETIMEDOUT. Returns its fd (>= 0), which
 * holds the lock until closed or the process exits, or a negative errno.
 */
#define FW_RT_LOCK_WAIT_S 60
int fw_rt_lock(const char *prog);

int fw_rt_state_read(json_t **doc);
int fw_rt_state_write_tmp(const json_t *doc);

/* @doc in jansson's compact form (JSON_COMPACT) to @fd, through a 64 KiB
 * buffer, but for one thing: an entry of a state document's "previous"
 * whose "rules" is the document's own "rules" object is written with
 * "rules_of": GENERATION instead (names.h, fw_names_resolve(), which
 * every reader of the state applies). Returns 0 or a negative errno
 * (-EINVAL: not serializable). */
int fw_rt_json_write(const json_t *doc, int fd);
int fw_rt_state_commit(void);
/* write_tmp + commit: replace state.json (durably, mode 0600). */
int fw_rt_state_rewrite(const json_t *doc);
/* The document an apply wrote aside (state.json.tmp): -ENOENT if none. */
int fw_rt_state_read_tmp(json_t **doc);
void fw_rt_state_drop_tmp(void);
int fw_rt_state_remove(void);

#endif /* PLUMWALL_FW_RUNTIME_H */
