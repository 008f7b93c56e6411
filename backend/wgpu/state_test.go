//go:build cgo

package wgpu_test

import (
	"context"
	"math"
	"math/rand"
	"testing"

	"github.com/aethertensor/aether/autograd"
	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// TestStateSharedAcrossPrograms checks that an assignment made on the
// device reaches the variable's host array and every other program of the
// graph on the same device.
func TestStateSharedAcrossPrograms(t *testing.T) {
	d := device(t)
	ctx := context.Background()
	g := graph.New()
	n := g.Variable("n", tensor.NewF32([]float32{0}, 1))
	inc, err := graph.Compile([]graph.Tensor{g.Assign(n, n.AddScalar(1))}, graph.OnDevice(d))
	if err != nil {
		t.Fatal(err)
	}
	read, err := graph.Compile([]graph.Tensor{n.Scale(10)}, graph.OnDevice(d))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if _, err := inc.Run(ctx, nil); err != nil {
			t.Fatal(err)
		}
		out, err := read.Run(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := out[0].Flat(0); got != float64(10*i) {
			t.Fatalf("run %d: read %v, want %v", i, got, 10*i)
		}
	}
	if err := d.SyncHost(ctx); err != nil {
		t.Fatal(err)
	}
	v, _ := g.Var("n")
	if got := v.Value().Flat(0); got != 3 {
		t.Fatalf("host value %v, want 3", got)
	}
}

// kvAppend writes rows into a cache variable at fed positions, as a
// decode loop appends to its KV cache.
func kvAppend(t *testing.T, dev backend.Device) []float64 {
	g := graph.New()
	cache := g.Variable("cache", tensor.MustZeros(tensor.F32, tensor.Shape{6, 3}))
	row := g.Placeholder("row", tensor.F32, 1, 3)
	pos := g.Placeholder("pos", tensor.I64)
	w := g.AssignSlice(cache, row, 0, pos)
	p, err := graph.Compile([]graph.Tensor{w, cache.SumAll()}, graph.OnDevice(dev))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 7 { // the last position clamps onto the final row
		r := tensor.NewF32([]float32{float32(i), float32(i) + 0.5, -float32(i)}, 1, 3)
		at, err := tensor.NewI64([]int64{int64(i)}).Reshape()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.Run(context.Background(), graph.Feeds{"row": r, "pos": at}); err != nil {
			t.Fatal(err)
		}
	}
	syncHost(t, dev)
	v, _ := g.Var("cache")
	return v.Value().ToFloat64()
}

// syncHost brings assigned state back to the host arrays on a device that
// keeps it (WebGPU).
func syncHost(t *testing.T, dev backend.Device) {
	if s, ok := dev.(interface{ SyncHost(context.Context) error }); ok {
		if err := s.SyncHost(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestStateStaysOnDevice runs decode-like steps that append to a cache
// and bump a counter: neither is downloaded until SyncHost, which then
// writes both back once, matching the CPU.
func TestStateStaysOnDevice(t *testing.T) {
	d := device(t)
	ctx := context.Background()
	run := func(dev backend.Device, steps int) (*graph.Graph, *graph.Program) {
		g := graph.New()
		cache := g.Variable("cache", tensor.MustZeros(tensor.F32, tensor.Shape{64, 8}))
		n := g.Variable("n", tensor.NewF32([]float32{0}, 1))
		row := g.Placeholder("row", tensor.F32, 1, 8)
		pos := g.Placeholder("pos", tensor.I64)
		outs := []graph.Tensor{g.AssignSlice(cache, row.Add(n), 0, pos), g.Assign(n, n.AddScalar(1)), cache.Sum(0)}
		p, err := graph.Compile(outs, graph.OnDevice(dev))
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewSource(8))
		for i := range steps {
			at, _ := tensor.NewI64([]int64{int64(i)}).Reshape()
			if _, err := p.Run(ctx, graph.Feeds{"row": randArray(rng, 1, 8), "pos": at}); err != nil {
				t.Fatal(err)
			}
		}
		return g, p
	}
	const steps = 12
	before, read := d.Registry().Stats().Downloads, d.ReadBytes()
	g, _ := run(d, steps)
	if n := d.Registry().Stats().Downloads - before; n != 0 {
		t.Fatalf("%d downloads during %d steps, want none", n, steps)
	}
	// Each step reads back its three results (8 + 1 + 8 values) only.
	if n := d.ReadBytes() - read; n > steps*17*4 {
		t.Fatalf("%d bytes read back in %d steps: more than the results", n, steps)
	}
	cv, _ := g.Var("cache")
	if cv.Value().Flat(0) != 0 {
		t.Fatal("the host cache changed before SyncHost: was it downloaded?")
	}
	if err := d.SyncHost(ctx); err != nil {
		t.Fatal(err)
	}
	if n := d.Registry().Stats().Downloads - before; n != 2 {
		t.Fatalf("%d downloads at SyncHost, want 2 (the cache and the counter)", n)
	}
	if err := d.SyncHost(ctx); err != nil {
		t.Fatal(err)
	}
	if n := d.Registry().Stats().Downloads - before; n != 2 {
		t.Fatalf("%d downloads after a second SyncHost, want still 2", n)
	}
	want, _ := run(cpu.New(), steps)
	for _, name := range []string{"cache", "n"} {
		gv, _ := g.Var(name)
		wv, _ := want.Var(name)
		if e := nmse(gv.Value().ToFloat64(), wv.Value().ToFloat64()); !(e <= 1e-12) {
			t.Errorf("%s: NMSE %.3g against the CPU", name, e)
		}
	}
}

func TestAssignSliceMatchesCPU(t *testing.T) {
	d := device(t)
	want, got := kvAppend(t, cpu.New()), kvAppend(t, d)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("cache[%d] = %v, want %v (got %v, want %v)", i, got[i], want[i], got, want)
		}
	}
}

// kvAttend appends two rows per step to a [2, 8, 3] cache in place
// (UpdateSlice) and attends to its leading five rows through matmuls
// that read them in place, returning every step's scores and mixes and
// the cache afterwards.
func kvAttend(t *testing.T, dev backend.Device) []float64 {
	g := graph.New()
	cache := g.Variable("cache", tensor.MustZeros(tensor.F32, tensor.Shape{2, 8, 3}))
	rows := g.Placeholder("rows", tensor.F32, 2, 2, 3)
	q := g.Placeholder("q", tensor.F32, 2, 1, 3)
	pos := g.Placeholder("pos", tensor.I64)
	win := g.UpdateSlice(cache, rows, 1, pos).SliceAxis(1, 0, 5, 1)
	s := q.MatMul(win.Transpose())
	p, err := graph.Compile([]graph.Tensor{s, s.MatMul(win)}, graph.OnDevice(dev))
	if err != nil {
		t.Fatal(err)
	}
	var res []float64
	for i, at := range []int64{0, 2, 1, 3, 7} {
		r := tensor.MustZeros(tensor.F32, tensor.Shape{2, 2, 3})
		for j, d := 0, r.Float32s(); j < len(d); j++ {
			d[j] = float32(i+1) * float32(j%5-2) / 4
		}
		qv := tensor.NewF32([]float32{1, -0.5, 2, 0.25, 1, -1}, 2, 1, 3)
		start, _ := tensor.NewI64([]int64{at}).Reshape()
		out, err := p.Run(context.Background(), graph.Feeds{"rows": r, "q": qv, "pos": start})
		if err != nil {
			t.Fatal(err)
		}
		res = append(res, out[0].ToFloat64()...)
		res = append(res, out[1].ToFloat64()...)
	}
	syncHost(t, dev)
	v, _ := g.Var("cache")
	return append(res, v.Value().ToFloat64()...)
}

func TestUpdateSliceMatchesCPU(t *testing.T) {
	d := device(t)
	want, got := kvAttend(t, cpu.New()), kvAttend(t, d)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-5*(1+math.Abs(want[i])) {
			t.Fatalf("value %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// train runs gradient-descent steps of a two-layer network and returns
// the parameters' host values afterwards.
func train(t *testing.T, dev backend.Device) [][]float64 {
	rng := rand.New(rand.NewSource(3))
	g := graph.New()
	w1 := g.Param("w1", randArray(rng, 7, 13))
	w2 := g.Param("w2", randArray(rng, 13, 3))
	x := g.Placeholder("x", tensor.F32, 10, 7)
	y := g.Placeholder("y", tensor.F32, 10, 3)
	loss := x.MatMul(w1).Tanh().MatMul(w2).Sub(y).Square().Mean()
	gs, err := autograd.Grad(loss, w1, w2)
	if err != nil {
		t.Fatal(err)
	}
	outs := []graph.Tensor{loss, g.Assign(w1, w1.Sub(gs[0].Scale(0.1))), g.Assign(w2, w2.Sub(gs[1].Scale(0.1)))}
	p, err := graph.Compile(outs, graph.OnDevice(dev))
	if err != nil {
		t.Fatal(err)
	}
	feeds := graph.Feeds{"x": randArray(rng, 10, 7), "y": randArray(rng, 10, 3)}
	for range 5 {
		if _, err := p.Run(context.Background(), feeds); err != nil {
			t.Fatal(err)
		}
	}
	syncHost(t, dev)
	var out [][]float64
	for _, v := range g.Vars() {
		out = append(out, v.Value().ToFloat64())
	}
	return out
}

func TestTrainingMatchesCPU(t *testing.T) {
	d := device(t)
	want, got := train(t, cpu.New()), train(t, d)
	for i := range want {
		if e := nmse(got[i], want[i]); !(e <= 1e-7) {
			t.Errorf("parameter %d: NMSE %.3g after training", i, e)
		}
	}
}

// TestStateRebind compiles a new program over assigned state: without a
// host edit the device's value carries over (and reaches the host array);
// an edit of the host array in between wins, as on the CPU.
func TestStateRebind(t *testing.T) {
	d := device(t)
	ctx := context.Background()
	g := graph.New()
	n := g.Variable("n", tensor.NewF32([]float32{0}, 1))
	step := func() float64 {
		p, err := graph.Compile([]graph.Tensor{g.Assign(n, n.AddScalar(1)), n.Scale(1)}, graph.OnDevice(d))
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Run(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out[1].Flat(0) // the value before this run's assignment
	}
	v, _ := g.Var("n")
	for _, c := range []struct {
		edit float32 // written to the host array before the step; NaN: none
		want float64
	}{{float32(math.NaN()), 0}, {float32(math.NaN()), 1}, {100, 100}, {float32(math.NaN()), 101}} {
		if c.edit == c.edit {
			v.Value().Float32s()[0] = c.edit
		}
		if got := step(); got != c.want {
			t.Fatalf("read %v, want %v", got, c.want)
		}
	}
	if err := d.SyncHost(ctx); err != nil {
		t.Fatal(err)
	}
	if got := v.Value().Flat(0); got != 102 {
		t.Fatalf("host value %v after SyncHost, want 102", got)
	}
}
