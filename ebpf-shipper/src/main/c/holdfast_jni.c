/* JNI bindings of dev.holdfast.shipper.ebpf.NativeProbe: load/attach the embedded BPF skeleton, update the
 * filter maps, drain the ring buffer (ring.c) into a direct ByteBuffer (one JNI crossing per batch), read the
 * counters, detach and free. Errors surface as EbpfUnavailableException with one line of text. */
#define _GNU_SOURCE
#include <errno.h>
#include <jni.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "holdfast_event.h"
#include "holdfast.skel.h"
#include "ring.h"

_Static_assert(sizeof(struct hf_event) == HF_EVENT_HDR, "hf_event header size");
_Static_assert(HF_C__COUNT <= HF_C_SLOTS, "counter slots");

#define EXC "dev/holdfast/shipper/ebpf/EbpfUnavailableException"

struct hf {
	struct holdfast_bpf *skel;
	struct hf_ring ring;
	int ring_open;
	struct bpf_link **links;
	int nlinks;
};

static __thread char last_log[512];

static int on_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];

	if (level == LIBBPF_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = 0;
	/* libbpf's warnings, joined on one line (the first ones name the map or program that failed) */
	if (strlen(last_log) + strlen(line) + 4 < sizeof(last_log)) {
		if (last_log[0])
			strcat(last_log, " | ");
		strcat(last_log, line);
	}
	return 0;
}

static void throw_unavailable(JNIEnv *env, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	jclass c;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (char *p = msg; *p; p++)
		if (*p == '\n')
			*p = ' ';
	c = (*env)->FindClass(env, EXC);
	if (c)
		(*env)->ThrowNew(env, c, msg);
}

static const char *perm_hint(int err)
{
	if (err == EPERM || err == EACCES)
		return " (needs root, or CAP_BPF + CAP_PERFMON; a lockdown or a kernel policy may refuse the program type)";
	return "";
}

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* Linux 6.6; the same number on every architecture */
#endif

/* This architecture's syscall numbers (from the C library) -> the probe's enum hf_sys. Legacy calls that an
 * architecture does not have (arm64 has no open, rename, unlink...) are simply absent. */
static int map_syscalls(struct holdfast_bpf *skel)
{
	/* clang-format off */
	static const struct { long nr; __u32 sys; } table[] = {
#ifdef SYS_open
		{ SYS_open, S_OPEN }, { SYS_creat, S_CREAT }, { SYS_rename, S_RENAME }, { SYS_unlink, S_UNLINK },
		{ SYS_mkdir, S_MKDIR }, { SYS_rmdir, S_RMDIR }, { SYS_chmod, S_CHMOD }, { SYS_chown, S_CHOWN },
		{ SYS_lchown, S_LCHOWN }, { SYS_link, S_LINK }, { SYS_symlink, S_SYMLINK }, { SYS_dup2, S_DUP2 },
#endif
		{ SYS_openat, S_OPENAT }, { SYS_openat2, S_OPENAT2 }, { SYS_write, S_WRITE }, { SYS_pwrite64, S_WRITE },
		{ SYS_writev, S_WRITE }, { SYS_pwritev, S_WRITE }, { SYS_pwritev2, S_WRITE }, { SYS_close, S_CLOSE },
		{ SYS_dup3, S_DUP3 }, { SYS_renameat, S_RENAMEAT }, { SYS_renameat2, S_RENAMEAT2 },
		{ SYS_unlinkat, S_UNLINKAT }, { SYS_mkdirat, S_MKDIRAT }, { SYS_fchmod, S_FCHMOD },
		{ SYS_fchmodat, S_FCHMODAT }, { SYS_fchmodat2, S_FCHMODAT2 }, { SYS_fchown, S_FCHOWN },
		{ SYS_fchownat, S_FCHOWNAT }, { SYS_truncate, S_TRUNCATE }, { SYS_ftruncate, S_FTRUNCATE },
		{ SYS_linkat, S_LINKAT }, { SYS_symlinkat, S_SYMLINKAT },
	};
	/* clang-format on */
	int fd = bpf_map__fd(skel->maps.sys_nr);

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		__u32 k = (__u32)table[i].nr;

		if (table[i].nr < 0 || table[i].nr >= HF_SYSCALL_SLOTS)
			return ERANGE;
		if (bpf_map_update_elem(fd, &k, &table[i].sys, BPF_ANY))
			return errno;
	}
	return 0;
}

