package tensor

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// ErrShape reports data whose length does not match a shape, or a bad shape.
var ErrShape = errors.New("tensor: shape mismatch")

// ErrDType reports an operation on an unsupported or mismatched dtype.
var ErrDType = errors.New("tensor: bad dtype")

// Array is a dense row-major host array. Its element slice is one of
// []float32, []float64, []int32, []int64, []bool, or []uint16 for F16/BF16.
type Array struct {
	dtype DType
	shape Shape
	data  any
}

// Zeros returns a zero-filled array.
func Zeros(d DType, s Shape) (*Array, error) {
	for _, n := range s {
		if n < 0 {
			return nil, fmt.Errorf("%w: negative dimension in %v", ErrShape, s)
		}
	}
	n := s.Size()
	a := &Array{dtype: d, shape: s.Clone()}
	switch d {
	case F32:
		a.data = make([]float32, n)
	case F64:
		a.data = make([]float64, n)
	case I32:
		a.data = make([]int32, n)
	case I64:
		a.data = make([]int64, n)
	case Bool:
		a.data = make([]bool, n)
	case F16, BF16:
		a.data = make([]uint16, n)
	default:
		return nil, fmt.Errorf("%w: %v", ErrDType, d)
	}
	return a, nil
}

// MustZeros is Zeros for shapes known to be valid; it panics otherwise.
func MustZeros(d DType, s Shape) *Array {
	a, err := Zeros(d, s)
	if err != nil {
		panic(err)
	}
	return a
}

func wrap[T any](d DType, data []T, shape []int) (*Array, error) {
	s := Shape(shape)
	if shape == nil {
		s = Shape{len(data)}
	}
	for _, n := range s {
		if n < 0 {
			return nil, fmt.Errorf("%w: negative dimension in %v", ErrShape, s)
		}
	}
	if s.Size() != len(data) {
		return nil, fmt.Errorf("%w: %d elements for shape %v", ErrShape, len(data), s)
	}
	return &Array{dtype: d, shape: s.Clone(), data: data}, nil
}

func must(a *Array, err error) *Array {
	if err != nil {
		panic(err)
	}
	return a
}

// FromFloat32 wraps data (not copied) with the given shape; no shape means a
// vector. It returns an error when the sizes disagree.
func FromFloat32(data []float32, shape ...int) (*Array, error) { return wrap(F32, data, shape) }

// FromFloat64 is FromFloat32 for float64 data.
func FromFloat64(data []float64, shape ...int) (*Array, error) { return wrap(F64, data, shape) }

// FromInt32 is FromFloat32 for int32 data.
func FromInt32(data []int32, shape ...int) (*Array, error) { return wrap(I32, data, shape) }

// FromInt64 is FromFloat32 for int64 data.
func FromInt64(data []int64, shape ...int) (*Array, error) { return wrap(I64, data, shape) }

// FromBool is FromFloat32 for bool data.
func FromBool(data []bool, shape ...int) (*Array, error) { return wrap(Bool, data, shape) }

// FromBits wraps raw F16 or BF16 bit patterns.
func FromBits(d DType, data []uint16, shape ...int) (*Array, error) {
	if d != F16 && d != BF16 {
		return nil, fmt.Errorf("%w: FromBits takes f16 or bf16, not %v", ErrDType, d)
	}
	return wrap(d, data, shape)
}

// NewF32 is FromFloat32 that panics on a size mismatch; for literals in
// examples and tests.
func NewF32(data []float32, shape ...int) *Array { return must(FromFloat32(data, shape...)) }

// NewF64 is FromFloat64 that panics on a size mismatch.
func NewF64(data []float64, shape ...int) *Array { return must(FromFloat64(data, shape...)) }

// NewI32 is FromInt32 that panics on a size mismatch.
func NewI32(data []int32, shape ...int) *Array { return must(FromInt32(data, shape...)) }

// NewI64 is FromInt64 that panics on a size mismatch.
func NewI64(data []int64, shape ...int) *Array { return must(FromInt64(data, shape...)) }

// Scalar returns a rank-0 array of dtype d holding v.
func Scalar(d DType, v float64) *Array {
	a := MustZeros(d, nil)
	a.SetFlat(0, v)
	return a
}

// DType returns the element type.
func (a *Array) DType() DType { return a.dtype }

// Shape returns the shape. Callers must not modify it.
func (a *Array) Shape() Shape { return a.shape }

// Len returns the number of elements.
func (a *Array) Len() int { return a.shape.Size() }

// Data returns the element slice as stored (see Array).
func (a *Array) Data() any { return a.data }

// Float32s returns the elements of an F32 array, or nil for other dtypes.
func (a *Array) Float32s() []float32 { s, _ := a.data.([]float32); return s }

// Float64s returns the elements of an F64 array, or nil for other dtypes.
func (a *Array) Float64s() []float64 { s, _ := a.data.([]float64); return s }

