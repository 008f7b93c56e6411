package cpu

import (
	"fmt"
	"math"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

type float interface{ ~float32 | ~float64 }

type integer interface{ ~int32 | ~int64 }

type number interface{ float | integer }

func unsupported(c op.Code, d tensor.DType) error {
	return fmt.Errorf("%w: %v on %v", backend.ErrUnsupported, c, d)
}

// typed returns the element slice of a as []T (nil when the dtype differs).
func typed[T any](a *tensor.Array) []T { s, _ := a.Data().([]T); return s }

func unaryKernel(c op.Code, d tensor.DType) (kernelFunc, error) {
	switch d {
	case tensor.F32:
		return unaryFloat[float32](c), nil
	case tensor.F64:
		return unaryFloat[float64](c), nil
	case tensor.I32:
		return unaryInt[int32](c)
	case tensor.I64:
		return unaryInt[int64](c)
	}
	return nil, unsupported(c, d)
}

// The kernels below build their parallel body once, at Prepare, over
// variables each launch sets; a launch then allocates nothing. A prepared
// kernel belongs to one Program step, and a Program's runs are serialised.

func unaryFloat[T float](c op.Code) kernelFunc {
	var x, y []T
	body := rangeFunc(func(lo, hi int) { unaryLoop(c, x[lo:hi], y[lo:hi]) })
	return func(in []*tensor.Array, out *tensor.Array) error {
		x, y = typed[T](in[0]), typed[T](out)
		parallelRun(len(y), 8, body)
		return nil
	}
}

// unaryLoop switches once per chunk so each inner loop is a plain loop.
func unaryLoop[T float](c op.Code, x, y []T) {
	y = y[:len(x)]
	if done := vecUnary(c, x, y); done > 0 {
		x, y = x[done:], y[done:]
	}
	switch c {
	case op.Neg:
		for i, v := range x {
			y[i] = -v
		}
	case op.Abs:
		for i, v := range x {
			y[i] = T(math.Abs(float64(v)))
		}
	case op.Sign:
		for i, v := range x {
			switch {
			case v > 0:
				y[i] = 1
			case v < 0:
				y[i] = -1
			default:
				y[i] = v // keeps ±0 and NaN
			}
		}
	case op.Exp:
		if x32, ok := any(x).([]float32); ok {
			y32 := any(y).([]float32)
			for i, v := range x32 {
				y32[i] = exp32(v)
			}
			break
		}
		for i, v := range x {
			y[i] = T(math.Exp(float64(v)))
		}
	case op.Log:
		for i, v := range x {
			y[i] = T(math.Log(float64(v)))
		}
	case op.Sqrt:
		for i, v := range x {
			y[i] = T(math.Sqrt(float64(v)))
		}
	case op.Rsqrt:
		for i, v := range x {
			y[i] = 1 / T(math.Sqrt(float64(v))) // two roundings, as the vector loops
		}
	case op.Recip:
		for i, v := range x {
			y[i] = 1 / v
		}
	case op.Sin:
		for i, v := range x {
			y[i] = T(math.Sin(float64(v)))
		}
	case op.Cos:
		for i, v := range x {
			y[i] = T(math.Cos(float64(v)))
		}
	case op.Tanh:
		for i, v := range x {
			y[i] = T(math.Tanh(float64(v)))
		}
	case op.Sigmoid:
		if x32, ok := any(x).([]float32); ok {
			y32 := any(y).([]float32)
			for i, v := range x32 {
				y32[i] = sigmoid32(v)
			}
			break
		}
		for i, v := range x {
			y[i] = T(sigmoid(float64(v)))
		}
	case op.Relu:
		for i, v := range x {
			if v > 0 || v != v { // NaN passes through, as in torch
				y[i] = v
			} else {
				y[i] = 0
			}
		}
	case op.Erf:
		for i, v := range x {
			y[i] = T(math.Erf(float64(v)))
		}
	}
}

// sigmoid avoids overflow of exp for large negative inputs.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func unaryInt[T integer](c op.Code) (kernelFunc, error) {
	switch c {
	case op.Neg, op.Abs, op.Sign, op.Relu:
	default:
		return nil, unsupported(c, tensor.I64)
	}
	return func(in []*tensor.Array, out *tensor.Array) error {
		intUnaryLoop(c, typed[T](in[0]), typed[T](out))
		return nil
	}, nil
}

