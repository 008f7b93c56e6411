package cpu

import (
	"math"
	"math/rand/v2"
	"testing"

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
