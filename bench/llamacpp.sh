#!/usr/bin/env bash
# llamacpp.sh times llama.cpp's prefill and decode on a GGUF file, like
# `aether bench`, with the reference runner's node-llama-cpp install
# (../shared/ref/llamacpp, cached in $AETHER_REF_CACHE):
#
#   bench/llamacpp.sh MODEL.gguf [NP 64] [NG 32] [REPS 3] [THREADS 2]
#
# prints one JSON line {"pp": [tokens/s...], "tg": [tokens/s...], ...}.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${AETHER_REF_CACHE:-$HOME/.cache/aether-ref-llamacpp}
if [ ! -d "$cache/node_modules/@node-llama-cpp/linux-x64" ]; then
	# The reference runner installs node-llama-cpp on first use.
	ref=$(cd "$here/../.." && pwd)/shared/ref/llamacpp/run.sh
	[ -x "$ref" ] || ref=$(cd "$here/.." && pwd)/../shared/ref/llamacpp/run.sh
	"$ref" "$1" "Once" 1 1 >/dev/null
fi
# Bare imports resolve from the script's folder, so it runs from the cache.
cp "$here/llamacpp_bench.mjs" "$cache/llamacpp_bench.mjs"
model=$(realpath "$1")
shift
cd "$cache" && exec node llamacpp_bench.mjs "$model" "${1:-64}" "${2:-32}" "${3:-3}" "${4:-2}"
