//go:build !noasm

package vec

import "github.com/klauspost/cpuid/v2"

// Available reports whether this CPU runs the AVX2 loops.
var Available = cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2)

// Available512 reports whether this CPU runs the AVX-512 (…F32x16) loops.
var Available512 = Available && cpuid.CPU.Supports(cpuid.AVX512F)
