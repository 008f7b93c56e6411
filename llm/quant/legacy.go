package quant

import (
	"encoding/binary"
	"math"
)

// The "legacy" 32-element block formats. Layouts (little-endian):
//
//	Q4_0: d f16 | qs[16] nibbles; x = (q-8)*d
//	Q4_1: d f16 | m f16 | qs[16]; x = q*d + m
//	Q5_0: d f16 | qh u32 | qs[16]; x = (q-16)*d, bit 4 of q in qh
//	Q5_1: d f16 | m f16 | qh u32 | qs[16]; x = q*d + m
//	Q8_0: d f16 | qs[32] int8; x = q*d
//	Q8_1: d f16 | s f16 (= d*sum(q)) | qs[32] int8; x = q*d
//
// Element j of a nibble block is in the low nibble of qs[j] for j < 16 and
// in the high nibble of qs[j-16] otherwise.
//
// Quantisers follow ggml's quantize_row_*_ref operation by operation in
// float32. Products that feed an addition are wrapped in float32() so the Go
// compiler may not fuse them into an FMA, which ggml's reference C does not
// do either.

const qk = 32

func dequantQ4_0(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk; i++ {
		b := src[i*18 : i*18+18]
		d := fp16(b)
		qs := b[2:18]
		y := dst[i*qk : i*qk+qk]
		for j := 0; j < 16; j++ {
			y[j] = float32(int32(qs[j]&0xf)-8) * d
			y[j+16] = float32(int32(qs[j]>>4)-8) * d
		}
	}
}

func dequantQ4_1(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk; i++ {
		b := src[i*20 : i*20+20]
		d, m := fp16(b), fp16(b[2:])
		qs := b[4:20]
		y := dst[i*qk : i*qk+qk]
		for j := 0; j < 16; j++ {
			y[j] = float32(float32(qs[j]&0xf)*d) + m
			y[j+16] = float32(float32(qs[j]>>4)*d) + m
		}
	}
}

func dequantQ5_0(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk; i++ {
		b := src[i*22 : i*22+22]
		d := fp16(b)
		qh := binary.LittleEndian.Uint32(b[2:])
		qs := b[6:22]
		y := dst[i*qk : i*qk+qk]
		for j := 0; j < 16; j++ {
			h0 := byte(qh>>j<<4) & 0x10
			h1 := byte(qh>>(j+12)) & 0x10
			y[j] = float32(int32(qs[j]&0xf|h0)-16) * d
			y[j+16] = float32(int32(qs[j]>>4|h1)-16) * d
		}
	}
}

func dequantQ5_1(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk; i++ {
		b := src[i*24 : i*24+24]
		d, m := fp16(b), fp16(b[2:])
		qh := binary.LittleEndian.Uint32(b[4:])
		qs := b[8:24]
		y := dst[i*qk : i*qk+qk]
		for j := 0; j < 16; j++ {
			h0 := byte(qh>>j<<4) & 0x10
			h1 := byte(qh>>(j+12)) & 0x10
			y[j] = float32(float32(qs[j]&0xf|h0)*d) + m
			y[j+16] = float32(float32(qs[j]>>4|h1)*d) + m
		}
	}
}

func dequantQ8_0(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk; i++ {
		b := src[i*34 : i*34+34]
		d := fp16(b)
		qs := b[2:34]
		y := dst[i*qk : i*qk+qk]
		for j := range y {
			y[j] = float32(int8(qs[j])) * d
		}
	}
}

func dequantQ8_1(dst []float32, src []byte) {
	for i := 0; i < len(dst)/qk; i++ {
		b := src[i*36 : i*36+36]
		d := fp16(b)
		qs := b[4:36]
		y := dst[i*qk : i*qk+qk]
		for j := range y {
			y[j] = float32(int8(qs[j])) * d
		}
	}
}

// absMax returns the element of largest magnitude (the first one on ties)
// and its magnitude, as ggml's "amax < fabsf(v)" scan does.
func absMax(x []float32) (maxv, amax float32) {
	for _, v := range x {
		if a := abs32(v); amax < a {
			amax, maxv = a, v
		}
	}
	return maxv, amax
}

