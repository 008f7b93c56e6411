//go:build cgo

package wgpu_test

import (
	"context"
	"math/rand"
	"testing"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// benchProgram times prog.Run (feeds uploaded, kernels run, outputs read
// back) on each device.
func benchProgram(b *testing.B, build func(g *graph.Graph) (graph.Tensor, graph.Feeds), flops, bytes float64) {
	for _, dev := range []struct {
		name string
		d    func() backend.Device
	}{{"cpu", func() backend.Device { return cpu.New() }}, {"wgpu", func() backend.Device { return device(b) }}} {
		b.Run(dev.name, func(b *testing.B) {
			g := graph.New()
			y, feeds := build(g)
			p, err := graph.Compile([]graph.Tensor{y}, graph.OnDevice(dev.d()))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			if _, err := p.Run(ctx, feeds); err != nil { // warm up: pipelines, uploads
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.Run(ctx, feeds); err != nil {
					b.Fatal(err)
				}
			}
			s := b.Elapsed().Seconds() / float64(b.N)
			if flops > 0 {
				b.ReportMetric(flops/s/1e9, "GFLOP/s")
			}
			if bytes > 0 {
				b.ReportMetric(bytes/s/1e9, "GB/s")
			}
		})
	}
}

// BenchmarkMatMul1024 multiplies two fed 1024×1024 matrices.
func BenchmarkMatMul1024(b *testing.B) {
	const n = 1024
	benchProgram(b, func(g *graph.Graph) (graph.Tensor, graph.Feeds) {
		rng := rand.New(rand.NewSource(1))
		x := g.Placeholder("x", tensor.F32, n, n)
		w := g.Param("w", randArray(rng, n, n))
		return x.MatMul(w), graph.Feeds{"x": randArray(rng, n, n)}
	}, 2*n*n*n, 0)
}

// BenchmarkFusedChain runs an eight-operation elementwise chain over 4M
// values with a broadcast bias: one fused kernel.
func BenchmarkFusedChain(b *testing.B) {
	const rows, cols = 1024, 4096
	benchProgram(b, func(g *graph.Graph) (graph.Tensor, graph.Feeds) {
		rng := rand.New(rand.NewSource(2))
		x := g.Placeholder("x", tensor.F32, rows, cols)
		bias := g.Param("b", randArray(rng, cols))
		y := x.Add(bias).Scale(0.5).Tanh().Mul(x).AddScalar(1).Relu().Sqrt().Neg()
		return y, graph.Feeds{"x": randArray(rng, rows, cols)}
	}, 0, 2*4*rows*cols)
}

// BenchmarkRMSNorm normalises 256 rows of 4096 values with a weight: on
// WebGPU the mean of squares and the scaling are one fused reduction
// kernel with an epilogue (a workgroup per row).
func BenchmarkRMSNorm(b *testing.B) {
	const rows, cols = 256, 4096
	benchProgram(b, func(g *graph.Graph) (graph.Tensor, graph.Feeds) {
		rng := rand.New(rand.NewSource(3))
		x := g.Placeholder("x", tensor.F32, rows, cols)
		w := g.Param("w", randArray(rng, cols))
		return x.RMSNorm(w, 1e-6), graph.Feeds{"x": randArray(rng, rows, cols)}
	}, 0, 2*4*rows*cols)
}
