// Package kernel is the kernel IR shared by the fusion pass and every
// backend: a loop nest over an output index space whose body is a small
// expression DAG of loads, constants and elementwise operations.
//
// Loads read an input buffer through an affine map of the output index
// (a stride per output axis plus an offset), which is how broadcasts,
// transposes, reshapes and strided slices fuse into a kernel without
// copies. The CPU backend compiles a kernel to Go loops over contiguous
// chunks; the WGSL emitter prints the same IR as a compute shader.
package kernel

import (
	"fmt"
	"strings"

	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// Kind says what a Node computes.
type Kind uint8

// Node kinds.
const (
	Load  Kind = iota // read Input at Offset + Σ index[a]*Strides[a]
	Const             // the scalar Value
	Apply             // the elementwise Op over Args
)

// Node is one expression of a kernel body.
type Node struct {
	Kind    Kind
	DType   tensor.DType
	Op      op.Code // Apply: an elementwise operation (unary, binary, where, cast)
	Args    []int   // Apply: earlier nodes
	Input   int     // Load: index into Elementwise.Inputs
	Strides []int   // Load: element stride of each output axis (0 broadcasts)
	Offset  int     // Load: element offset of output index 0
	Value   float64 // Const
}

// Input is one buffer a kernel reads.
type Input struct {
	DType tensor.DType
	Len   int // elements
}

// Elementwise is a fused elementwise kernel: out[i] = Nodes[last](i) for
// every index i of Shape, row-major.
type Elementwise struct {
	Shape  tensor.Shape
	Inputs []Input
	Nodes  []Node
}

// Out returns the dtype of the stored result.
func (k *Elementwise) Out() tensor.DType { return k.Nodes[len(k.Nodes)-1].DType }

// Key is a structural description of the kernel: two kernels with equal
// keys compile to the same code, so backends cache compiled kernels by it.
func (k *Elementwise) Key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "ew%v", k.Shape)
	for _, in := range k.Inputs {
		fmt.Fprintf(&b, "|in:%v:%d", in.DType, in.Len)
	}
	for _, n := range k.Nodes {
		switch n.Kind {
		case Load:
			fmt.Fprintf(&b, "|ld%d:%v@%d%v", n.Input, n.DType, n.Offset, n.Strides)
		case Const:
			fmt.Fprintf(&b, "|c:%v:%v", n.DType, n.Value)
		case Apply:
			fmt.Fprintf(&b, "|%v:%v%v", n.Op, n.DType, n.Args)
		}
	}
	return b.String()
}

// Verify checks that arguments precede their users, loads stay inside
// their inputs and every operation is elementwise.
func (k *Elementwise) Verify() error {
	if len(k.Nodes) == 0 {
		return fmt.Errorf("kernel: empty body")
	}
	for i, n := range k.Nodes {
		switch n.Kind {
		case Load:
			if n.Input < 0 || n.Input >= len(k.Inputs) || len(n.Strides) != len(k.Shape) {
				return fmt.Errorf("kernel: node %d loads input %d with %d strides over %d axes", i, n.Input, len(n.Strides), len(k.Shape))
			}
			lo, hi := n.Offset, n.Offset
			for a, s := range n.Strides {
				if k.Shape[a] == 0 {
					return nil
				}
				if s > 0 {
					hi += s * (k.Shape[a] - 1)
				} else {
					lo += s * (k.Shape[a] - 1)
				}
			}
			if lo < 0 || hi >= k.Inputs[n.Input].Len {
				return fmt.Errorf("kernel: node %d reads [%d, %d] of an input of %d elements", i, lo, hi, k.Inputs[n.Input].Len)
			}
		case Apply:
			if !n.Op.Has(op.Elementwise) {
				return fmt.Errorf("kernel: node %d applies %v, which is not elementwise", i, n.Op)
			}
			for _, a := range n.Args {
				if a < 0 || a >= i {
					return fmt.Errorf("kernel: node %d uses node %d", i, a)
				}
			}
		}
	}
	return nil
}

// Reduce is a reduction with a fused elementwise prologue: Body is
// evaluated over its whole index space, viewed row-major as Rows rows of N
// elements (the reduced axes are the trailing ones), and each row is
// reduced with Op (op.ReduceSum, op.ReduceMax or op.ReduceMin) into
// out[row].
//
// With an Epilogue the kernel stores the epilogue's Rows×N values instead
// of the reduction: row by row, once a row is reduced and while it is still
// in cache, the epilogue computes the elementwise consumers that read the
// reduced value broadcast back over that row (a norm's scaling, softmax's
// division). The launch then binds Epilogue.Inputs but the last; Body's
// inputs are a prefix of them, and the epilogue's last input is the
// reduction's result (Rows elements of Body.Out()), which it may load only
// at the row of the element it computes.
//
// With a Pre reduction the kernel first reduces each row with Pre (a
// reduction over the same index space, without Pre or Epilogue of its
// own), then with Body, which may read Pre's result at its own row (a
// softmax's max, then its sum of exponentials). Body then binds the
// launch's inputs followed by Pre's result, Pre binds a prefix of the
// launch's inputs, and an epilogue binds Body's inputs followed by the
// result: the launch's inputs, Pre's result, the result.
type Reduce struct {
	Op       op.Code
	Rows     int
	N        int
	Body     *Elementwise // Body.Shape.Size() is Rows*N
	Epilogue *Elementwise // optional; Epilogue.Shape equals Body.Shape
	Pre      *Reduce      // optional
}

// Key is a structural description, as for Elementwise.
func (r *Reduce) Key() string {
	k := fmt.Sprintf("reduce:%v:%dx%d:%s", r.Op, r.Rows, r.N, r.Body.Key())
	if r.Epilogue != nil {
		k += "|epilogue:" + r.Epilogue.Key()
	}
	if r.Pre != nil {
		k += "|pre:" + r.Pre.Key()
	}
	return k
}

