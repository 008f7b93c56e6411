//go:build avogen

// Command gen writes the GEMM microkernels of package
// internal/asm/gemm with avo. Run it through go generate in that package:
//
//	go generate ./internal/asm/gemm
//
// It is behind the avogen build tag so that ordinary builds and vet never
// compile it.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// isa is one instruction-set level: its vector width and the number of
// vectors a microkernel row spans.
type isa struct {
	name  string // suffix of the kernel names
	bytes int    // vector width in bytes
	rows  int    // largest MR
	vecs  int    // vectors per row of the tile (NR = vecs*lanes)
	vec   func() VecVirtual
}

// elem is one element type with its instruction mnemonics.
type elem struct {
	name, goType string
	size         int
	bcastFMA     func(...Op) // FMA with an embedded broadcast memory operand (AVX-512)
	fma          func(...Op)
	broadcast    func(...Op)
	load, store  func(...Op)
	add          func(...Op)
	xor          func(...Op)
}

var (
	avx2   = isa{name: "AVX2", bytes: 32, rows: 6, vecs: 2, vec: YMM}
	avx512 = isa{name: "AVX512", bytes: 64, rows: 14, vecs: 2, vec: ZMM}

	f32 = elem{name: "S", goType: "float32", size: 4, bcastFMA: VFMADD231PS_BCST, fma: VFMADD231PS,
		broadcast: VBROADCASTSS, load: VMOVUPS, store: VMOVUPS, add: VADDPS, xor: VXORPS}
	f64 = elem{name: "D", goType: "float64", size: 8, bcastFMA: VFMADD231PD_BCST, fma: VFMADD231PD,
		broadcast: VBROADCASTSD, load: VMOVUPD, store: VMOVUPD, add: VADDPD, xor: VXORPD}
)

func main() {
	ConstraintExpr("!noasm")
	for _, e := range []elem{f32, f64} {
		for _, s := range []isa{avx2, avx512} {
			for mr := 1; mr <= s.rows; mr++ {
				kernel(s, e, mr)
			}
			gemv(s, e)
			for r := 1; r <= dotRows; r++ {
				dots(s, e, r)
			}
		}
	}
	Generate()
}

