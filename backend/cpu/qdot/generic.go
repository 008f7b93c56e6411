package qdot

import (
	"encoding/binary"
	"math"
)

// The generic kernels: one weight row dotted with one prepared activation
// row. Each block's integer dot products are exact; the block's float
// scales are applied once per block, as ggml's vec_dot does. They are the
// reference the assembly kernels are tested against and the fallback.

// dotFunc dots one weight row (whole blocks) with one activation row.
type dotFunc func(w []byte, x *row) float32

var genericDot = map[Type]dotFunc{
	F16:  dotF16Generic,
	BF16: dotBF16Generic,
	Q4_0: dotQ4_0Generic,
	Q4_1: dotQ4_1Generic,
	Q5_0: dotQ5_0Generic,
	Q5_1: dotQ5_1Generic,
	Q8_0: dotQ8_0Generic,
	Q2_K: dotQ2_KGeneric,
	Q3_K: dotQ3_KGeneric,
	Q4_K: dotQ4_KGeneric,
	Q5_K: dotQ5_KGeneric,
	Q6_K: dotQ6_KGeneric,
	// IQ4_NL has no assembly kernel; every level runs this one.
	IQ4_NL: dotIQ4_NLGeneric,
}

// dotF16Generic dots F16 weights with f16-rounded activations in the
// order of llamafile's tinyBLAS on AVX-512, which llama.cpp uses for F16
// matmuls: 16 lanes, lane j taking element j of every 16-element chunk
// (the products of two f16 are exact in f32), then _mm512_reduce_add_ps's
// halving tree.
func dotF16Generic(w []byte, x *row) float32 {
	var acc [16]float32
	n := len(x.f) &^ 15
	for base := 0; base < n; base += 16 {
		for j := range acc {
			acc[j] += f16At(w, base+j) * x.f[base+j]
		}
	}
	sum := reduce16(&acc)
	for i := n; i < len(x.f); i++ {
		sum += f16At(w, i) * x.f[i]
	}
	return sum
}

// reduce16 adds 16 lanes as _mm512_reduce_add_ps does: lanes i and i+8,
// then i and i+4, then (0+2)+(1+3).
func reduce16(a *[16]float32) float32 {
	var t8 [8]float32
	for i := range t8 {
		t8[i] = a[i+8] + a[i]
	}
	var t4 [4]float32
	for i := range t4 {
		t4[i] = t8[i+4] + t8[i]
	}
	return (t4[0] + t4[2]) + (t4[1] + t4[3])
}

// f16At reads the i-th binary16 of w.
func f16At(w []byte, i int) float32 { return f16ToF32(binary.LittleEndian.Uint16(w[2*i:])) }

// dotBF16Generic dots BF16 weights with bf16-rounded activations in the
// order of llamafile's tinyBLAS on AVX512-BF16, which llama.cpp uses for
// BF16 matmuls: 16 lanes, each taking elements 2j+1 then 2j of every
// 32-element chunk (vdpbf16ps; the products of two bf16 are exact in f32),
// then _mm512_reduce_add_ps's halving tree.
func dotBF16Generic(w []byte, x *row) float32 {
	var acc [16]float32
	n := len(x.f) &^ 31
	for base := 0; base < n; base += 32 {
		xs, ws := x.f[base:base+32], w[2*base:2*base+64]
		for j := range acc {
			acc[j] += bf16At(ws, 2*j+1) * xs[2*j+1]
			acc[j] += bf16At(ws, 2*j) * xs[2*j]
		}
	}
	sum := reduce16(&acc)
	for i := n; i < len(x.f); i++ {
		sum += bf16At(w, i) * x.f[i]
	}
	return sum
}

// bf16At reads the i-th bf16 of w.
func bf16At(w []byte, i int) float32 {
	return math.Float32frombits(uint32(binary.LittleEndian.Uint16(w[2*i:])) << 16)
}

// The 32-element formats add their blocks as ggml's x86 vec_dot does (and
// llamafile's tinyBLAS, which llama.cpp uses for prompt batches): the
// block's 32 products go to 8 lanes of 4 consecutive elements, each lane
// is converted to float and fused-multiply-added with the block's scale
// d_w·d_x into its own accumulator, the lanes are summed pairwise at the
// end (hsum8), and Q4_1's and Q5_1's min terms m·s are summed separately
// and added last (each with an FMA: the compiler contracts ggml's summs +=
// m*s). Matching that order bit for bit matters for parity with
// llama.cpp, because the next layer's 8-bit quantisation turns last-bit
// differences into whole quantisation steps.

