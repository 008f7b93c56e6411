package cpu

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/aethertensor/aether/internal/asm/gemm"
)

// guard is how many sentinel values surround every buffer a GEMM sees.
const guard = 37

// guarded returns a slice of n values inside NaN guards, and a check that
// fails the test if a guard changed.
func guarded[T float](t *testing.T, n int, fill func(i int) T) ([]T, func()) {
	buf := make([]T, n+2*guard)
	nan := T(math.NaN())
	for i := range buf {
		buf[i] = nan
	}
	s := buf[guard : guard+n : guard+n]
	for i := range s {
		s[i] = fill(i)
	}
	return s, func() {
		t.Helper()
		for i, v := range buf {
			if (i < guard || i >= guard+n) && v == v {
				t.Fatalf("guard %d (of %d-value buffer) overwritten with %v", i-guard, n, v)
			}
		}
	}
}

// gemmCase is one product shape, with optional small blocking to cross
// every KC/MC/NC boundary on small matrices.
type gemmCase struct {
	batch, m, k, n int
	kc, mc, nc     int // 0: the default
}

func (c gemmCase) String() string {
	s := fmt.Sprintf("%dx%dx%dx%d", c.batch, c.m, c.k, c.n)
	if c.kc > 0 {
		s += fmt.Sprintf("/kc%d.mc%d.nc%d", c.kc, c.mc, c.nc)
	}
	return s
}

func gemmCases() []gemmCase {
	var cs []gemmCase
	sizes := []int{1, 7, 17, 33, 65, 129}
	for i, m := range sizes {
		for j, k := range sizes {
			for l, n := range sizes {
				if (i+j+l)%2 == 0 || m == 1 || n == 1 { // a spread of the cube
					cs = append(cs, gemmCase{batch: 1, m: m, k: k, n: n})
				}
			}
		}
	}
	return append(cs,
		gemmCase{batch: 3, m: 20, k: 9, n: 40},
		gemmCase{batch: 2, m: 1, k: 300, n: 70},
		gemmCase{batch: 1, m: 0, k: 5, n: 3},
		gemmCase{batch: 1, m: 4, k: 0, n: 3},
		gemmCase{batch: 0, m: 4, k: 5, n: 3},
		gemmCase{batch: 1, m: 300, k: 270, n: 290},
		gemmCase{batch: 1, m: 61, k: 45, n: 131, kc: 8, mc: 28, nc: 64},
		gemmCase{batch: 2, m: 97, k: 33, n: 70, kc: 5, mc: 42, nc: 96},
	)
}

// naive is the float64 reference product and the bound sum |a||b| that
// scales the tolerance of each element.
func naive[T float](c gemmCase, a, b []T) (ref, scale []float64) {
	m, k, n := c.m, c.k, c.n
	ref = make([]float64, c.batch*m*n)
	scale = make([]float64, len(ref))
	for bi := 0; bi < c.batch; bi++ {
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s, abs float64
				for p := 0; p < k; p++ {
					x := float64(a[(bi*m+i)*k+p]) * float64(b[(bi*k+p)*n+j])
					s += x
					abs += math.Abs(x)
				}
				ref[(bi*m+i)*n+j] = s
				scale[(bi*m+i)*n+j] = abs
			}
		}
	}
	return ref, scale
}

// checkGEMM runs a GEMM with kernel set ks on guarded random data and
// compares it with the float64 reference within tol relative to sum |a||b|.
func checkGEMM[T float](t *testing.T, ks kernelSet[T], c gemmCase, tol float64) {
	t.Helper()
	g, err := NewGEMM[T](c.batch, c.m, c.k, c.n)
	if err != nil {
		t.Fatal(err)
	}
	g.ks = ks
	g.kc, g.mc, g.nc = blocking(ks)
	if c.kc > 0 {
		g.kc, g.mc, g.nc = c.kc, c.mc/ks.mr*ks.mr, max(ks.nr, c.nc/ks.nr*ks.nr)
	}
	r := rand.New(rand.NewPCG(uint64(c.m), uint64(c.k*1000+c.n)))
	a, checkA := guarded(t, c.batch*c.m*c.k, func(int) T { return T(r.Float64()*2 - 1) })
	b, checkB := guarded(t, c.batch*c.k*c.n, func(int) T { return T(r.Float64()*2 - 1) })
	out, checkC := guarded(t, c.batch*c.m*c.n, func(int) T { return T(math.NaN()) })
	if err := g.Run(out, a, b, nil); err != nil {
		t.Fatal(err)
	}
	checkA()
	checkB()
	checkC()
	ref, scale := naive(c, a, b)
	for i, want := range ref {
		if got := float64(out[i]); !(math.Abs(got-want) <= tol*scale[i]+1e-30) {
			t.Fatalf("%v %s: c[%d] = %v, want %v (scale %v)", c, ks.name, i, got, want, scale[i])
		}
	}
}

