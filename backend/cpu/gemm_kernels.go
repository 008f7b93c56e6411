package cpu

import (
	"sync/atomic"
	"unsafe"

	"github.com/aethertensor/aether/internal/asm/gemm"
)

// microKernel computes an mr x nr tile of C from kc steps of a packed
// mr-row panel a and nr columns of b (row stride ldb): see package
// internal/asm/gemm. With acc it adds the tile to c, else it stores it.
type microKernel[T float] func(kc int, a, b []T, ldb int, c []T, ldc int, acc bool)

// kernelSet is one family of microkernels: k[mr-1] handles mr rows.
type kernelSet[T float] struct {
	name   string
	mr, nr int
	k      []microKernel[T]
	gemv   gemvKernel[T] // nil: one-row products use k[0]
	dots   dotsKernel[T]
}

// dotsKernel computes out[i] = Σ_p w[p]·x[i·ldx+p] for i < rows, rows
// from 1 to maxDotRows: the products with so few rows or columns that
// packing panels would cost more than the arithmetic (attention scores
// against a cache in a decode step).
type dotsKernel[T float] func(k int, w, x []T, ldx, rows int, out []T)

// maxDotRows is the most rows one dotsKernel call takes.
const maxDotRows = 4

// gemvKernel computes one row of C over n columns (a multiple of nr) from
// kc values of a and kc rows of b (row stride ldb): see internal/asm/gemm.
type gemvKernel[T float] func(kc int, a, b []T, ldb int, c []T, n int, acc bool)

// goOnly forces the pure-Go kernels, for tests and comparisons; GEMMs
// prepared afterwards use them.
var goOnly atomic.Bool

// forceGeneric makes new GEMMs use the Go kernels (on) or the best
// assembly ones (off), and returns the previous setting.
func forceGeneric(on bool) bool { return goOnly.Swap(on) }

// kernelsFor returns the best kernel set for T on this CPU.
func kernelsFor[T float]() kernelSet[T] {
	if !goOnly.Load() {
		var zero T
		switch any(zero).(type) {
		case float32:
			if s, ok := gemm.Float32(); ok {
				return any(asmSet32(s)).(kernelSet[T])
			}
		case float64:
			if s, ok := gemm.Float64(); ok {
				return any(asmSet64(s)).(kernelSet[T])
			}
		}
	}
	return goSet[T]()
}

func asmSet32(s gemm.Set[gemm.Kernel32, gemm.Dots32]) kernelSet[float32] {
	ks := kernelSet[float32]{name: s.Name, mr: s.MR, nr: s.NR}
	for i, f := range s.Kernels {
		ks.k = append(ks.k, asmKernel(f, i+1, s.NR))
	}
	ks.gemv = asmGemv(s.Gemv, s.NR)
	ks.dots = asmDots(s.Dots)
	return ks
}

func asmSet64(s gemm.Set[gemm.Kernel64, gemm.Dots64]) kernelSet[float64] {
	ks := kernelSet[float64]{name: s.Name, mr: s.MR, nr: s.NR}
	for i, f := range s.Kernels {
		ks.k = append(ks.k, asmKernel(f, i+1, s.NR))
	}
	ks.gemv = asmGemv(s.Gemv, s.NR)
	ks.dots = asmDots(s.Dots)
	return ks
}

// asmKernel wraps an assembly kernel, checking that every slice is long
// enough for what the assembly will touch (the one unsafe step).
func asmKernel[T float, K ~func(int, *T, *T, int, *T, int, int)](f K, mr, nr int) microKernel[T] {
	return func(kc int, a, b []T, ldb int, c []T, ldc int, acc bool) {
		if kc <= 0 || len(a) < kc*mr || len(b) < (kc-1)*ldb+nr || len(c) < (mr-1)*ldc+nr {
			panic("cpu: gemm microkernel called with short buffers")
		}
		flags := 0
		if acc {
			flags = gemm.Accumulate
		}
		f(kc, unsafe.SliceData(a), unsafe.SliceData(b), ldb, unsafe.SliceData(c), ldc, flags)
	}
}

