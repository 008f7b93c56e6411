package graph_test

// Forward tests of the elementwise, reduction, matmul and softmax operations
// against float64 references computed here with plain loops.

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

func sigmoidRef(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

var unaryCases = []struct {
	name   string
	f      func(graph.Tensor) graph.Tensor
	ref    func(float64) float64
	lo, hi float64
}{
	{"neg", graph.Tensor.Neg, func(x float64) float64 { return -x }, -3, 3},
	{"abs", graph.Tensor.Abs, math.Abs, -3, 3},
	{"sign", graph.Tensor.Sign, func(x float64) float64 {
		switch {
		case x > 0:
			return 1
		case x < 0:
			return -1
		}
		return 0
	}, -3, 3},
	{"exp", graph.Tensor.Exp, math.Exp, -4, 4},
	{"log", graph.Tensor.Log, math.Log, 0.05, 5},
	{"sqrt", graph.Tensor.Sqrt, math.Sqrt, 0, 9},
	{"rsqrt", graph.Tensor.Rsqrt, func(x float64) float64 { return 1 / math.Sqrt(x) }, 0.05, 9},
	{"recip", graph.Tensor.Recip, func(x float64) float64 { return 1 / x }, 0.1, 4},
	{"sin", graph.Tensor.Sin, math.Sin, -7, 7},
	{"cos", graph.Tensor.Cos, math.Cos, -7, 7},
	{"tanh", graph.Tensor.Tanh, math.Tanh, -4, 4},
	{"sigmoid", graph.Tensor.Sigmoid, sigmoidRef, -30, 30},
	{"relu", graph.Tensor.Relu, func(x float64) float64 { return math.Max(x, 0) }, -3, 3},
	{"erf", graph.Tensor.Erf, math.Erf, -3, 3},
	{"square", graph.Tensor.Square, func(x float64) float64 { return x * x }, -3, 3},
	{"silu", graph.Tensor.SiLU, func(x float64) float64 { return x * sigmoidRef(x) }, -6, 6},
	{"gelu", graph.Tensor.GELU, func(x float64) float64 { return x * (1 + math.Erf(x/math.Sqrt2)) / 2 }, -5, 5},
	{"gelu_tanh", graph.Tensor.GELUTanh, func(x float64) float64 {
		return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
	}, -5, 5},
	{"scale", func(t graph.Tensor) graph.Tensor { return t.Scale(-2.5) }, func(x float64) float64 { return -2.5 * x }, -3, 3},
	{"add_scalar", func(t graph.Tensor) graph.Tensor { return t.AddScalar(0.75) }, func(x float64) float64 { return x + 0.75 }, -3, 3},
	{"pow_scalar", func(t graph.Tensor) graph.Tensor { return t.PowScalar(1.5) }, func(x float64) float64 { return math.Pow(x, 1.5) }, 0, 4},
	{"pow_scalar_neg", func(t graph.Tensor) graph.Tensor { return t.PowScalar(-2) }, func(x float64) float64 { return math.Pow(x, -2) }, 0.2, 3},
}

func TestUnary(t *testing.T) {
	// Shapes cover a scalar, size-1 and empty axes, and (at 40000 elements) the
	// parallel path of the CPU kernels.
	shapes := [][]int{{}, {7}, {1, 5, 1}, {0, 3}, {3, 4, 5}, {200, 200}}
	for _, c := range unaryCases {
		for _, d := range floatTypes {
			for si, s := range shapes {
				t.Run(fmt.Sprintf("%s/%v/%v", c.name, d, s), func(t *testing.T) {
					x := randND(uint64(si+1), c.lo, c.hi, s...)
					got := eval(t, func(g *graph.Graph) graph.Tensor { return c.f(in(g, x, d)) })
					if got.DType() != d {
						t.Fatalf("dtype %v, want %v", got.DType(), d)
					}
					checkClose(t, got, mapND(x, c.ref), tolFor(d))
				})
			}
		}
	}
}

func TestUnarySpecialValues(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	x := literal([]int{6}, 0, math.Copysign(0, -1), inf, -inf, nan, 1)
	cases := []struct {
		name string
		f    func(graph.Tensor) graph.Tensor
		want []float64
	}{
		{"exp", graph.Tensor.Exp, []float64{1, 1, inf, 0, nan, math.E}},
		{"log", graph.Tensor.Log, []float64{-inf, -inf, inf, nan, nan, 0}},
		{"sqrt", graph.Tensor.Sqrt, []float64{0, 0, inf, nan, nan, 1}},
		{"recip", graph.Tensor.Recip, []float64{inf, -inf, 0, 0, nan, 1}},
		{"tanh", graph.Tensor.Tanh, []float64{0, 0, 1, -1, nan, math.Tanh(1)}},
		{"sigmoid", graph.Tensor.Sigmoid, []float64{0.5, 0.5, 1, 0, nan, sigmoidRef(1)}},
		{"abs", graph.Tensor.Abs, []float64{0, 0, inf, inf, nan, 1}},
		{"sign", graph.Tensor.Sign, []float64{0, 0, 1, -1, nan, 1}},
		{"neg", graph.Tensor.Neg, []float64{0, 0, -inf, inf, nan, -1}},
	}
	for _, c := range cases {
		for _, d := range floatTypes {
			t.Run(c.name+"/"+d.String(), func(t *testing.T) {
				got := eval(t, func(g *graph.Graph) graph.Tensor { return c.f(in(g, x, d)) })
				checkClose(t, got, literal([]int{6}, c.want...), tol{1e-7, 0})
			})
		}
	}
}

func TestUnaryInt(t *testing.T) {
	cases := []struct {
		name string
		f    func(graph.Tensor) graph.Tensor
		ref  func(float64) float64
	}{
		{"neg", graph.Tensor.Neg, func(x float64) float64 { return -x }},
		{"abs", graph.Tensor.Abs, math.Abs},
		{"sign", graph.Tensor.Sign, func(x float64) float64 { return float64(max(min(int(x), 1), -1)) }},
		{"relu", graph.Tensor.Relu, func(x float64) float64 { return math.Max(x, 0) }},
	}
	x := intND(5, -1000, 1000, 4, 6)
	x.data[0] = 0
	for _, c := range cases {
		for _, d := range []tensor.DType{tensor.I32, tensor.I64} {
			t.Run(c.name+"/"+d.String(), func(t *testing.T) {
				got := eval(t, func(g *graph.Graph) graph.Tensor { return c.f(in(g, x, d)) })
				if got.DType() != d {
					t.Fatalf("dtype %v, want %v", got.DType(), d)
				}
				checkExact(t, got, mapND(x, c.ref))
			})
		}
	}
}

// broadcastPairs are operand shapes for binary operations.
var broadcastPairs = [][2][]int{
	{{2, 3}, {2, 3}},
	{{2, 3}, {}},
	{{}, {2, 3}},
	{{}, {}},
	{{3, 1}, {1, 4}},
	{{2, 3, 4}, {4}},
	{{2, 1, 4}, {3, 1}},
	{{1}, {5}},
	{{1, 1}, {1, 1}},
	{{0, 3}, {3}},
	{{2, 0}, {1, 1}},
	{{64, 1, 32}, {1, 32, 32}}, // 65536 elements: parallel path
}

var binaryCases = []struct {
	name     string
	f        func(a, b graph.Tensor) graph.Tensor
	ref      func(a, b float64) float64
	aLo, aHi float64
	bLo, bHi float64
}{
	{"add", graph.Tensor.Add, func(a, b float64) float64 { return a + b }, -3, 3, -3, 3},
	{"sub", graph.Tensor.Sub, func(a, b float64) float64 { return a - b }, -3, 3, -3, 3},
	{"mul", graph.Tensor.Mul, func(a, b float64) float64 { return a * b }, -3, 3, -3, 3},
	{"div", graph.Tensor.Div, func(a, b float64) float64 { return a / b }, -3, 3, 0.25, 3},
	{"pow", graph.Tensor.Pow, math.Pow, 0.1, 3, -2, 2},
	{"maximum", graph.Tensor.Maximum, math.Max, -3, 3, -3, 3},
	{"minimum", graph.Tensor.Minimum, math.Min, -3, 3, -3, 3},
}

func TestBinary(t *testing.T) {
	for _, c := range binaryCases {
		for _, d := range floatTypes {
			for pi, p := range broadcastPairs {
				t.Run(fmt.Sprintf("%s/%v/%v×%v", c.name, d, p[0], p[1]), func(t *testing.T) {
					a := randND(uint64(2*pi+1), c.aLo, c.aHi, p[0]...)
					b := randND(uint64(2*pi+2), c.bLo, c.bHi, p[1]...)
					if c.name == "maximum" || c.name == "minimum" {
						// Plant ties.
						for i := 0; i < min(len(a.data), len(b.data)); i += 3 {
							a.data[i] = b.data[i]
						}
					}
					got := eval(t, func(g *graph.Graph) graph.Tensor { return c.f(in(g, a, d), in(g, b, d)) })
					want := zipND(func(v ...float64) float64 { return c.ref(v[0], v[1]) }, a, b)
					checkClose(t, got, want, tolFor(d))
				})
			}
		}
	}
}

func TestBinaryNaN(t *testing.T) {
	nan := math.NaN()
	a := literal([]int{4}, nan, 1, nan, math.Inf(-1))
	b := literal([]int{4}, 2, nan, nan, 3)
	cases := []struct {
		name string
		f    func(a, b graph.Tensor) graph.Tensor
		want []float64
	}{
		{"maximum", graph.Tensor.Maximum, []float64{nan, nan, nan, 3}},
		{"minimum", graph.Tensor.Minimum, []float64{nan, nan, nan, math.Inf(-1)}},
		{"add", graph.Tensor.Add, []float64{nan, nan, nan, math.Inf(-1)}},
	}
	for _, c := range cases {
		for _, d := range floatTypes {
			t.Run(c.name+"/"+d.String(), func(t *testing.T) {
				got := eval(t, func(g *graph.Graph) graph.Tensor { return c.f(in(g, a, d), in(g, b, d)) })
				checkExact(t, got, literal([]int{4}, c.want...))
			})
		}
	}
}

func TestPowNegativeBase(t *testing.T) {
	a := literal([]int{5}, -2, -3, -0.5, 0, -1)
	b := literal([]int{5}, 2, 3, -2, 0, 0.5)
	for _, d := range floatTypes {
		got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, a, d).Pow(in(g, b, d)) })
		checkClose(t, got, literal([]int{5}, 4, -27, 4, 1, math.NaN()), tolFor(d))
	}
}

