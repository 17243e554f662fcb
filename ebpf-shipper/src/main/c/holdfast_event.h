/* Shared between the probe (holdfast.bpf.c, probe/), the JNI library (holdfast_jni.c, ring.c) and, by offsets,
 * KernelEvent.java. Any change here must be mirrored in KernelEvent.java; LayoutTest cross-checks the offsets that
 * the native library reports (NativeProbe.layout, in holdfast_jni.c) against the Java decoder. */
#ifndef HOLDFAST_EVENT_H
#define HOLDFAST_EVENT_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define HF_PATH_MAX 4096  /* per path, including room for the terminating byte (not shipped) */
#define HF_PREFIX_MAX 256 /* LPM-trie key bytes: a filter prefix is at most this long */
#define HF_NAME_MAX 32    /* basename / extension filter key bytes (NUL padded) */
#define HF_COMM_LEN 16
#define HF_WAKEUP_BYTES (64 << 10) /* the probe wakes the reader once this much is waiting ... */
#define HF_POLL_SLICE_MS 5         /* ... and the reader also looks this often */

/* Syscalls of interest (hf_event.syscall), architecture-independent: the loader maps this architecture's syscall
 * numbers to them (sys_nr map); write covers write, pwrite64, writev, pwritev and pwritev2. KernelEvent.SYSCALLS
 * names them in this order (LayoutTest checks). The probe reads the arguments of each code from S_RENAME on by its
 * entry in the shapes table (holdfast.bpf.c). */
/* clang-format off */
enum hf_sys {
	S_OPEN = 1, S_OPENAT, S_OPENAT2, S_CREAT, S_WRITE, S_CLOSE, S_DUP2, S_DUP3,
	S_RENAME, S_RENAMEAT, S_RENAMEAT2, S_UNLINK, S_UNLINKAT, S_MKDIR, S_MKDIRAT, S_RMDIR,
	S_CHMOD, S_FCHMOD, S_FCHMODAT, S_FCHMODAT2, S_CHOWN, S_LCHOWN, S_FCHOWN, S_FCHOWNAT,
	S_TRUNCATE, S_FTRUNCATE, S_LINK, S_LINKAT, S_SYMLINK, S_SYMLINKAT,
	S__COUNT,
};
/* clang-format on */
#define HF_SYSCALL_SLOTS 1024 /* syscall numbers below this are looked up (x86_64 and arm64 use < 512) */

/* Event kinds: numerically identical to holdfast.v1.FileEvent.Kind. */
enum hf_kind {
	HF_CREATE = 1,
	HF_OPEN = 2,
	HF_MODIFY = 3,
	HF_CLOSE_WRITE = 4,
	HF_RENAME = 5,
	HF_UNLINK = 6,
	HF_CHMOD = 7,
	HF_CHOWN = 8,
	HF_MKDIR = 9,
	HF_RMDIR = 10,
	HF_TRUNCATE = 11,
	HF_LINK = 12,
	HF_SYMLINK = 13,
};

/* hf_event.evflags */
#define HF_EV_PATH_TRUNCATED 0x1  /* path longer than HF_PATH_MAX-1 or deeper than the walk bound */
#define HF_EV_PATH_UNRESOLVED 0x2 /* path not resolved from kernel objects (missing fd, detached mount, fault) */
#define HF_EV_NEW_TRUNCATED 0x4   /* same for new_path */
#define HF_EV_NEW_UNRESOLVED 0x8
#define HF_EV_FROM_FD 0x10   /* path resolved from the struct file of an fd (inode/dev/mode valid) */
#define HF_EV_USER_PATH 0x20 /* final components come from the syscall's user string (not canonicalised) */

/* Counter indexes (per-CPU array, summed by the shim). */
enum hf_counter {
	HF_C_SEEN = 0,      /* syscalls of interest past the cheap checks (file type, read-only, cached directory) */
	HF_C_FILT_SELF,     /* the shipper's own process */
	HF_C_FILT_COMM,     /* excluded process name */
	HF_C_FILT_FAILED,   /* syscall returned an error */
	HF_C_FILT_READONLY, /* open for read only (emit_reads off) */
	HF_C_FILT_NOTREG,   /* open/write/close of something that is not a regular file */
	HF_C_FILT_PREFIX_EXCLUDED, /* path under an exclude prefix */
	HF_C_FILT_NOT_INCLUDED,    /* include prefixes configured, path under none */
	HF_C_FILT_NAME_EXCLUDED,   /* basename or extension excluded */
	HF_C_FILT_NAME_NOT_INCLUDED,
	HF_C_EMITTED,
	HF_C_DROPPED,      /* ring buffer full: bpf_ringbuf_output failed */
	HF_C_STASH_FULL,   /* in-flight close table full: a CLOSE_WRITE lost */
	HF_C_WRITE_REPEAT, /* writes folded into an earlier MODIFY (not an event) */
	HF_C__COUNT,
};
#define HF_C_SLOTS 16

/* Config (array map, one element) */
#define HF_CFG_EMIT_READS 0x1
#define HF_CFG_FILTER_SELF 0x2
#define HF_CFG_DIR_CACHE 0x4 /* every prefix ends in '/': a prefix verdict holds for a whole directory */
#define HF_CFG_NAMES 0x8     /* name_filter has entries: paths' basenames and extensions are looked up */

struct hf_config {
	__u32 self_tgid;
	__u32 flags;
	__u32 include_prefixes;   /* number of entries in include_prefix; 0 = everything included */
	__u32 include_names;      /* number of include entries in name_filter */
	__u64 modify_interval_ns; /* 0 = one MODIFY per open file; else at most one per interval per fd */
};

/* One record in the ring buffer: this fixed header, then path_len bytes of path, then new_path_len
 * bytes of new_path (no terminators). Little endian on x86/arm64. */
struct hf_event {
	__u64 ts_boot_ns;       /*  0: bpf_ktime_get_boot_ns at syscall exit */
	__u64 cgroup_id;        /*  8 */
	__u64 inode;            /* 16: valid with HF_EV_FROM_FD */
	__u64 dev;              /* 24: st_dev encoding (major << 8 | minor, new_encode_dev) */
	__s64 ret;              /* 32: syscall return value */
	__u64 arg;              /* 40: kind-specific: TRUNCATE new length, CHOWN (uid << 32 | gid), RENAME flags */
	__u32 pid;              /* 48: tgid */
	__u32 tid;              /* 52 */
	__u32 ppid;             /* 56 */
	__u32 uid;              /* 60 */
	__u32 gid;              /* 64 */
	__u32 mode;             /* 68: i_mode with HF_EV_FROM_FD; else mode argument (mkdir, chmod, creat) */
	__u32 flags;            /* 72: open flags; unlinkat/linkat/fchownat/renameat2 flags */
	__u32 kind;             /* 76: enum hf_kind */
	__u32 evflags;          /* 80: HF_EV_* */
	__u32 syscall;          /* 84: syscall number (diagnostics) */
	__u16 path_len;         /* 88 */
	__u16 new_path_len;     /* 90 */
	char comm[HF_COMM_LEN]; /* 92 */
	__u32 _pad;             /* 108 */

	/* 112: path bytes, then new_path bytes */
};

#define HF_EVENT_HDR 112

struct hf_lpm_key {
	__u32 prefixlen; /* in bits */
	__u8 data[HF_PREFIX_MAX];
};

struct hf_name_key {
	char name[HF_NAME_MAX];
};
#define HF_NAME_EXCLUDE 1
#define HF_NAME_INCLUDE 2

#endif
