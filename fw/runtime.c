// SPDX-License-Identifier: GPL-2.0
/*
 * fw_rt: pins, attachments and the state document of the running
 * datapath. See runtime.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <openssl/evp.h>

#include <plumwall/fs.h>

#include "names.h"
#include "runtime.h"

/* tc handle and priority of our clsact filter ("pw"). */
#define FW_RT_TC_HANDLE 0x7077
#define FW_RT_TC_PRIO 1

/* Debian 12's UAPI headers (6.1) predate tcx (6.6); the value is ABI. */
#define FW_RT_BPF_TCX_INGRESS 46

static const char *const fw_rt_modes[FW_RT_MODE_COUNT] = {
	[FW_RT_XDP] = "xdp",
	[FW_RT_XDP_GENERIC] = "xdp-generic",
	[FW_RT_TCX] = "tcx",
	[FW_RT_CLSACT] = "clsact",
};

const char *fw_rt_mode_name(enum fw_rt_mode mode)
{
	return mode < FW_RT_MODE_COUNT ? fw_rt_modes[mode] : "?";
}

int fw_rt_mode_parse(const char *name, enum fw_rt_mode *mode)
{
	int i;

	for (i = 0; i < FW_RT_MODE_COUNT; i++)
		if (!strcmp(fw_rt_modes[i], name)) {
			*mode = i;
			return 0;
		}
	return -EINVAL;
}

#define FW_RT_STR2(x) #x
#define FW_RT_STR(x) FW_RT_STR2(x)

struct fw_rt_paths fw_rt_paths;

static int fw_rt_paths_ensure(void)
{
	return fw_rt_paths.root[0] ? 0 : fw_rt_paths_set(NULL, NULL);
}

int fw_rt_paths_set(const char *pin_root, const char *state_dir)
{
	struct fw_rt_paths p;
	const char *v = "/v" FW_RT_STR(PW_LAYOUT_VERSION);
	int n = 0;

	if (!pin_root)
		pin_root = getenv("PLUMWALL_PIN_PATH");
	if (!pin_root || !*pin_root)
		pin_root = PW_PIN_ROOT;
	if (!state_dir)
		state_dir = getenv("PLUMWALL_RUN_DIR");
	if (!state_dir || !*state_dir)
		state_dir = FW_RT_RUN_DIR;
	if (pin_root[0] != '/' || state_dir[0] != '/')
		return -EINVAL;
	if (strlen(pin_root) >= sizeof(p.root) ||
	    strlen(state_dir) >= sizeof(p.state_dir))
		return -ENAMETOOLONG;
	memset(&p, 0, sizeof(p));
	strcpy(p.root, pin_root);
	strcpy(p.state_dir, state_dir);
	n |= snprintf(p.dir, sizeof(p.dir), "%s%s", p.root, v) >=
	     (int)sizeof(p.dir);
	snprintf(p.maps, sizeof(p.maps), "%s/maps", p.dir);
	snprintf(p.progs, sizeof(p.progs), "%s/progs", p.dir);
	snprintf(p.links, sizeof(p.links), "%s/links", p.dir);
	snprintf(p.state, sizeof(p.state), "%s/state.json", p.state_dir);
	snprintf(p.state_tmp, sizeof(p.state_tmp), "%s.tmp", p.state);
	snprintf(p.lock, sizeof(p.lock), "%s/lock", p.state_dir);
	if (n)
		return -ENAMETOOLONG;
	fw_rt_paths = p;
	return 0;
}

/* @path is /sys/fs/bpf or below it. */
static bool fw_rt_under_sysfs_bpf(const char *path)
{
	return !strncmp(path, "/sys/fs/bpf", 11) &&
	       (path[11] == '\0' || path[11] == '/');
}

/* statfs() of @path, or of its nearest existing ancestor: the file
 * system mkdir will create the missing part on. */
static int fw_rt_statfs_existing(const char *path, struct statfs *st)
{
	char p[sizeof(fw_rt_paths.root)];
	char *slash;

	snprintf(p, sizeof(p), "%s", path);
	while (statfs(p, st)) {
		if (errno != ENOENT && errno != ENOTDIR)
			return -errno;
		slash = strrchr(p, '/');
		if (!slash)
			return -ENOENT;
		if (slash == p)
			slash[1] = '\0'; /* "/" */
		else
			*slash = '\0';
	}
	return 0;
}

