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
 * leading "./" is dropped).
 *
 * This file holds the programs and one handler per family of syscalls; probe/ holds the maps, path resolution,
 * filters and the record's emission. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "holdfast_event.h"
#include "probe/maps.h"
#include "probe/paths.h"
#include "probe/filters.h"
#include "probe/emit.h"

char LICENSE[] SEC("license") = "GPL";

#define AT_REMOVEDIR 0x200
#define FMODE_WRITE 0x2
#define FMODE_CREATED 0x100000 /* set by the VFS on the struct file when this open created the inode */
#define O_CREAT_ 0100
#define O_WRONLY_ 01
#define O_TRUNC_ 01000

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
	/* clang-format off */
	why = !is_reg(f) ? HF_C_FILT_NOTREG
	      : !(fmode & (FMODE_CREATED | FMODE_WRITE)) && !(c->flags & HF_CFG_EMIT_READS) ? HF_C_FILT_READONLY
	      : dir_cached(c, f);
	/* clang-format on */
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
	r = hf_submit_file(h, f);
	if (r > 0) {
		/* filtered: this fd's writes and close need no work (write_due, hf_close_enter) */
		bpf_map_update_elem(&written, &wk, &filtered, BPF_ANY);
		if ((r == HF_C_FILT_PREFIX_EXCLUDED || r == HF_C_FILT_NOT_INCLUDED) &&
		    !(h->ev.evflags & (HF_EV_PATH_TRUNCATED | HF_EV_PATH_UNRESOLVED)))
			dir_remember(c, f, r);
	}
	return 0;
}

/* Only the first write to a regular file through a given struct file becomes an event (one MODIFY per open file,
 * or one per modify_interval); repeats, and writes to files whose directory is known to be filtered, cost one
 * fd-table walk and one or two hash lookups. Returns 1 when a MODIFY is due. */
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
	/* the directory's verdict first: most writes on a node are to files nobody watches, and it is an array read */
	if ((why = dir_cached(c, f))) {
		count(why);
		return 0;
	}
	wv = bpf_map_lookup_elem(&written, &wk);
	if (wv && wv->file == (__u64)f &&
	    (wv->filtered || !c->modify_interval_ns || bpf_ktime_get_boot_ns() - wv->last_ns < c->modify_interval_ns)) {
		count(HF_C_WRITE_REPEAT);
		return 0;
	}
	count(HF_C_SEEN);
	return wanted(c, id);
}

/* write, pwrite64, writev, pwritev, pwritev2: a MODIFY when due; its verdict is remembered for the fd either way. */
static __always_inline int write_exit(struct hf_config *c, struct heap *h, struct task_struct *task,
				      struct pt_regs *regs, __u64 id, __u32 sys, long ret)
{
	__u64 fd = PT_REGS_PARM1_SYSCALL(regs);
	struct wkey wk = { .tgid = id >> 32, .fd = (__u32)fd };
	struct wval wv = {};
	struct file *f;

	if (ret == 0) /* nothing written */
		return 0;
	if (ret < 0) {
		count(HF_C_FILT_FAILED);
		return 0;
	}
	if (!write_due(c, id, fd))
		return 0;
	fill_common(h, task, id, sys, ret);
	wv.last_ns = bpf_ktime_get_boot_ns();
	f = fd_file(fd);
	if (!f)
		return 0;
	h->ev.kind = HF_MODIFY;
	wv.file = (__u64)f;
	if (hf_submit_file(h, f))
		wv.filtered = 1;
	bpf_map_update_elem(&written, &wk, &wv, BPF_ANY);
	return 0;
}

/* close, and dup2/dup3 over an open fd: a CLOSE_WRITE for a file whose MODIFY was emitted. The struct file comes
 * from sys_enter's stash (the fd table has forgotten it by now); its fput is deferred to task_work, so it is
 * still valid at sys_exit. The event says close whichever of the three it was. */