// truncDiv is integer division truncating toward zero, as Go and C do.
func truncDiv(a, b float64) float64 { return math.Trunc(a / b) }

func TestBinaryInt(t *testing.T) {
	cases := []struct {
		name string
		f    func(a, b graph.Tensor) graph.Tensor
		ref  func(a, b float64) float64
	}{
		{"add", graph.Tensor.Add, func(a, b float64) float64 { return a + b }},
		{"sub", graph.Tensor.Sub, func(a, b float64) float64 { return a - b }},
		{"mul", graph.Tensor.Mul, func(a, b float64) float64 { return a * b }},
		{"div", graph.Tensor.Div, truncDiv},
		{"maximum", graph.Tensor.Maximum, math.Max},
		{"minimum", graph.Tensor.Minimum, math.Min},
	}
	a := literal([]int{2, 4}, 7, -7, 7, -7, 0, 100, -1, 5)
	b := literal([]int{4}, 2, 2, -2, -2)
	for _, c := range cases {
		for _, d := range []tensor.DType{tensor.I32, tensor.I64} {
			t.Run(c.name+"/"+d.String(), func(t *testing.T) {
				got := eval(t, func(g *graph.Graph) graph.Tensor { return c.f(in(g, a, d), in(g, b, d)) })
				if got.DType() != d {
					t.Fatalf("dtype %v", got.DType())
				}
				checkExact(t, got, zipND(func(v ...float64) float64 { return c.ref(v[0], v[1]) }, a, b))
			})
		}
	}
}

