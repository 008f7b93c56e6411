#!/usr/bin/env bash
# compare.sh runs the CPU backend's GEMM benchmarks beside numpy + OpenBLAS
# in one run, interleaved round by round so that both see the same machine
# load, and prints medians and the ratio Aether / OpenBLAS per shape and
# thread count.
#
#   bench/compare.sh [ROUNDS] [BENCH_REGEXP]
#
# Needs Debian's python3-numpy and libopenblas0-pthread
# (apt-get install -y python3-numpy libopenblas0-pthread). OPENBLAS_CORETYPE
# and OPENBLAS_L2_SIZE are unset for numpy's runs only: some machines set
# them to work around old OpenBLAS bugs, and they slow a current one.
# Raw lines go to bench/out/ (benchstat-ready when benchstat is installed).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-6}
filter=${2:-'^Benchmark(SGEMM|DGEMM)$'}
out=bench/out
mkdir -p "$out"
py=/usr/bin/python3
[ -x "$py" ] || py=python3

echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# SIMD flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512bw|avx512vl|avx512_vnni)$' | xargs)"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$py" - <<'PY'
import ctypes, glob, numpy
libs = sorted(glob.glob('/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas*.so*'))
core = '?'
if libs:
    lib = ctypes.CDLL(libs[0])
    lib.openblas_get_corename.restype = ctypes.c_char_p
    core = lib.openblas_get_corename().decode()
print('# numpy', numpy.__version__, 'OpenBLAS kernel:', core)
PY

go test -c -o "$out/cpu.test" ./backend/cpu
go_raw=$out/aether.txt
np_raw=$out/openblas.txt
: >"$go_raw"
: >"$np_raw"
for r in $(seq "$rounds"); do
	echo "# round $r/$rounds, load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	"$out/cpu.test" -test.run '^$' -test.bench "$filter" -test.benchtime 0.5s >>"$go_raw"
	for th in 1 $(nproc); do
		env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=$th "$py" bench/numpy_gemm.py "$th" 0.5 >>"$np_raw"
	done
done
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

"$py" - "$go_raw" "$np_raw" <<'PY'
import re, statistics, sys
line = re.compile(r'^Benchmark(\S+?)/threads=(\d+)(-\d+)?\s+\d+\s+.*?([\d.]+) GFLOP/s')
def load(path, strip=''):
    res = {}
    for l in open(path):
        m = line.match(l)
        if m:
            name = m.group(1).replace(strip, '', 1)
            res.setdefault((name, int(m.group(2))), []).append(float(m.group(4)))
    return res
go, ob = load(sys.argv[1]), load(sys.argv[2], 'OpenBLAS')
print('%-26s %7s %14s %14s %7s' % ('benchmark', 'threads', 'Aether GFLOP/s', 'OpenBLAS', 'ratio'))
for key in sorted(go, key=lambda k: (k[0].split('/')[0], list(go).index(k))):
    g = statistics.median(go[key])
    o = statistics.median(ob[key]) if key in ob else float('nan')
    print('%-26s %7d %14.1f %14.1f %7.2f' % (key[0], key[1], g, o, g / o))
print('(medians of %d rounds)' % len(next(iter(go.values()))))
PY
if command -v benchstat >/dev/null; then
	benchstat "$go_raw" >"$out/benchstat.txt" 2>&1 || true
	echo "# benchstat of the Go runs: $out/benchstat.txt"
fi
