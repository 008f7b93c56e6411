// Package graph is Aether's user API: record tensor operations into a
// deferred DAG, then compile it once and run it many times.
//
// Nothing runs while a graph is built. Each operation checks its operands'
// shapes and dtypes at once; the first mistake is kept, with the file and
// line of the user's call, and returned by Compile (and by autograd), so
// building code needs no error checks between operations.
//
//	g := graph.New()
//	x := g.Placeholder("x", tensor.F32, 2, 3)
//	w := g.Param("w", tensor.NewF32(make([]float32, 12), 3, 4))
//	y := x.MatMul(w).Softmax(-1).Sum()
//	prog, err := graph.Compile([]graph.Tensor{y})
//	out, err := prog.Run(ctx, graph.Feeds{"x": xs})
//
// Binary operations broadcast like NumPy. Operands must share a dtype: use
// Cast to convert. Parameters and variables are state that persists across
// runs and across every Program compiled from the graph.
//
// F16 and BF16 are storage types: a Variable built from a half array keeps
// two bytes an element (on devices with half storage), StoreAs rounds a
// value into a half type and Cast widens one back; between them only
// movement (slices, reshapes, permutations) and assignment apply.
package graph
