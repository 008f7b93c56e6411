package model

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/aethertensor/aether/graph"
	"github.com/aethertensor/aether/tensor"
)

// TestFlashF16 checks the flash-attention emulation against a float64
// softmax(s)·v: masked keys (-inf) must not count, a row whose first key is
// masked must still work, and the f16 accumulator keeps the result within
// a few f16 roundings of the exact value.
func TestFlashF16(t *testing.T) {
	const n, keys, dim = 3, 5, 4
	r := rand.New(rand.NewPCG(1, 2))
	s := make([]float32, n*keys)
	v := make([]float32, keys*dim)
	for i := range s {
		s[i] = float32(r.NormFloat64() * 3)
	}
	for i := range v {
		// f16 values, as the cache holds.
		v[i] = tensor.F16ToF32(tensor.F32ToF16(float32(r.NormFloat64())))
	}
	ninf := float32(math.Inf(-1))
	s[0*keys+3], s[0*keys+4] = ninf, ninf // causal-style tail
	s[1*keys+0], s[1*keys+2] = ninf, ninf // first key masked
	g := graph.New()
	sa, err := tensor.FromFloat32(s, n, keys)
	if err != nil {
		t.Fatal(err)
	}
	va, err := tensor.FromFloat32(v, keys, dim)
	if err != nil {
		t.Fatal(err)
	}
	st, vt := g.Const(sa), g.Const(va)
	p, err := graph.Compile([]graph.Tensor{flashF16(st.Transpose(), vt, true)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := p.Run(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := out[0].Float32s()
	for i := 0; i < n; i++ {
		mx := math.Inf(-1)
		for j := 0; j < keys; j++ {
			mx = math.Max(mx, float64(s[i*keys+j]))
		}
		var sum float64
		want := make([]float64, dim)
		for j := 0; j < keys; j++ {
			e := math.Exp(float64(s[i*keys+j]) - mx)
			sum += e
			for d := 0; d < dim; d++ {
				want[d] += e * float64(v[j*dim+d])
			}
		}
		for d := 0; d < dim; d++ {
			w := want[d] / sum
			if diff := math.Abs(float64(got[i*dim+d]) - w); diff > 4e-3*(1+math.Abs(w)) {
				t.Errorf("row %d dim %d: %g, float64 %g", i, d, got[i*dim+d], w)
			}
		}
	}
}