func TestCompare(t *testing.T) {
	cases := []struct {
		name string
		f    func(a, b graph.Tensor) graph.Tensor
		ref  func(a, b float64) bool
	}{
		{"eq", graph.Tensor.Eq, func(a, b float64) bool { return a == b }},
		{"ne", graph.Tensor.Ne, func(a, b float64) bool { return a != b }},
		{"lt", graph.Tensor.Lt, func(a, b float64) bool { return a < b }},
		{"le", graph.Tensor.Le, func(a, b float64) bool { return a <= b }},
		{"gt", graph.Tensor.Gt, func(a, b float64) bool { return a > b }},
		{"ge", graph.Tensor.Ge, func(a, b float64) bool { return a >= b }},
	}
	// Values from {-1, 0, 1} make ties common.
	a := intND(1, -1, 1, 3, 1, 5)
	b := intND(2, -1, 1, 4, 5)
	for _, c := range cases {
		for _, d := range []tensor.DType{tensor.F32, tensor.F64, tensor.I32, tensor.I64} {
			t.Run(c.name+"/"+d.String(), func(t *testing.T) {
				got := eval(t, func(g *graph.Graph) graph.Tensor { return c.f(in(g, a, d), in(g, b, d)) })
				if got.DType() != tensor.Bool {
					t.Fatalf("dtype %v, want bool", got.DType())
				}
				checkExact(t, got, zipND(func(v ...float64) float64 { return b2f(c.ref(v[0], v[1])) }, a, b))
			})
		}
	}
	t.Run("nan", func(t *testing.T) {
		x := literal([]int{2}, math.NaN(), 1)
		y := literal([]int{2}, math.NaN(), math.NaN())
		for _, c := range cases {
			got := eval(t, func(g *graph.Graph) graph.Tensor {
				return c.f(in(g, x, tensor.F64), in(g, y, tensor.F64))
			})
			want := b2f(c.name == "ne")
			checkExact(t, got, literal([]int{2}, want, want))
		}
	})
	t.Run("bool", func(t *testing.T) {
		x := literal([]int{4}, 0, 0, 1, 1)
		y := literal([]int{4}, 0, 1, 0, 1)
		for _, c := range cases[:2] {
			got := eval(t, func(g *graph.Graph) graph.Tensor {
				return c.f(in(g, x, tensor.Bool), in(g, y, tensor.Bool))
			})
			checkExact(t, got, zipND(func(v ...float64) float64 { return b2f(c.ref(v[0], v[1])) }, x, y))
		}
	})
}

