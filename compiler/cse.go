package compiler

import (
	"fmt"
	"math"
	"strings"

	"github.com/aethertensor/aether/op"
)

// CSE merges values that are structurally equal: the same operation,
// attributes, dtype, shape and operands in the same order (so a-b and b-a
// stay distinct). Effects are never merged. Each merge can expose another,
// so it repeats until nothing merges.
type CSE struct {
	// MaxConstCompare is the largest constant (in elements) compared by
	// value; larger constants are equal only to themselves. Default 4096.
	MaxConstCompare int
}

// Name returns "cse".
func (CSE) Name() string { return "cse" }

// Run merges duplicates.
func (c CSE) Run(f *Func) (*Func, bool, error) {
	limit := c.MaxConstCompare
	if limit == 0 {
		limit = 4096
	}
	changed := false
	for {
		subst := map[int]int{}
		seen := map[string]int{}
		var b strings.Builder
		for i, v := range f.Values {
			if v.Op.Has(op.Effect) {
				continue
			}
			b.Reset()
			fmt.Fprintf(&b, "%d|%v|%v|", v.Op, v.DType, v.Shape)
			for _, in := range v.In {
				if s, ok := subst[in]; ok {
					in = s
				}
				fmt.Fprintf(&b, "%d,", in)
			}
			if !attrKey(&b, v, limit, i) {
				continue
			}
			k := b.String()
			if j, ok := seen[k]; ok {
				subst[i] = j
			} else {
				seen[k] = i
			}
		}
		if len(subst) == 0 {
			return f, changed, nil
		}
		f, changed = f.rewrite(subst), true
	}
}

// attrKey appends the attributes that identify v; it reports false for
// values that must stay unique.
func attrKey(b *strings.Builder, v Value, limit, id int) bool {
	a := v.Attrs
	if a == nil {
		return true
	}
	fmt.Fprintf(b, "|%q|%v|%v|%d|%v|%v|%v|%v|%v|%v|%v|%v|%v|%v|%v", a.Name, a.DType, a.Axes, a.Axis, a.KeepDims, a.Perm, a.Shape, a.Starts, a.Steps, a.Pads, math.Float64bits(a.PadValue), a.Window, a.TransB, a.ConstB, a.InPlace)
	if a.Quant != nil {
		fmt.Fprintf(b, "|quant%p", a.Quant)
	}
	if a.Value != nil {
		if a.Value.Len() > limit {
			fmt.Fprintf(b, "|const#%d", id)
			return true
		}
		fmt.Fprintf(b, "|%v|", a.Value.DType())
		if ints := a.Value.Int64s(); ints != nil { // exact beyond 2^53
			fmt.Fprint(b, ints)
			return true
		}
		for i, n := 0, a.Value.Len(); i < n; i++ {
			fmt.Fprintf(b, "%x,", math.Float64bits(a.Value.Flat(i)))
		}
	}
	return true
}
