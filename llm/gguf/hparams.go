package gguf

import (
	"errors"
	"fmt"
	"math"
)

// KeyArchitecture names the model architecture; hyper-parameter keys are
// prefixed with its value.
const KeyArchitecture = "general.architecture"

// HParams are the model hyper-parameters llama.cpp reads from
// "<arch>.<name>" keys. The same key scheme serves llama, mistral, qwen2,
// phi3, gemma and gemma2 (and most other llama.cpp architectures); fields
// for keys a file does not have are set to the documented default, or zero
// when there is none.
type HParams struct {
	Arch string // general.architecture

	VocabSize         int // <arch>.vocab_size, else len(tokenizer.ggml.tokens), else 0
	ContextLength     int // <arch>.context_length (required)
	EmbeddingLength   int // <arch>.embedding_length (required)
	BlockCount        int // <arch>.block_count (required)
	FeedForwardLength int // <arch>.feed_forward_length (required)
	HeadCount         int // <arch>.attention.head_count (required)
	HeadCountKV       int // <arch>.attention.head_count_kv, default HeadCount
	KeyLength         int // <arch>.attention.key_length, default EmbeddingLength/HeadCount
	ValueLength       int // <arch>.attention.value_length, default EmbeddingLength/HeadCount

	RopeDimensionCount int     // <arch>.rope.dimension_count, default KeyLength
	RopeFreqBase       float64 // <arch>.rope.freq_base, default 10000
	// RopeScalingType is <arch>.rope.scaling.type ("none", "linear",
	// "yarn", ...), or "linear" when only the older <arch>.rope.scale_linear
	// is present; "" when neither is.
	RopeScalingType          string
	RopeScalingFactor        float64 // <arch>.rope.scaling.factor (or rope.scale_linear); 0 when absent
	RopeScalingOrigCtxLength int     // <arch>.rope.scaling.original_context_length; 0 when absent

	// Exactly one of the two norm epsilons is usually present; at least one
	// is required.
	RMSNormEpsilon   float64 // <arch>.attention.layer_norm_rms_epsilon
	LayerNormEpsilon float64 // <arch>.attention.layer_norm_epsilon

	AttnLogitSoftcap  float64 // <arch>.attn_logit_softcapping (gemma2); 0 when absent
	FinalLogitSoftcap float64 // <arch>.final_logit_softcapping (gemma2); 0 when absent
	SlidingWindow     int     // <arch>.attention.sliding_window; 0 when absent
}

// Arch returns general.architecture.
func (f *File) Arch() (string, error) { return f.Meta.GetString(KeyArchitecture) }

// HParams reads the hyper-parameters of f's architecture. A missing
// required key gives an error wrapping ErrMissingKey that names the key;
// values of the wrong type or out of range wrap ErrKeyType.
func (f *File) HParams() (*HParams, error) { return ReadHParams(&f.Meta) }

// ReadHParams reads hyper-parameters from metadata; see File.HParams.
func ReadHParams(m *Metadata) (*HParams, error) {
	arch, err := m.GetString(KeyArchitecture)
	if err != nil {
		return nil, err
	}
	r := hpReader{m: m, prefix: arch + "."}
	h := &HParams{Arch: arch}
	h.ContextLength = r.int("context_length", -1)
	h.EmbeddingLength = r.int("embedding_length", -1)
	h.BlockCount = r.int("block_count", -1)
	h.FeedForwardLength = r.int("feed_forward_length", -1)
	h.HeadCount = r.int("attention.head_count", -1)
	if r.err != nil {
		return nil, r.err
	}
	if h.HeadCount == 0 {
		return nil, fmt.Errorf("%w: %q is 0", ErrKeyType, r.prefix+"attention.head_count")
	}
	h.HeadCountKV = r.int("attention.head_count_kv", h.HeadCount)
	headDim := h.EmbeddingLength / h.HeadCount
	h.KeyLength = r.int("attention.key_length", headDim)
	h.ValueLength = r.int("attention.value_length", headDim)
	h.RopeDimensionCount = r.int("rope.dimension_count", h.KeyLength)
	h.RopeFreqBase = r.float("rope.freq_base", 10000)
	h.RopeScalingType = r.str("rope.scaling.type")
	h.RopeScalingFactor = r.float("rope.scaling.factor", 0)
	if m.Has(r.prefix + "rope.scale_linear") {
		if h.RopeScalingType == "" {
			h.RopeScalingType = "linear"
		}
		if h.RopeScalingFactor == 0 {
			h.RopeScalingFactor = r.float("rope.scale_linear", 0)
		}
	}
	h.RopeScalingOrigCtxLength = r.int("rope.scaling.original_context_length", 0)
	h.RMSNormEpsilon = r.float("attention.layer_norm_rms_epsilon", 0)
	h.LayerNormEpsilon = r.float("attention.layer_norm_epsilon", 0)
	h.AttnLogitSoftcap = r.float("attn_logit_softcapping", 0)
	h.FinalLogitSoftcap = r.float("final_logit_softcapping", 0)
	h.SlidingWindow = r.int("attention.sliding_window", 0)
	h.VocabSize = r.int("vocab_size", 0)
	if r.err != nil {
		return nil, r.err
	}
	if !m.Has(r.prefix+"vocab_size") && m.Has("tokenizer.ggml.tokens") {
		toks, err := m.GetStrings("tokenizer.ggml.tokens")
		if err != nil {
			return nil, err
		}
		h.VocabSize = len(toks)
	}
	if !m.Has(r.prefix+"attention.layer_norm_rms_epsilon") && !m.Has(r.prefix+"attention.layer_norm_epsilon") {
		return nil, fmt.Errorf("%w: %q (or %q)", ErrMissingKey, r.prefix+"attention.layer_norm_rms_epsilon", r.prefix+"attention.layer_norm_epsilon")
	}
	if h.HeadCountKV == 0 || h.HeadCount%h.HeadCountKV != 0 {
		return nil, fmt.Errorf("%w: %q = %d does not divide head_count %d", ErrKeyType, r.prefix+"attention.head_count_kv", h.HeadCountKV, h.HeadCount)
	}
	return h, nil
}

// hpReader reads "<prefix>name" keys, keeping the first error.
type hpReader struct {
	m      *Metadata
	prefix string
	err    error
}

// int reads an integer key; def < 0 marks it required.
func (r *hpReader) int(name string, def int) int {
	if r.err != nil {
		return 0
	}
	key := r.prefix + name
	if def >= 0 && !r.m.Has(key) {
		return def
	}
	u, err := r.m.GetUint(key)
	if err == nil && u > math.MaxInt32 {
		err = fmt.Errorf("%w: %q = %d is out of range", ErrKeyType, key, u)
	}
	r.err = err
	return int(u)
}

func (r *hpReader) float(name string, def float64) float64 {
	if r.err != nil {
		return 0
	}
	v, err := r.m.GetFloat(r.prefix + name)
	if errors.Is(err, ErrMissingKey) {
		return def
	}
	r.err = err
	return v
}

func (r *hpReader) str(name string) string {
	if r.err != nil {
		return ""
	}
	s, err := r.m.GetString(r.prefix + name)
	if errors.Is(err, ErrMissingKey) {
		return ""
	}
	r.err = err
	return s
}
