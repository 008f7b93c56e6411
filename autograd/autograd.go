package autograd

import (
	"errors"
	"fmt"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/op"
)

// Errors returned by Backward and Grad.
var (
	ErrNoRule = errors.New("autograd: no gradient rule")
	ErrSeed   = errors.New("autograd: bad seed")
	ErrInput  = errors.New("autograd: bad input")
)

// Grads holds the gradients of one output with respect to the tensors it
// depends on.
type Grads struct {
	y     graph.Tensor
	grads map[int]graph.Tensor
}

// Of returns the gradient of the output with respect to x, shaped like x.
// A float x the output does not depend on gets zeros; an integer or boolean
// x gets the invalid zero Tensor.
func (gs *Grads) Of(x graph.Tensor) graph.Tensor {
	if g, ok := gs.grads[x.ID()]; ok && x.Graph() == gs.y.Graph() {
		return g
	}
	if !x.Valid() || !x.DType().IsFloat() {
		return graph.Tensor{}
	}
	return x.Graph().Full(x.DType(), 0, x.Shape()...)
}

// Option configures Backward.
type Option func(*config)

type config struct{ seed graph.Tensor }

// Seed sets the gradient flowing into the output: required when the output
// is not a scalar, and shaped like it.
func Seed(s graph.Tensor) Option { return func(c *config) { c.seed = s } }

// Backward records the gradient of y with respect to everything y depends
// on, except constants. A non-scalar y needs a Seed.
func Backward(y graph.Tensor, opts ...Option) (*Grads, error) {
	return backward(y, nil, opts)
}

// Grad records the gradients of the scalar y with respect to xs, in order,
// visiting only the operations between them.
func Grad(y graph.Tensor, xs ...graph.Tensor) ([]graph.Tensor, error) {
	gs, err := backward(y, xs, nil)
	if err != nil {
		return nil, err
	}
	out := make([]graph.Tensor, len(xs))
	for i, x := range xs {
		if !x.DType().IsFloat() {
			return nil, fmt.Errorf("%w: input %d is %v, not differentiable", ErrInput, i, x.DType())
		}
		out[i] = gs.Of(x)
	}
	if err := y.Graph().Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func backward(y graph.Tensor, xs []graph.Tensor, opts []Option) (*Grads, error) {
	cfg := config{}
	for _, o := range opts {
		o(&cfg)
	}
	g := y.Graph()
	if g == nil {
		return nil, fmt.Errorf("%w: output is the zero Tensor", ErrInput)
	}
	if err := g.Err(); err != nil {
		return nil, err
	}
	if !y.DType().IsFloat() {
		return nil, fmt.Errorf("%w: output %v is not a float tensor", ErrInput, y)
	}
	for i, x := range xs {
		if x.Graph() != g || !x.Valid() {
			return nil, fmt.Errorf("%w: input %d is not a valid tensor of the output's graph", ErrInput, i)
		}
	}
	seed := cfg.seed
	switch {
	case seed.Graph() == nil:
		if y.Shape().Size() != 1 {
			return nil, fmt.Errorf("%w: output %v is not a scalar; pass autograd.Seed with its shape", ErrSeed, y.Shape())
		}
		seed = g.Full(y.DType(), 1, y.Shape()...)
	case seed.Graph() != g || !seed.Shape().Equal(y.Shape()) || seed.DType() != y.DType():
		return nil, fmt.Errorf("%w: seed %v for output %v", ErrSeed, seed, y)
	}

	// Ancestors of y, and which of them gradients must flow through.
	n := y.ID() + 1
	anc := make([]bool, n)
	anc[y.ID()] = true
	nodes := make([]graph.Tensor, n)
	for id := n - 1; id >= 0; id-- {
		if !anc[id] {
			continue
		}
		t := tensorAt(y, id)
		nodes[id] = t
		for _, in := range t.Inputs() {
			anc[in.ID()] = true
		}
	}
	wanted := make([]bool, n)
	for _, x := range xs {
		if x.ID() < n {
			wanted[x.ID()] = true
		}
	}
	live := make([]bool, n) // a gradient can reach a source from here
	for id := 0; id < n; id++ {
		if !anc[id] {
			continue
		}
		t := nodes[id]
		c := t.Op()
		if !t.DType().IsFloat() || c.Has(op.NoGradient) {
			continue
		}
		if xs != nil {
			live[id] = wanted[id]
		} else {
			live[id] = c == op.Param || c == op.Variable || c == op.Placeholder
		}
		for _, in := range t.Inputs() {
			live[id] = live[id] || live[in.ID()]
		}
	}

	acc := map[int][]graph.Tensor{y.ID(): {seed}}
	grads := map[int]graph.Tensor{}
	for id := n - 1; id >= 0; id-- {
		parts := acc[id]
		if !live[id] || len(parts) == 0 {
			continue
		}
		delete(acc, id)
		gy := parts[0]
		for _, p := range parts[1:] {
			gy = gy.Add(p)
		}
		grads[id] = gy
		t := nodes[id]
		if t.Op().Has(op.Leaf) {
			continue
		}
		ins := t.Inputs()
		need := make([]bool, len(ins))
		any := false
		for i, in := range ins {
			need[i] = live[in.ID()]
			any = any || need[i]
		}
		if !any {
			continue
		}
		rule, ok := rules[t.Op()]
		if !ok {
			return nil, fmt.Errorf("%w for %v", ErrNoRule, t.Op())
		}
		gin := rule(t, ins, gy, need)
		for i, gi := range gin {
			if need[i] && gi.Graph() != nil {
				acc[ins[i].ID()] = append(acc[ins[i].ID()], gi)
			}
		}
		if err := g.Err(); err != nil {
			return nil, fmt.Errorf("autograd: gradient of %v: %w", t.Op(), err)
		}
	}
	return &Grads{y: y, grads: grads}, nil
}

// tensorAt returns the tensor with the given id in y's graph.
func tensorAt(y graph.Tensor, id int) graph.Tensor { return y.Graph().Tensor(id) }

// HasRule reports whether op c has a gradient rule.
func HasRule(c op.Code) bool { _, ok := rules[c]; return ok }

// scalar returns a constant scalar of t's dtype.
func scalar(t graph.Tensor, v float64) graph.Tensor { return t.Graph().Scalar(t.DType(), v) }
