package graph_test

// Forward tests of the movement, indexing and window operations against
// index loops written here.

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// movementTypes are the dtypes every movement op must carry unchanged.
var movementTypes = []tensor.DType{tensor.F32, tensor.F64, tensor.I32, tensor.I64, tensor.Bool}

// seqND returns 1, 2, 3, ... so every element is distinct and exact.
func seqND(shape ...int) nd {
	a := zerosND(shape...)
	for i := range a.data {
		a.data[i] = float64(i + 1)
	}
	return a
}

// forType adapts a reference to the dtype: booleans keep only parity.
func forType(a nd, d tensor.DType) nd {
	if d != tensor.Bool {
		return a
	}
	return mapND(a, func(v float64) float64 { return b2f(math.Mod(v, 2) != 0) })
}

func TestReshapeFamily(t *testing.T) {
	x := seqND(2, 3, 4)
	cases := []struct {
		name  string
		f     func(graph.Tensor) graph.Tensor
		shape []int
	}{
		{"reshape", func(t graph.Tensor) graph.Tensor { return t.Reshape(4, 6) }, []int{4, 6}},
		{"reshape_infer", func(t graph.Tensor) graph.Tensor { return t.Reshape(2, -1, 3) }, []int{2, 4, 3}},
		{"reshape_same", func(t graph.Tensor) graph.Tensor { return t.Reshape(2, 3, 4) }, []int{2, 3, 4}},
		{"reshape_ones", func(t graph.Tensor) graph.Tensor { return t.Reshape(1, 24, 1) }, []int{1, 24, 1}},
		{"flatten", graph.Tensor.Flatten, []int{24}},
		{"unsqueeze0", func(t graph.Tensor) graph.Tensor { return t.Unsqueeze(0) }, []int{1, 2, 3, 4}},
		{"unsqueeze_end", func(t graph.Tensor) graph.Tensor { return t.Unsqueeze(-1) }, []int{2, 3, 4, 1}},
		{"unsqueeze_mid", func(t graph.Tensor) graph.Tensor { return t.Unsqueeze(2) }, []int{2, 3, 1, 4}},
		{"squeeze", func(t graph.Tensor) graph.Tensor { return t.Reshape(1, 2, 1, 12, 1).Squeeze(0, -1) }, []int{2, 1, 12}},
		{"squeeze_all_ones", func(t graph.Tensor) graph.Tensor { return t.Reshape(1, 24, 1).Squeeze(0, 2) }, []int{24}},
	}
	for _, c := range cases {
		for _, d := range movementTypes {
			t.Run(c.name+"/"+d.String(), func(t *testing.T) {
				got := eval(t, func(g *graph.Graph) graph.Tensor { return c.f(in(g, forType(x, d), d)) })
				want := forType(nd{c.shape, x.data}, d)
				checkExact(t, got, want)
			})
		}
	}
	t.Run("scalar", func(t *testing.T) {
		got := eval(t, func(g *graph.Graph) graph.Tensor { return g.Scalar(tensor.F64, 3).Reshape(1, 1).Reshape() })
		checkExact(t, got, literal(nil, 3))
	})
	t.Run("empty", func(t *testing.T) {
		got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, zerosND(0, 4), tensor.F32).Reshape(2, 0, 2) })
		checkExact(t, got, zerosND(2, 0, 2))
	})
}

// permuteRef moves axis perm[i] of x to axis i.
func permuteRef(x nd, perm []int) nd {
	shape := make([]int, len(perm))
	for i, p := range perm {
		if p < 0 {
			p += len(perm)
		}
		shape[i] = x.shape[p]
	}
	out := zerosND(shape...)
	k := 0
	forEach(shape, func(idx []int) {
		src := make([]int, len(perm))
		for i, p := range perm {
			if p < 0 {
				p += len(perm)
			}
			src[p] = idx[i]
		}
		out.data[k] = x.at(src...)
		k++
	})
	return out
}

