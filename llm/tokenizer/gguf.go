package tokenizer

import (
	"fmt"

	"github.com/aethertensor/aether/llm/gguf"
)

// FromGGUF builds the Tokenizer described by a GGUF file's tokenizer.ggml.*
// metadata, applying llama.cpp's defaults for keys that are absent.
func FromGGUF(f *gguf.File) (*Tokenizer, error) {
	if f == nil {
		return nil, fmt.Errorf("%w: nil file", ErrVocab)
	}
	return FromMetadata(&f.Meta)
}

// FromMetadata is FromGGUF for metadata alone.
func FromMetadata(m *gguf.Metadata) (*Tokenizer, error) {
	v, err := VocabFromMetadata(m)
	if err != nil {
		return nil, err
	}
	return New(v)
}

// VocabFromMetadata reads the Vocab stored in GGUF metadata, with llama.cpp's
// per-model defaults (special ids, add_bos, add_space_prefix, the
// pre-tokenizer's options), so it can be inspected or adjusted before New.
func VocabFromMetadata(m *gguf.Metadata) (*Vocab, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil metadata", ErrVocab)
	}
	return vocabFromMetadata(m)
}

// Open opens a GGUF file, reads its tokenizer and closes it.
func Open(path string) (*Tokenizer, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return FromGGUF(f)
}
