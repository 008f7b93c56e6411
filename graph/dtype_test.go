package graph_test

// Casts between every pair of dtypes, and the widening of F16/BF16 storage
// on constants, parameters and placeholder feeds.

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

var allTypes = []tensor.DType{tensor.F32, tensor.F64, tensor.I32, tensor.I64, tensor.Bool, tensor.F16, tensor.BF16}

// castRef converts v, already representable in from, to dtype to: floats to
// integers truncate toward zero, anything to bool tests for non-zero, and
// F16/BF16 targets compute as F32.
func castRef(v float64, to tensor.DType) float64 {
	switch to {
	case tensor.Bool:
		return b2f(v != 0)
	case tensor.I32, tensor.I64:
		return math.Trunc(v)
	case tensor.F32, tensor.F16, tensor.BF16:
		return float64(float32(v))
	}
	return v
}

func TestCastAllPairs(t *testing.T) {
	// Values exact in every float type (including f16 and bf16) and in range
	// of every integer type; fractions test truncation toward zero.
	src := literal([]int{2, 5}, -2.75, -1, -0.5, 0, 0.5, 1, 2.5, 3.75, 100, -128)
	for _, from := range allTypes {
		for _, to := range allTypes {
			t.Run(fmt.Sprintf("%v→%v", from, to), func(t *testing.T) {
				x := mapND(src, func(v float64) float64 { return castRef(v, from) })
				if from == tensor.Bool {
					x = mapND(src, func(v float64) float64 { return b2f(v != 0) })
				}
				got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, x, from).Cast(to) })
				if want := to.Compute(); got.DType() != want {
					t.Fatalf("dtype %v, want %v", got.DType(), want)
				}
				checkExact(t, got, mapND(x, func(v float64) float64 { return castRef(v, to) }))
			})
		}
	}
	t.Run("f64→f32 rounds", func(t *testing.T) {
		x := literal([]int{3}, 1+1e-12, math.Pi, 1e300)
		got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, x, tensor.F64).Cast(tensor.F32) })
		checkExact(t, got, literal([]int{3}, 1, float64(float32(math.Pi)), math.Inf(1)))
	})
	t.Run("i64→f64 large", func(t *testing.T) {
		x := tensor.NewI64([]int64{1 << 53, -(1 << 40) - 1}, 2)
		got := eval(t, func(g *graph.Graph) graph.Tensor { return g.Const(x).Cast(tensor.F64) })
		checkExact(t, got, literal([]int{2}, 1<<53, -(1<<40)-1))
	})
	t.Run("nan→bool", func(t *testing.T) {
		x := literal([]int{2}, math.NaN(), math.Copysign(0, -1))
		got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, x, tensor.F64).Cast(tensor.Bool) })
		checkExact(t, got, literal([]int{2}, 1, 0))
	})
	t.Run("round trip through graph ops", func(t *testing.T) {
		// bool → i64 → f32 arithmetic → bool.
		x := literal([]int{4}, 0, 1, 1, 0)
		got := eval(t, func(g *graph.Graph) graph.Tensor {
			return in(g, x, tensor.Bool).Cast(tensor.I64).Cast(tensor.F32).Scale(2).AddScalar(-1).Cast(tensor.Bool)
		})
		checkExact(t, got, literal([]int{4}, 1, 1, 1, 1))
	})
}

