#!/usr/bin/env bash
# Regenerates llm/testdata/llamacpp/*.json: llama.cpp's greedy ids and
# first-step top-10 probabilities for "Once upon a time" (32 tokens, 2
# threads) on the shared test models, which the parity tests in llm/model
# compare against. Needs ../shared/ref/llamacpp/run.sh (node-llama-cpp from
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
