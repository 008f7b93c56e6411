//go:build !noasm

package fvm

import "github.com/klauspost/cpuid/v2"

// Available reports whether this CPU runs Run (AVX-512 F and BW).
var Available = cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW)

// Available2 reports whether this CPU runs Run2 (AVX2 and F16C).
var Available2 = cpuid.CPU.Supports(cpuid.AVX, cpuid.AVX2, cpuid.F16C)
