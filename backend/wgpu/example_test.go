//go:build cgo

package wgpu_test

import (
	"context"
	"fmt"

	"github.com/aethertensor/aether/backend/wgpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// A program compiled for a WebGPU device runs like one for the CPU.
func Example() {
	d, err := wgpu.New()
	if err != nil {
		fmt.Println("no adapter:", err)
		return
	}
	defer d.Close()
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 2, 3)
	w := g.Const(tensor.NewF32([]float32{1, 0, 0, 1, 1, 1}, 3, 2))
	y := x.MatMul(w).Relu().Sum(1)
	prog, err := graph.Compile([]graph.Tensor{y}, graph.OnDevice(d))
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := prog.Run(context.Background(), graph.Feeds{"x": tensor.NewF32([]float32{1, 2, 3, -4, 5, -6}, 2, 3)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out[0].ToFloat64())
	// Output: [9 0]
}
