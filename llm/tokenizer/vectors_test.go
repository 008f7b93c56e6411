package tokenizer

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
)

// vectorCase is one llama.cpp tokenizer test: an input and its expected ids.
type vectorCase struct {
	input string
	want  []int32
}

// readVectors parses llama.cpp's NAME.gguf.inp / .out pair.
func readVectors(tb testing.TB, name string) []vectorCase {
	tb.Helper()
	inp, err := os.ReadFile(testdata.Path(tb, "vocab/"+name+".gguf.inp"))
	if err != nil {
		tb.Fatal(err)
	}
	outb, err := os.ReadFile(testdata.Path(tb, "vocab/"+name+".gguf.out"))
	if err != nil {
		tb.Fatal(err)
	}
	inputs := strings.Split(string(inp), "\n__ggml_vocab_test__\n")
	inputs = inputs[:len(inputs)-1]
	lines := strings.Split(strings.TrimSuffix(string(outb), "\n"), "\n")
	if len(lines) != len(inputs) {
		tb.Fatalf("%s: %d inputs but %d output lines", name, len(inputs), len(lines))
	}
	cases := make([]vectorCase, len(inputs))
	for i, in := range inputs {
		cases[i].input = in
		for _, f := range strings.Fields(lines[i]) {
			id, err := strconv.ParseInt(f, 10, 32)
			if err != nil {
				tb.Fatalf("%s line %d: %v", name, i+1, err)
			}
			cases[i].want = append(cases[i].want, int32(id))
		}
	}
	return cases
}

func equalIDs(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestLlamaCppVectors runs llama.cpp's test-tokenizer-0 vectors: every case
// of every vocabulary must encode (no BOS/EOS, no special parsing) to exactly
// llama.cpp's ids.
func TestLlamaCppVectors(t *testing.T) {
	for _, name := range []string{"ggml-vocab-llama-spm", "ggml-vocab-phi-3", "ggml-vocab-gpt-2", "ggml-vocab-mpt",
		"ggml-vocab-deepseek-coder", "ggml-vocab-deepseek-llm", "ggml-vocab-bert-bge"} {
		t.Run(name, func(t *testing.T) {
			tok := openTokenizer(t, "vocab/"+name+".gguf")
			cases := readVectors(t, name)
			if len(cases) != 46 {
				t.Errorf("%d cases, want 46", len(cases))
			}
			pass := 0
			for i, c := range cases {
				got, err := tok.Encode(c.input, 0)
				if err != nil {
					t.Errorf("case %d %q: %v", i, c.input, err)
					continue
				}
				if !equalIDs(got, c.want) {
					t.Errorf("case %d %q:\n got %v\nwant %v", i, c.input, got, c.want)
					continue
				}
				pass++
			}
			t.Logf("%s: %d/%d cases match", name, pass, len(cases))
		})
	}
}
