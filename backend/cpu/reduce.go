package cpu

import (
	"math"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// split views a shape as (outer, n, inner) around the axes [a, b].
func split(s tensor.Shape, a, b int) (outer, n, inner int) {
	outer, n, inner = 1, 1, 1
	for i, d := range s {
		switch {
		case i < a:
			outer *= d
		case i <= b:
			n *= d
		default:
			inner *= d
		}
	}
	return
}

// reduceStep is one pass over a contiguous run of reduced axes.
type reduceStep struct{ outer, n, inner int }

// reduceKernel reduces runs of adjacent axes one run at a time, innermost
// first, through scratch buffers allocated once here.
func reduceKernel(c op.Code, in backend.Operand, axes []int) (kernelFunc, error) {
	red := make([]bool, len(in.Shape))
	for _, a := range axes {
		red[a] = true
	}
	var steps []reduceStep
	shape := in.Shape.Clone()
	for i := len(shape) - 1; i >= 0; {
		if !red[i] {
			i--
			continue
		}
		j := i
		for j > 0 && red[j-1] {
			j--
		}
		o, n, inner := split(shape, j, i)
		steps = append(steps, reduceStep{o, n, inner})
		for k := j; k <= i; k++ {
			shape[k] = 1
		}
		i = j - 1
	}
	switch in.DType {
	case tensor.F32:
		return reduceSteps[float32](c, steps), nil
	case tensor.F64:
		return reduceSteps[float64](c, steps), nil
	case tensor.I32:
		return reduceSteps[int32](c, steps), nil
	case tensor.I64:
		return reduceSteps[int64](c, steps), nil
	}
	return nil, unsupported(c, in.DType)
}

func reduceSteps[T number](c op.Code, steps []reduceStep) kernelFunc {
	var scratch [][]T
	for i := 0; i+1 < len(steps); i++ {
		s := steps[i]
		scratch = append(scratch, make([]T, s.outer*s.inner))
	}
	runs := make([]*reducer[T], len(steps))
	for i, s := range steps {
		runs[i] = &reducer[T]{c: c, s: s}
	}
	return func(in []*tensor.Array, out *tensor.Array) error {
		src := typed[T](in[0])
		if len(steps) == 0 {
			copy(typed[T](out), src)
			return nil
		}
		for i, s := range steps {
			dst := typed[T](out)
			if i+1 < len(steps) {
				dst = scratch[i]
			}
			r := runs[i]
			r.x, r.y = src, dst
			parallelRun(s.outer, s.n*s.inner, r)
			src = dst
		}
		return nil
	}
}

// reducer runs one reduction step in parallel; its operands are set per
// launch so the parallel call allocates nothing.
type reducer[T number] struct {
	c    op.Code
	s    reduceStep
	x, y []T
}

func (r *reducer[T]) run(lo, hi int) { reduceRows(r.c, r.s, r.x, r.y, lo, hi) }

func reduceRows[T number](c op.Code, s reduceStep, x, y []T, lo, hi int) {
	{
		for o := lo; o < hi; o++ {
			row := x[o*s.n*s.inner : (o+1)*s.n*s.inner]
			acc := y[o*s.inner : (o+1)*s.inner]
			if s.inner == 1 && c == op.ReduceSum {
				acc[0] = sumRow(row)
				continue
			}
			if s.n == 0 { // an empty sum (max and min reject empty axes when built)
				clear(acc)
				continue
			}
			copy(acc, row[:s.inner])
			for r := 1; r < s.n; r++ {
				v := row[r*s.inner : (r+1)*s.inner]
				// Row by row, with the elementwise (vector) loops:
				// acc = acc ⊕ v.
				switch c {
				case op.ReduceSum:
					binaryLoop(op.Add, acc, v, acc)
				case op.ReduceMax:
					binaryLoop(op.Maximum, acc, v, acc)
				case op.ReduceMin:
					binaryLoop(op.Minimum, acc, v, acc)
				}
			}
		}
	}
}

// sumRow sums a contiguous row: floats in a wide float64 accumulator for
// long rows, integers exactly in their own type (a float64 accumulator
// would round int64 sums beyond 2^53).
func sumRow[T number](row []T) T {
	var zero T
	switch any(zero).(type) {
	case float32:
		sum, done := sumF32(as[float32](row))
		for _, v := range row[done:] {
			sum += float64(v)
		}
		return T(sum)
	case float64:
		var sum float64
		for _, v := range row {
			sum += float64(v)
		}
		return T(sum)
	}
	var sum T
	for _, v := range row {
		sum += v
	}
	return sum
}

func argmaxKernel(in backend.Operand, axis int) (kernelFunc, error) {
	outer, n, inner := split(in.Shape, axis, axis)
	switch in.DType {
	case tensor.F32:
		return argmax[float32](outer, n, inner), nil
	case tensor.F64:
		return argmax[float64](outer, n, inner), nil
	case tensor.I32:
		return argmax[int32](outer, n, inner), nil
	case tensor.I64:
		return argmax[int64](outer, n, inner), nil
	}
	return nil, unsupported(op.ArgMax, in.DType)
}

// argmax returns the first index of the largest value; a NaN wins, as in
// torch.argmax.
func argmax[T number](outer, n, inner int) kernelFunc {
	return func(in []*tensor.Array, out *tensor.Array) error {
		x, y := typed[T](in[0]), out.Int64s()
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				base := o*n*inner + i
				best, bi := x[base], 0
				for r := 1; r < n && best == best; r++ {
					if v := x[base+r*inner]; v > best || v != v {
						best, bi = v, r
					}
				}
				y[o*inner+i] = int64(bi)
			}
		}
		return nil
	}
}

