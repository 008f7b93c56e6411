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

// TestFusedSumMatchesCPU checks that a fused f32 sum gives the CPU's bits:
// the CPU adds an f32 row in float64 and rounds once, so the shader must
// not round every partial sum to f32 (in its own order). An RMSNorm whose
// mean of squares was an ulp off moved LlamaCppArith's 8-bit activation
// quantisation on the Q4_0 test model by whole steps (issue 7). Rows are
// short (a 32-invocation group), one group wide, and several elements per
// invocation; values span 2^±12 with both signs, so partial sums cancel.
func TestFusedSumMatchesCPU(t *testing.T) {
	d := device(t)
	cases := []struct {
		name  string
		n     int
		build func(x, w graph.Tensor) graph.Tensor
		f     func(float32) float32 // the summed term; nil: compare bits only
	}{
		{"sum_of_squares", 256, func(x, _ graph.Tensor) graph.Tensor { return x.Square().Sum(1) },
			func(v float32) float32 { return v * v }},
		{"signed_sum", 1000, func(x, _ graph.Tensor) graph.Tensor { return x.Neg().Sum(1) },
			func(v float32) float32 { return -v }},
		{"short_rows", 20, func(x, _ graph.Tensor) graph.Tensor { return x.Abs().Sum(1) },
			func(v float32) float32 { return float32(math.Abs(float64(v))) }},
		{"rms_norm", 256, func(x, w graph.Tensor) graph.Tensor { return x.RMSNorm(w, 1e-5) }, nil},
	}
	const rows = 64
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(c.n)))
			xs := make([]float32, rows*c.n)
			for i := range xs {
				xs[i] = float32(rng.NormFloat64() * math.Exp2(float64(rng.Intn(25)-12)))
			}
			ws := make([]float32, c.n)
			for i := range ws {
				ws[i] = float32(0.5 + rng.Float64())
			}
			run := func(opt graph.Option) []float32 {
				g := graph.New()
				x, w := g.Placeholder("x", tensor.F32, rows, c.n), g.Placeholder("w", tensor.F32, c.n)
				p, err := graph.Compile([]graph.Tensor{c.build(x, w)}, opt)
				if err != nil {
					t.Fatal(err)
				}
				out, err := p.Run(context.Background(), graph.Feeds{"x": tensor.NewF32(xs, rows, c.n), "w": tensor.NewF32(ws, c.n)})
				if err != nil {
					t.Fatal(err)
				}
				return append([]float32(nil), out[0].Float32s()...)
			}
			want, got := run(graph.OnDevice(cpu.New())), run(graph.OnDevice(d))
			bad := 0
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					if bad++; bad <= 3 {
						t.Errorf("element %d: %v, CPU %v", i, got[i], want[i])
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d elements differ from the CPU's", bad, len(want))
			}
			if c.f == nil {
				return
			}
			for r := range rows {
				// Rounded once from float64, the sum is the CPU's and the
				// device's unless it lies next to a rounding boundary.
				if ref := float32(sum64(xs[r*c.n:(r+1)*c.n], c.f)); got[r] != ref {
					t.Errorf("row %d: %v, float64 sum rounded once %v", r, got[r], ref)
				}
			}
		})
	}
}

// sum64 adds f(v) over row in float64.
func sum64(row []float32, f func(float32) float32) float64 {
	var s float64
	for _, v := range row {
		s += float64(f(v))
	}
	return s
}
