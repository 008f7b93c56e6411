// Package quant holds the ggml tensor types found in GGUF files: their block
// layouts, bit-exact dequantisation and reference quantisers.
//
// Every type has one entry in a table keyed by its on-disk ID, so callers
// look up a type's layout and conversions instead of switching on it.
package quant
