package gguf

import (
	"os"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
)

// BenchmarkOpen opens (mmaps and parses) the largest test file, F16 at 6.8
// MB, and the same model in Q2_K at 1.1 MB: the cost is the metadata, so
// both should take about the same time.
func BenchmarkOpen(b *testing.B) {
	for _, name := range []string{"F16", "Q2_K"} {
		b.Run(name, func(b *testing.B) {
			path := testdata.Path(b, "models/quant/synth-llama-256-"+name+".gguf")
			b.ReportAllocs()
			for b.Loop() {
				f, err := Open(path)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}

// BenchmarkParseVocab parses the largest metadata in the test data: a
// 102400-token vocabulary with its merges.
func BenchmarkParseVocab(b *testing.B) {
	data, err := os.ReadFile(testdata.Path(b, "vocab/ggml-vocab-deepseek-llm.gguf"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
