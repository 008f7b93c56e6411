package quant_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/llm/quant"
)

// f16Value computes a binary16 value from its fields in float64, as an
// independent reference for F16ToF32.
func f16Value(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * mant * math.Ldexp(1, -24)
	case 0x1f:
		if mant != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * (1 + mant/1024) * math.Ldexp(1, exp-15)
}

func TestF16ToF32AllValues(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		got, want := quant.F16ToF32(h), f16Value(h)
		if math.IsNaN(want) {
			b := math.Float32bits(got)
			// Sign and payload kept, quiet bit set.
			if !math.IsNaN(float64(got)) || b>>31 != uint32(h>>15) || b&0x3fffff != uint32(h&0x1ff)<<13 || b&0x400000 == 0 {
				t.Fatalf("F16ToF32(%#04x) = %#08x, want the quiet NaN with its payload", h, b)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != math.Signbit(want) {
			t.Fatalf("F16ToF32(%#04x) = %g, want %g", h, got, want)
		}
	}
}

// refF32ToF16 rounds f to the nearest binary16, ties to even, by searching
// the ordered positive codes: an independent check of F32ToF16's bit logic.
func refF32ToF16(f float32) uint16 {
	var sign uint16
	a := float64(f)
	if math.Signbit(a) {
		sign, a = 0x8000, -a
	}
	// Values at or above 65520 (max half + half an ulp) round to infinity.
	if a >= 65520 {
		return sign | 0x7c00
	}
	lo, hi := 0, 0x7bff // largest code whose value is <= a
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if f16Value(uint16(mid)) <= a {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo == 0x7bff {
		return sign | uint16(lo)
	}
	dlo, dhi := a-f16Value(uint16(lo)), f16Value(uint16(lo+1))-a
	if dhi < dlo || (dhi == dlo && lo&1 == 1) {
		lo++
	}
	return sign | uint16(lo)
}

func TestF32ToF16(t *testing.T) {
	for _, tc := range []struct {
		in   float32
		want uint16
	}{
		{0, 0},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{65504, 0x7bff},
		{65519.99, 0x7bff},
		{65520, 0x7c00}, // halfway to the next power: ties to even (inf)
		{1e10, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{float32(math.Ldexp(1, -24)), 0x0001},     // smallest subnormal
		{float32(math.Ldexp(1, -25)), 0x0000},     // tie between 0 and 2^-24: even
		{float32(math.Ldexp(3, -26)), 0x0001},     // 0.75 ulp rounds up
		{float32(math.Ldexp(3, -25)), 0x0002},     // 1.5 ulp: tie, to even
		{float32(math.Ldexp(1, -14)), 0x0400},     // smallest normal
		{float32(1 + math.Ldexp(1, -11)), 0x3c00}, // tie at 1: even
		{float32(1 + math.Ldexp(3, -11)), 0x3c02}, // tie: up to even
		{math.Float32frombits(0x7fc00001), 0x7e00},
		{math.Float32frombits(0xff812345), 0xfe09}, // signalling NaN: quietened, payload truncated
	} {
		if got := quant.F32ToF16(tc.in); got != tc.want {
			t.Errorf("F32ToF16(%g [%#08x]) = %#04x, want %#04x", tc.in, math.Float32bits(tc.in), got, tc.want)
		}
	}
	// Every half and the float32 values just around each rounding midpoint.
	for h := uint16(0); h < 0x7c00; h++ {
		v := quant.F16ToF32(h)
		if got := quant.F32ToF16(v); got != h {
			t.Fatalf("F32ToF16(F16ToF32(%#04x)) = %#04x", h, got)
		}
		if got := quant.F32ToF16(-v); got != h|0x8000 {
			t.Fatalf("F32ToF16(-F16ToF32(%#04x)) = %#04x", h, got)
		}
		mid := float32((f16Value(h) + f16Value(h+1)) / 2) // exact in float32
		for _, f := range []float32{math.Nextafter32(mid, 0), mid, math.Nextafter32(mid, 1e9)} {
			if got, want := quant.F32ToF16(f), refF32ToF16(f); got != want {
				t.Fatalf("F32ToF16(%g [%#08x]) = %#04x, want %#04x", f, math.Float32bits(f), got, want)
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		f := math.Float32frombits(r.Uint32())
		if math.IsNaN(float64(f)) {
			continue
		}
		if got, want := quant.F32ToF16(f), refF32ToF16(f); got != want {
			t.Fatalf("F32ToF16(%g [%#08x]) = %#04x, want %#04x", f, math.Float32bits(f), got, want)
		}
	}
}

func TestBF16(t *testing.T) {
	for _, tc := range []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // tie: even
		{0x3f818000, 0x3f82}, // tie: up to even
		{0x3f808001, 0x3f81}, // above tie
		{0x7f7fffff, 0x7f80}, // max float rounds to inf
		{0x00000001, 0x0000}, // subnormal kept (rounds to 0 here)
		{0x00018000, 0x0002}, // subnormal tie to even
		{0x7f800000, 0x7f80}, // inf
		{0x7f800001, 0x7fc0}, // signalling NaN: quiet bit forced
		{0xffc12345, 0xffc1}, // NaN payload truncated
	} {
		if got := quant.F32ToBF16(math.Float32frombits(tc.in)); got != tc.want {
			t.Errorf("F32ToBF16(%#08x) = %#04x, want %#04x", tc.in, got, tc.want)
		}
	}
	for i := 0; i < 1<<16; i++ {
		if got := math.Float32bits(quant.BF16ToF32(uint16(i))); got != uint32(i)<<16 {
			t.Fatalf("BF16ToF32(%#04x) = %#08x", i, got)
		}
	}
}
