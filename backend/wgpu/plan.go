package wgpu

import (
	"fmt"
	"math"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/fusion"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/llm/quant"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/shaders"
	"github.com/aethertensor/aether/tensor"
)

// Operands a pass binds after its uniform block, besides the kernel's
// inputs (0, 1, ...).
const (
	argOut   = -1 // the kernel's output, bound read-write
	argDummy = -2 // a one-word placeholder for an unused binding
	argFault = -3 // the device's index-fault words (shaders/fault.wgsl)
)

// maxRank is the most axes the library kernels' uniform blocks describe.
const maxRank = 8

// pass is one dispatch of a kernel: a shader, its uniform words, the
// operands bound in order and the workgroup grid.
type pass struct {
	src    string   // complete WGSL
	meta   []uint32 // nil: the shader has no uniform block
	args   []int
	groups [3]uint32
}

// elemType returns the WGSL type a dtype is stored as on the device. I64
// is narrowed to i32 (indices and counts fit), booleans are u32 words.
func elemType(d tensor.DType) (string, error) {
	switch d {
	case tensor.F32:
		return "f32", nil
	case tensor.I32, tensor.I64:
		return "i32", nil
	case tensor.Bool:
		return "u32", nil
	case tensor.F16, tensor.BF16:
		// Storage only, two to a word: the half kernels (halfKernel) move
		// and convert them; nothing computes on them.
		return "u16", nil
	}
	return "", fmt.Errorf("%w: %v on webgpu (f32, i32, i64 stored as i32, bool, and f16/bf16 storage only)", backend.ErrUnsupported, d)
}

func isHalf(d tensor.DType) bool { return d == tensor.F16 || d == tensor.BF16 }

// byteLen returns the bytes an operand's values take on the device, not
// rounded up to a word.
func byteLen(d tensor.DType, n int) int {
	if isHalf(d) {
		return 2 * n
	}
	return 4 * n
}

// narrow returns a copy of an elementwise kernel with I64 values retyped
// as I32, the device's storage for them.
func narrow(k *kernel.Elementwise) *kernel.Elementwise {
	c := &kernel.Elementwise{Shape: k.Shape, Inputs: append([]kernel.Input(nil), k.Inputs...), Nodes: append([]kernel.Node(nil), k.Nodes...)}
	for i := range c.Inputs {
		if c.Inputs[i].DType == tensor.I64 {
			c.Inputs[i].DType = tensor.I32
		}
	}
	for i := range c.Nodes {
		if c.Nodes[i].DType == tensor.I64 {
			c.Nodes[i].DType = tensor.I32
		}
	}
	return c
}

// grid returns the workgroups for n invocations of 256 (or n workgroups
// when perGroup): x up to maxX, the rest in y.
func grid(n int, perGroup bool, maxX int) [3]uint32 {
	g := n
	if !perGroup {
		g = (n + 255) / 256
	}
	if g == 0 {
		return [3]uint32{}
	}
	x := min(g, maxX)
	return [3]uint32{uint32(x), uint32((g + x - 1) / x), 1}
}

// planner turns kernels into passes under the device's dispatch limit.
type planner struct {
	maxGroups int  // workgroups per grid dimension
	words16   bool // copies move two-byte elements (copy16)
}

