package quant

import (
	"encoding/binary"
	"math"
)

// The K-quants: 256-element super-blocks of 16- or 32-element sub-blocks
// whose scales are themselves quantised. Layouts (little-endian):
//
//	Q2_K: scales[16] (lo nibble scale, hi nibble min) | qs[64] | d f16 | dmin f16
//	Q3_K: hmask[32] | qs[64] | scales[12] (16 6-bit signed scales) | d f16
//	Q4_K: d f16 | dmin f16 | scales[12] (8 6-bit scales, 8 6-bit mins) | qs[128]
//	Q5_K: d f16 | dmin f16 | scales[12] | qh[32] | qs[128]
//	Q6_K: ql[128] | qh[64] | scales[16] int8 | d f16
//	Q8_K: d f32 | qs[256] int8 | bsums[16] int16
//
// The quantisers port ggml's quantize_row_*_ref (the path llama-quantize
// takes without an importance matrix), keeping its float32 operation order,
// its iterative scale searches and its nearest_int rounding.

const qkK = 256

// nearestInt rounds like ggml's nearest_int: adding 1.5*2^23 makes the
// float32 adder round to an integer (ties to even), which is then read back
// from the mantissa bits. Valid for |f| <= 4194303.
func nearestInt(f float32) int32 {
	v := f + 12582912
	return int32(math.Float32bits(v)&0x007fffff) - 0x00400000
}

func sqrt32(f float32) float32 { return float32(math.Sqrt(float64(f))) }

func clampInt(v, lo, hi int32) int32 { return max(lo, min(hi, v)) }

// groupMaxEps is ggml's GROUP_MAX_EPS: groups below it count as all zero.
const groupMaxEps = 1e-15

// makeQXQuants is ggml's make_qx_quants for rmse_type 1 without importance
// weights (the Q6_K reference): symmetric levels -nmax..nmax-1 stored as
// 0..2*nmax-1 in L, with a search over 18 nearby scales weighted by x².
func makeQXQuants(nmax int32, x []float32, L []int8) float32 {
	var maxv, amax float32
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, maxv = a, v
		}
	}
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	iscale := float32(-nmax) / maxv
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
		L[i] = int8(l + nmax)
		w := float32(v * v)
		fl := float32(l)
		sumlx += float32(float32(w*v) * fl)
		suml2 += float32(float32(w*fl) * fl)
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := scale * sumlx
	for is := int32(-9); is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(float32(nmax) + float32(0.1*float32(is))) / maxv
		sumlx, suml2 = 0, 0
		for _, v := range x {
			l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
			w := float32(v * v)
			fl := float32(l)
			sumlx += float32(float32(w*v) * fl)
			suml2 += float32(float32(w*fl) * fl)
		}
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			for i, v := range x {
				l := nearestInt(iscale * v)
				L[i] = int8(nmax + clampInt(l, -nmax, nmax-1))
			}
			scale = sumlx / suml2
			best = scale * sumlx
		}
	}
	return scale
}

// makeQ3Quants is ggml's make_q3_quants with do_rmse: start from the
// max-based scale, then move single levels while that improves the
// x²-weighted least-squares fit. L gets levels 0..2*nmax-1.
func makeQ3Quants(nmax int32, x []float32, L []int8) float32 {
	var maxv, amax float32
	for _, v := range x {
		if a := abs32(v); a > amax {
			amax, maxv = a, v
		}
	}
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	iscale := float32(-nmax) / maxv
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
		L[i] = int8(l)
		w := float32(v * v)
		fl := float32(l)
		sumlx += float32(float32(w*v) * fl)
		suml2 += float32(float32(w*fl) * fl)
	}
	for itry := 0; itry < 5; itry++ {
		changed := 0
		for i, v := range x {
			w := float32(v * v)
			fl := float32(L[i])
			slx := sumlx - float32(float32(w*v)*fl)
			if slx > 0 {
				sl2 := suml2 - float32(float32(w*fl)*fl)
				nl := clampInt(nearestInt(float32(v*sl2)/slx), -nmax, nmax-1)
				if nl != int32(L[i]) {
					fn := float32(nl)
					slx += float32(float32(w*v) * fn)
					sl2 += float32(float32(w*fn) * fn)
					if sl2 > 0 && float32(float32(slx*slx)*suml2) > float32(float32(sumlx*sumlx)*sl2) {
						L[i] = int8(nl)
						sumlx, suml2 = slx, sl2
						changed++
					}
				}
			}
		}
		if changed == 0 {
			break
		}
	}
	for i := range L {
		L[i] += int8(nmax)
	}
	return sumlx / suml2
}

