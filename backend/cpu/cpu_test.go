package cpu

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

func TestParallelForCoversOnce(t *testing.T) {
	for _, c := range []struct{ n, cost int }{
		{0, 1}, {1, 1 << 20}, {2, 1}, {7, grain}, {100, 1}, {1 << 16, 1}, {1 << 16, 8}, {3, grain * 4}, {1000, 1000},
	} {
		t.Run(fmt.Sprintf("n=%d/cost=%d", c.n, c.cost), func(t *testing.T) {
			hits := make([]int32, c.n)
			var calls atomic.Int32
			parallelFor(c.n, c.cost, func(lo, hi int) {
				calls.Add(1)
				if lo > hi || lo < 0 || hi > c.n {
					t.Errorf("chunk [%d, %d) outside [0, %d)", lo, hi, c.n)
					return
				}
				for i := lo; i < hi; i++ {
					atomic.AddInt32(&hits[i], 1)
				}
			})
			for i, h := range hits {
				if h != 1 {
					t.Fatalf("index %d visited %d times", i, h)
				}
			}
			small := c.n < 2 || c.n*c.cost < 2*grain || runtime.GOMAXPROCS(0) == 1
			if small && calls.Load() != 1 {
				t.Errorf("small work split into %d chunks", calls.Load())
			}
			if !small && calls.Load() < 2 {
				t.Errorf("large work (%d) ran in one chunk", c.n*c.cost)
			}
		})
	}
}

// launch prepares k on the CPU and runs it over in, returning the output.
func launchKernel(t *testing.T, k backend.Kernel, in ...*tensor.Array) (*tensor.Array, error) {
	t.Helper()
	d := New()
	l, err := d.Prepare(k)
	if err != nil {
		return nil, err
	}
	out, err := d.Alloc(k.Out)
	if err != nil {
		t.Fatal(err)
	}
	bufs := make([]backend.Buffer, len(in))
	for i, a := range in {
		bufs[i] = a
	}
	if err := l.Run(bufs, out); err != nil {
		return nil, err
	}
	return out.(*tensor.Array), d.Sync(context.Background())
}

func operand(a *tensor.Array) backend.Operand {
	return backend.Operand{DType: a.DType(), Shape: a.Shape()}
}

// TestReduceSumEmptyAxis is a regression test: summing over an axis of
// length zero used to slice past the end of the empty input row.
func TestReduceSumEmptyAxis(t *testing.T) {
	for _, c := range []struct {
		in   tensor.Shape
		axes []int
		out  tensor.Shape
	}{
		{tensor.Shape{2, 0, 3}, []int{1}, tensor.Shape{2, 3}},
		{tensor.Shape{2, 0}, []int{1}, tensor.Shape{2}},
		{tensor.Shape{0, 4}, []int{0}, tensor.Shape{4}},
		{tensor.Shape{2, 0, 3}, []int{0, 1}, tensor.Shape{3}},
	} {
		for _, d := range []tensor.DType{tensor.F32, tensor.F64, tensor.I32, tensor.I64} {
			t.Run(fmt.Sprintf("%v/%v/%v", d, c.in, c.axes), func(t *testing.T) {
				x := tensor.MustZeros(d, c.in)
				k := backend.Kernel{Op: op.ReduceSum, Attrs: &op.Attrs{Axes: c.axes}, In: []backend.Operand{operand(x)}, Out: backend.Operand{DType: d, Shape: c.out}}
				d := New()
				l, err := d.Prepare(k)
				if err != nil {
					t.Fatal(err)
				}
				out := tensor.MustZeros(k.Out.DType, c.out)
				for i := range out.Len() {
					out.SetFlat(i, 7) // must be overwritten with zeros
				}
				if err := l.Run([]backend.Buffer{x}, out); err != nil {
					t.Fatal(err)
				}
				for i := range out.Len() {
					if out.Flat(i) != 0 {
						t.Fatalf("element %d = %v, want 0", i, out.Flat(i))
					}
				}
			})
		}
	}
}

