package gguf

import (
	"errors"
	"strings"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
)

func TestHParams(t *testing.T) {
	tests := []struct {
		file string
		want HParams
	}{
		{"models/stories260K.gguf", HParams{Arch: "llama", VocabSize: 512, ContextLength: 2048, EmbeddingLength: 64, BlockCount: 5,
			FeedForwardLength: 172, HeadCount: 8, HeadCountKV: 4, KeyLength: 8, ValueLength: 8, RopeDimensionCount: 8,
			RopeFreqBase: 10000, RMSNormEpsilon: float64(float32(1e-5))}},
		{"models/tinyllamas-stories-260k-f32.gguf", HParams{Arch: "llama", VocabSize: 512, ContextLength: 512, EmbeddingLength: 64, BlockCount: 5,
			FeedForwardLength: 172, HeadCount: 8, HeadCountKV: 4, KeyLength: 8, ValueLength: 8, RopeDimensionCount: 8,
			RopeFreqBase: 10000, RMSNormEpsilon: float64(float32(1e-5))}},
		{"models/llama-2-tiny-random.gguf", HParams{Arch: "llama", VocabSize: 32000, ContextLength: 4096, EmbeddingLength: 8, BlockCount: 1,
			FeedForwardLength: 32, HeadCount: 2, HeadCountKV: 2, KeyLength: 4, ValueLength: 4, RopeDimensionCount: 4,
			RopeFreqBase: 10000, RMSNormEpsilon: float64(float32(1e-5))}},
		{"models/quant/synth-llama-256-Q4_0.gguf", HParams{Arch: "llama", VocabSize: 512, ContextLength: 512, EmbeddingLength: 256, BlockCount: 4,
			FeedForwardLength: 768, HeadCount: 8, HeadCountKV: 4, KeyLength: 32, ValueLength: 32, RopeDimensionCount: 32,
			RopeFreqBase: 10000, RMSNormEpsilon: float64(float32(1e-5))}},
		{"vocab/ggml-vocab-deepseek-coder.gguf", HParams{Arch: "llama", VocabSize: 32256, ContextLength: 16384, EmbeddingLength: 4096, BlockCount: 32,
			FeedForwardLength: 11008, HeadCount: 32, HeadCountKV: 32, KeyLength: 128, ValueLength: 128, RopeDimensionCount: 128,
			RopeFreqBase: 100000, RopeScalingType: "linear", RopeScalingFactor: 4, RMSNormEpsilon: float64(float32(1e-6))}},
		{"vocab/ggml-vocab-phi-3.gguf", HParams{Arch: "phi3", VocabSize: 32064, ContextLength: 4096, EmbeddingLength: 3072, BlockCount: 32,
			FeedForwardLength: 8192, HeadCount: 32, HeadCountKV: 32, KeyLength: 96, ValueLength: 96, RopeDimensionCount: 96,
			RopeFreqBase: 10000, RopeScalingOrigCtxLength: 4096, RMSNormEpsilon: float64(float32(1e-5))}},
		{"vocab/ggml-vocab-bert-bge.gguf", HParams{Arch: "bert", VocabSize: 30522, ContextLength: 512, EmbeddingLength: 384, BlockCount: 12,
			FeedForwardLength: 1536, HeadCount: 12, HeadCountKV: 12, KeyLength: 32, ValueLength: 32, RopeDimensionCount: 32,
			RopeFreqBase: 10000, LayerNormEpsilon: float64(float32(1e-12))}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			f, err := Open(testdata.Path(t, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			h, err := f.HParams()
			if err != nil {
				t.Fatal(err)
			}
			if *h != tc.want {
				t.Errorf("got  %+v\nwant %+v", *h, tc.want)
			}
		})
	}
}

// gemma2Meta is metadata shaped like a gemma2 file, which the test data
// lacks: explicit key/value lengths, soft-capping, a sliding window, yarn.
func gemma2Meta(t *testing.T) *Metadata {
	var m Metadata
	for _, kv := range []struct {
		k string
		v any
	}{
		{"general.architecture", "gemma2"},
		{"gemma2.context_length", uint32(8192)},
		{"gemma2.embedding_length", uint32(2304)},
		{"gemma2.block_count", uint32(26)},
		{"gemma2.feed_forward_length", uint32(9216)},
		{"gemma2.attention.head_count", uint32(8)},
		{"gemma2.attention.head_count_kv", uint32(4)},
		{"gemma2.attention.key_length", uint32(256)},
		{"gemma2.attention.value_length", uint32(256)},
		{"gemma2.attention.layer_norm_rms_epsilon", float32(1e-6)},
		{"gemma2.attn_logit_softcapping", float32(50)},
		{"gemma2.final_logit_softcapping", float32(30)},
		{"gemma2.attention.sliding_window", uint32(4096)},
		{"gemma2.rope.scaling.type", "yarn"},
		{"gemma2.rope.scaling.factor", float32(2)},
		{"gemma2.rope.scaling.original_context_length", uint64(4096)},
		{"tokenizer.ggml.tokens", []string{"a", "b", "c"}},
	} {
		v, err := NewValue(kv.v)
		if err != nil {
			t.Fatal(err)
		}
		_ = m.Set(kv.k, v)
	}
	return &m
}

func TestHParamsGemma2(t *testing.T) {
	h, err := ReadHParams(gemma2Meta(t))
	if err != nil {
		t.Fatal(err)
	}
	want := HParams{Arch: "gemma2", VocabSize: 3, ContextLength: 8192, EmbeddingLength: 2304, BlockCount: 26, FeedForwardLength: 9216,
		HeadCount: 8, HeadCountKV: 4, KeyLength: 256, ValueLength: 256, RopeDimensionCount: 256, RopeFreqBase: 10000,
		RopeScalingType: "yarn", RopeScalingFactor: 2, RopeScalingOrigCtxLength: 4096, RMSNormEpsilon: float64(float32(1e-6)),
		AttnLogitSoftcap: 50, FinalLogitSoftcap: 30, SlidingWindow: 4096}
	if *h != want {
		t.Errorf("got  %+v\nwant %+v", *h, want)
	}
}

func TestHParamsErrors(t *testing.T) {
	tests := []struct {
		name string
		edit func(m *Metadata)
		is   error
		want string
	}{
		{"no arch", func(m *Metadata) { m.Delete("general.architecture") }, ErrMissingKey, `"general.architecture"`},
		{"no blocks", func(m *Metadata) { m.Delete("gemma2.block_count") }, ErrMissingKey, `"gemma2.block_count"`},
		{"no eps", func(m *Metadata) { m.Delete("gemma2.attention.layer_norm_rms_epsilon") }, ErrMissingKey, `"gemma2.attention.layer_norm_rms_epsilon"`},
		{"string heads", func(m *Metadata) {
			_ = m.Set("gemma2.attention.head_count", Value{Type: TypeString, V: "8"})
		}, ErrKeyType, `"gemma2.attention.head_count" is string, want unsigned integer`},
		{"zero heads", func(m *Metadata) {
			_ = m.Set("gemma2.attention.head_count", Value{Type: TypeUint32, V: uint32(0)})
		}, ErrKeyType, "is 0"},
		{"bad kv heads", func(m *Metadata) {
			_ = m.Set("gemma2.attention.head_count_kv", Value{Type: TypeUint32, V: uint32(3)})
		}, ErrKeyType, "does not divide"},
		{"negative ctx", func(m *Metadata) {
			_ = m.Set("gemma2.context_length", Value{Type: TypeInt32, V: int32(-1)})
		}, ErrKeyType, "negative"},
		{"huge ctx", func(m *Metadata) {
			_ = m.Set("gemma2.context_length", Value{Type: TypeUint64, V: uint64(1 << 40)})
		}, ErrKeyType, "out of range"},
		{"float scaling type", func(m *Metadata) {
			_ = m.Set("gemma2.rope.scaling.type", Value{Type: TypeFloat32, V: float32(1)})
		}, ErrKeyType, "want string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := gemma2Meta(t)
			tc.edit(m)
			_, err := ReadHParams(m)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %v containing %q", err, tc.is, tc.want)
			}
		})
	}
}
