package autograd_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aethertensor/aether/autograd"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// Backward records the gradient of a loss with respect to every parameter
// and placeholder; the gradients compile into the same Program as the loss.
func ExampleBackward() {
	g := graph.New()
	w := g.Param("w", tensor.NewF64([]float64{0.5, -1}, 2))
	x := g.Placeholder("x", tensor.F64, 2)
	loss := w.Mul(x).Sum().AddScalar(-1).Square() // (w·x - 1)²

	gs, err := autograd.Backward(loss)
	if err != nil {
		fmt.Println(err)
		return
	}
	prog, err := graph.Compile([]graph.Tensor{loss, gs.Of(w), gs.Of(x)})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := prog.Run(context.Background(), graph.Feeds{"x": tensor.NewF64([]float64{4, 2}, 2)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("loss:", out[0].Flat(0))
	fmt.Println("dloss/dw:", out[1])
	fmt.Println("dloss/dx:", out[2])
	// Output:
	// loss: 1
	// dloss/dw: f64[2][-8 -4]
	// dloss/dx: f64[2][-1 2]
}

// A non-scalar output needs a seed: the gradient flowing into it.
func ExampleSeed() {
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, 3)
	y := x.Square()

	if _, err := autograd.Backward(y); errors.Is(err, autograd.ErrSeed) {
		fmt.Println("no seed:", err)
	}
	gs, err := autograd.Backward(y, autograd.Seed(g.Const(tensor.NewF64([]float64{1, 0, -1}, 3))))
	if err != nil {
		fmt.Println(err)
		return
	}
	prog, err := graph.Compile([]graph.Tensor{gs.Of(x)})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := prog.Run(context.Background(), graph.Feeds{"x": tensor.NewF64([]float64{1, 2, 3}, 3)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("seed ⊙ 2x:", out[0])
	// Output:
	// no seed: autograd: bad seed: output [3] is not a scalar; pass autograd.Seed with its shape
	// seed ⊙ 2x: f64[3][2 0 -6]
}

// Gradients are graph operations, so they can be differentiated again:
// here the first three derivatives of x³.
func ExampleGrad() {
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, 3)
	y := x.Mul(x).Mul(x).Sum()

	d1, err := autograd.Grad(y, x)
	if err != nil {
		fmt.Println(err)
		return
	}
	d2, err := autograd.Grad(d1[0].Sum(), x)
	if err != nil {
		fmt.Println(err)
		return
	}
	d3, err := autograd.Grad(d2[0].Sum(), x)
	if err != nil {
		fmt.Println(err)
		return
	}
	prog, err := graph.Compile([]graph.Tensor{d1[0], d2[0], d3[0]})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := prog.Run(context.Background(), graph.Feeds{"x": tensor.NewF64([]float64{-1, 0.5, 2}, 3)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("3x²:", out[0])
	fmt.Println("6x: ", out[1])
	fmt.Println("6:  ", out[2])
	// Output:
	// 3x²: f64[3][3 0.75 12]
	// 6x:  f64[3][-6 3 12]
	// 6:   f64[3][6 6 6]
}

// GradCheck compares the analytic gradients of a function with central
// finite differences; integer inputs such as class targets are fed as they
// are and not differentiated.
func ExampleGradCheck() {
	logits := tensor.NewF64([]float64{0.2, -1, 0.7, 1.5, 0.1, -0.3}, 2, 3)
	targets := tensor.NewI64([]int64{2, 0}, 2)
	w := tensor.NewF64([]float64{0.5, -0.25, 1, 0.75, -0.5, 0.1, 0.3, 0.2, -0.6}, 3, 3)

	err := autograd.GradCheck(func(g *graph.Graph, x []graph.Tensor) graph.Tensor {
		return graph.CrossEntropy(x[0].MatMul(x[1]).Tanh(), x[2])
	}, []*tensor.Array{logits, w, targets}, autograd.Check{})
	fmt.Println("cross-entropy:", err)

	// relu has no derivative at 0: the rule says 0, the central difference 1/2.
	err = autograd.GradCheck(func(g *graph.Graph, x []graph.Tensor) graph.Tensor {
		return x[0].Relu().Sum()
	}, []*tensor.Array{tensor.NewF64([]float64{-1, 0, 1}, 3)}, autograd.Check{})
	var ge *autograd.GradCheckError
	if errors.As(err, &ge) {
		m := ge.Mismatches[0]
		fmt.Printf("relu: %d of %d failed; %s%v analytic %g numeric %.3g\n", ge.Failed, ge.Checked, m.Name, m.Index, m.Analytic, m.Numeric)
	}
	// Output:
	// cross-entropy: <nil>
	// relu: 1 of 3 failed; x0[1] analytic 0 numeric 0.5
}
