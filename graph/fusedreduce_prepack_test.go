package graph_test

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// TestConstWeightPrepacked checks that products by constant weights, plain
// and transposed (packed into the GEMM's panels once), give bit for bit
// the results of the unoptimised program (packed on every run), across
// runs with new inputs, and allocate nothing once packed.
func TestConstWeightPrepacked(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 40, 96)
	w := g.Const(randArray(rng, 96, 72))
	wt := g.Const(randArray(rng, 72, 96))
	a := x.MatMul(w)
	y := a.Tanh().MatMul(wt).MatMul(wt.Transpose()).Add(a)
	packed := compileRows(t, y)
	plain := compileRows(t, y, graph.Optimize(false))
	consts := 0
	for _, v := range packed.IR().Values {
		if v.Op == op.MatMul && v.Attrs.ConstB {
			consts++
		}
	}
	if consts != 3 {
		t.Fatalf("%d matmuls marked ConstB, want 3", consts)
	}
	for run := 0; run < 3; run++ {
		feeds := graph.Feeds{"x": randArray(rng, 40, 96)}
		got, want := runClone(t, packed, feeds), runClone(t, plain, feeds)
		for i, v := range want[0].Float32s() {
			if got[0].Float32s()[i] != v {
				t.Fatalf("run %d: y[%d] = %v, unoptimised %v", run, i, got[0].Float32s()[i], v)
			}
		}
	}
	feeds := graph.Feeds{"x": randArray(rng, 40, 96)}
	ctx := context.Background()
	if n := testing.AllocsPerRun(10, func() {
		if _, err := packed.Run(ctx, feeds); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}