JNIEXPORT jlong JNICALL Java_dev_holdfast_shipper_ebpf_NativeProbe_load(JNIEnv *env, jclass cls, jint ring_bytes)
{
	struct hf *h;
	int err;

	last_log[0] = 0;
	libbpf_set_print(on_libbpf_print);
	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		throw_unavailable(env, "eBPF unavailable: kernel BTF /sys/kernel/btf/vmlinux is missing (kernel built "
				       "without CONFIG_DEBUG_INFO_BTF), CO-RE programs cannot be relocated");
		return 0;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		throw_unavailable(env, "eBPF unavailable: out of memory");
		return 0;
	}
	h->skel = holdfast_bpf__open();
	if (!h->skel) {
		err = errno;
		throw_unavailable(env, "eBPF unavailable: opening the embedded BPF object failed: %s (errno %d); %s",
				  strerror(err), err, last_log);
		free(h);
		return 0;
	}
	err = bpf_map__set_max_entries(h->skel->maps.events, (unsigned)ring_bytes);
	if (err) {
		throw_unavailable(env, "eBPF unavailable: ring buffer size %d refused: %s", ring_bytes, strerror(-err));
		goto fail;
	}
	err = holdfast_bpf__load(h->skel);
	if (err) {
		err = -err;
		throw_unavailable(env, "eBPF unavailable: loading the BPF programs failed: %s (errno %d)%s; %s",
				  strerror(err), err, perm_hint(err), last_log[0] ? last_log : "no libbpf detail");
		goto fail;
	}
	err = map_syscalls(h->skel);
	if (err) {
		throw_unavailable(env, "eBPF unavailable: filling the syscall map failed: %s (errno %d)", strerror(err),
				  err);
		goto fail;
	}
	return (jlong)(uintptr_t)h;
fail:
	holdfast_bpf__destroy(h->skel);
	free(h);
	return 0;
}

JNIEXPORT void JNICALL Java_dev_holdfast_shipper_ebpf_NativeProbe_attach(JNIEnv *env, jclass cls, jlong hp)
{
	struct hf *h = (struct hf *)(uintptr_t)hp;
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, h->skel->obj)
		n++;
	h->links = calloc(n, sizeof(*h->links));
	if (!h->links) {
		throw_unavailable(env, "eBPF unavailable: out of memory");
		return;
	}
	last_log[0] = 0;
	bpf_object__for_each_program(prog, h->skel->obj) {
		struct bpf_link *l;

		if (!bpf_program__autoload(prog))
			continue;
		l = bpf_program__attach(prog);
		if (!l) {
			int err = errno;

			throw_unavailable(env, "eBPF unavailable: attaching %s (%s) failed: %s (errno %d)%s; %s",
					  bpf_program__name(prog), bpf_program__section_name(prog), strerror(err), err,
					  perm_hint(err), last_log);
			for (int i = 0; i < h->nlinks; i++)
				bpf_link__destroy(h->links[i]);
			h->nlinks = 0;
			return;
		}
		h->links[h->nlinks++] = l;
	}
	if (!h->ring_open) {
		int err = -ring_open(&h->ring, bpf_map__fd(h->skel->maps.events),
				     bpf_map__max_entries(h->skel->maps.events));

		if (err)
			throw_unavailable(env, "eBPF unavailable: mapping the ring buffer failed: %s (errno %d)",
					  strerror(err), err);
		else
			h->ring_open = 1;
	}
}

/* Copies whole records into buf[0..cap) as [u32 len][len bytes]...; returns (count << 32) | bytes used.
 * timeout_ms > 0 waits (epoll) for the first record when none is ready; 0 never blocks. */
JNIEXPORT jlong JNICALL Java_dev_holdfast_shipper_ebpf_NativeProbe_drain(JNIEnv *env, jclass cls, jlong hp, jobject buf,
									 jint cap, jint timeout_ms)
{
	struct hf *h = (struct hf *)(uintptr_t)hp;
	unsigned char *out = (*env)->GetDirectBufferAddress(env, buf);
	size_t used = 0;
	int count = 0, err;

	if (!out || !h->ring_open) {
		throw_unavailable(env, "drain needs a direct ByteBuffer and an attached probe");
		return 0;
	}
	err = ring_drain(&h->ring, out, (size_t)cap, timeout_ms, &used, &count);
	if (err) {
		throw_unavailable(env, "ring buffer wait failed: %s", strerror(-err));
		return 0;
	}
	return ((jlong)count << 32) | (jlong)used;
}

