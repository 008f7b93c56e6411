//go:build cgo

package wgpu_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/llm/quant"
	"github.com/aethertensor/aether/tensor"
)

// halfFields lists the byte offsets, within one block, of each type's
// binary16 scales and mins.
var halfFields = map[quant.Type][]int{
	quant.Q4_0: {0}, quant.Q4_1: {0, 2}, quant.Q5_0: {0}, quant.Q5_1: {0, 2},
	quant.Q8_0: {0}, quant.IQ4_NL: {0}, quant.Q2_K: {80, 82}, quant.Q3_K: {108},
	quant.Q4_K: {0, 2}, quant.Q5_K: {0, 2}, quant.Q6_K: {208},
}

// randomBlocks returns a [rows, cols] weight of type typ whose quants,
// packed scales and fifth bits are random bytes (every bit pattern a
// quantiser could leave) and whose binary16 scales and mins are finite
// halves of either sign between 2^-16 and 2^3.
func randomBlocks(t *testing.T, rng *rand.Rand, typ quant.Type, rows, cols int) *tensor.Quantized {
	t.Helper()
	l, err := quant.LayoutOf(typ)
	if err != nil {
		t.Fatal(err)
	}
	bs := l.TypeSize
	data := make([]byte, cols/l.BlockSize*bs*rows)
	rng.Read(data)
	for b := 0; b < len(data); b += bs {
		for _, o := range halfFields[typ] {
			v := float32(rng.NormFloat64()) * float32(math.Ldexp(1, rng.Intn(20)-16))
			binary.LittleEndian.PutUint16(data[b+o:], quant.F32ToF16(v))
		}
	}
	return &tensor.Quantized{Type: uint32(typ), Rows: rows, Cols: cols, Data: data}
}

// minsOnly returns a [1, cols] Q4_1 or Q5_1 weight whose block scales are
// 0 and mins 1: its product with an activation row is the sum of the
// row's Q8_1 s terms (d·Σq rounded to binary16), one per block, exactly.
func minsOnly(t *testing.T, typ quant.Type, cols int) *tensor.Quantized {
	t.Helper()
	rb, err := quant.RowBytes(typ, uint64(cols))
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, rb)
	bs := int(rb) / (cols / 32)
	for b := 0; b < len(data); b += bs {
		binary.LittleEndian.PutUint16(data[b+2:], 0x3c00)
	}
	return &tensor.Quantized{Type: uint32(typ), Rows: 1, Cols: cols, Data: data}
}

