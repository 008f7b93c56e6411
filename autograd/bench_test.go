package autograd_test

import (
	"context"
	"testing"

	"github.com/aethertensor/aether/autograd"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// mlpLoss records a 4-layer MLP with a cross-entropy loss over a batch.
func mlpLoss(g *graph.Graph, batch, width, classes int) graph.Tensor {
	x := g.Placeholder("x", tensor.F32, batch, width)
	y := g.Placeholder("y", tensor.I64, batch)
	h := x
	for i := range 4 {
		out := width
		if i == 3 {
			out = classes
		}
		w := g.Param(string(rune('a'+i)), tensor.NewF32(make([]float32, h.Shape()[1]*out), h.Shape()[1], out))
		b := g.Param(string(rune('A'+i)), tensor.NewF32(make([]float32, out), out))
		h = h.MatMul(w).Add(b)
		if i < 3 {
			h = h.GELU()
		}
	}
	return graph.CrossEntropy(h, y)
}

// BenchmarkBackwardRecord measures recording the gradient graph of a
// 4-layer MLP (no compilation, no run).
func BenchmarkBackwardRecord(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		g := graph.New()
		if _, err := autograd.Backward(mlpLoss(g, 64, 128, 10)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTrainStepRun measures one run of the compiled loss and
// gradients of a 4-layer MLP, batch 64, width 128, f32 on the CPU.
func BenchmarkTrainStepRun(b *testing.B) {
	g := graph.New()
	loss := mlpLoss(g, 64, 128, 10)
	gs, err := autograd.Backward(loss)
	if err != nil {
		b.Fatal(err)
	}
	outs := []graph.Tensor{loss}
	for _, p := range g.Params() {
		outs = append(outs, gs.Of(p))
	}
	prog, err := graph.Compile(outs)
	if err != nil {
		b.Fatal(err)
	}
	x := tensor.MustZeros(tensor.F32, tensor.Shape{64, 128})
	for i := range x.Float32s() {
		x.Float32s()[i] = float32(i%13) / 13
	}
	y := tensor.MustZeros(tensor.I64, tensor.Shape{64})
	for i := range y.Int64s() {
		y.Int64s()[i] = int64(i % 10)
	}
	feeds := graph.Feeds{"x": x, "y": y}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := prog.Run(ctx, feeds); err != nil {
			b.Fatal(err)
		}
	}
}