int fw_rt_bpffs(void)
{
	struct statfs st;
	int ret;

	fw_rt_paths_ensure();
	/* The default place: the bpffs systemd mounts, which apply mounts
	 * itself where nothing did (a minimal system, a container). */
	if (fw_rt_under_sysfs_bpf(FW_RT_ROOT) &&
	    (statfs("/sys/fs/bpf", &st) || st.f_type != BPF_FS_MAGIC)) {
		if (mkdir("/sys/fs/bpf", 0700) && errno != EEXIST)
			return -errno;
		if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700"))
			return -errno;
	}
	/* Pins live only on a bpffs: elsewhere pinning fails (EPERM) after
	 * the programs are loaded, with nothing to say why. */
	ret = fw_rt_statfs_existing(FW_RT_ROOT, &st);
	if (ret)
		return ret;
	return st.f_type == BPF_FS_MAGIC ? 0 : -EMEDIUMTYPE;
}

int fw_rt_mkdirs(const char *path)
{
	return pw_mkdirs(path, 0700);
}

bool fw_rt_layout_name(const char *name)
{
	size_t i;

	if (name[0] != 'v' || !name[1])
		return false;
	for (i = 1; name[i]; i++)
		if (name[i] < '0' || name[i] > '9')
			return false;
	return true;
}

/* @de in @dir is a directory (d_type, or lstat where the file system
 * does not fill it in). */
static bool fw_rt_is_dir(const char *dir, const struct dirent *de)
{
	char path[PATH_MAX];
	struct stat st;

	if (de->d_type != DT_UNKNOWN)
		return de->d_type == DT_DIR;
	snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
	return !lstat(path, &st) && S_ISDIR(st.st_mode);
}

int fw_rt_foreign_layout(char *name, size_t size)
{
	const char *ours;
	struct dirent *de;
	DIR *d;
	int ret = 0;

	fw_rt_paths_ensure();
	ours = strrchr(FW_RT_DIR, '/') + 1;
	d = opendir(FW_RT_ROOT);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	/* Only what a plumwall makes counts: a bpffs mount root also holds
	 * the kernel's maps.debug and progs.debug, and a shared root other
	 * software's pins. */
	while ((de = readdir(d))) {
		if (!fw_rt_layout_name(de->d_name) ||
		    !strcmp(de->d_name, ours) || !fw_rt_is_dir(FW_RT_ROOT, de))
			continue;
		snprintf(name, size, "%s", de->d_name);
		ret = 1;
		break;
	}
	closedir(d);
	return ret;
}

bool fw_rt_loaded(void)
{
	struct dirent *de;
	bool found = false;
	DIR *d;

	fw_rt_paths_ensure();
	if (!access(FW_RT_STATE, F_OK))
		return true;
	d = opendir(FW_RT_ROOT);
	if (!d)
		return false;
	while (!found && (de = readdir(d)))
		found = fw_rt_layout_name(de->d_name) &&
			fw_rt_is_dir(FW_RT_ROOT, de);
	closedir(d);
	return found;
}

int fw_rt_remove_pins(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	int ret = 0, r;
	DIR *d;

	fw_rt_paths_ensure();
	d = opendir(FW_RT_ROOT);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!fw_rt_layout_name(de->d_name) ||
		    !fw_rt_is_dir(FW_RT_ROOT, de))
			continue;
		snprintf(path, sizeof(path), "%s/%s", FW_RT_ROOT, de->d_name);
		r = fw_rt_remove_tree(path);
		if (r && !ret)
			ret = r;
	}
	closedir(d);
	/* The root goes too, unless it is not ours to remove: /sys/fs/bpf
	 * itself, a mount point (EBUSY: a bpffs mounted for plumwall, which
	 * also holds the kernel's *.debug files), or a directory that holds
	 * something other than plumwall's pins (ENOTEMPTY). */
	if (!ret && strcmp(FW_RT_ROOT, "/sys/fs/bpf") && rmdir(FW_RT_ROOT) &&
	    errno != ENOENT && errno != EBUSY && errno != ENOTEMPTY &&
	    errno != EEXIST)
		ret = -errno;
	return ret;
}

bool fw_rt_pinned(void)
{
	char path[PATH_MAX];

	fw_rt_paths_ensure();
	snprintf(path, sizeof(path), "%s/pw_config", FW_RT_MAPS);
	return !access(path, F_OK);
}

