#!/usr/bin/env python3
"""Regenerates synth-rows.f32: leading rows of the F32 source model behind
shared/testdata/models/quant (synth-llama-256.gguf, not shipped there).

The testdata README documents how that source was drawn (numpy default_rng(0)
standard normals, tensor by tensor, scaled in float64, stored as float32) and
its sha256 over all values. This script redraws it, checks that sha256, and
writes the first rows of a few tensors, little-endian float32, in the order of
ROWS below (the Go test in llm/quant holds the same table). Needs numpy 1.24
(Debian bookworm's python3-numpy).

Usage: python3 synth_rows.py OUT.f32
"""
import hashlib
import sys

import numpy as np

SOURCE_SHA256 = "4fa3120a48674eb8802a9f7b0e14b02380d4aa48f32e0da238928e1f7518923d"
# (tensor name, number of leading rows); a row is ne0 values.
ROWS = [
    ("token_embd.weight", 16),
    ("blk.0.attn_q.weight", 16),
    ("blk.3.ffn_down.weight", 8),
    ("output.weight", 16),
]


def source():
    rng = np.random.default_rng(0)
    out = []

    def add(name, a):
        out.append((name, a.astype(np.float32)))

    def proj(shape, fan_in):
        return rng.standard_normal(shape) * (0.8 / np.sqrt(fan_in))

    add("token_embd.weight", rng.standard_normal((512, 256)) * 4.0)
    for b in range(4):
        add(f"blk.{b}.attn_norm.weight", 1 + 0.1 * rng.standard_normal(256))
        add(f"blk.{b}.attn_q.weight", proj((256, 256), 256))
        add(f"blk.{b}.attn_k.weight", proj((128, 256), 256))
        add(f"blk.{b}.attn_v.weight", proj((128, 256), 256))
        add(f"blk.{b}.attn_output.weight", proj((256, 256), 256))
        add(f"blk.{b}.ffn_norm.weight", 1 + 0.1 * rng.standard_normal(256))
        add(f"blk.{b}.ffn_gate.weight", proj((768, 256), 256))
        add(f"blk.{b}.ffn_up.weight", proj((768, 256), 256))
        add(f"blk.{b}.ffn_down.weight", proj((256, 768), 768))
    add("output_norm.weight", 1 + 0.1 * rng.standard_normal(256))
    add("output.weight", rng.standard_normal((512, 256)) * 0.5)
    return out


def main():
    tensors = source()
    h = hashlib.sha256()
    for _, a in tensors:
        h.update(a.astype("<f4").tobytes())
    if h.hexdigest() != SOURCE_SHA256:
        sys.exit(f"source sha256 {h.hexdigest()} != {SOURCE_SHA256}")
    byname = dict(tensors)
    with open(sys.argv[1], "wb") as f:
        for name, n in ROWS:
            f.write(byname[name][:n].astype("<f4").tobytes())


if __name__ == "__main__":
    main()
