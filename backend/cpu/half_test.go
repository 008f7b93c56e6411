package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// halfCast prepares the Cast kernel from one operand dtype to another with
// attribute attr, as the graph records it.
func halfCast(tb testing.TB, from, attr, to tensor.DType, n int) kernelFunc {
	tb.Helper()
	s := tensor.Shape{n}
	f, err := prepare(backend.Kernel{Op: op.Cast, Attrs: &op.Attrs{DType: attr},
		In: []backend.Operand{{DType: from, Shape: s}}, Out: backend.Operand{DType: to, Shape: s}})
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// TestHalfCastKernels checks the conversions over every f16 and bf16 bit
// pattern (widening) and random f32 bits (narrowing) against tensor's
// scalar conversions, bit for bit, with parallel chunks.
func TestHalfCastKernels(t *testing.T) {
	const n = 1 << 16
	rng := rand.New(rand.NewPCG(1, 1))
	for _, d := range []tensor.DType{tensor.F16, tensor.BF16} {
		h := tensor.MustZeros(d, tensor.Shape{n})
		for i := range h.Bits() {
			h.Bits()[i] = uint16(i)
		}
		wide := tensor.MustZeros(tensor.F32, tensor.Shape{n})
		if err := halfCast(t, d, d, tensor.F32, n)([]*tensor.Array{h}, wide); err != nil {
			t.Fatal(err)
		}
		for i, got := range wide.Float32s() {
			want := tensor.F16ToF32(uint16(i))
			if d == tensor.BF16 {
				want = tensor.BF16ToF32(uint16(i))
			}
			if math.Float32bits(got) != math.Float32bits(want) {
				t.Fatalf("%v widen %#04x = %#08x, want %#08x", d, i, math.Float32bits(got), math.Float32bits(want))
			}
		}
		// Random bits, then every f16's neighbourhood: the value, the tie
		// above it and one f32 step either side of the tie.
		f := tensor.MustZeros(tensor.F32, tensor.Shape{5 * n})
		x := f.Float32s()
		for i := range n {
			x[i] = math.Float32frombits(rng.Uint32())
			v := math.Float32bits(tensor.F16ToF32(uint16(i)))
			if d == tensor.BF16 {
				v = math.Float32bits(tensor.BF16ToF32(uint16(i)))
			}
			tie := v + 1<<12
			if d == tensor.BF16 {
				tie = v + 1<<15
			}
			x[n+4*i], x[n+4*i+1], x[n+4*i+2], x[n+4*i+3] = math.Float32frombits(v), math.Float32frombits(tie),
				math.Float32frombits(tie-1), math.Float32frombits(tie+1)
		}
		h = tensor.MustZeros(d, tensor.Shape{5 * n})
		if err := halfCast(t, tensor.F32, d, d, 5*n)([]*tensor.Array{f}, h); err != nil {
			t.Fatal(err)
		}
		for i, v := range f.Float32s() {
			want := tensor.F32ToF16(v)
			if d == tensor.BF16 {
				want = tensor.F32ToBF16(v)
			}
			if got := h.Bits()[i]; got != want {
				t.Fatalf("%v narrow %#08x = %#04x, want %#04x", d, math.Float32bits(v), got, want)
			}
		}
	}
	if _, err := prepare(backend.Kernel{Op: op.Cast, Attrs: &op.Attrs{DType: tensor.F16},
		In: []backend.Operand{{DType: tensor.I32, Shape: tensor.Shape{4}}}, Out: backend.Operand{DType: tensor.F16, Shape: tensor.Shape{4}}}); err == nil {
		t.Error("i32 to f16 storage was prepared")
	}
}

// BenchmarkHalfCast measures the cache conversions: f16/bf16 to f32 (a
// window read) and f32 to f16/bf16 (an append), over 1 Mi elements.
func BenchmarkHalfCast(b *testing.B) {
	const n = 1 << 20
	for _, d := range []tensor.DType{tensor.F16, tensor.BF16} {
		h := tensor.MustZeros(d, tensor.Shape{n})
		f := tensor.MustZeros(tensor.F32, tensor.Shape{n})
		for i := range f.Float32s() {
			f.Float32s()[i] = float32(math.Sin(float64(i)))
		}
		narrow, widen := halfCast(b, tensor.F32, d, d, n), halfCast(b, d, d, tensor.F32, n)
		b.Run("narrow/"+d.String(), func(b *testing.B) {
			b.SetBytes(n * 6)
			for b.Loop() {
				narrow([]*tensor.Array{f}, h)
			}
		})
		b.Run("widen/"+d.String(), func(b *testing.B) {
			b.SetBytes(n * 6)
			for b.Loop() {
				widen([]*tensor.Array{h}, f)
			}
		})
	}
}
