package cpu

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/internal/asm/vec"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// chunk is the number of elements each node of a fused kernel computes at
// a time: small enough that a kernel's scratch stays in L2, large enough
// that the per-chunk dispatch is amortised (measured on BenchmarkChain8:
// 512 → 16 ms, 2048 → 11 ms, 8192 → 12 ms).
const chunk = 2048

// slot holds one node's values for a chunk, in the field of its dtype.
// Slices are set, never boxed, so evaluating a chunk allocates nothing.
type slot struct {
	f32 []float32
	f64 []float64
	i32 []int32
	i64 []int64
	b   []bool
	h   []uint16 // F16 or BF16 bits (loads only: they are widened at once)
	bf  bool     // h holds BF16
}

// slotOf views an array's elements [off, off+n) as a slot.
func slotOf(a *tensor.Array, off, n int) slot {
	switch a.DType() {
	case tensor.F32:
		return slot{f32: a.Float32s()[off : off+n]}
	case tensor.F64:
		return slot{f64: a.Float64s()[off : off+n]}
	case tensor.I32:
		return slot{i32: a.Int32s()[off : off+n]}
	case tensor.I64:
		return slot{i64: a.Int64s()[off : off+n]}
	case tensor.Bool:
		return slot{b: a.Bools()[off : off+n]}
	case tensor.F16, tensor.BF16:
		return slot{h: a.Bits()[off : off+n], bf: a.DType() == tensor.BF16}
	}
	return slot{}
}

func (s slot) head(n int) slot {
	switch {
	case s.f32 != nil:
		return slot{f32: s.f32[:n]}
	case s.f64 != nil:
		return slot{f64: s.f64[:n]}
	case s.i32 != nil:
		return slot{i32: s.i32[:n]}
	case s.i64 != nil:
		return slot{i64: s.i64[:n]}
	case s.h != nil:
		return slot{h: s.h[:n], bf: s.bf}
	}
	return slot{b: s.b[:n]}
}

// fusedPlan is a fused kernel compiled for the CPU: its axes coalesced so
// the innermost loop is as long as possible. Plans are shared between
// programs through fusedCache; all per-run state lives in fusedRun.
type fusedPlan struct {
	k       *kernel.Elementwise
	shape   []int   // coalesced output shape
	strides [][]int // per node: coalesced strides (loads only)
	rows    int     // product of all axes but the last
	inner   int     // length of the last axis
	consts  []slot  // per node: a chunk filled with the constant
	// Nodes share chunk buffers once a value is dead, so a long chain
	// touches a few L1-resident buffers instead of one per node.
	buf      []int          // per node: its scratch buffer, -1 for constants
	bufTypes []tensor.DType // per buffer
	vm       *vmProg        // the register-level program, nil if none
}

// fusedCache shares compiled kernels between programs: equal structure,
// equal code.
var fusedCache sync.Map // key string -> *fusedPlan

func fusedKernel(k *kernel.Elementwise) (kernelFunc, error) {
	p, err := planFor(k)
	if err != nil {
		return nil, err
	}
	return newFusedRun(p).launch, nil
}

// planFor returns the compiled plan of k, from the cache when an equal
// kernel was compiled before.
func planFor(k *kernel.Elementwise) (*fusedPlan, error) {
	if err := k.Verify(); err != nil {
		return nil, err
	}
	for _, n := range k.Nodes {
		if n.Kind == kernel.Apply && !supportedApply(n, k) {
			return nil, fmt.Errorf("%w: fused %v on %v", backend.ErrUnsupported, n.Op, n.DType)
		}
	}
	key := k.Key()
	p, ok := fusedCache.Load(key)
	if !ok {
		p, _ = fusedCache.LoadOrStore(key, compileFused(k))
	}
	return p.(*fusedPlan), nil
}

func supportedApply(n kernel.Node, k *kernel.Elementwise) bool {
	in := k.Nodes[n.Args[0]].DType
	if isHalf(n.DType) {
		return false
	}
	if isHalf(in) {
		return n.Op == op.Cast && n.DType == tensor.F32 // a half load, widened
	}
	switch {
	case n.Op == op.Cast:
		return true
	case n.Op == op.Where:
		return in == tensor.Bool
	case n.Op.Has(op.Compare):
		return in != tensor.Bool || n.Op == op.Eq || n.Op == op.Ne
	case n.DType == tensor.F32 || n.DType == tensor.F64:
		return true
	case n.DType.IsInt():
		switch n.Op {
		case op.Add, op.Sub, op.Mul, op.Div, op.Maximum, op.Minimum, op.Neg, op.Abs, op.Sign, op.Relu:
			return true
		}
	}
	return false
}