static int fw_rt_link_path(char *buf, size_t size, const char *ifname,
			   enum fw_rt_mode mode)
{
	fw_rt_paths_ensure();
	if (snprintf(buf, size, "%s/%s@%s", FW_RT_LINKS, ifname,
		     fw_rt_mode_name(mode)) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

static int fw_rt_clsact(int ifindex, int prog_fd, bool attach)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = FW_RT_TC_HANDLE,
		    .priority = FW_RT_TC_PRIO);
	int ret;

	if (!attach) {
		ret = bpf_tc_detach(&hook, &o);
		return ret == -ENOENT || ret == -ENODEV ? 0 : ret;
	}
	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST)
		return ret;
	o.prog_fd = prog_fd;
	o.flags = BPF_TC_F_REPLACE;
	return bpf_tc_attach(&hook, &o);
}

int fw_rt_attach(const char *ifname, int ifindex, enum fw_rt_mode mode,
		 int prog_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, o);
	enum bpf_attach_type type = BPF_XDP;
	char path[PATH_MAX];
	int fd = -1, ret;

	if (mode == FW_RT_CLSACT)
		return fw_rt_clsact(ifindex, prog_fd, true);
	ret = fw_rt_link_path(path, sizeof(path), ifname, mode);
	if (ret)
		goto out;
	if (mode == FW_RT_XDP)
		o.flags = XDP_FLAGS_DRV_MODE;
	else if (mode == FW_RT_XDP_GENERIC)
		o.flags = XDP_FLAGS_SKB_MODE;
	else
		type = (enum bpf_attach_type)FW_RT_BPF_TCX_INGRESS;
	fd = bpf_link_create(prog_fd, ifindex, type, &o);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	/* The pin, not this process, keeps the link (and so the
	 * attachment) alive. */
	if (bpf_obj_pin(fd, path)) {
		ret = -errno;
		bpf_link_detach(fd);
	}
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

/* The reject-answer program's tcx link: IF@answer next to IF@xdp. */
static int fw_rt_answer_path(char *buf, size_t size, const char *ifname)
{
	fw_rt_paths_ensure();
	if (snprintf(buf, size, "%s/%s@answer", FW_RT_LINKS, ifname) >=
	    (int)size)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * pw_tc_answer (@prog_fd) at tc ingress of an XDP interface: it sends the
 * reject answers the XDP program passes up (bpf/pw_ctx.h). A tcx link
 * pinned as IF@answer, or on kernels without tcx (before 6.6) our clsact
 * filter, which an XDP interface has no other use for.
 */
static int fw_rt_answer_attach(const char *ifname, int ifindex, int prog_fd)
{
	LIBBPF_OPTS(bpf_link_create_opts, o);
	char path[PATH_MAX];
	int fd, ret;

	ret = fw_rt_answer_path(path, sizeof(path), ifname);
	if (ret)
		return ret;
	fd = bpf_link_create(prog_fd, ifindex,
			     (enum bpf_attach_type)FW_RT_BPF_TCX_INGRESS, &o);
	if (fd < 0) {
		ret = -errno;
		if (ret != -EINVAL && ret != -EOPNOTSUPP && ret != -524)
			return ret;
		return fw_rt_clsact(ifindex, prog_fd, true);
	}
	if (bpf_obj_pin(fd, path)) {
		ret = -errno;
		bpf_link_detach(fd);
	}
	close(fd);
	return ret;
}

/* Undo fw_rt_answer_attach(); gone already is no error. */
static int fw_rt_answer_detach(const char *ifname, int ifindex)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = fw_rt_answer_path(path, sizeof(path), ifname);
	if (ret)
		return ret;
	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno != ENOENT)
			return -errno;
		/* no link: the clsact filter, if there is one (no clsact
		 * qdisc at all is EINVAL) */
		ret = fw_rt_clsact(ifindex, -1, false);
		return ret == -EINVAL ? 0 : ret;
	}
	if (bpf_link_detach(fd) && errno != ENOLINK)
		ret = -errno;
	close(fd);
	if (unlink(path) && errno != ENOENT && !ret)
		ret = -errno;
	return ret;
}

/* XDP in @mode is attached: add the answer program, or undo it all. */
static int fw_rt_attach_answer(const char *ifname, int ifindex,
			       enum fw_rt_mode mode, int answer_fd)
{
	int ret;

	if (answer_fd < 0)
		return 0;
	ret = fw_rt_answer_attach(ifname, ifindex, answer_fd);
	if (ret)
		fw_rt_detach(ifname, ifindex, mode);
	return ret;
}