func TestWhere(t *testing.T) {
	cases := [][3][]int{
		{{2, 3}, {2, 3}, {2, 3}},
		{{2, 1, 4}, {3, 1}, {}},
		{{}, {2, 2}, {2, 2}},
		{{4}, {3, 1}, {1, 4}},
		{{0, 2}, {2}, {}},
		{{128, 1}, {1, 512}, {128, 512}},
	}
	for i, c := range cases {
		cond := intND(uint64(i), 0, 1, c[0]...)
		for _, d := range []tensor.DType{tensor.F32, tensor.F64, tensor.I32, tensor.I64, tensor.Bool} {
			t.Run(fmt.Sprintf("%v/%v", d, c), func(t *testing.T) {
				a := intND(uint64(10+i), -50, 50, c[1]...)
				b := intND(uint64(20+i), -50, 50, c[2]...)
				if d == tensor.Bool {
					a, b = mapND(a, func(v float64) float64 { return b2f(v > 0) }), mapND(b, func(v float64) float64 { return b2f(v > 0) })
				}
				got := eval(t, func(g *graph.Graph) graph.Tensor {
					return graph.Where(in(g, cond, tensor.Bool), in(g, a, d), in(g, b, d))
				})
				want := zipND(func(v ...float64) float64 {
					if v[0] != 0 {
						return v[1]
					}
					return v[2]
				}, cond, a, b)
				checkExact(t, got, want)
			})
		}
	}
}

// reduceRef reduces x over axes (normalised, any order) with f, starting
// from init.
func reduceRef(x nd, axes []int, keep bool, init float64, f func(acc, v float64) float64) nd {
	red := make([]bool, len(x.shape))
	for _, a := range axes {
		if a < 0 {
			a += len(x.shape)
		}
		red[a] = true
	}
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
	}
	var full, out []int
	for i, n := range x.shape {
		switch {
		case !red[i]:
			full, out = append(full, n), append(out, n)
		case keep:
			full, out = append(full, 1), append(out, 1)
		default:
			full = append(full, 1)
		}
	}
	res := zerosND(out...)
	for i := range res.data {
		res.data[i] = init
	}
	k := 0
	forEach(x.shape, func(idx []int) {
		j := make([]int, len(idx))
		for i := range idx {
			if !red[i] {
				j[i] = idx[i]
			}
		}
		o := offset(full, j)
		res.data[o] = f(res.data[o], x.data[k])
		k++
	})
	return res
}

func maxRef(acc, v float64) float64 {
	if math.IsNaN(acc) || math.IsNaN(v) {
		return math.NaN()
	}
	return math.Max(acc, v)
}

func minRef(acc, v float64) float64 {
	if math.IsNaN(acc) || math.IsNaN(v) {
		return math.NaN()
	}
	return math.Min(acc, v)
}

// axisSets returns every subset of {0..r-1}, each also with negative axes.
func axisSets(r int) [][]int {
	var out [][]int
	for m := 0; m < 1<<r; m++ {
		var s []int
		for i := 0; i < r; i++ {
			if m&(1<<i) != 0 {
				s = append(s, i)
			}
		}
		out = append(out, s)
	}
	// The same sets written with negative axes, and mixed.
	for m := 1; m < 1<<r; m++ {
		var neg, mixed []int
		for i := 0; i < r; i++ {
			if m&(1<<i) != 0 {
				neg = append(neg, i-r)
				if i%2 == 1 {
					mixed = append(mixed, i-r)
				} else {
					mixed = append(mixed, i)
				}
			}
		}
		out = append(out, neg)
		if len(mixed) > 1 {
			slices.Reverse(mixed) // unsorted on purpose
			out = append(out, mixed)
		}
	}
	return out
}

