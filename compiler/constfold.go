package compiler

import (
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// Evaluator computes one operation on host arrays; graph.Compile supplies
// one backed by the CPU kernels.
type Evaluator func(v Value, in []*tensor.Array) (*tensor.Array, error)

// ConstFold replaces operations whose operands are all constants by their
// value, computed once at compile time. Params, variables and placeholders
// are never folded (their values change between runs), and a result larger
// than MaxElements is left to run time so a huge constant is not
// materialised.
type ConstFold struct {
	Eval        Evaluator
	MaxElements int // default 1 << 16
}

// Name returns "constfold".
func (ConstFold) Name() string { return "constfold" }

// Run folds every foldable value.
func (c ConstFold) Run(f *Func) (*Func, bool, error) {
	if c.Eval == nil {
		return f, false, nil
	}
	limit := c.MaxElements
	if limit == 0 {
		limit = 1 << 16
	}
	f = f.Clone()
	subst := map[int]int{}
	n := len(f.Values)
	for id := 0; id < n; id++ {
		v := f.Values[id]
		if len(v.In) == 0 || v.Op.Has(op.Effect) || v.Shape.Size() > limit {
			continue
		}
		// Broadcasting a constant costs nothing at run time and folding it
		// would only grow the constant.
		if v.Op == op.Expand || v.Op == op.Reshape {
			continue
		}
		ins := make([]*tensor.Array, len(v.In))
		ok := true
		for i, in := range v.In {
			a := constArray(f, subst, in)
			if a == nil {
				ok = false
				break
			}
			ins[i] = a
		}
		if !ok {
			continue
		}
		out, err := c.Eval(v, ins)
		if err != nil {
			// Leave it for run time, where the same error will surface with
			// the step that caused it.
			continue
		}
		subst[id] = f.Add(Value{Op: op.Const, DType: v.DType, Shape: v.Shape.Clone(), Attrs: &op.Attrs{Value: out}})
	}
	if len(subst) == 0 {
		return f, false, nil
	}
	return f.rewrite(subst), true, nil
}

// constArray returns the host value of a constant, materialising a
// broadcast or reshape of one, or nil. Values folded earlier in the same
// pass (subst) count as constants.
func constArray(f *Func, subst map[int]int, id int) *tensor.Array {
	if s, ok := subst[id]; ok {
		id = s
	}
	v := f.Values[id]
	switch v.Op {
	case op.Const:
		return v.Attrs.Value
	case op.Reshape:
		if a := constArray(f, subst, v.In[0]); a != nil && a.Len() == v.Shape.Size() {
			r, err := a.Reshape(v.Shape...)
			if err == nil {
				return r
			}
		}
	case op.Expand:
		if a := constArray(f, subst, v.In[0]); a != nil && v.Shape.Size() <= 1<<16 {
			out := tensor.MustZeros(v.DType, v.Shape)
			st := a.Shape().Strides()
			idx := make([]int, len(v.Shape))
			for i, n := 0, out.Len(); i < n; i++ {
				off := 0
				for k := range idx {
					if a.Shape()[k] != 1 {
						off += idx[k] * st[k]
					}
				}
				out.SetFlat(i, a.Flat(off))
				for k := len(idx) - 1; k >= 0; k-- {
					if idx[k]++; idx[k] < v.Shape[k] {
						break
					}
					idx[k] = 0
				}
			}
			return out
		}
	}
	return nil
}
