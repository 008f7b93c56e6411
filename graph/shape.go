package graph

import (
	"math"

	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// Reshape returns t with a new shape of the same size. One dimension may be
// -1, inferred from the others.
func (t Tensor) Reshape(shape ...int) Tensor {
	g, ok := check("reshape", t)
	if !ok {
		return Tensor{g, -1}
	}
	s := tensor.Shape(shape).Clone()
	infer, known := -1, 1
	for i, d := range s {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d < 0:
			return g.fail("reshape", errorf(ErrShape, "bad target %v", tensor.Shape(shape)))
		default:
			known *= d
		}
	}
	size := t.Shape().Size()
	if infer >= 0 {
		if known == 0 || size%known != 0 {
			return g.fail("reshape", errorf(ErrShape, "cannot reshape %v to %v", t.Shape(), tensor.Shape(shape)))
		}
		s[infer] = size / known
	}
	if s.Size() != size {
		return g.fail("reshape", errorf(ErrShape, "cannot reshape %v (%d elements) to %v", t.Shape(), size, tensor.Shape(shape)))
	}
	if s.Equal(t.Shape()) {
		return t
	}
	return g.add(op.Reshape, &op.Attrs{Shape: s}, t.DType(), s, t)
}

// Flatten returns t as a vector.
func (t Tensor) Flatten() Tensor { return t.Reshape(-1) }

// Unsqueeze inserts an axis of length 1 at position axis (negative counts
// from the end of the result).
func (t Tensor) Unsqueeze(axis int) Tensor {
	if !t.Valid() {
		return t
	}
	a, ok := normAxis(axis, t.Rank()+1)
	if !ok {
		return t.g.fail("unsqueeze", errorf(ErrShape, "axis %d for shape %v", axis, t.Shape()))
	}
	s := append(append(t.Shape()[:a:a].Clone(), 1), t.Shape()[a:]...)
	return t.Reshape(s...)
}

// Squeeze removes the given axes, which must have length 1.
func (t Tensor) Squeeze(axes ...int) Tensor {
	if !t.Valid() {
		return t
	}
	ax, ok := normAxes(axes, t.Rank())
	if !ok {
		return t.g.fail("squeeze", errorf(ErrShape, "axes %v for shape %v", axes, t.Shape()))
	}
	for _, a := range ax {
		if t.Shape()[a] != 1 {
			return t.g.fail("squeeze", errorf(ErrShape, "axis %d of %v is not 1", a, t.Shape()))
		}
	}
	return t.Reshape(reducedShape(t.Shape(), ax, false)...)
}

// Permute reorders the axes: axis i of the result is axis perm[i] of t.
func (t Tensor) Permute(perm ...int) Tensor {
	g, ok := check("permute", t)
	if !ok {
		return Tensor{g, -1}
	}
	if len(perm) != t.Rank() {
		return g.fail("permute", errorf(ErrShape, "permutation %v for shape %v", perm, t.Shape()))
	}
	p := make([]int, len(perm))
	seen := make([]bool, len(perm))
	identity := true
	s := make(tensor.Shape, len(perm))
	for i, a := range perm {
		n, ok := normAxis(a, t.Rank())
		if !ok || seen[n] {
			return g.fail("permute", errorf(ErrShape, "permutation %v for shape %v", perm, t.Shape()))
		}
		seen[n] = true
		p[i] = n
		s[i] = t.Shape()[n]
		identity = identity && n == i
	}
	if identity {
		return t
	}
	return g.add(op.Permute, &op.Attrs{Perm: p}, t.DType(), s, t)
}

// Transpose swaps the last two axes.
func (t Tensor) Transpose() Tensor {
	r := t.Rank()
	if !t.Valid() || r < 2 {
		if t.Valid() {
			return t.g.fail("transpose", errorf(ErrShape, "shape %v has fewer than two axes", t.Shape()))
		}
		return t
	}
	p := make([]int, r)
	for i := range p {
		p[i] = i
	}
	p[r-2], p[r-1] = r-1, r-2
	return t.Permute(p...)
}

