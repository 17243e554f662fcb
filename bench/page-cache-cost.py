#!/usr/bin/env python3
"""What new page-cache pages cost a writer on this machine, without Java (docs/BENCHMARKS.md, "The WAL's pages out
of the page cache").

Writes SIZE (default 2 GiB) of new pages into a sparse memory-mapped file, as the WAL writer does, msyncing every
64 MiB, in two ways taking turns:
  grow:  the written pages stay in the page cache, which grows into memory that has been free for a while;
  trim:  after each msync, the pages more than 64 MiB behind leave the mapping (MADV_DONTNEED) and the cache
         (POSIX_FADV_DONTNEED), so the kernel hands the writer pages it has just let go of.
Prints, per run, the wall time and the process's CPU time (user + system: mostly the kernel zeroing new pages in
page faults) per GiB. Between runs the file is deleted and the script waits PAUSE seconds, so that each run starts
from memory that has been free for a while, as a long-running intake's growing cache does.

    bench/page-cache-cost.py DIR [ROUNDS=3] [SIZE_MIB=2048] [PAUSE=10]
"""
import mmap
import os
import statistics
import sys
import time

STEP = 64 << 20


def run(path, size, trim):
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.ftruncate(fd, size)
    m = mmap.mmap(fd, size)
    block = b"\x5a" * (1 << 20)
    cpu0, t0 = os.times(), time.perf_counter()
    synced = 0
    for off in range(0, size, len(block)):
        m[off:off + len(block)] = block
        end = off + len(block)
        if end - synced >= STEP:
            m.flush(synced, end - synced)
            if trim and synced >= STEP:
                # out of this mapping first (the kernel keeps pages that are mapped), then out of the cache
                m.madvise(mmap.MADV_DONTNEED, 0, synced - STEP)
                os.posix_fadvise(fd, 0, synced - STEP, os.POSIX_FADV_DONTNEED)
            synced = end
    m.flush()
    cpu1, t1 = os.times(), time.perf_counter()
    m.close()
    os.close(fd)
    os.unlink(path)
    gib = size / (1 << 30)
    return (t1 - t0) / gib, ((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)) / gib


def main():
    directory = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    size = (int(sys.argv[3]) if len(sys.argv) > 3 else 2048) << 20
    pause = float(sys.argv[4]) if len(sys.argv) > 4 else 10
    results = {"grow": [], "trim": []}
    for r in range(rounds):
        order = ("grow", "trim") if r % 2 == 0 else ("trim", "grow")
        for mode in order:
            time.sleep(pause)
            wall, cpu = run(os.path.join(directory, "page-cache-cost.tmp"), size, mode == "trim")
            results[mode].append((wall, cpu))
            print(f"round {r + 1} {mode}: {wall:.2f} s wall, {cpu:.2f} s CPU per GiB", flush=True)
    for mode, rs in results.items():
        print(f"{mode}: median {statistics.median(w for w, _ in rs):.2f} s wall, "
              f"{statistics.median(c for _, c in rs):.2f} s CPU per GiB ({len(rs)} runs)")


if __name__ == "__main__":
    main()
