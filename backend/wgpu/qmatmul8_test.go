//go:build cgo

package wgpu_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/backend/cpu/qdot"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/llm/quant"
	"github.com/aethertensor/aether/tensor"
)

// qmatmulOn runs x [n, cols] times the transpose of the quantized weight q
// on dev.
func qmatmulOn(t *testing.T, dev backend.Device, q *tensor.Quantized, x *tensor.Array) []float32 {
	t.Helper()
	g := graph.New()
	in := g.Placeholder("x", tensor.F32, x.Shape()...)
	p, err := graph.Compile([]graph.Tensor{in.Linear(g.QuantConst(q))}, graph.OnDevice(dev))
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Run(context.Background(), graph.Feeds{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	return out[0].Float32s()
}

// oneHot returns a [cols, cols] weight of type typ whose row c is 1 at
// column c and 0 elsewhere, with every block scale 1: row c's product
// with an activation row is then exactly d·q of its element c (one
// nonzero block term), so the outputs show the 8-bit quantisation itself.
func oneHot(t *testing.T, typ quant.Type, cols int) *tensor.Quantized {
	t.Helper()
	rb, err := quant.RowBytes(typ, uint64(cols))
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, int(rb)*cols)
	for c := 0; c < cols; c++ {
		row := data[c*int(rb) : (c+1)*int(rb)]
		switch typ {
		case quant.Q8_0:
			for b := 0; b < cols/32; b++ {
				binary.LittleEndian.PutUint16(row[34*b:], 0x3c00)
			}
			row[34*(c/32)+2+c%32] = 1
		case quant.Q6_K:
			for b := 0; b < cols/256; b++ {
				blk := row[210*b : 210*b+210]
				// Every 6-bit value 32 (weight 0): low nibble 0, high
				// bits 2; scales 1; d 1.
				for l := 0; l < 64; l++ {
					blk[128+l] = 0xaa
				}
				for j := 0; j < 16; j++ {
					blk[192+j] = 1
				}
				binary.LittleEndian.PutUint16(blk[208:], 0x3c00)
			}
			e := c % 256
			n, g, l := e/128, (e%128)/32, e%32
			row[210*(c/256)+64*n+l+32*(g%2)] |= 1 << (4 * (g / 2)) // value 33: weight 1
		default:
			t.Fatalf("no one-hot weight for %v", typ)
		}
	}
	return &tensor.Quantized{Type: uint32(typ), Rows: cols, Cols: cols, Data: data}
}

// awkwardRows returns activation rows of cols values that exercise the
// 8-bit quantisation: random, exact halves (ties of the rounding, block by
// block), repeated maxima of both signs, zero blocks, huge and tiny
// magnitudes, subnormals beside small maxima.
func awkwardRows(rng *rand.Rand, cols int) *tensor.Array {
	const n = 8
	x := make([]float32, n*cols)
	for j := range cols {
		v := float32(rng.NormFloat64())
		x[j] = v
		// Halves: with a block maximum of 127 (and -127 for the
		// k-quants, so the scale is exactly ±1) every value is a tie.
		x[cols+j] = float32(rng.Intn(253)-126) + 0.5
		if j%32 == 0 {
			x[cols+j] = 127
		}
		if j%256 == 0 {
			x[cols+j] = -127
		}
		// Equal magnitudes of both signs: the k-quants take the first.
		x[2*cols+j] = float32(1 - 2*(j%2))
		if j%64 < 32 {
			x[3*cols+j] = 0 // zero blocks
		} else {
			x[3*cols+j] = v
		}
		x[4*cols+j] = v * 1e6  // d near f16's largest for Q8_0
		x[5*cols+j] = v * 1e-3 // scale an f16 subnormal
		x[6*cols+j] = v * 1e-30
		x[7*cols+j] = v * 1e-36
		if j%3 == 0 {
			x[7*cols+j] = math.Float32frombits(uint32(rng.Intn(1 << 23))) // subnormal
		}
	}
	return tensor.NewF32(x, n, cols)
}

// genericQdot runs the test with the CPU's qdot at its Generic level: the
// Go kernels, whose order of float operations the device's follows (the
// assembly kernels may round differently: Q8_0's VNNI kernel reads the
// weights with a bias and scales the correction separately).
func genericQdot(t *testing.T) {
	t.Helper()
	prev, err := qdot.SetLevel(qdot.Generic)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { qdot.SetLevel(prev) })
}

