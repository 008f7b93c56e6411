package autograd_test

import (
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/autograd"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

func rnd(shape ...int) *tensor.Array {
	r := rand.New(rand.NewPCG(3, 4))
	a := tensor.MustZeros(tensor.F64, shape)
	for i := range a.Float64s() {
		a.Float64s()[i] = r.Float64()*2 - 1
	}
	return a
}

func TestSmokeGrad(t *testing.T) {
	cases := map[string]struct {
		f  func(g *graph.Graph, x []graph.Tensor) graph.Tensor
		in []*tensor.Array
	}{
		"matmul-softmax": {func(g *graph.Graph, x []graph.Tensor) graph.Tensor { return x[0].MatMul(x[1]).Softmax(-1) }, []*tensor.Array{rnd(2, 3), rnd(3, 4)}},
		"layernorm":      {func(g *graph.Graph, x []graph.Tensor) graph.Tensor { return x[0].LayerNorm(x[1], x[2], 1e-5) }, []*tensor.Array{rnd(2, 5), rnd(5), rnd(5)}},
		"attention": {func(g *graph.Graph, x []graph.Tensor) graph.Tensor {
			return graph.ScaledDotProductAttention(x[0], x[1], x[2], graph.Attention{Causal: true})
		}, []*tensor.Array{rnd(1, 4, 3, 2), rnd(1, 2, 3, 2), rnd(1, 2, 3, 2)}},
		"conv": {func(g *graph.Graph, x []graph.Tensor) graph.Tensor {
			return x[0].Conv2D(x[1], x[2], graph.Conv{Stride: [2]int{2, 1}, Padding: [2]int{1, 1}})
		}, []*tensor.Array{rnd(2, 2, 5, 4), rnd(3, 2, 3, 2), rnd(3)}},
		"maxpool": {func(g *graph.Graph, x []graph.Tensor) graph.Tensor {
			return x[0].MaxPool2D(2, 2, graph.Conv{Padding: [2]int{1, 1}})
		}, []*tensor.Array{rnd(1, 2, 5, 4)}},
		"rope": {func(g *graph.Graph, x []graph.Tensor) graph.Tensor {
			return x[0].RoPE(g.Const(tensor.NewI32([]int32{0, 3, 7}, 3)), graph.RoPE{NeoX: true, Dims: 4})
		}, []*tensor.Array{rnd(3, 2, 6)}},
		"slice-step": {func(g *graph.Graph, x []graph.Tensor) graph.Tensor {
			return x[0].Slice(graph.Range{Start: 4, Stop: -7, Step: -2}, graph.Range{Start: 1, Stop: 3, Step: 1}).Exp()
		}, []*tensor.Array{rnd(5, 3)}},
		"gather": {func(g *graph.Graph, x []graph.Tensor) graph.Tensor { return x[0].Gather(0, x[1]).Tanh() }, []*tensor.Array{rnd(4, 3), tensor.NewI64([]int64{1, 1, 3}, 3)}},
		"ce":     {func(g *graph.Graph, x []graph.Tensor) graph.Tensor { return graph.CrossEntropy(x[0], x[1]) }, []*tensor.Array{rnd(3, 4), tensor.NewI64([]int64{1, 0, 3}, 3)}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if err := autograd.GradCheck(c.f, c.in, autograd.Check{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
