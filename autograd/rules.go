package autograd

import (
	"math"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// rule returns the gradient of each input of y given gy, the gradient
// flowing into y. need[i] reports whether input i needs one; a rule may
// return the zero Tensor for inputs that do not.
type rule func(y graph.Tensor, x []graph.Tensor, gy graph.Tensor, need []bool) []graph.Tensor

// rules has one entry per differentiable primitive. Each is written with
// graph operations, so it can be differentiated again.
var rules = map[op.Code]rule{
	op.Neg: func(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor { return one(g.Neg()) },
	op.Abs: func(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
		return one(g.Mul(x[0].Sign()))
	},
	op.Exp: func(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor { return one(g.Mul(y)) },
	op.Log: func(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
		return one(g.Div(x[0]))
	},
	op.Sqrt: func(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
		return one(g.Div(y).Scale(0.5))
	},
	op.Rsqrt: rsqrtRule,
	op.Recip: func(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
		return one(g.Mul(y.Square()).Neg())
	},
	op.Sin: func(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
		return one(g.Mul(x[0].Cos()))
	},
	op.Cos: func(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
		return one(g.Mul(x[0].Sin()).Neg())
	},
	op.Tanh:    tanhRule,
	op.Sigmoid: sigmoidRule,
	op.Relu:    reluRule,
	op.Erf:     erfRule,

	op.Add: func(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor { return two(g, g) },
	op.Sub: func(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
		return two(g, g.Neg())
	},
	op.Mul:     mulRule,
	op.Div:     divRule,
	op.Pow:     powRule,
	op.Maximum: extremumRule,
	op.Minimum: extremumRule,
	op.Where:   whereRule,
	op.Cast:    castRule,

	op.ReduceSum: sumRule,
	op.ReduceMax: extremeRule,
	op.ReduceMin: extremeRule,
	op.MatMul:    matmulRule,

	op.Reshape: func(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
		return one(g.Reshape(x[0].Shape()...))
	},
	op.Permute:    permuteRule,
	op.Expand:     expandRule,
	op.Slice:      sliceRule,
	op.Unslice:    unsliceRule,
	op.Pad:        padRule,
	op.Concat:     concatRule,
	op.Gather:     gatherRule,
	op.ScatterAdd: scatterRule,
	op.Softmax:    softmaxRule,
	op.LogSoftmax: logSoftmaxRule,
	op.QMatMul:    qmatmulRule,
	op.DynSlice:   dynSliceRule,
	op.DynUnslice: dynUnsliceRule,
	op.DynUpdate:  dynUpdateRule,
	op.Unfold:     unfoldRule,
	op.Fold:       foldRule,
}

func one(g graph.Tensor) []graph.Tensor                   { return []graph.Tensor{g} }
func two(a, b graph.Tensor) []graph.Tensor                { return []graph.Tensor{a, b} }
func mask(b graph.Tensor, like graph.Tensor) graph.Tensor { return b.Cast(like.DType()) }

// rsqrt: d(x^-1/2) = -1/2 · y³.
func rsqrtRule(y graph.Tensor, _ []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	return one(g.Mul(y.Square().Mul(y)).Scale(-0.5))
}

// tanh: 1 - y².
func tanhRule(y graph.Tensor, _ []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	return one(g.Mul(scalar(y, 1).Sub(y.Square())))
}

// sigmoid: y(1 - y).
func sigmoidRule(y graph.Tensor, _ []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	return one(g.Mul(y.Mul(scalar(y, 1).Sub(y))))
}

// relu: 1 where x > 0.
func reluRule(_ graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	return one(g.Mul(mask(x[0].Gt(scalar(x[0], 0)), g)))
}

// erf: 2/√π · e^(-x²).
func erfRule(_ graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	return one(g.Mul(x[0].Square().Neg().Exp()).Scale(2 / math.Sqrt(math.Pi)))
}

func mulRule(_ graph.Tensor, x []graph.Tensor, g graph.Tensor, need []bool) []graph.Tensor {
	var a, b graph.Tensor
	if need[0] {
		a = g.Mul(x[1])
	}
	if need[1] {
		b = g.Mul(x[0])
	}
	return two(a, b)
}

// div: d/da = 1/b, d/db = -a/b² = -y/b.
func divRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, need []bool) []graph.Tensor {
	var a, b graph.Tensor
	if need[0] {
		a = g.Div(x[1])
	}
	if need[1] {
		b = g.Mul(y).Div(x[1]).Neg()
	}
	return two(a, b)
}

// pow: d/da = b·a^(b-1); d/db = y·ln a, taken as 0 where a <= 0 so that a
// zero base does not poison the gradient with 0·(-∞).
func powRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, need []bool) []graph.Tensor {
	var a, b graph.Tensor
	if need[0] {
		a = g.Mul(x[1]).Mul(x[0].Pow(x[1].Sub(scalar(x[1], 1))))
	}
	if need[1] {
		pos := x[0].Gt(scalar(x[0], 0))
		safe := graph.Where(pos, x[0], scalar(x[0], 1))
		b = g.Mul(graph.Where(pos, y.Mul(safe.Log()), scalar(y, 0)))
	}
	return two(a, b)
}

// maximum and minimum: the gradient goes to the winner, split evenly on
// ties (as PyTorch does).
func extremumRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	win := x[0].Gt(x[1])
	if y.Op() == op.Minimum {
		win = x[0].Lt(x[1])
	}
	wa := mask(win, g).Add(mask(x[0].Eq(x[1]), g).Scale(0.5))
	return two(g.Mul(wa), g.Mul(scalar(wa, 1).Sub(wa)))
}

func whereRule(_ graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	z := scalar(g, 0)
	return []graph.Tensor{{}, graph.Where(x[0], g, z), graph.Where(x[0], z, g)}
}

func castRule(_ graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	if !x[0].DType().IsFloat() {
		return one(graph.Tensor{})
	}
	return one(g.Cast(x[0].DType()))
}

// keepShape returns the shape of y's input with the reduced axes kept as 1.
func keepShape(x graph.Tensor, axes []int) tensor.Shape {
	s := x.Shape().Clone()
	for _, a := range axes {
		s[a] = 1
	}
	return s
}

func sumRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	a := y.Attrs()
	return one(g.Reshape(keepShape(x[0], a.Axes)...).Expand(x[0].Shape()...))
}

