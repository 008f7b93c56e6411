package quant_test

import (
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/llm/quant"
)

// benchN is the element count per benchmark operation (4 MiB of float32).
const benchN = 1 << 20

func benchInput() []float32 {
	r := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, benchN)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// BenchmarkDequantize reports throughput in bytes of float32 output.
func BenchmarkDequantize(b *testing.B) {
	x := benchInput()
	for _, tc := range allTypes {
		if !tc.quantize {
			continue
		}
		tr, _ := quant.TraitsOf(tc.typ)
		src := make([]byte, benchN/tr.BlockSize*tr.TypeSize)
		if err := tr.Quantize(src, x); err != nil {
			b.Fatal(err)
		}
		dst := make([]float32, benchN)
		b.Run(tc.typ.String(), func(b *testing.B) {
			b.SetBytes(4 * benchN)
			for b.Loop() {
				if err := tr.Dequantize(dst, src); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkQuantize reports throughput in bytes of float32 input.
func BenchmarkQuantize(b *testing.B) {
	x := benchInput()
	for _, tc := range allTypes {
		if !tc.quantize {
			continue
		}
		tr, _ := quant.TraitsOf(tc.typ)
		dst := make([]byte, benchN/tr.BlockSize*tr.TypeSize)
		b.Run(tc.typ.String(), func(b *testing.B) {
			b.SetBytes(4 * benchN)
			for b.Loop() {
				if err := tr.Quantize(dst, x); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
