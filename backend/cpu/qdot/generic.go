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
type dotFunc func(w []byte, x row) float32

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
}

func dotF16Generic(w []byte, x row) float32 {
	var sum float32
	for i, v := range x.f {
		sum += f16ToF32(binary.LittleEndian.Uint16(w[2*i:])) * v
	}
	return sum
}

func dotBF16Generic(w []byte, x row) float32 {
	var sum float32
	for i, v := range x.f {
		sum += math.Float32frombits(uint32(binary.LittleEndian.Uint16(w[2*i:]))<<16) * v
	}
	return sum
}

// dotQ4_0Generic: x = (q-8)*d.
func dotQ4_0Generic(w []byte, x row) float32 {
	var sum float32
	for b, dx := range x.d {
		blk := w[18*b : 18*b+18]
		qs, xq := blk[2:18], x.q[32*b:32*b+32]
		var isum int32
		for j, v := range qs {
			isum += (int32(v&15)-8)*int32(xq[j]) + (int32(v>>4)-8)*int32(xq[j+16])
		}
		sum += float32(isum) * (le16(blk) * dx)
	}
	return sum
}

// dotQ4_1Generic: x = q*d + m; the m term uses Q8_1's f16 s = d·Σq.
func dotQ4_1Generic(w []byte, x row) float32 {
	var sum float32
	for b, dx := range x.d {
		blk := w[20*b : 20*b+20]
		qs, xq := blk[4:20], x.q[32*b:32*b+32]
		var isum int32
		for j, v := range qs {
			isum += int32(v&15)*int32(xq[j]) + int32(v>>4)*int32(xq[j+16])
		}
		sum += float32(isum)*(le16(blk)*dx) + le16(blk[2:])*x.ms[b]
	}
	return sum
}

// dotQ5_0Generic: x = (q-16)*d with q's fifth bit in qh.
func dotQ5_0Generic(w []byte, x row) float32 {
	var sum float32
	for b, dx := range x.d {
		blk := w[22*b : 22*b+22]
		qh := binary.LittleEndian.Uint32(blk[2:])
		qs, xq := blk[6:22], x.q[32*b:32*b+32]
		var isum int32
		for j, v := range qs {
			lo := int32(v&15) | int32(qh>>j&1)<<4
			hi := int32(v>>4) | int32(qh>>(j+16)&1)<<4
			isum += (lo-16)*int32(xq[j]) + (hi-16)*int32(xq[j+16])
		}
		sum += float32(isum) * (le16(blk) * dx)
	}
	return sum
}

// dotQ5_1Generic: x = q*d + m with q's fifth bit in qh.
func dotQ5_1Generic(w []byte, x row) float32 {
	var sum float32
	for b, dx := range x.d {
		blk := w[24*b : 24*b+24]
		qh := binary.LittleEndian.Uint32(blk[4:])
		qs, xq := blk[8:24], x.q[32*b:32*b+32]
		var isum int32
		for j, v := range qs {
			lo := int32(v&15) | int32(qh>>j&1)<<4
			hi := int32(v>>4) | int32(qh>>(j+16)&1)<<4
			isum += lo*int32(xq[j]) + hi*int32(xq[j+16])
		}
		sum += float32(isum)*(le16(blk)*dx) + le16(blk[2:])*x.ms[b]
	}
	return sum
}

// dotQ8_0Generic: x = q*d.
func dotQ8_0Generic(w []byte, x row) float32 {
	var sum float32
	for b, dx := range x.d {
		blk := w[34*b : 34*b+34]
		qs, xq := blk[2:34], x.q[32*b:32*b+32]
		var isum int32
		for j, v := range qs {
			isum += int32(int8(v)) * int32(xq[j])
		}
		sum += float32(isum) * (le16(blk) * dx)
	}
	return sum
}