func TestPrepareUnsupported(t *testing.T) {
	f32 := backend.Operand{DType: tensor.F32, Shape: tensor.Shape{2}}
	b := backend.Operand{DType: tensor.Bool, Shape: tensor.Shape{2}}
	i32 := backend.Operand{DType: tensor.I32, Shape: tensor.Shape{2}}
	cases := map[string]backend.Kernel{
		"exp on i32":     {Op: op.Exp, In: []backend.Operand{i32}, Out: i32},
		"pow on i32":     {Op: op.Pow, In: []backend.Operand{i32, i32}, Out: i32},
		"add on bool":    {Op: op.Add, In: []backend.Operand{b, b}, Out: b},
		"lt on bool":     {Op: op.Lt, In: []backend.Operand{b, b}, Out: b},
		"softmax on i32": {Op: op.Softmax, Attrs: &op.Attrs{Axis: 0}, In: []backend.Operand{i32}, Out: i32},
		"assign":         {Op: op.Assign, In: []backend.Operand{f32, f32}, Out: f32},
		"invalid":        {Op: op.Invalid, Out: f32},
	}
	for name, k := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := New().Prepare(k); !errors.Is(err, backend.ErrUnsupported) {
				t.Fatalf("err = %v, want ErrUnsupported", err)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	t.Run("gather out of range", func(t *testing.T) {
		x := tensor.NewF32([]float32{1, 2, 3}, 3)
		for _, v := range []int64{3, -1, 1 << 40} {
			idx := tensor.NewI64([]int64{0, v}, 2)
			k := backend.Kernel{Op: op.Gather, Attrs: &op.Attrs{Axis: 0}, In: []backend.Operand{operand(x), operand(idx)}, Out: backend.Operand{DType: tensor.F32, Shape: tensor.Shape{2}}}
			if _, err := launchKernel(t, k, x, idx); err == nil {
				t.Errorf("index %d: no error", v)
			}
		}
	})
	t.Run("scatter out of range", func(t *testing.T) {
		src := tensor.NewF64([]float64{1, 2}, 2)
		idx := tensor.NewI32([]int32{0, 4}, 2)
		k := backend.Kernel{Op: op.ScatterAdd, Attrs: &op.Attrs{Axis: 0, Shape: tensor.Shape{4}}, In: []backend.Operand{operand(src), operand(idx)}, Out: backend.Operand{DType: tensor.F64, Shape: tensor.Shape{4}}}
		if _, err := launchKernel(t, k, src, idx); err == nil {
			t.Error("no error")
		}
	})
	t.Run("integer division by zero", func(t *testing.T) {
		for _, d := range []tensor.DType{tensor.I32, tensor.I64} {
			a, _ := tensor.NewI64([]int64{4, 5}, 2).Convert(d)
			b, _ := tensor.NewI64([]int64{2, 0}, 2).Convert(d)
			k := backend.Kernel{Op: op.Div, In: []backend.Operand{operand(a), operand(b)}, Out: operand(a)}
			if _, err := launchKernel(t, k, a, b); err == nil {
				t.Errorf("%v: no error", d)
			}
		}
	})
	t.Run("foreign buffer", func(t *testing.T) {
		x := tensor.NewF32([]float32{1}, 1)
		l, err := New().Prepare(backend.Kernel{Op: op.Neg, In: []backend.Operand{operand(x)}, Out: operand(x)})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Run([]backend.Buffer{fakeBuffer{}}, x.Clone()); err == nil {
			t.Error("no error for a buffer from another device")
		}
	})
}

type fakeBuffer struct{}

func (fakeBuffer) Len() int { return 1 }

// TestFloatDivisionByZero checks that float division follows IEEE 754
// instead of failing like integer division.
func TestFloatDivisionByZero(t *testing.T) {
	a := tensor.NewF64([]float64{1, -1, 0}, 3)
	b := tensor.NewF64([]float64{0, 0, 0}, 3)
	out, err := launchKernel(t, backend.Kernel{Op: op.Div, In: []backend.Operand{operand(a), operand(b)}, Out: operand(a)}, a, b)
	if err != nil {
		t.Fatal(err)
	}
	got := out.Float64s()
	if !math.IsInf(got[0], 1) || !math.IsInf(got[1], -1) || !math.IsNaN(got[2]) {
		t.Errorf("got %v, want [+Inf -Inf NaN]", got)
	}
}

func TestDeviceCopies(t *testing.T) {
	d := New()
	buf, err := d.Alloc(backend.Operand{DType: tensor.F32, Shape: tensor.Shape{2, 2}})
	if err != nil {
		t.Fatal(err)
	}
	src := tensor.NewF64([]float64{1.5, -2, 3, 4}, 2, 2)
	if err := d.Write(buf, src); err != nil {
		t.Fatal(err)
	}
	dst := tensor.MustZeros(tensor.F64, tensor.Shape{4})
	if err := d.Read(dst, buf); err != nil {
		t.Fatal(err)
	}
	for i, v := range src.Float64s() {
		if dst.Float64s()[i] != v {
			t.Fatalf("round trip: got %v, want %v", dst, src)
		}
	}
	if err := d.Write(buf, tensor.NewF32([]float32{1}, 1)); err == nil {
		t.Error("write of the wrong size: no error")
	}
	if _, err := d.Alloc(backend.Operand{DType: tensor.F32, Shape: tensor.Shape{-1}}); err == nil {
		t.Error("alloc of a negative shape: no error")
	}
	bound, _ := d.Bind(src)
	if bound.(*tensor.Array) != src {
		t.Error("Bind copied a host array")
	}
}

// TestReduceSumInt64Exact is a regression test: row sums of int64 used a
// float64 accumulator and rounded values beyond 2^53.
func TestReduceSumInt64Exact(t *testing.T) {
	x := tensor.NewI64([]int64{1<<60 + 1, 2, -(1 << 59) + 5, 7, 1<<62 - 1, -1}, 2, 3)
	for _, c := range []struct {
		axes []int
		out  tensor.Shape
		want []int64
	}{
		{[]int{1}, tensor.Shape{2}, []int64{1<<60 + 3 - (1 << 59) + 5, 7 + 1<<62 - 1 - 1}},
		{[]int{0}, tensor.Shape{3}, []int64{1<<60 + 8, 1<<62 + 1, -(1 << 59) + 4}},
		{[]int{0, 1}, nil, []int64{1<<60 + 3 - (1 << 59) + 5 + 7 + 1<<62 - 2}},
	} {
		k := backend.Kernel{Op: op.ReduceSum, Attrs: &op.Attrs{Axes: c.axes}, In: []backend.Operand{operand(x)}, Out: backend.Operand{DType: tensor.I64, Shape: c.out}}
		out, err := launchKernel(t, k, x)
		if err != nil {
			t.Fatal(err)
		}
		for i, w := range c.want {
			if got := out.Int64s()[i]; got != w {
				t.Errorf("axes %v element %d = %d, want %d", c.axes, i, got, w)
			}
		}
	}
}
