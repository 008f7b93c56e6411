package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// refMax is max with a NaN in either operand winning.
func refMax(a, b float64) float64 {
	if a != a || b != b {
		return math.NaN()
	}
	return math.Max(a, b)
}

func refMin(a, b float64) float64 {
	if a != a || b != b {
		return math.NaN()
	}
	return math.Min(a, b)
}

func same(x, y float64) bool { return x == y || (x != x && y != y) }

func TestLoops(t *testing.T) {
	if !Available {
		t.Skip("no AVX2 on this CPU or noasm build")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0, math.Copysign(0, -1), 1e-40}
	bin := map[string]struct {
		f32 func(y, a, b []float32) int
		f64 func(y, a, b []float64) int
		ref func(a, b float64) float64
	}{
		"add": {AddF32, AddF64, func(a, b float64) float64 { return a + b }},
		"sub": {SubF32, SubF64, func(a, b float64) float64 { return a - b }},
		"mul": {MulF32, MulF64, func(a, b float64) float64 { return a * b }},
		"div": {DivF32, DivF64, func(a, b float64) float64 { return a / b }},
		"max": {MaxF32, MaxF64, refMax},
		"min": {MinF32, MinF64, refMin},
	}
	for _, n := range []int{0, 1, 31, 32, 33, 64, 100, 1000} {
		a, b := make([]float64, n), make([]float64, n)
		for i := range a {
			a[i], b[i] = rng.NormFloat64(), rng.NormFloat64()
			if rng.IntN(5) == 0 {
				a[i] = special[rng.IntN(len(special))]
			}
			if rng.IntN(5) == 0 {
				b[i] = special[rng.IntN(len(special))]
			}
		}
		a32, b32 := make([]float32, n), make([]float32, n)
		for i := range a {
			a32[i], b32[i] = float32(a[i]), float32(b[i])
		}
		for name, f := range bin {
			// One guard element past y must stay untouched.
			y64 := make([]float64, n+1)
			y64[n] = 12345
			done := f.f64(y64[:n], a, b)
			if done != n/16*16 || y64[n] != 12345 {
				t.Fatalf("%s f64 n=%d: did %d, guard %v", name, n, done, y64[n])
			}
			for i := 0; i < done; i++ {
				if want := f.ref(a[i], b[i]); !same(y64[i], want) {
					t.Fatalf("%s f64 [%d]: %v op %v = %v, want %v", name, i, a[i], b[i], y64[i], want)
				}
			}
			y32 := make([]float32, n+1)
			y32[n] = 12345
			done = f.f32(y32[:n], a32, b32)
			if done != n/32*32 || y32[n] != 12345 {
				t.Fatalf("%s f32 n=%d: did %d", name, n, done)
			}
			for i := 0; i < done; i++ {
				want := float64(float32(f.ref(float64(a32[i]), float64(b32[i]))))
				if !same(float64(y32[i]), want) {
					t.Fatalf("%s f32 [%d]: %v op %v = %v, want %v", name, i, a32[i], b32[i], y32[i], want)
				}
			}
		}
		y64 := make([]float64, n)
		for i := 0; i < NegF64(y64, a); i++ {
			if !same(y64[i], -a[i]) || math.Signbit(y64[i]) == math.Signbit(a[i]) && a[i] == a[i] {
				t.Fatalf("neg f64 [%d]: -%v = %v", i, a[i], y64[i])
			}
		}
		for i := 0; i < ReluF64(y64, a); i++ {
			want := a[i]
			if !(a[i] > 0) && a[i] == a[i] {
				want = 0
			}
			if !same(y64[i], want) {
				t.Fatalf("relu f64 [%d]: relu(%v) = %v", i, a[i], y64[i])
			}
		}
		y32 := make([]float32, n)
		for i := 0; i < NegF32(y32, a32); i++ {
			if !same(float64(y32[i]), float64(-a32[i])) {
				t.Fatalf("neg f32 [%d]", i)
			}
		}
		for i := 0; i < ReluF32(y32, a32); i++ {
			want := a32[i]
			if !(a32[i] > 0) && a32[i] == a32[i] {
				want = 0
			}
			if !same(float64(y32[i]), float64(want)) {
				t.Fatalf("relu f32 [%d]: relu(%v) = %v", i, a32[i], y32[i])
			}
		}
	}
}

// TestExpF32 bounds the vector exp's error against float64 math.Exp at 2
// ulp over the whole range it accepts, and checks it stops at the first
// block holding a lane it must not handle.
func TestExpF32(t *testing.T) {
	if !Available {
		t.Skip("no AVX2 on this CPU or noasm build")
	}
	const n = 1 << 16
	x, y := make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = -87 + 175*float32(i)/n
	}
	if done := ExpF32(y, x); done != n {
		t.Fatalf("did %d of %d in-range elements", done, n)
	}
	worst := 0.0
	for i := range x {
		want := float32(math.Exp(float64(x[i])))
		ulp := float64(math.Nextafter32(want, float32(math.Inf(1))) - want)
		if e := math.Abs(float64(y[i]-want)) / ulp; e > worst {
			worst = e
		}
	}
	if worst > 2 {
		t.Errorf("worst error %.2f ulp", worst)
	}
	for _, bad := range []float32{float32(math.NaN()), 89, -88, float32(math.Inf(-1))} {
		x := make([]float32, 32)
		x[19] = bad
		if done := ExpF32(make([]float32, 32), x); done != 16 {
			t.Errorf("with %v at 19: did %d, want 16", bad, done)
		}
	}
}

