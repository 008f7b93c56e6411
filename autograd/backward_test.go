package autograd_test

import (
	"errors"
	"math"
	"testing"

	"github.com/aethertensor/aether/autograd"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

func wantValues(t *testing.T, what string, got *tensor.Array, want []float64) {
	t.Helper()
	if got.Len() != len(want) {
		t.Fatalf("%s: %d elements, want %d", what, got.Len(), len(want))
	}
	for i, w := range want {
		if v := got.Flat(i); !near(v, w, 1e-12) {
			t.Errorf("%s[%d] = %g, want %g", what, i, v, w)
		}
	}
}

func TestBackwardNonScalarNeedsSeed(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, 3)
	y := x.Square()
	if _, err := autograd.Backward(y); !errors.Is(err, autograd.ErrSeed) {
		t.Fatalf("Backward of a [3] output without a seed: got %v, want ErrSeed", err)
	}
	for name, seed := range map[string]graph.Tensor{
		"wrong shape": g.Full(tensor.F64, 1, 4),
		"wrong dtype": g.Full(tensor.F32, 1, 3),
		"other graph": graph.New().Full(tensor.F64, 1, 3),
	} {
		if _, err := autograd.Backward(y, autograd.Seed(seed)); !errors.Is(err, autograd.ErrSeed) {
			t.Errorf("seed with %s: got %v, want ErrSeed", name, err)
		}
	}
}

// TestBackwardSeed checks the vector-Jacobian product with a seed against
// the hand-written derivative: y = x² ⊙ w, so dL/dx = s ⊙ 2x ⊙ w.
func TestBackwardSeed(t *testing.T) {
	x0, w0, s0 := []float64{1, -2, 0.5}, []float64{3, 0.25, -1}, []float64{0.5, 2, 4}
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, 3)
	w := g.Param("w", tensor.NewF64(w0, 3))
	y := x.Square().Mul(w)
	seed := g.Placeholder("seed", tensor.F64, 3)
	gs, err := autograd.Backward(y, autograd.Seed(seed))
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, []graph.Tensor{gs.Of(x), gs.Of(w)}, graph.Feeds{"x": tensor.NewF64(x0, 3), "seed": tensor.NewF64(s0, 3)})
	wantX, wantW := make([]float64, 3), make([]float64, 3)
	for i := range x0 {
		wantX[i] = s0[i] * 2 * x0[i] * w0[i]
		wantW[i] = s0[i] * x0[i] * x0[i]
	}
	wantValues(t, "dx", out[0], wantX)
	wantValues(t, "dw", out[1], wantW)
}

// TestBackwardSources checks which leaves Backward differentiates: params,
// variables and placeholders, never constants.
func TestBackwardSources(t *testing.T) {
	g := graph.New()
	p := g.Param("p", tensor.NewF64([]float64{2}, 1))
	v := g.Variable("v", tensor.NewF64([]float64{3}, 1))
	x := g.Placeholder("x", tensor.F64, 1)
	c := g.Const(tensor.NewF64([]float64{5}, 1))
	unrelated := g.Placeholder("unrelated", tensor.F64, 2, 2)
	y := p.Mul(v).Mul(x).Mul(c).Sum()
	gs, err := autograd.Backward(y)
	if err != nil {
		t.Fatal(err)
	}
	outs := []graph.Tensor{gs.Of(p), gs.Of(v), gs.Of(x), gs.Of(c), gs.Of(unrelated)}
	for i, o := range outs {
		if !o.Valid() {
			t.Fatalf("gradient %d is invalid", i)
		}
	}
	if !gs.Of(unrelated).Shape().Equal(tensor.Shape{2, 2}) {
		t.Errorf("gradient of an unrelated [2 2] input has shape %v", gs.Of(unrelated).Shape())
	}
	res := run(t, outs, graph.Feeds{"x": tensor.NewF64([]float64{7}, 1), "unrelated": tensor.MustZeros(tensor.F64, tensor.Shape{2, 2})})
	wantValues(t, "dp", res[0], []float64{3 * 7 * 5})
	wantValues(t, "dv", res[1], []float64{2 * 7 * 5})
	wantValues(t, "dx", res[2], []float64{2 * 3 * 5})
	wantValues(t, "dconst", res[3], []float64{0})
	wantValues(t, "dunrelated", res[4], []float64{0, 0, 0, 0})
}

