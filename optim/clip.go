package optim

import (
	"fmt"
	"math"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// ClipGradNorm records gradients rescaled so that their global L2 norm (over
// all of them together) is at most maxNorm, as PyTorch's
// clip_grad_norm_: each gradient is multiplied by
// min(1, maxNorm/(‖g‖+1e-6)). It also returns the norm before clipping, an
// F64 scalar, for logging. The norm is accumulated in F64.
func ClipGradNorm(grads []graph.Tensor, maxNorm float64) ([]graph.Tensor, graph.Tensor, error) {
	if !(maxNorm > 0) || math.IsInf(maxNorm, 0) {
		return nil, graph.Tensor{}, fmt.Errorf("%w: max norm %v, want > 0", ErrConfig, maxNorm)
	}
	if len(grads) == 0 {
		return nil, graph.Tensor{}, fmt.Errorf("%w: no gradients", ErrParam)
	}
	g := grads[0].Graph()
	for i, gr := range grads {
		if gr.Graph() == nil || gr.Graph() != g || !gr.Valid() {
			return nil, graph.Tensor{}, fmt.Errorf("%w: gradient %d is not a valid tensor of gradient 0's graph", ErrParam, i)
		}
		if d := gr.DType(); d != tensor.F32 && d != tensor.F64 {
			return nil, graph.Tensor{}, fmt.Errorf("%w: gradient %d is %v, not F32 or F64", ErrParam, i, d)
		}
	}
	var sq graph.Tensor
	for i, gr := range grads {
		s := gr.Mul(gr).SumAll().Cast(tensor.F64)
		if i == 0 {
			sq = s
		} else {
			sq = sq.Add(s)
		}
	}
	norm := sq.Sqrt()
	coef := g.Scalar(tensor.F64, maxNorm).Div(norm.AddScalar(1e-6)).Minimum(g.Scalar(tensor.F64, 1))
	out := make([]graph.Tensor, len(grads))
	for i, gr := range grads {
		c := coef
		if gr.DType() != tensor.F64 {
			c = coef.Cast(gr.DType())
		}
		out[i] = gr.Mul(c)
	}
	if err := g.Err(); err != nil {
		return nil, graph.Tensor{}, err
	}
	return out, norm, nil
}
