package fusion_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aethertensor/aether/fusion"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

func compile(t *testing.T, outs []graph.Tensor, opts ...graph.Option) *graph.Program {
	t.Helper()
	p, err := graph.Compile(outs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func kernels(p *graph.Program) (fused, library int) {
	for _, g := range p.Fusion().Groups {
		if g.Fused != nil {
			fused++
		} else {
			library++
		}
	}
	return
}

// TestElementwiseChainIsOneKernel checks that an 8-op chain with a
// broadcast bias and a transposed operand becomes one kernel that reads
// each input once, and computes the same values as the unfused schedule.
func TestElementwiseChainIsOneKernel(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 64, 48)
	y := g.Placeholder("y", tensor.F32, 48, 64)
	b := g.Placeholder("b", tensor.F32, 48)
	z := x.Add(b).Mul(y.Transpose()).Tanh().Scale(2).Sub(x).Exp().Neg().Sigmoid()
	fused := compile(t, []graph.Tensor{z})
	plain := compile(t, []graph.Tensor{z}, graph.Fuse(false))
	if f, l := kernels(fused); f != 1 || l != 0 {
		t.Fatalf("fused schedule: %d kernels + %d library ops, want 1 + 0", f, l)
	}
	k := fused.Fusion().Groups[0].Fused
	if len(k.Inputs) != 3 {
		t.Errorf("kernel binds %d inputs, want 3 (x once, y, b)", len(k.Inputs))
	}
	if fused.Steps() != 1 || plain.Steps() < 9 {
		t.Errorf("steps fused %d, unfused %d", fused.Steps(), plain.Steps())
	}
	agree(t, "chain", fused, plain, graph.Feeds{"x": ramp(64, 48), "y": ramp(48, 64), "b": ramp(48)}, 1e-6)
}

// agree runs a fused and an unfused program on the same feeds and fails
// when their first outputs differ by more than tol anywhere.
func agree(t *testing.T, what string, fused, plain *graph.Program, feeds graph.Feeds, tol float64) {
	t.Helper()
	a, err := fused.Run(context.Background(), feeds)
	if err != nil {
		t.Fatal(err)
	}
	want, err := plain.Run(context.Background(), feeds)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < want[0].Len(); i++ {
		if d := a[0].Flat(i) - want[0].Flat(i); d > tol || d < -tol {
			t.Fatalf("%s: element %d: fused %v, unfused %v", what, i, a[0].Flat(i), want[0].Flat(i))
		}
	}
}

func ramp(shape ...int) *tensor.Array {
	a := tensor.MustZeros(tensor.F32, shape)
	for i := range a.Float32s() {
		a.Float32s()[i] = float32(i%17)/8 - 1
	}
	return a
}

// TestLibraryOpsBreakKernels checks that reductions and matmuls stay
// library launches and their elementwise neighbours fuse around them.
func TestLibraryOpsBreakKernels(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 8, 16)
	w := g.Placeholder("w", tensor.F32, 16, 4)
	h := x.Scale(0.5).Tanh().MatMul(w).AddScalar(1).Relu()
	s := h.Sub(h.MaxKeep(-1)).Exp()
	p := compile(t, []graph.Tensor{s.Div(s.SumKeep(-1))})
	f, l := kernels(p)
	if l != 3 { // matmul, max, sum
		t.Errorf("%d library launches, want 3", l)
	}
	if f > 4 {
		t.Errorf("%d fused kernels, want at most 4", f)
	}
}

// TestBindingLimitSplitsKernels checks the cost model's device limit: a
// sum of nine inputs cannot be one kernel when a kernel may bind eight
// buffers.
func TestBindingLimitSplitsKernels(t *testing.T) {
	g := graph.New()
	var xs []graph.Tensor
	sum := g.Placeholder("x0", tensor.F32, 32)
	xs = append(xs, sum)
	for i := 1; i < 9; i++ {
		x := g.Placeholder(string(rune('a'+i)), tensor.F32, 32)
		xs = append(xs, x)
		sum = sum.Add(x)
	}
	p := compile(t, []graph.Tensor{sum})
	plan, err := fusion.Partition(p.IR(), fusion.Caps{Bandwidth: 1e10, OpsPerSec: 1e9, MaxBindings: 8}, true)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Kernels() < 2 {
		t.Fatalf("%d kernels for 9 inputs under an 8-binding limit", plan.Kernels())
	}
	for _, grp := range plan.Groups {
		if grp.Fused != nil && len(grp.Inputs)+1 > 8 {
			t.Errorf("kernel binds %d buffers", len(grp.Inputs)+1)
		}
	}
	unlimited, err := fusion.Partition(p.IR(), fusion.Caps{Bandwidth: 1e10, OpsPerSec: 1e9}, true)
	if err != nil || unlimited.Kernels() != 1 {
		t.Fatalf("without a limit: %v kernels, err %v", unlimited.Kernels(), err)
	}
}

