/* SPDX-License-Identifier: GPL-2.0 */
/* Absolute paths from kernel objects: the struct file behind an fd, a (dentry, vfsmount) walked up to the root of
 * the mount namespace, and a syscall's user string joined to its dirfd's path. Paths are built in heap.data. */
#ifndef HF_PROBE_PATHS_H
#define HF_PROBE_PATHS_H

#include "maps.h"

#define AT_FDCWD -100
#define S_IFMT 00170000
#define S_IFREG 0100000

/* Reads through BTF-typed pointers are plain loads (the verifier guards them with an exception table), a
 * bpf_probe_read_kernel helper call each otherwise: on the hot paths (every open, write and close on the node)
 * the task comes from bpf_get_current_task_btf, the syscall registers from bpf_task_pt_regs, and a struct file
 * read out of the fd table is given its type back with bpf_rdonly_cast. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

static __always_inline struct file *as_file(__u64 p)
{
	return bpf_rdonly_cast((void *)p, bpf_core_type_id_kernel(struct file));
}

/* A typed kernel pointer as a plain number: global functions take scalars only, and a value read back from
 * memory is one. */
static __always_inline __u64 ptr_val(struct heap *h, const void *p)
{
	*(volatile __u64 *)&h->scratch = (__u64)p;
	return *(volatile __u64 *)&h->scratch;
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

static __always_inline int is_reg(struct file *f)
{
	return (f->f_inode->i_mode & S_IFMT) == S_IFREG;
}

/* The kernel's dev_t (major << 20 | minor) as user space's st_dev (new_encode_dev). */
static __always_inline __u32 encode_dev(__u32 kdev)
{
	__u32 major = kdev >> 20, minor = kdev & 0xfffff;
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

/* One step of the walk: prepends the name of heap.w_d to heap.tmp, or crosses to the mountpoint in the parent
 * mount; returns 1 (stop) at the root of the mount namespace or when the path cannot be completed. */
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
 * (struct mount via container_of of the vfsmount), until the root of the mount namespace. A plain bounded
 * loop exceeded the verifier's instruction budget: bpf_loop, at most MAX_DEPTH steps. second: the flags
 * go to new_path's bits. */
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

/* Path of a user string relative to dirfd (AT_FDCWD: the cwd), at heap.data[off..]; returns length. The string
 * is read at sys_exit, after the kernel used it; leading "./" is dropped, the rest is kept verbatim. */
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

/* Fills inode, dev and mode from a struct file, and says the path comes from it. */
static __always_inline void file_ids(struct heap *h, struct file *f)
{
	struct inode *ino = f->f_inode;

	h->ev.inode = ino->i_ino;
	h->ev.dev = encode_dev(ino->i_sb->s_dev);
	h->ev.mode = ino->i_mode;
	h->ev.evflags |= HF_EV_FROM_FD;
}

/* Fills inode, dev, mode and the path (at heap.data[0..]) from a struct file. Returns the path length. */
static __always_inline __u32 from_file(struct heap *h, struct file *f)
{
	file_ids(h, f);
	return hf_path(ptr_val(h, f->f_path.dentry), ptr_val(h, f->f_path.mnt), 0, 0);
}

/* The directory cache's generation now, read before a walk: a path walked under it is as current as it is. */
static __always_inline __u64 fpath_gen(void)
{
	__u64 *gen = dir_gen_ptr();

	return gen ? *gen : 0;
}

/* Like from_file, from the fpath cache (struct fpath says when an entry is trusted); -1 when there is none. */
static __always_inline int fpath_get(struct heap *h, struct file *f)
{
	__u64 key = ptr_val(h, f);
	struct fpath *v = bpf_map_lookup_elem(&fpath, &key);

	if (!v || v->gen != fpath_gen() || v->dentry != ptr_val(h, f->f_path.dentry) ||
	    v->mnt != ptr_val(h, f->f_path.mnt))
		return -1;
	__builtin_memcpy(h->data, v->path, HF_FPATH_MAX);
	file_ids(h, f);
	return v->len & (HF_FPATH_MAX - 1);
}

/* Caches the path at heap.data[0..len) of f, walked under generation gen, when it is complete and short enough. */
static __always_inline void fpath_keep(struct heap *h, struct file *f, __u32 len, __u64 gen)
{
	__u64 key = ptr_val(h, f);

	if (len >= HF_FPATH_MAX || (h->ev.evflags & (HF_EV_PATH_TRUNCATED | HF_EV_PATH_UNRESOLVED)))
		return;
	h->fp.gen = gen;
	h->fp.dentry = ptr_val(h, f->f_path.dentry);
	h->fp.mnt = ptr_val(h, f->f_path.mnt);
	h->fp.len = len;
	__builtin_memcpy(h->fp.path, h->data, HF_FPATH_MAX);
	bpf_map_update_elem(&fpath, &key, &h->fp, BPF_ANY);
}

#endif
