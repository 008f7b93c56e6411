package compiler_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aethertensor/aether/compiler"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// builder makes small IR functions by hand.
type builder struct{ f compiler.Func }

func (b *builder) leaf(name string, shape ...int) int {
	return b.f.Add(compiler.Value{Op: op.Placeholder, DType: tensor.F64, Shape: shape, Attrs: &op.Attrs{Name: name}})
}

func (b *builder) konst(v float64, shape ...int) int {
	a := tensor.MustZeros(tensor.F64, shape)
	for i := range a.Float64s() {
		a.Float64s()[i] = v
	}
	return b.f.Add(compiler.Value{Op: op.Const, DType: tensor.F64, Shape: shape, Attrs: &op.Attrs{Value: a}})
}

func (b *builder) op(c op.Code, a *op.Attrs, in ...int) int {
	v := b.f.Values[in[0]]
	return b.f.Add(compiler.Value{Op: c, In: in, DType: v.DType, Shape: v.Shape, Attrs: a})
}

func run(t *testing.T, p compiler.Pass, f *compiler.Func) *compiler.Func {
	t.Helper()
	if err := f.Verify(); err != nil {
		t.Fatalf("input: %v", err)
	}
	g, _, err := p.Run(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Verify(); err != nil {
		t.Fatalf("after %s: %v", p.Name(), err)
	}
	return g
}

func count(f *compiler.Func, c op.Code) int {
	n := 0
	for _, v := range f.Values {
		if v.Op == c {
			n++
		}
	}
	return n
}

func TestDCERemovesDeadValues(t *testing.T) {
	var b builder
	x := b.leaf("x", 3)
	y := b.op(op.Exp, nil, x)
	b.op(op.Sin, nil, x) // dead
	b.op(op.Cos, nil, y) // dead
	b.f.Outputs = []int{y}
	g := run(t, compiler.DCE{}, &b.f)
	if len(b.f.Values) != 4 || len(g.Values) != 2 {
		t.Fatalf("values %d -> %d, want 4 -> 2", len(b.f.Values), len(g.Values))
	}
	if count(g, op.Sin)+count(g, op.Cos) != 0 {
		t.Fatal("dead values survived")
	}
}

func TestCSEMergesStructuralDuplicates(t *testing.T) {
	var b builder
	x, y := b.leaf("x", 2), b.leaf("y", 2)
	s1 := b.op(op.Sub, nil, x, y)
	s2 := b.op(op.Sub, nil, x, y)
	d := b.op(op.Sub, nil, y, x) // operand order matters
	e1 := b.op(op.Exp, nil, s1)
	e2 := b.op(op.Exp, nil, s2) // equal only once s1 and s2 merge
	b.f.Outputs = []int{b.op(op.Add, nil, e1, e2), d}
	g := run(t, compiler.CSE{}, &b.f)
	if got := count(g, op.Sub); got != 2 {
		t.Fatalf("%d subs after CSE, want 2 (x-y and y-x)", got)
	}
	if got := count(g, op.Exp); got != 1 {
		t.Fatalf("%d exps after CSE, want 1", got)
	}
	if len(g.Values) != 6 {
		t.Fatalf("values %d -> %d, want 8 -> 6", len(b.f.Values), len(g.Values))
	}
}

func TestCSEKeepsEffects(t *testing.T) {
	var b builder
	v := b.f.Add(compiler.Value{Op: op.Variable, DType: tensor.F64, Shape: tensor.Shape{2}, Attrs: &op.Attrs{Name: "v"}})
	x := b.leaf("x", 2)
	a1 := b.op(op.Assign, nil, v, x)
	a2 := b.op(op.Assign, nil, v, x)
	b.f.Outputs = []int{a1, a2}
	g := run(t, compiler.CSE{}, &b.f)
	if count(g, op.Assign) != 2 {
		t.Fatal("assignments were merged")
	}
}

func TestSimplifyRules(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *builder) int
		gone  op.Code // no value of this op may remain
		left  int     // values after simplify + DCE
	}{
		{"x+0", func(b *builder) int { return b.op(op.Add, nil, b.leaf("x", 2), b.konst(0, 2)) }, op.Add, 1},
		{"0+x", func(b *builder) int { return b.op(op.Add, nil, b.konst(0, 2), b.leaf("x", 2)) }, op.Add, 1},
		{"x-0", func(b *builder) int { return b.op(op.Sub, nil, b.leaf("x", 2), b.konst(0, 2)) }, op.Sub, 1},
		{"x*1", func(b *builder) int { return b.op(op.Mul, nil, b.leaf("x", 2), b.konst(1, 2)) }, op.Mul, 1},
		{"x/1", func(b *builder) int { return b.op(op.Div, nil, b.leaf("x", 2), b.konst(1, 2)) }, op.Div, 1},
		{"neg(neg x)", func(b *builder) int { return b.op(op.Neg, nil, b.op(op.Neg, nil, b.leaf("x", 2))) }, op.Neg, 1},
		{"x*0 finite", func(b *builder) int {
			return b.op(op.Mul, nil, b.op(op.Tanh, nil, b.konst(3, 2)), b.konst(0, 2))
		}, op.Mul, 1},
		{"x-x finite", func(b *builder) int {
			s := b.op(op.Sigmoid, nil, b.konst(2, 2))
			return b.op(op.Sub, nil, s, s)
		}, op.Sub, 1},
		{"exp(log(exp x))", func(b *builder) int {
			return b.op(op.Exp, nil, b.op(op.Log, nil, b.op(op.Exp, nil, b.leaf("x", 2))))
		}, op.Log, 2},
		{"permute(permute x)", func(b *builder) int {
			x := b.f.Add(compiler.Value{Op: op.Placeholder, DType: tensor.F64, Shape: tensor.Shape{2, 3, 4}, Attrs: &op.Attrs{Name: "x"}})
			p1 := b.f.Add(compiler.Value{Op: op.Permute, In: []int{x}, DType: tensor.F64, Shape: tensor.Shape{4, 2, 3}, Attrs: &op.Attrs{Perm: []int{2, 0, 1}}})
			return b.f.Add(compiler.Value{Op: op.Permute, In: []int{p1}, DType: tensor.F64, Shape: tensor.Shape{2, 3, 4}, Attrs: &op.Attrs{Perm: []int{1, 2, 0}}})
		}, op.Permute, 1},
		{"reshape(reshape x)", func(b *builder) int {
			x := b.leaf("x", 6)
			r1 := b.f.Add(compiler.Value{Op: op.Reshape, In: []int{x}, DType: tensor.F64, Shape: tensor.Shape{2, 3}, Attrs: &op.Attrs{Shape: tensor.Shape{2, 3}}})
			return b.f.Add(compiler.Value{Op: op.Reshape, In: []int{r1}, DType: tensor.F64, Shape: tensor.Shape{3, 2}, Attrs: &op.Attrs{Shape: tensor.Shape{3, 2}}})
		}, op.Invalid, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b builder
			b.f.Outputs = []int{c.build(&b)}
			before := len(b.f.Values)
			g := run(t, compiler.Simplify{}, &b.f)
			g = run(t, compiler.DCE{}, g)
			if c.gone != op.Invalid && count(g, c.gone) != 0 {
				var buf bytes.Buffer
				g.Print(&buf)
				t.Fatalf("%v survived:\n%s", c.gone, buf.String())
			}
			if len(g.Values) > c.left+2 {
				t.Fatalf("values %d -> %d, want fewer (about %d)", before, len(g.Values), c.left)
			}
		})
	}
}

