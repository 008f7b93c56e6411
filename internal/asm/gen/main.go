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

func log2(n int) int {
	k := 0
	for 1<<k < n {
		k++
	}
	return k
}
