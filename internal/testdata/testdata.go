// Package testdata finds the shared test files (real GGUF models and
// llama.cpp's tokenizer vectors) that live beside the project root, never
// inside it.
//
// The directory is $AETHER_TESTDATA when set, else the first ../shared/testdata
// found walking up from the working directory. With CI=true a missing file
// fails the test; elsewhere it skips.
package testdata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the test-data directory, or "" when none is found.
func Dir() string {
	if d := os.Getenv("AETHER_TESTDATA"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; ; d = filepath.Dir(d) {
		p := filepath.Join(d, "..", "shared", "testdata")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return filepath.Clean(p)
		}
		if filepath.Dir(d) == d {
			return ""
		}
	}
}

// Path returns the path of rel inside the test-data directory. When the file
// is missing it fails the test under CI=true and skips it otherwise.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	dir := Dir()
	p := filepath.Join(dir, rel)
	if dir != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("test data %s not found (set AETHER_TESTDATA or place ../shared/testdata beside the project)", rel)
	}
	tb.Skipf("test data %s not found", rel)
	return ""
}
