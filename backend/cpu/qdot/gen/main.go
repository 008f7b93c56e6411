//go:build avogen

// Command gen writes qdot's amd64 assembly with avo. Run it through
// `go generate` in the parent directory; the avogen tag keeps it (and avo)
// out of normal builds.
//
// Every kernel dots one weight row with one prepared activation row and
// returns the float32 sum (the rows forms do so for consecutive weight
// rows; the tile kernels, q40Tile and after, for each pair of weight row
// and activation row of a tile, with the one-row kernel's float work). Per block, the integer dot products are exact
// (vpmaddubsw/vpmaddwd on AVX2, vpdpbusd/vpdpwssd on AVX-512 VNNI, both on
// 256-bit registers); the eight int32 lanes are converted to float and
// multiplied by the block's scale into eight float accumulators, which are
// summed at the end. The F16 and BF16 kernels widen the weights to float32
// and use FMA directly; they are AVX2 only and serve both levels.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa selects the instructions a kernel may use.
type isa struct {
	name string
	vnni bool
}

var isas = []isa{{"AVX2", false}, {"VNNI", true}}

func main() {
	Package("github.com/aethertensor/aether/backend/cpu/qdot")
	ConstraintExpr("!noasm")
	for _, rows := range []bool{false, true} {
		rowsMode = rows
		for _, s := range isas {
			legacy32(s, "Q4_0", 18)
			legacy32(s, "Q8_0", 34)
			legacy32(s, "Q4_1", 20)
			legacy32(s, "Q5_0", 22)
			legacy32(s, "Q5_1", 24)
			q4K(s, false)
			q6K(s)
			q4K(s, true)
			q23K(s, false)
			q23K(s, true)
		}
		q40Wide()
		q41Wide()
	}
	rowsMode = false
	q40Tile(4)  // 8 rows measured slower: 8 rows of 4096 quants fill L1
	q40Lanes(1) // eight activation rows measured slower here too
	q40Lanes(2)
	q80Tile(4)
	q80Tile(8)
	q4KTile(4)
	q4KTile(8)
	avx2Tile("Q4_0", 18)
	avx2Tile("Q8_0", 34)
	q4KAVX2Tile()
	halfKernel("F16")
	halfKernel("BF16")
	memSum()
	quant32()
	quantK()
	Generate()
}

// vpdpbusd emits VPDPBUSD (avo v0.5 lacks it): acc += Σ4 u8(u)·s8(s) per
// int32 lane. Go operand order: signed source, unsigned source, acc.
func vpdpbusd(s Op, u, acc VecVirtual) {
	ops := []Op{s, u, acc}
	in := []Op{u, acc}
	if r, ok := s.(Register); ok {
		in = append(in, r)
	} else if m, ok := s.(Mem); ok {
		in = append(in, m)
	}
	Instruction(&ir.Instruction{Opcode: "VPDPBUSD", Operands: ops, Inputs: in, Outputs: []Op{acc}, ISA: []string{"AVX512_VNNI", "AVX512VL"}})
}

// vpdpwssd emits VPDPWSSD: acc += Σ2 s16·s16 per int32 lane.
func vpdpwssd(a Op, b, acc VecVirtual) {
	in := []Op{b, acc}
	if r, ok := a.(Register); ok {
		in = append(in, r)
	} else if m, ok := a.(Mem); ok {
		in = append(in, m)
	}
	Instruction(&ir.Instruction{Opcode: "VPDPWSSD", Operands: []Op{a, b, acc}, Inputs: in, Outputs: []Op{acc}, ISA: []string{"AVX512_VNNI", "AVX512VL"}})
}

// broadcastD fills a YMM with the 32-bit constant v.
func broadcastD(v uint32) VecVirtual {
	g := GP32()
	MOVL(U32(v), g)
	x := YMM()
	VMOVD(g, x.AsX())
	VPBROADCASTD(x.AsX(), x)
	return x
}

// f16Scale loads the binary16 at m, multiplies it by the float32 at dx and
// broadcasts the product to a YMM.
func f16Scale(m, dx Mem) VecVirtual {
	g := GP32()
	MOVWLZX(m, g)
	x := YMM()
	VMOVD(g, x.AsX())
	VCVTPH2PS(x.AsX(), x.AsX())
	VMULSS(dx, x.AsX(), x.AsX())
	VBROADCASTSS(x.AsX(), x)
	return x
}

// rowsMode makes the kernel generators write the many-row form of each
// kernel, <name>Rows: the same signature without the result and with a
// last parameter dst []float32; it dots len(dst) consecutive weight rows
// (w holds exactly those rows) with the one activation row and stores
// row r's result in dst[r], so that a matvec makes one call per share of
// rows instead of one per row. The weight pointer simply runs on from
// row to row; the activation pointers and block count are reloaded from
// the arguments.
var rowsMode bool

// gname suffixes the name of a data table in rows mode, whose kernels
// emit their tables a second time.
func gname(name string) string {
	if rowsMode {
		return name + "R"
	}
	return name
}

// kernelText starts a kernel (TEXT, noescape, Doc) in the current mode.
func kernelText(name, sig, doc string) {
	if rowsMode {
		name += "Rows"
		sig = sig[:len(sig)-len(") float32")] + ", dst []float32)"
		doc = name + " is " + name[:len(name)-4] + " for len(dst) consecutive rows of w, row r's dot going to dst[r]."
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc)
}

// rowState is a rows-mode kernel's output pointer and row count.
type rowState struct {
	dst Mem
	nr  Register
}

// rowStart begins the per-row loop in rows mode (nothing otherwise):
// reload sets the activation pointers and block count for a row, and the
// accumulators are cleared.
func rowStart(acc []VecVirtual, reload func()) *rowState {
	if !rowsMode {
		return nil
	}
	r := &rowState{dst: Mem{Base: Load(Param("dst").Base(), GP64())}, nr: Load(Param("dst").Len(), GP64())}
	TESTQ(r.nr, r.nr)
	JZ(LabelRef("norows"))
	Label("row")
	reload()
	for _, a := range acc {
		VXORPS(a, a, a)
	}
	return r
}

// finish ends a kernel: the single-row form returns the sum of the
// accumulators' lanes; the rows form stores it to dst and goes on to the
// next row.
func finish(r *rowState, acc []VecVirtual) {
	if r == nil {
		reduce(acc)
		return
	}
	for i := 1; i < len(acc); i++ {
		VADDPS(acc[i], acc[0], acc[0])
	}
	a := acc[0]
	hi := XMM()
	VEXTRACTF128(U8(1), a, hi)
	VADDPS(hi, a.AsX(), hi)
	lo := XMM()
	VMOVHLPS(hi, hi, lo)
	VADDPS(lo, hi, hi)
	VPSHUFD(U8(1), hi, lo)
	VADDSS(lo, hi, hi)
	VMOVSS(hi, r.dst)
	ADDQ(U8(4), r.dst.Base)
	DECQ(r.nr)
	JNZ(LabelRef("row"))
	Label("norows")
	VZEROUPPER()
	RET()
}

