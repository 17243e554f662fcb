// SPDX-License-Identifier: GPL-2.0
/* The floor of any syscall-hook watcher (bench/shipper.sh, configuration "empty-probe"): the same two attach points
 * as the Holdfast probe (raw tracepoints sys_enter and sys_exit, run for every syscall on the machine), doing
 * nothing. Whatever this costs the workload, no probe on these hooks can cost less. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("raw_tracepoint/sys_enter")
int empty_enter(void *ctx)
{
	return 0;
}

SEC("raw_tracepoint/sys_exit")
int empty_exit(void *ctx)
{
	return 0;
}
