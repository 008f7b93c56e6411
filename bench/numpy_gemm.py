"""Times numpy matmul (OpenBLAS) on the shapes of BenchmarkSGEMM and
BenchmarkDGEMM and prints Go-benchmark lines, so one parser reads both.

Usage: python3 numpy_gemm.py THREADS [MIN_SECONDS]
The thread count must also be in OPENBLAS_NUM_THREADS before numpy loads.
"""
import sys
import time

import numpy as np

SHAPES = [
    ("256", 256, 256, 256),
    ("512", 512, 512, 512),
    ("1024", 1024, 1024, 1024),
    ("2048", 2048, 2048, 2048),
    ("1x4096x4096", 1, 4096, 4096),
    ("512x4096x11008", 512, 4096, 11008),
]


def bench(name, dtype, m, k, n, threads, min_s):
    rng = np.random.default_rng(1)
    a = rng.random((m, k), dtype=np.float64).astype(dtype)
    b = rng.random((k, n), dtype=np.float64).astype(dtype)
    c = np.empty((m, n), dtype=dtype)
    np.matmul(a, b, out=c)
    it, t0 = 0, time.perf_counter()
    while True:
        np.matmul(a, b, out=c)
        it += 1
        dt = time.perf_counter() - t0
        if dt >= min_s and it >= 2:
            break
    per = dt / it
    print("BenchmarkOpenBLAS%s/%s/threads=%d\t%d\t%.0f ns/op\t%.2f GFLOP/s"
          % (name, shape_name(m, k, n), threads, it, per * 1e9, 2.0 * m * k * n / per / 1e9))
    sys.stdout.flush()


def shape_name(m, k, n):
    for s, mm, kk, nn in SHAPES:
        if (mm, kk, nn) == (m, k, n):
            return s
    return "%dx%dx%d" % (m, k, n)


def main():
    threads = int(sys.argv[1])
    min_s = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
    for _, m, k, n in SHAPES:
        bench("SGEMM", np.float32, m, k, n, threads, min_s)
    for _, m, k, n in SHAPES[:4]:
        bench("DGEMM", np.float64, m, k, n, threads, min_s)


if __name__ == "__main__":
    main()