static __always_inline int close_exit(struct heap *h, struct task_struct *task, __u64 id, long ret)
{
	struct wkey wk = { .tgid = id >> 32 };
	struct closing *in;
	struct wval *wv;
	__u64 file, wfile;
	__u32 wfilt;

	if (!inflight_count) /* no close anywhere has stashed a file: nothing to look up */
		return 0;
	in = bpf_map_lookup_elem(&inflight, &id);
	if (!in)
		return 0;
	wk.fd = (__u32)in->fd;
	file = in->file;
	if (!bpf_map_delete_elem(&inflight, &id))
		__sync_fetch_and_add(&inflight_count, -1);
	wv = bpf_map_lookup_elem(&written, &wk);
	if (!wv)
		return 0;
	wfile = wv->file;
	wfilt = wv->filtered;
	bpf_map_delete_elem(&written, &wk);
	if (ret < 0) {
		count(HF_C_FILT_FAILED);
		return 0;
	}
	if (wfilt || wfile != file || !file)
		return 0;
	fill_common(h, task, id, S_CLOSE, ret);
	h->ev.kind = HF_CLOSE_WRITE;
	hf_submit_file(h, as_file(file));
	bpf_map_delete_elem(&fpath, &file); /* the fd's last event: its path leaves the cache */
	return 0;
}

/* Where a syscall's argument is in struct shape: its position, 1 to 5; 0 = the syscall has none. */
enum { A1 = 1, A2, A3, A4, A5 };

/* The arguments of a path or attribute syscall (everything but open, write and close): which of them holds what.
 * The path comes from an fd's struct file (fd) or from a user string (path) relative to a dirfd (dfd; none: the
 * cwd); new_path from a second such pair (rename, link) or a symlink's body, kept verbatim and not filtered. */
struct shape {
	__u8 kind; /* enum hf_kind */
	__u8 fd;   /* fchmod, fchown, ftruncate */
	__u8 dfd, path;
	__u8 dfd2, path2; /* new_path */
	__u8 body;        /* new_path: the symlink's body */
	__u8 flags;       /* -> ev.flags */
	__u8 mode;        /* -> ev.mode: the requested mode (else the inode's, for fd-based events) */
	__u8 arg;         /* -> ev.arg: truncate's length, fchmod's requested mode */
	__u8 owner;       /* -> ev.arg = uid << 32 | gid: this argument and the next */
};

/* clang-format off */
static const struct shape shapes[S__COUNT] = {
	[S_RENAME]    = { HF_RENAME, .path = A1, .path2 = A2 },
	[S_RENAMEAT]  = { HF_RENAME, .dfd = A1, .path = A2, .dfd2 = A3, .path2 = A4 },
	[S_RENAMEAT2] = { HF_RENAME, .dfd = A1, .path = A2, .dfd2 = A3, .path2 = A4, .flags = A5 },
	[S_UNLINK]    = { HF_UNLINK, .path = A1 },
	[S_UNLINKAT]  = { HF_UNLINK, .dfd = A1, .path = A2, .flags = A3 }, /* RMDIR with AT_REMOVEDIR */
	[S_MKDIR]     = { HF_MKDIR, .path = A1, .mode = A2 },
	[S_MKDIRAT]   = { HF_MKDIR, .dfd = A1, .path = A2, .mode = A3 },
	[S_RMDIR]     = { HF_RMDIR, .path = A1 },
	[S_CHMOD]     = { HF_CHMOD, .path = A1, .mode = A2 },
	[S_FCHMOD]    = { HF_CHMOD, .fd = A1, .arg = A2 },
	[S_FCHMODAT]  = { HF_CHMOD, .dfd = A1, .path = A2, .mode = A3 },
	[S_FCHMODAT2] = { HF_CHMOD, .dfd = A1, .path = A2, .mode = A3, .flags = A4 },
	[S_CHOWN]     = { HF_CHOWN, .path = A1, .owner = A2 },
	[S_LCHOWN]    = { HF_CHOWN, .path = A1, .owner = A2 },
	[S_FCHOWN]    = { HF_CHOWN, .fd = A1, .owner = A2 },
	[S_FCHOWNAT]  = { HF_CHOWN, .dfd = A1, .path = A2, .owner = A3, .flags = A5 },
	[S_TRUNCATE]  = { HF_TRUNCATE, .path = A1, .arg = A2 },
	[S_FTRUNCATE] = { HF_TRUNCATE, .fd = A1, .arg = A2 },
	[S_LINK]      = { HF_LINK, .path = A1, .path2 = A2 },
	[S_LINKAT]    = { HF_LINK, .dfd = A1, .path = A2, .dfd2 = A3, .path2 = A4, .flags = A5 },
	[S_SYMLINK]   = { HF_SYMLINK, .path = A2, .body = A1 },
	[S_SYMLINKAT] = { HF_SYMLINK, .dfd = A2, .path = A3, .body = A1 },
};
/* clang-format on */

