package graph_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aethertensor/aether/autograd"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// errsF64 and friends make placeholders for the error tests.
func errsF64(g *graph.Graph, name string, dims ...int) graph.Tensor {
	return g.Placeholder(name, tensor.F64, dims...)
}

// errsCase is one graph-building mistake: build makes it on a line that
// contains call, and Compile must report sentinel, the op name and every
// string in mention.
type errsCase struct {
	name     string
	build    func(g *graph.Graph)
	sentinel error
	op       string
	call     string
	mention  []string
}

var errsCases = []errsCase{
	{"matmul inner mismatch", func(g *graph.Graph) {
		a, b := errsF64(g, "a", 2, 3), errsF64(g, "b", 4, 5)
		a.MatMul(b)
	}, graph.ErrShape, "matmul", ".MatMul(", []string{"[2 3]", "[4 5]"}},
	{"matmul batch mismatch", func(g *graph.Graph) {
		a, b := errsF64(g, "a", 2, 2, 3), errsF64(g, "b", 3, 3, 4)
		a.MatMul(b)
	}, graph.ErrShape, "matmul", ".MatMul(", []string{"[2 2 3]", "[3 3 4]"}},
	{"matmul scalar", func(g *graph.Graph) {
		a := errsF64(g, "a", 2)
		a.MatMul(g.Scalar(tensor.F64, 2))
	}, graph.ErrShape, "matmul", ".MatMul(", []string{"[2]"}},
	{"matmul bool", func(g *graph.Graph) {
		a := g.Placeholder("a", tensor.Bool, 2, 2)
		a.MatMul(a)
	}, graph.ErrDType, "matmul", ".MatMul(", []string{"bool"}},
	{"broadcast failure", func(g *graph.Graph) {
		a, b := errsF64(g, "a", 2, 3), errsF64(g, "b", 4)
		a.Add(b)
	}, graph.ErrShape, "add", ".Add(", []string{"[2 3]", "[4]"}},
	{"broadcast failure where", func(g *graph.Graph) {
		c := g.Placeholder("c", tensor.Bool, 5)
		graph.Where(c, errsF64(g, "a", 2, 3), errsF64(g, "b", 3))
	}, graph.ErrShape, "where", "graph.Where(", []string{"[5]", "[2 3]"}},
	{"dtype mismatch", func(g *graph.Graph) {
		a, b := g.Placeholder("a", tensor.F32, 2), errsF64(g, "b", 2)
		a.Mul(b)
	}, graph.ErrDType, "mul", ".Mul(", []string{"f32", "f64"}},
	{"bool arithmetic", func(g *graph.Graph) {
		a := g.Placeholder("a", tensor.Bool, 2)
		a.Sub(a)
	}, graph.ErrDType, "sub", ".Sub(", []string{"bool"}},
	{"pow of integers", func(g *graph.Graph) {
		a := g.Placeholder("a", tensor.I32, 2)
		a.Pow(a)
	}, graph.ErrDType, "pow", ".Pow(", []string{"i32"}},
	{"exp of integers", func(g *graph.Graph) {
		a := g.Placeholder("a", tensor.I64, 2)
		a.Exp()
	}, graph.ErrDType, "exp", ".Exp(", []string{"i64"}},
	{"where condition not bool", func(g *graph.Graph) {
		a := errsF64(g, "a", 2)
		graph.Where(a, a, a)
	}, graph.ErrDType, "where", "graph.Where(", []string{"f64"}},
	{"where branch dtypes", func(g *graph.Graph) {
		c := g.Placeholder("c", tensor.Bool, 2)
		graph.Where(c, errsF64(g, "a", 2), g.Placeholder("b", tensor.F32, 2))
	}, graph.ErrDType, "where", "graph.Where(", []string{"f64", "f32"}},
	{"cast to invalid dtype", func(g *graph.Graph) {
		a := errsF64(g, "a", 2)
		a.Cast(tensor.DType(200))
	}, graph.ErrDType, "cast", ".Cast(", nil},
	{"sum axis out of range", func(g *graph.Graph) {
		a := errsF64(g, "a", 2, 3)
		a.Sum(2)
	}, graph.ErrShape, "reduce_sum", ".Sum(", []string{"[2]", "[2 3]"}},
	{"max repeated axes", func(g *graph.Graph) {
		a := errsF64(g, "a", 2, 3)
		a.MaxKeep(1, -1)
	}, graph.ErrShape, "reduce_max", ".MaxKeep(", []string{"[2 3]"}},
	{"min of an empty axis", func(g *graph.Graph) {
		a := errsF64(g, "a", 0, 3)
		a.Min(0)
	}, graph.ErrShape, "reduce_min", ".Min(", []string{"[0 3]"}},
	{"argmax negative axis out of range", func(g *graph.Graph) {
		a := errsF64(g, "a", 2, 3)
		a.ArgMax(-3, false)
	}, graph.ErrShape, "argmax", ".ArgMax(", []string{"-3", "[2 3]"}},
	{"softmax bad axis", func(g *graph.Graph) {
		a := errsF64(g, "a", 4)
		a.Softmax(1)
	}, graph.ErrShape, "softmax", ".Softmax(", []string{"[4]"}},
	{"log_softmax of integers", func(g *graph.Graph) {
		a := g.Placeholder("a", tensor.I32, 4)
		a.LogSoftmax(0)
	}, graph.ErrDType, "log_softmax", ".LogSoftmax(", []string{"i32"}},
	{"reshape wrong size", func(g *graph.Graph) {
		a := errsF64(g, "a", 2, 3)
		a.Reshape(4, 2)
	}, graph.ErrShape, "reshape", ".Reshape(", []string{"[2 3]", "[4 2]"}},
	{"reshape two inferred axes", func(g *graph.Graph) {
		a := errsF64(g, "a", 2, 3)
		a.Reshape(-1, -1)
	}, graph.ErrShape, "reshape", ".Reshape(", []string{"[-1 -1]"}},
	{"reshape inferred does not divide", func(g *graph.Graph) {
		a := errsF64(g, "a", 2, 3)
		a.Reshape(4, -1)
	}, graph.ErrShape, "reshape", ".Reshape(", []string{"[2 3]", "[4 -1]"}},
	{"permute repeated axis", func(g *graph.Graph) {
		a := errsF64(g, "a", 2, 3)
		a.Permute(0, 0)
	}, graph.ErrShape, "permute", ".Permute(", []string{"[0 0]", "[2 3]"}},
	{"transpose of a vector", func(g *graph.Graph) {
		a := errsF64(g, "a", 3)
		a.Transpose()
	}, graph.ErrShape, "transpose", ".Transpose(", []string{"[3]"}},
	{"expand incompatible", func(g *graph.Graph) {
		a := errsF64(g, "a", 3)
		a.Expand(2, 4)
	}, graph.ErrShape, "expand", ".Expand(", []string{"[3]", "[2 4]"}},
	{"squeeze axis not 1", func(g *graph.Graph) {
		a := errsF64(g, "a", 2, 3)
		a.Squeeze(1)
	}, graph.ErrShape, "squeeze", ".Squeeze(", []string{"[2 3]"}},
	{"unsqueeze out of range", func(g *graph.Graph) {
		a := errsF64(g, "a", 2, 3)
		a.Unsqueeze(4)
	}, graph.ErrShape, "unsqueeze", ".Unsqueeze(", []string{"[2 3]"}},
	{"slice too many ranges", func(g *graph.Graph) {
		a := errsF64(g, "a", 2)
		a.Slice(graph.All, graph.All)
	}, graph.ErrShape, "slice", ".Slice(", []string{"[2]"}},
	{"slice axis out of range", func(g *graph.Graph) {
		a := errsF64(g, "a", 2)
		a.SliceAxis(1, 0, 1, 1)
	}, graph.ErrShape, "slice", ".SliceAxis(", []string{"[2]"}},
	{"unslice does not fit", func(g *graph.Graph) {
		a := errsF64(g, "a", 3)
		a.Unslice(tensor.Shape{4}, []int{2}, []int{1})
	}, graph.ErrShape, "unslice", ".Unslice(", []string{"[3]", "[4]"}},
	{"pad negative", func(g *graph.Graph) {
		a := errsF64(g, "a", 2)
		a.Pad(0, [2]int{-1, 0})
	}, graph.ErrShape, "pad", ".Pad(", []string{"-1"}},
	{"concat mismatch", func(g *graph.Graph) {
		a, b := errsF64(g, "a", 2, 3), errsF64(g, "b", 2, 4)
		graph.Concat(0, a, b)
	}, graph.ErrShape, "concat", "graph.Concat(", []string{"[2 3]", "[2 4]"}},
	{"concat rank mismatch", func(g *graph.Graph) {
		a, b := errsF64(g, "a", 2, 3), errsF64(g, "b", 6)
		graph.Concat(0, a, b)
	}, graph.ErrShape, "concat", "graph.Concat(", []string{"[2 3]", "[6]"}},
	{"concat dtype mismatch", func(g *graph.Graph) {
		a, b := errsF64(g, "a", 2), g.Placeholder("b", tensor.F32, 2)
		graph.Concat(0, a, b)
	}, graph.ErrDType, "concat", "graph.Concat(", []string{"f64", "f32"}},
	{"stack shape mismatch", func(g *graph.Graph) {
		a, b := errsF64(g, "a", 2), errsF64(g, "b", 3)
		graph.Stack(0, a, b)
	}, graph.ErrShape, "concat", "graph.Stack(", []string{"[1 2]", "[1 3]"}},
	{"gather float indices", func(g *graph.Graph) {
		a, i := errsF64(g, "a", 4, 3), errsF64(g, "i", 2)
		a.Gather(0, i)
	}, graph.ErrDType, "gather", ".Gather(", []string{"f64"}},
	{"gather axis out of range", func(g *graph.Graph) {
		a, i := errsF64(g, "a", 4, 3), g.Placeholder("i", tensor.I64, 2)
		a.Gather(2, i)
	}, graph.ErrShape, "gather", ".Gather(", []string{"[4 3]"}},
	{"index_select matrix of indices", func(g *graph.Graph) {
		a, i := errsF64(g, "a", 4, 3), g.Placeholder("i", tensor.I64, 2, 2)
		a.IndexSelect(0, i)
	}, graph.ErrShape, "index_select", ".IndexSelect(", []string{"[2 2]"}},
	{"scatter source shape", func(g *graph.Graph) {
		s, i := errsF64(g, "s", 3, 2), g.Placeholder("i", tensor.I64, 2)
		s.Scatter(0, i, 4, 2)
	}, graph.ErrShape, "scatter_add", ".Scatter(", []string{"[3 2]", "[2 2]", "[4 2]"}},
	{"scatter_add float indices", func(g *graph.Graph) {
		a, i := errsF64(g, "a", 4), errsF64(g, "i", 2)
		a.ScatterAdd(0, i, errsF64(g, "s", 2))
	}, graph.ErrDType, "scatter_add", ".ScatterAdd(", []string{"f64"}},
	{"conv channel mismatch", func(g *graph.Graph) {
		x, w := errsF64(g, "x", 1, 3, 5, 5), errsF64(g, "w", 2, 4, 3, 3)
		x.Conv2D(w, graph.Tensor{}, graph.Conv{})
	}, graph.ErrShape, "conv2d", ".Conv2D(", []string{"[1 3 5 5]", "[2 4 3 3]"}},
	{"conv bias shape", func(g *graph.Graph) {
		x, w, b := errsF64(g, "x", 1, 3, 5, 5), errsF64(g, "w", 2, 3, 3, 3), errsF64(g, "b", 3)
		x.Conv2D(w, b, graph.Conv{})
	}, graph.ErrShape, "conv2d", ".Conv2D(", []string{"[3]", "f64[2]"}},
	{"conv kernel larger than input", func(g *graph.Graph) {
		x, w := errsF64(g, "x", 1, 1, 2, 2), errsF64(g, "w", 1, 1, 3, 3)
		x.Conv2D(w, graph.Tensor{}, graph.Conv{})
	}, graph.ErrShape, "unfold", ".Conv2D(", []string{"[3 3]", "[1 1 2 2]"}},
	{"max pool of a matrix", func(g *graph.Graph) {
		x := errsF64(g, "x", 4, 4)
		x.MaxPool2D(2, 2, graph.Conv{})
	}, graph.ErrShape, "unfold", ".MaxPool2D(", []string{"[4 4]"}},
	{"fold windows mismatch", func(g *graph.Graph) {
		x := errsF64(g, "x", 1, 1, 2, 2, 3, 3)
		x.Fold(op.Window{Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}}, 5, 5)
	}, graph.ErrShape, "fold", ".Fold(", []string{"[1 1 2 2 3 3]", "[5 5]"}},
	{"attention head grouping", func(g *graph.Graph) {
		q, k := errsF64(g, "q", 1, 3, 4, 8), errsF64(g, "k", 1, 2, 4, 8)
		graph.ScaledDotProductAttention(q, k, k, graph.Attention{Causal: true})
	}, graph.ErrShape, "attention", "graph.ScaledDotProductAttention(", []string{"[1 3 4 8]", "[1 2 4 8]"}},
	{"attention head size", func(g *graph.Graph) {
		q, k := errsF64(g, "q", 2, 4, 8), errsF64(g, "k", 2, 4, 6)
		graph.ScaledDotProductAttention(q, k, k, graph.Attention{})
	}, graph.ErrShape, "attention", "graph.ScaledDotProductAttention(", []string{"[2 4 8]", "[2 4 6]"}},
	{"rope odd dims", func(g *graph.Graph) {
		x, p := errsF64(g, "x", 3, 2, 6), g.Placeholder("p", tensor.I32, 3)
		x.RoPE(p, graph.RoPE{Dims: 3})
	}, graph.ErrArg, "rope", ".RoPE(", []string{"3", "6"}},
	{"rope positions", func(g *graph.Graph) {
		x, p := errsF64(g, "x", 3, 2, 6), g.Placeholder("p", tensor.I32, 4)
		x.RoPE(p, graph.RoPE{})
	}, graph.ErrShape, "rope", ".RoPE(", []string{"[4]", "[3]"}},
	{"layer norm weight", func(g *graph.Graph) {
		x, w := errsF64(g, "x", 2, 5), errsF64(g, "w", 4)
		x.LayerNorm(w, graph.Tensor{}, 1e-5)
	}, graph.ErrShape, "layer_norm", ".LayerNorm(", []string{"[4]", "[2 5]"}},
	{"rms norm of integers", func(g *graph.Graph) {
		x := g.Placeholder("x", tensor.I64, 2, 5)
		x.RMSNorm(graph.Tensor{}, 1e-5)
	}, graph.ErrDType, "rms_norm", ".RMSNorm(", []string{"i64"}},
	{"cross entropy float targets", func(g *graph.Graph) {
		l, y := errsF64(g, "l", 3, 4), errsF64(g, "y", 3)
		graph.CrossEntropy(l, y)
	}, graph.ErrShape, "cross_entropy", "graph.CrossEntropy(", []string{"[3 4]", "f64[3]"}},
	{"placeholder duplicate name", func(g *graph.Graph) {
		errsF64(g, "x", 2)
		g.Placeholder("x", tensor.F64, 3)
	}, graph.ErrArg, "placeholder", `g.Placeholder("x"`, []string{`"x"`}},
	{"placeholder negative dim", func(g *graph.Graph) {
		g.Placeholder("x", tensor.F64, 2, -3)
	}, graph.ErrShape, "placeholder", `g.Placeholder("x"`, []string{"[2 -3]"}},
	{"placeholder empty name", func(g *graph.Graph) {
		g.Placeholder("", tensor.F64, 2)
	}, graph.ErrArg, "placeholder", `g.Placeholder(""`, nil},
	{"placeholder invalid dtype", func(g *graph.Graph) {
		g.Placeholder("x", tensor.Invalid, 2)
	}, graph.ErrDType, "placeholder", `g.Placeholder("x"`, []string{`"x"`}},
	{"param duplicate name", func(g *graph.Graph) {
		g.Param("w", tensor.NewF64([]float64{1}, 1))
		g.Variable("w", tensor.NewF64([]float64{1}, 1))
	}, graph.ErrArg, "variable", `g.Variable("w"`, []string{`"w"`}},
	{"param nil array", func(g *graph.Graph) {
		g.Param("w", nil)
	}, graph.ErrArg, "param", `g.Param("w"`, []string{"nil"}},
	{"const nil array", func(g *graph.Graph) {
		g.Const(nil)
	}, graph.ErrArg, "const", "g.Const(", []string{"nil"}},
	{"scalar invalid dtype", func(g *graph.Graph) {
		g.Scalar(tensor.Invalid, 1)
	}, graph.ErrDType, "scalar", "g.Scalar(", nil},
	{"assign to placeholder", func(g *graph.Graph) {
		x := errsF64(g, "x", 2)
		g.Assign(x, x)
	}, graph.ErrArg, "assign", "g.Assign(", []string{"placeholder"}},
	{"assign shape", func(g *graph.Graph) {
		v := g.Variable("v", tensor.NewF64([]float64{1, 2}, 2))
		g.Assign(v, errsF64(g, "x", 3))
	}, graph.ErrShape, "assign", "g.Assign(", []string{"[2]", "[3]"}},
	{"expand negative", func(g *graph.Graph) {
		g.Full(tensor.F64, 0, 2, -1)
	}, graph.ErrShape, "expand", "g.Full(", []string{"[2 -1]"}},
	{"unfold zero stride", func(g *graph.Graph) {
		x := errsF64(g, "x", 1, 1, 4, 4)
		x.Unfold(op.Window{Kernel: [2]int{2, 2}, Dilation: [2]int{1, 1}}, 0)
	}, graph.ErrArg, "unfold", ".Unfold(", nil},
	{"unfold window one too wide", func(g *graph.Graph) {
		// (2-3)/2+1 truncates to 1 position: the check must not rely on it.
		x := errsF64(g, "x", 1, 1, 2, 5)
		x.Unfold(op.Window{Kernel: [2]int{3, 1}, Stride: [2]int{2, 1}, Dilation: [2]int{1, 1}}, 0)
	}, graph.ErrShape, "unfold", ".Unfold(", []string{"[1 1 2 5]"}},
	{"fold negative size", func(g *graph.Graph) {
		x := errsF64(g, "x", 1, 1, 1, 1, 1, 1)
		x.Fold(op.Window{Kernel: [2]int{1, 1}, Stride: [2]int{1, 1}, Padding: [2]int{1, 1}, Dilation: [2]int{1, 1}}, -1, -1)
	}, graph.ErrShape, "fold", ".Fold(", []string{"[-1 -1]"}},
	{"operand with unknown id", func(g *graph.Graph) {
		x := errsF64(g, "x", 2)
		x.Add(g.Tensor(99))
	}, graph.ErrTensor, "add", ".Add(", []string{"invalid"}},
	{"zero Tensor operand", func(g *graph.Graph) {
		x := errsF64(g, "x", 2)
		x.Add(graph.Tensor{})
	}, graph.ErrTensor, "add", ".Add(", []string{"zero Tensor"}},
	{"operands from two graphs", func(g *graph.Graph) {
		x, y := errsF64(g, "x", 2), errsF64(graph.New(), "y", 2)
		x.Mul(y)
	}, graph.ErrTensor, "mul", ".Mul(", []string{"different graphs"}},
}

