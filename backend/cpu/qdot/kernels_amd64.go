//go:build !noasm

package qdot

import (
	"math"

	"github.com/klauspost/cpuid/v2"
)

// The assembly kernels take the activation row's parts as slices; the
// wrappers adapt them to dotFunc. Every type has an assembly kernel at
// both levels (F16 and BF16 share their AVX2 ones); asmKernels still
// starts from the generic set so that a type added later without one
// keeps working.

func asmKernels(level Level, asm map[Type]dotFunc) *kernelSet {
	k := &kernelSet{level: level, dot: make(map[Type]dotFunc, len(genericDot))}
	for t, f := range genericDot {
		k.dot[t] = f
	}
	for t, f := range asm {
		k.dot[t] = f
	}
	return k
}

// archLevels returns the assembly levels this CPU can run.
func archLevels() (out []*kernelSet) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.FMA3, cpuid.F16C) {
		return nil
	}
	out = append(out, asmKernels(AVX2, map[Type]dotFunc{
		Q4_0: func(w []byte, x *row) float32 { return dotQ4_0AVX2(w, x.q, x.dv, x.c) },
		Q8_0: func(w []byte, x *row) float32 { return dotQ8_0AVX2(w, x.q, x.dv, x.c) },
		Q4_1: func(w []byte, x *row) float32 { return dotQ4_1AVX2(w, x.q, x.dv, x.ms) },
		Q5_0: func(w []byte, x *row) float32 { return dotQ5_0AVX2(w, x.q, x.dv, x.c) },
		Q5_1: func(w []byte, x *row) float32 { return dotQ5_1AVX2(w, x.q, x.dv, x.ms) },
		Q4_K: func(w []byte, x *row) float32 { return dotQ4_KAVX2(w, x.q, x.d, x.s32) },
		Q5_K: func(w []byte, x *row) float32 { return dotQ5_KAVX2(w, x.q, x.d, x.s32) },
		Q2_K: func(w []byte, x *row) float32 { return dotQ2_KAVX2(w, x.q, x.d, x.s) },
		Q3_K: func(w []byte, x *row) float32 { return dotQ3_KAVX2(w, x.q, x.d, x.s) },
		Q6_K: func(w []byte, x *row) float32 { return dotQ6_KAVX2(w, x.q, x.d, x.s) },
		F16:  dotF16Asm,
		BF16: dotBF16Asm,
	}))
	out[0].rows = map[Type]rowsFunc{
		Q4_0: func(w []byte, x *row, dst []float32) { dotQ4_0AVX2Rows(w, x.q, x.dv, x.c, dst) },
		Q8_0: func(w []byte, x *row, dst []float32) { dotQ8_0AVX2Rows(w, x.q, x.dv, x.c, dst) },
		Q4_1: func(w []byte, x *row, dst []float32) { dotQ4_1AVX2Rows(w, x.q, x.dv, x.ms, dst) },
		Q5_0: func(w []byte, x *row, dst []float32) { dotQ5_0AVX2Rows(w, x.q, x.dv, x.c, dst) },
		Q5_1: func(w []byte, x *row, dst []float32) { dotQ5_1AVX2Rows(w, x.q, x.dv, x.ms, dst) },
		Q4_K: func(w []byte, x *row, dst []float32) { dotQ4_KAVX2Rows(w, x.q, x.d, x.s32, dst) },
		Q5_K: func(w []byte, x *row, dst []float32) { dotQ5_KAVX2Rows(w, x.q, x.d, x.s32, dst) },
		Q2_K: func(w []byte, x *row, dst []float32) { dotQ2_KAVX2Rows(w, x.q, x.d, x.s, dst) },
		Q3_K: func(w []byte, x *row, dst []float32) { dotQ3_KAVX2Rows(w, x.q, x.d, x.s, dst) },
		Q6_K: func(w []byte, x *row, dst []float32) { dotQ6_KAVX2Rows(w, x.q, x.d, x.s, dst) },
	}
	out[0].tile = map[Type][]tileKernel{
		Q4_0: {{rows: 4, dot: tileBlocks(4, 18, dotQ4_0AVX2x4), layout: q40Blocks}},
		Q8_0: {{rows: 4, dot: tileBlocks(4, 34, dotQ8_0AVX2x4)}},
		Q4_K: {{rows: 4, dot: tileQ4_K(4, dotQ4_KAVX2x4)}},
	}
	if !cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512BW, cpuid.AVX512VNNI) {
		return out
	}
	vnni := asmKernels(AVX512VNNI, map[Type]dotFunc{
		Q4_0: dotQ4_0Wide,
		Q8_0: func(w []byte, x *row) float32 { return dotQ8_0VNNI(w, x.q, x.dv, x.c) },
		Q4_1: dotQ4_1Wide,
		Q5_0: func(w []byte, x *row) float32 { return dotQ5_0VNNI(w, x.q, x.dv, x.c) },
		Q5_1: func(w []byte, x *row) float32 { return dotQ5_1VNNI(w, x.q, x.dv, x.ms) },
		Q4_K: func(w []byte, x *row) float32 { return dotQ4_KVNNI(w, x.q, x.d, x.s32) },
		Q5_K: func(w []byte, x *row) float32 { return dotQ5_KVNNI(w, x.q, x.d, x.s32) },
		Q2_K: func(w []byte, x *row) float32 { return dotQ2_KVNNI(w, x.q, x.d, x.s) },
		Q3_K: func(w []byte, x *row) float32 { return dotQ3_KVNNI(w, x.q, x.d, x.s) },
		Q6_K: func(w []byte, x *row) float32 { return dotQ6_KVNNI(w, x.q, x.d, x.s) },
		F16:  dotF16Asm,
		BF16: dotBF16Asm,
	})
	vnni.quant32, vnni.quantK = quant32VNNI, quantKVNNI
	vnni.rows = map[Type]rowsFunc{
		Q4_0: rowsQ4_0Wide,
		Q8_0: func(w []byte, x *row, dst []float32) { dotQ8_0VNNIRows(w, x.q, x.dv, x.c, dst) },
		Q4_1: rowsQ4_1Wide,
		Q5_0: func(w []byte, x *row, dst []float32) { dotQ5_0VNNIRows(w, x.q, x.dv, x.c, dst) },
		Q5_1: func(w []byte, x *row, dst []float32) { dotQ5_1VNNIRows(w, x.q, x.dv, x.ms, dst) },
		Q4_K: func(w []byte, x *row, dst []float32) { dotQ4_KVNNIRows(w, x.q, x.d, x.s32, dst) },
		Q5_K: func(w []byte, x *row, dst []float32) { dotQ5_KVNNIRows(w, x.q, x.d, x.s32, dst) },
		Q2_K: func(w []byte, x *row, dst []float32) { dotQ2_KVNNIRows(w, x.q, x.d, x.s, dst) },
		Q3_K: func(w []byte, x *row, dst []float32) { dotQ3_KVNNIRows(w, x.q, x.d, x.s, dst) },
		Q6_K: func(w []byte, x *row, dst []float32) { dotQ6_KVNNIRows(w, x.q, x.d, x.s, dst) },
	}
	vnni.tile = map[Type][]tileKernel{
		Q4_0: {{rows: 4, dot: tileQ4_0(4, dotQ4_0VNNI8x4, nil)}},
		Q8_0: {{rows: 8, dot: tileBlocks(8, 34, dotQ8_0VNNIx8)}, {rows: 4, dot: tileBlocks(4, 34, dotQ8_0VNNIx4)}},
		Q4_K: {{rows: 8, dot: tileQ4_K(8, dotQ4_KVNNIx8)}, {rows: 4, dot: tileQ4_K(4, dotQ4_KVNNIx4)}},
	}
	if cpuid.CPU.Supports(cpuid.AVX512VBMI) {
		vnni.tile[Q4_0] = []tileKernel{{rows: 4, dot: tileQ4_0(4, dotQ4_0VBMIx4, dotQ4_0VBMI2x4), layout: q40Lanes}}
	}
	return append(out, vnni)
}