// kernel emits <e>gemm<isa>x<mr>, which computes an mr x NR tile
//
//	for p < kc: for i < mr: for j < NR: t[i][j] += a[p*mr+i] * b[p*ldb+j]
//	c[i*ldc+j] = t[i][j]        (flags&1 == 0)
//	c[i*ldc+j] += t[i][j]       (flags&1 == 1)
//
// keeping t in registers. a is a packed panel of mr rows; b is NR columns
// with row stride ldb elements (a packed panel has ldb == NR, but the
// kernel also streams an unpacked matrix).
func kernel(s isa, e elem, mr int) {
	lanes := s.bytes / e.size
	nr := s.vecs * lanes
	name := fmt.Sprintf("%sgemm%sx%d", e.name, s.name, mr)
	TEXT(name, NOSPLIT, fmt.Sprintf("func(kc int, a, b *%s, ldb int, c *%s, ldc int, flags int)", e.goType, e.goType))
	Doc(fmt.Sprintf("%s computes a %dx%d tile of C from a packed %d-row panel of A and %d columns of B (see package doc).", name, mr, nr, mr, nr))

	kc := Load(Param("kc"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(log2(e.size)), ldb)

	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, s.vecs)
		for j := range acc[i] {
			acc[i][j] = s.vec()
			e.xor(acc[i][j], acc[i][j], acc[i][j])
		}
	}
	bv := make([]VecVirtual, s.vecs)
	for j := range bv {
		bv[j] = s.vec()
	}
	var bc VecVirtual
	if s.name == "AVX2" {
		bc = s.vec()
	}

	TESTQ(kc, kc)
	JE(LabelRef("store"))
	Label("loop")
	for j := range bv {
		e.load(Mem{Base: b, Disp: j * s.bytes}, bv[j])
	}
	for i := 0; i < mr; i++ {
		am := Mem{Base: a, Disp: i * e.size}
		if s.name == "AVX2" {
			e.broadcast(am, bc)
			for j := range bv {
				e.fma(bv[j], bc, acc[i][j])
			}
			continue
		}
		for j := range bv {
			e.bcastFMA(am, bv[j], acc[i][j])
		}
	}
	ADDQ(U32(mr*e.size), a)
	ADDQ(ldb, b)
	DECQ(kc)
	JNE(LabelRef("loop"))

	Label("store")
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(log2(e.size)), ldc)
	flags := Load(Param("flags"), GP64())
	TESTQ(U32(1), flags)
	JE(LabelRef("overwrite"))
	// Accumulate: c += t, reusing the B registers as scratch.
	for i := 0; i < mr; i++ {
		for j := range bv {
			cm := Mem{Base: c, Disp: j * s.bytes}
			e.add(cm, acc[i][j], acc[i][j])
			e.store(acc[i][j], cm)
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()

	Label("overwrite")
	for i := 0; i < mr; i++ {
		for j := range bv {
			e.store(acc[i][j], Mem{Base: c, Disp: j * s.bytes})
		}
		if i < mr-1 {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// gemv emits <e>gemv<isa>, the one-row product over many column panels
//
//	for j < n: c[j] = (flags&1 ? c[j] : 0) + sum over p < kc of a[p] * b[p*ldb+j]
//
// for n a multiple of NR. Even and odd p use separate accumulators so that
// two FMA chains per vector hide the FMA latency.
func gemv(s isa, e elem) {
	lanes := s.bytes / e.size
	nr := s.vecs * lanes
	name := fmt.Sprintf("%sgemv%s", e.name, s.name)
	TEXT(name, NOSPLIT, fmt.Sprintf("func(kc int, a, b *%s, ldb int, c *%s, n int, flags int)", e.goType, e.goType))
	Doc(fmt.Sprintf("%s computes one row of C = A·B for n (a multiple of %d) columns (see package doc).", name, nr))

	b := Load(Param("b"), GP64())
	ldb := Load(Param("ldb"), GP64())
	SHLQ(U8(log2(e.size)), ldb)
	c := Load(Param("c"), GP64())
	n := Load(Param("n"), GP64())
	flags := Load(Param("flags"), GP64())
	acc := make([]VecVirtual, 2*s.vecs)
	for i := range acc {
		acc[i] = s.vec()
	}
	bv := s.vec()
	bc := s.vec()
	ap := GP64()
	bp := GP64()
	p := GP64()

	TESTQ(n, n)
	JE(LabelRef("done"))
	Label("cols")
	for i := range acc {
		e.xor(acc[i], acc[i], acc[i])
	}
	TESTQ(U32(1), flags)
	JE(LabelRef("zeroed"))
	for j := 0; j < s.vecs; j++ {
		e.load(Mem{Base: c, Disp: j * s.bytes}, acc[j])
	}
	Label("zeroed")
	Load(Param("a"), ap)
	MOVQ(b, bp)
	Load(Param("kc"), p)
	Label("pairs")
	CMPQ(p, U32(2))
	JL(LabelRef("single"))
	for half := 0; half < 2; half++ {
		e.broadcast(Mem{Base: ap, Disp: half * e.size}, bc)
		for j := 0; j < s.vecs; j++ {
			m := Mem{Base: bp, Disp: j * s.bytes}
			if half == 1 {
				m = Mem{Base: bp, Index: ldb, Scale: 1, Disp: j * s.bytes}
			}
			e.load(m, bv)
			e.fma(bv, bc, acc[half*s.vecs+j])
		}
	}
	ADDQ(U32(2*e.size), ap)
	LEAQ(Mem{Base: bp, Index: ldb, Scale: 2}, bp)
	SUBQ(U32(2), p)
	JMP(LabelRef("pairs"))
	Label("single")
	TESTQ(p, p)
	JE(LabelRef("sum"))
	e.broadcast(Mem{Base: ap}, bc)
	for j := 0; j < s.vecs; j++ {
		e.load(Mem{Base: bp, Disp: j * s.bytes}, bv)
		e.fma(bv, bc, acc[j])
	}
	Label("sum")
	for j := 0; j < s.vecs; j++ {
		e.add(acc[s.vecs+j], acc[j], acc[j])
		e.store(acc[j], Mem{Base: c, Disp: j * s.bytes})
	}
	ADDQ(U32(nr*e.size), c)
	ADDQ(U32(nr*e.size), b)
	SUBQ(U32(nr), n)
	JNE(LabelRef("cols"))
	Label("done")
	VZEROUPPER()
	RET()
}

// dotRows is the most rows a dots kernel takes.
const dotRows = 4

// dots emits <e>dots<isa>x<r>, r dot products of one vector with r rows
//
//	for i < r: out[i] = sum over p < k of w[p] * x[i*ldx+p]
//
// for any k: the products with few rows or columns (attention over a
// cache in a decode step), where a packed GEMM would spend its time
// packing and on tiles mostly outside the matrix. Each row sums in two
// vector accumulators, then lanes pairwise, then the tail in order.
func dots(s isa, e elem, r int) {
	lanes := s.bytes / e.size
	name := fmt.Sprintf("%sdots%sx%d", e.name, s.name, r)
	TEXT(name, NOSPLIT, fmt.Sprintf("func(k int, w, x *%s, ldx int, out *%s)", e.goType, e.goType))
	Doc(fmt.Sprintf("%s computes the dot products of w with %d rows of x (see package doc).", name, r))

	k := Load(Param("k"), GP64())
	w := Load(Param("w"), GP64())
	x := Load(Param("x"), GP64())
	ldx := Load(Param("ldx"), GP64())
	SHLQ(U8(log2(e.size)), ldx)
	rows := make([]GPVirtual, r)
	for i := range rows {
		rows[i] = GP64()
		if i == 0 {
			MOVQ(x, rows[i])
		} else {
			LEAQ(Mem{Base: rows[i-1], Index: ldx, Scale: 1}, rows[i])
		}
	}
	acc := make([][2]VecVirtual, r)
	for i := range acc {
		for h := range acc[i] {
			acc[i][h] = s.vec()
			e.xor(acc[i][h], acc[i][h], acc[i][h])
		}
	}
	wv := [2]VecVirtual{s.vec(), s.vec()}
	advance := func(bytes int) {
		ADDQ(U32(bytes), w)
		for _, p := range rows {
			ADDQ(U32(bytes), p)
		}
	}

	Label("pairs")
	CMPQ(k, U32(2*lanes))
	JL(LabelRef("single"))
	for h := range wv {
		e.load(Mem{Base: w, Disp: h * s.bytes}, wv[h])
	}
	for i, p := range rows {
		for h := range wv {
			e.fma(Mem{Base: p, Disp: h * s.bytes}, wv[h], acc[i][h])
		}
	}
	advance(2 * s.bytes)
	SUBQ(U32(2*lanes), k)
	JMP(LabelRef("pairs"))

	Label("single")
	CMPQ(k, U32(lanes))
	JL(LabelRef("reduce"))
	e.load(Mem{Base: w}, wv[0])
	for i, p := range rows {
		e.fma(Mem{Base: p}, wv[0], acc[i][0])
	}
	advance(s.bytes)
	SUBQ(U32(lanes), k)

	Label("reduce")
	tmp := s.vec()
	for i := range acc {
		a := acc[i][0]
		e.add(acc[i][1], a, a)
		if s.name == "AVX512" {
			VEXTRACTF64X4(U8(1), a, tmp.AsY())
			e.add(tmp.AsY(), a.AsY(), a.AsY())
		}
		VEXTRACTF128(U8(1), a.AsY(), tmp.AsX())
		e.add(tmp.AsX(), a.AsX(), a.AsX())
		VMOVHLPS(a.AsX(), a.AsX(), tmp.AsX())
		e.add(tmp.AsX(), a.AsX(), a.AsX())
		if e.size == 4 {
			VMOVSHDUP(a.AsX(), tmp.AsX())
			VADDSS(tmp.AsX(), a.AsX(), a.AsX())
		}
	}

	Label("tail")
	TESTQ(k, k)
	JE(LabelRef("store"))
	ws := wv[0].AsX()
	if e.size == 4 {
		VMOVSS(Mem{Base: w}, ws)
	} else {
		VMOVSD(Mem{Base: w}, ws)
	}
	for i, p := range rows {
		if e.size == 4 {
			VFMADD231SS(Mem{Base: p}, ws, acc[i][0].AsX())
		} else {
			VFMADD231SD(Mem{Base: p}, ws, acc[i][0].AsX())
		}
	}
	advance(e.size)
	DECQ(k)
	JMP(LabelRef("tail"))

	Label("store")
	out := Load(Param("out"), GP64())
	for i := range acc {
		m := Mem{Base: out, Disp: i * e.size}
		if e.size == 4 {
			VMOVSS(acc[i][0].AsX(), m)
		} else {
			VMOVSD(acc[i][0].AsX(), m)
		}
	}
	VZEROUPPER()
	RET()
}

func log2(n int) int {
	k := 0
	for 1<<k < n {
		k++
	}
	return k
}