// asmGemv wraps an assembly one-row kernel like asmKernel.
func asmGemv[T float, K ~func(int, *T, *T, int, *T, int, int)](f K, nr int) gemvKernel[T] {
	return func(kc int, a, b []T, ldb int, c []T, n int, acc bool) {
		if kc <= 0 || n <= 0 || n%nr != 0 || len(a) < kc || len(b) < (kc-1)*ldb+n || len(c) < n {
			panic("cpu: gemv kernel called with bad sizes")
		}
		flags := 0
		if acc {
			flags = gemm.Accumulate
		}
		f(kc, unsafe.SliceData(a), unsafe.SliceData(b), ldb, unsafe.SliceData(c), n, flags)
	}
}

// asmDots wraps the assembly dots kernels (one per row count) like
// asmKernel.
func asmDots[T float, D ~func(int, *T, *T, int, *T)](fs []D) dotsKernel[T] {
	if len(fs) != maxDotRows {
		return goDots[T]
	}
	return func(k int, w, x []T, ldx, rows int, out []T) {
		if rows < 1 || rows > maxDotRows || k < 0 || len(w) < k || len(out) < rows || len(x) < (rows-1)*ldx+k {
			panic("cpu: dots kernel called with bad sizes")
		}
		if k == 0 {
			clear(out[:rows])
			return
		}
		fs[rows-1](k, unsafe.SliceData(w), unsafe.SliceData(x), ldx, unsafe.SliceData(out))
	}
}

// goDots is the reference dotsKernel.
func goDots[T float](k int, w, x []T, ldx, rows int, out []T) {
	w = w[:k]
	for i := range rows {
		var s T
		for p, v := range x[i*ldx : i*ldx+k] {
			s += v * w[p]
		}
		out[i] = s
	}
}

// Go kernel tile: small enough for the compiler to keep a full 4x4 tile in
// registers.
const goMR, goNR = 4, 4

func goSet[T float]() kernelSet[T] {
	return kernelSet[T]{name: "Go", mr: goMR, nr: goNR,
		k:    []microKernel[T]{goKernel[T](1), goKernel[T](2), goKernel[T](3), goKernel4x4[T]},
		dots: goDots[T]}
}

// goKernel returns the reference microkernel for mr <= goMR rows.
func goKernel[T float](mr int) microKernel[T] {
	return func(kc int, a, b []T, ldb int, c []T, ldc int, acc bool) {
		var t [goMR * goNR]T
		for p := 0; p < kc; p++ {
			bp := b[p*ldb : p*ldb+goNR]
			for i, av := range a[p*mr : p*mr+mr] {
				ti := t[i*goNR : i*goNR+goNR]
				for j, bv := range bp {
					ti[j] += av * bv
				}
			}
		}
		storeTile(t[:mr*goNR], goNR, c, ldc, acc)
	}
}

// goKernel4x4 is goKernel for a full tile with the accumulators in locals.
func goKernel4x4[T float](kc int, a, b []T, ldb int, c []T, ldc int, acc bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 T
	a = a[:kc*4]
	for p := 0; p < kc; p++ {
		ap := a[p*4 : p*4+4 : p*4+4]
		bp := b[p*ldb : p*ldb+4 : p*ldb+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	t := [goMR * goNR]T{c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33}
	storeTile(t[:], goNR, c, ldc, acc)
}

// storeTile writes (or adds) a tile with row stride nr into c.
func storeTile[T float](t []T, nr int, c []T, ldc int, acc bool) {
	for i := 0; i*nr < len(t); i++ {
		src := t[i*nr : i*nr+nr]
		dst := c[i*ldc : i*ldc+nr]
		if acc {
			for j, v := range src {
				dst[j] += v
			}
		} else {
			copy(dst, src)
		}
	}
}

// blocking returns KC, MC and NC for a kernel set: a KC x NR panel of B
// stays in L1 across the row panels, an MC x KC block of A fits in L2
// beside it, and a KC x NC block of B fits in a share of L3.
func blocking[T float](ks kernelSet[T]) (kc, mc, nc int) {
	size := int(unsafe.Sizeof(T(0)))
	kc = 384 * 4 / size
	mc = max(ks.mr, (512<<10)/(kc*size)/ks.mr*ks.mr)
	nc = max(ks.nr, (4<<20)/(kc*size)/ks.nr*ks.nr)
	return kc, mc, nc
}

// directKC is the depth block when B is streamed unpacked (m <= MR): short,
// so that the kernel follows few rows of B at a time.
var directKC = 32

// gemvKC is the depth block of the one-row kernel, which sweeps all
// columns per block: a few rows of B are read sequentially while that
// row of C stays in L1.
var gemvKC = 8