// dotQ2_KGeneric: sixteen 16-element sub-blocks, x = d*(sc&15)*q -
// dmin*(sc>>4), q 2-bit; element e is bits 2*((e/32)%4) of
// qs[32*(e/128) + e%32].
func dotQ2_KGeneric(w []byte, x row) float32 {
	var sum float32
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
		sum += dx*le16(blk[80:])*float32(isum) - dx*le16(blk[82:])*float32(msum)
	}
	return sum
}

// q3Scale unpacks Q3_K's signed 6-bit scale j from its 12 packed bytes.
func q3Scale(s []byte, j int) int32 {
	lo := s[j%8] >> (4 * (j / 8)) & 15
	hi := (s[8+j%4] >> (2 * (j / 4))) & 3
	return int32(lo|hi<<4) - 32
}

// dotQ3_KGeneric: sixteen 16-element sub-blocks, x = d*scale*q with q in
// -4..3: two low bits as in Q2_K, and a clear bit e/32 of hmask[e%32]
// subtracts 4.
func dotQ3_KGeneric(w []byte, x row) float32 {
	var sum float32
	for b, dx := range x.d {
		blk := w[110*b : 110*b+110]
		hm, qs, sc := blk[0:32], blk[32:96], blk[96:108]
		xq := x.q[256*b : 256*b+256]
		var isum int32
		for j := 0; j < 16; j++ {
			var dot int32
			for e := 16 * j; e < 16*j+16; e++ {
				q := int32(qs[32*(e/128)+e%32]>>(2*((e/32)%4))) & 3
				q -= 4 * (1 - int32(hm[e%32]>>(e/32)&1))
				dot += q * int32(xq[e])
			}
			isum += q3Scale(sc, j) * dot
		}
		sum += dx * le16(blk[108:]) * float32(isum)
	}
	return sum
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
func dotQ4_KGeneric(w []byte, x row) float32 {
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
func dotQ5_KGeneric(w []byte, x row) float32 {
	var sum float32
	for b, dx := range x.d {
		blk := w[176*b : 176*b+176]
		s, qh, ql := blk[4:16], blk[16:48], blk[48:176]
		xq, bs := x.q[256*b:256*b+256], x.s32[8*b:8*b+8]
		var isum, msum int32
		for j := 0; j < 8; j++ {
			q, xs := ql[32*(j/2):32*(j/2)+32], xq[32*j:32*j+32]
			shift := 4 * uint(j%2)
			var dot int32
			for l, v := range q {
				dot += (int32(v>>shift&15) | int32(qh[l]>>j&1)<<4) * int32(xs[l])
			}
			sc, m := scaleMinK4(j, s)
			isum += sc * dot
			msum += m * bs[j]
		}
		sum += dx*le16(blk)*float32(isum) - dx*le16(blk[2:])*float32(msum)
	}
	return sum
}

// dotQ6_KGeneric: sixteen 16-element sub-blocks with int8 scales, x =
// d*sc*(q-32). In each 128-element half n, element 32g+l takes four low
// bits from ql[64n + l + 32*(g%2)] (high nibble for g >= 2) and two high
// bits 2g of qh[32n + l].
func dotQ6_KGeneric(w []byte, x row) float32 {
	var sum float32
	for b, dx := range x.d {
		blk := w[210*b : 210*b+210]
		ql, qh, sc := blk[0:128], blk[128:192], blk[192:208]
		xq := x.q[256*b : 256*b+256]
		var isum int32
		for j := 0; j < 16; j++ {
			var dot int32
			for e := 16 * j; e < 16*j+16; e++ {
				n, g, l := e/128, (e%128)/32, e%32
				lo := ql[64*n+l+32*(g%2)] >> (4 * uint(g/2)) & 15
				hi := qh[32*n+l] >> (2 * uint(g)) & 3
				dot += (int32(lo|hi<<4) - 32) * int32(xq[e])
			}
			isum += int32(int8(sc[j])) * dot
		}
		sum += dx * le16(blk[208:]) * float32(isum)
	}
	return sum
}
