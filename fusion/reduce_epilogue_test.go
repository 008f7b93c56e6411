package fusion_test

import (
	"math"
	"testing"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/fusion"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// softmaxOf is softmax over the last axis composed of primitives, as an
// attention block or a model loader writes it.
func softmaxOf(x graph.Tensor) graph.Tensor {
	e := x.Sub(x.MaxKeep(-1)).Exp()
	return e.Div(e.SumKeep(-1))
}

// logSoftmaxOf is log-softmax over the last axis composed of primitives.
func logSoftmaxOf(x graph.Tensor) graph.Tensor {
	xc := x.Sub(x.MaxKeep(-1))
	return xc.Sub(xc.Exp().SumKeep(-1).Log())
}

// normCases are the row-wise blocks whose consumers of a reduced value
// fuse into the reduction as its epilogue, and whose first reduction
// fuses into the second as its Pre, with their launch counts without and
// with those fusions when compute is cheap against memory traffic (values
// shared by both reductions are recomputed). The scaled softmax stores
// exp(z-max): the max kernel's epilogue writes it, and the sum kernel's
// divides it.
var normCases = []struct {
	name        string
	build       func(x, w graph.Tensor) graph.Tensor
	plain, want int
}{
	{"rms_norm", func(x, w graph.Tensor) graph.Tensor { return x.RMSNorm(w, 1e-5) }, 2, 1},
	{"layer_norm", func(x, w graph.Tensor) graph.Tensor { return x.LayerNorm(w, w, 1e-5) }, 3, 1},
	{"softmax", func(x, w graph.Tensor) graph.Tensor { return softmaxOf(x) }, 3, 1},
	{"log_softmax", func(x, w graph.Tensor) graph.Tensor { return logSoftmaxOf(x) }, 3, 1},
	{"scaled_softmax", func(x, w graph.Tensor) graph.Tensor { return softmaxOf(x.Mul(w).Scale(0.125)) }, 4, 2},
}

func epilogueCaps(on bool) fusion.Caps {
	return fusion.Caps{Bandwidth: 1e10, OpsPerSec: 1e11, Launch: 1e-7, FuseReductions: true, FuseReduceEpilogues: on, ChainReductions: on, FuseEpilogues: true}
}

// TestReduceEpilogues checks that a norm or softmax's elementwise
// consumers of a reduced value run inside the reduction, and its first
// reduction inside the second: RMSNorm, layer norm and softmax are one
// kernel each, and the fused results match the unfused schedule's in f64.
func TestReduceEpilogues(t *testing.T) {
	for _, c := range normCases {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New()
			x := g.Placeholder("x", tensor.F64, 2, 12, 96)
			w := g.Placeholder("w", tensor.F64, 96)
			y := c.build(x, w)
			fused := compile(t, []graph.Tensor{y})
			plain := compile(t, []graph.Tensor{y}, graph.Fuse(false))
			for _, on := range []bool{false, true} {
				plan, err := fusion.Partition(fused.IR(), epilogueCaps(on), true)
				if err != nil {
					t.Fatal(err)
				}
				want, epilogues := c.plain, 0
				if on {
					want = c.want
				}
				for _, grp := range plan.Groups {
					if grp.Reduce != nil && (grp.Reduce.Epilogue != nil || grp.Reduce.Pre != nil) {
						epilogues++
					}
				}
				if len(plan.Groups) != want || (on && epilogues == 0) || (!on && epilogues != 0) {
					t.Errorf("epilogues %v: %d launches (%d with epilogues), want %d", on, len(plan.Groups), epilogues, want)
				}
			}
			// The CPU device fuses epilogues (its calibrated costs may
			// store other values): the compiled program runs fewer steps
			// than the same device's schedule without them.
			caps := fused.Device().(backend.Capable).Caps()
			if !caps.FuseReduceEpilogues {
				t.Fatalf("%s does not fuse reduction epilogues", fused.Device().Name())
			}
			caps.FuseReduceEpilogues, caps.ChainReductions = false, false
			without, err := fusion.Partition(fused.IR(), caps, true)
			if err != nil {
				t.Fatal(err)
			}
			if fused.Steps() >= len(without.Groups) || fused.Steps() > c.want+1 {
				t.Errorf("compiled program has %d steps, %d without epilogues, want %d", fused.Steps(), len(without.Groups), c.want)
			}
			feeds := graph.Feeds{"x": wave(2, 12, 96), "w": wave(96)}
			relAgree(t, fused, plain, feeds, 1e-6)
		})
	}
}

// wave fills an f64 array with values of varied sign and size.
func wave(shape ...int) *tensor.Array {
	a := tensor.MustZeros(tensor.F64, shape)
	for i := range a.Float64s() {
		a.Float64s()[i] = 3*math.Sin(float64(i)*0.37) + float64(i%5)/4
	}
	return a
}