int fw_rt_attach_want(const char *prog, const char *ifname, int ifindex,
		      enum fw_rt_want want, int xdp_fd, int tc_fd,
		      int answer_fd, enum fw_rt_mode *mode)
{
	int ret;

	if (want != FW_RT_WANT_TC) {
		*mode = FW_RT_XDP;
		ret = fw_rt_attach(ifname, ifindex, FW_RT_XDP, xdp_fd);
		if (ret && want == FW_RT_WANT_XDP) {
			fprintf(stderr,
				"%s: warning: %s: no native XDP (%s), using generic XDP (slower)\n",
				prog, ifname, strerror(-ret));
			*mode = FW_RT_XDP_GENERIC;
			ret = fw_rt_attach(ifname, ifindex, FW_RT_XDP_GENERIC,
					   xdp_fd);
		}
		if (!ret)
			return fw_rt_attach_answer(ifname, ifindex, *mode,
						   answer_fd);
		if (want == FW_RT_WANT_XDP || ret == -EEXIST)
			return ret;
		fprintf(stderr, "%s: %s: no native XDP (%s), using tc\n", prog,
			ifname, strerror(-ret));
	}
	*mode = FW_RT_TCX;
	ret = fw_rt_attach(ifname, ifindex, FW_RT_TCX, tc_fd);
	if (ret != -EINVAL && ret != -EOPNOTSUPP && ret != -524)
		return ret;
	/* Kernels before 6.6 have no tcx: a clsact filter holds no link
	 * and stays attached without a pin anyway. */
	*mode = FW_RT_CLSACT;
	return fw_rt_attach(ifname, ifindex, FW_RT_CLSACT, tc_fd);
}

int fw_rt_detach(const char *ifname, int ifindex, enum fw_rt_mode mode)
{
	char path[PATH_MAX];
	int fd, ret, r;

	if (mode == FW_RT_CLSACT)
		return fw_rt_clsact(ifindex, -1, false);
	ret = fw_rt_link_path(path, sizeof(path), ifname, mode);
	if (ret)
		return ret;
	fd = bpf_obj_get(path);
	if (fd >= 0) {
		/* Detach first: another holder of the link (a process that
		 * opened the pin) must not keep the program attached. */
		if (bpf_link_detach(fd) && errno != ENOLINK)
			ret = -errno;
		close(fd);
		if (unlink(path) && errno != ENOENT && !ret)
			ret = -errno;
	} else if (errno != ENOENT) {
		ret = -errno;
	}
	/* XDP's answer program after XDP: nothing marks answers any more */
	if (mode == FW_RT_XDP || mode == FW_RT_XDP_GENERIC) {
		r = fw_rt_answer_detach(ifname, ifindex);
		if (r && !ret)
			ret = r;
	}
	return ret;
}

int fw_rt_remove_tree(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	int ret = 0, r;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st))
			continue;
		if (S_ISDIR(st.st_mode))
			r = fw_rt_remove_tree(path);
		else
			r = unlink(path) ? -errno : 0;
		if (r && !ret)
			ret = r;
	}
	closedir(d);
	if (rmdir(dir) && errno != ENOENT && !ret)
		ret = -errno;
	return ret;
}

/* The hash of the policy files: OpenSSL's SHA-256 (libcrypto). */
int fw_rt_sha256_files(char *const *files, size_t n, char hex[65])
{
	EVP_MD_CTX *s = EVP_MD_CTX_new();
	unsigned char buf[65536], md[EVP_MAX_MD_SIZE];
	int fd = -1, ret = 0, i;
	unsigned int mdlen = 0;
	ssize_t len;
	size_t f;

	if (!s || !EVP_DigestInit_ex(s, EVP_sha256(), NULL)) {
		ret = -ENOMEM;
		goto out;
	}
	for (f = 0; f < n; f++) {
		fd = open(files[f], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			goto out;
		}
		while ((len = read(fd, buf, sizeof(buf))) > 0)
			if (!EVP_DigestUpdate(s, buf, (size_t)len)) {
				ret = -EIO;
				goto out;
			}
		if (len < 0) {
			ret = -errno;
			goto out;
		}
		close(fd);
		fd = -1;
	}
	if (!EVP_DigestFinal_ex(s, md, &mdlen) || mdlen != 32) {
		ret = -EIO;
		goto out;
	}
	for (i = 0; i < 32; i++)
		sprintf(hex + 2 * (size_t)i, "%02x", md[i]);
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(s);
	return ret;
}

