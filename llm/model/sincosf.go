package model

import "math"

// sincosf returns float32 sin(y) and cos(y) as glibc's sincosf computes
// them (its single-precision routine from Arm's optimized-routines), which
// ggml's CPU rope calls: a double-precision polynomial after a one-step
// reduction by π/2 below 120, or an exact fixed-point reduction with 192
// bits of 4/π above. Its results are within 0.56 ulp but not always the
// correctly rounded ones (about 1.4% of arguments differ in the last bit
// from float32(math.Sin)), and an ulp in a RoPE angle's sine moves the
// rotated value by one too. glibc's x86-64 build that has FMA contracts
// the multiply-adds; on the arguments checked the results are the same
// either way.
func sincosf(y float32) (sin, cos float32) {
	x := float64(y)
	p := &sincosfPoly[0]
	switch a := abstop12(y); {
	case a < abstop12(math.Pi/4):
		if a < abstop12(0x1p-12) {
			return y, 1
		}
		return p.eval(x, x*x, 0)
	case a < abstop12(120):
		// n = round(x·2/π), taken from x·2^24·2/π with integer arithmetic.
		n := (int32(x*0x1.45f306dc9c883p+23) + 0x800000) >> 24
		x = math.FMA(-float64(n), 0x1.921fb54442d18p0, x)
		if n&2 != 0 {
			p = &sincosfPoly[1]
		}
		return p.eval(x*quadrantSign[n&3], x*x, int(n))
	case a < abstop12(float32(math.Inf(1))):
		bits := math.Float32bits(y)
		neg := int(bits >> 31)
		// 4/π bits aligned to the exponent: the product's top two bits
		// after the binary point give the quadrant, the rest r·2^62.
		t := sincosfInvPio4[(bits>>26)&15:]
		m := (bits&0xffffff | 0x800000) << ((bits >> 23) & 7)
		lo := uint64(m * t[0])
		mid := uint64(m) * uint64(t[4])
		hi := uint64(m) * uint64(t[8])
		r := (hi>>32 | lo<<32) + mid
		n := (r + 1<<61) >> 62
		r -= n << 62
		x = float64(int64(r)) * 0x1.921fb54442d18p-62 // π·2^-64
		q := int(n) + neg
		if q&2 != 0 {
			p = &sincosfPoly[1]
		}
		return p.eval(x*quadrantSign[q&3], x*x, int(n))
	default:
		nan := y - y
		return nan, nan
	}
}

// abstop12 is the exponent (and top mantissa bit) field of |f|, the
// routine's range test.
func abstop12(f float32) uint32 { return math.Float32bits(f) >> 20 & 0x7ff }

var quadrantSign = [4]float64{1, -1, -1, 1}

// sincosfCoeffs are the minimax polynomials for sin and cos on [-π/4, π/4];
// the second set yields -cos, for quadrants 2 and 3.
type sincosfCoeffs struct{ c0, c1, c2, c3, c4, s1, s2, s3 float64 }

var sincosfPoly = [2]sincosfCoeffs{
	{0x1p0, -0x1.ffffffd0c621cp-2, 0x1.55553e1068f19p-5, -0x1.6c087e89a359dp-10, 0x1.99343027bf8c3p-16,
		-0x1.555545995a603p-3, 0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13},
	{-0x1p0, 0x1.ffffffd0c621cp-2, -0x1.55553e1068f19p-5, 0x1.6c087e89a359dp-10, -0x1.99343027bf8c3p-16,
		-0x1.555545995a603p-3, 0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13},
}

// sincosfInvPio4 holds 4/π to 192 bits, eight new bits per word.
var sincosfInvPio4 = [24]uint32{
	0xa2, 0xa2f9, 0xa2f983, 0xa2f9836e, 0xf9836e4e, 0x836e4e44, 0x6e4e4415, 0x4e441529,
	0x441529fc, 0x1529fc27, 0x29fc2757, 0xfc2757d1, 0x2757d1f5, 0x57d1f534, 0xd1f534dd, 0xf534ddc0,
	0x34ddc0db, 0xddc0db62, 0xc0db6295, 0xdb629599, 0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041,
}

// eval evaluates both polynomials at the reduced x (x2 = x²) and swaps
// them for odd quadrants n.
func (p *sincosfCoeffs) eval(x, x2 float64, n int) (sin, cos float32) {
	x3, x4 := x2*x, x2*x2
	s := math.FMA(x3, p.s1, x)
	s1 := math.FMA(x2, p.s3, p.s2)
	c := math.FMA(x4, p.c2, math.FMA(x2, p.c1, p.c0))
	c2 := math.FMA(x2, p.c4, p.c3)
	sv := float32(math.FMA(x3*x2, s1, s))
	cv := float32(math.FMA(x4*x2, c2, c))
	if n&1 != 0 {
		return cv, sv
	}
	return sv, cv
}