// compileFused merges adjacent output axes that every load walks
// contiguously (stride[a] == stride[a+1]*shape[a+1]), so a fully
// contiguous kernel runs as one long row.
func compileFused(k *kernel.Elementwise) *fusedPlan {
	shape := append([]int(nil), k.Shape...)
	if len(shape) == 0 {
		shape = []int{1}
	}
	strides := make([][]int, len(k.Nodes))
	for i, n := range k.Nodes {
		if n.Kind == kernel.Load {
			strides[i] = append([]int(nil), n.Strides...)
			if len(strides[i]) == 0 {
				strides[i] = []int{0}
			}
		}
	}
	outSt := tensor.Shape(shape).Strides()
	for a := len(shape) - 2; a >= 0; a-- {
		ok := outSt[a] == outSt[a+1]*shape[a+1]
		for _, st := range strides {
			if st != nil && st[a] != st[a+1]*shape[a+1] {
				ok = false
			}
		}
		if !ok {
			continue
		}
		shape[a] *= shape[a+1]
		shape = append(shape[:a+1], shape[a+2:]...)
		outSt = append(outSt[:a], outSt[a+1:]...)
		for i, st := range strides {
			if st != nil {
				strides[i] = append(st[:a], st[a+1:]...)
			}
		}
	}
	p := &fusedPlan{k: k, shape: shape, strides: strides, inner: shape[len(shape)-1], rows: 1}
	for _, d := range shape[:len(shape)-1] {
		p.rows *= d
	}
	p.assignBuffers()
	p.consts = make([]slot, len(k.Nodes))
	for i, n := range k.Nodes {
		if n.Kind == kernel.Const {
			a := tensor.MustZeros(n.DType, tensor.Shape{chunk})
			for j := 0; j < chunk; j++ {
				a.SetFlat(j, n.Value)
			}
			p.consts[i] = slotOf(a, 0, chunk)
		}
	}
	if vmRun != nil {
		p.vm = compileVM(p)
	}
	return p
}

// assignBuffers gives each non-constant node a chunk buffer, reusing the
// buffer of a value whose last use has passed or is this very node (every
// operation reads an element before writing the same element).
func (p *fusedPlan) assignBuffers() {
	nodes := p.k.Nodes
	last := make([]int, len(nodes))
	for i := range nodes {
		last[i] = i
		for _, a := range nodes[i].Args {
			last[a] = i
		}
	}
	p.buf = make([]int, len(nodes))
	free := map[tensor.DType][]int{}
	for i, n := range nodes {
		for _, a := range n.Args {
			if last[a] == i && p.buf[a] >= 0 && !slices.Contains(free[nodes[a].DType], p.buf[a]) {
				free[nodes[a].DType] = append(free[nodes[a].DType], p.buf[a])
			}
		}
		if n.Kind == kernel.Const {
			p.buf[i] = -1
			continue
		}
		if f := free[n.DType]; len(f) > 0 {
			p.buf[i], free[n.DType] = f[len(f)-1], f[:len(f)-1]
		} else {
			p.buf[i] = len(p.bufTypes)
			p.bufTypes = append(p.bufTypes, n.DType)
		}
		if last[i] == i && i != len(nodes)-1 { // unused value
			free[n.DType] = append(free[n.DType], p.buf[i])
		}
	}
}

// scratch is one worker's chunk buffers: one per node, and the values of
// the current chunk (views of inputs, constants or buffers).
type scratch struct {
	bufs []slot
	vals []slot
	idx  []int
	vm   *vmScratch
	err  error // first fault (integer division by zero)
}

// fusedRun is a plan bound to one launch site: its inputs and output for
// the current run and one scratch set per worker, all allocated once.
type fusedRun struct {
	p       *fusedPlan
	in      []*tensor.Array
	out     *tensor.Array
	perRow  int
	items   int
	chunks  int
	nt      bool // store the output with non-temporal writes
	scratch []*scratch
}

func newFusedRun(p *fusedPlan) *fusedRun {
	perRow := (p.inner + chunk - 1) / chunk
	r := &fusedRun{p: p, perRow: perRow, items: p.rows * perRow}
	r.chunks = chunksFor(r.items, chunk*len(p.k.Nodes))
	r.chunks = min(r.chunks, runtime.GOMAXPROCS(0))
	for c := 0; c < max(r.chunks, 1); c++ {
		s := &scratch{bufs: make([]slot, len(p.k.Nodes)), vals: make([]slot, len(p.k.Nodes)), idx: make([]int, len(p.shape))}
		shared := make([]slot, len(p.bufTypes))
		for b, d := range p.bufTypes {
			shared[b] = slotOf(tensor.MustZeros(d, tensor.Shape{chunk}), 0, chunk)
		}
		for i := range p.k.Nodes {
			if b := p.buf[i]; b >= 0 {
				s.bufs[i] = shared[b]
			}
		}
		if p.vm != nil {
			s.vm = newVMScratch(p)
		}
		r.scratch = append(r.scratch, s)
	}
	return r
}

