#!/usr/bin/env bash
# Regenerates llm/testdata/llamacpp/*.json: llama.cpp's greedy ids and
# first-step top-10 probabilities for "Once upon a time" (32 tokens, 2
# threads) on the shared test models, which the parity tests in llm/model
# compare against, and swiglu.json: ggml_vec_swiglu_f32 of the CPU library
# llama.cpp loads on this machine (python3 ctypes), for TestSwiGLUMatchesGGML, and rope.json:
# ggml_rope_ext of that library and glibc's sincosf, for TestRoPEMatchesGGML and TestSincosf. Needs ../shared/ref/llamacpp/run.sh (node-llama-cpp from
# npm, installed on first use) and ../shared/testdata.
#
# Usage: scripts/llamacpp_ref.sh [SHARED_DIR]   (default: ../shared)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${1:-$root/../shared}
ref=$shared/ref/llamacpp/run.sh
out=$root/llm/testdata/llamacpp
mkdir -p "$out"
models=("$shared/testdata/models/stories260K.gguf" "$shared/testdata/models/llama-2-tiny-random.gguf")
models+=("$shared"/testdata/models/quant/*.gguf)
for m in "${models[@]}"; do
  name=$(basename "$m" .gguf)
  echo "$name" >&2
  "$ref" "$m" "Once upon a time" 32 2 --probs >"$out/$name.json"
done
bins=${AETHER_REF_CACHE:-$HOME/.cache/aether-ref-llamacpp}/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
python3 - "$bins" "$out/swiglu.json" <<'PY'
import ctypes, json, random, struct, sys
bins, dst = sys.argv[1], sys.argv[2]
ctypes.CDLL(bins + "/libggml-base.so", mode=ctypes.RTLD_GLOBAL)
# The variant ggml's loader scores best on this CPU.
best = max(__import__("glob").glob(bins + "/libggml-cpu-*.so"), key=lambda f: ctypes.CDLL(f).ggml_backend_score())
cpu = ctypes.CDLL(best)
f32 = lambda v: struct.unpack("<f", struct.pack("<f", v))[0]
bits = lambda a: [struct.unpack("<I", struct.pack("<f", v))[0] for v in a]
random.seed(7)
rows, n = 6, 40
xs, gs, ys = [], [], []
for r in range(rows):
    s = [0.5, 4, 16, 60, 150, 300][r]
    for i in range(n):
        xs.append(f32(random.gauss(0, s))); gs.append(f32(random.gauss(0, 1)))
for r in range(rows):
    x = (ctypes.c_float * n)(*xs[r*n:(r+1)*n]); g = (ctypes.c_float * n)(*gs[r*n:(r+1)*n]); y = (ctypes.c_float * n)()
    cpu.ggml_vec_swiglu_f32(ctypes.c_int(n), y, x, g)
    ys += list(y)
json.dump({"note": "ggml_vec_swiglu_f32 of " + best.rsplit("/", 1)[1] + " on rows of 40 (32 in the SIMD loop, 8 through expf); float32 bit patterns",
           "rows": rows, "cols": n, "x": bits(xs), "g": bits(gs), "y": bits(ys)}, open(dst, "w"))
PY
python3 - "$bins" "$out/rope.json" <<'PY'
import ctypes, json, math, random, struct, sys
bins, dst = sys.argv[1], sys.argv[2]
base = ctypes.CDLL(bins + "/libggml-base.so", mode=ctypes.RTLD_GLOBAL)
best = max(__import__("glob").glob(bins + "/libggml-cpu-*.so"), key=lambda f: ctypes.CDLL(f).ggml_backend_score())
cpu = ctypes.CDLL(best)
P = ctypes.c_void_p
class InitParams(ctypes.Structure):
    _fields_ = [("mem_size", ctypes.c_size_t), ("mem_buffer", P), ("no_alloc", ctypes.c_bool)]
base.ggml_init.restype = P
base.ggml_init.argtypes = [InitParams]
base.ggml_new_tensor_1d.restype = P
base.ggml_new_tensor_1d.argtypes = [P, ctypes.c_int, ctypes.c_int64]
base.ggml_new_tensor_3d.restype = P
base.ggml_new_tensor_3d.argtypes = [P, ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64]
base.ggml_rope_ext.restype = P
base.ggml_rope_ext.argtypes = [P, P, P, P, ctypes.c_int, ctypes.c_int, ctypes.c_int] + [ctypes.c_float] * 6
base.ggml_new_graph.restype = P
base.ggml_new_graph.argtypes = [P]
base.ggml_build_forward_expand.argtypes = [P, P]
base.ggml_get_data.restype = P
base.ggml_get_data.argtypes = [P]
base.ggml_free.argtypes = [P]
cpu.ggml_cpu_init()
cpu.ggml_graph_compute_with_ctx.argtypes = [P, P, ctypes.c_int]
f32 = lambda v: struct.unpack("<f", struct.pack("<f", v))[0]
bits = lambda a: [struct.unpack("<I", struct.pack("<f", v))[0] for v in a]
random.seed(11)
head, pos = 64, [0, 1, 2, 5, 33, 127, 511, 4095]
xs = [f32(random.gauss(0, 2)) for _ in range(len(pos) * head)]
cases = []
# (rotated dims, NeoX, base, scale): llama's interleaved pairs, NeoX halves,
# partial rotary dims (the rest copied) and linear scaling.
for dims, neox, fb, fs in [(64, False, 10000, 1), (64, True, 1000000, 1), (32, False, 10000, 0.25), (32, True, 10000, 1)]:
    ctx = base.ggml_init(InitParams(1 << 20, None, False))
    a = base.ggml_new_tensor_3d(ctx, 0, head, 1, len(pos))
    p = base.ggml_new_tensor_1d(ctx, 26, len(pos))
    ctypes.memmove(base.ggml_get_data(a), (ctypes.c_float * len(xs))(*xs), 4 * len(xs))
    ctypes.memmove(base.ggml_get_data(p), (ctypes.c_int32 * len(pos))(*pos), 4 * len(pos))
    y = base.ggml_rope_ext(ctx, a, p, None, dims, 2 if neox else 0, 0, fb, fs, 0, 1, 32, 1)
    gf = base.ggml_new_graph(ctx)
    base.ggml_build_forward_expand(gf, y)
    cpu.ggml_graph_compute_with_ctx(ctx, gf, 1)
    ys = list((ctypes.c_float * len(xs)).from_address(base.ggml_get_data(y)))
    cases.append({"dims": dims, "neox": neox, "base": fb, "scale": fs, "y": bits(ys)})
    base.ggml_free(ctx)
# glibc's sincosf (which ggml's rope calls) on arguments from 1e-5 to 1e5,
# half of them ones where it is not the correctly rounded float32(sin).
libm = ctypes.CDLL("libm.so.6")
libm.sincosf.argtypes = [ctypes.c_float, ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float)]
sv, cv = ctypes.c_float(), ctypes.c_float()
args, odd = [], []
while len(args) < 48 or len(odd) < 48:
    a = f32(random.choice([-1, 1]) * 10 ** random.uniform(-5, 5))
    libm.sincosf(a, ctypes.byref(sv), ctypes.byref(cv))
    if (sv.value, cv.value) != (f32(math.sin(a)), f32(math.cos(a))):
        odd.append(a) if len(odd) < 48 else None
    elif len(args) < 48:
        args.append(a)
sc = []
for a in args + odd:
    libm.sincosf(a, ctypes.byref(sv), ctypes.byref(cv))
    sc.append(bits([a, sv.value, cv.value]))
json.dump({"note": "ggml_rope_ext (no YaRN) of " + best.rsplit("/", 1)[1] + " on one head of 64 at the listed positions, and glibc sincosf as [x, sin, cos]; float32 bit patterns",
           "head": head, "pos": pos, "x": bits(xs), "cases": cases, "sincosf": sc}, open(dst, "w"))
PY