// reduce sums the accumulators' lanes and stores the result.
func reduce(acc []VecVirtual) {
	for i := 1; i < len(acc); i++ {
		VADDPS(acc[i], acc[0], acc[0])
	}
	a := acc[0]
	hi := XMM()
	VEXTRACTF128(U8(1), a, hi)
	VADDPS(hi, a.AsX(), hi)
	lo := XMM()
	VMOVHLPS(hi, hi, lo)
	VADDPS(lo, hi, hi)
	VPSHUFD(U8(1), hi, lo)
	VADDSS(lo, hi, hi)
	Store(hi, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// legacy32 writes the kernel of a 32-element format whose block is a
// binary16 scale d followed by quants: Q4_0 (16 bytes of nibbles, stored
// as q+8) or Q8_0 (32 int8). The activations give per block the scale
// repeated 8 times (dv) and the correction c = -bias·Σx for weights read
// as unsigned with a bias (8 for Q4_0; 128 for Q8_0 on VNNI, which reads
// w+128 = w^0x80).
//
// Reference loop (per block b):
//
//	isum = Σ_j (wq[j]+bias)*xq[j] + c[b];  sum += float32(isum) * (d_w * dv[8b])
//
// The other 32-element formats reuse it. Q5_0 (d, 4 bytes qh, nibbles)
// adds bit e of qh as bit 4 of element e and has bias 16. Q4_1 (d, m,
// nibbles) and Q5_1 (d, m, qh, nibbles) are read unsigned without bias,
// so they need no correction; instead their min term is added per block
// from ms, ggml's Q8_1 s (the activation block's d·Σq as acts.ms holds it):
//
//	sum += float32(Σ_j wq[j]*xq[j]) * (d_w * dv[8b]) + m_w * ms[b]
func legacy32(s isa, name string, bsize int) {
	minT := name == "Q4_1" || name == "Q5_1"
	five := name == "Q5_0" || name == "Q5_1"
	qsOff := map[string]int{"Q4_0": 2, "Q4_1": 4, "Q5_0": 6, "Q5_1": 8, "Q8_0": 2}[name]
	qhOff := map[string]int{"Q5_0": 2, "Q5_1": 4}[name]
	cname := "c"
	if minT {
		cname = "ms"
		kernelText(fmt.Sprintf("dot%s%s", name, s.name), "func(w []byte, q []int8, dv []float32, ms []float32) float32", fmt.Sprintf("dot%s%s dots a %s row with Q8_0-style activations (quants q, scales dv ×8, scaled block sums ms); len(ms) blocks.", name, s.name, name))
	} else {
		kernelText(fmt.Sprintf("dot%s%s", name, s.name), "func(w []byte, q []int8, dv []float32, c []int32) float32", fmt.Sprintf("dot%s%s dots a %s row with Q8_0-style activations (quants q, scales dv ×8, corrections c); len(c) blocks.", name, s.name, name))
	}
	w := Mem{Base: Load(Param("w").Base(), GP64())}
	q := Mem{Base: Load(Param("q").Base(), GP64())}
	dv := Mem{Base: Load(Param("dv").Base(), GP64())}
	c := Mem{Base: Load(Param(cname).Base(), GP64())}
	n := Load(Param(cname).Len(), GP64())

	const unroll = 4
	acc := []VecVirtual{YMM(), YMM()}
	for _, a := range acc {
		VXORPS(a, a, a)
	}
	var mask, ones, bias VecVirtual
	switch {
	case name != "Q8_0":
		mask = broadcastD(0x0f0f0f0f)
	case s.vnni:
		bias = broadcastD(0x80808080)
	}
	if !s.vnni {
		ones = broadcastD(0x00010001)
	}
	var spread, notBit Mem
	var allOnes, bit4 VecVirtual
	if five {
		// spread copies byte e/8 of the broadcast qh to byte e; notBit
		// has every bit but e%8 set, so OR then compare with all ones
		// tests bit e.
		spread = GLOBL(gname("q5Spread"+name+s.name), RODATA|NOPTR)
		for e := 0; e < 32; e++ {
			DATA(e, U8(e/8))
		}
		notBit = GLOBL(gname("q5NotBit"+name+s.name), RODATA|NOPTR)
		for e := 0; e < 32; e++ {
			DATA(e, U8(^(1<<(e%8))&0xff))
		}
		allOnes, bit4 = YMM(), broadcastD(0x10101010)
		VPCMPEQB(allOnes, allOnes, allOnes)
	}

	block := func(k int) {
		wb := w.Offset(bsize * k)
		xq := q.Offset(32 * k)
		isum := YMM()
		switch name {
		default:
			// Nibbles to bytes in element order: low nibbles are elements
			// 0-15, high nibbles 16-31.
			lo, hi := XMM(), XMM()
			VMOVDQU(wb.Offset(qsOff), lo)
			VPSRLW(U8(4), lo, hi)
			u := YMM()
			VINSERTI128(U8(1), hi, lo.AsY(), u)
			VPAND(mask, u, u)
			if five {
				h := YMM()
				VPBROADCASTD(wb.Offset(qhOff), h)
				VPSHUFB(spread, h, h)
				VPOR(notBit, h, h)
				VPCMPEQB(allOnes, h, h)
				VPAND(bit4, h, h)
				VPOR(h, u, u)
			}
			switch {
			case minT && s.vnni:
				VPXOR(isum, isum, isum)
				vpdpbusd(xq, u, isum)
			case minT:
				VPMADDUBSW(xq, u, isum)
				VPMADDWD(ones, isum, isum)
			case s.vnni:
				VMOVD(c.Offset(4*k), isum.AsX()) // clears the other lanes
				vpdpbusd(xq, u, isum)
			default:
				corr := XMM()
				VMOVD(c.Offset(4*k), corr)
				VPMADDUBSW(xq, u, isum)
				VPMADDWD(ones, isum, isum)
				VPADDD(corr.AsY(), isum, isum)
			}
		case "Q8_0":
			wv := YMM()
			VMOVDQU(wb.Offset(2), wv)
			if s.vnni {
				VPXOR(bias, wv, wv)
				VMOVD(c.Offset(4*k), isum.AsX())
				vpdpbusd(xq, wv, isum)
			} else {
				// |w| as unsigned times x with w's sign: pairs stay below
				// 2·128·127 < 2^15, so vpmaddubsw cannot saturate. No
				// bias, so no correction.
				xv, aw := YMM(), YMM()
				VMOVDQU(xq, xv)
				VPSIGNB(wv, wv, aw)
				VPSIGNB(wv, xv, xv)
				VPMADDUBSW(xv, aw, isum)
				VPMADDWD(ones, isum, isum)
			}
		}
		VCVTDQ2PS(isum, isum)
		sc := YMM()
		VPBROADCASTW(wb, sc.AsX())
		VCVTPH2PS(sc.AsX(), sc)
		VMULPS(dv.Offset(32*k), sc, sc)
		VFMADD231PS(isum, sc, acc[k%len(acc)])
		if minT {
			// Lane 0 only: m·ms[b]; the other lanes multiply zeros.
			m, ms := XMM(), XMM()
			VPBROADCASTW(wb.Offset(2), m)
			VCVTPH2PS(m, m)
			VMOVSS(c.Offset(4*k), ms)
			VFMADD231PS(ms.AsY(), m.AsY(), acc[k%len(acc)])
		}
	}

	rs := rowStart(acc, func() {
		Load(Param("q").Base(), q.Base)
		Load(Param("dv").Base(), dv.Base)
		Load(Param(cname).Base(), c.Base)
		Load(Param(cname).Len(), n)
	})
	Label("loop")
	CMPQ(n, U8(unroll))
	JL(LabelRef("tail"))
	prefetch(w, unroll*bsize, PREFETCHNTA)
	for k := 0; k < unroll; k++ {
		block(k)
	}
	ADDQ(U32(unroll*bsize), w.Base)
	ADDQ(U32(unroll*32), q.Base)
	ADDQ(U32(unroll*32), dv.Base)
	ADDQ(U32(unroll*4), c.Base)
	SUBQ(U8(unroll), n)
	JMP(LabelRef("loop"))

	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	block(0)
	ADDQ(U32(bsize), w.Base)
	ADDQ(U32(32), q.Base)
	ADDQ(U32(32), dv.Base)
	ADDQ(U32(4), c.Base)
	DECQ(n)
	JMP(LabelRef("tail"))

	Label("done")
	finish(rs, acc)
}

// shufCache holds the word-broadcast tables per ISA, emitted once.
var shufCache = map[string][]Mem{}

// shufTables returns eight 32-byte tables: vpshufb with table j broadcasts
// int16 j of each 128-bit lane to that whole lane.
func shufTables(s isa) []Mem {
	if t, ok := shufCache[s.name]; ok {
		return t
	}
	shuf := make([]Mem, 8)
	for j := range shuf {
		shuf[j] = GLOBL(gname(fmt.Sprintf("q4kShuf%s%d", s.name, j)), RODATA|NOPTR)
		for i := 0; i < 32; i += 2 {
			DATA(i, U8(2*j))
			DATA(i+1, U8(2*j+1))
		}
	}
	shufCache[s.name] = shuf
	return shuf
}

// q4K writes the Q4_K kernel. Per 256-element block: d, dmin (binary16),
// 12 bytes of 6-bit scales and mins, 128 bytes of nibbles; activations are
// Q8_K-style (one float32 scale, 256 quants, 8 sums of 32).
//
// Reference loop (per block b):
//
//	isum = Σ_j sc_j·Σ_{32} q·x;  msum = Σ_j m_j·s32_j
//	sum += x.d[b]·d·isum - x.d[b]·dmin·msum
//
// With five set it writes the Q5_K kernel instead: the block has 32 bytes
// qh after the scales (bit j of qh[l] is the fifth bit of element l of
// sub-block j) and then the 128 bytes of nibbles; block size 176.
func q4K(s isa, five bool) {
	name, bsize, qoff := "Q4_K", 144, 16
	if five {
		name, bsize, qoff = "Q5_K", 176, 48
	}
	kernelText("dot"+name+s.name, "func(w []byte, q []int8, d []float32, s32 []int32) float32",
		"dot"+name+s.name+" dots a "+name+" row with Q8_K-style activations (quants q, scales d, sums of 32 s32); len(d) blocks.")
	w := Mem{Base: Load(Param("w").Base(), GP64())}
	q := Mem{Base: Load(Param("q").Base(), GP64())}
	d := Mem{Base: Load(Param("d").Base(), GP64())}
	sm := Mem{Base: Load(Param("s32").Base(), GP64())}
	n := Load(Param("d").Len(), GP64())

	acc := YMM()
	VXORPS(acc, acc, acc)
	mask := broadcastD(0x0f0f0f0f)
	shuf := shufTables(s)
	kShuf := q4KScaleTables()

	rs := rowStart([]VecVirtual{acc}, func() {
		Load(Param("q").Base(), q.Base)
		Load(Param("d").Base(), d.Base)
		Load(Param("s32").Base(), sm.Base)
		Load(Param("d").Len(), n)
	})
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	prefetch(w, 144, PREFETCHNTA)

	// Unpack the 12 bytes of 6-bit scales and mins (s0..s11, at byte 4)
	// into R: bytes 0-7 the scales, 8-15 the mins. For j < 4 scale j is
	// s_j&63 and min j is s_{j+4}&63; for j >= 4 scale j is the low and
	// min j the high nibble of s_{j+4}, with bits 6-7 of s_{j-4} (scale)
	// or s_j (min) above them.
	raw, pv, qv, p4 := XMM(), XMM(), XMM(), XMM()
	VMOVDQU(w.Offset(4), raw)
	VPSHUFB(kShuf[0], raw, pv) // s0-3, s8-11, s4-7, s8-11
	VPSHUFB(kShuf[1], raw, qv) // -, s0-3, -, s4-7
	VPSRLW(U8(4), pv, p4)
	VPBLENDD(U8(8), p4, pv, pv) // high nibbles of s8-11 in bytes 12-15
	VPAND(kShuf[2], pv, pv)
	VPSRLW(U8(2), qv, qv)
	VPAND(kShuf[3], qv, qv)
	VPOR(qv, pv, pv)
	// Scales as int16 in both lanes; mins as int32.
	sc := YMM()
	VPMOVZXBW(pv, sc.AsX())
	VINSERTI128(U8(1), sc.AsX(), sc, sc)
	mins := YMM()
	VPSRLDQ(U8(8), pv, pv)
	VPMOVZXBD(pv, mins)
	VPMULLD(sm, mins, mins)

	// Four partial sums so the vpdpwssd/vpaddd chains overlap.
	parts := []VecVirtual{YMM(), YMM(), YMM(), YMM()}
	for _, v := range parts {
		VPXOR(v, v, v)
	}
	var qh, bit4 VecVirtual
	if five {
		qh = YMM()
		VMOVDQU(w.Offset(16), qh)
		bit4 = broadcastD(0x10101010)
	}
	for p := 0; p < 4; p++ {
		raw, lo, hi := YMM(), YMM(), YMM()
		VMOVDQU(w.Offset(qoff+32*p), raw)
		VPAND(mask, raw, lo)
		VPSRLW(U8(4), raw, hi)
		VPAND(mask, hi, hi)
		for k, u := range []VecVirtual{lo, hi} {
			j := 2*p + k
			if five {
				// Bit j of each qh byte to bit 4; the mask keeps only
				// bits that came from the same byte.
				h := YMM()
				switch {
				case j < 4:
					VPSLLW(U8(4-j), qh, h)
					VPAND(bit4, h, h)
				case j == 4:
					VPAND(bit4, qh, h)
				default:
					VPSRLW(U8(j-4), qh, h)
					VPAND(bit4, h, h)
				}
				VPOR(h, u, u)
			}
			p16, scj := YMM(), YMM()
			VPMADDUBSW(q.Offset(32*j), u, p16)
			VPSHUFB(shuf[j], sc, scj)
			isum := parts[2*(p%2)+k]
			if s.vnni {
				vpdpwssd(scj, p16, isum)
			} else {
				VPMADDWD(scj, p16, p16)
				VPADDD(p16, isum, isum)
			}
		}
	}
	isum := parts[0]
	VPADDD(parts[1], isum, isum)
	VPADDD(parts[2], parts[3], parts[3])
	VPADDD(parts[3], isum, isum)
	// acc += isum·(dx·d) - mins·s32·(dx·dmin)
	VCVTDQ2PS(isum, isum)
	VCVTDQ2PS(mins, mins)
	// d and dmin converted together, times dx (the products f16Scale
	// would give), then each broadcast.
	dx, dd, dm := XMM(), YMM(), YMM()
	VMOVD(w, dx)
	VCVTPH2PS(dx, dx)
	VBROADCASTSS(d, dd.AsX())
	VMULPS(dd.AsX(), dx, dx)
	VBROADCASTSS(dx, dd)
	VMOVSHDUP(dx, dx)
	VBROADCASTSS(dx, dm)
	VFMADD231PS(isum, dd, acc)
	VFNMADD231PS(mins, dm, acc)

	ADDQ(U32(bsize), w.Base)
	ADDQ(U32(256), q.Base)
	ADDQ(U32(4), d.Base)
	ADDQ(U32(32), sm.Base)
	DECQ(n)
	JMP(LabelRef("loop"))

	Label("done")
	finish(rs, []VecVirtual{acc})
}

// q6K writes the Q6_K kernel. Per 256-element block: 128 bytes ql (low
// nibbles), 64 bytes qh (two high bits each), 16 int8 scales (one per 16
// elements), binary16 d; values are d·sc·(q-32) with q in 0..63.
// Activations are Q8_K-style with sums of 16 (s).
//
// The quants are dotted as unsigned 0..63 (vpmaddubsw cannot saturate:
// 2·63·127 < 2^15) and the -32 offset is applied once per block as
// -32·Σ_j sc_j·s_j. Per half n of the block, element 128n+32g+l is
// ql[64n+32(g%2)+l] (high nibble for g >= 2) | bits 2g..2g+1 of
// qh[32n+l] << 4.
//
// Reference loop (per block b):
//
//	isum = Σ_j sc_j·Σ_{16} q·x - 32·Σ_j sc_j·s_j;  sum += x.d[b]·d·isum
func q6K(s isa) {
	kernelText("dotQ6_K"+s.name, "func(w []byte, q []int8, d []float32, s16 []int32) float32",
		"dotQ6_K"+s.name+" dots a Q6_K row with Q8_K-style activations (quants q, scales d, sums of 16 s16); len(d) blocks.")
	w := Mem{Base: Load(Param("w").Base(), GP64())}
	q := Mem{Base: Load(Param("q").Base(), GP64())}
	d := Mem{Base: Load(Param("d").Base(), GP64())}
	sm := Mem{Base: Load(Param("s16").Base(), GP64())}
	n := Load(Param("d").Len(), GP64())

	acc := YMM()
	VXORPS(acc, acc, acc)
	m4 := broadcastD(0x0f0f0f0f)
	m30 := broadcastD(0x30303030)
	shuf := shufTables(s)
	// deint puts the even-indexed scale bytes in bytes 0-7 and the odd
	// ones in 8-15, so that after sign extension to int16 the low lane
	// holds the scales of the first 16 elements of each 32 and the high
	// lane those of the second 16: the int16 layout vpmaddubsw gives.
	deint := GLOBL(gname("q6kDeint"+s.name), RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(i, U8(2*(i%8)+i/8))
	}

	rs := rowStart([]VecVirtual{acc}, func() {
		Load(Param("q").Base(), q.Base)
		Load(Param("d").Base(), d.Base)
		Load(Param("s16").Base(), sm.Base)
		Load(Param("d").Len(), n)
	})
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	prefetch(w, 210, PREFETCHNTA)

	sc := YMM()
	VMOVDQU(w.Offset(192), sc.AsX())
	VPSHUFB(deint, sc.AsX(), sc.AsX())
	VPMOVSXBW(sc.AsX(), sc)

	parts := []VecVirtual{YMM(), YMM(), YMM(), YMM()}
	for _, v := range parts {
		VPXOR(v, v, v)
	}
	for h := 0; h < 2; h++ {
		ql0, ql1, qh := YMM(), YMM(), YMM()
		VMOVDQU(w.Offset(64*h), ql0)
		VMOVDQU(w.Offset(64*h+32), ql1)
		VMOVDQU(w.Offset(128+32*h), qh)
		for g := 0; g < 4; g++ {
			lo, hi := YMM(), YMM()
			src := ql0
			if g%2 == 1 {
				src = ql1
			}
			if g < 2 {
				VPAND(m4, src, lo)
			} else {
				VPSRLW(U8(4), src, lo)
				VPAND(m4, lo, lo)
			}
			// Bits 2g..2g+1 of each qh byte moved to bits 4-5; word
			// shifts are safe because the mask keeps only bits that came
			// from the same byte.
			switch g {
			case 0:
				VPSLLW(U8(4), qh, hi)
				VPAND(m30, hi, hi)
			case 1:
				VPSLLW(U8(2), qh, hi)
				VPAND(m30, hi, hi)
			case 2:
				VPAND(m30, qh, hi)
			case 3:
				VPSRLW(U8(2), qh, hi)
				VPAND(m30, hi, hi)
			}
			VPOR(hi, lo, lo)
			j := 4*h + g
			p16, scj := YMM(), YMM()
			VPMADDUBSW(q.Offset(32*j), lo, p16)
			VPSHUFB(shuf[j], sc, scj)
			isum := parts[g]
			if s.vnni {
				vpdpwssd(scj, p16, isum)
			} else {
				VPMADDWD(scj, p16, p16)
				VPADDD(p16, isum, isum)
			}
		}
	}
	isum := parts[0]
	VPADDD(parts[1], isum, isum)
	VPADDD(parts[2], parts[3], parts[3])
	VPADDD(parts[3], isum, isum)
	// The offset: 32·Σ_j sc_j·s_j over the 16 sub-blocks.
	o0, o1 := YMM(), YMM()
	VPMOVSXBD(w.Offset(192), o0)
	VPMULLD(sm, o0, o0)
	VPMOVSXBD(w.Offset(200), o1)
	VPMULLD(sm.Offset(32), o1, o1)
	VPADDD(o1, o0, o0)
	VPSLLD(U8(5), o0, o0)
	VPSUBD(o0, isum, isum)
	VCVTDQ2PS(isum, isum)
	dd := f16Scale(w.Offset(208), d)
	VFMADD231PS(isum, dd, acc)

	ADDQ(U32(210), w.Base)
	ADDQ(U32(256), q.Base)
	ADDQ(U32(4), d.Base)
	ADDQ(U32(64), sm.Base)
	DECQ(n)
	JMP(LabelRef("loop"))

	Label("done")
	finish(rs, []VecVirtual{acc})
}

// halfKernel writes the F16 or BF16 kernel: len(x) float32 activations
// (a multiple of 8; the Go wrapper adds the rest) times 16-bit weights,
// widened eight at a time (vcvtph2ps for F16, zero-extend and shift left
// 16 for BF16) into four FMA accumulators.
//
// Reference loop:
//
//	sum += float32(w[i])·x[i]
func halfKernel(name string) {
	TEXT("dot"+name+"AVX2", NOSPLIT, "func(w []byte, x []float32) float32")
	Pragma("noescape")
	Doc("dot" + name + "AVX2 dots a row of " + name + " weights with float32 activations; len(x) must be a multiple of 8.")
	w := Mem{Base: Load(Param("w").Base(), GP64())}
	x := Mem{Base: Load(Param("x").Base(), GP64())}
	n := Load(Param("x").Len(), GP64())
	SHRQ(U8(3), n)

	acc := []VecVirtual{YMM(), YMM(), YMM(), YMM()}
	for _, a := range acc {
		VXORPS(a, a, a)
	}
	widen := func(m Mem) VecVirtual {
		v := YMM()
		if name == "F16" {
			VCVTPH2PS(m, v)
		} else {
			VPMOVZXWD(m, v)
			VPSLLD(U8(16), v, v)
		}
		return v
	}
	const unroll = 4
	Label("loop")
	CMPQ(n, U8(unroll))
	JL(LabelRef("tail"))
	for k := 0; k < unroll; k++ {
		v := widen(w.Offset(16 * k))
		VFMADD231PS(x.Offset(32*k), v, acc[k])
	}
	ADDQ(U32(16*unroll), w.Base)
	ADDQ(U32(32*unroll), x.Base)
	SUBQ(U8(unroll), n)
	JMP(LabelRef("loop"))

	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	v := widen(w)
	VFMADD231PS(x, v, acc[0])
	ADDQ(U32(16), w.Base)
	ADDQ(U32(32), x.Base)
	DECQ(n)
	JMP(LabelRef("tail"))

	Label("done")
	reduce(acc)
}

// q23K writes the Q2_K kernel, or with three set the Q3_K one. Both keep
// two low bits per element in 64 bytes qs: in each 128-element half n,
// element 128n+32g+l is bits 2g..2g+1 of qs[32n+l]. Activations are
// Q8_K-style with sums of 16 (s16).
//
// Q2_K (84 bytes): 16 scale bytes (low nibble scale, high nibble min, per
// 16 elements), qs, binary16 d and dmin; x = d·sc·q - dmin·m.
//
// Q3_K (110 bytes): 32 bytes hmask, qs, 12 bytes of 6-bit scales (stored
// +32), binary16 d; x = d·sc·(q-4) where q = low bits | bit (e/32) of
// hmask[e%32] << 2, 0..7, is dotted unsigned and the -4 is applied per
// block as -4·Σ_j sc_j·s_j.
//
// Reference loop (per block b):
//
//	Q2_K: sum += x.d[b]·d·Σ_j sc_j·Σ_{16} q·x - x.d[b]·dmin·Σ_j m_j·s_j
//	Q3_K: sum += x.d[b]·d·(Σ_j sc_j·Σ_{16} q·x - 4·Σ_j sc_j·s_j)
func q23K(s isa, three bool) {
	name, bsize, qsOff := "Q2_K", 84, 16
	if three {
		name, bsize, qsOff = "Q3_K", 110, 32
	}
	kernelText("dot"+name+s.name, "func(w []byte, q []int8, d []float32, s16 []int32) float32",
		"dot"+name+s.name+" dots a "+name+" row with Q8_K-style activations (quants q, scales d, sums of 16 s16); len(d) blocks.")
	w := Mem{Base: Load(Param("w").Base(), GP64())}
	q := Mem{Base: Load(Param("q").Base(), GP64())}
	d := Mem{Base: Load(Param("d").Base(), GP64())}
	sm := Mem{Base: Load(Param("s16").Base(), GP64())}
	n := Load(Param("d").Len(), GP64())

	acc := YMM()
	VXORPS(acc, acc, acc)
	m3 := broadcastD(0x03030303)
	var m4, bit2, b32 VecVirtual
	if three {
		bit2 = broadcastD(0x04040404)
		b32 = broadcastD(0x20202020)
	} else {
		m4 = broadcastD(0x0f0f0f0f)
	}
	shuf := shufTables(s)
	deint := GLOBL(gname("q23kDeint"+name+s.name), RODATA|NOPTR)
	for i := 0; i < 16; i++ {
		DATA(i, U8(2*(i%8)+i/8))
	}

	rs := rowStart([]VecVirtual{acc}, func() {
		Load(Param("q").Base(), q.Base)
		Load(Param("d").Base(), d.Base)
		Load(Param("s16").Base(), sm.Base)
		Load(Param("d").Len(), n)
	})
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))

	// raw: the 16 per-sub-block bytes in element order (Q2_K: scale |
	// min<<4; Q3_K: signed scales). sc: the scales as int16, even
	// sub-blocks in the low lane and odd ones in the high lane (see q6K).
	// off: int32 products of the offsets (Q2_K mins, Q3_K scales) with
	// the sums of 16, two halves.
	raw, sc := XMM(), YMM()
	o0, o1 := YMM(), YMM()
	if three {
		// Unpack the 12 bytes: scale j is the low (j < 8) or high nibble
		// of byte j%8 with bits 2(j/4)..2(j/4)+1 of byte 8+j%4 above it.
		a0, a1, a2, t, u := GP32(), GP32(), GP32(), GP32(), GP32()
		MOVL(w.Offset(96), a0)
		MOVL(w.Offset(100), a1)
		MOVL(w.Offset(104), a2)
		lane := func(src GPVirtual, shiftLo, shiftHi int) GPVirtual {
			MOVL(src, t)
			if shiftLo > 0 {
				SHRL(U8(shiftLo), t)
			}
			ANDL(U32(0x0f0f0f0f), t)
			MOVL(a2, u)
			if shiftHi > 0 {
				SHRL(U8(shiftHi), u)
			}
			ANDL(U32(0x03030303), u)
			SHLL(U8(4), u)
			ORL(t, u)
			return u
		}
		VMOVD(lane(a0, 0, 0), raw)
		VPINSRD(U8(1), lane(a1, 0, 2), raw, raw)
		VPINSRD(U8(2), lane(a0, 4, 4), raw, raw)
		VPINSRD(U8(3), lane(a1, 4, 6), raw, raw)
		VPSUBB(b32.AsX(), raw, raw)
		VPSHUFB(deint, raw, sc.AsX())
		VPMOVSXBW(sc.AsX(), sc)
		VPMOVSXBD(raw, o0)
		VPSRLDQ(U8(8), raw, raw)
		VPMOVSXBD(raw, o1)
	} else {
		VMOVDQU(w, raw)
		VPAND(m4.AsX(), raw, sc.AsX())
		VPSHUFB(deint, sc.AsX(), sc.AsX())
		VPMOVZXBW(sc.AsX(), sc)
		VPMOVZXBD(w, o0)
		VPSRLD(U8(4), o0, o0)
		VPMOVZXBD(w.Offset(8), o1)
		VPSRLD(U8(4), o1, o1)
	}
	VPMULLD(sm, o0, o0)
	VPMULLD(sm.Offset(32), o1, o1)
	VPADDD(o1, o0, o0)

	var hm VecVirtual
	if three {
		hm = YMM()
		VMOVDQU(w, hm)
	}
	parts := []VecVirtual{YMM(), YMM(), YMM(), YMM()}
	for _, v := range parts {
		VPXOR(v, v, v)
	}
	for h := 0; h < 2; h++ {
		qs := YMM()
		VMOVDQU(w.Offset(qsOff+32*h), qs)
		for g := 0; g < 4; g++ {
			j := 4*h + g
			lo := YMM()
			if g == 0 {
				VPAND(m3, qs, lo)
			} else {
				VPSRLW(U8(2*g), qs, lo)
				VPAND(m3, lo, lo)
			}
			if three {
				// Bit j of each hmask byte to bit 2; the mask keeps only
				// bits that came from the same byte.
				hb := YMM()
				switch {
				case j < 2:
					VPSLLW(U8(2-j), hm, hb)
					VPAND(bit2, hb, hb)
				case j == 2:
					VPAND(bit2, hm, hb)
				default:
					VPSRLW(U8(j-2), hm, hb)
					VPAND(bit2, hb, hb)
				}
				VPOR(hb, lo, lo)
			}
			p16, scj := YMM(), YMM()
			VPMADDUBSW(q.Offset(32*j), lo, p16)
			VPSHUFB(shuf[j], sc, scj)
			isum := parts[g]
			if s.vnni {
				vpdpwssd(scj, p16, isum)
			} else {
				VPMADDWD(scj, p16, p16)
				VPADDD(p16, isum, isum)
			}
		}
	}
	isum := parts[0]
	VPADDD(parts[1], isum, isum)
	VPADDD(parts[2], parts[3], parts[3])
	VPADDD(parts[3], isum, isum)
	if three {
		VPSLLD(U8(2), o0, o0)
		VPSUBD(o0, isum, isum)
		VCVTDQ2PS(isum, isum)
		dd := f16Scale(w.Offset(108), d)
		VFMADD231PS(isum, dd, acc)
	} else {
		VCVTDQ2PS(isum, isum)
		VCVTDQ2PS(o0, o0)
		dd := f16Scale(w.Offset(80), d)
		VFMADD231PS(isum, dd, acc)
		dm := f16Scale(w.Offset(82), d)
		VFNMADD231PS(o0, dm, acc)
	}

	ADDQ(U32(bsize), w.Base)
	ADDQ(U32(256), q.Base)
	ADDQ(U32(4), d.Base)
	ADDQ(U32(64), sm.Base)
	DECQ(n)
	JMP(LabelRef("loop"))

	Label("done")
	finish(rs, []VecVirtual{acc})
}

