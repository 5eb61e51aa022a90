#!/usr/bin/env python3
"""Shared-memory bank model of fusedconv.cu's butterfly stages: for each stage, the worst number of wavefronts a
warp's 8-byte accesses need (32 banks of 4 bytes; 2 is the minimum for 32 lanes x 8 bytes), without and with the
padded() map. The index formulas are difStage/ditStage's; keep them in step. Usage: fused_banks.py"""
def pad(i, on): return i + (i >> 4) if on else i
def wavefronts(idxs, on):
    banks = {}
    for i in idxs:
        p = pad(i, on)
        for w in (2*p, 2*p+1):
            banks.setdefault(w % 32, set()).add(w)
    return max(len(v) for v in banks.values())
def stages(M):
    logM = M.bit_length()-1
    out=[]; h=M//2; left=logM
    while left>0:
        r = 3 if left>=3 else left
        out.append(('dif',h,r)); h >>= r; left -= r
    h=1; left=logM
    while left>0:
        r = 3 if left>=3 else left
        out.append(('dit',h,r)); h <<= r; left -= r
    return out
for M in [64, 512, 1024, 4096, 8192]:
    for on in (False, True):
        worst=[]
        for kind,h,r in stages(M):
            R=1<<r; groups=M//R; wmax=0
            for w0 in range(0, min(groups, 256), 32):
                for e in range(R):
                    idxs=[]
                    for g in range(w0, min(w0+32, groups)):
                        if kind=='dif':
                            s=2*h//R; blk=g//s; j0=g-blk*s; base=blk*2*h+j0; idxs.append(base+e*s)
                        else:
                            blk=g//h; j0=g-blk*h; base=blk*R*h+j0; idxs.append(base+e*h)
                    wmax=max(wmax, wavefronts(idxs,on))
            worst.append(f"{kind}{h}:{wmax}")
        print(M, "pad" if on else "nopad", " ".join(worst))

# The BLD load and epilogue: a warp's 32 threads take (channel c = i % rows, time n = i / rows), one float each,
# at c * rowFloats(M) + paddedReal(n).
def rowfloats(M, odd): return 2 * ((M + (M >> 4)) | (1 if odd else 0))
def real_place(n): c = n >> 1; return 2 * (c + (c >> 4)) + (n & 1)
for M in [16, 64, 512, 1024, 4096, 8192]:
    rows = max(1, min(16, 8192 // M))
    for odd in (False, True):
        worst = 0
        for i0 in range(0, 32 * 64, 32):
            banks = {}
            for i in range(i0, i0 + 32):
                w = (i % rows) * rowfloats(M, odd) + real_place(i // rows)
                banks.setdefault(w % 32, set()).add(w)
            worst = max(worst, max(len(v) for v in banks.values()))
        print(f"BLD load/epilogue N={2 * M} rows={rows} {'odd' if odd else 'even'} row stride: {worst} wavefront(s)")
