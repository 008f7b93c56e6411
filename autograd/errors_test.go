package autograd_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/aethertensor/aether/autograd"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// noPanic runs f and fails the test if it panics.
func noPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v", what, r)
		}
	}()
	f()
}

// TestGradCheckErrors checks that GradCheck returns errors, not panics,
// for every way its arguments can be wrong.
func TestGradCheckErrors(t *testing.T) {
	ok := []*tensor.Array{tensor.NewF64([]float64{1, 2}, 2)}
	other := graph.New().Scalar(tensor.F64, 1)
	cases := []struct {
		name string
		f    fn
		in   []*tensor.Array
		want error // nil: any error
	}{
		{"nil input array", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor { return x[0].Sum() }, []*tensor.Array{nil}, autograd.ErrInput},
		{"zero Tensor output", func(*graph.Graph, []graph.Tensor) graph.Tensor { return graph.Tensor{} }, ok, autograd.ErrInput},
		{"integer output", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor { return x[0].Cast(tensor.I64).Sum() }, ok, autograd.ErrInput},
		{"f32 output", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor { return x[0].Cast(tensor.F32).Sum() }, ok, autograd.ErrInput},
		{"output of another graph", func(*graph.Graph, []graph.Tensor) graph.Tensor { return other }, ok, autograd.ErrInput},
		{"build error", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor { return x[0].Reshape(3) }, ok, graph.ErrShape},
		{"run error", func(g *graph.Graph, x []graph.Tensor) graph.Tensor {
			return x[0].Gather(0, g.Const(tensor.NewI64([]int64{5}, 1))).Sum()
		}, ok, nil},
		// Nothing to differentiate is a mistake: silence would read as a pass.
		{"no inputs", func(g *graph.Graph, _ []graph.Tensor) graph.Tensor { return g.Scalar(tensor.F64, 1) }, nil, autograd.ErrInput},
		{"only integer inputs", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor { return x[0].Cast(tensor.F64).Sum() },
			[]*tensor.Array{tensor.NewI64([]int64{1}, 1)}, autograd.ErrInput},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			noPanic(t, "GradCheck", func() { err = autograd.GradCheck(c.f, c.in, autograd.Check{}) })
			switch {
			case err == nil:
				t.Error("GradCheck returned nil")
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("GradCheck: %v, want %v", err, c.want)
			}
		})
	}
}

// TestBackwardNoPanic calls Backward, Grad and Of with every kind of bad
// tensor; each must return an error or an invalid tensor, never panic.
func TestBackwardNoPanic(t *testing.T) {
	bad := func(g *graph.Graph) map[string]graph.Tensor {
		return map[string]graph.Tensor{
			"zero":    {},
			"invalid": g.Tensor(-1),
			"foreign": graph.New().Scalar(tensor.F64, 1),
			"integer": g.Const(tensor.NewI64([]int64{1}, 1)).Sum(),
			"bool":    g.Scalar(tensor.Bool, 1),
			"vector":  g.Placeholder("v", tensor.F64, 3),
			"failed":  g.Placeholder("m", tensor.F64, 2, 2).Reshape(3),
		}
	}
	names := []string{"zero", "invalid", "foreign", "integer", "bool", "vector", "failed"}
	for _, yn := range names {
		for _, xn := range names {
			where := fmt.Sprintf("y=%s x=%s", yn, xn)
			g := graph.New()
			ts := bad(g)
			y, x := ts[yn], ts[xn]
			noPanic(t, where+": Backward", func() {
				gs, err := autograd.Backward(y, autograd.Seed(x))
				if err == nil {
					gs.Of(x)
					gs.Of(graph.Tensor{})
				}
			})
			noPanic(t, where+": Grad", func() { autograd.Grad(y, x) })
			noPanic(t, where+": Grad of a good output", func() {
				g2 := graph.New()
				p := g2.Placeholder("p", tensor.F64, 2)
				if _, err := autograd.Grad(p.Sum(), p, x); err == nil {
					t.Errorf("%s: Grad with respect to a tensor of another graph succeeded", where)
				}
			})
		}
	}
}
