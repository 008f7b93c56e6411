package gemm

// Kernel32 is the signature of every float32 microkernel.
type Kernel32 func(kc int, a, b *float32, ldb int, c *float32, ldc int, flags int)

// Kernel64 is the signature of every float64 microkernel.
type Kernel64 func(kc int, a, b *float64, ldb int, c *float64, ldc int, flags int)

// Dots32 is the signature of the float32 dots kernels: out[i] = Σ_p
// w[p]·x[i·ldx+p] for the kernel's rows i, any k.
type Dots32 func(k int, w, x *float32, ldx int, out *float32)

// Dots64 is Dots32 for float64.
type Dots64 func(k int, w, x *float64, ldx int, out *float64)

// Accumulate is the flags bit that adds the tile to C instead of storing it.
const Accumulate = 1

// Set is the family of kernels of one instruction-set level for one element
// type: Kernels[mr-1] computes an mr x NR tile, for mr from 1 to MR, and
// Dots[r-1] the dot products of one vector with r rows, for r up to 4.
type Set[K, D any] struct {
	Name    string // instruction-set level, e.g. "AVX512"
	MR, NR  int
	Kernels []K
	// Gemv computes one row over n columns, n a multiple of NR, reading b
	// unpacked: the kernel for products with one row of A.
	Gemv K
	Dots []D
}

// Level names the best kernel level the CPU supports ("AVX512", "AVX2"), or
// "" when no assembly kernel can run (another architecture, the noasm build
// tag, or a CPU without AVX2 and FMA).
func Level() string { return level }

// Float32 returns the best float32 kernel set, or ok == false when Level is "".
func Float32() (s Set[Kernel32, Dots32], ok bool) { return float32Set, level != "" }

// Float64 returns the best float64 kernel set, or ok == false when Level is "".
func Float64() (s Set[Kernel64, Dots64], ok bool) { return float64Set, level != "" }