func TestPermute(t *testing.T) {
	x := seqND(2, 3, 4, 5)
	perms := [][]int{{0, 1, 2, 3}, {3, 2, 1, 0}, {1, 0, 2, 3}, {0, 2, 3, 1}, {2, 0, 3, 1}, {-1, 0, -2, 1}}
	for _, p := range perms {
		for _, d := range movementTypes {
			t.Run(fmt.Sprintf("%v/%v", p, d), func(t *testing.T) {
				got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, forType(x, d), d).Permute(p...) })
				checkExact(t, got, forType(permuteRef(x, p), d))
			})
		}
	}
	t.Run("transpose", func(t *testing.T) {
		for _, s := range [][]int{{3, 5}, {2, 3, 4}, {1, 1, 6, 1}} {
			xs := seqND(s...)
			perm := make([]int, len(s))
			for i := range perm {
				perm[i] = i
			}
			perm[len(s)-1], perm[len(s)-2] = perm[len(s)-2], perm[len(s)-1]
			got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, xs, tensor.F32).Transpose() })
			checkExact(t, got, permuteRef(xs, perm))
		}
	})
	t.Run("parallel", func(t *testing.T) {
		xl := seqND(64, 32, 48)
		got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, xl, tensor.F64).Permute(2, 0, 1) })
		checkExact(t, got, permuteRef(xl, []int{2, 0, 1}))
	})
}

// expandRef broadcasts x to shape.
func expandRef(x nd, shape ...int) nd {
	return zipND(func(v ...float64) float64 { return v[1] }, zerosND(shape...), x)
}

func TestExpand(t *testing.T) {
	cases := []struct{ in, out []int }{
		{[]int{3, 1}, []int{3, 4}},
		{[]int{3, 1}, []int{2, 3, 4}},
		{[]int{1}, []int{5}},
		{nil, []int{2, 2}},
		{[]int{1, 4, 1}, []int{3, 4, 2}},
		{[]int{2, 3}, []int{2, 3}},
		{[]int{1, 3}, []int{0, 3}},
		{[]int{1, 256}, []int{256, 256}},
	}
	for _, c := range cases {
		x := seqND(c.in...)
		for _, d := range movementTypes {
			t.Run(fmt.Sprintf("%v→%v/%v", c.in, c.out, d), func(t *testing.T) {
				got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, forType(x, d), d).Expand(c.out...) })
				checkExact(t, got, forType(expandRef(x, c.out...), d))
			})
		}
	}
	t.Run("full", func(t *testing.T) {
		got := eval(t, func(g *graph.Graph) graph.Tensor { return g.Full(tensor.I32, -4, 2, 3) })
		checkExact(t, got, mapND(zerosND(2, 3), func(float64) float64 { return -4 }))
	})
}

// pyIndices lists the indices Python's range(n)[start:stop:step] selects,
// following CPython's slice adjustment.
func pyIndices(r graph.Range, n int) []int {
	step := r.Step
	if step == 0 {
		step = 1
	}
	lower, upper := 0, n
	if step < 0 {
		lower, upper = -1, n-1
	}
	adj := func(i int) int {
		if i < 0 {
			i += n
			if i < lower {
				i = lower
			}
		} else if i > upper {
			i = upper
		}
		return i
	}
	start, stop := adj(r.Start), adj(r.Stop)
	var out []int
	for i := start; (step > 0 && i < stop) || (step < 0 && i > stop); i += step {
		out = append(out, i)
	}
	return out
}

// sliceRef selects ranges[i] of axis i.
func sliceRef(x nd, ranges ...graph.Range) nd {
	sel := make([][]int, len(x.shape))
	shape := make([]int, len(x.shape))
	for i, n := range x.shape {
		rg := graph.All
		if i < len(ranges) {
			rg = ranges[i]
		}
		sel[i] = pyIndices(rg, n)
		shape[i] = len(sel[i])
	}
	out := zerosND(shape...)
	k := 0
	forEach(shape, func(idx []int) {
		src := make([]int, len(idx))
		for i, j := range idx {
			src[i] = sel[i][j]
		}
		out.data[k] = x.at(src...)
		k++
	})
	return out
}

