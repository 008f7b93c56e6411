package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// transcKernel is one float32 tanh/erf/log loop with its float64
// reference, its stated error bound in ulp, its block size and whether it
// declines blocks holding lanes outside its domain (log).
type transcKernel struct {
	name    string
	f       func(y, x []float32) int
	ref     func(float64) float64
	maxULP  float64
	block   int
	decline bool
}

func transcKernels() []transcKernel {
	ks := []transcKernel{
		{"tanh", TanhF32, math.Tanh, 2, 8, false},
		{"erf", ErfF32, math.Erf, 2, 8, false},
		{"log", LogF32, math.Log, 2, 8, true},
	}
	if Available512 {
		ks = append(ks,
			transcKernel{"tanh512", TanhF32x16, math.Tanh, 2, 16, false},
			transcKernel{"erf512", ErfF32x16, math.Erf, 2, 16, false},
			transcKernel{"log512", LogF32x16, math.Log, 2, 16, true})
	}
	return ks
}

// ulpErr is |got - want| in units of the gap between float32 neighbours
// at want rounded to float32 (the smaller gap of the two sides, so that
// results just below a power of two are not measured with the larger
// gap above it).
func ulpErr(got float32, want float64) float64 {
	w := float32(math.Abs(want))
	up := math.Nextafter32(w, float32(math.Inf(1))) - w
	gap := up
	if w > 0 {
		gap = min(up, w-math.Nextafter32(w, 0))
	}
	return math.Abs(float64(got)-want) / float64(gap)
}

// sameSpecial reports whether got is exactly the float32 rounding of want
// (NaN matching NaN, and the sign of zero).
func sameSpecial(got float32, want float64) bool {
	w := float32(want)
	if w != w {
		return got != got
	}
	return got == w && math.Signbit(float64(got)) == math.Signbit(float64(w))
}

// TestTranscendentalF32 sweeps 2^20 float32 values spread evenly over all
// bit patterns (both signs, subnormals, ±Inf, NaNs) plus random ragged
// slices through each loop, and bounds the error against float64 maths.
// Where the float32 result is 0, ±Inf or NaN it must be exact.
func TestTranscendentalF32(t *testing.T) {
	if !Available {
		t.Skip("no AVX2 on this CPU or noasm build")
	}
	const n = 1 << 20
	sweep := make([]float32, n)
	for i := range sweep {
		sweep[i] = math.Float32frombits(uint32(i)<<12 | uint32(i)&0xfff)
	}
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)),
		float32(math.NaN()), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-39, -1e-39,
		math.MaxFloat32, -math.MaxFloat32, 1, -1, 0.625, 0.875, 4, 10, 9.01, 3.92, 1e-20, 87, 89, 1e30}
	rng := rand.New(rand.NewPCG(21, 22))
	for _, k := range transcKernels() {
		x := append([]float32(nil), sweep...)
		x = append(x, special...)
		if k.decline {
			// Positive normal finite values only: the loop stops at the
			// first block with any other lane (checked below).
			x = x[:0]
			for _, v := range sweep {
				if v >= 0x1p-126 && v <= math.MaxFloat32 {
					x = append(x, v)
				}
			}
			x = x[:len(x)/k.block*k.block]
		}
		y := make([]float32, len(x))
		done := k.f(y, x)
		if done != len(x)/k.block*k.block {
			t.Fatalf("%s: did %d of %d", k.name, done, len(x))
		}
		worst, at := 0.0, float32(0)
		for i, v := range x[:done] {
			want := k.ref(float64(v))
			if w := float32(want); w != w || w == 0 || math.IsInf(float64(w), 0) {
				if !sameSpecial(y[i], want) {
					t.Fatalf("%s(%v) = %v, want %v", k.name, v, y[i], w)
				}
				continue
			}
			if e := ulpErr(y[i], want); e > worst || e != e {
				worst, at = e, v
			}
		}
		t.Logf("%s: worst %.3f ulp at %v", k.name, worst, at)
		if !(worst <= k.maxULP) {
			t.Errorf("%s: worst error %.3f ulp at x=%v, bound %v", k.name, worst, at, k.maxULP)
		}
		if !k.decline {
			for _, v := range special {
				xs := make([]float32, k.block)
				xs[k.block-1] = v
				ys := make([]float32, k.block)
				k.f(ys, xs)
				want := k.ref(float64(v))
				if !(sameSpecial(ys[k.block-1], want) || ulpErr(ys[k.block-1], want) <= k.maxULP) {
					t.Errorf("%s(%v) = %v, want %v", k.name, v, ys[k.block-1], want)
				}
			}
		}
		// Ragged lengths: only whole blocks are done, nothing past them
		// is written.
		for _, m := range []int{0, 1, k.block - 1, k.block, k.block + 1, 3*k.block + 5} {
			xs := make([]float32, m)
			for i := range xs {
				xs[i] = float32(rng.ExpFloat64() * 3)
			}
			ys := make([]float32, m+1)
			ys[m] = 12345
			if done := k.f(ys[:m], xs); done != m/k.block*k.block || ys[m] != 12345 {
				t.Fatalf("%s n=%d: did %d, guard %v", k.name, m, done, ys[m])
			}
		}
	}
}

// TestLogDeclines checks that the log loops stop at the first block with
// a lane outside the positive normal finite range.
func TestLogDeclines(t *testing.T) {
	if !Available {
		t.Skip("no AVX2 on this CPU or noasm build")
	}
	for _, k := range transcKernels() {
		if !k.decline {
			continue
		}
		for _, bad := range []float32{0, float32(math.Copysign(0, -1)), -1, 1e-39, float32(math.Inf(1)), float32(math.NaN())} {
			x := make([]float32, 4*k.block)
			for i := range x {
				x[i] = 1.5
			}
			x[2*k.block+3] = bad
			if done := k.f(make([]float32, len(x)), x); done != 2*k.block {
				t.Errorf("%s with %v in block 2: did %d, want %d", k.name, bad, done, 2*k.block)
			}
		}
	}
}

func BenchmarkTranscendentalF32(b *testing.B) {
	if !Available {
		b.Skip("no AVX2 on this CPU or noasm build")
	}
	const n = 4096
	rng := rand.New(rand.NewPCG(1, 1))
	x, y := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(rng.ExpFloat64() * 2)
	}
	for _, k := range transcKernels() {
		b.Run(k.name, func(b *testing.B) {
			b.SetBytes(4 * n)
			for b.Loop() {
				k.f(y, x)
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
	b.Run("go/tanh", func(b *testing.B) {
		b.SetBytes(4 * n)
		for b.Loop() {
			for i, v := range x {
				y[i] = float32(math.Tanh(float64(v)))
			}
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
	})
}
