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

// TestErrorFreeTransforms checks that the shader compiler keeps f32
// arithmetic as written: TwoSum's rounding error of a+b and Dekker's
// product split (Veltkamp) come out exact on the device, bit-identical
// to the CPU and to float64 maths. The llm package's parity mode builds
// exact dot products and fused multiply-adds from them.
func TestErrorFreeTransforms(t *testing.T) {
	d := device(t)
	ctx := context.Background()
	const n = 4096
	rng := rand.New(rand.NewSource(3))
	av, bv := make([]float32, n), make([]float32, n)
	for i := range av {
		av[i] = float32(rng.NormFloat64() * math.Exp2(float64(rng.Intn(20)-10)))
		bv[i] = float32(rng.NormFloat64() * math.Exp2(float64(rng.Intn(20)-10)))
	}
	run := func(dev graph.Option, fuse bool) []*tensor.Array {
		g := graph.New()
		a := g.Placeholder("a", tensor.F32, n)
		b := g.Placeholder("b", tensor.F32, n)
		s := a.Add(b)
		bb := s.Sub(a)
		e := a.Sub(s.Sub(bb)).Add(b.Sub(bb))
		split := func(x graph.Tensor) (hi, lo graph.Tensor) {
			c := x.Scale(1<<12 + 1)
			hi = c.Sub(c.Sub(x))
			return hi, x.Sub(hi)
		}
		p := a.Mul(b)
		ah, al := split(a)
		bh, bl := split(b)
		pe := ah.Mul(bh).Sub(p).Add(ah.Mul(bl)).Add(al.Mul(bh)).Add(al.Mul(bl))
		prog, err := graph.Compile([]graph.Tensor{s, e, p, pe}, dev, graph.Fuse(fuse))
		if err != nil {
			t.Fatal(err)
		}
		out, err := prog.Run(ctx, graph.Feeds{"a": tensor.NewF32(av, n), "b": tensor.NewF32(bv, n)})
		if err != nil {
			t.Fatal(err)
		}
		for i := range out {
			out[i] = out[i].Clone()
		}
		return out
	}
	for _, fuse := range []bool{true, false} {
		want, got := run(graph.OnDevice(cpu.New()), fuse), run(graph.OnDevice(d), fuse)
		for k := range want {
			w, g := want[k].Float32s(), got[k].Float32s()
			for i := range w {
				if math.Float32bits(w[i]) != math.Float32bits(g[i]) {
					t.Fatalf("fuse %v output %d [%d]: %g, CPU %g", fuse, k, i, g[i], w[i])
				}
			}
		}
		s, e, p, pe := want[0].Float32s(), want[1].Float32s(), want[2].Float32s(), want[3].Float32s()
		for i := range s {
			exact := float64(av[i]) + float64(bv[i])
			if float64(s[i])+float64(e[i]) != exact {
				t.Fatalf("TwoSum %g+%g: %g + %g", av[i], bv[i], s[i], e[i])
			}
			prod := float64(av[i]) * float64(bv[i])
			if float64(p[i])+float64(pe[i]) != prod {
				t.Fatalf("TwoProduct %g·%g: %g + %g", av[i], bv[i], p[i], pe[i])
			}
		}
	}
}