func TestReduce(t *testing.T) {
	x := randND(7, -5, 5, 2, 3, 4, 5)
	type red struct {
		name string
		f    func(t graph.Tensor, keep bool, axes ...int) graph.Tensor
		ref  func(x nd, axes []int, keep bool) nd
	}
	count := func(x nd, axes []int) float64 {
		if len(axes) == 0 {
			return float64(numel(x.shape))
		}
		n := 1.0
		for _, a := range axes {
			if a < 0 {
				a += len(x.shape)
			}
			n *= float64(x.shape[a])
		}
		return n
	}
	reds := []red{
		{"sum", func(t graph.Tensor, keep bool, axes ...int) graph.Tensor {
			if keep {
				return t.SumKeep(axes...)
			}
			return t.Sum(axes...)
		}, func(x nd, axes []int, keep bool) nd {
			return reduceRef(x, axes, keep, 0, func(a, v float64) float64 { return a + v })
		}},
		{"mean", func(t graph.Tensor, keep bool, axes ...int) graph.Tensor {
			if keep {
				return t.MeanKeep(axes...)
			}
			return t.Mean(axes...)
		}, func(x nd, axes []int, keep bool) nd {
			n := count(x, axes)
			return mapND(reduceRef(x, axes, keep, 0, func(a, v float64) float64 { return a + v }), func(v float64) float64 { return v / n })
		}},
		{"max", func(t graph.Tensor, keep bool, axes ...int) graph.Tensor {
			if keep {
				return t.MaxKeep(axes...)
			}
			return t.Max(axes...)
		}, func(x nd, axes []int, keep bool) nd { return reduceRef(x, axes, keep, math.Inf(-1), maxRef) }},
		{"min", func(t graph.Tensor, keep bool, axes ...int) graph.Tensor {
			if keep {
				return t.MinKeep(axes...)
			}
			return t.Min(axes...)
		}, func(x nd, axes []int, keep bool) nd { return reduceRef(x, axes, keep, math.Inf(1), minRef) }},
	}
	for _, r := range reds {
		for _, d := range floatTypes {
			for _, axes := range axisSets(4) {
				for _, keep := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/%v/%v/keep=%v", r.name, d, axes, keep), func(t *testing.T) {
						got := eval(t, func(g *graph.Graph) graph.Tensor { return r.f(in(g, x, d), keep, axes...) })
						checkClose(t, got, r.ref(x, axes, keep), tolFor(d))
					})
				}
			}
		}
	}
	t.Run("sum_all", func(t *testing.T) {
		got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, x, tensor.F64).SumAll() })
		checkClose(t, got, reduceRef(x, nil, false, 0, func(a, v float64) float64 { return a + v }), tolFor(tensor.F64))
	})
	t.Run("int", func(t *testing.T) {
		xi := intND(3, -100, 100, 3, 4, 5)
		for _, d := range []tensor.DType{tensor.I32, tensor.I64} {
			for _, axes := range axisSets(3) {
				for _, r := range []red{reds[0], reds[2], reds[3]} {
					got := eval(t, func(g *graph.Graph) graph.Tensor { return r.f(in(g, xi, d), false, axes...) })
					if got.DType() != d {
						t.Fatalf("dtype %v", got.DType())
					}
					checkExact(t, got, r.ref(xi, axes, false))
				}
			}
		}
	})
	t.Run("int64 beyond 2^53", func(t *testing.T) {
		// Integer sums must be exact; a float64 accumulator rounds them.
		g := graph.New()
		x := g.Const(tensor.NewI64([]int64{1<<60 + 1, 2, 1<<61 + 3, -4}, 2, 2))
		out := runGraph(t, nil, x.Sum(1), x.Sum(0), x.Sum())
		for i, want := range [][]int64{{1<<60 + 3, 1<<61 - 1}, {1<<60 + 1<<61 + 4, -2}, {1<<60 + 1<<61 + 2}} {
			for j, w := range want {
				if got := out[i].Int64s()[j]; got != w {
					t.Errorf("sum %d element %d = %d, want %d", i, j, got, w)
				}
			}
		}
	})
	t.Run("nan", func(t *testing.T) {
		xn := literal([]int{2, 3}, 1, math.NaN(), 3, 4, 5, 6)
		for _, r := range reds[2:] {
			got := eval(t, func(g *graph.Graph) graph.Tensor { return r.f(in(g, xn, tensor.F64), false, 1) })
			checkExact(t, got, r.ref(xn, []int{1}, false))
		}
	})
	t.Run("empty", func(t *testing.T) {
		xe := zerosND(2, 0, 3)
		for _, axes := range [][]int{{1}, {0, 1}, {}, {2}} {
			got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, xe, tensor.F32).Sum(axes...) })
			checkExact(t, got, reduceRef(xe, axes, false, 0, func(a, v float64) float64 { return a + v }))
		}
		g := graph.New()
		in(g, xe, tensor.F32).Max(1)
		if _, err := graph.Compile([]graph.Tensor{g.Scalar(tensor.F32, 0)}); err == nil {
			t.Error("max over an empty axis: no error")
		}
	})
	t.Run("parallel", func(t *testing.T) {
		// Large rows and many rows, reducing inner, outer and middle axes.
		xl := randND(9, -1, 1, 64, 33, 40)
		for _, axes := range [][]int{{2}, {0}, {1}, {0, 2}, {}} {
			for _, d := range floatTypes {
				got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, xl, d).Sum(axes...) })
				want := reduceRef(xl, axes, false, 0, func(a, v float64) float64 { return a + v })
				checkClose(t, got, want, tol{tolFor(d).rtol, 1e-4})
				got = eval(t, func(g *graph.Graph) graph.Tensor { return in(g, xl, d).Max(axes...) })
				checkExact(t, got, reduceRef(xl, axes, false, math.Inf(-1), maxRef))
			}
		}
	})
}

