package graph_test

import (
	"context"
	"math"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// TestCastToHalfRounds checks that casting to F16 or BF16 rounds to that
// precision (ties to even, overflow to infinity) and yields F32, fused or
// not, from f32 and f64 inputs.
func TestCastToHalfRounds(t *testing.T) {
	vals := []float64{1 + 1.0/4096, 1 + 3.0/2048, 70000, -0.1, 1e-8, 3.14159265}
	for _, half := range []tensor.DType{tensor.F16, tensor.BF16} {
		for _, from := range []tensor.DType{tensor.F32, tensor.F64} {
			for _, fuse := range []bool{true, false} {
				g := graph.New()
				x := g.Placeholder("x", from, len(vals))
				y := x.Scale(1).Cast(half)
				if y.DType() != tensor.F32 {
					t.Fatalf("cast to %v has dtype %v, want f32", half, y.DType())
				}
				p, err := graph.Compile([]graph.Tensor{y.Neg().Neg()}, graph.Fuse(fuse))
				if err != nil {
					t.Fatal(err)
				}
				in := tensor.MustZeros(from, tensor.Shape{len(vals)})
				for i, v := range vals {
					in.SetFlat(i, v)
				}
				out, err := p.Run(context.Background(), graph.Feeds{"x": in})
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range vals {
					var want float32
					if half == tensor.F16 {
						want = tensor.F16ToF32(tensor.F32ToF16(float32(v)))
					} else {
						want = tensor.BF16ToF32(tensor.F32ToBF16(float32(v)))
					}
					if got := out[0].Float32s()[i]; got != want && !(math.IsInf(float64(got), 1) && math.IsInf(float64(want), 1)) {
						t.Errorf("%v→%v fuse=%v: %v rounds to %v, want %v", from, half, fuse, v, got, want)
					}
				}
			}
		}
	}
}