// errsSourceLine returns line n of this test file.
func errsSourceLine(t *testing.T, n int) string {
	t.Helper()
	src, err := os.ReadFile("errors_test.go")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	if n < 1 || n > len(lines) {
		t.Fatalf("line %d out of range", n)
	}
	return lines[n-1]
}

// errsCheckSite checks that err is an *OpError for opName whose site is a
// line of this file that contains call.
func errsCheckSite(t *testing.T, err error, opName, call string) *graph.OpError {
	t.Helper()
	var oe *graph.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("error %v (%T) is not a *graph.OpError", err, err)
	}
	if oe.Op != opName {
		t.Errorf("Op = %q, want %q", oe.Op, opName)
	}
	file, line, ok := strings.Cut(oe.Site, ":")
	if !ok || file != "graph/errors_test.go" {
		t.Fatalf("Site = %q, want graph/errors_test.go:<line>", oe.Site)
	}
	n, err2 := strconv.Atoi(line)
	if err2 != nil {
		t.Fatalf("Site %q: %v", oe.Site, err2)
	}
	if src := errsSourceLine(t, n); !strings.Contains(src, call) {
		t.Errorf("Site %s is %q, which does not call %s", oe.Site, strings.TrimSpace(src), call)
	}
	if msg := err.Error(); !strings.Contains(msg, opName) || !strings.Contains(msg, oe.Site) {
		t.Errorf("message %q does not name the op %q and the site %q", msg, opName, oe.Site)
	}
	return oe
}