// checkTile panics unless w is whole rows of rb bytes, rows i0 to
// i0+tr-1 are a's and dst holds the tile's results: the assembly does not
// check its bounds.
func checkTile(w []byte, a *acts, i0, tr int, dst []float32, stride, rb int) {
	nr := len(w) / rb
	if len(w) != nr*rb || i0 < 0 || i0+tr > a.n || stride < nr || len(dst) < (tr-1)*stride+nr {
		panic("qdot: tile kernel operands out of range")
	}
}

// tileBlocks returns the tile function of k, a kernel of a 32-element
// format of bsize-byte blocks for tr activation rows tiled per block.
func tileBlocks(tr, bsize int, k tileAsm) func(w []byte, a *acts, i0 int, dst []float32, stride int) {
	return func(w []byte, a *acts, i0 int, dst []float32, stride int) {
		nb := a.cols / 32
		rb := bsize * nb
		if len(w) == 0 {
			return
		}
		checkTile(w, a, i0, tr, dst, stride, rb)
		u0, u1 := i0*nb, (i0+tr)*nb
		k(w, a.qt[32*u0:32*u1], a.dt[u0:u1], a.ct[u0:u1], dst, len(w)/rb, rb, stride)
	}
}

// tileQ4_K returns the tile function of k, a Q4_K kernel for tr activation
// rows tiled per block.
func tileQ4_K(tr int, k tileAsm) func(w []byte, a *acts, i0 int, dst []float32, stride int) {
	return func(w []byte, a *acts, i0 int, dst []float32, stride int) {
		nb := a.cols / 256
		rb := 144 * nb
		if len(w) == 0 {
			return
		}
		checkTile(w, a, i0, tr, dst, stride, rb)
		u0, u1 := i0*nb, (i0+tr)*nb
		k(w, a.qt[256*u0:256*u1], a.dt[u0:u1], a.ct[8*u0:8*u1], dst, len(w)/rb, rb, stride)
	}
}

