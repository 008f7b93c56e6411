package compiler_test

import (
	"testing"

	"github.com/aethertensor/aether/compiler"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// TestLayoutMarksConstantWeights checks that a matmul over a constant
// right operand is marked ConstB (so the CPU packs it once), that a second
// run changes nothing (the pipeline's fixed point), and that a computed
// operand is left alone.
func TestLayoutMarksConstantWeights(t *testing.T) {
	cases := []struct {
		name  string
		konst bool
	}{{"constant weight", true}, {"computed weight", false}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b builder
			x := b.leaf("x", 3, 4)
			w := b.f.Add(compiler.Value{Op: op.Const, DType: tensor.F64, Shape: tensor.Shape{4, 5}, Attrs: &op.Attrs{Value: tensor.MustZeros(tensor.F64, tensor.Shape{4, 5})}})
			if !c.konst {
				w = b.op(op.Exp, nil, w)
			}
			b.f.Outputs = []int{b.f.Add(compiler.Value{Op: op.MatMul, In: []int{x, w}, DType: tensor.F64, Shape: tensor.Shape{3, 5}})}
			g, changed, err := (compiler.Layout{}).Run(&b.f)
			if err != nil {
				t.Fatal(err)
			}
			if changed != c.konst {
				t.Fatalf("changed = %v, want %v", changed, c.konst)
			}
			for _, v := range g.Values {
				if v.Op == op.MatMul && (v.Attrs != nil && v.Attrs.ConstB) != c.konst {
					t.Errorf("matmul attrs %+v, want ConstB %v", v.Attrs, c.konst)
				}
				if v.Op == op.MatMul && v.Attrs != nil && v.Attrs.TransB {
					t.Errorf("untransposed operand marked TransB")
				}
			}
			if _, again, _ := (compiler.Layout{}).Run(g); again {
				t.Error("a second run changed the function again")
			}
		})
	}
}