// plan returns the dispatches that run k.
func (p planner) plan(k backend.Kernel) ([]pass, error) {
	for _, in := range k.In {
		if _, err := elemType(in.DType); err != nil {
			return nil, err
		}
	}
	if _, err := elemType(k.Out.DType); err != nil {
		return nil, err
	}
	if k.Reduce != nil {
		return p.fusedReduce(k.Reduce)
	}
	half := isHalf(k.Out.DType)
	for _, in := range k.In {
		half = half || isHalf(in.DType)
	}
	if half {
		if k.Fused != nil || k.Epilogue != nil {
			return nil, fmt.Errorf("%w: a fused kernel over f16/bf16 storage on webgpu", backend.ErrUnsupported)
		}
		switch k.Op {
		case op.Cast:
			return p.halfCast(k)
		case op.Reshape, op.Permute, op.Expand, op.Slice, op.DynSlice, op.AssignSlice, op.DynUpdate:
			p.words16 = true // and plan the copy as for 32-bit values
		default:
			return nil, fmt.Errorf("%w: %v on f16/bf16 storage on webgpu (movement and casts only)", backend.ErrUnsupported, k.Op)
		}
	}
	if k.Fused != nil {
		return p.elementwise(k.Fused)
	}
	c := k.Op
	a := k.Attrs
	if a == nil {
		a = &op.Attrs{}
	}
	if c == op.Cast && (a.DType == tensor.F16 || a.DType == tensor.BF16) {
		// Half types are storage: the value is rounded to the type and
		// stays f32 (the graph runs such a cast as a kernel of its own).
		if k.In[0].DType != tensor.F32 || k.Out.DType != tensor.F32 {
			return nil, fmt.Errorf("%w: cast of %v rounding to %v on webgpu", backend.ErrUnsupported, k.In[0].DType, a.DType)
		}
		kind := uint32(0)
		if a.DType == tensor.BF16 {
			kind = 1
		}
		n := k.Out.Shape.Size()
		return p.library("round_half", "u32", []uint32{u(n), kind}, []int{0, argOut}, n, false)
	}
	if c.Has(op.Elementwise) {
		return p.primitive(k)
	}
	out := k.Out.Shape
	switch c {
	case op.Reshape:
		n := out.Size()
		return p.copy(tensor.Shape{n}, view{0, []int{1}}, view{0, []int{1}}, nil)
	case op.Permute:
		ist := k.In[0].Shape.Strides()
		sv := view{st: make([]int, len(a.Perm))}
		for i, q := range a.Perm {
			sv.st[i] = ist[q]
		}
		return p.copy(out, sv, contiguous(out), nil)
	case op.Expand:
		in := k.In[0].Shape
		sv := contiguous(in)
		for i := range in {
			if in[i] == 1 && out[i] != 1 {
				sv.st[i] = 0
			}
		}
		return p.copy(out, sv, contiguous(out), nil)
	case op.Slice:
		return p.copy(out, sliceView(k.In[0].Shape, a.Starts, a.Steps), contiguous(out), nil)
	case op.Unslice:
		in := k.In[0].Shape
		return p.fillThen(out, 0, k.Out.DType, tensor.Shape(in), contiguous(in), sliceView(out, a.Starts, a.Steps), nil)
	case op.Pad:
		in := k.In[0].Shape
		starts, steps := make([]int, len(in)), make([]int, len(in))
		for i := range in {
			starts[i], steps[i] = a.Pads[i][0], 1
		}
		return p.fillThen(out, a.PadValue, k.Out.DType, in, contiguous(in), sliceView(out, starts, steps), nil)
	case op.Concat:
		var passes []pass
		off := 0
		for i, in := range k.In {
			starts, steps := make([]int, len(out)), make([]int, len(out))
			for j := range steps {
				steps[j] = 1
			}
			starts[a.Axis] = off
			off += in.Shape[a.Axis]
			ps, err := p.copy(in.Shape, contiguous(in.Shape), sliceView(out, starts, steps), nil)
			if err != nil {
				return nil, err
			}
			for j := range ps {
				ps[j].args[0] = i
			}
			passes = append(passes, ps...)
		}
		return passes, nil
	case op.DynSlice:
		in := k.In[0].Shape
		d := &dynamic{side: 1, stride: in.Strides()[a.Axis], lim: in[a.Axis] - out[a.Axis]}
		return p.copy(out, contiguous(in), contiguous(out), d)
	case op.DynUpdate:
		base, in := k.In[0].Shape, k.In[1].Shape
		if err := backend.CheckDynUpdate(base, in, out, a.Axis, a.InPlace); err != nil {
			return nil, err
		}
		var ps []pass // in place, the output is the base: only x is written
		var err error
		if !a.InPlace {
			if ps, err = p.copy(out, contiguous(base), contiguous(out), nil); err != nil {
				return nil, err
			}
		}
		d := &dynamic{side: 2, stride: out.Strides()[a.Axis], lim: out[a.Axis] - in[a.Axis]}
		xs, err := p.copy(in, contiguous(in), contiguous(out), d)
		if err != nil {
			return nil, err
		}
		for j := range xs {
			xs[j].args[0], xs[j].args[1] = 1, 2 // x, then its start
		}
		return append(ps, xs...), nil
	case op.DynUnslice, op.AssignSlice:
		in := k.In[0].Shape
		d := &dynamic{side: 2, stride: out.Strides()[a.Axis], lim: out[a.Axis] - in[a.Axis]}
		if c == op.AssignSlice {
			return p.copy(in, contiguous(in), contiguous(out), d)
		}
		return p.fillThen(out, 0, k.Out.DType, in, contiguous(in), contiguous(out), d)
	case op.ReduceSum, op.ReduceMax, op.ReduceMin:
		return p.reduce(c, k.In[0], a.Axes)
	case op.ArgMax:
		return p.axisKernel("argmax", k.In[0], a.Axis, 0)
	case op.Softmax, op.LogSoftmax:
		if k.In[0].DType != tensor.F32 {
			return nil, fmt.Errorf("%w: %v of %v on webgpu", backend.ErrUnsupported, c, k.In[0].DType)
		}
		log := uint32(0)
		if c == op.LogSoftmax {
			log = 1
		}
		return p.axisKernel("softmax", k.In[0], a.Axis, log)
	case op.MatMul:
		return p.matmul(k.In[0], k.In[1], a.TransB, a.Shape, k.Epilogue)
	case op.Gather:
		outer, d, inner := split(k.In[0].Shape, a.Axis)
		j := k.In[1].Shape.Size()
		return p.library("gather", "u32", []uint32{u(outer * j * inner), u(d), u(inner), u(j)}, []int{0, 1, argOut, argFault}, outer*j*inner, false)
	case op.ScatterAdd:
		elem, _ := elemType(k.Out.DType)
		outer, d, inner := split(out, a.Axis)
		j := k.In[1].Shape.Size()
		return p.library("scatter_add", elem, []uint32{u(outer * d * inner), u(d), u(inner), u(j)}, []int{0, 1, argOut, argFault}, outer*d*inner, false)
	case op.Unfold:
		in := k.In[0].Shape
		meta := windowMeta(out.Size(), in[2], in[3], out[2:], a.Window)
		meta = append(meta, fillBits(k.Out.DType, a.PadValue))
		return p.library("unfold", "u32", meta, []int{0, argOut}, out.Size(), false)
	case op.QMatMul:
		q := a.Quant
		n := k.In[0].Shape.Size() / q.Cols
		meta, err := quantMeta(q, n*q.Rows)
		if err != nil {
			return nil, err
		}
		if q8Kernel(quant.Type(q.Type)) {
			return p.library(q8Shader(quant.Type(q.Type)), "f32", append(meta, 0), []int{0, 1, argOut}, n*((q.Rows+q8Rows-1)/q8Rows), true)
		}
		return p.library("qmatmul", "f32", meta, []int{0, 1, argOut}, n*q.Rows, true)
	case op.QGather, op.QDequant:
		q := a.Quant
		meta, err := quantMeta(q, out.Size())
		if err != nil {
			return nil, err
		}
		if c == op.QGather {
			return p.library("qrows", "f32", append(meta, 1), []int{0, 1, argOut, argFault}, out.Size(), false)
		}
		return p.library("qrows", "f32", append(meta, 0), []int{0, argDummy, argOut, argFault}, out.Size(), false)
	case op.Fold:
		if k.Out.DType != tensor.F32 {
			return nil, fmt.Errorf("%w: fold of %v on webgpu", backend.ErrUnsupported, k.Out.DType)
		}
		in := k.In[0].Shape
		meta := windowMeta(out.Size(), out[2], out[3], in[2:], a.Window)
		return p.library("fold", "f32", meta, []int{0, argOut}, out.Size(), false)
	}
	return nil, fmt.Errorf("%w: %v on webgpu", backend.ErrUnsupported, c)
}