// launch computes the kernel: work items are (row, chunk of the row)
// pairs, split into one contiguous range per worker.
func (r *fusedRun) launch(in []*tensor.Array, out *tensor.Array) error {
	r.in, r.out = in, out
	r.nt = out.DType().Size()*out.Len() >= ntBytes
	parallelChunks(r.chunks, r)
	r.in, r.out = nil, nil
	for _, s := range r.scratch {
		if s.err != nil {
			err := s.err
			for _, s := range r.scratch {
				s.err = nil
			}
			return err
		}
	}
	return nil
}

// run evaluates worker c's share of the work items.
func (r *fusedRun) run(c, _ int) {
	s := r.scratch[c]
	lo, hi := r.items*c/max(r.chunks, 1), r.items*(c+1)/max(r.chunks, 1)
	for it := lo; it < hi && s.err == nil; it++ {
		row, k := it/r.perRow, it%r.perRow
		j0 := k * chunk
		n := min(chunk, r.p.inner-j0)
		res := slotOf(r.out, row*r.p.inner+j0, n)
		if r.p.vm != nil && useVM && n >= vmBlock {
			done := r.chunkVM(s, row, j0, n)
			if done == n {
				continue
			}
			j0, n, res = j0+done, n-done, slot{f32: res.f32[done:]}
		}
		r.chunk(s, row, j0, n, res)
	}
}

// chunk evaluates every node over elements [j0, j0+n) of one row, the
// last into res.
func (r *fusedRun) chunk(s *scratch, row, j0, n int, res slot) {
	p := r.p
	r.setRow(s, row)
	last := len(p.k.Nodes) - 1
	for i, nd := range p.k.Nodes {
		dst := s.bufs[i]
		if i == last {
			dst = res
		}
		switch nd.Kind {
		case kernel.Const:
			s.vals[i] = p.consts[i].head(n)
			if i == last {
				copySlot(dst, s.vals[i])
			}
		case kernel.Load:
			st := p.strides[i]
			base := nd.Offset + j0*st[len(st)-1]
			for a := 0; a < len(st)-1; a++ {
				base += s.idx[a] * st[a]
			}
			s.vals[i] = loadSlot(r.in[nd.Input], base, st[len(st)-1], n, dst, i == last)
		case kernel.Apply:
			v := dst.head(n)
			if err := applySlot(nd, s.vals, v); err != nil && s.err == nil {
				s.err = err
			}
			s.vals[i] = v
		}
	}
}

// setRow puts the index of row's outer axes in s.idx.
func (r *fusedRun) setRow(s *scratch, row int) {
	for a := len(r.p.shape) - 2; a >= 0; a-- {
		s.idx[a] = row % r.p.shape[a]
		row /= r.p.shape[a]
	}
}

func copySlot(dst, src slot) {
	copy(dst.f32, src.f32)
	copy(dst.f64, src.f64)
	copy(dst.i32, src.i32)
	copy(dst.i64, src.i64)
	copy(dst.b, src.b)
	copy(dst.h, src.h)
}

// loadSlot returns n elements of src from base by stride: a view when the
// walk is contiguous (no copy unless the load is the kernel's result), else
// gathered into dst.
func loadSlot(src *tensor.Array, base, stride, n int, dst slot, store bool) slot {
	switch src.DType() {
	case tensor.F32:
		return slot{f32: gather(src.Float32s(), base, stride, n, dst.f32, store)}
	case tensor.F64:
		return slot{f64: gather(src.Float64s(), base, stride, n, dst.f64, store)}
	case tensor.I32:
		return slot{i32: gather(src.Int32s(), base, stride, n, dst.i32, store)}
	case tensor.I64:
		return slot{i64: gather(src.Int64s(), base, stride, n, dst.i64, store)}
	case tensor.F16, tensor.BF16:
		return slot{h: gather(src.Bits(), base, stride, n, dst.h, store), bf: src.DType() == tensor.BF16}
	}
	return slot{b: gather(src.Bools(), base, stride, n, dst.b, store)}
}

