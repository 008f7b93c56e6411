package tensor_test

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/aethertensor/aether/tensor"
)

var allTypes = []tensor.DType{tensor.F32, tensor.F64, tensor.I32, tensor.I64, tensor.Bool, tensor.F16, tensor.BF16}

func TestZeros(t *testing.T) {
	for _, d := range allTypes {
		for _, s := range []tensor.Shape{nil, {0}, {3}, {2, 0, 4}, {2, 3}} {
			t.Run(fmt.Sprintf("%v/%v", d, s), func(t *testing.T) {
				a, err := tensor.Zeros(d, s)
				if err != nil {
					t.Fatal(err)
				}
				if a.DType() != d || !a.Shape().Equal(s) || a.Len() != s.Size() {
					t.Fatalf("got %v%v len %d", a.DType(), a.Shape(), a.Len())
				}
				for i := 0; i < a.Len(); i++ {
					if a.Flat(i) != 0 {
						t.Fatalf("element %d = %v", i, a.Flat(i))
					}
				}
			})
		}
	}
	if _, err := tensor.Zeros(tensor.F32, tensor.Shape{2, -1}); !errors.Is(err, tensor.ErrShape) {
		t.Errorf("negative dimension: %v, want ErrShape", err)
	}
	if _, err := tensor.Zeros(tensor.Invalid, tensor.Shape{2}); !errors.Is(err, tensor.ErrDType) {
		t.Errorf("invalid dtype: %v, want ErrDType", err)
	}
	s := tensor.Shape{2, 3}
	a := tensor.MustZeros(tensor.F32, s)
	s[0] = 9
	if a.Shape()[0] != 2 {
		t.Error("Zeros kept the caller's shape slice")
	}
}

func TestConstructors(t *testing.T) {
	cases := []struct {
		name string
		make func() (*tensor.Array, error)
		d    tensor.DType
		s    tensor.Shape
		err  error
	}{
		{"f32 vector", func() (*tensor.Array, error) { return tensor.FromFloat32([]float32{1, 2, 3}) }, tensor.F32, tensor.Shape{3}, nil},
		{"f64 matrix", func() (*tensor.Array, error) { return tensor.FromFloat64([]float64{1, 2, 3, 4, 5, 6}, 2, 3) }, tensor.F64, tensor.Shape{2, 3}, nil},
		{"i32 scalar shape", func() (*tensor.Array, error) { return tensor.FromInt32([]int32{7}, 1, 1) }, tensor.I32, tensor.Shape{1, 1}, nil},
		{"i64 empty", func() (*tensor.Array, error) { return tensor.FromInt64(nil, 0, 5) }, tensor.I64, tensor.Shape{0, 5}, nil},
		{"bool", func() (*tensor.Array, error) { return tensor.FromBool([]bool{true, false}, 2) }, tensor.Bool, tensor.Shape{2}, nil},
		{"f16 bits", func() (*tensor.Array, error) { return tensor.FromBits(tensor.F16, []uint16{0x3c00}, 1) }, tensor.F16, tensor.Shape{1}, nil},
		{"bf16 bits", func() (*tensor.Array, error) { return tensor.FromBits(tensor.BF16, []uint16{0x3f80, 0}) }, tensor.BF16, tensor.Shape{2}, nil},
		{"size mismatch", func() (*tensor.Array, error) { return tensor.FromFloat32([]float32{1, 2, 3}, 2, 2) }, 0, nil, tensor.ErrShape},
		{"negative dim", func() (*tensor.Array, error) { return tensor.FromFloat64([]float64{}, -1, 0) }, 0, nil, tensor.ErrShape},
		{"bits of f32", func() (*tensor.Array, error) { return tensor.FromBits(tensor.F32, []uint16{1}) }, 0, nil, tensor.ErrDType},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := c.make()
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.DType() != c.d || !a.Shape().Equal(c.s) {
				t.Fatalf("got %v%v, want %v%v", a.DType(), a.Shape(), c.d, c.s)
			}
		})
	}
	defer func() {
		if recover() == nil {
			t.Error("NewF32 with a bad shape did not panic")
		}
	}()
	tensor.NewF32([]float32{1}, 2)
}