// q40Wide writes dotQ4_0VNNI8, the Q4_0 VNNI kernel for whole groups of
// eight blocks, which needs about half the vector instructions per block of
// the one-block kernel. The activations come prepared per group (see
// acts.qp): per pair of blocks (A, B) 64 quants, A's elements 0-15, B's
// 0-15, A's 16-31, B's 16-31, so that one 256-bit load of both blocks'
// nibbles, masked and shifted, lines up with them without lane shuffles.
// Each pair's vpdpbusd sums land in lanes 0-3 (A) and 4-7 (B); three
// vphaddd reduce the four pairs to one int32 per block in the order
// 0,2,4,6,1,3,5,7, in which dp (activation scales) and cp (corrections
// -8·Σx) are stored, so the float work is one convert and one FMA per
// eight blocks.
//
// Reference loop (per block b, as in legacy32):
//
//	isum = Σ_j (wq[j]+8)*xq[j] + c[b];  sum += float32(isum) * (d_w * d_x)
//
// prefetchDist is how far ahead of the weights the row kernels prefetch.
// The one-row kernels of a decode step (q40Wide, q41Wide, legacy32, q4K,
// q6K) prefetch non-temporally: weights streamed from a file mapping (4
// KiB pages, where the hardware prefetchers stop at each page) then come
// in time without pushing the step's small tensors out of the caches. In
// the 300M synthetic models' decode, one thread, that gave Q4_0 +6%,
// Q4_K +8%, Q6_K +16% and Q8_0 ~+50% tokens/s over T0 or no prefetch.
// The tile kernels of prompt batches (q40Tile, q40Lanes) read each weight
// block for several rows and keep PREFETCHT0, which measured 7% faster
// there.
const prefetchDist = 8192

