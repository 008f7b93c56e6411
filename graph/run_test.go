package graph_test

// Run-time behaviour of compiled Programs: errors raised while running,
// feed validation, repeated runs with new feeds, persistent state and
// Assign ordering.

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

func compile(t *testing.T, outs ...graph.Tensor) *graph.Program {
	t.Helper()
	p, err := graph.Compile(outs)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return p
}

func TestRunTimeErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(g *graph.Graph) graph.Tensor
		feeds graph.Feeds
		say   string
	}{
		{"gather index too large", func(g *graph.Graph) graph.Tensor {
			return in(g, seqND(3, 2), tensor.F32).Gather(0, g.Placeholder("i", tensor.I64, 2))
		}, graph.Feeds{"i": tensor.NewI64([]int64{0, 3}, 2)}, "out of range"},
		{"gather negative index", func(g *graph.Graph) graph.Tensor {
			return in(g, seqND(3, 2), tensor.F64).Gather(1, g.Placeholder("i", tensor.I32, 1))
		}, graph.Feeds{"i": tensor.NewI32([]int32{-1}, 1)}, "out of range"},
		{"index_select out of range", func(g *graph.Graph) graph.Tensor {
			return in(g, seqND(4), tensor.F32).IndexSelect(0, g.Placeholder("i", tensor.I32, 3))
		}, graph.Feeds{"i": tensor.NewI32([]int32{1, 2, 4}, 3)}, "out of range"},
		{"scatter_add out of range", func(g *graph.Graph) graph.Tensor {
			return in(g, seqND(3), tensor.F32).ScatterAdd(0, g.Placeholder("i", tensor.I64, 2), in(g, seqND(2), tensor.F32))
		}, graph.Feeds{"i": tensor.NewI64([]int64{2, 3}, 2)}, "out of range"},
		{"i32 division by zero", func(g *graph.Graph) graph.Tensor {
			return g.Const(tensor.NewI32([]int32{6, 7}, 2)).Div(g.Placeholder("d", tensor.I32, 2))
		}, graph.Feeds{"d": tensor.NewI32([]int32{3, 0}, 2)}, "division by zero"},
		{"i64 division by zero broadcast", func(g *graph.Graph) graph.Tensor {
			return g.Const(tensor.NewI64([]int64{6, 7, 8}, 3)).Div(g.Placeholder("d", tensor.I64))
		}, graph.Feeds{"d": tensor.Scalar(tensor.I64, 0)}, "division by zero"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New()
			p := compile(t, c.build(g))
			_, err := p.Run(context.Background(), c.feeds)
			if err == nil {
				t.Fatal("Run: no error")
			}
			if !strings.Contains(err.Error(), c.say) {
				t.Errorf("error %q does not say %q", err, c.say)
			}
		})
	}
	t.Run("program recovers", func(t *testing.T) {
		// A failed run must not poison the next one.
		g := graph.New()
		i := g.Placeholder("i", tensor.I64, 2)
		p := compile(t, in(g, seqND(3, 2), tensor.F64).Gather(0, i).Sum(1))
		if _, err := p.Run(context.Background(), graph.Feeds{"i": tensor.NewI64([]int64{5, 0}, 2)}); err == nil {
			t.Fatal("no error")
		}
		out, err := p.Run(context.Background(), graph.Feeds{"i": tensor.NewI64([]int64{2, 0}, 2)})
		if err != nil {
			t.Fatal(err)
		}
		checkExact(t, out[0], literal([]int{2}, 11, 3))
	})
}

