package cpu_test

import (
	"fmt"

	"github.com/aethertensor/aether/backend/cpu"
)

// A GEMM is prepared once for its shape and run many times; the epilogue
// adds a bias and applies ReLU while each tile of C is still in cache.
func ExampleGEMM() {
	g, err := cpu.NewGEMM[float32](1, 2, 3, 2) // [1, 2, 3] x [1, 3, 2]
	if err != nil {
		panic(err)
	}
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	b := []float32{
		1, -1,
		0, -1,
		1, -1,
	}
	c := make([]float32, 4)
	if err := g.Run(c, a, b, nil); err != nil {
		panic(err)
	}
	fmt.Println(c)
	ep := &cpu.Epilogue[float32]{Bias: []float32{-5, 10}, Act: cpu.ActReLU}
	if err := g.Run(c, a, b, ep); err != nil {
		panic(err)
	}
	fmt.Println(c)
	// Output:
	// [4 -6 10 -15]
	// [0 4 5 0]
}