// q4BlockSums returns the integer dot products of eight 4-bit blocks of
// bsize bytes at w (nibbles from byte qsOff of each block) with their
// activations at q (acts.qp's pair layout), in the order
// 0,2,4,6,1,3,5,7: one 256-bit load per pair of blocks, vpdpbusd into
// lanes 0-3 and 4-7, three vphaddd.
func q4BlockSums(w, q Mem, mask VecVirtual, bsize, qsOff int) VecVirtual {
	pairs := make([]VecVirtual, 4)
	for p := range pairs {
		a := w.Offset(2 * bsize * p)
		raw, lo, hi, sum := YMM(), YMM(), YMM(), YMM()
		VMOVDQU(a.Offset(qsOff), raw.AsX())
		VINSERTI128(U8(1), a.Offset(bsize+qsOff), raw, raw)
		VPAND(mask, raw, lo)
		VPSRLW(U8(4), raw, hi)
		VPAND(mask, hi, hi)
		VPXOR(sum, sum, sum)
		vpdpbusd(q.Offset(64*p), lo, sum)
		vpdpbusd(q.Offset(64*p+32), hi, sum)
		pairs[p] = sum
	}
	t, u := YMM(), YMM()
	VPHADDD(pairs[1], pairs[0], t)
	VPHADDD(pairs[3], pairs[2], u)
	VPHADDD(u, t, t)
	return t
}

// prefetch issues ins (PREFETCHNTA or PREFETCHT0) for each cache line of
// the next bytes of weights, prefetchDist ahead of w.
func prefetch(w Mem, bytes int, ins func(Op)) {
	for o := 0; o < bytes; o += 64 {
		ins(w.Offset(prefetchDist + o))
	}
}

func q40Wide() {
	kernelText("dotQ4_0VNNI8", "func(w []byte, qp []int8, dp []float32, cp []int32) float32",
		"dotQ4_0VNNI8 dots a Q4_0 row with activations prepared in groups of eight blocks (quants qp, scales dp, corrections cp); len(cp) blocks, a multiple of 8.")
	w := Mem{Base: Load(Param("w").Base(), GP64())}
	q := Mem{Base: Load(Param("qp").Base(), GP64())}
	dp := Mem{Base: Load(Param("dp").Base(), GP64())}
	cp := Mem{Base: Load(Param("cp").Base(), GP64())}
	n := Load(Param("cp").Len(), GP64())
	SHRQ(U8(3), n)

	acc := YMM()
	VXORPS(acc, acc, acc)
	mask := broadcastD(0x0f0f0f0f)
	idx := GLOBL(gname("q40ScaleIdx"), RODATA|NOPTR)
	for k, b := range []int{0, 2, 4, 6, 1, 3, 5, 7} {
		DATA(2*k, U16(9*b))
	}
	for k := 8; k < 32; k++ {
		DATA(2*k, U16(0))
	}
	scaleIdx := ZMM()
	VMOVDQU64(idx, scaleIdx)

	rs := rowStart([]VecVirtual{acc}, func() {
		Load(Param("qp").Base(), q.Base)
		Load(Param("dp").Base(), dp.Base)
		Load(Param("cp").Base(), cp.Base)
		Load(Param("cp").Len(), n)
		SHRQ(U8(3), n)
	})
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	prefetch(w, 8*18, PREFETCHNTA)
	t := q4BlockSums(w, q, mask, 18, 2)
	VPADDD(cp, t, t)
	VCVTDQ2PS(t, t)
	// The weight scales in the order 0,2,4,6 | 1,3,5,7: block b's scale is
	// word 9b of the group's first 128 bytes, picked from the two 64-byte
	// halves with one word permutation.
	tab, sc := ZMM(), YMM()
	VMOVDQU64(w, tab)
	VPERMT2W(w.Offset(64), scaleIdx, tab)
	VCVTPH2PS(tab.AsX(), sc)
	VMULPS(dp, sc, sc)
	VFMADD231PS(t, sc, acc)

	ADDQ(U32(8*18), w.Base)
	ADDQ(U32(8*32), q.Base)
	ADDQ(U32(32), dp.Base)
	ADDQ(U32(32), cp.Base)
	DECQ(n)
	JMP(LabelRef("loop"))

	Label("done")
	finish(rs, []VecVirtual{acc})
}

// tileRows is the number of activation rows the tile kernels dot each
// weight row with in one pass (the rows of their tileKernel entries in
// kernels_amd64.go); q40Tile takes it as an argument.
const tileRows = 4

// q40Tile writes dotQ4_0VNNI8x4, dotQ4_0VNNI8 for tileRows activation rows
// at once: each group of eight weight blocks is unpacked and its scales
// converted once, then dotted with the group of each activation row, with
// one accumulator per activation row. Per activation row the instructions
// on the accumulator are dotQ4_0VNNI8's (the integer sums are exact, the
// float convert, scale product, FMA and final lane reduction the same
// ones), so each result has the one-row kernel's bits.
//
// The activations come tiled (see acts.prepareTiles): per group, the
// tileRows rows' 256 quants one after another, then likewise their scales
// and corrections, so that every operand is at a constant offset from one
// pointer. The kernel dots nr weight rows rb bytes apart (whose leading
// whole groups it reads); activation row i of weight row r goes to
// dst[i*stride+r].
//
// The unpacked weights (8 registers) and the accumulators (4) are pinned
// to Y16-Y27, which only EVEX instructions reach (hence VPANDD), so that
// the remaining virtual registers, which vphaddd and the VEX moves use,
// fit in Y0-Y15.
func q40Tile(tileRows int) {
	name := fmt.Sprintf("dotQ4_0VNNI8x%d", tileRows)
	TEXT(name, NOSPLIT, "func(w []byte, qt []int8, dt []float32, ct []int32, dst []float32, nr int, rb int, stride int)")
	Pragma("noescape")
	Doc(name + fmt.Sprintf(" dots nr consecutive Q4_0 rows of w with %d activation rows", tileRows) + " tiled per group of eight blocks (quants qt, scales dt, corrections ct; len(ct)/4 blocks a row, a multiple of 8), weight rows rb bytes apart, activation row i of weight row r going to dst[i*stride+r].")
	wrow := Load(Param("w").Base(), GP64())
	w := Mem{Base: GP64()}
	dst := Load(Param("dst").Base(), GP64())
	nr := Load(Param("nr"), GP64())
	s4 := Load(Param("stride"), GP64())
	SHLQ(U8(2), s4)
	q, dt, ct, n := Mem{Base: GP64()}, Mem{Base: GP64()}, Mem{Base: GP64()}, GP64()

	// Accumulators from Y16 up, then the unpacked weights.
	acc := []Register{Y16, Y17, Y18, Y19, Y20, Y21, Y22, Y23}[:tileRows]
	unpacked := []Register{Y20, Y21, Y22, Y23, Y24, Y25, Y26, Y27, Y28, Y29, Y30, Y31}[tileRows-4:]
	lo, hi := unpacked[:4], unpacked[4:8]
	mask := broadcastD(0x0f0f0f0f)
	idx := GLOBL(fmt.Sprintf("q40TileIdx%d", tileRows), RODATA|NOPTR)
	for k, b := range []int{0, 2, 4, 6, 1, 3, 5, 7} {
		DATA(2*k, U16(9*b))
	}
	for k := 8; k < 32; k++ {
		DATA(2*k, U16(0))
	}

	TESTQ(nr, nr)
	JZ(LabelRef("norows"))
	Label("row")
	MOVQ(wrow, w.Base)
	Load(Param("qt").Base(), q.Base)
	Load(Param("dt").Base(), dt.Base)
	Load(Param("ct").Base(), ct.Base)
	Load(Param("ct").Len(), n)
	// Groups of eight blocks of one activation row: 8·tileRows
	// corrections each.
	if tileRows != 4 && tileRows != 8 {
		panic("q40Tile: tileRows must be 4 or 8")
	}
	SHRQ(U8(map[int]int{4: 5, 8: 6}[tileRows]), n)
	for _, a := range acc {
		VPXORD(a, a, a)
	}
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	prefetch(w, 8*18, PREFETCHT0)
	// The weight scales as dotQ4_0VNNI8 takes them.
	scaleIdx, tab, sc := ZMM(), ZMM(), YMM()
	VMOVDQU64(idx, scaleIdx)
	VMOVDQU64(w, tab)
	VPERMT2W(w.Offset(64), scaleIdx, tab)
	VCVTPH2PS(tab.AsX(), sc)
	for p := 0; p < 4; p++ {
		a := w.Offset(36 * p)
		raw := YMM()
		VMOVDQU(a.Offset(2), raw.AsX())
		VINSERTI128(U8(1), a.Offset(18+2), raw, raw)
		VPANDD(mask, raw, lo[p])
		VPSRLW(U8(4), raw, hi[p])
		VPANDD(mask, hi[p], hi[p])
	}
	for i := 0; i < tileRows; i++ {
		xq := q.Offset(256 * i)
		pairs := make([]VecVirtual, 4)
		for p := range pairs {
			sum := YMM()
			VPXOR(sum, sum, sum)
			vpdpbusdR(xq.Offset(64*p), lo[p], sum)
			vpdpbusdR(xq.Offset(64*p+32), hi[p], sum)
			pairs[p] = sum
		}
		t, u := YMM(), YMM()
		VPHADDD(pairs[1], pairs[0], t)
		VPHADDD(pairs[3], pairs[2], u)
		VPHADDD(u, t, t)
		VPADDD(ct.Offset(32*i), t, t)
		VCVTDQ2PS(t, t)
		m := YMM()
		VMULPS(dt.Offset(32*i), sc, m)
		VFMADD231PS(t, m, acc[i])
	}
	ADDQ(U32(8*18), w.Base)
	ADDQ(U32(tileRows*8*32), q.Base)
	ADDQ(U32(tileRows*32), dt.Base)
	ADDQ(U32(tileRows*32), ct.Base)
	DECQ(n)
	JMP(LabelRef("loop"))

	Label("done")
	// dotQ4_0VNNI8's final reduction, per accumulator.
	out := GP64()
	MOVQ(dst, out)
	for _, a := range acc {
		v := YMM()
		VMOVAPS(a, v)
		storeLanes(v, out, s4)
	}
	ADDQ(U8(4), dst)
	rbArg, err := Param("rb").Resolve()
	if err != nil {
		panic(err)
	}
	ADDQ(rbArg.Addr, wrow)
	DECQ(nr)
	JNZ(LabelRef("row"))
	Label("norows")
	VZEROUPPER()
	RET()
}

// q40LaneOrder is the order of the 64 dwords of a group of eight Q4_0
// blocks in q40Lanes' four 512-bit operands, as (block, first element):
// operand c (0-3) holds in lane L (0-15) elements e..e+3 of block
// wideOrder[L%8] with e = {0, 16, 8, 24}[c] + 4·(L/8). The activation tiles
// of dotQ4_0VBMIx4 are laid out in this order too (acts.prepareTiles
// keeps a copy of the table: q40Lanes).
func q40LaneOrder(c, lane int) (block, elem int) {
	wideOrder := []int{0, 2, 4, 6, 1, 3, 5, 7}
	return wideOrder[lane%8], []int{0, 16, 8, 24}[c] + 4*(lane/8)
}

