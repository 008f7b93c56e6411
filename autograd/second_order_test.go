package autograd_test

import (
	"context"
	"math"
	"testing"

	"github.com/aethertensor/aether/autograd"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// run compiles outs, runs them once with feeds and returns their values.
func run(t *testing.T, outs []graph.Tensor, feeds graph.Feeds) []*tensor.Array {
	t.Helper()
	p, err := graph.Compile(outs)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	res, err := p.Run(context.Background(), feeds)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*(1+math.Abs(b)) }

func TestSecondDerivativeOfCube(t *testing.T) {
	x0 := []float64{-1.5, -0.25, 0, 0.5, 2}
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, len(x0))
	y := x.Mul(x).Mul(x).Sum()
	d1, err := autograd.Grad(y, x)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := autograd.Grad(d1[0].Sum(), x)
	if err != nil {
		t.Fatal(err)
	}
	d3, err := autograd.Grad(d2[0].Sum(), x)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, []graph.Tensor{d1[0], d2[0], d3[0]}, graph.Feeds{"x": tensor.NewF64(x0, len(x0))})
	for i, v := range x0 {
		if got, want := out[0].Flat(i), 3*v*v; !near(got, want, 1e-12) {
			t.Errorf("d/dx x³ at %g = %g, want %g", v, got, want)
		}
		if got, want := out[1].Flat(i), 6*v; !near(got, want, 1e-12) {
			t.Errorf("d²/dx² x³ at %g = %g, want %g", v, got, want)
		}
		if got := out[2].Flat(i); !near(got, 6, 1e-12) {
			t.Errorf("d³/dx³ x³ at %g = %g, want 6", v, got)
		}
	}
}

// TestSecondDerivativeClosedForms checks second derivatives of unary
// functions against their closed forms.
func TestSecondDerivativeClosedForms(t *testing.T) {
	x0 := []float64{-1.3, -0.4, 0.3, 0.9, 1.7}
	cases := []struct {
		name string
		f    func(graph.Tensor) graph.Tensor
		d2   func(float64) float64
		in   []float64
	}{
		{"tanh", graph.Tensor.Tanh, func(x float64) float64 { th := math.Tanh(x); return -2 * th * (1 - th*th) }, x0},
		{"sigmoid", graph.Tensor.Sigmoid, func(x float64) float64 { s := 1 / (1 + math.Exp(-x)); return s * (1 - s) * (1 - 2*s) }, x0},
		{"sin", graph.Tensor.Sin, func(x float64) float64 { return -math.Sin(x) }, x0},
		{"exp", graph.Tensor.Exp, math.Exp, x0},
		{"log", graph.Tensor.Log, func(x float64) float64 { return -1 / (x * x) }, []float64{0.3, 0.9, 1.7, 4}},
		{"sqrt", graph.Tensor.Sqrt, func(x float64) float64 { return -0.25 * math.Pow(x, -1.5) }, []float64{0.3, 0.9, 1.7, 4}},
		{"erf", graph.Tensor.Erf, func(x float64) float64 { return -4 * x / math.Sqrt(math.Pi) * math.Exp(-x*x) }, x0},
		{"recip", graph.Tensor.Recip, func(x float64) float64 { return 2 / (x * x * x) }, []float64{-2, -0.5, 0.7, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New()
			x := g.Placeholder("x", tensor.F64, len(c.in))
			d1, err := autograd.Grad(c.f(x).Sum(), x)
			if err != nil {
				t.Fatal(err)
			}
			d2, err := autograd.Grad(d1[0].Sum(), x)
			if err != nil {
				t.Fatal(err)
			}
			out := run(t, d2, graph.Feeds{"x": tensor.NewF64(c.in, len(c.in))})
			for i, v := range c.in {
				if got, want := out[0].Flat(i), c.d2(v); !near(got, want, 1e-10) {
					t.Errorf("f''(%g) = %.12g, want %.12g", v, got, want)
				}
			}
		})
	}
}

// gradOf returns a GradCheck function whose output is the gradient of the
// scalar built by f with respect to its first input: GradCheck then checks
// the gradient of a gradient, that is the Hessian applied to its random
// output weights (a Hessian-vector product), against finite differences
// of the first gradient.
func gradOf(t *testing.T, f fn) fn {
	return func(g *graph.Graph, x []graph.Tensor) graph.Tensor {
		gs, err := autograd.Grad(f(g, x), x[0])
		if err != nil {
			t.Errorf("first gradient: %v", err)
			return graph.Tensor{}
		}
		return gs[0]
	}
}

// gradSum returns a GradCheck function that outputs every first-order
// gradient concatenated, so GradCheck differentiates all of them with
// respect to all float inputs (the full mixed Hessian times a random vector).
func gradSum(t *testing.T, f fn) fn {
	return func(g *graph.Graph, x []graph.Tensor) graph.Tensor {
		var wrt []graph.Tensor
		for _, xi := range x {
			if xi.DType().IsFloat() {
				wrt = append(wrt, xi)
			}
		}
		gs, err := autograd.Grad(f(g, x), wrt...)
		if err != nil {
			t.Errorf("first gradient: %v", err)
			return graph.Tensor{}
		}
		flat := make([]graph.Tensor, len(gs))
		for i, gi := range gs {
			flat[i] = gi.Flatten()
		}
		return graph.Concat(0, flat...)
	}
}

