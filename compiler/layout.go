package compiler

import "github.com/aethertensor/aether/op"

// Layout chooses operand layouts for matrix products. A right operand
// that is the transpose of another value (a [n, k] weight of y = x·Wᵀ,
// or the keys of attention scores q·Kᵀ) would otherwise be copied into
// [k, n] order on every run; Layout drops the transpose and records in
// the MatMul that its operand is stored transposed (TransB), and whether
// it is constant (ConstB), so a backend can read it in place or repack it
// once. A right operand that is itself a constant is marked
// ConstB too: a backend packs it into its kernel's panel format on the
// first run instead of on every run. A right operand that is the leading
// rows (axis -2) of another value is read in place too (the MatMul's
// Attrs.Shape keeps its logical shape), and a run-time update (DynUpdate)
// of a leading slice of a value along the update's axis reads that value
// in place instead of a copy of the slice (a cache's attended prefix).
// Results are unchanged.
type Layout struct{}

// Name returns "layout".
func (Layout) Name() string { return "layout" }

// Run rewrites every matmul over a transposed operand, a leading slice of
// rows or a constant, and every DynUpdate of a leading slice.
func (Layout) Run(f *Func) (*Func, bool, error) {
	f = f.Clone()
	subst := map[int]int{}
	n := len(f.Values)
	for id := 0; id < n; id++ {
		v := f.Values[id]
		if v.Op == op.DynUpdate {
			if b := f.Values[v.In[0]]; b.Op == op.Slice && isPrefix(b, f.Values[b.In[0]].Shape, v.Attrs.Axis) {
				nv := v
				nv.In = []int{b.In[0], v.In[1], v.In[2]}
				subst[id] = f.Add(nv)
			}
			continue
		}
		if v.Op != op.MatMul {
			continue
		}
		a := op.Attrs{}
		if v.Attrs != nil {
			a = *v.Attrs
		}
		in := v.In[1]
		b := f.Values[in]
		switch {
		case b.Op == op.Const && !a.TransB && !a.ConstB:
			a.ConstB = true
		case b.Op == op.Permute && !a.TransB && a.Shape == nil && swapsLastTwo(b.Attrs.Perm):
			in = b.In[0]
			a.TransB, a.ConstB = true, f.Values[in].Op == op.Const
		}
		// A leading part of the rows as stored is read in place.
		if p := f.Values[in]; p.Op == op.Slice && a.Shape == nil && isPrefix(p, f.Values[p.In[0]].Shape, len(p.Shape)-2) {
			a.Shape = p.Shape.Clone()
			in = p.In[0]
			a.ConstB = f.Values[in].Op == op.Const
		}
		if in == v.In[1] && a.ConstB == (v.Attrs != nil && v.Attrs.ConstB) {
			continue
		}
		nv := v
		nv.In = []int{v.In[0], in}
		nv.Attrs = &a
		subst[id] = f.Add(nv)
	}
	if len(subst) == 0 {
		return f, false, nil
	}
	return f.rewrite(subst), true, nil
}

// isPrefix reports whether the slice v keeps the leading entries of its
// operand (of shape from) along axis and all of every other axis.
func isPrefix(v Value, from []int, axis int) bool {
	for i, st := range v.Attrs.Starts {
		if st != 0 || v.Attrs.Steps[i] != 1 || (i != axis && v.Shape[i] != from[i]) {
			return false
		}
	}
	return true
}

// swapsLastTwo reports whether perm is the identity but for its last two
// axes, which it swaps.
func swapsLastTwo(perm []int) bool {
	r := len(perm)
	if r < 2 || perm[r-2] != r-1 || perm[r-1] != r-2 {
		return false
	}
	for i := 0; i < r-2; i++ {
		if perm[i] != i {
			return false
		}
	}
	return true
}
