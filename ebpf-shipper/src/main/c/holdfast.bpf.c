// SPDX-License-Identifier: GPL-2.0
/* Holdfast file-activity probe: two raw tracepoint programs, sys_enter and sys_exit (fentry/kprobe/LSM are
 * refused on the target kernels), dispatching on the syscall number. The exit program checks the return value,
 * reads the arguments from the task's saved user registers, resolves absolute paths from kernel objects, filters
 * in the kernel and emits one variable-size record (struct hf_event + path bytes) into one ring buffer; the enter
 * program only remembers which struct file a close is about to drop.
 *
 * Path rule: fd-based events (open*, creat, write*, close, fchmod, fchown, ftruncate) are resolved
 * entirely from the struct file of the fd (dentry walk across mounts). Path-based events (rename,
 * unlink, mkdir, rmdir, chmod, chown, truncate, link, symlink) read the user string at sys_exit; when
 * it is relative, it is joined to the dirfd's (or cwd's) path resolved from kernel objects. The
 * user-supplied components are not canonicalised (".." and symlinks in them are kept verbatim; only
 * leading "./" is dropped). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "holdfast_event.h"

char LICENSE[] SEC("license") = "GPL";

/* Reads through BTF-typed pointers are plain loads (the verifier guards them with an exception table), a
 * bpf_probe_read_kernel helper call each otherwise: on the hot paths (every open, write and close on the node)
 * the task comes from bpf_get_current_task_btf, the syscall registers from bpf_task_pt_regs, and a struct file
 * read out of the fd table is given its type back with bpf_rdonly_cast. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

static __always_inline struct file *as_file(__u64 p)
{
	return bpf_rdonly_cast((void *)p, bpf_core_type_id_kernel(struct file));
}

#define AT_FDCWD -100
#define AT_REMOVEDIR 0x200
#define AT_EMPTY_PATH 0x1000
#define FMODE_WRITE 0x2
#define FMODE_CREATED 0x100000 /* set by the VFS on the struct file when this open created the inode */
#define S_IFMT 00170000
#define S_IFREG 0100000
#define O_CREAT_ 0100
#define O_WRONLY_ 01
#define O_TRUNC_ 01000

#define MAX_DEPTH 64            /* dentry components + mount crossings per path */
#define PMASK (HF_PATH_MAX - 1) /* 4095 */
#define DMASK 8191              /* offsets into heap.data */
/* x & m that the compiler cannot drop after a range check (the verifier needs to see the mask). */
#define BOUND(x, m) ({ __u64 __v = (x); asm volatile("" : "+r"(__v)); __v & (m); })

/* What a close's sys_enter leaves for its sys_exit (per thread, in the inflight map). */
struct closing {
	__u64 fd;
	__u64 file; /* the struct file the fd held */
};

struct wkey {
	__u32 tgid;
	__u32 fd;
};

struct wval {
	__u64 file;    /* struct file * the MODIFY was emitted for */
	__u64 last_ns; /* time of the last MODIFY */
	__u32 filtered;
	__u32 _pad;
};

/* Per-CPU scratch: the record under construction (header + data contiguous) and work buffers. */
struct heap {
	struct hf_event ev;
	char data[12288];  /* path at 0, new_path right after it; writes bounded by DMASK + PMASK */
	char tmp[HF_PATH_MAX + 256];
	char ustr[HF_PATH_MAX + 16];
	struct hf_lpm_key key;
	struct hf_name_key nkey;
	__u64 w_d, w_vm, w_mnt;   /* path walk state (walk_step) */
	__u64 scratch;            /* ptr_val */
	__u32 w_pos, w_fl, w_done;
	__u32 s_off, s_len, s_blen, s_elen; /* basename / extension scan state */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct closing);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct wkey);
	__type(value, struct wval);
} written SEC(".maps");

/* Directories whose files the prefix filters reject (not included, or excluded), so that the next open of a
 * file there costs one lookup instead of a path walk. Keyed by (dentry, vfsmount): the same directory seen
 * through another mount has another path. An entry is trusted only while the directory's inode number matches
 * (a freed dentry reused for another directory) and the generation is current: dir_gen moves on every
 * successful rename or rmdir (an ancestor may have moved) and every filter update. */
struct dkey {
	__u64 dentry;
	__u64 mnt;
};

struct dval {
	__u64 ino;
	__u64 gen;
	__u32 why;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct dkey);
	__type(value, struct dval);
} dir_verdict SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dir_gen SEC(".maps");

/* The last directory verdict used on this CPU, checked before dir_verdict: a process busy in one directory costs
 * an array read per open and write instead of a hash lookup. Trusted under the same rules as dir_verdict. */
struct dlast {
	struct dkey k;
	struct dval v;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dlast);
} dir_last SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* overridden by the shim (bpf_map__set_max_entries) before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct heap);
} heap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, HF_C_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct hf_config);
} hf_cfg SEC(".maps");

