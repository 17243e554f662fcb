/* SPDX-License-Identifier: GPL-2.0 */
/* In-kernel filters: the process (the shipper itself, excluded names), the path (include/exclude prefix tries,
 * basename and extension), and the per-directory cache of prefix verdicts that lets most opens skip the path walk.
 * Each returns 0 for "keep" or the enum hf_counter that says why the event is dropped. */
#ifndef HF_PROBE_FILTERS_H
#define HF_PROBE_FILTERS_H

#include "maps.h"

/* Process filter: the shipper itself and excluded process names are dropped before any path work. */
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

/* Remembers a prefix verdict for the directory holding f (valid for all of it: every prefix ends in '/'). */
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

/* A directory may have moved or gone, whoever did it: every cached verdict is stale. */
static __always_inline void dir_cache_invalidate(void)
{
	__u64 *gen = dir_gen_ptr();

	if (gen)
		__sync_fetch_and_add(gen, 1);
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

/* Path filter: 0 when the path at data[off..off+len) passes the prefix and name filters, else the counter to
 * bump. A path that could not be resolved to the root (partial: truncated/unresolved) skips the prefix filters:
 * its leading components are unknown, so it is emitted (flagged) rather than silently dropped. */
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
	if (!(c->flags & HF_CFG_NAMES)) /* no name filters (the default): no scan */
		return 0;
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

#endif
