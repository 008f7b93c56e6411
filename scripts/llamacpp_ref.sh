#!/usr/bin/env bash
# Regenerates llm/testdata/llamacpp/*.json: llama.cpp's greedy ids and
# first-step top-10 probabilities for "Once upon a time" (32 tokens, 2
# threads) on the shared test models, which the parity tests in llm/model
# compare against, and swiglu.json: ggml_vec_swiglu_f32 of the CPU library
# llama.cpp loads on this machine (python3 ctypes), for TestSwiGLUMatchesGGML. Needs ../shared/ref/llamacpp/run.sh (node-llama-cpp from
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