// relAgree fails when the programs' first outputs differ by more than tol
// relative to the unfused value.
func relAgree(t *testing.T, fused, plain *graph.Program, feeds graph.Feeds, tol float64) {
	t.Helper()
	a, err := fused.Run(t.Context(), feeds)
	if err != nil {
		t.Fatal(err)
	}
	got := a[0].Clone()
	b, err := plain.Run(t.Context(), feeds)
	if err != nil {
		t.Fatal(err)
	}
	want := b[0]
	for i := 0; i < want.Len(); i++ {
		g, w := got.Flat(i), want.Flat(i)
		if d := math.Abs(g - w); d > tol*math.Max(math.Abs(w), 1e-300) && d > 1e-300 {
			t.Fatalf("element %d: fused %v, unfused %v", i, g, w)
		}
	}
}

// TestReduceEpilogueVerify checks that Verify rejects epilogues that
// would read a reduced row before it is computed or bind the wrong inputs.
func TestReduceEpilogueVerify(t *testing.T) {
	x := kernel.Input{DType: tensor.F32, Len: 4 * 8}
	res := kernel.Input{DType: tensor.F32, Len: 4}
	body := &kernel.Elementwise{Shape: tensor.Shape{4, 8}, Inputs: []kernel.Input{x},
		Nodes: []kernel.Node{{Kind: kernel.Load, DType: tensor.F32, Input: 0, Strides: []int{8, 1}}}}
	epi := func(inputs []kernel.Input, strides []int, offset int) *kernel.Elementwise {
		return &kernel.Elementwise{Shape: tensor.Shape{4, 8}, Inputs: inputs, Nodes: []kernel.Node{
			{Kind: kernel.Load, DType: tensor.F32, Input: 0, Strides: []int{8, 1}},
			{Kind: kernel.Load, DType: tensor.F32, Input: len(inputs) - 1, Strides: strides, Offset: offset},
			{Kind: kernel.Apply, DType: tensor.F32, Op: op.Div, Args: []int{0, 1}},
		}}
	}
	cases := []struct {
		name string
		epi  *kernel.Elementwise
		ok   bool
	}{
		{"row broadcast", epi([]kernel.Input{x, res}, []int{1, 0}, 0), true},
		{"other row", epi([]kernel.Input{x, res}, []int{1, 0}, 1), false},
		{"across the row", epi([]kernel.Input{x, {DType: tensor.F32, Len: 8}}, []int{0, 1}, 0), false},
		{"transposed rows", epi([]kernel.Input{x, res}, []int{2, 0}, 0), false},
		{"result not last", epi([]kernel.Input{res, x}, []int{1, 0}, 0), false},
		{"result dtype", epi([]kernel.Input{x, {DType: tensor.F64, Len: 4}}, []int{1, 0}, 0), false},
	}
	for _, c := range cases {
		r := &kernel.Reduce{Op: op.ReduceSum, Rows: 4, N: 8, Body: body, Epilogue: c.epi}
		if err := r.Verify(); (err == nil) != c.ok {
			t.Errorf("%s: Verify() = %v, want ok %v", c.name, err, c.ok)
		}
		// The same kernel as the body of a reduction after a Pre (whose
		// result it reads as its last input) follows the same rule.
		pre := &kernel.Reduce{Op: op.ReduceMax, Rows: 4, N: 8, Body: body}
		r = &kernel.Reduce{Op: op.ReduceSum, Rows: 4, N: 8, Body: c.epi, Pre: pre}
		if err := r.Verify(); (err == nil) != c.ok {
			t.Errorf("%s as a body after a Pre: Verify() = %v, want ok %v", c.name, err, c.ok)
		}
	}
	short := &kernel.Reduce{Op: op.ReduceMax, Rows: 2, N: 16, Body: &kernel.Elementwise{Shape: tensor.Shape{2, 16}, Inputs: body.Inputs, Nodes: body.Nodes}}
	if err := (&kernel.Reduce{Op: op.ReduceSum, Rows: 4, N: 8, Body: cases[0].epi, Pre: short}).Verify(); err == nil {
		t.Errorf("a Pre over other rows verified")
	}
	plain := &kernel.Reduce{Op: op.ReduceSum, Rows: 4, N: 8, Body: body}
	withEpi := &kernel.Reduce{Op: op.ReduceSum, Rows: 4, N: 8, Body: body, Epilogue: cases[0].epi}
	withPre := &kernel.Reduce{Op: op.ReduceSum, Rows: 4, N: 8, Body: cases[0].epi, Pre: plain}
	if plain.Key() == withEpi.Key() || withPre.Key() == (&kernel.Reduce{Op: op.ReduceSum, Rows: 4, N: 8, Body: cases[0].epi}).Key() {
		t.Errorf("a reduction with an epilogue or a Pre has the key of one without")
	}
}