static __always_inline __s64 dirfd(const __u64 *a, __u32 at)
{
	return at ? (int)a[at & 7] : AT_FDCWD;
}

/* A symlink's body (a string the kernel stores, not a path) as new_path at heap.data[off..]; returns its length. */
static __always_inline __u32 symlink_body(struct heap *h, __u64 uptr, __u32 off)
{
	long n = bpf_probe_read_user_str(h->ustr, HF_PATH_MAX, (void *)uptr);
	__u32 len;

	if (n <= 1) {
		h->ev.evflags |= HF_EV_NEW_UNRESOLVED;
		return 0;
	}
	len = (n - 1) & PMASK;
	bpf_probe_read_kernel(&h->data[off & PMASK], len, h->ustr);
	return len;
}

static __always_inline int moves_dir(__u32 sys, __u64 unlinkat_flags)
{
	return sys == S_RENAME || sys == S_RENAMEAT || sys == S_RENAMEAT2 || sys == S_RMDIR ||
	       (sys == S_UNLINKAT && (unlinkat_flags & AT_REMOVEDIR));
}

/* Every syscall of the shapes table, driven by it. */
static __always_inline int shaped_exit(struct hf_config *c, struct heap *h, struct task_struct *task,
				       struct pt_regs *regs, __u64 id, __u32 sys, long ret)
{
	const struct shape *s;
	__u64 a[8] = {}; /* a[A1..A5]; a[0] = 0 stands for an absent argument */
	__u32 plen, nlen = 0;

	if (sys >= S__COUNT || !shapes[sys].kind)
		return 0;
	s = &shapes[sys];
	a[A1] = PT_REGS_PARM1_SYSCALL(regs);
	a[A2] = PT_REGS_PARM2_SYSCALL(regs);
	a[A3] = PT_REGS_PARM3_SYSCALL(regs);
	a[A4] = PT_REGS_PARM4_SYSCALL(regs);
	a[A5] = PT_REGS_PARM5_SYSCALL(regs);
	if (ret == 0 && moves_dir(sys, a[A3])) /* unlinkat's flags */
		dir_cache_invalidate();
	count(HF_C_SEEN);
	if (!wanted(c, id))
		return 0;
	if (ret < 0) {
		count(HF_C_FILT_FAILED);
		return 0;
	}
	fill_common(h, task, id, sys, ret);
	if (s->fd) {
		struct file *f = fd_file(a[s->fd & 7]);

		if (!f)
			return 0;
		plen = from_file(h, f);
	} else {
		plen = hf_upath(dirfd(a, s->dfd), a[s->path & 7], 0, 0);
	}
	if (s->path2)
		nlen = hf_upath(dirfd(a, s->dfd2), a[s->path2 & 7], plen, 1);
	else if (s->body)
		nlen = symlink_body(h, a[s->body & 7], plen);
	h->ev.flags = a[s->flags & 7];
	if (s->mode)
		h->ev.mode = a[s->mode & 7];
	h->ev.arg = s->owner ? (a[s->owner & 7] << 32) | (a[(s->owner + 1) & 7] & 0xffffffff) : a[s->arg & 7];
	h->ev.kind = sys == S_UNLINKAT && (h->ev.flags & AT_REMOVEDIR) ? HF_RMDIR : s->kind;
	h->ev.path_len = plen;
	h->ev.new_path_len = nlen;
	hf_submit(!s->body);
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

	if (!h || !c)
		return 0;
	switch (sys) {
	case S_OPEN:
	case S_OPENAT:
	case S_OPENAT2:
	case S_CREAT:
		return open_exit(c, h, task, regs, id, sys, ret);
	case S_WRITE:
		return write_exit(c, h, task, regs, id, sys, ret);
	case S_CLOSE:
	case S_DUP2:
	case S_DUP3:
		return close_exit(h, task, id, ret);
	default:
		return shaped_exit(c, h, task, regs, id, sys, ret);
	}
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
	else
		__sync_fetch_and_add(&inflight_count, 1);
	return 0;
}

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