func TestSlice(t *testing.T) {
	x := seqND(6, 5, 4)
	open := math.MaxInt
	cases := [][]graph.Range{
		{{Start: 1, Stop: 4, Step: 1}},
		{{Start: 0, Stop: 6, Step: 2}, {Start: 1, Stop: 5, Step: 3}},
		{{Start: -1, Stop: math.MinInt, Step: -1}},
		{{Start: 5, Stop: 0, Step: -2}, graph.All, {Start: 3, Stop: -5, Step: -1}},
		{{Start: 4, Stop: -7, Step: -2}},
		{{Start: -3, Stop: open, Step: 1}, {Start: -100, Stop: 100, Step: 1}},
		{{Start: 2, Stop: 2, Step: 1}},
		{{Start: 4, Stop: 1, Step: 1}},
		{{Start: 1, Stop: 4, Step: -1}},
		{graph.All, {Start: 0, Stop: open, Step: 0}, {Start: 1, Stop: 2, Step: 1}},
		{graph.All, graph.All, {Start: -1, Stop: -5, Step: -3}},
		{graph.Span(1, 2, 3), graph.Span(4, -1, 5)},
		{graph.Span(3, -3, 2)},
	}
	for i, rs := range cases {
		for _, d := range movementTypes {
			t.Run(fmt.Sprintf("%d/%v/%v", i, d, rs), func(t *testing.T) {
				got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, forType(x, d), d).Slice(rs...) })
				checkExact(t, got, forType(sliceRef(x, rs...), d))
			})
		}
	}
	t.Run("slice_axis", func(t *testing.T) {
		for axis := -3; axis < 3; axis++ {
			got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, x, tensor.F64).SliceAxis(axis, -1, 0, -2) })
			rs := []graph.Range{graph.All, graph.All, graph.All}
			rs[(axis+3)%3] = graph.Range{Start: -1, Stop: 0, Step: -2}
			checkExact(t, got, sliceRef(x, rs...))
		}
	})
	t.Run("chain", func(t *testing.T) {
		// A permuted, reversed, strided view of a view, then a reduction.
		got := eval(t, func(g *graph.Graph) graph.Tensor {
			return in(g, x, tensor.F64).Permute(2, 0, 1).Slice(graph.Range{Start: -1, Stop: math.MinInt, Step: -1}, graph.Range{Start: 1, Stop: 6, Step: 2}).Sum(1)
		})
		v := sliceRef(permuteRef(x, []int{2, 0, 1}), graph.Range{Start: -1, Stop: math.MinInt, Step: -1}, graph.Range{Start: 1, Stop: 6, Step: 2})
		checkExact(t, got, reduceRef(v, []int{1}, false, 0, func(a, b float64) float64 { return a + b }))
	})
}

func TestUnslice(t *testing.T) {
	cases := []struct {
		in, out       []int
		starts, steps []int
	}{
		{[]int{2, 3}, []int{5, 4}, []int{1, 0}, []int{2, 1}},
		{[]int{3}, []int{7}, []int{6}, []int{-3}},
		{[]int{2, 2}, []int{2, 2}, []int{0, 0}, []int{1, 1}},
		{[]int{0, 3}, []int{4, 3}, []int{0, 0}, []int{1, 1}},
	}
	for _, c := range cases {
		x := seqND(c.in...)
		t.Run(fmt.Sprintf("%v→%v", c.in, c.out), func(t *testing.T) {
			got := eval(t, func(g *graph.Graph) graph.Tensor {
				return in(g, x, tensor.F32).Unslice(tensor.Shape(c.out), c.starts, c.steps)
			})
			want := zerosND(c.out...)
			k := 0
			forEach(c.in, func(idx []int) {
				dst := make([]int, len(idx))
				for i, j := range idx {
					dst[i] = c.starts[i] + j*c.steps[i]
				}
				want.set(x.data[k], dst...)
				k++
			})
			checkExact(t, got, want)
		})
	}
}