// added returns the operations recorded in g since it had n of them.
func added(g *graph.Graph, n int) []op.Code {
	var out []op.Code
	for id := n; id < g.Len(); id++ {
		out = append(out, g.Tensor(id).Op())
	}
	return out
}

// TestBackwardSkipsConstants checks that Backward records no gradient work
// for subgraphs that only depend on constants.
func TestBackwardSkipsConstants(t *testing.T) {
	build := func(withConst bool) (extra []op.Code) {
		g := graph.New()
		x := g.Placeholder("x", tensor.F64, 3)
		y := x.Square()
		if withConst {
			c := g.Const(tensor.NewF64([]float64{1, 2, 3}, 3))
			heavy := c.Exp().Sin().MatMul(c.Reshape(3, 1).Expand(3, 3)).Softmax(0).Tanh()
			y = y.Add(heavy)
		}
		loss := y.Sum()
		n := g.Len()
		if _, err := autograd.Backward(loss); err != nil {
			t.Fatal(err)
		}
		return added(g, n)
	}
	plain, withConst := build(false), build(true)
	if len(plain) != len(withConst) {
		t.Errorf("Backward recorded %d operations with a constant branch, %d without: %v vs %v", len(withConst), len(plain), withConst, plain)
	}

	// An output of constants alone gets only its seed.
	g := graph.New()
	c := g.Const(tensor.NewF64([]float64{1, 2}, 2))
	y := c.Exp().Sum()
	n := g.Len()
	gs, err := autograd.Backward(y)
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range added(g, n) {
		if code != op.Const {
			t.Errorf("Backward of a constant-only output recorded %v", code)
		}
	}
	res := run(t, []graph.Tensor{gs.Of(c)}, nil)
	wantValues(t, "dconst", res[0], []float64{0, 0})
}