func u(v int) uint32 { return uint32(v) }

// quantMeta describes a weight in a GGUF block format to the qmatmul and
// qrows kernels: count, rows, cols, type and row bytes.
func quantMeta(q *tensor.Quantized, count int) ([]uint32, error) {
	t := quant.Type(q.Type)
	if !quantKernel(t) {
		return nil, fmt.Errorf("%w: %v weights on webgpu (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, IQ4_NL and Q2_K-Q6_K are)", backend.ErrUnsupported, t)
	}
	rb, err := quant.RowBytes(t, uint64(q.Cols))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", backend.ErrUnsupported, err)
	}
	return []uint32{u(count), u(q.Rows), u(q.Cols), q.Type, uint32(rb)}, nil
}

// split views a shape as (outer, n, inner) around one axis.
func split(s tensor.Shape, axis int) (outer, n, inner int) {
	outer, n, inner = 1, 1, 1
	for i, d := range s {
		switch {
		case i < axis:
			outer *= d
		case i == axis:
			n = d
		default:
			inner *= d
		}
	}
	return
}

// windowMeta describes an unfold or fold: count, image size, window
// positions [kh, kw, oh, ow] and the window's geometry.
func windowMeta(count, h, w int, kpos tensor.Shape, win op.Window) []uint32 {
	return []uint32{u(count), u(h), u(w), u(kpos[0]), u(kpos[1]), u(kpos[2]), u(kpos[3]),
		u(win.Stride[0]), u(win.Stride[1]), u(win.Padding[0]), u(win.Padding[1]), u(win.Dilation[0]), u(win.Dilation[1])}
}

