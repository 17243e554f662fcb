#!/usr/bin/env python3
"""Draws ack-latency distributions as an SVG percentile plot, the way HdrHistogram's plotter does: the x axis is the
percentile on a log scale of 1 / (1 - p), so that 90 %, 99 %, 99.9 % and 99.99 % are equally far apart and the tail
is as visible as the body; the y axis is milliseconds on a log scale, so that a build whose tail is ten times longer
does not flatten the others against the bottom.

    bench/latency-plot.py OUT.svg "TITLE" LABEL=report.json[,report.json...] ...

Each report is one `holdfast bench ingest --report-json` file (its latencyDistribution). With several reports for
one label, the one with the median p99 is drawn (the others are rounds of the same configuration; of two, the
higher). Dashed lines mark issue 15's bars: p99 5 ms and p99.9 10 ms.
"""
import html
import json
import math
import statistics
import sys

COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"]
W, H, LEFT, RIGHT, TOP, BOTTOM = 760, 440, 70, 190, 40, 50
MAX_NINES = 4  # 99.99 %


def nines(percentile):
    """x of a percentile: log10(1 / (1 - p)), capped at 99.99 % (100 % itself is at infinity)"""
    rest = 1 - min(percentile, 99.99) / 100
    return min(MAX_NINES, math.log10(1 / rest))


def median_run(paths):
    reports = [json.load(open(p)) for p in paths]
    reports.sort(key=lambda r: r["latencyP99Ms"])
    return reports[len(reports) // 2]  # of an even number, the higher of the middle two


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    out, title, series = argv[1], argv[2], []
    for arg in argv[3:]:
        label, _, paths = arg.partition("=")
        if not paths:
            sys.exit(f"latency-plot: '{arg}' is not LABEL=report.json[,report.json...]")
        report = median_run(paths.split(","))
        points = [(p["percentile"], p["ms"]) for p in report["latencyDistribution"]]
        if not points:
            sys.exit(f"latency-plot: {paths}: no latencyDistribution (a report from before it was added?)")
        series.append((label, report, points))
    ticks = [t * 10 ** e for e in range(-2, 8) for t in (1, 2, 5)]  # 0.01 ms .. 5e7 ms: past the generator's 1 h
    highest = max(max(ms for p, ms in pts if p <= 99.99) for _, _, pts in series)
    lowest = min(min(ms for p, ms in pts) for _, _, pts in series)
    top = next(t for t in ticks if t >= max(highest, 20))  # the bars (10 ms) always in view
    bottom = [t for t in ticks if t <= max(lowest, 0.01)][-1]
    ticks = [t for t in ticks if bottom <= t <= top]
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    x = lambda p: LEFT + pw * nines(p) / MAX_NINES
    y = lambda ms: TOP + ph * (1 - math.log(min(max(ms, bottom), top) / bottom) / math.log(top / bottom))
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{LEFT}" y="22" font-size="14">{html.escape(title)}</text>']
    for i in range(MAX_NINES + 1):
        gx = LEFT + pw * i / MAX_NINES
        label = "0%" if i == 0 else ("99." + "9" * (i - 2) + "%" if i > 2 else ("90%" if i == 1 else "99%"))
        svg.append(f'<line x1="{gx:.1f}" y1="{TOP}" x2="{gx:.1f}" y2="{TOP + ph}" stroke="#ddd"/>')
        svg.append(f'<text x="{gx:.1f}" y="{TOP + ph + 16}" text-anchor="middle">{label}</text>')
    for ms in ticks:
        svg.append(f'<line x1="{LEFT}" y1="{y(ms):.1f}" x2="{LEFT + pw}" y2="{y(ms):.1f}" stroke="#eee"/>')
        svg.append(f'<text x="{LEFT - 6}" y="{y(ms) + 4:.1f}" text-anchor="end">{ms:g}</text>')
    svg.append(f'<text x="{LEFT + pw / 2}" y="{H - 10}" text-anchor="middle">percentile of batches acknowledged</text>')
    svg.append(f'<text x="16" y="{TOP + ph / 2}" text-anchor="middle" '
               f'transform="rotate(-90 16 {TOP + ph / 2})">ack latency, ms (log scale)</text>')
    for p, ms in ((99, 5), (99.9, 10)):  # issue 15's bars, each up to its percentile
        svg.append(f'<polyline points="{LEFT},{y(ms):.1f} {x(p):.1f},{y(ms):.1f} {x(p):.1f},{TOP + ph}" fill="none" '
                   f'stroke="#888" stroke-dasharray="5,4"/>')
        svg.append(f'<text x="{LEFT + 4}" y="{y(ms) - 4:.1f}" fill="#666">bar: p{p:g} ≤ {ms} ms</text>')
    for i, (label, report, points) in enumerate(series):
        colour = COLOURS[i % len(COLOURS)]
        line = " ".join(f"{x(p):.1f},{y(ms):.1f}" for p, ms in points if p <= 99.99)
        svg.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        ly = TOP + 14 + 50 * i
        svg.append(f'<line x1="{W - RIGHT + 12}" y1="{ly}" x2="{W - RIGHT + 36}" y2="{ly}" stroke="{colour}" stroke-width="2"/>')
        svg.append(f'<text x="{W - RIGHT + 42}" y="{ly + 4}">{html.escape(label)}</text>')
        svg.append(f'<text x="{W - RIGHT + 42}" y="{ly + 20}" fill="#555">p99 {report["latencyP99Ms"]:.1f}, '
                   f'p99.9 {report["latencyP999Ms"]:.1f} ms</text>')
        svg.append(f'<text x="{W - RIGHT + 42}" y="{ly + 34}" fill="#555">{report["latencySamples"]:,} batches</text>')
    svg.append("</svg>")
    with open(out, "w") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main(sys.argv)