func intUnaryLoop[T integer](c op.Code, x, y []T) {
	y = y[:len(x)]
	switch c {
	case op.Neg:
		for i, v := range x {
			y[i] = -v
		}
	case op.Abs:
		for i, v := range x {
			y[i] = max(v, -v)
		}
	case op.Sign:
		for i, v := range x {
			y[i] = min(max(v, -1), 1)
		}
	case op.Relu:
		for i, v := range x {
			y[i] = max(v, 0)
		}
	}
}

func binaryKernel(c op.Code, d tensor.DType) (kernelFunc, error) {
	switch d {
	case tensor.F32:
		return binary[float32](c), nil
	case tensor.F64:
		return binary[float64](c), nil
	case tensor.I32:
		if c == op.Pow {
			return nil, unsupported(c, d)
		}
		return binary[int32](c), nil
	case tensor.I64:
		if c == op.Pow {
			return nil, unsupported(c, d)
		}
		return binary[int64](c), nil
	}
	return nil, unsupported(c, d)
}

func binary[T number](c op.Code) kernelFunc {
	var a, b, y []T
	var err error
	body := rangeFunc(func(lo, hi int) {
		if e := binaryLoop(c, a[lo:hi], b[lo:hi], y[lo:hi]); e != nil {
			err = e
		}
	})
	return func(in []*tensor.Array, out *tensor.Array) error {
		a, b, y, err = typed[T](in[0]), typed[T](in[1]), typed[T](out), nil
		parallelRun(len(y), 2, body)
		return err
	}
}

func binaryLoop[T number](c op.Code, a, b, y []T) error {
	b, y = b[:len(a)], y[:len(a)]
	if done := vecBinary(c, a, b, y); done > 0 {
		a, b, y = a[done:], b[done:], y[done:]
	}
	switch c {
	case op.Add:
		for i := range a {
			y[i] = a[i] + b[i]
		}
	case op.Sub:
		for i := range a {
			y[i] = a[i] - b[i]
		}
	case op.Mul:
		for i := range a {
			y[i] = a[i] * b[i]
		}
	case op.Div:
		var zero T
		if _, isFloat := any(zero).(float32); !isFloat {
			if _, isFloat = any(zero).(float64); !isFloat {
				for i := range b {
					if b[i] == 0 {
						return fmt.Errorf("cpu: integer division by zero")
					}
				}
			}
		}
		for i := range a {
			y[i] = a[i] / b[i]
		}
	case op.Pow:
		for i := range a {
			y[i] = T(math.Pow(float64(a[i]), float64(b[i])))
		}
	case op.Maximum:
		for i := range a {
			y[i] = maxNaN(a[i], b[i])
		}
	case op.Minimum:
		for i := range a {
			y[i] = -maxNaN(-a[i], -b[i])
		}
	}
	return nil
}

// maxNaN propagates NaN like torch.maximum.
func maxNaN[T number](a, b T) T {
	if a != a {
		return a
	}
	if b != b || b > a {
		return b
	}
	return a
}

func compareKernel(c op.Code, d tensor.DType) (kernelFunc, error) {
	switch d {
	case tensor.F32:
		return compare[float32](c), nil
	case tensor.F64:
		return compare[float64](c), nil
	case tensor.I32:
		return compare[int32](c), nil
	case tensor.I64:
		return compare[int64](c), nil
	case tensor.Bool:
		if c == op.Eq || c == op.Ne {
			return func(in []*tensor.Array, out *tensor.Array) error {
				a, b, y := in[0].Bools(), in[1].Bools(), out.Bools()
				for i := range y {
					y[i] = (a[i] == b[i]) == (c == op.Eq)
				}
				return nil
			}, nil
		}
	}
	return nil, unsupported(c, d)
}

func compare[T number](c op.Code) kernelFunc {
	return func(in []*tensor.Array, out *tensor.Array) error {
		compareLoop(c, typed[T](in[0]), typed[T](in[1]), out.Bools())
		return nil
	}
}