// halfRef decodes IEEE binary16 bits from the definition.
func halfRef(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e, m := int(h>>10)&0x1f, float64(h&0x3ff)
	switch e {
	case 0:
		return sign * m * math.Pow(2, -24)
	case 31:
		if m != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * (1 + m/1024) * math.Pow(2, float64(e-15))
}

// bfloatRef decodes bfloat16 bits from the definition.
func bfloatRef(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	e, m := int(h>>7)&0xff, float64(h&0x7f)
	switch e {
	case 0:
		return sign * m * math.Pow(2, -133)
	case 255:
		if m != 0 {
			return math.NaN()
		}
		return sign * math.Inf(1)
	}
	return sign * (1 + m/128) * math.Pow(2, float64(e-127))
}

// halfInputs returns bit patterns covering zeros, subnormals, normals,
// the largest finite values and infinities, with their float64 values.
func halfInputs(d tensor.DType) ([]uint16, nd) {
	bits := []uint16{0x0000, 0x8000, 0x0001, 0x03ff, 0x0400, 0x3c00, 0xbc00, 0x3555, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x4248, 0xc000}
	dec := halfRef
	if d == tensor.BF16 {
		bits = []uint16{0x0000, 0x8000, 0x0001, 0x007f, 0x0080, 0x3f80, 0xbf80, 0x3eab, 0x7f7f, 0xff7f, 0x7f80, 0xff80, 0x4049, 0xc000}
		dec = bfloatRef
	}
	want := zerosND(len(bits))
	for i, b := range bits {
		want.data[i] = dec(b)
	}
	return bits, want
}

func TestHalfStorageWidening(t *testing.T) {
	for _, d := range []tensor.DType{tensor.F16, tensor.BF16} {
		bits, want := halfInputs(d)
		arr, err := tensor.FromBits(d, bits, len(bits))
		if err != nil {
			t.Fatal(err)
		}
		t.Run("const/"+d.String(), func(t *testing.T) {
			g := graph.New()
			c := g.Const(arr)
			if c.DType() != tensor.F32 {
				t.Fatalf("const dtype %v, want f32", c.DType())
			}
			checkExact(t, runGraph(t, nil, c.Neg().Neg())[0], want)
		})
		t.Run("param/"+d.String(), func(t *testing.T) {
			g := graph.New()
			p := g.Param("w", arr)
			if p.DType() != tensor.F32 {
				t.Fatalf("param dtype %v, want f32", p.DType())
			}
			v, _ := p.Var()
			if v.Value().DType() != tensor.F32 {
				t.Fatalf("param value dtype %v, want f32", v.Value().DType())
			}
			checkExact(t, runGraph(t, nil, p.Neg().Neg(), p)[1], want)
			checkExact(t, runGraph(t, nil, p.Neg().Neg())[0], want)
		})
		t.Run("placeholder/"+d.String(), func(t *testing.T) {
			g := graph.New()
			x := g.Placeholder("x", d, len(bits))
			if x.DType() != tensor.F32 {
				t.Fatalf("placeholder dtype %v, want f32", x.DType())
			}
			p, err := graph.Compile([]graph.Tensor{x.Scale(1)})
			if err != nil {
				t.Fatal(err)
			}
			// The same placeholder takes the storage form and plain F32.
			for _, feed := range []*tensor.Array{arr, want.array(tensor.F32)} {
				out, err := p.Run(context.Background(), graph.Feeds{"x": feed})
				if err != nil {
					t.Fatal(err)
				}
				checkExact(t, out[0], want)
			}
			// A second, different half feed replaces the first.
			neg := make([]uint16, len(bits))
			for i, b := range bits {
				neg[i] = b ^ 0x8000
			}
			na, _ := tensor.FromBits(d, neg, len(neg))
			out, err := p.Run(context.Background(), graph.Feeds{"x": na})
			if err != nil {
				t.Fatal(err)
			}
			checkExact(t, out[0], mapND(want, func(v float64) float64 { return -v }))
		})
		t.Run("cast/"+d.String(), func(t *testing.T) {
			got := eval(t, func(g *graph.Graph) graph.Tensor { return g.Const(arr).Cast(tensor.F64) })
			checkExact(t, got, want)
		})
	}
	t.Run("f32 placeholder takes f16", func(t *testing.T) {
		bits, want := halfInputs(tensor.F16)
		arr, _ := tensor.FromBits(tensor.F16, bits, len(bits))
		g := graph.New()
		x := g.Placeholder("x", tensor.F32, len(bits))
		out := runGraph(t, graph.Feeds{"x": arr}, x.Neg())[0]
		checkExact(t, out, mapND(want, func(v float64) float64 { return -v }))
	})
}