// q40Lanes writes dotQ4_0VBMIx4, dotQ4_0VNNI8x4 with the nibbles rearranged
// so that no vphaddd is needed: two byte permutations (vpermi2b over the
// group's first 128 bytes, a masked vpermb for block 7 beyond them) gather
// for each block its quant bytes 0-7 into one 512-bit register and 8-15
// into another, lane L and lane 8+L holding the same block, the block in
// lane L of dotQ4_0VNNI8's int32 sums. Masked and shifted, they give four
// registers of nibbles (q40LaneOrder), and an activation row's block sums
// are then four 512-bit vpdpbusd into a register holding the corrections,
// plus its upper half added to its lower: the int32 sums of dotQ4_0VNNI8x4
// in the same lanes, so the float work and the results are bit for bit the
// same.
func q40Lanes(wr int) {
	name := "dotQ4_0VBMIx4"
	doc := name + " dots nr Q4_0 rows of w, rb bytes apart (their whole groups of eight blocks), with 4 activation rows tiled per group in q40LaneOrder (quants qt, scales dt, corrections ct; len(ct)/4 blocks a row, a multiple of 8), activation row i of weight row r going to dst[i*stride+r]."
	if wr == 2 {
		name = "dotQ4_0VBMI2x4"
		doc = name + " is dotQ4_0VBMIx4 for an even nr, two weight rows per pass: each activation vector is loaded once for both."
	}
	TEXT(name, NOSPLIT, "func(w []byte, qt []int8, dt []float32, ct []int32, dst []float32, nr int, rb int, stride int)")
	Pragma("noescape")
	Doc(doc)
	wrow := Load(Param("w").Base(), GP64())
	rb := Load(Param("rb"), GP64())
	ws := make([]Mem, wr)
	for j := range ws {
		ws[j] = Mem{Base: GP64()}
	}
	dst := Load(Param("dst").Base(), GP64())
	nr := Load(Param("nr"), GP64())
	s4 := Load(Param("stride"), GP64())
	SHLQ(U8(2), s4)
	q, dt, ct, n := Mem{Base: GP64()}, Mem{Base: GP64()}, Mem{Base: GP64()}, GP64()

	// Byte indices: idx[h] into the group's bytes 0-127 for quant bytes
	// 8h..8h+7 of blocks 0-6, idx7[h] into bytes 80-143 for block 7.
	var idx, idx7 [2]Mem
	for h := 0; h < 2; h++ {
		for seven, m := range []*Mem{&idx[h], &idx7[h]} {
			*m = GLOBL(fmt.Sprintf("q40LaneIdx%d%v%d", h, seven == 1, wr), RODATA|NOPTR)
			for L := 0; L < 16; L++ {
				b, _ := q40LaneOrder(0, L)
				for k := 0; k < 4; k++ {
					src := 18*b + 2 + 8*h + 4*(L/8) + k
					switch {
					case seven == 1 && b == 7:
						src -= 80
					case seven == 1 || b == 7:
						src = 0 // not used
					}
					DATA(4*L+k, U8(src))
				}
			}
		}
	}
	scaleIdx := GLOBL(fmt.Sprintf("q40LaneScaleIdx%d", wr), RODATA|NOPTR)
	for k := 0; k < 8; k++ {
		b, _ := q40LaneOrder(0, k)
		DATA(2*k, U16(9*b))
	}
	for k := 8; k < 32; k++ {
		DATA(2*k, U16(0))
	}
	mask := ZMM()
	{
		g := GP32()
		MOVL(U32(0x0f0f0f0f), g)
		VPBROADCASTD(g, mask)
	}
	// Bytes of the lanes of block 7: lanes 7 and 15.
	k7 := K()
	{
		g := GP64()
		MOVQ(U64(0xf<<28|0xf<<60), g)
		KMOVQ(g, k7)
	}
	acc := make([][]VecVirtual, wr)
	for j := range acc {
		acc[j] = []VecVirtual{YMM(), YMM(), YMM(), YMM()}
	}

	TESTQ(nr, nr)
	JZ(LabelRef("norows"))
	Label("row")
	MOVQ(wrow, ws[0].Base)
	if wr == 2 {
		LEAQ(Mem{Base: wrow, Index: rb, Scale: 1}, ws[1].Base)
	}
	Load(Param("qt").Base(), q.Base)
	Load(Param("dt").Base(), dt.Base)
	Load(Param("ct").Base(), ct.Base)
	Load(Param("ct").Len(), n)
	SHRQ(U8(5), n) // groups of eight blocks of one activation row
	for _, a := range acc {
		for _, v := range a {
			VPXORD(v, v, v)
		}
	}
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	nib := make([][]VecVirtual, wr) // q40LaneOrder's operands 0-3
	sc := make([]VecVirtual, wr)
	for j, w := range ws {
		prefetch(w, 8*18, PREFETCHT0)
		t0 := ZMM()
		VMOVDQU64(w, t0)
		nib[j] = make([]VecVirtual, 4)
		for h := 0; h < 2; h++ {
			z, i7 := ZMM(), ZMM()
			VMOVDQU64(idx[h], z)
			VPERMI2B(w.Offset(64), t0, z)
			VMOVDQU64(idx7[h], i7)
			VPERMB(w.Offset(80), i7, k7, z)
			lo, hi := ZMM(), ZMM()
			VPANDD(mask, z, lo)
			VPSRLW(U8(4), z, hi)
			VPANDD(mask, hi, hi)
			nib[j][2*h], nib[j][2*h+1] = lo, hi
		}
		// The weight scales in dotQ4_0VNNI8's order.
		tab := ZMM()
		sc[j] = YMM()
		VMOVDQU64(scaleIdx, tab)
		VPERMI2W(w.Offset(64), t0, tab)
		VCVTPH2PS(tab.AsX(), sc[j])
	}
	for i := 0; i < 4; i++ {
		var xs []Op
		if wr == 1 {
			for c := 0; c < 4; c++ {
				xs = append(xs, q.Offset(256*i+64*c))
			}
		} else {
			for c := 0; c < 4; c++ {
				x := ZMM()
				VMOVDQU64(q.Offset(256*i+64*c), x)
				xs = append(xs, x)
			}
		}
		for j := range ws {
			z := ZMM()
			VMOVDQU32(ct.Offset(32*i), z.AsY()) // clears the upper half
			for c := 0; c < 4; c++ {
				vpdpbusd(xs[c], nib[j][c], z)
			}
			t, m := YMM(), YMM()
			VEXTRACTI64X4(U8(1), z, t)
			VPADDD(z.AsY(), t, t)
			VCVTDQ2PS(t, t)
			VMULPS(dt.Offset(32*i), sc[j], m)
			VFMADD231PS(t, m, acc[j][i])
		}
	}
	for _, w := range ws {
		ADDQ(U32(8*18), w.Base)
	}
	ADDQ(U32(4*8*32), q.Base)
	ADDQ(U32(4*32), dt.Base)
	ADDQ(U32(4*32), ct.Base)
	DECQ(n)
	JMP(LabelRef("loop"))

	Label("done")
	out := GP64()
	for j := range acc {
		MOVQ(dst, out)
		if j == 1 {
			ADDQ(U8(4), out)
		}
		for _, a := range acc[j] {
			v := YMM()
			VMOVAPS(a, v)
			storeLanes(v, out, s4)
		}
	}
	ADDQ(U8(uint8(4*wr)), dst)
	for j := 0; j < wr; j++ {
		ADDQ(rb, wrow)
	}
	SUBQ(U8(uint8(wr)), nr)
	JNZ(LabelRef("row"))
	Label("norows")
	VZEROUPPER()
	RET()
}

// q80Tile writes dotQ8_0VNNIx4, the VNNI Q8_0 kernel of legacy32 for
// tileRows activation rows at once: each weight block is loaded, biased
// and its scale converted once, then dotted with the block of each
// activation row. Each row keeps legacy32's two accumulators, fed in its
// order (blocks of the four-block loop alternate, tail blocks go to the
// first), so each result has the one-row kernel's bits.
//
// The activations come tiled (see acts.prepareTiles): per block, the
// tileRows rows' 32 quants one after another, then likewise their scales
// (one each, broadcast as the one-row kernel's dv repeats it) and
// corrections; a tile of 4096-element rows fits the L1 cache. The 2·tileRows accumulators are pinned to
// Y16-Y23 (EVEX only), the rest fits in Y0-Y15.
func q80Tile(tileRows int) {
	name := fmt.Sprintf("dotQ8_0VNNIx%d", tileRows)
	TEXT(name, NOSPLIT, "func(w []byte, qt []int8, dt []float32, ct []int32, dst []float32, nr int, rb int, stride int)")
	Pragma("noescape")
	Doc(name + fmt.Sprintf(" dots nr Q8_0 rows of w, rb bytes apart, with %d activation rows", tileRows) + " tiled per block (quants qt, scales dt, corrections ct; len(ct)/4 blocks a row), activation row i of weight row r going to dst[i*stride+r].")
	wrow := Load(Param("w").Base(), GP64())
	w := Mem{Base: GP64()}
	dst := Load(Param("dst").Base(), GP64())
	nr := Load(Param("nr"), GP64())
	s4 := Load(Param("stride"), GP64())
	SHLQ(U8(2), s4)
	q, dv, c, n := Mem{Base: GP64()}, Mem{Base: GP64()}, Mem{Base: GP64()}, GP64()
	high := []Register{Y16, Y17, Y18, Y19, Y20, Y21, Y22, Y23, Y24, Y25, Y26, Y27, Y28, Y29, Y30, Y31}
	acc := make([][2]Register, tileRows)
	for i := range acc {
		acc[i] = [2]Register{high[2*i], high[2*i+1]}
	}
	bias := broadcastD(0x80808080)

	const unroll = 4
	// block dots weight block k of the pass with the tile's rows, adding
	// into accumulator a of each row.
	block := func(k, a int) {
		wv, sc := YMM(), YMM()
		VMOVDQU(w.Offset(34*k+2), wv)
		VPXOR(bias, wv, wv)
		VPBROADCASTW(w.Offset(34*k), sc.AsX())
		VCVTPH2PS(sc.AsX(), sc)
		for i := 0; i < tileRows; i++ {
			u := tileRows*k + i
			isum, m := YMM(), YMM()
			// The zero idiom first: avo takes the vmovd for a partial
			// write, which would keep isum live from the start.
			VPXOR(isum, isum, isum)
			VMOVD(c.Offset(4*u), isum.AsX()) // clears the other lanes
			vpdpbusd(q.Offset(32*u), wv, isum)
			VCVTDQ2PS(isum, isum)
			VMULPS_BCST(dv.Offset(4*u), sc, m) // the scale broadcast: dv's ×8
			VFMADD231PS(isum, m, acc[i][a])
		}
	}
	advance := func(blocks int) {
		ADDQ(U32(34*blocks), w.Base)
		ADDQ(U32(tileRows*32*blocks), q.Base)
		ADDQ(U32(tileRows*4*blocks), dv.Base)
		ADDQ(U32(tileRows*4*blocks), c.Base)
	}

	TESTQ(nr, nr)
	JZ(LabelRef("norows"))
	Label("row")
	MOVQ(wrow, w.Base)
	Load(Param("qt").Base(), q.Base)
	Load(Param("dt").Base(), dv.Base)
	Load(Param("ct").Base(), c.Base)
	Load(Param("ct").Len(), n)
	SHRQ(U8(map[int]int{4: 2, 8: 3}[tileRows]), n) // blocks of one activation row
	for _, a := range acc {
		VPXORD(a[0], a[0], a[0])
		VPXORD(a[1], a[1], a[1])
	}
	Label("loop")
	CMPQ(n, U8(unroll))
	JL(LabelRef("tail"))
	for k := 0; k < unroll; k++ {
		block(k, k%2)
	}
	advance(unroll)
	SUBQ(U8(unroll), n)
	JMP(LabelRef("loop"))
	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	block(0, 0)
	advance(1)
	DECQ(n)
	JMP(LabelRef("tail"))

	Label("done")
	out := GP64()
	MOVQ(dst, out)
	for _, a := range acc {
		v, v1 := YMM(), YMM()
		VMOVAPS(a[0], v)
		VMOVAPS(a[1], v1)
		VADDPS(v1, v, v)
		storeLanes(v, out, s4)
	}
	ADDQ(U8(4), dst)
	rbArg, err := Param("rb").Resolve()
	if err != nil {
		panic(err)
	}
	ADDQ(rbArg.Addr, wrow)
	DECQ(nr)
	JNZ(LabelRef("row"))
	Label("norows")
	VZEROUPPER()
	RET()
}