// tileAsm is the signature of the tile kernels.
type tileAsm func(w []byte, qt []int8, dt []float32, ct []int32, dst []float32, nr, rb, stride int)

// tileQ4_0 returns the tile function of kernel k, dotQ4_0VNNI8 for tr
// activation rows: k dots the rows' whole groups of eight blocks, and the
// remaining blocks' dotQ4_0VNNI is added as dotQ4_0Wide does. k2, if not
// nil, is k for pairs of weight rows; k then takes only an odd last row.
func tileQ4_0(tr int, k, k2 tileAsm) func(w []byte, a *acts, i0 int, dst []float32, stride int) {
	return func(w []byte, a *acts, i0 int, dst []float32, stride int) {
		nb := a.cols / 32
		rb := 18 * nb
		nr := len(w) / rb
		g := nb / 8
		if nr == 0 {
			return
		}
		checkTile(w, a, i0, tr, dst, stride, rb)
		if g == 0 {
			for i := 0; i < tr; i++ {
				for r := 0; r < nr; r++ {
					dst[i*stride+r] = dotQ4_0Wide(w[r*rb:(r+1)*rb], &a.rows[i0+i])
				}
			}
			return
		}
		u0, u1 := i0*g, (i0+tr)*g
		qt, dt, ct := a.qt[256*u0:256*u1], a.dt[8*u0:8*u1], a.ct[8*u0:8*u1]
		if k2 != nil && nr >= 2 {
			even := nr &^ 1
			k2(w[:even*rb], qt, dt, ct, dst, even, rb, stride)
			if even < nr {
				k(w[even*rb:], qt, dt, ct, dst[even:], 1, rb, stride)
			}
		} else {
			k(w, qt, dt, ct, dst, nr, rb, stride)
		}
		if 8*g == nb {
			return
		}
		for i := 0; i < tr; i++ {
			x := &a.rows[i0+i]
			for r := 0; r < nr; r++ {
				dst[i*stride+r] += dotQ4_0VNNI(w[r*rb+18*8*g:(r+1)*rb], x.q[32*8*g:], x.dv[8*8*g:], x.c[8*g:])
			}
		}
	}
}

