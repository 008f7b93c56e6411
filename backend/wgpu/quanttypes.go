package wgpu

import "github.com/aethertensor/aether/llm/quant"

// quantKernel reports whether the qmatmul and qrows shaders decode type t.
// F32 multiplies f32 activations in qmatmul; every other type, F16 (kept
// in two bytes, its activations rounded to f16) included, has a qmatmul8
// kernel.
func quantKernel(t quant.Type) bool {
	return t == quant.F32 || q8Kernel(t)
}

// QuantKernel reports whether weights of GGUF type t stay in their blocks
// on this device (the others should be bound dense).
func (d *Device) QuantKernel(t uint32) bool { return quantKernel(quant.Type(t)) }
