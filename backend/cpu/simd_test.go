package cpu

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/aethertensor/aether/internal/asm/vec"
	"github.com/aethertensor/aether/op"
)

// TestVectorLoopsMatchGo runs every elementwise operation that has a
// vector loop with it and with the Go loop forced, on ragged lengths with
// NaNs, infinities and signed zeros, and requires identical results.
func TestVectorLoopsMatchGo(t *testing.T) {
	for _, wide := range []bool{false, true} {
		use512 = wide && vecAvailable512()
		testVectorLoops(t)
	}
	use512 = vecAvailable512()
}

func testVectorLoops(t *testing.T) {
	defer func(v bool) { useVec = v }(useVec)
	rng := rand.New(rand.NewPCG(4, 5))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))}
	for _, n := range []int{1, 31, 32, 33, 257, 1000} {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			if rng.IntN(6) == 0 {
				a[i] = special[rng.IntN(len(special))]
			}
			if rng.IntN(6) == 0 {
				b[i] = special[rng.IntN(len(special))]
			}
		}
		for _, c := range []op.Code{op.Add, op.Sub, op.Mul, op.Div, op.Maximum, op.Minimum} {
			got, want := make([]float32, n), make([]float32, n)
			useVec = vecAvailable()
			binaryLoop(c, a, b, got)
			useVec = false
			binaryLoop(c, a, b, want)
			for i := range want {
				if got[i] != want[i] && !(got[i] != got[i] && want[i] != want[i]) {
					t.Fatalf("%v n=%d [%d]: %v, %v → vector %v, Go %v", c, n, i, a[i], b[i], got[i], want[i])
				}
			}
		}
		for _, c := range []op.Code{op.Neg, op.Relu} {
			got, want := make([]float32, n), make([]float32, n)
			useVec = vecAvailable()
			unaryLoop(c, a, got)
			useVec = false
			unaryLoop(c, a, want)
			for i := range want {
				if got[i] != want[i] && !(got[i] != got[i] && want[i] != want[i]) {
					t.Fatalf("%v n=%d [%d]: %v → vector %v, Go %v", c, n, i, a[i], got[i], want[i])
				}
			}
		}
	}
}

// TestExpF32 checks the vector-backed exp against float64 math.Exp: within
// 2 ulp in range, and exact special cases (NaN, ±Inf, overflow, underflow)
// from the Go fallback for the blocks the vector loop declines.
func TestExpF32(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, n := range []int{1, 7, 8, 9, 100, 1001} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 20)
			if rng.IntN(10) == 0 {
				x[i] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 100, -120}[rng.IntN(5)]
			}
		}
		y := make([]float32, n)
		unaryLoop(op.Exp, x, y)
		for i := range x {
			want := float32(math.Exp(float64(x[i])))
			if want != want || math.IsInf(float64(want), 0) || want == 0 {
				if !(y[i] == want || (y[i] != y[i] && want != want)) {
					t.Fatalf("n=%d exp(%v) = %v, want %v", n, x[i], y[i], want)
				}
				continue
			}
			ulp := math.Nextafter32(want, float32(math.Inf(1))) - want
			if d := math.Abs(float64(y[i] - want)); d > 2*float64(ulp) {
				t.Fatalf("n=%d exp(%v) = %v, want %v (%.1f ulp)", n, x[i], y[i], want, d/float64(ulp))
			}
		}
	}
}