JNIEXPORT void JNICALL Java_dev_holdfast_shipper_ebpf_NativeProbe_counters(JNIEnv *env, jclass cls, jlong hp,
									   jlongArray outArr)
{
	struct hf *h = (struct hf *)(uintptr_t)hp;
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(h->skel->maps.counters);
	jlong sums[HF_C_SLOTS] = { 0 };
	__u64 *vals;

	if (ncpu <= 0)
		return;
	vals = calloc(ncpu, sizeof(__u64));
	if (!vals)
		return;
	for (__u32 i = 0; i < HF_C_SLOTS; i++) {
		if (bpf_map_lookup_elem(fd, &i, vals) == 0)
			for (int c = 0; c < ncpu; c++)
				sums[i] += vals[c];
	}
	free(vals);
	(*env)->SetLongArrayRegion(env, outArr, 0, HF_C_SLOTS, sums);
}

static void throw_errno(JNIEnv *env, const char *what, int err)
{
	jclass c = (*env)->FindClass(env, "java/lang/IllegalStateException");
	char msg[256];

	snprintf(msg, sizeof(msg), "%s: %s (errno %d)", what, strerror(err), err);
	if (c)
		(*env)->ThrowNew(env, c, msg);
}

JNIEXPORT void JNICALL Java_dev_holdfast_shipper_ebpf_NativeProbe_config(JNIEnv *env, jclass cls, jlong hp,
									 jint self_tgid, jint flags,
									 jint include_prefixes, jint include_names,
									 jlong interval_ns)
{
	struct hf *h = (struct hf *)(uintptr_t)hp;
	struct hf_config c = { .self_tgid = self_tgid,
			       .flags = flags,
			       .include_prefixes = include_prefixes,
			       .include_names = include_names,
			       .modify_interval_ns = interval_ns };
	__u32 zero = 0;

	__u64 gen = 0;
	int gfd = bpf_map__fd(h->skel->maps.dir_gen);

	if (bpf_map_update_elem(bpf_map__fd(h->skel->maps.hf_cfg), &zero, &c, BPF_ANY))
		throw_errno(env, "updating config", errno);
	/* filters changed: every cached directory verdict is stale */
	if (bpf_map_lookup_elem(gfd, &zero, &gen) || (gen++, bpf_map_update_elem(gfd, &zero, &gen, BPF_ANY)))
		throw_errno(env, "updating directory cache generation", errno);
}

/* exclude: which trie; add: insert (value = prefix length in bytes) or delete. */
JNIEXPORT void JNICALL Java_dev_holdfast_shipper_ebpf_NativeProbe_prefix(JNIEnv *env, jclass cls, jlong hp,
									 jboolean exclude, jbyteArray prefix,
									 jboolean add)
{
	struct hf *h = (struct hf *)(uintptr_t)hp;
	struct hf_lpm_key k;
	jsize n = (*env)->GetArrayLength(env, prefix);
	__u32 v = n;
	int fd = bpf_map__fd(exclude ? h->skel->maps.exclude_prefix : h->skel->maps.include_prefix);
	int err;

	if (n <= 0 || n > HF_PREFIX_MAX) {
		throw_errno(env, "prefix length out of range", EINVAL);
		return;
	}
	memset(&k, 0, sizeof(k));
	k.prefixlen = n * 8;
	(*env)->GetByteArrayRegion(env, prefix, 0, n, (jbyte *)k.data);
	err = add ? bpf_map_update_elem(fd, &k, &v, BPF_ANY) : bpf_map_delete_elem(fd, &k);
	if (err && !(!add && errno == ENOENT))
		throw_errno(env, add ? "adding prefix" : "removing prefix", errno);
}

/* action: HF_NAME_EXCLUDE, HF_NAME_INCLUDE, or 0 to remove. */
JNIEXPORT void JNICALL Java_dev_holdfast_shipper_ebpf_NativeProbe_name(JNIEnv *env, jclass cls, jlong hp,
								       jbyteArray name, jint action)
{
	struct hf *h = (struct hf *)(uintptr_t)hp;
	struct hf_name_key k;
	jsize n = (*env)->GetArrayLength(env, name);
	__u32 v = action;
	int fd = bpf_map__fd(h->skel->maps.name_filter);
	int err;

	if (n <= 0 || n >= HF_NAME_MAX) {
		throw_errno(env, "name length out of range", EINVAL);
		return;
	}
	memset(&k, 0, sizeof(k));
	(*env)->GetByteArrayRegion(env, name, 0, n, (jbyte *)k.name);
	err = action ? bpf_map_update_elem(fd, &k, &v, BPF_ANY) : bpf_map_delete_elem(fd, &k);
	if (err && !(!action && errno == ENOENT))
		throw_errno(env, action ? "adding name filter" : "removing name filter", errno);
}

