package graph_test

// Reference helpers for the forward tests: a tiny float64 n-d array (nd)
// with plain index loops, independent of the tensor and backend packages,
// and the plumbing that compiles, runs and compares a graph against it.

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// nd is a row-major float64 reference array.
type nd struct {
	shape []int
	data  []float64
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func stridesOf(shape []int) []int {
	st := make([]int, len(shape))
	n := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = n
		n *= shape[i]
	}
	return st
}

// offset returns the row-major position of idx in shape.
func offset(shape, idx []int) int {
	off, st := 0, stridesOf(shape)
	for i, x := range idx {
		off += x * st[i]
	}
	return off
}

// forEach calls f with every index of shape in row-major order. f must not
// keep idx.
func forEach(shape []int, f func(idx []int)) {
	n := numel(shape)
	idx := make([]int, len(shape))
	for k := 0; k < n; k++ {
		f(idx)
		for i := len(shape) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < shape[i] {
				break
			}
			idx[i] = 0
		}
	}
}

func zerosND(shape ...int) nd {
	return nd{shape: append([]int{}, shape...), data: make([]float64, numel(shape))}
}

func (a nd) at(idx ...int) float64 { return a.data[offset(a.shape, idx)] }

func (a nd) set(v float64, idx ...int) { a.data[offset(a.shape, idx)] = v }

// mapND applies f to every element.
func mapND(a nd, f func(float64) float64) nd {
	out := zerosND(a.shape...)
	for i, v := range a.data {
		out.data[i] = f(v)
	}
	return out
}

// randND returns values uniform in [lo, hi), rounded to float32 so that the
// same inputs are exact in both F32 and F64 runs.
func randND(seed uint64, lo, hi float64, shape ...int) nd {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	a := zerosND(shape...)
	for i := range a.data {
		a.data[i] = float64(float32(lo + (hi-lo)*r.Float64()))
	}
	return a
}

// intND returns integers uniform in [lo, hi].
func intND(seed uint64, lo, hi int, shape ...int) nd {
	r := rand.New(rand.NewPCG(seed, 0x1d))
	a := zerosND(shape...)
	for i := range a.data {
		a.data[i] = float64(lo + r.IntN(hi-lo+1))
	}
	return a
}

func literal(shape []int, data ...float64) nd {
	if numel(shape) != len(data) {
		panic(fmt.Sprintf("literal: %d values for %v", len(data), shape))
	}
	return nd{shape: append([]int{}, shape...), data: data}
}

// array converts a to a host array of dtype d.
func (a nd) array(d tensor.DType) *tensor.Array {
	arr := tensor.MustZeros(d, tensor.Shape(a.shape))
	for i, v := range a.data {
		arr.SetFlat(i, v)
	}
	return arr
}

var floatTypes = []tensor.DType{tensor.F32, tensor.F64}

// tol is a mixed tolerance: |got-want| <= atol + rtol*|want|.
type tol struct{ rtol, atol float64 }

// tolFor is the tolerance for one op, or a short chain of ops, computed in d
// from float32-exact inputs.
func tolFor(d tensor.DType) tol {
	if d == tensor.F64 {
		return tol{1e-12, 1e-12}
	}
	return tol{1e-5, 1e-5}
}

// runGraph compiles outs and runs them once with feeds.
func runGraph(t testing.TB, feeds graph.Feeds, outs ...graph.Tensor) []*tensor.Array {
	t.Helper()
	p, err := graph.Compile(outs)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	res, err := p.Run(context.Background(), feeds)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return res
}

// feedInputs collects the placeholders that in records while a graph is
// built in feed mode.
type feedInputs struct{ feeds graph.Feeds }

// current is non-nil while eval builds a graph whose inputs are fed. Tests
// in this package do not run in parallel.
var current *feedInputs

// in records x in dtype d as a graph input: a constant, or, while eval
// builds the fed variant, a placeholder with its feed. Constant-only graphs
// are folded by the compiler, so only the fed variant runs the kernels
// through the compiled schedule and its planned buffers.
func in(g *graph.Graph, x nd, d tensor.DType) graph.Tensor {
	a := x.array(d)
	if current == nil {
		return g.Const(a)
	}
	name := fmt.Sprintf("in%d", len(current.feeds))
	current.feeds[name] = a
	return g.Placeholder(name, d, x.shape...)
}

