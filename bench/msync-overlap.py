#!/usr/bin/env python3
"""Whether a second msync started while the first is in flight finishes sooner than one that waits for it
(docs/BENCHMARKS.md, "Appending while the sync is in flight"). Pairs of 128 KiB writes into a sparse mapped file,
alternating: B synced after A on one thread, or B synced beside A (0.3 ms later) on a second thread; reports when B
is durable, from the start of the pair.

    bench/msync-overlap.py DIR
"""
import mmap, os, time, statistics, threading, sys
d = sys.argv[1]; N = 256 << 20; STEP = 128 << 10
p = os.path.join(d, "cs"); fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC); os.ftruncate(fd, N)
m = mmap.mmap(fd, N); buf = os.urandom(STEP)
off = 0
def write_sync(o, out, key):
    m[o:o + STEP] = buf
    m.flush(o, STEP)
    out[key] = time.perf_counter()
serial, concurrent = [], []
for i in range(300):
    mode = i % 2
    a, b = off, off + STEP; off += 2 * STEP
    out = {}
    t0 = time.perf_counter()
    if mode == 0:  # B waits for A, then syncs (a single sync thread)
        write_sync(a, out, "a")
        # one sync thread: B (arrived during A's sync) is synced once A's sync is done
        write_sync(b, out, "b")
        serial.append((out["b"] - t0) * 1000)
    else:          # B's sync starts 0.3 ms after A's, concurrently
        ta = threading.Thread(target=write_sync, args=(a, out, "a")); ta.start()
        time.sleep(0.0003)
        write_sync(b, out, "b"); ta.join()
        concurrent.append((out["b"] - t0) * 1000)
for name, v in (("B after A", serial), ("B beside A", concurrent)):
    v.sort(); print("%s: B done after p50 %.2f ms, p90 %.2f ms, p99 %.2f ms" % (name, statistics.median(v), v[int(len(v)*.9)], v[int(len(v)*.99)]))
os.unlink(p)
