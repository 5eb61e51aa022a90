#!/usr/bin/env python3
"""Rewrites a kernel source (.cu) into host C++ for the emulator in host/emu.h: kernel launches
name<<<grid, block, smem, stream>>>(args) become emuLaunch(grid, block, smem, [&] { name(args); }),
and dynamic shared memory becomes the emulator's per-block buffer. Everything else is compiled as is."""
import re
import sys


def launch(m):
    name, cfg, args = m.group(1), m.group(2), m.group(3)
    parts = [p.strip() for p in re.split(r',(?![^()]*\))', cfg)]
    while len(parts) < 3:
        parts.append('0')
    return f'emuLaunch({parts[0]}, {parts[1]}, {parts[2]}, [&] {{ {name}({args}); }});'


src, dst = sys.argv[1], sys.argv[2]
s = open(src).read()
s = re.sub(r'extern __shared__ float (\w+)\[\];', r'float* \1 = emuDynSmem;', s)
s, n = re.subn(r'([\w:]+(?:<[^<>;]*>)?)<<<(.*?)>>>\((.*)\);', launch, s)
if '<<<' in s:
    sys.exit(f'{src}: a launch not on one line was left unconverted')
open(dst, 'w').write(s)