// Expand broadcasts t to shape, NumPy style: leading axes may be added and
// axes of length 1 may grow.
func (t Tensor) Expand(shape ...int) Tensor {
	g, ok := check("expand", t)
	if !ok {
		return Tensor{g, -1}
	}
	s := tensor.Shape(shape).Clone()
	for _, d := range s {
		// Broadcast lets an axis of length 1 take any length, even a
		// negative one.
		if d < 0 {
			return g.fail("expand", errorf(ErrShape, "negative dimension in %v", s))
		}
	}
	if b, ok := tensor.Broadcast(t.Shape(), s); !ok || !b.Equal(s) {
		return g.fail("expand", errorf(ErrShape, "cannot broadcast %v to %v", t.Shape(), s))
	}
	if t.Rank() < len(s) {
		rs := make([]int, len(s))
		for i := range rs {
			rs[i] = 1
		}
		copy(rs[len(s)-t.Rank():], t.Shape())
		t = t.Reshape(rs...)
	}
	if t.Shape().Equal(s) {
		return t
	}
	return g.add(op.Expand, &op.Attrs{Shape: s}, t.DType(), s, t)
}

// Range selects indices Start, Start+Step, ... before Stop along one axis,
// with Python's rules: negative indices count from the end, bounds clamp,
// Step may be negative (0 means 1). Use math.MaxInt or math.MinInt for an
// open end.
type Range struct{ Start, Stop, Step int }

// All selects a whole axis.
var All = Range{0, math.MaxInt, 1}

// resolve returns the first index and the count of r over an axis of n.
func (r Range) resolve(n int) (start, step, count int) {
	step = r.Step
	if step == 0 {
		step = 1
	}
	clamp := func(i, lo, hi int) int {
		if i < 0 {
			if i < -n {
				return lo
			}
			i += n
		}
		return min(max(i, lo), hi)
	}
	if step > 0 {
		start = clamp(r.Start, 0, n)
		stop := clamp(r.Stop, 0, n)
		if stop > start {
			// Not (stop-start+step-1)/step, which overflows for huge steps.
			count = (stop-start-1)/step + 1
		}
	} else {
		start = clamp(r.Start, -1, n-1)
		stop := clamp(r.Stop, -1, n-1)
		if start > stop {
			count = (start-stop-1)/-step + 1
		}
	}
	if count == 0 {
		start = 0
	}
	return start, step, count
}

// Slice selects a strided sub-array: ranges[i] applies to axis i, and axes
// without a range are kept whole.
func (t Tensor) Slice(ranges ...Range) Tensor {
	g, ok := check("slice", t)
	if !ok {
		return Tensor{g, -1}
	}
	if len(ranges) > t.Rank() {
		return g.fail("slice", errorf(ErrShape, "%d ranges for shape %v", len(ranges), t.Shape()))
	}
	r := t.Rank()
	starts, steps, s := make([]int, r), make([]int, r), make(tensor.Shape, r)
	identity := true
	for i, n := range t.Shape() {
		rg := All
		if i < len(ranges) {
			rg = ranges[i]
		}
		starts[i], steps[i], s[i] = rg.resolve(n)
		identity = identity && s[i] == n && steps[i] == 1
	}
	if identity {
		return t
	}
	return g.add(op.Slice, &op.Attrs{Starts: starts, Steps: steps}, t.DType(), s, t)
}

// SliceAxis slices one axis: indices start, start+step, ... before stop.
func (t Tensor) SliceAxis(axis, start, stop, step int) Tensor {
	if !t.Valid() {
		return t
	}
	a, ok := normAxis(axis, t.Rank())
	if !ok {
		return t.g.fail("slice", errorf(ErrShape, "axis %d for shape %v", axis, t.Shape()))
	}
	rs := make([]Range, t.Rank())
	for i := range rs {
		rs[i] = All
	}
	rs[a] = Range{start, stop, step}
	return t.Slice(rs...)
}