// lanes32 accumulates 32-element blocks in ggml's 8-lane order.
type lanes32 [8]float32

// add adds the block of weight values w (already offset) times the quants
// xq, scaled by d.
func (a *lanes32) add(d float32, w *[32]int32, xq []int8) {
	xq = xq[:32]
	for k := range a {
		l := w[4*k]*int32(xq[4*k]) + w[4*k+1]*int32(xq[4*k+1]) + w[4*k+2]*int32(xq[4*k+2]) + w[4*k+3]*int32(xq[4*k+3])
		a[k] = fma32(d, float32(l), a[k])
	}
}

// sum is ggml's hsum_float_8: lanes k and k+4, then (0+2)+(1+3).
func (a *lanes32) sum() float32 {
	a0, a1, a2, a3 := a[0]+a[4], a[1]+a[5], a[2]+a[6], a[3]+a[7]
	return (a0 + a2) + (a1 + a3)
}

// fma32 is a float32 fused multiply-add (through float64, whose double
// rounding differs from a true f32 FMA only in vanishingly rare ties).
func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

// dotQ4_0Generic: x = (q-8)*d, blocks added in the order of llama.cpp's
// x86 q4_0_8x8 gemv and gemm (see dotIQ4_NLGeneric): each block's whole
// integer dot product times d_w·d_x, fused-multiply-added into one
// accumulator.
func dotQ4_0Generic(w []byte, x *row) float32 {
	var acc float32
	for b, dx := range x.d {
		blk, xq := w[18*b:18*b+18], x.q[32*b:32*b+32]
		var l int32
		for j, q := range blk[2:18] {
			l += (int32(q&15)-8)*int32(xq[j]) + (int32(q>>4)-8)*int32(xq[j+16])
		}
		acc = fma32(float32(l), le16(blk)*dx, acc)
	}
	return acc
}

// dotQ4_1Generic: x = q*d + m; the m term uses Q8_1's f16 s = d·Σq.
func dotQ4_1Generic(w []byte, x *row) float32 {
	var acc lanes32
	var v [32]int32
	var summs float32
	for b, dx := range x.d {
		blk := w[20*b : 20*b+20]
		for j, q := range blk[4:20] {
			v[j], v[j+16] = int32(q&15), int32(q>>4)
		}
		summs = fma32(le16(blk[2:]), x.ms[b], summs)
		acc.add(le16(blk)*dx, &v, x.q[32*b:32*b+32])
	}
	return acc.sum() + summs
}

// dotQ5_0Generic: x = (q-16)*d with q's fifth bit in qh.
func dotQ5_0Generic(w []byte, x *row) float32 {
	var acc lanes32
	var v [32]int32
	for b, dx := range x.d {
		blk := w[22*b : 22*b+22]
		qh := binary.LittleEndian.Uint32(blk[2:])
		for j, q := range blk[6:22] {
			v[j] = (int32(q&15) | int32(qh>>j&1)<<4) - 16
			v[j+16] = (int32(q>>4) | int32(qh>>(j+16)&1)<<4) - 16
		}
		acc.add(le16(blk)*dx, &v, x.q[32*b:32*b+32])
	}
	return acc.sum()
}

// dotQ5_1Generic: x = q*d + m with q's fifth bit in qh.
func dotQ5_1Generic(w []byte, x *row) float32 {
	var acc lanes32
	var v [32]int32
	var summs float32
	for b, dx := range x.d {
		blk := w[24*b : 24*b+24]
		qh := binary.LittleEndian.Uint32(blk[4:])
		for j, q := range blk[8:24] {
			v[j] = int32(q&15) | int32(qh>>j&1)<<4
			v[j+16] = int32(q>>4) | int32(qh>>(j+16)&1)<<4
		}
		summs = fma32(le16(blk[2:]), x.ms[b], summs)
		acc.add(le16(blk)*dx, &v, x.q[32*b:32*b+32])
	}
	return acc.sum() + summs
}

// dotQ8_0Generic: x = q*d.
func dotQ8_0Generic(w []byte, x *row) float32 {
	var acc lanes32
	var v [32]int32
	for b, dx := range x.d {
		blk := w[34*b : 34*b+34]
		for j, q := range blk[2:34] {
			v[j] = int32(int8(q))
		}
		acc.add(le16(blk)*dx, &v, x.q[32*b:32*b+32])
	}
	return acc.sum()
}