// TestCostModelRecomputeVersusStore checks the decision for a value whose
// users sit in different kernels: recomputed in each when compute is cheap
// relative to memory traffic, stored once when it is dear. Users inside one
// kernel share it for free.
func TestCostModelRecomputeVersusStore(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 1024)
	shared := x.Exp().Sin().Tanh().Erf()
	p := compile(t, []graph.Tensor{shared.Neg(), shared.Sqrt()})
	fast := fusion.Caps{Bandwidth: 1e10, OpsPerSec: 1e12}
	slow := fusion.Caps{Bandwidth: 1e12, OpsPerSec: 1e8}
	pf, err := fusion.Partition(p.IR(), fast, true)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := fusion.Partition(p.IR(), slow, true)
	if err != nil {
		t.Fatal(err)
	}
	if pf.Kernels() != 2 || ps.Kernels() != 3 {
		t.Errorf("kernels: %d with cheap compute (want 2, chain recomputed), %d with dear compute (want 3, chain stored)", pf.Kernels(), ps.Kernels())
	}

	g = graph.New()
	x = g.Placeholder("x", tensor.F32, 1024)
	shared = x.Exp().Sin()
	p = compile(t, []graph.Tensor{shared.Add(shared.Sqrt())})
	if pl, err := fusion.Partition(p.IR(), slow, true); err != nil || pl.Kernels() != 1 {
		t.Errorf("two uses inside one kernel: %v kernels, err %v; want 1", pl.Kernels(), err)
	}
}

// TestSlicedValueIsStored checks that a value read through many slices
// inside one kernel counts as that many uses: a costly value read by 16
// slices of one sum is stored once instead of being computed 16 times in
// the kernel, while a cheap one read through two slices is recomputed.
func TestSlicedValueIsStored(t *testing.T) {
	caps := fusion.Caps{Bandwidth: 1e10, OpsPerSec: 1e10, Launch: 1e-6}
	for _, tc := range []struct {
		name   string
		slices int
		deep   bool
		want   int // kernels
	}{
		{"costly/16 slices", 16, true, 2},
		{"cheap/2 slices", 2, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := graph.New()
			x := g.Placeholder("x", tensor.F32, 16, 4096)
			v := x.Neg()
			if tc.deep {
				for range 40 {
					v = v.Exp().Sin()
				}
			}
			sum := v.SliceAxis(0, 0, 1, 1)
			for i := 1; i < tc.slices; i++ {
				sum = sum.Add(v.SliceAxis(0, i, i+1, 1))
			}
			p := compile(t, []graph.Tensor{sum})
			pl, err := fusion.Partition(p.IR(), caps, true)
			if err != nil {
				t.Fatal(err)
			}
			if pl.Kernels() != tc.want {
				t.Errorf("%d kernels, want %d", pl.Kernels(), tc.want)
			}
			plain := compile(t, []graph.Tensor{sum}, graph.Fuse(false))
			agree(t, tc.name, p, plain, graph.Feeds{"x": ramp(16, 4096)}, 1e-6)
		})
	}
}

// TestSharedOperandsPartitionLinearly partitions a chain of 200 steps
// that each read the previous value twice (Veltkamp's rounding split,
// c = x·4097, x' = c-(c-x)), whose result two kernels read: weighing
// recomputation against storing visits each operand once, where
// following every path would take about 2^200 steps.
func TestSharedOperandsPartitionLinearly(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 8, 64)
	v := x
	for range 200 {
		c := v.Scale(4097)
		v = c.Sub(c.Sub(v))
	}
	p := compile(t, []graph.Tensor{v.Neg(), v.Sqrt()})
	if _, err := fusion.Partition(p.IR(), fusion.Caps{Bandwidth: 1e10, OpsPerSec: 1e10}, true); err != nil {
		t.Fatal(err)
	}
}

func TestKernelVerify(t *testing.T) {
	k := &kernel.Elementwise{
		Shape:  tensor.Shape{4},
		Inputs: []kernel.Input{{DType: tensor.F32, Len: 3}},
		Nodes:  []kernel.Node{{Kind: kernel.Load, DType: tensor.F32, Strides: []int{1}}},
	}
	if err := k.Verify(); err == nil {
		t.Error("a load past the end of its input verified")
	}
	k.Inputs[0].Len = 4
	k.Nodes = append(k.Nodes, kernel.Node{Kind: kernel.Apply, Op: op.MatMul, DType: tensor.F32, Args: []int{0}})
	if err := k.Verify(); err == nil {
		t.Error("a matmul inside an elementwise kernel verified")
	}
}