/* value = prefix length in bytes (to let the longer of an include and an exclude match win) */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct hf_lpm_key);
	__type(value, __u32);
} include_prefix SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1024);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct hf_lpm_key);
	__type(value, __u32);
} exclude_prefix SEC(".maps");

/* basename ("foo.swp") or extension (".swp") -> HF_NAME_EXCLUDE / HF_NAME_INCLUDE */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hf_name_key);
	__type(value, __u32);
} name_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, char[HF_COMM_LEN]);
	__type(value, __u32);
} comm_filter SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);
	if (v)
		*v += 1;
}

static __always_inline struct hf_config *cfg(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&hf_cfg, &zero);
}

static __always_inline struct heap *heap_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&heap, &zero);
}

/* A typed kernel pointer as a plain number: global functions take scalars only, and a value read back from
 * memory is one. */
static __always_inline __u64 ptr_val(struct heap *h, const void *p)
{
	*(volatile __u64 *)&h->scratch = (__u64)p;
	return *(volatile __u64 *)&h->scratch;
}

static __always_inline __u64 *dir_gen_ptr(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&dir_gen, &zero);
}

/* The directory holding f and its cache key; NULL for a filesystem root, which has no parent to key by. */
static __always_inline struct dentry *dir_key(struct file *f, struct dkey *k)
{
	struct dentry *d = f->f_path.dentry;
	struct dentry *p = d->d_parent;

	k->dentry = (__u64)p;
	k->mnt = (__u64)f->f_path.mnt;
	return p == d ? 0 : p;
}

/* Cached prefix verdict for the directory holding f, or 0 when unknown (or the cache is off). */
static __always_inline __u32 dir_cached(struct hf_config *c, struct file *f)
{
	struct dkey k;
	struct dentry *p = dir_key(f, &k);
	struct dlast *last;
	struct dval *v;
	__u64 *gen, ino;
	__u32 zero = 0;

	if (!(c->flags & HF_CFG_DIR_CACHE) || !p)
		return 0;
	gen = dir_gen_ptr();
	last = bpf_map_lookup_elem(&dir_last, &zero);
	if (!gen || !last)
		return 0;
	ino = p->d_inode->i_ino;
	if (last->k.dentry == k.dentry && last->k.mnt == k.mnt && last->v.gen == *gen && last->v.ino == ino)
		return last->v.why;
	v = bpf_map_lookup_elem(&dir_verdict, &k);
	if (!v || v->gen != *gen || v->ino != ino)
		return 0;
	last->k = k;
	last->v = *v;
	return v->why;
}

static __always_inline void dir_remember(struct hf_config *c, struct file *f, __u32 why)
{
	struct dkey k;
	struct dentry *p = dir_key(f, &k);
	struct dval v = {};
	__u64 *gen = dir_gen_ptr();
	struct dlast *last;
	__u32 zero = 0;

	if (!(c->flags & HF_CFG_DIR_CACHE) || !p || !gen)
		return;
	v.ino = p->d_inode->i_ino;
	v.gen = *gen;
	v.why = why;
	bpf_map_update_elem(&dir_verdict, &k, &v, BPF_ANY);
	last = bpf_map_lookup_elem(&dir_last, &zero);
	if (last) {
		last->k = k;
		last->v = v;
	}
}

/* The struct file behind fd in the current task, or NULL. */
static __always_inline struct file *fd_file(__u64 fd)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct fdtable *fdt = t->files->fdt;
	struct file **arr;
	__u64 f = 0;

	if (!fdt || fd >= fdt->max_fds)
		return 0;
	arr = fdt->fd;
	bpf_probe_read_kernel(&f, sizeof(f), &arr[fd]);
	return f ? as_file(f) : 0;
}

