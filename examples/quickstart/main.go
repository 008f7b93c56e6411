// Quickstart builds a small graph, differentiates it, compiles it once and
// runs it twice with different inputs.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/aethertensor/aether/autograd"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(w io.Writer) error {
	// 1. Record a graph. Nothing is computed yet.
	g := graph.New()
	x := g.Param("x", tensor.NewF32([]float32{1, 2, 3, 4}, 2, 2)) // trainable state
	m := g.Const(tensor.NewF32([]float32{0.5, -1, 1, 0.25}, 2, 2))
	b := g.Placeholder("b", tensor.F32, 2) // fed at each run

	logits := x.MatMul(m).Add(b) // [2,2] + [2]: b is broadcast to every row
	probs := logits.Softmax(-1)  // softmax over each row
	score := g.Const(tensor.NewF32([]float32{1, 3}, 2))
	y := probs.Mul(score).SumAll() // expected score, a scalar

	// 2. Differentiate: gradients are more nodes in the same graph.
	grads, err := autograd.Backward(y)
	if err != nil {
		return err
	}
	dx, db := grads.Of(x), grads.Of(b)

	// 3. Compile once. Graph-building mistakes would be reported here, with
	// the file and line of the operation that caused them.
	prog, err := graph.Compile([]graph.Tensor{logits, probs, y, dx, db})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "compiled %d kernel launches\n", prog.Steps())

	// 4. Run it as often as needed with different feeds.
	for i, feed := range [][]float32{{0, 0}, {1, -1}} {
		out, err := prog.Run(context.Background(), graph.Feeds{"b": tensor.NewF32(feed, 2)})
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\nrun %d: b = %v\n", i+1, feed)
		fmt.Fprintf(w, "logits = x·m + b\n%s", format(out[0]))
		fmt.Fprintf(w, "probs = softmax(logits)\n%s", format(out[1]))
		fmt.Fprintf(w, "y = Σ probs·[1 3] = %.6f\n", out[2].Flat(0))
		fmt.Fprintf(w, "dy/dx\n%s", format(out[3]))
		fmt.Fprintf(w, "dy/db\n%s", format(out[4]))
	}
	return nil
}

// format prints a rank-1 or rank-2 array as rows of numbers.
func format(a *tensor.Array) string {
	var sb strings.Builder
	cols := a.Len()
	if s := a.Shape(); len(s) == 2 {
		cols = s[1]
	}
	for i := range a.Len() {
		if i%cols == 0 {
			sb.WriteString("  [")
		}
		fmt.Fprintf(&sb, "%10.6f", a.Flat(i))
		if i%cols == cols-1 {
			sb.WriteString(" ]\n")
		} else {
			sb.WriteByte(' ')
		}
	}
	return sb.String()
}