// makeQKX2Quants is ggml's make_qkx2_quants: an asymmetric fit x ≈ scale*L
// - min with L in 0..nmax, searching nstep+1 candidate scales and keeping
// the one with the smallest weighted error. It returns scale and the
// (non-negative) min.
func makeQKX2Quants(nmax int32, x, weights []float32, L, Laux []uint8, rmin, rdelta float32, nstep int, useMAD bool) (float32, float32) {
	lo, hi := x[0], x[0]
	sumW := weights[0]
	sumX := sumW * x[0]
	for i := 1; i < len(x); i++ {
		if x[i] < lo {
			lo = x[i]
		}
		if x[i] > hi {
			hi = x[i]
		}
		w := weights[i]
		sumW += w
		sumX += float32(w * x[i])
	}
	if lo > 0 {
		lo = 0
	}
	if hi == lo {
		clear(L)
		return 0, -lo
	}
	fnmax := float32(nmax)
	iscale := fnmax / (hi - lo)
	scale := 1 / iscale
	var bestMAD float32
	for i, v := range x {
		l := clampInt(nearestInt(float32(iscale*(v-lo))), 0, nmax)
		L[i] = uint8(l)
		diff := float32(float32(scale*float32(l))+lo) - v
		if useMAD {
			diff = abs32(diff)
		} else {
			diff = diff * diff
		}
		bestMAD += float32(weights[i] * diff)
	}
	if nstep < 1 {
		return scale, -lo
	}
	for is := 0; is <= nstep; is++ {
		iscale = (float32(rmin+float32(rdelta*float32(is))) + fnmax) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i, v := range x {
			l := clampInt(nearestInt(float32(iscale*(v-lo))), 0, nmax)
			Laux[i] = uint8(l)
			w := weights[i]
			fl := float32(l)
			sumL += float32(w * fl)
			sumL2 += float32(float32(w*fl) * fl)
			sumXL += float32(float32(w*fl) * v)
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D > 0 {
			thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
			thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var mad float32
			for i, v := range x {
				diff := float32(float32(thisScale*float32(Laux[i]))+thisMin) - v
				if useMAD {
					diff = abs32(diff)
				} else {
					diff = diff * diff
				}
				mad += float32(weights[i] * diff)
			}
			if mad < bestMAD {
				copy(L, Laux[:len(L)])
				bestMAD = mad
				scale = thisScale
				lo = thisMin
			}
		}
	}
	return scale, -lo
}

// packQ2 stores 2-bit levels: byte l of each 32-byte group holds elements
// l, l+32, l+64 and l+96 of its 128-element half.
func packQ2(qs []byte, L []uint8) {
	for j := 0; j < qkK; j += 128 {
		for l := 0; l < 32; l++ {
			qs[j/4+l] = L[j+l] | L[j+l+32]<<2 | L[j+l+64]<<4 | L[j+l+96]<<6
		}
	}
}

func dequantQ2_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qkK; i++ {
		b := src[i*84 : i*84+84]
		scales, q := b[0:16], b[16:80]
		d, dmin := fp16(b[80:]), fp16(b[82:])
		y := dst[i*qkK : i*qkK+qkK]
		is := 0
		for n := 0; n < qkK; n += 128 {
			for shift := uint(0); shift < 8; shift += 2 {
				for half := 0; half < 2; half++ {
					sc := scales[is]
					is++
					dl := d * float32(sc&0xf)
					ml := dmin * float32(sc>>4)
					qq := q[16*half : 16*half+16]
					yy := y[:16]
					for l := range yy {
						yy[l] = float32(dl*float32((qq[l]>>shift)&3)) - ml
					}
					y = y[16:]
				}
			}
			q = q[32:]
		}
	}
}