/*
 * @path's JSON document: -ENOENT when there is no file, -EBADMSG when it
 * holds no document. Read whole, then parsed: json_load_file() reads a
 * character at a time through stdio, a quarter slower on the 11 MB
 * state of a 100,000-rule policy.
 */
static int fw_rt_load_json(const char *path, json_t **doc)
{
	json_error_t err;
	struct stat st;
	char *buf = NULL;
	size_t done = 0;
	ssize_t n;
	int fd, ret = 0;

	*doc = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = errno == ENOENT ? -ENOENT : -EBADMSG;
		goto out;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		ret = -EBADMSG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (done < (size_t)st.st_size) {
		n = read(fd, buf + done, (size_t)st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	*doc = json_loadb(buf, done, 0, &err);
	if (!*doc)
		ret = -EBADMSG;
	else
		ret = fw_names_resolve(*doc);
	if (ret) {
		json_decref(*doc);
		*doc = NULL;
	}
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return ret;
}

int fw_rt_state_read(json_t **doc)
{
	fw_rt_paths_ensure();
	return fw_rt_load_json(FW_RT_STATE, doc);
}

/*
 * The state documents are root's (mode 0600 in a 0700 directory: they name
 * the policy, its tenants and rules) and survive a crash: written aside,
 * synced, renamed over, and the directory synced, so after a power cut
 * state.json is the old document or the new one, whole.
 */
/*
 * The state documents are written by hand rather than by jansson's dump,
 * which made one write() per token through json_dumpfd() and walks
 * strings a code point at a time: at 100,000 rules the 11 MB state took
 * 0.14 s of CPU to format, now a third of that. The bytes are jansson's
 * compact form (JSON_COMPACT, keys in insertion order), which
 * tests/unit/test_kernel.c checks; a value this code has no fast path
 * for (a real, a string with bytes above 0x7f, which jansson validates as
 * UTF-8) is formatted by jansson itself.
 */
struct fw_rt_wbuf {
	int fd;
	int err;
	/* A state document's own rule table, which tables of older
	 * generations below it share when their names are the same: written
	 * once, the others as "rules_of": its generation (names.h
	 * fw_names_resolve()). */
	const json_t *rules;
	json_int_t rules_gen;
	size_t used;
	char data[64 * 1024];
};

static void fw_rt_wbuf_flush(struct fw_rt_wbuf *w)
{
	size_t done = 0;
	ssize_t n;

	while (!w->err && done < w->used) {
		n = write(w->fd, w->data + done, w->used - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			w->err = n < 0 ? -errno : -EIO;
		else
			done += (size_t)n;
	}
	w->used = 0;
}

static void fw_rt_wbuf_add(struct fw_rt_wbuf *w, const char *buf, size_t size)
{
	size_t n;

	while (size && !w->err) {
		if (w->used == sizeof(w->data))
			fw_rt_wbuf_flush(w);
		n = sizeof(w->data) - w->used;
		if (n > size)
			n = size;
		memcpy(w->data + w->used, buf, n);
		w->used += n;
		buf += n;
		size -= n;
	}
}

static int fw_rt_wbuf_cb(const char *buf, size_t size, void *data)
{
	fw_rt_wbuf_add(data, buf, size);
	return ((struct fw_rt_wbuf *)data)->err ? -1 : 0;
}

/* jansson's own form of @v, for what fw_rt_put() does not format. */
static void fw_rt_put_jansson(struct fw_rt_wbuf *w, const json_t *v)
{
	if (json_dump_callback(v, fw_rt_wbuf_cb, w,
			       JSON_COMPACT | JSON_ENCODE_ANY) &&
	    !w->err)
		w->err = -EINVAL;
}

static void fw_rt_put_str(struct fw_rt_wbuf *w, const json_t *v, const char *s,
			  size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[6] = { '\\', 'u', '0', '0' };
	size_t i, from = 0;
	unsigned char c;
	json_t *tmp;

	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x80)
			continue;
		if (v) {
			fw_rt_put_jansson(w, v);
			return;
		}
		/* an object key: a string of it, formatted as a key is */
		tmp = json_stringn(s, len);
		if (tmp)
			fw_rt_put_jansson(w, tmp);
		else if (!w->err)
			w->err = -EINVAL;
		json_decref(tmp);
		return;
	}
	fw_rt_wbuf_add(w, "\"", 1);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		fw_rt_wbuf_add(w, s + from, i - from);
		from = i + 1;
		switch (c) {
		case '"':
			fw_rt_wbuf_add(w, "\\\"", 2);
			break;
		case '\\':
			fw_rt_wbuf_add(w, "\\\\", 2);
			break;
		case '\b':
			fw_rt_wbuf_add(w, "\\b", 2);
			break;
		case '\f':
			fw_rt_wbuf_add(w, "\\f", 2);
			break;
		case '\n':
			fw_rt_wbuf_add(w, "\\n", 2);
			break;
		case '\r':
			fw_rt_wbuf_add(w, "\\r", 2);
			break;
		case '\t':
			fw_rt_wbuf_add(w, "\\t", 2);
			break;
		default:
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 0xf];
			fw_rt_wbuf_add(w, esc, sizeof(esc));
			break;
		}
	}
	fw_rt_wbuf_add(w, s + from, len - from);
	fw_rt_wbuf_add(w, "\"", 1);
}

