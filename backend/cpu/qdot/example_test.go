package qdot_test

import (
	"fmt"

	"github.com/aethertensor/aether/backend/cpu/qdot"
	"github.com/aethertensor/aether/llm/quant"
)

// A 2×64 matrix stored as Q8_0 blocks (what a GGUF tensor holds) times a
// vector, without expanding the weights.
func Example() {
	const rows, cols = 2, 64
	wf := make([]float32, rows*cols)
	x := make([]float32, cols)
	for c := 0; c < cols; c++ {
		wf[c] = 1                     // row 0 sums x
		wf[cols+c] = float32(c%4) - 1 // row 1: -1, 0, 1, 2, ...
		x[c] = 0.5
	}
	w := make([]byte, rows*cols/32*34)
	if err := quant.Quantize(quant.Q8_0, w, wf); err != nil {
		fmt.Println(err)
		return
	}
	y := make([]float32, rows)
	if err := qdot.MatVec(qdot.Q8_0, y, w, rows, cols, x); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.2f\n", y) // 8-bit blocks: exact up to rounding
	// Output: [32.00 16.00]
}