func TestFlatSetAt(t *testing.T) {
	vals := []float64{-2.5, 0, 1, 3.75, 100, -7}
	for _, d := range allTypes {
		t.Run(d.String(), func(t *testing.T) {
			a := tensor.MustZeros(d, tensor.Shape{2, 3})
			for i, v := range vals {
				a.SetFlat(i, v)
			}
			for i, v := range vals {
				var want float64
				switch d {
				case tensor.I32, tensor.I64:
					want = math.Trunc(v)
				case tensor.Bool:
					if v != 0 {
						want = 1
					}
				default:
					want = v // exact in every float type
				}
				if got := a.Flat(i); got != want {
					t.Errorf("Flat(%d) = %v, want %v", i, got, want)
				}
				if got := a.At(i/3, i%3); got != want {
					t.Errorf("At(%d, %d) = %v, want %v", i/3, i%3, got, want)
				}
			}
			out := a.ToFloat64()
			for i := range out {
				if out[i] != a.Flat(i) {
					t.Fatalf("ToFloat64[%d] = %v", i, out[i])
				}
			}
		})
	}
	s := tensor.Scalar(tensor.F64, 2.5)
	if s.Shape().Rank() != 0 || s.Len() != 1 || s.At() != 2.5 {
		t.Errorf("Scalar: %v", s)
	}
}

func TestTypedAccessors(t *testing.T) {
	f := tensor.NewF32([]float32{1}, 1)
	if f.Float32s() == nil || f.Float64s() != nil || f.Int32s() != nil || f.Int64s() != nil || f.Bools() != nil || f.Bits() != nil {
		t.Error("F32 accessors")
	}
	h, _ := tensor.FromBits(tensor.F16, []uint16{0x3c00})
	if h.Bits() == nil || h.Float32s() != nil {
		t.Error("F16 accessors")
	}
	if _, ok := h.Data().([]uint16); !ok {
		t.Errorf("F16 Data is %T", h.Data())
	}
}

func TestConvert(t *testing.T) {
	src := tensor.NewF64([]float64{-2.75, -0.5, 0, 0.5, 2.99, 1e10}, 6)
	cases := []struct {
		to   tensor.DType
		want []float64
	}{
		{tensor.I64, []float64{-2, 0, 0, 0, 2, 1e10}},
		{tensor.Bool, []float64{1, 1, 0, 1, 1, 1}},
		{tensor.F32, []float64{-2.75, -0.5, 0, 0.5, float64(float32(2.99)), 1e10}},
		{tensor.F16, []float64{-2.75, -0.5, 0, 0.5, float64(tensor.F16ToF32(tensor.F32ToF16(2.99))), math.Inf(1)}},
		{tensor.BF16, []float64{-2.75, -0.5, 0, 0.5, float64(tensor.BF16ToF32(tensor.F32ToBF16(2.99))), float64(tensor.BF16ToF32(tensor.F32ToBF16(1e10)))}},
	}
	for _, c := range cases {
		t.Run(c.to.String(), func(t *testing.T) {
			a, err := src.Convert(c.to)
			if err != nil {
				t.Fatal(err)
			}
			if a.DType() != c.to || !a.Shape().Equal(src.Shape()) {
				t.Fatalf("got %v%v", a.DType(), a.Shape())
			}
			for i, w := range c.want {
				if a.Flat(i) != w {
					t.Errorf("element %d = %v, want %v", i, a.Flat(i), w)
				}
			}
		})
	}
	if _, err := src.Convert(tensor.Invalid); err == nil {
		t.Error("Convert to an invalid dtype: no error")
	}
}

