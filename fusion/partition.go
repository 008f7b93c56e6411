package fusion

import (
	"fmt"
	"slices"

	"github.com/aethertensor/aether/compiler"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// Group is one launch of a fused schedule.
type Group struct {
	Value  int                 // the compiler value this launch computes
	Fused  *kernel.Elementwise // nil: run the value's own operation
	Reduce *kernel.Reduce      // a reduction with its prologue fused in
	// Epilogue: Value is computed by the matmul MatMul followed by this
	// elementwise tail, applied tile by tile inside the product.
	Epilogue *kernel.Epilogue
	MatMul   int
	Inputs   []int // Fused, Reduce or Epilogue: the values bound as inputs, in order
}

// Plan is a schedule of launches over a compiler.Func.
type Plan struct {
	Groups []Group
	// Stored[v] reports whether value v has a buffer of its own: leaves,
	// and every value a group computes. Other values live only inside
	// kernels.
	Stored []bool
}

// Kernels returns the number of fused kernels (elementwise and reduction)
// in the plan.
func (p *Plan) Kernels() int {
	n := 0
	for _, g := range p.Groups {
		if g.Fused != nil || g.Reduce != nil {
			n++
		}
	}
	return n
}

// trailingReduction reports whether value v reduces a run of trailing axes
// of its operand with sum, max or min, so its prologue can fuse into it;
// it returns the rows and the elements per row.
func trailingReduction(f *compiler.Func, v compiler.Value) (rows, n int, ok bool) {
	switch v.Op {
	case op.ReduceSum, op.ReduceMax, op.ReduceMin:
	default:
		return 0, 0, false
	}
	in := f.Values[v.In[0]].Shape
	axes := v.Attrs.Axes
	for k, a := range axes {
		if a != len(in)-len(axes)+k {
			return 0, 0, false
		}
	}
	n = 1
	for _, a := range axes {
		n *= in[a]
	}
	if n == 0 {
		return 0, 0, false
	}
	return in.Size() / n, n, true
}

// fusible reports whether a value can be computed inside an elementwise
// kernel.
func fusible(f *compiler.Func, caps Caps, v compiler.Value) bool {
	if isHalf(v.DType) {
		// Half storage moves in library kernels, except that on devices
		// with HalfLoads a kernel may read it through movement (a load)
		// and widen it; a stored half value is never a kernel's result.
		switch v.Op {
		case op.Reshape, op.Permute, op.Expand, op.Slice:
			return caps.HalfLoads
		}
		return false
	}
	switch v.Op {
	case op.Reshape, op.Permute, op.Expand, op.Slice:
		return true
	case op.Cast:
		// Rounding to a half type has no kernel IR node; it runs alone.
		// Widening from one (recorded as a cast to the operand's own half
		// type) is a load on devices with HalfLoads.
		if d := v.Attrs.DType; isHalf(d) {
			return caps.HalfLoads && f.Values[v.In[0]].DType == d
		}
	}
	return v.Op.Has(op.Elementwise)
}

func isHalf(d tensor.DType) bool { return d == tensor.F16 || d == tensor.BF16 }

// Partition groups f's values into launches. With fuse false every
// operation is its own launch (elementwise ones still run as kernels).
func Partition(f *compiler.Func, caps Caps, fuse bool) (*Plan, error) {
	n := len(f.Values)
	stored := make([]bool, n)
	users := make([][]int, n)
	reduces := make([]bool, n) // reductions that take a fused prologue
	for i, v := range f.Values {
		if v.Op.Has(op.Leaf) || !fusible(f, caps, v) || !fuse {
			stored[i] = true
		}
		if _, _, ok := trailingReduction(f, v); ok && fuse && caps.FuseReductions {
			reduces[i] = true
		}
		for _, in := range v.In {
			users[in] = append(users[in], i)
			if !fusible(f, caps, v) && !reduces[i] {
				stored[in] = true // library kernels and assignments read buffers
			}
		}
	}
	for _, o := range f.Outputs {
		stored[o] = true
	}
	p := &Plan{Stored: stored}
	isOut := make([]bool, n)
	for _, o := range f.Outputs {
		isOut[o] = true
	}
	// Matmul epilogues: the matmul and its tail live only inside the
	// launch that computes the tail's last value.
	absorbed := make([]int, n)
	for i := range absorbed {
		absorbed[i] = -1
	}
	epilogues := map[int]Group{}
	if fuse && caps.FuseEpilogues {
		for i := range f.Values {
			if grp, chain, ok := epilogue(f, users, isOut, i); ok {
				for _, c := range chain {
					absorbed[c] = grp.Value
					stored[c] = false
				}
				for _, in := range grp.Inputs {
					stored[in] = true
				}
				stored[grp.Value] = true
				epilogues[grp.Value] = grp
			}
		}
	}
	root := make([]int, n) // the stored value whose kernel computes each value; -1: several
	// Storing a value can change the cost of others, and a kernel over the
	// binding limit stores a part of itself; repeat until stable.
	for round := 0; ; round++ {
		if round > n+1 {
			return nil, fmt.Errorf("fusion: partition did not settle")
		}
		changed := false
		for i, v := range f.Values {
			// A reshape that merges or splits axes is affine only over
			// a buffer.
			if v.Op == op.Reshape && !stored[v.In[0]] && !unitReshape(f, i) {
				stored[v.In[0]], changed = true, true
			}
		}
		// Walk users before producers: a value all of whose users sit in
		// one kernel joins it for free; one whose users sit in several is
		// recomputed in each or stored once, whichever the cost model
		// prefers.
		for i := n - 1; i >= 0; i-- {
			if absorbed[i] >= 0 {
				root[i] = absorbed[i]
				continue
			}
			if stored[i] {
				root[i] = i
				continue
			}
			// A kernel computes a value once per index map it reads it
			// through: each movement user (a slice, a permutation) is a
			// map of its own, so a value read through 64 slices in one
			// kernel costs 64 computations there.
			kernels := map[int]bool{}
			multi, views := 0, 0
			direct := map[int]bool{}
			for _, u := range users[i] {
				switch {
				case root[u] < 0:
					multi++
				case f.Values[u].Op.Has(op.Movement):
					kernels[root[u]] = true
					views++
				default:
					kernels[root[u]] = true
					direct[root[u]] = true
				}
			}
			count := max(len(kernels), len(direct)+views) + multi
			switch {
			case count <= 1 && multi == 0:
				for k := range kernels {
					root[i] = k
				}
			case recomputeValue(f, caps, stored, i, count):
				root[i] = -1
			default:
				stored[i], changed = true, true
				root[i] = i
			}
		}
		if changed {
			continue
		}
		p.Groups = p.Groups[:0]
		for i, v := range f.Values {
			if !stored[i] || v.Op.Has(op.Leaf) || v.Op.Has(op.Effect) {
				continue
			}
			if grp, ok := epilogues[i]; ok {
				p.Groups = append(p.Groups, grp)
				continue
			}
			if reduces[i] && !stored[v.In[0]] {
				rows, cols, _ := trailingReduction(f, v)
				b := newBuilder(f, stored, i)
				b.k.Shape = f.Values[v.In[0]].Shape.Clone()
				b.node(v.In[0], identity(len(b.k.Shape)))
				if limit := caps.MaxBindings; limit > 0 && len(b.inputs)+1 > limit {
					if cut := b.widest(); cut >= 0 {
						stored[cut], changed = true, true
						break
					}
					stored[v.In[0]], changed = true, true
					break
				}
				r := &kernel.Reduce{Op: v.Op, Rows: rows, N: cols, Body: b.k}
				if err := r.Verify(); err != nil {
					return nil, fmt.Errorf("fusion: value %d: %w", i, err)
				}
				p.Groups = append(p.Groups, Group{Value: i, Reduce: r, Inputs: b.inputs})
				continue
			}
			if !fusible(f, caps, v) || isHalf(v.DType) || (v.Op == op.Reshape && stored[v.In[0]]) {
				p.Groups = append(p.Groups, Group{Value: i})
				continue
			}
			b := newBuilder(f, stored, i)
			b.node(i, identity(len(v.Shape)))
			if limit := caps.MaxBindings; limit > 0 && len(b.inputs)+1 > limit {
				cut := b.widest()
				if cut < 0 {
					return nil, fmt.Errorf("fusion: value %d (%v) reads %d buffers, over the limit of %d", i, v.Op, len(b.inputs), limit)
				}
				stored[cut], changed = true, true
				break
			}
			if err := b.k.Verify(); err != nil {
				return nil, fmt.Errorf("fusion: value %d: %w", i, err)
			}
			p.Groups = append(p.Groups, Group{Value: i, Fused: b.k, Inputs: b.inputs})
		}
		if !changed {
			if caps.FuseReduceEpilogues {
				reduceEpilogues(f, caps, p, reduces, isOut)
			}
			if caps.ChainReductions {
				chainReductions(f, caps, p, reduces, isOut)
			}
			return p, nil
		}
	}
}

// reduceEpilogues moves each elementwise kernel that reads a trailing
// reduction into that reduction as its epilogue, when the kernel is the
// reduction's only reader and spans the reduction's rows: the rows are
// then read while still in cache and the reduced value never reaches
// memory. A library reduction over a stored operand becomes a kernel whose
// body is the operand's load.
func reduceEpilogues(f *compiler.Func, caps Caps, p *Plan, reduces, isOut []bool) {
	mergeReductions(f, p, reduces, isOut, func(g Group, red *kernel.Reduce, rin []int, slot int) (*kernel.Reduce, []int, bool) {
		if g.Fused == nil {
			return nil, nil, false
		}
		merged, inputs, ok := attachEpilogue(red, rin, g.Fused, g.Inputs, slot)
		return merged, inputs, ok && fuseRows(caps, merged, inputs)
	})
}

// chainReductions moves a reduction into the later reduction kernel that
// is its only reader, as that kernel's Pre: a softmax's max and its sum of
// exponentials, or a layer norm's mean and variance, then share one pass
// over the rows.
func chainReductions(f *compiler.Func, caps Caps, p *Plan, reduces, isOut []bool) {
	mergeReductions(f, p, reduces, isOut, func(g Group, red *kernel.Reduce, rin []int, slot int) (*kernel.Reduce, []int, bool) {
		if g.Reduce == nil || red.Epilogue != nil || red.Pre != nil {
			return nil, nil, false
		}
		merged, inputs, ok := attachPre(red, rin, g.Reduce, g.Inputs, slot)
		return merged, inputs, ok && fuseRows(caps, merged, inputs)
	})
}

// mergeReductions offers each fused launch the trailing reductions that
// only it reads. merge gets the reduction as a kernel, the values that
// kernel binds and where the launch binds the reduction's result, and
// returns the launch computing both, which replaces the launch's group;
// the reduction's own launch is dropped. A library reduction over a
// stored operand is offered as a kernel whose body is the operand's load.
func mergeReductions(f *compiler.Func, p *Plan, reduces, isOut []bool, merge func(g Group, red *kernel.Reduce, rin []int, slot int) (*kernel.Reduce, []int, bool)) {
	readers := make([]int, len(f.Values))
	count := func(ins []int) {
		for k, in := range ins {
			if !slices.Contains(ins[:k], in) {
				readers[in]++
			}
		}
	}
	at := make(map[int]int, len(p.Groups)) // value -> its group
	for gi, g := range p.Groups {
		at[g.Value] = gi
		if g.Fused != nil || g.Reduce != nil || g.Epilogue != nil {
			count(g.Inputs)
		} else {
			count(f.Values[g.Value].In)
		}
	}
	for _, v := range f.Values {
		if v.Op.Has(op.Effect) {
			count(v.In)
		}
	}
	drop := make([]bool, len(p.Groups))
	for gi := range p.Groups {
		g := p.Groups[gi]
		if g.Fused == nil && g.Reduce == nil {
			continue
		}
		for slot, r := range g.Inputs {
			ri, ok := at[r]
			if !ok || drop[ri] || !reduces[r] || isOut[r] || readers[r] != 1 {
				continue
			}
			switch f.Values[r].DType {
			case tensor.F32, tensor.F64, tensor.I32, tensor.I64:
			default:
				continue // the dtypes a reduction kernel accumulates
			}
			red, rin := p.Groups[ri].Reduce, p.Groups[ri].Inputs
			if red == nil {
				red, rin = loadReduction(f, p.Stored, r)
			}
			merged, inputs, ok := merge(g, red, rin, slot)
			if !ok {
				continue
			}
			p.Groups[gi] = Group{Value: g.Value, Reduce: merged, Inputs: inputs}
			drop[ri] = true
			p.Stored[r] = false
			break
		}
	}
	groups := p.Groups[:0]
	for gi, g := range p.Groups {
		if !drop[gi] {
			groups = append(groups, g)
		}
	}
	p.Groups = groups
}

// attachPre returns reduction kernel red (binding rin, whose input res is
// reduction pre's result) with pre (binding pin) as its Pre, and the
// values the merged kernel binds: pre's, then red's others; ok is false
// when red does not read pre's result row by row over the same rows.
func attachPre(pre *kernel.Reduce, pin []int, red *kernel.Reduce, rin []int, res int) (*kernel.Reduce, []int, bool) {
	if pre.Rows != red.Rows || pre.N != red.N || len(pre.Body.Inputs) != len(pin) {
		return nil, nil, false
	}
	desc := red.Body.Inputs
	if red.Epilogue != nil {
		desc = red.Epilogue.Inputs
	}
	if len(desc) < len(rin) || desc[res] != (kernel.Input{DType: pre.Body.Out(), Len: pre.Rows}) {
		return nil, nil, false
	}
	inputs := slices.Clone(pin)
	ins := slices.Clone(pre.Body.Inputs)
	remap := make([]int, len(rin)+1) // and red's own result, after rin
	for j, v := range rin {
		if j == res {
			continue
		}
		k := slices.Index(inputs, v)
		if k < 0 {
			k = len(inputs)
			inputs = append(inputs, v)
			ins = append(ins, desc[j])
		}
		remap[j] = k
	}
	remap[res] = len(inputs)
	remap[len(rin)] = len(inputs) + 1
	ins = append(ins, desc[res])
	rebind := func(e *kernel.Elementwise, extra ...kernel.Input) *kernel.Elementwise {
		x := &kernel.Elementwise{Shape: e.Shape.Clone(), Inputs: append(slices.Clone(ins), extra...), Nodes: slices.Clone(e.Nodes)}
		for i := range x.Nodes {
			if x.Nodes[i].Kind == kernel.Load {
				x.Nodes[i].Input = remap[x.Nodes[i].Input]
			}
		}
		return x
	}
	merged := &kernel.Reduce{Op: red.Op, Rows: red.Rows, N: red.N, Body: rebind(red.Body), Pre: pre}
	if red.Epilogue != nil {
		merged.Epilogue = rebind(red.Epilogue, red.Epilogue.Inputs[len(rin)])
	}
	if merged.Verify() != nil {
		return nil, nil, false
	}
	return merged, inputs, true
}

// loadReduction returns reduction r over a stored operand as a kernel
// whose body loads the operand, with the values it binds.
func loadReduction(f *compiler.Func, stored []bool, r int) (*kernel.Reduce, []int) {
	v := f.Values[r]
	rows, cols, _ := trailingReduction(f, v)
	b := newBuilder(f, stored, r)
	b.k.Shape = f.Values[v.In[0]].Shape.Clone()
	b.node(v.In[0], identity(len(b.k.Shape)))
	return &kernel.Reduce{Op: v.Op, Rows: rows, N: cols, Body: b.k}, b.inputs
}

// attachEpilogue returns reduction red (binding rin) with the elementwise
// kernel e (binding ein, whose input res is red's result) as its epilogue,
// and the values the merged kernel binds; ok is false when e does not
// read the result row by row over red's index space.
func attachEpilogue(red *kernel.Reduce, rin []int, e *kernel.Elementwise, ein []int, res int) (*kernel.Reduce, []int, bool) {
	if red.Epilogue != nil || !e.Shape.Equal(red.Body.Shape) || len(red.Body.Inputs) != len(rin) {
		return nil, nil, false
	}
	if e.Inputs[res] != (kernel.Input{DType: red.Body.Out(), Len: red.Rows}) {
		return nil, nil, false
	}
	inputs := slices.Clone(rin)
	ins := slices.Clone(red.Body.Inputs)
	remap := make([]int, len(ein))
	for j, v := range ein {
		if j == res {
			continue
		}
		k := slices.Index(inputs, v)
		if k < 0 {
			k = len(inputs)
			inputs = append(inputs, v)
			ins = append(ins, e.Inputs[j])
		}
		remap[j] = k
	}
	remap[res] = len(inputs)
	epi := &kernel.Elementwise{Shape: e.Shape.Clone(), Inputs: append(ins, e.Inputs[res]), Nodes: slices.Clone(e.Nodes)}
	for i := range epi.Nodes {
		if epi.Nodes[i].Kind == kernel.Load {
			epi.Nodes[i].Input = remap[epi.Nodes[i].Input]
		}
	}
	merged := &kernel.Reduce{Op: red.Op, Rows: red.Rows, N: red.N, Body: red.Body, Epilogue: epi}
	if merged.Verify() != nil {
		return nil, nil, false
	}
	return merged, inputs, true
}

// recomputeValue reports whether value i is cheaper computed by each of
// its uses than stored once.
func recomputeValue(f *compiler.Func, caps Caps, stored []bool, i, uses int) bool {
	w, b := pulled(f, stored, i)
	return recompute(caps, f.Values[i].Shape.Size(), f.Values[i].DType.Size(), w, b, uses)
}

// pulled returns the operations per element of computing value i inside
// a kernel, counting every unstored operand it pulls in once (a kernel
// computes a shared operand once), and the bytes per element it reads
// from buffers, each buffer once. Visiting each value once keeps this
// linear in the size of the DAG, which error-free arithmetic (every
// value used two or three times) would otherwise make exponential.
func pulled(f *compiler.Func, stored []bool, i int) (work float64, bytes int) {
	seen := map[int]bool{}
	var walk func(int)
	walk = func(i int) {
		if seen[i] {
			return
		}
		seen[i] = true
		work += opCost(f.Values[i].Op)
		for _, in := range f.Values[i].In {
			if !stored[in] {
				walk(in)
			} else if !seen[in] {
				seen[in] = true
				bytes += f.Values[in].DType.Size()
			}
		}
	}
	walk(i)
	return work, bytes
}

// unitReshape reports whether reshape value i only inserts or removes
// axes of length 1, which keeps it an affine map of its operand.
func unitReshape(f *compiler.Func, i int) bool {
	a, b := squeeze(f.Values[f.Values[i].In[0]].Shape), squeeze(f.Values[i].Shape)
	return a.Equal(b)
}

func squeeze(s tensor.Shape) tensor.Shape {
	out := tensor.Shape{}
	for _, d := range s {
		if d != 1 {
			out = append(out, d)
		}
	}
	return out
}

// axisMap says which kernel axis indexes one axis of a value, and how:
// index = scale*kernelIndex[axis] + off (axis -1: index = off).
type axisMap struct{ axis, scale, off int }

func identity(r int) []axisMap {
	m := make([]axisMap, r)
	for i := range m {
		m[i] = axisMap{i, 1, 0}
	}
	return m
}

type builder struct {
	root   int
	f      *compiler.Func
	stored []bool
	k      *kernel.Elementwise
	inputs []int          // values bound as inputs
	slot   map[int]int    // value -> input index
	memo   map[string]int // (value, map) -> node
	seen   map[int]bool   // values the kernel computes or loads
	order  []int          // the same values in first-visit order
}

func newBuilder(f *compiler.Func, stored []bool, root int) *builder {
	return &builder{
		root: root, f: f, stored: stored,
		k:    &kernel.Elementwise{Shape: f.Values[root].Shape.Clone()},
		slot: map[int]int{},
		memo: map[string]int{},
		seen: map[int]bool{},
	}
}

// node appends the nodes computing value i at index map m and returns the
// last one.
func (b *builder) node(i int, m []axisMap) int {
	key := fmt.Sprint(i, m)
	if n, ok := b.memo[key]; ok {
		return n
	}
	if !b.seen[i] {
		b.seen[i] = true
		b.order = append(b.order, i)
	}
	v := b.f.Values[i]
	var n int
	switch c, ok := b.scalarConst(i); {
	case ok:
		n = b.add(kernel.Node{Kind: kernel.Const, DType: v.DType, Value: c})
	case b.stored[i] && i != b.root || v.Op.Has(op.Leaf):
		n = b.load(i, m)
	case v.Op == op.Permute:
		mx := make([]axisMap, len(m))
		for k, p := range v.Attrs.Perm {
			mx[p] = m[k]
		}
		n = b.node(v.In[0], mx)
	case v.Op == op.Expand:
		xs := b.f.Values[v.In[0]].Shape
		mx := make([]axisMap, len(m))
		for k := range m {
			mx[k] = m[k]
			if xs[k] == 1 {
				mx[k] = axisMap{-1, 0, 0}
			}
		}
		n = b.node(v.In[0], mx)
	case v.Op == op.Slice:
		mx := make([]axisMap, len(m))
		for k := range m {
			st := v.Attrs.Steps[k]
			mx[k] = axisMap{m[k].axis, m[k].scale * st, v.Attrs.Starts[k] + st*m[k].off}
		}
		n = b.node(v.In[0], mx)
	case v.Op == op.Reshape && b.stored[v.In[0]]:
		n = b.loadFlat(v.In[0], v.Shape, m)
	case v.Op == op.Reshape:
		xs := b.f.Values[v.In[0]].Shape
		var keep []axisMap
		for k, d := range v.Shape {
			if d != 1 {
				keep = append(keep, m[k])
			}
		}
		mx := make([]axisMap, len(xs))
		j := 0
		for k, d := range xs {
			if d == 1 {
				mx[k] = axisMap{-1, 0, 0}
			} else {
				mx[k] = keep[j]
				j++
			}
		}
		n = b.node(v.In[0], mx)
	default:
		args := make([]int, len(v.In))
		for a, in := range v.In {
			args[a] = b.node(in, m)
		}
		n = b.add(kernel.Node{Kind: kernel.Apply, DType: v.DType, Op: v.Op, Args: args})
	}
	b.memo[key] = n
	return n
}

// scalarConst reports whether value i is a one-element constant, possibly
// reshaped or broadcast, which a kernel inlines instead of binding.
func (b *builder) scalarConst(i int) (float64, bool) {
	if i == b.root {
		return 0, false
	}
	return scalarConst(b.f, i)
}

// scalarConst returns the value of a one-element constant that value i
// is, through reshapes and broadcasts.
func scalarConst(f *compiler.Func, i int) (float64, bool) {
	v := f.Values[i]
	for v.Op == op.Reshape || v.Op == op.Expand {
		i = v.In[0]
		v = f.Values[i]
	}
	if v.Op == op.Const && v.Attrs.Value.Len() == 1 {
		return v.Attrs.Value.Flat(0), true
	}
	return 0, false
}

func (b *builder) add(n kernel.Node) int {
	b.k.Nodes = append(b.k.Nodes, n)
	return len(b.k.Nodes) - 1
}

// load reads stored value i, whose axes the map m indexes.
func (b *builder) load(i int, m []axisMap) int {
	return b.loadFlat(i, b.f.Values[i].Shape, m)
}

// loadFlat reads stored value i through a row-major view of shape s (a
// reshape of i's bytes), whose axes m indexes.
func (b *builder) loadFlat(i int, s tensor.Shape, m []axisMap) int {
	in, ok := b.slot[i]
	if !ok {
		in = len(b.inputs)
		b.slot[i] = in
		b.inputs = append(b.inputs, i)
		v := b.f.Values[i]
		b.k.Inputs = append(b.k.Inputs, kernel.Input{DType: v.DType, Len: v.Shape.Size()})
	}
	strides := make([]int, len(b.k.Shape))
	off := 0
	cs := s.Strides()
	for k, a := range m {
		if a.axis >= 0 {
			strides[a.axis] += cs[k] * a.scale
		}
		off += cs[k] * a.off
	}
	return b.add(kernel.Node{Kind: kernel.Load, DType: b.f.Values[i].DType, Input: in, Strides: strides, Offset: off})
}

// widest returns the unstored value inside the kernel whose computation
// reads the most distinct buffers while leaving some out, or -1.
func (b *builder) widest() int {
	best, bestN := -1, 0
	total := len(b.inputs)
	for _, i := range b.order {
		if b.stored[i] || b.f.Values[i].Op.Has(op.Leaf) {
			continue
		}
		n := len(b.reads(i, map[int]bool{}))
		if n > bestN && n < total {
			best, bestN = i, n
		}
	}
	return best
}

// reads collects the stored values that value i's computation loads.
func (b *builder) reads(i int, acc map[int]bool) map[int]bool {
	for _, in := range b.f.Values[i].In {
		if b.stored[in] || b.f.Values[in].Op.Has(op.Leaf) {
			acc[in] = true
		} else {
			b.reads(in, acc)
		}
	}
	return acc
}

// epilogue recognises a float matmul m whose only use starts a tail of
// scaling by a constant, bias add, activation (relu, or x·sigmoid(x)) and
// residual add, each
// optional and each the sole use of the one before, none an output. It
// returns the launch computing the tail's last value and the values the
// launch absorbs (the matmul and the tail but its last value).
func epilogue(f *compiler.Func, users [][]int, isOut []bool, m int) (Group, []int, bool) {
	mv := f.Values[m]
	if mv.Op != op.MatMul || !mv.DType.IsFloat() || len(mv.Shape) < 2 {
		return Group{}, nil, false
	}
	ep := &kernel.Epilogue{}
	chain := []int{m}
	cur := m
	var bias, res = -1, -1
	only := func(v int) (int, bool) {
		if isOut[v] || len(users[v]) != 1 {
			return 0, false
		}
		return users[v][0], true
	}
	other := func(u, v int) int {
		in := f.Values[u].In
		if in[0] == v {
			return in[1]
		}
		return in[0]
	}
	ncols := mv.Shape[len(mv.Shape)-1]
	if u, ok := only(cur); ok && f.Values[u].Op == op.Mul {
		if c, ok := scalarConst(f, other(u, cur)); ok && other(u, cur) != cur {
			ep.Scaled, ep.Scale = true, c
			chain, cur = append(chain, u), u
		}
	}
	if u, ok := only(cur); ok && f.Values[u].Op == op.Add {
		if b := broadcastRow(f, other(u, cur), ncols); b >= 0 && b != cur {
			ep.Bias, bias = true, b
			chain, cur = append(chain, u), u
		}
	}
	if u, ok := only(cur); ok && f.Values[u].Op == op.Relu {
		ep.Act = kernel.ActReLU
		chain, cur = append(chain, u), u
	} else if !isOut[cur] && len(users[cur]) == 2 {
		// x·sigmoid(x): cur feeds a sigmoid and the product of the two.
		a, b := users[cur][0], users[cur][1]
		if f.Values[a].Op != op.Sigmoid {
			a, b = b, a
		}
		if f.Values[a].Op == op.Sigmoid && f.Values[b].Op == op.Mul && !isOut[a] && len(users[a]) == 1 && users[a][0] == b {
			if in := f.Values[b].In; (in[0] == cur && in[1] == a) || (in[0] == a && in[1] == cur) {
				ep.Act = kernel.ActSiLU
				chain, cur = append(chain, a, b), b
			}
		}
	}
	if u, ok := only(cur); ok && f.Values[u].Op == op.Add {
		if r := other(u, cur); r != cur && f.Values[r].Shape.Equal(mv.Shape) && f.Values[r].DType == mv.DType {
			ep.Residual, res = true, r
			chain, cur = append(chain, u), u
		}
	}
	if cur == m {
		return Group{}, nil, false
	}
	inputs := []int{mv.In[0], mv.In[1]}
	if ep.Bias {
		inputs = append(inputs, bias)
	}
	if ep.Residual {
		inputs = append(inputs, res)
	}
	return Group{Value: cur, Epilogue: ep, MatMul: m, Inputs: inputs}, chain[:len(chain)-1], true
}

// broadcastRow returns the vector of n values that value v broadcasts
// along its last axis (a reshape and expand of a [n] value), or -1.
func broadcastRow(f *compiler.Func, v, n int) int {
	for f.Values[v].Op == op.Expand || f.Values[v].Op == op.Reshape {
		s := f.Values[v].Shape
		if s[len(s)-1] != n {
			return -1
		}
		if f.Values[v].Op == op.Reshape {
			for _, d := range s[:len(s)-1] {
				if d != 1 {
					return -1
				}
			}
		}
		v = f.Values[v].In[0]
	}
	if s := f.Values[v].Shape; len(s) == 1 && s[0] == n {
		return v
	}
	return -1
}
