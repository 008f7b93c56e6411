package graph_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// BenchmarkFusedReduce runs row-wise blocks over a 4096×4096 f32 matrix
// with reduction epilogues (fused), without them (unfused: the consumers
// of each reduced value are a kernel of their own) and, for softmax, as
// the library op. GB/s counts the minimum traffic: the input read once
// and the output written once.
func BenchmarkFusedReduce(b *testing.B) {
	const rows, cols = 4096, 4096
	rng := rand.New(rand.NewPCG(1, 1))
	blocks := []struct {
		name  string
		build func(x, w graph.Tensor) graph.Tensor
	}{
		{"layer_norm", func(x, w graph.Tensor) graph.Tensor { return x.LayerNorm(w, w, 1e-5) }},
		{"rms_norm", func(x, w graph.Tensor) graph.Tensor { return x.RMSNorm(w, 1e-5) }},
		{"softmax", func(x, w graph.Tensor) graph.Tensor { return softmaxRows(x) }},
	}
	xs, ws := randArray(rng, rows, cols), randArray(rng, cols)
	bench := func(b *testing.B, y graph.Tensor, opts ...graph.Option) {
		p := compileRows(b, y, opts...)
		feeds := graph.Feeds{"x": xs, "w": ws}
		ctx := context.Background()
		for b.Loop() {
			if _, err := p.Run(ctx, feeds); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(2*4*rows*cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		b.ReportMetric(float64(p.Steps()), "launches")
	}
	for _, c := range blocks {
		g := graph.New()
		y := c.build(g.Placeholder("x", tensor.F32, rows, cols), g.Placeholder("w", tensor.F32, cols))
		b.Run(c.name+"/fused", func(b *testing.B) { bench(b, y) })
		b.Run(c.name+"/unfused", func(b *testing.B) { bench(b, y, graph.OnDevice(noReduceEpilogues{cpu.New()})) })
	}
	g := graph.New()
	y := g.Placeholder("x", tensor.F32, rows, cols).Softmax(-1)
	g.Placeholder("w", tensor.F32, cols)
	b.Run("softmax/library", func(b *testing.B) { bench(b, y) })
}

// BenchmarkConstWeightMatMul runs a 64×4096 by 4096×4096 product by a
// constant weight in a Program: optimised, the weight is packed into the
// GEMM's panels on the first run only; unoptimised (no Layout pass), on
// every run.
func BenchmarkConstWeightMatMul(b *testing.B) {
	const m, k, n = 64, 4096, 4096
	rng := rand.New(rand.NewPCG(2, 2))
	g := graph.New()
	y := g.Placeholder("x", tensor.F32, m, k).MatMul(g.Const(randArray(rng, k, n)))
	feeds := graph.Feeds{"x": randArray(rng, m, k)}
	for _, c := range []struct {
		name string
		opt  bool
	}{{"prepacked", true}, {"pack-each-run", false}} {
		b.Run(c.name, func(b *testing.B) {
			p := compileRows(b, y, graph.Optimize(c.opt))
			ctx := context.Background()
			for b.Loop() {
				if _, err := p.Run(ctx, feeds); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(2*m*k*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