func TestCloneReshapeCopy(t *testing.T) {
	big := tensor.NewI64([]int64{1<<62 + 1, -(1 << 60) - 3}, 2)
	c := big.Clone()
	if c.Int64s()[0] != 1<<62+1 || c.Int64s()[1] != -(1<<60)-3 {
		t.Errorf("Clone lost int64 precision: %v", c.Int64s())
	}
	c.Int64s()[0] = 0
	if big.Int64s()[0] == 0 {
		t.Error("Clone shares memory")
	}

	a := tensor.NewF32([]float32{1, 2, 3, 4, 5, 6}, 2, 3)
	r, err := a.Reshape(3, 2)
	if err != nil {
		t.Fatal(err)
	}
	r.Float32s()[5] = 60
	if a.At(1, 2) != 60 || r.At(2, 1) != 60 {
		t.Error("Reshape does not share data")
	}
	if _, err := a.Reshape(4, 2); !errors.Is(err, tensor.ErrShape) {
		t.Errorf("bad Reshape: %v", err)
	}

	dst := tensor.MustZeros(tensor.I32, tensor.Shape{6})
	if err := dst.CopyFrom(a); err != nil {
		t.Fatal(err)
	}
	if dst.Int32s()[5] != 60 || dst.Int32s()[0] != 1 {
		t.Errorf("CopyFrom converted to %v", dst.Int32s())
	}
	if err := dst.CopyFrom(tensor.NewF32([]float32{1}, 1)); !errors.Is(err, tensor.ErrShape) {
		t.Errorf("CopyFrom of another size: %v", err)
	}
	for _, d := range allTypes {
		src, _ := a.Convert(d)
		out := tensor.MustZeros(d, tensor.Shape{6})
		if err := out.CopyFrom(src); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 6; i++ {
			if out.Flat(i) != src.Flat(i) {
				t.Errorf("%v CopyFrom element %d = %v, want %v", d, i, out.Flat(i), src.Flat(i))
			}
		}
	}
	// Half arrays of one type copy their bits, NaN payloads included; of
	// the other type they convert.
	for d, bits := range map[tensor.DType][]uint16{
		tensor.F16:  {0x7c01, 0xfc00, 0x8000, 0x3c00}, // a signalling NaN first
		tensor.BF16: {0x7f81, 0xff80, 0x8000, 0x3f80},
	} {
		src, err := tensor.FromBits(d, bits, 4)
		if err != nil {
			t.Fatal(err)
		}
		same := tensor.MustZeros(d, tensor.Shape{4})
		if err := same.CopyFrom(src); err != nil || !slices.Equal(same.Bits(), bits) {
			t.Errorf("%v CopyFrom gave bits %04x (%v), want %04x", d, same.Bits(), err, bits)
		}
	}
	f16, _ := tensor.FromBits(tensor.F16, []uint16{0x3c00, 0xc000}, 2) // 1, -2
	bf := tensor.MustZeros(tensor.BF16, tensor.Shape{2})
	if err := bf.CopyFrom(f16); err != nil || bf.Flat(0) != 1 || bf.Flat(1) != -2 {
		t.Errorf("f16 -> bf16 CopyFrom = %v, %v (%v)", bf.Flat(0), bf.Flat(1), err)
	}
}

func TestArrayString(t *testing.T) {
	if s := tensor.NewF64([]float64{1.5, -2}, 2).String(); s != "f64[2][1.5 -2]" {
		t.Errorf("String = %q", s)
	}
	long := tensor.MustZeros(tensor.I32, tensor.Shape{10, 10})
	if s := long.String(); !strings.HasSuffix(s, "…(36 more)]") || !strings.HasPrefix(s, "i32[10 10][0 0") {
		t.Errorf("String = %q", s)
	}
}