func TestPad(t *testing.T) {
	cases := []struct {
		in   []int
		pads [][2]int
	}{
		{[]int{2, 3}, [][2]int{{1, 2}, {0, 1}}},
		{[]int{2, 3}, [][2]int{{1, 1}}},
		{[]int{4}, [][2]int{{0, 3}}},
		{[]int{0, 2}, [][2]int{{1, 0}, {1, 1}}},
		{[]int{1, 1, 1}, [][2]int{{2, 0}, {0, 0}, {1, 3}}},
	}
	for _, c := range cases {
		x := seqND(c.in...)
		for _, d := range []tensor.DType{tensor.F32, tensor.F64, tensor.I32, tensor.I64} {
			t.Run(fmt.Sprintf("%v/%v/%v", c.in, c.pads, d), func(t *testing.T) {
				got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, forType(x, d), d).Pad(-7, c.pads...) })
				shape := slices.Clone(c.in)
				p := make([][2]int, len(shape))
				copy(p, c.pads)
				for i := range shape {
					shape[i] += p[i][0] + p[i][1]
				}
				want := mapND(zerosND(shape...), func(float64) float64 { return -7 })
				k := 0
				forEach(c.in, func(idx []int) {
					dst := make([]int, len(idx))
					for i, j := range idx {
						dst[i] = j + p[i][0]
					}
					want.set(x.data[k], dst...)
					k++
				})
				checkExact(t, got, want)
			})
		}
	}
}

// concatRef joins xs along axis.
func concatRef(axis int, xs ...nd) nd {
	if axis < 0 {
		axis += len(xs[0].shape)
	}
	shape := slices.Clone(xs[0].shape)
	shape[axis] = 0
	for _, x := range xs {
		shape[axis] += x.shape[axis]
	}
	out := zerosND(shape...)
	off := 0
	for _, x := range xs {
		k := 0
		forEach(x.shape, func(idx []int) {
			dst := slices.Clone(idx)
			dst[axis] += off
			out.set(x.data[k], dst...)
			k++
		})
		off += x.shape[axis]
	}
	return out
}

func TestConcatStack(t *testing.T) {
	cases := []struct {
		axis   int
		shapes [][]int
	}{
		{0, [][]int{{2, 3}, {1, 3}, {4, 3}}},
		{1, [][]int{{2, 3}, {2, 1}}},
		{-1, [][]int{{2, 2, 1}, {2, 2, 3}, {2, 2, 2}}},
		{1, [][]int{{2, 0, 3}, {2, 2, 3}, {2, 0, 3}}},
		{0, [][]int{{5}}},
		{0, [][]int{{3}, {2}}},
	}
	for ci, c := range cases {
		xs := make([]nd, len(c.shapes))
		for i, s := range c.shapes {
			xs[i] = mapND(seqND(s...), func(v float64) float64 { return v + float64(100*i) })
		}
		for _, d := range movementTypes {
			t.Run(fmt.Sprintf("concat%d/%v", ci, d), func(t *testing.T) {
				got := eval(t, func(g *graph.Graph) graph.Tensor {
					ts := make([]graph.Tensor, len(xs))
					for i, x := range xs {
						ts[i] = in(g, forType(x, d), d)
					}
					return graph.Concat(c.axis, ts...)
				})
				checkExact(t, got, forType(concatRef(c.axis, xs...), d))
			})
		}
	}
	for _, axis := range []int{0, 1, 2, -1, -3} {
		xs := []nd{seqND(2, 3), mapND(seqND(2, 3), func(v float64) float64 { return -v }), mapND(seqND(2, 3), func(v float64) float64 { return v * 10 })}
		t.Run(fmt.Sprintf("stack/axis=%d", axis), func(t *testing.T) {
			got := eval(t, func(g *graph.Graph) graph.Tensor {
				return graph.Stack(axis, in(g, xs[0], tensor.F64), in(g, xs[1], tensor.F64), in(g, xs[2], tensor.F64))
			})
			a := axis
			if a < 0 {
				a += 3
			}
			us := make([]nd, len(xs))
			for i, x := range xs {
				s := slices.Insert(slices.Clone(x.shape), a, 1)
				us[i] = nd{s, x.data}
			}
			checkExact(t, got, concatRef(a, us...))
		})
	}
}

// gatherRef is x.shape[:axis] + idx.shape + x.shape[axis+1:] indexing.
func gatherRef(x nd, axis int, idx nd) nd {
	if axis < 0 {
		axis += len(x.shape)
	}
	shape := append(append(slices.Clone(x.shape[:axis]), idx.shape...), x.shape[axis+1:]...)
	out := zerosND(shape...)
	k := 0
	forEach(shape, func(o []int) {
		src := slices.Clone(o[:axis])
		src = append(src, int(idx.at(o[axis:axis+len(idx.shape)]...)))
		src = append(src, o[axis+len(idx.shape):]...)
		out.data[k] = x.at(src...)
		k++
	})
	return out
}

