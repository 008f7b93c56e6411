package optim_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/aethertensor/aether/autograd"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/optim"
	"github.com/aethertensor/aether/tensor"
)

func TestClipGradNorm(t *testing.T) {
	a := []float64{3, 0, -4} // norm 5 with b below: √(9+16+0+0) = 5
	b := []float64{0, 0}
	cases := []struct {
		name    string
		maxNorm float64
		dtypeB  tensor.DType
	}{
		{"clipped", 1, tensor.F64},
		{"clipped-mixed-dtypes", 2.5, tensor.F32},
		{"unclipped", 10, tensor.F64},
		{"at-limit", 5, tensor.F32},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New()
			ga := g.Const(tensor.NewF64(a, 3))
			gb := g.Const(arr(c.dtypeB, b, []int{2}))
			clipped, norm, err := optim.ClipGradNorm([]graph.Tensor{ga, gb}, c.maxNorm)
			if err != nil {
				t.Fatal(err)
			}
			prog, err := graph.Compile(append([]graph.Tensor{norm}, clipped...))
			if err != nil {
				t.Fatal(err)
			}
			out, err := prog.Run(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := out[0].Flat(0); math.Abs(got-5) > 1e-12 {
				t.Errorf("norm = %v, want 5", got)
			}
			coef := math.Min(1, c.maxNorm/(5+1e-6))
			tol := 1e-12
			if c.dtypeB == tensor.F32 {
				tol = 1e-6
			}
			for i, want := range a {
				if got := out[1].Flat(i); math.Abs(got-want*coef) > tol {
					t.Errorf("a[%d] = %v, want %v", i, got, want*coef)
				}
			}
			if out[2].DType() != c.dtypeB {
				t.Errorf("b clipped to %v, want %v", out[2].DType(), c.dtypeB)
			}
		})
	}
}

// TestClipThenStep clips gradients before an SGD step.
func TestClipThenStep(t *testing.T) {
	g := graph.New()
	p := g.Param("p", tensor.NewF64([]float64{3, 4}, 2))
	loss := p.Square().SumAll().Scale(0.5) // gradient = p, norm 5
	grads, err := autograd.Grad(loss, p)
	if err != nil {
		t.Fatal(err)
	}
	clipped, _, err := optim.ClipGradNorm(grads, 1)
	if err != nil {
		t.Fatal(err)
	}
	updates, err := optim.NewSGD(optim.SGDConfig{LR: 1}).Step([]graph.Tensor{p}, clipped)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := graph.Compile(updates)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prog.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	v, _ := p.Var()
	coef := 1 / (5 + 1e-6)
	near(t, "clip+sgd", [][]float64{v.Value().ToFloat64()}, [][]float64{{3 - 3*coef, 4 - 4*coef}}, 1e-12)
}

func TestClipGradNormErrors(t *testing.T) {
	g := graph.New()
	f := g.Full(tensor.F64, 1, 2)
	cases := []struct {
		name    string
		grads   []graph.Tensor
		maxNorm float64
		want    error
	}{
		{"zero-max", []graph.Tensor{f}, 0, optim.ErrConfig},
		{"nan-max", []graph.Tensor{f}, math.NaN(), optim.ErrConfig},
		{"none", nil, 1, optim.ErrParam},
		{"zero-tensor", []graph.Tensor{f, {}}, 1, optim.ErrParam},
		{"int", []graph.Tensor{g.Full(tensor.I32, 1, 2)}, 1, optim.ErrParam},
		{"other-graph", []graph.Tensor{f, graph.New().Full(tensor.F64, 1, 2)}, 1, optim.ErrParam},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, _, err := optim.ClipGradNorm(c.grads, c.maxNorm); !errors.Is(err, c.want) {
				t.Fatalf("error %v, want %v", err, c.want)
			}
		})
	}
}