static void fw_rt_put_int(struct fw_rt_wbuf *w, json_int_t n)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n :
				       (unsigned long long)n;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (n < 0)
		*--p = '-';
	fw_rt_wbuf_add(w, p, (size_t)(buf + sizeof(buf) - p));
}

static void fw_rt_put(struct fw_rt_wbuf *w, const json_t *v, int depth)
{
	const char *key;
	const json_t *item;
	size_t i;
	void *it;

	/* deeper than any state document: jansson's own recursion */
	if (depth > 64) {
		fw_rt_put_jansson(w, v);
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		fw_rt_wbuf_add(w, "{", 1);
		i = 0;
		for (it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it)) {
			if (i++)
				fw_rt_wbuf_add(w, ",", 1);
			key = json_object_iter_key(it);
			item = json_object_iter_value(it);
			/* depth 2: an entry of the top level's "previous" */
			if (depth == 2 && item == w->rules &&
			    !strcmp(key, "rules")) {
				fw_rt_wbuf_add(w, "\"rules_of\":", 11);
				fw_rt_put_int(w, w->rules_gen);
				continue;
			}
			fw_rt_put_str(w, NULL, key, strlen(key));
			fw_rt_wbuf_add(w, ":", 1);
			fw_rt_put(w, item, depth + 1);
		}
		fw_rt_wbuf_add(w, "}", 1);
		break;
	case JSON_ARRAY:
		fw_rt_wbuf_add(w, "[", 1);
		json_array_foreach(v, i, item) {
			if (i)
				fw_rt_wbuf_add(w, ",", 1);
			fw_rt_put(w, item, depth + 1);
		}
		fw_rt_wbuf_add(w, "]", 1);
		break;
	case JSON_STRING:
		fw_rt_put_str(w, v, json_string_value(v),
			      json_string_length(v));
		break;
	case JSON_INTEGER:
		fw_rt_put_int(w, json_integer_value(v));
		break;
	case JSON_TRUE:
		fw_rt_wbuf_add(w, "true", 4);
		break;
	case JSON_FALSE:
		fw_rt_wbuf_add(w, "false", 5);
		break;
	case JSON_NULL:
		fw_rt_wbuf_add(w, "null", 4);
		break;
	default:
		fw_rt_put_jansson(w, v);
		break;
	}
}

int fw_rt_json_write(const json_t *doc, int fd)
{
	struct fw_rt_wbuf *w = malloc(sizeof(*w));
	int ret;

	if (!w)
		return -ENOMEM;
	w->fd = fd;
	w->err = 0;
	w->used = 0;
	w->rules = NULL;
	w->rules_gen = 0;
	if (json_is_integer(json_object_get(doc, "generation"))) {
		w->rules = json_object_get(doc, "rules");
		w->rules_gen =
			json_integer_value(json_object_get(doc, "generation"));
	}
	fw_rt_put(w, doc, 0);
	fw_rt_wbuf_flush(w);
	ret = w->err;
	free(w);
	return ret;
}

static int fw_rt_write_doc(const char *path, const json_t *doc)
{
	int fd, ret = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600)) {
		ret = -errno;
		goto out;
	}
	ret = fw_rt_json_write(doc, fd);
	if (!ret && fsync(fd))
		ret = -errno;