// avx2Tile writes dot<name>AVX2x4, the AVX2 kernel of legacy32 for Q4_0
// or Q8_0 for tileRows activation rows at once: each weight block is
// unpacked (Q4_0) or made unsigned (Q8_0, |w|) and its scale converted
// once, then dotted with the block of each activation row. Each row keeps
// legacy32's two accumulators, fed in its order (blocks of the four-block
// loop alternate, tail blocks go to the first), and its per-block float
// work, so each result has the one-row kernel's bits.
//
// The activations come tiled as for dotQ8_0VNNIx4: per block, the rows'
// 32 quants one after another, then their scales (one each) and
// corrections (one each; Q8_0 has none on AVX2 and ignores them).
func avx2Tile(name string, bsize int) {
	kname := "dot" + name + "AVX2x4"
	TEXT(kname, NOSPLIT, "func(w []byte, qt []int8, dt []float32, ct []int32, dst []float32, nr int, rb int, stride int)")
	Pragma("noescape")
	Doc(kname + " dots nr " + name + " rows of w, rb bytes apart, with 4 activation rows tiled per block (quants qt, scales dt, corrections ct; len(ct)/4 blocks a row), activation row i of weight row r going to dst[i*stride+r].")
	wrow := Load(Param("w").Base(), GP64())
	w := Mem{Base: GP64()}
	dst := Load(Param("dst").Base(), GP64())
	nr := Load(Param("nr"), GP64())
	s4 := Load(Param("stride"), GP64())
	SHLQ(U8(2), s4)
	q, dv, c, n := Mem{Base: GP64()}, Mem{Base: GP64()}, Mem{Base: GP64()}, GP64()
	acc := make([][2]VecVirtual, tileRows)
	for i := range acc {
		acc[i] = [2]VecVirtual{YMM(), YMM()}
	}
	ones := broadcastD(0x00010001)
	var mask VecVirtual
	if name == "Q4_0" {
		mask = broadcastD(0x0f0f0f0f)
	}

	const unroll = 4
	// block dots weight block k of the pass with the tile's rows, adding
	// into accumulator a of each row.
	block := func(k, a int) {
		wb := w.Offset(bsize * k)
		u, sc := YMM(), YMM()
		var wv VecVirtual
		if name == "Q4_0" {
			lo, hi := XMM(), XMM()
			VMOVDQU(wb.Offset(2), lo)
			VPSRLW(U8(4), lo, hi)
			VINSERTI128(U8(1), hi, lo.AsY(), u)
			VPAND(mask, u, u)
		} else {
			wv = YMM()
			VMOVDQU(wb.Offset(2), wv)
			VPSIGNB(wv, wv, u)
		}
		VPBROADCASTW(wb, sc.AsX())
		VCVTPH2PS(sc.AsX(), sc)
		for i := 0; i < tileRows; i++ {
			o := tileRows*k + i
			xq := q.Offset(32 * o)
			isum, m := YMM(), YMM()
			if name == "Q4_0" {
				corr := XMM()
				VMOVD(c.Offset(4*o), corr)
				VPMADDUBSW(xq, u, isum)
				VPMADDWD(ones, isum, isum)
				VPADDD(corr.AsY(), isum, isum)
			} else {
				xv := YMM()
				VMOVDQU(xq, xv)
				VPSIGNB(wv, xv, xv)
				VPMADDUBSW(xv, u, isum)
				VPMADDWD(ones, isum, isum)
			}
			VCVTDQ2PS(isum, isum)
			VBROADCASTSS(dv.Offset(4*o), m) // legacy32's dv, the scale ×8
			VMULPS(m, sc, m)
			VFMADD231PS(isum, m, acc[i][a])
		}
	}
	advance := func(blocks int) {
		ADDQ(U32(bsize*blocks), w.Base)
		ADDQ(U32(tileRows*32*blocks), q.Base)
		ADDQ(U32(tileRows*4*blocks), dv.Base)
		ADDQ(U32(tileRows*4*blocks), c.Base)
	}

	TESTQ(nr, nr)
	JZ(LabelRef("norows"))
	Label("row")
	MOVQ(wrow, w.Base)
	Load(Param("qt").Base(), q.Base)
	Load(Param("dt").Base(), dv.Base)
	Load(Param("ct").Base(), c.Base)
	Load(Param("ct").Len(), n)
	SHRQ(U8(2), n) // blocks of one activation row
	for _, a := range acc {
		VXORPS(a[0], a[0], a[0])
		VXORPS(a[1], a[1], a[1])
	}
	Label("loop")
	CMPQ(n, U8(unroll))
	JL(LabelRef("tail"))
	for k := 0; k < unroll; k++ {
		block(k, k%2)
	}
	advance(unroll)
	SUBQ(U8(unroll), n)
	JMP(LabelRef("loop"))
	Label("tail")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	block(0, 0)
	advance(1)
	DECQ(n)
	JMP(LabelRef("tail"))

	Label("done")
	out := GP64()
	MOVQ(dst, out)
	for _, a := range acc {
		VADDPS(a[1], a[0], a[0])
		storeLanes(a[0], out, s4)
	}
	ADDQ(U8(4), dst)
	rbArg, err := Param("rb").Resolve()
	if err != nil {
		panic(err)
	}
	ADDQ(rbArg.Addr, wrow)
	DECQ(nr)
	JNZ(LabelRef("row"))
	Label("norows")
	VZEROUPPER()
	RET()
}

// q4KAVX2Tile writes dotQ4_KAVX2x4, the AVX2 kernel of q4K for tileRows
// activation rows at once: per weight block the scales and mins are
// unpacked, the nibbles split (kept in eight registers) and the scale
// words broadcast (kept on the stack with the mins and d, dmin: AVX2 has
// only 16 registers) once, then each activation row's block is dotted
// with them. The integer sums are exact and the float work is q4K's, so
// each result has the one-row kernel's bits. The activations are tiled as
// for dotQ4_KVNNIx4.
func q4KAVX2Tile() {
	TEXT("dotQ4_KAVX2x4", NOSPLIT, "func(w []byte, qt []int8, dt []float32, st []int32, dst []float32, nr int, rb int, stride int)")
	Pragma("noescape")
	Doc("dotQ4_KAVX2x4 dots nr Q4_K rows of w, rb bytes apart, with 4 activation rows tiled per block (quants qt, scales dt, sums of 32 st; len(dt)/4 blocks a row), activation row i of weight row r going to dst[i*stride+r].")
	scw := AllocLocal(8 * 32) // sub-block j's scale words
	minsL := AllocLocal(32)   // the mins as int32
	dwL := AllocLocal(16)     // d and dmin as float32
	wrow := Load(Param("w").Base(), GP64())
	w := Mem{Base: GP64()}
	dst := Load(Param("dst").Base(), GP64())
	nr := Load(Param("nr"), GP64())
	s4 := Load(Param("stride"), GP64())
	SHLQ(U8(2), s4)
	q, d, sm, n := Mem{Base: GP64()}, Mem{Base: GP64()}, Mem{Base: GP64()}, GP64()
	acc := []VecVirtual{YMM(), YMM(), YMM(), YMM()}
	shuf := shufTables(isa{"AVX2", false})
	kShuf := q4KScaleTables()
	nibMask := GLOBL("q4kMaskAVX2x4", RODATA|NOPTR)
	for k := 0; k < 8; k++ {
		DATA(4*k, U32(0x0f0f0f0f))
	}

	TESTQ(nr, nr)
	JZ(LabelRef("norows"))
	Label("row")
	MOVQ(wrow, w.Base)
	Load(Param("qt").Base(), q.Base)
	Load(Param("dt").Base(), d.Base)
	Load(Param("st").Base(), sm.Base)
	Load(Param("dt").Len(), n)
	SHRQ(U8(2), n) // blocks of one activation row
	for _, a := range acc {
		VXORPS(a, a, a)
	}
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))

	// q4K's scale and min unpacking.
	raw, pv, qv, p4 := XMM(), XMM(), XMM(), XMM()
	VMOVDQU(w.Offset(4), raw)
	VPSHUFB(kShuf[0], raw, pv)
	VPSHUFB(kShuf[1], raw, qv)
	VPSRLW(U8(4), pv, p4)
	VPBLENDD(U8(8), p4, pv, pv)
	VPAND(kShuf[2], pv, pv)
	VPSRLW(U8(2), qv, qv)
	VPAND(kShuf[3], qv, qv)
	VPOR(qv, pv, pv)
	sc := YMM()
	VPMOVZXBW(pv, sc.AsX())
	VINSERTI128(U8(1), sc.AsX(), sc, sc)
	mins := YMM()
	VPSRLDQ(U8(8), pv, pv)
	VPMOVZXBD(pv, mins)
	VMOVDQU(mins, minsL)
	for j := 0; j < 8; j++ {
		t := YMM()
		VPSHUFB(shuf[j], sc, t)
		VMOVDQU(t, scw.Offset(32*j))
	}
	dw := XMM()
	VMOVD(w, dw)
	VCVTPH2PS(dw, dw)
	VMOVUPS(dw, dwL)
	nib := make([]VecVirtual, 8) // sub-block j's quants
	for p := 0; p < 4; p++ {
		raw := YMM()
		VMOVDQU(w.Offset(16+32*p), raw)
		lo, hi := YMM(), YMM()
		VPAND(nibMask, raw, lo)
		VPSRLW(U8(4), raw, hi)
		VPAND(nibMask, hi, hi)
		nib[2*p], nib[2*p+1] = lo, hi
	}

	for i := 0; i < tileRows; i++ {
		xq := q.Offset(256 * i)
		isum := YMM()
		for j := range nib {
			p16 := YMM()
			VPMADDUBSW(xq.Offset(32*j), nib[j], p16)
			VPMADDWD(scw.Offset(32*j), p16, p16)
			if j == 0 {
				isum = p16
			} else {
				VPADDD(p16, isum, isum)
			}
		}
		mi := YMM()
		VMOVDQU(sm.Offset(32*i), mi)
		VPMULLD(minsL, mi, mi)
		VCVTDQ2PS(isum, isum)
		VCVTDQ2PS(mi, mi)
		dx, dd, dm := XMM(), YMM(), YMM()
		VBROADCASTSS(d.Offset(4*i), dd.AsX())
		VMULPS(dwL, dd.AsX(), dx)
		VBROADCASTSS(dx, dd)
		VMOVSHDUP(dx, dx)
		VFMADD231PS(isum, dd, acc[i])
		VBROADCASTSS(dx, dm)
		VFNMADD231PS(mi, dm, acc[i])
	}

	ADDQ(U32(144), w.Base)
	ADDQ(U32(tileRows*256), q.Base)
	ADDQ(U32(tileRows*4), d.Base)
	ADDQ(U32(tileRows*32), sm.Base)
	DECQ(n)
	JMP(LabelRef("loop"))

	Label("done")
	out := GP64()
	MOVQ(dst, out)
	for _, a := range acc {
		storeLanes(a, out, s4)
	}
	ADDQ(U8(4), dst)
	rbArg, err := Param("rb").Resolve()
	if err != nil {
		panic(err)
	}
	ADDQ(rbArg.Addr, wrow)
	DECQ(nr)
	JNZ(LabelRef("row"))
	Label("norows")
	VZEROUPPER()
	RET()
}