// kernelSets32 is every float32 kernel level this machine can run, the Go
// kernels always among them.
func kernelSets32() []kernelSet[float32] {
	sets := []kernelSet[float32]{goSet[float32]()}
	if s, ok := gemm.Float32(); ok {
		sets = append(sets, asmSet32(s))
	}
	if s, _, ok := gemm.AVX2(); ok && gemm.Level() != "AVX2" {
		sets = append(sets, asmSet32(s))
	}
	return sets
}

func kernelSets64() []kernelSet[float64] {
	sets := []kernelSet[float64]{goSet[float64]()}
	if s, ok := gemm.Float64(); ok {
		sets = append(sets, asmSet64(s))
	}
	if _, s, ok := gemm.AVX2(); ok && gemm.Level() != "AVX2" {
		sets = append(sets, asmSet64(s))
	}
	return sets
}

func TestGEMMFloat32MatchesReference(t *testing.T) {
	t.Logf("assembly level %q", gemm.Level())
	for _, ks := range kernelSets32() {
		t.Run(ks.name, func(t *testing.T) {
			for _, c := range gemmCases() {
				checkGEMM(t, ks, c, 1e-5)
			}
		})
	}
}

func TestGEMMFloat64MatchesReference(t *testing.T) {
	for _, ks := range kernelSets64() {
		t.Run(ks.name, func(t *testing.T) {
			for _, c := range gemmCases() {
				checkGEMM(t, ks, c, 1e-13)
			}
		})
	}
}

// TestGEMMSIMDEqualsGeneric compares the assembly kernels with the Go
// kernels directly, element by element, within 1e-5 relative.
func TestGEMMSIMDEqualsGeneric(t *testing.T) {
	for _, c := range []gemmCase{{1, 33, 129, 65, 0, 0, 0}, {2, 129, 17, 129, 0, 0, 0}, {1, 1, 200, 129, 0, 0, 0}} {
		r := rand.New(rand.NewPCG(1, 2))
		a := make([]float32, c.batch*c.m*c.k)
		b := make([]float32, c.batch*c.k*c.n)
		for i := range a {
			a[i] = float32(r.NormFloat64())
		}
		for i := range b {
			b[i] = float32(r.NormFloat64())
		}
		var want []float32
		for _, ks := range kernelSets32() {
			g, _ := NewGEMM[float32](c.batch, c.m, c.k, c.n)
			g.ks = ks
			got := make([]float32, c.batch*c.m*c.n)
			if err := g.Run(got, a, b, nil); err != nil {
				t.Fatal(err)
			}
			if want == nil {
				want = got
				continue
			}
			for i := range got {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-5*math.Max(1, math.Abs(float64(want[i]))) {
					t.Fatalf("%v: %s c[%d] = %v, Go kernels give %v", c, ks.name, i, got[i], want[i])
				}
			}
		}
	}
}

// TestGEMMForceGeneric checks that the runtime switch reaches NewGEMM.
func TestGEMMForceGeneric(t *testing.T) {
	old := forceGeneric(true)
	defer forceGeneric(old)
	g, _ := NewGEMM[float32](1, 2, 3, 4)
	if g.Kernels() != "Go" {
		t.Fatalf("forced generic GEMM uses %s kernels", g.Kernels())
	}
	forceGeneric(false)
	g, _ = NewGEMM[float32](1, 2, 3, 4)
	if want := gemm.Level(); want != "" && g.Kernels() != want {
		t.Fatalf("GEMM uses %s kernels, want %s", g.Kernels(), want)
	}
}