// TestGradChosenInputs checks that Grad differentiates exactly the inputs
// asked for, constants included, and agrees with Backward.
func TestGradChosenInputs(t *testing.T) {
	g := graph.New()
	a := g.Placeholder("a", tensor.F64, 2)
	b := g.Param("b", tensor.NewF64([]float64{0.5, -1}, 2))
	c := g.Const(tensor.NewF64([]float64{3, 4}, 2))
	y := a.Mul(b).Mul(c).Sin().Sum()

	n := g.Len()
	onlyA, err := autograd.Grad(y, a)
	if err != nil {
		t.Fatal(err)
	}
	gradA := len(added(g, n))
	grads, err := autograd.Grad(y, c, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(grads) != 2 {
		t.Fatalf("Grad returned %d gradients for 2 inputs", len(grads))
	}
	gs, err := autograd.Backward(y)
	if err != nil {
		t.Fatal(err)
	}
	feeds := graph.Feeds{"a": tensor.NewF64([]float64{0.2, 0.7}, 2)}
	res := run(t, []graph.Tensor{onlyA[0], grads[0], grads[1], gs.Of(a), gs.Of(b)}, feeds)
	a0, b0, c0 := []float64{0.2, 0.7}, []float64{0.5, -1}, []float64{3, 4}
	da, dc, db := make([]float64, 2), make([]float64, 2), make([]float64, 2)
	for i := range 2 {
		cs := math.Cos(a0[i] * b0[i] * c0[i])
		da[i], db[i], dc[i] = cs*b0[i]*c0[i], cs*a0[i]*c0[i], cs*a0[i]*b0[i]
	}
	wantValues(t, "Grad(y, a)", res[0], da)
	wantValues(t, "Grad(y, c, a)[0]", res[1], dc)
	wantValues(t, "Grad(y, c, a)[1]", res[2], da)
	wantValues(t, "Backward Of(a)", res[3], da)
	wantValues(t, "Backward Of(b)", res[4], db)

	// Grad with respect to a alone must not differentiate into b: its
	// recorded work is smaller than that of Backward for every source.
	g2 := graph.New()
	a2 := g2.Placeholder("a", tensor.F64, 2)
	b2 := g2.Param("b", tensor.NewF64([]float64{0.5, -1}, 2))
	y2 := a2.Mul(b2).Mul(g2.Const(tensor.NewF64([]float64{3, 4}, 2))).Sin().Sum()
	n2 := g2.Len()
	if _, err := autograd.Backward(y2); err != nil {
		t.Fatal(err)
	}
	if all := len(added(g2, n2)); gradA >= all {
		t.Errorf("Grad(y, a) recorded %d operations, Backward(y) %d: Grad should skip b", gradA, all)
	}
}

func TestGradRejectsBadInputs(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, 3)
	idx := g.Placeholder("idx", tensor.I64, 2)
	y := x.Gather(0, idx).Sum()
	other := graph.New().Placeholder("x", tensor.F64, 3)

	cases := map[string]struct {
		y    graph.Tensor
		xs   []graph.Tensor
		want error
	}{
		"integer input":        {y, []graph.Tensor{x, idx}, autograd.ErrInput},
		"input of other graph": {y, []graph.Tensor{other}, autograd.ErrInput},
		"zero Tensor input":    {y, []graph.Tensor{{}}, autograd.ErrInput},
		"invalid input":        {y, []graph.Tensor{g.Tensor(-1)}, autograd.ErrInput},
		"zero Tensor output":   {graph.Tensor{}, []graph.Tensor{x}, autograd.ErrInput},
		"integer output":       {idx.Sum(), []graph.Tensor{x}, autograd.ErrInput},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := autograd.Grad(c.y, c.xs...); !errors.Is(err, c.want) {
				t.Errorf("Grad: got %v, want %v", err, c.want)
			}
		})
	}
	if _, err := autograd.Backward(idx.Sum()); !errors.Is(err, autograd.ErrInput) {
		t.Errorf("Backward of an integer output: got %v, want ErrInput", err)
	}
	gs, err := autograd.Backward(y)
	if err != nil {
		t.Fatal(err)
	}
	if gi := gs.Of(idx); gi.Valid() {
		t.Errorf("Of(integer input) = %v, want the invalid zero Tensor", gi)
	}
}

// TestBackwardReportsGraphError checks that a graph that already failed
// makes Backward return that error instead of building on it.
func TestBackwardReportsGraphError(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, 2, 3)
	bad := x.MatMul(x) // inner dimensions 3 and 2 differ
	if _, err := autograd.Backward(x.Sum()); !errors.Is(err, graph.ErrShape) {
		t.Errorf("Backward after a shape error: got %v, want graph.ErrShape", err)
	}
	if _, err := autograd.Grad(bad, x); !errors.Is(err, graph.ErrShape) {
		t.Errorf("Grad of a failed tensor: got %v, want graph.ErrShape", err)
	}
}

// TestGradientCompilesWithForward compiles the loss, the gradients and a
// parameter update into one Program and checks that one run returns the
// loss and gradient of the old parameter value and writes the new one.
func TestGradientCompilesWithForward(t *testing.T) {
	g := graph.New()
	w := g.Param("w", tensor.NewF64([]float64{1, -2}, 2))
	x := g.Placeholder("x", tensor.F64, 2)
	loss := w.Mul(x).Sum().Square() // (w·x)²
	gs, err := autograd.Backward(loss)
	if err != nil {
		t.Fatal(err)
	}
	dw := gs.Of(w)
	step := g.Assign(w, w.Sub(dw.Scale(0.1)))
	p, err := graph.Compile([]graph.Tensor{loss, dw, gs.Of(x), step})
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(t.Context(), graph.Feeds{"x": tensor.NewF64([]float64{3, 1}, 2)})
	if err != nil {
		t.Fatal(err)
	}
	// w·x = 1, loss 1, dw = 2(w·x)x = [6 2], dx = 2(w·x)w = [2 -4].
	wantValues(t, "loss", res[0], []float64{1})
	wantValues(t, "dw", res[1], []float64{6, 2})
	wantValues(t, "dx", res[2], []float64{2, -4})
	wantValues(t, "new w", res[3], []float64{0.4, -2.2})
	v, _ := g.Var("w")
	wantValues(t, "stored w", v.Value(), []float64{0.4, -2.2})

	// The second run sees the updated parameter.
	res, err = p.Run(t.Context(), graph.Feeds{"x": tensor.NewF64([]float64{3, 1}, 2)})
	if err != nil {
		t.Fatal(err)
	}
	// Now w·x = -1: loss 1, dw = [-6 -2], and the step returns w to [1 -2].
	wantValues(t, "second loss", res[0], []float64{1})
	wantValues(t, "second dw", res[1], []float64{-6, -2})
	wantValues(t, "second w", res[3], []float64{1, -2})
}

