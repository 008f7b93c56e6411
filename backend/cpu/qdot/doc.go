// Package qdot multiplies matrices stored in GGUF block formats by float32
// vectors and matrices without expanding the weights to float32.
//
// A weight matrix is the raw bytes of a GGUF tensor of rows×cols elements
// (ne0 = cols, ne1 = rows): each row is cols/BlockSize consecutive blocks.
// Activations are quantised once per row to 8-bit blocks the way ggml does
// for its vec_dot_type (Q8_0-style blocks of 32 for the 32-element formats,
// Q8_K-style blocks of 256 for the K-quants), and each weight row is dotted
// with them in integer arithmetic; only the per-block scales are float. F16
// and BF16 weights are dotted with the activations rounded to f16 and bf16,
// ggml's vec_dot_type for them.
//
// The result of a row is what ggml's vec_dot gives: the dot product of the
// dequantised weights with the dequantised 8-bit activations, up to the
// order in which the per-block float terms are added. The generic kernels
// add them in the order of ggml's x86 kernels (8 SIMD lanes with FMA for
// the 32-element formats, 16 lanes for F16 and BF16), so that they give
// llama.cpp's bits; the assembly kernels may add in another order.
//
// Every kernel has a generic Go version, which is the reference and the
// fallback. On amd64 the package picks AVX2 or AVX-512 VNNI assembly at run
// time (github.com/klauspost/cpuid/v2); the assembly is generated with avo
// by `go generate` from ./gen. Build with the noasm tag, or call
// SetLevel(Generic), to use only the Go kernels.
//
// At the AVX-512 VNNI level the activations are quantised in assembly too,
// bit for bit as the Go loops do. MatVec makes one assembly call per share
// of rows (each kernel has a many-row form with the one-row form's bits).
//
// MatMul with several activation rows (prompt prefill) dots each weight
// row with tiles of four activation rows at once (eight for Q8_0 and Q4_K
// at AVX-512 VNNI) where a type has tile kernels (Q4_0, Q8_0 and Q4_K, at
// AVX2 and at AVX-512 VNNI), so that each weight block is unpacked once
// per tile instead of once per row. The activations are copied into a
// per-tile layout first (acts.prepareTiles). A tile kernel repeats, per
// activation row, the one-row kernel's float operations in the same
// order, so every output has the one-row kernel's bits; rows left over
// take the many-row kernels, one activation row at a time.
//
// MatVec and MatMul split the rows across GOMAXPROCS goroutines.
package qdot

//go:generate go run -tags avogen ./gen -out qdot_amd64.s -stubs stubs_amd64.go -pkg qdot
