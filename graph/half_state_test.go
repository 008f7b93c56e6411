package graph_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/kernel"
	"github.com/aethertensor/aether/tensor"
)

var halfTypes = []tensor.DType{tensor.F16, tensor.BF16}

// toHalf and fromHalf are the reference conversions the graph must match
// bit for bit.
func toHalf(d tensor.DType, f float32) uint16 {
	if d == tensor.BF16 {
		return tensor.F32ToBF16(f)
	}
	return tensor.F32ToF16(f)
}

func fromHalf(d tensor.DType, h uint16) float32 {
	if d == tensor.BF16 {
		return tensor.BF16ToF32(h)
	}
	return tensor.F16ToF32(h)
}

// sameFloat compares bit patterns, so NaNs (with payloads) and signed
// zeros count.
func sameFloat(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

// TestHalfVariableKeepsStorage checks that a Variable made from an F16 or
// BF16 array keeps its dtype and two-byte storage, while a Param and a
// Const of the same array widen to F32 as before.
func TestHalfVariableKeepsStorage(t *testing.T) {
	for _, d := range halfTypes {
		a := tensor.MustZeros(d, tensor.Shape{3, 5})
		g := graph.New()
		v := g.Variable("v", a)
		p := g.Param("p", a)
		c := g.Const(a)
		if v.DType() != d || p.DType() != tensor.F32 || c.DType() != tensor.F32 {
			t.Errorf("%v: variable %v, param %v, const %v; want %v, f32, f32", d, v.DType(), p.DType(), c.DType(), d)
		}
		vr, _ := v.Var()
		if got := len(vr.Value().Bits()); got != 15 || vr.Value().DType() != d {
			t.Errorf("%v: variable holds %v with %d half elements", d, vr.Value().DType(), got)
		}
	}
}

// TestHalfCastExact sends every f16 bit pattern (and a spread of bf16
// ones) through half state widened by Cast, and tricky f32 values (ties,
// subnormals, overflow, NaN payloads) through StoreAs, comparing bits with
// the tensor package's conversions, fused and unfused.
func TestHalfCastExact(t *testing.T) {
	narrow := []float32{0, float32(math.Copysign(0, -1)), 1, 1 + 1.0/2048, 1 + 3.0/2048, 1 + 1.0/256 + 1.0/512, -65504, 65520, 65519, 70000,
		1e-8, 5.96e-8, 2.98e-8, 6.1e-5, float32(math.Inf(-1)), float32(math.NaN()), math.Float32frombits(0x7f800001), math.Float32frombits(0xffc12345), 3.14159265, -1e38}
	for _, d := range halfTypes {
		for _, fuse := range []bool{true, false} {
			bits, err := tensor.FromBits(d, make([]uint16, 1<<16), 1<<16)
			if err != nil {
				t.Fatal(err)
			}
			for i := range bits.Bits() {
				bits.Bits()[i] = uint16(i)
			}
			g := graph.New()
			v := g.Variable("v", bits)
			x := g.Placeholder("x", tensor.F32, len(narrow))
			x64 := g.Placeholder("x64", tensor.F64, len(narrow))
			wide := v.Cast(tensor.F32)
			wide64 := v.Cast(tensor.F64)
			stored := x.Scale(1).StoreAs(d)
			stored64 := x64.StoreAs(d)
			p, err := graph.Compile([]graph.Tensor{wide, wide64, stored, stored64, stored.Cast(tensor.F32)}, graph.Fuse(fuse))
			if err != nil {
				t.Fatalf("%v fuse=%v: %v", d, fuse, err)
			}
			xs := tensor.NewF32(narrow, len(narrow))
			x64s := tensor.MustZeros(tensor.F64, tensor.Shape{len(narrow)})
			for i, f := range narrow {
				x64s.Float64s()[i] = float64(f)
			}
			out, err := p.Run(context.Background(), graph.Feeds{"x": xs, "x64": x64s})
			if err != nil {
				t.Fatal(err)
			}
			if out[2].DType() != d || out[3].DType() != d {
				t.Fatalf("%v: StoreAs outputs are %v, %v", d, out[2].DType(), out[3].DType())
			}
			for i := range 1 << 16 {
				want := fromHalf(d, uint16(i))
				if got := out[0].Float32s()[i]; !sameFloat(got, want) {
					t.Fatalf("%v fuse=%v: widen %#04x = %#08x, want %#08x", d, fuse, i, math.Float32bits(got), math.Float32bits(want))
				}
				if got := out[1].Float64s()[i]; !(got == float64(want) || (math.IsNaN(got) && math.IsNaN(float64(want)))) {
					t.Fatalf("%v: widen %#04x to f64 = %v, want %v", d, i, got, want)
				}
			}
			for i, f := range narrow {
				want := toHalf(d, f)
				if got := out[2].Bits()[i]; got != want {
					t.Errorf("%v fuse=%v: StoreAs(%v) = %#04x, want %#04x", d, fuse, f, got, want)
				}
				if got := out[3].Bits()[i]; got != want {
					t.Errorf("%v: StoreAs(f64 %v) = %#04x, want %#04x", d, f, got, want)
				}
				if got := out[4].Float32s()[i]; !sameFloat(got, fromHalf(d, want)) {
					t.Errorf("%v: round trip of %v = %v", d, f, got)
				}
			}
		}
	}
}

// TestHalfCacheAppend is a KV cache in miniature: each run appends rows at
// a fed position with AssignSlice (f32 values rounded into half state, and
// half values stored as they are), reads a window back with SliceAt, and
// returns the whole cache widened. State must persist across runs and the
// rows outside each write keep their bits.
func TestHalfCacheAppend(t *testing.T) {
	const heads, rows, dim, chunk = 2, 12, 4, 3
	for _, d := range halfTypes {
		for _, fuse := range []bool{true, false} {
			g := graph.New()
			kc := g.Variable("k", tensor.MustZeros(d, tensor.Shape{heads, rows, dim}))
			vc := g.Variable("v", tensor.MustZeros(d, tensor.Shape{heads, rows, dim}))
			x := g.Placeholder("x", tensor.F32, chunk, heads, dim)
			pos := g.Placeholder("pos", tensor.I64)
			xt := x.Permute(1, 0, 2)                                 // [heads, chunk, dim]
			wk := g.AssignSlice(kc, xt, 1, pos)                      // f32 rounded on write
			wv := g.AssignSlice(vc, xt.Scale(-2).StoreAs(d), 1, pos) // already half
			win := kc.SliceAt(1, pos, chunk).Cast(tensor.F32)        // read before this run's write
			all := kc.Reshape(heads*rows, dim).Cast(tensor.F32)      // the whole cache, before the write
			p, err := graph.Compile([]graph.Tensor{win, all, wk, wv}, graph.Fuse(fuse))
			if err != nil {
				t.Fatalf("%v fuse=%v: %v", d, fuse, err)
			}
			rng := rand.New(rand.NewPCG(7, 8))
			want := make([]uint16, heads*rows*dim) // reference cache bits
			wantV := make([]uint16, heads*rows*dim)
			xs := tensor.MustZeros(tensor.F32, tensor.Shape{chunk, heads, dim})
			ps := tensor.MustZeros(tensor.I64, tensor.Shape{})
			for run, at := range []int{0, 3, 6, 2, 11} { // 11 clamps to 9
				for i := range xs.Float32s() {
					xs.Float32s()[i] = float32(rng.NormFloat64() * 100)
				}
				ps.Int64s()[0] = int64(at)
				out, err := p.Run(context.Background(), graph.Feeds{"x": xs, "pos": ps})
				if err != nil {
					t.Fatal(err)
				}
				start := min(at, rows-chunk)
				for h := range heads {
					for r := range chunk {
						for j := range dim {
							got := out[0].Float32s()[(h*chunk+r)*dim+j]
							if w := fromHalf(d, want[(h*rows+start+r)*dim+j]); !sameFloat(got, w) {
								t.Fatalf("%v run %d: window [%d %d %d] = %v, want %v", d, run, h, r, j, got, w)
							}
						}
					}
				}
				for i, h := range want {
					if got := out[1].Float32s()[i]; !sameFloat(got, fromHalf(d, h)) {
						t.Fatalf("%v run %d: cache element %d read %v before the write, want %v", d, run, i, got, fromHalf(d, h))
					}
				}
				for h := range heads {
					for r := range chunk {
						for j := range dim {
							f := xs.Float32s()[(r*heads+h)*dim+j]
							want[(h*rows+start+r)*dim+j] = toHalf(d, f)
							wantV[(h*rows+start+r)*dim+j] = toHalf(d, f*-2)
						}
					}
				}
				kv, _ := g.Var("k")
				vv, _ := g.Var("v")
				for i := range want {
					if kv.Value().Bits()[i] != want[i] || vv.Value().Bits()[i] != wantV[i] {
						t.Fatalf("%v fuse=%v run %d: state element %d is %#04x/%#04x, want %#04x/%#04x", d, fuse, run, i,
							kv.Value().Bits()[i], vv.Value().Bits()[i], want[i], wantV[i])
					}
				}
			}
		}
	}
}

// TestHalfAssignWhole checks Assign of a whole half value: a running
// counter kept in f16 state that gains one per run.
func TestHalfAssignWhole(t *testing.T) {
	g := graph.New()
	init, err := tensor.FromBits(tensor.F16, []uint16{tensor.F32ToF16(2047), tensor.F32ToF16(-1)}, 2)
	if err != nil {
		t.Fatal(err)
	}
	c := g.Variable("c", init)
	next := c.Cast(tensor.F32).Add(g.Scalar(tensor.F32, 1))
	p, err := graph.Compile([]graph.Tensor{g.Assign(c, next.StoreAs(tensor.F16))})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{2047, -1}
	for run := range 3 {
		if _, err := p.Run(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		v, _ := g.Var("c")
		for i := range want {
			// 2048+1 is not an f16: ties to even keeps 2048.
			want[i] = tensor.F16ToF32(tensor.F32ToF16(want[i] + 1))
			if got := tensor.F16ToF32(v.Value().Bits()[i]); got != want[i] {
				t.Errorf("run %d: element %d = %v, want %v", run, i, got, want[i])
			}
		}
	}
}

// TestHalfNeverFused checks that no fused kernel on the CPU computes a
// half value: half tensors are stored by library kernels, and a fused
// kernel may only load one and widen it (Caps.HalfLoads).
func TestHalfNeverFused(t *testing.T) {
	g := graph.New()
	kc := g.Variable("k", tensor.MustZeros(tensor.F16, tensor.Shape{2, 16, 8}))
	x := g.Placeholder("x", tensor.F32, 1, 2, 8)
	pos := g.Placeholder("pos", tensor.I64)
	kt := x.Permute(1, 0, 2).Scale(0.5)
	w := g.AssignSlice(kc, kt, 1, pos)
	keys := kc.SliceAxis(1, 0, 8, 1).Permute(0, 2, 1).Cast(tensor.F32).Exp() // [2, 8, 8]
	s := x.Permute(1, 0, 2).MatMul(keys).Softmax(-1)
	p, err := graph.Compile([]graph.Tensor{s, w})
	if err != nil {
		t.Fatal(err)
	}
	ir := p.IR()
	fused, halfLoads := 0, 0
	for _, grp := range p.Fusion().Groups {
		if grp.Fused == nil && grp.Reduce == nil && grp.Epilogue == nil {
			continue
		}
		fused++
		if d := ir.Values[grp.Value].DType; d == tensor.F16 || d == tensor.BF16 {
			t.Errorf("fused kernel computes %v value %d (%v)", d, grp.Value, ir.Values[grp.Value].Op)
		}
		if grp.Fused == nil {
			continue
		}
		for _, n := range grp.Fused.Nodes {
			if n.DType != tensor.F16 && n.DType != tensor.BF16 {
				continue
			}
			if n.Kind != kernel.Load {
				t.Errorf("fused kernel for value %d has a %v node of kind %v", grp.Value, n.DType, n.Kind)
			}
			halfLoads++
		}
	}
	if fused == 0 || halfLoads == 0 {
		t.Errorf("%d fused kernels, %d half loads: the check saw nothing", fused, halfLoads)
	}
}

// noHalf is a CPU device that does not report half storage.
type noHalf struct{ backend.Device }

// TestHalfErrors checks that arithmetic on half tensors is a build-time
// dtype error, and that compiling half state for a device without half
// storage fails with a clear error rather than running.
func TestHalfErrors(t *testing.T) {
	cases := map[string]func(g *graph.Graph, h graph.Tensor) graph.Tensor{
		"add":     func(g *graph.Graph, h graph.Tensor) graph.Tensor { return h.Add(h) },
		"exp":     func(g *graph.Graph, h graph.Tensor) graph.Tensor { return h.Exp() },
		"sum":     func(g *graph.Graph, h graph.Tensor) graph.Tensor { return h.Sum() },
		"matmul":  func(g *graph.Graph, h graph.Tensor) graph.Tensor { return h.MatMul(h) },
		"softmax": func(g *graph.Graph, h graph.Tensor) graph.Tensor { return h.Softmax(-1) },
		"where": func(g *graph.Graph, h graph.Tensor) graph.Tensor {
			return graph.Where(g.Full(tensor.Bool, 1, 4, 4), h, h)
		},
		"concat":     func(g *graph.Graph, h graph.Tensor) graph.Tensor { return graph.Concat(0, h, h) },
		"cast i32":   func(g *graph.Graph, h graph.Tensor) graph.Tensor { return h.Cast(tensor.I32) },
		"cast bf16":  func(g *graph.Graph, h graph.Tensor) graph.Tensor { return h.Cast(tensor.BF16) },
		"store i32":  func(g *graph.Graph, h graph.Tensor) graph.Tensor { return h.Cast(tensor.F32).StoreAs(tensor.I32) },
		"store int":  func(g *graph.Graph, h graph.Tensor) graph.Tensor { return g.Full(tensor.I32, 1, 4).StoreAs(tensor.F16) },
		"assign i32": func(g *graph.Graph, h graph.Tensor) graph.Tensor { return g.Assign(h, g.Full(tensor.I32, 1, 4, 4)) },
		"assign bf16": func(g *graph.Graph, h graph.Tensor) graph.Tensor {
			return g.Assign(h, g.Full(tensor.F32, 1, 4, 4).StoreAs(tensor.BF16))
		},
	}
	for name, build := range cases {
		g := graph.New()
		h := g.Variable("h", tensor.MustZeros(tensor.F16, tensor.Shape{4, 4}))
		out := build(g, h)
		if _, err := graph.Compile([]graph.Tensor{out}); err == nil {
			t.Errorf("%s: compiled", name)
		} else if !errors.Is(err, graph.ErrDType) && !errors.Is(err, graph.ErrShape) {
			t.Errorf("%s: %v, want a dtype error", name, err)
		}
	}

	g := graph.New()
	h := g.Variable("h", tensor.MustZeros(tensor.F16, tensor.Shape{4}))
	dev := noHalf{cpu.New()}
	if _, err := graph.Compile([]graph.Tensor{h.Cast(tensor.F32)}, graph.OnDevice(dev)); !errors.Is(err, graph.ErrDType) {
		t.Errorf("half state on a device without half storage: %v, want ErrDType", err)
	}
	if _, err := graph.Compile([]graph.Tensor{g.Full(tensor.F32, 1, 4).Exp()}, graph.OnDevice(dev)); err != nil {
		t.Errorf("f32 graph on the same device: %v", err)
	}
}

// TestHalfDecodeAllocatesNothing replays a decode-like step over an f16
// cache (append one row, widen the window, attend) and counts allocations.
func TestHalfDecodeAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	const heads, rows, dim = 4, 64, 16
	g := graph.New()
	kc := g.Variable("k", tensor.MustZeros(tensor.F16, tensor.Shape{heads, rows, dim}))
	vc := g.Variable("v", tensor.MustZeros(tensor.F16, tensor.Shape{heads, rows, dim}))
	q := g.Placeholder("q", tensor.F32, heads, 1, dim)
	pos := g.Placeholder("pos", tensor.I64)
	w1, w2 := g.AssignSlice(kc, q, 1, pos), g.AssignSlice(vc, q.Neg(), 1, pos)
	k := kc.SliceAxis(1, 0, 32, 1).Cast(tensor.F32)
	v := vc.SliceAxis(1, 0, 32, 1).Cast(tensor.F32)
	o := q.MatMul(k.Transpose()).Softmax(-1).MatMul(v)
	p, err := graph.Compile([]graph.Tensor{o, w1, w2})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	feeds := graph.Feeds{"q": randArray(rng, heads, 1, dim), "pos": tensor.MustZeros(tensor.I64, tensor.Shape{})}
	ctx := context.Background()
	if _, err := p.Run(ctx, feeds); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		feeds["pos"].Int64s()[0] = (feeds["pos"].Int64s()[0] + 1) % rows
		if _, err := p.Run(ctx, feeds); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Program.Run allocated %.1f times per run (%d launches)", allocs, p.Steps())
	}
}
