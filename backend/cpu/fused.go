package cpu

import (
	"fmt"
	"sync"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// chunk is the number of elements each node of a fused kernel computes at
// a time: small enough that every node's scratch stays in L1/L2, large
// enough that the per-chunk dispatch is amortised.
const chunk = 512

// fusedPlan is a fused kernel compiled for the CPU: its axes coalesced so
// the innermost loop is as long as possible, and scratch sets pooled per
// worker.
type fusedPlan struct {
	k       *kernel.Elementwise
	shape   []int   // coalesced output shape
	strides [][]int // per node: coalesced strides (loads only)
	rows    int     // product of all axes but the last
	inner   int     // length of the last axis
	consts  []any   // per node: a chunk filled with the constant, or nil
	scratch sync.Pool
}

// fusedCache shares compiled kernels between programs: equal structure,
// equal code.
var fusedCache sync.Map // key string -> *fusedPlan

func fusedKernel(k *kernel.Elementwise) (kernelFunc, error) {
	if err := k.Verify(); err != nil {
		return nil, err
	}
	for _, n := range k.Nodes {
		if n.Kind == kernel.Apply && !supportedApply(n, k) {
			return nil, fmt.Errorf("%w: fused %v on %v", backend.ErrUnsupported, n.Op, n.DType)
		}
	}
	key := k.Key()
	if p, ok := fusedCache.Load(key); ok {
		return p.(*fusedPlan).run, nil
	}
	p := compileFused(k)
	fusedCache.Store(key, p)
	return p.run, nil
}

func supportedApply(n kernel.Node, k *kernel.Elementwise) bool {
	in := k.Nodes[n.Args[0]].DType
	switch {
	case n.Op == op.Cast:
		return in != tensor.F16 && in != tensor.BF16
	case n.Op == op.Where:
		return k.Nodes[n.Args[0]].DType == tensor.Bool
	case n.Op.Has(op.Compare):
		return in != tensor.Bool || n.Op == op.Eq || n.Op == op.Ne
	case n.DType == tensor.F32 || n.DType == tensor.F64:
		return true
	case n.DType.IsInt():
		_, err := unaryInt[int32](n.Op)
		return n.Op.Has(op.Binary) && n.Op != op.Pow || err == nil
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
	p.consts = make([]any, len(k.Nodes))
	for i, n := range k.Nodes {
		if n.Kind == kernel.Const {
			a := tensor.MustZeros(n.DType, tensor.Shape{chunk})
			for j := 0; j < chunk; j++ {
				a.SetFlat(j, n.Value)
			}
			p.consts[i] = a.Data()
		}
	}
	p.scratch.New = func() any { return p.newScratch() }
	return p
}

// scratchSet holds one chunk buffer per node, and the odometer of the
// current row.
type scratchSet struct {
	bufs []any
	vals []any // per node: the slice holding its value for this chunk
	idx  []int
	err  error // first fault (integer division by zero)
}

func (p *fusedPlan) newScratch() *scratchSet {
	s := &scratchSet{bufs: make([]any, len(p.k.Nodes)), vals: make([]any, len(p.k.Nodes)), idx: make([]int, len(p.shape))}
	for i, n := range p.k.Nodes {
		if n.Kind != kernel.Const {
			s.bufs[i] = tensor.MustZeros(n.DType, tensor.Shape{chunk}).Data()
		}
	}
	return s
}

// run computes the kernel: work items are (row, chunk of the row) pairs,
// shared out across cores.
func (p *fusedPlan) run(in []*tensor.Array, out *tensor.Array) error {
	perRow := (p.inner + chunk - 1) / chunk
	items := p.rows * perRow
	var mu sync.Mutex
	var err error
	parallelFor(items, chunk*len(p.k.Nodes), func(lo, hi int) {
		s := p.scratch.Get().(*scratchSet)
		for it := lo; it < hi && s.err == nil; it++ {
			row, c := it/perRow, it%perRow
			j0 := c * chunk
			n := min(chunk, p.inner-j0)
			p.chunk(s, in, out, row, j0, n)
		}
		if s.err != nil {
			mu.Lock()
			err = s.err
			mu.Unlock()
			s.err = nil
		}
		p.scratch.Put(s)
	})
	return err
}

// chunk evaluates every node over elements [j0, j0+n) of one row.
func (p *fusedPlan) chunk(s *scratchSet, in []*tensor.Array, out *tensor.Array, row, j0, n int) {
	// Decompose the row number into the outer axes' indices.
	r := row
	for a := len(p.shape) - 2; a >= 0; a-- {
		s.idx[a] = r % p.shape[a]
		r /= p.shape[a]
	}
	last := len(p.k.Nodes) - 1
	outBase := row*p.inner + j0
	for i, nd := range p.k.Nodes {
		dst := s.bufs[i]
		if i == last {
			dst = sliceOf(out.Data(), outBase, n)
		}
		switch nd.Kind {
		case kernel.Const:
			s.vals[i] = sliceOf(p.consts[i], 0, n)
			if i == last {
				copyAny(dst, s.vals[i])
			}
		case kernel.Load:
			st := p.strides[i]
			base := nd.Offset + j0*st[len(st)-1]
			for a := 0; a < len(st)-1; a++ {
				base += s.idx[a] * st[a]
			}
			s.vals[i] = loadChunk(in[nd.Input].Data(), base, st[len(st)-1], n, dst, i == last)
		case kernel.Apply:
			v := sliceOf(dst, 0, n)
			if err := applyChunk(nd, s.vals, v); err != nil && s.err == nil {
				s.err = err
			}
			s.vals[i] = v
		}
	}
}

// sliceOf returns s[off:off+n] for any element slice type.
func sliceOf(s any, off, n int) any {
	switch d := s.(type) {
	case []float32:
		return d[off : off+n]
	case []float64:
		return d[off : off+n]
	case []int32:
		return d[off : off+n]
	case []int64:
		return d[off : off+n]
	case []bool:
		return d[off : off+n]
	case []uint16:
		return d[off : off+n]
	}
	panic(fmt.Sprintf("cpu: fused kernel: element slice %T", s))
}

func copyAny(dst, src any) {
	switch d := dst.(type) {
	case []float32:
		copy(d, src.([]float32))
	case []float64:
		copy(d, src.([]float64))
	case []int32:
		copy(d, src.([]int32))
	case []int64:
		copy(d, src.([]int64))
	case []bool:
		copy(d, src.([]bool))
	}
}

// loadChunk returns n elements of src from base by stride: a subslice when
// the walk is contiguous (no copy unless the load is the kernel's result),
// else gathered into dst.
func loadChunk(src any, base, stride, n int, dst any, store bool) any {
	switch s := src.(type) {
	case []float32:
		return gather(s, base, stride, n, dst.([]float32), store)
	case []float64:
		return gather(s, base, stride, n, dst.([]float64), store)
	case []int32:
		return gather(s, base, stride, n, dst.([]int32), store)
	case []int64:
		return gather(s, base, stride, n, dst.([]int64), store)
	case []bool:
		return gather(s, base, stride, n, dst.([]bool), store)
	}
	panic(fmt.Sprintf("cpu: fused kernel: input %T", src))
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

// applyChunk computes one elementwise node over a chunk, switching on the
// operation and dtypes once per chunk.
func applyChunk(nd kernel.Node, vals []any, dst any) error {
	a := vals[nd.Args[0]]
	switch {
	case nd.Op == op.Cast:
		castChunk(a, dst)
	case nd.Op == op.Where:
		whereChunk(a.([]bool), vals[nd.Args[1]], vals[nd.Args[2]], dst)
	case nd.Op.Has(op.Compare):
		compareChunk(nd.Op, a, vals[nd.Args[1]], dst.([]bool))
	case nd.Op.Has(op.Binary):
		switch d := dst.(type) {
		case []float32:
			binaryLoop(nd.Op, a.([]float32), vals[nd.Args[1]].([]float32), d)
		case []float64:
			binaryLoop(nd.Op, a.([]float64), vals[nd.Args[1]].([]float64), d)
		case []int32:
			return binaryLoop(nd.Op, a.([]int32), vals[nd.Args[1]].([]int32), d)
		case []int64:
			return binaryLoop(nd.Op, a.([]int64), vals[nd.Args[1]].([]int64), d)
		}
	default:
		switch d := dst.(type) {
		case []float32:
			unaryLoop(nd.Op, a.([]float32), d)
		case []float64:
			unaryLoop(nd.Op, a.([]float64), d)
		case []int32:
			f, _ := unaryInt[int32](nd.Op)
			f([]*tensor.Array{tensor.NewI32(a.([]int32), len(d))}, tensor.NewI32(d, len(d)))
		case []int64:
			f, _ := unaryInt[int64](nd.Op)
			f([]*tensor.Array{tensor.NewI64(a.([]int64), len(d))}, tensor.NewI64(d, len(d)))
		}
	}
	return nil
}

func whereChunk(c []bool, a, b, dst any) {
	switch d := dst.(type) {
	case []float32:
		whereLoop(c, a.([]float32), b.([]float32), d)
	case []float64:
		whereLoop(c, a.([]float64), b.([]float64), d)
	case []int32:
		whereLoop(c, a.([]int32), b.([]int32), d)
	case []int64:
		whereLoop(c, a.([]int64), b.([]int64), d)
	case []bool:
		whereLoop(c, a.([]bool), b.([]bool), d)
	}
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

func compareChunk(c op.Code, a, b any, y []bool) {
	wrap := func(x any) *tensor.Array {
		switch s := x.(type) {
		case []float32:
			return tensor.NewF32(s, len(s))
		case []float64:
			return tensor.NewF64(s, len(s))
		case []int32:
			return tensor.NewI32(s, len(s))
		case []int64:
			return tensor.NewI64(s, len(s))
		case []bool:
			arr, _ := tensor.FromBool(s, len(s))
			return arr
		}
		return nil
	}
	x := wrap(a)
	f, err := compareKernel(c, x.DType())
	if err != nil {
		return
	}
	out, _ := tensor.FromBool(y, len(y))
	f([]*tensor.Array{x, wrap(b)}, out)
}

func castChunk(a, dst any) {
	switch s := a.(type) {
	case []float32:
		castInto(s, dst)
	case []float64:
		castInto(s, dst)
	case []int32:
		castInto(s, dst)
	case []int64:
		castInto(s, dst)
	case []bool:
		switch d := dst.(type) {
		case []float32:
			boolTo(s, d)
		case []float64:
			boolTo(s, d)
		case []int32:
			boolTo(s, d)
		case []int64:
			boolTo(s, d)
		case []bool:
			copy(d, s)
		}
	}
}

func boolTo[T number](s []bool, d []T) {
	for i, v := range s {
		if v {
			d[i] = 1
		} else {
			d[i] = 0
		}
	}
}

func castInto[S number](s []S, dst any) {
	switch d := dst.(type) {
	case []float32:
		for i, v := range s {
			d[i] = float32(v)
		}
	case []float64:
		for i, v := range s {
			d[i] = float64(v)
		}
	case []int32:
		for i, v := range s {
			d[i] = int32(v)
		}
	case []int64:
		for i, v := range s {
			d[i] = int64(v)
		}
	case []bool:
		for i, v := range s {
			d[i] = v != 0
		}
	}
}