// q4KTile writes dotQ4_KVNNIx4, the VNNI Q4_K kernel of q4K for tileRows
// activation rows at once: per weight block the scales and mins are
// unpacked and the nibbles split once, then each activation row's block
// is dotted with them. Per pair of sub-blocks (j, j+1) the kernel takes
// the unscaled sums of four products with vpdpbusd (S_j, S_j+1 per lane,
// |S| <= 4·15·127 < 2^15), packs them into the low and high words of one
// register and scales and adds both with one vpdpwssd against the words
// (sc_j, sc_j+1): 1.5 multiply instructions per sub-block instead of
// q4K's vpmaddubsw and vpdpwssd, with the same int32 lanes exactly. The
// float work (converts, the products of the scales, the two FMAs) is
// q4K's, so each result has the one-row kernel's bits.
//
// The activations come tiled (see acts.prepareTiles): per block, the
// tileRows rows' 256 quants one after another, then likewise their scales
// (one each) and sums of 32 (eight each). Only EVEX-encodable
// instructions are used, so that the allocator may use all 32 registers.
func q4KTile(tileRows int) {
	name := fmt.Sprintf("dotQ4_KVNNIx%d", tileRows)
	TEXT(name, NOSPLIT, "func(w []byte, qt []int8, dt []float32, st []int32, dst []float32, nr int, rb int, stride int)")
	Pragma("noescape")
	Doc(name + fmt.Sprintf(" dots nr Q4_K rows of w, rb bytes apart, with %d activation rows", tileRows) + " tiled per block (quants qt, scales dt, sums of 32 st; len(dt)/4 blocks a row), activation row i of weight row r going to dst[i*stride+r].")
	wrow := Load(Param("w").Base(), GP64())
	w := Mem{Base: GP64()}
	dst := Load(Param("dst").Base(), GP64())
	nr := Load(Param("nr"), GP64())
	s4 := Load(Param("stride"), GP64())
	SHLQ(U8(2), s4)
	q, d, sm, n := Mem{Base: GP64()}, Mem{Base: GP64()}, Mem{Base: GP64()}, GP64()
	acc := make([]VecVirtual, tileRows)
	for i := range acc {
		acc[i] = YMM()
	}
	// Registers are cleared by copying zero (avo sees vpxord x, x, x as a
	// read of x, which would keep x live from the start).
	zero := YMM()
	VPXORD(zero, zero, zero)
	clear := func(v VecVirtual) { VMOVDQA32(zero, v) }
	mask := YMM()
	{
		g := GP32()
		MOVL(U32(0x0f0f0f0f), g)
		VPBROADCASTD(g, mask)
	}
	// dword3 selects dword 3 (q4K's vpblendd $8); odd selects the odd
	// words.
	dword3, odd := K(), K()
	{
		g := GP32()
		MOVL(U32(8), g)
		KMOVW(g, dword3)
		MOVL(U32(0xaaaa), g)
		KMOVW(g, odd)
	}
	kShuf := q4KScaleTables()
	// Table p puts scale words 2p and 2p+1 in the low and high word of
	// every dword.
	pairShuf := make([]Mem, 4)
	for p := range pairShuf {
		pairShuf[p] = GLOBL(fmt.Sprintf("q4kPairShuf%d%d", tileRows, p), RODATA|NOPTR)
		for k := 0; k < 32; k++ {
			DATA(k, U8(4*p+k%4))
		}
	}

	TESTQ(nr, nr)
	JZ(LabelRef("norows"))
	Label("row")
	MOVQ(wrow, w.Base)
	Load(Param("qt").Base(), q.Base)
	Load(Param("dt").Base(), d.Base)
	Load(Param("st").Base(), sm.Base)
	Load(Param("dt").Len(), n)
	SHRQ(U8(map[int]int{4: 2, 8: 3}[tileRows]), n) // blocks of one activation row
	for _, a := range acc {
		clear(a)
	}
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))

	// q4K's scale and min unpacking.
	raw, pv, qv, p4 := XMM(), XMM(), XMM(), XMM()
	VMOVDQU32(w.Offset(4), raw)
	VPSHUFB(kShuf[0], raw, pv)
	VPSHUFB(kShuf[1], raw, qv)
	VPSRLW(U8(4), pv, p4)
	VMOVDQU32(p4, dword3, pv)
	VPANDD(kShuf[2], pv, pv)
	VPSRLW(U8(2), qv, qv)
	VPANDD(kShuf[3], qv, qv)
	VPORD(qv, pv, pv)
	sc := YMM()
	VPMOVZXBW(pv, sc.AsX())
	VINSERTI32X4(U8(1), sc.AsX(), sc, sc)
	mins := YMM()
	VPSRLDQ(U8(8), pv, pv)
	VPMOVZXBD(pv, mins)
	scp := make([]VecVirtual, 4) // sub-blocks 2p and 2p+1's scale words
	for p := range scp {
		scp[p] = YMM()
		VPSHUFB(pairShuf[p], sc, scp[p])
	}
	nib := make([]VecVirtual, 8) // sub-block j's quants
	for p := 0; p < 4; p++ {
		raw := YMM()
		VMOVDQU32(w.Offset(16+32*p), raw)
		lo, hi := YMM(), YMM()
		VPANDD(mask, raw, lo)
		VPSRLW(U8(4), raw, hi)
		VPANDD(mask, hi, hi)
		nib[2*p], nib[2*p+1] = lo, hi
	}
	// d and dmin of the weights, each broadcast.
	dw, dwB, dmB := XMM(), YMM(), YMM()
	VMOVD(w, dw)
	VCVTPH2PS(dw, dw)
	VBROADCASTSS(dw, dwB)
	VMOVSHDUP(dw, dw)
	VBROADCASTSS(dw, dmB)

	for i := 0; i < tileRows; i++ {
		xq := q.Offset(256 * i)
		parts := []VecVirtual{YMM(), YMM()}
		for _, v := range parts {
			clear(v)
		}
		for p := 0; p < 4; p++ {
			sa, sb := YMM(), YMM()
			clear(sa)
			clear(sb)
			vpdpbusd(xq.Offset(64*p), nib[2*p], sa)
			vpdpbusd(xq.Offset(64*p+32), nib[2*p+1], sb)
			VPSLLD(U8(16), sb, sb)
			VMOVDQU16(sb, odd, sa) // S_2p in the low words, S_2p+1 in the high
			vpdpwssd(scp[p], sa, parts[p%2])
		}
		isum := parts[0]
		VPADDD(parts[1], isum, isum)
		mi := YMM()
		VPMULLD(sm.Offset(32*i), mins, mi)
		VCVTDQ2PS(isum, isum)
		VCVTDQ2PS(mi, mi)
		// q4K's products d_x·d and d_x·dmin, each broadcast.
		dx, dd, dm := YMM(), YMM(), YMM()
		VBROADCASTSS(d.Offset(4*i), dx)
		VMULPS(dx, dwB, dd)
		VMULPS(dx, dmB, dm)
		VFMADD231PS(isum, dd, acc[i])
		VFNMADD231PS(mi, dm, acc[i])
	}

	ADDQ(U32(144), w.Base)
	ADDQ(U32(tileRows*256), q.Base)
	ADDQ(U32(tileRows*4), d.Base)
	ADDQ(U32(tileRows*32), sm.Base)
	DECQ(n)
	JMP(LabelRef("loop"))

	Label("done")
	out := GP64()
	MOVQ(dst, out)
	for _, a := range acc {
		v := YMM()
		VMOVAPS(a, v)
		storeLanes(v, out, s4)
	}
	ADDQ(U8(4), dst)
	rbArg, err := Param("rb").Resolve()
	if err != nil {
		panic(err)
	}
	ADDQ(rbArg.Addr, wrow)
	DECQ(nr)
	JNZ(LabelRef("row"))
	Label("norows")
	VZEROUPPER()
	RET()
}

// storeLanes sums v's lanes as finish does, stores the sum to (out) and
// advances out by s4 bytes (one output row).
func storeLanes(v VecVirtual, out, s4 Register) {
	hiX, loX := XMM(), XMM()
	VEXTRACTF128(U8(1), v, hiX)
	VADDPS(hiX, v.AsX(), hiX)
	VMOVHLPS(hiX, hiX, loX)
	VADDPS(loX, hiX, hiX)
	VPSHUFD(U8(1), hiX, loX)
	VADDSS(loX, hiX, hiX)
	VMOVSS(hiX, Mem{Base: out})
	ADDQ(s4, out)
}

// vpdpbusdR is vpdpbusd with a physical unsigned operand.
func vpdpbusdR(s Mem, u Register, acc VecVirtual) {
	Instruction(&ir.Instruction{Opcode: "VPDPBUSD", Operands: []Op{s, u, acc}, Inputs: []Op{u, acc, s}, Outputs: []Op{acc}, ISA: []string{"AVX512_VNNI", "AVX512VL"}})
}

// memSum emits memSumAVX2, the read loop of the MemRead benchmark: eight
// 32-byte loads per 256 bytes into four independent accumulators, so that
// the loop issues loads as fast as the core can and the figure is the
// memory's, not the loop's.
func memSum() {
	TEXT("memSumAVX2", NOSPLIT, "func(b []byte) uint64")
	Pragma("noescape")
	Doc("memSumAVX2 returns the sum of b's leading whole 256-byte blocks read as uint64s (mod 2^64).")
	p := Mem{Base: Load(Param("b").Base(), GP64())}
	n := Load(Param("b").Len(), GP64())
	SHRQ(U8(8), n)
	acc := []VecVirtual{YMM(), YMM(), YMM(), YMM()}
	for _, a := range acc {
		VPXOR(a, a, a)
	}
	Label("memloop")
	TESTQ(n, n)
	JZ(LabelRef("memdone"))
	for k := 0; k < 8; k++ {
		VPADDQ(p.Offset(32*k), acc[k%4], acc[k%4])
	}
	ADDQ(U32(256), p.Base)
	DECQ(n)
	JMP(LabelRef("memloop"))
	Label("memdone")
	VPADDQ(acc[1], acc[0], acc[0])
	VPADDQ(acc[3], acc[2], acc[2])
	VPADDQ(acc[2], acc[0], acc[0])
	hi := XMM()
	VEXTRACTI128(U8(1), acc[0], hi)
	VPADDQ(hi, acc[0].AsX(), hi)
	lo := GP64()
	VPEXTRQ(U8(1), hi, lo)
	r := GP64()
	VMOVQ(hi, r)
	ADDQ(lo, r)
	VZEROUPPER()
	Store(r, ReturnIndex(0))
	RET()
}

// quant32 emits quant32VNNI, acts.prepare's quantiser of 32-element
// activation blocks for the AVX-512 level, bit for bit what quantBlock32
// and the loop around it compute. Per block: amax = max |x| (NaN lanes
// ignored, as the Go comparison does), d = amax/127, id = 127/amax (0
// when amax is 0), q = round-half-even(x·id) truncated to 8 bits (the
// Go conversion int8(int32) does the same, and cvtps2dq gives 0x80000000
// where nearestInt gives another value whose low byte is also 0), the
// sum of q as int8, d and d·sum rounded to binary16 (vcvtps2ph, RNE), dv
// = d repeated 8 times and c = -bias·sum.
func quant32() {
	TEXT("quant32VNNI", NOSPLIT, "func(x []float32, q []int8, d []float32, s []int32, ms []float32, dv []float32, c []int32, bias int32)")
	Pragma("noescape")
	Doc("quant32VNNI quantises len(d) blocks of 32 activations x into q, d, s, ms, dv and c as acts.prepare does for act32 types (bias: 8 for Q4_0, 16 for Q5_0, 128 for Q8_0, else 0).")
	x := Mem{Base: Load(Param("x").Base(), GP64())}
	q := Mem{Base: Load(Param("q").Base(), GP64())}
	d := Mem{Base: Load(Param("d").Base(), GP64())}
	sp := Mem{Base: Load(Param("s").Base(), GP64())}
	ms := Mem{Base: Load(Param("ms").Base(), GP64())}
	dv := Mem{Base: Load(Param("dv").Base(), GP64())}
	c := Mem{Base: Load(Param("c").Base(), GP64())}
	n := Load(Param("d").Len(), GP64())
	nb := XMM()
	{
		g := GP32()
		Load(Param("bias"), g)
		NEGL(g)
		VMOVD(g, nb)
	}
	abs, zero := ZMM(), ZMM()
	{
		g := GP32()
		MOVL(U32(0x7fffffff), g)
		VPBROADCASTD(g, abs)
		VPXORD(zero, zero, zero)
	}
	k127 := XMM()
	{
		g := GP32()
		MOVL(U32(0x42fe0000), g) // 127.0
		VMOVD(g, k127)
	}

	Label("qloop")
	TESTQ(n, n)
	JZ(LabelRef("qdone"))
	v0, v1, a0, a1, m := ZMM(), ZMM(), ZMM(), ZMM(), ZMM()
	VMOVUPS(x, v0)
	VMOVUPS(x.Offset(64), v1)
	VPANDD(abs, v0, a0)
	VPANDD(abs, v1, a1)
	// VMAXPS returns its second source (in Intel order; the first operand
	// here) unless the other is greater: NaN lanes of a0/a1 lose.
	VMAXPS(zero, a0, m)
	VMAXPS(m, a1, m)
	h := YMM()
	VEXTRACTF64X4(U8(1), m, h)
	VMAXPS(h, m.AsY(), h)
	l, t := XMM(), XMM()
	VEXTRACTF128(U8(1), h, l)
	VMAXPS(l, h.AsX(), l)
	VPERMILPS(U8(0x4e), l, t)
	VMAXPS(t, l, l)
	VPERMILPS(U8(0xb1), l, t)
	VMAXPS(t, l, l) // amax in every lane
	dd, id := XMM(), XMM()
	VDIVSS(k127, l, dd)             // amax/127
	VDIVSS(l, k127, id)             // 127/amax
	VCMPSS(U8(4), zero.AsX(), l, t) // amax != 0
	VANDPS(t, id, id)
	idz := ZMM()
	VBROADCASTSS(id, idz)
	VMULPS(idz, v0, v0)
	VMULPS(idz, v1, v1)
	VCVTPS2DQ(v0, v0)
	VCVTPS2DQ(v1, v1)
	VPMOVDB(v0, q)
	VPMOVDB(v1, q.Offset(16))
	// The sum of the int8 values: sign-extend the low bytes back.
	VPSLLD(U8(24), v0, v0)
	VPSRAD(U8(24), v0, v0)
	VPSLLD(U8(24), v1, v1)
	VPSRAD(U8(24), v1, v1)
	VPADDD(v1, v0, v0)
	sy := YMM()
	VEXTRACTI64X4(U8(1), v0, sy)
	VPADDD(sy, v0.AsY(), sy)
	sx := XMM()
	VEXTRACTI128(U8(1), sy, sx)
	VPADDD(sx, sy.AsX(), sx)
	VPSHUFD(U8(0x4e), sx, t)
	VPADDD(t, sx, sx)
	VPSHUFD(U8(0xb1), sx, t)
	VPADDD(t, sx, sx) // sum in every lane
	VMOVD(sx, sp)
	VPMULLD(nb, sx, t)
	VMOVD(t, c)
	// ms = f16(d·sum) with the unrounded d; then d itself rounded.
	VCVTDQ2PS(sx, t)
	VMULSS(dd, t, t)
	VCVTPS2PH(U8(0), t, t)
	VCVTPH2PS(t, t)
	VMOVSS(t, ms)
	VCVTPS2PH(U8(0), dd, dd)
	VCVTPH2PS(dd, dd)
	VMOVSS(dd, d)
	dy := YMM()
	VBROADCASTSS(dd, dy)
	VMOVUPS(dy, dv)

	ADDQ(U32(128), x.Base)
	ADDQ(U32(32), q.Base)
	ADDQ(U32(4), d.Base)
	ADDQ(U32(4), sp.Base)
	ADDQ(U32(4), ms.Base)
	ADDQ(U32(32), dv.Base)
	ADDQ(U32(4), c.Base)
	DECQ(n)
	JMP(LabelRef("qloop"))
	Label("qdone")
	VZEROUPPER()
	RET()
}

