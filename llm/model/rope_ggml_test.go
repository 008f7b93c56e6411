package model

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// TestRoPEMatchesGGML checks the LlamaCppArith RoPE tables against
// ggml_rope_ext of the reference build, bit for bit: llama's interleaved
// pairs and NeoX halves, partial rotary dims and linear scaling, at
// positions from 0 to 4095 (rope.json, written by scripts/llamacpp_ref.sh).
func TestRoPEMatchesGGML(t *testing.T) {
	ref := readRopeRef(t)
	n := len(ref.Pos)
	if len(ref.X) != n*ref.Head || len(ref.Cases) == 0 {
		t.Fatalf("rope.json: %d positions of %d with %d values, %d cases", n, ref.Head, len(ref.X), len(ref.Cases))
	}
	x := make([]float32, len(ref.X))
	for i, v := range ref.X {
		x[i] = math.Float32frombits(v)
	}
	for _, tc := range ref.Cases {
		g := graph.New()
		cfg := graph.RoPE{Dims: tc.Dims, Base: tc.Base, Scale: tc.Scale, NeoX: tc.NeoX}
		r, ok := newGGMLRopeTables(g, int(ref.Pos[n-1])+1, ref.Head, cfg)
		if !ok {
			t.Fatalf("%+v: no tables", cfg)
		}
		cos, sin := r.at(g.Const(tensor.NewI64(ref.Pos, n)))
		y := r.apply(g.Const(tensor.NewF32(x, n, 1, ref.Head)), cos, sin)
		p, err := graph.Compile([]graph.Tensor{y})
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Run(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for i, got := range out[0].Float32s() {
			if math.Float32bits(got) != tc.Y[i] {
				if bad++; bad <= 5 {
					t.Errorf("%+v: position %d element %d: got %g, ggml %g", cfg, ref.Pos[i/ref.Head], i%ref.Head, got, math.Float32frombits(tc.Y[i]))
				}
			}
		}
		if bad > 0 {
			t.Errorf("%+v: %d of %d values differ", cfg, bad, len(tc.Y))
		}
	}
}

// ropeRef is rope.json: ggml_rope_ext outputs and glibc sincosf values.
type ropeRef struct {
	Head  int
	Pos   []int64
	X     []uint32
	Cases []struct {
		Dims        int
		NeoX        bool
		Base, Scale float64
		Y           []uint32
	}
	Sincosf [][3]uint32 // x, sin, cos
}

func readRopeRef(t *testing.T) ropeRef {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "llamacpp", "rope.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref ropeRef
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestSincosf checks sincosf bit for bit against glibc's on arguments
// from 1e-5 to 1e5 in magnitude (half of them ones where glibc is not
// correctly rounded), and its special cases.
func TestSincosf(t *testing.T) {
	ref := readRopeRef(t)
	if len(ref.Sincosf) == 0 {
		t.Fatal("rope.json: no sincosf values")
	}
	for _, e := range ref.Sincosf {
		x := math.Float32frombits(e[0])
		if s, c := sincosf(x); math.Float32bits(s) != e[1] || math.Float32bits(c) != e[2] {
			t.Errorf("sincosf(%g) = %g, %g; glibc %g, %g", x, s, c, math.Float32frombits(e[1]), math.Float32frombits(e[2]))
		}
	}
	inf := float32(math.Inf(1))
	for _, tc := range []struct{ x, sin, cos float32 }{
		{0, 0, 1},
		{0x1p-13, 0x1p-13, 1}, // below 2^-12: sin x = x, cos x = 1
		{-0x1p-13, -0x1p-13, 1},
		{inf, float32(math.NaN()), float32(math.NaN())},
		{-inf, float32(math.NaN()), float32(math.NaN())},
		{float32(math.NaN()), float32(math.NaN()), float32(math.NaN())},
	} {
		s, c := sincosf(tc.x)
		same := func(a, b float32) bool { return a == b || a != a && b != b }
		if !same(s, tc.sin) || !same(c, tc.cos) {
			t.Errorf("sincosf(%g) = %g, %g; want %g, %g", tc.x, s, c, tc.sin, tc.cos)
		}
	}
}
