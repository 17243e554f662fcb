#!/usr/bin/env python3
"""How long writing into a memory-mapped file and msync-ing it take, by how the pages were prepared (docs/BENCHMARKS.md,
"Ack latency at moderate load"). Like the WAL writer: 100 KiB records appended one after another into a mapping, each
followed by an msync of its range. Modes:

  sparse   the file is only ftruncate'd (as Chronicle Queue makes its cycle files): every page is new when written
  touched  as sparse, but before each record the pages up to 1 MiB ahead are write-faulted (one byte rewritten with
           its own value), as the WAL writer's PageToucher does while idle; not timed, like the writer's idle time
  zeroed   the file is filled with zeros and fsync'ed first: every block is allocated and written already

    bench/mmap-writes.py [RECORDS] [ROUNDS] [DIR]     # 3000 records x 3 interleaved rounds in the current directory

Prints p50/p99/p99.9/max of the write (the copy into the mapping) and of the msync, in milliseconds.
"""
import mmap
import os
import sys
import time

RECORD, PAGE, AHEAD = 100 * 1024, 4096, 1 << 20


def quantiles(samples):
    samples = sorted(samples)
    q = lambda p: samples[min(len(samples) - 1, int(p * len(samples)))]
    return f"p50 {q(.5):6.2f}  p99 {q(.99):6.2f}  p99.9 {q(.999):6.2f}  max {samples[-1]:6.2f}"


def run(mode, records, path):
    length = (records * RECORD // (1 << 20) + 2) << 20
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        if mode == "zeroed":
            zeros = b"\0" * (1 << 20)
            for _ in range(length >> 20):
                os.write(fd, zeros)
            os.fsync(fd)
        else:
            os.ftruncate(fd, length)
        m = mmap.mmap(fd, length)
        data, writes, syncs, pos = os.urandom(RECORD), [], [], 0
        for _ in range(records):
            if mode == "touched":
                for page in range((pos + PAGE - 1) // PAGE * PAGE, min(length, pos + RECORD + AHEAD), PAGE):
                    m[page] = m[page]
            t0 = time.perf_counter()
            m[pos:pos + RECORD] = data
            t1 = time.perf_counter()
            start = pos // PAGE * PAGE
            m.flush(start, pos + RECORD - start)
            t2 = time.perf_counter()
            writes.append((t1 - t0) * 1000)
            syncs.append((t2 - t1) * 1000)
            pos += RECORD
        m.close()
    finally:
        os.close(fd)
        os.remove(path)
    print(f"{mode:8s} write  {quantiles(writes)}   msync  {quantiles(syncs)}")


def main():
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    path = os.path.join(sys.argv[3] if len(sys.argv) > 3 else ".", "mmap-writes.bin")
    for _ in range(rounds):
        for mode in ("sparse", "touched", "zeroed"):
            run(mode, records, path)


if __name__ == "__main__":
    main()