// quantK emits quantKVNNI, acts.prepare's quantiser of 256-element (Q8_K)
// activation blocks for the AVX-512 level, bit for bit what quantBlockK
// and the sums after it compute: maxv is the first element of largest
// magnitude (NaNs ignored), iscale = -127/maxv, q = min(127,
// round-half-even(iscale·x)) truncated to 8 bits (where nearestInt and
// cvtps2dq differ, on NaN and ±Inf products, both low bytes are 0), d =
// 1/iscale; a block whose largest magnitude is 0 gets zero quants, scale
// and sums. The sums of 16 come from vpsadbw on the quants biased to
// unsigned.
func quantK() {
	TEXT("quantKVNNI", NOSPLIT, "func(x []float32, q []int8, d []float32, s []int32, s32 []int32)")
	Pragma("noescape")
	Doc("quantKVNNI quantises len(d) blocks of 256 activations x into q, d, s (sums of 16) and s32 (sums of 32) as acts.prepare does for actK types.")
	x := Mem{Base: Load(Param("x").Base(), GP64())}
	q := Mem{Base: Load(Param("q").Base(), GP64())}
	d := Mem{Base: Load(Param("d").Base(), GP64())}
	sp := Mem{Base: Load(Param("s").Base(), GP64())}
	s32 := Mem{Base: Load(Param("s32").Base(), GP64())}
	n := Load(Param("d").Len(), GP64())
	bcast := func(v uint32) VecVirtual {
		g, z := GP32(), ZMM()
		MOVL(U32(v), g)
		VPBROADCASTD(g, z)
		return z
	}
	abs, zero := bcast(0x7fffffff), ZMM()
	VPXORD(zero, zero, zero)
	k127 := bcast(127)
	bias := bcast(0x80808080)
	order := GLOBL(gname("qkSumOrder"), RODATA|NOPTR)
	for i, v := range []uint32{0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15} {
		DATA(4*i, U32(v))
	}
	idx := ZMM()
	VMOVDQU32(order, idx)

	Label("kloop")
	TESTQ(n, n)
	JZ(LabelRef("kdone"))
	m := ZMM()
	VPXORD(m, m, m)
	for j := 0; j < 16; j++ {
		a := ZMM()
		VPANDD(x.Offset(64*j), abs, a)
		VMAXPS(m, a, m) // a > m ? a : m: NaN lanes lose
	}
	h := YMM()
	VEXTRACTF64X4(U8(1), m, h)
	VMAXPS(h, m.AsY(), h)
	l, t := XMM(), XMM()
	VEXTRACTF128(U8(1), h, l)
	VMAXPS(l, h.AsX(), l)
	VPERMILPS(U8(0x4e), l, t)
	VMAXPS(t, l, l)
	VPERMILPS(U8(0xb1), l, t)
	VMAXPS(t, l, l) // amax in every lane
	VUCOMISS(zero.AsX(), l)
	JE(LabelRef("kzero"))
	// The first element whose magnitude is amax.
	am := ZMM()
	VBROADCASTSS(l, am)
	base, bits := GP64(), GP64()
	for j := 0; j < 16; j++ {
		a, k := ZMM(), K()
		VPANDD(x.Offset(64*j), abs, a)
		VCMPPS(U8(0), am, a, k)
		MOVQ(U32(16*j), base)
		KMOVW(k, bits.As32())
		TESTL(bits.As32(), bits.As32())
		JNZ(LabelRef("kfound"))
	}
	Label("kfound")
	TZCNTL(bits.As32(), bits.As32())
	ADDQ(base, bits)
	mv, is := XMM(), XMM()
	VMOVSS(Mem{Base: x.Base, Index: bits, Scale: 4}, mv)
	g := GP32()
	MOVL(U32(0xc2fe0000), g) // -127.0
	VMOVD(g, is)
	VDIVSS(mv, is, is)       // -127/maxv
	MOVL(U32(0x3f800000), g) // 1.0
	VMOVD(g, t)
	VDIVSS(is, t, t) // 1/iscale
	VMOVSS(t, d)
	isz := ZMM()
	VBROADCASTSS(is, isz)
	for j := 0; j < 16; j++ {
		p := ZMM()
		VMULPS(x.Offset(64*j), isz, p)
		VCVTPS2DQ(p, p)
		VPMINSD(k127, p, p)
		VPMOVDB(p, q.Offset(16*j))
	}
	// Sums of 16: vpsadbw adds 8 unsigned bytes per qword, so bias the
	// quants by 128 and take 16·128 off the sums.
	var pairs [2]VecVirtual
	for h := 0; h < 2; h++ {
		p := [2]VecVirtual{}
		for i := range p {
			u := ZMM()
			VPXORD(q.Offset(128*h+64*i), bias, u)
			VPSADBW(zero, u, u)
			p[i] = u
		}
		lo, hi := ZMM(), ZMM()
		VPUNPCKLQDQ(p[1], p[0], lo)
		VPUNPCKHQDQ(p[1], p[0], hi)
		VPADDQ(hi, lo, lo)
		pairs[h] = lo
	}
	y0, y1 := YMM(), YMM()
	VPMOVQD(pairs[0], y0)
	VPMOVQD(pairs[1], y1)
	all := ZMM()
	VINSERTI64X4(U8(1), y1, y0.AsZ(), all)
	VPERMD(all, idx, all)
	off := bcast(16 * 128)
	VPSUBD(off, all, all)
	VMOVDQU32(all, sp)
	pr := ZMM()
	VPSRLQ(U8(32), all, pr)
	VPADDD(pr, all, pr)
	VPMOVQD(pr, s32)
	JMP(LabelRef("knext"))

	Label("kzero")
	for j := 0; j < 4; j++ {
		VMOVDQU32(zero, q.Offset(64*j))
	}
	VMOVDQU32(zero, sp)
	VMOVDQU(zero.AsY(), s32)
	VMOVSS(zero.AsX(), d)

	Label("knext")
	ADDQ(U32(1024), x.Base)
	ADDQ(U32(256), q.Base)
	ADDQ(U32(4), d.Base)
	ADDQ(U32(64), sp.Base)
	ADDQ(U32(32), s32.Base)
	DECQ(n)
	JMP(LabelRef("kloop"))
	Label("kdone")
	VZEROUPPER()
	RET()
}

// q41Wide writes dotQ4_1VNNI8, q40Wide's kernel for Q4_1 (20-byte blocks:
// d, m, 16 bytes of nibbles read unsigned, no correction). The eight
// blocks' d|m<<16 dwords (at bytes 20b) come from one dword permutation
// of the group's bytes 0-63 and 80-143, already in the order 0,2,4,6,
// 1,3,5,7 of the int32 sums; the min term is one more FMA per group with
// mp, ggml's Q8_1 s of each activation block in that order.
//
// Reference loop (per block b, as in legacy32):
//
//	sum += float32(Σ_j wq[j]*xq[j]) * (d_w * d_x) + m_w * ms[b]
func q41Wide() {
	kernelText("dotQ4_1VNNI8", "func(w []byte, qp []int8, dp []float32, mp []float32) float32",
		"dotQ4_1VNNI8 dots a Q4_1 row with activations prepared in groups of eight blocks (quants qp, scales dp, scaled block sums mp); len(mp) blocks, a multiple of 8.")
	w := Mem{Base: Load(Param("w").Base(), GP64())}
	q := Mem{Base: Load(Param("qp").Base(), GP64())}
	dp := Mem{Base: Load(Param("dp").Base(), GP64())}
	mp := Mem{Base: Load(Param("mp").Base(), GP64())}
	n := Load(Param("mp").Len(), GP64())
	SHRQ(U8(3), n)

	acc, accm := YMM(), YMM()
	VXORPS(acc, acc, acc)
	VXORPS(accm, accm, accm)
	mask := broadcastD(0x0f0f0f0f)
	idx := GLOBL(gname("q41ScaleIdx"), RODATA|NOPTR)
	// Block b's dword is 5b of bytes 0-63 (b < 4) or 5(b-4) of bytes
	// 80-143, the second table (indices 16 and up).
	for k, b := range []int{0, 2, 4, 6, 1, 3, 5, 7} {
		i := 5 * b
		if b >= 4 {
			i = 16 + 5*(b-4)
		}
		DATA(4*k, U32(uint32(i)))
	}
	for k := 8; k < 16; k++ {
		DATA(4*k, U32(0))
	}
	scaleIdx := ZMM()
	VMOVDQU64(idx, scaleIdx)

	rs := rowStart([]VecVirtual{acc, accm}, func() {
		Load(Param("qp").Base(), q.Base)
		Load(Param("dp").Base(), dp.Base)
		Load(Param("mp").Base(), mp.Base)
		Load(Param("mp").Len(), n)
		SHRQ(U8(3), n)
	})
	Label("loop")
	TESTQ(n, n)
	JZ(LabelRef("done"))
	prefetch(w, 8*20, PREFETCHNTA)
	t := q4BlockSums(w, q, mask, 20, 4)
	VCVTDQ2PS(t, t)
	tab := ZMM()
	VMOVDQU64(w, tab)
	VPERMT2D(w.Offset(80), scaleIdx, tab)
	dm, sc, mm := XMM(), YMM(), YMM()
	VPMOVDW(tab.AsY(), dm)
	VCVTPH2PS(dm, sc)
	VPSRLD(U8(16), tab.AsY(), tab.AsY())
	VPMOVDW(tab.AsY(), dm)
	VCVTPH2PS(dm, mm)
	VMULPS(dp, sc, sc)
	VFMADD231PS(t, sc, acc)
	VFMADD231PS(mp, mm, accm)

	ADDQ(U32(8*20), w.Base)
	ADDQ(U32(8*32), q.Base)
	ADDQ(U32(32), dp.Base)
	ADDQ(U32(32), mp.Base)
	DECQ(n)
	JMP(LabelRef("loop"))

	Label("done")
	finish(rs, []VecVirtual{acc, accm})
}

// q4KScaleTables returns the constants of q4K's scale unpacking: the two
// byte shuffles and the two masks (emitted once per mode).
func q4KScaleTables() []Mem {
	tabs := [][16]byte{
		{0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11},
		{0x80, 0x80, 0x80, 0x80, 0, 1, 2, 3, 0x80, 0x80, 0x80, 0x80, 4, 5, 6, 7},
		{63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 15, 15, 15, 15},
		{0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30, 0, 0, 0, 0, 0x30, 0x30, 0x30, 0x30},
	}
	key := gname("q4kScale")
	if m, ok := shufCache[key]; ok {
		return m
	}
	var out []Mem
	for i, t := range tabs {
		m := GLOBL(fmt.Sprintf("%s%d", key, i), RODATA|NOPTR)
		for j, b := range t {
			DATA(j, U8(b))
		}
		out = append(out, m)
	}
	shufCache[key] = out
	return out
}
