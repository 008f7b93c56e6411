//go:build noasm || !amd64

package gemm

var (
	level      string
	float32Set Set[Kernel32, Dots32]
	float64Set Set[Kernel64, Dots64]
)

// AVX2 reports false: no assembly kernels are built.
func AVX2() (Set[Kernel32, Dots32], Set[Kernel64, Dots64], bool) {
	return Set[Kernel32, Dots32]{}, Set[Kernel64, Dots64]{}, false
}