// eval builds a one-output graph twice, with constant inputs and with fed
// inputs, runs both, checks that they agree and returns the fed result.
func eval(t testing.TB, build func(g *graph.Graph) graph.Tensor) *tensor.Array {
	t.Helper()
	folded := runGraph(t, nil, build(graph.New()))[0]
	fed := evalFed(t, build)
	if folded.DType() != fed.DType() {
		t.Fatalf("constant inputs give %v, fed inputs %v", folded.DType(), fed.DType())
	}
	tl := tol{}
	if fed.DType().IsFloat() {
		tl = tolFor(fed.DType())
	}
	if !folded.Shape().Equal(fed.Shape()) {
		t.Fatalf("constant inputs give shape %v, fed inputs %v", folded.Shape(), fed.Shape())
	}
	for i := range fed.Len() {
		a, b := folded.Flat(i), fed.Flat(i)
		if !(a == b || math.IsNaN(a) && math.IsNaN(b) || math.Abs(a-b) <= tl.atol+tl.rtol*math.Abs(b)) {
			t.Fatalf("element %d: constant inputs give %v, fed inputs %v", i, a, b)
		}
	}
	return fed
}

// evalFed builds the graph with placeholder inputs and runs it.
func evalFed(t testing.TB, build func(g *graph.Graph) graph.Tensor) *tensor.Array {
	t.Helper()
	current = &feedInputs{feeds: graph.Feeds{}}
	y := build(graph.New())
	feeds := current.feeds
	current = nil
	return runGraph(t, feeds, y)[0]
}

// checkClose compares got with want in shape and value. NaN matches NaN and
// infinities must match exactly.
func checkClose(t testing.TB, got *tensor.Array, want nd, tl tol) {
	t.Helper()
	if !got.Shape().Equal(tensor.Shape(want.shape)) && !(len(want.shape) == 0 && got.Shape().Rank() == 0) {
		t.Fatalf("shape %v, want %v", got.Shape(), want.shape)
	}
	bad := 0
	for i, w := range want.data {
		g := got.Flat(i)
		var ok bool
		switch {
		case math.IsNaN(w):
			ok = math.IsNaN(g)
		case math.IsInf(w, 0):
			ok = g == w
		default:
			ok = math.Abs(g-w) <= tl.atol+tl.rtol*math.Abs(w)
		}
		if !ok {
			bad++
			if bad <= 5 {
				t.Errorf("element %d (%v): got %.17g, want %.17g (diff %.3g)", i, unravel(want.shape, i), g, w, g-w)
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d of %d elements differ", bad, len(want.data))
	}
}

// checkExact compares every element exactly (integers, booleans, moves).
func checkExact(t testing.TB, got *tensor.Array, want nd) {
	t.Helper()
	checkClose(t, got, want, tol{})
}

func unravel(shape []int, i int) []int {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		if shape[k] > 0 {
			idx[k] = i % shape[k]
			i /= shape[k]
		}
	}
	return idx
}

// broadcastShape is NumPy's rule, written out here so the tests do not
// rely on tensor.Broadcast.
func broadcastShape(shapes ...[]int) []int {
	r := 0
	for _, s := range shapes {
		r = max(r, len(s))
	}
	out := make([]int, r)
	for i := range out {
		out[i] = 1
	}
	for _, s := range shapes {
		for i, d := range s {
			j := r - len(s) + i
			if d != 1 {
				if out[j] != 1 && out[j] != d {
					panic(fmt.Sprintf("shapes %v do not broadcast", shapes))
				}
				out[j] = d
			}
		}
	}
	return out
}

// bcastAt reads a at the broadcast index idx of a higher-rank result.
func (a nd) bcastAt(idx []int) float64 {
	off := len(idx) - len(a.shape)
	j := make([]int, len(a.shape))
	for i := range j {
		if a.shape[i] != 1 {
			j[i] = idx[off+i]
		}
	}
	return a.at(j...)
}

// zipND applies f elementwise with broadcasting.
func zipND(f func(...float64) float64, as ...nd) nd {
	shapes := make([][]int, len(as))
	for i, a := range as {
		shapes[i] = a.shape
	}
	out := zerosND(broadcastShape(shapes...)...)
	vals := make([]float64, len(as))
	k := 0
	forEach(out.shape, func(idx []int) {
		for i, a := range as {
			vals[i] = a.bcastAt(idx)
		}
		out.data[k] = f(vals...)
		k++
	})
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
