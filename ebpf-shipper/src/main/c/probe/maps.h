/* SPDX-License-Identifier: GPL-2.0 */
/* Every map of the probe, and the per-CPU scratch record the programs build events in. The shim reaches the maps
 * through the skeleton by these names: the ring buffer (events), the counters, the config and the filter maps. */
#ifndef HF_PROBE_MAPS_H
#define HF_PROBE_MAPS_H

#include "holdfast_event.h"

#define MAX_DEPTH 64            /* dentry components + mount crossings per path */
#define PMASK (HF_PATH_MAX - 1) /* 4095 */
#define DMASK 8191              /* offsets into heap.data */
/* x & m that the compiler cannot drop after a range check (the verifier needs to see the mask). */
/* clang-format off */
#define BOUND(x, m) ({ __u64 __v = (x); asm volatile("" : "+r"(__v)); __v & (m); })
/* clang-format on */

/* The resolved path of an open file whose events pass the filters, so that its MODIFY and CLOSE_WRITE copy it
 * instead of walking the dentries and filtering again (keyed by struct file in the fpath map). Trusted only while
 * the struct file still holds the same (dentry, vfsmount), a struct file's address can be reused, and while dir_gen
 * has not moved: any rename, rmdir or filter update may have changed the path or its verdict. */
#define HF_FPATH_MAX 256 /* longer paths are walked every time */

struct fpath {
	__u64 gen;
	__u64 dentry;
	__u64 mnt;
	__u32 len;
	__u32 _pad;
	char path[HF_FPATH_MAX];
};

/* Per-CPU scratch: the record under construction (header + data contiguous) and work buffers. The loops'
 * state lives here rather than on the stack so that the verifier sees one converging state per bpf_loop
 * callback instead of one per iteration and branch. */
struct heap {
	struct hf_event ev;
	char data[12288]; /* path at 0, new_path right after it; writes bounded by DMASK + PMASK */
	char tmp[HF_PATH_MAX + 256];
	char ustr[HF_PATH_MAX + 16];
	struct hf_lpm_key key;
	struct hf_name_key nkey;
	__u64 w_d, w_vm, w_mnt; /* path walk state (walk_step) */
	__u64 scratch;          /* ptr_val */
	__u32 w_pos, w_fl, w_done;
	__u32 s_off, s_len, s_blen, s_elen; /* basename / extension scan state (name_step) */
	struct fpath fp;                    /* an fpath entry under construction */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct heap);
} heap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* overridden by the shim (bpf_map__set_max_entries) before load */
} events SEC(".maps");

/* enum hf_counter, per CPU; the shim sums them. */
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

/* The syscall number -> enum hf_sys for the syscalls of interest, filled by the loader from the C library's
 * syscall numbers for this architecture (0 = not of interest). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HF_SYSCALL_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} sys_nr SEC(".maps");

/* What a close's sys_enter leaves for its sys_exit (per thread, in the inflight map). */
struct closing {
	__u64 fd;
	__u64 file; /* the struct file the fd held */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64); /* pid_tgid */
	__type(value, struct closing);
} inflight SEC(".maps");

/* Entries in inflight, or more (an entry replaced in place, or left by a task that died inside close, is counted
 * until it is found): while it is 0, which it is at nearly every close on a node, sys_exit skips the lookup. Never
 * fewer, as a close's exit decrements only for the entry it removed, which its own entry counted. */
__u64 inflight_count = 0;

/* Per (process, fd): the open file a MODIFY was emitted for, or that the filters rejected at its open or first
 * write. Later writes to it are folded; only an emitted one's close becomes a CLOSE_WRITE. */
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

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096); /* open files written at once; an evicted one is walked again */
	__type(key, __u64);        /* struct file * */
	__type(value, struct fpath);
} fpath SEC(".maps");

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

/* Filters, set by the shim. Prefixes: value = prefix length in bytes (to let the longer of an include and an
 * exclude match win). */
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

/* excluded process names (comm, NUL padded) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, char[HF_COMM_LEN]);
	__type(value, __u32);
} comm_filter SEC(".maps");

static __always_inline struct heap *heap_get(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&heap, &zero);
}

static __always_inline struct hf_config *cfg(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&hf_cfg, &zero);
}

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);
	if (v)
		*v += 1;
}

static __always_inline __u64 *dir_gen_ptr(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&dir_gen, &zero);
}

#endif