// TestVectorUnaryAccuracy compares the vector-backed sqrt, rsqrt, recip
// and sigmoid with float64 maths: sqrt is exact, the others within 4 ulp.
func TestVectorUnaryAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 9))
	ref := map[op.Code]func(float64) float64{
		op.Sqrt:    math.Sqrt,
		op.Rsqrt:   func(x float64) float64 { return 1 / math.Sqrt(x) },
		op.Recip:   func(x float64) float64 { return 1 / x },
		op.Sigmoid: func(x float64) float64 { return 1 / (1 + math.Exp(-x)) },
	}
	for c, f := range ref {
		for _, n := range []int{5, 32, 33, 1000} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.ExpFloat64() * 10)
				if c == op.Sigmoid {
					x[i] = float32(rng.NormFloat64() * 30)
				}
			}
			y := make([]float32, n)
			unaryLoop(c, x, y)
			for i := range x {
				want := float32(f(float64(x[i])))
				ulp := math.Nextafter32(want, float32(math.Inf(1))) - want
				tol := float64(4 * ulp)
				if c == op.Sqrt {
					tol = 0
				}
				if d := math.Abs(float64(y[i] - want)); d > tol && !(want == 0 && d < 1e-30) {
					t.Fatalf("%v(%v) = %v, want %v", c, x[i], y[i], want)
				}
			}
		}
	}
}

// TestVectorTranscendentals runs tanh, erf and log through unaryLoop with
// the AVX-512 loops, the AVX2 loops and the Go loop forced, on ragged
// lengths of values spread over many magnitudes with specials mixed in,
// and bounds each against float64 maths: 2 ulp for the vector loops (the
// bound stated in internal/asm/vec), exact for the Go loop; results that
// round to 0, ±Inf or NaN must be exact.
func TestVectorTranscendentals(t *testing.T) {
	defer func(v, w bool) { useVec, use512 = v, w }(useVec, use512)
	rng := rand.New(rand.NewPCG(13, 14))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)),
		1e-40, -1e-40, math.MaxFloat32, -math.MaxFloat32, 1, -1}
	ref := map[op.Code]func(float64) float64{op.Tanh: math.Tanh, op.Erf: math.Erf, op.Log: math.Log}
	modes := []struct {
		name         string
		useVec, wide bool
		tol          float64
	}{
		{"go", false, false, 0},
		{"avx2", vecAvailable(), false, 2},
		{"avx512", vecAvailable(), vecAvailable512(), 2},
	}
	for _, m := range modes {
		useVec, use512 = m.useVec, m.wide
		for c, f := range ref {
			for _, n := range []int{1, 31, 32, 33, 100, 1027} {
				x := make([]float32, n)
				for i := range x {
					// Magnitudes from 1e-30 to 1e30, both signs.
					x[i] = float32(math.Pow(10, 60*rng.Float64()-30))
					if rng.IntN(2) == 0 {
						x[i] = -x[i]
					}
					if rng.IntN(3) == 0 {
						x[i] = float32(rng.NormFloat64() * 3)
					}
					if rng.IntN(10) == 0 {
						x[i] = special[rng.IntN(len(special))]
					}
				}
				y := make([]float32, n)
				unaryLoop(c, x, y)
				for i, v := range x {
					want := f(float64(v))
					w := float32(want)
					if w != w || w == 0 || math.IsInf(float64(w), 0) {
						if !(y[i] == w && math.Signbit(float64(y[i])) == math.Signbit(float64(w))) && !(y[i] != y[i] && w != w) {
							t.Fatalf("%s %v(%v) = %v, want %v", m.name, c, v, y[i], w)
						}
						continue
					}
					if m.tol == 0 {
						if y[i] != w {
							t.Fatalf("%s %v(%v) = %v, want %v", m.name, c, v, y[i], w)
						}
						continue
					}
					gap := math.Nextafter32(float32(math.Abs(want)), 0)
					ulp := float64(float32(math.Abs(want)) - gap)
					if d := math.Abs(float64(y[i]) - want); d > m.tol*ulp {
						t.Fatalf("%s %v(%v) = %v, want %v (%.2f ulp)", m.name, c, v, y[i], w, d/ulp)
					}
				}
			}
		}
	}
}

