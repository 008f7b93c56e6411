//go:build !noasm

package vec

import "github.com/klauspost/cpuid/v2"

// Available reports whether this CPU runs the AVX2 loops.
var Available = cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2)