out:
	if (close(fd) && !ret)
		ret = -errno;
	return ret;
}

static int fw_rt_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

int fw_rt_state_write_tmp(const json_t *doc)
{
	int ret;

	fw_rt_paths_ensure();
	ret = pw_mkdirs(FW_RT_STATE_DIR, 0700);
	if (ret)
		return ret;
	if (chmod(FW_RT_STATE_DIR, 0700))
		return -errno;
	return fw_rt_write_doc(fw_rt_paths.state_tmp, doc);
}

int fw_rt_state_commit(void)
{
	fw_rt_paths_ensure();
	if (rename(fw_rt_paths.state_tmp, FW_RT_STATE))
		return -errno;
	return fw_rt_sync_dir(FW_RT_STATE_DIR);
}

int fw_rt_state_rewrite(const json_t *doc)
{
	int ret = fw_rt_state_write_tmp(doc);

	return ret ? ret : fw_rt_state_commit();
}

int fw_rt_state_read_tmp(json_t **doc)
{
	fw_rt_paths_ensure();
	return fw_rt_load_json(fw_rt_paths.state_tmp, doc);
}

void fw_rt_state_drop_tmp(void)
{
	unlink(fw_rt_paths.state_tmp);
}

/*
 * Who holds the lock on @fd: the kernel's /proc/locks names the pid of a
 * flock() on its inode ("1: FLOCK ADVISORY WRITE PID MAJ:MIN:INODE ..."),
 * and /proc/PID/comm its command.
 */
static void fw_rt_lock_holder(int fd, char *buf, size_t size)
{
	char line[256], comm[64] = "", path[64], dev[32];
	unsigned long long ino;
	struct stat st;
	int pid = 0, p;
	FILE *f;

	snprintf(buf, size, "another process");
	if (fstat(fd, &st))
		return;
	snprintf(dev, sizeof(dev), "%02x:%02x:", major(st.st_dev),
		 minor(st.st_dev));
	f = fopen("/proc/locks", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char kind[16], id[64];

		if (sscanf(line, "%*s %15s %*s %*s %d %63s", kind, &p, id) !=
			    3 ||
		    strcmp(kind, "FLOCK") || strncmp(id, dev, strlen(dev)) ||
		    sscanf(id + strlen(dev), "%llu", &ino) != 1 ||
		    ino != (unsigned long long)st.st_ino)
			continue;
		pid = p;
		break;
	}
	(void)fclose(f); /* read only: nothing to lose */
	if (!pid)
		return;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = '\0';
		(void)fclose(f); /* read only: nothing to lose */
		comm[strcspn(comm, "\n")] = '\0';
	}
	snprintf(buf, size, "pid %d (%s)", pid, comm[0] ? comm : "?");
}

int fw_rt_lock(const char *prog)
{
	const char *env = getenv("PLUMWALL_LOCK_TIMEOUT");
	struct timespec tick = { 0, 50 * 1000000L };
	char holder[128];
	long waited_ms = 0, limit_ms;
	int fd, ret;

	fw_rt_paths_ensure();
	limit_ms =
		(env && atol(env) > 0 ? atol(env) : FW_RT_LOCK_WAIT_S) * 1000L;
	ret = fw_rt_mkdirs(FW_RT_STATE_DIR);
	if (ret)
		return ret;
	fd = open(FW_RT_LOCK, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	/* Bounded: a holder that hangs (an apply stuck on something) is
	 * named, and the wait ends, rather than every later apply queueing
	 * silently behind it. */
	while (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			ret = -errno;
			goto fail;
		}
		fw_rt_lock_holder(fd, holder, sizeof(holder));
		if (!waited_ms && prog)
			fprintf(stderr,
				"%s: waiting for the apply lock %s, held by %s\n",
				prog, FW_RT_LOCK, holder);
		if (waited_ms >= limit_ms) {
			if (prog)
				fprintf(stderr,
					"%s: the apply lock %s is still held by %s after %ld s; giving up\n",
					prog, FW_RT_LOCK, holder,
					limit_ms / 1000);
			ret = -ETIMEDOUT;
			goto fail;
		}
		nanosleep(&tick, NULL);
		waited_ms += 50;
	}
	return fd;
fail:
	close(fd);
	return ret;
}

int fw_rt_state_remove(void)
{
	fw_rt_state_drop_tmp();
	if (unlink(FW_RT_STATE) && errno != ENOENT)
		return -errno;
	return 0;
}