// fillBits returns the stored word of value v in dtype d.
func fillBits(d tensor.DType, v float64) uint32 {
	switch d {
	case tensor.F32:
		return math.Float32bits(float32(v))
	case tensor.Bool:
		if v != 0 {
			return 1
		}
		return 0
	}
	return uint32(int32(v))
}

func (p planner) library(name, elem string, meta []uint32, args []int, n int, perGroup bool) ([]pass, error) {
	if n == 0 {
		return nil, nil
	}
	src, err := shaders.Source(name, elem)
	if err != nil {
		return nil, err
	}
	if len(meta) > shaders.MetaWords {
		return nil, fmt.Errorf("%w: %s needs %d parameter words", backend.ErrUnsupported, name, len(meta))
	}
	return []pass{{src: src, meta: meta, args: args, groups: grid(n, perGroup, p.maxGroups)}}, nil
}

// elementwise emits a fused kernel through the WGSL emitter.
func (p planner) elementwise(k *kernel.Elementwise) ([]pass, error) {
	n := k.Shape.Size()
	if n == 0 {
		return nil, nil
	}
	src, err := fusion.WGSL(narrow(k))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", backend.ErrUnsupported, err)
	}
	args := make([]int, len(k.Inputs)+1)
	for i := range k.Inputs {
		args[i] = i
	}
	args[len(k.Inputs)] = argOut
	return []pass{{src: src, args: args, groups: grid(n, false, p.maxGroups)}}, nil
}

// fusedReduce emits a reduction with its fused prologue (and epilogue)
// through the WGSL emitter: one workgroup per row.
func (p planner) fusedReduce(r *kernel.Reduce) ([]pass, error) {
	if r.Body == nil {
		return nil, fmt.Errorf("%w: a fused reduction without a body", backend.ErrUnsupported)
	}
	if r.Rows == 0 {
		return nil, nil
	}
	c := &kernel.Reduce{Op: r.Op, Rows: r.Rows, N: r.N, Body: narrow(r.Body)}
	inputs := len(r.Body.Inputs)
	if r.Epilogue != nil {
		c.Epilogue = narrow(r.Epilogue)
		inputs = len(r.Epilogue.Inputs) - 1
		if r.N == 0 {
			return nil, nil // the output is empty
		}
	}
	src, err := fusion.WGSLReduce(c)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", backend.ErrUnsupported, err)
	}
	args := make([]int, inputs+1)
	for i := range inputs {
		args[i] = i
	}
	args[inputs] = argOut
	return []pass{{src: src, args: args, groups: grid(r.Rows, true, p.maxGroups)}}, nil
}

// primitive runs one elementwise operation as a one-node fused kernel.
// The graph has already broadcast its operands to the output's shape.
func (p planner) primitive(k backend.Kernel) ([]pass, error) {
	shape := k.Out.Shape
	st := shape.Strides()
	e := &kernel.Elementwise{Shape: shape}
	args := make([]int, len(k.In))
	for i, in := range k.In {
		e.Inputs = append(e.Inputs, kernel.Input{DType: in.DType, Len: in.Shape.Size()})
		e.Nodes = append(e.Nodes, kernel.Node{Kind: kernel.Load, DType: in.DType, Input: i, Strides: st})
		args[i] = i
	}
	e.Nodes = append(e.Nodes, kernel.Node{Kind: kernel.Apply, DType: k.Out.DType, Op: k.Op, Args: args})
	return p.elementwise(e)
}

