//go:build avogen

// Command fvmgen writes package fvm's interpreters with avo:
//
//	go generate ./internal/asm/fvm
//
// It writes one interpreter per instruction set (Run for AVX-512, sixteen
// 512-bit accumulators; Run2 for AVX2, eight 256-bit ones) and ops.go, the
// opcode numbers the Go side encodes, so the two cannot disagree.
package main

import (
	"flag"
	"fmt"
	"math"
	"os"
	"strings"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa is one instruction set: its vector width, how many accumulators a
// block holds, and the instructions that differ between the two.
type isa struct {
	name  string // TEXT symbol
	lanes int    // float32 lanes per vector
	vecs  int    // accumulators per block
	vec   func() VecVirtual
	xor   func(a Op, b, d VecVirtual)
	and   func(a Op, b, d VecVirtual)
	bcast func(r GPVirtual, d VecVirtual) // broadcast a 32-bit register
	table string                          // rodata symbol of the constants
	rep   int                             // lanes each constant is replicated to
}

func (s isa) block() int { return s.lanes * s.vecs }

var avx512 = isa{
	name: "Run", lanes: 16, vecs: 16, vec: func() VecVirtual { return ZMM() },
	xor:   func(a Op, b, d VecVirtual) { VPXORD(a, b, d) },
	and:   func(a Op, b, d VecVirtual) { VPANDD(a, b, d) },
	bcast: func(r GPVirtual, d VecVirtual) { VPBROADCASTD(r, d) },
	table: "fvmconsts", rep: 1, // read with embedded broadcast
}

var avx2 = isa{
	name: "Run2", lanes: 8, vecs: 8, vec: func() VecVirtual { return YMM() },
	xor: func(a Op, b, d VecVirtual) { VXORPS(a, b, d) },
	and: func(a Op, b, d VecVirtual) { VANDPS(a, b, d) },
	bcast: func(r GPVirtual, d VecVirtual) {
		MOVD(r, d.AsX())
		VBROADCASTSS(d.AsX(), d)
	},
	table: "fvmconsts8", rep: 8, // whole 256-bit operands
}

// env is what an operation's emitter may use: the instruction set, the
// accumulators, the memory operand of accumulator k, and the constants.
type env struct {
	isa
	acc             []VecVirtual
	mem             func(k int) Mem
	memh            func(k int) Mem // accumulator k's operand in a half stream
	zero, one, sign VecVirtual
	consts          Mem // base of the rodata table
	wide            bool
}

type opDef struct {
	name string
	doc  string
	emit func(e *env)
}

var ops = []opDef{
	{"Load", "acc = M", func(e *env) {
		for k, a := range e.acc {
			VMOVUPS(e.mem(k), a)
		}
	}},
	{"LoadF16", "acc = M widened from f16 (a half stream)", func(e *env) {
		for k, a := range e.acc {
			VCVTPH2PS(e.memh(k), a)
		}
	}},
	{"LoadBF16", "acc = M widened from bf16 (a half stream)", func(e *env) {
		for k, a := range e.acc {
			VPMOVZXWD(e.memh(k), a)
			VPSLLD(Imm(16), a, a)
		}
	}},
	{"Store", "M = acc", func(e *env) {
		for k, a := range e.acc {
			VMOVUPS(a, e.mem(k))
		}
	}},
	{"StoreNT", "M = acc with non-temporal stores (M 64-byte aligned)", func(e *env) {
		for k, a := range e.acc {
			VMOVNTPS(a, e.mem(k))
		}
	}},
	{"Add", "acc = acc + M", func(e *env) { each(e, func(k int, a VecVirtual) { VADDPS(e.mem(k), a, a) }) }},
	{"Sub", "acc = acc - M", func(e *env) { each(e, func(k int, a VecVirtual) { VSUBPS(e.mem(k), a, a) }) }},
	{"RSub", "acc = M - acc", func(e *env) {
		each(e, func(k int, a VecVirtual) {
			t := e.vec()
			VMOVUPS(e.mem(k), t)
			VSUBPS(a, t, a)
		})
	}},
	{"Mul", "acc = acc * M", func(e *env) { each(e, func(k int, a VecVirtual) { VMULPS(e.mem(k), a, a) }) }},
	{"Div", "acc = acc / M", func(e *env) { each(e, func(k int, a VecVirtual) { VDIVPS(e.mem(k), a, a) }) }},
	{"RDiv", "acc = M / acc", func(e *env) {
		each(e, func(k int, a VecVirtual) {
			t := e.vec()
			VMOVUPS(e.mem(k), t)
			VDIVPS(a, t, a)
		})
	}},
	// max(a, b) as the vector loops compute it: VMAX's result (b on NaN or
	// equal zeros), then a wherever a is NaN.
	{"Max", "acc = max(acc, M), a NaN in acc wins, then one in M", func(e *env) { minmax(e, VMAXPS, false) }},
	{"RMax", "acc = max(M, acc), a NaN in M wins, then one in acc", func(e *env) { minmax(e, VMAXPS, true) }},
	{"Min", "acc = min(acc, M), NaNs as Max", func(e *env) { minmax(e, VMINPS, false) }},
	{"RMin", "acc = min(M, acc), NaNs as RMax", func(e *env) { minmax(e, VMINPS, true) }},
	{"Neg", "acc = -acc", func(e *env) { each(e, func(_ int, a VecVirtual) { e.xor(e.sign, a, a) }) }},
	{"Abs", "acc = |acc|", func(e *env) {
		each(e, func(_ int, a VecVirtual) {
			if e.wide {
				t := e.vec()
				VPBROADCASTD(tab(e, "abs"), t)
				e.and(t, a, a)
				return
			}
			e.and(tab(e, "abs"), a, a)
		})
	}},
	{"Relu", "acc = max(0, acc), NaN passing through", func(e *env) {
		each(e, func(_ int, a VecVirtual) { VMAXPS(a, e.zero, a) })
	}},
	{"Sqrt", "acc = √acc", func(e *env) { each(e, func(_ int, a VecVirtual) { VSQRTPS(a, a) }) }},
	{"Rsqrt", "acc = 1/√acc (two correctly rounded steps)", func(e *env) {
		each(e, func(_ int, a VecVirtual) { VSQRTPS(a, a); VDIVPS(a, e.one, a) })
	}},
	{"Recip", "acc = 1/acc", func(e *env) { each(e, func(_ int, a VecVirtual) { VDIVPS(a, e.one, a) }) }},
	{"Exp", "acc = e^acc as vec.ExpF32; a block with a lane outside [-87, 88] or NaN ends the run", func(e *env) {
		exp(e)
	}},
	{"Sigmoid", "acc = 1/(1+e^-acc) with Exp's range", func(e *env) {
		each(e, func(_ int, a VecVirtual) { e.xor(e.sign, a, a) })
		exp(e)
		each(e, func(_ int, a VecVirtual) { VADDPS(e.one, a, a); VDIVPS(a, e.one, a) })
	}},
}

func each(e *env, f func(k int, a VecVirtual)) {
	for k, a := range e.acc {
		f(k, a)
	}
}

func minmax(e *env, ins func(...Op), rev bool) {
	each(e, func(k int, a VecVirtual) {
		if e.wide {
			kk := K()
			if !rev {
				// Only lanes where acc is a number take VMAX(acc, M).
				VCMPPS(Imm(7), a, a, kk) // ordered
				ins(e.mem(k), a, kk, a)
				return
			}
			t := ZMM()
			VMOVUPS(e.mem(k), t)
			ins(a, t, a)             // Intel max(M, acc): acc on NaN or equal zeros
			VCMPPS(Imm(3), t, t, kk) // M is NaN
			VBLENDMPS(t, a, kk, a)
			return
		}
		t, m := YMM(), YMM()
		if !rev {
			ins(e.mem(k), a, t)     // Intel max(acc, M): M on NaN or equal zeros
			VCMPPS(Imm(3), a, a, m) // acc is NaN
			VBLENDVPS(m, a, t, a)
			return
		}
		VMOVUPS(e.mem(k), t)
		ins(a, t, a) // Intel max(M, acc)
		VCMPPS(Imm(3), t, t, m)
		VBLENDVPS(m, t, a, a)
	})
}

// The rodata constants.
var table = []struct {
	name string
	bits uint32
}{
	{"lo", math.Float32bits(-87)},
	{"hi", math.Float32bits(88)},
	{"log2e", math.Float32bits(1.44269504088896341)},
	{"c1", math.Float32bits(0.693359375)},
	{"c2", math.Float32bits(-2.12194440e-4)},
	{"p0", math.Float32bits(1.9875691500e-4)},
	{"p1", math.Float32bits(1.3981999507e-3)},
	{"p2", math.Float32bits(8.3334519073e-3)},
	{"p3", math.Float32bits(4.1665795894e-2)},
	{"p4", math.Float32bits(1.6666665459e-1)},
	{"p5", math.Float32bits(5.0000001201e-1)},
	{"bias", 127},
	{"abs", 0x7fffffff},
}

func tab(e *env, name string) Mem {
	for i, c := range table {
		if c.name == name {
			m := e.consts
			m.Disp += 4 * e.rep * i
			return m
		}
	}
	panic(name)
}

// exp computes e^acc lane by lane with exactly vec.ExpF32's operations
// (so fused and unfused results agree to the bit), after checking that
// every lane of the block lies in [-87, 88]; otherwise it jumps to bail.
func exp(e *env) {
	if e.wide {
		all := K()
		for k, a := range e.acc {
			k1, k2 := K(), K()
			VCMPPS_BCST(Imm(13), tab(e, "lo"), a, k1) // a >= lo, false for NaN
			VCMPPS_BCST(Imm(2), tab(e, "hi"), a, k2)  // a <= hi
			if k == 0 {
				KANDW(k1, k2, all)
			} else {
				KANDW(k1, k2, k1)
				KANDW(k1, all, all)
			}
		}
		KORTESTW(all, all)
		JCC(LabelRef(e.name + "bail")) // not every lane in range: carry clear
	} else {
		all := YMM()
		for k, a := range e.acc {
			ok := YMM()
			VCMPPS(Imm(13), tab(e, "lo"), a, ok)
			if k == 0 {
				VCMPPS(Imm(2), tab(e, "hi"), a, all)
				VANDPS(ok, all, all)
				continue
			}
			VANDPS(ok, all, all)
			VCMPPS(Imm(2), tab(e, "hi"), a, ok)
			VANDPS(ok, all, all)
		}
		mask := GP32()
		VMOVMSKPS(all, mask)
		CMPL(mask, U32(0xff))
		JNE(LabelRef(e.name + "bail"))
	}
	for _, v := range e.acc {
		fn, t, p, z := e.vec(), e.vec(), e.vec(), e.vec()
		if e.wide {
			VMULPS_BCST(tab(e, "log2e"), v, fn)
			VRNDSCALEPS(Imm(0), fn, fn) // nearest even, as VROUNDPS $0
			VMULPS_BCST(tab(e, "c1"), fn, t)
			VSUBPS(t, v, v)
			VMULPS_BCST(tab(e, "c2"), fn, t)
			VSUBPS(t, v, v) // r
			VBROADCASTSS(tab(e, "p0"), p)
			for _, c := range []string{"p1", "p2", "p3", "p4", "p5"} {
				VMULPS(v, p, p)
				VADDPS_BCST(tab(e, c), p, p)
			}
		} else {
			VMULPS(tab(e, "log2e"), v, fn)
			VROUNDPS(Imm(0), fn, fn)
			VMULPS(tab(e, "c1"), fn, t)
			VSUBPS(t, v, v)
			VMULPS(tab(e, "c2"), fn, t)
			VSUBPS(t, v, v)
			VMOVUPS(tab(e, "p0"), p)
			for _, c := range []string{"p1", "p2", "p3", "p4", "p5"} {
				VMULPS(v, p, p)
				VADDPS(tab(e, c), p, p)
			}
		}
		VMULPS(v, v, z)
		VMULPS(z, p, p)
		VADDPS(v, p, p)
		VADDPS(e.one, p, p)
		ex := z // z is dead: 2^n goes in its register
		VCVTPS2DQ(fn, ex)
		if e.wide {
			VPADDD_BCST(tab(e, "bias"), ex, ex)
		} else {
			VPADDD(tab(e, "bias"), ex, ex)
		}
		VPSLLD(Imm(23), ex, ex)
		VMULPS(ex, p, v)
	}
}

func main() {
	opsOut := flag.String("ops", "ops.go", "Go file of opcode constants")
	flag.Parse()
	writeOps(*opsOut)

	ConstraintExpr("!noasm")
	for _, s := range []isa{avx512, avx2} {
		interpreter(s)
	}
	Generate()
}

// interpreter emits one instruction set's Run.
func interpreter(s isa) {
	consts := GLOBL(s.table, RODATA|NOPTR)
	for i, c := range table {
		for r := 0; r < s.rep; r++ {
			DATA(4*(s.rep*i+r), U32(c.bits))
		}
	}
	req := "AVX-512 F and BW"
	if s.lanes == 8 {
		req = "AVX2 and F16C"
	}
	TEXT(s.name, NOSPLIT, "func(prog []uint32, ptrs []uintptr, n int) int")
	Doc(fmt.Sprintf("%s (%s) executes prog over the leading whole %d-element blocks of n elements and returns how many elements it finished: all of them, or fewer when an Exp or Sigmoid met a block it does not handle (the caller finishes from there).", s.name, req, s.block()))
	pbase, plen := GP64(), GP64()
	Load(Param("prog").Base(), pbase)
	Load(Param("prog").Len(), plen)
	qbase := GP64()
	Load(Param("ptrs").Base(), qbase)
	end := GP64()
	Load(Param("n"), end)
	ANDQ(I32(int32(-s.block())), end)
	SHLQ(Imm(2), end) // bytes
	off := GP64()
	XORQ(off, off)

	e := &env{isa: s, wide: s.lanes == 16}
	cb := GP64()
	LEAQ(consts, cb)
	e.consts = Mem{Base: cb}
	e.zero, e.one, e.sign = s.vec(), s.vec(), s.vec()
	s.xor(e.zero, e.zero, e.zero)
	r := GP32()
	MOVL(U32(math.Float32bits(1)), r)
	s.bcast(r, e.one)
	MOVL(U32(0x80000000), r)
	s.bcast(r, e.sign)
	for k := 0; k < s.vecs; k++ {
		e.acc = append(e.acc, s.vec())
	}
	for _, a := range e.acc {
		s.xor(a, a, a) // defined on every path, for the allocator
	}

	l := func(name string) string { return s.name + name }
	Label(l("block"))
	CMPQ(off, end)
	JGE(LabelRef(l("done")))
	pc := GP64()
	XORQ(pc, pc)

	Label(l("instr"))
	CMPQ(pc, plen)
	JGE(LabelRef(l("next")))
	w := GP32()
	MOVL(Mem{Base: pbase, Index: pc, Scale: 4}, w)
	INCQ(pc)
	idx := GP32()
	MOVL(w, idx)
	SHRL(Imm(16), idx)
	addr := GP64()
	MOVQ(Mem{Base: qbase, Index: idx.As64(), Scale: 8}, addr)
	TESTL(U32(0x100), w)
	JZ(LabelRef(l("fixed")))
	TESTL(U32(0x200), w)
	JNZ(LabelRef(l("half")))
	ADDQ(off, addr) // a stream advances with the block
	JMP(LabelRef(l("fixed")))
	Label(l("half"))
	h := GP64()
	MOVQ(off, h)
	SHRQ(Imm(1), h) // two bytes an element
	ADDQ(h, addr)
	Label(l("fixed"))
	opc := GP32()
	MOVBLZX(w.As8(), opc)
	e.mem = func(k int) Mem { return Mem{Base: addr, Disp: 4 * s.lanes * k} }
	e.memh = func(k int) Mem { return Mem{Base: addr, Disp: 2 * s.lanes * k} }
	dispatch(s.name, opc, 1, len(ops))
	for i, o := range ops {
		Label(l("op" + o.name))
		Comment(fmt.Sprintf("%d: %s", i+1, o.doc))
		o.emit(e)
		JMP(LabelRef(l("instr")))
	}

	Label(l("next"))
	ADDQ(U32(4*s.block()), off)
	JMP(LabelRef(l("block")))

	Label(l("bail"))
	Label(l("done"))
	SFENCE() // order any non-temporal stores before the caller's
	VZEROUPPER()
	SHRQ(Imm(2), off)
	Store(off, ReturnIndex(0))
	RET()
}

var dispatchID int

// dispatch emits a binary search on opc over opcodes [lo, hi] that jumps
// to each operation's label; unknown codes fall to the last.
func dispatch(name string, opc GPVirtual, lo, hi int) {
	if lo == hi {
		JMP(LabelRef(name + "op" + ops[lo-1].name))
		return
	}
	mid := (lo + hi) / 2
	right := fmt.Sprintf("%sd%d", name, dispatchID)
	dispatchID++
	CMPL(opc, U32(mid))
	JA(LabelRef(right))
	dispatch(name, opc, lo, mid)
	Label(right)
	dispatch(name, opc, mid+1, hi)
}

func writeOps(path string) {
	var b strings.Builder
	b.WriteString("// Code generated by fvmgen. DO NOT EDIT.\n\npackage fvm\n\n")
	fmt.Fprintf(&b, "// Block and Block2 are the numbers of elements Run and Run2 compute per\n// block.\nconst (\n\tBlock  = %d\n\tBlock2 = %d\n)\n\n", avx512.block(), avx2.block())
	b.WriteString("// Opcodes of the instructions (the low byte of each word).\nconst (\n")
	for i, o := range ops {
		fmt.Fprintf(&b, "\t// %s: %s.\n\t%s = %d\n", o.name, o.doc, o.name, i+1)
	}
	b.WriteString(")\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