// max and min reductions: the gradient is shared evenly among the elements
// equal to the result.
func extremeRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	ks := keepShape(x[0], y.Attrs().Axes)
	hit := mask(x[0].Eq(y.Reshape(ks...)), g)
	count := hit.SumKeep(y.Attrs().Axes...)
	return one(hit.Mul(g.Reshape(ks...).Div(count)))
}

func matmulRule(_ graph.Tensor, x []graph.Tensor, g graph.Tensor, need []bool) []graph.Tensor {
	var a, b graph.Tensor
	if need[0] {
		a = g.MatMul(x[1].Transpose())
	}
	if need[1] {
		b = x[0].Transpose().MatMul(g)
	}
	return two(a, b)
}

func permuteRule(y graph.Tensor, _ []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	p := y.Attrs().Perm
	inv := make([]int, len(p))
	for i, a := range p {
		inv[a] = i
	}
	return one(g.Permute(inv...))
}

// expand: sum over the axes that grew.
func expandRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	var axes []int
	for i, d := range x[0].Shape() {
		if d != y.Shape()[i] {
			axes = append(axes, i)
		}
	}
	if len(axes) == 0 {
		return one(g)
	}
	return one(g.SumKeep(axes...))
}

func sliceRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	a := y.Attrs()
	return one(g.Unslice(x[0].Shape(), a.Starts, a.Steps))
}

func unsliceRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	a := y.Attrs()
	rs := make([]graph.Range, len(a.Starts))
	for i := range rs {
		rs[i] = graph.Span(a.Starts[i], a.Steps[i], x[0].Shape()[i])
	}
	return one(g.Slice(rs...))
}

func padRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	a := y.Attrs()
	rs := make([]graph.Range, len(a.Pads))
	for i, p := range a.Pads {
		rs[i] = graph.Span(p[0], 1, x[0].Shape()[i])
	}
	return one(g.Slice(rs...))
}

func concatRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, need []bool) []graph.Tensor {
	axis := y.Attrs().Axis
	out := make([]graph.Tensor, len(x))
	off := 0
	for i, in := range x {
		n := in.Shape()[axis]
		if need[i] {
			out[i] = g.SliceAxis(axis, off, off+n, 1)
		}
		off += n
	}
	return out
}

func gatherRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	return two(g.Scatter(y.Attrs().Axis, x[1], x[0].Shape()...), graph.Tensor{})
}

func scatterRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	return two(g.Gather(y.Attrs().Axis, x[1]), graph.Tensor{})
}

// softmax: y ⊙ (g - Σ g⊙y).
func softmaxRule(y graph.Tensor, _ []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	axis := y.Attrs().Axis
	return one(y.Mul(g.Sub(g.Mul(y).SumKeep(axis))))
}

// log-softmax: g - e^y ⊙ Σ g.
func logSoftmaxRule(y graph.Tensor, _ []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	axis := y.Attrs().Axis
	return one(g.Sub(y.Exp().Mul(g.SumKeep(axis))))
}

func unfoldRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	s := x[0].Shape()
	return one(g.Fold(y.Attrs().Window, s[2], s[3]))
}

func foldRule(y graph.Tensor, _ []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	return one(g.Unfold(y.Attrs().Window, 0))
}

func dynSliceRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	return two(g.UnsliceAt(x[0].Shape(), y.Attrs().Axis, x[1]), graph.Tensor{})
}

// dynUpdateRule: the written window's gradient goes to x, the rest to
// the base.
func dynUpdateRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	a, start := y.Attrs().Axis, x[2]
	zero := g.Graph().Full(g.DType(), 0, x[1].Shape()...)
	return []graph.Tensor{g.UpdateAt(a, start, zero), g.SliceAt(a, start, x[1].Shape()[a]), {}}
}

func dynUnsliceRule(y graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	return two(g.SliceAt(y.Attrs().Axis, x[1], x[0].Shape()[y.Attrs().Axis]), graph.Tensor{})
}

// qmatmul: y = x·wᵀ, so dx = g·w; the constant weight gets no gradient.
func qmatmulRule(_ graph.Tensor, x []graph.Tensor, g graph.Tensor, _ []bool) []graph.Tensor {
	return two(g.MatMul(x[1].Dequant()), graph.Tensor{})
}