// iq4Values is ggml's kvalues_iq4nl, IQ4_NL's 16 levels.
var iq4Values = [16]int32{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

// dotIQ4_NLGeneric: x = d*kvalues[q], nibbles ordered as in Q4_0. It adds
// the blocks as llama.cpp's x86 backend does for IQ4_NL: it repacks every
// weight matrix whose row count is a multiple of 8 (all of a real model's)
// to iq4_nl_8x8, whose AVX2 gemv and gemm take each block's whole integer
// dot product, convert it to float once and fused-multiply-add it with
// d_w·d_x into one accumulator per output, block after block. (The plain
// vec_dot, used only for other row counts, adds 8 lanes of 4 instead.)
func dotIQ4_NLGeneric(w []byte, x *row) float32 {
	var acc float32
	for b, dx := range x.d {
		blk, xq := w[18*b:18*b+18], x.q[32*b:32*b+32]
		var l int32
		for j, q := range blk[2:18] {
			l += iq4Values[q&15]*int32(xq[j]) + iq4Values[q>>4]*int32(xq[j+16])
		}
		acc = fma32(float32(l), le16(blk)*dx, acc)
	}
	return acc
}

// dotQ2_KGeneric: sixteen 16-element sub-blocks, x = d*(sc&15)*q -
// dmin*(sc>>4), q 2-bit; element e is bits 2*((e/32)%4) of
// qs[32*(e/128) + e%32]. The blocks are added as llama.cpp's x86
// q2_K_8x8 gemv does: the block's integer sums times d_w·d_x and
// dmin_w·d_x, fused-multiply-added into two accumulators whose difference
// is the result. (Its gemm, taking a prompt's activation rows four at a
// time, adds each 128-element half instead; the rows past the last
// multiple of four and every decode step go through the gemv.)
func dotQ2_KGeneric(w []byte, x *row) float32 {
	var acc, accMin float32
	for b, dx := range x.d {
		blk := w[84*b : 84*b+84]
		sc, qs := blk[0:16], blk[16:80]
		xq, bs := x.q[256*b:256*b+256], x.s[16*b:16*b+16]
		var isum, msum int32
		for j := 0; j < 16; j++ {
			var dot int32
			for e := 16 * j; e < 16*j+16; e++ {
				q := int32(qs[32*(e/128)+e%32]>>(2*((e/32)%4))) & 3
				dot += q * int32(xq[e])
			}
			isum += int32(sc[j]&15) * dot
			msum += int32(sc[j]>>4) * bs[j]
		}
		acc = fma32(float32(isum), le16(blk[80:])*dx, acc)
		accMin = fma32(float32(msum), le16(blk[82:])*dx, accMin)
	}
	return acc - accMin
}

// q3Scale unpacks Q3_K's signed 6-bit scale j from its 12 packed bytes.
func q3Scale(s []byte, j int) int32 {
	lo := s[j%8] >> (4 * (j / 8)) & 15
	hi := (s[8+j%4] >> (2 * (j / 4))) & 3
	return int32(lo|hi<<4) - 32
}

// dotQ3_KGeneric: sixteen 16-element sub-blocks, x = d*scale*q with q in
// -4..3: two low bits as in Q2_K, and a clear bit e/32 of hmask[e%32]
// subtracts 4. Like ggml's AVX2 vec_dot it keeps 8 integer lanes, lane k
// holding elements 4k..4k+3 of every 32-element group times its
// sub-block's scale, and fused-multiply-adds each lane into its own
// float accumulator.
func dotQ3_KGeneric(w []byte, x *row) float32 {
	var acc lanes32
	for b, dx := range x.d {
		blk := w[110*b : 110*b+110]
		hm, qs, sc := blk[0:32], blk[32:96], blk[96:108]
		xq := x.q[256*b : 256*b+256]
		var lane [8]int32
		for e := range 256 {
			q := int32(qs[32*(e/128)+e%32]>>(2*((e/32)%4))) & 3
			q -= 4 * (1 - int32(hm[e%32]>>(e/32)&1))
			lane[e%32/4] += q3Scale(sc, e/16) * q * int32(xq[e])
		}
		d := dx * le16(blk[108:])
		for k := range acc {
			acc[k] = fma32(d, float32(lane[k]), acc[k])
		}
	}
	return acc.sum()
}

// scaleMinK4 unpacks sub-block j's 6-bit scale and min shared by Q4_K and
// Q5_K (ggml's get_scale_min_k4).
func scaleMinK4(j int, q []byte) (sc, m int32) {
	if j < 4 {
		return int32(q[j] & 63), int32(q[j+4] & 63)
	}
	return int32(q[j+4]&15 | (q[j-4]>>6)<<4), int32(q[j+4]>>4 | (q[j]>>6)<<4)
}

// dotQ4_KGeneric: eight 32-element sub-blocks, x = d*sc*q - dmin*m; q is
// the low nibble of qs[32*(e/64) + e%32] for even sub-blocks, the high one
// for odd.
func dotQ4_KGeneric(w []byte, x *row) float32 {
	var sum float32
	for b, dx := range x.d {
		blk := w[144*b : 144*b+144]
		s, qs := blk[4:16], blk[16:144]
		xq, bs := x.q[256*b:256*b+256], x.s32[8*b:8*b+8]
		var isum, msum int32
		for j := 0; j < 8; j++ {
			q, xs := qs[32*(j/2):32*(j/2)+32], xq[32*j:32*j+32]
			shift := 4 * uint(j%2)
			var dot int32
			for l, v := range q {
				dot += int32(v>>shift&15) * int32(xs[l])
			}
			sc, m := scaleMinK4(j, s)
			isum += sc * dot
			msum += m * bs[j]
		}
		sum += dx*le16(blk)*float32(isum) - dx*le16(blk[2:])*float32(msum)
	}
	return sum
}

// dotQ5_KGeneric: as Q4_K with a fifth bit j of qh[e%32].
func dotQ5_KGeneric(w []byte, x *row) float32 {
	var acc lanes32
	var summs float32
	for b, dx := range x.d {
		blk := w[176*b : 176*b+176]
		s, qh, ql := blk[4:16], blk[16:48], blk[48:176]
		xq, bs := x.q[256*b:256*b+256], x.s32[8*b:8*b+8]
		// As ggml's AVX2 vec_dot: 8 integer lanes, lane k holding
		// elements 4k..4k+3 of every 32-element sub-block times its
		// scale; the mins go to a separate float sum, one fused
		// multiply-add per block (the compiler contracts ggml's
		// summs += dmin*sum into an FMA; two roundings gave other bits
		// in 82 of 256 rows of 768 elements).
		var lane [8]int32
		var msum int32
		for j := 0; j < 8; j++ {
			q, xs := ql[32*(j/2):32*(j/2)+32], xq[32*j:32*j+32]
			shift := 4 * uint(j%2)
			sc, m := scaleMinK4(j, s)
			for l, v := range q {
				lane[l/4] += sc * (int32(v>>shift&15) | int32(qh[l]>>j&1)<<4) * int32(xs[l])
			}
			msum += m * bs[j]
		}
		d, dmin := dx*le16(blk), -dx*le16(blk[2:])
		summs = fma32(dmin, float32(msum), summs)
		for k := range acc {
			acc[k] = fma32(d, float32(lane[k]), acc[k])
		}
	}
	return acc.sum() + summs
}

// dotQ6_KGeneric: sixteen 16-element sub-blocks with int8 scales, x =
// d*sc*(q-32). In each 128-element half n, element 32g+l takes four low
// bits from ql[64n + l + 32*(g%2)] (high nibble for g >= 2) and two high
// bits 2g of qh[32n + l].
func dotQ6_KGeneric(w []byte, x *row) float32 {
	var acc lanes32
	for b, dx := range x.d {
		blk := w[210*b : 210*b+210]
		ql, qh, sc := blk[0:128], blk[128:192], blk[192:208]
		xq, bs := x.q[256*b:256*b+256], x.s[16*b:16*b+16]
		// As ggml's AVX2 vec_dot: 8 integer lanes, lane k holding
		// elements 4k..4k+3 of every 32-element group times the
		// unsigned q (0..63) and its sub-block's scale, less 32·(the
		// scaled activation sums of sub-blocks 2k and 2k+1); each lane
		// is then converted to float (rounded beyond 2^24) and
		// fused-multiply-added into its own accumulator.
		var lane [8]int32
		for e := range 256 {
			n, g, l := e/128, (e%128)/32, e%32
			lo := ql[64*n+l+32*(g%2)] >> (4 * uint(g/2)) & 15
			hi := qh[32*n+l] >> (2 * uint(g)) & 3
			lane[l/4] += int32(int8(sc[e/16])) * int32(lo|hi<<4) * int32(xq[e])
		}
		d := dx * le16(blk[208:])
		for k := range acc {
			lane[k] -= 32 * (bs[2*k]*int32(int8(sc[2*k])) + bs[2*k+1]*int32(int8(sc[2*k+1])))
			acc[k] = fma32(d, float32(lane[k]), acc[k])
		}
	}
	return acc.sum()
}