// TestGradF32MatchesF64 builds the same loss in f32 and f64 and checks that
// the f32 gradients agree to f32 precision: every rule must build its
// constants in the dtype of the tensors it differentiates.
func TestGradF32MatchesF64(t *testing.T) {
	inputs := []*tensor.Array{rnd(2, 3, 4), rnd(4, 4), rnd(4), rnd(2, 2, 3, 4), rnd(1, 2, 4, 4)}
	loss := func(x []graph.Tensor) graph.Tensor {
		h := x[0].LayerNorm(x[2], graph.Tensor{}, 1e-5).MatMul(x[1]).GELUTanh()
		q := h.Reshape(2, 1, 3, 4).Expand(2, 2, 3, 4).Add(x[3])
		a := graph.ScaledDotProductAttention(q, x[4].Reshape(1, 2, 4, 4).Expand(2, 2, 4, 4), q.Slice(graph.All, graph.All, graph.Range{Start: 0, Stop: 3, Step: 1}).Pad(0, [2]int{}, [2]int{}, [2]int{0, 1}), graph.Attention{Causal: true})
		return a.Sigmoid().Max(-1).LogSoftmax(-1).Mean()
	}
	grads := func(d tensor.DType) []*tensor.Array {
		g := graph.New()
		xs := make([]graph.Tensor, len(inputs))
		feeds := graph.Feeds{}
		for i, a := range inputs {
			name := string(rune('a' + i))
			v, err := a.Convert(d)
			if err != nil {
				t.Fatal(err)
			}
			feeds[name] = v
			xs[i] = g.Placeholder(name, d, a.Shape()...)
		}
		gs, err := autograd.Grad(loss(xs), xs...)
		if err != nil {
			t.Fatal(err)
		}
		for _, gi := range gs {
			if gi.DType() != d {
				t.Fatalf("gradient dtype %v, want %v", gi.DType(), d)
			}
		}
		return run(t, gs, feeds)
	}
	g32, g64 := grads(tensor.F32), grads(tensor.F64)
	for i := range g64 {
		scale := 0.0
		for j := range g64[i].Len() {
			scale = max(scale, math.Abs(g64[i].Flat(j)))
		}
		for j := range g64[i].Len() {
			if d := math.Abs(g32[i].Flat(j) - g64[i].Flat(j)); d > 1e-4*scale+1e-6 {
				t.Errorf("input %d element %d: f32 %g, f64 %g", i, j, g32[i].Flat(j), g64[i].Flat(j))
			}
		}
	}
}

// TestGradEmpty checks gradients through tensors with no elements.
func TestGradEmpty(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, 0, 3)
	w := g.Placeholder("w", tensor.F64, 3, 2)
	y := x.MatMul(w).Tanh().Sum().Add(w.Sum())
	gs, err := autograd.Grad(y, x, w)
	if err != nil {
		t.Fatal(err)
	}
	if !gs[0].Shape().Equal(tensor.Shape{0, 3}) {
		t.Errorf("gradient of a [0 3] input has shape %v", gs[0].Shape())
	}
	out := run(t, gs, graph.Feeds{"x": tensor.MustZeros(tensor.F64, tensor.Shape{0, 3}), "w": rnd(3, 2)})
	if out[0].Len() != 0 {
		t.Errorf("gradient of an empty input has %d elements", out[0].Len())
	}
	wantValues(t, "dw", out[1], []float64{1, 1, 1, 1, 1, 1})
}