// view is an offset and a stride per axis, in elements.
type view struct {
	off int
	st  []int
}

func contiguous(s tensor.Shape) view { return view{0, s.Strides()} }

func sliceView(s tensor.Shape, starts, steps []int) view {
	v := contiguous(s)
	for i := range s {
		v.off += starts[i] * v.st[i]
		v.st[i] *= steps[i]
	}
	return v
}

// dynamic adds a run-time start (the kernel's input 1, clamped to [0, lim])
// times stride to the source (side 1) or destination (side 2) offset.
type dynamic struct {
	side, stride, lim int
}

// copy plans a strided copy of shape from input 0 into the output.
func (p planner) copy(shape tensor.Shape, src, dst view, d *dynamic) ([]pass, error) {
	if len(shape) > maxRank {
		return nil, fmt.Errorf("%w: movement over %d axes on webgpu (at most %d)", backend.ErrUnsupported, len(shape), maxRank)
	}
	meta := make([]uint32, 32)
	meta[0], meta[1] = u(shape.Size()), u(len(shape))
	meta[2], meta[3] = uint32(int32(src.off)), uint32(int32(dst.off))
	args := []int{0, argDummy, argOut}
	if d != nil {
		meta[4], meta[5], meta[6] = u(d.side), uint32(int32(d.stride)), u(max(d.lim, 0))
		args[1] = 1
	}
	for a, n := range shape {
		meta[8+a] = u(n)
		meta[16+a] = uint32(int32(src.st[a]))
		meta[24+a] = uint32(int32(dst.st[a]))
	}
	name := "copy"
	if p.words16 {
		name = "copy16"
	}
	return p.library(name, "u32", meta, args, shape.Size(), false)
}

// halfCast plans a conversion between f32 and f16/bf16 storage: widening
// (exact) or narrowing (round to nearest even, StoreAs).
func (p planner) halfCast(k backend.Kernel) ([]pass, error) {
	from, to := k.In[0].DType, k.Out.DType
	n := k.Out.Shape.Size()
	switch {
	case isHalf(from) && to == tensor.F32:
		kind := uint32(0)
		if from == tensor.BF16 {
			kind = 1
		}
		return p.library("half_cast", "u32", []uint32{u(n), kind, u(n)}, []int{0, argOut}, n, false)
	case from == tensor.F32 && isHalf(to):
		kind := uint32(2)
		if to == tensor.BF16 {
			kind = 3
		}
		words := (n + 1) / 2
		return p.library("half_cast", "u32", []uint32{u(words), kind, u(n)}, []int{0, argOut}, words, false)
	}
	return nil, fmt.Errorf("%w: cast of %v to %v on webgpu", backend.ErrUnsupported, from, to)
}

// fillThen fills the output with v, then copies input 0 into it.
func (p planner) fillThen(out tensor.Shape, v float64, d tensor.DType, shape tensor.Shape, src, dst view, dyn *dynamic) ([]pass, error) {
	fill, err := p.library("fill", "u32", []uint32{u(out.Size()), fillBits(d, v)}, []int{argOut}, out.Size(), false)
	if err != nil {
		return nil, err
	}
	cp, err := p.copy(shape, src, dst, dyn)
	return append(fill, cp...), err
}

// reduce plans a sum, max or min over axes: one workgroup per output.
func (p planner) reduce(c op.Code, in backend.Operand, axes []int) ([]pass, error) {
	elem, _ := elemType(in.DType)
	if elem == "u32" {
		return nil, fmt.Errorf("%w: %v of bool on webgpu", backend.ErrUnsupported, c)
	}
	if len(in.Shape) > maxRank {
		return nil, fmt.Errorf("%w: reduction over %d axes on webgpu", backend.ErrUnsupported, len(in.Shape))
	}
	red := make([]bool, len(in.Shape))
	for _, a := range axes {
		red[a] = true
	}
	st := in.Shape.Strides()
	meta := make([]uint32, 40)
	nout, nred, nk, nr := 1, 1, 0, 0
	for a, d := range in.Shape {
		if red[a] {
			meta[24+nr], meta[32+nr] = u(d), u(st[a])
			nr++
			nred *= d
		} else {
			meta[8+nk], meta[16+nk] = u(d), u(st[a])
			nk++
			nout *= d
		}
	}
	meta[0], meta[1], meta[2], meta[3] = u(nout), u(nred), u(nk), u(nr)
	var ident float64
	switch c {
	case op.ReduceMax:
		meta[4], ident = 1, math.Inf(-1)
	case op.ReduceMin:
		meta[4], ident = 2, math.Inf(1)
	}
	if elem == "f32" {
		meta[5] = math.Float32bits(float32(ident))
	} else {
		meta[5] = uint32(int32(max(min(ident, math.MaxInt32), math.MinInt32)))
	}
	return p.library("reduce", elem, meta, []int{0, argOut}, nout, true)
}