// TestSimplifyKeepsUnsafeIdentities checks the rules that must not fire:
// x*0 and x-x on values that may be infinite or NaN, exp(log x) on x that
// may be negative.
func TestSimplifyKeepsUnsafeIdentities(t *testing.T) {
	cases := map[string]func(b *builder) int{
		"x*0":      func(b *builder) int { return b.op(op.Mul, nil, b.leaf("x", 2), b.konst(0, 2)) },
		"x-x":      func(b *builder) int { x := b.leaf("x", 2); return b.op(op.Sub, nil, x, x) },
		"exp(log)": func(b *builder) int { return b.op(op.Exp, nil, b.op(op.Log, nil, b.leaf("x", 2))) },
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			var b builder
			b.f.Outputs = []int{build(&b)}
			_, changed, err := compiler.Simplify{}.Run(&b.f)
			if err != nil || changed {
				t.Fatalf("changed=%v err=%v, want no rewrite", changed, err)
			}
		})
	}
}

func TestConstFold(t *testing.T) {
	var b builder
	c := b.op(op.Add, nil, b.konst(1, 2), b.konst(2, 2))
	x := b.leaf("x", 2)
	b.f.Outputs = []int{b.op(op.Mul, nil, x, c)}
	calls := 0
	eval := func(v compiler.Value, in []*tensor.Array) (*tensor.Array, error) {
		calls++
		out := tensor.MustZeros(v.DType, v.Shape)
		for i := range out.Float64s() {
			out.Float64s()[i] = in[0].Flat(i) + in[1].Flat(i)
		}
		return out, nil
	}
	g := run(t, compiler.ConstFold{Eval: eval}, &b.f)
	if calls != 1 || count(g, op.Add) != 0 || count(g, op.Const) != 1 {
		var buf bytes.Buffer
		g.Print(&buf)
		t.Fatalf("calls %d, IR:\n%s", calls, buf.String())
	}
	for _, v := range g.Values {
		if v.Op == op.Const && v.Attrs.Value.Flat(1) != 3 {
			t.Fatalf("folded %v, want 3", v.Attrs.Value)
		}
	}
}

