package model

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// TestRopeTables checks that the table RoPE gives the graph RoPE's float32
// bits, for both pair layouts, a scaled frequency and large positions.
func TestRopeTables(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  graph.RoPE
		hd   int
	}{
		{"interleaved", graph.RoPE{Base: 10000}, 8},
		{"neox", graph.RoPE{Base: 1e6, NeoX: true}, 16},
		{"scaled", graph.RoPE{Base: 500000, Scale: 0.25}, 64},
		{"defaults", graph.RoPE{}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const seq, heads, ctx = 5, 3, 4096
			g := graph.New()
			x := make([]float32, seq*heads*tc.hd)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range x {
				x[i] = float32(rng.NormFloat64() * 3)
			}
			// Placeholders, as in the model: nothing is folded at compile time.
			xt := g.Placeholder("x", tensor.F32, seq, heads, tc.hd)
			pos := g.Placeholder("pos", tensor.I64, seq)
			rt, ok := newRopeTables(g, ctx, tc.hd, tc.cfg)
			if !ok {
				t.Fatal("tables refused a full-width rotation")
			}
			cos, sin := rt.at(pos)
			p, err := graph.Compile([]graph.Tensor{xt.RoPE(pos, tc.cfg), rt.apply(xt, cos, sin)})
			if err != nil {
				t.Fatal(err)
			}
			feeds := graph.Feeds{"x": tensor.NewF32(x, seq, heads, tc.hd), "pos": tensor.NewI64([]int64{0, 1, 17, 1000, ctx - 1}, seq)}
			out, err := p.Run(context.Background(), feeds)
			if err != nil {
				t.Fatal(err)
			}
			want, got := out[0].Float32s(), out[1].Float32s()
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) && got[i] != want[i] {
					t.Fatalf("element %d: %v, graph RoPE %v", i, got[i], want[i])
				}
			}
		})
	}
	if _, ok := newRopeTables(graph.New(), 16, 8, graph.RoPE{Dims: 4}); ok {
		t.Error("partial rotary dims accepted")
	}
}
