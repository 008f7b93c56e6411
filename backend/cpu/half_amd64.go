//go:build !noasm

package cpu

import "github.com/klauspost/cpuid/v2"

// halfAsm reports whether this CPU runs the F16C conversion loops
// (widenF16, narrowF16).
var halfAsm = cpuid.CPU.Supports(cpuid.AVX, cpuid.F16C)