func TestGEMMEpilogue(t *testing.T) {
	const batch, m, k, n = 2, 19, 23, 37
	for _, act := range []Activation{ActNone, ActReLU, ActGELU, ActGELUTanh, ActSiLU} {
		r := rand.New(rand.NewPCG(3, uint64(act)))
		fill := func(n int) []float32 {
			s := make([]float32, n)
			for i := range s {
				s[i] = float32(r.NormFloat64())
			}
			return s
		}
		a, b, bias, res := fill(batch*m*k), fill(batch*k*n), fill(n), fill(batch*m*n)
		g, _ := NewGEMM[float32](batch, m, k, n)
		plain := make([]float32, batch*m*n)
		fused := make([]float32, batch*m*n)
		if err := g.Run(plain, a, b, nil); err != nil {
			t.Fatal(err)
		}
		if err := g.Run(fused, a, b, &Epilogue[float32]{Bias: bias, Act: act, Residual: res}); err != nil {
			t.Fatal(err)
		}
		for i, v := range plain {
			x := []float32{v + bias[i%n]}
			activate(x, act)
			want := x[0] + res[i]
			if math.Abs(float64(fused[i]-want)) > 1e-6 {
				t.Fatalf("act %d: c[%d] = %v, want %v", act, i, fused[i], want)
			}
		}
	}
}

func TestGEMMErrors(t *testing.T) {
	if _, err := NewGEMM[float32](1, -1, 2, 3); !errors.Is(err, ErrGEMM) {
		t.Fatalf("negative size: %v", err)
	}
	g, _ := NewGEMM[float64](2, 3, 4, 5)
	ok := func(n int) []float64 { return make([]float64, n) }
	for _, tc := range []struct {
		name    string
		c, a, b []float64
		ep      *Epilogue[float64]
	}{
		{"short a", ok(30), ok(23), ok(40), nil},
		{"long b", ok(30), ok(24), ok(41), nil},
		{"short c", ok(29), ok(24), ok(40), nil},
		{"bias", ok(30), ok(24), ok(40), &Epilogue[float64]{Bias: ok(4)}},
		{"residual", ok(30), ok(24), ok(40), &Epilogue[float64]{Residual: ok(15)}},
	} {
		if err := g.Run(tc.c, tc.a, tc.b, tc.ep); !errors.Is(err, ErrGEMM) {
			t.Errorf("%s: err = %v, want ErrGEMM", tc.name, err)
		}
	}
}