func TestFeedValidation(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, 2, 3)
	n := g.Placeholder("n", tensor.I32, 3)
	h := g.Placeholder("h", tensor.F16, 3)
	g.Placeholder("unused", tensor.F32, 1)
	p := compile(t, x.Add(n.Cast(tensor.F64)).Sum(0).Cast(tensor.F32).Mul(h))
	x23 := seqND(2, 3).array(tensor.F64)
	n3 := tensor.NewI32([]int32{1, 2, 3}, 3)
	h3 := tensor.NewF32([]float32{1, 1, 2}, 3)
	good := func() graph.Feeds { return graph.Feeds{"x": x23, "n": n3, "h": h3} }
	with := func(k string, v *tensor.Array) graph.Feeds {
		f := good()
		if v == nil {
			delete(f, k)
		} else {
			f[k] = v
		}
		return f
	}
	cases := []struct {
		name  string
		feeds graph.Feeds
		say   []string
	}{
		{"missing", with("n", nil), []string{`"n"`, "not fed", "i32", "[3]"}},
		{"nil array", graph.Feeds{"x": x23, "n": nil, "h": h3}, []string{`"n"`, "not fed"}},
		{"wrong shape", with("x", seqND(3, 2).array(tensor.F64)), []string{`"x"`, "[3 2]", "[2 3]"}},
		{"wrong rank", with("x", seqND(6).array(tensor.F64)), []string{`"x"`, "[6]", "[2 3]"}},
		{"wrong dtype", with("x", seqND(2, 3).array(tensor.F32)), []string{`"x"`, "f32", "f64"}},
		{"int for int of other width", with("n", tensor.NewI64([]int64{1, 2, 3}, 3)), []string{`"n"`, "i64", "i32"}},
		{"f16 into f64", with("x", seqND(2, 3).array(tensor.F16)), []string{`"x"`, "f16", "f64"}},
		{"unknown name", graph.Feeds{"x": x23, "n": n3, "h": h3, "typo": n3}, []string{`"typo"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := p.Run(context.Background(), c.feeds)
			if !errors.Is(err, graph.ErrFeed) {
				t.Fatalf("Run: %v, want ErrFeed", err)
			}
			for _, s := range c.say {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %s", err, s)
				}
			}
		})
	}
	t.Run("fine", func(t *testing.T) {
		// Placeholders the program does not need may be fed or not.
		for _, f := range []graph.Feeds{good(), with("unused", tensor.NewF32([]float32{0}, 1))} {
			out, err := p.Run(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			// Column sums of seq(2,3) + 2n, times h.
			checkExact(t, out[0], literal([]int{3}, 1+4+2, 2+5+4, 2*(3+6+6)))
		}
	})
}

func TestCompileOnceRunMany(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, 3)
	w := g.Param("w", tensor.NewF64([]float64{1, -2, 0.5}, 3))
	y := x.Mul(w).Add(x.Exp())
	s := y.Sum()
	p := compile(t, y, s)
	var first *tensor.Array
	for run := 0; run < 5; run++ {
		xv := randND(uint64(run), -2, 2, 3)
		out, err := p.Run(context.Background(), graph.Feeds{"x": xv.array(tensor.F64)})
		if err != nil {
			t.Fatal(err)
		}
		want := zipND(func(v ...float64) float64 { return v[0]*v[1] + mathExp(v[0]) }, xv, literal([]int{3}, 1, -2, 0.5))
		checkClose(t, out[0], want, tolFor(tensor.F64))
		checkClose(t, out[1], reduceRef(want, nil, false, 0, func(a, v float64) float64 { return a + v }), tolFor(tensor.F64))
		if run == 0 {
			first = out[0]
		} else if first != out[0] {
			t.Error("outputs are not reused between runs")
		}
	}
	t.Run("param updated between runs", func(t *testing.T) {
		v, ok := g.Var("w")
		if !ok {
			t.Fatal("no var w")
		}
		// Programs read parameters in place: a change between runs is seen.
		v.Value().Float64s()[1] = 10
		xv := literal([]int{3}, 1, 1, 1)
		out, err := p.Run(context.Background(), graph.Feeds{"x": xv.array(tensor.F64)})
		if err != nil {
			t.Fatal(err)
		}
		e := mathExp(1)
		checkClose(t, out[0], literal([]int{3}, 1+e, 10+e, 0.5+e), tolFor(tensor.F64))
	})
	t.Run("concurrent runs", func(t *testing.T) {
		// Runs are serialised, but they share the output arrays, so the
		// goroutines only check errors; the values are read after all finish.
		errs := make(chan error, 8)
		for i := 0; i < 8; i++ {
			go func() {
				_, err := p.Run(context.Background(), graph.Feeds{"x": literal([]int{3}, 0, 0, 0).array(tensor.F64)})
				errs <- err
			}()
		}
		for i := 0; i < 8; i++ {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		if got := first.Flat(0) + first.Flat(1) + first.Flat(2); got != 3 {
			t.Errorf("sum after concurrent runs %v, want 3", got)
		}
	})
}

func TestAssignSemantics(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 2)
	acc := g.Variable("acc", tensor.NewF32([]float32{0, 0}, 2))
	steps := g.Variable("steps", tensor.NewI64([]int64{0}))
	// Reads of acc in this run see the value from before the run.
	read := acc.Scale(1)
	next := g.Assign(acc, acc.Add(x))
	count := g.Assign(steps, steps.Add(g.Scalar(tensor.I64, 1)))
	p := compile(t, read, next, count)
	reader := compile(t, acc.Scale(1)) // a second Program over the same state
	sum := []float64{0, 0}
	for run := 1; run <= 4; run++ {
		xv := literal([]int{2}, float64(run), -0.5)
		out, err := p.Run(context.Background(), graph.Feeds{"x": xv.array(tensor.F32)})
		if err != nil {
			t.Fatal(err)
		}
		checkExact(t, out[0], literal([]int{2}, sum...))
		sum[0] += xv.data[0]
		sum[1] += xv.data[1]
		checkExact(t, out[1], literal([]int{2}, sum...))
		checkExact(t, out[2], literal([]int{1}, float64(run)))
		seen, err := reader.Run(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		checkExact(t, seen[0], literal([]int{2}, sum...))
	}
	v, _ := g.Var("acc")
	checkExact(t, v.Value(), literal([]int{2}, sum...))
	if v.Trainable() {
		t.Error("a Variable reports Trainable")
	}
	t.Run("not an output: no write", func(t *testing.T) {
		g := graph.New()
		c := g.Variable("c", tensor.NewF64([]float64{1}))
		g.Assign(c, c.Scale(3))
		p := compile(t, c.Scale(2))
		for i := 0; i < 3; i++ {
			out, err := p.Run(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			checkExact(t, out[0], literal([]int{1}, 2))
		}
	})
	t.Run("param swap", func(t *testing.T) {
		// Two assignments that read each other's old values swap them
		// (scaled by 2 so each value is a computed tensor).
		g := graph.New()
		a := g.Param("a", tensor.NewF64([]float64{1, 2}, 2))
		b := g.Param("b", tensor.NewF64([]float64{3, 4}, 2))
		p := compile(t, g.Assign(a, b.Scale(2)), g.Assign(b, a.Scale(2)))
		for i := 0; i < 3; i++ {
			if _, err := p.Run(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
		}
		va, _ := g.Var("a")
		vb, _ := g.Var("b")
		checkExact(t, va.Value(), literal([]int{2}, 24, 32))
		checkExact(t, vb.Value(), literal([]int{2}, 8, 16))
	})
	t.Run("direct swap", func(t *testing.T) {
		// Assign(a, b) and Assign(b, a): the value of the second assignment
		// is the state tensor a itself, and it must be read before the
		// first assignment writes a (the same holds for b.Scale(1), which
		// the compiler simplifies to b).
		g := graph.New()
		a := g.Param("a", tensor.NewF64([]float64{1, 2}, 2))
		b := g.Param("b", tensor.NewF64([]float64{3, 4}, 2))
		p := compile(t, g.Assign(a, b), g.Assign(b, a))
		if _, err := p.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		va, _ := g.Var("a")
		vb, _ := g.Var("b")
		checkExact(t, va.Value(), literal([]int{2}, 3, 4))
		checkExact(t, vb.Value(), literal([]int{2}, 1, 2))
	})
}

func mathExp(x float64) float64 { return math.Exp(x) }
