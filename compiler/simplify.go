package compiler

import (
	"math"

	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// Rule rewrites the value at id. It returns the index of an equivalent value
// (an existing one, or one it appended to f) and true, or false to leave the
// value alone. A rule must never change results, including for infinities
// and NaNs.
type Rule struct {
	Name    string
	Rewrite func(f *Func, id int) (int, bool)
}

// Simplify applies algebraic identities to every value, on any operand,
// not only constants.
type Simplify struct {
	// Rules defaults to SimplifyRules.
	Rules []Rule
}

// Name returns "simplify".
func (Simplify) Name() string { return "simplify" }

// SimplifyRules are the identities Simplify applies by default.
var SimplifyRules = []Rule{
	{"x+0", addZero},
	{"x-0", subZero},
	{"x*1", mulOne},
	{"x/1", divOne},
	{"x*0", mulZero},
	{"x-x", subSelf},
	{"neg(neg x)", negNeg},
	{"reshape(reshape x)", reshapeReshape},
	{"permute(permute x)", permutePermute},
	{"exp(log x)", expLog},
	{"cast(cast x)", castCast},
}

// Run applies the rules once over f.
func (s Simplify) Run(f *Func) (*Func, bool, error) {
	rules := s.Rules
	if rules == nil {
		rules = SimplifyRules
	}
	f = f.Clone()
	subst := map[int]int{}
	n := len(f.Values)
	for id := 0; id < n; id++ {
		for _, r := range rules {
			if to, ok := r.Rewrite(f, id); ok && to != id {
				subst[id] = to
				break
			}
		}
	}
	if len(subst) == 0 {
		return f, false, nil
	}
	return f.rewrite(subst), true, nil
}

// constant returns the single value every element of v holds, looking
// through broadcasts and reshapes of a constant.
func constant(f *Func, id int) (float64, bool) {
	v := f.Values[id]
	for v.Op == op.Expand || v.Op == op.Reshape {
		v = f.Values[v.In[0]]
	}
	if v.Op != op.Const || v.Attrs == nil || v.Attrs.Value == nil {
		return 0, false
	}
	a := v.Attrs.Value
	if a.Len() == 0 {
		return 0, false
	}
	x := a.Flat(0)
	for i, n := 1, a.Len(); i < n; i++ {
		if a.Flat(i) != x {
			return 0, false
		}
	}
	return x, true
}

func isConst(f *Func, id int, want float64) bool {
	x, ok := constant(f, id)
	return ok && x == want
}

// finite reports whether every element of value id is known to be finite.
func finite(f *Func, id int) bool {
	v := f.Values[id]
	if !v.DType.IsFloat() {
		return true
	}
	for v.Op == op.Expand || v.Op == op.Reshape {
		v = f.Values[v.In[0]]
	}
	if v.Op != op.Const || v.Attrs == nil || v.Attrs.Value == nil {
		switch v.Op {
		case op.Sigmoid, op.Tanh, op.Sin, op.Cos, op.Erf, op.Sign:
			return finite(f, v.In[0])
		}
		return false
	}
	a := v.Attrs.Value
	for i, n := 0, a.Len(); i < n; i++ {
		if x := a.Flat(i); math.IsInf(x, 0) || math.IsNaN(x) {
			return false
		}
	}
	return true
}

// same reports whether replacing value id by value x keeps dtype and shape.
func same(f *Func, id, x int) bool {
	a, b := f.Values[id], f.Values[x]
	return a.DType == b.DType && a.Shape.Equal(b.Shape)
}

// zeros appends a zero constant broadcast to value id's shape.
func zeros(f *Func, id int) int {
	v := f.Values[id]
	c := f.Add(Value{Op: op.Const, DType: v.DType, Attrs: &op.Attrs{Value: tensor.Scalar(v.DType, 0)}})
	if len(v.Shape) == 0 {
		return c
	}
	ones := make(tensor.Shape, len(v.Shape))
	for i := range ones {
		ones[i] = 1
	}
	r := f.Add(Value{Op: op.Reshape, In: []int{c}, DType: v.DType, Shape: ones, Attrs: &op.Attrs{Shape: ones}})
	if ones.Equal(v.Shape) {
		return r
	}
	return f.Add(Value{Op: op.Expand, In: []int{r}, DType: v.DType, Shape: v.Shape.Clone(), Attrs: &op.Attrs{Shape: v.Shape.Clone()}})
}

// addZero: x+0 → x and 0+x → x.
func addZero(f *Func, id int) (int, bool) {
	v := f.Values[id]
	if v.Op != op.Add {
		return 0, false
	}
	for k := 0; k < 2; k++ {
		if x := v.In[1-k]; isConst(f, v.In[k], 0) && same(f, id, x) {
			return x, true
		}
	}
	return 0, false
}

// subZero: x-0 → x.
func subZero(f *Func, id int) (int, bool) {
	v := f.Values[id]
	if v.Op == op.Sub && isConst(f, v.In[1], 0) && same(f, id, v.In[0]) {
		return v.In[0], true
	}
	return 0, false
}

// mulOne: x*1 → x and 1*x → x.
func mulOne(f *Func, id int) (int, bool) {
	v := f.Values[id]
	if v.Op != op.Mul {
		return 0, false
	}
	for k := 0; k < 2; k++ {
		if x := v.In[1-k]; isConst(f, v.In[k], 1) && same(f, id, x) {
			return x, true
		}
	}
	return 0, false
}

// divOne: x/1 → x.
func divOne(f *Func, id int) (int, bool) {
	v := f.Values[id]
	if v.Op == op.Div && isConst(f, v.In[1], 1) && same(f, id, v.In[0]) {
		return v.In[0], true
	}
	return 0, false
}

// mulZero: x*0 → 0 when x is known finite (inf*0 and NaN*0 are NaN). The
// sign of a zero product is not kept: -0 and +0 compare equal.
func mulZero(f *Func, id int) (int, bool) {
	v := f.Values[id]
	if v.Op != op.Mul {
		return 0, false
	}
	for k := 0; k < 2; k++ {
		if isConst(f, v.In[k], 0) && finite(f, v.In[1-k]) {
			return zeros(f, id), true
		}
	}
	return 0, false
}

// subSelf: x-x → 0 when x is known finite.
func subSelf(f *Func, id int) (int, bool) {
	v := f.Values[id]
	if v.Op == op.Sub && v.In[0] == v.In[1] && finite(f, v.In[0]) {
		return zeros(f, id), true
	}
	return 0, false
}

// negNeg: neg(neg x) → x.
func negNeg(f *Func, id int) (int, bool) {
	v := f.Values[id]
	if v.Op == op.Neg && f.Values[v.In[0]].Op == op.Neg {
		return f.Values[v.In[0]].In[0], true
	}
	return 0, false
}

// reshapeReshape: reshape(reshape x) → reshape x, or x when the shapes
// agree.
func reshapeReshape(f *Func, id int) (int, bool) {
	v := f.Values[id]
	if v.Op != op.Reshape || f.Values[v.In[0]].Op != op.Reshape {
		return 0, false
	}
	x := f.Values[v.In[0]].In[0]
	if same(f, id, x) {
		return x, true
	}
	nv := v
	nv.In = []int{x}
	return f.Add(nv), true
}

// permutePermute: permute(permute x) → one permute, or x when the two
// cancel.
func permutePermute(f *Func, id int) (int, bool) {
	v := f.Values[id]
	if v.Op != op.Permute || f.Values[v.In[0]].Op != op.Permute {
		return 0, false
	}
	inner := f.Values[v.In[0]]
	p := make([]int, len(v.Attrs.Perm))
	identity := true
	for i, a := range v.Attrs.Perm {
		p[i] = inner.Attrs.Perm[a]
		identity = identity && p[i] == i
	}
	x := inner.In[0]
	if identity {
		return x, true
	}
	return f.Add(Value{Op: op.Permute, In: []int{x}, DType: v.DType, Shape: v.Shape, Attrs: &op.Attrs{Perm: p}}), true
}

// expLog: exp(log x) → x where x is known positive (an exp, or a positive
// constant); elsewhere log of a negative is NaN and exp(log 0) is 0.
func expLog(f *Func, id int) (int, bool) {
	v := f.Values[id]
	if v.Op != op.Exp || f.Values[v.In[0]].Op != op.Log {
		return 0, false
	}
	x := f.Values[v.In[0]].In[0]
	pos := f.Values[x].Op == op.Exp
	if c, ok := constant(f, x); ok && c > 0 && !math.IsInf(c, 1) {
		pos = true
	}
	if !pos {
		return 0, false
	}
	return x, true
}

// castCast: cast(cast x) → x when the inner cast widens a float exactly
// (f32 → f64 → f32).
func castCast(f *Func, id int) (int, bool) {
	v := f.Values[id]
	if v.Op != op.Cast || f.Values[v.In[0]].Op != op.Cast {
		return 0, false
	}
	x := f.Values[v.In[0]].In[0]
	if f.Values[x].DType == tensor.F32 && f.Values[v.In[0]].DType == tensor.F64 && v.DType == tensor.F32 {
		return x, true
	}
	return 0, false
}
