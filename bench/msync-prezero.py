#!/usr/bin/env python3
"""msync time of writes into a sparse mapped file against one whose blocks were written (zeros) and synced first, as
databases pre-fill their logs (docs/BENCHMARKS.md, "Appending while the sync is in flight"). 64 MiB per file, one
msync per write of STEP bytes, 3 interleaved rounds; medians.

    bench/msync-prezero.py DIR [STEP]      # STEP in bytes, 1048576 by default (131072: a sync at moderate load)
"""
import mmap, os, time, statistics, sys
d = sys.argv[1]; N = 64 << 20; STEP = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 20
def prep(name, prezero):
    p = os.path.join(d, name)
    if os.path.exists(p): os.unlink(p)
    fd = os.open(p, os.O_RDWR | os.O_CREAT)
    os.ftruncate(fd, N)
    if prezero:
        z = b"\0" * (1 << 20)
        for off in range(0, N, len(z)): os.pwrite(fd, z, off)
        os.fsync(fd)
    return p, fd
res = {}
for rnd in range(3):
    for kind in ("sparse", "prezeroed"):
        p, fd = prep("pz-" + kind, kind == "prezeroed")
        m = mmap.mmap(fd, N)
        buf = os.urandom(STEP)
        t = []
        for off in range(0, N, STEP):
            m[off:off + STEP] = buf
            t0 = time.perf_counter(); m.flush(off, STEP); t.append((time.perf_counter() - t0) * 1000)
        res.setdefault(kind, []).append(statistics.median(t))
        print(rnd, kind, "msync of %d KiB: p50 %.2f ms, p90 %.2f ms" % (STEP >> 10, statistics.median(t), sorted(t)[int(len(t)*0.9)]), flush=True)
        m.close(); os.close(fd); os.unlink(p)
for k, v in res.items(): print(k, "median of rounds %.2f ms" % statistics.median(v))