JNIEXPORT void JNICALL Java_dev_holdfast_shipper_ebpf_NativeProbe_comm(JNIEnv *env, jclass cls, jlong hp,
								       jbyteArray comm, jboolean add)
{
	struct hf *h = (struct hf *)(uintptr_t)hp;
	char k[HF_COMM_LEN];
	jsize n = (*env)->GetArrayLength(env, comm);
	__u32 v = 1;
	int fd = bpf_map__fd(h->skel->maps.comm_filter);
	int err;

	if (n <= 0 || n >= HF_COMM_LEN) {
		throw_errno(env, "process name length out of range (1..15 bytes)", EINVAL);
		return;
	}
	memset(k, 0, sizeof(k));
	(*env)->GetByteArrayRegion(env, comm, 0, n, (jbyte *)k);
	err = add ? bpf_map_update_elem(fd, k, &v, BPF_ANY) : bpf_map_delete_elem(fd, k);
	if (err && !(!add && errno == ENOENT))
		throw_errno(env, add ? "adding process name" : "removing process name", errno);
}

JNIEXPORT void JNICALL Java_dev_holdfast_shipper_ebpf_NativeProbe_close(JNIEnv *env, jclass cls, jlong hp)
{
	struct hf *h = (struct hf *)(uintptr_t)hp;

	if (!h)
		return;
	for (int i = 0; i < h->nlinks; i++)
		bpf_link__destroy(h->links[i]);
	free(h->links);
	if (h->ring_open)
		ring_close(&h->ring);
	holdfast_bpf__destroy(h->skel);
	free(h);
}

/* CLOCK_REALTIME - CLOCK_BOOTTIME in ns: adds to hf_event.ts_boot_ns to give wall-clock time. */
JNIEXPORT jlong JNICALL Java_dev_holdfast_shipper_ebpf_NativeProbe_bootToRealtimeOffsetNanos(JNIEnv *env, jclass cls)
{
	struct timespec r, b;

	clock_gettime(CLOCK_REALTIME, &r);
	clock_gettime(CLOCK_BOOTTIME, &b);
	return ((jlong)r.tv_sec - b.tv_sec) * 1000000000LL + ((jlong)r.tv_nsec - b.tv_nsec);
}

/* Layout of struct hf_event and the constants, for the Java decoder's cross-check (LayoutTest). */
JNIEXPORT jintArray JNICALL Java_dev_holdfast_shipper_ebpf_NativeProbe_layout(JNIEnv *env, jclass cls)
{
	jint v[] = {
		sizeof(struct hf_event),
		offsetof(struct hf_event, ts_boot_ns),
		offsetof(struct hf_event, cgroup_id),
		offsetof(struct hf_event, inode),
		offsetof(struct hf_event, dev),
		offsetof(struct hf_event, ret),
		offsetof(struct hf_event, arg),
		offsetof(struct hf_event, pid),
		offsetof(struct hf_event, tid),
		offsetof(struct hf_event, ppid),
		offsetof(struct hf_event, uid),
		offsetof(struct hf_event, gid),
		offsetof(struct hf_event, mode),
		offsetof(struct hf_event, flags),
		offsetof(struct hf_event, kind),
		offsetof(struct hf_event, evflags),
		offsetof(struct hf_event, syscall),
		offsetof(struct hf_event, path_len),
		offsetof(struct hf_event, new_path_len),
		offsetof(struct hf_event, comm),
		HF_COMM_LEN,
		HF_PATH_MAX,
		HF_PREFIX_MAX,
		HF_NAME_MAX,
		HF_C__COUNT,
		HF_C_SLOTS,
		S__COUNT,    /* enum hf_sys: the Java name table has one entry per code (and "?" for 0) */
		S_RENAMEAT2, /* ... in the same order */
	};
	jintArray a = (*env)->NewIntArray(env, sizeof(v) / sizeof(v[0]));

	if (a)
		(*env)->SetIntArrayRegion(env, a, 0, sizeof(v) / sizeof(v[0]), v);
	return a;
}
