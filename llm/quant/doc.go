// Package quant holds the ggml tensor types found in GGUF files: their block
// layouts, bit-exact dequantisation and reference quantisers.
//
// Every type has one entry in a table keyed by its on-disk ID, so callers
// look up a type's layout and conversions instead of switching on it:
//
//	tr, err := quant.TraitsOf(quant.Q4_K) // layout + conversions
//	err = tr.Dequantize(dst, src)        // whole blocks -> float32
//	err = tr.Quantize(dst, src)          // float32 -> whole blocks
//
// or, for one call, quant.Dequantize(t, dst, src) and quant.Quantize(t, dst,
// src).
//
// Dequantisation is implemented for F32, F16, BF16, F64, I8, I16, I32,
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, Q8_K,
// IQ4_NL and IQ4_XS, and gives the same float32 bits as ggml's to_float
// (checked against files written by llama.cpp). Quantisation is implemented
// for all of those except F64 and the integer types, and reproduces
// llama.cpp's reference rounding byte for byte: quantize_row_*_ref for the
// Q types, and for IQ4_NL/IQ4_XS the search llama-quantize runs without an
// importance matrix. The float32 operations follow ggml's order and are kept
// from being fused into FMAs.
//
// F16 and BF16 conversions are exposed as F16ToF32, F32ToF16, BF16ToF32 and
// F32ToBF16; they match x86 F16C and ggml's bf16 rounding for every input.
//
// Errors: an unknown or retired ID wraps ErrUnknownType, a known type
// without the requested conversion (the IQ1/IQ2/IQ3 grid types, TQ, MXFP4)
// wraps ErrUnsupported, and slices that are not whole blocks or disagree in
// length wrap ErrLength. Nothing here panics on bad input.
package quant