func quantQ2_K(dst []byte, src []float32) {
	var (
		L       [qkK]uint8
		Laux    [16]uint8
		weights [16]float32
		mins    [16]float32
		scales  [16]float32
	)
	const q4scale = 15
	for i := 0; i < len(src)/qkK; i++ {
		x := src[i*qkK : i*qkK+qkK]
		b := dst[i*84 : i*84+84]
		sc := b[0:16]
		var maxScale, maxMin float32
		for j := 0; j < 16; j++ {
			xs := x[16*j : 16*j+16]
			for l, v := range xs {
				weights[l] = abs32(v)
			}
			scales[j], mins[j] = makeQKX2Quants(3, xs, weights[:], L[16*j:16*j+16], Laux[:], -0.5, 0.1, 15, true)
			maxScale = max32(maxScale, scales[j])
			maxMin = max32(maxMin, mins[j])
		}
		if maxScale > 0 {
			iscale := q4scale / maxScale
			for j := range sc {
				sc[j] = byte(nearestInt(iscale * scales[j]))
			}
			putFP16(b[80:], maxScale/q4scale)
		} else {
			clear(sc)
			putFP16(b[80:], 0)
		}
		if maxMin > 0 {
			iscale := q4scale / maxMin
			for j := range sc {
				sc[j] |= byte(nearestInt(iscale*mins[j]) << 4)
			}
			putFP16(b[82:], maxMin/q4scale)
		} else {
			putFP16(b[82:], 0)
		}
		dd, dmin := fp16(b[80:]), fp16(b[82:])
		for j := 0; j < 16; j++ {
			d := dd * float32(sc[j]&0xf)
			if d == 0 {
				continue
			}
			dm := dmin * float32(sc[j]>>4)
			for ii := 0; ii < 16; ii++ {
				L[16*j+ii] = uint8(clampInt(nearestInt((x[16*j+ii]+dm)/d), 0, 3))
			}
		}
		packQ2(b[16:80], L[:])
	}
}

// max32 is "if v > m { m = v }", which differs from max() for NaN.
func max32(m, v float32) float32 {
	if v > m {
		return v
	}
	return m
}

// q3Scale returns sub-block j's 6-bit signed scale from Q3_K's 12 packed
// bytes: low 4 bits from byte j (or the high nibble of byte j-8), high 2
// bits from byte 8+j%4.
func q3Scale(s []byte, j int) int32 {
	var lo byte
	if j < 8 {
		lo = s[j] & 0xf
	} else {
		lo = s[j-8] >> 4
	}
	hi := (s[8+j%4] >> (2 * (j / 4))) & 3
	return int32(lo|hi<<4) - 32
}

func dequantQ3_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qkK; i++ {
		b := src[i*110 : i*110+110]
		hm, q, s := b[0:32], b[32:96], b[96:108]
		dAll := fp16(b[108:])
		y := dst[i*qkK : i*qkK+qkK]
		is := 0
		hbit := uint(0) // hmask bit of the current 32 elements
		for n := 0; n < qkK; n += 128 {
			for shift := uint(0); shift < 8; shift += 2 {
				for half := 0; half < 2; half++ {
					dl := dAll * float32(q3Scale(s, is))
					is++
					qq, hh := q[16*half:16*half+16], hm[16*half:16*half+16]
					yy := y[:16]
					// A clear high bit means the level is 4 lower.
					for l := range yy {
						v := int32((qq[l]>>shift)&3) - 4 + 4*int32(hh[l]>>hbit&1)
						yy[l] = dl * float32(v)
					}
					y = y[16:]
				}
				hbit++
			}
			q = q[32:]
		}
	}
}

