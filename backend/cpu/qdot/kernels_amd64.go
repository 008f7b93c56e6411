//go:build !noasm

package qdot

import "github.com/klauspost/cpuid/v2"

// The assembly kernels take the activation row's parts as slices; the
// wrappers adapt them to dotFunc. Types without an assembly kernel at a
// level keep the generic one.

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
		Q4_0: func(w []byte, x row) float32 { return dotQ4_0AVX2(w, x.q, x.dv, x.c) },
		Q8_0: func(w []byte, x row) float32 { return dotQ8_0AVX2(w, x.q, x.dv, x.c) },
		Q4_K: func(w []byte, x row) float32 { return dotQ4_KAVX2(w, x.q, x.d, x.s32) },
	}))
	if !cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512BW, cpuid.AVX512VNNI) {
		return out
	}
	out = append(out, asmKernels(AVX512VNNI, map[Type]dotFunc{
		Q4_0: func(w []byte, x row) float32 { return dotQ4_0VNNI(w, x.q, x.dv, x.c) },
		Q8_0: func(w []byte, x row) float32 { return dotQ8_0VNNI(w, x.q, x.dv, x.c) },
		Q4_K: func(w []byte, x row) float32 { return dotQ4_KVNNI(w, x.q, x.d, x.s32) },
	}))
	return out
}