// TestQMatMul8Quantisation checks that the device quantises activations
// exactly as qdot's Go preparation does: with one-hot weights every
// output is one product d·q, which must have the CPU's bits.
func TestQMatMul8Quantisation(t *testing.T) {
	d := device(t)
	genericQdot(t)
	for _, c := range []struct {
		typ  quant.Type
		cols int
	}{{quant.Q8_0, 96}, {quant.Q6_K, 512}} {
		t.Run(c.typ.String(), func(t *testing.T) {
			q := oneHot(t, c.typ, c.cols)
			x := awkwardRows(rand.New(rand.NewSource(7)), c.cols)
			want := qmatmulOn(t, cpu.New(), q, x)
			got := qmatmulOn(t, d, q, x)
			bad := 0
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
					if bad++; bad <= 5 {
						t.Errorf("row %d element %d (x=%g): device %g, cpu %g", i/c.cols, i%c.cols, x.Float32s()[i], got[i], want[i])
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d quantised values differ", bad, len(want))
			}
		})
	}
}

// TestQMatMul8Conformance compares the device's quantized matmul with the
// CPU's Go kernels on random weights of awkward shapes (rows not a
// multiple of the workgroup's eight, rows longer than one 2048-value
// chunk). Both quantise the activations identically, take exact integer
// block dot products and add the scaled block terms in the same order
// with the same fused multiply-adds, so the results should have the same
// bits (they do on llvmpipe); the bound leaves a driver that reassociates
// float additions a few ulps of the row's largest output.
func TestQMatMul8Conformance(t *testing.T) {
	d := device(t)
	genericQdot(t)
	const maxUlps = 4
	for _, c := range []struct {
		typ        quant.Type
		rows, cols int
	}{
		{quant.Q4_0, 13, 96}, {quant.Q4_0, 9, 2080}, {quant.Q8_0, 1, 32}, {quant.Q8_0, 17, 160},
		{quant.Q4_K, 11, 512}, {quant.Q4_K, 8, 2304}, {quant.Q6_K, 5, 256}, {quant.Q6_K, 19, 2304},
	} {
		// n = 8: the rows of awkwardRows (zero blocks, ties, huge and
		// tiny magnitudes) instead of random ones.
		for _, n := range []int{1, 3, 8} {
			t.Run(fmt.Sprintf("%v/%dx%d/n=%d", c.typ, c.rows, c.cols, n), func(t *testing.T) {
				q, _ := quantWeight(t, c.typ, c.rows, c.cols)
				x := randArray(rand.New(rand.NewSource(int64(c.cols+n))), n, c.cols)
				if n == 8 {
					x = awkwardRows(rand.New(rand.NewSource(int64(c.cols))), c.cols)
				}
				want := qmatmulOn(t, cpu.New(), q, x)
				got := qmatmulOn(t, d, q, x)
				same, worst := 0, 0.0
				for i := 0; i < n; i++ {
					var scale float32
					for _, v := range want[i*c.rows : (i+1)*c.rows] {
						scale = max(scale, float32(math.Abs(float64(v))))
					}
					ulp := float64(math.Nextafter32(scale, float32(math.Inf(1))) - scale)
					for r := range c.rows {
						g, w := got[i*c.rows+r], want[i*c.rows+r]
						if g == w || (g != g && w != w) {
							same++
							continue
						}
						e := math.Abs(float64(g-w)) / ulp
						worst = max(worst, e)
						if !(e <= maxUlps) {
							t.Errorf("output [%d,%d]: device %g, cpu %g (%.1f ulps of %g)", i, r, g, w, e, scale)
						}
					}
				}
				t.Logf("%d of %d bit-identical, max %.2f ulps of the row's largest output", same, len(want), worst)
			})
		}
	}
}

// BenchmarkQMatMul multiplies n activation rows by a 1024×1024 quantized
// (or BF16, or F16) weight kept in its blocks (qmatmul8 on the device,
// qdot on the CPU).
// GB/s counts the weight bytes.
func BenchmarkQMatMul(b *testing.B) {
	const rows, cols = 1024, 1024
	for _, typ := range []quant.Type{quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.Q8_0, quant.IQ4_NL,
		quant.Q2_K, quant.Q3_K, quant.Q4_K, quant.Q5_K, quant.Q6_K, quant.BF16, quant.F16} {
		for _, n := range []int{1, 16} {
			b.Run(fmt.Sprintf("%v/n=%d", typ, n), func(b *testing.B) {
				rng := rand.New(rand.NewSource(1))
				src := make([]float32, rows*cols)
				for i := range src {
					src[i] = float32(rng.NormFloat64())
				}
				rb, _ := quant.RowBytes(typ, cols)
				data := make([]byte, int(rb)*rows)
				if err := quant.Quantize(typ, data, src); err != nil {
					b.Fatal(err)
				}
				q := &tensor.Quantized{Type: uint32(typ), Rows: rows, Cols: cols, Data: data}
				benchProgram(b, func(g *graph.Graph) (graph.Tensor, graph.Feeds) {
					x := g.Placeholder("x", tensor.F32, n, cols)
					return x.Linear(g.QuantConst(q)), graph.Feeds{"x": randArray(rng, n, cols)}
				}, 2*float64(n)*rows*cols, float64(len(data)))
			})
		}
	}
}
