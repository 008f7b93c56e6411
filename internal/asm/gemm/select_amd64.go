//go:build !noasm

package gemm

import "github.com/klauspost/cpuid/v2"

var level, float32Set, float64Set = choose()

// choose picks AVX-512 when the CPU and OS support it, then AVX2 with FMA.
func choose() (string, Set[Kernel32, Dots32], Set[Kernel64, Dots64]) {
	c := cpuid.CPU
	switch {
	case c.Supports(cpuid.AVX512F, cpuid.AVX512VL):
		return "AVX512",
			Set[Kernel32, Dots32]{Name: "AVX512", MR: 14, NR: 32, Kernels: []Kernel32{
				SgemmAVX512x1, SgemmAVX512x2, SgemmAVX512x3, SgemmAVX512x4, SgemmAVX512x5,
				SgemmAVX512x6, SgemmAVX512x7, SgemmAVX512x8, SgemmAVX512x9, SgemmAVX512x10,
				SgemmAVX512x11, SgemmAVX512x12, SgemmAVX512x13, SgemmAVX512x14}, Gemv: SgemvAVX512,
				Dots: []Dots32{SdotsAVX512x1, SdotsAVX512x2, SdotsAVX512x3, SdotsAVX512x4}},
			Set[Kernel64, Dots64]{Name: "AVX512", MR: 14, NR: 16, Kernels: []Kernel64{
				DgemmAVX512x1, DgemmAVX512x2, DgemmAVX512x3, DgemmAVX512x4, DgemmAVX512x5,
				DgemmAVX512x6, DgemmAVX512x7, DgemmAVX512x8, DgemmAVX512x9, DgemmAVX512x10,
				DgemmAVX512x11, DgemmAVX512x12, DgemmAVX512x13, DgemmAVX512x14}, Gemv: DgemvAVX512,
				Dots: []Dots64{DdotsAVX512x1, DdotsAVX512x2, DdotsAVX512x3, DdotsAVX512x4}}
	case c.Supports(cpuid.AVX2, cpuid.FMA3):
		return "AVX2", avx2Float32(), avx2Float64()
	}
	return "", Set[Kernel32, Dots32]{}, Set[Kernel64, Dots64]{}
}

func avx2Float32() Set[Kernel32, Dots32] {
	return Set[Kernel32, Dots32]{Name: "AVX2", MR: 6, NR: 16, Kernels: []Kernel32{
		SgemmAVX2x1, SgemmAVX2x2, SgemmAVX2x3, SgemmAVX2x4, SgemmAVX2x5, SgemmAVX2x6}, Gemv: SgemvAVX2,
		Dots: []Dots32{SdotsAVX2x1, SdotsAVX2x2, SdotsAVX2x3, SdotsAVX2x4}}
}

func avx2Float64() Set[Kernel64, Dots64] {
	return Set[Kernel64, Dots64]{Name: "AVX2", MR: 6, NR: 8, Kernels: []Kernel64{
		DgemmAVX2x1, DgemmAVX2x2, DgemmAVX2x3, DgemmAVX2x4, DgemmAVX2x5, DgemmAVX2x6}, Gemv: DgemvAVX2,
		Dots: []Dots64{DdotsAVX2x1, DdotsAVX2x2, DdotsAVX2x3, DdotsAVX2x4}}
}

// AVX2 returns the AVX2 kernel sets when the CPU supports them, so tests
// can check that level on an AVX-512 machine too.
func AVX2() (Set[Kernel32, Dots32], Set[Kernel64, Dots64], bool) {
	if !cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		return Set[Kernel32, Dots32]{}, Set[Kernel64, Dots64]{}, false
	}
	return avx2Float32(), avx2Float64(), true
}