func quantQ3_K(dst []byte, src []float32) {
	var (
		L      [qkK]int8
		scales [16]float32
	)
	for i := 0; i < len(src)/qkK; i++ {
		x := src[i*qkK : i*qkK+qkK]
		b := dst[i*110 : i*110+110]
		hmask, qs, s := b[0:32], b[32:96], b[96:108]
		var maxScale, amax float32
		for j := 0; j < 16; j++ {
			scales[j] = makeQ3Quants(4, x[16*j:16*j+16], L[16*j:16*j+16])
			if a := abs32(scales[j]); a > amax {
				amax, maxScale = a, scales[j]
			}
		}
		clear(s)
		if maxScale != 0 {
			iscale := -32 / maxScale
			for j := 0; j < 16; j++ {
				l := byte(clampInt(int32(int8(nearestInt(iscale*scales[j]))), -32, 31) + 32)
				if j < 8 {
					s[j] = l & 0xf
				} else {
					s[j-8] |= (l & 0xf) << 4
				}
				s[j%4+8] |= (l >> 4) << (2 * (j / 4))
			}
			putFP16(b[108:], 1/iscale)
		} else {
			putFP16(b[108:], 0)
		}
		dAll := fp16(b[108:])
		for j := 0; j < 16; j++ {
			d := dAll * float32(int8(q3Scale(s, j)))
			if d == 0 {
				continue
			}
			for ii := 0; ii < 16; ii++ {
				L[16*j+ii] = int8(clampInt(nearestInt(x[16*j+ii]/d), -4, 3) + 4)
			}
		}
		clear(hmask)
		m, hm := 0, byte(1)
		for j := range L {
			if L[j] > 3 {
				hmask[m] |= hm
				L[j] -= 4
			}
			if m++; m == 32 {
				m, hm = 0, hm<<1
			}
		}
		for j := 0; j < qkK; j += 128 {
			for l := 0; l < 32; l++ {
				qs[j/4+l] = byte(L[j+l]) | byte(L[j+l+32])<<2 | byte(L[j+l+64])<<4 | byte(L[j+l+96])<<6
			}
		}
	}
}

// scaleMinK4 unpacks sub-block j's 6-bit scale and min from the 12 scale
// bytes shared by Q4_K and Q5_K (ggml's get_scale_min_k4).
func scaleMinK4(j int, q []byte) (sc, m byte) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xf | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

// packScaleMinK4 is the inverse of scaleMinK4; s must start zeroed.
func packScaleMinK4(s []byte, j int, ls, lm byte) {
	if j < 4 {
		s[j] = ls
		s[j+4] = lm
		return
	}
	s[j+4] = ls&0xf | (lm&0xf)<<4
	s[j-4] |= (ls >> 4) << 6
	s[j] |= (lm >> 4) << 6
}

func dequantQ4_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qkK; i++ {
		b := src[i*144 : i*144+144]
		d, dmin := fp16(b), fp16(b[2:])
		s, q := b[4:16], b[16:144]
		y := dst[i*qkK : i*qkK+qkK]
		for is := 0; is < 8; is += 2 {
			sc, m := scaleMinK4(is, s)
			d1, m1 := d*float32(sc), dmin*float32(m)
			sc, m = scaleMinK4(is+1, s)
			d2, m2 := d*float32(sc), dmin*float32(m)
			qq := q[16*is : 16*is+32]
			y0, y1 := y[32*is:32*is+32], y[32*is+32:32*is+64]
			for l := range qq {
				y0[l] = float32(d1*float32(qq[l]&0xf)) - m1
				y1[l] = float32(d2*float32(qq[l]>>4)) - m2
			}
		}
	}
}

func dequantQ5_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qkK; i++ {
		b := src[i*176 : i*176+176]
		d, dmin := fp16(b), fp16(b[2:])
		s, qh, ql := b[4:16], b[16:48], b[48:176]
		y := dst[i*qkK : i*qkK+qkK]
		for is := 0; is < 8; is += 2 {
			sc, m := scaleMinK4(is, s)
			d1, m1 := d*float32(sc), dmin*float32(m)
			sc, m = scaleMinK4(is+1, s)
			d2, m2 := d*float32(sc), dmin*float32(m)
			qq := ql[16*is : 16*is+32]
			hh := qh[:32]
			y0, y1 := y[32*is:32*is+32], y[32*is+32:32*is+64]
			// Sub-block is takes its fifth bit from bit is of qh, is+1 from
			// bit is+1 (shifts, not branches: the bits are random).
			for l := range qq {
				v0 := qq[l]&0xf | (hh[l]>>is&1)<<4
				v1 := qq[l]>>4 | (hh[l]>>(is+1)&1)<<4
				y0[l] = float32(d1*float32(v0)) - m1
				y1[l] = float32(d2*float32(v1)) - m2
			}
		}
	}
}