// argmaxRef returns the first index of the largest value along axis; NaN is
// the largest.
func argmaxRef(x nd, axis int, keep bool) nd {
	if axis < 0 {
		axis += len(x.shape)
	}
	best := reduceRef(x, []int{axis}, keep, math.Inf(-1), maxRef)
	out := zerosND(best.shape...)
	for i := range out.data {
		out.data[i] = -1
	}
	full := append([]int{}, x.shape...)
	full[axis] = 1
	k := 0
	forEach(x.shape, func(idx []int) {
		j := append([]int{}, idx...)
		j[axis] = 0
		o := offset(full, j)
		v, b := x.data[k], best.data[o]
		if out.data[o] < 0 && (v == b || math.IsNaN(v) && math.IsNaN(b)) {
			out.data[o] = float64(idx[axis])
		}
		k++
	})
	return out
}

func TestArgMax(t *testing.T) {
	x := intND(4, 0, 3, 3, 4, 5) // small range: many ties
	for _, d := range []tensor.DType{tensor.F32, tensor.F64, tensor.I32, tensor.I64} {
		for axis := -3; axis < 3; axis++ {
			for _, keep := range []bool{false, true} {
				t.Run(fmt.Sprintf("%v/axis=%d/keep=%v", d, axis, keep), func(t *testing.T) {
					got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, x, d).ArgMax(axis, keep) })
					if got.DType() != tensor.I64 {
						t.Fatalf("dtype %v, want i64", got.DType())
					}
					checkExact(t, got, argmaxRef(x, axis, keep))
				})
			}
		}
	}
	t.Run("nan", func(t *testing.T) {
		xn := literal([]int{2, 4}, 1, math.NaN(), 9, math.NaN(), -1, -2, -3, math.Inf(-1))
		got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, xn, tensor.F64).ArgMax(1, false) })
		checkExact(t, got, literal([]int{2}, 1, 0))
	})
	t.Run("size1", func(t *testing.T) {
		got := eval(t, func(g *graph.Graph) graph.Tensor {
			return in(g, x, tensor.F32).SliceAxis(1, 2, 3, 1).ArgMax(1, true)
		})
		checkExact(t, got, zerosND(3, 1, 5))
	})
}

// matmulRef is NumPy's matmul: rank-1 operands are promoted and the added
// axis dropped, and batch axes broadcast.
func matmulRef(a, b nd) nd {
	as, bs := a.shape, b.shape
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	ra, rb := len(as), len(bs)
	m, k, n := as[ra-2], as[ra-1], bs[rb-1]
	batch := broadcastShape(as[:ra-2], bs[:rb-2])
	out := zerosND(append(slices.Clone(batch), m, n)...)
	A, B := nd{as, a.data}, nd{bs, b.data}
	k0 := 0
	forEach(out.shape, func(idx []int) {
		bi := idx[:len(batch)]
		i, j := idx[len(batch)], idx[len(batch)+1]
		var s float64
		for p := 0; p < k; p++ {
			s += A.bcastAt(append(slices.Clone(bi), i, p)) * B.bcastAt(append(slices.Clone(bi), p, j))
		}
		out.data[k0] = s
		k0++
	})
	switch {
	case len(a.shape) == 1 && len(b.shape) == 1:
		out.shape = nil
	case len(a.shape) == 1:
		out.shape = append(slices.Clone(batch), n)
	case len(b.shape) == 1:
		out.shape = append(slices.Clone(batch), m)
	}
	return out
}

