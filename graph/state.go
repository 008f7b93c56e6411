package graph

import (
	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/compiler"
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

// UpdateAt returns t with x written along axis at the run-time position
// start (clamped so x fits), leaving t itself unchanged (UpdateSlice
// writes into state instead). x has t's shape but along axis, where it
// may be shorter.
func (t Tensor) UpdateAt(axis int, start, x Tensor) Tensor {
	g, ok := check("update_at", t, x, start)
	if !ok {
		return Tensor{g, -1}
	}
	a, ok := fitsAlong(g, "update_at", t, x, axis, start)
	if !ok {
		return Tensor{g, -1}
	}
	s := t.Shape().Clone()
	return g.add(op.DynUpdate, &op.Attrs{Axis: a, Shape: s}, t.DType(), s, t, x, start.Reshape())
}

// AssignSlice records a write of value into the parameter or variable v
// along axis at the run-time position start (clamped so it fits): the
// append of a KV cache. Like Assign, the write happens after every read of
// v in the run, when the returned tensor (whose value is value) is among a
// Program's outputs.
func (g *Graph) AssignSlice(v, value Tensor, axis int, start Tensor) Tensor {
	value, a, ok := g.sliceWrite("assign_slice", v, value, axis, start)
	if !ok {
		return Tensor{g, -1}
	}
	return g.add(op.AssignSlice, &op.Attrs{Axis: a, Shape: v.Shape().Clone()}, value.DType(), value.Shape(), v, value, start.Reshape())
}

// UpdateSlice writes value into the parameter or variable v along axis at
// the run-time position start (clamped so it fits) when the returned
// tensor is computed, and returns v as written, for reads in the same
// run: the append of a KV cache that attention then reads in place,
// without a copy of the cache. Nothing else in a Program may read or
// assign v (Compile reports ErrArg), so that no read can see the write
// too early; the write happens only when the result is needed for the
// Program's outputs.
func (g *Graph) UpdateSlice(v, value Tensor, axis int, start Tensor) Tensor {
	value, a, ok := g.sliceWrite("update_slice", v, value, axis, start)
	if !ok {
		return Tensor{g, -1}
	}
	s := v.Shape().Clone()
	return g.add(op.DynUpdate, &op.Attrs{Axis: a, Shape: s, InPlace: true}, v.DType(), s, v, value, start.Reshape())
}

// sliceWrite validates a write of value into the state v along axis at a
// run-time start, rounding an f32 value for half state, and returns the
// value to write and the normalised axis.
func (g *Graph) sliceWrite(name string, v, value Tensor, axis int, start Tensor) (Tensor, int, bool) {
	if _, ok := check(name, v, value, start); !ok {
		return value, 0, false
	}
	if c := v.Op(); c != op.Param && c != op.Variable {
		g.fail(name, errorf(ErrArg, "target is %v, not a param or variable", c))
		return value, 0, false
	}
	if d := v.DType(); isHalf(d) && value.DType() != d && (value.DType() == tensor.F32 || value.DType() == tensor.F64) {
		value = value.StoreAs(d) // a write into half state rounds
	}
	a, ok := fitsAlong(g, name, v, value, axis, start)
	return value, a, ok
}

// fitsAlong validates a write of value into target along axis at a
// run-time start: equal ranks and dtypes, value's shape target's but
// along axis, where it may be shorter. It returns the normalised axis.
func fitsAlong(g *Graph, name string, target, value Tensor, axis int, start Tensor) (int, bool) {
	a, ok := normAxis(axis, target.Rank())
	if !ok || value.Rank() != target.Rank() || value.DType() != target.DType() {
		g.fail(name, errorf(ErrShape, "target %v%v, value %v%v, axis %d", target.DType(), target.Shape(), value.DType(), value.Shape(), axis))
		return 0, false
	}
	for i, n := range target.Shape() {
		if (i == a && value.Shape()[i] > n) || (i != a && value.Shape()[i] != n) {
			g.fail(name, errorf(ErrShape, "value %v does not fit target %v along axis %d", value.Shape(), target.Shape(), axis))
			return 0, false
		}
	}
	return a, checkStart(g, name, start)
}

// isHalf reports whether d is a two-byte storage type.
func isHalf(d tensor.DType) bool { return d == tensor.F16 || d == tensor.BF16 }

// halfOps are the only operations that take an F16 or BF16 operand: they
// move or store its bits, or widen it (Cast). Arithmetic on half storage
// is an error; Cast it to f32 first.
var halfOps = map[string]bool{
	"cast": true, "store_as": true, "assign": true, "assign_slice": true, "slice_at": true,
	"update_slice": true, "update_at": true,
	"reshape": true, "permute": true, "expand": true, "slice": true,
}

// StoreAs converts t to the two-byte storage type d (F16 or BF16), rounding
// to nearest with ties to even exactly as tensor.F32ToF16 and
// tensor.F32ToBF16 do (an f64 tensor goes through f32 first). Unlike
// Cast(d), whose result is f32, the result keeps dtype d and two bytes an
// element. Half tensors exist to be stored: they may be reshaped,
// permuted, expanded, sliced (Slice, SliceAt), assigned into a Variable
// of dtype d, or Cast back to f32 or f64; every other operation records an
// ErrDType. Graphs holding half tensors compile only for devices with
// half storage (backend.HalfStorage).
func (t Tensor) StoreAs(d tensor.DType) Tensor {
	g, ok := check("store_as", t)
	if !ok {
		return Tensor{g, -1}
	}
	switch from := t.DType(); {
	case !isHalf(d):
		return g.fail("store_as", errorf(ErrDType, "target %v: want f16 or bf16", d))
	case from == d:
		return t
	case from == tensor.F64:
		t = t.Cast(tensor.F32)
	case from != tensor.F32:
		return g.fail("store_as", errorf(ErrDType, "%v to %v: want an f32 or f64 operand", from, d))
	}
	return g.add(op.Cast, &op.Attrs{DType: d}, d, t.Shape(), t)
}

// checkHalfStorage reports a clear error when f holds half tensors and
// dev cannot store them.
func checkHalfStorage(f *compiler.Func, dev backend.Device) error {
	if backend.HalfStorage(dev) {
		return nil
	}
	for _, v := range f.Values {
		if isHalf(v.DType) {
			return errorf(ErrDType, "Compile: %v holds a %v tensor (%v%v) but has no half storage; use f32 state on this device", dev.Name(), v.DType, v.Op, v.Shape)
		}
	}
	return nil
}
