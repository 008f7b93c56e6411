package tensor_test

import (
	"fmt"

	"github.com/aethertensor/aether/tensor"
)

func ExampleArray_Convert() {
	a := tensor.NewF64([]float64{-1.5, 0, 2.75, 3}, 2, 2)
	i, _ := a.Convert(tensor.I32) // truncates toward zero
	h, _ := a.Convert(tensor.F16) // rounds to half precision storage
	fmt.Println(i)
	fmt.Println(h, h.Bits())
	fmt.Println(i.At(1, 0), a.Shape().Strides())
	// Output:
	// i32[2 2][-1 0 2 3]
	// f16[2 2][-1.5 0 2.75 3] [48640 0 16768 16896]
	// 2 [2 1]
}

func ExampleBroadcast() {
	s, ok := tensor.Broadcast(tensor.Shape{2, 1, 4}, tensor.Shape{3, 1})
	fmt.Println(s, ok)
	_, ok = tensor.Broadcast(tensor.Shape{2, 3}, tensor.Shape{4})
	fmt.Println(ok)
	// Output:
	// [2 3 4] true
	// false
}
