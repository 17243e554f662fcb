#!/usr/bin/env python3
"""What an msync of a small group writes to the disk when the mapping's pages came in by readahead, against a mapping
advised MADV_RANDOM (docs/BENCHMARKS.md, "Each sync writes its group, not the folio around it"). A writer copies
STEP bytes into a sparse mapped file at exponentially spaced times (mean GAP seconds), and a second thread msyncs what
arrived, as the WAL's group commit does. Per run: the bytes the disk was sent (this process's write_bytes), the time
from a write to the end of the msync that covers it, and the msync's own time. 3 interleaved rounds.

    bench/msync-folios.py DIR [STEP GAP COUNT]       # 110000 0.00625 2000 by default: 100 KB groups at 160 a second
"""
import mmap, os, time, sys, random, threading, ctypes, queue
libc = ctypes.CDLL("libc.so.6", use_errno=True)
libc.msync.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
MS_SYNC = 4
d = sys.argv[1]
STEP, GAP, COUNT = (int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])) if len(sys.argv) > 4 else (110000, 0.00625, 2000)
N = ((STEP * COUNT) | ((1 << 20) - 1)) + 1

def pct(t, q):
    t = sorted(t)
    return t[min(len(t) - 1, int(len(t) * q))]

def written():
    for line in open("/proc/self/io"):
        if line.startswith("write_bytes:"):
            return int(line.split()[1])

def run(random_advice):
    p = os.path.join(d, "msync-folios")
    if os.path.exists(p):
        os.unlink(p)
    fd = os.open(p, os.O_RDWR | os.O_CREAT)
    os.ftruncate(fd, N)
    m = mmap.mmap(fd, N)
    if random_advice:
        m.madvise(mmap.MADV_RANDOM)
    base = ctypes.addressof(ctypes.c_char.from_buffer(m))
    buf = os.urandom(STEP)
    q, lat, syncs = queue.Queue(), [], []

    def syncer():
        while True:
            items = [q.get()]
            while not q.empty():
                items.append(q.get_nowait())
            stop = items[-1] is None
            items = [i for i in items if i is not None]
            if items:
                lo = min(i[0] for i in items) & ~4095
                hi = max(i[0] + STEP for i in items)
                t0 = time.perf_counter()
                if libc.msync(base + lo, hi - lo, MS_SYNC) != 0:
                    raise OSError(ctypes.get_errno(), "msync")
                t1 = time.perf_counter()
                syncs.append((t1 - t0) * 1000)
                lat.extend((t1 - ts) * 1000 for _, ts in items)
            if stop:
                return

    th = threading.Thread(target=syncer)
    th.start()
    w0 = written()
    off = 0
    for _ in range(COUNT):
        m[off:off + STEP] = buf
        q.put((off, time.perf_counter()))
        off += STEP
        time.sleep(random.expovariate(1 / GAP))
    q.put(None)
    th.join()
    sent = written() - w0
    del base
    m.close()
    os.close(fd)
    os.unlink(p)
    return sent, lat, syncs

for rnd in range(3):
    for random_advice in (False, True):
        sent, lat, syncs = run(random_advice)
        print("round %d %-9s disk sent %6.0f MB for %4.0f MB written (%4.1fx) | write to synced p50 %.2f p99 %.2f "
              "p99.9 %.2f max %.2f ms | msync p50 %.2f p99 %.2f ms" % (
                  rnd, "random" if random_advice else "readahead", sent / 1e6, STEP * COUNT / 1e6,
                  sent / (STEP * COUNT), pct(lat, .5), pct(lat, .99), pct(lat, .999), max(lat), pct(syncs, .5),
                  pct(syncs, .99)), flush=True)
