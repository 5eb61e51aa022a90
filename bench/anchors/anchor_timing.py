"""Timing helpers the torch anchor scripts share (stu_anchor.py, tnn_anchor.py): imported from the scripts' own folder,
which Python puts first on the path when a script runs."""
import time

import torch


def best_of(model, x, reps, warmup):
    """The least wall time in ms of reps calls of model(x) without autograd, after warmup calls."""
    return best_and_median(model, x, reps, warmup)[0]


def best_and_median(model, x, reps, warmup):
    """The least and the median wall time in ms of reps calls of model(x) without autograd, after warmup calls: the
    pair to set beside JMH's sample mode (-bm sample: p0.00 and p0.50), where the mean of a busy machine's calls runs
    well above their best."""
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    times.sort()
    mid = len(times) // 2
    median = times[mid] if len(times) % 2 else (times[mid - 1] + times[mid]) / 2
    return times[0] * 1e3, median * 1e3


def jmh_result(benchmark, params, ms):
    """One result in JMH's JSON layout (-rf json): the best of the timed calls as the score, no error estimate."""
    return {"benchmark": benchmark, "mode": "avgt", "params": params,
            "primaryMetric": {"score": ms, "scoreError": float("nan"), "scoreUnit": "ms/op"}}