// BenchmarkUnaryTranscendental measures unaryLoop's tanh, erf and log on
// one core with the Go loop (what they ran before they had vector loops),
// the AVX2 loops and the AVX-512 loops.
func BenchmarkUnaryTranscendental(b *testing.B) {
	defer func(v, w bool) { useVec, use512 = v, w }(useVec, use512)
	const n = 4096
	rng := rand.New(rand.NewPCG(1, 2))
	x, y := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(rng.ExpFloat64() * 2) // positive, for log
	}
	for _, c := range []op.Code{op.Tanh, op.Erf, op.Log} {
		for _, m := range []struct {
			name         string
			useVec, wide bool
		}{{"go", false, false}, {"avx2", true, false}, {"avx512", true, true}} {
			if (m.useVec && !vecAvailable()) || (m.wide && !vecAvailable512()) {
				continue
			}
			b.Run(c.String()+"/"+m.name, func(b *testing.B) {
				useVec, use512 = m.useVec, m.wide
				b.SetBytes(4 * n)
				for b.Loop() {
					unaryLoop(c, x, y)
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
			})
		}
	}
}

// TestExpIsElementwise checks that float32 exp and sigmoid are functions
// of each element alone: every array length, every position of a lane the
// vector loop declines (a -Inf, as attention's masked scores), and the
// scalar path with the vector loops off all give exp32's and sigmoid32's
// bits, which the WebGPU emitter repeats.
func TestExpIsElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	base := make([]float32, 80)
	for i := range base {
		base[i] = float32(rng.NormFloat64() * 30)
	}
	for _, vecOn := range []bool{true, false} {
		prev := useVec
		useVec = vecOn && prev
		for n := 1; n <= len(base); n += 3 {
			for bad := -1; bad < n; bad += 5 {
				x := slices.Clone(base[:n])
				if bad >= 0 {
					x[bad] = float32(math.Inf(-1))
				}
				for _, c := range []op.Code{op.Exp, op.Sigmoid} {
					y := make([]float32, n)
					unaryLoop(c, x, y)
					for i, v := range x {
						want := exp32(v)
						if c == op.Sigmoid {
							want = sigmoid32(v)
						}
						if math.Float32bits(y[i]) != math.Float32bits(want) {
							t.Fatalf("vector %v, n=%d, -Inf at %d: %v(%v) = %v, element alone %v", useVec, n, bad, c, v, y[i], want)
						}
					}
				}
			}
		}
		useVec = prev
	}
	// exp32 in range is the vector loop's polynomial, lane for lane.
	if vec.Available {
		x := make([]float32, 1<<16)
		for i := range x {
			x[i] = -87 + 175*float32(i)/float32(len(x))
		}
		y := make([]float32, len(x))
		if done := vec.ExpF32(y, x); done != len(x) {
			t.Fatalf("vector exp did %d of %d in-range values", done, len(x))
		}
		for i, v := range x {
			if w := exp32(v); math.Float32bits(y[i]) != math.Float32bits(w) {
				t.Fatalf("exp32(%v) = %v, vector %v", v, w, y[i])
			}
		}
	}
}

// TestRsqrtIsElementwise checks that f32 Rsqrt gives the same bits on
// the scalar path (short arrays, tails) as on the vector loops: a square
// root and a division, each rounded to f32, whatever the array's length.
func TestRsqrtIsElementwise(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	base := make([]float32, 200)
	for i := range base {
		base[i] = float32(math.Exp(rng.NormFloat64() * 20))
	}
	long := make([]float32, len(base))
	unaryLoop(op.Rsqrt, base, long)
	for n := 1; n <= len(base); n += 7 {
		y := make([]float32, n)
		unaryLoop(op.Rsqrt, base[:n], y)
		for i, v := range base[:n] {
			want := 1 / float32(math.Sqrt(float64(v)))
			if math.Float32bits(y[i]) != math.Float32bits(want) || math.Float32bits(long[i]) != math.Float32bits(want) {
				t.Fatalf("n=%d: rsqrt(%v) = %v (in %d elements %v), want %v", n, v, y[i], len(base), long[i], want)
			}
		}
	}
}
