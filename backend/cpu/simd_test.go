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
