#!/usr/bin/env python3
"""Generate float64 reference outputs for graph/golden_test.go with PyTorch.

Run from the repository root with Debian's python3-torch:

    /usr/bin/python3 scripts/goldens.py

It writes graph/testdata/goldens.json. The Go tests only read that file, so
torch is needed to regenerate it, never to run the tests.

Every input is drawn in float32 and widened, so the Go tests can feed the same
values to F32 and F64 graphs; every reference is computed in float64 with
torch's own operators (or the textbook formula where torch 1.13 has no
operator, e.g. RMSNorm and rotary embeddings), independent of Aether's
compositions.
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(20240611)

CASES = []


def rand(*shape, lo=-2.0, hi=2.0):
    """Uniform float32 values, returned widened to float64."""
    return (torch.rand(*shape, dtype=torch.float32) * (hi - lo) + lo).double()


def enc(t, dtype=None):
    t = t.detach()
    if dtype is None:
        dtype = "i64" if not t.is_floating_point() else "f64"
    return {
        "shape": list(t.shape),
        "dtype": dtype,
        "data": [float(v) for v in t.reshape(-1).tolist()],
    }


def add(name, op, inputs, want, **attrs):
    CASES.append({"name": name, "op": op, "attrs": attrs,
                  "inputs": [enc(t) for t in inputs], "want": enc(want)})


# ---- elementwise activations ------------------------------------------------

x = rand(4, 9, lo=-6, hi=6)
add("gelu", "gelu", [x], F.gelu(x))
add("gelu_tanh", "gelu_tanh", [x], F.gelu(x, approximate="tanh"))
add("silu", "silu", [x], F.silu(x))
add("sigmoid", "sigmoid", [x], torch.sigmoid(x))
add("erf", "erf", [x], torch.erf(x))
add("softmax/axis=-1", "softmax", [x], torch.softmax(x, -1), axis=-1)
add("softmax/axis=0", "softmax", [x], torch.softmax(x, 0), axis=0)
add("log_softmax/axis=-1", "log_softmax", [x], torch.log_softmax(x, -1), axis=-1)
add("log_softmax/axis=0", "log_softmax", [x], torch.log_softmax(x, 0), axis=0)

# ---- normalisation ----------------------------------------------------------

for shape, eps in [((2, 3, 8), 1e-5), ((5, 16), 1e-6), ((3, 1), 1e-5), ((1, 1, 2), 1e-3)]:
    n = shape[-1]
    x = rand(*shape)
    w, b = rand(n), rand(n)
    tag = "x".join(map(str, shape))
    add(f"layer_norm/{tag}/wb", "layer_norm", [x, w, b], F.layer_norm(x, (n,), w, b, eps), eps=eps, affine="wb")
    add(f"layer_norm/{tag}/w", "layer_norm", [x, w], F.layer_norm(x, (n,), w, None, eps), eps=eps, affine="w")
    add(f"layer_norm/{tag}/none", "layer_norm", [x], F.layer_norm(x, (n,), None, None, eps), eps=eps, affine="none")
    rms = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    add(f"rms_norm/{tag}/w", "rms_norm", [x, w], rms * w, eps=eps, affine="w")
    add(f"rms_norm/{tag}/none", "rms_norm", [x], rms, eps=eps, affine="none")

# Large common offset: the variance must be computed about the mean.
x = rand(2, 8) + 100
x = x.float().double()
add("layer_norm/offset", "layer_norm", [x], F.layer_norm(x, (8,), None, None, 1e-5), eps=1e-5, affine="none")

# ---- rotary position embeddings --------------------------------------------


def rope_ref(x, pos, dims, base, scale, neox):
    """x [..., seq, heads, hd]; pos [seq]."""
    hd = x.shape[-1]
    dims = dims or hd
    half = dims // 2
    inv = 1.0 / (base ** (torch.arange(0, dims, 2, dtype=torch.float64) / dims))
    theta = (pos.double() * scale)[:, None] * inv[None, :]  # [seq, half]
    xr, xp = x[..., :dims], x[..., dims:]
    if neox:
        # GPT-NeoX "rotate_half": feature i pairs with i + dims/2.
        cos = torch.cat([theta.cos(), theta.cos()], -1)[:, None, :]
        sin = torch.cat([theta.sin(), theta.sin()], -1)[:, None, :]
        rot = torch.cat([-xr[..., half:], xr[..., :half]], -1)
        out = xr * cos + rot * sin
    else:
        # Interleaved pairs (2i, 2i+1) as complex numbers times e^{iθ}.
        xc = torch.view_as_complex(xr.reshape(*xr.shape[:-1], half, 2).contiguous())
        rotc = torch.polar(torch.ones_like(theta), theta)[:, None, :]
        out = torch.view_as_real(xc * rotc).reshape(xr.shape)
    return torch.cat([out, xp], -1)


rope_cases = [
    ("interleaved", (5, 2, 8), 0, 10000.0, 1.0, False, [0, 1, 2, 3, 4]),
    ("neox", (5, 2, 8), 0, 10000.0, 1.0, True, [0, 1, 2, 3, 4]),
    ("interleaved/partial", (4, 3, 10), 6, 10000.0, 1.0, False, [7, 0, 3, 100]),
    ("neox/partial", (4, 3, 10), 4, 10000.0, 1.0, True, [7, 0, 3, 100]),
    ("neox/base/scale", (2, 3, 1, 6), 0, 500000.0, 0.25, True, [12, 5, 9]),
    ("interleaved/batch/scale", (2, 3, 2, 4), 0, 1000.0, 0.5, False, [1, 2, 3]),
]
for name, shape, dims, base, scale, neox, pos in rope_cases:
    seq = shape[-3]
    x = rand(*shape)
    p = torch.tensor(pos[:seq], dtype=torch.int64)
    add(f"rope/{name}", "rope", [x, p], rope_ref(x, p, dims, base, scale, neox),
        dims=dims, base=base, scale=scale, neox=neox)

# ---- attention ---------------------------------------------------------------


def sdpa_ref(q, k, v, causal, scale):
    hq, hk = q.shape[-3], k.shape[-3]
    if hq != hk:
        k = k.repeat_interleave(hq // hk, dim=-3)
        v = v.repeat_interleave(hq // hk, dim=-3)
    d = q.shape[-1]
    s = q @ k.transpose(-1, -2) * (scale or 1 / math.sqrt(d))
    if causal:
        tq, tk = q.shape[-2], k.shape[-2]
        # Bottom-right aligned: query i sees keys up to i + (tk - tq).
        mask = torch.ones(tq, tk, dtype=torch.bool).tril(tk - tq)
        s = s.masked_fill(~mask, float("-inf"))
    return torch.softmax(s, -1) @ v


att_cases = [
    ("mha/causal", (1, 2, 4, 8), (1, 2, 4, 8), True, 0.0),
    ("gqa/causal/tq<tk", (1, 4, 3, 8), (1, 2, 5, 8), True, 0.0),
    ("gqa/full", (2, 6, 3, 4), (2, 2, 5, 4), False, 0.0),
    ("mqa/decode", (1, 4, 1, 8), (1, 1, 6, 8), True, 0.0),
    ("rank3/scale", (2, 5, 4), (2, 5, 4), True, 0.3),
    ("rank5", (2, 1, 2, 3, 4), (2, 1, 1, 3, 4), True, 0.0),
]
for name, qs, ks, causal, scale in att_cases:
    q, k, v = rand(*qs), rand(*ks), rand(*ks)
    add(f"attention/{name}", "attention", [q, k, v], sdpa_ref(q, k, v, causal, scale),
        causal=causal, scale=scale)

# ---- cross-entropy ------------------------------------------------------------

for n, c, lo, hi in [(5, 7, -3, 3), (1, 3, -1, 1), (4, 10, -40, 40)]:
    logits = rand(n, c, lo=lo, hi=hi)
    targets = torch.randint(0, c, (n,))
    add(f"cross_entropy/{n}x{c}", "cross_entropy", [logits, targets], F.cross_entropy(logits, targets))

# ---- convolution and pooling -------------------------------------------------

conv_cases = [
    ("basic", (1, 1, 5, 5), (1, 1, 3, 3), (1, 1), (0, 0), (1, 1), False),
    ("stride/pad/dilation/bias", (2, 3, 7, 6), (4, 3, 3, 2), (2, 1), (1, 0), (1, 2), True),
    ("pad/bias", (1, 2, 4, 5), (3, 2, 3, 3), (1, 1), (1, 1), (1, 1), True),
    ("1x1", (2, 4, 3, 3), (5, 4, 1, 1), (1, 1), (0, 0), (1, 1), True),
    ("stride3/dilation2", (1, 2, 9, 8), (2, 2, 2, 3), (3, 2), (2, 1), (2, 2), False),
]
for name, xs, ws, stride, pad, dil, bias in conv_cases:
    x, w = rand(*xs), rand(*ws)
    ins = [x, w]
    b = None
    if bias:
        b = rand(ws[0])
        ins.append(b)
    add(f"conv2d/{name}", "conv2d", ins, F.conv2d(x, w, b, stride, pad, dil),
        stride=list(stride), padding=list(pad), dilation=list(dil), bias=bias)

pool_cases = [
    # name, x shape, kernel, stride (None: kernel), padding, dilation
    ("2x2", (2, 3, 6, 6), (2, 2), None, (0, 0), (1, 1)),
    ("3x2/stride/pad", (1, 2, 7, 6), (3, 2), (2, 1), (1, 1), (1, 1)),
    ("odd/floor", (1, 1, 5, 7), (2, 3), None, (0, 1), (1, 1)),
    ("dilation", (1, 2, 8, 7), (2, 2), (1, 2), (1, 0), (2, 3)),
]
for name, xs, k, stride, pad, dil in pool_cases:
    x = rand(*xs)
    st = stride or k
    add(f"max_pool2d/{name}", "max_pool2d", [x], F.max_pool2d(x, k, st, pad, dil),
        kernel=list(k), stride=list(stride or (0, 0)), padding=list(pad), dilation=list(dil))
    if dil == (1, 1):
        add(f"avg_pool2d/{name}", "avg_pool2d", [x], F.avg_pool2d(x, k, st, pad, count_include_pad=True),
            kernel=list(k), stride=list(stride or (0, 0)), padding=list(pad), dilation=list(dil))

# All-negative input with padding: the padding must never win a max.
x = rand(1, 1, 4, 4, lo=-5, hi=-1)
add("max_pool2d/negative/pad", "max_pool2d", [x], F.max_pool2d(x, 2, 2, 1),
    kernel=[2, 2], stride=[2, 2], padding=[1, 1], dilation=[1, 1])


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(root, "graph", "testdata", "goldens.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    doc = {"generator": "scripts/goldens.py", "torch": torch.__version__, "cases": CASES}
    with open(out, "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(CASES)} cases, {os.path.getsize(out)} bytes to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
