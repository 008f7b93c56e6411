package model

import (
	"math/bits"
	"slices"

	"github.com/aethertensor/aether/graph"
)

// Error-free transformations in float32 graph operations, for the parts
// of LlamaCppArith that ggml computes with a single rounding (a fused
// multiply-add, a dot product summed in double precision) on devices
// without float64 (WebGPU). They rely on every operation being rounded
// as written, with no reassociation or contraction: true of the CPU
// backend, and of llvmpipe's shader compiler (backend/wgpu's
// TestErrorFreeTransforms checks both).

// twoSum returns s = fl(a+b) and e with a+b = s+e exactly (Knuth's
// branch-free TwoSum, valid for any order of magnitude).
func twoSum(a, b graph.Tensor) (s, e graph.Tensor) {
	s = a.Add(b)
	bb := s.Sub(a)
	return s, a.Sub(s.Sub(bb)).Add(b.Sub(bb))
}

// split returns hi+lo = x with hi holding the top 12 significant bits and
// lo the rest (Veltkamp), so that products of halves are exact in f32.
func split(x graph.Tensor) (hi, lo graph.Tensor) {
	c := x.Scale(1<<12 + 1)
	hi = c.Sub(c.Sub(x))
	return hi, x.Sub(hi)
}

// twoProd returns p = fl(a·b) and e with a·b = p+e exactly (Dekker),
// for products that neither overflow nor underflow.
func twoProd(a, b graph.Tensor) (p, e graph.Tensor) {
	p = a.Mul(b)
	ah, al := split(a)
	bh, bl := split(b)
	e = ah.Mul(bh).Sub(p).Add(ah.Mul(bl)).Add(al.Mul(bh)).Add(al.Mul(bl))
	return p, e
}

// fmaF32 is a·b+c rounded once to float32, as a hardware fused
// multiply-add gives it, but for the rare cases where the exact sum lies
// within a few units of the last place of the 48th bit of a rounding
// boundary (the last addition then rounds twice, as the float64 route
// does in its own rare ties).
func fmaF32(a, b, c graph.Tensor) graph.Tensor {
	p, e := twoProd(a, b)
	s, t := twoSum(p, c)
	return s.Add(t.Add(e))
}

// dotExact returns, for q [..., n, d] and k [..., m, d] (leading dims
// broadcasting), the dot products of every q row with every k row as
// [..., n, m], each rounded once from a compensated
// pairwise sum of its exact products. The products must be exact in
// float32 (operands of at most 12 significant bits each, such as f16
// values), so the result is the correctly rounded dot product except
// where the exact sum lies within about 2^-40 relative of a rounding
// boundary: what ggml's float64 accumulation of f16 products gives.
func dotExact(q, k graph.Tensor) graph.Tensor {
	// The summed axis goes first, so that every level of the pairwise sum
	// takes two contiguous halves of the products, and k's rows last, so
	// that the products' innermost axis is long: q becomes [d, ..., n, 1]
	// and k [d, ..., 1, m].
	r := q.Rank()
	front := append([]int{r - 1}, seq(r-1)...)
	p := q.Permute(front...).Unsqueeze(-1).Mul(k.Permute(front...).Unsqueeze(-3)) // [d, ..., n, m]
	d := p.Shape()[0]
	if w := 1 << bits.Len(uint(d-1)); w > d {
		// Zeros pad the products to a power of two; they add exactly.
		shape := slices.Clone([]int(p.Shape()))
		shape[0] = w - d
		p = graph.Concat(0, p, p.Graph().Full(p.DType(), 0, shape...))
		d = w
	}
	var c graph.Tensor // the rounding errors so far, added in float32
	for ; d > 1; d /= 2 {
		h := d / 2
		s, e := twoSum(p.SliceAxis(0, 0, h, 1), p.SliceAxis(0, h, d, 1))
		if c.Valid() {
			e = c.SliceAxis(0, 0, h, 1).Add(c.SliceAxis(0, h, d, 1)).Add(e)
		}
		p, c = s, e
	}
	if c.Valid() {
		p = p.Add(c)
	}
	return p.Squeeze(0)
}

// seq returns 0, 1, …, n-1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}