func TestShape(t *testing.T) {
	cases := []struct {
		s       tensor.Shape
		size    int
		strides []int
		str     string
	}{
		{nil, 1, []int{}, "[]"},
		{tensor.Shape{5}, 5, []int{1}, "[5]"},
		{tensor.Shape{2, 3, 4}, 24, []int{12, 4, 1}, "[2 3 4]"},
		{tensor.Shape{2, 0, 4}, 0, []int{0, 4, 1}, "[2 0 4]"},
		{tensor.Shape{1, 1}, 1, []int{1, 1}, "[1 1]"},
	}
	for _, c := range cases {
		t.Run(c.str, func(t *testing.T) {
			if c.s.Size() != c.size || c.s.Rank() != len(c.strides) || c.s.String() != c.str {
				t.Errorf("Size %d Rank %d String %q", c.s.Size(), c.s.Rank(), c.s.String())
			}
			st := c.s.Strides()
			if fmt.Sprint(st) != fmt.Sprint(c.strides) {
				t.Errorf("Strides %v, want %v", st, c.strides)
			}
			cl := c.s.Clone()
			if !cl.Equal(c.s) || (c.s == nil) != (cl == nil) {
				t.Errorf("Clone %v", cl)
			}
		})
	}
	if (tensor.Shape{2, 3}).Equal(tensor.Shape{3, 2}) || (tensor.Shape{2}).Equal(tensor.Shape{2, 1}) || !(tensor.Shape{}).Equal(nil) {
		t.Error("Equal")
	}
}

func TestBroadcast(t *testing.T) {
	cases := []struct {
		a, b, want tensor.Shape
		ok         bool
	}{
		{tensor.Shape{2, 3}, tensor.Shape{2, 3}, tensor.Shape{2, 3}, true},
		{tensor.Shape{2, 3}, nil, tensor.Shape{2, 3}, true},
		{nil, nil, tensor.Shape{}, true},
		{tensor.Shape{3, 1}, tensor.Shape{1, 4}, tensor.Shape{3, 4}, true},
		{tensor.Shape{2, 1, 4}, tensor.Shape{3, 1}, tensor.Shape{2, 3, 4}, true},
		{tensor.Shape{0, 3}, tensor.Shape{3}, tensor.Shape{0, 3}, true},
		{tensor.Shape{0}, tensor.Shape{1}, tensor.Shape{0}, true},
		{tensor.Shape{2, 3}, tensor.Shape{3, 2}, nil, false},
		{tensor.Shape{0}, tensor.Shape{2}, nil, false},
		{tensor.Shape{4}, tensor.Shape{2, 3}, nil, false},
	}
	for _, c := range cases {
		for _, swap := range []bool{false, true} {
			a, b := c.a, c.b
			if swap {
				a, b = b, a
			}
			got, ok := tensor.Broadcast(a, b)
			if ok != c.ok || (ok && !got.Equal(c.want)) {
				t.Errorf("Broadcast(%v, %v) = %v, %v; want %v, %v", a, b, got, ok, c.want, c.ok)
			}
		}
	}
}

// TestConvertSameTypeExact is a regression test: Convert to the array's own
// dtype went through float64, so graph.Const, Param and Variable rounded
// int64 values beyond 2^53.
func TestConvertSameTypeExact(t *testing.T) {
	src := tensor.NewI64([]int64{1<<60 + 1, -(1 << 62) - 3, math.MaxInt64}, 3)
	c, err := src.Convert(tensor.I64)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range src.Int64s() {
		if c.Int64s()[i] != v {
			t.Errorf("element %d = %d, want %d", i, c.Int64s()[i], v)
		}
	}
	c.Int64s()[0] = 0
	if src.Int64s()[0] == 0 {
		t.Error("Convert shares memory")
	}
	for _, d := range allTypes {
		a, _ := tensor.NewF64([]float64{1.5, -2, 0}, 3).Convert(d)
		b, err := a.Convert(d)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if a.Flat(i) != b.Flat(i) {
				t.Errorf("%v element %d: %v, want %v", d, i, b.Flat(i), a.Flat(i))
			}
		}
	}
}
