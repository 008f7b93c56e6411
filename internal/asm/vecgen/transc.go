//go:build avogen

package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The float32 tanh, log and erf loops. Their polynomial coefficients were
// fitted (weighted least squares iterated toward minimax, in float64) for
// exactly the evaluation order emitted here: Horner with separate
// multiply and add, no FMA, so that AVX2 machines without FMA agree. The
// 2 ulp bounds in the docs round up the worst errors against float64
// maths over every float32 input (measured once, exhaustively, outside
// the test suite): tanh 1.33 ulp, erf 1.20, log 1.30 (on the inputs it
// accepts). The package tests check the bounds on a 2^20-point sweep.

// width is one vector width: AVX2 (8 lanes) or AVX-512 (16 lanes).
type width struct {
	lanes  int
	suffix string // "" or "x16", appended to the function names
}

var (
	w256 = width{8, ""}
	w512 = width{16, "x16"}
)

func (w width) vec() VecVirtual {
	if w.lanes == 16 {
		return ZMM()
	}
	return YMM()
}

// consts holds the replicated float32 constants emitted so far, by bits.
var consts = map[uint32]Mem{}

// k returns a 64-byte read-only table holding f in every lane, usable as
// the memory operand of a 256- or 512-bit instruction.
func k(f float32) Mem {
	b := math.Float32bits(f)
	if m, ok := consts[b]; ok {
		return m
	}
	m := GLOBL(fmt.Sprintf("f32c%08x", b), RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(4*i, U32(b))
	}
	consts[b] = m
	return m
}

// ku is k for a raw 32-bit pattern.
func ku(b uint32) Mem { return k(math.Float32frombits(b)) }

// and, or: bitwise on either width (VPANDD/VPORD are AVX512F; the ps
// forms of 512-bit need DQ).
func (w width) and(a Op, b, d VecVirtual) {
	if w.lanes == 16 {
		VPANDD(a, b, d)
	} else {
		VPAND(a, b, d)
	}
}

func (w width) or(a Op, b, d VecVirtual) {
	if w.lanes == 16 {
		VPORD(a, b, d)
	} else {
		VPOR(a, b, d)
	}
}

// selectLT sets d to ifLT in the lanes where a < lim (false for NaN) and
// to other elsewhere.
func (w width) selectLT(a VecVirtual, lim Op, ifLT, other, d VecVirtual) {
	if w.lanes == 16 {
		m := K()
		VCMPPS(Imm(1), lim, a, m)
		VBLENDMPS(ifLT, other, m, d)
		return
	}
	m := YMM()
	VCMPPS(Imm(1), lim, a, m)
	VBLENDVPS(m, ifLT, other, d)
}

// horner sets acc to Σ c[j]·t^j, multiplying and adding separately.
func (w width) horner(c []float32, t, acc VecVirtual) {
	VMOVUPS(k(c[len(c)-1]), acc)
	for j := len(c) - 2; j >= 0; j-- {
		VMULPS(t, acc, acc)
		VADDPS(k(c[j]), acc, acc)
	}
}

// exp sets d to e^v for v in [-87, 88], as ExpF32 computes it (Cody–Waite
// reduction by ln 2, a degree-5 polynomial, 2^n built in the exponent);
// v is clobbered.
func (w width) exp(v, d VecVirtual) {
	fn, t := w.vec(), w.vec()
	VMULPS(k(1.44269504088896341), v, fn)
	if w.lanes == 16 {
		VRNDSCALEPS(Imm(0), fn, fn)
	} else {
		VROUNDPS(Imm(0), fn, fn)
	}
	VMULPS(k(0.693359375), fn, t)
	VSUBPS(t, v, v)
	VMULPS(k(-2.12194440e-4), fn, t)
	VSUBPS(t, v, v)
	w.horner([]float32{5.0000001201e-1, 1.6666665459e-1, 4.1665795894e-2, 8.3334519073e-3, 1.3981999507e-3, 1.9875691500e-4}, v, d)
	VMULPS(v, v, t)
	VMULPS(t, d, d)
	VADDPS(v, d, d)
	VADDPS(k(1), d, d)
	VCVTPS2DQ(fn, t)
	VPADDD(ku(127), t, t)
	VPSLLD(Imm(23), t, t)
	VMULPS(t, d, d)
}