static __always_inline __u32 encode_dev(__u32 kdev)
{
	__u32 major = kdev >> 20, minor = kdev & 0xfffff;
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

/* Walk state lives in the per-CPU heap (not on the stack) so that the verifier sees one converging
 * state per bpf_loop callback instead of one per iteration and branch. */
static long walk_step(__u64 i, void *unused)
{
	struct heap *h = heap_get();
	struct dentry *d, *mnt_root, *parent;
	struct vfsmount *vm;
	struct mount *mnt;
	const unsigned char *name;
	__u32 pos, len;

	if (!h)
		return 1;
	d = bpf_rdonly_cast((void *)h->w_d, bpf_core_type_id_kernel(struct dentry));
	vm = bpf_rdonly_cast((void *)h->w_vm, bpf_core_type_id_kernel(struct vfsmount));
	mnt = bpf_rdonly_cast((void *)h->w_mnt, bpf_core_type_id_kernel(struct mount));
	mnt_root = vm->mnt_root;
	parent = d->d_parent;
	if (d == mnt_root || d == parent) {
		struct mount *mp = mnt->mnt_parent;

		if (d != mnt_root) { /* a filesystem root that is not the mount's root: detached */
			h->w_fl |= HF_EV_PATH_UNRESOLVED;
			h->w_done = 1;
			return 1;
		}
		if (!mp || mp == mnt) { /* root of the mount namespace */
			h->w_done = 1;
			return 1;
		}
		h->w_d = ptr_val(h, mnt->mnt_mountpoint);
		h->w_mnt = ptr_val(h, mp);
		h->w_vm = h->w_mnt + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	name = d->d_name.name;
	if (!name) { /* a faulting read gives 0 */
		h->w_fl |= HF_EV_PATH_UNRESOLVED;
		h->w_done = 1;
		return 1;
	}
	len = d->d_name.len;
	pos = h->w_pos;
	if (len > 255 || len + 1 > pos) {
		h->w_fl |= HF_EV_PATH_TRUNCATED;
		h->w_done = 1;
		return 1;
	}
	pos -= len;
	bpf_probe_read_kernel(&h->tmp[pos & PMASK], BOUND(len, 255), name);
	pos -= 1;
	h->tmp[pos & PMASK] = '/';
	h->w_pos = pos;
	h->w_d = ptr_val(h, parent);
	return 0;
}

/* Resolves (dentry, vfsmount) to an absolute path at heap.data[off..]; returns its length (< HF_PATH_MAX).
 * Walks d_parent up to the mount's root, then continues from the mountpoint in the parent mount
 * (struct mount via container_of of the vfsmount), until the root of the mount namespace. */
__noinline int hf_path(__u64 dentry_p, __u64 vfsmnt_p, __u32 off, __u32 second)
{
	struct heap *h = heap_get();
	__u32 pos, len, fl;

	if (!h)
		return 0;
	if (!dentry_p || !vfsmnt_p) {
		h->ev.evflags |= second ? HF_EV_NEW_UNRESOLVED : HF_EV_PATH_UNRESOLVED;
		return 0;
	}
	h->w_d = dentry_p;
	h->w_vm = vfsmnt_p;
	h->w_mnt = vfsmnt_p - bpf_core_field_offset(struct mount, mnt);
	h->w_pos = HF_PATH_MAX - 1;
	h->w_fl = 0;
	h->w_done = 0;
	bpf_loop(MAX_DEPTH, walk_step, NULL, 0);
	fl = h->w_fl;
	if (!h->w_done)
		fl |= HF_EV_PATH_TRUNCATED;
	pos = h->w_pos & PMASK;
	if (pos == HF_PATH_MAX - 1) {
		pos -= 1;
		h->tmp[pos & PMASK] = '/';
	}
	len = HF_PATH_MAX - 1 - pos;
	bpf_probe_read_kernel(&h->data[off & DMASK], BOUND(len, PMASK), &h->tmp[pos & PMASK]);
	if (fl)
		h->ev.evflags |= second ? (fl << 2) : fl;
	return len & PMASK;
}

/* Path of a user string relative to dirfd (AT_FDCWD: the cwd), at heap.data[off..]; returns length. */
__noinline int hf_upath(__s64 dfd, __u64 uptr, __u32 off, __u32 second)
{
	struct heap *h = heap_get();
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 d, m;
	long n;
	__u32 s = 0, b, rem;
	int k;

	if (!h)
		return 0;
	n = bpf_probe_read_user_str(h->ustr, HF_PATH_MAX, (void *)uptr);
	if (n <= 0) {
		h->ev.evflags |= second ? HF_EV_NEW_UNRESOLVED : HF_EV_PATH_UNRESOLVED;
		return 0;
	}
	n -= 1;
	h->ev.evflags |= HF_EV_USER_PATH;
	if (n > 0 && h->ustr[0] == '/') {
		bpf_probe_read_kernel(&h->data[off & DMASK], BOUND(n, PMASK), h->ustr);
		return n & PMASK;
	}
	for (k = 0; k < 4; k++) { /* drop leading "./" */
		if (s + 1 < n && h->ustr[s & 15] == '.' && h->ustr[(s + 1) & 15] == '/')
			s += 2;
	}
	if (n - s == 1 && h->ustr[s & 15] == '.')
		s = n;
	if (dfd == AT_FDCWD) {
		d = ptr_val(h, task->fs->pwd.dentry);
		m = ptr_val(h, task->fs->pwd.mnt);
	} else {
		struct file *f = fd_file(dfd);

		d = f ? ptr_val(h, f->f_path.dentry) : 0;
		m = f ? ptr_val(h, f->f_path.mnt) : 0;
	}
	b = hf_path(d, m, off, second);
	if (n <= s)
		return b;
	if (b != 1) {
		h->data[(off + b) & DMASK] = '/';
		b += 1;
	}
	rem = n - s;
	if (b + rem > HF_PATH_MAX - 1) {
		rem = b < HF_PATH_MAX - 1 ? HF_PATH_MAX - 1 - b : 0;
		h->ev.evflags |= second ? HF_EV_NEW_TRUNCATED : HF_EV_PATH_TRUNCATED;
	}
	bpf_probe_read_kernel(&h->data[(off + b) & DMASK], BOUND(rem, PMASK), &h->ustr[s & 15]);
	return (b + rem) & PMASK;
}

/* One byte of the backward scan: s_blen = basename length, s_elen = length of ".ext" (0 if none). */
static long name_step(__u64 i, void *unused)
{
	struct heap *h = heap_get();
	char ch;

	if (!h || i >= h->s_len)
		return 1;
	ch = h->data[(h->s_off + h->s_len - 1 - i) & DMASK];
	if (ch == '/')
		return 1;
	h->s_blen = i + 1;
	if (ch == '.' && !h->s_elen)
		h->s_elen = i + 1;
	return 0;
}

/* 0 when the path at data[off..off+len) passes the prefix and name filters, else the counter to bump.
 * A path that could not be resolved to the root (truncated/unresolved) skips the prefix filters: its
 * leading components are unknown, so it is emitted (flagged) rather than silently dropped. */
__noinline int hf_filter(__u32 off, __u32 len, __u32 partial)
{
	struct heap *h = heap_get();
	struct hf_config *c = cfg();
	__u32 *exc, *inc, *act = 0, plen, blen, elen;

	if (!h || !c)
		return 0;
	if (partial)
		goto names;
	plen = len < HF_PREFIX_MAX ? len : HF_PREFIX_MAX;
	h->key.prefixlen = plen * 8;
	bpf_probe_read_kernel(h->key.data, HF_PREFIX_MAX, &h->data[off & DMASK]);
	exc = bpf_map_lookup_elem(&exclude_prefix, &h->key);
	inc = bpf_map_lookup_elem(&include_prefix, &h->key);
	if (exc && (!inc || *inc <= *exc))
		return HF_C_FILT_PREFIX_EXCLUDED;
	if (c->include_prefixes && !inc)
		return HF_C_FILT_NOT_INCLUDED;

names:
	/* basename and extension: scanned back from the end (bpf_loop, state in the heap) */
	h->s_off = off;
	h->s_len = len;
	h->s_blen = 0;
	h->s_elen = 0;
	bpf_loop(255, name_step, NULL, 0);
	blen = h->s_blen;
	elen = h->s_elen;
	if (blen > 0 && blen < HF_NAME_MAX) {
		__builtin_memset(&h->nkey, 0, sizeof(h->nkey));
		bpf_probe_read_kernel(h->nkey.name, BOUND(blen, HF_NAME_MAX - 1), &h->data[(off + len - blen) & DMASK]);
		act = bpf_map_lookup_elem(&name_filter, &h->nkey);
	}
	if (!act && elen > 0 && elen < HF_NAME_MAX) {
		__builtin_memset(&h->nkey, 0, sizeof(h->nkey));
		bpf_probe_read_kernel(h->nkey.name, BOUND(elen, HF_NAME_MAX - 1), &h->data[(off + len - elen) & DMASK]);
		act = bpf_map_lookup_elem(&name_filter, &h->nkey);
	}
	if (act && *act == HF_NAME_EXCLUDE)
		return HF_C_FILT_NAME_EXCLUDED;
	if (c->include_names && !(act && *act == HF_NAME_INCLUDE))
		return HF_C_FILT_NAME_NOT_INCLUDED;
	return 0;
}

/* Fills inode, dev, mode and the path from a struct file. Returns path length. */
static __always_inline __u32 from_file(struct heap *h, struct file *f)
{
	struct inode *ino = f->f_inode;

	h->ev.inode = ino->i_ino;
	h->ev.dev = encode_dev(ino->i_sb->s_dev);
	h->ev.mode = ino->i_mode;
	h->ev.evflags |= HF_EV_FROM_FD;
	return hf_path(ptr_val(h, f->f_path.dentry), ptr_val(h, f->f_path.mnt), 0, 0);
}

static __always_inline int is_reg(struct file *f)
{
	return (f->f_inode->i_mode & S_IFMT) == S_IFREG;
}

/* Filters, then emits heap.ev with its path bytes. filter_new: new_path is a path (not a symlink body).
 * Returns 0 when emitted, the filter's counter when filtered, -1 when the ring buffer was full. */
__noinline int hf_submit(__u32 filter_new)
{
	struct heap *h = heap_get();
	__u32 plen, nlen, why, why_new = 1, total;

	if (!h)
		return 0;
	plen = h->ev.path_len & PMASK;
	nlen = h->ev.new_path_len & PMASK;
	why = hf_filter(0, plen, h->ev.evflags & (HF_EV_PATH_TRUNCATED | HF_EV_PATH_UNRESOLVED));
	if (why && filter_new && nlen)
		why_new = hf_filter(plen, nlen, h->ev.evflags & (HF_EV_NEW_TRUNCATED | HF_EV_NEW_UNRESOLVED));
	if (why && why_new) { /* an event passes when either of its paths passes */
		count(why);
		return why;
	}
	total = (plen + nlen) & DMASK;
	/* no wakeup per event: the reader looks every HF_POLL_SLICE_MS, and is woken when a backlog builds */
	if (bpf_ringbuf_output(&events, &h->ev, HF_EVENT_HDR + total,
			       bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= HF_WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP
											   : BPF_RB_NO_WAKEUP)) {
		count(HF_C_DROPPED);
		return -1;
	}
	count(HF_C_EMITTED);
	return 0;
}

/* Common filter: the shipper itself and excluded process names are dropped before any path work. */
static __always_inline int wanted(struct hf_config *c, __u64 id)
{
	char comm[HF_COMM_LEN];

	if ((c->flags & HF_CFG_FILTER_SELF) && (id >> 32) == c->self_tgid) {
		count(HF_C_FILT_SELF);
		return 0;
	}
	bpf_get_current_comm(comm, sizeof(comm));
	if (bpf_map_lookup_elem(&comm_filter, comm)) {
		count(HF_C_FILT_COMM);
		return 0;
	}
	return 1;
}

static __always_inline int moves_dir(__u32 sys, __u64 unlinkat_flags)
{
	return sys == S_RENAME || sys == S_RENAMEAT || sys == S_RENAMEAT2 || sys == S_RMDIR ||
	       (sys == S_UNLINKAT && (unlinkat_flags & AT_REMOVEDIR));
}

/* write*: only the first write to a regular file through a given struct file becomes an event (one MODIFY
 * per open file, or one per modify_interval); repeats, and writes to files whose directory is known to be
 * filtered, cost one fd-table walk and one or two hash lookups. Returns 1 when a MODIFY is due. */
static __always_inline int write_due(struct hf_config *c, __u64 id, __u64 fd)
{
	struct wkey wk = { .tgid = id >> 32, .fd = (__u32)fd };
	struct wval *wv;
	struct file *f;
	__u32 why;

	if ((c->flags & HF_CFG_FILTER_SELF) && (id >> 32) == c->self_tgid)
		return 0;
	f = fd_file(fd);
	if (!f || !is_reg(f))
		return 0;
	wv = bpf_map_lookup_elem(&written, &wk);
	if (wv && wv->file == (__u64)f) {
		if (wv->filtered || !c->modify_interval_ns ||
		    bpf_ktime_get_boot_ns() - wv->last_ns < c->modify_interval_ns) {
			count(HF_C_WRITE_REPEAT);
			return 0;
		}
	} else if ((why = dir_cached(c, f))) {
		count(why);
		return 0;
	}
	count(HF_C_SEEN);
	return wanted(c, id);
}

static __always_inline void fill_common(struct heap *h, struct task_struct *task, __u64 id, __u32 sys, long ret)
{
	__u64 gid_uid = bpf_get_current_uid_gid();

	__builtin_memset(&h->ev, 0, sizeof(h->ev));
	h->ev.ts_boot_ns = bpf_ktime_get_boot_ns();
	h->ev.cgroup_id = bpf_get_current_cgroup_id();
	h->ev.ret = ret;
	h->ev.pid = id >> 32;
	h->ev.tid = (__u32)id;
	h->ev.ppid = task->real_parent->tgid;
	h->ev.uid = (__u32)gid_uid;
	h->ev.gid = gid_uid >> 32;
	h->ev.syscall = sys;
	bpf_get_current_comm(h->ev.comm, sizeof(h->ev.comm));
}

/* open/openat/openat2/creat. Most opens on a node are of no interest: that is decided first, from the struct file
 * of the new fd (not a regular file, read-only, a directory with a cached verdict), before any argument is read or
 * any context gathered. */
static __always_inline int open_exit(struct hf_config *c, struct heap *h, struct task_struct *task,
				     struct pt_regs *regs, __u64 id, __u32 sys, long ret)
{
	struct wkey wk = { .tgid = id >> 32, .fd = (__u32)ret };
	struct wval filtered = { .filtered = 1 };
	struct file *f;
	__u32 why, kind, fmode;
	int r;

	if (ret < 0) {
		count(HF_C_FILT_FAILED);
		return 0;
	}
	f = fd_file(ret);
	if (!f)
		return 0;
	fmode = f->f_mode;
	kind = (fmode & FMODE_CREATED) ? HF_CREATE : HF_OPEN;
	why = !is_reg(f) ? HF_C_FILT_NOTREG
	      : !(fmode & (FMODE_CREATED | FMODE_WRITE)) && !(c->flags & HF_CFG_EMIT_READS) ? HF_C_FILT_READONLY
	      : dir_cached(c, f);
	/* A fresh file on this fd: forget what an earlier file there left, as a struct file can reuse an address.
	 * Not needed under a cached directory verdict: whatever a stale entry says, the path filters reject it. */
	if (why == HF_C_FILT_NOTREG || why == HF_C_FILT_READONLY || !why)
		bpf_map_delete_elem(&written, &wk);
	if (why) {
		count(why);
		return 0;
	}
	count(HF_C_SEEN);
	if (!wanted(c, id))
		return 0;
	fill_common(h, task, id, sys, ret);
	if (sys == S_OPENAT2) {
		__u64 fl = 0;

		bpf_probe_read_user(&fl, sizeof(fl), (void *)PT_REGS_PARM3_SYSCALL(regs)); /* struct open_how.flags */
		h->ev.flags = fl;
	} else if (sys == S_CREAT) {
		h->ev.flags = O_CREAT_ | O_WRONLY_ | O_TRUNC_;
	} else if (sys == S_OPEN) {
		h->ev.flags = PT_REGS_PARM2_SYSCALL(regs);
	} else {
		h->ev.flags = PT_REGS_PARM3_SYSCALL(regs);
	}
	h->ev.arg = fmode;
	filtered.file = (__u64)f;
	h->ev.kind = kind;
	h->ev.path_len = from_file(h, f);
	r = hf_submit(1);
	if (r > 0) {
		/* filtered: this fd's writes and close need no work (write_due, hf_close_enter) */
		bpf_map_update_elem(&written, &wk, &filtered, BPF_ANY);
		if ((r == HF_C_FILT_PREFIX_EXCLUDED || r == HF_C_FILT_NOT_INCLUDED) &&
		    !(h->ev.evflags & (HF_EV_PATH_TRUNCATED | HF_EV_PATH_UNRESOLVED)))
			dir_remember(c, f, r);
	}
	return 0;
}

/* Per-syscall completion, from the sys_exit raw tracepoint: the syscall's arguments are read from its saved
 * user registers (the values the kernel itself used; only the return value register changes), except close's
 * struct file, which sys_enter stashed before the fd table forgot it. */
__noinline int hf_exit(__u32 sys, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u64 id = bpf_get_current_pid_tgid();
	struct hf_config *c = cfg();
	struct heap *h = heap_get();
	__u64 arg[5] = {};
	struct file *f;
	__u32 kind = 0, filter_new = 1;
	__u32 plen = 0, nlen = 0;

	if (!h || !c)
		return 0;
	if (sys == S_OPEN || sys == S_OPENAT || sys == S_OPENAT2 || sys == S_CREAT)
		return open_exit(c, h, task, regs, id, sys, ret);
	if (sys == S_CLOSE || sys == S_DUP2 || sys == S_DUP3) {
		struct closing *in = bpf_map_lookup_elem(&inflight, &id);

		if (!in)
			return 0;
		arg[0] = in->fd;
		arg[1] = in->file;
		bpf_map_delete_elem(&inflight, &id);
		sys = S_CLOSE;
	} else if (sys == S_WRITE) {
		arg[0] = PT_REGS_PARM1_SYSCALL(regs);
		if (ret == 0)
			return 0;
		if (ret < 0) {
			count(HF_C_FILT_FAILED);
			return 0;
		}
		if (!write_due(c, id, arg[0]))
			return 0;
	} else {
		arg[0] = PT_REGS_PARM1_SYSCALL(regs);
		arg[1] = PT_REGS_PARM2_SYSCALL(regs);
		arg[2] = PT_REGS_PARM3_SYSCALL(regs);
		if (sys >= S_RENAME) { /* only path syscalls have more than three arguments of interest */
			arg[3] = PT_REGS_PARM4_SYSCALL(regs);
			arg[4] = PT_REGS_PARM5_SYSCALL(regs);
		}
		/* a directory may have moved or gone, whoever did it: cached verdicts are stale */
		if (ret == 0 && moves_dir(sys, arg[2])) {
			__u64 *gen = dir_gen_ptr();

			if (gen)
				__sync_fetch_and_add(gen, 1);
		}
		count(HF_C_SEEN);
		if (!wanted(c, id))
			return 0;
	}
	if (sys == S_CLOSE) {
		struct wkey wk = { .tgid = id >> 32, .fd = (__u32)arg[0] };
		struct wval *wv = bpf_map_lookup_elem(&written, &wk);
		__u64 wfile;
		__u32 wfilt;

		if (!wv)
			return 0;
		wfile = wv->file;
		wfilt = wv->filtered;
		bpf_map_delete_elem(&written, &wk);
		if (ret < 0) {
			count(HF_C_FILT_FAILED);
			return 0;
		}
		if (wfilt || wfile != arg[1])
			return 0;
	} else if (ret < 0) {
		count(HF_C_FILT_FAILED);
		return 0;
	}

	fill_common(h, task, id, sys, ret);
	switch (sys) {
	case S_WRITE: {
		struct wkey wk = { .tgid = id >> 32, .fd = (__u32)arg[0] };
		struct wval wv = {};
		__u64 now = bpf_ktime_get_boot_ns();

		if (ret == 0)
			return 0;
		f = fd_file(arg[0]);
		if (!f)
			return 0;
		h->ev.kind = HF_MODIFY;
		plen = from_file(h, f);
		h->ev.path_len = plen;
		wv.file = (__u64)f;
		wv.last_ns = now;
		if (hf_submit(1))
			wv.filtered = 1;
		bpf_map_update_elem(&written, &wk, &wv, BPF_ANY);
		return 0;
	}
	case S_CLOSE:
		kind = HF_CLOSE_WRITE;
		if (!arg[1])
			return 0;
		f = as_file(arg[1]); /* the fput of close is deferred to task_work: still valid at sys_exit */
		plen = from_file(h, f);
		break;
	case S_RENAME:
		kind = HF_RENAME;
		plen = hf_upath(AT_FDCWD, arg[0], 0, 0);
		nlen = hf_upath(AT_FDCWD, arg[1], plen, 1);
		break;
	case S_RENAMEAT:
	case S_RENAMEAT2:
		kind = HF_RENAME;
		plen = hf_upath((int)arg[0], arg[1], 0, 0);
		nlen = hf_upath((int)arg[2], arg[3], plen, 1);
		h->ev.flags = sys == S_RENAMEAT2 ? arg[4] : 0;
		break;
	case S_UNLINK:
		kind = HF_UNLINK;
		plen = hf_upath(AT_FDCWD, arg[0], 0, 0);
		break;
	case S_UNLINKAT:
		kind = (arg[2] & AT_REMOVEDIR) ? HF_RMDIR : HF_UNLINK;
		h->ev.flags = arg[2];
		plen = hf_upath((int)arg[0], arg[1], 0, 0);
		break;
	case S_MKDIR:
		kind = HF_MKDIR;
		h->ev.mode = arg[1];
		plen = hf_upath(AT_FDCWD, arg[0], 0, 0);
		break;
	case S_MKDIRAT:
		kind = HF_MKDIR;
		h->ev.mode = arg[2];
		plen = hf_upath((int)arg[0], arg[1], 0, 0);
		break;
	case S_RMDIR:
		kind = HF_RMDIR;
		plen = hf_upath(AT_FDCWD, arg[0], 0, 0);
		break;
	case S_CHMOD:
		kind = HF_CHMOD;
		h->ev.mode = arg[1];
		plen = hf_upath(AT_FDCWD, arg[0], 0, 0);
		break;
	case S_FCHMODAT:
	case S_FCHMODAT2:
		kind = HF_CHMOD;
		h->ev.mode = arg[2];
		h->ev.flags = sys == S_FCHMODAT2 ? arg[3] : 0;
		plen = hf_upath((int)arg[0], arg[1], 0, 0);
		break;
	case S_FCHMOD:
		kind = HF_CHMOD;
		f = fd_file(arg[0]);
		if (!f)
			return 0;
		plen = from_file(h, f);
		h->ev.arg = arg[1]; /* requested mode; ev.mode is the inode's mode after the change */
		break;
	case S_CHOWN:
	case S_LCHOWN:
		kind = HF_CHOWN;
		h->ev.arg = (arg[1] << 32) | (arg[2] & 0xffffffff);
		plen = hf_upath(AT_FDCWD, arg[0], 0, 0);
		break;
	case S_FCHOWNAT:
		kind = HF_CHOWN;
		h->ev.arg = (arg[2] << 32) | (arg[3] & 0xffffffff);
		h->ev.flags = arg[4];
		plen = hf_upath((int)arg[0], arg[1], 0, 0);
		break;
	case S_FCHOWN:
		kind = HF_CHOWN;
		h->ev.arg = (arg[1] << 32) | (arg[2] & 0xffffffff);
		f = fd_file(arg[0]);
		if (!f)
			return 0;
		plen = from_file(h, f);
		break;
	case S_TRUNCATE:
		kind = HF_TRUNCATE;
		h->ev.arg = arg[1];
		plen = hf_upath(AT_FDCWD, arg[0], 0, 0);
		break;
	case S_FTRUNCATE:
		kind = HF_TRUNCATE;
		h->ev.arg = arg[1];
		f = fd_file(arg[0]);
		if (!f)
			return 0;
		plen = from_file(h, f);
		break;
	case S_LINK:
		kind = HF_LINK;
		plen = hf_upath(AT_FDCWD, arg[0], 0, 0);
		nlen = hf_upath(AT_FDCWD, arg[1], plen, 1);
		break;
	case S_LINKAT:
		kind = HF_LINK;
		h->ev.flags = arg[4];
		plen = hf_upath((int)arg[0], arg[1], 0, 0);
		nlen = hf_upath((int)arg[2], arg[3], plen, 1);
		break;
	case S_SYMLINK:
	case S_SYMLINKAT: {
		/* path: the link created; new_path: its body, verbatim (a symlink stores a string) */
		long n;

		kind = HF_SYMLINK;
		filter_new = 0;
		if (sys == S_SYMLINK)
			plen = hf_upath(AT_FDCWD, arg[1], 0, 0);
		else
			plen = hf_upath((int)arg[1], arg[2], 0, 0);
		n = bpf_probe_read_user_str(h->ustr, HF_PATH_MAX, (void *)arg[0]);
		if (n > 1) {
			nlen = (n - 1) & PMASK;
			bpf_probe_read_kernel(&h->data[plen & PMASK], nlen, h->ustr);
		} else {
			h->ev.evflags |= HF_EV_NEW_UNRESOLVED;
		}
		break;
	}
	default:
		return 0;
	}
	h->ev.kind = kind;
	h->ev.path_len = plen;
	h->ev.new_path_len = nlen;
	hf_submit(filter_new);
	return 0;
}

/* close (and dup2/dup3 onto an open fd, which close it implicitly): only fds with a MODIFY behind them matter;
 * remember which struct file is being closed, as the fd table forgets it before sys_exit. */
__noinline int hf_close_enter(__u64 fd)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct wkey wk = { .tgid = id >> 32, .fd = (__u32)fd };
	struct wval *wv = bpf_map_lookup_elem(&written, &wk);
	struct closing in = { .fd = fd };

	if (!wv)
		return 0;
	if (wv->filtered) { /* nothing to report for this file: forget it now, no exit work */
		bpf_map_delete_elem(&written, &wk);
		return 0;
	}
	count(HF_C_SEEN);
	in.file = (__u64)fd_file(fd);
	if (bpf_map_update_elem(&inflight, &id, &in, BPF_ANY))
		count(HF_C_STASH_FULL);
	return 0;
}

/* The syscall number -> enum hf_sys for the syscalls of interest, filled by the loader from the C library's
 * syscall numbers for this architecture (0 = not of interest). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HF_SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} sys_nr SEC(".maps");

/* The hf_sys code of a syscall number, or 0. */
static __always_inline __u32 syscall_code(long nr)
{
	__u32 k = (__u32)nr, *s = bpf_map_lookup_elem(&sys_nr, &k);

	return s ? *s : 0;
}

/* 32-bit (compat) syscalls of a 64-bit kernel are numbered differently (ia32 3 is read, not close): they are not
 * traced, as with the per-syscall tracepoints. */
static __always_inline int compat_syscall(void)
{
#if defined(__TARGET_ARCH_x86)
	return bpf_get_current_task_btf()->thread_info.status & 0x0002 /* TS_COMPAT */;
#else
	return 0;
#endif
}

#if defined(__TARGET_ARCH_x86)
#define SYSCALL_NR(regs) ((regs)->orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define SYSCALL_NR(regs) ((regs)->syscallno)
#else
#error "holdfast.bpf.c: SYSCALL_NR is not defined for this architecture"
#endif

/* Two programs for every syscall on the node instead of an enter and an exit tracepoint per syscall of interest:
 * a raw tracepoint skips the per-event record the syscall tracepoints build, and one array lookup dismisses
 * every other syscall. Only close/dup2/dup3 have work at entry. */
SEC("raw_tracepoint/sys_enter")
int hf_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 sys = syscall_code(ctx->args[1]);
	struct pt_regs *regs;

	if ((sys != S_CLOSE && sys != S_DUP2 && sys != S_DUP3) || compat_syscall())
		return 0;
	regs = bpf_rdonly_cast((void *)ctx->args[0], bpf_core_type_id_kernel(struct pt_regs));
	if (sys == S_CLOSE)
		return hf_close_enter(PT_REGS_PARM1_SYSCALL(regs));
	if (sys == S_DUP2) { /* dup2(fd, fd) closes nothing */
		__u64 newfd = PT_REGS_PARM2_SYSCALL(regs);

		return PT_REGS_PARM1_SYSCALL(regs) == newfd ? 0 : hf_close_enter(newfd);
	}
	return hf_close_enter(PT_REGS_PARM2_SYSCALL(regs)); /* dup3 */
}

/* Every syscall exit on the node comes here: the number is one typed load from the registers the tracepoint
 * passes, and one array lookup dismisses the syscalls of no interest. */
SEC("raw_tracepoint/sys_exit")
int hf_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct pt_regs *regs = bpf_rdonly_cast((void *)ctx->args[0], bpf_core_type_id_kernel(struct pt_regs));
	__u32 sys = syscall_code(SYSCALL_NR(regs));

	return sys && !compat_syscall() ? hf_exit(sys, ctx->args[1]) : 0;
}