// TestReduceEpilogueLimits checks the cost model's refusals, each beside
// a control that does fuse: a reduced value that is also an output or is
// read by a second kernel, a merged kernel over the binding limit, and
// rows too long for cache keep the epilogue a kernel of its own.
func TestReduceEpilogueLimits(t *testing.T) {
	type graphFn func(x, z, w graph.Tensor) []graph.Tensor
	limited := epilogueCaps(true)
	limited.MaxBindings = 4
	cases := []struct {
		name          string
		cols          int
		caps          fusion.Caps
		refused, fuse graphFn
	}{
		{"reduced value also an output", 64, epilogueCaps(true),
			func(x, z, w graph.Tensor) []graph.Tensor {
				s := x.Square().SumKeep(-1)
				return []graph.Tensor{x.Div(s), s}
			},
			func(x, z, w graph.Tensor) []graph.Tensor { return []graph.Tensor{x.Div(x.Square().SumKeep(-1))} }},
		{"reduced value read twice", 64, epilogueCaps(true),
			func(x, z, w graph.Tensor) []graph.Tensor {
				s := x.Square().SumKeep(-1)
				return []graph.Tensor{x.Div(s), z.Mul(s).Exp()}
			},
			func(x, z, w graph.Tensor) []graph.Tensor { return []graph.Tensor{x.Div(x.Square().SumKeep(-1))} }},
		// The sum binds z and x, its consumer x, w and the sum: merged,
		// z, x, w and the output are four bindings, then five with u.
		{"binding limit", 64, limited,
			func(x, z, w graph.Tensor) []graph.Tensor {
				u := z.Exp()
				return []graph.Tensor{x.Mul(w).Div(z.Mul(u.Tanh()).SumKeep(-1)), u}
			},
			func(x, z, w graph.Tensor) []graph.Tensor { return []graph.Tensor{x.Mul(w).Div(z.Mul(x).SumKeep(-1))} }},
		{"long rows", 1 << 16, epilogueCaps(true),
			func(x, z, w graph.Tensor) []graph.Tensor { return []graph.Tensor{x.RMSNorm(w, 1e-5)} },
			nil},
	}
	epilogues := func(t *testing.T, cols int, caps fusion.Caps, build graphFn) int {
		g := graph.New()
		x := g.Placeholder("x", tensor.F32, 2, cols)
		z := g.Placeholder("z", tensor.F32, 2, cols)
		w := g.Placeholder("w", tensor.F32, cols)
		p := compile(t, build(x, z, w), graph.Fuse(false))
		plan, err := fusion.Partition(p.IR(), caps, true)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, grp := range plan.Groups {
			if grp.Reduce != nil && grp.Reduce.Epilogue != nil {
				n++
			}
		}
		return n
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if n := epilogues(t, c.cols, c.caps, c.refused); n != 0 {
				t.Errorf("%d reductions took an epilogue", n)
			}
			if c.fuse != nil {
				if n := epilogues(t, c.cols, c.caps, c.fuse); n != 1 {
					t.Errorf("control: %d epilogues, want 1", n)
				}
			} else if n := epilogues(t, 64, c.caps, c.refused); n != 1 {
				t.Errorf("control with short rows: %d epilogues, want 1", n)
			}
		})
	}
}

// TestReduceEpilogueDTypes checks chained reductions with an epilogue over
// every dtype a reduction kernel accumulates: a row's maximum and minimum
// combined with the row give the unfused results exactly.
func TestReduceEpilogueDTypes(t *testing.T) {
	for _, d := range []tensor.DType{tensor.F32, tensor.F64, tensor.I32, tensor.I64} {
		t.Run(d.String(), func(t *testing.T) {
			g := graph.New()
			x := g.Placeholder("x", d, 5, 520) // rows long enough for the fvm executor
			y := x.Sub(x.MaxKeep(-1)).Mul(x).Add(x.MinKeep(-1))
			fused := compile(t, []graph.Tensor{y})
			plain := compile(t, []graph.Tensor{y}, graph.Fuse(false))
			// Max and min read only by the last kernel: one reduction
			// with the other as its Pre and the arithmetic as epilogue.
			if gs := fused.Fusion().Groups; len(gs) != 1 || gs[0].Reduce == nil || gs[0].Reduce.Epilogue == nil || gs[0].Reduce.Pre == nil {
				t.Errorf("%d launches, want one reduction with a Pre and an epilogue", len(gs))
			}
			xs := tensor.MustZeros(d, tensor.Shape{5, 520})
			for i := 0; i < xs.Len(); i++ {
				xs.SetFlat(i, float64((i*7)%23-11))
			}
			relAgree(t, fused, plain, graph.Feeds{"x": xs}, 0)
		})
	}
}
