package wgpu

import (
	"strings"

	"github.com/aethertensor/aether/llm/quant"
)

// q8Kernel reports whether quantized matmuls of weight type t run the
// qmatmul8 shader, which quantises the activations to 8-bit blocks (Q8_0,
// Q8_1 or Q8_K, as qdot does for the type), takes exact integer block dot
// products and adds the scaled block terms in the order of qdot's Go
// kernels (llama.cpp's x86 order), with the same fused multiply-adds: on
// llvmpipe its results have the CPU's bits. BF16 and F16 weights run
// their own kernels in the same workgroup layout, qmatmul8_bf16 and
// qmatmul8_f16, which round the activations to the weights' type (as
// ggml's vec_dot_type does) and add the exact products in qdot's 16
// lanes. F32 weights multiply f32 activations in the qmatmul shader.
func q8Kernel(t quant.Type) bool {
	switch t {
	case quant.Q4_0, quant.Q4_1, quant.Q5_0, quant.Q5_1, quant.Q8_0, quant.IQ4_NL,
		quant.Q2_K, quant.Q3_K, quant.Q4_K, quant.Q5_K, quant.Q6_K, quant.BF16, quant.F16:
		return true
	}
	return false
}

// q8Shader names the qmatmul8 kernel of type t (qmatmul8_q4_0, ...): each
// type's kernel has its type code as a constant, so the compiler drops the
// other formats' paths (llvmpipe runs every branch of a shader under a
// mask, and one kernel for all eleven formats ran 50-90% slower).
func q8Shader(t quant.Type) string { return "qmatmul8_" + strings.ToLower(t.String()) }

// q8Rows is the number of weight rows one qmatmul8 workgroup takes (they
// share the workgroup's quantised activations).
const q8Rows = 8
