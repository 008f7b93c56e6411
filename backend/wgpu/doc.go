// Package wgpu is the WebGPU backend: it runs compiled programs on a GPU
// (or a software Vulkan device such as Mesa's llvmpipe) through
// github.com/rajveermalviya/go-webgpu, which links wgpu-native with cgo.
//
// Fused elementwise kernels and fused reductions (with their prologues
// and epilogues) are printed by the fusion package's WGSL emitter; every
// other operation runs a hand-written library kernel from package
// shaders, matrix products with their fused bias, activation and residual.
// Values are stored on the device as 32-bit words: f32, i32, bool as u32
// and i64 narrowed to i32 (a value outside the i32 range is an error on
// upload); f16 and bf16 storage (graph.Tensor.StoreAs) packs two values to
// a word and is moved and converted with integer operations. f64 is not
// supported (backend.ErrUnsupported).
//
// Shaders cannot fail: a gather, scatter-add or quantized row gather that
// meets an index outside its axis sets fault words on the device, and the
// run fails with ErrIndex at the next Sync or Read.
//
// State assigned by programs (variables, KV caches, trained parameters)
// stays on the device between runs; SyncHost writes it back to the bound
// host arrays.
//
// Every device buffer is registered with a memory.Registry, which tracks
// residency and, under a byte budget (see Budget), evicts the least
// recently used buffers that no in-flight launch pins.
//
// Built without cgo, New returns ErrUnavailable and the package still
// compiles.
package wgpu