// Unslice is the adjoint of Slice: it places t into zeros of shape at the
// indices starts[i] + k*steps[i] of each axis i, for k < t's length on it.
func (t Tensor) Unslice(shape tensor.Shape, starts, steps []int) Tensor {
	g, ok := check("unslice", t)
	if !ok {
		return Tensor{g, -1}
	}
	r := len(shape)
	if t.Rank() != r || len(starts) != r || len(steps) != r {
		return g.fail("unslice", errorf(ErrShape, "%v into %v with starts %v, steps %v", t.Shape(), shape, starts, steps))
	}
	for i, n := range t.Shape() {
		last := starts[i] + (n-1)*steps[i]
		if n > 0 && (steps[i] == 0 || starts[i] < 0 || starts[i] >= shape[i] || last < 0 || last >= shape[i]) {
			return g.fail("unslice", errorf(ErrShape, "%v does not fit %v with starts %v, steps %v", t.Shape(), shape, starts, steps))
		}
	}
	s := shape.Clone()
	return g.add(op.Unslice, &op.Attrs{Shape: s, Starts: append([]int(nil), starts...), Steps: append([]int(nil), steps...)}, t.DType(), s, t)
}

// Span returns the Range that reads count elements from start by step,
// for use with Slice.
func Span(start, step, count int) Range {
	stop := start + count*step
	if stop < 0 {
		stop = math.MinInt
	}
	return Range{start, stop, step}
}

// Pad adds pads[i][0] elements before and pads[i][1] after axis i, filled
// with value. Missing trailing axes get no padding.
func (t Tensor) Pad(value float64, pads ...[2]int) Tensor {
	g, ok := check("pad", t)
	if !ok {
		return Tensor{g, -1}
	}
	if len(pads) > t.Rank() {
		return g.fail("pad", errorf(ErrShape, "%d pads for shape %v", len(pads), t.Shape()))
	}
	p := make([][2]int, t.Rank())
	copy(p, pads)
	s := t.Shape().Clone()
	for i := range s {
		if p[i][0] < 0 || p[i][1] < 0 {
			return g.fail("pad", errorf(ErrShape, "negative padding %v", pads))
		}
		s[i] += p[i][0] + p[i][1]
	}
	if s.Equal(t.Shape()) {
		return t
	}
	return g.add(op.Pad, &op.Attrs{Pads: p, PadValue: value}, t.DType(), s, t)
}

// Concat joins tensors along axis; other axes must match.
func Concat(axis int, ts ...Tensor) Tensor {
	g, ok := check("concat", ts...)
	if !ok || len(ts) == 0 {
		if g != nil && ok {
			return g.fail("concat", errorf(ErrArg, "no tensors"))
		}
		return Tensor{g, -1}
	}
	first := ts[0]
	a, ok := normAxis(axis, first.Rank())
	if !ok {
		return g.fail("concat", errorf(ErrShape, "axis %d for shape %v", axis, first.Shape()))
	}
	s := first.Shape().Clone()
	s[a] = 0
	for _, t := range ts {
		if t.DType() != first.DType() {
			return g.fail("concat", errorf(ErrDType, "operands are %v and %v", first.DType(), t.DType()))
		}
		ts := t.Shape()
		if len(ts) != len(s) {
			return g.fail("concat", errorf(ErrShape, "shapes %v and %v differ in rank", first.Shape(), ts))
		}
		for i := range ts {
			if i != a && ts[i] != s[i] {
				return g.fail("concat", errorf(ErrShape, "shapes %v and %v differ outside axis %d", first.Shape(), ts, a))
			}
		}
		s[a] += ts[a]
	}
	if len(ts) == 1 {
		return first
	}
	return g.add(op.Concat, &op.Attrs{Axis: a}, first.DType(), s, ts...)
}

