package graph

import (
	"fmt"

	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// Graph records operations. It is not safe for concurrent building; a
// compiled Program may be run while the graph is extended.
type Graph struct {
	nodes []*node
	err   error
	vars  map[string]*Var
	names map[string]int // placeholder name -> node
}

type node struct {
	op    op.Code
	in    []int
	dtype tensor.DType
	shape tensor.Shape
	attrs *op.Attrs
	v     *Var         // Param and Variable nodes
	store tensor.DType // Placeholder: the dtype feeds may arrive in
}

// Var is persistent state: a parameter or variable whose value lives
// across runs and is shared by every Program compiled from its graph.
type Var struct {
	name      string
	value     *tensor.Array
	trainable bool
}

// Name returns the variable's name.
func (v *Var) Name() string { return v.name }

// Value returns the current value. Programs read and write this array in
// place on the CPU; treat it as read-only while a Program runs.
func (v *Var) Value() *tensor.Array { return v.value }

// Trainable reports whether the variable is a parameter (a Param).
func (v *Var) Trainable() bool { return v.trainable }

// Tensor is a symbolic value in a Graph: the result of an operation that
// has not run. The zero Tensor is invalid.
type Tensor struct {
	g  *Graph
	id int
}

// New returns an empty graph.
func New() *Graph {
	return &Graph{vars: map[string]*Var{}, names: map[string]int{}}
}

// Err returns the first error recorded while building, or nil.
func (g *Graph) Err() error { return g.err }

// Len returns the number of recorded operations.
func (g *Graph) Len() int { return len(g.nodes) }

// Vars returns the graph's parameters and variables in creation order.
func (g *Graph) Vars() []*Var {
	var out []*Var
	for _, n := range g.nodes {
		if n.v != nil {
			out = append(out, n.v)
		}
	}
	return out
}

// Params returns the tensors of every trainable parameter, in creation order.
func (g *Graph) Params() []Tensor {
	var out []Tensor
	for i, n := range g.nodes {
		if n.op == op.Param {
			out = append(out, Tensor{g, i})
		}
	}
	return out
}

// Var returns the parameter or variable with the given name.
func (g *Graph) Var(name string) (*Var, bool) {
	v, ok := g.vars[name]
	return v, ok
}

// fail records err as the graph's first error (if it is) and returns an
// invalid tensor of g.
func (g *Graph) fail(name string, err error) Tensor {
	if g.err == nil {
		g.err = &OpError{Op: name, Site: callSite(), Err: err}
	}
	return Tensor{g, -1}
}

// add appends a node after the caller has checked its operands.
func (g *Graph) add(c op.Code, a *op.Attrs, d tensor.DType, s tensor.Shape, in ...Tensor) Tensor {
	ids := make([]int, len(in))
	for i, t := range in {
		ids[i] = t.id
	}
	g.nodes = append(g.nodes, &node{op: c, in: ids, dtype: d, shape: s, attrs: a})
	return Tensor{g, len(g.nodes) - 1}
}

// check returns the graph shared by ts, or false after recording an error
// when a tensor is invalid, from another graph, or the graph already failed.
func check(name string, ts ...Tensor) (*Graph, bool) {
	var g *Graph
	for _, t := range ts {
		if t.g == nil {
			if g != nil {
				g.fail(name, errorf(ErrTensor, "operand is the zero Tensor"))
			}
			return g, false
		}
		if g == nil {
			g = t.g
		} else if t.g != g {
			g.fail(name, errorf(ErrTensor, "operands come from different graphs"))
			return g, false
		}
	}
	if g == nil || g.err != nil {
		return g, false
	}
	for _, t := range ts {
		if t.id < 0 {
			// The graph has no error, so t came from Graph.Tensor with an
			// unknown ID rather than from a failed operation.
			g.fail(name, errorf(ErrTensor, "operand is invalid"))
			return g, false
		}
	}
	for _, t := range ts {
		if d := g.nodes[t.id].dtype; isHalf(d) && !halfOps[name] {
			g.fail(name, errorf(ErrDType, "operand is %v storage; Cast it to f32 first", d))
			return g, false
		}
		if g.nodes[t.id].op == op.QConst && !quantOps[name] {
			g.fail(name, errorf(ErrArg, "operand is a quantized weight; use Linear, Gather or Dequant"))
			return g, false
		}
	}
	return g, true
}

func (t Tensor) node() *node { return t.g.nodes[t.id] }

// Valid reports whether t is the result of a successfully recorded operation.
func (t Tensor) Valid() bool { return t.g != nil && t.id >= 0 }

// Graph returns the graph t belongs to (nil for the zero Tensor).
func (t Tensor) Graph() *Graph { return t.g }

// ID returns t's index in its graph, stable for the graph's life.
func (t Tensor) ID() int { return t.id }

// Shape returns t's shape (nil for an invalid tensor or a scalar).
func (t Tensor) Shape() tensor.Shape {
	if !t.Valid() {
		return nil
	}
	return t.node().shape
}

// Rank returns the number of axes.
func (t Tensor) Rank() int { return len(t.Shape()) }

// DType returns t's element type (Invalid for an invalid tensor).
func (t Tensor) DType() tensor.DType {
	if !t.Valid() {
		return tensor.Invalid
	}
	return t.node().dtype
}

// Op returns the primitive operation that produces t.
func (t Tensor) Op() op.Code {
	if !t.Valid() {
		return op.Invalid
	}
	return t.node().op
}

// Inputs returns the operands of the operation that produces t.
func (t Tensor) Inputs() []Tensor {
	if !t.Valid() {
		return nil
	}
	ids := t.node().in
	out := make([]Tensor, len(ids))
	for i, id := range ids {
		out[i] = Tensor{t.g, id}
	}
	return out
}

// Attrs returns the attributes of the operation that produces t. Callers
// must not modify them.
func (t Tensor) Attrs() op.Attrs {
	if !t.Valid() || t.node().attrs == nil {
		return op.Attrs{}
	}
	return *t.node().attrs
}

// Var returns the state behind a Param or Variable tensor.
func (t Tensor) Var() (*Var, bool) {
	if !t.Valid() || t.node().v == nil {
		return nil, false
	}
	return t.node().v, true
}

// String describes t: its operation, ID, dtype and shape.
func (t Tensor) String() string {
	if !t.Valid() {
		return "Tensor(invalid)"
	}
	return fmt.Sprintf("%v#%d:%v%v", t.Op(), t.id, t.DType(), t.Shape())
}

// Const records a constant. F16 and BF16 arrays are widened to F32. The
// array is copied, so later changes to it do not affect the graph.
func (g *Graph) Const(a *tensor.Array) Tensor {
	if a == nil {
		return g.fail("const", errorf(ErrArg, "nil array"))
	}
	if g.err != nil {
		return Tensor{g, -1}
	}
	v, err := a.Convert(a.DType().Compute())
	if err != nil {
		return g.fail("const", err)
	}
	return g.add(op.Const, &op.Attrs{Value: v}, v.DType(), v.Shape().Clone())
}

// Scalar records a rank-0 constant of dtype d.
func (g *Graph) Scalar(d tensor.DType, v float64) Tensor {
	if !d.Valid() {
		return g.fail("scalar", errorf(ErrDType, "%v", d))
	}
	return g.Const(tensor.Scalar(d.Compute(), v))
}

// Full records a constant of the given shape filled with v, stored as one
// scalar broadcast to the shape.
func (g *Graph) Full(d tensor.DType, v float64, shape ...int) Tensor {
	return g.Scalar(d, v).Expand(shape...)
}

func (g *Graph) variable(c op.Code, name string, a *tensor.Array) Tensor {
	kind := c.String()
	if g.err != nil {
		return Tensor{g, -1}
	}
	if a == nil {
		return g.fail(kind, errorf(ErrArg, "%q: nil array", name))
	}
	if name == "" {
		return g.fail(kind, errorf(ErrArg, "empty name"))
	}
	if _, dup := g.vars[name]; dup {
		return g.fail(kind, errorf(ErrArg, "name %q already used", name))
	}
	d := a.DType().Compute()
	if c == op.Variable && isHalf(a.DType()) {
		d = a.DType() // half state keeps its two-byte storage
	}
	v, err := a.Convert(d)
	if err != nil {
		return g.fail(kind, err)
	}
	if isHalf(d) {
		copy(v.Bits(), a.Bits()) // bit for bit: Convert goes through float64, which quiets NaNs
	}
	vr := &Var{name: name, value: v, trainable: c == op.Param}
	g.vars[name] = vr
	t := g.add(c, &op.Attrs{Name: name}, v.DType(), v.Shape().Clone())
	t.node().v = vr
	return t
}

// Param records a trainable parameter initialised from a copy of a.
// Optimisers update parameters between runs; autograd.Backward computes
// gradients for every parameter the output depends on.
func (g *Graph) Param(name string, a *tensor.Array) Tensor { return g.variable(op.Param, name, a) }

// Variable records non-trainable state (optimiser moments, counters, caches)
// initialised from a copy of a. An F16 or BF16 array stays F16 or BF16,
// two bytes an element (a half-precision KV cache): such a variable is
// read through movement and Cast, written by Assign and AssignSlice (see
// StoreAs), and compiles only for devices with half storage. A Param of a
// half array is widened to F32, as a Const is.
func (g *Graph) Variable(name string, a *tensor.Array) Tensor {
	return g.variable(op.Variable, name, a)
}

// Placeholder records an input fed at run time under name. A placeholder
// of dtype F16 or BF16 is F32 in the graph and takes feeds in either form.
func (g *Graph) Placeholder(name string, d tensor.DType, shape ...int) Tensor {
	if g.err != nil {
		return Tensor{g, -1}
	}
	if name == "" {
		return g.fail("placeholder", errorf(ErrArg, "empty name"))
	}
	if _, dup := g.names[name]; dup {
		return g.fail("placeholder", errorf(ErrArg, "name %q already used", name))
	}
	if !d.Valid() {
		return g.fail("placeholder", errorf(ErrDType, "%q: %v", name, d))
	}
	for _, n := range shape {
		if n < 0 {
			return g.fail("placeholder", errorf(ErrShape, "%q: negative dimension in %v", name, tensor.Shape(shape)))
		}
	}
	t := g.add(op.Placeholder, &op.Attrs{Name: name}, d.Compute(), tensor.Shape(shape).Clone())
	t.node().store = d
	g.names[name] = t.id
	return t
}

// Assign records a write of value into the parameter or variable v. The
// write happens at the end of a run of a Program that lists the returned
// tensor among its outputs, after every read of v in that run; the
// returned tensor's value is the value written. An f32 or f64 value written
// into F16 or BF16 state is rounded to it first (see StoreAs).
func (g *Graph) Assign(v, value Tensor) Tensor {
	if _, ok := check("assign", v, value); !ok {
		return Tensor{g, -1}
	}
	if c := v.Op(); c != op.Param && c != op.Variable {
		return g.fail("assign", errorf(ErrArg, "target is %v, not a param or variable", c))
	}
	if d := v.DType(); isHalf(d) && value.DType() != d && (value.DType() == tensor.F32 || value.DType() == tensor.F64) {
		value = value.StoreAs(d) // a write into half state rounds
	}
	if !v.Shape().Equal(value.Shape()) || v.DType() != value.DType() {
		return g.fail("assign", errorf(ErrShape, "target %v%v, value %v%v", v.DType(), v.Shape(), value.DType(), value.Shape()))
	}
	return g.add(op.Assign, nil, value.DType(), value.Shape(), v, value)
}

// Tensor returns the tensor with the given ID, or an invalid one when no
// operation has that ID.
func (g *Graph) Tensor(id int) Tensor {
	if id < 0 || id >= len(g.nodes) {
		return Tensor{g, -1}
	}
	return Tensor{g, id}
}
