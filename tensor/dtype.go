package tensor

import (
	"fmt"
	"math"
)

// DType is the element type of a tensor.
type DType uint8

// The element types. F16 and BF16 are storage formats: arrays may hold them,
// and the graph converts them to F32 when they are loaded.
const (
	Invalid DType = iota
	F32
	F64
	I32
	I64
	Bool
	F16
	BF16
)

var dtypeNames = [...]string{Invalid: "invalid", F32: "f32", F64: "f64", I32: "i32", I64: "i64", Bool: "bool", F16: "f16", BF16: "bf16"}
var dtypeSizes = [...]int{F32: 4, F64: 8, I32: 4, I64: 8, Bool: 1, F16: 2, BF16: 2}

// String returns the dtype's short name, e.g. "f32".
func (d DType) String() string {
	if int(d) < len(dtypeNames) {
		return dtypeNames[d]
	}
	return fmt.Sprintf("dtype(%d)", uint8(d))
}

// Size returns the bytes taken by one element.
func (d DType) Size() int {
	if int(d) < len(dtypeSizes) {
		return dtypeSizes[d]
	}
	return 0
}

// IsFloat reports whether d is a floating-point type.
func (d DType) IsFloat() bool { return d == F32 || d == F64 || d == F16 || d == BF16 }

// IsInt reports whether d is a signed integer type.
func (d DType) IsInt() bool { return d == I32 || d == I64 }

// Valid reports whether d names a known type.
func (d DType) Valid() bool { return d > Invalid && d <= BF16 }

// Compute returns the type arithmetic happens in: F16 and BF16 widen to F32.
func (d DType) Compute() DType {
	if d == F16 || d == BF16 {
		return F32
	}
	return d
}

// F16ToF32 converts an IEEE 754 binary16 value (as its bits) to float32
// exactly. Subnormals become normal float32s, infinities stay infinite and a
// NaN keeps its sign and payload with the quiet bit set, as x86's F16C
// conversion (which ggml uses) does.
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		if mant != 0 {
			return math.Float32frombits(sign | 0x7fc00000 | mant<<13)
		}
		return math.Float32frombits(sign | 0x7f800000)
	case exp != 0:
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0:
		return math.Float32frombits(sign)
	}
	// Subnormal: shift the leading one into the hidden-bit position.
	e := uint32(113)
	for mant&0x400 == 0 {
		mant <<= 1
		e--
	}
	return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
}

// F32ToF16 converts f to IEEE 754 binary16 bits, rounding to nearest with
// ties to even. Values too large become infinities, tiny ones become
// subnormals or zero, and a NaN stays a quiet NaN with its sign and the top
// of its payload (F16C's behaviour).
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if exp == 0xff {
		if mant != 0 {
			return sign | 0x7e00 | uint16(mant>>13)
		}
		return sign | 0x7c00
	}
	e := exp - 127 + 15
	if e >= 0x1f {
		return sign | 0x7c00
	}
	if e <= 0 {
		if e < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint32(14 - e)
		r := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && r&1 == 1) {
			r++
		}
		return sign | uint16(r)
	}
	// A carry out of the mantissa correctly bumps the exponent (up to inf).
	r := uint32(e)<<10 | mant>>13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && r&1 == 1) {
		r++
	}
	return sign | uint16(r)
}

// BF16ToF32 converts bfloat16 bits to float32 exactly.
func BF16ToF32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// F32ToBF16 converts f to bfloat16 bits the way ggml does: round to nearest
// even, subnormals kept, and a NaN truncated with its quiet bit forced on.
func F32ToBF16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16) | 64
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}