// loop emits the loop over whole vectors of x into y; body computes one
// vector. It returns the count done.
func (w width) loop(name string, body func(x, y VecVirtual)) {
	p, n := args("y", "x")
	y, x := p[0], p[1]
	ANDQ(I32(int32(-w.lanes)), n)
	i := GP64()
	XORQ(i, i)
	Label(name + "loop")
	CMPQ(i, n)
	JGE(LabelRef(name + "done"))
	v, r := w.vec(), w.vec()
	VMOVUPS(Mem{Base: x, Index: i, Scale: 4}, v)
	body(v, r)
	VMOVUPS(r, Mem{Base: y, Index: i, Scale: 4})
	ADDQ(Imm(uint64(w.lanes)), i)
	JMP(LabelRef(name + "loop"))
	Label(name + "done")
	VZEROUPPER()
	Store(n, ReturnIndex(0))
	RET()
}

// Coefficients (see the file comment).
var (
	// tanh(a) = a + a·(z·P(z)), z = a², for a < tanhCut.
	tanhCut  = float32(0.625)
	tanhPoly = []float32{-0.3333333, 0.13333206, -0.053946722, 0.021700498, -0.008176921, 0.0021425502}
	// erf(a) = a + a·P(z), z = a², for a < erfCut.
	erfCut   = float32(0.875)
	erfSmall = []float32{0.12837917, -0.37612635, 0.11283733, -0.026861567, 0.0052067037, -0.0008210614, 8.673324e-05}
	// erf(a) = 1 - e^P(a) for erfCut <= a <= 4 (erfc(4) rounds 1-erfc to 1).
	erfLarge = []float32{0.00021174965, -1.1297379, -0.63277525, -0.10909592, 0.025828036, -0.004554491, 0.00056065054, -4.4184195e-05, 1.7981646e-06}
	// log(1+f) = (f - z/2) + f·z·P(f), z = f², for 1+f in [√½, √2).
	logPoly = []float32{0.3333333, -0.25000823, 0.20001227, -0.16623357, 0.14201763, -0.13160197, 0.12761542, -0.076344155}
)

// tanhF32 emits TanhF32 (and TanhF32x16): on a = |x|, the odd polynomial
// below tanhCut, 1 - 2/(e^{2a}+1) above with a capped at 10 (where the
// result rounds to 1), then x's sign. NaN propagates through both paths,
// ±Inf gives ±1, ±0 and subnormals come back unchanged.
func tanhF32(w width) {
	name := "TanhF32" + w.suffix
	TEXT(name, NOSPLIT, "func(y, x []float32) int")
	if w.lanes == 16 {
		Doc("TanhF32x16 is TanhF32 with AVX-512 (16-element blocks).")
	} else {
		Doc("TanhF32 computes y[i] = tanh(x[i]) (within 2 ulp) for the leading whole 8-element blocks and returns how many elements it computed.")
	}
	w.loop(name, func(x, y VecVirtual) {
		a, sign := w.vec(), w.vec()
		w.and(ku(0x7fffffff), x, a)
		w.and(ku(0x80000000), x, sign)
		// Small: a + a·(z·P(z)).
		z, p, small := w.vec(), w.vec(), w.vec()
		VMULPS(a, a, z)
		w.horner(tanhPoly, z, p)
		VMULPS(z, p, p)
		VMULPS(a, p, p)
		VADDPS(a, p, small)
		// Large: 1 - 2/(e^{2min(a,10)} + 1). VMINPS returns its first
		// operand here (a) when either is NaN.
		t, e := w.vec(), w.vec()
		VMOVUPS(k(10), t)
		VMINPS(a, t, t)
		VADDPS(t, t, t)
		w.exp(t, e)
		VADDPS(k(1), e, e)
		VMOVUPS(k(2), t)
		VDIVPS(e, t, t)
		VMOVUPS(k(1), e)
		VSUBPS(t, e, e)
		w.selectLT(a, k(tanhCut), small, e, y)
		w.or(sign, y, y)
	})
}

// erfF32 emits ErfF32 (and ErfF32x16): on a = |x|, a + a·P(a²) below
// erfCut, 1 - e^Q(a) above with a capped at 4, then x's sign.
func erfF32(w width) {
	name := "ErfF32" + w.suffix
	TEXT(name, NOSPLIT, "func(y, x []float32) int")
	if w.lanes == 16 {
		Doc("ErfF32x16 is ErfF32 with AVX-512 (16-element blocks).")
	} else {
		Doc("ErfF32 computes y[i] = erf(x[i]) (within 2 ulp) for the leading whole 8-element blocks and returns how many elements it computed.")
	}
	w.loop(name, func(x, y VecVirtual) {
		a, sign := w.vec(), w.vec()
		w.and(ku(0x7fffffff), x, a)
		w.and(ku(0x80000000), x, sign)
		z, small := w.vec(), w.vec()
		VMULPS(a, a, z)
		w.horner(erfSmall, z, small)
		VMULPS(a, small, small)
		VADDPS(a, small, small)
		// Large: the polynomial is only valid on [erfCut, 4]; clamping
		// below keeps the small lanes' unused exponent in range, and NaN
		// stays NaN (VMAXPS/VMINPS return their first operand on NaN).
		t, q, e := w.vec(), w.vec(), w.vec()
		VMOVUPS(k(erfCut), t)
		VMAXPS(a, t, t)
		VMOVUPS(k(4), q)
		VMINPS(t, q, t)
		w.horner(erfLarge, t, q)
		w.exp(q, e)
		VMOVUPS(k(1), t)
		VSUBPS(e, t, t)
		w.selectLT(a, k(erfCut), small, t, y)
		w.or(sign, y, y)
	})
}