func TestHessianVectorProducts(t *testing.T) {
	cases := []struct {
		name string
		f    fn
		all  bool // differentiate every input, not just the first
		in   []*tensor.Array
	}{
		{"tanh-matmul", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor {
			return x[0].MatMul(x[1]).Tanh().Sum()
		}, true, []*tensor.Array{rnd(2, 3), rnd(3, 4)}},
		{"softmax-matmul", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor {
			return x[0].MatMul(x[1]).Softmax(-1).Mul(x[2]).Sum()
		}, true, []*tensor.Array{rnd(2, 3), rnd(3, 4), rnd(2, 4)}},
		{"log-softmax-cross-entropy", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor {
			return graph.CrossEntropy(x[0].MatMul(x[1]), x[2])
		}, true, []*tensor.Array{rnd(3, 2), rnd(2, 4), i64([]int64{0, 3, 3}, 3)}},
		{"sigmoid-exp-log", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor {
			return x[0].Sigmoid().Mul(x[1].Exp()).Log().Sum()
		}, true, []*tensor.Array{rnd(2, 3), rnd(2, 3)}},
		{"div-pow-sqrt", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor {
			return x[0].Pow(x[1]).Div(x[0].Sqrt().AddScalar(1)).Sum()
		}, true, []*tensor.Array{pos(2, 3), rnd(2, 3)}},
		{"layer-norm", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor {
			return x[0].LayerNorm(x[1], graph.Tensor{}, 1e-5).Square().Sum()
		}, true, []*tensor.Array{rnd(2, 4), rnd(4)}},
		{"rms-norm-gelu", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor {
			return x[0].RMSNorm(graph.Tensor{}, 1e-6).GELU().Sum()
		}, false, []*tensor.Array{rnd(2, 5)}},
		{"attention", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor {
			return graph.ScaledDotProductAttention(x[0], x[1], x[2], graph.Attention{Causal: true}).Square().Sum()
		}, true, []*tensor.Array{rnd(2, 3, 2), rnd(1, 3, 2), rnd(1, 3, 2)}},
		{"conv-max-pool", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor {
			return x[0].Conv2D(x[1], graph.Tensor{}, graph.Conv{Padding: [2]int{1, 1}}).Tanh().MaxPool2D(2, 2, graph.Conv{}).Sum()
		}, true, []*tensor.Array{rnd(1, 1, 4, 4), rnd(2, 1, 2, 2)}},
		{"movement", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor {
			s := x[0].Permute(1, 0).Slice(graph.Range{Start: 2, Stop: -5, Step: -1}).Pad(0, [2]int{1, 0})
			return graph.Concat(0, s, s.Square()).Gather(0, x[1]).Sin().Sum()
		}, false, []*tensor.Array{rnd(2, 3), i64([]int64{0, 3, 5, 3}, 4)}},
		{"maximum-where", func(_ *graph.Graph, x []graph.Tensor) graph.Tensor {
			m := x[0].Maximum(x[1]).Square()
			return graph.Where(x[0].Gt(x[1].Scale(0.5)), m.Mul(x[1]), m.Exp()).Sum()
		}, true, []*tensor.Array{rnd(3, 3), rnd(3, 3)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := gradOf(t, c.f)
			if c.all {
				f = gradSum(t, c.f)
			}
			if err := autograd.GradCheck(f, c.in, strict); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHessianVectorProductValue checks an explicit Hessian-vector product
// H·v = ∇(∇f·v) of f(x) = Σ tanh(Ax) against the closed form
// Aᵀ diag(-2 tanh(Ax)(1-tanh²(Ax))) A v.
func TestHessianVectorProductValue(t *testing.T) {
	a := []float64{0.3, -0.7, 1.1, 0.5, 0.2, -0.4}
	x0 := []float64{0.9, -0.6}
	v0 := []float64{-0.3, 0.8}
	g := graph.New()
	x := g.Placeholder("x", tensor.F64, 2)
	v := g.Placeholder("v", tensor.F64, 2)
	A := g.Const(tensor.NewF64(a, 3, 2))
	y := A.MatMul(x).Tanh().Sum()
	gx, err := autograd.Grad(y, x)
	if err != nil {
		t.Fatal(err)
	}
	hv, err := autograd.Grad(gx[0].Mul(v).Sum(), x)
	if err != nil {
		t.Fatal(err)
	}
	out := run(t, hv, graph.Feeds{"x": tensor.NewF64(x0, 2), "v": tensor.NewF64(v0, 2)})
	want := make([]float64, 2)
	for i := range 3 {
		z := a[2*i]*x0[0] + a[2*i+1]*x0[1]
		th := math.Tanh(z)
		d := -2 * th * (1 - th*th) * (a[2*i]*v0[0] + a[2*i+1]*v0[1])
		want[0] += a[2*i] * d
		want[1] += a[2*i+1] * d
	}
	for i := range want {
		if got := out[0].Flat(i); !near(got, want[i], 1e-12) {
			t.Errorf("(Hv)[%d] = %.15g, want %.15g", i, got, want[i])
		}
	}
}
