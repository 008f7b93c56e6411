//go:build cgo

package wgpu_test

import (
	"context"
	"math"
	"testing"

	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// TestExpMatchesCPU checks that fused kernels compute exp and sigmoid as
// the CPU backend does, bit for bit, over the range where both use the
// CPU's polynomial (llvmpipe's own exp is up to 17 ulp off), and agree
// with float64 maths within 2 ulp (sigmoid 4) there; outside it, within
// 4 ulp or below the normal range.
func TestExpMatchesCPU(t *testing.T) {
	d := device(t)
	const n = 1 << 16
	xs := make([]float32, n)
	for i := range xs {
		xs[i] = -100 + 190*float32(i)/n
	}
	xs[0], xs[1], xs[2] = float32(math.Inf(-1)), float32(math.NaN()), float32(math.Inf(1))
	run := func(dev graph.Option) []*tensor.Array {
		g := graph.New()
		x := g.Placeholder("x", tensor.F32, n)
		p, err := graph.Compile([]graph.Tensor{x.Exp(), x.Sigmoid()}, dev)
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Run(context.Background(), graph.Feeds{"x": tensor.NewF32(xs, n)})
		if err != nil {
			t.Fatal(err)
		}
		return []*tensor.Array{out[0].Clone(), out[1].Clone()}
	}
	want, got := run(graph.OnDevice(cpu.New())), run(graph.OnDevice(d))
	for k, name := range []string{"exp", "sigmoid"} {
		w, g := want[k].Float32s(), got[k].Float32s()
		for i, x := range xs {
			in := x >= -87 && x <= 88
			if name == "sigmoid" {
				in = -x >= -87 && -x <= 88
			}
			if in && math.Float32bits(w[i]) != math.Float32bits(g[i]) {
				t.Errorf("%s(%v) = %v, CPU %v", name, x, g[i], w[i])
			}
			ref := math.Exp(float64(x))
			if name == "sigmoid" {
				ref = 1 / (1 + math.Exp(-float64(x)))
			}
			if math.IsNaN(ref) {
				if !math.IsNaN(float64(g[i])) {
					t.Fatalf("%s(%v) = %v, want NaN", name, x, g[i])
				}
				continue
			}
			ulp := float64(math.Nextafter32(float32(ref), float32(math.Inf(1))) - float32(ref))
			tol := 2 * ulp
			if name == "sigmoid" {
				tol = 4 * ulp // as the CPU's (1 + e rounds once more)
			}
			if !in {
				tol = math.Max(4*ulp, 0x1p-126)
			}
			if diff := math.Abs(float64(g[i]) - ref); diff > tol && !(math.IsInf(ref, 1) && math.IsInf(float64(g[i]), 1)) {
				t.Fatalf("%s(%v) = %v, float64 %v", name, x, g[i], ref)
			}
		}
	}
}