func TestMatMul(t *testing.T) {
	cases := [][2][]int{
		{{3, 4}, {4, 5}},
		{{1, 1}, {1, 1}},
		{{1, 7}, {7, 1}},
		{{2, 3, 4}, {2, 4, 5}},
		{{2, 3, 4}, {4, 5}},
		{{4, 5}, {3, 5, 2}},
		{{2, 1, 3, 4}, {3, 4, 5}},
		{{2, 1, 3, 4}, {1, 5, 4, 2}},
		{{4}, {4}},
		{{4}, {4, 3}},
		{{3, 4}, {4}},
		{{4}, {2, 4, 3}},
		{{2, 3, 4}, {4}},
		{{2, 0}, {0, 3}},
		{{0, 3}, {3, 2}},
		{{2, 3}, {3, 0}},
		{{3, 64, 48}, {48, 80}}, // parallel path
		// Odd sizes around the blocked GEMM's register tiles and cache blocks.
		{{15, 70}, {70, 33}},
		{{29, 257}, {257, 65}},
		{{2, 1, 13, 31}, {3, 31, 17}},
		{{1, 300}, {300, 1}},
		{{130, 5}, {5, 130}},
		// Few columns: rows dotted with the columns, no panels.
		{{4, 128, 64}, {4, 64, 4}},
		{{130, 33}, {33, 3}},
		{{7, 5}, {5, 2}},
		{{300, 1}, {1, 4}},
	}
	for i, c := range cases {
		a := randND(uint64(3*i+1), -1, 1, c[0]...)
		b := randND(uint64(3*i+2), -1, 1, c[1]...)
		want := matmulRef(a, b)
		for _, d := range floatTypes {
			t.Run(fmt.Sprintf("%v/%v×%v", d, c[0], c[1]), func(t *testing.T) {
				got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, a, d).MatMul(in(g, b, d)) })
				checkClose(t, got, want, tolFor(d))
			})
		}
		if i < 9 {
			for _, d := range []tensor.DType{tensor.I32, tensor.I64} {
				ai, bi := intND(uint64(i), -9, 9, c[0]...), intND(uint64(i+50), -9, 9, c[1]...)
				t.Run(fmt.Sprintf("%v/%v×%v", d, c[0], c[1]), func(t *testing.T) {
					got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, ai, d).MatMul(in(g, bi, d)) })
					checkExact(t, got, matmulRef(ai, bi))
				})
			}
		}
	}
	t.Run("few rows by a transposed operand", func(t *testing.T) {
		// Attention scores in a decode step: m <= 4 query rows against
		// keys stored [n, k], with a scale fused after the product.
		for _, m := range []int{1, 2, 3, 4, 5} {
			for _, k := range []int{1, 17, 64, 100} {
				a := randND(uint64(10*m+k), -1, 1, 3, m, k)
				b := randND(uint64(10*m+k+1), -1, 1, 3, 37, k)
				bt := zerosND(3, k, 37)
				forEach(bt.shape, func(idx []int) { bt.set(b.at(idx[0], idx[2], idx[1]), idx...) })
				want := zipND(func(v ...float64) float64 { return v[0] * 0.125 }, matmulRef(a, bt))
				for _, d := range floatTypes {
					got := eval(t, func(g *graph.Graph) graph.Tensor {
						return in(g, a, d).MatMul(in(g, b, d).Transpose()).Scale(0.125)
					})
					checkClose(t, got, want, tolFor(d))
				}
			}
		}
	})
	t.Run("transposed", func(t *testing.T) {
		// A non-contiguous operand: the transpose of a permuted tensor.
		a := randND(1, -1, 1, 5, 2, 3)
		b := randND(2, -1, 1, 2, 5, 4)
		got := eval(t, func(g *graph.Graph) graph.Tensor {
			return in(g, a, tensor.F64).Permute(1, 2, 0).MatMul(in(g, b, tensor.F64))
		})
		ap := zerosND(2, 3, 5)
		forEach(ap.shape, func(idx []int) { ap.set(a.at(idx[2], idx[0], idx[1]), idx...) })
		checkClose(t, got, matmulRef(ap, b), tolFor(tensor.F64))
	})
}