func TestGEMMConcurrentRuns(t *testing.T) {
	const m, k, n = 70, 50, 90
	g, _ := NewGEMM[float32](1, m, k, n)
	a := make([]float32, m*k)
	b := make([]float32, k*n)
	for i := range a {
		a[i] = float32(i%7) - 3
	}
	for i := range b {
		b[i] = float32(i%5) - 2
	}
	want := make([]float32, m*n)
	if err := g.Run(want, a, b, nil); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := make([]float32, m*n)
			for it := 0; it < 20; it++ {
				if err := g.Run(got, a, b, nil); err != nil {
					t.Error(err)
					return
				}
				for i := range got {
					if got[i] != want[i] {
						t.Errorf("concurrent run: c[%d] = %v, want %v", i, got[i], want[i])
						return
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestGEMMRunAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	const m, k, n = 64, 64, 256
	g, _ := NewGEMM[float32](1, m, k, n)
	a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	ep := &Epilogue[float32]{Act: ActReLU}
	if err := g.Run(c, a, b, ep); err != nil {
		t.Fatal(err)
	}
	if allocs := testing.AllocsPerRun(50, func() { _ = g.Run(c, a, b, ep) }); allocs != 0 {
		t.Fatalf("Run allocates %v times per call", allocs)
	}
}

// TestGEMMPackedBitIdentical checks that a right operand packed once,
// from row-major or transposed storage, gives exactly Run's product for
// every kernel level, shape and blocking, with an epilogue too, and that
// RunPacked writes nothing outside its output.
func TestGEMMPackedBitIdentical(t *testing.T) {
	for _, c := range gemmCases() {
		for _, ks := range kernelSets32() {
			checkPacked(t, ks, c)
		}
		for _, ks := range kernelSets64() {
			checkPacked(t, ks, c)
		}
	}
}

func checkPacked[T float](t *testing.T, ks kernelSet[T], c gemmCase) {
	t.Helper()
	g, err := NewGEMM[T](c.batch, c.m, c.k, c.n)
	if err != nil {
		t.Fatal(err)
	}
	g.ks = ks
	g.kc, g.mc, g.nc = blocking(ks)
	if c.kc > 0 {
		g.kc, g.mc, g.nc = c.kc, max(ks.mr, c.mc/ks.mr*ks.mr), max(ks.nr, c.nc/ks.nr*ks.nr)
	}
	r := rand.New(rand.NewPCG(uint64(c.n), uint64(c.k*1000+c.m)))
	fill := func(n int) []T {
		s := make([]T, n)
		for i := range s {
			s[i] = T(r.NormFloat64())
		}
		return s
	}
	a, b := fill(c.batch*c.m*c.k), fill(c.batch*c.k*c.n)
	bt := make([]T, len(b)) // each batch item of b transposed to [n, k]
	for bi := 0; bi < c.batch; bi++ {
		for p := 0; p < c.k; p++ {
			for j := 0; j < c.n; j++ {
				bt[(bi*c.n+j)*c.k+p] = b[(bi*c.k+p)*c.n+j]
			}
		}
	}
	ep := &Epilogue[T]{Bias: fill(c.n), Act: ActReLU}
	want := make([]T, c.batch*c.m*c.n)
	if err := g.Run(want, a, b, ep); err != nil {
		t.Fatal(err)
	}
	for _, trans := range []bool{false, true} {
		pb := g.NewPackedB()
		src := b
		if trans {
			src = bt
		}
		if err := pb.Pack(src, trans); err != nil {
			t.Fatal(err)
		}
		got, check := guarded(t, len(want), func(int) T { return T(math.NaN()) })
		if err := g.RunPacked(got, a, pb, ep); err != nil {
			t.Fatal(err)
		}
		check()
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%v %s trans %v: c[%d] = %v, Run gives %v", c, ks.name, trans, i, got[i], want[i])
			}
		}
	}
}

func TestGEMMPackedErrors(t *testing.T) {
	g, _ := NewGEMM[float32](2, 3, 4, 5)
	other, _ := NewGEMM[float32](2, 3, 4, 5)
	pb := g.NewPackedB()
	if err := pb.Pack(make([]float32, 39), false); !errors.Is(err, ErrGEMM) {
		t.Errorf("short operand: err = %v, want ErrGEMM", err)
	}
	c, a := make([]float32, 30), make([]float32, 24)
	if err := other.RunPacked(c, a, pb, nil); !errors.Is(err, ErrGEMM) {
		t.Errorf("operand of another GEMM: err = %v, want ErrGEMM", err)
	}
	if err := g.RunPacked(c[:29], a, pb, nil); !errors.Is(err, ErrGEMM) {
		t.Errorf("short output: err = %v, want ErrGEMM", err)
	}
	if err := g.RunPacked(c, a, nil, nil); !errors.Is(err, ErrGEMM) {
		t.Errorf("nil operand: err = %v, want ErrGEMM", err)
	}
}

// BenchmarkGEMMConstWeight multiplies 64 rows by a 4096×4096 weight,
// packing the weight's panels on every run (Run) or once (RunPacked).
func BenchmarkGEMMConstWeight(b *testing.B) {
	const m, k, n = 64, 4096, 4096
	g, _ := NewGEMM[float32](1, m, k, n)
	x, w, y := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range w {
		w[i] = float32(i%13) - 6
	}
	for i := range x {
		x[i] = float32(i%7) - 3
	}
	flops := func(b *testing.B) {
		b.ReportMetric(2*m*k*n*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
	b.Run("pack-each-run", func(b *testing.B) {
		for b.Loop() {
			_ = g.Run(y, x, w, nil)
		}
		flops(b)
	})
	b.Run("prepacked", func(b *testing.B) {
		pb := g.NewPackedB()
		if err := pb.Pack(w, false); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			_ = g.RunPacked(y, x, pb, nil)
		}
		flops(b)
	})
}
