package graph_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// noReduceEpilogues is the CPU device with reduction epilogues and chained
// reductions turned off in its cost model, the baseline the fused schedule
// is measured against.
type noReduceEpilogues struct{ *cpu.Device }

func (d noReduceEpilogues) Caps() backend.Caps {
	c := d.Device.Caps()
	c.FuseReduceEpilogues, c.ChainReductions = false, false
	return c
}

func softmaxRows(x graph.Tensor) graph.Tensor {
	e := x.Sub(x.MaxKeep(-1)).Exp()
	return e.Div(e.SumKeep(-1))
}

func logSoftmaxRows(x graph.Tensor) graph.Tensor {
	xc := x.Sub(x.MaxKeep(-1))
	return xc.Sub(xc.Exp().SumKeep(-1).Log())
}

// rowBlocks are row-wise blocks with the launches the CPU runs them in
// (the library softmax ops are one kernel of their own).
var rowBlocks = []struct {
	name  string
	build func(x, w graph.Tensor) graph.Tensor
	steps int
}{
	{"rms_norm", func(x, w graph.Tensor) graph.Tensor { return x.RMSNorm(w, 1e-5) }, 1},
	{"layer_norm", func(x, w graph.Tensor) graph.Tensor { return x.LayerNorm(w, w, 1e-5) }, 2},
	{"softmax", func(x, w graph.Tensor) graph.Tensor { return softmaxRows(x) }, 2},
	{"log_softmax", func(x, w graph.Tensor) graph.Tensor { return logSoftmaxRows(x) }, 2},
	{"softmax_op", func(x, w graph.Tensor) graph.Tensor { return x.Softmax(-1) }, 1},
	{"log_softmax_op", func(x, w graph.Tensor) graph.Tensor { return x.LogSoftmax(-1) }, 1},
}

// TestFusedReduceSteps checks the launch count of each row-wise block on
// the CPU, that epilogues lower it, and that the fused program matches
// the unfused one within 1e-6 relative in f64.
func TestFusedReduceSteps(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	xs, ws := randRowsF64(rng, 3, 7, 80), randRowsF64(rng, 80)
	for _, c := range rowBlocks {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New()
			x := g.Placeholder("x", tensor.F64, 3, 7, 80)
			w := g.Placeholder("w", tensor.F64, 80)
			y := c.build(x, w)
			fused := compileRows(t, y)
			without := compileRows(t, y, graph.OnDevice(noReduceEpilogues{cpu.New()}))
			plain := compileRows(t, y, graph.Fuse(false))
			// With the device's calibrated costs a value both reductions
			// read may be stored, which takes one more launch.
			if fused.Steps() > c.steps {
				t.Errorf("%d steps, want at most %d", fused.Steps(), c.steps)
			}
			if c.steps > 1 || c.name == "rms_norm" {
				if without.Steps() <= fused.Steps() {
					t.Errorf("%d steps without epilogues, %d with", without.Steps(), fused.Steps())
				}
			}
			feeds := graph.Feeds{"x": xs, "w": ws}
			closeRelAll(t, runClone(t, fused, feeds), runClone(t, plain, feeds), 1e-6)
		})
	}
}

