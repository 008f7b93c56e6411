package compiler

import (
	"fmt"
	"io"
	"strings"

	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// Value is one SSA value: an operation over earlier values.
type Value struct {
	Op    op.Code
	In    []int
	DType tensor.DType
	Shape tensor.Shape
	Attrs *op.Attrs // nil when the operation has none
}

// Func is a program in SSA form. Values are in topological order: every
// input index is smaller than the value's own.
type Func struct {
	Values  []Value
	Outputs []int
}

// Add appends a value and returns its index.
func (f *Func) Add(v Value) int {
	f.Values = append(f.Values, v)
	return len(f.Values) - 1
}

// Uses returns, for each value, how many times it is used as an input or
// output.
func (f *Func) Uses() []int {
	u := make([]int, len(f.Values))
	for _, v := range f.Values {
		for _, in := range v.In {
			u[in]++
		}
	}
	for _, o := range f.Outputs {
		u[o]++
	}
	return u
}

// Clone returns a deep copy of the value list and outputs (attributes are
// shared: passes never modify them in place).
func (f *Func) Clone() *Func {
	g := &Func{Values: make([]Value, len(f.Values)), Outputs: append([]int(nil), f.Outputs...)}
	for i, v := range f.Values {
		v.In = append([]int(nil), v.In...)
		g.Values[i] = v
	}
	return g
}

// Verify checks the IR's invariants: inputs precede their users, arity
// matches the op table, and outputs exist.
func (f *Func) Verify() error {
	for i, v := range f.Values {
		info := v.Op.Info()
		if info.Name == "" {
			return fmt.Errorf("compiler: value %d has unknown op %d", i, v.Op)
		}
		if info.Arity >= 0 && len(v.In) != info.Arity {
			return fmt.Errorf("compiler: value %d (%v) has %d inputs, want %d", i, v.Op, len(v.In), info.Arity)
		}
		for _, in := range v.In {
			if in < 0 || in >= i {
				return fmt.Errorf("compiler: value %d (%v) uses %d, which does not precede it", i, v.Op, in)
			}
		}
	}
	for _, o := range f.Outputs {
		if o < 0 || o >= len(f.Values) {
			return fmt.Errorf("compiler: output %d out of range", o)
		}
	}
	return nil
}

// Print writes the IR, one value per line.
func (f *Func) Print(w io.Writer) {
	for i, v := range f.Values {
		in := make([]string, len(v.In))
		for j, x := range v.In {
			in[j] = fmt.Sprintf("%%%d", x)
		}
		extra := ""
		if v.Attrs != nil {
			switch {
			case v.Attrs.Name != "":
				extra = " " + v.Attrs.Name
			case v.Op == op.Const && v.Attrs.Value != nil && v.Attrs.Value.Len() <= 4:
				extra = " " + v.Attrs.Value.String()
			case len(v.Attrs.Axes) > 0:
				extra = fmt.Sprintf(" axes=%v", v.Attrs.Axes)
			case len(v.Attrs.Perm) > 0:
				extra = fmt.Sprintf(" perm=%v", v.Attrs.Perm)
			}
		}
		fmt.Fprintf(w, "%%%d = %v(%s) %v%v%s\n", i, v.Op, strings.Join(in, ", "), v.DType, v.Shape, extra)
	}
	out := make([]string, len(f.Outputs))
	for i, o := range f.Outputs {
		out[i] = fmt.Sprintf("%%%d", o)
	}
	fmt.Fprintf(w, "return %s\n", strings.Join(out, ", "))
}

// rewrite applies a substitution (value -> replacement, both old indices)
// and returns a compacted Func holding only what the outputs and effects
// need, in topological order. Each replacement must not depend on the value
// it replaces.
func (f *Func) rewrite(subst map[int]int) *Func {
	resolve := func(i int) int {
		for {
			j, ok := subst[i]
			if !ok || j == i {
				return i
			}
			i = j
		}
	}
	// Depth-first post-order from the outputs gives a topological order
	// even when replacements were appended after their users.
	newID := make([]int, len(f.Values))
	for i := range newID {
		newID[i] = -1
	}
	g := &Func{}
	type frame struct{ id, next int }
	var visit func(root int) int
	visit = func(root int) int {
		root = resolve(root)
		if newID[root] >= 0 {
			return newID[root]
		}
		stack := []frame{{root, 0}}
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			v := f.Values[top.id]
			if top.next < len(v.In) {
				in := resolve(v.In[top.next])
				top.next++
				if newID[in] < 0 {
					stack = append(stack, frame{in, 0})
				}
				continue
			}
			nv := v
			nv.In = make([]int, len(v.In))
			for k, in := range v.In {
				nv.In[k] = newID[resolve(in)]
			}
			newID[top.id] = g.Add(nv)
			stack = stack[:len(stack)-1]
		}
		return newID[root]
	}
	for _, o := range f.Outputs {
		g.Outputs = append(g.Outputs, visit(o))
	}
	return g
}