func TestSumAndSqrtF32(t *testing.T) {
	if !Available {
		t.Skip("no AVX2 on this CPU or noasm build")
	}
	rng := rand.New(rand.NewPCG(6, 6))
	for _, n := range []int{0, 15, 16, 17, 100, 4097} {
		x := make([]float32, n)
		var want float64
		for i := range x {
			x[i] = float32(rng.NormFloat64() * 1e3)
		}
		sum, done := SumF32(x)
		if done != n/16*16 {
			t.Fatalf("n=%d: added %d", n, done)
		}
		for _, v := range x[:done] {
			want += float64(v)
		}
		if math.Abs(sum-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Fatalf("n=%d: sum %v, want %v", n, sum, want)
		}
		y := make([]float32, n)
		for i := range x {
			x[i] = float32(math.Abs(float64(x[i])))
		}
		for i := 0; i < SqrtF32(y, x); i++ {
			if want := float32(math.Sqrt(float64(x[i]))); y[i] != want {
				t.Fatalf("sqrt(%v) = %v, want %v", x[i], y[i], want)
			}
		}
	}
}

// TestLoops512 checks the AVX-512 float32 loops against the AVX2 ones'
// reference semantics, special values included.
func TestLoops512(t *testing.T) {
	if !Available512 {
		t.Skip("no AVX-512 on this CPU or noasm build")
	}
	rng := rand.New(rand.NewPCG(3, 7))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1))}
	bin := map[string]struct {
		f   func(y, a, b []float32) int
		ref func(a, b float64) float64
	}{
		"add": {AddF32x16, func(a, b float64) float64 { return a + b }},
		"sub": {SubF32x16, func(a, b float64) float64 { return a - b }},
		"mul": {MulF32x16, func(a, b float64) float64 { return a * b }},
		"div": {DivF32x16, func(a, b float64) float64 { return a / b }},
		"max": {MaxF32x16, refMax},
		"min": {MinF32x16, refMin},
	}
	for _, n := range []int{0, 63, 64, 65, 200, 1000} {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			if rng.IntN(5) == 0 {
				a[i] = special[rng.IntN(len(special))]
			}
			if rng.IntN(5) == 0 {
				b[i] = special[rng.IntN(len(special))]
			}
		}
		for name, f := range bin {
			y := make([]float32, n+1)
			y[n] = 12345
			done := f.f(y[:n], a, b)
			if done != n/64*64 || y[n] != 12345 {
				t.Fatalf("%s n=%d: did %d, guard %v", name, n, done, y[n])
			}
			for i := 0; i < done; i++ {
				want := float64(float32(f.ref(float64(a[i]), float64(b[i]))))
				if !same(float64(y[i]), want) {
					t.Fatalf("%s [%d]: %v op %v = %v, want %v", name, i, a[i], b[i], y[i], want)
				}
			}
		}
		y := make([]float32, n)
		for i := 0; i < NegF32x16(y, a); i++ {
			if !same(float64(y[i]), float64(-a[i])) || math.Signbit(float64(y[i])) == math.Signbit(float64(a[i])) {
				t.Fatalf("neg [%d]: -%v = %v", i, a[i], y[i])
			}
		}
		for i := 0; i < ReluF32x16(y, a); i++ {
			want := a[i]
			if !(a[i] > 0) && a[i] == a[i] {
				want = 0
			}
			if !same(float64(y[i]), float64(want)) {
				t.Fatalf("relu [%d]: relu(%v) = %v", i, a[i], y[i])
			}
		}
	}
}

// TestWhereF32 checks the select against a Go loop on ragged lengths,
// mixed masks and special values (NaN payloads and signed zeros must pass
// through as bits).
func TestWhereF32(t *testing.T) {
	if !Available {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 31, 32, 33, 64, 100, 1000} {
		a, b, y := make([]float32, n), make([]float32, n), make([]float32, n)
		c := make([]bool, n)
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			if i%7 == 0 {
				a[i] = math.Float32frombits(0x7fc00001 + uint32(i)) // NaN payloads
			}
			if i%11 == 0 {
				b[i] = float32(math.Copysign(0, -1))
			}
			c[i] = r.IntN(2) == 0
		}
		done := WhereF32(y, a, b, c)
		if done != n&^31 {
			t.Fatalf("n=%d: did %d, want %d", n, done, n&^31)
		}
		for i := 0; i < done; i++ {
			want := b[i]
			if c[i] {
				want = a[i]
			}
			if math.Float32bits(y[i]) != math.Float32bits(want) {
				t.Fatalf("n=%d: y[%d] = %#x, want %#x", n, i, math.Float32bits(y[i]), math.Float32bits(want))
			}
		}
	}
}