// Int32s returns the elements of an I32 array, or nil for other dtypes.
func (a *Array) Int32s() []int32 { s, _ := a.data.([]int32); return s }

// Int64s returns the elements of an I64 array, or nil for other dtypes.
func (a *Array) Int64s() []int64 { s, _ := a.data.([]int64); return s }

// Bools returns the elements of a Bool array, or nil for other dtypes.
func (a *Array) Bools() []bool { s, _ := a.data.([]bool); return s }

// Bits returns the raw elements of an F16 or BF16 array, or nil.
func (a *Array) Bits() []uint16 { s, _ := a.data.([]uint16); return s }

// Flat returns element i (row-major) converted to float64.
func (a *Array) Flat(i int) float64 {
	switch s := a.data.(type) {
	case []float32:
		return float64(s[i])
	case []float64:
		return s[i]
	case []int32:
		return float64(s[i])
	case []int64:
		return float64(s[i])
	case []bool:
		if s[i] {
			return 1
		}
		return 0
	case []uint16:
		if a.dtype == BF16 {
			return float64(BF16ToF32(s[i]))
		}
		return float64(F16ToF32(s[i]))
	}
	return math.NaN()
}

// SetFlat stores v, converted to the array's dtype, at row-major index i.
func (a *Array) SetFlat(i int, v float64) {
	switch s := a.data.(type) {
	case []float32:
		s[i] = float32(v)
	case []float64:
		s[i] = v
	case []int32:
		s[i] = int32(v)
	case []int64:
		s[i] = int64(v)
	case []bool:
		s[i] = v != 0
	case []uint16:
		if a.dtype == BF16 {
			s[i] = F32ToBF16(float32(v))
		} else {
			s[i] = F32ToF16(float32(v))
		}
	}
}

// At returns the element at the given index converted to float64.
func (a *Array) At(idx ...int) float64 {
	off, st := 0, a.shape.Strides()
	for i, x := range idx {
		off += x * st[i]
	}
	return a.Flat(off)
}

// ToFloat64 returns all elements converted to float64 in a new slice.
func (a *Array) ToFloat64() []float64 {
	out := make([]float64, a.Len())
	for i := range out {
		out[i] = a.Flat(i)
	}
	return out
}

// Convert returns a new array of dtype d with the same shape and the values
// converted (float to int truncates toward zero).
func (a *Array) Convert(d DType) (*Array, error) {
	out, err := Zeros(d, a.shape)
	if err != nil {
		return nil, err
	}
	if d == a.dtype {
		// An exact copy: going through float64 would round int64 values
		// beyond 2^53.
		return out, out.CopyFrom(a)
	}
	for i, n := 0, a.Len(); i < n; i++ {
		out.SetFlat(i, a.Flat(i))
	}
	return out, nil
}

// Clone returns a deep copy.
func (a *Array) Clone() *Array {
	out, _ := a.Convert(a.dtype)
	if a.dtype == I64 { // exact for values beyond 2^53
		copy(out.Int64s(), a.Int64s())
	}
	return out
}

// Reshape returns an array sharing a's data with a new shape of the same size.
func (a *Array) Reshape(shape ...int) (*Array, error) {
	s := Shape(shape)
	if s.Size() != a.Len() {
		return nil, fmt.Errorf("%w: cannot reshape %v to %v", ErrShape, a.shape, s)
	}
	return &Array{dtype: a.dtype, shape: s.Clone(), data: a.data}, nil
}

// CopyFrom copies src's elements into a. Shapes must match in size;
// dtypes are converted.
func (a *Array) CopyFrom(src *Array) error {
	if src.Len() != a.Len() {
		return fmt.Errorf("%w: copy %v into %v", ErrShape, src.shape, a.shape)
	}
	switch d := a.data.(type) {
	case []float32:
		if s, ok := src.data.([]float32); ok {
			copy(d, s)
			return nil
		}
	case []float64:
		if s, ok := src.data.([]float64); ok {
			copy(d, s)
			return nil
		}
	case []int32:
		if s, ok := src.data.([]int32); ok {
			copy(d, s)
			return nil
		}
	case []int64:
		if s, ok := src.data.([]int64); ok {
			copy(d, s)
			return nil
		}
	case []bool:
		if s, ok := src.data.([]bool); ok {
			copy(d, s)
			return nil
		}
	case []uint16: // f16, bf16: the same type copies its bits (NaN payloads too)
		if s, ok := src.data.([]uint16); ok && src.dtype == a.dtype {
			copy(d, s)
			return nil
		}
	}
	for i, n := 0, a.Len(); i < n; i++ {
		a.SetFlat(i, src.Flat(i))
	}
	return nil
}

// String prints the dtype, shape and up to 64 values.
func (a *Array) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v%v[", a.dtype, a.shape)
	n := a.Len()
	for i := 0; i < n && i < 64; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.6g", a.Flat(i))
	}
	if n > 64 {
		fmt.Fprintf(&b, " …(%d more)", n-64)
	}
	b.WriteByte(']')
	return b.String()
}