// TestFusedReduceRandomGraphs compares fused and unfused programs on
// random row-wise graphs: reductions over the last one or two axes whose
// results are broadcast back into elementwise chains, the pattern
// epilogues fuse, in f64.
func TestFusedReduceRandomGraphs(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 19))
	xs := randRowsF64(rng, 3, 4, 24)
	fusedEpi, chained := 0, 0
	for trial := 0; trial < 150; trial++ {
		g := graph.New()
		x := g.Placeholder("x", tensor.F64, 3, 4, 24)
		pool := []graph.Tensor{x, x.Tanh()}
		pick := func() graph.Tensor { return pool[rng.IntN(len(pool))] }
		for i, n := 0, 3+rng.IntN(6); i < n; i++ {
			a, b := pick(), pick()
			axes := []int{-1}
			if rng.IntN(3) == 0 {
				axes = []int{1, 2}
			}
			var t graph.Tensor
			switch rng.IntN(9) {
			case 0:
				t = a.Mul(a.Square().MeanKeep(axes...).AddScalar(1e-3).Rsqrt())
			case 1:
				t = a.Sub(a.MaxKeep(axes...)).Exp()
			case 2:
				t = a.Div(b.Exp().SumKeep(axes...))
			case 3:
				t = a.Sub(a.MinKeep(axes...)).Mul(b)
			case 4:
				t = softmaxRows(a.Add(b))
			case 5:
				t = a.Add(b).Sigmoid()
			case 6:
				t = a.Mul(b).Sub(a.MeanKeep(axes...))
			case 7:
				t = logSoftmaxRows(a)
			default:
				t = a.Sub(b.Sum(-1).Reshape(12).Reshape(3, 4, 1).Expand(3, 4, 24))
			}
			pool = append(pool, t)
		}
		outs := []graph.Tensor{pool[len(pool)-1]}
		if rng.IntN(2) == 0 {
			outs = append(outs, pool[len(pool)-2].SumKeep(-1))
		}
		fused := compileRows(t, outs)
		plain := compileRows(t, outs, graph.Fuse(false))
		for _, grp := range fused.Fusion().Groups {
			if grp.Reduce != nil && grp.Reduce.Epilogue != nil {
				fusedEpi++
			}
			if grp.Reduce != nil && grp.Reduce.Pre != nil {
				chained++
			}
		}
		feeds := graph.Feeds{"x": xs}
		got, want := runClone(t, fused, feeds), runClone(t, plain, feeds)
		for k := range want {
			closeRelAll(t, got[k:k+1], want[k:k+1], 1e-6)
		}
	}
	t.Logf("%d epilogues, %d chained reductions", fusedEpi, chained)
	if fusedEpi < 100 || chained < 20 {
		t.Errorf("only %d reduction epilogues and %d chained reductions in 150 random graphs", fusedEpi, chained)
	}
}

// TestFusedReduceNoAllocs checks that replaying norms and softmax with
// fused epilogues allocates nothing.
func TestFusedReduceNoAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 16, 256)
	w := g.Param("w", randArray(rng, 256))
	y := softmaxRows(x.LayerNorm(w, w, 1e-5).RMSNorm(w, 1e-5))
	p := compileRows(t, y)
	feeds := graph.Feeds{"x": randArray(rng, 16, 256)}
	ctx := context.Background()
	if n := testing.AllocsPerRun(20, func() {
		if _, err := p.Run(ctx, feeds); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("%v allocations per run", n)
	}
}

func randRowsF64(rng *rand.Rand, shape ...int) *tensor.Array {
	a := tensor.MustZeros(tensor.F64, shape)
	for i := range a.Float64s() {
		a.Float64s()[i] = rng.NormFloat64() * 2
	}
	return a
}

func compileRows(t testing.TB, y any, opts ...graph.Option) *graph.Program {
	t.Helper()
	var outs []graph.Tensor
	switch y := y.(type) {
	case graph.Tensor:
		outs = []graph.Tensor{y}
	case []graph.Tensor:
		outs = y
	}
	p, err := graph.Compile(outs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runClone runs p and returns clones of its outputs.
func runClone(t testing.TB, p *graph.Program, feeds graph.Feeds) []*tensor.Array {
	t.Helper()
	out, err := p.Run(context.Background(), feeds)
	if err != nil {
		t.Fatal(err)
	}
	res := make([]*tensor.Array, len(out))
	for i, a := range out {
		res[i] = a.Clone()
	}
	return res
}

// closeRelAll fails when got and want differ anywhere by more than tol
// relative to want (absolute near zero).
func closeRelAll(t testing.TB, got, want []*tensor.Array, tol float64) {
	t.Helper()
	for k := range want {
		for i := 0; i < want[k].Len(); i++ {
			g, w := got[k].Flat(i), want[k].Flat(i)
			if math.Abs(g-w) > tol*math.Max(1e-12, math.Abs(w)) && !(math.IsNaN(g) && math.IsNaN(w)) {
				t.Fatalf("output %d[%d]: fused %v, unfused %v", k, i, g, w)
			}
		}
	}
}
