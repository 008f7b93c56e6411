package qdot

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPrepareLevels requires every level's activation preparation to give
// the generic Go loop's bits, for every type, on rows of random values
// with whole blocks of zeros, tiny (subnormal) values, huge values, ±Inf
// and NaN, and exact ties of opposite sign mixed in.
func TestPrepareLevels(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const n, cols = 3, 1024
	x := make([]float32, n*cols)
	for i := range x {
		x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-4)))
	}
	clear(x[64:96])                          // a zero block of 32
	x[200], x[230] = float32(math.Inf(1)), 3 // an infinite block
	x[300], x[301] = float32(math.NaN()), 5  // NaN next to the max
	x[400] = float32(math.NaN())
	for i := 512; i < 544; i++ { // a subnormal block
		x[i] = float32(rng.NormFloat64()) * 1e-39
	}
	x[600], x[601] = 1e30, -1e30 // huge, tied
	// Whole 256-element blocks: zeros; a largest magnitude tied between
	// -7 and 7 (the first must win); NaNs and zeros only; subnormals only
	// (the scale's reciprocal overflows).
	clear(x[1024:1280])
	for i := 1280; i < 1536; i++ {
		x[i] = float32(rng.Float64()*2 - 1)
	}
	x[1300], x[1400] = -7, 7
	for i := 1536; i < 1792; i++ {
		x[i] = []float32{0, float32(math.NaN())}[i%2]
	}
	for i := 1792; i < 2048; i++ {
		x[i] = float32(rng.NormFloat64()) * 1e-42
	}
	defer SetLevel(CurrentLevel())
	for _, typ := range Types() {
		var ref acts
		SetLevel(Generic)
		ref.prepare(typ, x, n, cols)
		for _, lvl := range Supported()[1:] {
			SetLevel(lvl)
			var got acts
			got.prepare(typ, x, n, cols)
			for _, c := range []struct {
				name      string
				got, want []float32
			}{{"f", got.f, ref.f}, {"d", got.d, ref.d}, {"dv", got.dv, ref.dv}, {"ms", got.ms, ref.ms}, {"dp", got.dp, ref.dp}, {"mp", got.mp, ref.mp}} {
				if !slices.EqualFunc(c.got, c.want, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }) {
					t.Fatalf("%v %v: %s differs from the generic preparation", typ, lvl, c.name)
				}
			}
			if !slices.Equal(got.q, ref.q) || !slices.Equal(got.qp, ref.qp) {
				t.Fatalf("%v %v: quants differ from the generic preparation", typ, lvl)
			}
			if !slices.Equal(got.s, ref.s) || !slices.Equal(got.s32, ref.s32) || !slices.Equal(got.c, ref.c) || !slices.Equal(got.cp, ref.cp) {
				t.Fatalf("%v %v: sums differ from the generic preparation", typ, lvl)
			}
		}
	}
}

// BenchmarkPrepare measures the activation preparation of one 4096-value
// row, the serial step before a matvec's parallel part.
func BenchmarkPrepare(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 4096)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	defer SetLevel(CurrentLevel())
	for _, typ := range []Type{Q4_0, Q8_0, Q4_K} {
		for _, lvl := range Supported() {
			b.Run(typ.String()+"/"+lvl.String(), func(b *testing.B) {
				SetLevel(lvl)
				var a acts
				for b.Loop() {
					a.prepare(typ, x, 1, len(x))
				}
			})
		}
	}
}