func TestConstFoldSkipsStateAndHugeResults(t *testing.T) {
	var b builder
	p := b.f.Add(compiler.Value{Op: op.Param, DType: tensor.F64, Shape: tensor.Shape{2}, Attrs: &op.Attrs{Name: "w"}})
	big := b.op(op.Exp, nil, b.konst(1, 300, 300))
	b.f.Outputs = []int{b.op(op.Exp, nil, p), big}
	_, changed, err := compiler.ConstFold{MaxElements: 1 << 16, Eval: func(compiler.Value, []*tensor.Array) (*tensor.Array, error) {
		t.Fatal("evaluated something that must not fold")
		return nil, nil
	}}.Run(&b.f)
	if err != nil || changed {
		t.Fatalf("changed=%v err=%v", changed, err)
	}
}

func TestPipelineDebugAndFixedPoint(t *testing.T) {
	var b builder
	x := b.leaf("x", 2)
	n := b.op(op.Neg, nil, b.op(op.Neg, nil, b.op(op.Add, nil, x, b.konst(0, 2))))
	b.f.Outputs = []int{b.op(op.Mul, nil, n, b.konst(1, 2))}
	var log bytes.Buffer
	g, err := compiler.Pipeline{Passes: []compiler.Pass{compiler.Simplify{}, compiler.DCE{}, compiler.CSE{}}, Debug: &log, Verify: true}.Run(&b.f)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Values) != 1 || g.Values[0].Op != op.Placeholder {
		var buf bytes.Buffer
		g.Print(&buf)
		t.Fatalf("want x alone, got:\n%s", buf.String())
	}
	for _, want := range []string{"== input: 7 values", "== simplify (round 1)", "-> 1 values"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("debug log lacks %q:\n%s", want, log.String())
		}
	}
}

// flip is a rule pair that undoes itself, to check that a non-converging
// pipeline is an error rather than a hang.
type flip struct{}

func (flip) Name() string { return "flip" }
func (flip) Run(f *compiler.Func) (*compiler.Func, bool, error) {
	return f, true, nil
}

func TestPipelineFailsWithoutFixedPoint(t *testing.T) {
	var b builder
	b.f.Outputs = []int{b.leaf("x", 1)}
	if _, err := (compiler.Pipeline{Passes: []compiler.Pass{flip{}}, MaxRounds: 3}).Run(&b.f); err == nil {
		t.Fatal("no error for a pipeline that never converges")
	}
}

func TestLayoutReadsTransposedWeightsInPlace(t *testing.T) {
	var b builder
	x := b.leaf("x", 3, 4)
	w := b.f.Add(compiler.Value{Op: op.Const, DType: tensor.F64, Shape: tensor.Shape{5, 4}, Attrs: &op.Attrs{Value: tensor.MustZeros(tensor.F64, tensor.Shape{5, 4})}})
	wt := b.f.Add(compiler.Value{Op: op.Permute, In: []int{w}, DType: tensor.F64, Shape: tensor.Shape{4, 5}, Attrs: &op.Attrs{Perm: []int{1, 0}}})
	b.f.Outputs = []int{b.f.Add(compiler.Value{Op: op.MatMul, In: []int{x, wt}, DType: tensor.F64, Shape: tensor.Shape{3, 5}})}
	g := run(t, compiler.Layout{}, &b.f)
	if count(g, op.Permute) != 0 {
		t.Fatal("the transpose of a constant weight survived")
	}
	for _, v := range g.Values {
		if v.Op == op.MatMul && (!v.Attrs.TransB || !v.Attrs.ConstB || !g.Values[v.In[1]].Shape.Equal(tensor.Shape{5, 4})) {
			t.Fatalf("matmul attrs %+v over %v", v.Attrs, g.Values[v.In[1]].Shape)
		}
	}
	// A transpose of a computed value is read in place too, not constant.
	var c builder
	y := c.leaf("y", 5, 4)
	e := c.op(op.Exp, nil, y)
	et := c.f.Add(compiler.Value{Op: op.Permute, In: []int{e}, DType: tensor.F64, Shape: tensor.Shape{4, 5}, Attrs: &op.Attrs{Perm: []int{1, 0}}})
	c.f.Outputs = []int{c.f.Add(compiler.Value{Op: op.MatMul, In: []int{c.leaf("x", 3, 4), et}, DType: tensor.F64, Shape: tensor.Shape{3, 5}})}
	h := run(t, compiler.Layout{}, &c.f)
	for _, v := range h.Values {
		if v.Op == op.MatMul && (!v.Attrs.TransB || v.Attrs.ConstB || h.Values[v.In[1]].Op != op.Exp) {
			t.Fatalf("matmul over a computed transpose: attrs %+v over %v", v.Attrs, h.Values[v.In[1]].Op)
		}
	}
}
