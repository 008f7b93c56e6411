package graph_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/op"
	"github.com/aethertensor/aether/tensor"
)

// TestKVCacheAppend replays one compiled Program as a decode step: each run
// appends a row to a cache variable at a run-time position and reads a
// window that ends at that position. The Program is compiled once.
func TestKVCacheAppend(t *testing.T) {
	const ctxLen, dim = 6, 3
	g := graph.New()
	cache := g.Variable("cache", tensor.MustZeros(tensor.F32, tensor.Shape{ctxLen, dim}))
	row := g.Placeholder("row", tensor.F32, 1, dim)
	pos := g.Placeholder("pos", tensor.I64)
	write := g.AssignSlice(cache, row.Scale(2), 0, pos)
	// Reads see the cache as it was before this run's write.
	window := cache.SliceAt(0, pos, 2)
	sum := cache.Sum(1)
	p, err := graph.Compile([]graph.Tensor{write, window, sum})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for step := 0; step < ctxLen; step++ {
		r := tensor.NewF32([]float32{float32(step), 1, -1}, 1, dim)
		out, err := p.Run(ctx, graph.Feeds{"row": r, "pos": tensor.Scalar(tensor.I64, float64(step))})
		if err != nil {
			t.Fatal(err)
		}
		// Before this run, rows 0..step-1 hold 2*(k, 1, -1).
		for k := 0; k < ctxLen; k++ {
			want := float32(0)
			if k < step {
				want = 2 * float32(k)
			}
			if got := out[2].Float32s()[k]; got != want {
				t.Fatalf("step %d: row %d sums to %v before the write, want %v", step, k, got, want)
			}
		}
		start := min(step, ctxLen-2) // clamped so the window fits
		for k := 0; k < 2; k++ {
			want := float32(0)
			if start+k < step {
				want = 2 * float32(start+k)
			}
			if got := out[1].At(k, 0); float32(got) != want {
				t.Fatalf("step %d: window row %d = %v, want %v", step, k, got, want)
			}
		}
	}
	v, _ := g.Var("cache")
	for k := 0; k < ctxLen; k++ {
		if got := v.Value().At(k, 0); got != 2*float64(k) {
			t.Fatalf("cache row %d = %v after the run, want %v", k, got, 2*k)
		}
	}
}

func TestStateErrors(t *testing.T) {
	g := graph.New()
	v := g.Variable("v", tensor.MustZeros(tensor.F32, tensor.Shape{4, 2}))
	x := g.Placeholder("x", tensor.F32, 1, 2)
	pos := g.Placeholder("pos", tensor.F32)
	g.AssignSlice(v, x, 0, pos)
	if _, err := graph.Compile([]graph.Tensor{x}); err == nil {
		t.Fatal("a float start position compiled")
	}
	g = graph.New()
	v = g.Variable("v", tensor.MustZeros(tensor.F32, tensor.Shape{4, 2}))
	x = g.Placeholder("x", tensor.F32, 1, 3)
	g.AssignSlice(v, x, 0, g.Placeholder("pos", tensor.I64))
	if _, err := graph.Compile([]graph.Tensor{x}); err == nil {
		t.Fatal("a value of the wrong width compiled")
	}
}

// TestUpdateAt checks a run-time update against a copy written by hand:
// of a whole value and of a cache's leading window (which the compiler
// reads in place), with starts that clamp, on every run of one Program.
func TestUpdateAt(t *testing.T) {
	const ctxLen, dim, win = 7, 3, 5
	init := tensor.MustZeros(tensor.F32, tensor.Shape{ctxLen, dim})
	for i, d := 0, init.Float32s(); i < len(d); i++ {
		d[i] = float32(i)
	}
	g := graph.New()
	cache := g.Variable("cache", init)
	rows := g.Placeholder("rows", tensor.F32, 2, dim)
	pos := g.Placeholder("pos", tensor.I32)
	whole := cache.UpdateAt(0, pos, rows)
	window := cache.SliceAxis(0, 0, win, 1).UpdateAt(0, pos, rows.Neg()).Scale(2)
	p, err := graph.Compile([]graph.Tensor{whole, window})
	if err != nil {
		t.Fatal(err)
	}
	ir := p.IR()
	for _, v := range ir.Values {
		if v.Op == op.DynUpdate && ir.Values[v.In[0]].Op != op.Variable {
			t.Errorf("dyn_update reads a %v, not the cache in place", ir.Values[v.In[0]].Op)
		}
	}
	for _, start := range []int{0, 2, 3, 5, 6, 40, -3} {
		r := tensor.NewF32([]float32{-1, -2, -3, -4, -5, -6}, 2, dim)
		out, err := p.Run(context.Background(), graph.Feeds{"rows": r, "pos": tensor.Scalar(tensor.I32, float64(start))})
		if err != nil {
			t.Fatal(err)
		}
		for k, tc := range []struct {
			n     int
			scale float32
		}{{ctxLen, 1}, {win, -2}} {
			at := min(max(start, 0), tc.n-2)
			for i := 0; i < tc.n; i++ {
				for j := 0; j < dim; j++ {
					want := float32(i*dim + j)
					if tc.scale < 0 {
						want *= 2
					}
					if i >= at && i < at+2 {
						want = tc.scale * r.Float32s()[(i-at)*dim+j]
					}
					if got := out[k].Float32s()[i*dim+j]; got != want {
						t.Fatalf("start %d, output %d: [%d][%d] = %v, want %v", start, k, i, j, got, want)
					}
				}
			}
		}
	}
	v, _ := g.Var("cache")
	for i, x := range v.Value().Float32s() {
		if x != float32(i) {
			t.Fatalf("UpdateAt changed the variable: element %d = %v", i, x)
		}
	}
}

