"""Timing helpers the torch anchor scripts share (stu_anchor.py, tnn_anchor.py): imported from the scripts' own folder,
which Python puts first on the path when a script runs."""
import ctypes
import resource
import time

import torch


def _openblas():
    """torch's BLAS when it is OpenBLAS, else None. Debian's torch calls the reference BLAS interface, libblas.so.3,
    which the alternatives system points at OpenBLAS's pthread build once libopenblas is installed; opening the soname
    again returns the library torch already loaded."""
    for name in ("libblas.so.3", "libopenblas.so.0"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        if hasattr(lib, "openblas_set_num_threads"):
            return lib
    return None


def add_thread_args(parser):
    """The scripts' --threads and --blas-threads options, read by pin_threads."""
    parser.add_argument("--threads", type=int, default=1,
                        help="with --time: torch's threads, its own pool and OpenBLAS's (default 1)")
    parser.add_argument("--blas-threads", type=int,
                        help="with --time: OpenBLAS's threads when they should differ from --threads")


def pin_threads(n, blas=None):
    """Runs torch on n threads: its intra-op pool and, when its BLAS is OpenBLAS, OpenBLAS's own pool (blas threads,
    n unless given), which torch.set_num_threads does not reach (Debian's torch with one intra-op thread ran its GEMMs
    on both cores of a 2-core machine: process CPU time 1.99x wall time over a Gtu forward). Returns a line saying
    what was set."""
    torch.set_num_threads(n)
    lib = _openblas()
    if lib is None:
        return f"torch threads {torch.get_num_threads()}; BLAS not OpenBLAS, its threads not set"
    lib.openblas_set_num_threads(n if blas is None else blas)
    lib.openblas_get_config.restype = ctypes.c_char_p
    return (f"torch threads {torch.get_num_threads()}, OpenBLAS threads {lib.openblas_get_num_threads()} "
            f"({lib.openblas_get_config().decode()})")


KEEP_MEMORY = ("MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 "
               "LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 (apt-get install libjemalloc2)")


def allocation_note():
    """A line on what a fresh large allocation costs torch here: a 64 MB tensor made and filled, against filling it
    again. glibc maps every allocation above 32 MB afresh, so where a first touch of a page is slow (a KVM guest took
    162 ms against 1.8) torch's large-shape forwards, which allocate their intermediates per call, time the page
    faults more than torch; the line then says how to run torch with an allocator that keeps freed memory."""
    kept = torch.empty(16 << 20)
    fresh = best_and_median(lambda _: torch.empty(16 << 20).fill_(1.0), None, 3, 1)[0]
    again = best_and_median(lambda _: kept.fill_(1.0), None, 3, 1)[0]
    line = f"a fresh 64 MB tensor filled: {fresh:.1f} ms, filled again: {again:.1f} ms"
    if fresh > 5 * again + 2:
        line += ("; first touches of memory are slow here, and torch's large shapes will time them: for torch at its"
                 " best, run with " + KEEP_MEMORY)
    return line


def _cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def best_and_median(model, x, reps, warmup):
    """The least and the median wall time in ms of reps calls of model(x) without autograd, after warmup calls: the
    pair to set beside JMH's sample mode (-bm sample: p0.00 and p0.50), where the mean of a busy machine's calls runs
    well above their best. Third, the cores the calls kept busy: the process's CPU time over the wall time of the
    timed calls (1.0 for one thread; it shows what a thread setting really gave)."""
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        times = []
        wall0, cpu0 = time.perf_counter(), _cpu_seconds()
        for _ in range(reps):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
        cores = (_cpu_seconds() - cpu0) / (time.perf_counter() - wall0)
    times.sort()
    mid = len(times) // 2
    median = times[mid] if len(times) % 2 else (times[mid - 1] + times[mid]) / 2
    return times[0] * 1e3, median * 1e3, cores


def jmh_result(benchmark, params, ms):
    """One result in JMH's JSON layout (-rf json): the best of the timed calls as the score, no error estimate."""
    return {"benchmark": benchmark, "mode": "avgt", "params": params,
            "primaryMetric": {"score": ms, "scoreError": float("nan"), "scoreUnit": "ms/op"}}
