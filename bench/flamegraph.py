#!/usr/bin/env python3
"""Collapsed stacks (async-profiler's `collapsed` output: "frame;frame;frame count" per line) -> a flame graph as
a self-contained SVG, for docs/perf/. Each frame's width is its share of the samples; hovering shows the frame and
its percentage. Colours by kind: Java (green), JVM/native (red), kernel (orange).

    bench/flamegraph.py intake.collapsed "holdfast intake, fsync, full load" > docs/perf/intake.svg

Or `perf script -F comm,ip,sym,dso` output (what `perf record -g` saw, the kernel included; JIT-compiled Java is
named when the JVM wrote a perf map, `-XX:+UnlockDiagnosticVMOptions -XX:+DumpPerfMapAtExit`), given as
`--perf FILE`: each sample becomes "thread;frames", kernel frames marked _[k] and Java frames named as
async-profiler names them.
"""
import html
import re
import sys

WIDTH, ROW, FONT, MIN_PX = 1200, 16, 11, 0.3


def colour(frame):
    if frame.endswith("_[k]"):
        return "#e8a048"
    if "/" in frame or frame.startswith("Interpreter"):
        return "#6cbf5a"
    return "#e06a5a"


def perf_collapsed(path):
    """Samples of `perf script -F comm,ip,sym,dso` as collapsed lines "thread;root;...;leaf 1"."""
    stacks, comm, frames = [], None, []
    for line in list(open(path, errors="replace")) + [""]:
        if not line.strip():
            if comm is not None:
                stacks.append(";".join([comm] + frames[::-1]) + " 1")
            comm, frames = None, []
        elif not line[0].isspace():
            comm = line.split()[0]
        else:
            parts = line.split(None, 1)
            rest = parts[1] if len(parts) > 1 else "[unknown]"
            sym, _, dso = rest.rpartition(" (")
            sym = (sym or rest).split("+0x")[0].strip() or "[unknown]"
            java = re.search(r"([\w$.<>]+)\(", sym) if "perf-" in dso else None
            if java:  # "void a.b.C.m(int)" from the JVM's perf map -> "a/b/C.m", as async-profiler names it
                cls, _, method = java.group(1).rpartition(".")
                sym = cls.replace(".", "/") + "." + method
            frames.append(sym + "_[k]" if "kernel.kallsyms" in dso else sym)
    return stacks


def main():
    args = sys.argv[1:]
    perf = args[0] == "--perf"
    if perf:
        args = args[1:]
    path, title = args[0], args[1] if len(args) > 1 else args[0]
    root = {"n": 0, "kids": {}}
    for line in perf_collapsed(path) if perf else open(path):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack:
            continue
        n = int(count)
        root["n"] += n
        node = root
        for frame in stack.split(";"):
            node = node["kids"].setdefault(frame, {"n": 0, "kids": {}})
            node["n"] += n
    total = root["n"] or 1
    rects, depth_max = [], [0]

    def walk(node, x, depth):
        for frame, kid in sorted(node["kids"].items()):
            w = WIDTH * kid["n"] / total
            if w >= MIN_PX:
                rects.append((x, depth, w, frame, kid["n"]))
                depth_max[0] = max(depth_max[0], depth)
                walk(kid, x, depth + 1)
            x += w

    walk(root, 0.0, 0)
    height = (depth_max[0] + 3) * ROW
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
           f'font-family="monospace" font-size="{FONT}">',
           f'<rect width="100%" height="100%" fill="#fdfdf6"/>',
           f'<text x="4" y="{ROW - 4}" font-size="{FONT + 2}">{html.escape(title)} ({total:,} samples)</text>']
    for x, depth, w, frame, n in rects:
        y = height - (depth + 1) * ROW
        label = frame.split("/")[-1]
        chars = int((w - 4) / (FONT * 0.6))
        text = label if len(label) <= chars else (label[:chars - 2] + ".." if chars > 3 else "")
        out.append(f'<g><title>{html.escape(frame)} ({100 * n / total:.2f} %)</title>'
                   f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{ROW - 1}" fill="{colour(frame)}"/>'
                   + (f'<text x="{x + 2:.1f}" y="{y + ROW - 4}">{html.escape(text)}</text>' if text else "")
                   + '</g>')
    out.append("</svg>")
    print("\n".join(out))


if __name__ == "__main__":
    main()