// quantK45 is the shared reference quantiser of Q4_K (nmax 15) and Q5_K
// (nmax 31): per 32-element sub-block a make_qkx2_quants fit weighted by
// rms+|x|, 6-bit scales and mins relative to the largest, then requantise
// with the rounded scales. It leaves the levels in L and fills d, dmin and
// the 12 scale bytes in b[0:16].
func quantK45(b []byte, x []float32, L *[qkK]uint8, nmax int32, rmin float32, nstep int) {
	var (
		Laux    [32]uint8
		weights [32]float32
		mins    [8]float32
		scales  [8]float32
	)
	var maxScale, maxMin float32
	for j := 0; j < 8; j++ {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		avX := sqrt32(sumX2 / 32)
		for l, v := range xs {
			weights[l] = avX + abs32(v)
		}
		scales[j], mins[j] = makeQKX2Quants(nmax, xs, weights[:], L[32*j:32*j+32], Laux[:], rmin, 0.1, nstep, false)
		maxScale = max32(maxScale, scales[j])
		maxMin = max32(maxMin, mins[j])
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	s := b[4:16]
	clear(s)
	for j := 0; j < 8; j++ {
		ls := min(63, byte(nearestInt(invScale*scales[j])))
		lm := min(63, byte(nearestInt(invMin*mins[j])))
		packScaleMinK4(s, j, ls, lm)
	}
	putFP16(b, maxScale/63)
	putFP16(b[2:], maxMin/63)
	dd, dmin := fp16(b), fp16(b[2:])
	for j := 0; j < 8; j++ {
		sc, m := scaleMinK4(j, s)
		d := dd * float32(sc)
		if d == 0 {
			continue
		}
		dm := dmin * float32(m)
		for ii := 0; ii < 32; ii++ {
			L[32*j+ii] = uint8(clampInt(nearestInt((x[32*j+ii]+dm)/d), 0, nmax))
		}
	}
}

func quantQ4_K(dst []byte, src []float32) {
	var L [qkK]uint8
	for i := 0; i < len(src)/qkK; i++ {
		x := src[i*qkK : i*qkK+qkK]
		b := dst[i*144 : i*144+144]
		quantK45(b, x, &L, 15, -1, 20)
		q := b[16:144]
		for j := 0; j < qkK; j += 64 {
			for l := 0; l < 32; l++ {
				q[j/2+l] = L[j+l] | L[j+l+32]<<4
			}
		}
	}
}

func quantQ5_K(dst []byte, src []float32) {
	var L [qkK]uint8
	for i := 0; i < len(src)/qkK; i++ {
		x := src[i*qkK : i*qkK+qkK]
		b := dst[i*176 : i*176+176]
		quantK45(b, x, &L, 31, -0.5, 15)
		qh, ql := b[16:48], b[48:176]
		clear(qh)
		m1, m2 := byte(1), byte(2)
		for n := 0; n < qkK; n += 64 {
			for j := 0; j < 32; j++ {
				l1, l2 := L[n+j], L[n+j+32]
				if l1 > 15 {
					l1 -= 16
					qh[j] |= m1
				}
				if l2 > 15 {
					l2 -= 16
					qh[j] |= m2
				}
				ql[n/2+j] = l1 | l2<<4
			}
			m1 <<= 2
			m2 <<= 2
		}
	}
}

func dequantQ6_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qkK; i++ {
		b := src[i*210 : i*210+210]
		ql, qh, sc := b[0:128], b[128:192], b[192:208]
		d := fp16(b[208:])
		y := dst[i*qkK : i*qkK+qkK]
		for n := 0; n < 2; n++ {
			l4, h4, s4, y4 := ql[64*n:64*n+64], qh[32*n:32*n+32], sc[8*n:8*n+8], y[128*n:128*n+128]
			for half := 0; half < 2; half++ {
				// ggml computes d*sc*q as (d*sc)*q; hoisting d*sc keeps that.
				d1 := d * float32(int8(s4[half]))
				d2 := d * float32(int8(s4[half+2]))
				d3 := d * float32(int8(s4[half+4]))
				d4 := d * float32(int8(s4[half+6]))
				for l := 16 * half; l < 16*half+16; l++ {
					lo, hi, h := l4[l], l4[l+32], h4[l]
					y4[l] = d1 * float32(int32(lo&0xf|(h&3)<<4)-32)
					y4[l+32] = d2 * float32(int32(hi&0xf|(h>>2&3)<<4)-32)
					y4[l+64] = d3 * float32(int32(lo>>4|(h>>4&3)<<4)-32)
					y4[l+96] = d4 * float32(int32(hi>>4|(h>>6)<<4)-32)
				}
			}
		}
	}
}

