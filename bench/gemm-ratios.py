#!/usr/bin/env python3
"""Ratio table from GemmBench JMH CSV files (java -jar bench/target/benchmarks.jar GemmBench ... -rf csv -rff x.csv).

Usage: gemm-ratios.py x.csv|x.log [...]  (a later file's result replaces an earlier one for the same benchmark).

Interleaved methods (interleaved1t, interleaved2t): each invocation calls longconv and OpenBLAS alternately, and
each iteration records each side's best GFLOP/s and their ratio. From JMH's text output (a .log file: the console
output of the run) the table gives the median over the measurement iterations and, in brackets, the lowest and
highest iteration; from a CSV, where JMH has summed these EVENTS counters over the iterations, the mean.

Separate methods (longconv1t, openblas1t, ...): the ratio is OpenBLAS time / longconv time, from the averages, or
in sample mode (-bm sample) from each side's fastest call (p0.00).
"""
import csv
import sys
from collections import defaultdict

inter = {}   # (shape, trans, threads) -> {"ratio": x, "longconvGflops": y, "openblasGflops": z, "range": (lo, hi)}
times = {}   # (shape, trans, method) -> time
COUNTERS = ("ratio", "longconvGflops", "openblasGflops")


def median(xs):
    xs = sorted(xs)
    h = len(xs) // 2
    return xs[h] if len(xs) % 2 else (xs[h - 1] + xs[h]) / 2


def read_log(path):
    method = shape = trans = None
    measuring = False
    per = defaultdict(lambda: defaultdict(list))
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("# Benchmark:"):
                method = line.split("GemmBench.", 1)[1]
            elif line.startswith("# Parameters:"):
                fields = dict(kv.split(" = ") for kv in line[line.index("(") + 1:line.rindex(")")].split(", "))
                shape, trans = fields["shape"], fields["trans"]
            elif line.startswith("# Warmup Iteration"):
                measuring = False
            elif line.startswith("Iteration"):
                measuring = True
            elif measuring and method and method.startswith("interleaved") and line.split(":")[0] in COUNTERS:
                name, value = line.split(":")
                per[(shape, trans, method[-2:])][name].append(float(value.split()[0]))
    for key, counters in per.items():
        d = {name: median(v) for name, v in counters.items()}
        d["range"] = (min(counters["ratio"]), max(counters["ratio"]))
        inter[key] = d


for path in sys.argv[1:]:
    if path.endswith(".log"):
        read_log(path)
        continue
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    sampled = any(":p0.00" in r["Benchmark"] for r in rows)
    for row in rows:
        name = row["Benchmark"].split("GemmBench.", 1)[1]
        method, _, stat = name.partition(":")
        shape, trans = row["Param: shape"], row["Param: trans"]
        if method.startswith("interleaved"):
            if stat in ("ratio", "longconvGflops", "openblasGflops"):
                inter.setdefault((shape, trans, method[-2:]), {})[stat] = float(row["Score"]) / int(row["Samples"])
        elif (stat == "p0.00") if sampled else (stat == ""):
            times[(shape, trans, method)] = float(row["Score"])


def order(key):
    return [int(x) for x in key[0].split("x")], key[1]


if inter:
    print("| shape (MxNxK) | op | 1 thread: longconv / OpenBLAS | longconv, OpenBLAS GFLOP/s | 2 threads: longconv / OpenBLAS | longconv, OpenBLAS GFLOP/s | longconv 2t / 1t | OpenBLAS 2t / 1t |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for shape, trans in sorted({(s, t) for (s, t, _) in inter}, key=order):
        one, two = inter.get((shape, trans, "1t"), {}), inter.get((shape, trans, "2t"), {})

        def cells(d):
            if not d:
                return "-", "-"
            r = f"{d['ratio']:.2f}" + (f" [{d['range'][0]:.2f}-{d['range'][1]:.2f}]" if "range" in d else "")
            return r, f"{d['longconvGflops']:.0f}, {d['openblasGflops']:.0f}"

        def speedup(side):
            return f"{two[side] / one[side]:.2f}" if one and two else "-"

        print(f"| {shape} | {trans} | {' | '.join(cells(one))} | {' | '.join(cells(two))} | {speedup('longconvGflops')} | {speedup('openblasGflops')} |")

if times:
    print()
    print("| shape (MxNxK) | op | method | time (us) | GFLOP/s |")
    print("|---|---|---|---:|---:|")
    for (shape, trans, method) in sorted(times, key=lambda k: (order(k), k[2])):
        m, n, k = (int(x) for x in shape.split("x"))
        t = times[(shape, trans, method)]
        print(f"| {shape} | {trans} | {method} | {t:.0f} | {2.0 * m * n * k / t / 1e3:.0f} |")
