package quant_test

import (
	"fmt"

	"github.com/aethertensor/aether/llm/quant"
)

// Quantise one 32-element block to Q8_0 and decode it again.
func Example() {
	x := make([]float32, 32)
	for i := range x {
		x[i] = float32(i-16) / 8
	}
	tr, err := quant.TraitsOf(quant.Q8_0)
	if err != nil {
		panic(err)
	}
	block := make([]byte, len(x)/tr.BlockSize*tr.TypeSize)
	if err := tr.Quantize(block, x); err != nil {
		panic(err)
	}
	y := make([]float32, len(x))
	if err := quant.Dequantize(quant.Q8_0, y, block); err != nil {
		panic(err)
	}
	fmt.Printf("%s: %d bytes for %d values\n", tr.Type, len(block), len(x))
	fmt.Printf("scale %.6f, x[1] = %g -> %.4f\n", quant.F16ToF32(uint16(block[0])|uint16(block[1])<<8), x[1], y[1])
	// Output:
	// Q8_0: 34 bytes for 32 values
	// scale 0.015747, x[1] = -1.875 -> -1.8739
}

// An unsupported type gives an error, never silent zeros.
func ExampleDequantize_unsupported() {
	err := quant.Dequantize(quant.IQ2_XXS, make([]float32, 256), make([]byte, 66))
	fmt.Println(err)
	// Output:
	// quant: conversion not supported: IQ2_XXS has no dequantiser
}