// Stack joins tensors of one shape along a new axis.
func Stack(axis int, ts ...Tensor) Tensor {
	us := make([]Tensor, len(ts))
	for i, t := range ts {
		us[i] = t.Unsqueeze(axis)
	}
	return Concat(axis, us...)
}

// Gather selects slabs of t along axis by the integer indices idx (any
// shape): the result has shape t[:axis] + idx + t[axis+1:]. With axis 0 and
// a 2-D t this is an embedding lookup. Indices out of range fail at run time.
func (t Tensor) Gather(axis int, idx Tensor) Tensor {
	g, ok := check("gather", t, idx)
	if !ok {
		return Tensor{g, -1}
	}
	if !idx.DType().IsInt() {
		return g.fail("gather", errorf(ErrDType, "indices are %v, want i32 or i64", idx.DType()))
	}
	if t.Op() == op.QConst {
		return t.quantGather(g, axis, idx)
	}
	a, ok := normAxis(axis, t.Rank())
	if !ok {
		return g.fail("gather", errorf(ErrShape, "axis %d for shape %v", axis, t.Shape()))
	}
	s := append(append(t.Shape()[:a:a].Clone(), idx.Shape()...), t.Shape()[a+1:]...)
	return g.add(op.Gather, &op.Attrs{Axis: a}, t.DType(), s, t, idx)
}

// IndexSelect is Gather with a vector of indices.
func (t Tensor) IndexSelect(axis int, idx Tensor) Tensor {
	if idx.Valid() && idx.Rank() != 1 {
		return idx.g.fail("index_select", errorf(ErrShape, "indices %v are not a vector", idx.Shape()))
	}
	return t.Gather(axis, idx)
}

// ScatterAdd returns t with src added at the indices idx along axis: the
// adjoint of Gather. src has shape t[:axis] + idx + t[axis+1:]; repeated
// indices accumulate.
func (t Tensor) ScatterAdd(axis int, idx, src Tensor) Tensor {
	g, ok := check("scatter_add", t, idx, src)
	if !ok {
		return Tensor{g, -1}
	}
	a, ok := normAxis(axis, t.Rank())
	if !ok {
		return g.fail("scatter_add", errorf(ErrShape, "axis %d for shape %v", axis, t.Shape()))
	}
	return t.Add(src.Scatter(a, idx, t.Shape()...))
}

// Scatter sums t into zeros of the given shape at the indices idx along
// axis: the adjoint of Gather. t has shape shape[:axis] + idx + shape[axis+1:].
func (t Tensor) Scatter(axis int, idx Tensor, shape ...int) Tensor {
	g, ok := check("scatter_add", t, idx)
	if !ok {
		return Tensor{g, -1}
	}
	axis, ok = normAxis(axis, len(shape))
	if !ok {
		return g.fail("scatter_add", errorf(ErrShape, "axis %d for shape %v", axis, tensor.Shape(shape)))
	}
	if !idx.DType().IsInt() {
		return g.fail("scatter_add", errorf(ErrDType, "indices are %v, want i32 or i64", idx.DType()))
	}
	want := append(append(tensor.Shape(shape[:axis:axis]).Clone(), idx.Shape()...), shape[axis+1:]...)
	if !t.Shape().Equal(want) {
		return g.fail("scatter_add", errorf(ErrShape, "source %v, want %v for indices %v into %v", t.Shape(), want, idx.Shape(), tensor.Shape(shape)))
	}
	if !t.DType().IsFloat() && !t.DType().IsInt() {
		return g.fail("scatter_add", errorf(ErrDType, "source is %v", t.DType()))
	}
	s := tensor.Shape(shape).Clone()
	return g.add(op.ScatterAdd, &op.Attrs{Axis: axis, Shape: s}, t.DType(), s, t, idx)
}
