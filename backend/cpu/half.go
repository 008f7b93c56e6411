package cpu

import (
	"math"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// The CPU holds F16 and BF16 tensors as []uint16 host arrays: state (a KV
// cache), the movement kernels over them, and the casts in and out. All
// arithmetic stays in f32; the fused executor never sees a half value
// (fusion keeps half values and the casts out of fused kernels).

var _ backend.HalfStorer = (*Device)(nil)

// HalfStorage returns true: the CPU keeps F16 and BF16 tensors in two
// bytes an element.
func (*Device) HalfStorage() bool { return true }

func isHalf(d tensor.DType) bool { return d == tensor.F16 || d == tensor.BF16 }

// halfCastKernel runs a Cast whose attribute is a half type: from f32 or
// f64 to half storage (round to nearest even), from half storage to f32
// (exact), or, with an f32 result from a float, rounding to half precision
// while staying in f32.
func halfCastKernel(from, half, to tensor.DType) (kernelFunc, error) {
	switch {
	case isHalf(from) && to == tensor.F32 && (from == half || half == tensor.F32):
		return widenKernel(from), nil
	case isHalf(to) && to == half && (from == tensor.F32 || from == tensor.F64):
		return narrowKernel(from, to), nil
	case to == tensor.F32 && !isHalf(from):
		return roundHalfKernel(from, half)
	}
	return nil, unsupported(op.Cast, from)
}

// halfCost is the work per element of a conversion, for parallelRun.
const halfCost = 2

// halfConv is one conversion launch; its slices are set per run, so the
// parallel body is allocated once at Prepare.
type halfConv struct {
	to   tensor.DType
	h    []uint16
	f32  []float32
	f64  []float64
	wide bool // half to f32; else f32 or f64 to half
}

func (c *halfConv) run(lo, hi int) {
	switch {
	case c.wide && c.to == tensor.BF16:
		bf16ToF32s(c.f32[lo:hi], c.h[lo:hi])
	case c.wide:
		f16ToF32s(c.f32[lo:hi], c.h[lo:hi])
	case c.f64 != nil && c.to == tensor.BF16:
		for i := lo; i < hi; i++ {
			c.h[i] = tensor.F32ToBF16(float32(c.f64[i]))
		}
	case c.f64 != nil:
		for i := lo; i < hi; i++ {
			c.h[i] = tensor.F32ToF16(float32(c.f64[i]))
		}
	case c.to == tensor.BF16:
		for i := lo; i < hi; i++ {
			c.h[i] = tensor.F32ToBF16(c.f32[i])
		}
	default:
		f32ToF16s(c.h[lo:hi], c.f32[lo:hi])
	}
}

// f32ToF16s rounds x to f16 bits in y, ties to even: whole blocks with
// F16C where the CPU has it, the rest in Go, where values whose result is
// a normal f16 (2⁻¹⁴ ≤ |v| < 65520), the common case, take an integer
// rebias and round and the rest go through tensor.F32ToF16 (which F16C
// matches bit for bit).
func f32ToF16s(y []uint16, x []float32) {
	y = y[:len(x)]
	done := 0
	if halfAsm {
		done = narrowF16(y, x)
	}
	for i := done; i < len(x); i++ {
		v := x[i]
		b := math.Float32bits(v)
		if a := b & 0x7fffffff; a >= 0x38800000 && a < 0x477ff000 {
			// Rebias the exponent (127 to 15) and round the 23-bit
			// significand to 10 bits; a carry moves into the exponent.
			y[i] = uint16(b>>16&0x8000) | uint16((a-(127-15)<<23+0xfff+(a>>13&1))>>13)
			continue
		}
		y[i] = tensor.F32ToF16(v)
	}
}

// widenKernel converts f16 or bf16 bits to f32 exactly.
func widenKernel(from tensor.DType) kernelFunc {
	c := &halfConv{to: from, wide: true}
	return func(in []*tensor.Array, out *tensor.Array) error {
		c.h, c.f32 = in[0].Bits(), out.Float32s()
		parallelRun(len(c.f32), halfCost, c)
		return nil
	}
}

// narrowKernel rounds f32 (or f64, through f32 as a storage conversion
// from f64 would) to f16 or bf16 bits, ties to even.
func narrowKernel(from, to tensor.DType) kernelFunc {
	c := &halfConv{to: to}
	return func(in []*tensor.Array, out *tensor.Array) error {
		c.h = out.Bits()
		if from == tensor.F64 {
			c.f64 = in[0].Float64s()
		} else {
			c.f32 = in[0].Float32s()
		}
		parallelRun(len(c.h), halfCost, c)
		return nil
	}
}

//go:generate go run -tags avogen ./halfgen -out half_amd64.s -stubs half_stubs_amd64.go -pkg cpu

// f16ToF32s widens x into y exactly: whole blocks with F16C where the CPU
// has it, the rest in Go, where normal numbers take a branch-free rebias
// of the exponent (15 to 127) and zeros, subnormals, infinities and NaNs
// go through tensor.F16ToF32 (which F16C matches bit for bit).
func f16ToF32s(y []float32, x []uint16) {
	y = y[:len(x)]
	done := 0
	if halfAsm {
		done = widenF16(y, x)
	}
	for i := done; i < len(x); i++ {
		h := x[i]
		if e := h & 0x7c00; e != 0 && e != 0x7c00 {
			y[i] = math.Float32frombits(uint32(h&0x8000)<<16 | (uint32(h&0x7fff)+(127-15)<<10)<<13)
			continue
		}
		y[i] = tensor.F16ToF32(h)
	}
}

// bf16ToF32s widens bfloat16 bits exactly (tensor.BF16ToF32): they are a
// float32's top half.
func bf16ToF32s(y []float32, x []uint16) {
	y = y[:len(x)]
	for i, h := range x {
		y[i] = math.Float32frombits(uint32(h) << 16)
	}
}

// copyBitsKernel copies a half tensor (a reshape that is not a view).
func copyBitsKernel() kernelFunc {
	return func(in []*tensor.Array, out *tensor.Array) error {
		copy(out.Bits(), in[0].Bits())
		return nil
	}
}

// fillBits sets every element of a half array to v.
func fillBits(d tensor.DType, x []uint16, v float64) {
	h := tensor.F32ToF16(float32(v))
	if d == tensor.BF16 {
		h = tensor.F32ToBF16(float32(v))
	}
	for i := range x {
		x[i] = h
	}
}

// copyArray copies src into dst, half arrays bit for bit (the generic
// tensor copy goes through float64, which is slow and quiets NaNs).
func copyArray(dst, src *tensor.Array) error {
	if d, s := dst.Bits(), src.Bits(); d != nil && s != nil && dst.DType() == src.DType() && len(d) == len(s) {
		copy(d, s)
		return nil
	}
	return dst.CopyFrom(src)
}