// sameBits counts the elements of got whose bits differ from want's (any
// NaN matches any NaN) and reports the first few.
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	bad := 0
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) && !(got[i] != got[i] && want[i] != want[i]) {
			if bad++; bad <= 5 {
				t.Errorf("%s element %d: device %g (%#x), cpu %g (%#x)", what, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d differ", what, bad, len(want))
	}
}

// bf16Specials returns a [7, cols] BF16 weight and [11, cols] activations
// whose products and sums are ties of the bf16 rounding, subnormal (as
// products of tiny values, and as lane sums of normal products that
// nearly cancel), infinite or NaN.
func bf16Specials(rng *rand.Rand, cols int) (*tensor.Quantized, *tensor.Array) {
	const rows, n = 7, 11
	bits := func(b uint32) float32 { return math.Float32frombits(b) }
	tiny := func() uint32 { return uint32(rng.Intn(1<<23-1) + 1) } // a random subnormal's bits
	w := make([]float32, rows*cols)
	x := make([]float32, n*cols)
	for c := range cols {
		v := float32(rng.NormFloat64())
		w[c] = 1
		w[cols+c] = 0x1p-70 // times 2^-70: subnormal products
		w[2*cols+c] = float32(1 - 2*(c%2))
		w[3*cols+c] = v
		w[4*cols+c] = v
		w[5*cols+c] = bits(tiny() &^ 0xffff) // subnormal weights
		w[6*cols+c] = 0x1p100 * v
		switch {
		case c == 2:
			w[4*cols+c] = float32(math.Inf(1))
		case c%7 == 5:
			w[4*cols+c] = bits(tiny() &^ 0xffff)
		}
		// Ties of the rounding to bf16 (low half 0x8000), odd and even,
		// and values either side of a tie.
		x[c] = bits(uint32(rng.Intn(1<<16))<<16&^0x7f000000 | 0x3c000000 | 0x8000)
		x[cols+c] = bits(math.Float32bits(v)&^0xffff | []uint32{0x7fff, 0x8001, 0x8000}[c%3])
		// Lane j's two products (elements 2j+1, then 2j) with weight row
		// 0 nearly cancel: 1.5·2^-126 - 2^-126 is subnormal.
		x[2*cols+c] = []float32{-0x1p-126, 0x1.8p-126}[c%2]
		x[3*cols+c] = 0x1p-70 * v
		x[4*cols+c] = bits(tiny()) // subnormal activations, rounded to bf16 or to 0
		if c%5 == 0 {
			x[4*cols+c] = float32(math.Copysign(0, -1))
		}
		x[5*cols+c] = v
		x[6*cols+c] = 0x1p100 * v // overflows with row 6
		x[7*cols+c] = v * float32(math.Ldexp(1, rng.Intn(60)-30))
		x[8*cols+c] = 0
		x[9*cols+c] = v
		x[10*cols+c] = v
	}
	x[5*cols+cols/2] = math.MaxFloat32  // rounds to bf16's +∞
	x[9*cols+cols-1] = bits(0x7f800001) // a NaN that must not round to ∞
	x[10*cols+cols/3] = float32(math.Inf(-1))
	raw := make([]byte, 2*rows*cols)
	if err := quant.Quantize(quant.BF16, raw, w); err != nil {
		panic(err)
	}
	return &tensor.Quantized{Type: uint32(quant.BF16), Rows: rows, Cols: cols, Data: raw}, tensor.NewF32(x, n, cols)
}

// f16Specials returns an [8, cols] F16 weight and [12, cols] activations
// that reach every path of the rounding of activations to binary16 (ties
// of normal and subnormal halves, overflow to ∞ at 65520, f32 subnormals
// and magnitudes below 2^-25 to zero, NaN) and products and lane sums at
// the extremes: subnormal halves, whose products (down to 2^-48) and lane
// sums that nearly cancel are still normal in f32, 65504², ∞ and NaN.
func f16Specials(rng *rand.Rand, cols int) (*tensor.Quantized, *tensor.Array) {
	const rows, n = 8, 12
	bits := func(b uint32) float32 { return math.Float32frombits(b) }
	sign := func() uint32 { return uint32(rng.Intn(2)) << 31 }
	w := make([]uint16, rows*cols)
	x := make([]float32, n*cols)
	for c := range cols {
		v := float32(rng.NormFloat64())
		h := quant.F32ToF16(v)
		w[c] = 0x3c00      // 1
		w[cols+c] = 0x0001 // 2^-24, the least subnormal
		w[2*cols+c] = []uint16{0x3c00, 0xbc00}[c%2]
		w[3*cols+c] = h
		w[4*cols+c] = h
		w[5*cols+c] = uint16(rng.Intn(0x3ff)+1) | uint16(rng.Intn(2))<<15 // subnormal halves
		w[6*cols+c] = []uint16{0x7bff, 0xfbff}[rng.Intn(2)]               // ±65504
		w[7*cols+c] = uint16(rng.Intn(0x7c00)) | uint16(rng.Intn(2))<<15  // any finite half
		switch {
		case c == 2:
			w[4*cols+c] = 0x7c00 // +∞
		case c%7 == 5:
			w[4*cols+c] = uint16(rng.Intn(0x3ff) + 1)
		}
		// Ties of the rounding to a normal half (low 13 bits 0x1000),
		// odd and even, and values either side of a tie.
		x[c] = bits(sign() | uint32(113+rng.Intn(30))<<23 | uint32(rng.Intn(1<<10))<<13 | 0x1000)
		x[cols+c] = bits(math.Float32bits(v)&^0x1fff | []uint32{0x0fff, 0x1001, 0x1000}[c%3])
		// With weight row 1, products ±3·2^-48 and ∓2·2^-48 whose signs
		// alternate by chunk and by lane: lane sums and the reduction
		// cancel down to 2^-48.
		x[2*cols+c] = []float32{0x1.8p-23, -0x1p-23}[(c/16+c)%2]
		// Subnormal halves: random magnitudes in [2^-26, 2^-14), and
		// ties k·2^-24 + 2^-25.
		x[3*cols+c] = bits(sign() | uint32(101+rng.Intn(12))<<23 | uint32(rng.Intn(1<<23)))
		if c%2 == 1 {
			x[3*cols+c] = float32(rng.Intn(1024)) * 0x1p-24
			x[3*cols+c] += 0x1p-25
		}
		x[4*cols+c] = bits(sign() | uint32(rng.Intn(1<<23-1)+1)) // f32 subnormals: ±0
		if c%5 == 0 {
			x[4*cols+c] = float32(math.Copysign(0, -1))
		}
		x[5*cols+c] = v
		x[6*cols+c] = 256 * v
		x[7*cols+c] = v * float32(math.Ldexp(1, rng.Intn(60)-30)) // ∞ and 0 among them
		x[8*cols+c] = 0
		x[9*cols+c] = v
		x[10*cols+c] = v
		// Either side of 65520, the least magnitude that rounds to ∞.
		x[11*cols+c] = bits(sign() | []uint32{0x477fefff, 0x477ff000, 0x477fe000}[c%3])
	}
	x[5*cols+cols/2] = math.MaxFloat32  // rounds to +∞
	x[9*cols+cols-1] = bits(0x7f800001) // a NaN that must not round to ∞
	x[10*cols+cols/3] = float32(math.Inf(-1))
	raw := make([]byte, 2*rows*cols)
	for i, h := range w {
		binary.LittleEndian.PutUint16(raw[2*i:], h)
	}
	return &tensor.Quantized{Type: uint32(quant.F16), Rows: rows, Cols: cols, Data: raw}, tensor.NewF32(x, n, cols)
}

// finiteHalves returns q (an F16 weight) with its infinite and NaN halves
// made finite (exponent 30): random bytes would leave hardly a long row
// without one.
func finiteHalves(q *tensor.Quantized) *tensor.Quantized {
	for i := 0; i < len(q.Data); i += 2 {
		if q.Data[i+1]&0x7c == 0x7c {
			q.Data[i+1] &^= 0x04
		}
	}
	return q
}

// TestQMatMul8Types checks the quantized matmuls of the formats the
// qmatmul8 shader reaches through Q8_1 activations, lane orders, repacked
// gemv orders and split min sums against the CPU's Go kernels, bit for
// bit: random and quantiser-made weights of awkward shapes (rows not a
// multiple of eight, rows longer than one 2048-value chunk) with random
// and awkward activation rows (ties, zero blocks, huge, tiny and
// subnormal values).
func TestQMatMul8Types(t *testing.T) {
	d := device(t)
	genericQdot(t)
	cases := []struct {
		typ        quant.Type
		rows, cols int
	}{
		{quant.Q4_1, 11, 96}, {quant.Q4_1, 9, 2080},
		{quant.Q5_0, 13, 64}, {quant.Q5_0, 3, 2080},
		{quant.Q5_1, 7, 96}, {quant.Q5_1, 9, 2080},
		{quant.IQ4_NL, 13, 96}, {quant.IQ4_NL, 9, 2080},
		{quant.Q2_K, 11, 512}, {quant.Q2_K, 9, 2304},
		{quant.Q3_K, 5, 256}, {quant.Q3_K, 10, 2304},
		{quant.Q5_K, 11, 512}, {quant.Q5_K, 9, 2304},
		// BF16: rows of any length (shorter than the 32-element chunks,
		// a tail after them, odd lengths whose rows start mid-word).
		{quant.BF16, 1, 1}, {quant.BF16, 7, 31}, {quant.BF16, 9, 45}, {quant.BF16, 13, 96}, {quant.BF16, 10, 2083},
		// F16: as BF16, with 16-element chunks; 4103 values are two
		// 2048-value chunks of activations rounded in workgroup memory
		// and a tail.
		{quant.F16, 1, 1}, {quant.F16, 7, 15}, {quant.F16, 9, 45}, {quant.F16, 13, 96}, {quant.F16, 10, 2083}, {quant.F16, 3, 4103},
	}
	for _, c := range cases {
		for _, src := range []string{"quantised", "random"} {
			t.Run(fmt.Sprintf("%v/%dx%d/%s", c.typ, c.rows, c.cols, src), func(t *testing.T) {
				rng := rand.New(rand.NewSource(int64(c.cols + c.rows)))
				q, _ := quantWeight(t, c.typ, c.rows, c.cols)
				if src == "random" {
					q = randomBlocks(t, rng, c.typ, c.rows, c.cols)
					if c.typ == quant.F16 {
						q = finiteHalves(q)
					}
				}
				// Eight awkward rows and three random ones in one call.
				aw := awkwardRows(rng, c.cols).Float32s()
				x := tensor.NewF32(append(aw, randArray(rng, 3, c.cols).Float32s()...), 11, c.cols)
				sameBits(t, "output", qmatmulOn(t, d, q, x), qmatmulOn(t, cpu.New(), q, x))
			})
		}
	}
	// BF16 weights and activations that reach every path of the bf16
	// rounding and of the subnormal-safe products and sums.
	for _, cols := range []int{70, 13} {
		t.Run(fmt.Sprintf("BF16/specials/%d", cols), func(t *testing.T) {
			q, x := bf16Specials(rand.New(rand.NewSource(int64(cols))), cols)
			sameBits(t, "output", qmatmulOn(t, d, q, x), qmatmulOn(t, cpu.New(), q, x))
		})
	}
	// F16 weights and activations that reach every path of the f16
	// rounding, and the extremes of the products and sums (in the tail
	// only, in lanes and tail, across two activation chunks).
	for _, cols := range []int{13, 70, 4103} {
		t.Run(fmt.Sprintf("F16/specials/%d", cols), func(t *testing.T) {
			q, x := f16Specials(rand.New(rand.NewSource(int64(cols))), cols)
			sameBits(t, "output", qmatmulOn(t, d, q, x), qmatmulOn(t, cpu.New(), q, x))
		})
	}
	// Q8_1's s, alone.
	for _, typ := range []quant.Type{quant.Q4_1, quant.Q5_1} {
		t.Run(typ.String()+"/mins", func(t *testing.T) {
			x := awkwardRows(rand.New(rand.NewSource(3)), 32)
			q := minsOnly(t, typ, 32)
			sameBits(t, "s", qmatmulOn(t, d, q, x), qmatmulOn(t, cpu.New(), q, x))
		})
	}
}

// TestQuantRowsBits checks the device's decoding of every block format
// it keeps (a gather of rows and the whole weight's dequantisation)
// against llm/quant's dequantisers, bit for bit, on random blocks.
func TestQuantRowsBits(t *testing.T) {
	d := device(t)
	ctx := context.Background()
	const rows = 5
	types := []quant.Type{quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.Q8_0, quant.IQ4_NL,
		quant.Q2_K, quant.Q3_K, quant.Q4_K, quant.Q5_K, quant.Q6_K, quant.BF16, quant.F16}
	for _, typ := range types {
		t.Run(typ.String(), func(t *testing.T) {
			l, err := quant.LayoutOf(typ)
			if err != nil {
				t.Fatal(err)
			}
			cols := 2 * l.BlockSize
			if typ == quant.BF16 || typ == quant.F16 {
				// Odd: rows start mid-word. F16's random halves include
				// subnormals, infinities and NaNs.
				cols = 37
			}
			q := randomBlocks(t, rand.New(rand.NewSource(int64(typ))), typ, rows, cols)
			deq := make([]float32, rows*cols)
			if err := quant.Dequantize(typ, deq, q.Data); err != nil {
				t.Fatal(err)
			}
			idx := []int64{rows - 1, 0, 2, 2}
			g := graph.New()
			w := g.QuantConst(q)
			p, err := graph.Compile([]graph.Tensor{w.Gather(0, g.Const(tensor.NewI64(idx, len(idx)))), w.Dequant()}, graph.OnDevice(d))
			if err != nil {
				t.Fatal(err)
			}
			out, err := p.Run(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var want []float32
			for _, r := range idx {
				want = append(want, deq[int(r)*cols:int(r+1)*cols]...)
			}
			sameBits(t, "gather", out[0].Float32s(), want)
			sameBits(t, "dequant", out[1].Float32s(), deq)
		})
	}
}
