//go:build cgo

package wgpu_test

import (
	"context"
	"math/rand"
	"testing"

	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// TestMatMulEpilogues runs matrix products with fused scale, bias,
// activation and residual on both backends: the WebGPU plan must fuse them, and the
// results agree with the CPU.
func TestMatMulEpilogues(t *testing.T) {
	d := device(t)
	ctx := context.Background()
	cases := []struct {
		name  string
		build func(a, w, wt, bias, res graph.Tensor) graph.Tensor
	}{
		{"bias", func(a, w, wt, b, r graph.Tensor) graph.Tensor { return a.MatMul(w).Add(b) }},
		{"bias_relu", func(a, w, wt, b, r graph.Tensor) graph.Tensor { return a.MatMul(w).Add(b).Relu() }},
		{"silu", func(a, w, wt, b, r graph.Tensor) graph.Tensor { return a.MatMul(w).SiLU() }},
		{"residual", func(a, w, wt, b, r graph.Tensor) graph.Tensor { return r.Add(a.MatMul(w)) }},
		{"bias_silu_residual", func(a, w, wt, b, r graph.Tensor) graph.Tensor { return a.MatMul(w).Add(b).SiLU().Add(r) }},
		{"scale_bias_residual", func(a, w, wt, b, r graph.Tensor) graph.Tensor { return a.MatMul(w).Scale(0.3).Add(b).Add(r) }},
		{"transposed_bias_relu_residual", func(a, w, wt, b, r graph.Tensor) graph.Tensor {
			return a.MatMul(wt.Transpose()).Add(b).Relu().Add(r)
		}},
	}
	rng := rand.New(rand.NewSource(4))
	// Batched, sizes off the 64×64 tile.
	feeds := graph.Feeds{"a": randArray(rng, 2, 67, 33), "w": randArray(rng, 2, 33, 70), "wt": randArray(rng, 2, 70, 33),
		"b": randArray(rng, 70), "r": randArray(rng, 2, 67, 70)}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := func(opt graph.Option, wgpu bool) *tensor.Array {
				g := graph.New()
				a, w := g.Placeholder("a", tensor.F32, 2, 67, 33), g.Placeholder("w", tensor.F32, 2, 33, 70)
				wt := g.Placeholder("wt", tensor.F32, 2, 70, 33)
				b, r := g.Placeholder("b", tensor.F32, 70), g.Placeholder("r", tensor.F32, 2, 67, 70)
				p, err := graph.Compile([]graph.Tensor{c.build(a, w, wt, b, r)}, opt)
				if err != nil {
					t.Fatal(err)
				}
				if wgpu {
					fused := 0
					for _, gr := range p.Fusion().Groups {
						if gr.Epilogue != nil {
							fused++
						}
					}
					if fused != 1 {
						t.Fatalf("%d matmuls with epilogues, want 1", fused)
					}
				}
				out, err := p.Run(ctx, feeds)
				if err != nil {
					t.Fatal(err)
				}
				return out[0].Clone()
			}
			want := run(graph.OnDevice(cpu.New()), false)
			got := run(graph.OnDevice(d), true)
			if e := nmse(got.ToFloat64(), want.ToFloat64()); !(e <= 1e-7) {
				t.Errorf("NMSE %.3g > 1e-7", e)
			}
		})
	}
}
