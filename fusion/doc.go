// Package fusion partitions a compiled function into kernels.
//
// Chains of elementwise operations, together with the broadcasts,
// transposes, reshapes and slices that feed them, become one
// kernel.Elementwise each, so intermediate values never reach memory. A
// cost model, parameterised by the device's Caps, decides whether a value
// used by several consumers is recomputed in each (bytes saved against
// work repeated) and splits kernels that would bind more buffers than the
// device allows. A kernel computes a value once per index map it reads it
// through, so a value read through several slices inside one kernel
// counts as several uses.
//
// What else fuses depends on the device's Caps: a reduction over trailing
// axes takes its elementwise prologue (FuseReductions), the elementwise
// consumers of its rows as an epilogue (FuseReduceEpilogues: RMSNorm is
// one kernel, layer norm and softmax two) and a reduction it alone reads
// (ChainReductions); a matmul takes a bias, activation and residual
// epilogue (FuseEpilogues); a fused kernel may load half-precision storage
// and widen it (HalfLoads). Other operations (matmul, gathers, the
// Softmax op, movement of stored values) run as library kernels. WGSL and
// WGSLReduce print kernels for WebGPU, computing as the CPU backend does:
// exp and sigmoid are its polynomial, and f32 sums pass through an OR
// with a zero the shader compiler cannot see, so that it does not
// reassociate them (Mesa does), which error-free arithmetic and
// bit-identity with the CPU depend on; a reduction's f32 sum adds
// double-f32 pairs and rounds once, as the CPU's float64 row sums do.
package fusion
