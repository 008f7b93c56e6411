package tensor_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/tensor"
)

// halfValue decodes IEEE binary16 bits from the definition.
func halfValue(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e, m := int(h>>10)&0x1f, float64(h&0x3ff)
	switch e {
	case 0:
		return sign * math.Ldexp(m, -24)
	case 31:
		if m != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1024+m, e-25)
}

// roundRef rounds x to a binary float with mbits stored mantissa bits,
// minimum normal exponent emin and largest finite value maxFinite, to
// nearest with ties to even, overflowing to infinity.
func roundRef(x float64, mbits, emin int, maxFinite float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || x == 0 {
		return x
	}
	_, exp := math.Frexp(math.Abs(x)) // |x| = f·2^exp, f in [0.5, 1)
	e := max(exp-1, emin)
	q := math.Ldexp(1, e-mbits)
	r := math.RoundToEven(math.Abs(x)/q) * q
	if r > maxFinite {
		r = math.Inf(1)
	}
	return math.Copysign(r, x)
}

func roundF16Ref(x float64) float64 { return roundRef(x, 10, -14, 65504) }

func roundBF16Ref(x float64) float64 {
	return roundRef(x, 7, -126, math.Ldexp(255, 120)) // (2-2⁻⁷)·2¹²⁷
}

func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b && math.Signbit(a) == math.Signbit(b)
}

func TestF16ToF32Exhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		got, want := float64(tensor.F16ToF32(uint16(h))), halfValue(uint16(h))
		if !sameFloat(got, want) {
			t.Fatalf("F16ToF32(%#04x) = %v, want %v", h, got, want)
		}
	}
}

func TestBF16ToF32Exhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		got := tensor.BF16ToF32(uint16(h))
		want := math.Float32frombits(uint32(h) << 16) // bf16 is the top half of an f32
		if !sameFloat(float64(got), float64(want)) {
			t.Fatalf("BF16ToF32(%#04x) = %v, want %v", h, got, want)
		}
	}
}

func TestHalfRoundTrip(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := tensor.F16ToF32(uint16(h))
		if f != f {
			if back := tensor.F32ToF16(f); back&0x7c00 != 0x7c00 || back&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, back)
			}
			continue
		}
		if back := tensor.F32ToF16(f); back != uint16(h) {
			t.Fatalf("F32ToF16(F16ToF32(%#04x)) = %#04x", h, back)
		}
		b := tensor.BF16ToF32(uint16(h))
		if b == b {
			if back := tensor.F32ToBF16(b); back != uint16(h) {
				t.Fatalf("F32ToBF16(BF16ToF32(%#04x)) = %#04x", h, back)
			}
		}
	}
}

// float32Inputs returns random float32s over every exponent, the midpoints
// between neighbouring f16 and bf16 values (ties), and edge values.
func float32Inputs() []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	var xs []float32
	for i := 0; i < 200000; i++ {
		xs = append(xs, math.Float32frombits(r.Uint32()))
	}
	for h := uint16(0); h < 0x7c00; h++ {
		lo, hi := halfValue(h), halfValue(h+1)
		xs = append(xs, float32((lo+hi)/2), -float32((lo+hi)/2))
	}
	for h := uint32(0); h < 0x7f80; h += 3 {
		lo, hi := math.Float32frombits(h<<16), math.Float32frombits((h+1)<<16)
		xs = append(xs, float32((float64(lo)+float64(hi))/2))
	}
	return append(xs, 65504, 65519.99, 65520, 65536, 1e-8, 2.9e-8, 3e-8, 6e-8, math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.Copysign(0, -1)))
}

func TestF32ToF16Rounding(t *testing.T) {
	bad := 0
	for _, x := range float32Inputs() {
		got := halfValue(tensor.F32ToF16(x))
		want := roundF16Ref(float64(x))
		if !sameFloat(got, want) {
			if bad++; bad <= 5 {
				t.Errorf("F32ToF16(%v = %#08x) = %v, want %v", x, math.Float32bits(x), got, want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d conversions wrong", bad)
	}
}

func TestF32ToBF16Rounding(t *testing.T) {
	bad := 0
	for _, x := range float32Inputs() {
		got := float64(tensor.BF16ToF32(tensor.F32ToBF16(x)))
		want := roundBF16Ref(float64(x))
		if !sameFloat(got, want) {
			if bad++; bad <= 5 {
				t.Errorf("F32ToBF16(%v = %#08x) = %v, want %v", x, math.Float32bits(x), got, want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d conversions wrong", bad)
	}
}

func TestDTypeProperties(t *testing.T) {
	cases := []struct {
		d              tensor.DType
		name           string
		size           int
		isFloat, isInt bool
		compute        tensor.DType
	}{
		{tensor.F32, "f32", 4, true, false, tensor.F32},
		{tensor.F64, "f64", 8, true, false, tensor.F64},
		{tensor.I32, "i32", 4, false, true, tensor.I32},
		{tensor.I64, "i64", 8, false, true, tensor.I64},
		{tensor.Bool, "bool", 1, false, false, tensor.Bool},
		{tensor.F16, "f16", 2, true, false, tensor.F32},
		{tensor.BF16, "bf16", 2, true, false, tensor.F32},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.d.String() != c.name || c.d.Size() != c.size || c.d.IsFloat() != c.isFloat || c.d.IsInt() != c.isInt || c.d.Compute() != c.compute || !c.d.Valid() {
				t.Errorf("%v: String %q Size %d IsFloat %v IsInt %v Compute %v Valid %v", c.d, c.d.String(), c.d.Size(), c.d.IsFloat(), c.d.IsInt(), c.d.Compute(), c.d.Valid())
			}
		})
	}
	for _, d := range []tensor.DType{tensor.Invalid, tensor.DType(200)} {
		if d.Valid() || d.Size() != 0 {
			t.Errorf("%v: Valid %v Size %d", d, d.Valid(), d.Size())
		}
	}
	if s := tensor.DType(200).String(); s != "dtype(200)" {
		t.Errorf("String of an unknown dtype = %q", s)
	}
}
