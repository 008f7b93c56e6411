//go:build avogen

// Command vecgen writes the vectorised elementwise loops of package
// internal/asm/vec with avo:
//
//	go generate ./internal/asm/vec
//
// It is behind the avogen build tag so that ordinary builds never compile
// it.
package main

import (
	"fmt"
	"math"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// elem is one element type: its Go name, size, and the AVX instructions of
// each operation.
type elem struct {
	name  string // "F32" or "F64"
	gotyp string
	size  int
	add   func(a, b, c Op)
	sub   func(a, b, c Op)
	mul   func(a, b, c Op)
	div   func(a, b, c Op)
	max   func(a, b, c Op)
	min   func(a, b, c Op)
	cmp   func(imm, a, b, c Op)
	blend func(a, b, c, d Op)
	xor   func(a, b, c Op)
}

var f32 = elem{"F32", "float32", 4,
	func(a, b, c Op) { VADDPS(a, b, c) },
	func(a, b, c Op) { VSUBPS(a, b, c) },
	func(a, b, c Op) { VMULPS(a, b, c) },
	func(a, b, c Op) { VDIVPS(a, b, c) },
	func(a, b, c Op) { VMAXPS(a, b, c) },
	func(a, b, c Op) { VMINPS(a, b, c) },
	func(i, a, b, c Op) { VCMPPS(i, a, b, c) },
	func(a, b, c, d Op) { VBLENDVPS(a, b, c, d) },
	func(a, b, c Op) { VXORPS(a, b, c) },
}

var f64 = elem{"F64", "float64", 8,
	func(a, b, c Op) { VADDPD(a, b, c) },
	func(a, b, c Op) { VSUBPD(a, b, c) },
	func(a, b, c Op) { VMULPD(a, b, c) },
	func(a, b, c Op) { VDIVPD(a, b, c) },
	func(a, b, c Op) { VMAXPD(a, b, c) },
	func(a, b, c Op) { VMINPD(a, b, c) },
	func(i, a, b, c Op) { VCMPPD(i, a, b, c) },
	func(a, b, c, d Op) { VBLENDVPD(a, b, c, d) },
	func(a, b, c Op) { VXORPD(a, b, c) },
}

// unroll is the number of 32-byte vectors per loop iteration.
const unroll = 4

func main() {
	ConstraintExpr("!noasm") // select_other.go serves noasm builds
	for _, e := range []elem{f32, f64} {
		lanes := 32 / e.size
		for _, op := range []struct {
			name string
			emit func(e elem, dst, a, b VecVirtual)
			doc  string
		}{
			{"Add", func(e elem, d, a, b VecVirtual) { e.add(b, a, d) }, "y[i] = a[i] + b[i]"},
			{"Sub", func(e elem, d, a, b VecVirtual) { e.sub(b, a, d) }, "y[i] = a[i] - b[i]"},
			{"Mul", func(e elem, d, a, b VecVirtual) { e.mul(b, a, d) }, "y[i] = a[i] * b[i]"},
			{"Div", func(e elem, d, a, b VecVirtual) { e.div(b, a, d) }, "y[i] = a[i] / b[i]"},
			// VMAX returns its second source when either is NaN; blending a
			// back in where a is NaN makes a NaN in either operand win.
			{"Max", func(e elem, d, a, b VecVirtual) {
				e.max(b, a, d)
				m := YMM()
				e.cmp(Imm(3), a, a, m) // unordered: a is NaN
				e.blend(m, a, d, d)
			}, "y[i] = max(a[i], b[i]); a NaN in either wins"},
			{"Min", func(e elem, d, a, b VecVirtual) {
				e.min(b, a, d)
				m := YMM()
				e.cmp(Imm(3), a, a, m)
				e.blend(m, a, d, d)
			}, "y[i] = min(a[i], b[i]); a NaN in either wins"},
		} {
			binary(e, lanes, op.name, op.doc, op.emit)
		}
		unaryNeg(e, lanes)
		unaryRelu(e, lanes)
	}
	avx512F32()
	expF32()
	sumF32()
	sqrtF32()
	transcF32()
	whereF32()
	Generate()
}

// whereF32 emits WhereF32: y[i] = a[i] where c[i], else b[i], over whole
// 32-element blocks; the bools (bytes 0 or 1) become blend masks by a
// zero-extension and a shift of bit 0 into the sign bit.
func whereF32() {
	TEXT("WhereF32", NOSPLIT, "func(y, a, b []float32, c []bool) int")
	Doc("WhereF32 computes y[i] = a[i] if c[i] else b[i] for the leading whole 32-element blocks and returns how many elements it computed.")
	p, n := args("y", "a", "b")
	y, a, b := p[0], p[1], p[2]
	c := GP64()
	Load(Param("c").Base(), c)
	blocks(f32, 8, n, func(off int, i GPVirtual) {
		m, vb, d := YMM(), YMM(), YMM()
		VPMOVZXBD(Mem{Base: c, Index: i, Scale: 1, Disp: off / 4}, m)
		VPSLLD(Imm(31), m, m)
		VMOVUPS(Mem{Base: b, Index: i, Scale: 4, Disp: off}, vb)
		VBLENDVPS(m, Mem{Base: a, Index: i, Scale: 4, Disp: off}, vb, d) // a where the sign bit is set
		VMOVUPS(d, Mem{Base: y, Index: i, Scale: 4, Disp: off})
	})
}

// binary emits func <Op><T>(y, a, b []T) over min(len(y), len(a), len(b))
// rounded down to whole vectors; it returns how many elements it did.
func binary(e elem, lanes int, name, doc string, emit func(e elem, d, a, b VecVirtual)) {
	TEXT(name+e.name, NOSPLIT, fmt.Sprintf("func(y, a, b []%s) int", e.gotyp))
	Doc(fmt.Sprintf("%s%s computes %s for the leading whole %d-element blocks and returns how many elements it computed.", name, e.name, doc, lanes*unroll))
	p, n := args("y", "a", "b")
	y, a, b := p[0], p[1], p[2]
	blocks(e, lanes, n, func(off int, i GPVirtual) {
		va, vb, vd := YMM(), YMM(), YMM()
		VMOVUPS(Mem{Base: a, Index: i, Scale: byte(e.size), Disp: off}, va)
		VMOVUPS(Mem{Base: b, Index: i, Scale: byte(e.size), Disp: off}, vb)
		emit(e, vd, va, vb)
		VMOVUPS(vd, Mem{Base: y, Index: i, Scale: byte(e.size), Disp: off})
	})
}

// blocks emits the loop over whole blocks of unroll vectors of lanes
// elements each (a vector is 32 bytes for AVX2, 64 for AVX-512) and
// returns the count done (stored after the slice headers).
func blocks(e elem, lanes int, n GPVirtual, body func(off int, i GPVirtual)) {
	loopBlocks(lanes*unroll, lanes*e.size, n, body)
}

func loopBlocks(step, vecBytes int, n GPVirtual, body func(off int, i GPVirtual)) {
	ANDQ(I32(int32(-step)), n)
	i := GP64()
	XORQ(i, i)
	Label("loop" + fmt.Sprint(labelID))
	CMPQ(i, n)
	JGE(LabelRef("done" + fmt.Sprint(labelID)))
	for u := 0; u < unroll; u++ {
		body(u*vecBytes, i)
	}
	ADDQ(Imm(uint64(step)), i)
	JMP(LabelRef("loop" + fmt.Sprint(labelID)))
	Label("done" + fmt.Sprint(labelID))
	VZEROUPPER()
	Store(n, ReturnIndex(0))
	RET()
	labelID++
}

// args loads the base pointers of the named slice parameters and the
// length of the first.
func args(names ...string) (bases []GPVirtual, n GPVirtual) {
	for _, name := range names {
		r := GP64()
		Load(Param(name).Base(), r)
		bases = append(bases, r)
	}
	n = GP64()
	Load(Param(names[0]).Len(), n)
	return bases, n
}

var labelID int

func unaryNeg(e elem, lanes int) {
	TEXT("Neg"+e.name, NOSPLIT, fmt.Sprintf("func(y, x []%s) int", e.gotyp))
	Doc(fmt.Sprintf("Neg%s computes y[i] = -x[i] for the leading whole %d-element blocks and returns how many elements it computed.", e.name, lanes*unroll))
	p, n := args("y", "x")
	y, x := p[0], p[1]
	sign := YMM()
	// -0.0 has only the sign bit set.
	zero := GP64()
	if e.size == 4 {
		MOVL(U32(0x80000000), zero.As32())
		MOVQ(zero, sign.AsX())
		VBROADCASTSS(sign.AsX(), sign)
	} else {
		MOVQ(U64(0x8000000000000000), zero)
		MOVQ(zero, sign.AsX())
		VBROADCASTSD(sign.AsX(), sign)
	}
	blocks(e, lanes, n, func(off int, i GPVirtual) {
		v := YMM()
		VMOVUPS(Mem{Base: x, Index: i, Scale: byte(e.size), Disp: off}, v)
		e.xor(sign, v, v)
		VMOVUPS(v, Mem{Base: y, Index: i, Scale: byte(e.size), Disp: off})
	})
}

func unaryRelu(e elem, lanes int) {
	TEXT("Relu"+e.name, NOSPLIT, fmt.Sprintf("func(y, x []%s) int", e.gotyp))
	Doc(fmt.Sprintf("Relu%s computes y[i] = max(x[i], 0), passing NaN through, for the leading whole %d-element blocks and returns how many elements it computed.", e.name, lanes*unroll))
	p, n := args("y", "x")
	y, x := p[0], p[1]
	z := YMM()
	VXORPS(z, z, z)
	blocks(e, lanes, n, func(off int, i GPVirtual) {
		v, d := YMM(), YMM()
		VMOVUPS(Mem{Base: x, Index: i, Scale: byte(e.size), Disp: off}, v)
		// MAX(0, x) returns its second source, x, when x is NaN, and
		// keeps 0 only where 0 > x.
		e.max(v, z, d)
		VMOVUPS(d, Mem{Base: y, Index: i, Scale: byte(e.size), Disp: off})
	})
}

// bcast returns a vector holding f in every float32 lane.
func bcast(f float32) VecVirtual {
	r, v := GP32(), YMM()
	MOVL(U32(math.Float32bits(f)), r)
	MOVD(r, v.AsX())
	VBROADCASTSS(v.AsX(), v)
	return v
}

// expF32 emits ExpF32: e^x eight lanes at a time with Cody–Waite range
// reduction (x = n·ln2 + r, |r| <= ln2/2) and a degree-5 polynomial for
// e^r, then 2^n built in the exponent bits. It stops at the first block
// with a lane outside [-87, 88] or a NaN, where 2^n would leave the normal
// range, and returns how many elements it did; the caller finishes in Go.
func expF32() {
	TEXT("ExpF32", NOSPLIT, "func(y, x []float32) int")
	Doc("ExpF32 computes y[i] = e^x[i] (within 2 ulp) for the leading 8-element blocks whose lanes all lie in [-87, 88], stopping at the first that does not, and returns how many elements it computed.")
	ptr, n := args("y", "x")
	y, x := ptr[0], ptr[1]
	ANDQ(I32(-8), n)
	lo, hi := bcast(-87), bcast(88)
	log2e := bcast(1.44269504088896341)
	c1, c2 := bcast(0.693359375), bcast(-2.12194440e-4)
	p := []VecVirtual{bcast(1.9875691500e-4), bcast(1.3981999507e-3), bcast(8.3334519073e-3), bcast(4.1665795894e-2), bcast(1.6666665459e-1), bcast(5.0000001201e-1)}
	one := bcast(1)
	bias := YMM()
	b := GP32()
	MOVL(U32(127), b)
	MOVD(b, bias.AsX())
	VPBROADCASTD(bias.AsX(), bias)
	i := GP64()
	XORQ(i, i)
	Label("exploop")
	CMPQ(i, n)
	JGE(LabelRef("expdone"))
	v := YMM()
	VMOVUPS(Mem{Base: x, Index: i, Scale: 4}, v)
	ok1, ok2 := YMM(), YMM()
	VCMPPS(Imm(13), lo, v, ok1) // v >= lo, false for NaN
	VCMPPS(Imm(2), hi, v, ok2)  // v <= hi
	VANDPS(ok1, ok2, ok1)
	mask := GP32()
	VMOVMSKPS(ok1, mask)
	CMPL(mask, U32(0xff))
	JNE(LabelRef("expdone"))
	fn := YMM()
	VMULPS(log2e, v, fn)
	VROUNDPS(Imm(0), fn, fn) // nearest
	t := YMM()
	VMULPS(c1, fn, t)
	VSUBPS(t, v, v)
	VMULPS(c2, fn, t)
	VSUBPS(t, v, v) // r
	acc := YMM()
	VMOVUPS(p[0], acc)
	for _, c := range p[1:] {
		VMULPS(v, acc, acc)
		VADDPS(c, acc, acc)
	}
	z := YMM()
	VMULPS(v, v, z)
	VMULPS(z, acc, acc)
	VADDPS(v, acc, acc)
	VADDPS(one, acc, acc)
	e := YMM()
	VCVTPS2DQ(fn, e)
	VPADDD(bias, e, e)
	VPSLLD(Imm(23), e, e)
	VMULPS(e, acc, acc)
	VMOVUPS(acc, Mem{Base: y, Index: i, Scale: 4})
	ADDQ(Imm(8), i)
	JMP(LabelRef("exploop"))
	Label("expdone")
	VZEROUPPER()
	Store(i, ReturnIndex(0))
	RET()
}

// sumF32 emits SumF32: the sum of the leading 16-element blocks of x,
// widened to float64 lane by lane (VCVTPS2PD) so long rows keep f64
// accuracy; it returns the sum and how many elements it added.
func sumF32() {
	TEXT("SumF32", NOSPLIT, "func(x []float32) (float64, int)")
	Doc("SumF32 adds the leading whole 16-element blocks of x in float64 and returns the sum and how many elements it added.")
	x := GP64()
	Load(Param("x").Base(), x)
	n := GP64()
	Load(Param("x").Len(), n)
	ANDQ(I32(-16), n)
	a := []VecVirtual{YMM(), YMM(), YMM(), YMM()}
	for _, r := range a {
		VXORPD(r, r, r)
	}
	i := GP64()
	XORQ(i, i)
	Label("sumloop")
	CMPQ(i, n)
	JGE(LabelRef("sumdone"))
	for k, r := range a {
		w := YMM()
		VCVTPS2PD(Mem{Base: x, Index: i, Scale: 4, Disp: 16 * k}, w)
		VADDPD(w, r, r)
	}
	ADDQ(Imm(16), i)
	JMP(LabelRef("sumloop"))
	Label("sumdone")
	VADDPD(a[1], a[0], a[0])
	VADDPD(a[3], a[2], a[2])
	VADDPD(a[2], a[0], a[0])
	hi := XMM()
	VEXTRACTF128(Imm(1), a[0], hi)
	VADDPD(hi, a[0].AsX(), hi)
	VHADDPD(hi, hi, hi)
	VZEROUPPER()
	Store(hi, ReturnIndex(0))
	Store(n, ReturnIndex(1))
	RET()
}

// sqrtF32 emits SqrtF32 over whole 32-element blocks.
func sqrtF32() {
	TEXT("SqrtF32", NOSPLIT, "func(y, x []float32) int")
	Doc("SqrtF32 computes y[i] = √x[i] (correctly rounded) for the leading whole 32-element blocks and returns how many elements it computed.")
	p, n := args("y", "x")
	y, x := p[0], p[1]
	blocks(f32, 8, n, func(off int, i GPVirtual) {
		v := YMM()
		VSQRTPS(Mem{Base: x, Index: i, Scale: 4, Disp: off}, v)
		VMOVUPS(v, Mem{Base: y, Index: i, Scale: 4, Disp: off})
	})
}

// avx512F32 emits the float32 binary loops and neg/relu again with 512-bit
// vectors (16 lanes, four per block of 64): <Op>F32x16.
func avx512F32() {
	ops := []struct {
		name string
		emit func(d, a, b VecVirtual)
	}{
		{"Add", func(d, a, b VecVirtual) { VADDPS(b, a, d) }},
		{"Sub", func(d, a, b VecVirtual) { VSUBPS(b, a, d) }},
		{"Mul", func(d, a, b VecVirtual) { VMULPS(b, a, d) }},
		{"Div", func(d, a, b VecVirtual) { VDIVPS(b, a, d) }},
		{"Max", func(d, a, b VecVirtual) { VMAXPS(b, a, d); nanWins(d, a) }},
		{"Min", func(d, a, b VecVirtual) { VMINPS(b, a, d); nanWins(d, a) }},
	}
	for _, o := range ops {
		TEXT(o.name+"F32x16", NOSPLIT, "func(y, a, b []float32) int")
		Doc(fmt.Sprintf("%sF32x16 is %sF32 with AVX-512 (64-element blocks).", o.name, o.name))
		p, n := args("y", "a", "b")
		y, a, b := p[0], p[1], p[2]
		blocks512(n, func(off int, i GPVirtual) {
			va, vb, vd := ZMM(), ZMM(), ZMM()
			VMOVUPS(Mem{Base: a, Index: i, Scale: 4, Disp: off}, va)
			VMOVUPS(Mem{Base: b, Index: i, Scale: 4, Disp: off}, vb)
			o.emit(vd, va, vb)
			VMOVUPS(vd, Mem{Base: y, Index: i, Scale: 4, Disp: off})
		})
	}
	for _, name := range []string{"Neg", "Relu"} {
		TEXT(name+"F32x16", NOSPLIT, "func(y, x []float32) int")
		Doc(fmt.Sprintf("%sF32x16 is %sF32 with AVX-512 (64-element blocks).", name, name))
		p, n := args("y", "x")
		y, x := p[0], p[1]
		c := ZMM()
		if name == "Neg" {
			r := GP32()
			MOVL(U32(0x80000000), r)
			VPBROADCASTD(r, c)
		} else {
			VPXORD(c, c, c)
		}
		blocks512(n, func(off int, i GPVirtual) {
			v, d := ZMM(), ZMM()
			VMOVUPS(Mem{Base: x, Index: i, Scale: 4, Disp: off}, v)
			if name == "Neg" {
				VPXORD(c, v, d)
			} else {
				VMAXPS(v, c, d) // MAX(0, x): x when x is NaN
			}
			VMOVUPS(d, Mem{Base: y, Index: i, Scale: 4, Disp: off})
		})
	}
}

// nanWins replaces the lanes of d where a is NaN with a (VMAX/VMIN return
// their second source on NaN, which is b).
func nanWins(d, a VecVirtual) {
	k := K()
	VCMPPS(Imm(3), a, a, k)
	VBLENDMPS(a, d, k, d)
}

// blocks512 is blocks for 64-float32 blocks of four 512-bit vectors.
func blocks512(n GPVirtual, body func(off int, i GPVirtual)) { loopBlocks(64, 64, n, body) }
