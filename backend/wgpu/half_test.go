//go:build cgo

package wgpu_test

import (
	"context"
	"math"
	"math/rand"
	"slices"
	"testing"

	"github.com/aethertensor/aether/backend"
	"github.com/aethertensor/aether/backend/cpu"
	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// halfInputs returns f32 values that probe rounding to f16 and bf16: ties
// either way, the overflow edges, f16 subnormals and their underflow,
// f32 subnormals, signed zeros, infinities and NaNs with payloads, then
// random bit patterns.
func halfInputs() []float32 {
	bits := []uint32{
		0x00000000, 0x80000000, 0x7f800000, 0xff800000, // ±0, ±Inf
		0x7fc00000, 0xffc00001, 0x7f800001, 0x7fbfe000, 0xff812345, // NaNs
		0x3f801000, 0x3f803000, 0x3f801001, 0x3f802fff, // f16 ties at 1 (down, up) and near them
		0x3f808000, 0x3f818000, 0x3f808001, 0xbf818000, // bf16 ties at 1
		0x477fe000, 0x477fefff, 0x477ff000, 0xc77ff000, 0x47800000, // f16 max, last below the Inf edge, the edge
		0x7f7fffff, 0x7f7f8000, 0x7f7f7fff, 0xff7fffff, // bf16 overflow to Inf, the f32 max
		0x38800000, 0x387fe000, 0x387ff000, 0x387fffff, // f16 least normal and rounding up into it
		0x33800000, 0x33000000, 0x33000001, 0x33c00000, 0xb3400000, // 2^-24, 2^-25 (tie to 0), just above, 3·2^-25 (tie up), ·
		0x32ffffff, 0x34200000, 0x34300000, // below 2^-25, 5·2^-25 (tie down), 11·2^-26
		0x00000001, 0x80000001, 0x007fffff, 0x00408000, 0x00418000, // f32 subnormals
		0x3f800000, 0x40490fdb, 0xc2f6e979, 0x461c4000,
	}
	rng := rand.New(rand.NewSource(6))
	for range 3000 {
		bits = append(bits, rng.Uint32())
	}
	out := make([]float32, len(bits))
	for i, b := range bits {
		out[i] = math.Float32frombits(b)
	}
	return out
}

// TestCastHalf checks that casts rounding to f16 and bf16 agree with the
// CPU backend bit for bit, alone and inside fused chains.
func TestCastHalf(t *testing.T) {
	d := device(t)
	ctx := context.Background()
	vals := halfInputs()
	x := tensor.NewF32(vals, len(vals))
	for _, half := range []tensor.DType{tensor.F16, tensor.BF16} {
		for _, fuse := range []bool{true, false} {
			name := half.String()
			if !fuse {
				name += "/unfused"
			}
			t.Run(name, func(t *testing.T) {
				run := func(dev graph.Option) []*tensor.Array {
					g := graph.New()
					in := g.Placeholder("x", tensor.F32, len(vals))
					// The chain rounds a computed value and computes on.
					chain := in.Scale(3).AddScalar(0.5).Cast(half).Mul(in).Cast(half)
					p, err := graph.Compile([]graph.Tensor{in.Cast(half), chain}, dev, graph.Fuse(fuse))
					if err != nil {
						t.Fatal(err)
					}
					out, err := p.Run(ctx, graph.Feeds{"x": x})
					if err != nil {
						t.Fatal(err)
					}
					for i := range out {
						out[i] = out[i].Clone()
					}
					return out
				}
				want, got := run(graph.OnDevice(cpu.New())), run(graph.OnDevice(d))
				for i := range want {
					w, g := want[i].Float32s(), got[i].Float32s()
					for j := range w {
						wb, gb := math.Float32bits(w[j]), math.Float32bits(g[j])
						// NaNs out of arithmetic may differ in payload; the
						// rounding itself keeps bits exact.
						if wb != gb && !(i > 0 && w[j] != w[j] && g[j] != g[j]) {
							t.Fatalf("output %d, input %#08x: %#08x, want %#08x", i, math.Float32bits(vals[j]), gb, wb)
						}
					}
				}
			})
		}
	}
}

// TestHalfStorage keeps f16 and bf16 state two to a word on the device:
// rows stored into a cache at run-time positions (odd ones, so halves
// share words with neighbours), then read back through every movement a
// half tensor allows and widened to f32. Everything is exact, so the
// results, and the caches after SyncHost, equal the CPU's bit for bit.
func TestHalfStorage(t *testing.T) {
	d := device(t)
	ctx := context.Background()
	for _, half := range []tensor.DType{tensor.F16, tensor.BF16} {
		t.Run(half.String(), func(t *testing.T) {
			run := func(dev graph.Option) (outs []*tensor.Array, cache *tensor.Array) {
				g := graph.New()
				c := g.Variable("cache", tensor.MustZeros(half, tensor.Shape{9, 5}))
				row := g.Placeholder("row", tensor.F32, 1, 5)
				pos := g.Placeholder("pos", tensor.I64)
				w := g.AssignSlice(c, row.StoreAs(half), 0, pos)
				win := c.SliceAt(0, pos, 3)
				res := []graph.Tensor{
					w.Cast(tensor.F32),
					c.Cast(tensor.F32),
					win.Cast(tensor.F32),
					c.Permute(1, 0).Cast(tensor.F32),
					c.Slice(graph.Range{Start: 1, Stop: 9, Step: 3}, graph.Range{Start: 4, Stop: 0, Step: -2}).Cast(tensor.F32),
					c.Reshape(45).Reshape(3, 15).Cast(tensor.F32),
					c.SliceAxis(0, 2, 3, 1).Expand(4, 5).Cast(tensor.F32),
					row.StoreAs(half).Cast(tensor.F32),
				}
				p, err := graph.Compile(res, dev)
				if err != nil {
					t.Fatal(err)
				}
				vals := halfInputs()
				// Every row is read back (widened) by a later step.
				for step, at := range []int64{3, 0, 7, 4, 1, 8, 2, 6} {
					r := tensor.NewF32(vals[5*step:5*step+5], 1, 5)
					pa, _ := tensor.NewI64([]int64{at}).Reshape()
					o, err := p.Run(ctx, graph.Feeds{"row": r, "pos": pa})
					if err != nil {
						t.Fatal(err)
					}
					for i := range o {
						outs = append(outs, o[i].Clone())
					}
				}
				v, _ := g.Var("cache")
				return outs, v.Value()
			}
			want, wantCache := run(graph.OnDevice(cpu.New()))
			got, gotCache := run(graph.OnDevice(d))
			for i := range want {
				w, g := want[i].Float32s(), got[i].Float32s()
				for j := range w {
					if math.Float32bits(w[j]) != math.Float32bits(g[j]) {
						t.Fatalf("output %d element %d: %#08x, want %#08x", i, j, math.Float32bits(g[j]), math.Float32bits(w[j]))
					}
				}
			}
			if err := d.SyncHost(ctx); err != nil {
				t.Fatal(err)
			}
			w, g := wantCache.Bits(), gotCache.Bits()
			for j := range w {
				if w[j] != g[j] {
					t.Fatalf("cache element %d: %#04x, want %#04x", j, g[j], w[j])
				}
			}
			// An odd count leaves half of the last word unused.
			src, err := tensor.FromBits(half, []uint16{0x3c00, 0x8001, 0x7e01}, 3)
			if err != nil {
				t.Fatal(err)
			}
			b, err := d.Alloc(backend.Operand{DType: half, Shape: tensor.Shape{3}})
			if err != nil {
				t.Fatal(err)
			}
			back := tensor.MustZeros(half, tensor.Shape{3})
			if err := d.Write(b, src); err != nil {
				t.Fatal(err)
			}
			if err := d.Read(back, b); err != nil || !slices.Equal(back.Bits(), src.Bits()) {
				t.Fatalf("round trip %#04x, %v; want %#04x", back.Bits(), err, src.Bits())
			}
		})
	}
}
