package graph

import (
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// quantOps are the only operations that take a quantized weight directly;
// anything else must Dequant it first.
var quantOps = map[string]bool{"linear": true, "gather": true, "dequant": true}

// QuantConst records a constant weight matrix kept in a GGUF block format
// (for example a tensor of a memory-mapped model file). It is never
// expanded: Linear multiplies by it and Gather reads its rows straight
// from the blocks. Its dtype is f32 and its shape [q.Rows, q.Cols]; other
// operations need Dequant. The data is not copied and must stay valid
// while Programs use it.
func (g *Graph) QuantConst(q *tensor.Quantized) Tensor {
	if g.err != nil {
		return Tensor{g, -1}
	}
	if err := q.Check(); err != nil {
		return g.fail("quant_const", errorf(ErrArg, "%v", err))
	}
	return g.add(op.QConst, &op.Attrs{Quant: q}, tensor.F32, tensor.Shape{q.Rows, q.Cols})
}

// Linear returns t·wᵀ for a weight w of shape [out, in] stored row by row
// (the layout of GGUF and of PyTorch's nn.Linear): t [..., in] becomes
// [..., out]. A quantized w is multiplied in its block format; a dense one
// through MatMul, whose transposed read the Layout pass makes free.
func (t Tensor) Linear(w Tensor) Tensor {
	if w.Op() != op.QConst {
		return t.MatMul(w.Transpose())
	}
	g, ok := check("linear", t, w)
	if !ok {
		return Tensor{g, -1}
	}
	in, out := w.Shape()[1], w.Shape()[0]
	if t.DType() != tensor.F32 || t.Rank() == 0 || t.Shape()[t.Rank()-1] != in {
		return g.fail("linear", errorf(ErrShape, "input %v%v for a quantized [%d %d] weight: want f32 [..., %d]", t.DType(), t.Shape(), out, in, in))
	}
	s := append(t.Shape()[:t.Rank()-1].Clone(), out)
	return g.add(op.QMatMul, &op.Attrs{Quant: w.node().attrs.Quant}, tensor.F32, s, t, w)
}

// Dequant expands a quantized weight to a dense f32 tensor, for operations
// other than Linear and Gather. It is the only one that materialises the
// weight.
func (t Tensor) Dequant() Tensor {
	g, ok := check("dequant", t)
	if !ok {
		return Tensor{g, -1}
	}
	if t.Op() != op.QConst {
		return t
	}
	return g.add(op.QDequant, &op.Attrs{Quant: t.node().attrs.Quant}, tensor.F32, t.Shape(), t)
}

// quantGather reads rows of a quantized weight (an embedding table).
func (t Tensor) quantGather(g *Graph, axis int, idx Tensor) Tensor {
	if axis != 0 && axis != -2 {
		return g.fail("gather", errorf(ErrArg, "a quantized weight is gathered by rows (axis 0), not axis %d", axis))
	}
	s := append(idx.Shape().Clone(), t.Shape()[1])
	return g.add(op.QGather, &op.Attrs{Quant: t.node().attrs.Quant}, tensor.F32, s, t, idx)
}
