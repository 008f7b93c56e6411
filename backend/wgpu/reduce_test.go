//go:build cgo

package wgpu_test

import (
	"context"
	"math"
	"math/rand"
	"testing"

	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// TestFusedReductions runs reductions that the partitioner fuses with
// their prologues (and epilogues) on both backends: the WebGPU program
// must contain fused reduction kernels and agree with the CPU.
func TestFusedReductions(t *testing.T) {
	d := device(t)
	ctx := context.Background()
	cases := []struct {
		name      string
		inputs    []input
		epilogues bool // the plan must hold a reduction with an epilogue
		build     func(g *graph.Graph, x []graph.Tensor) []graph.Tensor
	}{
		// Softmax written out (the Softmax op is a library kernel).
		{"softmax", []input{f32("x", 5, 301)}, true, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			s := x[0].Scale(3)
			e := s.Sub(s.MaxKeep(1)).Exp()
			return []graph.Tensor{e.Div(e.SumKeep(1))}
		}},
		{"rms_norm", []input{f32("x", 7, 300), f32("w", 300)}, true, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return []graph.Tensor{x[0].RMSNorm(x[1], 1e-6)}
		}},
		{"layer_norm", []input{f32("x", 3, 1, 77), f32("w", 77), f32("b", 77)}, true, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return []graph.Tensor{x[0].LayerNorm(x[1], x[2], 1e-5)}
		}},
		{"sum_prologues", []input{f32("a", 4, 3, 517), f32("b", 3, 1)}, false, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			a, b := x[0], x[1]
			return []graph.Tensor{a.Mul(b).Exp().Sum(2), a.Square().Mean(1, 2), a.Sub(b).Abs().Max(2), a.Transpose().Neg().Min(2), a.Tanh().SumAll()}
		}},
		// Rows over the 65535 workgroups of one grid dimension, short rows.
		{"many_rows", []input{f32("x", 65601, 3)}, false, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return []graph.Tensor{x[0].Exp().Sum(1)}
		}},
		{"int_sum", []input{idx("i", tensor.I32, 100, 6, 41)}, false, func(g *graph.Graph, x []graph.Tensor) []graph.Tensor {
			return []graph.Tensor{x[0].Mul(x[0]).Sum(1).Cast(tensor.F32), x[0].AddScalar(-50).Max(1).Cast(tensor.F32), x[0].Neg().Min(1).Cast(tensor.F32)}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			feeds := feedsFor(rand.New(rand.NewSource(int64(len(c.name)))), c.inputs)
			run := func(opt graph.Option, wgpu bool) []*tensor.Array {
				g := graph.New()
				var xs []graph.Tensor
				for _, in := range c.inputs {
					xs = append(xs, g.Placeholder(in.name, in.dtype, in.shape...))
				}
				p, err := graph.Compile(c.build(g, xs), opt)
				if err != nil {
					t.Fatal(err)
				}
				if wgpu {
					reduces, epilogues := 0, 0
					for _, gr := range p.Fusion().Groups {
						if gr.Reduce != nil {
							reduces++
							if gr.Reduce.Epilogue != nil {
								epilogues++
							}
						}
					}
					if reduces == 0 || (c.epilogues && epilogues == 0) {
						t.Fatalf("%d fused reductions, %d with epilogues: the case does not exercise them", reduces, epilogues)
					}
				}
				out, err := p.Run(ctx, feeds)
				if err != nil {
					t.Fatal(err)
				}
				for i := range out {
					out[i] = out[i].Clone()
				}
				return out
			}
			want := run(graph.OnDevice(cpu.New()), false)
			got := run(graph.OnDevice(d), true)
			for i := range want {
				if e := nmse(got[i].ToFloat64(), want[i].ToFloat64()); !(e <= 1e-7) {
					t.Errorf("output %d: NMSE %.3g > 1e-7", i, e)
				}
			}
		})
	}
}

// TestFusedReductionNaN checks that a NaN wins a fused max or min, as on
// the CPU, and that an infinity survives a sum.
func TestFusedReductionNaN(t *testing.T) {
	d := device(t)
	vals := make([]float32, 3*300)
	for i := range vals {
		vals[i] = float32(i%17) - 8
	}
	vals[5] = float32(math.NaN())   // row 0
	vals[599] = float32(math.NaN()) // row 1, last
	vals[600] = float32(math.Inf(1))
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 3, 300)
	p, err := graph.Compile([]graph.Tensor{x.Abs().Max(1), x.Neg().Min(1), x.Exp().Sum(1)}, graph.OnDevice(d))
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Run(context.Background(), graph.Feeds{"x": tensor.NewF32(vals, 3, 300)})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out[:2] {
		v := o.Float32s()
		if v[0] == v[0] || v[1] == v[1] || v[2] != float32(math.Inf(1-2*i)) {
			t.Errorf("output %d: %v, want NaN, NaN, %v", i, v, math.Inf(1-2*i))
		}
	}
	if s := out[2].Float32s(); s[0] == s[0] || s[1] == s[1] || !math.IsInf(float64(s[2]), 1) {
		t.Errorf("sums %v, want NaN, NaN, +Inf", s)
	}
}
