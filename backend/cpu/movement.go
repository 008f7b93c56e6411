package cpu

import (
	"fmt"
	"math"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// view is a strided walk over a row-major index space: element idx sits at
// off + Σ idx[i]*st[i].
type view struct {
	off int
	st  []int
}

// strided copies every element of the index space shape from src's view to
// dst's view. The innermost axis is a plain loop (or copy when both sides
// are contiguous); outer axes advance an odometer.
func strided[T any](shape tensor.Shape, dst []T, dv view, src []T, sv view) {
	r := len(shape)
	if r == 0 {
		dst[dv.off] = src[sv.off]
		return
	}
	if shape.Size() == 0 {
		return
	}
	var shapeBuf, dstBuf, srcBuf [8]int
	if r <= len(shapeBuf) {
		// Merge axes both views walk contiguously, so a block copy is one
		// copy call rather than one per row.
		sh, dst2, src2 := shapeBuf[:1], dstBuf[:1], srcBuf[:1]
		sh[0], dst2[0], src2[0] = shape[0], dv.st[0], sv.st[0]
		for a := 1; a < r; a++ {
			l := len(sh) - 1
			if dst2[l] == dv.st[a]*shape[a] && src2[l] == sv.st[a]*shape[a] {
				sh[l] *= shape[a]
				dst2[l], src2[l] = dv.st[a], sv.st[a]
				continue
			}
			sh, dst2, src2 = append(sh, shape[a]), append(dst2, dv.st[a]), append(src2, sv.st[a])
		}
		shape, dv.st, sv.st, r = sh, dst2, src2, len(sh)
	}
	var idxBuf [8]int
	idx := idxBuf[:0]
	if r-1 > len(idxBuf) {
		idx = make([]int, r-1)
	} else {
		idx = idxBuf[:r-1]
	}
	n, ds, ss := shape[r-1], dv.st[r-1], sv.st[r-1]
	for {
		d, s := dv.off, sv.off
		for i, x := range idx {
			d += x * dv.st[i]
			s += x * sv.st[i]
		}
		if ds == 1 && ss == 1 {
			copy(dst[d:d+n], src[s:s+n])
		} else {
			for j := 0; j < n; j++ {
				dst[d+j*ds] = src[s+j*ss]
			}
		}
		k := r - 2
		for ; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

// move runs strided over arrays of any dtype.
func move(shape tensor.Shape, dst *tensor.Array, dv view, src *tensor.Array, sv view) error {
	switch d := dst.Data().(type) {
	case []float32:
		strided(shape, d, dv, src.Float32s(), sv)
	case []float64:
		strided(shape, d, dv, src.Float64s(), sv)
	case []int32:
		strided(shape, d, dv, src.Int32s(), sv)
	case []int64:
		strided(shape, d, dv, src.Int64s(), sv)
	case []bool:
		strided(shape, d, dv, src.Bools(), sv)
	case []uint16: // f16, bf16
		strided(shape, d, dv, src.Bits(), sv)
	default:
		return fmt.Errorf("%w: movement on %v", backend.ErrUnsupported, dst.DType())
	}
	return nil
}

// fill sets every element of a to v.
// clearData sets every element of a to zero.
func clearData(a *tensor.Array) {
	switch d := a.Data().(type) {
	case []float32:
		clear(d)
	case []float64:
		clear(d)
	case []int32:
		clear(d)
	case []int64:
		clear(d)
	case []bool:
		clear(d)
	case []uint16:
		clear(d)
	}
}

func fill(a *tensor.Array, v float64) {
	if v == 0 && !math.Signbit(v) {
		clearData(a) // all-zero bits for every dtype: a memclr
		return
	}
	switch d := a.Data().(type) {
	case []float32:
		for i := range d {
			d[i] = float32(v)
		}
	case []float64:
		for i := range d {
			d[i] = v
		}
	case []int32:
		for i := range d {
			d[i] = int32(v)
		}
	case []int64:
		for i := range d {
			d[i] = int64(v)
		}
	case []bool:
		for i := range d {
			d[i] = v != 0
		}
	case []uint16:
		fillBits(a.DType(), d, v)
	}
}

func contiguous(s tensor.Shape) view { return view{0, s.Strides()} }

func permuteKernel(in tensor.Shape, perm []int) kernelFunc {
	ist := in.Strides()
	out := make(tensor.Shape, len(perm))
	sv := view{st: make([]int, len(perm))}
	for i, p := range perm {
		out[i] = in[p]
		sv.st[i] = ist[p]
	}
	dv := contiguous(out)
	return func(x []*tensor.Array, y *tensor.Array) error { return move(out, y, dv, x[0], sv) }
}

func expandKernel(in, out tensor.Shape) kernelFunc {
	sv := contiguous(in)
	for i := range in {
		if in[i] == 1 && out[i] != 1 {
			sv.st[i] = 0
		}
	}
	dv := contiguous(out)
	return func(x []*tensor.Array, y *tensor.Array) error { return move(out, y, dv, x[0], sv) }
}

// sliceView is the view of a strided slice inside a row-major shape.
func sliceView(s tensor.Shape, starts, steps []int) view {
	v := contiguous(s)
	for i := range s {
		v.off += starts[i] * v.st[i]
		v.st[i] *= steps[i]
	}
	return v
}

func sliceKernel(in, out tensor.Shape, starts, steps []int) kernelFunc {
	sv, dv := sliceView(in, starts, steps), contiguous(out)
	return func(x []*tensor.Array, y *tensor.Array) error { return move(out, y, dv, x[0], sv) }
}

func unsliceKernel(in, out tensor.Shape, starts, steps []int) kernelFunc {
	dv, sv := sliceView(out, starts, steps), contiguous(in)
	return func(x []*tensor.Array, y *tensor.Array) error {
		fill(y, 0)
		return move(in, y, dv, x[0], sv)
	}
}

func padKernel(in, out tensor.Shape, pads [][2]int, value float64) kernelFunc {
	starts, steps := make([]int, len(in)), make([]int, len(in))
	for i := range in {
		starts[i], steps[i] = pads[i][0], 1
	}
	dv, sv := sliceView(out, starts, steps), contiguous(in)
	return func(x []*tensor.Array, y *tensor.Array) error {
		fill(y, value)
		return move(in, y, dv, x[0], sv)
	}
}

func concatKernel(ins []backend.Operand, out tensor.Shape, axis int) kernelFunc {
	views := make([]view, len(ins))
	off := 0
	for k, in := range ins {
		starts, steps := make([]int, len(out)), make([]int, len(out))
		for i := range steps {
			steps[i] = 1
		}
		starts[axis] = off
		views[k] = sliceView(out, starts, steps)
		off += in.Shape[axis]
	}
	return func(x []*tensor.Array, y *tensor.Array) error {
		for k, a := range x {
			if err := move(ins[k].Shape, y, views[k], a, contiguous(ins[k].Shape)); err != nil {
				return err
			}
		}
		return nil
	}
}

// indices reads an I32 or I64 index array as ints, checking each against n.
func indices(a *tensor.Array, n int, buf []int) ([]int, error) {
	buf = buf[:a.Len()]
	for i := range buf {
		var v int
		switch d := a.Data().(type) {
		case []int32:
			v = int(d[i])
		case []int64:
			v = int(d[i])
		default:
			return nil, fmt.Errorf("%w: indices of dtype %v", backend.ErrUnsupported, a.DType())
		}
		if v < 0 || v >= n {
			return nil, fmt.Errorf("cpu: index %d out of range [0, %d) at position %d", v, n, i)
		}
		buf[i] = v
	}
	return buf, nil
}

func gatherKernel(x, idx tensor.Shape, axis int) kernelFunc {
	outer, d, inner := split(x, axis, axis)
	buf := make([]int, idx.Size())
	return func(in []*tensor.Array, y *tensor.Array) error {
		ix, err := indices(in[1], d, buf)
		if err != nil {
			return err
		}
		for j, v := range ix {
			// Copy slab v of every outer block to slab j.
			sv := view{v * inner, []int{d * inner, 0, 1}}
			dv := view{j * inner, []int{len(ix) * inner, 0, 1}}
			if err := move(tensor.Shape{outer, 1, inner}, y, dv, in[0], sv); err != nil {
				return err
			}
		}
		return nil
	}
}

func scatterAddKernel(idx, out tensor.Shape, axis int) kernelFunc {
	outer, d, inner := split(out, axis, axis)
	buf := make([]int, idx.Size())
	return func(in []*tensor.Array, y *tensor.Array) error {
		ix, err := indices(in[1], d, buf)
		if err != nil {
			return err
		}
		switch yd := y.Data().(type) {
		case []float32:
			scatterAdd(yd, in[0].Float32s(), ix, outer, d, inner)
		case []float64:
			scatterAdd(yd, in[0].Float64s(), ix, outer, d, inner)
		case []int32:
			scatterAdd(yd, in[0].Int32s(), ix, outer, d, inner)
		case []int64:
			scatterAdd(yd, in[0].Int64s(), ix, outer, d, inner)
		default:
			return unsupported(op.ScatterAdd, y.DType())
		}
		return nil
	}
}

func scatterAdd[T number](y, x []T, ix []int, outer, d, inner int) {
	for i := range y {
		y[i] = 0
	}
	j := len(ix)
	for o := 0; o < outer; o++ {
		for k, v := range ix {
			dst := y[(o*d+v)*inner : (o*d+v+1)*inner]
			src := x[(o*j+k)*inner : (o*j+k+1)*inner]
			for i := range dst {
				dst[i] += src[i]
			}
		}
	}
}

// unfoldKernel lays out every sliding window of x [n c h w] as
// [n c kh kw oh ow]; positions outside x read the pad value.
func unfoldKernel(in, out tensor.Shape, w op.Window, padValue float64) kernelFunc {
	f32 := &windows[float32]{in: in, out: out, w: w, pad: float32(padValue)}
	f64 := &windows[float64]{in: in, out: out, w: w, pad: padValue}
	return func(x []*tensor.Array, y *tensor.Array) error {
		switch y.DType() {
		case tensor.F32:
			f32.unfold(y.Float32s(), x[0].Float32s())
		case tensor.F64:
			f64.unfold(y.Float64s(), x[0].Float64s())
		default:
			return unsupported(op.Unfold, y.DType())
		}
		return nil
	}
}

// windows runs unfold or fold over (image, channel) pairs in parallel; its
// slices are set per launch so the parallel call allocates nothing.
type windows[T float] struct {
	in, out tensor.Shape
	w       op.Window
	pad     T
	x, y    []T
	folding bool
}

func (s *windows[T]) unfold(y, x []T) {
	s.x, s.y, s.folding = x, y, false
	parallelRun(s.in[0]*s.in[1], s.out[2]*s.out[3]*s.out[4]*s.out[5], s)
}

func (s *windows[T]) fold(y, x []T) {
	s.x, s.y, s.folding = x, y, true
	parallelRun(s.out[0]*s.out[1], s.in[2]*s.in[3]*s.in[4]*s.in[5], s)
}

func (s *windows[T]) run(lo, hi int) {
	if s.folding {
		fold(s.y, s.x, s.in, s.out, s.w, lo, hi)
	} else {
		unfold(s.y, s.x, s.in, s.out, s.w, s.pad, lo, hi)
	}
}

func unfold[T float](y, x []T, in, out tensor.Shape, w op.Window, pad T, lo, hi int) {
	h, wd := in[2], in[3]
	kh, kw, oh, ow := out[2], out[3], out[4], out[5]
	{
		for c := lo; c < hi; c++ {
			img := x[c*h*wd : (c+1)*h*wd]
			dst := y[c*kh*kw*oh*ow : (c+1)*kh*kw*oh*ow]
			i := 0
			for a := 0; a < kh; a++ {
				for b := 0; b < kw; b++ {
					for p := 0; p < oh; p++ {
						r := p*w.Stride[0] - w.Padding[0] + a*w.Dilation[0]
						for q := 0; q < ow; q++ {
							s := q*w.Stride[1] - w.Padding[1] + b*w.Dilation[1]
							if r < 0 || r >= h || s < 0 || s >= wd {
								dst[i] = pad
							} else {
								dst[i] = img[r*wd+s]
							}
							i++
						}
					}
				}
			}
		}
	}
}

// foldKernel is the adjoint of unfold: it sums each window element back into
// the position it was read from.
func foldKernel(in, out tensor.Shape, w op.Window) kernelFunc {
	f32 := &windows[float32]{in: in, out: out, w: w}
	f64 := &windows[float64]{in: in, out: out, w: w}
	return func(x []*tensor.Array, y *tensor.Array) error {
		switch y.DType() {
		case tensor.F32:
			f32.fold(y.Float32s(), x[0].Float32s())
		case tensor.F64:
			f64.fold(y.Float64s(), x[0].Float64s())
		default:
			return unsupported(op.Fold, y.DType())
		}
		return nil
	}
}

func fold[T float](y, x []T, in, out tensor.Shape, w op.Window, lo, hi int) {
	h, wd := out[2], out[3]
	kh, kw, oh, ow := in[2], in[3], in[4], in[5]
	{
		for c := lo; c < hi; c++ {
			img := y[c*h*wd : (c+1)*h*wd]
			for i := range img {
				img[i] = 0
			}
			src := x[c*kh*kw*oh*ow : (c+1)*kh*kw*oh*ow]
			i := 0
			for a := 0; a < kh; a++ {
				for b := 0; b < kw; b++ {
					for p := 0; p < oh; p++ {
						r := p*w.Stride[0] - w.Padding[0] + a*w.Dilation[0]
						for q := 0; q < ow; q++ {
							s := q*w.Stride[1] - w.Padding[1] + b*w.Dilation[1]
							if r >= 0 && r < h && s >= 0 && s < wd {
								img[r*wd+s] += src[i]
							}
							i++
						}
					}
				}
			}
		}
	}
}

// startOf reads a run-time start position and clamps it so a window of
// size elements fits in n.
func startOf(a *tensor.Array, size, n int) int {
	s := int(a.Flat(0))
	if a.DType() == tensor.I64 {
		s = int(a.Int64s()[0])
	}
	return min(max(s, 0), n-size)
}

// dynUpdateKernel copies base's leading out-shaped part, then writes x
// into it at a run-time start; in place, the output is the base and only
// x is written.
func dynUpdateKernel(base, in, out tensor.Shape, axis int, inPlace bool) (kernelFunc, error) {
	if err := backend.CheckDynUpdate(base, in, out, axis, inPlace); err != nil {
		return nil, err
	}
	bv, dv, sv := contiguous(base), contiguous(out), contiguous(in)
	return func(x []*tensor.Array, y *tensor.Array) error {
		if !inPlace {
			if err := move(out, y, dv, x[0], bv); err != nil {
				return err
			}
		}
		v := dv
		v.off = startOf(x[2], in[axis], out[axis]) * dv.st[axis]
		return move(in, y, v, x[1], sv)
	}, nil
}

// dynSliceKernel copies a window at a run-time start out of x.
func dynSliceKernel(in, out tensor.Shape, axis int) kernelFunc {
	sv, dv := contiguous(in), contiguous(out)
	return func(x []*tensor.Array, y *tensor.Array) error {
		v := sv
		v.off = startOf(x[1], out[axis], in[axis]) * sv.st[axis]
		return move(out, y, dv, x[0], v)
	}
}

// dynUnsliceKernel places x into zeros at a run-time start; with zero false
// it writes over y's other elements not at all (an in-place state update).
func dynUnsliceKernel(in, out tensor.Shape, axis int, zero bool) kernelFunc {
	dv, sv := contiguous(out), contiguous(in)
	return func(x []*tensor.Array, y *tensor.Array) error {
		if zero {
			fill(y, 0)
		}
		v := dv
		v.off = startOf(x[1], in[axis], out[axis]) * dv.st[axis]
		return move(in, y, v, x[0], sv)
	}
}
