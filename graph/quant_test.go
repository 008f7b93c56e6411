package graph_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/llm/quant"
	"github.com/aethertensor/aether/tensor"
)

// quantized makes a rows×cols weight in format t from random values and
// returns it with its dequantised f32 values.
func quantized(t *testing.T, typ quant.Type, rows, cols int, seed uint64) (*tensor.Quantized, []float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
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

// TestQuantizedLinear checks x·wᵀ over weights kept in their block format
// against the dense product with the dequantised weight, for decode (one
// row) and prefill (several rows) shapes. The 8-bit activation blocks the
// kernels use bound the difference.
func TestQuantizedLinear(t *testing.T) {
	for _, typ := range []quant.Type{quant.F16, quant.Q8_0, quant.Q4_0, quant.Q4_K, quant.Q6_K} {
		for _, n := range []int{1, 5} {
			const rows, cols = 24, 256
			q, deq := quantized(t, typ, rows, cols, uint64(typ))
			g := graph.New()
			x := g.Placeholder("x", tensor.F32, n, cols)
			y := x.Linear(g.QuantConst(q))
			dense := x.Linear(g.Const(tensor.NewF32(deq, rows, cols)))
			p, err := graph.Compile([]graph.Tensor{y, dense})
			if err != nil {
				t.Fatal(err)
			}
			xs := tensor.MustZeros(tensor.F32, tensor.Shape{n, cols})
			rng := rand.New(rand.NewPCG(3, 3))
			for i := range xs.Float32s() {
				xs.Float32s()[i] = float32(rng.NormFloat64())
			}
			out, err := p.Run(context.Background(), graph.Feeds{"x": xs})
			if err != nil {
				t.Fatalf("%v: %v", typ, err)
			}
			var num, den float64
			for i := range out[0].Float32s() {
				d := float64(out[0].Float32s()[i] - out[1].Float32s()[i])
				num += d * d
				den += float64(out[1].Float32s()[i]) * float64(out[1].Float32s()[i])
			}
			tol := 1e-4 // activations rounded to 8 bits
			if typ == quant.F16 {
				tol = 1e-6 // activations rounded to f16, as ggml does
			}
			if nmse := num / den; nmse > tol || math.IsNaN(nmse) {
				t.Errorf("%v n=%d: NMSE %.3g against the dequantised product", typ, n, nmse)
			}
		}
	}
}

func TestQuantizedGatherAndDequant(t *testing.T) {
	const rows, cols = 10, 64
	q, deq := quantized(t, quant.Q8_0, rows, cols, 7)
	g := graph.New()
	w := g.QuantConst(q)
	ids := g.Const(tensor.NewI64([]int64{3, 0, 3, 9}, 4))
	p, err := graph.Compile([]graph.Tensor{w.Gather(0, ids), w.Dequant().Sum()})
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for j, r := range []int{3, 0, 3, 9} {
		for c := 0; c < cols; c++ {
			if got, want := out[0].Float32s()[j*cols+c], deq[r*cols+c]; got != want {
				t.Fatalf("row %d col %d: %v, want %v", j, c, got, want)
			}
		}
	}
	var sum float64
	for _, v := range deq {
		sum += float64(v)
	}
	if math.Abs(out[1].Flat(0)-sum) > 1e-3 {
		t.Errorf("sum of dequantised weight %v, want %v", out[1].Flat(0), sum)
	}
}

func TestQuantizedErrors(t *testing.T) {
	q, _ := quantized(t, quant.Q4_0, 4, 64, 1)
	g := graph.New()
	w := g.QuantConst(q)
	w.Add(w)
	if _, err := graph.Compile([]graph.Tensor{w}); !errors.Is(err, graph.ErrArg) {
		t.Errorf("elementwise op on a quantized weight: err = %v", err)
	}
	g = graph.New()
	g.Placeholder("x", tensor.F32, 2, 32).Linear(g.QuantConst(q))
	if _, err := graph.Compile([]graph.Tensor{g.Placeholder("y", tensor.F32)}); !errors.Is(err, graph.ErrShape) {
		t.Errorf("wrong input width: err = %v", err)
	}
	g = graph.New()
	bad := &tensor.Quantized{Type: uint32(quant.Q4_0), Rows: 4, Cols: 64, Data: q.Data[:len(q.Data)-4]}
	y := g.Placeholder("x", tensor.F32, 64).Linear(g.QuantConst(bad))
	if _, err := graph.Compile([]graph.Tensor{y}); err == nil {
		t.Error("a truncated quantized weight compiled")
	}
}