func quantQ6_K(dst []byte, src []float32) {
	var (
		L      [qkK]int8
		scales [16]float32
	)
	for i := 0; i < len(src)/qkK; i++ {
		x := src[i*qkK : i*qkK+qkK]
		b := dst[i*210 : i*210+210]
		var maxScale, maxAbs float32
		for ib := 0; ib < 16; ib++ {
			scales[ib] = makeQXQuants(32, x[16*ib:16*ib+16], L[16*ib:16*ib+16])
			if a := abs32(scales[ib]); a > maxAbs {
				maxAbs, maxScale = a, scales[ib]
			}
		}
		if maxAbs < groupMaxEps {
			clear(b)
			continue
		}
		iscale := -128 / maxScale
		putFP16(b[208:], 1/iscale)
		sc := b[192:208]
		for ib := range sc {
			sc[ib] = byte(int8(min(127, nearestInt(iscale*scales[ib]))))
		}
		dd := fp16(b[208:])
		for j := 0; j < 16; j++ {
			d := dd * float32(int8(sc[j]))
			if d == 0 {
				continue
			}
			for ii := 0; ii < 16; ii++ {
				L[16*j+ii] = int8(clampInt(nearestInt(x[16*j+ii]/d), -32, 31) + 32)
			}
		}
		ql, qh := b[0:128], b[128:192]
		for j := 0; j < qkK; j += 128 {
			for l := 0; l < 32; l++ {
				q1 := byte(L[j+l]) & 0xf
				q2 := byte(L[j+l+32]) & 0xf
				q3 := byte(L[j+l+64]) & 0xf
				q4 := byte(L[j+l+96]) & 0xf
				ql[j/2+l] = q1 | q3<<4
				ql[j/2+l+32] = q2 | q4<<4
				qh[j/4+l] = byte(L[j+l])>>4 | byte(L[j+l+32])>>4<<2 | byte(L[j+l+64])>>4<<4 | byte(L[j+l+96])>>4<<6
			}
		}
	}
}

func dequantQ8_K(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qkK; i++ {
		b := src[i*292 : i*292+292]
		d := math.Float32frombits(binary.LittleEndian.Uint32(b))
		qs := b[4:260]
		y := dst[i*qkK : i*qkK+qkK]
		for j := range y {
			y[j] = d * float32(int8(qs[j]))
		}
	}
}

func quantQ8_K(dst []byte, src []float32) {
	for i := 0; i < len(src)/qkK; i++ {
		x := src[i*qkK : i*qkK+qkK]
		b := dst[i*292 : i*292+292]
		maxv, amax := absMax(x)
		qs := b[4:260]
		if amax == 0 {
			// ggml leaves bsums unset here; zero them so output is deterministic.
			clear(b)
			continue
		}
		iscale := -127 / maxv
		for j, v := range x {
			qs[j] = byte(int8(min(127, nearestInt(iscale*v))))
		}
		for j := 0; j < 16; j++ {
			var sum int32
			for _, q := range qs[16*j : 16*j+16] {
				sum += int32(int8(q))
			}
			binary.LittleEndian.PutUint16(b[260+2*j:], uint16(int16(sum)))
		}
		binary.LittleEndian.PutUint32(b, math.Float32bits(1/iscale))
	}
}
