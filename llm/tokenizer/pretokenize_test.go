package tokenizer

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/dlclark/regexp2"
)

// splitWith splits text with one compiled step and returns the pieces.
func splitWith(t *testing.T, sp *splitter, text string) []string {
	t.Helper()
	var sc splitScratch
	sc.cpts = cptsFromUTF8(text, nil)
	offs, err := sp.split(&sc)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	start := 0
	for _, n := range offs {
		out = append(out, string(sc.cpts[start:start+n]))
		start += n
	}
	return out
}

// regexSplitter compiles expr with regexp2 only, bypassing the hand-written
// splitters.
func regexSplitter(t *testing.T, expr string) *splitter {
	t.Helper()
	pat, collapsed, err := translateRegex(expr)
	if err != nil {
		t.Fatal(err)
	}
	re, err := regexp2.Compile(pat, regexp2.None)
	if err != nil {
		t.Fatal(err)
	}
	return &splitter{steps: []splitStep{{kind: splitRegex, re: re, collapsed: collapsed}}, needCollapsed: collapsed, needWide: !collapsed}
}

// splitterInputs are the llama.cpp vector inputs plus random strings over
// characters that exercise every branch of the splitters.
func splitterInputs(t *testing.T) []string {
	var in []string
	for _, c := range readVectors(t, "ggml-vocab-gpt-2") {
		in = append(in, c.input)
	}
	alphabet := []string{"a", "Z", "é", "ж", "中", "3", "٣", "Ⅳ", " ", "  ", "\t", "\n", "\r\n", "\u3000", "\u00a0",
		"'", "'s", "'S", "'re", "'RE", "'ll", "'Ve", "'d", "!", "...", "$", "+", "\u0301", "🦙", "\u200d", "\U000e0100", "\x85", "_"}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		for n := rng.Intn(12); n >= 0; n-- {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		in = append(in, b.String())
	}
	return in
}

// TestCustomSplittersMatchRegex checks the hand-written GPT-2 and LLaMA-3
// splitters against regexp2 running the regexes they stand for on
// llama.cpp's collapsed text.
func TestCustomSplittersMatchRegex(t *testing.T) {
	inputs := splitterInputs(t)
	tests := []struct {
		name   string
		custom []string
		regex  string
	}{
		// llama.cpp's GPT-2 splitter also matches a trailing "\s+", which
		// the regex it replaces lacks; that only turns an unmatched gap
		// into a match of the same extent, so pieces agree.
		{"gpt2", []string{reGPT2}, reGPT2},
		{"llama3", []string{reLlama3}, reLlama3},
		{"llama3-orig", []string{reLlama3Orig}, reLlama3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			custom, err := compileSplitter(tc.custom)
			if err != nil {
				t.Fatal(err)
			}
			if custom.steps[0].kind == splitRegex {
				t.Fatal("custom splitter not selected")
			}
			re := regexSplitter(t, tc.regex)
			bad := 0
			for _, s := range inputs {
				a, b := splitWith(t, custom, s), splitWith(t, re, s)
				if strings.Join(a, "|") != strings.Join(b, "|") {
					if bad++; bad <= 5 {
						t.Errorf("%q:\n custom %q\n regex  %q", s, a, b)
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d inputs differ", bad, len(inputs))
			}
		})
	}
}

// TestAllPreTokenizersCompile compiles every known pre-tokenizer and runs it
// on the vector inputs: pieces must cover the input exactly.
func TestAllPreTokenizersCompile(t *testing.T) {
	inputs := splitterInputs(t)[:60]
	for _, name := range PreTokenizers() {
		sp, err := compileSplitter(preSpecs[name].exprs)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, s := range inputs {
			got := strings.Join(splitWith(t, sp, s), "")
			if want := string(cptsFromUTF8(s, nil)); got != want {
				t.Errorf("%s: pieces of %q join to %q", name, s, got)
			}
		}
	}
}

func TestTranslateRegex(t *testing.T) {
	tests := []struct {
		in, want  string
		collapsed bool
	}{
		{`\p{L}+`, `[\uE0D2A-Za-z]+`, true},
		{`[^\s\p{L}\p{N}]`, `[^\s\uE0D2A-Za-z\uE0D10-9]`, true},
		{`\s+$`, `\s+\z`, false},
		{`[$]\$`, `[$]\$`, false},
	}
	for _, tc := range tests {
		got, c, err := translateRegex(tc.in)
		if err != nil || got != tc.want || c != tc.collapsed {
			t.Errorf("translateRegex(%q) = %q, %v, %v; want %q, %v", tc.in, got, c, err, tc.want, tc.collapsed)
		}
	}
	if _, _, err := translateRegex(`\p{L}é`); err == nil {
		t.Error("category plus non-ASCII accepted")
	}
}
