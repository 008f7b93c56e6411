package graph

import (
	"math"
	"sort"

	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// normAxis maps a possibly negative axis into [0, rank).
func normAxis(axis, rank int) (int, bool) {
	if axis < 0 {
		axis += rank
	}
	return axis, axis >= 0 && axis < rank
}

// normAxes sorts, de-duplicates and range-checks axes; none means all.
func normAxes(axes []int, rank int) ([]int, bool) {
	if len(axes) == 0 {
		all := make([]int, rank)
		for i := range all {
			all[i] = i
		}
		return all, true
	}
	seen := map[int]bool{}
	var out []int
	for _, a := range axes {
		n, ok := normAxis(a, rank)
		if !ok || seen[n] {
			return nil, false
		}
		seen[n] = true
		out = append(out, n)
	}
	sort.Ints(out)
	return out, true
}

func reducedShape(s tensor.Shape, axes []int, keep bool) tensor.Shape {
	red := map[int]bool{}
	for _, a := range axes {
		red[a] = true
	}
	out := tensor.Shape{}
	for i, d := range s {
		switch {
		case !red[i]:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

func (t Tensor) reduce(c op.Code, keep bool, axes []int) Tensor {
	g, ok := check(c.String(), t)
	if !ok {
		return Tensor{g, -1}
	}
	if !t.DType().IsFloat() && !t.DType().IsInt() {
		return g.fail(c.String(), errorf(ErrDType, "operand is %v", t.DType()))
	}
	ax, ok := normAxes(axes, t.Rank())
	if !ok {
		return g.fail(c.String(), errorf(ErrShape, "axes %v out of range or repeated for shape %v", axes, t.Shape()))
	}
	if c != op.ReduceSum {
		for _, a := range ax {
			if t.Shape()[a] == 0 {
				return g.fail(c.String(), errorf(ErrShape, "axis %d of shape %v is empty", a, t.Shape()))
			}
		}
	}
	s := reducedShape(t.Shape(), ax, keep)
	return g.add(c, &op.Attrs{Axes: ax, KeepDims: keep}, t.DType(), s, t)
}

// Sum sums over axes (all axes when none are given), dropping them.
func (t Tensor) Sum(axes ...int) Tensor { return t.reduce(op.ReduceSum, false, axes) }

// SumKeep sums over axes, keeping them with length 1.
func (t Tensor) SumKeep(axes ...int) Tensor { return t.reduce(op.ReduceSum, true, axes) }

// SumAll sums every element into a scalar.
func (t Tensor) SumAll() Tensor { return t.Sum() }

// Max takes the maximum over axes (all when none are given), dropping them.
func (t Tensor) Max(axes ...int) Tensor { return t.reduce(op.ReduceMax, false, axes) }

// MaxKeep takes the maximum over axes, keeping them with length 1.
func (t Tensor) MaxKeep(axes ...int) Tensor { return t.reduce(op.ReduceMax, true, axes) }

// Min takes the minimum over axes (all when none are given), dropping them.
func (t Tensor) Min(axes ...int) Tensor { return t.reduce(op.ReduceMin, false, axes) }

// MinKeep takes the minimum over axes, keeping them with length 1.
func (t Tensor) MinKeep(axes ...int) Tensor { return t.reduce(op.ReduceMin, true, axes) }

func (t Tensor) mean(keep bool, axes []int) Tensor {
	s := t.reduce(op.ReduceSum, keep, axes)
	if !s.Valid() {
		return s
	}
	if !t.DType().IsFloat() {
		return t.g.fail("mean", errorf(ErrDType, "operand is %v, want f32 or f64", t.DType()))
	}
	n := 1
	for _, a := range s.Attrs().Axes {
		n *= t.Shape()[a]
	}
	if n == 0 {
		return s.Scale(math.NaN()) // the mean of nothing, as in torch
	}
	return s.Scale(1 / float64(n))
}

// Mean averages over axes (all when none are given), dropping them.
func (t Tensor) Mean(axes ...int) Tensor { return t.mean(false, axes) }

// MeanKeep averages over axes, keeping them with length 1.
func (t Tensor) MeanKeep(axes ...int) Tensor { return t.mean(true, axes) }

// ArgMax returns the index (I64) of the first largest element along axis.
func (t Tensor) ArgMax(axis int, keepDims bool) Tensor {
	g, ok := check("argmax", t)
	if !ok {
		return Tensor{g, -1}
	}
	a, ok := normAxis(axis, t.Rank())
	if !ok || t.Shape()[a] == 0 {
		return g.fail("argmax", errorf(ErrShape, "axis %d for shape %v", axis, t.Shape()))
	}
	if !t.DType().IsFloat() && !t.DType().IsInt() {
		return g.fail("argmax", errorf(ErrDType, "operand is %v", t.DType()))
	}
	s := reducedShape(t.Shape(), []int{a}, keepDims)
	return g.add(op.ArgMax, &op.Attrs{Axis: a, KeepDims: keepDims}, tensor.I64, s, t)
}

// Softmax returns exp(t)/Σexp(t) along axis, computed stably.
func (t Tensor) Softmax(axis int) Tensor { return t.softmax(op.Softmax, axis) }

// LogSoftmax returns t - log Σexp(t) along axis, computed stably.
func (t Tensor) LogSoftmax(axis int) Tensor { return t.softmax(op.LogSoftmax, axis) }

func (t Tensor) softmax(c op.Code, axis int) Tensor {
	g, ok := check(c.String(), t)
	if !ok {
		return Tensor{g, -1}
	}
	if !t.DType().IsFloat() {
		return g.fail(c.String(), errorf(ErrDType, "operand is %v, want f32 or f64", t.DType()))
	}
	a, ok := normAxis(axis, t.Rank())
	if !ok {
		return g.fail(c.String(), errorf(ErrShape, "axis %d for shape %v", axis, t.Shape()))
	}
	return g.add(c, &op.Attrs{Axis: a}, t.DType(), t.Shape(), t)
}

// MatMul multiplies matrices: [..., m, k] × [..., k, n] → [..., m, n],
// broadcasting the batch axes. A rank-1 operand is a row (left) or column
// (right) vector whose axis is dropped from the result, as in NumPy.
func (t Tensor) MatMul(u Tensor) Tensor {
	g, ok := check("matmul", t, u)
	if !ok {
		return Tensor{g, -1}
	}
	if t.DType() != u.DType() || t.DType() == tensor.Bool {
		return g.fail("matmul", errorf(ErrDType, "operands are %v and %v", t.DType(), u.DType()))
	}
	if t.Rank() == 0 || u.Rank() == 0 {
		return g.fail("matmul", errorf(ErrShape, "operands %v and %v: scalars cannot be multiplied as matrices", t.Shape(), u.Shape()))
	}
	// A batch of rows times one matrix is one 2-D product over the rows
	// folded together: no copy of the matrix per batch item.
	if t.Rank() > 2 && u.Rank() == 2 {
		ts := t.Shape()
		if ts[len(ts)-1] != u.Shape()[0] {
			return g.fail("matmul", errorf(ErrShape, "shapes %v and %v: inner dimensions %d and %d differ", ts, u.Shape(), ts[len(ts)-1], u.Shape()[0]))
		}
		flat := t.Reshape(-1, ts[len(ts)-1]).MatMul(u)
		return flat.Reshape(append(ts[:len(ts)-1].Clone(), u.Shape()[1])...)
	}
	a, b := t, u
	if a.Rank() == 1 {
		a = a.Reshape(1, a.Shape()[0])
	}
	if b.Rank() == 1 {
		b = b.Reshape(b.Shape()[0], 1)
	}
	as, bs := a.Shape(), b.Shape()
	ra, rb := len(as), len(bs)
	m, k, k2, n := as[ra-2], as[ra-1], bs[rb-2], bs[rb-1]
	if k != k2 {
		return g.fail("matmul", errorf(ErrShape, "shapes %v and %v: inner dimensions %d and %d differ", t.Shape(), u.Shape(), k, k2))
	}
	batch, ok := tensor.Broadcast(as[:ra-2], bs[:rb-2])
	if !ok {
		return g.fail("matmul", errorf(ErrShape, "batch dimensions of %v and %v do not broadcast", t.Shape(), u.Shape()))
	}
	a = a.broadcastTo(append(batch.Clone(), m, k))
	b = b.broadcastTo(append(batch.Clone(), k, n))
	out := g.add(op.MatMul, nil, t.DType(), append(batch.Clone(), m, n), a, b)
	switch {
	case t.Rank() == 1 && u.Rank() == 1:
		return out.Reshape()
	case t.Rank() == 1:
		return out.Reshape(append(batch.Clone(), n)...)
	case u.Rank() == 1:
		return out.Reshape(append(batch.Clone(), m)...)
	}
	return out
}
