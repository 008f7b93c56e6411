//go:build avogen

// Command halfgen writes the F16C conversion loops of package backend/cpu
// with avo:
//
//	go generate ./backend/cpu
//
// It is behind the avogen build tag so that ordinary builds never compile
// it.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// block is the elements one loop iteration converts: four 8-lane vectors.
const block = 32

func main() {
	ConstraintExpr("!noasm") // half_noasm.go serves other builds
	loop("widenF16", "func(y []float32, x []uint16) int",
		"widenF16 widens the leading whole 32-element blocks of x, binary16 bits, to float32 in y (VCVTPH2PS: exact; signalling NaNs come back quiet) and returns how many it converted. y must be at least as long as x.",
		func(x, y, i GPVirtual) {
			var v [4]VecVirtual
			for k := range v {
				v[k] = YMM()
				VCVTPH2PS(Mem{Base: x, Index: i, Scale: 2, Disp: 16 * k}, v[k])
			}
			for k := range v {
				VMOVUPS(v[k], Mem{Base: y, Index: i, Scale: 4, Disp: 32 * k})
			}
		})
	loop("narrowF16", "func(y []uint16, x []float32) int",
		"narrowF16 rounds the leading whole 32-element blocks of x to binary16 bits in y, to nearest with ties to even (VCVTPS2PH with immediate 0), and returns how many it converted. y must be at least as long as x.",
		func(x, y, i GPVirtual) {
			var v [4]VecVirtual
			for k := range v {
				v[k] = YMM()
				VMOVUPS(Mem{Base: x, Index: i, Scale: 4, Disp: 32 * k}, v[k])
			}
			for k := range v {
				VCVTPS2PH(U8(0), v[k], Mem{Base: y, Index: i, Scale: 2, Disp: 16 * k})
			}
		})
	Generate()
}

// loop emits a function that runs body over i = 0, 32, ... below len(x)
// rounded down to a whole block.
func loop(name, sig, doc string, body func(x, y, i GPVirtual)) {
	TEXT(name, NOSPLIT, sig)
	Doc(doc)
	y, x := GP64(), GP64()
	Load(Param("y").Base(), y)
	Load(Param("x").Base(), x)
	n := Load(Param("x").Len(), GP64())
	ANDQ(I32(-block), n)
	i := GP64()
	XORQ(i, i)
	Label(name + "_loop")
	CMPQ(i, n)
	JAE(LabelRef(name + "_done"))
	body(x, y, i)
	ADDQ(I32(block), i)
	JMP(LabelRef(name + "_loop"))
	Label(name + "_done")
	VZEROUPPER()
	Store(n, ReturnIndex(0))
	RET()
}
