#!/usr/bin/env python3
"""PyTorch anchor for GpuConvBench: causal FFT convolution the way flash-stu does it (rfft, multiply, irfft,
slice), kernel spectra precomputed, same shapes and timing rules (CUDA events, median after warm-up, inputs
rotated). Prints CSV rows: B,L,fft_n,median_ms,min_ms,GB_per_s. Usage: torch_fftconv.py [L ...];
BATCHES=16,64 in the environment sets the batch sizes (default 16)."""
import os
import sys

import torch


def main():
    if not torch.cuda.is_available():
        print("torch_fftconv: torch sees no GPU", file=sys.stderr)
        sys.exit(2)
    lengths = [int(a) for a in sys.argv[1:]] or [1024, 4096, 16384, 65536]
    batches = [int(b) for b in os.environ.get("BATCHES", "16").split(",")]
    d, warmup, reps = 768, 5, 30
    dev = torch.device("cuda")
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name(0)}, cuFFT {torch.backends.cuda.cufft_plan_cache.max_size} cached plans")
    print(f"torch.fft causal conv, D={d} float32, median of {reps} after {warmup} warm-up")
    print("B,L,fft_n,median_ms,min_ms,GB_per_s")
    for b, L in [(b, L) for b in batches for L in lengths]:
        try:
            run(b, d, L, warmup, reps, dev)
        except torch.cuda.OutOfMemoryError:
            print(f"{b},{L},skipped: out of GPU memory")
        torch.cuda.empty_cache()


def run(b, d, L, warmup, reps, dev):
    n = 2 * L  # flash-stu: the next power of two >= 2L-1, which is 2L for these lengths
    g = torch.Generator(device=dev).manual_seed(L)
    sets = max(2, min(4, (3 << 30) // (b * d * L * 4)))
    xs = [torch.rand(b, d, L, device=dev, generator=g) * 2 - 1 for _ in range(sets)]
    k = torch.rand(d, L, device=dev, generator=g) * 2 - 1
    kf = torch.fft.rfft(k, n=n)

    def conv(x):
        return torch.fft.irfft(torch.fft.rfft(x, n=n) * kf, n=n)[..., :L]

    for i in range(warmup):
        conv(xs[i % sets])
    torch.cuda.synchronize()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    ms = []
    for i in range(reps):
        start.record()
        y = conv(xs[i % sets])
        stop.record()
        stop.synchronize()
        ms.append(start.elapsed_time(stop))
    ms.sort()
    med = ms[reps // 2]
    print(f"{b},{L},{n},{med:.4f},{ms[0]:.4f},{2 * b * d * L * 4 / (med * 1e6):.1f}")


if __name__ == "__main__":
    main()
