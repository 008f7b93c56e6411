package optim_test

import (
	"context"
	"fmt"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/optim"
	"github.com/aethertensor/aether/tensor"
)

// Fit y = 2x + 1 with Adam: one Program computes the loss, its gradients
// and the update, and is replayed once per step.
func Example() {
	g := graph.New()
	x := g.Const(tensor.NewF32([]float32{-1, 0, 1, 2}, 4))
	y := g.Const(tensor.NewF32([]float32{-1, 1, 3, 5}, 4))
	w := g.Param("w", tensor.Scalar(tensor.F32, 0))
	b := g.Param("b", tensor.Scalar(tensor.F32, 0))
	loss := x.Mul(w).Add(b).Sub(y).Square().Mean()

	updates, err := optim.NewAdam(optim.AdamConfig{LR: 0.1}).Minimize(loss)
	if err != nil {
		fmt.Println(err)
		return
	}
	prog, err := graph.Compile(append([]graph.Tensor{loss}, updates...))
	if err != nil {
		fmt.Println(err)
		return
	}
	for step := range 500 {
		out, err := prog.Run(context.Background(), nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		if step == 0 {
			fmt.Printf("initial loss %.2f\n", out[0].Flat(0))
		}
	}
	wv, _ := g.Var("w")
	bv, _ := g.Var("b")
	fmt.Printf("w = %.3f, b = %.3f\n", wv.Value().Flat(0), bv.Value().Flat(0))
	// Output:
	// initial loss 9.00
	// w = 2.000, b = 1.000
}
