package tokenizer

import (
	"strings"
	"testing"
)

// benchText is about 1 MB: the llama.cpp vector inputs (ASCII, CJK, emoji,
// Cyrillic, whitespace runs) and English prose, repeated.
func benchText(b *testing.B) string {
	var sb strings.Builder
	prose := "Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine. " +
		"One day, she saw a big, red ball in the park; \"Can I play?\" she asked. It's 3:15 pm and 42 degrees.\n"
	var vec []string
	for _, c := range readVectors(b, "ggml-vocab-gpt-2") {
		vec = append(vec, c.input)
	}
	for sb.Len() < 1<<20 {
		for i := 0; i < 8; i++ {
			sb.WriteString(prose)
		}
		sb.WriteString(strings.Join(vec, " "))
	}
	return sb.String()
}

func benchmarkEncode(b *testing.B, file string) {
	tok := openTokenizer(b, file)
	text := benchText(b)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := tok.Encode(text, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeSPM(b *testing.B) { benchmarkEncode(b, "vocab/ggml-vocab-llama-spm.gguf") }
func BenchmarkEncodeBPEGPT2(b *testing.B) {
	benchmarkEncode(b, "vocab/ggml-vocab-gpt-2.gguf")
}
func BenchmarkEncodeBPEDeepseekLLM(b *testing.B) {
	benchmarkEncode(b, "vocab/ggml-vocab-deepseek-llm.gguf")
}
func BenchmarkEncodeWPM(b *testing.B) { benchmarkEncode(b, "vocab/ggml-vocab-bert-bge.gguf") }

func BenchmarkDecodeSPM(b *testing.B) {
	tok := openTokenizer(b, "vocab/ggml-vocab-llama-spm.gguf")
	text := benchText(b)
	ids, _ := tok.Encode(text, 0)
	b.SetBytes(int64(len(text)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := tok.Decode(ids); err != nil {
			b.Fatal(err)
		}
	}
}
