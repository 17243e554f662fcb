/* SPDX-License-Identifier: GPL-2.0 */
/* The record: its process context, then the path filters and the ring buffer. */
#ifndef HF_PROBE_EMIT_H
#define HF_PROBE_EMIT_H

#include "maps.h"
#include "paths.h"
#include "filters.h"

/* Starts heap.ev for this syscall: everything but the kind, the paths and the syscall-specific fields. */
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

/* Emits heap.ev with its path bytes, filtered already. Returns 0, or -1 when the ring buffer was full. */
static __always_inline int hf_emit(struct heap *h)
{
	__u32 total = ((h->ev.path_len & PMASK) + (h->ev.new_path_len & PMASK)) & DMASK;
	__u64 size = HF_EVENT_HDR + total, waiting = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);

	/* No wakeup per event: the reader looks every HF_POLL_SLICE_MS, and is woken once, by the record that takes
	 * the backlog past HF_WAKEUP_BYTES. Every wakeup is an interrupt the CPU sends itself (irq_work), a trap to
	 * the hypervisor on a virtual machine: sent for every record beyond the mark, they had cost the traced
	 * syscalls more than anything else the probe does. */
	if (bpf_ringbuf_output(&events, &h->ev, size,
			       waiting < HF_WAKEUP_BYTES && waiting + size >= HF_WAKEUP_BYTES ? BPF_RB_FORCE_WAKEUP
											      : BPF_RB_NO_WAKEUP)) {
		count(HF_C_DROPPED);
		return -1;
	}
	count(HF_C_EMITTED);
	return 0;
}

/* Filters, then emits heap.ev with its path bytes. filter_new: new_path is a path (not a symlink body).
 * Returns 0 when emitted, the filter's counter when filtered, -1 when the ring buffer was full. */
__noinline int hf_submit(__u32 filter_new)
{
	struct heap *h = heap_get();
	__u32 plen, nlen, why, why_new = 1;

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
	return hf_emit(h);
}

/* An fd event's record, completed with f's path and emitted: a path its open or first write resolved is copied
 * from the fpath cache, where it was kept only after passing the filters, so it is neither walked nor filtered
 * again; any other is walked and filtered, and kept when it passes. Returns as hf_submit. */
static __always_inline int hf_submit_file(struct heap *h, struct file *f)
{
	int len = fpath_get(h, f), r;
	__u64 gen;

	if (len >= 0) {
		h->ev.path_len = len;
		return hf_emit(h);
	}
	gen = fpath_gen();
	h->ev.path_len = from_file(h, f);
	r = hf_submit(1);
	if (!r)
		fpath_keep(h, f, h->ev.path_len, gen);
	return r;
}

#endif
