package graph

import (
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// checkStart validates a runtime start position: an integer scalar.
func checkStart(g *Graph, name string, start Tensor) bool {
	if !start.DType().IsInt() || start.Shape().Size() != 1 {
		g.fail(name, errorf(ErrDType, "start %v%v: want an i32 or i64 scalar", start.DType(), start.Shape()))
		return false
	}
	return true
}

// SliceAt reads size elements along axis from the run-time position start
// (an integer scalar tensor, typically a placeholder fed each run), so one
// compiled Program serves every position. The start is clamped so the
// window stays inside t.
func (t Tensor) SliceAt(axis int, start Tensor, size int) Tensor {
	g, ok := check("slice_at", t, start)
	if !ok {
		return Tensor{g, -1}
	}
	a, ok := normAxis(axis, t.Rank())
	if !ok || size < 0 || size > t.Shape()[a] {
		return g.fail("slice_at", errorf(ErrShape, "axis %d, size %d for shape %v", axis, size, t.Shape()))
	}
	if !checkStart(g, "slice_at", start) {
		return Tensor{g, -1}
	}
	s := t.Shape().Clone()
	s[a] = size
	return g.add(op.DynSlice, &op.Attrs{Axis: a, Shape: s}, t.DType(), s, t, start.Reshape())
}

// UnsliceAt is the adjoint of SliceAt: zeros of shape with t placed along
// axis at the run-time position start (clamped).
func (t Tensor) UnsliceAt(shape tensor.Shape, axis int, start Tensor) Tensor {
	g, ok := check("unslice_at", t, start)
	if !ok {
		return Tensor{g, -1}
	}
	a, ok := normAxis(axis, len(shape))
	if !ok || t.Rank() != len(shape) {
		return g.fail("unslice_at", errorf(ErrShape, "%v into %v along axis %d", t.Shape(), shape, axis))
	}
	for i := range shape {
		if (i == a && t.Shape()[i] > shape[i]) || (i != a && t.Shape()[i] != shape[i]) {
			return g.fail("unslice_at", errorf(ErrShape, "%v into %v along axis %d", t.Shape(), shape, axis))
		}
	}
	if !checkStart(g, "unslice_at", start) {
		return Tensor{g, -1}
	}
	s := shape.Clone()
	return g.add(op.DynUnslice, &op.Attrs{Axis: a, Shape: s}, t.DType(), s, t, start.Reshape())
}

// AssignSlice records a write of value into the parameter or variable v
// along axis at the run-time position start (clamped so it fits): the
// append of a KV cache. Like Assign, the write happens after every read of
// v in the run, when the returned tensor (whose value is value) is among a
// Program's outputs.
func (g *Graph) AssignSlice(v, value Tensor, axis int, start Tensor) Tensor {
	if _, ok := check("assign_slice", v, value, start); !ok {
		return Tensor{g, -1}
	}
	if c := v.Op(); c != op.Param && c != op.Variable {
		return g.fail("assign_slice", errorf(ErrArg, "target is %v, not a param or variable", c))
	}
	a, ok := normAxis(axis, v.Rank())
	if !ok || value.Rank() != v.Rank() || value.DType() != v.DType() {
		return g.fail("assign_slice", errorf(ErrShape, "target %v%v, value %v%v, axis %d", v.DType(), v.Shape(), value.DType(), value.Shape(), axis))
	}
	for i := range v.Shape() {
		if (i == a && value.Shape()[i] > v.Shape()[i]) || (i != a && value.Shape()[i] != v.Shape()[i]) {
			return g.fail("assign_slice", errorf(ErrShape, "value %v does not fit target %v along axis %d", value.Shape(), v.Shape(), axis))
		}
	}
	if !checkStart(g, "assign_slice", start) {
		return Tensor{g, -1}
	}
	return g.add(op.AssignSlice, &op.Attrs{Axis: a, Shape: v.Shape().Clone()}, value.DType(), value.Shape(), v, value, start.Reshape())
}