func compareLoop[T number](c op.Code, a, b []T, y []bool) {
	b, y = b[:len(a)], y[:len(a)]
	switch c {
	case op.Eq:
		for i := range a {
			y[i] = a[i] == b[i]
		}
	case op.Ne:
		for i := range a {
			y[i] = a[i] != b[i]
		}
	case op.Lt:
		for i := range a {
			y[i] = a[i] < b[i]
		}
	case op.Le:
		for i := range a {
			y[i] = a[i] <= b[i]
		}
	case op.Gt:
		for i := range a {
			y[i] = a[i] > b[i]
		}
	case op.Ge:
		for i := range a {
			y[i] = a[i] >= b[i]
		}
	}
}

func whereKernel(d tensor.DType) (kernelFunc, error) {
	switch d {
	case tensor.F32:
		return where[float32], nil
	case tensor.F64:
		return where[float64], nil
	case tensor.I32:
		return where[int32], nil
	case tensor.I64:
		return where[int64], nil
	case tensor.Bool:
		return where[bool], nil
	}
	return nil, unsupported(op.Where, d)
}

func where[T any](in []*tensor.Array, out *tensor.Array) error {
	c, a, b, y := in[0].Bools(), typed[T](in[1]), typed[T](in[2]), typed[T](out)
	for i := range y {
		if c[i] {
			y[i] = a[i]
		} else {
			y[i] = b[i]
		}
	}
	return nil
}

func castKernel(from, to tensor.DType) (kernelFunc, error) {
	if from == to {
		return copyKernel(), nil
	}
	switch {
	case from == tensor.Bool:
		return func(in []*tensor.Array, out *tensor.Array) error {
			castSlot(slotOf(in[0], 0, in[0].Len()), slotOf(out, 0, out.Len()))
			return nil
		}, nil
	case to == tensor.Bool:
		return func(in []*tensor.Array, out *tensor.Array) error {
			castSlot(slotOf(in[0], 0, in[0].Len()), slotOf(out, 0, out.Len()))
			return nil
		}, nil
	}
	f := castFrom(from, to)
	if f == nil {
		return nil, unsupported(op.Cast, to)
	}
	return f, nil
}

func castFrom(from, to tensor.DType) kernelFunc {
	switch from {
	case tensor.F32:
		return castTo[float32](to)
	case tensor.F64:
		return castTo[float64](to)
	case tensor.I32:
		return castTo[int32](to)
	case tensor.I64:
		return castTo[int64](to)
	}
	return nil
}

func castTo[S number](to tensor.DType) kernelFunc {
	switch to {
	case tensor.F32:
		return castSlice[S, float32]
	case tensor.F64:
		return castSlice[S, float64]
	case tensor.I32:
		return castSlice[S, int32]
	case tensor.I64:
		return castSlice[S, int64]
	}
	return nil
}

func castSlice[S, D number](in []*tensor.Array, out *tensor.Array) error {
	x, y := typed[S](in[0]), typed[D](out)
	for i, v := range x {
		y[i] = D(v)
	}
	return nil
}

func copyKernel() kernelFunc {
	return func(in []*tensor.Array, out *tensor.Array) error { return out.CopyFrom(in[0]) }
}

// roundHalfKernel rounds f32 or f64 values to f16 or bf16 precision (ties
// to even) into an f32 result: a cast to a storage-only half type.
func roundHalfKernel(from, half tensor.DType) (kernelFunc, error) {
	round := func(v float32) float32 { return tensor.F16ToF32(tensor.F32ToF16(v)) }
	if half == tensor.BF16 {
		round = func(v float32) float32 { return tensor.BF16ToF32(tensor.F32ToBF16(v)) }
	}
	switch from {
	case tensor.F32:
		return func(in []*tensor.Array, out *tensor.Array) error {
			y := out.Float32s()
			for i, v := range in[0].Float32s() {
				y[i] = round(v)
			}
			return nil
		}, nil
	case tensor.F64:
		// Through f32 first, as a storage conversion from f64 would.
		return func(in []*tensor.Array, out *tensor.Array) error {
			y := out.Float32s()
			for i, v := range in[0].Float64s() {
				y[i] = round(float32(v))
			}
			return nil
		}, nil
	}
	return nil, unsupported(op.Cast, from)
}
