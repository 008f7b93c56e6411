package quant

import "encoding/binary"

// IQ4_NL and IQ4_XS store 4-bit indices into a fixed non-linear table of
// 16 levels. Layouts (little-endian):
//
//	IQ4_NL: d f16 | qs[16]; 32 elements, x = d*kvalues[q]
//	IQ4_XS: d f16 | scales_h u16 | scales_l[4] | qs[128]; 256 elements in
//	        8 sub-blocks with 6-bit scales ls, x = d*(ls-32)*kvalues[q]
//
// Nibbles are ordered as in Q4_0: low nibbles first, then high nibbles.

// iq4Values is ggml's kvalues_iq4nl.
var iq4Values = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

func dequantIQ4_NL(dst []float32, src []byte) {
	for i := 0; i < len(dst)/32; i++ {
		b := src[i*18 : i*18+18]
		d := fp16(b)
		qs := b[2:18]
		y := dst[i*32 : i*32+32]
		for j := 0; j < 16; j++ {
			y[j] = d * float32(iq4Values[qs[j]&0xf])
			y[j+16] = d * float32(iq4Values[qs[j]>>4])
		}
	}
}

func dequantIQ4_XS(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qkK; i++ {
		b := src[i*136 : i*136+136]
		d := fp16(b)
		sh := binary.LittleEndian.Uint16(b[2:])
		sl := b[4:8]
		qs := b[8:136]
		y := dst[i*qkK : i*qkK+qkK]
		for ib := 0; ib < 8; ib++ {
			ls := int32(sl[ib/2]>>(4*(ib%2))&0xf) | int32(sh>>(2*ib)&3)<<4
			dl := d * float32(ls-32)
			q := qs[16*ib : 16*ib+16]
			yy := y[32*ib : 32*ib+32]
			for j := 0; j < 16; j++ {
				yy[j] = dl * float32(iq4Values[q[j]&0xf])
				yy[j+16] = dl * float32(iq4Values[q[j]>>4])
			}
		}
	}
}

// bestIndexIQ4 returns the index of the table level nearest x (ggml's
// best_index_int8; a tie goes to the upper level).
func bestIndexIQ4(x float32) uint8 {
	if x <= float32(iq4Values[0]) {
		return 0
	}
	if x >= float32(iq4Values[15]) {
		return 15
	}
	ml, mu := 0, 15
	for mu-ml > 1 {
		mav := (ml + mu) / 2
		if x < float32(iq4Values[mav]) {
			mu = mav
		} else {
			ml = mav
		}
	}
	if x-float32(iq4Values[mu-1]) < float32(iq4Values[mu])-x {
		return uint8(mu - 1)
	}
	return uint8(mu)
}

// iq4ntry is the scale search width llama-quantize uses for IQ4_NL and
// IQ4_XS (quantize_iq4_nl / quantize_iq4_xs without an importance matrix).
const iq4ntry = 7

// quantIQ4Block is ggml's quantize_row_iq4_nl_impl without importance
// weights, for one super-block x of 32 (IQ4_NL) or 256 (IQ4_XS) elements.
// Each 32-element sub-block gets an x²-weighted least-squares scale from
// 2*ntry+1 candidates; IQ4_XS then stores those scales in 6 bits relative
// to d and re-picks the levels with the rounded scales. It fills q4
// (len(x)/2 bytes) and, for IQ4_XS, the packed scales, and returns the
// super-block scale d, which the caller stores as f16.
func quantIQ4Block(x []float32, q4 []byte, scalesH *uint16, scalesL []byte) float32 {
	var (
		L      [qkK]uint8
		weight [32]float32
		scales [8]float32
	)
	L2 := L[:len(x)]
	nb := len(x) / 32
	clear(q4)
	var maxScale, amaxScale float32
	for ib := 0; ib < nb; ib++ {
		xb := x[32*ib : 32*ib+32]
		Lb := L2[32*ib : 32*ib+32]
		for j, v := range xb {
			weight[j] = v * v
		}
		maxv, amax := absMax(xb)
		if amax < groupMaxEps {
			scales[ib] = 0
			continue
		}
		d := -maxv / float32(iq4Values[0])
		id := 1 / d
		var sumqx, sumq2 float32
		for j, v := range xb {
			l := bestIndexIQ4(id * v)
			Lb[j] = l
			q := float32(iq4Values[l])
			w := weight[j]
			sumqx += float32(float32(w*q) * v)
			sumq2 += float32(float32(w*q) * q)
		}
		d = sumqx / sumq2
		best := d * sumqx
		for itry := -iq4ntry; itry <= iq4ntry; itry++ {
			id = float32(itry+int(iq4Values[0])) / maxv
			sumqx, sumq2 = 0, 0
			for j, v := range xb {
				q := float32(iq4Values[bestIndexIQ4(id*v)])
				w := weight[j]
				sumqx += float32(float32(w*q) * v)
				sumq2 += float32(float32(w*q) * q)
			}
			if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
				d = sumqx / sumq2
				best = d * sumqx
			}
		}
		scales[ib] = d
		if a := abs32(d); a > amaxScale {
			amaxScale, maxScale = a, d
		}
	}
	var dh float32
	if nb > 1 {
		*scalesH = 0
		d := -maxScale / 32
		dh = d
		id := inv(d)
		for ib := 0; ib < nb; ib++ {
			l := clampInt(nearestInt(id*scales[ib]), -32, 31)
			dl := d * float32(l)
			idl := inv(dl)
			xb := x[32*ib : 32*ib+32]
			for j, v := range xb {
				L2[32*ib+j] = bestIndexIQ4(idl * v)
			}
			l += 32
			if ib%2 == 0 {
				scalesL[ib/2] = byte(l & 0xf)
			} else {
				scalesL[ib/2] |= byte(l&0xf) << 4
			}
			*scalesH |= uint16(l>>4) << (2 * (ib % 8))
		}
	} else {
		dh = scales[0]
		id := inv(scales[0])
		for j, v := range x {
			L2[j] = bestIndexIQ4(id * v)
		}
	}
	for i := 0; i < len(x)/32; i++ {
		for j := 0; j < 16; j++ {
			q4[16*i+j] = L2[32*i+j] | L2[32*i+16+j]<<4
		}
	}
	return dh
}

func quantIQ4_NL(dst []byte, src []float32) {
	var unusedH uint16
	for i := 0; i < len(src)/32; i++ {
		b := dst[i*18 : i*18+18]
		putFP16(b, quantIQ4Block(src[i*32:i*32+32], b[2:18], &unusedH, nil))
	}
}

func quantIQ4_XS(dst []byte, src []float32) {
	for i := 0; i < len(src)/qkK; i++ {
		b := dst[i*136 : i*136+136]
		var sh uint16
		d := quantIQ4Block(src[i*qkK:i*qkK+qkK], b[8:136], &sh, b[4:8])
		putFP16(b, d)
		binary.LittleEndian.PutUint16(b[2:], sh)
	}
}
