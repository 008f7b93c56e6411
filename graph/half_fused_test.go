package graph_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// TestHalfLoadsFused reads a half cache the way attention does (a slice of
// the positions in use, widened, combined with f32 values) and checks that
// on the CPU the widening runs inside the consumer's fused kernel, with
// the same bits as the unfused program, for f16 and bf16 and for rows
// long enough for the register-level executor and short ones.
func TestHalfLoadsFused(t *testing.T) {
	for _, d := range []tensor.DType{tensor.F16, tensor.BF16} {
		for _, dim := range []int{8, 300} {
			rng := rand.New(rand.NewPCG(uint64(dim), 5))
			const heads, cap, used = 2, 16, 11
			init := tensor.MustZeros(tensor.F32, tensor.Shape{heads, cap, dim})
			for i := range init.Float32s() {
				init.Float32s()[i] = float32(rng.NormFloat64() * 3)
			}
			half, err := init.Convert(d)
			if err != nil {
				t.Fatal(err)
			}
			run := func(fuse bool) ([]float32, int) {
				g := graph.New()
				kc := g.Variable("k", half)
				x := g.Placeholder("x", tensor.F32, heads, used, dim)
				y := kc.SliceAxis(1, 0, used, 1).Cast(tensor.F32).Mul(x).Add(x.Exp())
				p, err := graph.Compile([]graph.Tensor{y}, graph.Fuse(fuse))
				if err != nil {
					t.Fatal(err)
				}
				xs := tensor.MustZeros(tensor.F32, tensor.Shape{heads, used, dim})
				for i := range xs.Float32s() {
					xs.Float32s()[i] = float32(i%17) / 7
				}
				out, err := p.Run(context.Background(), graph.Feeds{"x": xs})
				if err != nil {
					t.Fatal(err)
				}
				return append([]float32(nil), out[0].Float32s()...), p.Steps()
			}
			want, unfused := run(false)
			got, fused := run(true)
			if fused != 1 {
				t.Errorf("%v dim %d: %d launches fused (%d unfused), want 1: slice, widening and arithmetic in one kernel", d, dim, fused, unfused)
			}
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v dim %d: element %d = %v fused, %v unfused", d, dim, i, got[i], want[i])
				}
			}
		}
	}
}
