//go:build cgo

package wgpu_test

import (
	"context"
	"math"
	"math/rand"
	"testing"

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
