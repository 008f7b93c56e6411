// Package wgpu is the WebGPU backend: it runs compiled programs on a GPU
// (or a software Vulkan device such as Mesa's llvmpipe) through
// github.com/rajveermalviya/go-webgpu, which links wgpu-native with cgo.
//
// Fused elementwise kernels are printed by the fusion package's WGSL
// emitter; every other operation runs a hand-written library kernel from
// package shaders. Values are stored on the device as 32-bit words: f32,
// i32, bool as u32 and i64 narrowed to i32 (a value outside the i32 range
// is an error on upload). f64 and half-precision values are not supported
// (backend.ErrUnsupported).
//
// Every device buffer is registered with a memory.Registry, which tracks
// residency and, under a byte budget (see Budget), evicts the least
// recently used buffers that no in-flight launch pins.
//
// Built without cgo, New returns ErrUnavailable and the package still
// compiles.
package wgpu