// softmaxRef computes softmax or log-softmax along axis in float64.
func softmaxRef(x nd, axis int, logOut bool) nd {
	if axis < 0 {
		axis += len(x.shape)
	}
	m := reduceRef(x, []int{axis}, true, math.Inf(-1), maxRef)
	e := zipND(func(v ...float64) float64 { return math.Exp(v[0] - v[1]) }, x, m)
	s := reduceRef(e, []int{axis}, true, 0, func(a, v float64) float64 { return a + v })
	if logOut {
		return zipND(func(v ...float64) float64 { return v[0] - v[1] - math.Log(v[2]) }, x, m, s)
	}
	return zipND(func(v ...float64) float64 { return v[0] / v[1] }, e, s)
}

func TestSoftmax(t *testing.T) {
	inputs := map[string]nd{
		"rand":  randND(3, -4, 4, 2, 3, 4),
		"large": mapND(randND(4, -4, 4, 2, 3, 4), func(v float64) float64 { return float64(float32(v + 1000)) }),
		"ones":  mapND(zerosND(2, 3, 4), func(float64) float64 { return 1 }),
	}
	for name, x := range inputs {
		for _, logOut := range []bool{false, true} {
			for _, d := range floatTypes {
				for axis := -3; axis < 3; axis++ {
					t.Run(fmt.Sprintf("%s/log=%v/%v/axis=%d", name, logOut, d, axis), func(t *testing.T) {
						got := eval(t, func(g *graph.Graph) graph.Tensor {
							if logOut {
								return in(g, x, d).LogSoftmax(axis)
							}
							return in(g, x, d).Softmax(axis)
						})
						checkClose(t, got, softmaxRef(x, axis, logOut), tolFor(d))
					})
				}
			}
		}
	}
	t.Run("masked", func(t *testing.T) {
		x := literal([]int{2, 3}, 0, math.Inf(-1), 1, math.Inf(-1), 2, math.Inf(-1))
		for _, d := range floatTypes {
			got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, x, d).Softmax(-1) })
			checkClose(t, got, softmaxRef(x, -1, false), tolFor(d))
			got = eval(t, func(g *graph.Graph) graph.Tensor { return in(g, x, d).LogSoftmax(-1) })
			checkClose(t, got, softmaxRef(x, -1, true), tolFor(d))
		}
	})
	t.Run("parallel", func(t *testing.T) {
		x := randND(5, -3, 3, 300, 64)
		for _, axis := range []int{0, 1} {
			got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, x, tensor.F32).Softmax(axis) })
			checkClose(t, got, softmaxRef(x, axis, false), tolFor(tensor.F32))
		}
	})
}

// TestFusedChain checks a chain of broadcasting elementwise operations with
// a reduction and a softmax after it, the shape of work the fusion pass
// merges into few kernels, against the same maths written as loops.
func TestFusedChain(t *testing.T) {
	for _, s := range [][]int{{3, 5}, {1, 1}, {96, 700}} {
		x := randND(1, -2, 2, s...)
		w := randND(2, -1, 1, s[1])
		b := randND(3, -1, 1, s[0], 1)
		for _, d := range floatTypes {
			t.Run(fmt.Sprintf("%v/%v", s, d), func(t *testing.T) {
				var outs []*tensor.Array
				for _, fed := range []bool{false, true} {
					build := func(g *graph.Graph) []graph.Tensor {
						xt, wt, bt := in(g, x, d), in(g, w, d), in(g, b, d)
						h := xt.Mul(wt).Add(bt).Tanh().Mul(xt).Sub(xt.Exp().Scale(0.25)).Maximum(bt)
						return []graph.Tensor{h, h.Sum(-1), h.Softmax(-1)}
					}
					if fed {
						current = &feedInputs{feeds: graph.Feeds{}}
					}
					ys := build(graph.New())
					feeds := graph.Feeds{}
					if current != nil {
						feeds = current.feeds
					}
					current = nil
					outs = runGraph(t, feeds, ys...)
					h := zipND(func(v ...float64) float64 {
						return math.Max(math.Tanh(v[0]*v[1]+v[2])*v[0]-math.Exp(v[0])*0.25, v[2])
					}, x, w, b)
					tl := tolFor(d)
					checkClose(t, outs[0], h, tl)
					checkClose(t, outs[1], reduceRef(h, []int{-1}, false, 0, func(a, v float64) float64 { return a + v }), tol{tl.rtol, 10 * tl.atol})
					checkClose(t, outs[2], softmaxRef(h, -1, false), tl)
				}
			})
		}
	}
}
