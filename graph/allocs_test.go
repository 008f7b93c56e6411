package graph_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/optim"
	"github.com/aethertensor/aether/tensor"
)

func randArray(rng *rand.Rand, shape ...int) *tensor.Array {
	a := tensor.MustZeros(tensor.F32, shape)
	for i := range a.Float32s() {
		a.Float32s()[i] = float32(rng.NormFloat64() * 0.3)
	}
	return a
}

// mlpStep is one training step: forward, backward and an Adam update.
func mlpStep(t testing.TB) (*graph.Program, graph.Feeds) {
	rng := rand.New(rand.NewPCG(1, 2))
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 64, 32)
	y := g.Placeholder("y", tensor.I64, 64)
	w1 := g.Param("w1", randArray(rng, 32, 64))
	b1 := g.Param("b1", randArray(rng, 64))
	w2 := g.Param("w2", randArray(rng, 64, 10))
	loss := graph.CrossEntropy(x.MatMul(w1).Add(b1).Tanh().MatMul(w2), y)
	updates, err := optim.NewAdam(optim.AdamConfig{LR: 1e-3}).Minimize(loss)
	if err != nil {
		t.Fatal(err)
	}
	p, err := graph.Compile(append([]graph.Tensor{loss}, updates...))
	if err != nil {
		t.Fatal(err)
	}
	labels := tensor.MustZeros(tensor.I64, tensor.Shape{64})
	for i := range labels.Int64s() {
		labels.Int64s()[i] = int64(i % 10)
	}
	return p, graph.Feeds{"x": randArray(rng, 64, 32), "y": labels}
}

// transformerBlock is one pre-norm decoder block over 16 tokens.
func transformerBlock(t testing.TB) (*graph.Program, graph.Feeds) {
	const seq, dim, heads, kv, ff = 16, 64, 8, 4, 128
	hd := dim / heads
	rng := rand.New(rand.NewPCG(3, 4))
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, seq, dim)
	pos := g.Placeholder("pos", tensor.I64, seq)
	c := func(shape ...int) graph.Tensor { return g.Const(randArray(rng, shape...)) }
	h := x.RMSNorm(c(dim), 1e-5)
	q := h.MatMul(c(dim, dim)).Reshape(seq, heads, hd).RoPE(pos, graph.RoPE{})
	k := h.MatMul(c(dim, kv*hd)).Reshape(seq, kv, hd).RoPE(pos, graph.RoPE{})
	v := h.MatMul(c(dim, kv*hd)).Reshape(seq, kv, hd)
	att := graph.ScaledDotProductAttention(q.Permute(1, 0, 2), k.Permute(1, 0, 2), v.Permute(1, 0, 2), graph.Attention{Causal: true})
	x = x.Add(att.Permute(1, 0, 2).Reshape(seq, dim).MatMul(c(dim, dim)))
	h = x.RMSNorm(c(dim), 1e-5)
	x = x.Add(h.MatMul(c(dim, ff)).SiLU().Mul(h.MatMul(c(dim, ff))).MatMul(c(ff, dim)))
	p, err := graph.Compile([]graph.Tensor{x})
	if err != nil {
		t.Fatal(err)
	}
	ps := tensor.MustZeros(tensor.I64, tensor.Shape{seq})
	for i := range ps.Int64s() {
		ps.Int64s()[i] = int64(i)
	}
	return p, graph.Feeds{"x": randArray(rng, seq, dim), "pos": ps}
}

// TestRunAllocatesNothing guards "compile once, run many": replaying a
// compiled Program on the CPU allocates no memory.
func TestRunAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	for name, build := range map[string]func(testing.TB) (*graph.Program, graph.Feeds){
		"mlp train step":    mlpStep,
		"transformer block": transformerBlock,
	} {
		t.Run(name, func(t *testing.T) {
			p, feeds := build(t)
			ctx := context.Background()
			if _, err := p.Run(ctx, feeds); err != nil {
				t.Fatal(err)
			}
			allocs := testing.AllocsPerRun(20, func() {
				if _, err := p.Run(ctx, feeds); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("Program.Run allocated %.1f times per run (%d launches)", allocs, p.Steps())
			}
		})
	}
}