// scatterRef sums src into zeros of shape at idx along axis.
func scatterRef(shape []int, axis int, idx, src nd) nd {
	if axis < 0 {
		axis += len(shape)
	}
	out := zerosND(shape...)
	k := 0
	forEach(src.shape, func(o []int) {
		dst := slices.Clone(o[:axis])
		dst = append(dst, int(idx.at(o[axis:axis+len(idx.shape)]...)))
		dst = append(dst, o[axis+len(idx.shape):]...)
		out.data[offset(shape, dst)] += src.data[k]
		k++
	})
	return out
}

func TestGatherScatter(t *testing.T) {
	x := seqND(3, 4, 5)
	cases := []struct {
		axis int
		idx  nd
	}{
		{0, literal([]int{4}, 2, 0, 2, 1)},
		{1, literal([]int{2, 3}, 3, 0, 1, 1, 3, 2)},
		{2, literal([]int{1}, 4)},
		{-1, literal([]int{2, 2}, 0, 4, 4, 0)},
		{-2, literal(nil, 2)},
		{0, zerosND(0)},
	}
	for ci, c := range cases {
		for _, it := range []tensor.DType{tensor.I32, tensor.I64} {
			for _, d := range []tensor.DType{tensor.F32, tensor.F64, tensor.I64} {
				t.Run(fmt.Sprintf("gather%d/%v/%v", ci, it, d), func(t *testing.T) {
					got := eval(t, func(g *graph.Graph) graph.Tensor {
						return in(g, forType(x, d), d).Gather(c.axis, in(g, c.idx, it))
					})
					checkExact(t, got, gatherRef(x, c.axis, c.idx))
				})
				t.Run(fmt.Sprintf("scatter%d/%v/%v", ci, it, d), func(t *testing.T) {
					src := gatherRef(x, c.axis, c.idx)
					src = mapND(src, func(v float64) float64 { return v * 3 })
					got := eval(t, func(g *graph.Graph) graph.Tensor {
						return in(g, forType(src, d), d).Scatter(c.axis, in(g, c.idx, it), x.shape...)
					})
					checkExact(t, got, scatterRef(x.shape, c.axis, c.idx, src))
				})
			}
		}
	}
	t.Run("embedding", func(t *testing.T) {
		table := randND(3, -1, 1, 10, 4)
		idx := literal([]int{2, 3}, 9, 0, 9, 3, 3, 1)
		got := eval(t, func(g *graph.Graph) graph.Tensor {
			return in(g, table, tensor.F32).Gather(0, in(g, idx, tensor.I32))
		})
		checkExact(t, got, gatherRef(table, 0, idx))
	})
	t.Run("index_select", func(t *testing.T) {
		idx := literal([]int{5}, 4, 4, 0, 3, 1)
		for axis := -1; axis < 3; axis++ {
			if axis == 0 {
				idx = literal([]int{3}, 2, 2, 0)
			}
			got := eval(t, func(g *graph.Graph) graph.Tensor {
				return in(g, x, tensor.F64).IndexSelect(axis, in(g, idx, tensor.I64))
			})
			checkExact(t, got, gatherRef(x, axis, idx))
			idx = literal([]int{5}, 4, 4, 0, 3, 1)
			if axis == 0 {
				idx = literal([]int{4}, 3, 3, 3, 0)
			}
		}
	})
	t.Run("scatter_add_repeated", func(t *testing.T) {
		base := randND(8, -1, 1, 5, 3)
		idx := literal([]int{6}, 1, 4, 1, 1, 0, 4)
		src := randND(9, -1, 1, 6, 3)
		for _, d := range floatTypes {
			got := eval(t, func(g *graph.Graph) graph.Tensor {
				return in(g, forType(base, d), d).ScatterAdd(0, in(g, idx, tensor.I64), in(g, forType(src, d), d))
			})
			want := zipND(func(v ...float64) float64 { return v[0] + v[1] }, base, scatterRef(base.shape, 0, idx, src))
			checkClose(t, got, want, tolFor(d))
		}
		// Along the last axis.
		idx1 := literal([]int{4}, 2, 2, 0, 2)
		src1 := randND(10, -1, 1, 5, 4)
		got := eval(t, func(g *graph.Graph) graph.Tensor {
			return in(g, base, tensor.F64).ScatterAdd(-1, in(g, idx1, tensor.I32), in(g, src1, tensor.F64))
		})
		want := zipND(func(v ...float64) float64 { return v[0] + v[1] }, base, scatterRef(base.shape, 1, idx1, src1))
		checkClose(t, got, want, tolFor(tensor.F64))
	})
}