// logF32 emits LogF32 (and LogF32x16): x = 2^k·m with m in [√½, √2),
// log x = k·ln2 + log m. It works on blocks whose lanes are all normal,
// positive and finite, stopping at the first block that is not (zero,
// negative, subnormal, +Inf, NaN), and returns how many elements it did;
// the caller finishes that block in Go.
func logF32(w width) {
	name := "LogF32" + w.suffix
	TEXT(name, NOSPLIT, "func(y, x []float32) int")
	if w.lanes == 16 {
		Doc("LogF32x16 is LogF32 with AVX-512 (16-element blocks).")
	} else {
		Doc("LogF32 computes y[i] = ln x[i] (within 2 ulp) for the leading 8-element blocks whose lanes are all normal, positive and finite, stopping at the first that is not, and returns how many elements it computed.")
	}
	p, n := args("y", "x")
	y, x := p[0], p[1]
	ANDQ(I32(int32(-w.lanes)), n)
	i := GP64()
	XORQ(i, i)
	Label(name + "loop")
	CMPQ(i, n)
	JGE(LabelRef(name + "done"))
	v := w.vec()
	VMOVUPS(Mem{Base: x, Index: i, Scale: 4}, v)
	mask := GP32()
	if w.lanes == 16 {
		ok1, ok2 := K(), K()
		VCMPPS(Imm(13), k(math.SmallestNonzeroFloat32*(1<<23)), v, ok1) // v >= FLT_MIN, false for NaN
		VCMPPS(Imm(2), k(math.MaxFloat32), v, ok2)                      // v <= FLT_MAX
		KANDW(ok1, ok2, ok1)
		KMOVW(ok1, mask)
		CMPL(mask, U32(0xffff))
	} else {
		ok1, ok2 := YMM(), YMM()
		VCMPPS(Imm(13), k(math.SmallestNonzeroFloat32*(1<<23)), v, ok1)
		VCMPPS(Imm(2), k(math.MaxFloat32), v, ok2)
		VANDPS(ok1, ok2, ok1)
		VMOVMSKPS(ok1, mask)
		CMPL(mask, U32(0xff))
	}
	JNE(LabelRef(name + "done"))
	// ix = bits - bits(√½); k = ix >> 23 (arithmetic); m = bits -
	// (ix & exponent mask) lies in [√½, √2) with the same mantissa.
	ix, kk, m := w.vec(), w.vec(), w.vec()
	VPSUBD(ku(0x3f3504f3), v, ix)
	VPSRAD(Imm(23), ix, kk)
	w.and(ku(0xff800000), ix, ix)
	VPSUBD(ix, v, m)
	VCVTDQ2PS(kk, kk)
	f, z, r, t := w.vec(), w.vec(), w.vec(), w.vec()
	VSUBPS(k(1), m, f) // exact: m is within a factor 2 of 1
	VMULPS(f, f, z)
	w.horner(logPoly, f, r)
	VMULPS(f, z, t)
	VMULPS(t, r, r)
	VMULPS(k(0.5), z, t)
	VSUBPS(t, f, f)
	VADDPS(r, f, f)
	// (k·ln2lo + r) + k·ln2hi; k·ln2hi is exact (ln2hi has 9 bits).
	VMULPS(k(-2.12194440e-4), kk, t)
	VADDPS(t, f, f)
	VMULPS(k(0.693359375), kk, t)
	VADDPS(t, f, f)
	VMOVUPS(f, Mem{Base: y, Index: i, Scale: 4})
	ADDQ(Imm(uint64(w.lanes)), i)
	JMP(LabelRef(name + "loop"))
	Label(name + "done")
	VZEROUPPER()
	Store(i, ReturnIndex(0))
	RET()
}

// transcF32 emits the tanh, erf and log loops at both widths.
func transcF32() {
	for _, w := range []width{w256, w512} {
		tanhF32(w)
		erfF32(w)
		logF32(w)
	}
}
