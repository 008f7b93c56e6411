package graph_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// A one-layer network: record the operations, compile them once, run the
// Program with different feeds.
func Example() {
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 2, 3)
	w := g.Param("w", tensor.NewF32([]float32{
		1, 0,
		0, 1,
		1, -1,
	}, 3, 2))
	b := g.Const(tensor.NewF32([]float32{0.5, -0.5}, 2))
	y := x.MatMul(w).Add(b).Relu() // [2 3]·[3 2] + [2] broadcast over rows

	prog, err := graph.Compile([]graph.Tensor{y})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, batch := range [][]float32{
		{1, 2, 3, 4, 5, 6},
		{0, 0, 0, -1, 1, 0},
	} {
		out, err := prog.Run(context.Background(), graph.Feeds{"x": tensor.NewF32(batch, 2, 3)})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(out[0])
	}
	// Output:
	// f32[2 2][4.5 0 10.5 0]
	// f32[2 2][0.5 0 0 0.5]
}

// Building code needs no error checks: the first mistake is kept, later
// operations are skipped, and Compile returns it with the operation, the
// shapes and the file and line of the call.
func Example_errors() {
	g := graph.New()
	a := g.Placeholder("a", tensor.F64, 2, 3)
	b := g.Placeholder("b", tensor.F64, 4, 5)
	c := a.MatMul(b) // inner dimensions 3 and 4 differ
	d := c.Softmax(-1).Reshape(-1)

	_, err := graph.Compile([]graph.Tensor{d})
	var oe *graph.OpError
	if errors.As(err, &oe) {
		fmt.Println("op:", oe.Op)
		fmt.Println("shape error:", errors.Is(err, graph.ErrShape))
		fmt.Println("reason:", oe.Err)
	}
	// Output:
	// op: matmul
	// shape error: true
	// reason: graph: bad shape: shapes [2 3] and [4 5]: inner dimensions 3 and 4 differ
}

// Assign writes state at the end of a run: here a counter that every run
// of the Program increments.
func ExampleGraph_Assign() {
	g := graph.New()
	n := g.Variable("n", tensor.NewF64([]float64{0}, 1))
	step := g.Assign(n, n.AddScalar(1))
	prog, err := graph.Compile([]graph.Tensor{n.Scale(10), step})
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		out, err := prog.Run(context.Background(), nil)
		if err != nil {
			fmt.Println(err)
			return
		}
		// Reads in a run see the value from before its assignment.
		fmt.Println(out[0].Flat(0), out[1].Flat(0))
	}
	v, _ := g.Var("n")
	fmt.Println("stored:", v.Value().Flat(0))
	// Output:
	// 0 1
	// 10 2
	// 20 3
	// stored: 3
}

// A decode loop's cache: each run appends a row at a fed position and
// reads the rows so far in place, the new one included.
func ExampleGraph_UpdateSlice() {
	g := graph.New()
	cache := g.Variable("cache", tensor.MustZeros(tensor.F64, tensor.Shape{4, 2}))
	row := g.Placeholder("row", tensor.F64, 1, 2)
	pos := g.Placeholder("pos", tensor.I64)
	total := g.UpdateSlice(cache, row, 0, pos).Sum(0)
	prog, err := graph.Compile([]graph.Tensor{total})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range 3 {
		r := tensor.NewF64([]float64{float64(i + 1), 10}, 1, 2)
		out, err := prog.Run(context.Background(), graph.Feeds{"row": r, "pos": tensor.Scalar(tensor.I64, float64(i))})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(out[0].ToFloat64())
	}
	// Output:
	// [1 10]
	// [3 20]
	// [6 30]
}

// Slice follows Python's rules, negative steps included; Pad and Concat
// build new tensors from pieces.
func ExampleTensor_Slice() {
	g := graph.New()
	x := g.Const(tensor.NewF64([]float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 3, 4))
	rev := x.Slice(graph.Range{Start: -1, Stop: -4, Step: -2}, graph.Range{Start: 1, Stop: 4, Step: 2}) // x[::-2, 1::2]
	row := x.SliceAxis(0, 1, 2, 1).Pad(-1, [2]int{0, 0}, [2]int{1, 1})                                  // row 1 padded with -1
	both := graph.Concat(0, rev.Flatten(), row.Flatten())
	prog, err := graph.Compile([]graph.Tensor{rev, row, both})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := prog.Run(context.Background(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range out {
		fmt.Println(a)
	}
	// Output:
	// f64[2 2][9 11 1 3]
	// f64[1 6][-1 4 5 6 7 -1]
	// f64[10][9 11 1 3 -1 4 5 6 7 -1]
}
