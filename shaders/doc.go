// Package shaders holds the hand-written WGSL library kernels of the
// WebGPU backend, embedded with go:embed: a tiled shared-memory matrix
// product (with a fused bias, activation and residual), reductions over
// any axes, arg-max, softmax, strided copies (the movement operations, of
// 32-bit words or of two-byte halves), fills, index gathers and
// scatter-adds (reporting bad indices as faults), half-precision rounding
// and conversions, and image window unfold/fold. Fragments such as
// half.wgsl hold helper functions that kernels include.
//
// Every kernel reads its sizes from a uniform block of 64 u32 words at
// @group(0) @binding(0) (read through the helper m(i)); its storage
// buffers follow at bindings 1, 2, .... Kernels that are written once per
// element type use the alias T, which Source defines.
package shaders
