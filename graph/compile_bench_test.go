package graph_test

import (
	"context"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// chain8 records an 8-operation elementwise chain over x.
func chain8(x graph.Tensor) graph.Tensor {
	return x.Scale(1.5).AddScalar(0.25).Relu().Mul(x).Sub(x).Neg().Maximum(x).AddScalar(1)
}

// BenchmarkChain8 compares an 8-operation elementwise chain over 2^24 f32
// values fused into one kernel, unfused (one launch per operation), and a
// plain copy of the same bytes (the floor a fused kernel approaches).
func BenchmarkChain8(b *testing.B) {
	const n = 1 << 24
	x := tensor.MustZeros(tensor.F32, tensor.Shape{n})
	for i := range x.Float32s() {
		x.Float32s()[i] = float32(i%1000) / 500
	}
	for _, mode := range []struct {
		name string
		fuse bool
	}{{"fused", true}, {"unfused", false}} {
		b.Run(mode.name, func(b *testing.B) {
			g := graph.New()
			p, err := graph.Compile([]graph.Tensor{chain8(g.Placeholder("x", tensor.F32, n))}, graph.Fuse(mode.fuse))
			if err != nil {
				b.Fatal(err)
			}
			feeds := graph.Feeds{"x": x}
			ctx := context.Background()
			b.SetBytes(2 * 4 * n) // one read, one write
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.Run(ctx, feeds); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(p.Steps()), "launches")
		})
	}
	b.Run("memcpy", func(b *testing.B) {
		dst := make([]float32, n)
		b.SetBytes(2 * 4 * n)
		for b.Loop() {
			copy(dst, x.Float32s())
		}
	})
}

// BenchmarkDispatch measures the per-launch overhead of replaying a
// Program of tiny kernels: a chain of 1000 reductions with a negation after
// every second one, on one element. Unfused, every operation is a launch
// (1500); fused, each negation joins a reduction's epilogue and pairs of
// reductions chain, so fewer, heavier launches remain.
func BenchmarkDispatch(b *testing.B) {
	for _, fuse := range []bool{false, true} {
		name := "unfused"
		if fuse {
			name = "fused"
		}
		b.Run(name, func(b *testing.B) {
			g := graph.New()
			x := g.Placeholder("x", tensor.F32, 1)
			y := x
			for i := 0; i < 1000; i++ {
				y = y.SumKeep(0)
				if i%2 == 1 {
					y = y.Neg()
				}
			}
			p, err := graph.Compile([]graph.Tensor{y}, graph.Fuse(fuse))
			if err != nil {
				b.Fatal(err)
			}
			feeds := graph.Feeds{"x": tensor.NewF32([]float32{1}, 1)}
			ctx := context.Background()
			steps := p.Steps()
			b.ResetTimer()
			for b.Loop() {
				if _, err := p.Run(ctx, feeds); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(steps), "ns/launch")
			b.ReportMetric(float64(steps), "launches")
		})
	}
}

// BenchmarkCompile10k measures Compile on a 10,000-operation graph: a
// 100-layer stack of 100 operations each.
func BenchmarkCompile10k(b *testing.B) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 16, 16)
	w := g.Param("w", tensor.MustZeros(tensor.F32, tensor.Shape{16, 16}))
	h := x
	for g.Len() < 10000 {
		h = h.MatMul(w).Tanh().Add(x).Scale(0.5).Sigmoid().Mul(h)
	}
	nodes := g.Len()
	b.ResetTimer()
	for b.Loop() {
		if _, err := graph.Compile([]graph.Tensor{h.Sum()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(nodes), "nodes")
}
