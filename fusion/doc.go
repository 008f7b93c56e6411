// Package fusion partitions a compiled function into kernels.
//
// Chains of elementwise operations, together with the broadcasts,
// transposes, reshapes and slices that feed them, become one
// kernel.Elementwise each, so intermediate values never reach memory. A
// cost model, parameterised by the device's Caps, decides whether a value
// used by several consumers is recomputed in each (bytes saved against
// work repeated) and splits kernels that would bind more buffers than the
// device allows. Other operations (matmul, reductions, softmax, gathers)
// run as library kernels.
package fusion
