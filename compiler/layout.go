package compiler

import "github.com/aethertensor/aether/op"

// Layout chooses operand layouts for matrix products. A right operand
// that is the transpose of stored state (a constant, parameter or
// variable, as a [n, k] weight of y = x·Wᵀ is) would otherwise be copied
// into [k, n] order on every run; Layout drops the transpose and records
// in the MatMul that its operand is stored transposed (TransB), and
// whether it is constant (ConstB), so a backend can read it in place or
// repack it once. A right operand that is itself a constant is marked
// ConstB too: a backend packs it into its kernel's panel format on the
// first run instead of on every run. Results are unchanged.
type Layout struct{}

// Name returns "layout".
func (Layout) Name() string { return "layout" }

// Run rewrites every matmul over a transposed stored operand or a
// constant one.
func (Layout) Run(f *Func) (*Func, bool, error) {
	f = f.Clone()
	subst := map[int]int{}
	n := len(f.Values)
	for id := 0; id < n; id++ {
		v := f.Values[id]
		if v.Op != op.MatMul || (v.Attrs != nil && v.Attrs.TransB) {
			continue
		}
		b := f.Values[v.In[1]]
		if b.Op == op.Const && (v.Attrs == nil || !v.Attrs.ConstB) {
			a := op.Attrs{}
			if v.Attrs != nil {
				a = *v.Attrs
			}
			a.ConstB = true
			nv := v
			nv.Attrs = &a
			subst[id] = f.Add(nv)
			continue
		}
		if b.Op != op.Permute || !swapsLastTwo(b.Attrs.Perm) {
			continue
		}
		src := f.Values[b.In[0]]
		if src.Op != op.Const && src.Op != op.Param && src.Op != op.Variable {
			continue
		}
		a := op.Attrs{}
		if v.Attrs != nil {
			a = *v.Attrs
		}
		a.TransB, a.ConstB = true, src.Op == op.Const
		nv := v
		nv.In = []int{v.In[0], b.In[0]}
		nv.Attrs = &a
		subst[id] = f.Add(nv)
	}
	if len(subst) == 0 {
		return f, false, nil
	}
	return f.rewrite(subst), true, nil
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
