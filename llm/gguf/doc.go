// Package gguf reads and writes GGUF files, the container llama.cpp and ggml
// use for language-model weights and their metadata.
//
// A GGUF file is a little-endian header (magic "GGUF", version, counts),
// a list of typed metadata key/values, a list of tensor infos (name, ggml
// type, dimensions, offset) and an aligned data section holding the tensor
// bytes. Versions 1, 2 and 3 are read; version 1 stores counts, string and
// array lengths and dimensions as uint32, later versions as uint64.
//
// [Open] memory-maps the file read-only, parses only the header, metadata and
// tensor infos, and gives each [TensorInfo] a zero-copy Data view into the
// mapping, so opening a multi-gigabyte model costs no more than its metadata.
// [Parse] runs the same parser over a byte slice.
//
// The parser treats its input as hostile: every count and length is checked
// against the bytes that remain before anything is allocated, nesting is
// capped, tensor shapes are checked for overflow and their data ranges for
// bounds and alignment. Errors wrap [ErrFormat] and are [*FormatError]
// values that name the field and its byte offset; input never causes a panic.
//
// [Builder] writes files (versions 1 to 3, default 3) with the same layout
// rules, so a parsed file can be rewritten byte for byte.
package gguf