// TestUpdateSlice checks an in-place cache append: each run writes rows
// into the variable before the same run reads its leading window (through
// a matmul that reads the window in place and a sum), the write persists,
// and a Program that also reads the variable otherwise does not compile.
func TestUpdateSlice(t *testing.T) {
	const ctxLen, dim, win = 8, 3, 5
	g := graph.New()
	cache := g.Variable("cache", tensor.MustZeros(tensor.F32, tensor.Shape{1, ctxLen, dim}))
	rows := g.Placeholder("rows", tensor.F32, 1, 2, dim)
	q := g.Placeholder("q", tensor.F32, 1, 1, dim)
	pos := g.Placeholder("pos", tensor.I64)
	upd := g.UpdateSlice(cache, rows, 1, pos)
	window := upd.SliceAxis(1, 0, win, 1)
	scores := q.MatMul(window.Transpose()) // [1, 1, win], keys read in place
	mix := scores.MatMul(window)           // [1, 1, dim], values read in place
	p, err := graph.Compile([]graph.Tensor{scores, mix, upd.Sum(1)})
	if err != nil {
		t.Fatal(err)
	}
	ir := p.IR()
	for _, v := range ir.Values {
		if v.Op == op.Slice || v.Op == op.Permute {
			t.Errorf("the window is copied (%v) instead of read in place", v.Op)
		}
	}
	want := make([]float64, ctxLen*dim)
	qv := tensor.NewF32([]float32{1, -2, 0.5}, 1, 1, dim)
	for step, start := range []int{0, 2, 1, 3, 9} {
		r := tensor.NewF32([]float32{float32(step), 1, 2, -1, float32(step) / 2, 3}, 1, 2, dim)
		out, err := p.Run(context.Background(), graph.Feeds{"rows": r, "q": qv, "pos": tensor.Scalar(tensor.I64, float64(start))})
		if err != nil {
			t.Fatal(err)
		}
		at := min(start, ctxLen-2)
		for i, x := range r.Float32s() {
			want[at*dim+i] = float64(x)
		}
		for w := 0; w < win; w++ {
			s := 0.0
			for j := range dim {
				s += float64(qv.Float32s()[j]) * want[w*dim+j]
			}
			if got := out[0].Float32s()[w]; math.Abs(float64(got)-s) > 1e-5 {
				t.Fatalf("step %d: score %d = %v, want %v", step, w, got, s)
			}
		}
		for j := range dim {
			m, s := 0.0, 0.0
			for w := 0; w < win; w++ {
				sc := 0.0
				for i := range dim {
					sc += float64(qv.Float32s()[i]) * want[w*dim+i]
				}
				m += sc * want[w*dim+j]
			}
			for w := 0; w < ctxLen; w++ {
				s += want[w*dim+j]
			}
			if got := out[1].Float32s()[j]; math.Abs(float64(got)-m) > 1e-4 {
				t.Fatalf("step %d: mix %d = %v, want %v", step, j, got, m)
			}
			if got := out[2].Float32s()[j]; math.Abs(float64(got)-s) > 1e-5 {
				t.Fatalf("step %d: column sum %d = %v, want %v", step, j, got, s)
			}
		}
	}
	v, _ := g.Var("cache")
	for i, x := range v.Value().Float32s() {
		if float64(x) != want[i] {
			t.Fatalf("cache[%d] = %v after the runs, want %v", i, x, want[i])
		}
	}

	// The state may not be read besides its in-place update.
	h := graph.New()
	c2 := h.Variable("c", tensor.MustZeros(tensor.F32, tensor.Shape{4, 2}))
	u := h.UpdateSlice(c2, h.Placeholder("r", tensor.F32, 1, 2), 0, h.Placeholder("at", tensor.I32))
	if _, err := graph.Compile([]graph.Tensor{u, c2.Sum(0)}); !errors.Is(err, graph.ErrArg) {
		t.Fatalf("compiling a read beside an in-place update: err = %v, want ErrArg", err)
	}
	if got := h.UpdateSlice(h.Placeholder("x", tensor.F32, 4, 2), h.Placeholder("r2", tensor.F32, 1, 2), 0, h.Placeholder("at2", tensor.I32)); got.Valid() {
		t.Fatal("UpdateSlice of a placeholder succeeded")
	}
}
