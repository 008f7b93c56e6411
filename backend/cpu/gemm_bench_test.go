package cpu

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// gemmShapes are the benchmarked products: squares and LLM layers
// (one token through a 4096x4096 projection; a 512-token prompt through a
// 4096 -> 11008 feed-forward projection).
var gemmShapes = []struct {
	name    string
	m, k, n int
}{
	{"256", 256, 256, 256},
	{"512", 512, 512, 512},
	{"1024", 1024, 1024, 1024},
	{"2048", 2048, 2048, 2048},
	{"1x4096x4096", 1, 4096, 4096},
	{"512x4096x11008", 512, 4096, 11008},
}

// threadCounts are the GOMAXPROCS values each shape is measured at: one
// core and every core. The benchmarks set GOMAXPROCS themselves instead of
// relying on -cpu, because the testing package measures a b.Loop benchmark
// for the first -cpu value before it applies that value.
func threadCounts() []int {
	if n := runtime.NumCPU(); n > 1 {
		return []int{1, n}
	}
	return []int{1}
}

// benchThreads runs f as sub-benchmarks threads=N with GOMAXPROCS = N.
func benchThreads(b *testing.B, f func(b *testing.B)) {
	for _, p := range threadCounts() {
		b.Run(fmt.Sprintf("threads=%d", p), func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(p))
			f(b)
		})
	}
}

// benchGEMM reports GFLOP/s (2mnk per product) for one shape.
func benchGEMM[T float](b *testing.B, m, k, n int, generic bool) {
	old := forceGeneric(generic)
	g, err := NewGEMM[T](1, m, k, n)
	forceGeneric(old)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	x, y, z := make([]T, m*k), make([]T, k*n), make([]T, m*n)
	for i := range x {
		x[i] = T(r.Float64())
	}
	for i := range y {
		y[i] = T(r.Float64())
	}
	b.SetBytes(int64(len(x)+len(y)) * int64(sizeOf[T]()))
	for b.Loop() {
		if err := g.Run(z, x, y, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(2*float64(m)*float64(k)*float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

func sizeOf[T float]() int {
	var z T
	if _, ok := any(z).(float32); ok {
		return 4
	}
	return 8
}

// BenchmarkSGEMM is float32 GEMM with the best kernels on one core and on
// all of them.
func BenchmarkSGEMM(b *testing.B) {
	for _, s := range gemmShapes {
		b.Run(s.name, func(b *testing.B) {
			benchThreads(b, func(b *testing.B) { benchGEMM[float32](b, s.m, s.k, s.n, false) })
		})
	}
}

// BenchmarkDGEMM is float64 GEMM with the best kernels.
func BenchmarkDGEMM(b *testing.B) {
	for _, s := range gemmShapes[:4] {
		b.Run(s.name, func(b *testing.B) {
			benchThreads(b, func(b *testing.B) { benchGEMM[float64](b, s.m, s.k, s.n, false) })
		})
	}
}

// BenchmarkSGEMMGeneric is float32 GEMM forced onto the Go kernels.
func BenchmarkSGEMMGeneric(b *testing.B) {
	for _, n := range []int{256, 512} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			benchThreads(b, func(b *testing.B) { benchGEMM[float32](b, n, n, n, true) })
		})
	}
}