// dotF16Asm runs the AVX2 kernel on the whole multiples of 8 and adds the
// remaining elements in Go.
func dotF16Asm(w []byte, x *row) float32 {
	n := len(x.f) &^ 7
	sum := dotF16AVX2(w[:2*n], x.f[:n])
	for i := n; i < len(x.f); i++ {
		sum += f16ToF32(uint16(w[2*i])|uint16(w[2*i+1])<<8) * x.f[i]
	}
	return sum
}

// dotBF16Asm is dotF16Asm for BF16.
func dotBF16Asm(w []byte, x *row) float32 {
	n := len(x.f) &^ 7
	sum := dotBF16AVX2(w[:2*n], x.f[:n])
	for i := n; i < len(x.f); i++ {
		sum += math.Float32frombits((uint32(w[2*i])|uint32(w[2*i+1])<<8)<<16) * x.f[i]
	}
	return sum
}

// dotQ4_0Wide runs dotQ4_0VNNI8 on the row's whole groups of eight blocks
// and dotQ4_0VNNI on the rest.
func dotQ4_0Wide(w []byte, x *row) float32 {
	n := len(x.c) &^ 7
	var sum float32
	if n > 0 {
		sum = dotQ4_0VNNI8(w[:18*n], x.qp[:32*n], x.dp[:n], x.cp[:n])
	}
	if n < len(x.c) {
		sum += dotQ4_0VNNI(w[18*n:], x.q[32*n:], x.dv[8*n:], x.c[n:])
	}
	return sum
}

// memSum adds b's leading whole 256-byte blocks as uint64s with AVX2
// loads and returns the sum and how many bytes it read (0 without AVX2).
// The MemRead benchmark measures the machine's read bandwidth with it.
func memSum(b []byte) (uint64, int) {
	if !cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2) {
		return 0, 0
	}
	return memSumAVX2(b), len(b) &^ 255
}

// rowsQ4_0Wide runs dotQ4_0VNNI8Rows when the rows are whole groups of
// eight blocks, and dotQ4_0Wide row by row otherwise.
func rowsQ4_0Wide(w []byte, x *row, dst []float32) {
	if len(x.c)%8 == 0 {
		dotQ4_0VNNI8Rows(w, x.qp, x.dp, x.cp, dst)
		return
	}
	rb := len(w) / len(dst)
	for r := range dst {
		dst[r] = dotQ4_0Wide(w[r*rb:(r+1)*rb], x)
	}
}

// dotQ4_1Wide is dotQ4_0Wide for Q4_1.
func dotQ4_1Wide(w []byte, x *row) float32 {
	n := len(x.ms) &^ 7
	var sum float32
	if n > 0 {
		sum = dotQ4_1VNNI8(w[:20*n], x.qp[:32*n], x.dp[:n], x.mp[:n])
	}
	if n < len(x.ms) {
		sum += dotQ4_1VNNI(w[20*n:], x.q[32*n:], x.dv[8*n:], x.ms[n:])
	}
	return sum
}

// rowsQ4_1Wide is rowsQ4_0Wide for Q4_1.
func rowsQ4_1Wide(w []byte, x *row, dst []float32) {
	if len(x.ms)%8 == 0 {
		dotQ4_1VNNI8Rows(w, x.qp, x.dp, x.mp, dst)
		return
	}
	rb := len(w) / len(dst)
	for r := range dst {
		dst[r] = dotQ4_1Wide(w[r*rb:(r+1)*rb], x)
	}
}
