package wgpu

import "github.com/aethertensor/aether/llm/quant"

// quantKernel reports whether the qmatmul and qrows shaders decode type t.
func quantKernel(t quant.Type) bool {
	switch t {
	case quant.F32, quant.F16:
		return true
	}
	return q8Kernel(t)
}

// QuantKernel reports whether weights of GGUF type t stay in their blocks
// on this device (the others should be bound dense).
func (d *Device) QuantKernel(t uint32) bool { return quantKernel(quant.Type(t)) }