// axisKernel plans a kernel over rows along one axis (argmax, softmax):
// one workgroup per row.
func (p planner) axisKernel(name string, in backend.Operand, axis int, flag uint32) ([]pass, error) {
	elem, _ := elemType(in.DType)
	if elem == "u32" {
		return nil, fmt.Errorf("%w: %s of bool on webgpu", backend.ErrUnsupported, name)
	}
	outer, n, inner := split(in.Shape, axis)
	rows := outer * inner
	if n == 0 {
		rows = 0
	}
	return p.library(name, elem, []uint32{u(rows), u(n), u(inner), flag}, []int{0, argOut}, rows, true)
}

// matmul plans a batched product: 64×64 output tiles, batches in z, with
// a fused epilogue applied to each value as it leaves the registers.
// matmul plans C = A·B; a non-nil logical shape is B's leading rows of
// each batch item as stored (Layout's in-place prefix).
func (p planner) matmul(a, b backend.Operand, transB bool, logical tensor.Shape, ep *kernel.Epilogue) ([]pass, error) {
	elem, _ := elemType(a.DType)
	if elem == "u32" {
		return nil, fmt.Errorf("%w: matmul of bool on webgpu", backend.ErrUnsupported)
	}
	if ep != nil && elem != "f32" {
		return nil, fmt.Errorf("%w: matmul epilogue on %v on webgpu", backend.ErrUnsupported, a.DType)
	}
	r := len(a.Shape)
	lb, err := backend.MatMulB(b.Shape, logical)
	if err != nil {
		return nil, err
	}
	m, k, n := a.Shape[r-2], a.Shape[r-1], lb[r-1]
	if transB {
		n = lb[r-2]
	}
	batch := a.Shape[:r-2].Size()
	if batch*m*n == 0 {
		return nil, nil
	}
	if batch > p.maxGroups {
		return nil, fmt.Errorf("%w: matmul batch of %d on webgpu (at most %d)", backend.ErrUnsupported, batch, p.maxGroups)
	}
	tb := uint32(0)
	if transB {
		tb = 1
	}
	// The bias and residual follow the operands among the inputs.
	meta := []uint32{u(m), u(n), u(k), tb, 0, 0, 0, u(b.Shape[r-2] * b.Shape[r-1])}
	args := []int{0, 1, argOut, argDummy, argDummy}
	if ep != nil {
		if ep.Scaled {
			meta[4] |= 4
			meta[6] = math.Float32bits(float32(ep.Scale))
		}
		next := 2
		if ep.Bias {
			meta[4] |= 1
			args[3], next = next, next+1
		}
		if ep.Residual {
			meta[4] |= 2
			args[4] = next
		}
		switch ep.Act {
		case kernel.ActNone:
		case kernel.ActReLU:
			meta[5] = 1
		case kernel.ActSiLU:
			meta[5] = 2
		default:
			return nil, fmt.Errorf("%w: matmul epilogue activation %d on webgpu", backend.ErrUnsupported, ep.Act)
		}
	}
	ps, err := p.library("matmul", elem, meta, args, 1, true)
	if err != nil {
		return nil, err
	}
	ps[0].groups = [3]uint32{u((n + 63) / 64), u((m + 63) / 64), u(batch)}
	if int(ps[0].groups[0]) > p.maxGroups || int(ps[0].groups[1]) > p.maxGroups {
		return nil, fmt.Errorf("%w: matmul of %d×%d tiles on webgpu", backend.ErrUnsupported, m, n)
	}
	return ps, nil
}