// Verify checks the body and that it spans rows × reduced elements.
func (r *Reduce) Verify() error {
	switch r.Op {
	case op.ReduceSum, op.ReduceMax, op.ReduceMin:
	default:
		return fmt.Errorf("kernel: %v is not a fusable reduction", r.Op)
	}
	if r.Body.Shape.Size() != r.Rows*r.N {
		return fmt.Errorf("kernel: reduction body shape %v is not %d rows of %d", r.Body.Shape, r.Rows, r.N)
	}
	if err := r.Body.Verify(); err != nil {
		return err
	}
	if r.Pre != nil {
		if err := r.verifyPre(); err != nil {
			return err
		}
	}
	if r.Epilogue == nil {
		return nil
	}
	return r.verifyEpilogue()
}

// verifyPre checks that Pre is a plain reduction over the same rows that
// binds a prefix of the launch's inputs, and that Body binds them all
// followed by Pre's result, which it reads only at its own row.
func (r *Reduce) verifyPre() error {
	p := r.Pre
	if p.Pre != nil || p.Epilogue != nil || p.Rows != r.Rows || p.N != r.N || !p.Body.Shape.Equal(r.Body.Shape) {
		return fmt.Errorf("kernel: pre-reduction %v of %d rows of %d is not a plain reduction over the body's rows", p.Op, p.Rows, p.N)
	}
	if err := p.Verify(); err != nil {
		return err
	}
	res := len(r.Body.Inputs) - 1
	if res < len(p.Body.Inputs) {
		return fmt.Errorf("kernel: reduction body binds %d inputs, want the pre-reduction's %d and its result", len(r.Body.Inputs), len(p.Body.Inputs))
	}
	for i, in := range p.Body.Inputs {
		if r.Body.Inputs[i] != in {
			return fmt.Errorf("kernel: reduction body input %d is %v, the pre-reduction's is %v", i, r.Body.Inputs[i], in)
		}
	}
	if want := (Input{DType: p.Body.Out(), Len: r.Rows}); r.Body.Inputs[res] != want {
		return fmt.Errorf("kernel: reduction body's last input is %v, want the pre-reduction's result %v", r.Body.Inputs[res], want)
	}
	return rowLocal(r.Body, res, r.N)
}

// verifyEpilogue checks that the epilogue spans the body's index space,
// binds the body's inputs first and the reduction's result last, and reads
// the result only at the row it writes.
func (r *Reduce) verifyEpilogue() error {
	e := r.Epilogue
	if !e.Shape.Equal(r.Body.Shape) {
		return fmt.Errorf("kernel: reduction epilogue shape %v is not the body's %v", e.Shape, r.Body.Shape)
	}
	res := len(e.Inputs) - 1
	if res < len(r.Body.Inputs) {
		return fmt.Errorf("kernel: reduction epilogue binds %d inputs, want the body's %d and the result", len(e.Inputs), len(r.Body.Inputs))
	}
	for i, in := range r.Body.Inputs {
		if e.Inputs[i] != in {
			return fmt.Errorf("kernel: reduction epilogue input %d is %v, the body's is %v", i, e.Inputs[i], in)
		}
	}
	if want := (Input{DType: r.Body.Out(), Len: r.Rows}); e.Inputs[res] != want {
		return fmt.Errorf("kernel: reduction epilogue's last input is %v, want the result %v", e.Inputs[res], want)
	}
	if err := e.Verify(); err != nil {
		return err
	}
	if r.Pre != nil {
		if len(e.Inputs) != len(r.Body.Inputs)+1 {
			return fmt.Errorf("kernel: reduction epilogue binds %d inputs, want the body's %d and the result", len(e.Inputs), len(r.Body.Inputs))
		}
		if err := rowLocal(e, res-1, r.N); err != nil {
			return err
		}
	}
	return rowLocal(e, res, r.N)
}

// rowLocal checks that kernel e, over rows of rowLen elements, reads input res
// (one value per row) only at the row of the element it computes: the
// result of row q/rowLen is only ready while that row is processed. Each output
// axis either lies inside a row (stride 0) or steps whole rows.
func rowLocal(e *Elementwise, res, rowLen int) error {
	outSt := e.Shape.Strides()
	for i, n := range e.Nodes {
		if n.Kind != Load || n.Input != res {
			continue
		}
		ok := n.Offset == 0
		for a, s := range n.Strides {
			switch {
			case e.Shape[a] == 1:
			case outSt[a]*e.Shape[a] <= rowLen:
				ok = ok && s == 0
			default:
				ok = ok && outSt[a]%rowLen == 0 && s == outSt[a]/rowLen
			}
		}
		if !ok {
			return fmt.Errorf("kernel: node %d reads a reduced row at offset %d strides %v, not at its own row", i, n.Offset, n.Strides)
		}
	}
	return nil
}

// Act is an activation a matmul epilogue applies.
type Act uint8

// Activations of an Epilogue.
const (
	ActNone Act = iota
	ActReLU     // max(x, 0)
	ActSiLU     // x·sigmoid(x)
)

// Epilogue is elementwise work a matrix product applies to each tile of
// its output while the tile is still in cache:
//
//	out[.., i, j] = Act(mm[.., i, j] + bias[j]) + residual[.., i, j]
//
// Bias and Residual say which of the launch's extra inputs are present:
// after the two matmul operands come the bias, then the residual.
type Epilogue struct {
	Scaled   bool    // the product is first multiplied by Scale
	Scale    float64 // a scalar constant (attention's 1/√d, say)
	Bias     bool
	Act      Act
	Residual bool
}