// TestNormsFuseIntoReductions checks that the elementwise prologue of a
// reduction over trailing axes runs inside the reduction: RMSNorm is two
// kernels (sum of squares; scale), layer norm three, and the results match
// the unfused schedule.
func TestNormsFuseIntoReductions(t *testing.T) {
	cases := map[string]struct {
		build func(x, w graph.Tensor) graph.Tensor
		want  int
	}{
		"rms_norm":   {func(x, w graph.Tensor) graph.Tensor { return x.RMSNorm(w, 1e-5) }, 2},
		"layer_norm": {func(x, w graph.Tensor) graph.Tensor { return x.LayerNorm(w, w, 1e-5) }, 3},
		"sum_exp":    {func(x, w graph.Tensor) graph.Tensor { return x.Sub(w).Exp().Sum() }, 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			g := graph.New()
			x := g.Placeholder("x", tensor.F32, 24, 96)
			w := g.Placeholder("w", tensor.F32, 96)
			y := c.build(x, w)
			fused := compile(t, []graph.Tensor{y})
			plain := compile(t, []graph.Tensor{y}, graph.Fuse(false))
			// With compute cheap against memory traffic, shared
			// prologues are recomputed rather than stored.
			plan, err := fusion.Partition(fused.IR(), fusion.Caps{Bandwidth: 1e10, OpsPerSec: 1e11, Launch: 1e-7, FuseReductions: true, FuseEpilogues: true}, true)
			if err != nil {
				t.Fatal(err)
			}
			reductions := 0
			for _, grp := range plan.Groups {
				if grp.Reduce != nil {
					reductions++
				}
			}
			if len(plan.Groups) != c.want || reductions == 0 {
				t.Errorf("%d launches (%d fused reductions), want %d", len(plan.Groups), reductions, c.want)
			}
			agree(t, name, fused, plain, graph.Feeds{"x": ramp(24, 96), "w": ramp(96)}, 1e-4)
		})
	}
}

// TestMatMulEpilogue checks that a scale by a constant, a bias add, an
// activation and a residual add after a matmul run inside the product (one launch) and give the
// unfused results, for plain, transposed-weight and batched products.
func TestMatMulEpilogue(t *testing.T) {
	type tail func(g *graph.Graph, y, b, r graph.Tensor) graph.Tensor
	tails := map[string]tail{
		"bias":               func(_ *graph.Graph, y, b, _ graph.Tensor) graph.Tensor { return y.Add(b) },
		"bias_relu":          func(_ *graph.Graph, y, b, _ graph.Tensor) graph.Tensor { return y.Add(b).Relu() },
		"bias_silu_residual": func(_ *graph.Graph, y, b, r graph.Tensor) graph.Tensor { return r.Add(y.Add(b).SiLU()) },
		"relu_residual":      func(_ *graph.Graph, y, _, r graph.Tensor) graph.Tensor { return y.Relu().Add(r) },
		"scale":              func(_ *graph.Graph, y, _, _ graph.Tensor) graph.Tensor { return y.Scale(0.125) },
		"scale_bias_relu":    func(_ *graph.Graph, y, b, _ graph.Tensor) graph.Tensor { return y.Scale(-1.5).Add(b).Relu() },
		"scale_residual":     func(_ *graph.Graph, y, _, r graph.Tensor) graph.Tensor { return r.Add(y.Scale(3)) },
	}
	for name, tl := range tails {
		for _, rows := range []int{1, 3, 40} {
			for _, transposed := range []bool{false, true} {
				g := graph.New()
				x := g.Placeholder("x", tensor.F32, rows, 48)
				b := g.Placeholder("b", tensor.F32, 32)
				r := g.Placeholder("r", tensor.F32, rows, 32)
				var y graph.Tensor
				if transposed {
					y = x.Linear(g.Const(ramp(32, 48)))
				} else {
					y = x.MatMul(g.Const(ramp(48, 32)))
				}
				out := tl(g, y, b, r)
				fused := compile(t, []graph.Tensor{out})
				plain := compile(t, []graph.Tensor{out}, graph.Fuse(false))
				if fused.Steps() != 1 || fused.Fusion().Groups[0].Epilogue == nil {
					t.Fatalf("%s rows=%d transposed=%v: %d launches, want one matmul with an epilogue", name, rows, transposed, fused.Steps())
				}
				what := fmt.Sprintf("%s rows=%d transposed=%v", name, rows, transposed)
				agree(t, what, fused, plain, graph.Feeds{"x": ramp(rows, 48), "b": ramp(32), "r": ramp(rows, 32)}, 1e-4)
			}
		}
	}
}

// TestMatMulEpilogueNeedsSoleUse checks that a matmul whose result is also
// used elsewhere keeps its own buffer instead of fusing its tail.
func TestMatMulEpilogueNeedsSoleUse(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 4, 8)
	y := x.MatMul(g.Const(ramp(8, 8)))
	p := compile(t, []graph.Tensor{y.Relu(), y.Sum()})
	for _, grp := range p.Fusion().Groups {
		if grp.Epilogue != nil {
			t.Fatal("a shared matmul result was fused into one of its users")
		}
	}
}