func softmaxKernel(c op.Code, in backend.Operand, axis int) (kernelFunc, error) {
	outer, n, inner := split(in.Shape, axis, axis)
	switch in.DType {
	case tensor.F32:
		return softmax[float32](c == op.LogSoftmax, outer, n, inner), nil
	case tensor.F64:
		return softmax[float64](c == op.LogSoftmax, outer, n, inner), nil
	}
	return nil, unsupported(c, in.DType)
}

// softmax subtracts the row maximum so exp never overflows, and sums in
// float64.
func softmax[T float](logOut bool, outer, n, inner int) kernelFunc {
	var x, y []T
	body := rangeFunc(func(lo, hi int) {
		for r := lo; r < hi; r++ {
			o, i := r/inner, r%inner
			base := o*n*inner + i
			var z T
			if _, ok := any(z).(float32); ok && inner == 1 { // boxing a zero scalar does not allocate
				softmaxRowF32(logOut, as[float32](x[base:base+n]), as[float32](y[base:base+n]))
				continue
			}
			m := math.Inf(-1)
			for k := 0; k < n; k++ {
				m = math.Max(m, float64(x[base+k*inner]))
			}
			var sum float64
			for k := 0; k < n; k++ {
				sum += math.Exp(float64(x[base+k*inner]) - m)
			}
			if logOut {
				ls := m + math.Log(sum)
				for k := 0; k < n; k++ {
					y[base+k*inner] = T(float64(x[base+k*inner]) - ls)
				}
				continue
			}
			for k := 0; k < n; k++ {
				y[base+k*inner] = T(math.Exp(float64(x[base+k*inner])-m) / sum)
			}
		}
	})
	return func(in []*tensor.Array, out *tensor.Array) error {
		x, y = typed[T](in[0]), typed[T](out)
		parallelRun(outer*inner, n*4, body)
		return nil
	}
}

// softmaxRowF32 is softmax over one contiguous f32 row with the vector exp:
// y = e^(x-max) in f32, summed in f64, then scaled (or, for log-softmax,
// y = x - max - log Σ).
func softmaxRowF32(logOut bool, x, y []float32) {
	// Four running maxima and the vector sum: a decode step's attention
	// rows are short and many, so these loops are most of its softmax.
	// The builtin max propagates NaN.
	inf := float32(math.Inf(-1))
	m0, m1, m2, m3 := inf, inf, inf, inf
	k := 0
	for ; k+4 <= len(x); k += 4 {
		m0, m1, m2, m3 = max(m0, x[k]), max(m1, x[k+1]), max(m2, x[k+2]), max(m3, x[k+3])
	}
	for ; k < len(x); k++ {
		m0 = max(m0, x[k])
	}
	m := max(m0, m1, m2, m3)
	for k, v := range x {
		y[k] = v - m
	}
	expF32(y, y)
	sum, done := sumF32(y)
	for _, v := range y[done:] {
		sum += float64(v)
	}
	if logOut {
		// In float64: x and the log-sum may be large and close, where an
		// f32 subtraction would lose the result's digits.
		ls := float64(m) + math.Log(sum)
		for k, v := range x {
			y[k] = float32(float64(v) - ls)
		}
		return
	}
	s := float32(1 / sum)
	for k := range y {
		y[k] *= s
	}
}
