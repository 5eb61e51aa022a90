#!/usr/bin/env python3
"""Ratio table from a GemmBench JMH CSV (java -jar bench/target/benchmarks.jar GemmBench ... -rf csv -rff gemm.csv).

Prints, per shape and trans: longconv's speed as a fraction of OpenBLAS's (OpenBLAS time / longconv time) at one
and two threads, and each side's two-thread speedup over its own one-thread time. Usage: gemm-ratios.py gemm.csv...
(several files are merged; a later file's row replaces an earlier one for the same benchmark and parameters).
"""
import csv
import sys

scores = {}
for path in sys.argv[1:]:
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            method = row["Benchmark"].rsplit(".", 1)[1]
            scores[(row["Param: shape"], row["Param: trans"], method)] = float(row["Score"])


def get(shape, trans, method):
    return scores.get((shape, trans, method))


def ratio(num, den):
    return f"{num / den:.2f}" if num and den else "-"


def gflops(shape, t):
    m, n, k = (int(x) for x in shape.split("x"))
    return f"{2.0 * m * n * k / t / 1e3:.0f}" if t else "-"  # t in microseconds


keys = sorted({(s, t) for (s, t, _) in scores}, key=lambda st: (st[0].count("x") and [int(x) for x in st[0].split("x")], st[1]))
print("| shape (MxNxK) | op | 1 thread: longconv / OpenBLAS | longconv GFLOP/s | 2 threads: longconv / OpenBLAS | longconv 2t / 1t | OpenBLAS 2t / 1t |")
print("|---|---|---|---|---|---|---|")
for shape, trans in keys:
    l1, o1, l2, o2 = (get(shape, trans, x) for x in ("longconv1t", "openblas1t", "longconv2t", "openblas2t"))
    print(f"| {shape} | {trans} | {ratio(o1, l1)} | {gflops(shape, l1)} | {ratio(o2, l2)} | {ratio(l1, l2)} | {ratio(o1, o2)} |")
