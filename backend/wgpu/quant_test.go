//go:build cgo

package wgpu_test

import (
	"context"
	"fmt"
	"math/rand"
	"testing"

	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/llm/quant"
	"github.com/aethertensor/aether/tensor"
)

// quantWeight quantizes a random [rows, cols] matrix and returns the
// blocks and their dequantised values.
func quantWeight(t *testing.T, typ quant.Type, rows, cols int) (*tensor.Quantized, []float32) {
	t.Helper()
	rng := rand.New(rand.NewSource(int64(typ)))
	src := make([]float32, rows*cols)
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	rb, err := quant.RowBytes(typ, uint64(cols))
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, int(rb)*rows)
	if err := quant.Quantize(typ, data, src); err != nil {
		t.Fatal(err)
	}
	deq := make([]float32, rows*cols)
	if err := quant.Dequantize(typ, deq, data); err != nil {
		t.Fatal(err)
	}
	return &tensor.Quantized{Type: uint32(typ), Rows: rows, Cols: cols, Data: data}, deq
}

// TestQuantizedKernels runs matmul, gather and dequantisation straight
// from GGUF blocks on the device. The reference is the CPU's dense
// gather and dequantisation of the dequantised weight, and for the
// matmuls, which round the activations (to 8-bit blocks, or to f16 for
// F16 weights), the CPU's quantized matmul, which rounds them alike.
func TestQuantizedKernels(t *testing.T) {
	d := device(t)
	ctx := context.Background()
	for _, c := range []struct {
		typ        quant.Type
		rows, cols int
	}{{quant.Q4_0, 23, 96}, {quant.Q8_0, 17, 160}, {quant.Q4_K, 9, 512}, {quant.Q6_K, 11, 256}, {quant.F16, 5, 70}} {
		for _, n := range []int{1, 3} {
			t.Run(fmt.Sprintf("%v/n=%d", c.typ, n), func(t *testing.T) {
				q, deq := quantWeight(t, c.typ, c.rows, c.cols)
				feeds := graph.Feeds{
					"x":   randArray(rand.New(rand.NewSource(1)), n, c.cols),
					"idx": tensor.NewI64([]int64{int64(c.rows - 1), 0, 2}, 3),
				}
				run := func(dev graph.Option, quantized bool) []*tensor.Array {
					g := graph.New()
					w := g.Const(tensor.NewF32(deq, c.rows, c.cols))
					if quantized {
						w = g.QuantConst(q)
					}
					x := g.Placeholder("x", tensor.F32, n, c.cols)
					idx := g.Placeholder("idx", tensor.I64, 3)
					p, err := graph.Compile([]graph.Tensor{x.Linear(w), w.Gather(0, idx), w.Dequant()}, dev)
					if err != nil {
						t.Fatal(err)
					}
					out, err := p.Run(ctx, feeds)
					if err != nil {
						t.Fatal(err)
					}
					return out
				}
				want := run(graph.OnDevice(cpu.New()), false)
				want[0] = run(graph.OnDevice(cpu.New()), true)[0]
				got := run(graph.OnDevice(d), true)
				for i := range want {
					if e := nmse(got[i].ToFloat64(), want[i].ToFloat64()); !(e <= 1e-7) {
						t.Errorf("output %d: NMSE %.3g", i, e)
					}
				}
			})
		}
	}
}
