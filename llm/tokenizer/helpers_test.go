package tokenizer

import (
	"testing"

	"github.com/aethertensor/aether/internal/testdata"
)

// openTokenizer loads the tokenizer of a shared test-data GGUF file.
func openTokenizer(tb testing.TB, rel string) *Tokenizer {
	tb.Helper()
	tok, err := Open(testdata.Path(tb, rel))
	if err != nil {
		tb.Fatalf("%s: %v", rel, err)
	}
	return tok
}