// minMax returns the smallest and largest element, starting from ±FLT_MAX.
func minMax(x []float32) (lo, hi float32) {
	lo, hi = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	return lo, hi
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

// inv returns 1/d, or 0 for d == 0, as the reference quantisers do.
func inv(d float32) float32 {
	if d != 0 {
		return 1 / d
	}
	return 0
}

// truncClamp converts v toward zero like C's (int) cast and caps it at hi.
func truncClamp(v float32, hi int32) byte {
	return byte(min(hi, int32(v)))
}

func quantQ4_0(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk; i++ {
		x := src[i*qk : i*qk+qk]
		b := dst[i*18 : i*18+18]
		maxv, _ := absMax(x)
		d := maxv / -8
		id := inv(d)
		putFP16(b, d)
		for j := 0; j < 16; j++ {
			x0 := float32(x[j] * id)
			x1 := float32(x[j+16] * id)
			b[2+j] = truncClamp(x0+8.5, 15) | truncClamp(x1+8.5, 15)<<4
		}
	}
}

func quantQ4_1(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk; i++ {
		x := src[i*qk : i*qk+qk]
		b := dst[i*20 : i*20+20]
		lo, hi := minMax(x)
		d := (hi - lo) / 15
		id := inv(d)
		putFP16(b, d)
		putFP16(b[2:], lo)
		for j := 0; j < 16; j++ {
			x0 := float32((x[j] - lo) * id)
			x1 := float32((x[j+16] - lo) * id)
			b[4+j] = truncClamp(x0+0.5, 15) | truncClamp(x1+0.5, 15)<<4
		}
	}
}

func quantQ5_0(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk; i++ {
		x := src[i*qk : i*qk+qk]
		b := dst[i*22 : i*22+22]
		maxv, _ := absMax(x)
		d := maxv / -16
		id := inv(d)
		putFP16(b, d)
		var qh uint32
		for j := 0; j < 16; j++ {
			x0 := float32(x[j] * id)
			x1 := float32(x[j+16] * id)
			q0 := truncClamp(x0+16.5, 31)
			q1 := truncClamp(x1+16.5, 31)
			b[6+j] = q0&0xf | (q1&0xf)<<4
			qh |= uint32(q0>>4) << j
			qh |= uint32(q1>>4) << (j + 16)
		}
		binary.LittleEndian.PutUint32(b[2:], qh)
	}
}

func quantQ5_1(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk; i++ {
		x := src[i*qk : i*qk+qk]
		b := dst[i*24 : i*24+24]
		lo, hi := minMax(x)
		d := (hi - lo) / 31
		id := inv(d)
		putFP16(b, d)
		putFP16(b[2:], lo)
		var qh uint32
		for j := 0; j < 16; j++ {
			x0 := float32((x[j] - lo) * id)
			x1 := float32((x[j+16] - lo) * id)
			// No cap here: ggml's reference casts straight to uint8_t.
			q0 := byte(int32(x0 + 0.5))
			q1 := byte(int32(x1 + 0.5))
			b[8+j] = q0&0xf | (q1&0xf)<<4
			qh |= uint32(q0>>4&1) << j
			qh |= uint32(q1>>4&1) << (j + 16)
		}
		binary.LittleEndian.PutUint32(b[4:], qh)
	}
}

// roundAway rounds half away from zero, like C's roundf.
func roundAway(v float32) int8 {
	return int8(math.Round(float64(v)))
}

// q8Scale returns d = amax/127 and its inverse for a Q8_0/Q8_1 block.
func q8Scale(x []float32) (d, id float32) {
	var amax float32
	for _, v := range x {
		amax = max(amax, abs32(v))
	}
	d = amax / 127
	return d, inv(d)
}

func quantQ8_0(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk; i++ {
		x := src[i*qk : i*qk+qk]
		b := dst[i*34 : i*34+34]
		d, id := q8Scale(x)
		putFP16(b, d)
		for j, v := range x {
			b[2+j] = byte(roundAway(v * id))
		}
	}
}

func quantQ8_1(dst []byte, src []float32) {
	for i := 0; i < len(src)/qk; i++ {
		x := src[i*qk : i*qk+qk]
		b := dst[i*36 : i*36+36]
		d, id := q8Scale(x)
		putFP16(b, d)
		var sum int32
		for j, v := range x {
			q := roundAway(v * id)
			b[4+j] = byte(q)
			sum += int32(q)
		}
		putFP16(b[2:], float32(sum)*d)
	}
}