func gather[T any](src []T, base, stride, n int, dst []T, store bool) []T {
	if stride == 1 && !store {
		return src[base : base+n]
	}
	dst = dst[:n]
	switch stride {
	case 1:
		copy(dst, src[base:base+n])
	case 0:
		v := src[base]
		for j := range dst {
			dst[j] = v
		}
	default:
		for j := range dst {
			dst[j] = src[base+j*stride]
		}
	}
	return dst
}

// applySlot computes one elementwise node over a chunk, switching on the
// operation and dtypes once per chunk.
func applySlot(nd kernel.Node, vals []slot, dst slot) error {
	a := vals[nd.Args[0]]
	switch {
	case nd.Op == op.Cast:
		castSlot(a, dst)
	case nd.Op == op.Where:
		b, c := vals[nd.Args[1]], vals[nd.Args[2]]
		whereF32(a.b, b.f32, c.f32, dst.f32)
		whereLoop(a.b, b.f64, c.f64, dst.f64)
		whereLoop(a.b, b.i32, c.i32, dst.i32)
		whereLoop(a.b, b.i64, c.i64, dst.i64)
		whereLoop(a.b, b.b, c.b, dst.b)
	case nd.Op.Has(op.Compare):
		b := vals[nd.Args[1]]
		switch {
		case a.f32 != nil:
			compareLoop(nd.Op, a.f32, b.f32, dst.b)
		case a.f64 != nil:
			compareLoop(nd.Op, a.f64, b.f64, dst.b)
		case a.i32 != nil:
			compareLoop(nd.Op, a.i32, b.i32, dst.b)
		case a.i64 != nil:
			compareLoop(nd.Op, a.i64, b.i64, dst.b)
		default:
			for i := range dst.b {
				dst.b[i] = (a.b[i] == b.b[i]) == (nd.Op == op.Eq)
			}
		}
	case nd.Op.Has(op.Binary):
		b := vals[nd.Args[1]]
		switch {
		case dst.f32 != nil:
			return binaryLoop(nd.Op, a.f32, b.f32, dst.f32)
		case dst.f64 != nil:
			return binaryLoop(nd.Op, a.f64, b.f64, dst.f64)
		case dst.i32 != nil:
			return binaryLoop(nd.Op, a.i32, b.i32, dst.i32)
		case dst.i64 != nil:
			return binaryLoop(nd.Op, a.i64, b.i64, dst.i64)
		}
	default:
		switch {
		case dst.f32 != nil:
			unaryLoop(nd.Op, a.f32, dst.f32)
		case dst.f64 != nil:
			unaryLoop(nd.Op, a.f64, dst.f64)
		case dst.i32 != nil:
			intUnaryLoop(nd.Op, a.i32, dst.i32)
		case dst.i64 != nil:
			intUnaryLoop(nd.Op, a.i64, dst.i64)
		}
	}
	return nil
}

// whereF32 is whereLoop with the vector select for whole blocks.
func whereF32(c []bool, a, b, y []float32) {
	done := 0
	if useVec && len(y) >= 32 {
		done = vec.WhereF32(y, a, b, c)
	}
	whereLoop(c[done:], a[done:], b[done:], y[done:])
}

func whereLoop[T any](c []bool, a, b, y []T) {
	for i := range y {
		if c[i] {
			y[i] = a[i]
		} else {
			y[i] = b[i]
		}
	}
}

func castSlot(a, dst slot) {
	switch {
	case a.h != nil:
		if a.bf {
			bf16ToF32s(dst.f32, a.h)
		} else {
			f16ToF32s(dst.f32, a.h)
		}
	case a.f32 != nil:
		castTyped(a.f32, dst)
	case a.f64 != nil:
		castTyped(a.f64, dst)
	case a.i32 != nil:
		castTyped(a.i32, dst)
	case a.i64 != nil:
		castTyped(a.i64, dst)
	default:
		boolTo(a.b, dst.f32)
		boolTo(a.b, dst.f64)
		boolTo(a.b, dst.i32)
		boolTo(a.b, dst.i64)
		copy(dst.b, a.b)
	}
}

func castTyped[S number](s []S, d slot) {
	switch {
	case d.f32 != nil:
		for i, v := range s {
			d.f32[i] = float32(v)
		}
	case d.f64 != nil:
		for i, v := range s {
			d.f64[i] = float64(v)
		}
	case d.i32 != nil:
		for i, v := range s {
			d.i32[i] = int32(v)
		}
	case d.i64 != nil:
		for i, v := range s {
			d.i64[i] = int64(v)
		}
	default:
		for i, v := range s {
			d.b[i] = v != 0
		}
	}
}

func boolTo[T number](s []bool, d []T) {
	for i := range d {
		if s[i] {
			d[i] = 1
		} else {
			d[i] = 0
		}
	}
}