func TestBuildErrors(t *testing.T) {
	for _, c := range errsCases {
		t.Run(c.name, func(t *testing.T) {
			g := graph.New()
			c.build(g)
			if g.Err() == nil {
				t.Fatal("no error recorded")
			}
			// Compile reports the build error whatever output it is given.
			_, err := graph.Compile([]graph.Tensor{g.Scalar(tensor.F64, 1)})
			if err == nil {
				t.Fatal("Compile succeeded after a build error")
			}
			if err != g.Err() {
				t.Errorf("Compile returned %v, graph recorded %v", err, g.Err())
			}
			if !errors.Is(err, c.sentinel) {
				t.Errorf("error %v does not wrap %v", err, c.sentinel)
			}
			errsCheckSite(t, err, c.op, c.call)
			for _, m := range c.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
}

// TestBuildFirstErrorSticks makes several mistakes and checks that the
// first one is reported, and that operations after it record nothing.
func TestBuildFirstErrorSticks(t *testing.T) {
	g := graph.New()
	a, b := errsF64(g, "a", 2, 3), errsF64(g, "b", 4, 5)
	bad := a.MatMul(b) // the first mistake
	n := g.Len()
	a.Reshape(7)
	a.Add(g.Placeholder("c", tensor.F32, 2, 3))
	g.Placeholder("a", tensor.F64, 1)
	bad.Exp().Sum()
	good := a.Exp()
	if g.Len() != n {
		t.Errorf("graph grew from %d to %d operations after its first error", n, g.Len())
	}
	if good.Valid() || bad.Valid() {
		t.Error("operations after the first error returned valid tensors")
	}
	_, err := graph.Compile([]graph.Tensor{a})
	if !errors.Is(err, graph.ErrShape) {
		t.Fatalf("Compile: %v, want ErrShape", err)
	}
	errsCheckSite(t, err, "matmul", "a.MatMul(b) // the first mistake")
	if msg := err.Error(); !strings.Contains(msg, "[2 3]") || !strings.Contains(msg, "[4 5]") {
		t.Errorf("error %q does not name the matmul shapes", msg)
	}
}

// TestSliceHugeStep is a regression test: the element count of a slice
// overflowed for steps near the int limits.
func TestSliceHugeStep(t *testing.T) {
	g := graph.New()
	x := g.Const(tensor.NewF64([]float64{1, 2, 3, 4, 5, 6}, 2, 3))
	y := x.Slice(graph.Range{Start: math.MinInt, Stop: math.MaxInt, Step: math.MaxInt}, graph.Range{Start: math.MaxInt, Stop: math.MinInt, Step: math.MinInt})
	if !y.Shape().Equal(tensor.Shape{1, 1}) {
		t.Fatalf("shape %v, want [1 1]", y.Shape())
	}
	p, err := graph.Compile([]graph.Tensor{y})
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := out[0].Flat(0); v != 3 {
		t.Errorf("x[0::MaxInt, -1::MinInt] = %g, want 3 (first row, last column)", v)
	}
}

func TestCompileArgErrors(t *testing.T) {
	g := graph.New()
	x := errsF64(g, "x", 2)
	other := errsF64(graph.New(), "y", 2)
	cases := []struct {
		name string
		outs []graph.Tensor
		want error
	}{
		{"no outputs", nil, graph.ErrArg},
		{"zero Tensor output", []graph.Tensor{x, {}}, graph.ErrTensor},
		{"outputs of two graphs", []graph.Tensor{x, other}, graph.ErrTensor},
		{"invalid tensor with no recorded error", []graph.Tensor{g.Tensor(12345)}, graph.ErrTensor},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := graph.Compile(c.outs); !errors.Is(err, c.want) {
				t.Errorf("Compile: %v, want %v", err, c.want)
			}
		})
	}
}

func TestRunFeedErrors(t *testing.T) {
	g := graph.New()
	x := g.Placeholder("x", tensor.F32, 2)
	y := g.Placeholder("y", tensor.F32, 2)
	p, err := graph.Compile([]graph.Tensor{x.Add(y)})
	if err != nil {
		t.Fatal(err)
	}
	two := tensor.NewF32([]float32{1, 2}, 2)
	cases := []struct {
		name  string
		feeds graph.Feeds
		say   string
	}{
		{"missing feed", graph.Feeds{"x": two}, `"y"`},
		{"nil feed", graph.Feeds{"x": two, "y": nil}, `"y"`},
		{"wrong shape", graph.Feeds{"x": two, "y": tensor.NewF32([]float32{1, 2, 3}, 3)}, "[3]"},
		{"wrong dtype", graph.Feeds{"x": two, "y": tensor.NewF64([]float64{1, 2}, 2)}, "f64"},
		{"unknown name", graph.Feeds{"x": two, "y": two, "z": two}, `"z"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := p.Run(context.Background(), c.feeds)
			if !errors.Is(err, graph.ErrFeed) {
				t.Fatalf("Run: %v, want ErrFeed", err)
			}
			if !strings.Contains(err.Error(), c.say) {
				t.Errorf("error %q does not mention %s", err, c.say)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := p.Run(ctx, graph.Feeds{"x": two, "y": two}); !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: %v, want context.Canceled", err)
	}
}

// errsOp is one public operation applied to two operands (the second is
// ignored by unary operations); variants with bad numeric arguments are
// separate entries.
type errsOp struct {
	name string
	f    func(g *graph.Graph, a, b graph.Tensor) graph.Tensor
}

func errsOps() []errsOp {
	zero := op.Window{}
	neg := op.Window{Kernel: [2]int{-1, 2}, Stride: [2]int{-1, 0}, Padding: [2]int{-2, 0}, Dilation: [2]int{0, -3}}
	w := op.Window{Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}, Dilation: [2]int{1, 1}}
	u := func(name string, f func(graph.Tensor) graph.Tensor) errsOp {
		return errsOp{name, func(_ *graph.Graph, a, _ graph.Tensor) graph.Tensor { return f(a) }}
	}
	b := func(name string, f func(a, b graph.Tensor) graph.Tensor) errsOp {
		return errsOp{name, func(_ *graph.Graph, a, b graph.Tensor) graph.Tensor { return f(a, b) }}
	}
	ops := []errsOp{
		u("neg", graph.Tensor.Neg), u("abs", graph.Tensor.Abs), u("sign", graph.Tensor.Sign),
		u("exp", graph.Tensor.Exp), u("log", graph.Tensor.Log), u("sqrt", graph.Tensor.Sqrt),
		u("rsqrt", graph.Tensor.Rsqrt), u("recip", graph.Tensor.Recip), u("sin", graph.Tensor.Sin),
		u("cos", graph.Tensor.Cos), u("tanh", graph.Tensor.Tanh), u("sigmoid", graph.Tensor.Sigmoid),
		u("relu", graph.Tensor.Relu), u("erf", graph.Tensor.Erf), u("square", graph.Tensor.Square),
		u("silu", graph.Tensor.SiLU), u("gelu", graph.Tensor.GELU), u("gelu_tanh", graph.Tensor.GELUTanh),
		u("scale", func(t graph.Tensor) graph.Tensor { return t.Scale(math.NaN()) }),
		u("add_scalar", func(t graph.Tensor) graph.Tensor { return t.AddScalar(math.Inf(1)) }),
		u("pow_scalar", func(t graph.Tensor) graph.Tensor { return t.PowScalar(-2) }),
		b("add", graph.Tensor.Add), b("sub", graph.Tensor.Sub), b("mul", graph.Tensor.Mul),
		b("div", graph.Tensor.Div), b("pow", graph.Tensor.Pow), b("maximum", graph.Tensor.Maximum),
		b("minimum", graph.Tensor.Minimum), b("eq", graph.Tensor.Eq), b("ne", graph.Tensor.Ne),
		b("lt", graph.Tensor.Lt), b("le", graph.Tensor.Le), b("gt", graph.Tensor.Gt), b("ge", graph.Tensor.Ge),
		b("where", func(a, b graph.Tensor) graph.Tensor { return graph.Where(a, b, b) }),
		b("where_cmp", func(a, b graph.Tensor) graph.Tensor { return graph.Where(a.Gt(b), a, b) }),
		u("cast_f32", func(t graph.Tensor) graph.Tensor { return t.Cast(tensor.F32) }),
		u("cast_bool", func(t graph.Tensor) graph.Tensor { return t.Cast(tensor.Bool) }),
		u("cast_i32", func(t graph.Tensor) graph.Tensor { return t.Cast(tensor.I32) }),
		u("cast_invalid", func(t graph.Tensor) graph.Tensor { return t.Cast(tensor.DType(99)) }),
		u("sum", func(t graph.Tensor) graph.Tensor { return t.Sum() }),
		u("sum_bad_axis", func(t graph.Tensor) graph.Tensor { return t.Sum(7) }),
		u("sum_keep_neg", func(t graph.Tensor) graph.Tensor { return t.SumKeep(-9) }),
		u("sum_all", graph.Tensor.SumAll),
		u("mean", func(t graph.Tensor) graph.Tensor { return t.Mean(0) }),
		u("mean_keep", func(t graph.Tensor) graph.Tensor { return t.MeanKeep(-1) }),
		u("max", func(t graph.Tensor) graph.Tensor { return t.Max(0) }),
		u("max_keep", func(t graph.Tensor) graph.Tensor { return t.MaxKeep(1, 1) }),
		u("min", func(t graph.Tensor) graph.Tensor { return t.Min() }),
		u("min_keep", func(t graph.Tensor) graph.Tensor { return t.MinKeep(-1) }),
		u("argmax", func(t graph.Tensor) graph.Tensor { return t.ArgMax(0, false) }),
		u("argmax_bad", func(t graph.Tensor) graph.Tensor { return t.ArgMax(-5, true) }),
		u("softmax", func(t graph.Tensor) graph.Tensor { return t.Softmax(-1) }),
		u("softmax_bad", func(t graph.Tensor) graph.Tensor { return t.Softmax(3) }),
		u("log_softmax", func(t graph.Tensor) graph.Tensor { return t.LogSoftmax(0) }),
		b("matmul", graph.Tensor.MatMul),
		u("matmul_self", func(t graph.Tensor) graph.Tensor { return t.MatMul(t) }),
		u("reshape", func(t graph.Tensor) graph.Tensor { return t.Reshape(-1) }),
		u("reshape_neg", func(t graph.Tensor) graph.Tensor { return t.Reshape(-2, 3) }),
		u("reshape_two_infer", func(t graph.Tensor) graph.Tensor { return t.Reshape(-1, -1) }),
		u("reshape_zero_infer", func(t graph.Tensor) graph.Tensor { return t.Reshape(0, -1) }),
		u("reshape_huge", func(t graph.Tensor) graph.Tensor { return t.Reshape(math.MaxInt, 2) }),
		u("flatten", graph.Tensor.Flatten),
		u("unsqueeze", func(t graph.Tensor) graph.Tensor { return t.Unsqueeze(-1) }),
		u("unsqueeze_bad", func(t graph.Tensor) graph.Tensor { return t.Unsqueeze(9) }),
		u("squeeze", func(t graph.Tensor) graph.Tensor { return t.Squeeze(0) }),
		u("squeeze_bad", func(t graph.Tensor) graph.Tensor { return t.Squeeze(-7) }),
		u("permute", func(t graph.Tensor) graph.Tensor { return t.Permute(1, 0) }),
		u("permute_bad", func(t graph.Tensor) graph.Tensor { return t.Permute(5, -9) }),
		u("transpose", graph.Tensor.Transpose),
		u("expand", func(t graph.Tensor) graph.Tensor { return t.Expand(2, 3) }),
		u("expand_neg", func(t graph.Tensor) graph.Tensor { return t.Expand(-1) }),
		u("expand_neg2", func(t graph.Tensor) graph.Tensor { return t.Expand(-4, 3) }),
		u("slice", func(t graph.Tensor) graph.Tensor { return t.Slice(graph.Range{Start: -1, Stop: math.MinInt, Step: -1}) }),
		u("slice_extreme", func(t graph.Tensor) graph.Tensor {
			return t.Slice(graph.Range{Start: math.MinInt, Stop: math.MaxInt, Step: math.MaxInt}, graph.Range{Start: math.MaxInt, Stop: math.MinInt, Step: math.MinInt})
		}),
		u("slice_too_many", func(t graph.Tensor) graph.Tensor {
			return t.Slice(graph.All, graph.All, graph.All, graph.All, graph.All)
		}),
		u("slice_axis", func(t graph.Tensor) graph.Tensor { return t.SliceAxis(-1, 5, -5, -2) }),
		u("slice_axis_bad", func(t graph.Tensor) graph.Tensor { return t.SliceAxis(6, 0, 1, 1) }),
		u("span", func(t graph.Tensor) graph.Tensor { return t.Slice(graph.Span(-3, -2, 4)) }),
		u("unslice", func(t graph.Tensor) graph.Tensor { return t.Unslice(tensor.Shape{5}, []int{0}, []int{1}) }),
		u("unslice_neg", func(t graph.Tensor) graph.Tensor { return t.Unslice(tensor.Shape{-1}, []int{-1}, []int{0}) }),
		u("unslice_nil", func(t graph.Tensor) graph.Tensor { return t.Unslice(nil, nil, nil) }),
		u("unslice_short", func(t graph.Tensor) graph.Tensor { return t.Unslice(tensor.Shape{4, 4}, []int{0}, nil) }),
		u("pad", func(t graph.Tensor) graph.Tensor { return t.Pad(1, [2]int{1, 1}) }),
		u("pad_neg", func(t graph.Tensor) graph.Tensor { return t.Pad(1, [2]int{-1, 0}) }),
		u("pad_many", func(t graph.Tensor) graph.Tensor { return t.Pad(0, [2]int{}, [2]int{}, [2]int{}, [2]int{}, [2]int{}) }),
		b("concat", func(a, b graph.Tensor) graph.Tensor { return graph.Concat(0, a, b) }),
		b("concat_bad_axis", func(a, b graph.Tensor) graph.Tensor { return graph.Concat(-9, a, b) }),
		errsOp{"concat_none", func(_ *graph.Graph, _, _ graph.Tensor) graph.Tensor { return graph.Concat(0) }},
		b("stack", func(a, b graph.Tensor) graph.Tensor { return graph.Stack(-1, a, b) }),
		b("stack_bad", func(a, b graph.Tensor) graph.Tensor { return graph.Stack(8, a, b) }),
		errsOp{"stack_none", func(_ *graph.Graph, _, _ graph.Tensor) graph.Tensor { return graph.Stack(0) }},
		b("gather", func(a, b graph.Tensor) graph.Tensor { return a.Gather(0, b) }),
		b("gather_bad_axis", func(a, b graph.Tensor) graph.Tensor { return a.Gather(-4, b) }),
		b("index_select", func(a, b graph.Tensor) graph.Tensor { return a.IndexSelect(0, b) }),
		b("scatter_add", func(a, b graph.Tensor) graph.Tensor { return a.ScatterAdd(0, b, a) }),
		b("scatter", func(a, b graph.Tensor) graph.Tensor { return a.Scatter(0, b, 3) }),
		b("scatter_neg_shape", func(a, b graph.Tensor) graph.Tensor { return a.Scatter(0, b, -3, -1) }),
		b("scatter_no_shape", func(a, b graph.Tensor) graph.Tensor { return a.Scatter(0, b) }),
		b("layer_norm", func(a, b graph.Tensor) graph.Tensor { return a.LayerNorm(b, b, 1e-5) }),
		u("layer_norm_bare", func(t graph.Tensor) graph.Tensor { return t.LayerNorm(graph.Tensor{}, graph.Tensor{}, -1) }),
		b("rms_norm", func(a, b graph.Tensor) graph.Tensor { return a.RMSNorm(b, 0) }),
		b("rope", func(a, b graph.Tensor) graph.Tensor { return a.RoPE(b, graph.RoPE{}) }),
		b("rope_neg_dims", func(a, b graph.Tensor) graph.Tensor {
			return a.RoPE(b, graph.RoPE{Dims: -2, Base: -1, Scale: math.Inf(1)})
		}),
		b("rope_neox", func(a, b graph.Tensor) graph.Tensor { return a.RoPE(b, graph.RoPE{NeoX: true, Dims: 2}) }),
		b("attention", func(a, b graph.Tensor) graph.Tensor {
			return graph.ScaledDotProductAttention(a, b, b, graph.Attention{Causal: true})
		}),
		u("attention_self", func(t graph.Tensor) graph.Tensor {
			return graph.ScaledDotProductAttention(t, t, t, graph.Attention{Causal: true, Scale: -1})
		}),
		b("cross_entropy", graph.CrossEntropy),
		b("conv2d", func(a, b graph.Tensor) graph.Tensor { return a.Conv2D(b, graph.Tensor{}, graph.Conv{}) }),
		b("conv2d_bias", func(a, b graph.Tensor) graph.Tensor {
			return a.Conv2D(b, b, graph.Conv{Stride: [2]int{-1, 0}, Padding: [2]int{-1, 5}, Dilation: [2]int{-2, 0}})
		}),
		u("conv2d_self", func(t graph.Tensor) graph.Tensor { return t.Conv2D(t, t, graph.Conv{}) }),
		u("max_pool", func(t graph.Tensor) graph.Tensor { return t.MaxPool2D(2, 2, graph.Conv{}) }),
		u("max_pool_zero", func(t graph.Tensor) graph.Tensor { return t.MaxPool2D(0, 0, graph.Conv{}) }),
		u("max_pool_neg", func(t graph.Tensor) graph.Tensor { return t.MaxPool2D(-1, 2, graph.Conv{Padding: [2]int{-3, 0}}) }),
		u("avg_pool", func(t graph.Tensor) graph.Tensor { return t.AvgPool2D(1, 1, graph.Conv{Padding: [2]int{1, 1}}) }),
		u("avg_pool_huge", func(t graph.Tensor) graph.Tensor { return t.AvgPool2D(1000, 1000, graph.Conv{}) }),
		u("unfold", func(t graph.Tensor) graph.Tensor { return t.Unfold(w, 0) }),
		u("unfold_zero_window", func(t graph.Tensor) graph.Tensor { return t.Unfold(zero, 0) }),
		u("unfold_neg_window", func(t graph.Tensor) graph.Tensor { return t.Unfold(neg, 0) }),
		u("fold", func(t graph.Tensor) graph.Tensor { return t.Fold(w, 3, 3) }),
		u("fold_zero_window", func(t graph.Tensor) graph.Tensor { return t.Fold(zero, 3, 3) }),
		u("fold_neg_window", func(t graph.Tensor) graph.Tensor { return t.Fold(neg, -1, -1) }),
		errsOp{"assign", func(g *graph.Graph, a, b graph.Tensor) graph.Tensor { return g.Assign(a, b) }},
		errsOp{"assign_var", func(g *graph.Graph, a, _ graph.Tensor) graph.Tensor {
			return g.Assign(g.Variable("v", tensor.NewF64([]float64{1, 2, 3}, 3)), a)
		}},
		errsOp{"update_at", func(g *graph.Graph, a, b graph.Tensor) graph.Tensor { return a.UpdateAt(0, b, a) }},
		errsOp{"update_at_rows", func(g *graph.Graph, a, b graph.Tensor) graph.Tensor {
			return a.UpdateAt(-1, g.Scalar(tensor.I64, 1), b)
		}},
		errsOp{"update_slice", func(g *graph.Graph, a, b graph.Tensor) graph.Tensor {
			return g.UpdateSlice(a, b, 0, g.Scalar(tensor.I64, 0))
		}},
		errsOp{"update_slice_var", func(g *graph.Graph, a, b graph.Tensor) graph.Tensor {
			return g.UpdateSlice(g.Variable("v", tensor.NewF64([]float64{1, 2, 3}, 3)), a, 0, b)
		}},
		errsOp{"full_neg", func(g *graph.Graph, _, _ graph.Tensor) graph.Tensor { return g.Full(tensor.F64, 1, -2) }},
		errsOp{"full_invalid", func(g *graph.Graph, _, _ graph.Tensor) graph.Tensor { return g.Full(tensor.DType(77), 1, 2) }},
		errsOp{"placeholder_neg", func(g *graph.Graph, _, _ graph.Tensor) graph.Tensor { return g.Placeholder("p", tensor.F64, -1) }},
		errsOp{"param_nil", func(g *graph.Graph, _, _ graph.Tensor) graph.Tensor { return g.Param("w", nil) }},
		errsOp{"param_empty_name", func(g *graph.Graph, _, _ graph.Tensor) graph.Tensor {
			return g.Param("", tensor.NewF64([]float64{1}, 1))
		}},
		errsOp{"variable_nil", func(g *graph.Graph, _, _ graph.Tensor) graph.Tensor { return g.Variable("v", nil) }},
		errsOp{"const_nil", func(g *graph.Graph, _, _ graph.Tensor) graph.Tensor { return g.Const(nil) }},
		errsOp{"const_empty_array", func(g *graph.Graph, _, _ graph.Tensor) graph.Tensor { return g.Const(&tensor.Array{}) }},
		errsOp{"scalar_invalid", func(g *graph.Graph, _, _ graph.Tensor) graph.Tensor { return g.Scalar(tensor.Invalid, 0) }},
		errsOp{"tensor_bad_id", func(g *graph.Graph, _, _ graph.Tensor) graph.Tensor { return g.Tensor(-7) }},
		errsOp{"tensor_big_id", func(g *graph.Graph, _, _ graph.Tensor) graph.Tensor { return g.Tensor(1 << 40) }},
	}
	return ops
}

// errsOperands returns the operands every operation is tried with: good
// and bad ranks and dtypes, empty and scalar tensors, the zero Tensor, an
// invalid tensor with no recorded error, and a tensor of another graph.
func errsOperands(g *graph.Graph) []struct {
	name string
	t    graph.Tensor
} {
	f64 := func(dims ...int) graph.Tensor {
		a := tensor.MustZeros(tensor.F64, tensor.Shape(dims))
		for i := range a.Float64s() {
			a.Float64s()[i] = 0.5 + float64(i%7)/4
		}
		return g.Const(a)
	}
	return []struct {
		name string
		t    graph.Tensor
	}{
		{"zero", graph.Tensor{}},
		{"invalid", g.Tensor(-1)},
		{"foreign", graph.New().Scalar(tensor.F64, 1).Expand(3)},
		{"scalar", g.Scalar(tensor.F64, 2)},
		{"vector", f64(3)},
		{"matrix", f64(2, 3)},
		{"rank4", f64(1, 2, 3, 4)},
		{"rank6", f64(1, 1, 2, 2, 2, 2)},
		{"empty", f64(0, 3)},
		{"f32", g.Const(tensor.NewF32([]float32{1, 2, 3, 4, 5, 6}, 2, 3))},
		{"i64", g.Const(tensor.NewI64([]int64{2, 0, 7}, 3))},
		{"i32_neg", g.Const(tensor.NewI32([]int32{-1, 1}, 2))},
		{"bool", g.Scalar(tensor.Bool, 1).Expand(3)},
		{"param", g.Param("w", tensor.NewF64([]float64{1, 2, 3}, 3))},
	}
}

// TestPublicAPINoPanic drives every public operation with every pair of
// operands, then compiles and runs what was built. A user mistake must
// come back as an error, never as a panic. Panics are reported once per
// operation, stage and message, with the first operands that caused them.
func TestPublicAPINoPanic(t *testing.T) {
	ops := errsOps()
	n := len(errsOperands(graph.New()))
	type failure struct {
		first string
		count int
	}
	failures := map[string]*failure{}
	var keys []string
	guard := func(opName, stage, where string, f func()) (ok bool) {
		defer func() {
			if r := recover(); r != nil {
				k := fmt.Sprintf("%s %s: %v", opName, stage, r)
				if failures[k] == nil {
					failures[k] = &failure{first: where}
					keys = append(keys, k)
				}
				failures[k].count++
				ok = false
			}
		}()
		f()
		return true
	}
	tried, built, ran := 0, 0, 0
	for _, o := range ops {
		for i := range n {
			for j := range n {
				g := graph.New()
				xs := errsOperands(g)
				a, b := xs[i], xs[j]
				where := fmt.Sprintf("%s(%s, %s)", o.name, a.name, b.name)
				tried++
				var out graph.Tensor
				if !guard(o.name, "build", where, func() { out = o.f(g, a.t, b.t) }) {
					continue
				}
				var p *graph.Program
				var err error
				if !guard(o.name, "compile", where, func() { p, err = graph.Compile([]graph.Tensor{out}) }) {
					continue
				}
				if err != nil {
					if out.Valid() && out.Graph() == g && g.Err() == nil {
						t.Errorf("%s: valid output and no build error, but Compile: %v", where, err)
					}
					continue
				}
				if !out.Valid() {
					t.Errorf("%s: Compile accepted an invalid output", where)
				}
				built++
				if guard(o.name, "run", where, func() { _, err = p.Run(context.Background(), nil) }) && err == nil {
					ran++
				}
			}
		}
	}
	for _, k := range keys {
		t.Errorf("%s (%d times, first %s)", k, failures[k].count, failures[k].first)
	}
	t.Logf("%d operations x %d x %d operands: %d calls, %d compiled, %d ran", len(ops), n, n, tried, built, ran)
}

// TestGradientNoPanic differentiates every operation that built and ran in
// the no-panic sweep with respect to its float operands: odd shapes
// (scalars, empty and rank-6 tensors) must not make a gradient rule panic
// or record an invalid graph, and the gradient must compile and run.
func TestGradientNoPanic(t *testing.T) {
	ops := errsOps()
	n := len(errsOperands(graph.New()))
	seen := map[string]bool{}
	checked := 0
	for _, o := range ops {
		for i := range n {
			for j := range n {
				g := graph.New()
				xs := errsOperands(g)
				a, b := xs[i], xs[j]
				where := fmt.Sprintf("%s(%s, %s)", o.name, a.name, b.name)
				out := o.f(g, a.t, b.t)
				if g.Err() != nil || !out.Valid() || out.Graph() != g || !out.DType().IsFloat() {
					continue
				}
				if p, err := graph.Compile([]graph.Tensor{out}); err != nil {
					continue
				} else if _, err := p.Run(context.Background(), nil); err != nil {
					continue
				}
				var wrt []graph.Tensor
				for _, x := range []graph.Tensor{a.t, b.t} {
					if x.Valid() && x.Graph() == g && x.DType().IsFloat() {
						wrt = append(wrt, x)
					}
				}
				if len(wrt) == 0 {
					continue
				}
				fail := func(format string, args ...any) {
					msg := fmt.Sprintf(format, args...)
					if k := o.name + ": " + msg; !seen[k] {
						seen[k] = true
						t.Errorf("%s: %s", where, msg)
					}
				}
				func() {
					defer func() {
						if r := recover(); r != nil {
							fail("gradient panicked: %v", r)
						}
					}()
					gs, err := autograd.Grad(out.Sum(), wrt...)
					if err != nil {
						// Assign is an effect, not a differentiable function.
						if !(out.Op() == op.Assign && errors.Is(err, autograd.ErrNoRule)) {
							fail("Grad: %v", err)
						}
						return
					}
					for _, optimize := range []bool{false, true} {
						p, err := graph.Compile(gs, graph.Optimize(optimize))
						if err != nil {
							fail("Compile gradients (optimize %v): %v", optimize, err)
							return
						}
						if _, err := p.Run(context.Background(), nil); err != nil {
							fail("Run gradients (optimize %v): %v", optimize, err)
							return
						}
					}
					checked++
				}()
			}
		}
	}
	t.Logf("%d gradients compiled and ran", checked)
}
