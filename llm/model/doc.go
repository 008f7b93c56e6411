// Package model builds LLaMA-family language models from GGUF files as
// graphs of the graph package and runs them with a key/value cache.
//
// Load reads the hyper-parameters and weights of a gguf.File and records
// the transformer once: token embedding, per layer an RMS norm, the Q/K/V
// projections, rotary position embedding, grouped-query attention over the
// cache, the output projection and a gated feed-forward block, then the
// final norm and the logits. Each chunk size gets one compiled Program
// (one token for decoding, powers of two up to Options.Batch for
// prompts); they share the cache, which is graph state (Variables), and
// read the start position as a run-time scalar, so a Program is compiled
// once and replayed for every position. A run appends its keys and values
// to the cache in place (graph.UpdateSlice) and attention reads the
// attended prefix of the cache where it lies, with no copy per step.
//
// Architectures: llama (LLaMA 1-3, TinyLlama, the TinyStories models),
// mistral (llama plus an optional sliding window), qwen2 (Q/K/V biases,
// NeoX rotation), phi3 (fused QKV and gate-up projections, NeoX rotation),
// gemma and gemma2 (embeddings scaled by √n_embd, GeGLU with tanh GELU,
// gemma2's post-norms, logit soft-capping and alternating sliding window).
// Only llama is checked against llama.cpp (see the parity tests); the
// others follow llama.cpp's graphs and are checked for self-consistency
// only, because no model file of theirs is available to the tests.
//
// GGUF norm weights of gemma already include the +1 of the (1+w) form (the
// converter adds it), so they are used as stored, as llama.cpp does.
//
// Every weight matrix goes through one function, linear: quantised types
// the CPU kernels support (F16, BF16, Q4_0 ... Q8_0, Q2_K ... Q6_K,
// IQ4_NL) stay in their GGUF blocks in the file's mapping
// (graph.QuantConst) and run on the integer dot-product kernels; F32
// weights become dense constants, and other types (IQ4_XS, ...) are
// dequantised once at load.
package model