// unfoldRef is im2col written as the definition: out[n,c,a,b,p,q] =
// x[n, c, p*sh - ph + a*dh, q*sw - pw + b*dw], or pad outside.
func unfoldRef(x nd, k, s, p, dl [2]int, pad float64) nd {
	h, w := x.shape[2], x.shape[3]
	oh := (h+2*p[0]-dl[0]*(k[0]-1)-1)/s[0] + 1
	ow := (w+2*p[1]-dl[1]*(k[1]-1)-1)/s[1] + 1
	out := zerosND(x.shape[0], x.shape[1], k[0], k[1], oh, ow)
	k0 := 0
	forEach(out.shape, func(i []int) {
		r := i[4]*s[0] - p[0] + i[2]*dl[0]
		c := i[5]*s[1] - p[1] + i[3]*dl[1]
		if r < 0 || r >= h || c < 0 || c >= w {
			out.data[k0] = pad
		} else {
			out.data[k0] = x.at(i[0], i[1], r, c)
		}
		k0++
	})
	return out
}

func TestUnfoldFold(t *testing.T) {
	cases := []struct {
		shape       []int
		k, s, p, dl [2]int
	}{
		{[]int{1, 1, 4, 4}, [2]int{2, 2}, [2]int{1, 1}, [2]int{0, 0}, [2]int{1, 1}},
		{[]int{2, 3, 5, 6}, [2]int{3, 2}, [2]int{2, 1}, [2]int{1, 0}, [2]int{1, 2}},
		{[]int{1, 2, 7, 5}, [2]int{2, 3}, [2]int{3, 2}, [2]int{2, 1}, [2]int{2, 1}},
		{[]int{1, 1, 1, 1}, [2]int{1, 1}, [2]int{1, 1}, [2]int{0, 0}, [2]int{1, 1}},
		{[]int{4, 8, 20, 20}, [2]int{3, 3}, [2]int{1, 1}, [2]int{1, 1}, [2]int{1, 1}}, // parallel path
	}
	for i, c := range cases {
		x := randND(uint64(i), -1, 1, c.shape...)
		w := graphWindow(c.k, c.s, c.p, c.dl)
		want := unfoldRef(x, c.k, c.s, c.p, c.dl, -9)
		for _, d := range floatTypes {
			t.Run(fmt.Sprintf("unfold%d/%v", i, d), func(t *testing.T) {
				got := eval(t, func(g *graph.Graph) graph.Tensor { return in(g, forType(x, d), d).Unfold(w, -9) })
				checkExact(t, got, want)
			})
			t.Run(fmt.Sprintf("fold%d/%v", i, d), func(t *testing.T) {
				// Fold is the adjoint of Unfold: <unfold(x), y> = <x, fold(y)>.
				y := randND(uint64(100+i), -1, 1, want.shape...)
				got := eval(t, func(g *graph.Graph) graph.Tensor {
					return in(g, forType(y, d), d).Fold(w, c.shape[2], c.shape[3])
				})
				ref := zerosND(c.shape...)
				k := 0
				h, wd := c.shape[2], c.shape[3]
				forEach(y.shape, func(i []int) {
					r := i[4]*c.s[0] - c.p[0] + i[2]*c.dl[0]
					q := i[5]*c.s[1] - c.p[1] + i[3]*c.dl[1]
					if r >= 0 && r < h && q >= 0 && q < wd {
						ref.data[offset(c.shape, []int{i[0], i[1], r, q})] += y.data[k]
					}
					k++
				})
				checkClose(t, got, ref, tolFor(d))
			})
		}
	}
}

func graphWindow(k, s, p, dl [2]int) op.Window {
	return op.Window{Kernel: k, Stride: s, Padding: p, Dilation: dl}
}
